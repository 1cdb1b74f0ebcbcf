/**
 * QEMU network backends (`-netdev TYPE,id=…`, also the backend half of `-nic` and `-net`).
 *
 * Names, types and defaults follow qapi/net.json (`NetdevTapOptions`, `NetdevUserOptions`,
 * `NetdevVhostUserOptions`, `NetdevVhostVDPAOptions`) and the init functions in net/tap.c,
 * net/vhost-user.c and net/vhost-vdpa.c. `-netdev` is read by QEMU's opts-visitor, hence
 * `style: "opts"` (its texts: `Parameter 'vhost' expects 'on' or 'off'`, `Invalid parameter
 * 'vhsot'`).
 *
 * The lab models tap (with and without vhost-net), user, vhost-user and vhost-vdpa. The other
 * backends QEMU has (socket, stream, dgram, l2tpv3, vde, bridge, hubport, netmap, af-xdp,
 * vmnet-*, passt) are accepted and marked `unmodelled`: the checker warns, and the VM model
 * treats them as a peer with no link, so frames sent to them are counted as dropped.
 *
 * @example Looking up a netdev type
 * ```ts
 * import { findClass } from "./schema.ts";
 * import { NETDEV_TYPES } from "./qemu_netdev.ts";
 * const vu = findClass(NETDEV_TYPES, "vhost-user");
 * if (vu?.props.chardev?.required !== true) throw new Error("vhost-user needs a chardev");
 * ```
 *
 * @module
 */

import type { ClassCatalog, ClassSchema, PropSchema } from "./schema.ts";

/**
 * Properties every `-netdev` has (qapi/net.json `Netdev` base). The type itself (`tap` in
 * `tap,id=n0`, or `type=tap`) is the head of the list, not a property.
 */
export const NETDEV_COMMON_PROPS = {
  id: { type: "id", required: true, ioRelevant: true, desc: "name the device refers to" },
} as const satisfies Record<string, PropSchema>;

// qapi/net.json NetdevTapOptions; defaults from net/tap.c (DEFAULT_NETWORK_SCRIPT,
// DEFAULT_NETWORK_DOWN_SCRIPT, DEFAULT_BRIDGE_HELPER) and net/tap-linux.c (sndbuf).
const TAP_PROPS = {
  ...NETDEV_COMMON_PROPS,
  ifname: { type: "string", ioRelevant: true, desc: "host tap interface name (default tapN)" },
  fd: { type: "string", ioRelevant: true, desc: "an already opened tap file descriptor" },
  fds: { type: "list", ioRelevant: true, desc: "colon-separated fds of a multiqueue tap" },
  script: {
    type: "path",
    default: "/etc/qemu-ifup",
    // The lab models what the default script does to I/O: it brings the tap up.
    ioRelevant: true,
    desc: "script run after the tap is created (`no` to skip)",
  },
  downscript: {
    type: "path",
    default: "/etc/qemu-ifdown",
    ioRelevant: true,
    desc: "script run before the tap is destroyed (`no` to skip)",
  },
  br: {
    type: "string",
    default: "br0",
    ioRelevant: true,
    desc: "bridge the helper attaches the tap to",
  },
  helper: {
    type: "path",
    default: "/usr/libexec/qemu-bridge-helper",
    ioRelevant: false,
    desc: "setuid helper that creates the tap",
  },
  sndbuf: {
    type: "size",
    default: 0,
    defaultDesc: "0: no limit (INT_MAX)",
    ioRelevant: false,
    desc: "tap send buffer limit",
  },
  vnet_hdr: {
    type: "bool",
    default: true,
    defaultDesc: "on when the host tap supports IFF_VNET_HDR",
    ioRelevant: true,
    desc: "exchange virtio-net headers with the tap (offloads)",
  },
  vhost: {
    type: "bool",
    default: false,
    ioRelevant: true,
    desc: "move the datapath into the vhost-net kernel worker (/dev/vhost-net)",
  },
  vhostfd: { type: "string", ioRelevant: true, desc: "an already opened /dev/vhost-net fd" },
  vhostfds: { type: "list", ioRelevant: true, desc: "colon-separated vhost-net fds" },
  vhostforce: {
    type: "bool",
    default: false,
    ioRelevant: false,
    deprecated: "`vhostforce` is deprecated and has no effect; `vhost=on` is enough",
    desc: "force vhost for guests without MSI-X (historical)",
  },
  queues: {
    type: "uint",
    width: 32,
    default: 1,
    ioRelevant: true,
    desc: "number of queue pairs (IFF_MULTI_QUEUE tap queues and vhost fds)",
  },
  "poll-us": {
    type: "uint",
    width: 32,
    default: 0,
    ioRelevant: true,
    desc: "vhost-net busy-poll time in µs",
  },
} as const satisfies Record<string, PropSchema>;

// qapi/net.json NetdevUserOptions (slirp); defaults from net/slirp.c.
const USER_PROPS = {
  ...NETDEV_COMMON_PROPS,
  net: {
    type: "string",
    default: "10.0.2.0/24",
    ioRelevant: true,
    desc: "guest-visible IPv4 network",
  },
  host: { type: "string", default: "10.0.2.2", ioRelevant: true, desc: "host (gateway) address" },
  dhcpstart: {
    type: "string",
    default: "10.0.2.15",
    ioRelevant: true,
    desc: "first address the DHCP server hands out",
  },
  dns: { type: "string", default: "10.0.2.3", ioRelevant: true, desc: "built-in DNS address" },
  restrict: {
    type: "bool",
    default: false,
    ioRelevant: true,
    desc: "isolate the guest from the host and the outside",
  },
  ipv4: { type: "bool", default: true, ioRelevant: true, desc: "enable IPv4" },
  ipv6: { type: "bool", default: true, ioRelevant: true, desc: "enable IPv6" },
  hostfwd: { type: "string", ioRelevant: true, desc: "forward a host port to the guest" },
  guestfwd: { type: "string", ioRelevant: false, desc: "forward a guest connection to a host" },
  hostname: { type: "string", ioRelevant: false, desc: "client hostname reported by DHCP" },
  domainname: { type: "string", ioRelevant: false, desc: "DNS domain suffix from DHCP" },
  dnssearch: { type: "string", ioRelevant: false, desc: "DNS search list from DHCP" },
  tftp: { type: "path", ioRelevant: false, desc: "built-in TFTP server root" },
  "tftp-server-name": { type: "string", ioRelevant: false, desc: "TFTP server name (DHCP 66)" },
  bootfile: { type: "string", ioRelevant: false, desc: "BOOTP file name" },
  smb: { type: "path", ioRelevant: false, desc: "share a host directory over SMB" },
  smbserver: { type: "string", ioRelevant: false, desc: "SMB server address" },
  "ipv6-net": { type: "string", ioRelevant: true, desc: "guest-visible IPv6 prefix" },
  "ipv6-host": { type: "string", ioRelevant: true, desc: "host IPv6 address" },
  "ipv6-dns": { type: "string", ioRelevant: true, desc: "built-in IPv6 DNS address" },
} as const satisfies Record<string, PropSchema>;

// qapi/net.json NetdevVhostUserOptions; net/vhost-user.c net_init_vhost_user (queues 1..1024).
const VHOST_USER_PROPS = {
  ...NETDEV_COMMON_PROPS,
  chardev: {
    type: "ref",
    refKind: "chardev",
    required: true,
    ioRelevant: true,
    desc: "socket chardev the vhost-user protocol runs over",
  },
  queues: {
    type: "int",
    width: 64,
    default: 1,
    ioRelevant: true,
    desc: "number of queue pairs (1..1024)",
  },
  vhostforce: {
    type: "bool",
    default: false,
    ioRelevant: false,
    deprecated: "`vhostforce` is deprecated and has no effect for vhost-user",
    desc: "historical; vhost-user is always vhost",
  },
} as const satisfies Record<string, PropSchema>;

// qapi/net.json NetdevVhostVDPAOptions; net/vhost-vdpa.c net_init_vhost_vdpa requires exactly
// one of vhostdev= and vhostfd= (the QAPI doc once claimed a /dev/vhost-vdpa-0 default; the
// code never had one and the doc was fixed).
const VHOST_VDPA_PROPS = {
  ...NETDEV_COMMON_PROPS,
  vhostdev: {
    type: "path",
    ioRelevant: true,
    desc: "vhost-vdpa character device, /dev/vhost-vdpa-N",
  },
  vhostfd: { type: "string", ioRelevant: true, desc: "an already opened vhost-vdpa fd" },
  queues: {
    type: "int",
    width: 64,
    default: 1,
    ioRelevant: true,
    desc: "number of queue pairs to use",
  },
  "x-svq": {
    type: "bool",
    default: false,
    ioRelevant: true,
    desc: "shadow virtqueues: QEMU interposes on the rings (unstable)",
  },
} as const satisfies Record<string, PropSchema>;

function modelled(
  name: string,
  desc: string,
  props: Record<string, PropSchema>,
): ClassSchema {
  return { name, desc, status: "modelled", style: "opts", props };
}

function unmodelled(name: string, desc: string): ClassSchema {
  return {
    name,
    desc,
    status: "unmodelled",
    style: "opts",
    props: { ...NETDEV_COMMON_PROPS },
    openProps: true,
  };
}

/** Every `-netdev` type QEMU 10.x builds on Linux, by name. */
export const NETDEV_TYPES: ClassCatalog = {
  kind: "netdev type",
  classes: {
    tap: modelled("tap", "host tap device; with vhost=on the vhost-net kernel worker", TAP_PROPS),
    user: modelled("user", "user-mode networking (slirp) inside QEMU", USER_PROPS),
    "vhost-user": modelled(
      "vhost-user",
      "vhost-user back-end (DPDK, OVS-DPDK) over a unix socket chardev",
      VHOST_USER_PROPS,
    ),
    "vhost-vdpa": modelled(
      "vhost-vdpa",
      "vDPA device through /dev/vhost-vdpa-N",
      VHOST_VDPA_PROPS,
    ),
    socket: unmodelled("socket", "frames over a TCP/UDP/multicast socket (legacy)"),
    stream: unmodelled("stream", "frames over a stream socket (inet, unix, fd)"),
    dgram: unmodelled("dgram", "frames over a datagram socket"),
    l2tpv3: unmodelled("l2tpv3", "static L2TPv3 pseudowire"),
    vde: unmodelled("vde", "VDE switch port"),
    bridge: unmodelled("bridge", "tap created by qemu-bridge-helper on a host bridge"),
    hubport: unmodelled("hubport", "port of a QEMU-internal hub"),
    netmap: unmodelled("netmap", "netmap/VALE port"),
    "af-xdp": unmodelled("af-xdp", "AF_XDP socket on a host interface"),
    "vmnet-host": unmodelled("vmnet-host", "macOS vmnet host mode"),
    "vmnet-shared": unmodelled("vmnet-shared", "macOS vmnet shared mode"),
    "vmnet-bridged": unmodelled("vmnet-bridged", "macOS vmnet bridged mode"),
    passt: unmodelled("passt", "passt user-mode networking"),
  },
  aliases: {},
};

/**
 * The netdev types a NIC can be attached to from the lab's point of view, mapped to the
 * vhost flavour that serves the queues (`tap` depends on `vhost=`).
 */
export const MODELLED_NETDEVS = ["tap", "user", "vhost-user", "vhost-vdpa"] as const;

/** A modelled netdev type. */
export type ModelledNetdev = typeof MODELLED_NETDEVS[number];

/** Largest queue count QEMU accepts for a netdev (include/net/net.h MAX_QUEUE_NUM). */
export const MAX_QUEUE_NUM = 1024;
