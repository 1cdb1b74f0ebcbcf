/**
 * What the buses of the host kernel share: the event sink, the module table, /dev, the
 * netdev table, each other, and the kernel-wide services (IOMMU state from the command
 * line, dynamic character-device majors, udev's module autoload queue). `HostKernel`
 * implements it; the buses hold it so a probe on one bus can create state on another the
 * way a real driver does (a PCI probe registers a vDPA management device, a vdpa probe
 * creates a virtio device and a netdev).
 *
 * @module
 */

import type { KernelMem } from "./kmem.ts";
import type { Devlink } from "./devlink.ts";
import type { DevNodes } from "./devnodes.ts";
import type { HostEventSink } from "./host_event.ts";
import type { ModuleSpec } from "./module_spec.ts";
import type { ModuleTable } from "./modules.ts";
import type { NetdevTable } from "./netdev.ts";
import type { NicModel } from "./nic_model.ts";
import type { PciBus } from "./pci.ts";
import type { VdpaBus } from "./vdpa_bus.ts";
import type { VirtioBus } from "./virtio_bus.ts";
import type { Iommu } from "../iommu/iommu.ts";

/** The data a host kernel is built from. */
export interface HostCatalog {
  /** Modules by canonical name. */
  readonly modules: Readonly<Record<string, ModuleSpec>>;
  /** NIC models by the name `host nic … model=` uses. */
  readonly nicModels: Readonly<Record<string, NicModel>>;
}

/** IOMMU state decided at boot by the command line. */
export interface IommuState {
  /** intel_iommu=on / amd_iommu=on: devices get IOMMU groups. */
  readonly enabled: boolean;
  /** iommu=pt: host-owned devices use identity domains. */
  readonly passthrough: boolean;
}

/** Kernel services shared by the buses. */
export interface KernelCtx {
  readonly emit: HostEventSink;
  readonly catalog: HostCatalog;
  readonly modules: ModuleTable;
  readonly dev: DevNodes;
  readonly net: NetdevTable;
  readonly pci: PciBus;
  readonly vdpa: VdpaBus;
  /** devlink instances of mlx5 functions (e-switch modes, subfunction ports). */
  readonly devlink: Devlink;
  readonly virtio: VirtioBus;
  /** IOMMU state (fixed at boot). */
  iommu(): IommuState;
  /** The IOMMU hardware model (groups, domains, page tables), built from the command line. */
  iommuHw(): Iommu;
  /** The kernel's DMA-able memory (host drivers' rings and buffers), made on first use. */
  kmem(): KernelMem;
  /** The major a module got from alloc_chrdev_region, by region name. */
  chrdevMajor(region: string): number | undefined;
  /** Queues a udev modalias load, run when the current operation completes. */
  queueAutoload(module: string, by: string): void;
  /** dmesg. */
  log(level: "info" | "warn" | "err", text: string): void;
}
