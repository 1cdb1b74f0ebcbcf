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
