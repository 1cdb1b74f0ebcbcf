/**
 * `ip link show` text as iproute2 prints it (ip/ipaddress.c print_linkinfo, print_link_flags,
 * print_vfinfo): `N: name: <FLAGS> mtu M qdisc Q [master BR] state S mode DEFAULT group
 * default qlen 1000`, then `    link/ether MAC brd ff:ff:ff:ff:ff:ff`, then one line per VF
 * of a physical function. Flags come in iproute2's order, with NO-CARRIER first when the
 * device is up without carrier.
 *
 * @example
 * ```ts
 * import { formatIpLinkShow } from "./ip.ts";
 * const text = formatIpLinkShow([{ ifindex: 3, name: "tap0", kind: "tap", up: false, lowerUp: false,
 *   mtu: 1500, qdisc: "noop", operstate: "DOWN", mac: "02:00:00:00:00:01", qlen: 1000, vfs: [] }]);
 * if (!text.startsWith("3: tap0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN")) throw new Error(text);
 * ```
 *
 * @module
 */

import type { LinkInfo } from "../../runtime/host/kernel.ts";
import { Printer } from "./iproute2_print.ts";

/** The `<…>` flag list. */
export function linkFlags(l: LinkInfo): string[] {
  const flags: string[] = [];
  if (l.up && !l.lowerUp) flags.push("NO-CARRIER");
  if (l.kind === "loopback") flags.push("LOOPBACK");
  else if (l.kind === "tun") flags.push("POINTOPOINT", "MULTICAST", "NOARP");
  else flags.push("BROADCAST", "MULTICAST");
  if (l.up) flags.push("UP");
  if (l.lowerUp) flags.push("LOWER_UP");
  return flags;
}

/** One device. */
export function formatIpLink(l: LinkInfo): string {
  const master = l.master !== undefined ? ` master ${l.master}` : "";
  const head =
    `${l.ifindex}: ${l.name}: <${linkFlags(l).join(",")}> mtu ${l.mtu} qdisc ${l.qdisc}${master} ` +
    `state ${l.operstate} mode DEFAULT group default qlen ${l.qlen}`;
  let link: string;
  if (l.kind === "loopback") link = "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00";
  else if (l.kind === "tun") link = "    link/none ";
  else link = `    link/ether ${l.mac} brd ff:ff:ff:ff:ff:ff`;
  const vfs = l.vfs.map((v) =>
    `    vf ${v.index}     link/ether ${v.mac} brd ff:ff:ff:ff:ff:ff, spoof checking off, link-state auto, trust off, query_rss off`
  );
  return [head, link, ...vfs].join("\n");
}

/** `ip link show` output (with the final newline). */
export function formatIpLinkShow(links: readonly LinkInfo[]): string {
  return links.map((l) => formatIpLink(l) + "\n").join("");
}

/** `-j`, `-p` and `-br` of `ip link show`. */
export interface IpShowOptions {
  readonly json?: boolean;
  readonly pretty?: boolean;
  readonly brief?: boolean;
}

function linkType(l: LinkInfo): "loopback" | "none" | "ether" {
  return l.kind === "loopback" ? "loopback" : l.kind === "tun" ? "none" : "ether";
}

function flagsArray(p: Printer, l: LinkInfo): void {
  // print_link_flags: `<A,B> ` in text, a "flags" array in JSON
  const flags = linkFlags(l);
  p.openArray("any", p.json ? "flags" : "<");
  flags.forEach((f, i) => p.string("any", null, i < flags.length - 1 ? "%s," : "%s", f));
  p.closeArray("any", "> ");
}

/**
 * `ip [-j [-p]] [-br] link show` (ipaddress.c print_linkinfo and print_linkinfo_brief):
 * text is {@link formatIpLinkShow}'s, brief text is `%-16s %-14s ADDRESS <FLAGS> `, JSON an
 * array of objects in iproute2's key order.
 *
 * @example
 * ```ts
 * import { ipLinkShow } from "./ip.ts";
 * const lo = { ifindex: 1, name: "lo", kind: "loopback" as const, up: true, lowerUp: true, mtu: 65536,
 *   qdisc: "noqueue" as const, operstate: "UNKNOWN" as const, mac: "00:00:00:00:00:00", qlen: 1000, vfs: [] };
 * if (ipLinkShow([lo], { brief: true }) !== "lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> \n") {
 *   throw new Error("brief layout");
 * }
 * ```
 */
export function ipLinkShow(links: readonly LinkInfo[], o: IpShowOptions): string {
  if (o.json !== true && o.brief !== true) return formatIpLinkShow(links);
  const p = new Printer({ json: o.json === true, pretty: o.pretty === true });
  p.openArray("json", null);
  for (const l of links) {
    p.openObject(null);
    if (o.brief === true) {
      p.string("any", "ifname", "%-16s ", l.name);
      p.string("any", "operstate", "%-14s ", l.operstate);
      if (l.kind !== "tun") p.string("any", "address", "%s ", l.mac);
      flagsArray(p, l);
      p.text("\n");
    } else {
      p.number("any", "ifindex", "%d: ", l.ifindex);
      p.string("any", "ifname", "%s: ", l.name);
      flagsArray(p, l);
      p.number("any", "mtu", "mtu %u ", l.mtu);
      p.string("any", "qdisc", "qdisc %s ", l.qdisc);
      if (l.master !== undefined) p.string("any", "master", "master %s ", l.master);
      p.string("any", "operstate", "state %s ", l.operstate);
      p.string("any", "linkmode", "mode %s ", "DEFAULT");
      p.string("any", "group", "group %s ", "default");
      p.number("any", "txqlen", "qlen %u", l.qlen);
      p.string("any", "link_type", "link/%s ", linkType(l));
      if (l.kind !== "tun") {
        p.string("any", "address", "%s", l.mac);
        p.string(
          "any",
          "broadcast",
          " brd %s",
          l.kind === "loopback" ? l.mac : "ff:ff:ff:ff:ff:ff",
        );
      }
      if (l.vfs.length > 0) {
        p.openArray("json", "vfinfo_list");
        for (const v of l.vfs) {
          p.openObject(null);
          p.number("json", "vf", "", v.index);
          p.string("json", "link_type", "", "ether");
          p.string("json", "address", "", v.mac);
          p.string("json", "broadcast", "", "ff:ff:ff:ff:ff:ff");
          p.bool("json", "spoofchk", "", false);
          p.string("json", "link_state", "", "auto");
          p.bool("json", "trust", "", false);
          p.bool("json", "query_rss_en", "", false);
          p.closeObject();
        }
        p.closeArray("json", null);
      }
    }
    p.closeObject();
  }
  p.closeArray("json", null);
  return p.finish();
}

/** What `ip tuntap show` reads about one device (its tun_flags, owner and group). */
export interface TuntapInfo {
  readonly name: string;
  readonly kind: "tap" | "tun";
  readonly multiQueue: boolean;
  readonly vnetHdr: boolean;
}

/**
 * `ip [-j] tuntap show` (iptuntap.c print_tuntap/print_flags): `NAME: tap persist` with
 * `vnet_hdr`, and the flags the tool has no word for printed as a glued hex number
 * (`persist0x100` for IFF_MULTI_QUEUE), as iproute2 6.12 does.
 *
 * @example
 * ```ts
 * import { formatTuntapShow } from "./ip.ts";
 * const t = formatTuntapShow([{ name: "tap1", kind: "tap", multiQueue: true, vnetHdr: true }], {});
 * if (t !== "tap1: tap vnet_hdr persist0x100\n") throw new Error(t);
 * ```
 */
export function formatTuntapShow(
  devs: readonly TuntapInfo[],
  o: { readonly json?: boolean; readonly pretty?: boolean },
): string {
  const p = new Printer({ json: o.json === true, pretty: o.pretty === true });
  p.openArray("json", null);
  for (const d of devs) {
    p.openObject(null);
    p.string("any", "ifname", "%s:", d.name);
    p.openArray("json", "flags");
    p.string("any", null, " %s", d.kind);
    // IFF_NO_PI is always set by ip tuntap unless `pi`; IFF_NOFILTER shares its bit
    if (d.vnetHdr) p.string("any", null, " %s", "vnet_hdr");
    p.string("any", null, " %s", "persist");
    if (d.multiQueue) p.string("any", null, "%s", "0x100");
    p.closeArray("json", null);
    p.text("\n");
    p.closeObject();
  }
  p.closeArray("json", null);
  return p.finish();
}
