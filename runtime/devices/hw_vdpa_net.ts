/**
 * The control plane of a hardware vDPA net parent (mlx5_vdpa on ConnectX VFs, ifcvf),
 * parameterised by the NIC model's vDPA limits from the catalog. One management device per
 * PCI function (`pci/0000:3b:00.2`); each function hosts a bounded number of devices
 * (mlx5: one, -ENOSPC beyond). `max_vqp` sets the queue pairs (default 1); the device has
 * 2 × pairs data queues plus the control queue. The MAC defaults to the function's own
 * address and the MTU to its netdev MTU, as mlx5_vdpa queries the vport.
 *
 * @example
 * ```ts
 * import { hwVdpaNetParent } from "./hw_vdpa_net.ts";
 * const parent = hwVdpaNetParent({
 *   parentModule: "mlx5_vdpa", vendorId: 0x15b3, maxSupportedVqs: 17, maxVqSize: 32768,
 *   deviceFeatures: [5, 16, 17, 22, 32, 33], configAttrs: ["mac", "max_vqp"],
 *   maxDevicesPerFunction: 1, vstats: ["received_desc", "completed_desc"], ngroups: 2, nas: 2,
 * }, { mac: [0x0c, 0x42, 0xa1, 0, 0, 2], mtu: 1500 });
 * const dev = parent.create("vdpa0", { maxVqp: 4 });
 * if (!dev.ok || dev.value.spec.nvqs !== 9) throw new Error("4 pairs + cvq");
 * if (parent.create("vdpa1", {}).ok) throw new Error("one device per function");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { MacAddress } from "../host/mac.ts";
import type { NicVdpaSpec } from "../host/nic_model.ts";
import {
  featureMask,
  getLe16,
  hasFeature,
  putLe16,
  VdpaDevice,
  type VdpaOpError,
  VIRTIO_ID_NET,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_S_LINK_UP,
} from "./vdpa_device.ts";
import type { VdpaDevAddConfig, VdpaParent } from "./vdpa_parent.ts";
import { VIRTIO_NET_CONFIG_SIZE } from "./vdpa_sim_net.ts";
import type { Access, TranslateResult, Translator } from "../memory/translator.ts";
import { VhostIotlb } from "../iommu/vhost_iotlb.ts";
import type { VhostIotlbError } from "../iommu/vhost_iotlb_error.ts";
import type { VdpaDmaParent } from "../iommu/vhost_vdpa_iotlb.ts";

/**
 * The device's own translation (mlx5_vdpa's memory key built by set_map from the whole
 * IOTLB): IOVA → the DMA address the NIC then presents to the platform IOMMU. Empty until
 * the first set_map: unlike vdpa_sim there is no identity pass-through, a DMA before the map
 * fails.
 */
export class OnChipMr implements Translator {
  readonly #tlb = new VhostIotlb();
  /** set_map rebuilds of the memory key. */
  rebuilds = 0;

  /** set_map: the key now covers exactly `iotlb`'s ranges. */
  load(iotlb: VhostIotlb): VhostIotlbError | undefined {
    this.#tlb.reset();
    this.rebuilds++;
    for (const m of iotlb.maps()) {
      const r = this.#tlb.addRange(m.start, m.last, m.addr, m.perm);
      if (!r.ok) {
        this.#tlb.reset();
        return r.error;
      }
    }
    return undefined;
  }

  /** The ranges the key maps (IOVA → DMA address). */
  maps(): { start: number; last: number; addr: number; perm: Access }[] {
    return this.#tlb.maps().map((m) => ({
      start: m.start,
      last: m.last,
      addr: m.addr,
      perm: m.perm,
    }));
  }

  /** Drops every range (device reset). */
  clear(): void {
    this.#tlb.reset();
  }

  translate(addr: number, len: number, access: Access, out: TranslateResult): boolean {
    out.fault = undefined;
    const m = this.#tlb.first(addr, addr + Math.max(len, 1) - 1);
    if (m === undefined || m.start > addr) {
      out.fault = { kind: "unmapped", iova: addr, access };
      return false;
    }
    if ((m.perm & access) !== access) {
      out.fault = { kind: "permission", iova: addr, access, allowed: m.perm };
      return false;
    }
    out.addr = m.addr + (addr - m.start);
    out.len = Math.min(len, m.last - addr + 1);
    return true;
  }
}

/**
 * Where a function's BAR 0 sits in host physical address space: a 32 MiB window per routing
 * id above 0x3800_0000_0000 (the 64-bit MMIO hole of the lab's host). Only the lab uses these
 * numbers; they make doorbell addresses stable and distinct.
 */
export function functionBar0(rid: number): number {
  return 0x3800_0000_0000 + rid * 0x200_0000;
}

/** Offset of the kick doorbell page (mlx5: the device's UAR page) in BAR 0. */
export const DOORBELL_OFFSET = 0x1000;

/** Per-queue descriptor counters (mlx5_vdpa's `received_desc`/`completed_desc`). */
export interface HwVqCounters {
  values: bigint[];
}

/** A hardware vDPA net device. */
export class HwVdpaNet extends VdpaDevice {
  /** One counter array per virtqueue, in the order of the model's `vstats` names. */
  readonly counters: HwVqCounters[];
  readonly #statNames: readonly string[];
  readonly #module: string;
  /** One memory key per address space. */
  readonly mr: readonly OnChipMr[];
  /** The PCI function the device lives on (`0000:3b:00.2`), when known. */
  readonly bdf: string | undefined;

  /** Creates the device; `pairs` data queue pairs plus a control queue when offered. */
  constructor(
    name: string,
    spec: NicVdpaSpec,
    init: {
      readonly features: bigint;
      readonly pairs: number;
      readonly mac: MacAddress;
      readonly mtu: number;
      /** Routing id of the PCI function (places the doorbell). */
      readonly rid?: number;
      /** The PCI function. */
      readonly bdf?: string;
    },
  ) {
    const kick = functionBar0(init.rid ?? 0) + DOORBELL_OFFSET;
    const cvq = hasFeature(init.features, VIRTIO_NET_F_CTRL_VQ) ? 1 : 0;
    const nvqs = 2 * init.pairs + cvq;
    super(name, {
      deviceId: VIRTIO_ID_NET,
      vendorId: spec.vendorId,
      nvqs,
      ngroups: spec.ngroups,
      nas: spec.nas,
      maxVqSize: spec.maxVqSize,
      deviceFeatures: init.features,
      configSize: VIRTIO_NET_CONFIG_SIZE,
      // The data queues share group 0; a separate CVQ group lets QEMU shadow only the CVQ.
      vqGroup: (index) => (cvq === 1 && index === nvqs - 1 && spec.ngroups > 1 ? 1 : 0),
      supportsSuspend: true,
      // mlx5_vdpa programs its on-chip translation (memory keys) from the whole IOTLB
      dma: "set_map",
      // mlx5_get_vq_notification: one doorbell page for every queue (the value names it)
      notification: () => ({ addr: kick, size: 4096 }),
      // mlx5_get_vq_irq: a dedicated MSI-X vector per data queue
      vqIrq: (index) => 128 + ((init.rid ?? 0) & 0xff) * 64 + index,
    });
    this.#statNames = spec.vstats;
    this.#module = spec.parentModule;
    this.bdf = init.bdf;
    this.mr = Array.from({ length: spec.nas }, () => new OnChipMr());
    this.mr.forEach((m, asid) => this.setMap(asid, m));
    this.counters = Array.from({ length: nvqs }, () => ({ values: spec.vstats.map(() => 0n) }));
    const c = this.configBytes;
    c.set(init.mac, 0);
    putLe16(c, 8, init.pairs);
    putLe16(c, 10, init.mtu);
  }

  /** Queue pairs in config space. */
  get maxVirtqueuePairs(): number {
    return getLe16(this.configBytes, 8);
  }

  /** mlx5_vdpa_set_config: "not supported" — a write changes nothing. */
  override setConfig(_offset: number, _bytes: Uint8Array): void {}

  /** Writes the MAC (dev_set_attr). */
  setMac(mac: MacAddress): void {
    this.configBytes.set(mac, 0);
  }

  /** The MAC in config space. */
  get mac(): MacAddress {
    const c = this.configBytes;
    return [c[0] ?? 0, c[1] ?? 0, c[2] ?? 0, c[3] ?? 0, c[4] ?? 0, c[5] ?? 0];
  }

  /** vhost-vdpa programs the memory key with the whole table (mlx5_vdpa_set_map). */
  dmaParent(): VdpaDmaParent {
    return {
      kind: "set_map",
      setMap: (asid, iotlb) => {
        const mr = this.mr[asid];
        return mr === undefined ? { kind: "bad-asid", asid } : mr.load(iotlb);
      },
    };
  }

  protected override onReset(): void {
    // mlx5_vdpa_reset keeps the MR unless the reset asks to clean the maps (vhost-vdpa does)
    for (const m of this.mr) m.clear();
  }

  protected override refreshConfig(config: Uint8Array): void {
    putLe16(config, 6, VIRTIO_NET_S_LINK_UP);
  }

  override get hasVendorStats(): boolean {
    return true;
  }

  /**
   * Vendor statistics: an index the device does not have is "virtqueue index is not
   * valid" (-EINVAL); a data queue the driver has not made ready is "virtqueue not
   * initialized" (-EAGAIN), as mlx5_vdpa's firmware query fails.
   */
  override vendorStats(qidx: number): Result<readonly (readonly [string, bigint])[], VdpaOpError> {
    const vq = this.counters[qidx];
    if (vq === undefined) {
      return err({
        errno: "EINVAL",
        reason: `queue ${qidx} does not exist`,
        extack: `${this.#module}: virtqueue index is not valid`,
      });
    }
    const ready = this.getVqReady(qidx);
    const isCvq = qidx === this.spec.nvqs - 1 && this.spec.nvqs % 2 === 1;
    if (!isCvq && ready.ok && !ready.value) {
      return err({
        errno: "EAGAIN",
        reason: `queue ${qidx} is not ready`,
        extack: `${this.#module}: virtqueue not initialized`,
      });
    }
    return ok(this.#statNames.map((n, i) => [n, vq.values[i] ?? 0n] as const));
  }
}

/**
 * A hardware parent for one PCI function. `fn` gives the function's own MAC and MTU,
 * the defaults when `dev add` does not provision them.
 */
export function hwVdpaNetParent(
  spec: NicVdpaSpec,
  fn: {
    readonly mac: MacAddress;
    readonly mtu: number;
    readonly rid?: number;
    readonly bdf?: string;
  },
): VdpaParent {
  const supported = featureMask(spec.deviceFeatures);
  const live = new Set<VdpaDevice>();
  const dataVqs = spec.maxSupportedVqs - (hasFeature(supported, VIRTIO_NET_F_CTRL_VQ) ? 1 : 0);
  return {
    supportedClasses: [VIRTIO_ID_NET],
    maxSupportedVqs: spec.maxSupportedVqs,
    supportedFeatures: supported,
    configAttrs: spec.configAttrs,
    create(name: string, config: VdpaDevAddConfig) {
      if (live.size >= spec.maxDevicesPerFunction) {
        return err({ errno: "ENOSPC", reason: "this function already hosts a vDPA device" });
      }
      if (config.maxVqp !== undefined && 2 * config.maxVqp > dataVqs) {
        return err({
          errno: "EINVAL",
          reason: `max_vqp ${config.maxVqp} exceeds the ${dataVqs / 2} pairs the function has`,
        });
      }
      if (config.deviceFeatures !== undefined && (config.deviceFeatures & ~supported) !== 0n) {
        return err({
          errno: "EINVAL",
          reason: "device_features not a subset of the parent's features",
        });
      }
      const dev = new HwVdpaNet(name, spec, {
        features: config.deviceFeatures ?? supported,
        pairs: config.maxVqp ?? 1,
        mac: config.mac ?? fn.mac,
        mtu: config.mtu ?? fn.mtu,
        ...(fn.rid !== undefined ? { rid: fn.rid } : {}),
        ...(fn.bdf !== undefined ? { bdf: fn.bdf } : {}),
      });
      live.add(dev);
      return ok(dev);
    },
    release(dev: VdpaDevice) {
      live.delete(dev);
    },
    setAttr(dev: VdpaDevice, attrs: { readonly mac: MacAddress }) {
      if (!(dev instanceof HwVdpaNet)) {
        return err({ errno: "EOPNOTSUPP", reason: "not this parent's device" });
      }
      dev.setMac(attrs.mac);
      return ok(undefined);
    },
  };
}
