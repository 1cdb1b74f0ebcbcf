/**
 * A host catalog for runtime tests: the kernel modules of the vDPA, VFIO and mlx5 stacks and
 * the mlx5 NIC model, copied from the lab's catalogs (stdlib/catalog/kernel_modules.ts,
 * nic_models.ts) because runtime/ may not import stdlib/. Test data only.
 *
 * @module
 */

import type { HostCatalog } from "../../host/kernel_ctx.ts";

/** Modules and NIC models the backend tests boot a host with. */
export const TEST_HOST_CATALOG: HostCatalog = {
  "modules": {
    "failover": {
      "description": "Generic failover infrastructure/interface",
      "size": 12288,
      "depends": [],
    },
    "iommufd": {
      "description": "I/O Address Space Management for passthrough devices",
      "size": 98304,
      "depends": [],
    },
    "irqbypass": {
      "description": "IRQ bypass manager utility module",
      "size": 12288,
      "depends": [],
    },
    "kvm": {
      "description": "Kernel-based Virtual Machine (KVM) Hypervisor",
      "size": 1409024,
      "depends": [
        "irqbypass",
      ],
      "registers": [
        {
          "kind": "misc-device",
          "path": "/dev/kvm",
          "minor": 232,
          "mode": 432,
          "group": "kvm",
        },
      ],
    },
    "kvm_intel": {
      "description": "KVM support for VMX (Intel VT-x) extensions",
      "size": 487424,
      "depends": [
        "kvm",
      ],
      "params": {
        "nested": {
          "type": "bool",
          "default": true,
          "perm": 292,
          "description": "Expose VMX to guests (nested virtualization)",
        },
        "enable_apicv": {
          "type": "bool",
          "default": true,
          "perm": 292,
          "description": "APIC virtualization and posted interrupts",
        },
      },
    },
    "mlx5_core": {
      "description": "Mellanox 5th generation network adapters (ConnectX series) core driver",
      "size": 2527232,
      "depends": [
        "mlxfw",
        "psample",
        "tls",
        "pci_hyperv_intf",
      ],
      "registers": [
        {
          "kind": "pci-driver",
          "name": "mlx5_core",
          "role": "net",
        },
      ],
    },
    "mlx5_vdpa": {
      "description": "Mellanox VDPA driver",
      "size": 98304,
      "depends": [
        "mlx5_core",
        "vringh",
        "vhost_iotlb",
        "vdpa",
      ],
      "registers": [
        {
          "kind": "vdpa-parent",
          "pciDriver": "mlx5_core",
          "functions": "vf",
        },
      ],
    },
    "mlxfw": {
      "description": "Mellanox firmware flash lib",
      "size": 36864,
      "depends": [],
    },
    "net_failover": {
      "description": "Failover driver for Paravirtual drivers",
      "size": 20480,
      "depends": [
        "failover",
      ],
    },
    "pci_hyperv_intf": {
      "description": "Hyper-V PCI Interface",
      "size": 12288,
      "depends": [],
    },
    "psample": {
      "description": "Packet sampling channel over generic netlink",
      "size": 20480,
      "depends": [],
    },
    "tls": {
      "description": "Transport Layer Security Support",
      "size": 155648,
      "depends": [],
    },
    "vdpa": {
      "description": "vDPA bus driver",
      "size": 36864,
      "depends": [],
      "registers": [
        {
          "kind": "bus",
          "name": "vdpa",
        },
        {
          "kind": "genl-family",
          "name": "vdpa",
        },
      ],
    },
    "vdpa_sim": {
      "description": "vDPA Device Simulator core",
      "size": 24576,
      "depends": [
        "vringh",
        "vhost_iotlb",
        "vdpa",
      ],
      "params": {
        "batch_mapping": {
          "type": "int",
          "default": 1,
          "perm": 292,
          "description": "Batched mapping 1 -Enable; 0 - Disable",
        },
        "max_iotlb_entries": {
          "type": "int",
          "default": 2048,
          "perm": 292,
          "description":
            "Maximum number of iotlb entries for each address space. 0 means unlimited. (default: 2048)",
        },
        "use_va": {
          "type": "bool",
          "default": true,
          "perm": 292,
          "description": "Enable/disable the device's ability to use VA",
        },
      },
    },
    "vdpa_sim_net": {
      "description": "vDPA Device Simulator for networking device",
      "size": 16384,
      "depends": [
        "vdpa_sim",
        "vringh",
        "vdpa",
      ],
      "registers": [
        {
          "kind": "vdpa-mgmtdev",
          "name": "vdpasim_net",
          "model": "vdpa_sim_net",
        },
      ],
    },
    "vfio": {
      "description": "VFIO - User Level meta-driver",
      "size": 69632,
      "depends": [
        "iommufd",
      ],
      "registers": [
        {
          "kind": "misc-device",
          "path": "/dev/vfio/vfio",
          "minor": 196,
          "mode": 438,
        },
        {
          "kind": "vfio",
        },
      ],
    },
    "vfio_iommu_type1": {
      "description": "Type1 IOMMU driver for VFIO",
      "size": 49152,
      "depends": [
        "vfio",
      ],
      "params": {
        "allow_unsafe_interrupts": {
          "type": "bool",
          "default": false,
          "perm": 420,
          "description":
            "Enable VFIO IOMMU support for on platforms without interrupt remapping support.",
        },
        "disable_hugepages": {
          "type": "bool",
          "default": false,
          "perm": 420,
          "description": "Disable VFIO IOMMU support for IOMMU hugepages.",
        },
        "dma_entry_limit": {
          "type": "uint",
          "default": 65535,
          "perm": 420,
          "description": "Maximum number of user DMA mappings per container (65535).",
        },
      },
    },
    "vfio_pci": {
      "description": "VFIO PCI - User Level meta-driver",
      "size": 16384,
      "depends": [
        "vfio_pci_core",
        "vfio",
      ],
      "params": {
        "ids": {
          "type": "charp",
          "default": "",
          "perm": 0,
          "description":
            'Initial PCI IDs to add to the vfio driver, format is "vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]" and multiple comma separated entries can be specified',
        },
        "enable_sriov": {
          "type": "bool",
          "default": false,
          "perm": 292,
          "description":
            "Enable support for SR-IOV configuration.  Enabling SR-IOV on a PF typically requires support of the userspace PF driver, enabling VFs without such support may result in non-functional VFs or PF.",
        },
      },
      "registers": [
        {
          "kind": "pci-driver",
          "name": "vfio-pci",
          "role": "vfio",
        },
      ],
    },
    "vfio_pci_core": {
      "description": "core driver for VFIO based PCI devices",
      "size": 94208,
      "depends": [
        "vfio",
        "irqbypass",
      ],
      "params": {
        "nointxmask": {
          "type": "bool",
          "default": false,
          "perm": 420,
          "description": "Disable support for PCI 2.3 style INTx masking.",
        },
        "disable_idle_d3": {
          "type": "bool",
          "default": false,
          "perm": 420,
          "description": "Disable using the PCI D3 low power state for idle, unused devices",
        },
      },
    },
    "vhost": {
      "description": "Host kernel accelerator for virtio",
      "size": 65536,
      "depends": [
        "vhost_iotlb",
      ],
      "params": {
        "max_mem_regions": {
          "type": "ushort",
          "default": 64,
          "perm": 292,
          "description": "Maximum number of memory regions in memory map. (default: 64)",
        },
        "max_iotlb_entries": {
          "type": "int",
          "default": 2048,
          "perm": 292,
          "description": "Maximum number of iotlb entries. (default: 2048)",
        },
      },
    },
    "vhost_iotlb": {
      "description": "VHOST IOTLB",
      "size": 16384,
      "depends": [],
    },
    "vhost_vdpa": {
      "description": "vDPA-based vhost backend for virtio",
      "size": 32768,
      "depends": [
        "vhost",
        "vhost_iotlb",
        "vdpa",
        "irqbypass",
      ],
      "registers": [
        {
          "kind": "vdpa-driver",
          "name": "vhost_vdpa",
        },
      ],
    },
    "virtio": {
      "description": "virtio core",
      "size": 24576,
      "depends": [],
      "builtin": true,
      "registers": [
        {
          "kind": "bus",
          "name": "virtio",
        },
      ],
    },
    "virtio_net": {
      "description": "Virtio network driver",
      "size": 73728,
      "depends": [
        "net_failover",
      ],
      "params": {
        "napi_weight": {
          "type": "int",
          "default": 64,
          "perm": 292,
          "description": "NAPI budget per poll",
        },
        "csum": {
          "type": "bool",
          "default": true,
          "perm": 292,
          "description": "Use checksum offload when offered",
        },
        "gso": {
          "type": "bool",
          "default": true,
          "perm": 292,
          "description": "Use segmentation offload when offered",
        },
        "napi_tx": {
          "type": "bool",
          "default": true,
          "perm": 420,
          "description": "Reclaim TX buffers from NAPI",
        },
      },
      "registers": [
        {
          "kind": "virtio-driver",
          "name": "virtio_net",
          "deviceId": 1,
          "features": [
            0,
            1,
            2,
            3,
            5,
            7,
            8,
            9,
            10,
            11,
            12,
            13,
            14,
            15,
            16,
            17,
            18,
            19,
            21,
            22,
            23,
            28,
            29,
            32,
            33,
            34,
            36,
            38,
            40,
            52,
            53,
            54,
            55,
            56,
            57,
            59,
            60,
            62,
            63,
          ],
        },
      ],
    },
    "virtio_pci": {
      "description": "virtio-pci",
      "size": 28672,
      "depends": [],
      "builtin": true,
    },
    "virtio_ring": {
      "description": "Virtio ring implementation",
      "size": 49152,
      "depends": [],
      "builtin": true,
    },
    "virtio_vdpa": {
      "description": "vDPA bus driver for virtio devices",
      "size": 16384,
      "depends": [
        "vdpa",
      ],
      "registers": [
        {
          "kind": "vdpa-driver",
          "name": "virtio_vdpa",
        },
      ],
    },
    "vringh": {
      "description": "vhost ring helpers",
      "size": 45056,
      "depends": [
        "vhost_iotlb",
      ],
    },
  },
  "nicModels": {
    "mlx5": {
      "description": "Mellanox Technologies MT2892 Family [ConnectX-6 Dx]",
      "vendorId": 5555,
      "deviceId": 4125,
      "vfDeviceId": 4126,
      "pfDriver": "mlx5_core",
      "vfDriver": "mlx5_core",
      "totalVfs": 16,
      "firstVfOffset": 2,
      "vfStride": 1,
      "macOui": [
        12,
        66,
        161,
      ],
      "speedsMbps": [
        10000,
        25000,
        40000,
        50000,
        100000,
      ],
      "mtu": {
        "min": 68,
        "max": 9978,
      },
      "txQueues": 8,
      "vdpa": {
        "parentModule": "mlx5_vdpa",
        "vendorId": 5555,
        "maxSupportedVqs": 65,
        "maxVqSize": 32768,
        "deviceFeatures": [
          0,
          1,
          3,
          5,
          11,
          12,
          16,
          17,
          19,
          22,
          23,
          32,
          33,
        ],
        "configAttrs": [
          "mac",
          "mtu",
          "max_vqp",
          "device_features",
        ],
        "maxDevicesPerFunction": 1,
        "vstats": [
          "received_desc",
          "completed_desc",
        ],
        "ngroups": 2,
        "nas": 2,
      },
    },
  },
};
