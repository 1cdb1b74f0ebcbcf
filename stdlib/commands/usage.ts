/**
 * The real tools' usage and version texts, printed when a command asks for them
 * (`vdpa dev help`, `ip link help`, `modprobe --help`, `vdpa -V` …). The texts are the
 * tools' own (iproute2 6.12 `vdpa` and `ip`, kmod 33), tabs included; the real tools print
 * most of them on stderr, the lab prints them as the command's output.
 *
 * {@link USAGE_TEXTS} is a merge of per-family tables so other families (QEMU, testpmd,
 * ovs-vsctl) can add theirs; a topic without a text is an E0321 error, never an invented
 * text.
 *
 * @example
 * ```ts
 * import { Session } from "../session.ts";
 * const out: string[] = [];
 * const s = new Session({ stdout: (t) => out.push(t) });
 * await s.runText("vdpa -V\n", "a.vdpa");
 * if (out.join("") !== "vdpa utility, iproute2-6.12.0\n") throw new Error(out.join(""));
 * ```
 *
 * @module
 */

import type { UsageCommand } from "../../lang/commands/ast.ts";
import type { ExecContext, ExecutorTable } from "../exec.ts";
import { hostDiagnostic } from "../host_errors.ts";

/** A tool's usage text and version line(s), each ending in a newline. */
export interface UsageText {
  readonly usage?: string;
  readonly version?: string;
}

const IPROUTE2_VERSION = "6.12.0";

/** iproute2's `vdpa` (vdpa/vdpa.c). */
export const VDPA_USAGE: Readonly<Record<string, UsageText>> = {
  vdpa: {
    usage: "Usage: vdpa [ OPTIONS ] OBJECT { COMMAND | help }\n" +
      "where  OBJECT := { mgmtdev | dev }\n" +
      "       OPTIONS := { -V[ersion] | -n[o-nice-names] | -j[son] | -p[retty] }\n",
    version: `vdpa utility, iproute2-${IPROUTE2_VERSION}\n`,
  },
  "vdpa mgmtdev": { usage: "Usage: vdpa mgmtdev show [ DEV ]\n" },
  "vdpa dev": {
    usage: "Usage: vdpa dev show [ DEV ]\n" +
      "       vdpa dev add name NAME mgmtdev MANAGEMENTDEV [ device_features DEVICE_FEATURES]\n" +
      "                                                    [ mac MACADDR ] [ mtu MTU ]\n" +
      "                                                    [ max_vqp MAX_VQ_PAIRS ]\n" +
      "       vdpa dev del DEV\n" +
      "Usage: vdpa dev config COMMAND [ OPTIONS ]\n" +
      "Usage: vdpa dev vstats COMMAND\n",
  },
  "vdpa dev config": { usage: "Usage: vdpa dev config show [ DEV ]\n" },
  "vdpa dev vstats": { usage: "Usage: vdpa dev vstats show DEV [qidx QUEUE_INDEX]\n" },
};

const IP_LINK_TYPES = "TYPE := { amt | bareudp | bond | bond_slave | bridge | bridge_slave |\n" +
  "          dsa | dummy | erspan | geneve | gre | gretap | gtp | hsr |\n" +
  "          ifb | ip6erspan | ip6gre | ip6gretap | ip6tnl |\n" +
  "          ipip | ipoib | ipvlan | ipvtap |\n" +
  "          macsec | macvlan | macvtap | netdevsim |\n" +
  "          netkit | nlmon | pfcp | rmnet | sit | team | team_slave |\n" +
  "          vcan | veth | vlan | vrf | vti | vxcan | vxlan | wwan |\n" +
  "          xfrm | virt_wifi }\n";

/** iproute2's `ip` (ip/ip.c, ip/iplink.c, ip/iptuntap.c, ip/ipaddress.c). */
export const IP_USAGE: Readonly<Record<string, UsageText>> = {
  ip: {
    usage: "Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n" +
      "       ip [ -force ] -batch filename\n" +
      "where  OBJECT := { address | addrlabel | fou | help | ila | ioam | l2tp | link |\n" +
      "                   macsec | maddress | monitor | mptcp | mroute | mrule |\n" +
      "                   neighbor | neighbour | netconf | netns | nexthop | ntable |\n" +
      "                   ntbl | route | rule | sr | stats | tap | tcpmetrics |\n" +
      "                   token | tunnel | tuntap | vrf | xfrm }\n" +
      "       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -r[esolve] |\n" +
      "                    -h[uman-readable] | -iec | -j[son] | -p[retty] |\n" +
      "                    -f[amily] { inet | inet6 | mpls | bridge | link } |\n" +
      "                    -4 | -6 | -M | -B | -0 |\n" +
      "                    -l[oops] { maximum-addr-flush-attempts } | -br[ief] |\n" +
      "                    -o[neline] | -t[imestamp] | -ts[hort] | -b[atch] [filename] |\n" +
      "                    -rc[vbuf] [size] | -n[etns] name | -N[umeric] | -a[ll] |\n" +
      "                    -c[olor]}\n",
    version: `ip utility, iproute2-${IPROUTE2_VERSION}, libbpf 1.5.0\n`,
  },
  "ip link": {
    usage: "Usage: ip link add [link DEV | parentdev NAME] [ name ] NAME\n" +
      "\t\t    [ txqueuelen PACKETS ]\n" +
      "\t\t    [ address LLADDR ]\n" +
      "\t\t    [ broadcast LLADDR ]\n" +
      "\t\t    [ mtu MTU ] [index IDX ]\n" +
      "\t\t    [ numtxqueues QUEUE_COUNT ]\n" +
      "\t\t    [ numrxqueues QUEUE_COUNT ]\n" +
      "\t\t    [ netns { PID | NETNSNAME | NETNSFILE } ]\n" +
      "\t\t    type TYPE [ ARGS ]\n" +
      "\n" +
      "\tip link delete { DEVICE | dev DEVICE | group DEVGROUP } type TYPE [ ARGS ]\n" +
      "\n" +
      "\tip link { set | change } { DEVICE | dev DEVICE | group DEVGROUP }\n" +
      "\t\t\t[ { up | down } ]\n" +
      "\t\t\t[ type TYPE ARGS ]\n" +
      "\t\t[ arp { on | off } ]\n" +
      "\t\t[ dynamic { on | off } ]\n" +
      "\t\t[ multicast { on | off } ]\n" +
      "\t\t[ allmulticast { on | off } ]\n" +
      "\t\t[ promisc { on | off } ]\n" +
      "\t\t[ trailers { on | off } ]\n" +
      "\t\t[ carrier { on | off } ]\n" +
      "\t\t[ txqueuelen PACKETS ]\n" +
      "\t\t[ name NEWNAME ]\n" +
      "\t\t[ address LLADDR ]\n" +
      "\t\t[ broadcast LLADDR ]\n" +
      "\t\t[ mtu MTU ]\n" +
      "\t\t[ netns { PID | NETNSNAME | NETNSFILE } ]\n" +
      "\t\t[ link-netns NAME | link-netnsid ID ]\n" +
      "\t\t[ alias NAME ]\n" +
      "\t\t[ vf NUM [ mac LLADDR ]\n" +
      "\t\t\t [ vlan VLANID [ qos VLAN-QOS ] [ proto VLAN-PROTO ] ]\n" +
      "\t\t\t [ rate TXRATE ]\n" +
      "\t\t\t [ max_tx_rate TXRATE ]\n" +
      "\t\t\t [ min_tx_rate TXRATE ]\n" +
      "\t\t\t [ spoofchk { on | off} ]\n" +
      "\t\t\t [ query_rss { on | off} ]\n" +
      "\t\t\t [ state { auto | enable | disable} ]\n" +
      "\t\t\t [ trust { on | off} ]\n" +
      "\t\t\t [ node_guid EUI64 ]\n" +
      "\t\t\t [ port_guid EUI64 ] ]\n" +
      "\t\t[ { xdp | xdpgeneric | xdpdrv | xdpoffload } { off |\n" +
      "\t\t\t  object FILE [ section NAME ] [ verbose ] |\n" +
      "\t\t\t  pinned FILE } ]\n" +
      "\t\t[ master DEVICE ][ vrf NAME ]\n" +
      "\t\t[ nomaster ]\n" +
      "\t\t[ addrgenmode { eui64 | none | stable_secret | random } ]\n" +
      "\t\t[ protodown { on | off } ]\n" +
      "\t\t[ protodown_reason PREASON { on | off } ]\n" +
      "\t\t[ gso_max_size BYTES ] [ gso_ipv4_max_size BYTES ] [ gso_max_segs PACKETS ]\n" +
      "\t\t[ gro_max_size BYTES ] [ gro_ipv4_max_size BYTES ]\n" +
      "\n" +
      "\tip link show [ DEVICE | group GROUP ] [up] [master DEV] [vrf NAME] [type TYPE]\n" +
      "\t\t[nomaster] [ novf ]\n" +
      "\n" +
      "\tip link xstats type TYPE [ ARGS ]\n" +
      "\n" +
      "\tip link afstats [ dev DEVICE ]\n" +
      "\tip link property add dev DEVICE [ altname NAME .. ]\n" +
      "\tip link property del dev DEVICE [ altname NAME .. ]\n" +
      "\n" +
      "\tip link help [ TYPE ]\n" +
      "\n" +
      IP_LINK_TYPES,
  },
  "ip tuntap": {
    usage: "Usage: ip tuntap { add | del | show | list | lst | help } [ dev PHYS_DEV ]\n" +
      "          [ mode { tun | tap } ] [ user USER ] [ group GROUP ]\n" +
      "          [ one_queue ] [ pi ] [ vnet_hdr ] [ multi_queue ] [ name NAME ]\n" +
      "\n" +
      "Where: USER  := { STRING | NUMBER }\n" +
      "       GROUP := { STRING | NUMBER }\n",
  },
  "ip address": {
    usage: "Usage: ip address {add|change|replace} IFADDR dev IFNAME [ LIFETIME ]\n" +
      "                                                      [ CONFFLAG-LIST ]\n" +
      "       ip address del IFADDR dev IFNAME [mngtmpaddr]\n" +
      "       ip address {save|flush} [ dev IFNAME ] [ scope SCOPE-ID ]\n" +
      "                            [ to PREFIX ] [ FLAG-LIST ] [ label LABEL ] [up]\n" +
      "       ip address [ show [ dev IFNAME ] [ scope SCOPE-ID ] [ master DEVICE ]\n" +
      "                         [ nomaster ]\n" +
      "                         [ type TYPE ] [ to PREFIX ] [ FLAG-LIST ]\n" +
      "                         [ label LABEL ] [up] [ vrf NAME ]\n" +
      "                         [ proto ADDRPROTO ] ]\n" +
      "       ip address {showdump|restore}\n" +
      "IFADDR := PREFIX | ADDR peer PREFIX\n" +
      "          [ broadcast ADDR ] [ anycast ADDR ]\n" +
      "          [ label IFNAME ] [ scope SCOPE-ID ] [ metric METRIC ]\n" +
      "          [ proto ADDRPROTO ]\n" +
      "SCOPE-ID := [ host | link | global | NUMBER ]\n" +
      "FLAG-LIST := [ FLAG-LIST ] FLAG\n" +
      "FLAG  := [ permanent | dynamic | secondary | primary |\n" +
      "           [-]tentative | [-]deprecated | [-]dadfailed | temporary |\n" +
      "           CONFFLAG-LIST ]\n" +
      "CONFFLAG-LIST := [ CONFFLAG-LIST ] CONFFLAG\n" +
      "CONFFLAG  := [ home | nodad | mngtmpaddr | noprefixroute | autojoin ]\n" +
      "LIFETIME := [ valid_lft LFT ] [ preferred_lft LFT ]\n" +
      "LFT := forever | SECONDS\n" +
      "ADDRPROTO := [ NAME | NUMBER ]\n" +
      IP_LINK_TYPES,
  },
};

const KMOD_VERSION = "kmod version 33\n+ZSTD +XZ -ZLIB +LIBCRYPTO -EXPERIMENTAL\n";

/** kmod's `modprobe` and `rmmod` (tools/modprobe.c, tools/rmmod.c). */
export const KMOD_USAGE: Readonly<Record<string, UsageText>> = {
  modprobe: {
    usage: "Usage:\n" +
      "\tmodprobe [options] [-i] [-b] modulename\n" +
      "\tmodprobe [options] -a [-i] [-b] modulename [modulename...]\n" +
      "\tmodprobe [options] -r [-i] modulename\n" +
      "\tmodprobe [options] -r -a [-i] modulename [modulename...]\n" +
      "\tmodprobe [options] -c\n" +
      "\tmodprobe [options] --dump-modversions filename\n" +
      "Management Options:\n" +
      "\t-a, --all                   Consider every non-argument to\n" +
      "\t                            be a module name to be inserted\n" +
      "\t                            or removed (-r)\n" +
      "\t-r, --remove                Remove modules instead of inserting\n" +
      "\t    --remove-dependencies   Deprecated: use --remove-holders\n" +
      "\t    --remove-holders        Also remove module holders (use together with -r)\n" +
      "\t-w, --wait <MSEC>           When removing a module, wait up to MSEC for\n" +
      "\t                            module's refcount to become 0 so it can be\n" +
      "\t                            removed (use together with -r)\n" +
      "\t    --first-time            Fail if module already inserted or removed\n" +
      "\t-i, --ignore-install        Ignore install commands\n" +
      "\t-i, --ignore-remove         Ignore remove commands\n" +
      "\t-b, --use-blacklist         Apply blacklist to resolved alias.\n" +
      "\t-f, --force                 Force module insertion or removal.\n" +
      "\t                            implies --force-modversions and\n" +
      "\t                            --force-vermagic\n" +
      "\t    --force-modversion      Ignore module's version\n" +
      "\t    --force-vermagic        Ignore module's version magic\n" +
      "\n" +
      "Query Options:\n" +
      "\t-R, --resolve-alias         Only lookup and print alias and exit\n" +
      "\t-D, --show-depends          Only print module dependencies and exit\n" +
      "\t-c, --showconfig            Print out known configuration and exit\n" +
      "\t-c, --show-config           Same as --showconfig\n" +
      "\t    --show-modversions      Dump module symbol version and exit\n" +
      "\t    --dump-modversions      Same as --show-modversions\n" +
      "\t    --show-exports          Only print module exported symbol versions and exit\n" +
      "\n" +
      "General Options:\n" +
      "\t-n, --dry-run               Do not execute operations, just print out\n" +
      "\t-n, --show                  Same as --dry-run\n" +
      "\t-C, --config=FILE           Use FILE instead of default search paths\n" +
      "\t-d, --dirname=DIR           Use DIR as filesystem root for /lib/modules\n" +
      "\t-S, --set-version=VERSION   Use VERSION instead of `uname -r`\n" +
      "\t-s, --syslog                print to syslog, not stderr\n" +
      "\t-q, --quiet                 disable messages\n" +
      "\t-v, --verbose               enables more messages\n" +
      "\t-V, --version               show version\n" +
      "\t-h, --help                  show this help\n",
    version: KMOD_VERSION,
  },
  rmmod: {
    usage: "Usage:\n" +
      "\trmmod [options] modulename ...\n" +
      "Options:\n" +
      "\t-f, --force       forces a module unload and may crash your\n" +
      "\t                  machine. This requires Forced Module Removal\n" +
      "\t                  option in your kernel. DANGEROUS\n" +
      "\t-s, --syslog      print to syslog, not stderr\n" +
      "\t-v, --verbose     enables more messages\n" +
      "\t-V, --version     show version\n" +
      "\t-h, --help        show this help\n",
    version: KMOD_VERSION,
  },
};

/** iproute2's `devlink` (devlink/devlink.c): its version line only. */
export const DEVLINK_USAGE: Readonly<Record<string, UsageText>> = {
  devlink: { version: `devlink utility, iproute2-${IPROUTE2_VERSION}\n` },
};

/** Every usage text the lab has, by topic. */
export const USAGE_TEXTS: Readonly<Record<string, UsageText>> = {
  ...VDPA_USAGE,
  ...IP_USAGE,
  ...KMOD_USAGE,
  ...DEVLINK_USAGE,
};

function execUsage(cmd: UsageCommand, cx: ExecContext): void {
  const text = Object.hasOwn(USAGE_TEXTS, cmd.topic) ? USAGE_TEXTS[cmd.topic] : undefined;
  const out = cmd.what === "version" ? text?.version : text?.usage;
  if (out !== undefined) {
    cx.print(out);
    return;
  }
  cx.diagnostics.push(
    hostDiagnostic("E0321", `the lab has no ${cmd.what} text for \`${cmd.topic}\``, {
      span: cmd.span,
      label: `\`${cmd.topic}\` ${cmd.what === "version" ? "version" : "help"} is not reproduced`,
      help: ["the README's language reference lists the forms the lab accepts"],
    }),
  );
}

/** The usage requests. */
export const USAGE_EXECUTORS = {
  usage: execUsage,
} satisfies ExecutorTable;
