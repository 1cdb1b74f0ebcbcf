/**
 * The `host` lab statements: `host cpu ghz=… cores=…`, `host cmdline "…"` (read at boot:
 * the IOMMU parameters and `module.param=value` presets) and `host nic NAME model=… pci=…
 * [speed=…] [mac=…] [numvfs=…] [mtu=…]` (a physical function appears, its driver loads as
 * udev would load it, and `numvfs=` writes `sriov_numvfs`). Each refusal is located at the
 * property that causes it; a command line set too late points at the line where the
 * kernel booted.
 *
 * @example
 * ```ts
 * import { Session } from "../session.ts";
 * const s = new Session({ mode: "check", stdout: () => {} });
 * await s.runText('host cmdline "intel_iommu=on iommu=pt"\nhost nic ens1f0 model=mlx5 pci=0000:3b:00.0 numvfs=2\n', "a.vdpa");
 * const r = s.lab.host.read("/sys/class/net/ens1f0/device/sriov_numvfs");
 * if (!r.ok || r.value !== "2\n") throw new Error("two VFs expected");
 * ```
 *
 * @module
 */

import type { HostCmdline, HostCpu, HostNic, LabQuantity } from "../../lang/commands/ast.ts";
import type { Span } from "../../lang/span.ts";
import type { ExecContext, ExecutorTable } from "../exec.ts";
import {
  hostDiagnostic,
  type HostDiagnosticOptions,
  originOf,
  withHostEvents,
} from "../host_errors.ts";
import { nicModelHelp } from "../names.ts";

function push(
  cx: ExecContext,
  code: Parameters<typeof hostDiagnostic>[0],
  message: string,
  o: HostDiagnosticOptions,
): void {
  cx.diagnostics.push(hostDiagnostic(code, message, o));
}

function execCpu(cmd: HostCpu, cx: ExecContext): void {
  const ghz = cmd.ghz?.value.value;
  const cores = cmd.cores?.value.value;
  if (ghz !== undefined && !(ghz > 0 && ghz <= 10) && cmd.ghz !== undefined) {
    push(cx, "E0318", `a ${ghz} GHz CPU is not plausible`, {
      span: cmd.ghz.span,
      label: "expected more than 0 and at most 10",
      help: ["write the base clock, e.g. `ghz=3.0`"],
    });
    return;
  }
  if (
    cores !== undefined && cmd.cores !== undefined &&
    (!Number.isInteger(cores) || cores < 1 || cores > 4096)
  ) {
    push(cx, "E0318", `${cores} cores is not a CPU count`, {
      span: cmd.cores.span,
      label: "expected a whole number from 1 to 4096",
    });
    return;
  }
  const r = cx.lab.host.setCpu({
    ...(ghz !== undefined ? { ghz } : {}),
    ...(cores !== undefined ? { cores } : {}),
  });
  if (!r.ok) push(cx, "E0318", "`host cpu` refused", { error: r.error, span: cmd.span, label: "" });
}

/** Kernel parameters the lab reads; the others are accepted and reported as ignored. */
const CMDLINE_KEYS = new Set(["intel_iommu", "amd_iommu", "iommu", "iommu.passthrough"]);

function execCmdline(cmd: HostCmdline, cx: ExecContext): void {
  const host = cx.lab.host;
  const r = host.setCmdline(cmd.cmdline.value);
  if (!r.ok) {
    push(cx, "E0318", "the kernel command line is set too late", {
      error: r.error,
      span: cmd.cmdline.span,
      label: "the kernel has booted already",
      secondary: originOf(cx.provenance, "boot"),
      help: ["move `host cmdline` before the first `modprobe`, `host nic` or `ip` command"],
    });
    return;
  }
  const items = cmd.params.items;
  const has = (k: string, v?: string) =>
    items.some((p) =>
      p.key.value === k && (v === undefined || (p.value?.value ?? "").split(",").includes(v))
    );
  for (const p of items) {
    const key = p.key.value;
    const dot = key.indexOf(".");
    if (CMDLINE_KEYS.has(key)) continue;
    if (dot > 0) {
      const module = host.modules.resolve(key.slice(0, dot));
      const param = key.slice(dot + 1).replaceAll("-", "_");
      if (module !== undefined && param in (host.modules.spec(module)?.params ?? {})) continue;
    }
    push(cx, "W0304", `\`${key}\` has no effect in the lab`, {
      span: p.span,
      label: "accepted, ignored",
      notes: [
        "the lab reads intel_iommu=, amd_iommu=, iommu= and `module.param=value` presets of " +
        "the modules it has",
      ],
    });
  }
  const pt = items.find((p) => p.key.value === "iommu" && p.value?.value === "pt");
  if (pt !== undefined && !has("intel_iommu", "on") && !has("amd_iommu", "on")) {
    push(cx, "W0304", "`iommu=pt` without `intel_iommu=on` leaves the IOMMU off", {
      span: pt.span,
      label: "passthrough of an IOMMU that is not enabled",
      notes: [
        "on Intel hosts VT-d translation is off unless `intel_iommu=on` is given (or the " +
        "kernel is built with CONFIG_INTEL_IOMMU_DEFAULT_ON); VFIO then finds no IOMMU groups",
      ],
      help: ['write `host cmdline "intel_iommu=on iommu=pt"`'],
    });
  }
}

function quantitySpan(q: LabQuantity | undefined, fallback: Span): Span {
  return q?.span ?? fallback;
}

function execNic(cmd: HostNic, cx: ExecContext): void {
  const host = cx.lab.host;
  if (cmd.model === undefined || cmd.pci === undefined) {
    const missing = [
      cmd.model === undefined ? "`model=`" : "",
      cmd.pci === undefined ? "`pci=`" : "",
    ]
      .filter((x) => x !== "").join(" and ");
    push(cx, "E0318", `\`host nic ${cmd.name.value}\` needs ${missing}`, {
      span: cmd.name.span,
      label: "incomplete NIC",
      help: [`write \`host nic ${cmd.name.value} model=mlx5 pci=0000:3b:00.0\``],
    });
    return;
  }
  const speed = cmd.speed?.value.value;
  const r = host.addNic({
    name: cmd.name.value,
    model: cmd.model.value,
    pci: cmd.pci.value,
    ...(speed !== undefined ? { speedMbps: speed / 1e6 } : {}),
    ...(cmd.mac !== undefined ? { mac: cmd.mac.value } : {}),
  });
  if (!r.ok) {
    const e = r.error;
    if (e.kind !== "host-nic") {
      push(cx, "E0318", `\`host nic ${cmd.name.value}\` refused`, {
        error: e,
        span: cmd.span,
        label: "refused",
      });
      return;
    }
    switch (e.reason) {
      case "unknown-model":
        push(cx, "E0206", `unknown NIC model \`${cmd.model.value}\``, {
          span: cmd.model.span,
          label: "not a NIC model of the lab",
          help: nicModelHelp(cmd.model.value, host),
        });
        return;
      case "bad-pci-address": {
        const isMac = e.detail.includes("MAC");
        push(cx, "E0318", e.detail, {
          span: isMac && cmd.mac !== undefined ? cmd.mac.span : cmd.pci.span,
          label: isMac ? "not a MAC address" : "expected DDDD:BB:DD.F",
          help: isMac ? [] : ["write the full address, e.g. `pci=0000:3b:00.0`"],
        });
        return;
      }
      case "duplicate-pci": {
        const other = host.pci.devices.find((d) =>
          d.bdf.endsWith(cmd.pci?.value ?? "") && d.portName
        );
        push(cx, "E0318", `the PCI address ${cmd.pci.value} is taken`, {
          span: cmd.pci.span,
          label: e.detail,
          secondary: other?.portName !== undefined
            ? originOf(cx.provenance, `nic:${other.portName}`)
            : [],
          help: ["give each NIC its own bus number, e.g. `pci=0000:5e:00.0`"],
        });
        return;
      }
      case "duplicate-name":
        push(cx, "E0318", `a network device named \`${cmd.name.value}\` exists`, {
          span: cmd.name.span,
          label: "name taken",
          secondary: [
            ...originOf(cx.provenance, `nic:${cmd.name.value}`),
            ...originOf(cx.provenance, `netdev:${cmd.name.value}`),
          ],
        });
        return;
      case "bad-speed":
        push(cx, "E0318", `\`${cmd.model.value}\` cannot run at ${cmd.speed?.value.text ?? "?"}`, {
          span: quantitySpan(cmd.speed, cmd.span),
          label: "not a speed of this model",
          notes: [e.detail],
        });
        return;
    }
  }
  cx.provenance.set(`nic:${cmd.name.value}`, cmd.span, `\`${cmd.name.value}\` declared here`);
  const pf = host.pci.devices.find((d) => d.portName === cmd.name.value);
  if (pf === undefined) return;
  if (cmd.mtu !== undefined) {
    const m = host.linkSetMtu(cmd.name.value, cmd.mtu.value.value);
    if (!m.ok) {
      push(
        cx,
        "E0318",
        `an MTU of ${cmd.mtu.value.value} is out of range for \`${cmd.model.value}\``,
        {
          error: m.error,
          span: cmd.mtu.span,
          label: "refused by the driver",
        },
      );
    }
  }
  if (cmd.numvfs !== undefined) {
    const path = `${pf.path}/sriov_numvfs`;
    const w = host.write(path, `${cmd.numvfs.value.value}\n`);
    if (!w.ok) {
      push(
        cx,
        "E0318",
        `${cmd.numvfs.value.value} VFs cannot be enabled on \`${cmd.name.value}\``,
        {
          error: w.error,
          span: cmd.numvfs.span,
          label: w.error.kind === "fs" && w.error.errno === "ERANGE"
            ? `more than sriov_totalvfs (${pf.model.totalVfs})`
            : "refused",
          help: [`write a number from 0 to ${pf.model.totalVfs}`],
        },
      );
    }
  }
}

/** The host statements. */
export const HOST_EXECUTORS = {
  "host-cpu": withHostEvents(execCpu),
  "host-cmdline": withHostEvents(execCmdline),
  "host-nic": withHostEvents(execNic),
} satisfies ExecutorTable;
