/**
 * `echo VALUE > PATH` (and `>>`, `| [sudo] tee [-a] PATH…`), `cat PATH…` and `ls [-l] PATH…`
 * over the host's /sys, /dev and /proc, which always reflect kernel state. Writes go to the
 * attribute's store method (bind, unbind, drivers_probe, drivers_autoprobe,
 * driver_override, sriov_numvfs, module parameters …); globs expand as bash expands them (a
 * pattern that matches nothing stays literal).
 *
 * Errors are the shell's and the tools' (`bash: echo: write error: No such device`,
 * `bash: PATH: No such file or directory`, `tee: PATH: …`, `cat: …`, `ls: cannot access …`)
 * located at the offending word: the value for a refused store, the path for a missing
 * file (with the nearest existing directory and a did-you-mean, and for
 * `/dev/vhost-vdpa-N` the chain of causes). Warnings: W0201 a `driver_override` that names
 * no driver (the kernel stores any string; the bus compares names exactly), W0303 a probe
 * that binds nothing (with a secondary label at the driver_override that caused it).
 *
 * @example
 * ```ts
 * import { Session } from "../session.ts";
 * const s = new Session({ mode: "check", stdout: () => {} });
 * await s.runText(
 *   "modprobe vhost_vdpa\nmodprobe vdpa_sim_net\nvdpa dev add name vdpa0 mgmtdev vdpasim_net\n" +
 *     "echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind\n",
 *   "a.vdpa",
 * );
 * const r = s.lab.host.read("/sys/bus/vdpa/devices/vdpa0/driver_override");
 * if (!r.ok || r.value !== "(null)\n") throw new Error("no override expected");
 * if (s.lab.host.exists("/dev/vhost-vdpa-0")) throw new Error("unbound: no /dev node");
 * ```
 *
 * @module
 */

import type { CatCommand, EchoCommand, LsCommand, PathArg } from "../../lang/commands/ast.ts";
import { joinSpans, type Span } from "../../lang/span.ts";
import type { HostError } from "../../runtime/host/host_error.ts";
import type { HostKernel } from "../../runtime/host/kernel.ts";
import { sysfsName } from "../../runtime/host/vdpa_bus.ts";
import type { ExecContext, ExecutorTable } from "../exec.ts";
import { formatLs } from "../format/ls.ts";
import {
  explainMissingPath,
  hostDiagnostic,
  type HostDiagnosticOptions,
  originOf,
  type Secondary,
  withHostEvents,
} from "../host_errors.ts";
import { driverOverrideHelp, moduleOfDriver, pciDeviceHelp, vdpaDeviceHelp } from "../names.ts";

type Bus = "vdpa" | "pci" | "virtio";

/** What a sysfs file is, by its real location. */
type Target =
  | { readonly kind: "bind" | "unbind"; readonly bus: Bus; readonly driver: string }
  | { readonly kind: "drivers_probe" | "drivers_autoprobe"; readonly bus: Bus }
  | { readonly kind: "driver_override"; readonly bus: "vdpa" | "pci"; readonly device: string }
  | { readonly kind: "sriov_numvfs"; readonly bdf: string }
  | { readonly kind: "other" };

/** The file systems the lab has. */
const MODELLED = /^\/(sys|dev|proc)(\/|$)/;

function classify(path: string, host: HostKernel): Target {
  const slash = path.lastIndexOf("/");
  const base = path.slice(slash + 1);
  const dir = host.realpath(path.slice(0, slash) || "/");
  if (!dir.ok) return { kind: "other" };
  const d = dir.value;
  let m = /^\/sys\/bus\/(vdpa|pci|virtio)\/drivers\/([^/]+)$/.exec(d);
  if (m !== null && (base === "bind" || base === "unbind")) {
    return { kind: base, bus: m[1] as Bus, driver: m[2] ?? "" };
  }
  m = /^\/sys\/bus\/(vdpa|pci|virtio)$/.exec(d);
  if (m !== null && (base === "drivers_probe" || base === "drivers_autoprobe")) {
    return { kind: base, bus: m[1] as Bus };
  }
  if (base === "driver_override") {
    const v = host.vdpa.devices.find((x) => x.path === d);
    if (v !== undefined) return { kind: "driver_override", bus: "vdpa", device: v.name };
    const p = host.pci.devices.find((x) => x.path === d);
    if (p !== undefined) return { kind: "driver_override", bus: "pci", device: p.bdf };
  }
  if (base === "sriov_numvfs") {
    const p = host.pci.devices.find((x) => x.path === d);
    if (p !== undefined) return { kind: "sriov_numvfs", bdf: p.bdf };
  }
  return { kind: "other" };
}

/** The span of what echo prints (its values), or of the redirection when there are none. */
function valueSpan(cmd: EchoCommand): Span {
  const first = cmd.values[0];
  const last = cmd.values[cmd.values.length - 1];
  if (first !== undefined && last !== undefined) return joinSpans(first.span, last.span);
  return cmd.redirect?.span ?? cmd.span;
}

function push(
  cx: ExecContext,
  code: Parameters<typeof hostDiagnostic>[0],
  message: string,
  o: HostDiagnosticOptions,
): void {
  cx.diagnostics.push(hostDiagnostic(code, message, o));
}

/** Expands a path argument as bash would: one path, or several for a matching glob. */
function expand(arg: PathArg, host: HostKernel): string[] {
  if (!arg.glob) return [arg.value];
  const m = host.glob(arg.value);
  return m.length === 0 ? [arg.value] : m;
}

/** A path outside /sys, /dev and /proc: the lab has no such file system. */
function reportOutside(arg: PathArg, cx: ExecContext): void {
  push(cx, "E0319", `\`${arg.value}\` is outside the file systems the lab models`, {
    span: arg.span,
    label: "not under /sys, /dev or /proc",
    notes: ["the lab's host has /sys, /dev and /proc, which reflect kernel state"],
    help: arg.value.startsWith("/")
      ? []
      : [`write the absolute path, e.g. \`/sys/bus/vdpa/${arg.value}\``],
  });
}

// ---------------------------------------------------------------------------------------------
// echo

async function execEcho(cmd: EchoCommand, cx: ExecContext): Promise<void> {
  const r = cmd.redirect;
  if (r === undefined) {
    cx.print(cmd.output);
    return;
  }
  const paths = r.kind === "file" ? [r.path] : r.paths;
  for (const arg of paths) writeTo(cmd, arg, r.kind === "tee", cx);
  // tee copies its input to stdout as well, unless that goes to /dev/null
  if (r.kind === "tee" && !r.silenced) cx.print(cmd.output);
  await Promise.resolve();
}

function writeTo(cmd: EchoCommand, arg: PathArg, tee: boolean, cx: ExecContext): void {
  const host = cx.lab.host;
  let path = arg.value;
  if (arg.glob) {
    const m = host.glob(arg.value);
    if (m.length > 1 && !tee) {
      push(cx, "E0320", `\`${arg.value}\` matches ${m.length} files`, {
        span: arg.span,
        label: "a redirection needs exactly one file",
        notes: [`bash: ${arg.value}: ambiguous redirect`],
        help: [`name one of them: ${m.slice(0, 3).map((x) => `\`${x}\``).join(", ")}`],
      });
      return;
    }
    if (tee && m.length > 1) {
      for (const x of m) writeTo(cmd, { ...arg, value: x, glob: false }, tee, cx);
      return;
    }
    path = m[0] ?? arg.value;
  }
  if (path === "/dev/null") return;
  if (!MODELLED.test(path)) {
    reportOutside(arg, cx);
    return;
  }
  const target = classify(path, host);
  const value = sysfsName(cmd.output);
  warnBeforeWrite(cmd, target, value, cx);
  const before = target.kind === "drivers_probe"
    ? currentDriver(target.bus, value, host)
    : undefined;
  const w = host.write(path, cmd.output);
  if (!w.ok) {
    const e: HostError = tee && w.error.kind === "fs" ? { ...w.error, tool: "tee" } : w.error;
    reportWrite(cmd, arg, path, target, value, e, cx);
    return;
  }
  if (target.kind === "drivers_probe" && before?.exists === true && before.driver === undefined) {
    const now = currentDriver(target.bus, value, host);
    if (now.driver === undefined) {
      if (target.bus === "vdpa") warnProbeBoundNothing(cmd, value, cx);
      else if (target.bus === "pci") warnPciProbeBoundNothing(cmd, value, cx);
    }
  }
}

/** W0201: the kernel stores any driver_override; one that names no driver binds nothing. */
function warnBeforeWrite(cmd: EchoCommand, target: Target, value: string, cx: ExecContext): void {
  if (target.kind !== "driver_override" || value === "") return;
  const check = driverOverrideHelp(target.bus, value, cx.lab.host);
  if (check.matches) return;
  push(cx, "W0201", `no ${target.bus} driver is named \`${value}\``, {
    span: valueSpan(cmd),
    label: `\`${target.device}\` will match no driver`,
    notes: [
      "the kernel stores any string here; the bus then compares it with each driver's name " +
      "exactly (strcmp), so the device binds to nothing",
    ],
    help: check.help.length > 0 ? check.help : [
      `the ${target.bus} drivers are ${
        (target.bus === "vdpa"
          ? ["vhost_vdpa", "virtio_vdpa"]
          : cx.lab.host.pci.drivers.map((d) => d.name))
          .map((n) => `\`${n}\``).join(", ")
      }`,
    ],
  });
}

/** W0303: drivers_probe ran, and still no driver has the device. */
function warnProbeBoundNothing(cmd: EchoCommand, name: string, cx: ExecContext): void {
  const host = cx.lab.host;
  const d = host.vdpa.device(name);
  if (d === undefined) return;
  const secondary: Secondary[] = [];
  const notes: string[] = [];
  const help: string[] = [];
  if (d.driverOverride !== undefined) {
    const m = driverOverrideHelp("vdpa", d.driverOverride, host);
    const why = m.matches ? `and \`${d.driverOverride}\` is not loaded` : "which no driver matches";
    const o = cx.provenance.get(`override:vdpa:${name}`);
    const message = `driver_override \`${d.driverOverride}\` written here, ${why}`;
    if (o !== undefined) secondary.push({ span: o.span, message });
    else notes.push(`\`${name}\` has ${message.replace(" written here", "")}`);
    help.push(...m.help.map((h) => `in driver_override: ${h}`));
    const module = moduleOfDriver(host, "vdpa", d.driverOverride);
    if (m.matches && module !== undefined && !host.isLoaded(module)) {
      help.push(`load it: \`modprobe ${module}\``);
    }
  } else if (host.vdpa.drivers.length === 0) {
    notes.push("no vdpa bus driver is loaded");
    help.push("load one: `modprobe vhost_vdpa` or `modprobe virtio_vdpa`");
  } else {
    secondary.push(...originOf(cx.provenance, `driver:vdpa:${name}`));
    notes.push("every loaded driver refused to probe it (see the kernel log)");
  }
  push(cx, "W0303", `probing \`${name}\` bound no driver`, {
    span: valueSpan(cmd),
    label: `\`${name}\` stays unbound`,
    secondary,
    notes: [...notes, "the write succeeds: drivers_probe reports no error when nothing matches"],
    help,
  });
}

/** W0303 for a PCI function: the override names no loaded driver, or vfio-pci refused it. */
function warnPciProbeBoundNothing(cmd: EchoCommand, bdf: string, cx: ExecContext): void {
  const host = cx.lab.host;
  const d = host.pci.device(bdf);
  if (d === undefined) return;
  const secondary: Secondary[] = [];
  const notes: string[] = [];
  const help: string[] = [];
  const override = d.driverOverride;
  if (override === "vfio-pci" && host.isLoaded("vfio_pci") && d.iommuGroup === undefined) {
    secondary.push(...originOf(cx.provenance, "cmdline"));
    notes.push(...probeLog(bdf, cx));
    notes.push("vfio-pci needs an IOMMU group, and with the IOMMU off there is none");
    help.push('turn the IOMMU on first: `host cmdline "intel_iommu=on iommu=pt"`');
  } else if (override !== undefined) {
    const m = driverOverrideHelp("pci", override, host);
    const module = moduleOfDriver(host, "pci", override);
    secondary.push(...originOf(cx.provenance, `override:pci:${bdf}`));
    if (!m.matches) help.push(...m.help.map((h) => `in driver_override: ${h}`));
    else if (module !== undefined && !host.isLoaded(module)) {
      notes.push(`\`${override}\` is not loaded`);
      help.push(`load it: \`modprobe ${module}\``);
    } else notes.push(...probeLog(bdf, cx));
  } else notes.push("no loaded PCI driver matches this function");
  push(cx, "W0303", `probing ${bdf} bound no driver`, {
    span: valueSpan(cmd),
    label: `${bdf} stays unbound`,
    secondary,
    notes: [...notes, "the write succeeds: drivers_probe reports no error when nothing binds"],
    help,
  });
}

function reportWrite(
  cmd: EchoCommand,
  arg: PathArg,
  path: string,
  target: Target,
  value: string,
  e: HostError,
  cx: ExecContext,
): void {
  const host = cx.lab.host;
  if (e.kind !== "fs") {
    push(cx, "E0314", `writing \`${value}\` to \`${path}\` failed`, {
      error: e,
      span: valueSpan(cmd),
      label: "refused",
    });
    return;
  }
  if (e.op === "open-write") {
    if (e.errno === "ENOENT" || e.errno === "ENOTDIR") {
      const why = explainMissingPath(path, cx);
      push(cx, "E0311", `\`${path}\` does not exist`, {
        error: e,
        span: arg.span,
        label: "no such file",
        secondary: why.secondary,
        notes: why.notes,
        help: why.help,
      });
      return;
    }
    const why = explainMissingPath(path, cx);
    push(cx, "E0312", `\`${path}\` cannot be written`, {
      error: e,
      span: arg.span,
      label: e.errno === "EISDIR"
        ? "a directory"
        : host.exists(path)
        ? "a read-only file"
        : "sysfs creates no files: this attribute does not exist",
      notes: why.notes,
      help: why.help,
    });
    return;
  }
  const span = valueSpan(cmd);
  switch (target.kind) {
    case "bind":
    case "unbind":
      return reportBind(cmd, target, value, e, cx);
    case "drivers_probe":
      if (e.errno === "ENODEV") return reportNoDevice(target.bus, value, span, e, cx);
      break;
    case "driver_override":
      break;
    case "sriov_numvfs": {
      const pf = host.pci.device(target.bdf);
      if (e.errno === "ERANGE") {
        push(cx, "E0314", `${target.bdf} has at most ${pf?.model.totalVfs ?? "?"} VFs`, {
          error: e,
          span,
          label: "more than sriov_totalvfs",
          help: [`write a number from 0 to ${pf?.model.totalVfs ?? "sriov_totalvfs"}`],
        });
        return;
      }
      if (e.errno === "EBUSY" && e.waitingFor !== undefined) {
        // Disabling VFs one of which is held open (a VM's VFIO group): not "enabled already".
        push(cx, "E0308", `a VF of ${target.bdf} is in use`, {
          error: e,
          span,
          label: `\`${e.waitingFor}\` is open`,
          secondary: originOf(cx.provenance, `open:${e.waitingFor}`),
          help: [
            "stop the VM that holds it first (`kill PID`; `show topology` lists the pids)",
          ],
        });
        return;
      }
      if (e.errno === "EBUSY") {
        const n = pf?.vfs.length ?? 0;
        push(cx, "E0308", `${target.bdf} has ${n} VFs enabled already`, {
          error: e,
          span,
          label: e.waitingFor !== undefined ? `\`${e.waitingFor}\` is open` : "VFs are enabled",
          secondary: [
            ...originOf(cx.provenance, `sriov:${target.bdf}`),
            ...(e.waitingFor !== undefined ? originOf(cx.provenance, `open:${e.waitingFor}`) : []),
          ],
          notes: [
            `the kernel logs: ${n} VFs already enabled. Disable before enabling ${value} VFs`,
          ],
          help: [`write 0 first: \`echo 0 > ${arg.value}\``],
        });
        return;
      }
      if (e.errno === "ENOENT") {
        push(cx, "E0315", `the VFs of ${target.bdf} cannot be configured`, {
          error: e,
          span: arg.span,
          label: pf?.driver === undefined
            ? "no driver is bound to the PF"
            : "its driver has no SR-IOV support",
          help: pf?.driver === undefined
            ? [`load and bind its driver first (\`modprobe ${pf?.model.pfDriver ?? "mlx5_core"}\`)`]
            : [],
        });
        return;
      }
      break;
    }
    default:
      break;
  }
  push(cx, "E0314", `\`${path}\` rejects \`${value}\``, {
    error: e,
    span,
    label: "the kernel refuses this value",
    secondary: e.waitingFor !== undefined ? originOf(cx.provenance, `open:${e.waitingFor}`) : [],
  });
}

function reportNoDevice(bus: Bus, name: string, span: Span, e: HostError, cx: ExecContext): void {
  const host = cx.lab.host;
  if (bus === "vdpa") {
    push(cx, "E0203", `no vdpa device named \`${name}\``, {
      error: e,
      span,
      label: "not on the vdpa bus",
      secondary: originOf(cx.provenance, `vdpa-dev-del:${name}`),
      help: vdpaDeviceHelp(name, host),
    });
  } else {
    push(cx, "E0204", `no ${bus} device \`${name}\``, {
      error: e,
      span,
      label: `not on the ${bus} bus`,
      help: bus === "pci" ? pciDeviceHelp(name, host) : [],
    });
  }
}

function currentDriver(bus: Bus, name: string, host: HostKernel): {
  exists: boolean;
  driver: string | undefined;
  override: string | undefined;
} {
  if (bus === "vdpa") {
    const d = host.vdpa.device(name);
    return { exists: d !== undefined, driver: d?.driver, override: d?.driverOverride };
  }
  if (bus === "pci") {
    const d = host.pci.device(name);
    return { exists: d !== undefined, driver: d?.driver, override: d?.driverOverride };
  }
  const v = host.virtio.devices.find((x) => x.name === name);
  return { exists: v !== undefined, driver: v?.driver, override: undefined };
}

function reportBind(
  cmd: EchoCommand,
  target: Extract<Target, { kind: "bind" | "unbind" }>,
  name: string,
  e: Extract<HostError, { kind: "fs" }>,
  cx: ExecContext,
): void {
  const host = cx.lab.host;
  const span = valueSpan(cmd);
  const dev = currentDriver(target.bus, name, host);
  const boundAt = originOf(cx.provenance, `driver:${target.bus}:${name}`);
  if (!dev.exists) return reportNoDevice(target.bus, name, span, e, cx);
  const dir = `/sys/bus/${target.bus}/drivers`;
  if (target.kind === "unbind") {
    if (e.errno === "EBUSY") {
      push(cx, "E0308", `\`${name}\` is in use`, {
        error: e,
        span,
        label: e.waitingFor !== undefined ? `\`${e.waitingFor}\` is open` : "busy",
        secondary: e.waitingFor !== undefined
          ? originOf(cx.provenance, `open:${e.waitingFor}`)
          : [],
        help: ["stop the VM or application that holds it open first"],
      });
      return;
    }
    push(cx, "E0313", `\`${name}\` is not bound to \`${target.driver}\``, {
      error: e,
      span,
      label: dev.driver === undefined ? "bound to no driver" : `bound to \`${dev.driver}\``,
      secondary: boundAt,
      help: dev.driver === undefined
        ? [`there is nothing to unbind`]
        : [`unbind it from its driver: \`echo ${name} > ${dir}/${dev.driver}/unbind\``],
    });
    return;
  }
  if (e.errno === "EBUSY") {
    push(cx, "E0308", `\`${name}\` is already bound to \`${dev.driver ?? "?"}\``, {
      error: e,
      span,
      label: "bound already",
      secondary: boundAt.length > 0 ? boundAt : originOf(cx.provenance, `vdpa-dev:${name}`),
      help: dev.driver === target.driver
        ? ["nothing to do: it is bound to this driver"]
        : [`unbind it first: \`echo ${name} > ${dir}/${dev.driver ?? "DRIVER"}/unbind\``],
    });
    return;
  }
  if (e.errno === "ENODEV" && dev.override !== undefined && dev.override !== target.driver) {
    push(cx, "E0313", `\`${name}\` may only bind to \`${dev.override}\``, {
      error: e,
      span,
      label: "its driver_override names another driver",
      secondary: originOf(cx.provenance, `override:${target.bus}:${name}`),
      help: [
        `clear the override first: \`echo "" > /sys/bus/${target.bus}/devices/${name}/driver_override\``,
      ],
    });
    return;
  }
  if (e.errno === "ENODEV") {
    // driver_match_device: the driver's ID table does not list the device
    push(cx, "E0313", `\`${target.driver}\` does not match \`${name}\``, {
      error: e,
      span,
      label: "not in the driver's ID table",
      help: [
        `name the driver in its driver_override first: \`echo ${target.driver} > ` +
        `/sys/bus/${target.bus}/devices/${name}/driver_override\``,
      ],
    });
    return;
  }
  const noGroup = target.bus === "pci" && target.driver === "vfio-pci" &&
    host.pci.device(name)?.iommuGroup === undefined;
  push(cx, "E0313", `\`${target.driver}\` did not bind \`${name}\``, {
    error: e,
    span,
    label: noGroup ? "no IOMMU group" : "the probe failed",
    secondary: noGroup ? originOf(cx.provenance, "cmdline") : [],
    notes: [
      ...probeLog(name, cx),
      ...(noGroup ? ["vfio-pci needs an IOMMU group, and with the IOMMU off there is none"] : []),
    ],
    help: noGroup ? ['turn the IOMMU on first: `host cmdline "intel_iommu=on iommu=pt"`'] : [],
  });
}

/** The kernel's probe-failure lines about `name`. */
function probeLog(name: string, cx: ExecContext): string[] {
  return cx.lab.hostEvents.flatMap((ev) =>
    ev.kind === "kernel-log" && ev.text.includes(`probe of ${name} failed`)
      ? [`dmesg: ${ev.text}`]
      : []
  ).slice(-1);
}

// ---------------------------------------------------------------------------------------------
// cat and ls

function reportMissing(arg: PathArg, path: string, e: HostError, cx: ExecContext): void {
  const why = explainMissingPath(path, cx);
  const missing = e.kind === "fs" && (e.errno === "ENOENT" || e.errno === "ENOTDIR");
  push(
    cx,
    missing ? "E0311" : "E0312",
    missing ? `\`${path}\` does not exist` : `\`${path}\` cannot be read`,
    {
      error: e,
      span: arg.span,
      label: missing
        ? (arg.glob ? "the pattern matches nothing" : "no such file")
        : e.kind === "fs" && e.errno === "EACCES"
        ? "a write-only attribute"
        : e.kind === "fs" && e.errno === "EISDIR"
        ? "a directory: `ls` lists it"
        : "cannot be read",
      secondary: why.secondary,
      notes: why.notes,
      help: why.help,
    },
  );
}

function execCat(cmd: CatCommand, cx: ExecContext): void {
  const host = cx.lab.host;
  for (const arg of cmd.paths) {
    for (const path of expand(arg, host)) {
      if (!MODELLED.test(path)) {
        reportOutside(arg, cx);
        continue;
      }
      const r = host.read(path);
      if (r.ok) cx.print(r.value);
      else reportMissing(arg, path, r.error, cx);
    }
  }
}

function execLs(cmd: LsCommand, cx: ExecContext): void {
  const host = cx.lab.host;
  const args: string[] = [];
  for (const arg of cmd.paths) {
    for (const path of expand(arg, host)) {
      if (!MODELLED.test(path) && path !== "/" && path !== ".") {
        reportOutside(arg, cx);
        continue;
      }
      const st = host.lstat(path);
      if (!st.ok) {
        reportMissing(arg, path, { ...st.error, kind: "fs", op: "stat", path } as HostError, cx);
      }
      // ls lists the others, with headers counted over every argument
      args.push(path);
    }
  }
  if (cmd.paths.length > 0 && args.length === 0) return;
  const out = formatLs(host, args, {
    long: cmd.long,
    all: cmd.all,
    directory: cmd.directory,
    human: cmd.human,
  });
  if (out.stdout !== "") cx.print(out.stdout);
}

/** The file commands. */
export const SYSFS_EXECUTORS = {
  echo: withHostEvents(execEcho),
  cat: execCat,
  ls: execLs,
} satisfies ExecutorTable;
