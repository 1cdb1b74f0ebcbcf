/**
 * QEMU device drivers (`-device DRIVER,prop=value,…`) with their property schemas.
 *
 * Property names, C types and defaults come from the `Property` tables in QEMU's sources,
 * cited above each table: hw/net/virtio-net.c `virtio_net_properties`, include/hw/virtio/
 * virtio.h `DEFINE_VIRTIO_COMMON_FEATURES` and hw/virtio/virtio.c `virtio_properties`,
 * hw/virtio/virtio-pci.c `virtio_pci_properties`, hw/virtio/virtio-net-pci.c, hw/pci/pci.c
 * `pci_props`, hw/i386/x86-iommu.c and hw/i386/intel_iommu.c `vtd_properties`,
 * hw/virtio/virtio-iommu.c, hw/vfio/pci.c, hw/pci-bridge/*. `-device` properties are set
 * through QEMU's keyval visitor (`style: "keyval"`: `Parameter 'mq' expects 'on' or 'off'`,
 * `Property 'virtio-net-pci.vhsot' not found`).
 *
 * Classes the lab models: the virtio-net family, vfio-pci, intel-iommu, virtio-iommu-pci and
 * the PCI(e) bridges that decide a device's bus. NICs with their own device model (e1000,
 * e1000e, rtl8139 …) and `vhost-vdpa-device-pci` are `unmodelled`. Everything without an I/O
 * effect the lab simulates (displays, input, storage, serial, rng, balloon) is `ignored`.
 *
 * @example The defaults a virtio-net-pci gets
 * ```ts
 * import { findClass } from "./schema.ts";
 * import { DEVICE_DRIVERS } from "./qemu_device.ts";
 * const nic = findClass(DEVICE_DRIVERS, "virtio-net-pci");
 * if (nic?.props.tx_queue_size?.default !== 256) throw new Error("tx_queue_size defaults to 256");
 * if (nic?.props.mq?.default !== false) throw new Error("mq defaults to off");
 * ```
 *
 * @module
 */

import type { ClassCatalog, ClassSchema, PropSchema } from "./schema.ts";

/** Generic `-device` options handled by qdev_device_add (softmmu/qdev-monitor.c). */
export const DEVICE_COMMON_PROPS = {
  id: { type: "id", ioRelevant: true, desc: "device id (names the device and its bus)" },
  bus: {
    type: "ref",
    refKind: "bus",
    ioRelevant: true,
    desc: "parent bus: the id of a bridge or root port, or `pcie.0`/`pci.0`",
  },
} as const satisfies Record<string, PropSchema>;

// hw/pci/pci.c pci_props.
const PCI_DEVICE_PROPS = {
  ...DEVICE_COMMON_PROPS,
  addr: {
    type: "devfn",
    defaultDesc: "first free slot",
    ioRelevant: false,
    desc: "slot[.function] on the parent bus",
  },
  romfile: { type: "path", ioRelevant: false, desc: "option ROM image" },
  romsize: { type: "uint", width: 32, ioRelevant: false, desc: "option ROM BAR size" },
  rombar: { type: "uint", width: 32, default: 1, ioRelevant: false, desc: "expose the ROM BAR" },
  multifunction: { type: "bool", default: false, ioRelevant: false, desc: "multifunction bit" },
  "x-pcie-lnksta-dllla": {
    type: "bool",
    default: true,
    ioRelevant: false,
    desc: "report Data Link Layer Link Active",
  },
  "x-pcie-extcap-init": {
    type: "bool",
    default: true,
    ioRelevant: false,
    desc: "initialize PCIe extended capabilities",
  },
  failover_pair_id: {
    type: "string",
    ioRelevant: false,
    desc: "id of the virtio-net standby device (net failover)",
  },
  "acpi-index": { type: "uint", width: 32, default: 0, ioRelevant: false, desc: "ACPI _DSM index" },
  "x-max-bounce-buffer-size": {
    type: "size",
    default: 4096,
    ioRelevant: false,
    desc: "DMA bounce buffer limit",
  },
} as const satisfies Record<string, PropSchema>;

// include/hw/virtio/virtio.h DEFINE_VIRTIO_COMMON_FEATURES and hw/virtio/virtio.c
// virtio_properties (notification_data since QEMU 8.1).
const VIRTIO_COMMON_PROPS = {
  indirect_desc: {
    type: "bool",
    default: true,
    ioRelevant: true,
    desc: "offer VIRTIO_RING_F_INDIRECT_DESC (28)",
  },
  event_idx: {
    type: "bool",
    default: true,
    ioRelevant: true,
    desc: "offer VIRTIO_RING_F_EVENT_IDX (29): used/avail event suppression",
  },
  notify_on_empty: {
    type: "bool",
    default: true,
    ioRelevant: true,
    desc: "offer VIRTIO_F_NOTIFY_ON_EMPTY (24, legacy)",
  },
  any_layout: {
    type: "bool",
    default: true,
    ioRelevant: true,
    desc: "offer VIRTIO_F_ANY_LAYOUT (27, legacy)",
  },
  iommu_platform: {
    type: "bool",
    default: false,
    ioRelevant: true,
    desc: "offer VIRTIO_F_ACCESS_PLATFORM (33): DMA goes through the (v)IOMMU",
  },
  packed: {
    type: "bool",
    default: false,
    ioRelevant: true,
    desc: "offer VIRTIO_F_RING_PACKED (34): packed virtqueues",
  },
  queue_reset: {
    type: "bool",
    default: true,
    defaultDesc: "on (off for machine types before 7.2)",
    ioRelevant: true,
    desc: "offer VIRTIO_F_RING_RESET (40)",
  },
  in_order: {
    type: "bool",
    default: false,
    ioRelevant: true,
    desc: "offer VIRTIO_F_IN_ORDER (35)",
  },
  notification_data: {
    type: "bool",
    default: false,
    ioRelevant: true,
    desc: "offer VIRTIO_F_NOTIFICATION_DATA (38)",
  },
  "use-started": { type: "bool", default: true, ioRelevant: false, desc: "migration compat" },
  "use-disabled-flag": { type: "bool", default: true, ioRelevant: false, desc: "migration compat" },
  "x-disable-legacy-check": {
    type: "bool",
    default: false,
    ioRelevant: false,
    desc: "allow legacy on modern-only devices",
  },
} as const satisfies Record<string, PropSchema>;

// hw/virtio/virtio-pci.c virtio_pci_properties (page-per-vq was dropped in QEMU 10.0; kept
// here because the reference SVQ command line uses it and earlier QEMU accepts it).
const VIRTIO_PCI_PROPS = {
  "virtio-pci-bus-master-bug-migration": {
    type: "bool",
    default: false,
    ioRelevant: false,
    desc: "migration compat",
  },
  "disable-legacy": {
    type: "onoffauto",
    default: "auto",
    defaultDesc: "auto: on behind a PCIe port, off on a conventional or root bus",
    ioRelevant: true,
    desc: "hide the legacy (virtio 0.9.5) interface",
  },
  "disable-modern": {
    type: "bool",
    default: false,
    ioRelevant: true,
    desc: "hide the modern (virtio 1.x) interface",
  },
  "migrate-extra": { type: "bool", default: true, ioRelevant: false, desc: "migration compat" },
  "modern-pio-notify": {
    type: "bool",
    default: false,
    ioRelevant: true,
    desc: "notify through a PIO BAR instead of MMIO",
  },
  "x-disable-pcie": {
    type: "bool",
    default: false,
    ioRelevant: false,
    desc: "present a conventional PCI device on a PCIe bus",
  },
  "page-per-vq": {
    type: "bool",
    default: false,
    ioRelevant: true,
    desc: "one 4 KiB notify page per queue (vDPA host notifiers)",
  },
  "x-ignore-backend-features": {
    type: "bool",
    default: false,
    ioRelevant: false,
    desc: "debug: ignore the backend's feature bits",
  },
  ats: {
    type: "bool",
    default: false,
    ioRelevant: true,
    desc: "PCIe ATS capability (device IOTLB with intel-iommu device-iotlb=on)",
  },
  "x-ats-page-aligned": {
    type: "bool",
    default: true,
    ioRelevant: false,
    desc: "ATS page-aligned requests",
  },
  "x-pcie-deverr-init": { type: "bool", default: true, ioRelevant: false, desc: "PCIe compat" },
  "x-pcie-lnkctl-init": { type: "bool", default: true, ioRelevant: false, desc: "PCIe compat" },
  "x-pcie-pm-init": { type: "bool", default: true, ioRelevant: false, desc: "PCIe compat" },
  "x-pcie-flr-init": { type: "bool", default: true, ioRelevant: false, desc: "PCIe compat" },
  aer: { type: "bool", default: false, ioRelevant: false, desc: "PCIe AER capability" },
  ioeventfd: {
    type: "bool",
    default: true,
    ioRelevant: true,
    desc: "kicks go through a KVM ioeventfd instead of a QEMU MMIO exit handler",
  },
} as const satisfies Record<string, PropSchema>;

function bit(desc: string, dflt: boolean): PropSchema {
  return { type: "bool", default: dflt, ioRelevant: true, desc };
}

// hw/net/virtio-net.c virtio_net_properties and DEFINE_NIC_PROPERTIES (mac, netdev);
// TX_TIMER_INTERVAL 150000, TX_BURST 256, VIRTIO_NET_RX/TX_QUEUE_DEFAULT_SIZE 256,
// VIRTIO_NET_RSC_DEFAULT_INTERVAL 300000, SPEED_UNKNOWN -1. guest_uso4/6 and host_uso are
// QEMU 8.2+.
const VIRTIO_NET_PROPS = {
  mac: {
    type: "mac",
    defaultDesc: "52:54:00:12:34:56, then 57, 58 … per NIC",
    ioRelevant: true,
    desc: "MAC address in the config space",
  },
  netdev: {
    type: "ref",
    refKind: "netdev",
    ioRelevant: true,
    desc: "id of the backend (-netdev) this NIC is wired to",
  },
  bootindex: { type: "int", width: 32, default: -1, ioRelevant: false, desc: "boot order" },
  csum: bit("offer VIRTIO_NET_F_CSUM (0): device checksums", true),
  guest_csum: bit("offer VIRTIO_NET_F_GUEST_CSUM (1)", true),
  gso: bit("offer VIRTIO_NET_F_GSO (6, legacy)", true),
  guest_tso4: bit("offer VIRTIO_NET_F_GUEST_TSO4 (7)", true),
  guest_tso6: bit("offer VIRTIO_NET_F_GUEST_TSO6 (8)", true),
  guest_ecn: bit("offer VIRTIO_NET_F_GUEST_ECN (9)", true),
  guest_ufo: bit("offer VIRTIO_NET_F_GUEST_UFO (10)", true),
  guest_announce: bit("offer VIRTIO_NET_F_GUEST_ANNOUNCE (21)", true),
  host_tso4: bit("offer VIRTIO_NET_F_HOST_TSO4 (11)", true),
  host_tso6: bit("offer VIRTIO_NET_F_HOST_TSO6 (12)", true),
  host_ecn: bit("offer VIRTIO_NET_F_HOST_ECN (13)", true),
  host_ufo: bit("offer VIRTIO_NET_F_HOST_UFO (14)", true),
  guest_uso4: bit("offer VIRTIO_NET_F_GUEST_USO4 (54)", true),
  guest_uso6: bit("offer VIRTIO_NET_F_GUEST_USO6 (55)", true),
  host_uso: bit("offer VIRTIO_NET_F_HOST_USO (56)", true),
  mrg_rxbuf: bit("offer VIRTIO_NET_F_MRG_RXBUF (15): mergeable receive buffers", true),
  status: bit("offer VIRTIO_NET_F_STATUS (16): link status", true),
  ctrl_vq: bit("offer VIRTIO_NET_F_CTRL_VQ (17): control virtqueue", true),
  ctrl_rx: bit("offer VIRTIO_NET_F_CTRL_RX (18)", true),
  ctrl_vlan: bit("offer VIRTIO_NET_F_CTRL_VLAN (19)", true),
  ctrl_rx_extra: bit("offer VIRTIO_NET_F_CTRL_RX_EXTRA (20)", true),
  ctrl_mac_addr: bit("offer VIRTIO_NET_F_CTRL_MAC_ADDR (23)", true),
  ctrl_guest_offloads: bit("offer VIRTIO_NET_F_CTRL_GUEST_OFFLOADS (2)", true),
  mq: bit("offer VIRTIO_NET_F_MQ (22): multiqueue (use with netdev queues=N)", false),
  rss: bit("offer VIRTIO_NET_F_RSS (60)", false),
  hash: bit("offer VIRTIO_NET_F_HASH_REPORT (57)", false),
  guest_rsc_ext: bit("offer VIRTIO_NET_F_RSC_EXT (61)", false),
  rsc_interval: {
    type: "uint",
    width: 32,
    default: 300000,
    ioRelevant: false,
    desc: "RSC coalescing interval in ns",
  },
  "x-txtimer": {
    type: "uint",
    width: 32,
    default: 150000,
    ioRelevant: true,
    desc: "tx=timer: batching delay in ns",
  },
  "x-txburst": {
    type: "int",
    width: 32,
    default: 256,
    ioRelevant: true,
    desc: "packets QEMU's userspace tx handler sends per run",
  },
  tx: {
    type: "enum",
    values: ["bh", "timer"],
    default: "bh",
    ioRelevant: true,
    desc: "userspace tx scheduling: bottom half or timer",
  },
  rx_queue_size: {
    type: "uint",
    width: 16,
    default: 256,
    ioRelevant: true,
    desc: "rx virtqueue size: a power of 2 from 256 to 1024",
  },
  tx_queue_size: {
    type: "uint",
    width: 16,
    default: 256,
    ioRelevant: true,
    desc: "tx virtqueue size: a power of 2 from 256 to 1024 (above 256 only for vhost-user/vdpa)",
  },
  host_mtu: {
    type: "uint",
    width: 16,
    default: 0,
    ioRelevant: true,
    desc: "offer VIRTIO_NET_F_MTU (3) with this MTU (0: off)",
  },
  "x-mtu-bypass-backend": {
    type: "bool",
    default: true,
    ioRelevant: false,
    desc: "do not require the backend to accept host_mtu",
  },
  speed: {
    type: "int",
    width: 32,
    default: -1,
    ioRelevant: false,
    desc: "link speed in Mb/s reported with VIRTIO_NET_F_SPEED_DUPLEX (-1: unknown)",
  },
  duplex: {
    type: "enum",
    values: ["half", "full"],
    ioRelevant: false,
    desc: "link duplex reported with VIRTIO_NET_F_SPEED_DUPLEX",
  },
  failover: {
    type: "bool",
    default: false,
    ioRelevant: false,
    desc: "standby device of a net failover pair",
  },
} as const satisfies Record<string, PropSchema>;

// hw/virtio/virtio-net-pci.c: vectors defaults to DEV_NVECTORS_UNSPECIFIED and realize picks
// 2 * MAX(queues, 1) + 2 (3 on machine types up to 5.2, through hw_compat).
const VIRTIO_NET_PCI_OWN_PROPS = {
  vectors: {
    type: "uint",
    width: 32,
    defaultDesc: "2 × max(queues, 1) + 2 (3 on machine types ≤ 5.2)",
    ioRelevant: true,
    desc: "MSI-X table size",
  },
} as const satisfies Record<string, PropSchema>;

/** Every property of `virtio-net-pci` (and its transitional variants). */
export const VIRTIO_NET_PCI_PROPS: Readonly<Record<string, PropSchema>> = {
  ...PCI_DEVICE_PROPS,
  ...VIRTIO_PCI_PROPS,
  ...VIRTIO_COMMON_PROPS,
  ...VIRTIO_NET_PROPS,
  ...VIRTIO_NET_PCI_OWN_PROPS,
};

// hw/i386/x86-iommu.c x86_iommu_properties and hw/i386/intel_iommu.c vtd_properties
// (VTD_HOST_ADDRESS_WIDTH = 39).
const INTEL_IOMMU_PROPS = {
  ...DEVICE_COMMON_PROPS,
  intremap: {
    type: "onoffauto",
    default: "auto",
    defaultDesc: "auto: on unless kernel-irqchip=on under KVM",
    ioRelevant: true,
    desc: "interrupt remapping",
  },
  "device-iotlb": {
    type: "bool",
    default: false,
    ioRelevant: true,
    desc: "device IOTLB (ATS): vhost gets invalidations",
  },
  pt: { type: "bool", default: true, ioRelevant: true, desc: "pass-through (identity) support" },
  eim: {
    type: "onoffauto",
    default: "auto",
    ioRelevant: false,
    desc: "extended interrupt mode (x2APIC)",
  },
  "x-buggy-eim": { type: "bool", default: false, ioRelevant: false, desc: "compat" },
  version: { type: "uint", width: 32, default: 0, ioRelevant: false, desc: "VT-d version" },
  "aw-bits": {
    type: "uint",
    width: 8,
    default: 39,
    ioRelevant: true,
    desc: "IOVA address width: 39 (3-level tables) or 48 (4-level)",
  },
  "caching-mode": {
    type: "bool",
    default: false,
    ioRelevant: true,
    desc: "the guest reports every map (needed with vfio-pci behind it)",
  },
  "x-scalable-mode": { type: "bool", default: false, ioRelevant: true, desc: "scalable mode" },
  "x-flts": { type: "bool", default: false, ioRelevant: true, desc: "first-stage translation" },
  "snoop-control": { type: "bool", default: false, ioRelevant: false, desc: "snoop control" },
  "x-pasid-mode": { type: "bool", default: false, ioRelevant: false, desc: "PASID support" },
  "dma-drain": { type: "bool", default: true, ioRelevant: false, desc: "DMA drain" },
  "dma-translation": {
    type: "bool",
    default: true,
    ioRelevant: true,
    desc: "DMA translation (off: interrupt remapping only)",
  },
  "x-cap-fs1gp": {
    type: "bool",
    default: true,
    ioRelevant: false,
    desc: "1 GiB first-stage pages",
  },
} as const satisfies Record<string, PropSchema>;

// hw/virtio/virtio-iommu.c virtio_iommu_properties.
const VIRTIO_IOMMU_PCI_PROPS = {
  ...PCI_DEVICE_PROPS,
  ...VIRTIO_PCI_PROPS,
  ...VIRTIO_COMMON_PROPS,
  vectors: { type: "uint", width: 32, ioRelevant: false, desc: "MSI-X table size" },
  "boot-bypass": {
    type: "bool",
    default: true,
    ioRelevant: true,
    desc: "DMA bypasses translation until the guest driver probes",
  },
  granule: {
    type: "enum",
    values: ["4k", "8k", "16k", "64k", "host"],
    default: "host",
    ioRelevant: true,
    desc: "smallest page size the IOMMU maps",
  },
  "aw-bits": {
    type: "uint",
    width: 8,
    defaultDesc: "39 on q35, 48 on arm virt",
    ioRelevant: true,
    desc: "input address width (32..64)",
  },
  "reserved-regions": { type: "string", ioRelevant: false, desc: "reserved IOVA ranges" },
} as const satisfies Record<string, PropSchema>;

// hw/vfio/pci.c vfio_pci_properties (the subset users set; x-* tuning knobs are catalogued as
// ignored).
const VFIO_PCI_PROPS = {
  ...PCI_DEVICE_PROPS,
  host: {
    type: "pciaddr",
    ioRelevant: true,
    desc: "host PCI address of the device to assign (DDDD:BB:DD.F)",
  },
  sysfsdev: { type: "path", ioRelevant: true, desc: "sysfs path of the device to assign" },
  fd: { type: "string", ioRelevant: true, desc: "an already opened VFIO device fd" },
  iommufd: { type: "string", ioRelevant: true, desc: "iommufd object to use instead of a group" },
  "x-pre-copy-dirty-page-tracking": {
    type: "onoffauto",
    default: "on",
    ioRelevant: false,
    desc: "migration tuning",
  },
  "enable-migration": {
    type: "onoffauto",
    default: "auto",
    ioRelevant: false,
    desc: "allow migration",
  },
  display: { type: "onoffauto", default: "off", ioRelevant: false, desc: "vGPU display" },
  xres: { type: "uint", width: 32, ioRelevant: false, desc: "display width" },
  yres: { type: "uint", width: 32, ioRelevant: false, desc: "display height" },
  "x-intx-mmap-timeout-ms": {
    type: "uint",
    width: 32,
    default: 1100,
    ioRelevant: false,
    desc: "INTx mmap re-enable delay",
  },
  "x-vga": { type: "bool", default: false, ioRelevant: false, desc: "VGA region" },
  "x-req": { type: "bool", default: true, ioRelevant: false, desc: "device request IRQ" },
  "x-igd-opregion": { type: "bool", default: true, ioRelevant: false, desc: "IGD OpRegion" },
  "x-no-mmap": { type: "bool", default: false, ioRelevant: true, desc: "trap BAR accesses" },
  "x-no-kvm-intx": { type: "bool", default: false, ioRelevant: false, desc: "no KVM INTx" },
  "x-no-kvm-msi": { type: "bool", default: false, ioRelevant: false, desc: "no KVM MSI" },
  "x-no-kvm-msix": { type: "bool", default: false, ioRelevant: false, desc: "no KVM MSI-X" },
  "x-balloon-allowed": { type: "bool", default: false, ioRelevant: false, desc: "ballooning" },
} as const satisfies Record<string, PropSchema>;

// hw/pci-bridge/gen_pcie_root_port.c and pcie_root_port.c.
const PCIE_ROOT_PORT_PROPS = {
  ...PCI_DEVICE_PROPS,
  chassis: { type: "uint", width: 8, default: 0, ioRelevant: false, desc: "chassis number" },
  slot: { type: "uint", width: 16, default: 0, ioRelevant: false, desc: "slot number" },
  port: { type: "uint", width: 8, default: 0, ioRelevant: false, desc: "port number" },
  hotplug: { type: "bool", default: true, ioRelevant: false, desc: "hot-plug support" },
  "bus-reserve": { type: "uint", width: 32, ioRelevant: false, desc: "buses to reserve" },
  "io-reserve": { type: "size", ioRelevant: false, desc: "I/O window to reserve" },
  "mem-reserve": { type: "size", ioRelevant: false, desc: "MMIO window to reserve" },
  "pref32-reserve": { type: "size", ioRelevant: false, desc: "32-bit prefetch window" },
  "pref64-reserve": { type: "size", ioRelevant: false, desc: "64-bit prefetch window" },
  "x-speed": { type: "string", default: "16", ioRelevant: false, desc: "link speed" },
  "x-width": { type: "string", default: "32", ioRelevant: false, desc: "link width" },
  "x-migrate-msix": { type: "bool", default: true, ioRelevant: false, desc: "migration compat" },
} as const satisfies Record<string, PropSchema>;

// hw/pci-bridge/pci_bridge_dev.c pci_bridge_dev_properties.
const PCI_BRIDGE_PROPS = {
  ...PCI_DEVICE_PROPS,
  chassis_nr: {
    type: "uint",
    width: 8,
    required: true,
    ioRelevant: false,
    desc: "chassis number (must be unique and > 0)",
  },
  msi: { type: "onoffauto", default: "auto", ioRelevant: false, desc: "MSI capability" },
  shpc: { type: "bool", default: false, ioRelevant: false, desc: "SHPC hot-plug controller" },
} as const satisfies Record<string, PropSchema>;

// hw/virtio/vdpa-dev.c vhost_vdpa_device_properties.
const VHOST_VDPA_DEVICE_PCI_PROPS = {
  ...PCI_DEVICE_PROPS,
  ...VIRTIO_PCI_PROPS,
  vhostdev: { type: "path", ioRelevant: true, desc: "vhost-vdpa character device" },
  vhostfd: { type: "string", ioRelevant: true, desc: "an already opened vhost-vdpa fd" },
  "queue-size": {
    type: "uint",
    width: 16,
    default: 0,
    defaultDesc: "0: the device's maximum",
    ioRelevant: true,
    desc: "virtqueue size",
  },
} as const satisfies Record<string, PropSchema>;

// NIC models the lab does not simulate keep DEFINE_NIC_PROPERTIES so links are still checked.
const OTHER_NIC_PROPS = {
  ...PCI_DEVICE_PROPS,
  mac: { type: "mac", ioRelevant: true, desc: "MAC address" },
  netdev: { type: "ref", refKind: "netdev", ioRelevant: true, desc: "backend id" },
  bootindex: { type: "int", width: 32, default: -1, ioRelevant: false, desc: "boot order" },
} as const satisfies Record<string, PropSchema>;

function cls(
  name: string,
  status: ClassSchema["status"],
  desc: string,
  props: Readonly<Record<string, PropSchema>>,
  openProps = false,
): ClassSchema {
  return { name, desc, status, style: "keyval", props, ...(openProps ? { openProps } : {}) };
}

function ignored(name: string, desc: string, refs: Record<string, PropSchema> = {}): ClassSchema {
  return cls(name, "ignored", desc, { ...DEVICE_COMMON_PROPS, ...refs }, true);
}

const CHARDEV_REF: Record<string, PropSchema> = {
  chardev: { type: "ref", refKind: "chardev", ioRelevant: false, desc: "chardev backend" },
};
const DRIVE_REF: Record<string, PropSchema> = {
  drive: { type: "ref", refKind: "drive", ioRelevant: false, desc: "block backend" },
};

/** The `-device` drivers the lab knows, by QOM type name. */
export const DEVICE_DRIVERS: ClassCatalog = {
  kind: "device driver",
  classes: {
    "virtio-net-pci": cls(
      "virtio-net-pci",
      "modelled",
      "virtio network device on PCI (transitional unless disable-legacy=on)",
      VIRTIO_NET_PCI_PROPS,
    ),
    "virtio-net-pci-non-transitional": cls(
      "virtio-net-pci-non-transitional",
      "modelled",
      "virtio-net-pci with the modern (1.x) interface only",
      VIRTIO_NET_PCI_PROPS,
    ),
    "virtio-net-pci-transitional": cls(
      "virtio-net-pci-transitional",
      "modelled",
      "virtio-net-pci with both legacy and modern interfaces",
      VIRTIO_NET_PCI_PROPS,
    ),
    "virtio-net-device": cls(
      "virtio-net-device",
      "modelled",
      "virtio network device on a virtio bus (virtio-mmio, microvm)",
      { ...DEVICE_COMMON_PROPS, ...VIRTIO_COMMON_PROPS, ...VIRTIO_NET_PROPS },
    ),
    "vfio-pci": cls(
      "vfio-pci",
      "modelled",
      "assign a host PCI device (SR-IOV VF) through VFIO",
      VFIO_PCI_PROPS,
    ),
    "intel-iommu": cls(
      "intel-iommu",
      "modelled",
      "emulated Intel VT-d IOMMU (q35 only)",
      INTEL_IOMMU_PROPS,
    ),
    "virtio-iommu-pci": cls(
      "virtio-iommu-pci",
      "modelled",
      "paravirtual IOMMU on PCI",
      VIRTIO_IOMMU_PCI_PROPS,
    ),
    "pcie-root-port": cls(
      "pcie-root-port",
      "modelled",
      "PCIe root port: a slot for one PCIe device (modern-only virtio behind it)",
      PCIE_ROOT_PORT_PROPS,
    ),
    "pci-bridge": cls(
      "pci-bridge",
      "modelled",
      "PCI-to-PCI bridge with a conventional PCI bus behind it",
      PCI_BRIDGE_PROPS,
    ),
    ioh3420: cls(
      "ioh3420",
      "modelled",
      "Intel X58 PCIe root port (the older root port model)",
      PCIE_ROOT_PORT_PROPS,
    ),
    "xio3130-downstream": cls(
      "xio3130-downstream",
      "modelled",
      "TI X3130 PCIe switch downstream port",
      PCIE_ROOT_PORT_PROPS,
    ),
    "x3130-upstream": cls(
      "x3130-upstream",
      "modelled",
      "TI X3130 PCIe switch upstream port",
      PCI_DEVICE_PROPS,
    ),
    "pcie-pci-bridge": cls(
      "pcie-pci-bridge",
      "modelled",
      "PCIe-to-PCI bridge: a conventional PCI bus on a PCIe machine",
      { ...PCI_DEVICE_PROPS, msi: PCI_BRIDGE_PROPS.msi },
    ),
    "i82801b11-bridge": cls("i82801b11-bridge", "modelled", "DMI-to-PCI bridge", PCI_DEVICE_PROPS),
    "pxb-pcie": cls("pxb-pcie", "modelled", "PCIe expander bridge: an extra root bus", {
      ...PCI_DEVICE_PROPS,
      bus_nr: { type: "uint", width: 8, default: 0, ioRelevant: false, desc: "bus number" },
      numa_node: { type: "uint", width: 16, ioRelevant: false, desc: "NUMA node" },
    }),
    pxb: cls("pxb", "modelled", "PCI expander bridge: an extra root bus", {
      ...PCI_DEVICE_PROPS,
      bus_nr: { type: "uint", width: 8, default: 0, ioRelevant: false, desc: "bus number" },
      numa_node: { type: "uint", width: 16, ioRelevant: false, desc: "NUMA node" },
    }),
    "vhost-vdpa-device-pci": cls(
      "vhost-vdpa-device-pci",
      "unmodelled",
      "generic vDPA passthrough device (any virtio type)",
      VHOST_VDPA_DEVICE_PCI_PROPS,
    ),
    e1000: cls("e1000", "unmodelled", "Intel 82540EM NIC", OTHER_NIC_PROPS, true),
    e1000e: cls("e1000e", "unmodelled", "Intel 82574L NIC", OTHER_NIC_PROPS, true),
    igb: cls("igb", "unmodelled", "Intel 82576 NIC", OTHER_NIC_PROPS, true),
    rtl8139: cls("rtl8139", "unmodelled", "Realtek 8139 NIC", OTHER_NIC_PROPS, true),
    vmxnet3: cls("vmxnet3", "unmodelled", "VMware paravirtual NIC", OTHER_NIC_PROPS, true),
    "e1000-82544gc": cls("e1000-82544gc", "unmodelled", "Intel 82544GC NIC", OTHER_NIC_PROPS, true),
    "e1000-82545em": cls("e1000-82545em", "unmodelled", "Intel 82545EM NIC", OTHER_NIC_PROPS, true),
    i82559er: cls("i82559er", "unmodelled", "Intel 82559ER NIC", OTHER_NIC_PROPS, true),
    i82551: cls("i82551", "unmodelled", "Intel 82551 NIC", OTHER_NIC_PROPS, true),
    i82557b: cls("i82557b", "unmodelled", "Intel 82557B NIC", OTHER_NIC_PROPS, true),
    ne2k_pci: cls("ne2k_pci", "unmodelled", "NE2000 PCI NIC", OTHER_NIC_PROPS, true),
    pcnet: cls("pcnet", "unmodelled", "AMD PCnet NIC", OTHER_NIC_PROPS, true),
    tulip: cls("tulip", "unmodelled", "DEC Tulip NIC", OTHER_NIC_PROPS, true),
    "usb-net": cls("usb-net", "unmodelled", "USB network adapter", OTHER_NIC_PROPS, true),
    "virtio-blk-pci": ignored("virtio-blk-pci", "virtio block device", DRIVE_REF),
    "virtio-scsi-pci": ignored("virtio-scsi-pci", "virtio SCSI controller"),
    "scsi-hd": ignored("scsi-hd", "SCSI disk", DRIVE_REF),
    "ide-hd": ignored("ide-hd", "IDE disk", DRIVE_REF),
    "ide-cd": ignored("ide-cd", "IDE CD-ROM", DRIVE_REF),
    nvme: ignored("nvme", "NVMe controller", DRIVE_REF),
    "virtio-serial-pci": ignored("virtio-serial-pci", "virtio console/serial controller"),
    virtserialport: ignored("virtserialport", "virtio serial port", CHARDEV_REF),
    virtconsole: ignored("virtconsole", "virtio console port", CHARDEV_REF),
    "isa-serial": ignored("isa-serial", "16550 UART", CHARDEV_REF),
    "pci-serial": ignored("pci-serial", "PCI 16550 UART", CHARDEV_REF),
    "virtio-rng-pci": ignored("virtio-rng-pci", "virtio entropy source"),
    "virtio-balloon-pci": ignored("virtio-balloon-pci", "virtio memory balloon"),
    "virtio-gpu-pci": ignored("virtio-gpu-pci", "virtio GPU"),
    "virtio-vga": ignored("virtio-vga", "virtio GPU with VGA"),
    "virtio-keyboard-pci": ignored("virtio-keyboard-pci", "virtio keyboard"),
    "virtio-mouse-pci": ignored("virtio-mouse-pci", "virtio mouse"),
    "virtio-tablet-pci": ignored("virtio-tablet-pci", "virtio tablet"),
    "vhost-vsock-pci": ignored("vhost-vsock-pci", "vsock through vhost"),
    VGA: ignored("VGA", "standard VGA"),
    qxl: ignored("qxl", "QXL display"),
    "qxl-vga": ignored("qxl-vga", "QXL display with VGA"),
    "cirrus-vga": ignored("cirrus-vga", "Cirrus VGA"),
    "bochs-display": ignored("bochs-display", "Bochs display"),
    ramfb: ignored("ramfb", "RAM framebuffer"),
    "qemu-xhci": ignored("qemu-xhci", "USB 3 controller"),
    "nec-usb-xhci": ignored("nec-usb-xhci", "USB 3 controller"),
    "usb-ehci": ignored("usb-ehci", "USB 2 controller"),
    "usb-tablet": ignored("usb-tablet", "USB tablet"),
    "usb-kbd": ignored("usb-kbd", "USB keyboard"),
    "usb-mouse": ignored("usb-mouse", "USB mouse"),
    i6300esb: ignored("i6300esb", "watchdog"),
    pvpanic: ignored("pvpanic", "panic notification device"),
    vmcoreinfo: ignored("vmcoreinfo", "crash dump info"),
    "pvpanic-pci": ignored("pvpanic-pci", "panic notification device on PCI"),
    vmgenid: ignored("vmgenid", "VM generation id"),
    "ich9-ahci": ignored("ich9-ahci", "ICH9 SATA controller"),
    ahci: ignored("ahci", "SATA controller"),
    "scsi-cd": ignored("scsi-cd", "SCSI CD-ROM", DRIVE_REF),
    "scsi-generic": ignored("scsi-generic", "SCSI passthrough", DRIVE_REF),
    "usb-storage": ignored("usb-storage", "USB disk", DRIVE_REF),
    "usb-host": ignored("usb-host", "USB passthrough"),
    "usb-serial": ignored("usb-serial", "USB serial adapter", CHARDEV_REF),
    "usb-audio": ignored("usb-audio", "USB audio"),
    "piix3-usb-uhci": ignored("piix3-usb-uhci", "USB 1 controller"),
    "ich9-usb-ehci1": ignored("ich9-usb-ehci1", "USB 2 controller"),
    "ich9-usb-uhci1": ignored("ich9-usb-uhci1", "USB 1 controller"),
    "ich9-intel-hda": ignored("ich9-intel-hda", "HD audio controller"),
    "intel-hda": ignored("intel-hda", "HD audio controller"),
    "hda-duplex": ignored("hda-duplex", "HD audio codec"),
    "hda-output": ignored("hda-output", "HD audio codec"),
    "hda-micro": ignored("hda-micro", "HD audio codec"),
    AC97: ignored("AC97", "AC97 audio"),
    ES1370: ignored("ES1370", "ES1370 audio"),
    "virtio-sound-pci": ignored("virtio-sound-pci", "virtio sound"),
    "virtio-9p-pci": ignored("virtio-9p-pci", "9p file system"),
    "vhost-user-fs-pci": ignored("vhost-user-fs-pci", "virtiofs", CHARDEV_REF),
    "vhost-user-blk-pci": ignored("vhost-user-blk-pci", "vhost-user block device", CHARDEV_REF),
    "vhost-scsi-pci": ignored("vhost-scsi-pci", "vhost SCSI"),
    "vhost-user-vsock-pci": ignored("vhost-user-vsock-pci", "vhost-user vsock", CHARDEV_REF),
    "ivshmem-plain": ignored("ivshmem-plain", "shared memory device"),
    "ivshmem-doorbell": ignored(
      "ivshmem-doorbell",
      "shared memory device with doorbell",
      CHARDEV_REF,
    ),
    "pc-dimm": ignored("pc-dimm", "hot-pluggable RAM"),
    nvdimm: ignored("nvdimm", "NVDIMM"),
    "virtio-mem-pci": ignored("virtio-mem-pci", "virtio memory device"),
    "virtio-pmem-pci": ignored("virtio-pmem-pci", "virtio persistent memory"),
    "tpm-tis": ignored("tpm-tis", "TPM (TIS)"),
    "tpm-crb": ignored("tpm-crb", "TPM (CRB)"),
    "virtio-crypto-pci": ignored("virtio-crypto-pci", "virtio crypto"),
    "virtio-input-host-pci": ignored("virtio-input-host-pci", "virtio input passthrough"),
    "virtio-vga-gl": ignored("virtio-vga-gl", "virtio GPU with VGA and OpenGL"),
    "virtio-gpu-gl-pci": ignored("virtio-gpu-gl-pci", "virtio GPU with OpenGL"),
    "vhost-user-gpu-pci": ignored("vhost-user-gpu-pci", "vhost-user GPU", CHARDEV_REF),
    "isa-debugcon": ignored("isa-debugcon", "debug console port", CHARDEV_REF),
    "pci-testdev": ignored("pci-testdev", "PCI test device"),
    edu: ignored("edu", "educational PCI device"),
    loader: ignored("loader", "generic loader"),
  },
  aliases: {
    // qdev-monitor.c qdev_alias_table.
    "virtio-net": "virtio-net-pci",
    "virtio-blk": "virtio-blk-pci",
    "virtio-serial": "virtio-serial-pci",
    "virtio-rng": "virtio-rng-pci",
    "virtio-balloon": "virtio-balloon-pci",
    "virtio-gpu": "virtio-gpu-pci",
    "virtio-iommu": "virtio-iommu-pci",
    "virtio-scsi": "virtio-scsi-pci",
    "virtio-keyboard": "virtio-keyboard-pci",
    "virtio-mouse": "virtio-mouse-pci",
    "virtio-tablet": "virtio-tablet-pci",
    // Same device model without hot-unplug.
    "vfio-pci-nohotplug": "vfio-pci",
  },
};

/** Drivers whose child bus is a PCIe slot (a modern-only virtio device sits behind them). */
export const PCIE_PORT_DRIVERS: readonly string[] = [
  "pcie-root-port",
  "ioh3420",
  "xio3130-downstream",
  "x3130-upstream",
];

/** Drivers that provide a conventional PCI bus or a new root bus. */
export const PCI_BRIDGE_DRIVERS: readonly string[] = [
  "pci-bridge",
  "pcie-pci-bridge",
  "i82801b11-bridge",
  "pxb",
  "pxb-pcie",
];

/** virtio-net drivers (the frontends vhost-user and vhost-vdpa accept). */
export const VIRTIO_NET_DRIVERS: readonly string[] = [
  "virtio-net-pci",
  "virtio-net-pci-non-transitional",
  "virtio-net-pci-transitional",
  "virtio-net-device",
];

/** `-net nic,model=`/`-nic model=` short names (net/net.c and hw/pci/pci.c nic model lists). */
export const NIC_MODEL_ALIASES: Readonly<Record<string, string>> = {
  virtio: "virtio-net-pci",
  "virtio-net": "virtio-net-pci",
  e1000: "e1000",
  e1000e: "e1000e",
  igb: "igb",
  rtl8139: "rtl8139",
  vmxnet3: "vmxnet3",
};

/** Smallest virtio-net queue size (hw/net/virtio-net.c VIRTIO_NET_RX/TX_QUEUE_MIN_SIZE). */
export const VIRTIO_NET_QUEUE_MIN_SIZE = 256;
/** Largest virtqueue size QEMU supports (include/hw/virtio/virtio.h VIRTQUEUE_MAX_SIZE). */
export const VIRTQUEUE_MAX_SIZE = 1024;
/** Largest MSI-X table (hw/pci/msix.c: PCI_MSIX_FLAGS_QSIZE + 1). */
export const MSIX_MAX_VECTORS = 2048;
