/**
 * `modprobe`, `rmmod` and `lsmod` (kmod 33) against the host's module table: dependencies
 * load first, `-r` removes what became unused, names treat `-` and `_` alike, parameters
 * the module does not have are ignored with the kernel's warning, values it cannot parse
 * refuse the load. `-v` and `-n -v` print kmod's `insmod PATH OPTIONS` / `rmmod NAME` lines,
 * `-D` the whole dependency chain (`builtin NAME` for built-ins).
 *
 * Errors: E0201 unknown module (with did-you-mean and the module/management-device
 * confusion), E0301 in use (secondary labels where the users were loaded or the device
 * opened), E0302 not loaded, E0303 built in, E0304 insert refused; W0301 unknown parameter.
 *
 * @example
 * ```ts
 * import { Session } from "../session.ts";
 * const out: string[] = [];
 * const s = new Session({ stdout: (t) => out.push(t) });
 * await s.runText("modprobe -v vhost_vdpa\n", "a.vdpa");
 * if (!out.join("").includes("insmod /lib/modules/6.12.0-vdpa-lab/kernel/drivers/vhost/vhost_vdpa.ko")) {
 *   throw new Error(out.join(""));
 * }
 * ```
 *
 * @module
 */

import type { LsmodCommand, ModprobeCommand, RmmodCommand } from "../../lang/commands/ast.ts";
import type { Located } from "../../lang/word.ts";
import { suggest } from "../../lang/suggest.ts";
import type { HostError } from "../../runtime/host/host_error.ts";
import type { HostKernel } from "../../runtime/host/kernel.ts";
import { normalizeModuleName } from "../../runtime/host/module_spec.ts";
import type { ExecContext, ExecutorTable } from "../exec.ts";
import { formatLsmod } from "../format/lsmod.ts";
import { hostDiagnostic, originOf, type Secondary, withHostEvents } from "../host_errors.ts";
import { loadedModuleHelp, moduleHelp } from "../names.ts";

/**
 * Where each catalog module lives under /lib/modules/RELEASE/kernel (the file name keeps
 * the source's dashes: `vfio-pci.ko`, `kvm-intel.ko`). Built-ins have no file.
 */
export const MODULE_FILES: Readonly<Record<string, string>> = {
  vdpa: "drivers/vdpa/vdpa.ko",
  vhost_iotlb: "drivers/vhost/vhost_iotlb.ko",
  vhost: "drivers/vhost/vhost.ko",
  vringh: "drivers/vhost/vringh.ko",
  irqbypass: "virt/lib/irqbypass.ko",
  vhost_vdpa: "drivers/vhost/vhost_vdpa.ko",
  virtio_vdpa: "drivers/virtio/virtio_vdpa.ko",
  vdpa_sim: "drivers/vdpa/vdpa_sim/vdpa_sim.ko",
  vdpa_sim_net: "drivers/vdpa/vdpa_sim/vdpa_sim_net.ko",
  vdpa_sim_blk: "drivers/vdpa/vdpa_sim/vdpa_sim_blk.ko",
  vduse: "drivers/vdpa/vdpa_user/vduse.ko",
  mlx5_vdpa: "drivers/vdpa/mlx5/mlx5_vdpa.ko",
  ifcvf: "drivers/vdpa/ifcvf/ifcvf.ko",
  vp_vdpa: "drivers/vdpa/virtio_pci/vp_vdpa.ko",
  virtio_pci_modern_dev: "drivers/virtio/virtio_pci_modern_dev.ko",
  mlxfw: "drivers/net/ethernet/mellanox/mlxfw/mlxfw.ko",
  psample: "net/psample/psample.ko",
  tls: "net/tls/tls.ko",
  pci_hyperv_intf: "drivers/pci/controller/pci-hyperv-intf.ko",
  mlx5_core: "drivers/net/ethernet/mellanox/mlx5/core/mlx5_core.ko",
  ice: "drivers/net/ethernet/intel/ice/ice.ko",
  iavf: "drivers/net/ethernet/intel/iavf/iavf.ko",
  tun: "drivers/net/tun.ko",
  tap: "drivers/net/tap.ko",
  vhost_net: "drivers/vhost/vhost_net.ko",
  llc: "net/llc/llc.ko",
  stp: "net/802/stp.ko",
  bridge: "net/bridge/bridge.ko",
  libcrc32c: "lib/libcrc32c.ko",
  nf_defrag_ipv4: "net/ipv4/netfilter/nf_defrag_ipv4.ko",
  nf_defrag_ipv6: "net/ipv6/netfilter/nf_defrag_ipv6.ko",
  nf_conntrack: "net/netfilter/nf_conntrack.ko",
  nf_nat: "net/netfilter/nf_nat.ko",
  nf_conncount: "net/netfilter/nf_conncount.ko",
  nsh: "net/nsh/nsh.ko",
  openvswitch: "net/openvswitch/openvswitch.ko",
  iommufd: "drivers/iommu/iommufd/iommufd.ko",
  vfio: "drivers/vfio/vfio.ko",
  vfio_iommu_type1: "drivers/vfio/vfio_iommu_type1.ko",
  vfio_pci_core: "drivers/vfio/pci/vfio-pci-core.ko",
  vfio_pci: "drivers/vfio/pci/vfio-pci.ko",
  kvm: "arch/x86/kvm/kvm.ko",
  kvm_intel: "arch/x86/kvm/kvm-intel.ko",
  failover: "net/core/failover.ko",
  net_failover: "drivers/net/net_failover.ko",
  virtio_net: "drivers/net/virtio_net.ko",
  virtio_blk: "drivers/block/virtio_blk.ko",
};

/** kmod's `print_action`: `insmod PATH OPTIONS` (a trailing space without options). */
function insmodLine(host: HostKernel, module: string, options: string): string {
  if (host.modules.spec(module)?.builtin === true) return `builtin ${module}\n`;
  const file = MODULE_FILES[module] ?? `kernel/${module}.ko`;
  return `insmod /lib/modules/${host.release}/kernel/${file} ${options}\n`;
}

/** Every module `name` needs, dependencies first, loaded or not (`modprobe -D`). */
function fullPlan(host: HostKernel, name: string): string[] {
  const plan: string[] = [];
  const visit = (m: string): void => {
    if (plan.includes(m)) return;
    for (const d of host.modules.spec(m)?.depends ?? []) visit(d);
    plan.push(m);
  };
  visit(name);
  return plan;
}

/** What `modprobe -r` would remove (for `-n`): the module, then dependencies left unused. */
function removalPlan(host: HostKernel, name: string): string[] {
  const gone = [name];
  for (const dep of host.modules.dependencyClosure(name)) {
    const m = host.modules.get(dep);
    if (m === undefined || m.refs > 0) continue;
    if (m.holders.every((h) => gone.includes(h))) gone.push(dep);
  }
  return gone;
}

/** `key=value` items as kmod passes them to the kernel. */
function paramItems(cmd: ModprobeCommand): { text: string; key: Located<string> }[] {
  return cmd.params.items.map((p) => ({
    text: p.value === undefined ? p.key.value : `${p.key.value}=${p.value.value}`,
    key: p.key,
  }));
}

function reportUnknownModule(
  name: Located<string>,
  e: HostError,
  cx: ExecContext,
  quiet = false,
): void {
  const host = cx.lab.host;
  cx.diagnostics.push(hostDiagnostic("E0201", `module \`${name.value}\` not found`, {
    // -q: kmod prints nothing and exits with status 1
    ...(quiet ? { notes: ["modprobe -q prints nothing and exits with status 1"] } : { error: e }),
    span: name.span,
    label: `no such module in /lib/modules/${host.release}`,
    help: moduleHelp(name.value, host),
  }));
}

/** `modules` ordered so that each comes before the modules it uses (an order rmmod accepts). */
function removalOrder(host: HostKernel, modules: readonly string[]): string[] {
  const out: string[] = [];
  const left = [...modules];
  while (left.length > 0) {
    const i = left.findIndex((m) =>
      (host.modules.get(m)?.holders ?? []).every((h) => out.includes(h) || !left.includes(h))
    );
    out.push(...left.splice(i < 0 ? 0 : i, 1));
  }
  return out;
}

/** The modules of `modules` that no other of them uses: what `modprobe -r` needs to name. */
function topUsers(host: HostKernel, modules: readonly string[]): string[] {
  return modules.filter((m) =>
    !(host.modules.get(m)?.holders ?? []).some((h) => modules.includes(h))
  );
}

/** Secondary labels where the users of `module` were loaded, or its device opened. */
function usersOf(host: HostKernel, module: string, cx: ExecContext): Secondary[] {
  const out: Secondary[] = [];
  for (const h of host.modules.get(module)?.holders ?? []) {
    out.push(...originOf(cx.provenance, `module:${h}`));
  }
  for (const n of host.dev.list()) {
    if (n.module === module && host.dev.isOpen(n.path)) {
      out.push(...originOf(cx.provenance, `open:${n.path}`));
    }
  }
  return out;
}

function reportRemoveError(
  name: Located<string>,
  e: HostError,
  cx: ExecContext,
  tool: "modprobe" | "rmmod",
): void {
  const host = cx.lab.host;
  const push = (d: ReturnType<typeof hostDiagnostic>) => cx.diagnostics.push(d);
  switch (e.kind) {
    case "modprobe-remove-not-found":
      reportUnknownModule(name, e, cx);
      return;
    case "modprobe-in-use":
    case "rmmod-in-use-by":
    case "rmmod-in-use":
    case "remove-blocked": {
      const holders = host.modules.get(e.module)?.holders ?? [];
      const open = host.dev.list().filter((n) => n.module === e.module && host.dev.isOpen(n.path));
      const users = [...holders, ...open.map((n) => n.path)];
      const blocker = e.kind === "remove-blocked" ? e.waitingFor : undefined;
      push(hostDiagnostic("E0301", `module \`${e.module}\` is in use`, {
        error: e,
        span: name.span,
        label: users.length > 0
          ? `used by ${users.join(", ")}`
          : blocker !== undefined
          ? `\`${blocker}\` is open`
          : "still referenced",
        secondary: [
          ...usersOf(host, e.module, cx),
          ...(blocker !== undefined ? originOf(cx.provenance, `open:${blocker}`) : []),
        ],
        help: holders.length > 0
          ? [
            tool === "rmmod"
              ? `remove its users first: \`rmmod ${removalOrder(host, holders).join(" ")}\`, ` +
                `or \`modprobe -r ${topUsers(host, holders).join(" ")}\` (which also removes ` +
                "what becomes unused)"
              : `remove its users first: \`modprobe -r ${topUsers(host, holders).join(" ")}\``,
          ]
          : blocker !== undefined || open.length > 0
          ? ["stop what holds the device open first (the VM or application using it)"]
          : [],
      }));
      return;
    }
    case "rmmod-not-loaded":
      push(hostDiagnostic("E0302", `module \`${name.value}\` is not loaded`, {
        error: e,
        span: name.span,
        label: "not in the kernel",
        secondary: originOf(cx.provenance, `module-unload:${normalizeModuleName(name.value)}`),
        help: loadedModuleHelp(name.value, host),
      }));
      return;
    case "modprobe-not-in-kernel":
      push(hostDiagnostic("E0302", `module \`${e.module}\` is not loaded`, {
        error: e,
        span: name.span,
        label: "`--first-time` wants it loaded",
        secondary: originOf(cx.provenance, `module-unload:${e.module}`),
        help: ["drop `--first-time` to make removing an absent module a no-op"],
      }));
      return;
    case "module-builtin":
      push(hostDiagnostic("E0303", `module \`${e.module}\` is built into the kernel`, {
        error: e,
        span: name.span,
        label: "built in: it cannot be removed",
      }));
      return;
    default:
      push(hostDiagnostic("E0304", `removing \`${name.value}\` failed`, {
        error: e,
        span: name.span,
        label: "refused",
      }));
  }
}

function execModprobe(cmd: ModprobeCommand, cx: ExecContext): void {
  const host = cx.lab.host;
  const verbose = cmd.verbose && !cmd.quiet;
  if (cmd.showDepends) {
    for (const m of cmd.modules) {
      const r = host.modules.resolve(m.value);
      if (r === undefined) {
        reportUnknownModule(
          m,
          {
            kind: "modprobe-not-found",
            module: m.value,
            release: host.release,
          },
          cx,
          cmd.quiet,
        );
        continue;
      }
      const opts = paramItems(cmd).map((p) => p.text).join(" ");
      for (const dep of fullPlan(host, r)) {
        cx.print(insmodLine(host, dep, dep === r ? opts : ""));
      }
    }
    return;
  }
  if (cmd.remove) {
    for (const m of cmd.modules) {
      const r = host.modules.resolve(m.value);
      if (cmd.dryRun) {
        if (r === undefined) {
          reportUnknownModule(
            m,
            { kind: "modprobe-remove-not-found", module: m.value },
            cx,
            cmd.quiet,
          );
        } else if (verbose && host.modules.get(r) !== undefined) {
          for (const x of removalPlan(host, r)) cx.print(`rmmod ${x}\n`);
        }
        continue;
      }
      const from = cx.lab.hostEvents.length;
      const res = host.modprobeRemove(m.value, { firstTime: cmd.firstTime });
      if (verbose) {
        for (const e of cx.lab.hostEvents.slice(from)) {
          if (e.kind === "module-unload") cx.print(`rmmod ${e.module}\n`);
        }
      }
      if (!res.ok) reportRemoveError(m, res.error, cx, "modprobe");
    }
    return;
  }
  const targets = cmd.all ? cmd.modules : cmd.modules.slice(0, 1);
  for (const m of targets) {
    const r = host.modules.resolve(m.value);
    if (r === undefined) {
      reportUnknownModule(
        m,
        {
          kind: "modprobe-not-found",
          module: m.value,
          release: host.release,
        },
        cx,
        cmd.quiet,
      );
      continue;
    }
    const params = cmd.all ? [] : paramItems(cmd);
    warnUnknownParams(r, params, cx);
    const opts = params.map((p) => p.text).join(" ");
    if (cmd.dryRun) {
      if (verbose) {
        for (const dep of host.modules.loadPlan(r)) {
          cx.print(insmodLine(host, dep, dep === r ? opts : ""));
        }
      }
      if (cmd.firstTime && host.isLoaded(r)) {
        reportInsertError(m, { kind: "modprobe-already-loaded", module: r }, params, cx);
      }
      continue;
    }
    const from = cx.lab.hostEvents.length;
    const res = host.modprobe(m.value, params.map((p) => p.text), { firstTime: cmd.firstTime });
    if (verbose) {
      for (const e of cx.lab.hostEvents.slice(from)) {
        if (e.kind === "module-load" && e.reason !== "autoload") {
          cx.print(insmodLine(host, e.module, e.module === r ? opts : ""));
        }
      }
    }
    if (!res.ok) reportInsertError(m, res.error, params, cx);
  }
}

function warnUnknownParams(
  module: string,
  params: readonly { text: string; key: Located<string> }[],
  cx: ExecContext,
): void {
  const defs = Object.keys(cx.lab.host.modules.spec(module)?.params ?? {});
  for (const p of params) {
    const key = normalizeModuleName(p.key.value);
    if (defs.includes(key)) continue;
    const near = suggest(key, defs, { dashUnderscore: true, limit: 1 })[0];
    cx.diagnostics.push(
      hostDiagnostic("W0301", `\`${module}\` has no parameter \`${p.key.value}\``, {
        span: p.key.span,
        label: "unknown parameter",
        notes: [
          `the kernel logs "${module}: unknown parameter '${key}' ignored" and loads the module`,
        ],
        help: near !== undefined
          ? [`did you mean \`${near}\`?`]
          : defs.length > 0
          ? [`\`${module}\` takes ${defs.map((d) => `\`${d}\``).join(", ")}`]
          : [`\`${module}\` takes no parameters`],
      }),
    );
  }
}

function reportInsertError(
  name: Located<string>,
  e: HostError,
  params: readonly { text: string; key: Located<string> }[],
  cx: ExecContext,
): void {
  if (e.kind === "modprobe-not-found") {
    reportUnknownModule(name, e, cx);
    return;
  }
  if (e.kind === "modprobe-already-loaded") {
    cx.diagnostics.push(hostDiagnostic("E0304", `module \`${e.module}\` is already loaded`, {
      error: e,
      span: name.span,
      label: "`--first-time` wants it absent",
      secondary: originOf(cx.provenance, `module:${e.module}`),
      help: ["drop `--first-time` to make loading a loaded module a no-op"],
    }));
    return;
  }
  // A value the parameter's type cannot parse: the kernel logs which one.
  const log = [...cx.lab.hostEvents].reverse().find((ev) =>
    ev.kind === "kernel-log" && ev.level === "err" && ev.text.includes("invalid for parameter")
  );
  const bad = log?.kind === "kernel-log"
    ? /for parameter `([^']*)'/.exec(log.text)?.[1]
    : undefined;
  const at = params.find((p) => normalizeModuleName(p.key.value) === bad);
  cx.diagnostics.push(hostDiagnostic("E0304", `module \`${name.value}\` could not be inserted`, {
    error: e,
    span: at?.key.span ?? name.span,
    label: at !== undefined ? "the kernel cannot parse this value" : "refused by the kernel",
    notes: log?.kind === "kernel-log" ? [`dmesg: ${log.text}`] : [],
  }));
}

function execRmmod(cmd: RmmodCommand, cx: ExecContext): void {
  for (const m of cmd.modules) {
    const r = cx.lab.host.rmmod(m.value);
    if (!r.ok) reportRemoveError(m, r.error, cx, "rmmod");
  }
}

function execLsmod(_cmd: LsmodCommand, cx: ExecContext): void {
  cx.print(formatLsmod(cx.lab.host.lsmod()));
}

/** The module commands. */
export const MODPROBE_EXECUTORS = {
  modprobe: withHostEvents(execModprobe),
  rmmod: withHostEvents(execRmmod),
  lsmod: execLsmod,
} satisfies ExecutorTable;
