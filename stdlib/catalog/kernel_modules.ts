/**
 * The kernel modules the lab knows, as data: dependencies as modules.dep has them (direct
 * symbol users, in load order), sizes as `lsmod` prints them on a 6.12 x86-64 build,
 * parameters with their defaults and sysfs permissions, and what each module's init
 * registers. Descriptions are the MODULE_DESCRIPTION strings where the module has one.
 *
 * virtio, virtio_ring and virtio_pci are built into distribution kernels; the rest are
 * modules.
 *
 * @example
 * ```ts
 * import { KERNEL_MODULES } from "./kernel_modules.ts";
 * if (!KERNEL_MODULES.vhost_vdpa.depends.includes("vdpa")) throw new Error("vhost_vdpa needs vdpa");
 * ```
 *
 * @module
 */

import type { ModuleSpec } from "../../runtime/host/module_spec.ts";

/** Feature bits virtio_net's feature table accepts (drivers/net/virtio_net.c), transport bits included. */
export const VIRTIO_NET_DRIVER_FEATURES: readonly number[] = [
  0, // CSUM
  1, // GUEST_CSUM
  2, // CTRL_GUEST_OFFLOADS
  3, // MTU
  5, // MAC
  7, // GUEST_TSO4
  8, // GUEST_TSO6
  9, // GUEST_ECN
  10, // GUEST_UFO
  11, // HOST_TSO4
  12, // HOST_TSO6
  13, // HOST_ECN
  14, // HOST_UFO
  15, // MRG_RXBUF
  16, // STATUS
  17, // CTRL_VQ
  18, // CTRL_RX
  19, // CTRL_VLAN
  21, // GUEST_ANNOUNCE
  22, // MQ
  23, // CTRL_MAC_ADDR
  28, // RING_INDIRECT_DESC (vring_transport_features)
  29, // RING_EVENT_IDX
  32, // VERSION_1
  33, // ACCESS_PLATFORM
  34, // RING_PACKED
  36, // ORDER_PLATFORM
  38, // NOTIFICATION_DATA
  40, // RING_RESET
  52, // VQ_NOTF_COAL
  53, // NOTF_COAL
  54, // GUEST_USO4
  55, // GUEST_USO6
  56, // HOST_USO
  57, // HASH_REPORT
  59, // GUEST_HDRLEN
  60, // RSS
  62, // STANDBY
  63, // SPEED_DUPLEX
];

/** Feature bits virtio_blk accepts (drivers/block/virtio_blk.c), transport bits included. */
export const VIRTIO_BLK_DRIVER_FEATURES: readonly number[] = [
  1, // SIZE_MAX
  2, // SEG_MAX
  4, // GEOMETRY
  5, // RO
  6, // BLK_SIZE
  9, // FLUSH
  10, // TOPOLOGY
  11, // CONFIG_WCE
  12, // MQ
  13, // DISCARD
  14, // WRITE_ZEROES
  16, // SECURE_ERASE
  17, // ZONED
  28,
  29,
  32,
  33,
  34,
  36,
  38,
  40,
];

/** The module catalog. */
export const KERNEL_MODULES = {
  // ---- vDPA core and bus drivers ----
  vdpa: {
    description: "vDPA bus driver",
    size: 36864,
    depends: [],
    registers: [{ kind: "bus", name: "vdpa" }, { kind: "genl-family", name: "vdpa" }],
  },
  vhost_iotlb: {
    description: "VHOST IOTLB",
    size: 16384,
    depends: [],
  },
  vhost: {
    description: "Host kernel accelerator for virtio",
    size: 65536,
    depends: ["vhost_iotlb"],
    params: {
      max_mem_regions: {
        type: "ushort",
        default: 64,
        perm: 0o444,
        description: "Maximum number of memory regions in memory map. (default: 64)",
      },
      max_iotlb_entries: {
        type: "int",
        default: 2048,
        perm: 0o444,
        description: "Maximum number of iotlb entries. (default: 2048)",
      },
    },
  },
  vringh: {
    description: "vhost ring helpers",
    size: 45056,
    depends: ["vhost_iotlb"],
  },
  irqbypass: {
    description: "IRQ bypass manager utility module",
    size: 12288,
    depends: [],
  },
  vhost_vdpa: {
    description: "vDPA-based vhost backend for virtio",
    size: 32768,
    depends: ["vhost", "vhost_iotlb", "vdpa", "irqbypass"],
    registers: [{ kind: "vdpa-driver", name: "vhost_vdpa" }],
  },
  virtio: {
    description: "virtio core",
    size: 24576,
    depends: [],
    builtin: true,
    registers: [{ kind: "bus", name: "virtio" }],
  },
  virtio_ring: {
    description: "Virtio ring implementation",
    size: 49152,
    depends: [],
    builtin: true,
  },
  virtio_vdpa: {
    description: "vDPA bus driver for virtio devices",
    size: 16384,
    depends: ["vdpa"],
    registers: [{ kind: "vdpa-driver", name: "virtio_vdpa" }],
  },
  // ---- simulators and hardware parents ----
  vdpa_sim: {
    description: "vDPA Device Simulator core",
    size: 24576,
    depends: ["vringh", "vhost_iotlb", "vdpa"],
    params: {
      batch_mapping: {
        type: "int",
        default: 1,
        perm: 0o444,
        description: "Batched mapping 1 -Enable; 0 - Disable",
      },
      max_iotlb_entries: {
        type: "int",
        default: 2048,
        perm: 0o444,
        description:
          "Maximum number of iotlb entries for each address space. 0 means unlimited. (default: 2048)",
      },
      use_va: {
        type: "bool",
        default: true,
        perm: 0o444,
        description: "Enable/disable the device's ability to use VA",
      },
    },
  },
  vdpa_sim_net: {
    description: "vDPA Device Simulator for networking device",
    size: 16384,
    depends: ["vdpa_sim", "vringh", "vdpa"],
    registers: [{ kind: "vdpa-mgmtdev", name: "vdpasim_net", model: "vdpa_sim_net" }],
  },
  vdpa_sim_blk: {
    description: "vDPA Device Simulator for block device",
    size: 16384,
    depends: ["vdpa_sim", "vringh", "vdpa"],
    params: {
      shared_backend: {
        type: "bool",
        default: false,
        perm: 0o444,
        description: "Enable the shared backend between virtio-blk devices",
      },
    },
    registers: [{ kind: "vdpa-mgmtdev", name: "vdpasim_blk", model: "vdpa_sim_blk" }],
  },
  vduse: {
    description: "vDPA Device in Userspace",
    size: 40960,
    depends: ["vdpa", "vhost_iotlb"],
  },
  mlx5_vdpa: {
    description: "Mellanox VDPA driver",
    size: 98304,
    depends: ["mlx5_core", "vringh", "vhost_iotlb", "vdpa"],
    registers: [{ kind: "vdpa-parent", pciDriver: "mlx5_core", functions: "vf" }],
  },
  ifcvf: {
    description: "Intel IFC VF NIC driver for virtio dataplane offloading",
    size: 24576,
    depends: ["vdpa"],
    registers: [
      { kind: "pci-driver", name: "ifcvf", role: "vdpa" },
      { kind: "vdpa-parent", pciDriver: "ifcvf", functions: "any" },
    ],
  },
  vp_vdpa: {
    description: "vp-vdpa",
    size: 20480,
    depends: ["vdpa", "virtio_pci_modern_dev"],
    registers: [
      { kind: "pci-driver", name: "vp-vdpa", role: "vdpa" },
      { kind: "vdpa-parent", pciDriver: "vp-vdpa", functions: "any" },
    ],
  },
  virtio_pci_modern_dev: {
    description: "Modern Virtio PCI Device",
    size: 16384,
    depends: [],
  },
  // ---- NIC drivers ----
  mlxfw: { description: "Mellanox firmware flash lib", size: 36864, depends: [] },
  psample: {
    description: "Packet sampling channel over generic netlink",
    size: 20480,
    depends: [],
  },
  tls: { description: "Transport Layer Security Support", size: 155648, depends: [] },
  pci_hyperv_intf: { description: "Hyper-V PCI Interface", size: 12288, depends: [] },
  mlx5_core: {
    description: "Mellanox 5th generation network adapters (ConnectX series) core driver",
    size: 2527232,
    depends: ["mlxfw", "psample", "tls", "pci_hyperv_intf"],
    registers: [{ kind: "pci-driver", name: "mlx5_core", role: "net" }],
  },
  ice: {
    description: "Intel(R) Ethernet Connection E800 Series Linux Driver",
    size: 1118208,
    depends: [],
    registers: [{ kind: "pci-driver", name: "ice", role: "net" }],
  },
  iavf: {
    description: "Intel(R) Ethernet Adaptive Virtual Function Network Driver",
    size: 282624,
    depends: [],
    registers: [{ kind: "pci-driver", name: "iavf", role: "net" }],
  },
  // ---- vhost-net, tun/tap, bridge ----
  tun: {
    description: "Universal TUN/TAP device driver",
    size: 69632,
    depends: [],
    registers: [
      { kind: "misc-device", path: "/dev/net/tun", minor: 200, mode: 0o666 },
      { kind: "netdev-kind", name: "tun" },
    ],
  },
  tap: {
    description: "Common library for drivers implementing the TAP interface",
    size: 28672,
    depends: [],
  },
  vhost_net: {
    description: "Host kernel accelerator for virtio net",
    size: 36864,
    depends: ["vhost", "vhost_iotlb", "tap", "tun"],
    params: {
      experimental_zcopytx: {
        type: "int",
        default: 0,
        perm: 0o444,
        description: "Enable Zero Copy TX; 1 -Enable; 0 - Disable",
      },
    },
    registers: [{
      kind: "misc-device",
      path: "/dev/vhost-net",
      minor: 238,
      mode: 0o660,
      group: "kvm",
    }],
  },
  llc: { description: "LLC IEEE 802.2 core support", size: 16384, depends: [] },
  stp: {
    description: "SAP demux for IEEE 802.1D Spanning Tree Protocol (STP)",
    size: 12288,
    depends: ["llc"],
  },
  bridge: {
    description: "Ethernet bridge driver",
    size: 421888,
    depends: ["stp", "llc"],
    registers: [{ kind: "netdev-kind", name: "bridge" }],
  },
  // ---- Open vSwitch kernel datapath ----
  libcrc32c: { description: "CRC32c (Castagnoli) calculations", size: 12288, depends: [] },
  nf_defrag_ipv4: { description: "IPv4 defragmentation support", size: 12288, depends: [] },
  nf_defrag_ipv6: { description: "IPv6 defragmentation library", size: 24576, depends: [] },
  nf_conntrack: {
    description: "IPv4 and IPv6 connection tracking",
    size: 196608,
    depends: ["nf_defrag_ipv6", "nf_defrag_ipv4", "libcrc32c"],
  },
  nf_nat: {
    description: "Network address translation core",
    size: 61440,
    depends: ["nf_conntrack", "libcrc32c"],
  },
  nf_conncount: {
    description: "Count number of connections matching a key",
    size: 24576,
    depends: ["nf_conntrack"],
  },
  nsh: { description: "NSH protocol", size: 12288, depends: [] },
  openvswitch: {
    description: "Open vSwitch switching datapath",
    size: 204800,
    depends: ["nsh", "nf_conncount", "nf_nat", "nf_conntrack", "nf_defrag_ipv6", "libcrc32c"],
  },
  // ---- VFIO ----
  iommufd: {
    description: "I/O Address Space Management for passthrough devices",
    size: 98304,
    depends: [],
  },
  vfio: {
    description: "VFIO - User Level meta-driver",
    size: 69632,
    depends: ["iommufd"],
    registers: [
      { kind: "misc-device", path: "/dev/vfio/vfio", minor: 196, mode: 0o666 },
      { kind: "vfio" },
    ],
  },
  vfio_iommu_type1: {
    description: "Type1 IOMMU driver for VFIO",
    size: 49152,
    depends: ["vfio"],
    params: {
      allow_unsafe_interrupts: {
        type: "bool",
        default: false,
        perm: 0o644,
        description:
          "Enable VFIO IOMMU support for on platforms without interrupt remapping support.",
      },
      disable_hugepages: {
        type: "bool",
        default: false,
        perm: 0o644,
        description: "Disable VFIO IOMMU support for IOMMU hugepages.",
      },
      dma_entry_limit: {
        type: "uint",
        default: 65535,
        perm: 0o644,
        description: "Maximum number of user DMA mappings per container (65535).",
      },
    },
  },
  vfio_pci_core: {
    description: "core driver for VFIO based PCI devices",
    size: 94208,
    depends: ["vfio", "irqbypass"],
    params: {
      nointxmask: {
        type: "bool",
        default: false,
        perm: 0o644,
        description: "Disable support for PCI 2.3 style INTx masking.",
      },
      disable_idle_d3: {
        type: "bool",
        default: false,
        perm: 0o644,
        description: "Disable using the PCI D3 low power state for idle, unused devices",
      },
    },
  },
  vfio_pci: {
    description: "VFIO PCI - User Level meta-driver",
    size: 16384,
    depends: ["vfio_pci_core", "vfio"],
    params: {
      ids: {
        type: "charp",
        default: "",
        perm: 0,
        description:
          'Initial PCI IDs to add to the vfio driver, format is "vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]" and multiple comma separated entries can be specified',
      },
      enable_sriov: {
        type: "bool",
        default: false,
        perm: 0o444,
        description:
          "Enable support for SR-IOV configuration.  Enabling SR-IOV on a PF typically requires support of the userspace PF driver, enabling VFs without such support may result in non-functional VFs or PF.",
      },
    },
    registers: [{ kind: "pci-driver", name: "vfio-pci", role: "vfio" }],
  },
  // ---- KVM ----
  kvm: {
    description: "Kernel-based Virtual Machine (KVM) Hypervisor",
    size: 1409024,
    depends: ["irqbypass"],
    registers: [{ kind: "misc-device", path: "/dev/kvm", minor: 232, mode: 0o660, group: "kvm" }],
  },
  kvm_intel: {
    description: "KVM support for VMX (Intel VT-x) extensions",
    size: 487424,
    depends: ["kvm"],
    params: {
      nested: {
        type: "bool",
        default: true,
        perm: 0o444,
        description: "Expose VMX to guests (nested virtualization)",
      },
      enable_apicv: {
        type: "bool",
        default: true,
        perm: 0o444,
        description: "APIC virtualization and posted interrupts",
      },
    },
  },
  // ---- host virtio drivers ----
  failover: { description: "Generic failover infrastructure/interface", size: 12288, depends: [] },
  net_failover: {
    description: "Failover driver for Paravirtual drivers",
    size: 20480,
    depends: ["failover"],
  },
  virtio_net: {
    description: "Virtio network driver",
    size: 73728,
    depends: ["net_failover"],
    params: {
      napi_weight: { type: "int", default: 64, perm: 0o444, description: "NAPI budget per poll" },
      csum: {
        type: "bool",
        default: true,
        perm: 0o444,
        description: "Use checksum offload when offered",
      },
      gso: {
        type: "bool",
        default: true,
        perm: 0o444,
        description: "Use segmentation offload when offered",
      },
      napi_tx: {
        type: "bool",
        default: true,
        perm: 0o644,
        description: "Reclaim TX buffers from NAPI",
      },
    },
    registers: [{
      kind: "virtio-driver",
      name: "virtio_net",
      deviceId: 1,
      features: VIRTIO_NET_DRIVER_FEATURES,
    }],
  },
  virtio_blk: {
    description: "Virtio block driver",
    size: 32768,
    depends: [],
    registers: [{
      kind: "virtio-driver",
      name: "virtio_blk",
      deviceId: 2,
      features: VIRTIO_BLK_DRIVER_FEATURES,
    }],
  },
  virtio_pci: {
    description: "virtio-pci",
    size: 28672,
    depends: [],
    builtin: true,
  },
} satisfies Record<string, ModuleSpec>;
