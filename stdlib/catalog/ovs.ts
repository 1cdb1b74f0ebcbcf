/**
 * Open vSwitch catalogs: Interface types and their `options:` keys, the columns of the
 * Interface, Port, Bridge and Open_vSwitch tables that `ovs-vsctl set` / `add-port` write, and
 * the `other_config:` keys OVS-DPDK reads. Names and defaults follow vswitchd/vswitch.xml and
 * lib/netdev-dpdk.c (OVS 3.x).
 *
 * `dpdkvhostuserclient` is the recommended vhost-user port: QEMU's chardev is the server and
 * OVS connects to `options:vhost-server-path`. `dpdkvhostuser` (OVS creates the socket in its
 * run directory) is deprecated. DPDK port types only work on a bridge with
 * `datapath_type=netdev`.
 *
 * @example
 * ```ts
 * import { findClass } from "./schema.ts";
 * import { OVS_INTERFACE_TYPES } from "./ovs.ts";
 * const vhu = findClass(OVS_INTERFACE_TYPES, "dpdkvhostuserclient");
 * if (vhu?.props["vhost-server-path"]?.required !== true) throw new Error("path required");
 * ```
 *
 * @module
 */

import type { ClassCatalog, ClassSchema, PropSchema } from "./schema.ts";

// vswitchd/vswitch.xml Interface options for type=dpdk; lib/netdev-dpdk.c defaults
// (NIC_PORT_DEFAULT_RXQ_SIZE / TXQ_SIZE 2048, NIC_PORT_MAX_Q_SIZE 4096).
const DPDK_OPTIONS = {
  "dpdk-devargs": {
    type: "string",
    required: true,
    ioRelevant: true,
    desc: "PCI address or vdev devargs of the DPDK device (0000:3b:00.0)",
  },
  n_rxq: { type: "uint", width: 32, default: 1, ioRelevant: true, desc: "Rx queues" },
  n_rxq_desc: {
    type: "uint",
    width: 32,
    default: 2048,
    ioRelevant: true,
    desc: "Rx descriptors per queue (power of 2, at most 4096)",
  },
  n_txq_desc: {
    type: "uint",
    width: 32,
    default: 2048,
    ioRelevant: true,
    desc: "Tx descriptors per queue (power of 2, at most 4096)",
  },
  "dpdk-lsc-interrupt": {
    type: "bool",
    default: false,
    ioRelevant: false,
    desc: "link state changes by interrupt",
  },
  "rx-steering": {
    type: "enum",
    values: ["rss", "rss+lacp"],
    default: "rss",
    ioRelevant: true,
    desc: "Rx queue steering",
  },
  "rx-flow-ctrl": { type: "bool", default: false, ioRelevant: false, desc: "Rx flow control" },
  "tx-flow-ctrl": { type: "bool", default: false, ioRelevant: false, desc: "Tx flow control" },
  "flow-ctrl-autoneg": {
    type: "bool",
    default: false,
    ioRelevant: false,
    desc: "flow control autonegotiation",
  },
  "dpdk-vf-mac": { type: "mac", ioRelevant: false, desc: "MAC of a VF" },
} as const satisfies Record<string, PropSchema>;

// vswitch.xml: vhost-server-path (client mode), tx-retries-max (default 8, max 32);
// dq-zero-copy was removed in OVS 2.15.
const VHOST_CLIENT_OPTIONS = {
  "vhost-server-path": {
    type: "path",
    required: true,
    ioRelevant: true,
    desc: "socket QEMU listens on (chardev server=on); OVS connects",
  },
  "tx-retries-max": {
    type: "uint",
    width: 32,
    default: 8,
    max: 32,
    ioRelevant: true,
    desc: "retries when the guest's rx ring is full",
  },
  "dq-zero-copy": {
    type: "bool",
    ioRelevant: true,
    removed: "`dq-zero-copy` was removed in OVS 2.15",
    desc: "dequeue zero copy (removed)",
  },
} as const satisfies Record<string, PropSchema>;

const VHOST_SERVER_OPTIONS = {
  "tx-retries-max": VHOST_CLIENT_OPTIONS["tx-retries-max"],
} as const satisfies Record<string, PropSchema>;

const PATCH_OPTIONS = {
  peer: {
    type: "string",
    required: true,
    ioRelevant: true,
    desc: "the patch port at the other end",
  },
} as const satisfies Record<string, PropSchema>;

function iface(
  name: string,
  status: ClassSchema["status"],
  desc: string,
  props: Record<string, PropSchema> = {},
  openProps = false,
): ClassSchema {
  return { name, desc, status, style: "ovsdb", props, ...(openProps ? { openProps } : {}) };
}

/** Interface `type=` values and their `options:` keys. */
export const OVS_INTERFACE_TYPES: ClassCatalog = {
  kind: "OVS interface type",
  classes: {
    system: iface("system", "modelled", "a host network device (the default, empty type)"),
    internal: iface(
      "internal",
      "modelled",
      "a port OVS creates as a host netdev (the bridge's own)",
    ),
    tap: iface("tap", "modelled", "a tap device OVS creates"),
    patch: iface("patch", "modelled", "one end of a patch cable between bridges", PATCH_OPTIONS),
    dpdk: iface("dpdk", "modelled", "a physical port driven by a DPDK PMD", DPDK_OPTIONS),
    dpdkvhostuserclient: iface(
      "dpdkvhostuserclient",
      "modelled",
      "vhost-user port; OVS is the client of QEMU's socket",
      VHOST_CLIENT_OPTIONS,
    ),
    dpdkvhostuser: iface(
      "dpdkvhostuser",
      "modelled",
      "vhost-user port; OVS creates and listens on <rundir>/<port> (deprecated)",
      VHOST_SERVER_OPTIONS,
    ),
    vxlan: iface("vxlan", "unmodelled", "VXLAN tunnel", {}, true),
    geneve: iface("geneve", "unmodelled", "Geneve tunnel", {}, true),
    gre: iface("gre", "unmodelled", "GRE tunnel", {}, true),
    erspan: iface("erspan", "unmodelled", "ERSPAN tunnel", {}, true),
    ip6gre: iface("ip6gre", "unmodelled", "GRE over IPv6", {}, true),
    ip6erspan: iface("ip6erspan", "unmodelled", "ERSPAN over IPv6", {}, true),
    lisp: iface("lisp", "unmodelled", "LISP tunnel", {}, true),
    stt: iface("stt", "unmodelled", "STT tunnel", {}, true),
    gtpu: iface("gtpu", "unmodelled", "GTP-U tunnel", {}, true),
    bareudp: iface("bareudp", "unmodelled", "bare UDP tunnel", {}, true),
    srv6: iface("srv6", "unmodelled", "SRv6 tunnel", {}, true),
    afxdp: iface("afxdp", "unmodelled", "AF_XDP port", {}, true),
    "afxdp-nonpmd": iface("afxdp-nonpmd", "unmodelled", "AF_XDP port without PMD", {}, true),
  },
  aliases: { "": "system" },
};

/** Interface types that need the userspace (`netdev`) datapath. */
export const OVS_USERSPACE_TYPES: readonly string[] = [
  "dpdk",
  "dpdkvhostuser",
  "dpdkvhostuserclient",
  "afxdp",
  "afxdp-nonpmd",
];

/** A column of an OVSDB table as `ovs-vsctl set` writes it. */
export interface OvsColumn {
  readonly kind: "scalar" | "map";
  /** For scalars: the value's schema. For maps: the schema of values of unlisted keys. */
  readonly value?: PropSchema;
  /** For maps: known keys (`other_config:pmd-cpu-mask`). */
  readonly keys?: Readonly<Record<string, PropSchema>>;
  /** Map keys not listed are accepted unchecked. */
  readonly openKeys?: boolean;
  readonly ioRelevant: boolean;
  readonly desc: string;
}

function scalar(value: PropSchema): OvsColumn {
  return { kind: "scalar", value, ioRelevant: value.ioRelevant, desc: value.desc };
}

function map(
  desc: string,
  keys: Record<string, PropSchema>,
  ioRelevant: boolean,
  openKeys = false,
): OvsColumn {
  return { kind: "map", keys, ioRelevant, desc, ...(openKeys ? { openKeys } : {}) };
}

const FREE_MAP = (desc: string) => map(desc, {}, false, true);

// vswitch.xml Interface table.
const INTERFACE_COLUMNS: Readonly<Record<string, OvsColumn>> = {
  type: scalar({
    type: "string",
    ioRelevant: true,
    desc: "interface type (see OVS_INTERFACE_TYPES)",
  }),
  options: map("type-specific configuration", {}, true),
  mtu_request: scalar({
    type: "uint",
    width: 32,
    ioRelevant: true,
    desc: "requested MTU (DPDK ports and internal ports)",
  }),
  ofport_request: scalar({
    type: "uint",
    width: 16,
    ioRelevant: false,
    desc: "OpenFlow port number",
  }),
  mac: scalar({ type: "mac", ioRelevant: false, desc: "MAC of an internal interface" }),
  ingress_policing_rate: scalar({ type: "uint", ioRelevant: false, desc: "kbps limit" }),
  ingress_policing_burst: scalar({ type: "uint", ioRelevant: false, desc: "kb burst" }),
  other_config: map(
    "per-interface tuning",
    {
      "pmd-rxq-affinity": {
        type: "string",
        ioRelevant: true,
        desc: "queue:core pinning of Rx queues to PMD threads",
      },
      "tx-steering": {
        type: "enum",
        values: ["thread", "hash"],
        default: "thread",
        ioRelevant: true,
        desc: "Tx queue selection",
      },
    },
    true,
    true,
  ),
  external_ids: FREE_MAP("integrations' keys"),
};

// vswitch.xml Port table.
const PORT_COLUMNS: Readonly<Record<string, OvsColumn>> = {
  tag: scalar({ type: "uint", width: 16, max: 4095, ioRelevant: true, desc: "access VLAN" }),
  trunks: scalar({ type: "list", ioRelevant: true, desc: "trunked VLANs" }),
  vlan_mode: scalar({
    type: "enum",
    values: ["trunk", "access", "native-tagged", "native-untagged", "dot1q-tunnel"],
    ioRelevant: true,
    desc: "VLAN mode",
  }),
  bond_mode: scalar({
    type: "enum",
    values: ["balance-tcp", "balance-slb", "active-backup"],
    ioRelevant: false,
    desc: "bond mode",
  }),
  other_config: FREE_MAP("per-port tuning"),
  external_ids: FREE_MAP("integrations' keys"),
};

// vswitch.xml Bridge table.
const BRIDGE_COLUMNS: Readonly<Record<string, OvsColumn>> = {
  datapath_type: scalar({
    type: "enum",
    values: ["", "system", "netdev"],
    default: "system",
    ioRelevant: true,
    desc: "kernel (system) or userspace (netdev, needed by DPDK ports) datapath",
  }),
  fail_mode: scalar({
    type: "enum",
    values: ["secure", "standalone"],
    ioRelevant: false,
    desc: "behaviour without a controller",
  }),
  stp_enable: scalar({ type: "bool", default: false, ioRelevant: false, desc: "STP" }),
  rstp_enable: scalar({ type: "bool", default: false, ioRelevant: false, desc: "RSTP" }),
  mcast_snooping_enable: scalar({ type: "bool", default: false, ioRelevant: false, desc: "IGMP" }),
  protocols: scalar({ type: "list", ioRelevant: false, desc: "OpenFlow versions" }),
  other_config: FREE_MAP("per-bridge tuning"),
  external_ids: FREE_MAP("integrations' keys"),
};

// vswitch.xml Open_vSwitch table other_config (DPDK and PMD settings).
const OPEN_VSWITCH_COLUMNS: Readonly<Record<string, OvsColumn>> = {
  other_config: map(
    "global OVS-DPDK configuration",
    {
      "dpdk-init": {
        type: "enum",
        values: ["true", "false", "try"],
        default: "false",
        ioRelevant: true,
        desc: "initialise DPDK (needed by every DPDK port)",
      },
      "dpdk-socket-mem": { type: "string", ioRelevant: false, desc: "hugepage MiB per NUMA node" },
      "dpdk-socket-limit": { type: "string", ioRelevant: false, desc: "hugepage MiB limit" },
      "dpdk-lcore-mask": { type: "string", ioRelevant: false, desc: "cores of non-PMD threads" },
      "dpdk-hugepage-dir": { type: "path", ioRelevant: false, desc: "hugetlbfs mount" },
      "dpdk-extra": { type: "string", ioRelevant: false, desc: "extra EAL arguments" },
      "pmd-cpu-mask": {
        type: "string",
        ioRelevant: true,
        desc: "hex mask of the cores that run PMD threads",
      },
      "pmd-rxq-assign": {
        type: "enum",
        values: ["cycles", "roundrobin", "group"],
        default: "cycles",
        ioRelevant: true,
        desc: "how Rx queues are spread over PMD threads",
      },
      "vhost-iommu-support": {
        type: "bool",
        default: false,
        ioRelevant: true,
        desc: "let vhost-user ports work with a guest vIOMMU",
      },
      "vhost-postcopy-support": {
        type: "bool",
        default: false,
        ioRelevant: false,
        desc: "post-copy migration of vhost-user ports",
      },
      "vhost-sock-dir": { type: "path", ioRelevant: true, desc: "dpdkvhostuser socket directory" },
      "userspace-tso-enable": {
        type: "bool",
        default: false,
        ioRelevant: true,
        desc: "TSO in the userspace datapath",
      },
      "per-port-memory": {
        type: "bool",
        default: false,
        ioRelevant: false,
        desc: "mempool per port",
      },
      "hw-offload": { type: "bool", default: false, ioRelevant: false, desc: "flow offload" },
      "max-idle": { type: "uint", ioRelevant: false, desc: "flow idle timeout (ms)" },
      "n-handler-threads": { type: "uint", ioRelevant: false, desc: "upcall handler threads" },
      "n-revalidator-threads": { type: "uint", ioRelevant: false, desc: "revalidator threads" },
      "emc-insert-inv-prob": { type: "uint", ioRelevant: false, desc: "EMC insertion probability" },
      "smc-enable": {
        type: "bool",
        default: false,
        ioRelevant: false,
        desc: "signature match cache",
      },
    },
    true,
    true,
  ),
  external_ids: FREE_MAP("integrations' keys"),
};

/** The columns `ovs-vsctl set`/`add-port` may write, per table the lab models. */
export const OVS_TABLE_COLUMNS: Readonly<Record<string, Readonly<Record<string, OvsColumn>>>> = {
  Interface: INTERFACE_COLUMNS,
  Port: PORT_COLUMNS,
  Bridge: BRIDGE_COLUMNS,
  Open_vSwitch: OPEN_VSWITCH_COLUMNS,
};
