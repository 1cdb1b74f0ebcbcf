/**
 * vdpa_sim_net's control plane (drivers/vdpa/vdpa_sim/vdpa_sim_net.c, vdpa_sim.c): the
 * `vdpasim_net` management device and the devices it creates. Three virtqueues (0 rx,
 * 1 tx, 2 cvq), two groups and two address spaces with the CVQ alone in group 1, queues of
 * at most 256 entries, vendor id 0, MTU 1500 unless provisioned, link always up, and the
 * core's rule that the driver must accept ACCESS_PLATFORM. No MQ, so `max_vqp` is not a
 * provisionable attribute. Vendor statistics per queue as the kernel names them; the
 * datapath (loopback with the MAC filter) increments `stats` later.
 *
 * Kernel pairing: Linux 6.12 (STATUS offered, `dev_set_attr` for the MAC).
 *
 * @example
 * ```ts
 * import { vdpaSimNetParent } from "./vdpa_sim_net.ts";
 * const parent = vdpaSimNetParent();
 * const dev = parent.create("vdpa0", {});
 * if (!dev.ok || dev.value.spec.nvqs !== 3) throw new Error("3 vqs expected");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import { formatMac, type MacAddress } from "../host/mac.ts";
import {
  featureMask,
  getLe16,
  putLe16,
  VdpaDevice,
  type VdpaOpError,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_ANY_LAYOUT,
  VIRTIO_F_VERSION_1,
  VIRTIO_ID_NET,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_S_LINK_UP,
} from "./vdpa_device.ts";
import type { VdpaDevAddConfig, VdpaParent } from "./vdpa_parent.ts";
import { VdpaSimIotlb } from "../iommu/vdpa_sim_iotlb.ts";
import type { VdpaDmaParent } from "../iommu/vhost_vdpa_iotlb.ts";

/** VDPASIM_FEATURES: what every simulator device offers. */
export const VDPASIM_FEATURES = featureMask([
  VIRTIO_F_ANY_LAYOUT,
  VIRTIO_F_VERSION_1,
  VIRTIO_F_ACCESS_PLATFORM,
]);

/** VDPASIM_NET_FEATURES. */
export const VDPASIM_NET_FEATURES = VDPASIM_FEATURES | featureMask([
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
]);

/** VDPASIM_QUEUE_MAX. */
export const VDPASIM_QUEUE_MAX = 256;

/** sizeof(struct virtio_net_config) in Linux 6.12 uapi (mac … supported_hash_types). */
export const VIRTIO_NET_CONFIG_SIZE = 24;

/** The vdpa_sim module parameters that shape a device. */
export interface VdpaSimParams {
  /** batch_mapping=1: whole-table set_map; 0: incremental dma_map. */
  readonly batchMapping: boolean;
  /** use_va: virtual-address mode. */
  readonly useVa: boolean;
  /** max_iotlb_entries per address space (0 = unlimited). */
  readonly maxIotlbEntries: number;
}

/** vdpa_sim's defaults. */
export const VDPASIM_DEFAULT_PARAMS: VdpaSimParams = {
  batchMapping: true,
  useVa: true,
  maxIotlbEntries: 2048,
};

/** Counters behind `vdpa dev vstats` (struct vdpasim_dataq_stats / vdpasim_cq_stats). */
export interface VdpaSimNetStats {
  readonly rx: { packets: bigint; bytes: bigint; errors: bigint; overruns: bigint; drops: bigint };
  readonly tx: { packets: bigint; bytes: bigint; errors: bigint; drops: bigint };
  readonly cvq: { requests: bigint; successes: bigint; errors: bigint };
}

/**
 * The packet and byte counters of a data queue, bumped once per work run: kept as numbers
 * (exact to 2^53) and read as the u64 bigints of {@link VdpaSimNetStats}, so a run converts
 * nothing.
 */
export class DataqCounters {
  #packets = 0;
  #bytes = 0;
  /** Error count (u64). */
  errors = 0n;
  /** Drop count (u64). */
  drops = 0n;

  /** Packets (u64). */
  get packets(): bigint {
    return BigInt(this.#packets);
  }
  set packets(v: bigint) {
    this.#packets = Number(v);
  }

  /** Bytes (u64). */
  get bytes(): bigint {
    return BigInt(this.#bytes);
  }
  set bytes(v: bigint) {
    this.#bytes = Number(v);
  }

  /** Adds `packets` packets of `bytes` bytes in all. */
  add(packets: number, bytes: number): void {
    this.#packets += packets;
    this.#bytes += bytes;
  }
}

/** {@link DataqCounters} of the receive queue, with its overruns. */
export class RxDataqCounters extends DataqCounters {
  /** Frames that found no receive buffer (u64). */
  overruns = 0n;
}

/** A vdpa_sim_net device. */
export class VdpaSimNet extends VdpaDevice {
  /** Counters for the datapath to increment. */
  readonly stats: {
    readonly rx: RxDataqCounters;
    readonly tx: DataqCounters;
    readonly cvq: VdpaSimNetStats["cvq"];
  } = {
    rx: new RxDataqCounters(),
    tx: new DataqCounters(),
    cvq: { requests: 0n, successes: 0n, errors: 0n },
  };
  readonly params: VdpaSimParams;
  /** The per-address-space IOTLBs vringh walks (identity until vhost-vdpa installs maps). */
  readonly iotlb: VdpaSimIotlb;

  /** Creates the device with its provisioned config (vdpasim_net_setup_config). */
  constructor(name: string, config: VdpaDevAddConfig, params: VdpaSimParams) {
    super(name, {
      deviceId: VIRTIO_ID_NET,
      vendorId: 0,
      nvqs: 3,
      ngroups: 2,
      nas: 2,
      maxVqSize: VDPASIM_QUEUE_MAX,
      vqAlign: 4096,
      deviceFeatures: config.deviceFeatures ?? VDPASIM_NET_FEATURES,
      configSize: VIRTIO_NET_CONFIG_SIZE,
      requireAccessPlatform: true,
      // vdpa_sim.c vdpasim_get_vq_group: RX and TX in group 0, the CVQ in group 1
      vqGroup: (index) => (index === 2 ? 1 : 0),
      supportsSuspend: true,
      dma: params.batchMapping ? "set_map" : "dma_map",
      useVa: params.useVa,
    });
    this.params = params;
    this.iotlb = new VdpaSimIotlb({ nas: 2, maxIotlbEntries: params.maxIotlbEntries });
    for (let asid = 0; asid < 2; asid++) this.setMap(asid, this.iotlb.translatorFor(asid));
    const cfg = this.configBytes;
    if (config.mac !== undefined) cfg.set(config.mac, 0);
    // vdpasim_net_setup_config: MTU defaults to 1500
    putLe16(cfg, 10, config.mtu ?? 1500);
  }

  /** The MAC in config space. */
  get mac(): MacAddress {
    const c = this.configBytes;
    return [c[0] ?? 0, c[1] ?? 0, c[2] ?? 0, c[3] ?? 0, c[4] ?? 0, c[5] ?? 0];
  }

  /** Writes the MAC in config space (dev_set_attr, or the CVQ's MAC_ADDR_SET). */
  setMac(mac: MacAddress): void {
    this.configBytes.set(mac, 0);
  }

  /** The MTU in config space. */
  get mtu(): number {
    return getLe16(this.configBytes, 10);
  }

  /** How vhost-vdpa programs this device: set_map with batch_mapping=1, else dma_map. */
  dmaParent(): VdpaDmaParent {
    return this.params.batchMapping ? this.iotlb.setMapParent() : this.iotlb.dmaMapParent();
  }

  protected override onReset(): void {
    // vdpasim_do_reset with VDPA_RESET_F_CLEAN_MAP: every address space back to identity
    this.iotlb.reset();
  }

  protected override refreshConfig(config: Uint8Array): void {
    // vdpasim_net_get_config: the link is always up
    putLe16(config, 6, VIRTIO_NET_S_LINK_UP);
  }

  override get hasVendorStats(): boolean {
    return true;
  }

  /** vdpasim_net_get_stats: names per queue index; other indices are -EINVAL. */
  override vendorStats(qidx: number): Result<readonly (readonly [string, bigint])[], VdpaOpError> {
    const s = this.stats;
    switch (qidx) {
      case 0:
        return ok([
          ["rx packets", s.rx.packets],
          ["rx bytes", s.rx.bytes],
          ["rx errors", s.rx.errors],
          ["rx overruns", s.rx.overruns],
          ["rx drops", s.rx.drops],
        ]);
      case 1:
        return ok([
          ["tx packets", s.tx.packets],
          ["tx bytes", s.tx.bytes],
          ["tx errors", s.tx.errors],
          ["tx drops", s.tx.drops],
        ]);
      case 2:
        return ok([
          ["cvq requests", s.cvq.requests],
          ["cvq successes", s.cvq.successes],
          ["cvq errors", s.cvq.errors],
        ]);
      default:
        return err({ errno: "EINVAL", reason: `no statistics for queue ${qidx}` });
    }
  }

  /** A one-line summary for traces. */
  override toString(): string {
    return `${this.name} (vdpasim_net, mac ${formatMac(this.mac)})`;
  }
}

/** The `vdpasim_net` management device's parent ops. */
export function vdpaSimNetParent(params: VdpaSimParams = VDPASIM_DEFAULT_PARAMS): VdpaParent {
  return {
    supportedClasses: [VIRTIO_ID_NET],
    maxSupportedVqs: 3,
    supportedFeatures: VDPASIM_NET_FEATURES,
    configAttrs: ["mac", "mtu", "device_features"],
    create(name, config) {
      // vdpa_sim.c vdpasim_create: provisioned features must be a subset
      if (
        config.deviceFeatures !== undefined &&
        (config.deviceFeatures & ~VDPASIM_NET_FEATURES) !== 0n
      ) {
        return err({
          errno: "EINVAL",
          reason: "device_features not a subset of the simulator's features",
        });
      }
      return ok(new VdpaSimNet(name, config, params));
    },
    release() {},
    setAttr(dev, attrs) {
      // vdpasim_net_set_attr copies the MAC into config space
      if (!(dev instanceof VdpaSimNet)) {
        return err({ errno: "EOPNOTSUPP", reason: "not a vdpasim_net device" });
      }
      dev.setMac(attrs.mac);
      return ok(undefined);
    },
  };
}
