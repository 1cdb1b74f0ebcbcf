/**
 * iproute2's `ip` against the host's netdevs: `ip tuntap add|del|show`, `ip link
 * add|set|del|show` (bridges, taps, ports, up/down, mtu, master/nomaster) in text, `-br` and
 * `-j`/`-jp`. Attribute changes apply in the kernel's order (`do_setlink`: mtu, then flags,
 * then master), each failure located at its attribute. Attributes the lab does not model
 * (address, alias, txqueuelen, promisc, vf …) are accepted with W0302, never dropped
 * silently; IP addresses are not modelled (E0322).
 *
 * @example
 * ```ts
 * import { Session } from "../session.ts";
 * const out: string[] = [];
 * const s = new Session({ stdout: (t) => out.push(t) });
 * await s.runText("ip tuntap add dev tap0 mode tap\nip link add br0 type bridge\nip link set tap0 master br0\nip -br link show type bridge\n", "a.vdpa");
 * if (!out.join("").startsWith("br0              DOWN")) throw new Error(out.join(""));
 * ```
 *
 * @module
 */

import type {
  IpAddrChange,
  IpAddrShow,
  IpLinkAdd,
  IpLinkAttr,
  IpLinkDel,
  IpLinkSet,
  IpLinkShow,
  IpTuntapCommand,
  IpTuntapShow,
} from "../../lang/commands/ast.ts";
import type { Span } from "../../lang/span.ts";
import type { Located } from "../../lang/word.ts";
import type { HostError } from "../../runtime/host/host_error.ts";
import type { LinkInfo } from "../../runtime/host/kernel.ts";
import type { Result } from "../../runtime/result.ts";
import type { ExecContext, ExecutorTable } from "../exec.ts";
import { formatTuntapShow, ipLinkShow } from "../format/ip.ts";
import {
  hostDiagnostic,
  type HostDiagnosticOptions,
  originOf,
  withHostEvents,
} from "../host_errors.ts";
import { netdevHelp } from "../names.ts";

function push(
  cx: ExecContext,
  code: Parameters<typeof hostDiagnostic>[0],
  message: string,
  o: HostDiagnosticOptions,
): void {
  cx.diagnostics.push(hostDiagnostic(code, message, o));
}

function reportNoDevice(name: Located<string>, e: HostError, cx: ExecContext): void {
  push(cx, "E0205", `no network device named \`${name.value}\``, {
    error: e,
    span: name.span,
    label: "no such device",
    secondary: originOf(cx.provenance, `netdev-remove:${name.value}`),
    help: netdevHelp(name.value, cx.lab.host),
  });
}

/** Attributes the lab applies; the others are accepted and reported as not modelled. */
const MODELLED: ReadonlySet<IpLinkAttr["key"]> = new Set([
  "up",
  "down",
  "mtu",
  "master",
  "nomaster",
]);

function warnIgnored(attrs: readonly IpLinkAttr[], cx: ExecContext): void {
  for (const a of attrs) {
    if (MODELLED.has(a.key)) continue;
    push(cx, "W0302", `\`${a.key}\` is accepted but not modelled`, {
      span: a.span,
      label: "no effect in the lab",
      notes: ["the lab models link state, MTU and bridge ports; this attribute changes nothing"],
    });
  }
}

/** Applies `attrs` to `dev` in do_setlink's order; reports each failure at its attribute. */
function applyAttrs(dev: Located<string>, attrs: readonly IpLinkAttr[], cx: ExecContext): void {
  const host = cx.lab.host;
  // iproute2 resolves `master DEV` before sending anything (invarg "Device does not exist")
  for (const a of attrs) {
    if (a.key === "master" && host.net.get(a.value.value) === undefined) {
      push(cx, "E0205", `no network device named \`${a.value.value}\``, {
        error: {
          kind: "ip-bad-argument",
          argument: a.value.value,
          message: "Device does not exist",
        },
        span: a.value.span,
        label: "no such bridge",
        secondary: originOf(cx.provenance, `netdev-remove:${a.value.value}`),
        help: [
          ...netdevHelp(a.value.value, host),
          `create it: \`ip link add ${a.value.value} type bridge\``,
        ],
      });
      return;
    }
  }
  const order = (a: IpLinkAttr): number =>
    a.key === "mtu" ? 0 : a.key === "up" || a.key === "down" ? 1 : 2;
  const sorted = [...attrs].filter((a) => MODELLED.has(a.key)).sort((x, y) => order(x) - order(y));
  for (const a of sorted) {
    let r: Result<void, HostError>;
    if (a.key === "up" || a.key === "down") r = host.linkSetUp(dev.value, a.key === "up");
    else if (a.key === "mtu") r = host.linkSetMtu(dev.value, a.value.value);
    else if (a.key === "nomaster") r = host.linkSetMaster(dev.value, null);
    else if (a.key === "master") r = host.linkSetMaster(dev.value, a.value.value);
    else continue;
    if (r.ok) continue;
    reportAttr(dev, a, r.error, cx);
    return;
  }
}

function reportAttr(dev: Located<string>, a: IpLinkAttr, e: HostError, cx: ExecContext): void {
  const host = cx.lab.host;
  if (e.kind === "ip-no-device") return reportNoDevice(dev, e, cx);
  const at: Span = "value" in a ? a.value.span : a.span;
  if (a.key === "mtu" && e.kind === "rtnetlink") {
    const below = (e.extack ?? "").includes("less than");
    push(
      cx,
      "E0316",
      `an MTU of ${a.value.value} is ${below ? "below" : "above"} what \`${dev.value}\` allows`,
      {
        error: e,
        span: at,
        label: below ? "too small" : "too large",
        help: [
          below
            ? "use at least 68 (the IPv4 minimum)"
            : "use a smaller MTU; the device's maximum comes from its driver",
        ],
      },
    );
    return;
  }
  if (a.key === "master") {
    const br = host.net.get(a.value.value);
    push(cx, "E0316", `\`${dev.value}\` cannot join \`${a.value.value}\``, {
      error: e,
      span: at,
      label: br !== undefined && br.kind !== "bridge"
        ? `\`${a.value.value}\` is not a bridge`
        : "refused",
      secondary: originOf(cx.provenance, `netdev:${a.value.value}`),
      help: br !== undefined && br.kind !== "bridge"
        ? [`attach ports to a bridge: \`ip link add br0 type bridge\``]
        : [],
    });
    return;
  }
  push(cx, "E0316", `\`ip link set ${dev.value} ${a.key}\` failed`, {
    error: e,
    span: at,
    label: "refused by the kernel",
  });
}

function execLinkSet(cmd: IpLinkSet, cx: ExecContext): void {
  if (cx.lab.host.net.get(cmd.dev.value) === undefined) {
    reportNoDevice(cmd.dev, { kind: "ip-no-device", name: cmd.dev.value }, cx);
    return;
  }
  warnIgnored(cmd.attrs, cx);
  applyAttrs(cmd.dev, cmd.attrs, cx);
}

function execLinkAdd(cmd: IpLinkAdd, cx: ExecContext): void {
  const host = cx.lab.host;
  if (cmd.type.value !== "bridge") {
    push(cx, "E0322", `link type \`${cmd.type.value}\` is not modelled by the lab`, {
      span: cmd.type.span,
      label: "the lab creates bridges (and taps with `ip tuntap`)",
      help: ["use `ip link add NAME type bridge`, or `ip tuntap add NAME mode tap`"],
    });
    return;
  }
  for (const a of cmd.typeArgs) {
    push(cx, "W0302", `bridge option \`${a.key.value}\` is accepted but not modelled`, {
      span: a.span,
      label: "no effect in the lab",
      notes: ["the lab's bridge forwards by learned MAC address, without STP or VLANs"],
    });
  }
  const r = host.linkAdd(cmd.name.value, cmd.type.value);
  if (!r.ok) {
    const e = r.error;
    if (e.kind === "rtnetlink" && e.errno === "EEXIST") {
      push(cx, "E0307", `a network device named \`${cmd.name.value}\` exists`, {
        error: e,
        span: cmd.name.span,
        label: "name taken",
        secondary: originOf(cx.provenance, `netdev:${cmd.name.value}`),
        help: ["pick another name, or delete it first: `ip link del " + cmd.name.value + "`"],
      });
      return;
    }
    push(cx, "E0316", `\`${cmd.name.value}\` could not be created`, {
      error: e,
      span: cmd.type.span,
      label: "refused by the kernel",
    });
    return;
  }
  warnIgnored(cmd.attrs, cx);
  applyAttrs(cmd.name, cmd.attrs, cx);
}

function execLinkDel(cmd: IpLinkDel, cx: ExecContext): void {
  const host = cx.lab.host;
  const r = host.linkDel(cmd.dev.value);
  if (r.ok) return;
  const e = r.error;
  if (e.kind === "ip-no-device") return reportNoDevice(cmd.dev, e, cx);
  push(cx, "E0316", `\`${cmd.dev.value}\` cannot be deleted`, {
    error: e,
    span: cmd.dev.span,
    label: "a hardware device",
    help: ["only software links (bridges, taps) can be deleted; remove VFs with sriov_numvfs"],
  });
}

function execLinkShow(cmd: IpLinkShow, cx: ExecContext): void {
  const host = cx.lab.host;
  const r = host.links(cmd.dev?.value);
  if (!r.ok) {
    if (cmd.dev !== undefined) reportNoDevice(cmd.dev, r.error, cx);
    return;
  }
  if (cmd.master !== undefined && host.net.get(cmd.master.value) === undefined) {
    push(cx, "E0205", `no network device named \`${cmd.master.value}\``, {
      error: {
        kind: "ip-bad-argument",
        argument: cmd.master.value,
        message: "Device does not exist",
      },
      span: cmd.master.span,
      label: "no such device",
      help: netdevHelp(cmd.master.value, host),
    });
    return;
  }
  const links = r.value.filter((l: LinkInfo) =>
    (cmd.type === undefined || linkKind(l) === cmd.type.value) &&
    (cmd.master === undefined || l.master === cmd.master.value) &&
    (!cmd.up || l.up)
  );
  cx.print(ipLinkShow(links, cmd.options));
}

/** The rtnl link kind `type T` filters on. */
function linkKind(l: LinkInfo): string {
  return l.kind === "tap" || l.kind === "tun" ? "tun" : l.kind;
}

function execTuntap(cmd: IpTuntapCommand, cx: ExecContext): void {
  const host = cx.lab.host;
  const at = cmd.name?.span ?? cmd.span;
  if (cmd.mode === undefined) {
    push(cx, "E0317", "`ip tuntap` needs `mode tap` or `mode tun`", {
      span: at,
      label: "no mode given",
      notes: ["You failed to specify a tunnel mode"],
      help: ["add `mode tap`"],
    });
    return;
  }
  for (const [on, word] of [[cmd.pi, "pi"], [cmd.oneQueue, "one_queue"]] as const) {
    if (!on) continue;
    push(cx, "W0302", `\`${word}\` is accepted but not modelled`, {
      span: cmd.span,
      label: "no effect in the lab",
      notes: ["the lab's taps carry no packet-information header and have one queue per fd"],
    });
  }
  for (const w of [cmd.user, cmd.group]) {
    if (w === undefined) continue;
    push(cx, "W0302", `the tap's owner \`${w.value}\` is accepted but not modelled`, {
      span: w.span,
      label: "no effect in the lab",
      notes: ["the lab runs everything as root"],
    });
  }
  if (cmd.kind === "ip-tuntap-del") {
    const name = cmd.name?.value ?? "";
    const r = host.tuntapDel(name, { mode: cmd.mode.value });
    if (r.ok) return;
    const e = r.error;
    if (e.kind === "tuntap-ioctl" && e.errno === "EINVAL") {
      const d = host.net.get(name);
      push(cx, "E0317", `\`${name}\` is not a ${cmd.mode.value} device`, {
        error: e,
        span: cmd.mode.span,
        label: d !== undefined ? `\`${name}\` is a ${d.kind}` : "wrong mode",
        secondary: originOf(cx.provenance, `netdev:${name}`),
        help: d !== undefined && (d.kind === "tap" || d.kind === "tun")
          ? [`write \`mode ${d.kind}\``]
          : ["delete other links with `ip link del`"],
      });
      return;
    }
    push(cx, "E0317", `\`${name}\` cannot be deleted`, {
      error: e,
      span: at,
      label: "in use",
      help: ["stop the VM or application that has its queue open first"],
    });
    return;
  }
  const name = cmd.name?.value ?? host.net.allocName(cmd.mode.value);
  const r = host.tuntapAdd(name, {
    mode: cmd.mode.value,
    multiQueue: cmd.multiQueue,
    vnetHdr: cmd.vnetHdr,
  });
  if (r.ok) return;
  const e = r.error;
  if (e.kind === "tuntap-ioctl" && e.errno === "EBUSY") {
    push(cx, "E0307", `a network device named \`${name}\` exists`, {
      error: e,
      span: at,
      label: "name taken",
      secondary: originOf(cx.provenance, `netdev:${name}`),
      notes: ["ip tuntap sets IFF_TUN_EXCL, so an existing device of that name is refused"],
      help: ["pick another name, or delete it first: `ip link del " + name + "`"],
    });
    return;
  }
  push(cx, "E0317", `\`${name}\` could not be created`, { error: e, span: at, label: "refused" });
}

function execTuntapShow(cmd: IpTuntapShow, cx: ExecContext): void {
  const devs = cx.lab.host.net.list().flatMap((d) =>
    d.kind === "tap" || d.kind === "tun"
      ? [{ name: d.name, kind: d.kind, multiQueue: d.multiQueue, vnetHdr: d.vnetHdr }]
      : []
  );
  cx.print(formatTuntapShow(devs, cmd.options));
}

function execAddr(cmd: IpAddrShow | IpAddrChange, cx: ExecContext): void {
  push(cx, "E0322", "the lab does not model IP addresses", {
    span: cmd.kind === "ip-addr-show" ? cmd.program.span : cmd.address.span,
    label: "the lab's host works at layer 2",
    notes: ["frames are switched by MAC address; no host interface has an IP address"],
    help: ["list links with `ip link show`"],
  });
}

/** The ip commands. */
export const IP_EXECUTORS = {
  "ip-tuntap-add": withHostEvents(execTuntap),
  "ip-tuntap-del": withHostEvents(execTuntap),
  "ip-tuntap-show": execTuntapShow,
  "ip-link-add": withHostEvents(execLinkAdd),
  "ip-link-set": withHostEvents(execLinkSet),
  "ip-link-del": withHostEvents(execLinkDel),
  "ip-link-show": execLinkShow,
  "ip-addr-show": execAddr,
  "ip-addr-add": execAddr,
  "ip-addr-del": execAddr,
} satisfies ExecutorTable;
