/**
 * `devlink dev …` and `devlink port …` on the host kernel's mlx5 functions
 * (runtime/host/devlink.ts): the e-switch mode and subfunction ports, printed the way
 * iproute2's devlink prints them, refused with the driver's extack text.
 *
 * @example
 * ```ts
 * import { Session } from "../session.ts";
 * const out: string[] = [];
 * const s = new Session({ stdout: (t) => out.push(t) });
 * await s.runText(
 *   "host nic ens1f0 model=mlx5 pci=0000:3b:00.0\n" +
 *     "devlink dev eswitch set pci/0000:3b:00.0 mode switchdev\n" +
 *     "devlink port add pci/0000:3b:00.0 flavour pcisf pfnum 0 sfnum 88\n",
 *   "sf.vdpa",
 * );
 * if (!out.join("").includes("pci/0000:3b:00.0/32768: type eth")) throw new Error(out.join(""));
 * ```
 *
 * @module
 */

import type {
  DevlinkDevShowCommand,
  DevlinkEswitchSetCommand,
  DevlinkEswitchShowCommand,
  DevlinkPortAddCommand,
  DevlinkPortDelCommand,
  DevlinkPortFunctionSetCommand,
  DevlinkPortHandle,
  DevlinkPortShowCommand,
} from "../../lang/commands/mod.ts";
import type { Span } from "../../lang/span.ts";
import {
  Devlink,
  type SfPort,
  UPLINK_PORT_INDEX,
  type VfPort,
} from "../../runtime/host/devlink.ts";
import type { HostError } from "../../runtime/host/host_error.ts";
import { formatMac, parseMac } from "../../runtime/host/mac.ts";
import type { ExecContext, Executor, ExecutorTable } from "../exec.ts";
import { type HostCode, hostDiagnostic } from "../host_errors.ts";

/** `pci/0000:3b:00.0` → `0000:3b:00.0`; undefined for another bus. */
function pciOf(handle: string): string | undefined {
  return handle.startsWith("pci/") ? handle.slice(4) : undefined;
}

function fail(cx: ExecContext, e: HostError, span: Span, label: string): void {
  const code: HostCode = e.kind === "devlink" && e.errno === "ENODEV" ? "E0324" : "E0323";
  const message = code === "E0324"
    ? "no such devlink instance or port"
    : "the driver refuses the devlink request";
  cx.diagnostics.push(hostDiagnostic(code, message, { error: e, span, label }));
}

function noDevice(cx: ExecContext, span: Span, what: string): void {
  const pcis = cx.lab.host.devlink.instances();
  cx.diagnostics.push(hostDiagnostic("E0324", `no devlink instance \`${what}\``, {
    error: { kind: "devlink", errno: "ENODEV" },
    span,
    label: "no such device",
    notes: [
      pcis.length > 0
        ? `devlink instances: ${pcis.join(", ")}`
        : "no devlink instance: declare an mlx5 NIC with `host nic … model=mlx5`",
    ],
  }));
}

function uplinkLine(bdf: string, netdev: string): string {
  return `pci/${bdf}/${UPLINK_PORT_INDEX}: type eth netdev ${netdev} flavour physical port 0 splittable false\n`;
}

function vfLines(p: VfPort): string {
  return `pci/${p.pf}/${p.index}: type eth netdev ${p.rep} flavour pcivf controller 0 ` +
    `pfnum ${p.pfnum} vfnum ${p.vfnum} external false splittable false\n` +
    `  function:\n    hw_addr ${formatMac(p.hwAddr)}\n`;
}

function sfLines(p: SfPort): string {
  const opstate = p.state === "active" ? "attached" : "detached";
  return `pci/${p.pf}/${p.index}: type eth netdev ${p.rep} flavour pcisf controller 0 ` +
    `pfnum ${p.pfnum} sfnum ${p.sfnum} external false splittable false\n` +
    `  function:\n    hw_addr ${formatMac(p.hwAddr)} state ${p.state} opstate ${opstate}\n`;
}

/** The SF port a handle names, or the uplink, or nothing. */
function findPort(
  cx: ExecContext,
  h: DevlinkPortHandle,
): { pf: string; index: number; sf?: SfPort; vf?: VfPort } | undefined {
  const dl = cx.lab.host.devlink;
  const vfs = dl.pciInstances().flatMap((d) => dl.vfPorts(d.bdf));
  if (h.kind === "netdev") {
    const sf = dl.ports().find((p) => p.rep === h.netdev.value);
    if (sf !== undefined) return { pf: sf.pf, index: sf.index, sf };
    const vf = vfs.find((p) => p.rep === h.netdev.value);
    if (vf !== undefined) return { pf: vf.pf, index: vf.index, vf };
    const pf = dl.pciInstances().find((d) => d.netdev === h.netdev.value && d.pf === undefined);
    return pf === undefined ? undefined : { pf: pf.bdf, index: UPLINK_PORT_INDEX };
  }
  const bdf = pciOf(h.dev.value);
  if (bdf === undefined) return undefined;
  const sf = dl.port(bdf, h.index.value);
  if (sf !== undefined) return { pf: bdf, index: sf.index, sf };
  const vf = vfs.find((p) => p.pf === bdf && p.index === h.index.value);
  if (vf !== undefined) return { pf: bdf, index: vf.index, vf };
  const pf = dl.pciInstances().find((d) => d.bdf === bdf && d.pf === undefined);
  return pf !== undefined && h.index.value === UPLINK_PORT_INDEX
    ? { pf: bdf, index: UPLINK_PORT_INDEX }
    : undefined;
}

function handleSpan(h: DevlinkPortHandle): Span {
  return h.kind === "netdev" ? h.netdev.span : { ...h.dev.span, end: h.index.span.end };
}

const devShow: Executor<DevlinkDevShowCommand> = (cmd, cx) => {
  const all = cx.lab.host.devlink.instances();
  if (cmd.dev !== undefined) {
    if (!all.includes(cmd.dev.value)) return noDevice(cx, cmd.dev.span, cmd.dev.value);
    cx.print(`${cmd.dev.value}\n`);
    return;
  }
  cx.print(all.map((h) => `${h}\n`).join(""));
};

const eswitchShow: Executor<DevlinkEswitchShowCommand> = (cmd, cx) => {
  const bdf = pciOf(cmd.dev.value);
  const r = bdf === undefined ? undefined : cx.lab.host.devlink.mode(bdf);
  if (r === undefined) return noDevice(cx, cmd.dev.span, cmd.dev.value);
  if (!r.ok) return fail(cx, r.error, cmd.dev.span, "no e-switch here");
  cx.print(`${cmd.dev.value}: mode ${r.value} inline-mode none encap-mode basic\n`);
};

const eswitchSet: Executor<DevlinkEswitchSetCommand> = (cmd, cx) => {
  const bdf = pciOf(cmd.dev.value);
  const r = bdf === undefined ? undefined : cx.lab.host.devlink.setMode(bdf, cmd.mode.value);
  if (r === undefined) return noDevice(cx, cmd.dev.span, cmd.dev.value);
  if (!r.ok) return fail(cx, r.error, cmd.mode.span, `cannot switch to ${cmd.mode.value}`);
};

const portShow: Executor<DevlinkPortShowCommand> = (cmd, cx) => {
  const dl = cx.lab.host.devlink;
  if (cmd.port !== undefined) {
    const p = findPort(cx, cmd.port);
    if (p === undefined) {
      return fail(cx, { kind: "devlink", errno: "ENODEV" }, handleSpan(cmd.port), "no such port");
    }
    const pf = cx.lab.host.pci.device(p.pf);
    cx.print(
      p.sf !== undefined
        ? sfLines(p.sf)
        : p.vf !== undefined
        ? vfLines(p.vf)
        : uplinkLine(p.pf, pf?.netdev ?? "eth0"),
    );
    return;
  }
  let out = "";
  for (const d of dl.pciInstances()) {
    if (d.pf !== undefined) continue;
    // net/devlink/port.c dumps each instance's ports xarray in index order: VF vports
    // (1…), SF vports (0x8000…), the uplink (0xffff)
    for (const p of dl.vfPorts(d.bdf)) out += vfLines(p);
    for (const p of dl.ports(d.bdf)) out += sfLines(p);
    if (d.netdev !== undefined) out += uplinkLine(d.bdf, d.netdev);
  }
  cx.print(out);
};

const portAdd: Executor<DevlinkPortAddCommand> = (cmd, cx) => {
  const bdf = pciOf(cmd.dev.value);
  if (bdf === undefined || !cx.lab.host.devlink.instances().includes(cmd.dev.value)) {
    return noDevice(cx, cmd.dev.span, cmd.dev.value);
  }
  const r = cx.lab.host.devlink.portAdd(bdf, {
    flavour: cmd.flavour.value,
    pfnum: cmd.pfnum?.value,
    sfnum: cmd.sfnum?.value,
    controller: cmd.controller?.value,
  });
  if (!r.ok) {
    const at = r.error.kind === "devlink" && r.error.extack?.includes("pfnum")
      ? cmd.pfnum?.span ?? cmd.dev.span
      : r.error.kind === "devlink" && r.error.extack?.includes("sfnum")
      ? cmd.sfnum?.span ?? cmd.dev.span
      : r.error.kind === "devlink" && r.error.extack?.includes("flavour")
      ? cmd.flavour.span
      : cmd.dev.span;
    return fail(cx, r.error, at, "the port cannot be added");
  }
  cx.provenance.set(`devlink-port:${bdf}/${r.value.index}`, cmd.span, "the port was added here");
  cx.print(sfLines(r.value));
};

const portDel: Executor<DevlinkPortDelCommand> = (cmd, cx) => {
  const p = findPort(cx, cmd.port);
  if (p === undefined || p.sf === undefined) {
    return fail(cx, { kind: "devlink", errno: "ENODEV" }, handleSpan(cmd.port), "no such SF port");
  }
  const r = cx.lab.host.devlink.portDel(p.pf, p.index);
  if (!r.ok) return fail(cx, r.error, handleSpan(cmd.port), "the port cannot be deleted");
};

const functionSet: Executor<DevlinkPortFunctionSetCommand> = (cmd, cx) => {
  const p = findPort(cx, cmd.port);
  if (p?.vf !== undefined) {
    cx.diagnostics.push(
      hostDiagnostic("E0322", "the lab does not model a VF's port function", {
        span: handleSpan(cmd.port),
        label: "a `pcivf` port",
        help: ["the lab's port functions are those of subfunctions (`flavour pcisf`)"],
      }),
    );
    return;
  }
  if (p === undefined || p.sf === undefined) {
    return fail(cx, { kind: "devlink", errno: "ENODEV" }, handleSpan(cmd.port), "no such SF port");
  }
  const mac = cmd.hwAddr === undefined ? undefined : parseMac(cmd.hwAddr.value);
  const r = cx.lab.host.devlink.functionSet(p.pf, p.index, {
    ...(mac !== undefined ? { hwAddr: mac } : {}),
    ...(cmd.state !== undefined ? { state: cmd.state.value } : {}),
  });
  if (!r.ok) return fail(cx, r.error, cmd.state?.span ?? handleSpan(cmd.port), "refused");
  const aux = Devlink.auxName(r.value);
  if (aux !== undefined) {
    cx.provenance.set(`mgmtdev:auxiliary/${aux}`, cmd.span, `\`${aux}\` was activated here`);
  }
};

/** The executors of this file. */
export const DEVLINK_EXECUTORS: ExecutorTable = {
  "devlink-dev-show": devShow,
  "devlink-eswitch-show": eswitchShow,
  "devlink-eswitch-set": eswitchSet,
  "devlink-port-show": portShow,
  "devlink-port-add": portAdd,
  "devlink-port-del": portDel,
  "devlink-port-function-set": functionSet,
};
