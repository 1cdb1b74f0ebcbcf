/**
 * What a VM is made of, as plain runtime data: the `-name`, guest RAM (`-m`, memory backends,
 * `-numa`), vCPUs (`-smp`), chardevs, netdevs and devices in command-line order. stdlib maps
 * a resolved QEMU command line onto a {@link VmSpec} (stdlib/vm_spec.ts) and keeps a side table
 * from the {@link SpecPath}s below to source spans, so a {@link VmError} located at
 * `{ netdev: 0, prop: "ifname" }` is reported at the span of that property.
 *
 * {@link VmError} is the closed union of what starting a VM can fail with, each carrying the
 * text QEMU prints for it; {@link describeVmError} is its one formatter.
 *
 * @example
 * ```ts
 * import { describeVmError } from "./vm_spec.ts";
 * const d = describeVmError({
 *   kind: "tap-open", at: { netdev: 0, prop: "ifname" }, netdev: "n0", ifname: "tap0",
 *   errno: "EINVAL",
 * });
 * if (!d.qemu.includes("could not configure /dev/net/tun (tap0): Invalid argument")) throw new Error(d.qemu);
 * ```
 *
 * @module
 */

import { type Errno, strerror } from "../host/errno.ts";

/** A place in the spec a runtime error points at. */
export type SpecPath =
  | { readonly vm: "name" | "memory" | "smp" | "machine" }
  | { readonly netdev: number; readonly prop?: string }
  | { readonly device: number; readonly prop?: string }
  | { readonly chardev: number; readonly prop?: string }
  | { readonly object: number; readonly prop?: string };

/** A RAM block: `-m`, or a `memory-backend-*` object used by `-numa`/`memory-backend=`. */
export interface RamSpec {
  /** Region name (`pc.ram`, or the backend id). */
  readonly name: string;
  /** Bytes. */
  readonly size: number;
  /** `share=on`: another process (a vhost-user back-end) can map it. */
  readonly shared: boolean;
  /** On huge pages. */
  readonly hugepages: boolean;
  /**
   * The block has a file descriptor another process can mmap: memory-backend-file and
   * memory-backend-memfd do, memory-backend-ram and plain `-m` do not (QEMU
   * `memory_region_get_fd` returns -1). vhost-user's SET_MEM_TABLE carries only blocks with
   * one (`vhost_user_mem_section_filter`).
   */
  readonly fd: boolean;
  /** Id of the `-object memory-backend-*`, if any. */
  readonly backend?: string;
  /** Where it was written (for errors). */
  readonly at: SpecPath;
}

/** A unix-socket chardev (`-chardev socket`). */
export interface ChardevSpec {
  readonly id: string;
  readonly backend: string;
  /** The socket path. */
  readonly path?: string;
  /** QEMU listens (`server=on`). */
  readonly server: boolean;
  /** Block start-up until the peer connects (`wait`). */
  readonly wait: boolean;
  /** Client reconnect interval (ms, 0: never). */
  readonly reconnectMs: number;
  readonly at: SpecPath;
}

interface NetdevSpecBase {
  readonly id: string;
  /** Queue pairs (`queues=`). */
  readonly queues: number;
  /** Where the netdev was written. */
  readonly at: SpecPath;
  /** Index in {@link VmSpec.netdevs}. */
  readonly index: number;
}

/** `-netdev tap`. */
export interface TapNetdevSpec extends NetdevSpecBase {
  readonly kind: "tap";
  /** `ifname=`; absent: the kernel names it tapN. */
  readonly ifname?: string;
  /** vhost-net in the kernel (`vhost=on`). */
  readonly vhost: boolean;
  /** `vnet_hdr=` (default on when the kernel supports it). */
  readonly vnetHdr: boolean;
  /** `vhostforce=`. */
  readonly vhostforce: boolean;
  /** `poll-us=`: vhost busy-poll time. */
  readonly pollUs: number;
  /**
   * `fd=`/`fds=` as written (`3`, `3:5`): QEMU inherits tap fds a management tool opened
   * (libvirt opens /dev/net/tun as `vnetN`); the lab opens them in its stead.
   */
  readonly fd?: string;
  /** `vhostfd=`/`vhostfds=` as written: /dev/vhost-net fds the management tool opened. */
  readonly vhostfd?: string;
  /** `script=` (`no` disables it). */
  readonly script: string;
  /** `br=` for the bridge helper. */
  readonly br?: string;
}

/** `-netdev user` (slirp). */
export interface UserNetdevSpec extends NetdevSpecBase {
  readonly kind: "user";
  /** Guest network, `10.0.2.0/24` by default. */
  readonly net: string;
  /** The host's address on it (`10.0.2.2`). */
  readonly host: string;
  /** First DHCP address (`10.0.2.15`). */
  readonly dhcpstart: string;
  readonly restrict: boolean;
}

/** `-netdev vhost-user`. */
export interface VhostUserNetdevSpec extends NetdevSpecBase {
  readonly kind: "vhost-user";
  /** The chardev it talks over. */
  readonly chardev: ChardevSpec;
}

/** `-netdev vhost-vdpa`. */
export interface VhostVdpaNetdevSpec extends NetdevSpecBase {
  readonly kind: "vhost-vdpa";
  /** `vhostdev=` (default /dev/vhost-vdpa-0). */
  readonly vhostdev: string;
  /** `vhostfd=` given instead. */
  readonly vhostfd?: string;
  /** Shadow virtqueues (`x-svq=on`). */
  readonly svq: boolean;
}

/** A netdev type the lab does not simulate: frames sent to it are dropped (`no_route`). */
export interface OtherNetdevSpec extends NetdevSpecBase {
  readonly kind: "other";
  readonly type: string;
}

/** A network backend. */
export type NetdevSpec =
  | TapNetdevSpec
  | UserNetdevSpec
  | VhostUserNetdevSpec
  | VhostVdpaNetdevSpec
  | OtherNetdevSpec;

/** `-device virtio-net-pci` (and `-nic model=virtio`). */
export interface VirtioNetDeviceSpec {
  readonly kind: "virtio-net-pci";
  readonly at: SpecPath;
  /** `id=`, if any. */
  readonly id?: string;
  /** Index of its netdev in {@link VmSpec.netdevs}; undefined: no peer (link down). */
  readonly netdev?: number;
  /** `aa:bb:cc:dd:ee:ff`. */
  readonly mac: string;
  readonly mq: boolean;
  /** MSI-X vectors (0: INTx). */
  readonly vectors: number;
  readonly rxQueueSize: number;
  /** After QEMU's clamp (256 unless vhost-user / vhost-vdpa). */
  readonly txQueueSize: number;
  /** `host_mtu` (0: not offered). */
  readonly hostMtu: number;
  readonly packed: boolean;
  readonly eventIdx: boolean;
  readonly indirectDesc: boolean;
  readonly mrgRxbuf: boolean;
  readonly ctrlVq: boolean;
  readonly inOrder: boolean;
  readonly iommuPlatform: boolean;
  readonly ats: boolean;
  readonly queueReset: boolean;
  /** KVM ioeventfd for kicks (`ioeventfd=on`, the default). */
  readonly ioeventfd: boolean;
  /** Notify multiplier 0x1000 (`page-per-vq=on`). */
  readonly pagePerVq: boolean;
  /** Modern-only device (`disable-legacy=on`). */
  readonly disableLegacy: boolean;
  /** Every other offload / feature property with its boolean value (`csum`, `guest_tso4` …). */
  readonly featureProps: Readonly<Record<string, boolean>>;
  /** `tx=timer|bh`. */
  readonly tx: string;
  /** `x-txburst` (QEMU TX_BURST, 256). */
  readonly txBurst: number;
}

/** `-device vfio-pci`. */
export interface VfioPciDeviceSpec {
  readonly kind: "vfio-pci";
  readonly at: SpecPath;
  readonly id?: string;
  /** `host=` PCI address. */
  readonly host?: string;
  /** `sysfsdev=` path. */
  readonly sysfsdev?: string;
}

/** `-device intel-iommu` / `virtio-iommu-pci`. */
export interface ViommuDeviceSpec {
  readonly kind: "intel-iommu" | "virtio-iommu-pci";
  readonly at: SpecPath;
  readonly id?: string;
  readonly intremap: boolean;
  readonly cachingMode: boolean;
  readonly deviceIotlb: boolean;
  readonly awBits: number;
}

/** A device the lab accepts and does not simulate (its I/O is not modelled). */
export interface OtherDeviceSpec {
  readonly kind: "other";
  readonly at: SpecPath;
  readonly type: string;
  readonly id?: string;
  readonly netdev?: number;
}

/** A device, in command-line order. */
export type DeviceSpec =
  | VirtioNetDeviceSpec
  | VfioPciDeviceSpec
  | ViommuDeviceSpec
  | OtherDeviceSpec;

/** A whole VM. */
export interface VmSpec {
  /** `-name`; undefined: the lab names it vm1, vm2 … */
  readonly name?: string;
  /** `pc-q35-…` / `pc-i440fx-…` family. */
  readonly machine: "q35" | "pc" | "virt" | "microvm" | "other";
  /** The accelerator (`kvm`, `tcg`). */
  readonly accel: string;
  /** `kernel-irqchip=`. */
  readonly kernelIrqchip: "on" | "off" | "split";
  /** RAM size (bytes). */
  readonly ramSize: number;
  /** RAM blocks; empty: one anonymous private block of `ramSize`. */
  readonly ram: readonly RamSpec[];
  /** vCPUs. */
  readonly cpus: number;
  readonly chardevs: readonly ChardevSpec[];
  readonly netdevs: readonly NetdevSpec[];
  readonly devices: readonly DeviceSpec[];
  /** The guest kernel. */
  readonly guest: GuestSpec;
}

/** What the guest kernel brings (stdlib's catalog of the Linux drivers). */
export interface GuestSpec {
  /** Features Linux virtio_net (with virtio_ring's transport bits) can accept. */
  readonly netDriverFeatures: bigint;
  /**
   * The kernel command line (`-kernel … -append "…"`): what the guest's IOMMU does
   * (`intel_iommu=on`, `iommu=pt`, `iommu.passthrough=`, `iommu.strict=`). Undefined: the
   * lab's guest image, whose boot loader passes `iommu=pt`.
   */
  readonly cmdline?: string;
}

/** Why a VM did not start (or a netdev could not be set up). */
export type VmError =
  /** `-name` is already taken by a running VM. */
  | { readonly kind: "name-in-use"; readonly at: SpecPath; readonly name: string }
  /** TUNSETIFF on the tap failed. */
  | {
    readonly kind: "tap-open";
    readonly at: SpecPath;
    readonly netdev: string;
    readonly ifname: string;
    readonly errno: Errno;
    /** A hint about the cause (`multi_queue` mismatch …). */
    readonly hint?: string;
  }
  /** /dev/vhost-net could not be opened. */
  | {
    readonly kind: "vhost-open";
    readonly at: SpecPath;
    readonly netdev: string;
    readonly path: string;
    readonly errno: Errno;
  }
  /** The frontend asks for more queue pairs than its backend has. */
  | {
    readonly kind: "queues-exceed";
    readonly at: SpecPath;
    readonly netdev: string;
    readonly requested: number;
    readonly max: number;
  }
  /** A netdev type without a runtime model (or whose engine is not loaded). */
  | { readonly kind: "backend-unavailable"; readonly at: SpecPath; readonly type: string }
  /** A device kind the lab must model and whose engine is not there (vfio-pci, a vIOMMU). */
  | { readonly kind: "device-unavailable"; readonly at: SpecPath; readonly type: string }
  /** Guest RAM cannot be laid out (sizes, overlaps). */
  | { readonly kind: "memory"; readonly at: SpecPath; readonly detail: string }
  /** The lab already runs its most VMs (a limit of the lab, not of QEMU). */
  | {
    readonly kind: "too-many-vms";
    readonly at: SpecPath;
    readonly max: number;
    /** The VM that was refused. */
    readonly name: string;
  }
  /**
   * A backend-specific failure (vhost-user, vhost-vdpa, VFIO …): `message` for the lab's
   * diagnostic, `qemu` the text QEMU prints.
   */
  | {
    readonly kind: "backend";
    readonly at: SpecPath;
    readonly message: string;
    readonly qemu: string;
    readonly help?: string;
  };

/** The lab's message and QEMU's own text for a {@link VmError} (its only formatter). */
export function describeVmError(
  e: VmError,
): { message: string; qemu: string; help?: string; option?: string } {
  switch (e.kind) {
    case "name-in-use":
      return {
        message: `a VM named \`${e.name}\` is already running`,
        qemu: `qemu-system-x86_64: -name ${e.name}: the lab already runs a VM of that name`,
        help: "give each VM its own `-name`",
      };
    case "tap-open": {
      // net/tap-linux.c tap_open: error_setg_errno(…, "could not configure %s (%s)", …).
      const option = `-netdev tap,id=${e.netdev},ifname=${e.ifname}`;
      return {
        message: `cannot attach to tap \`${e.ifname}\`: ${strerror(e.errno)}`,
        qemu: `qemu-system-x86_64: ${option}: ` +
          `could not configure /dev/net/tun (${e.ifname}): ${strerror(e.errno)}`,
        option,
        ...(e.hint ? { help: e.hint } : {}),
      };
    }
    case "vhost-open": {
      // net/tap.c net_init_tap_one: error_setg_errno(…, "tap: open vhost char device failed").
      const option = `-netdev tap,id=${e.netdev},vhost=on`;
      return {
        message: `cannot open ${e.path}: ${strerror(e.errno)}`,
        qemu: `qemu-system-x86_64: ${option}: tap: open vhost char device failed: ${
          strerror(e.errno)
        }`,
        option,
        help: "check /dev/vhost-net (the vhost_net module, the node's permissions)",
      };
    }
    case "queues-exceed":
      return {
        message: `netdev \`${e.netdev}\` asks for ${e.requested} queue pairs, ` +
          `its backend has ${e.max}`,
        qemu: `qemu-system-x86_64: -netdev ${e.netdev}: requested ${e.requested} queue pairs ` +
          `but the backend supports ${e.max}`,
      };
    case "backend-unavailable":
      return {
        message: `netdev type \`${e.type}\` has no runtime model in this lab yet`,
        qemu: `qemu-system-x86_64: -netdev ${e.type}: (not simulated)`,
      };
    case "device-unavailable":
      return {
        message: `device \`${e.type}\` has no runtime model in this lab yet`,
        qemu: `qemu-system-x86_64: -device ${e.type}: (not simulated)`,
      };
    case "memory":
      return {
        message: `guest RAM cannot be laid out: ${e.detail}`,
        qemu: `qemu-system-x86_64: ${e.detail}`,
      };
    case "too-many-vms":
      // A limit of the lab (it keeps its memory bounded), not of QEMU: no QEMU text.
      return {
        message: `\`${e.name}\` would be VM ${e.max + 1}: the lab runs at most ${e.max} VMs`,
        qemu: "",
        help: "split the topology into several labs",
      };
    case "backend":
      return { message: e.message, qemu: e.qemu, ...(e.help ? { help: e.help } : {}) };
  }
}
