/**
 * The vhost IOTLB message (`struct vhost_iotlb_msg`, linux/vhost_types.h) exchanged on a vhost
 * fd: the kernel writes MISS (and, for vhost-user back-ends, ACCESS_FAIL); userspace writes
 * UPDATE, INVALIDATE and the BATCH_BEGIN / BATCH_END hints. With VHOST_IOTLB_MSG_V2 the
 * envelope also carries an address-space id.
 *
 * @example
 * ```ts
 * import { formatVhostIotlbMsg, VHOST_IOTLB_UPDATE } from "./vhost_iotlb_msg.ts";
 * const m = { type: VHOST_IOTLB_UPDATE, iova: 0x1000, size: 0x1000, uaddr: 0x7f00_0000_1000, perm: 3 } as const;
 * if (formatVhostIotlbMsg(m) !== "UPDATE iova=0x1000 size=0x1000 uaddr=0x7f0000001000 perm=rw") {
 *   throw new Error(formatVhostIotlbMsg(m));
 * }
 * ```
 *
 * @module
 */

import type { Access } from "../memory/translator.ts";
import { permName } from "./event.ts";

/** kernel → user: no translation for `iova` (linux/vhost_types.h). */
export const VHOST_IOTLB_MISS = 1;
/** user → kernel: add a mapping. */
export const VHOST_IOTLB_UPDATE = 2;
/** user → kernel: remove mappings overlapping a range. */
export const VHOST_IOTLB_INVALIDATE = 3;
/** back-end → front-end: an access with the wrong permission. */
export const VHOST_IOTLB_ACCESS_FAIL = 4;
/** user → kernel: updates until BATCH_END may be applied together. */
export const VHOST_IOTLB_BATCH_BEGIN = 5;
/** user → kernel: end of a batch. */
export const VHOST_IOTLB_BATCH_END = 6;

/** The message `type` values. */
export type VhostIotlbMsgType = 1 | 2 | 3 | 4 | 5 | 6;

/** `struct vhost_iotlb_msg`. */
export interface VhostIotlbMsg {
  readonly type: VhostIotlbMsgType;
  readonly iova: number;
  readonly size: number;
  /** Userspace address (HVA) for UPDATE. */
  readonly uaddr: number;
  readonly perm: Access;
}

const NAMES = ["", "MISS", "UPDATE", "INVALIDATE", "ACCESS_FAIL", "BATCH_BEGIN", "BATCH_END"];

/** A message in one line, with only the fields its type uses. */
export function formatVhostIotlbMsg(m: VhostIotlbMsg): string {
  const hex = (n: number) => `0x${n.toString(16)}`;
  const name = NAMES[m.type] ?? `type-${m.type}`;
  switch (m.type) {
    case VHOST_IOTLB_MISS:
    case VHOST_IOTLB_ACCESS_FAIL:
      return `${name} iova=${hex(m.iova)} perm=${permName(m.perm)}`;
    case VHOST_IOTLB_UPDATE:
      return `${name} iova=${hex(m.iova)} size=${hex(m.size)} uaddr=${hex(m.uaddr)} perm=${
        permName(m.perm)
      }`;
    case VHOST_IOTLB_INVALIDATE:
      return `${name} iova=${hex(m.iova)} size=${hex(m.size)}`;
    default:
      return name;
  }
}
