/**
 * DPDK catalogs: virtual device drivers (`--vdev NAME,devargs`) with their devargs, and
 * testpmd's forwarding engines.
 *
 * Devargs are read with `rte_kvargs` and each value with the PMD's own handler. The vhost PMD
 * (drivers/net/vhost/rte_eth_vhost.c `valid_arguments`, `open_int`, `open_iface`) takes
 * `iface` (mandatory), `queues` (1 by default, at most RTE_MAX_QUEUES_PER_PORT = 1024) and
 * 0/1 flags read with `strtoul` (`client`, `iommu-support`, `postcopy-support`, `tso`,
 * `linear-buffer`, `ext-buffer`, `legacy-ol-flags`); `dequeue-zero-copy` was removed in DPDK
 * 20.11. virtio_user (drivers/net/virtio/virtio_user_ethdev.c) takes `path` (mandatory: a
 * vhost-user socket, /dev/vhost-net or /dev/vhost-vdpa-N), `mac`, `cq`, `queue_size` (256),
 * `queues` (1), `iface`, `server` (0), `mrg_rxbuf` (1), `in_order` (1), `packed_vq` (0),
 * `speed` and `vectorized` (0). A devarg name the PMD does not list makes `rte_kvargs_parse`
 * fail, and the device is not created.
 *
 * @example
 * ```ts
 * import { findClass } from "./schema.ts";
 * import { VDEV_DRIVERS } from "./dpdk.ts";
 * const vhost = findClass(VDEV_DRIVERS, "eth_vhost");
 * if (vhost?.name !== "net_vhost" || vhost.props.iface?.required !== true) {
 *   throw new Error("eth_vhost is net_vhost and needs iface=");
 * }
 * ```
 *
 * @module
 */

import type { ClassCatalog, ClassSchema, PropSchema } from "./schema.ts";

/** RTE_MAX_QUEUES_PER_PORT of a default DPDK build. */
export const RTE_MAX_QUEUES_PER_PORT = 1024;

/** A 0/1 devarg; the PMDs read it with `strtoul`, so any non-zero number means on. */
function flag(desc: string, dflt: 0 | 1, ioRelevant = true): PropSchema {
  return { type: "uint", width: 32, default: dflt, ioRelevant, desc };
}

// drivers/net/vhost/rte_eth_vhost.c valid_arguments.
const VHOST_PMD_PROPS = {
  iface: {
    type: "path",
    required: true,
    ioRelevant: true,
    desc: "vhost-user socket path (the PMD listens unless client=1)",
  },
  queues: {
    type: "uint",
    width: 16,
    default: 1,
    min: 1,
    max: RTE_MAX_QUEUES_PER_PORT,
    ioRelevant: true,
    desc: "queue pairs the port offers",
  },
  client: flag("connect to the socket instead of listening (QEMU is the server)", 0),
  "iommu-support": flag("accept a guest vIOMMU (VIRTIO_F_IOMMU_PLATFORM, IOTLB messages)", 0),
  "postcopy-support": flag("allow post-copy live migration", 0, false),
  tso: flag("offer TSO to the guest (host TSO features)", 0),
  "linear-buffer": flag("dequeue into linear mbufs only", 0),
  "ext-buffer": flag("dequeue large packets into external buffers", 0),
  "legacy-ol-flags": flag("use the pre-21.11 offload flags", 0, false),
  "dequeue-zero-copy": {
    type: "uint",
    ioRelevant: true,
    removed: "`dequeue-zero-copy` was removed in DPDK 20.11 (it corrupted packets under load)",
    desc: "dequeue without copying (removed)",
  },
} as const satisfies Record<string, PropSchema>;

// drivers/net/virtio/virtio_user_ethdev.c valid_args and defaults (VIRTIO_USER_DEF_Q_SZ 256).
const VIRTIO_USER_PROPS = {
  path: {
    type: "path",
    required: true,
    ioRelevant: true,
    desc: "backend: a vhost-user socket, /dev/vhost-net or /dev/vhost-vdpa-N",
  },
  mac: { type: "mac", ioRelevant: true, desc: "port MAC address" },
  cq: flag("control virtqueue", 0),
  queue_size: {
    type: "uint",
    width: 16,
    default: 256,
    ioRelevant: true,
    desc: "virtqueue size",
  },
  queues: {
    type: "uint",
    width: 16,
    default: 1,
    min: 1,
    max: RTE_MAX_QUEUES_PER_PORT,
    ioRelevant: true,
    desc: "queue pairs",
  },
  iface: { type: "string", ioRelevant: true, desc: "tap name with /dev/vhost-net" },
  server: flag("listen on the vhost-user socket (the PMD is the server)", 0),
  mrg_rxbuf: flag("VIRTIO_NET_F_MRG_RXBUF", 1),
  in_order: flag("VIRTIO_F_IN_ORDER", 1),
  packed_vq: flag("VIRTIO_F_RING_PACKED", 0),
  speed: { type: "uint", width: 32, ioRelevant: false, desc: "reported link speed (Mb/s)" },
  vectorized: flag("vectorized Rx/Tx paths", 0),
} as const satisfies Record<string, PropSchema>;

function vdev(
  name: string,
  status: ClassSchema["status"],
  desc: string,
  props: Record<string, PropSchema> = {},
): ClassSchema {
  return {
    name,
    desc,
    status,
    style: "kvargs",
    props,
    ...(status === "modelled" ? {} : { openProps: true }),
  };
}

/**
 * Virtual device drivers by name. A `--vdev` name is the driver name (or alias) followed by
 * an instance number: `net_vhost0`, `virtio_user1`, `eth_vhost0`.
 */
export const VDEV_DRIVERS: ClassCatalog = {
  kind: "vdev driver",
  classes: {
    net_vhost: vdev("net_vhost", "modelled", "vhost-user port (rte_vhost)", VHOST_PMD_PROPS),
    net_virtio_user: vdev(
      "net_virtio_user",
      "modelled",
      "virtio-net driver in userspace over vhost-user, vhost-net or vhost-vdpa",
      VIRTIO_USER_PROPS,
    ),
    net_tap: vdev("net_tap", "unmodelled", "port on a kernel tap device"),
    net_tun: vdev("net_tun", "unmodelled", "port on a kernel tun device"),
    net_ring: vdev("net_ring", "unmodelled", "port on in-memory rings"),
    net_null: vdev("net_null", "unmodelled", "null port (drops Tx, generates Rx)"),
    net_pcap: vdev("net_pcap", "unmodelled", "port reading/writing pcap files"),
    net_af_packet: vdev("net_af_packet", "unmodelled", "port on an AF_PACKET socket"),
    net_af_xdp: vdev("net_af_xdp", "unmodelled", "port on an AF_XDP socket"),
    net_memif: vdev("net_memif", "unmodelled", "shared-memory packet interface"),
    net_bonding: vdev("net_bonding", "unmodelled", "bonded port"),
    net_failsafe: vdev("net_failsafe", "unmodelled", "fail-safe port"),
  },
  aliases: {
    // RTE_PMD_REGISTER_ALIAS in each driver.
    eth_vhost: "net_vhost",
    virtio_user: "net_virtio_user",
    eth_tap: "net_tap",
    eth_ring: "net_ring",
    eth_null: "net_null",
    eth_pcap: "net_pcap",
    eth_af_packet: "net_af_packet",
    eth_bond: "net_bonding",
  },
};

/** What a testpmd forwarding engine does with a received burst. */
export interface ForwardMode {
  readonly name: string;
  readonly desc: string;
  /** True when the engine sends packets out (everything except rxonly). */
  readonly transmits: boolean;
  /** True when it generates packets itself instead of forwarding received ones. */
  readonly generates: boolean;
}

function mode(name: string, desc: string, transmits = true, generates = false): ForwardMode {
  return { name, desc, transmits, generates };
}

/** testpmd's forwarding engines (app/test-pmd/testpmd.c `fwd_engines`). */
export const FORWARD_MODES: readonly ForwardMode[] = [
  mode("io", "forward received packets unchanged to the peer port"),
  mode("mac", "forward, rewriting source and destination MAC"),
  mode("macswap", "forward, swapping source and destination MAC"),
  mode("flowgen", "generate multi-flow UDP traffic", true, true),
  mode("rxonly", "receive and free packets", false),
  mode("txonly", "generate packets (--txpkts sizes)", true, true),
  mode("csum", "forward with checksum offload or software checksums"),
  mode("icmpecho", "answer ARP and ICMP echo requests"),
  mode("ieee1588", "IEEE 1588 timestamping test"),
  mode("noisy", "forward with buffering and memory lookups (a noisy VNF)"),
  mode("5tswap", "forward, swapping the 5-tuple"),
  mode("shared-rxq", "receive on a shared Rx queue"),
  mode("recycle_mbufs", "forward, recycling mbufs between Rx and Tx"),
];

/** The engine testpmd uses without `--forward-mode` (`io`). */
export const DEFAULT_FORWARD_MODE = "io";
