/**
 * Host-kernel failures as located diagnostics, and the cause-and-consequence bookkeeping
 * that lets a failure point back at the line that caused it.
 *
 * - {@link HOST_CODES}: every E03xx/W03xx code the host executors emit (one table).
 * - {@link hostDiagnostic}: a diagnostic whose notes carry the real tool's text verbatim
 *   (`modprobe: FATAL: …`, `kernel answers: …`, `bash: echo: write error: …`), one note per
 *   line, plus what the real kernel would be waiting for.
 * - {@link recordHostEvents} / {@link withHostEvents}: the host's events after a statement
 *   become provenance records (`module:vhost_vdpa`, `vdpa-dev:vdpa0`,
 *   `override:vdpa:vdpa0`, `driver:vdpa:vdpa0`, `open:/dev/vhost-vdpa-0` …), so a later
 *   error can carry a secondary label at its cause.
 * - {@link explainMissingPath}: why a path such as `/dev/vhost-vdpa-0` does not exist, as
 *   secondary labels, notes and help — for the QEMU executor's `vhostdev=` as much as for
 *   `ls`.
 *
 * Provenance keys (all set from host events, message in backticks style):
 * `boot`, `cmdline`, `cpu`, `nic:NAME`, `module:M`, `module-unload:M`, `vdpa-dev:D`,
 * `vdpa-dev-del:D`, `driver:BUS:DEV` (last bind or unbind), `override:BUS:DEV`,
 * `autoprobe:BUS`, `devnode:PATH`, `devnode-remove:PATH`, `open:PATH`, `netdev:NAME`,
 * `netdev-remove:NAME`, `master:NAME`, `link:NAME`, `mtu:NAME`, `vf:BDF`, `sriov:BDF`.
 *
 * @example
 * ```ts
 * import { formatHostError } from "../runtime/host/host_error.ts";
 * import { hostDiagnostic } from "./host_errors.ts";
 * const e = { kind: "vdpa-netlink", errno: "EOPNOTSUPP", extack: "vdpa: Some provided attributes are not supported: 0x1000" } as const;
 * const d = hostDiagnostic("E0305", "`vdpasim_net` does not accept `max_vqp`", {
 *   error: e,
 *   span: { source: "a.vdpa", start: 40, end: 49 },
 *   label: "not supported by this management device",
 * });
 * if (d.notes.join("\n") !== formatHostError(e)) throw new Error(d.notes.join("\n"));
 * ```
 *
 * @module
 */

import { type Diagnostic, diagnostic, type Severity } from "../lang/diagnostic.ts";
import type { Span } from "../lang/span.ts";
import type { Command } from "../lang/commands/ast.ts";
import { formatHostError, type HostError } from "../runtime/host/host_error.ts";
import type { HostEvent } from "../runtime/host/host_event.ts";
import type { HostKernel } from "../runtime/host/kernel.ts";
import { mgmtdevHandle } from "../runtime/host/vdpa_bus.ts";
import type { ExecContext, Executor } from "./exec.ts";
import { driverOverrideHelp, NAME_CODES, type NameCode, pathHelp } from "./names.ts";
import type { Provenance } from "./provenance.ts";

/** One code: its severity and what it means. */
export interface HostCodeInfo {
  readonly severity: Severity;
  readonly summary: string;
}

/** Every code the host executors emit besides the name codes of `names.ts`. */
export const HOST_CODES = {
  E0300: { severity: "error", summary: "the `vdpa` netlink family is not registered" },
  E0301: { severity: "error", summary: "a module cannot be removed: it is in use" },
  E0302: { severity: "error", summary: "the module is not loaded" },
  E0303: { severity: "error", summary: "the module is built into the kernel" },
  E0304: { severity: "error", summary: "the module could not be inserted" },
  E0305: { severity: "error", summary: "the management device refuses the request" },
  E0306: { severity: "error", summary: "a vdpa attribute value the kernel rejects" },
  E0307: { severity: "error", summary: "the name is taken" },
  E0308: { severity: "error", summary: "busy: bound, open or enabled already" },
  E0309: { severity: "error", summary: "vendor statistics are not available" },
  E0311: { severity: "error", summary: "no such file or directory" },
  E0312: { severity: "error", summary: "the file cannot be opened that way" },
  E0313: { severity: "error", summary: "the bus refuses the bind, unbind or probe" },
  E0314: { severity: "error", summary: "the attribute rejects the value written" },
  E0315: { severity: "error", summary: "SR-IOV cannot be configured on this function" },
  E0316: { severity: "error", summary: "the kernel refuses the link change" },
  E0317: { severity: "error", summary: "the tun/tap request fails" },
  E0318: { severity: "error", summary: "a `host` statement the lab refuses" },
  E0319: { severity: "error", summary: "a path outside /sys, /dev and /proc" },
  E0320: { severity: "error", summary: "ambiguous redirect" },
  E0321: { severity: "error", summary: "no usage text for this tool" },
  E0322: { severity: "error", summary: "a real feature of the tool the lab does not model" },
  E0323: { severity: "error", summary: "the driver refuses a devlink request" },
  E0324: { severity: "error", summary: "no such devlink instance or port" },
  W0301: { severity: "warning", summary: "unknown module parameter: the kernel ignores it" },
  W0302: { severity: "warning", summary: "accepted but not modelled: no effect in the lab" },
  W0303: { severity: "warning", summary: "a probe that binds no driver" },
  W0304: { severity: "warning", summary: "the kernel command line has no effect here" },
} as const satisfies Record<string, HostCodeInfo>;

/** A code of {@link HOST_CODES}. */
export type HostCode = keyof typeof HOST_CODES;

/** A secondary label. */
export interface Secondary {
  readonly span: Span;
  readonly message: string;
}

/** Options of {@link hostDiagnostic}. */
export interface HostDiagnosticOptions {
  /** The host error whose real text becomes the first notes. */
  readonly error?: HostError;
  /** The offending word. */
  readonly span: Span;
  readonly label: string;
  readonly secondary?: readonly Secondary[];
  readonly notes?: readonly string[];
  readonly help?: readonly string[];
}

/** The real tool's text for `e`, one line per note, and what the kernel would wait for. */
export function hostErrorNotes(e: HostError): string[] {
  const notes = formatHostError(e).split("\n");
  if ("waitingFor" in e && e.waitingFor !== undefined) {
    notes.push(
      `the real kernel would wait here until \`${e.waitingFor}\` is closed; the lab refuses instead`,
    );
  }
  if ("heldBy" in e && e.heldBy !== undefined) notes.push(`held open by ${e.heldBy}`);
  return notes;
}

/** A diagnostic for `code` (a host or a name code) with the tool's text as notes. */
export function hostDiagnostic(
  code: HostCode | NameCode,
  message: string,
  o: HostDiagnosticOptions,
): Diagnostic {
  const info: HostCodeInfo = code in HOST_CODES
    ? HOST_CODES[code as HostCode]
    : NAME_CODES[code as NameCode];
  return diagnostic(info.severity, code, message, {
    span: o.span,
    label: o.label,
    secondary: o.secondary ?? [],
    notes: [...(o.error !== undefined ? hostErrorNotes(o.error) : []), ...(o.notes ?? [])],
    help: o.help ?? [],
  });
}

/** The secondary label recorded for `key`, as a list (empty when nothing was recorded). */
export function originOf(provenance: Provenance, key: string): Secondary[] {
  const o = provenance.get(key);
  return o === undefined ? [] : [{ span: o.span, message: o.message }];
}

// ---------------------------------------------------------------------------------------------
// Provenance from host events

function loadMessage(e: Extract<HostEvent, { kind: "module-load" }>): string {
  if (e.reason === "dependency") {
    return `\`${e.module}\` loaded here, as a dependency of \`${e.by ?? "?"}\``;
  }
  if (e.reason === "autoload") {
    return `\`${e.module}\` loaded here by the kernel (for \`${e.by ?? "?"}\`)`;
  }
  return `\`${e.module}\` loaded here`;
}

/** Records where each object the events touched was created or configured. */
export function recordHostEvents(
  events: readonly HostEvent[],
  span: Span,
  provenance: Provenance,
): void {
  for (const e of events) {
    switch (e.kind) {
      case "module-load":
        provenance.set(`module:${e.module}`, span, loadMessage(e));
        provenance.delete(`module-unload:${e.module}`);
        break;
      case "module-unload":
        provenance.delete(`module:${e.module}`);
        provenance.set(`module-unload:${e.module}`, span, `\`${e.module}\` unloaded here`);
        break;
      case "device-add":
        if (e.bus === "vdpa") {
          provenance.set(`vdpa-dev:${e.device}`, span, `\`${e.device}\` created here`);
          provenance.delete(`vdpa-dev-del:${e.device}`);
          provenance.delete(`driver:vdpa:${e.device}`);
          provenance.delete(`override:vdpa:${e.device}`);
        }
        break;
      case "device-del":
        if (e.bus === "vdpa") {
          provenance.delete(`vdpa-dev:${e.device}`);
          provenance.set(`vdpa-dev-del:${e.device}`, span, `\`${e.device}\` deleted here`);
        }
        break;
      case "driver-bind":
        provenance.set(
          `driver:${e.bus}:${e.device}`,
          span,
          `\`${e.device}\` bound to \`${e.driver}\` here`,
        );
        break;
      case "driver-unbind":
        provenance.set(
          `driver:${e.bus}:${e.device}`,
          span,
          `\`${e.device}\` unbound from \`${e.driver}\` here`,
        );
        break;
      case "probe-failed":
        provenance.set(
          `driver:${e.bus}:${e.device}`,
          span,
          `\`${e.driver}\` failed to probe \`${e.device}\` here`,
        );
        break;
      case "driver-override":
        provenance.set(
          `override:${e.bus}:${e.device}`,
          span,
          e.value === null
            ? `driver_override of \`${e.device}\` cleared here`
            : `driver_override of \`${e.device}\` set to \`${e.value}\` here`,
        );
        break;
      case "autoprobe":
        provenance.set(
          `autoprobe:${e.bus}`,
          span,
          `drivers_autoprobe of the ${e.bus} bus ${e.enabled ? "enabled" : "disabled"} here`,
        );
        break;
      case "devnode-create":
        provenance.set(`devnode:${e.path}`, span, `\`${e.path}\` created here`);
        provenance.delete(`devnode-remove:${e.path}`);
        break;
      case "devnode-remove":
        provenance.delete(`devnode:${e.path}`);
        provenance.set(`devnode-remove:${e.path}`, span, `\`${e.path}\` removed here`);
        break;
      case "devnode-open":
        provenance.set(`open:${e.path}`, span, `\`${e.path}\` opened here by ${e.owner}`);
        break;
      case "devnode-close":
        provenance.delete(`open:${e.path}`);
        break;
      case "netdev-create":
        provenance.set(`netdev:${e.ifname}`, span, `\`${e.ifname}\` created here`);
        provenance.delete(`netdev-remove:${e.ifname}`);
        break;
      case "netdev-remove":
        provenance.delete(`netdev:${e.ifname}`);
        provenance.set(`netdev-remove:${e.ifname}`, span, `\`${e.ifname}\` deleted here`);
        break;
      case "link-up":
      case "link-down":
        provenance.set(
          `link:${e.ifname}`,
          span,
          `\`${e.ifname}\` set ${e.kind === "link-up" ? "up" : "down"} here`,
        );
        break;
      case "mtu-change":
        provenance.set(`mtu:${e.ifname}`, span, `MTU of \`${e.ifname}\` set to ${e.mtu} here`);
        break;
      case "master-change":
        provenance.set(
          `master:${e.ifname}`,
          span,
          e.master === null
            ? `\`${e.ifname}\` released from its bridge here`
            : `\`${e.ifname}\` attached to \`${e.master}\` here`,
        );
        break;
      case "vf-create":
        provenance.set(`vf:${e.vf}`, span, `VF ${e.vf} created here`);
        provenance.set(`sriov:${e.pf}`, span, `VFs of ${e.pf} enabled here`);
        break;
      case "vf-remove":
        provenance.delete(`vf:${e.vf}`);
        provenance.set(`sriov:${e.pf}`, span, `VFs of ${e.pf} disabled here`);
        break;
      case "cmdline":
        provenance.set("cmdline", span, "kernel command line set here");
        break;
      case "cpu":
        provenance.set("cpu", span, "host CPU set here");
        break;
      default:
        break;
    }
  }
}

/**
 * An executor that records provenance for every host event its command caused (even when
 * it fails halfway), and where the kernel booted.
 */
export function withHostEvents<C extends Command>(exec: Executor<C>): Executor<C> {
  return async (cmd: C, cx: ExecContext) => {
    const host = cx.lab.host;
    const from = cx.lab.hostEvents.length;
    const booted = host.booted;
    try {
      await exec(cmd, cx);
    } finally {
      recordHostEvents(cx.lab.hostEvents.slice(from), cmd.span, cx.provenance);
      if (!booted && host.booted && cx.provenance.get("boot") === undefined) {
        cx.provenance.set("boot", cmd.span, "the kernel booted here");
      }
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Consequences: why a path is missing

/** What explains a missing path. */
export interface Explanation {
  readonly secondary: Secondary[];
  readonly notes: string[];
  readonly help: string[];
}

/** What {@link explainMissingPath} reads. */
type ExplainContext = Pick<ExecContext, "lab" | "provenance">;

function vhostVdpaExplanation(minor: number | undefined, cx: ExplainContext): Explanation {
  const host = cx.lab.host;
  const p = cx.provenance;
  const out: Explanation = { secondary: [], notes: [], help: [] };
  const want = minor === undefined ? "/dev/vhost-vdpa-N" : `/dev/vhost-vdpa-${minor}`;
  if (!host.isLoaded("vhost_vdpa")) {
    out.secondary.push(...originOf(p, "module-unload:vhost_vdpa"));
    out.notes.push(`\`vhost_vdpa\` is not loaded, and it is what creates ${want}`);
    out.help.push("load it: `modprobe vhost_vdpa`");
    if (host.vdpa.devices.some((d) => d.driver === "virtio_vdpa")) {
      out.help.push(
        "devices already bound to `virtio_vdpa` stay there; unbind them and write their name " +
          "to /sys/bus/vdpa/drivers_probe",
      );
    }
    return out;
  }
  const devices = host.vdpa.devices;
  if (devices.length === 0) {
    for (const key of deletedDevices(cx)) out.secondary.push(...originOf(p, key));
    out.notes.push("no vdpa device exists, so vhost_vdpa has nothing to bind");
    const md = host.vdpa.mgmtdevs[0];
    out.help.push(
      md === undefined
        ? "load a parent (`modprobe vdpa_sim_net`) and add a device: " +
          "`vdpa dev add name vdpa0 mgmtdev vdpasim_net`"
        : `add a device: \`vdpa dev add name vdpa0 mgmtdev ${mgmtdevHandle(md)}\``,
    );
    return out;
  }
  for (const d of devices) {
    if (d.driver === "vhost_vdpa") continue;
    if (d.driverOverride !== undefined && d.driverOverride !== "vhost_vdpa") {
      const m = driverOverrideHelp("vdpa", d.driverOverride, host);
      const why = m.matches
        ? `which only \`${d.driverOverride}\` may bind`
        : "which no driver matches";
      const o = p.get(`override:vdpa:${d.name}`);
      if (o !== undefined) {
        out.secondary.push({
          span: o.span,
          message:
            `\`${d.name}\` has driver_override \`${d.driverOverride}\`, written here, ${why}`,
        });
      } else out.notes.push(`\`${d.name}\` has driver_override \`${d.driverOverride}\`, ${why}`);
      out.help.push(...m.help.map((h) => `driver_override: ${h}`));
      continue;
    }
    if (d.driver === "virtio_vdpa") {
      const o = p.get(`driver:vdpa:${d.name}`) ?? p.get(`vdpa-dev:${d.name}`);
      const message = `\`${d.name}\` is bound to \`virtio_vdpa\` here, so it has no /dev node`;
      if (o !== undefined) out.secondary.push({ span: o.span, message });
      else out.notes.push(`\`${d.name}\` is bound to \`virtio_vdpa\`, so it has no /dev node`);
      out.help.push(
        `rebind it: \`echo ${d.name} > /sys/bus/vdpa/drivers/virtio_vdpa/unbind\`, then ` +
          `\`echo ${d.name} > /sys/bus/vdpa/drivers/vhost_vdpa/bind\``,
      );
      continue;
    }
    const o = p.get(`driver:vdpa:${d.name}`) ?? p.get("autoprobe:vdpa") ??
      p.get(`vdpa-dev:${d.name}`);
    const message = `\`${d.name}\` is bound to no driver`;
    if (o !== undefined) out.secondary.push({ span: o.span, message: `${message} after this` });
    else out.notes.push(message);
    out.help.push(`bind it: \`echo ${d.name} > /sys/bus/vdpa/drivers/vhost_vdpa/bind\``);
  }
  const nodes = devices.filter((d) => d.vhostMinor !== undefined).map((d) =>
    `/dev/vhost-vdpa-${d.vhostMinor} (${d.name})`
  );
  if (nodes.length > 0) {
    out.notes.push(`what exists: ${nodes.join(", ")}; minors are given in probe order from 0`);
  }
  return out;
}

/** Why `/dev/vfio/<group>` is missing: no IOMMU, no vfio-pci, or no member bound to it. */
function vfioExplanation(group: number | undefined, cx: ExplainContext): Explanation {
  const host = cx.lab.host;
  const p = cx.provenance;
  const out: Explanation = { secondary: [], notes: [], help: [] };
  if (!host.iommu().enabled) {
    out.secondary.push(...originOf(p, "cmdline"));
    out.notes.push(
      "the IOMMU is off, so no device has an IOMMU group and VFIO has nothing to open",
    );
    out.help.push(
      'turn it on before anything else in the script: `host cmdline "intel_iommu=on iommu=pt"`',
    );
    return out;
  }
  if (!host.isLoaded("vfio_pci")) {
    out.secondary.push(...originOf(p, "module-unload:vfio_pci"));
    out.notes.push("`vfio-pci` is not loaded, and binding a device to it creates the group node");
    out.help.push("load it: `modprobe vfio-pci`");
    return out;
  }
  const members = group === undefined
    ? host.pci.devices.filter((d) => d.iommuGroup !== undefined)
    : host.pci.groupMembers(group);
  if (group !== undefined && members.length === 0) {
    const groups = host.pci.groups;
    out.notes.push(
      groups.length === 0
        ? "no PCI function has an IOMMU group"
        : `IOMMU group ${group} does not exist; the groups are ${groups.join(", ")}`,
    );
    return out;
  }
  for (const d of members) {
    if (d.driver === "vfio-pci") continue;
    const bound = p.get(`driver:pci:${d.bdf}`);
    const message = d.driver === undefined
      ? `${d.bdf} (group ${d.iommuGroup}) is bound to no driver after this`
      : `${d.bdf} (group ${d.iommuGroup}) is bound to \`${d.driver}\` here`;
    if (bound !== undefined) out.secondary.push({ span: bound.span, message });
    else out.notes.push(message.replace(/ (after this|here)$/, ""));
    if (d.driverOverride !== undefined && d.driverOverride !== "vfio-pci") {
      out.secondary.push(...originOf(p, `override:pci:${d.bdf}`));
    }
  }
  // a VF is what people pass through; its PF keeps the port
  const first = members.find((d) => d.driver !== "vfio-pci" && d.pf !== undefined) ??
    members.find((d) => d.driver !== "vfio-pci");
  if (first !== undefined) {
    out.help.push(
      `hand it to vfio-pci: ${
        first.driver !== undefined
          ? `\`echo ${first.bdf} > /sys/bus/pci/drivers/${first.driver}/unbind\`, `
          : ""
      }\`echo vfio-pci > /sys/bus/pci/devices/${first.bdf}/driver_override\`, ` +
        `\`echo ${first.bdf} > /sys/bus/pci/drivers_probe\``,
    );
  }
  return out;
}

function deletedDevices(cx: ExplainContext): string[] {
  // Provenance has no listing; the deleted devices are those the host events deleted.
  const names = new Set<string>();
  for (const e of cx.lab.hostEvents) {
    if (e.kind === "device-del" && e.bus === "vdpa") names.add(e.device);
    if (e.kind === "device-add" && e.bus === "vdpa") names.delete(e.device);
  }
  return [...names].map((n) => `vdpa-dev-del:${n}`);
}

/**
 * Why `path` does not exist, for a diagnostic's secondary labels, notes and help: for
 * `/dev/vhost-vdpa-N` (or the glob `/dev/vhost-vdpa-*`) the chain of causes on the vDPA bus
 * (module not loaded, no device added, a driver_override that matches no driver, a device
 * bound to virtio_vdpa or to nothing); for `/dev/vfio/N` the IOMMU, vfio-pci and the group's
 * members; for other paths the nearest existing directory and a did-you-mean. Returns empty
 * lists for a path that exists.
 *
 * @example
 * ```ts
 * import { Session } from "./session.ts";
 * import { explainMissingPath } from "./host_errors.ts";
 * const s = new Session({ mode: "check", stdout: () => {} });
 * await s.runText("modprobe vhost_vdpa\n", "a.vdpa");
 * let why: string[] = [];
 * // an executor has an ExecContext; here a minimal one
 * why = explainMissingPath("/dev/vhost-vdpa-0", {
 *   lab: s.lab,
 *   provenance: s.provenance,
 * }).notes;
 * if (!why.some((n) => n.includes("no vdpa device exists"))) throw new Error(why.join("\n"));
 * ```
 */
export function explainMissingPath(path: string, cx: ExplainContext): Explanation {
  const host: HostKernel = cx.lab.host;
  const empty: Explanation = { secondary: [], notes: [], help: [] };
  if (host.exists(path)) return empty;
  const m = /^\/dev\/vhost-vdpa-(\d+|\*)$/.exec(path);
  if (m !== null) {
    const minor = m[1] === "*" ? undefined : Number(m[1]);
    return vhostVdpaExplanation(minor, cx);
  }
  const v = /^\/dev\/vfio\/(\d+|\*)$/.exec(path);
  if (v !== null) return vfioExplanation(v[1] === "*" ? undefined : Number(v[1]), cx);
  return { secondary: [], notes: [], help: pathHelp(path, host) };
}
