/**
 * The vhost and vhost-vdpa ioctl numbers (linux/vhost.h, type 0xAF) as the x86-64 kernel
 * encodes them: `dir << 30 | size << 16 | 0xAF << 8 | nr`, with dir 0 none, 1 write (user →
 * kernel), 2 read, 3 both. Traces print the name; `value` is what `strace` would show.
 *
 * @example
 * ```ts
 * import { vhostIoctl } from "./ioctl.ts";
 * if (vhostIoctl("VHOST_SET_VRING_ADDR").value !== 0x4028af11) throw new Error("_IOW(0xAF, 0x11, 40)");
 * if (vhostIoctl("VHOST_VDPA_GET_IOVA_RANGE").value !== 0x8010af78) throw new Error("_IOR(0xAF, 0x78, 16)");
 * ```
 *
 * @module
 */

/** `_IOC` directions. */
const NONE = 0;
const W = 1;
const R = 2;
const RW = 3;

/** The ioctl type of every vhost ioctl (VHOST_VIRTIO). */
export const VHOST_VIRTIO = 0xaf;

/** Every vhost / vhost-vdpa ioctl the lab issues: [dir, nr, argument size]. */
const TABLE = {
  VHOST_GET_FEATURES: [R, 0x00, 8],
  VHOST_SET_FEATURES: [W, 0x00, 8],
  VHOST_SET_OWNER: [NONE, 0x01, 0],
  VHOST_RESET_OWNER: [NONE, 0x02, 0],
  VHOST_SET_MEM_TABLE: [W, 0x03, 8],
  VHOST_SET_LOG_BASE: [W, 0x04, 8],
  VHOST_SET_LOG_FD: [W, 0x07, 4],
  VHOST_SET_VRING_NUM: [W, 0x10, 8],
  VHOST_SET_VRING_ADDR: [W, 0x11, 40],
  VHOST_SET_VRING_BASE: [W, 0x12, 8],
  VHOST_GET_VRING_BASE: [RW, 0x12, 8],
  VHOST_SET_VRING_KICK: [W, 0x20, 8],
  VHOST_SET_VRING_CALL: [W, 0x21, 8],
  VHOST_SET_VRING_ERR: [W, 0x22, 8],
  VHOST_SET_BACKEND_FEATURES: [W, 0x25, 8],
  VHOST_GET_BACKEND_FEATURES: [R, 0x26, 8],
  VHOST_VDPA_GET_DEVICE_ID: [R, 0x70, 4],
  VHOST_VDPA_GET_STATUS: [R, 0x71, 1],
  VHOST_VDPA_SET_STATUS: [W, 0x72, 1],
  VHOST_VDPA_GET_CONFIG: [R, 0x73, 8],
  VHOST_VDPA_SET_CONFIG: [W, 0x74, 8],
  VHOST_VDPA_SET_VRING_ENABLE: [W, 0x75, 8],
  VHOST_VDPA_GET_VRING_NUM: [R, 0x76, 2],
  VHOST_VDPA_SET_CONFIG_CALL: [W, 0x77, 4],
  VHOST_VDPA_GET_IOVA_RANGE: [R, 0x78, 16],
  VHOST_VDPA_GET_CONFIG_SIZE: [R, 0x79, 4],
  VHOST_VDPA_GET_AS_NUM: [R, 0x7a, 4],
  VHOST_VDPA_GET_VRING_GROUP: [RW, 0x7b, 8],
  VHOST_VDPA_SET_GROUP_ASID: [W, 0x7c, 8],
  VHOST_VDPA_SUSPEND: [NONE, 0x7d, 0],
  VHOST_VDPA_RESUME: [NONE, 0x7e, 0],
  VHOST_VDPA_GET_VQS_COUNT: [R, 0x80, 4],
  VHOST_VDPA_GET_GROUP_NUM: [R, 0x81, 4],
} as const;

/** A vhost ioctl name. */
export type VhostIoctlName = keyof typeof TABLE;

/** One ioctl: its name and encoded request number. */
export interface VhostIoctl {
  readonly name: VhostIoctlName;
  readonly nr: number;
  /** The request number passed to ioctl(2). */
  readonly value: number;
}

/** The ioctl called `name`. */
export function vhostIoctl(name: VhostIoctlName): VhostIoctl {
  const [dir, nr, size] = TABLE[name];
  // asm-generic/ioctl.h _IOC(dir, type, nr, size); >>> 0 keeps it unsigned
  const value = ((dir << 30) | (size << 16) | (VHOST_VIRTIO << 8) | nr) >>> 0;
  return { name, nr, value };
}

/** Backend feature bits (VHOST_GET/SET_BACKEND_FEATURES, linux/vhost_types.h). */
export const VHOST_BACKEND_F_IOTLB_MSG_V2 = 1;
export const VHOST_BACKEND_F_IOTLB_BATCH = 2;
export const VHOST_BACKEND_F_IOTLB_ASID = 3;
export const VHOST_BACKEND_F_SUSPEND = 4;
export const VHOST_BACKEND_F_RESUME = 5;
export const VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK = 6;
export const VHOST_BACKEND_F_DESC_ASID = 7;
export const VHOST_BACKEND_F_IOTLB_PERSIST = 8;

/** Names of the backend feature bits, for traces. */
export const BACKEND_FEATURE_NAMES: Readonly<Record<number, string>> = {
  [VHOST_BACKEND_F_IOTLB_MSG_V2]: "IOTLB_MSG_V2",
  [VHOST_BACKEND_F_IOTLB_BATCH]: "IOTLB_BATCH",
  [VHOST_BACKEND_F_IOTLB_ASID]: "IOTLB_ASID",
  [VHOST_BACKEND_F_SUSPEND]: "SUSPEND",
  [VHOST_BACKEND_F_RESUME]: "RESUME",
  [VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK]: "ENABLE_AFTER_DRIVER_OK",
  [VHOST_BACKEND_F_DESC_ASID]: "DESC_ASID",
  [VHOST_BACKEND_F_IOTLB_PERSIST]: "IOTLB_PERSIST",
};

/** `a|b|c` for the set bits of a backend feature mask. */
export function backendFeatureNames(features: bigint): string {
  const out: string[] = [];
  for (let b = 0; b < 64; b++) {
    if ((features >> BigInt(b)) & 1n) out.push(BACKEND_FEATURE_NAMES[b] ?? `bit_${b}`);
  }
  return out.length === 0 ? "0" : out.join("|");
}
