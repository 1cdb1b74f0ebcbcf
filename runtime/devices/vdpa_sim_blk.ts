/**
 * vdpa_sim_blk's control plane (drivers/vdpa/vdpa_sim/vdpa_sim_blk.c): the `vdpasim_blk`
 * management device and its RAM-disk devices — one virtqueue, 0x40000 sectors (128 MiB),
 * size_max 4096, seg_max 32, 512-byte blocks, device id "vdpa_blk_sim". Only
 * `device_features` can be provisioned. The request handling is the datapath's.
 *
 * Kernel pairing: Linux 6.12 (FLUSH, DISCARD and WRITE_ZEROES offered).
 *
 * @example
 * ```ts
 * import { VDPASIM_BLK_CAPACITY, vdpaSimBlkParent } from "./vdpa_sim_blk.ts";
 * const dev = vdpaSimBlkParent().create("blk0", {});
 * if (!dev.ok) throw new Error("create");
 * const cap = new DataView(dev.value.getConfig(0, 8).buffer).getBigUint64(0, true);
 * if (cap !== BigInt(VDPASIM_BLK_CAPACITY)) throw new Error("capacity in sectors");
 * ```
 *
 * @module
 */

import { err, ok } from "../result.ts";
import {
  featureMask,
  putLe16,
  putLe32,
  putLe64,
  VdpaDevice,
  VIRTIO_BLK_F_BLK_SIZE,
  VIRTIO_BLK_F_DISCARD,
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_F_MQ,
  VIRTIO_BLK_F_SEG_MAX,
  VIRTIO_BLK_F_SIZE_MAX,
  VIRTIO_BLK_F_TOPOLOGY,
  VIRTIO_BLK_F_WRITE_ZEROES,
  VIRTIO_ID_BLOCK,
} from "./vdpa_device.ts";
import type { VdpaDevAddConfig, VdpaParent } from "./vdpa_parent.ts";
import {
  VDPASIM_DEFAULT_PARAMS,
  VDPASIM_FEATURES,
  VDPASIM_QUEUE_MAX,
  type VdpaSimParams,
} from "./vdpa_sim_net.ts";

/** VDPASIM_BLK_FEATURES. */
export const VDPASIM_BLK_FEATURES = VDPASIM_FEATURES | featureMask([
  VIRTIO_BLK_F_SIZE_MAX,
  VIRTIO_BLK_F_SEG_MAX,
  VIRTIO_BLK_F_BLK_SIZE,
  VIRTIO_BLK_F_TOPOLOGY,
  VIRTIO_BLK_F_MQ,
  VIRTIO_BLK_F_DISCARD,
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_F_WRITE_ZEROES,
]);

/** Capacity in 512-byte sectors (128 MiB). */
export const VDPASIM_BLK_CAPACITY = 0x40000;
/** Largest segment. */
export const VDPASIM_BLK_SIZE_MAX = 0x1000;
/** Segments per request. */
export const VDPASIM_BLK_SEG_MAX = 32;
/** The GET_ID answer. */
export const VDPASIM_BLK_ID = "vdpa_blk_sim";
/** sizeof(struct virtio_blk_config) in Linux 6.12 uapi. */
export const VIRTIO_BLK_CONFIG_SIZE = 96;

/** A vdpa_sim_blk device. */
export class VdpaSimBlk extends VdpaDevice {
  readonly params: VdpaSimParams;

  /** Creates the RAM-disk device and fills its config (vdpasim_blk_get_config). */
  constructor(name: string, config: VdpaDevAddConfig, params: VdpaSimParams) {
    super(name, {
      deviceId: VIRTIO_ID_BLOCK,
      vendorId: 0,
      nvqs: 1,
      ngroups: 1,
      nas: 1,
      maxVqSize: VDPASIM_QUEUE_MAX,
      vqAlign: 4096,
      deviceFeatures: config.deviceFeatures ?? VDPASIM_BLK_FEATURES,
      configSize: VIRTIO_BLK_CONFIG_SIZE,
      requireAccessPlatform: true,
      supportsSuspend: true,
      dma: params.batchMapping ? "set_map" : "dma_map",
      useVa: params.useVa,
    });
    this.params = params;
    const c = this.configBytes;
    putLe64(c, 0, BigInt(VDPASIM_BLK_CAPACITY));
    putLe32(c, 8, VDPASIM_BLK_SIZE_MAX);
    putLe32(c, 12, VDPASIM_BLK_SEG_MAX);
    putLe32(c, 20, 512); // blk_size
    putLe16(c, 26, 1); // min_io_size
    putLe32(c, 28, 1); // opt_io_size
    putLe16(c, 34, 1); // num_queues
    putLe32(c, 40, 1); // max_discard_seg
    putLe32(c, 44, 512); // discard_sector_alignment
    putLe32(c, 52, 1); // max_write_zeroes_seg
  }
}

/** The `vdpasim_blk` management device's parent ops. */
export function vdpaSimBlkParent(params: VdpaSimParams = VDPASIM_DEFAULT_PARAMS): VdpaParent {
  return {
    supportedClasses: [VIRTIO_ID_BLOCK],
    maxSupportedVqs: 1,
    supportedFeatures: VDPASIM_BLK_FEATURES,
    configAttrs: ["device_features"],
    create(name, config) {
      if (
        config.deviceFeatures !== undefined &&
        (config.deviceFeatures & ~VDPASIM_BLK_FEATURES) !== 0n
      ) {
        return err({
          errno: "EINVAL",
          reason: "device_features not a subset of the simulator's features",
        });
      }
      return ok(new VdpaSimBlk(name, config, params));
    },
    release() {},
  };
}
