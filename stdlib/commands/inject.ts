/**
 * `inject FAULT …`: faults as real hardware and software produce them, each ending the way the
 * real stack ends it, visible in the control log (`show log`), the traces and the counters,
 * with every packet still delivered or dropped with a reason.
 *
 * | fault | target | what happens |
 * |---|---|---|
 * | `link-down`/`link-up` | `vm1.eth0` | QEMU `set_link`: VIRTIO_NET_S_LINK_UP follows, a configuration interrupt; with VIRTIO_NET_F_STATUS the guest turns its carrier off (its sends drop `link_down`), without it QEMU drops what the guest queues (`link_down`); frames for the guest drop `link_down` |
 * | `link-down`/`link-up` | `wire`, `ens1f0` | the cable: the port loses carrier (NO-CARRIER, the bridge stops using it), frames either way drop `link_down` |
 * | `reset` | `vm1.eth0` | the driver resets the device and sets it up again (virtnet_freeze/restore): chains the device never took and frames NAPI never took are lost (`device_not_ready`), the qdisc's packets go out afterwards; the way out of NEEDS_RESET |
 * | `bad-chain` | `vm1.eth0 tx0 VARIANT` | the next chain the driver adds on the queue is malformed; QEMU: `virtio_error` (NEEDS_RESET, config interrupt, the guest stays broken as Linux does); vhost: `vq_err` (the queue stops) |
 * | `disconnect`/`reconnect` | a vhost-user socket | the back-end process goes away (QEMU: link down, rings restored from used) and comes back (the handshake again) |
 * | `iotlb-invalidate`, `unmap` | a device behind an IOMMU | refused with the reason until a device in the lab translates through one |
 *
 * `at=TIME` schedules the fault TIME after the current clock (it fires during the next `run`
 * that gets there); without it the fault happens now. In `check` mode the target is checked
 * and nothing happens.
 *
 * @example An unknown interface is a located error
 * ```ts
 * import { Session } from "../session.ts";
 * const s = new Session({ stdout: () => {} });
 * await s.runText("inject link-down vm9.eth0\n", "lab.vdpa");
 * if (s.diagnostics.items[0]?.code !== "E0520") throw new Error("E0520 expected");
 * ```
 *
 * @module
 */

import { type Diagnostic, error } from "../../lang/diagnostic.ts";
import type { Span } from "../../lang/span.ts";
import { didYouMean } from "../../lang/suggest.ts";
import type { DottedName, Inject } from "../../lang/commands/mod.ts";
import type { Located } from "../../lang/word.ts";
import { VfioVf } from "../../runtime/backends/vfio.ts";
import { VhostVdpaBackend } from "../../runtime/backends/vhost_vdpa.ts";
import { err, ok, type Result } from "../../runtime/result.ts";
import type { Lab } from "../../runtime/lab.ts";
import { describeBadChainError, GuestVirtioNet } from "../../runtime/qemu/guest/virtio_net.ts";
import {
  describeSocketFaultError,
  injectDisconnect,
  injectReconnect,
} from "../../runtime/backends/vhost_user/socket_faults.ts";
import { formatNs } from "../../runtime/trace/format.ts";
import type { ExecContext, Executor, ExecutorTable } from "../exec.ts";
import { ensureCostProfile } from "./run.ts";

/** A resolved injection: applies the fault at `t`, returning what happened (one line). */
type Apply = (t: number) => Result<string, string>;

/** Where a target was written, for diagnostics. */
interface Target {
  readonly text: string;
  readonly span: Span;
}

function targetOf(d: DottedName): Target {
  return { text: d.text, span: d.span };
}

/** E0520: nothing of that name. */
function noTarget(cx: ExecContext, t: Target, what: string, known: readonly string[]): void {
  const help = didYouMean(t.text, known);
  cx.diagnostics.push(error("E0520", `no ${what} \`${t.text}\``, {
    span: t.span,
    label: `not a ${what} of this lab`,
    ...(known.length > 0 ? { notes: [`${what}s: ${known.join(", ")}`] } : {}),
    ...(help ? { help: [help] } : {}),
  }));
}

/** E0521: the fault does not apply to that target. */
function notApplicable(cx: ExecContext, t: Target, message: string, help: string[]): void {
  cx.diagnostics.push(error("E0521", message, {
    span: t.span,
    label: "this fault does not apply here",
    help,
  }));
}

/** The guest's virtio-format interfaces: virtio-net-pci NICs and passed-through VFs. */
function guestNames(lab: Lab): string[] {
  return lab.vms.flatMap((v) => [
    ...v.guestNics.map((n) => n.name),
    ...v.devices.flatMap((d) => d.endpoint instanceof GuestVirtioNet ? [d.endpoint.name] : []),
  ]);
}

/** The guest interface `vm1.eth0` / `vm1.net0` (virtio-net or a VF), or a diagnostic. */
function guestNic(cx: ExecContext, target: DottedName): GuestVirtioNet | undefined {
  const [vmName, ifname] = [target.parts[0]?.value ?? "", target.parts[1]?.value ?? ""];
  const vm = target.parts.length === 2 ? cx.lab.vm(vmName) : undefined;
  const ep = vm?.guestNic(ifname) ?? vm?.endpoint(ifname);
  const g = ep instanceof GuestVirtioNet ? ep : undefined;
  if (g === undefined) noTarget(cx, targetOf(target), "virtio-net interface", guestNames(cx.lab));
  return g;
}

/** Why a guest interface cannot take a link change, if it cannot. */
function linkRefusal(g: GuestVirtioNet): string | undefined {
  const b = g.dev.backend;
  if (b === undefined) return "it has no netdev";
  if (b.deviceRing === undefined) {
    const where = b.type === "vhost-user"
      ? "its rings are served by the back-end's process"
      : "its rings are the device's";
    return `set_link on a \`${b.type}\` netdev is not modelled (${where})`;
  }
  return undefined;
}

function linkFault(
  cx: ExecContext,
  iface: DottedName,
  up: boolean,
): Apply | undefined {
  const lab = cx.lab;
  const t = targetOf(iface);
  const name = iface.text;
  const phys = lab.host.net.list().filter((d) => d.kind === "phys").map((d) => d.name);
  const port = name === "wire" ? phys[0] : name.startsWith("wire:") ? name.slice(5) : name;
  const dev = port === undefined ? undefined : lab.host.net.get(port);
  if (dev !== undefined && dev.kind === "phys") {
    const p = dev.name;
    return () => {
      lab.net.setWireLink(p, up);
      return ok(
        `${p}: cable ${
          up ? "up, carrier on" : "down, no carrier (frames either way drop link_down)"
        }`,
      );
    };
  }
  if (dev !== undefined) {
    notApplicable(
      cx,
      t,
      `\`${name}\` is a ${dev.kind} device: its carrier is not a link the lab can cut`,
      [
        "a physical port (`host nic`) or `wire` loses its cable; a guest interface (`vm1.eth0`) its link",
        `to take \`${name}\` down administratively, use \`ip link set dev ${name} down\``,
      ],
    );
    return undefined;
  }
  if (iface.parts.length === 2 && lab.vm(iface.parts[0]?.value ?? "") !== undefined) {
    const g = guestNic(cx, iface);
    if (g === undefined) return undefined;
    const why = linkRefusal(g);
    if (why !== undefined) {
      notApplicable(cx, t, `cannot change the link of \`${name}\`: ${why}`, [
        "a vhost-user back-end can be taken away with `inject disconnect SOCKET`",
        "a hardware device loses its link with its port's cable: `inject link-down wire`",
      ]);
      return undefined;
    }
    return (at) => {
      const changed = g.dev.setLink(up, at);
      if (!changed) return ok(`${g.name}: link already ${up ? "up" : "down"}`);
      const seen = g.features & (1n << 16n)
        ? `the guest turns its carrier ${up ? "on" : "off"} (VIRTIO_NET_F_STATUS)`
        : `the guest cannot see it (no VIRTIO_NET_F_STATUS)${
          up ? "" : ": QEMU drops what it sends"
        }`;
      return ok(`${g.name}: set_link ${up ? "on" : "off"}, configuration interrupt; ${seen}`);
    };
  }
  const known = [...(phys.length > 0 ? ["wire"] : []), ...phys, ...guestNames(lab)];
  noTarget(cx, t, "interface", known);
  return undefined;
}

function resetFault(cx: ExecContext, target: DottedName): Apply | undefined {
  if (cx.lab.host.net.get(target.text) !== undefined || target.text.startsWith("wire")) {
    notApplicable(cx, targetOf(target), `\`${target.text}\` is not a virtio device`, [
      "reset a guest interface (`vm1.eth0`): its driver resets the device and sets it up again",
    ]);
    return undefined;
  }
  const g = guestNic(cx, target);
  if (g === undefined) return undefined;
  return (t) => {
    const before = droppedTotal(cx.lab);
    const r = g.reset(t);
    const lost = droppedTotal(cx.lab) - before;
    if (!r.ok) return err(`${g.name}: the device did not come back: ${r.error}`);
    return ok(
      `${g.name}: device reset and set up again (virtnet_freeze/restore); ` +
        `${lost} packet${lost === 1 ? "" : "s"} lost in the rings`,
    );
  };
}

function droppedTotal(lab: Lab): number {
  return lab.traffics.reduce((n, f) => n + f.metrics.dropped, 0);
}

function badChainFault(
  cx: ExecContext,
  fault: Extract<Inject["fault"], { kind: "bad-chain" }>,
): Apply | undefined {
  const g = guestNic(cx, fault.target);
  if (g === undefined) return undefined;
  const queue = fault.queue.value;
  const variant = fault.variant.value;
  // Check the queue now, so a wrong one is an error at the statement.
  if (!/^(rx|tx)\d+$/.test(queue) || g.queue(queue) === undefined) {
    const names = ["rx", "tx"].flatMap((d) =>
      Array.from({ length: g.pairs }, (_, k) => `${d}${k}`)
    );
    noTarget(cx, { text: queue, span: fault.queue.span }, `queue of ${g.name}`, names);
    return undefined;
  }
  if (queue.startsWith("rx") && (variant === "write-only-tx" || variant === "oversize")) {
    notApplicable(
      cx,
      { text: variant, span: fault.variant.span },
      `\`${variant}\` breaks a transmit chain; \`${queue}\` is a receive queue`,
      [`write \`inject bad-chain ${g.name} tx${queue.slice(2)} ${variant}\``],
    );
    return undefined;
  }
  return () => {
    const r = g.armBadChain(queue, variant);
    if (!r.ok) return err(`${g.name}: ${describeBadChainError(r.error)}`);
    return ok(`${g.name} ${queue}: the next chain the driver adds is malformed (${variant})`);
  };
}

function socketFault(cx: ExecContext, path: string, up: boolean): Apply {
  return () => {
    if (up) {
      const r = injectReconnect(cx.lab, path);
      return r.ok
        ? ok(`${path}: the back-end listens again`)
        : err(describeSocketFaultError(r.error));
    }
    const r = injectDisconnect(cx.lab, path);
    if (!r.ok) return err(describeSocketFaultError(r.error));
    const n = r.value.closed;
    return ok(`${path}: the back-end is gone (${n} connection${n === 1 ? "" : "s"} closed)`);
  };
}

/** The `iova=`/`size=` of an IOMMU fault: both or neither. */
function rangeOf(cmd: Inject, cx: ExecContext): { iova?: number; size?: number } | undefined {
  const iova = cmd.iova?.value.value;
  const size = cmd.size?.value.value;
  if ((iova === undefined) !== (size === undefined)) {
    const given = (cmd.iova ?? cmd.size) as NonNullable<Inject["iova"]>;
    cx.diagnostics.push(error("E0521", "give `iova=` and `size=` together", {
      span: given.span,
      label: "half a range",
      help: ["without both, the whole of guest memory is the range"],
    }));
    return undefined;
  }
  return iova === undefined || size === undefined ? {} : { iova, size };
}

/**
 * `iotlb-invalidate EP`: VHOST_IOTLB_INVALIDATE on the device file of a vhost-vdpa netdev
 * (the device's next access there faults: a vDPA device has no miss path).
 */
function iotlbFault(cmd: Inject, cx: ExecContext, target: DottedName): Apply | undefined {
  const g = guestNic(cx, target);
  if (g === undefined) return undefined;
  const range = rangeOf(cmd, cx);
  if (range === undefined) return undefined;
  const b = g.dev.backend;
  if (!(b instanceof VhostVdpaBackend)) {
    notApplicable(
      cx,
      targetOf(target),
      `\`${target.text}\` has no IOTLB: its ${
        b?.label ?? "missing"
      } backend reaches guest memory ` +
        "through QEMU's memory table",
      [
        "a vhost-vdpa netdev's device translates through the vhost IOTLB QEMU programs",
        "vhost-net's device IOTLB (a vIOMMU with device-iotlb=on) is not modelled yet",
      ],
    );
    return undefined;
  }
  return () => {
    const r = b.invalidateIotlb(range.iova, range.size);
    if (!r.ok) return err(`${g.name}: ${r.error}`);
    return ok(
      `${g.name}: VHOST_IOTLB_INVALIDATE of ${r.value} bytes on ${b.dev.device.name} ` +
        "(its next DMA there faults)",
    );
  };
}

/**
 * `unmap VM`: the VM's RAM leaves the host IOMMU domains its VFIO devices DMA through (the
 * mapping is gone under VFIO's feet): the next DMA is a DMAR fault, logged, and the packet is
 * dropped `iommu_fault`.
 */
function unmapFault(cmd: Inject, cx: ExecContext, vmName: Located<string>): Apply | undefined {
  const lab = cx.lab;
  const vm = lab.vm(vmName.value);
  const target = { text: vmName.value, span: vmName.span };
  if (vm === undefined) {
    noTarget(cx, target, "VM", lab.vms.map((v) => v.name));
    return undefined;
  }
  const range = rangeOf(cmd, cx);
  if (range === undefined) return undefined;
  const vfs = vm.devices.filter((d): d is VfioVf => d instanceof VfioVf);
  if (vfs.length === 0) {
    notApplicable(
      cx,
      target,
      `no device DMAs into \`${vm.name}\`'s memory through the host IOMMU`,
      [
        "a VFIO device (`-device vfio-pci,host=…`) has the VM's RAM mapped in its container's domain",
        "a vhost-vdpa device's own translation is `inject iotlb-invalidate EP`",
      ],
    );
    return undefined;
  }
  return () => {
    let bytes = 0;
    const domains: number[] = [];
    for (const vf of vfs) {
      const dom = vf.container.domain;
      if (dom === undefined) continue;
      for (const d of vf.container.dmas) {
        const from = Math.max(d.iova, range.iova ?? d.iova);
        const to = Math.min(d.iova + d.size, (range.iova ?? d.iova) + (range.size ?? d.size));
        if (to <= from) continue;
        const r = lab.iommu.unmap(dom, from, to - from);
        if (r.ok) bytes += r.value;
      }
      domains.push(dom);
    }
    if (bytes === 0) return err(`nothing of ${vm.name}'s memory is mapped there any more`);
    return ok(
      `${vm.name}: ${bytes} bytes unmapped from IOMMU domain${domains.length === 1 ? "" : "s"} ` +
        `${domains.join(", ")} (the next DMA there is a DMAR fault)`,
    );
  };
}

function resolve(cmd: Inject, cx: ExecContext): Apply | undefined {
  const f = cmd.fault;
  switch (f.kind) {
    case "link-down":
    case "link-up":
      return linkFault(cx, f.iface, f.kind === "link-up");
    case "reset":
      return resetFault(cx, f.target);
    case "bad-chain":
      return badChainFault(cx, f);
    case "disconnect":
    case "reconnect":
      return socketFault(cx, f.socket.value, f.kind === "reconnect");
    case "iotlb-invalidate":
      return iotlbFault(cmd, cx, f.target);
    case "unmap":
      return unmapFault(cmd, cx, f.vm);
  }
}

/** The fault and its operands as typed (`link-down vm1.eth0`). */
function describeInject(cmd: Inject): string {
  const f = cmd.fault;
  switch (f.kind) {
    case "link-down":
    case "link-up":
      return `${f.kind} ${f.iface.text}`;
    case "reset":
    case "iotlb-invalidate":
      return `${f.kind} ${f.target.text}`;
    case "bad-chain":
      return `bad-chain ${f.target.text} ${f.queue.value} ${f.variant.value}`;
    case "disconnect":
    case "reconnect":
      return `${f.kind} ${f.socket.value}`;
    case "unmap":
      return `unmap ${f.vm.value}`;
  }
}

/** Records what an injection did in the control log (`show log`, exported traces). */
function logged(lab: Lab, what: string, r: Result<string, string>): void {
  lab.control({
    comp: "inject",
    action: "note",
    details: r.ok
      ? { name: what, value: r.value }
      : { name: what, detail: `no effect: ${r.error}` },
  });
}

const inject: Executor<Inject> = (cmd, cx) => {
  const apply = resolve(cmd, cx);
  if (apply === undefined || cx.mode === "check") return;
  const lab = cx.lab;
  ensureCostProfile(lab);
  const what = describeInject(cmd);
  if (cmd.at !== undefined) {
    const when = lab.now + cmd.at.value.value;
    lab.sched.at(when, (now) => logged(lab, what, apply(now)));
    cx.print(`inject ${what}: at ${formatNs(when)} ns\n`);
    return;
  }
  const r = apply(lab.now);
  logged(lab, what, r);
  if (!r.ok) {
    const d: Diagnostic = error("E0522", `\`inject ${what}\` did nothing: ${r.error}`, {
      span: cmd.word.span,
      label: "refused",
    });
    cx.diagnostics.push(d);
    return;
  }
  cx.print(`inject ${what}: ${r.value}\n`);
};

/** The executors of this file. */
export const INJECT_EXECUTORS: ExecutorTable = { inject };
