/**
 * The notification-suppression tests shared by both sides of both ring layouts.
 *
 * `vring_need_event(event, new, old)` (Linux `include/uapi/linux/virtio_ring.h`) is true when
 * `event` lies in `[old, new)` modulo 2^16: the other side asked to be notified when the
 * entry at index `event` is published, and this batch published it.
 *
 * For packed rings the event names a descriptor slot and a wrap counter (§2.8.10); Linux and
 * vhost map it onto the same line as the positions by subtracting the ring size when its
 * wrap counter differs from the current one.
 *
 * @example The spec's worked numbers (old = 5, new = 8)
 * ```ts
 * import { vringNeedEvent } from "./event_suppression.ts";
 * if (!vringNeedEvent(6, 8, 5)) throw new Error("6 is in [5, 8)");
 * if (vringNeedEvent(8, 8, 5) || vringNeedEvent(4, 8, 5)) throw new Error("outside");
 * ```
 *
 * @module
 */

/** True when `eventIdx` is in `[oldIdx, newIdx)` modulo 2^16 (virtio 1.2 §2.7.7, §2.7.10). */
export function vringNeedEvent(eventIdx: number, newIdx: number, oldIdx: number): boolean {
  return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}

/**
 * The packed-ring test (§2.8.10, Linux `virtqueue_kick_prepare_packed`): `count` entries were
 * just published ending before ring position `newPos` (in `[0, size)`) with current wrap
 * counter `wrap`; does the event `offWrap` (off:15 | wrap:1) fall in them? Counts of `size` or
 * more always notify (the event was certainly passed).
 */
export function packedNeedEvent(
  offWrap: number,
  newPos: number,
  count: number,
  wrap: number,
  size: number,
): boolean {
  if (count >= size) return count > 0;
  let off = offWrap & 0x7fff;
  // virtio 1.2 §2.8.10: an event whose wrap counter differs refers to the previous lap.
  if (offWrap >>> 15 !== wrap) off -= size;
  return vringNeedEvent(off & 0xffff, newPos, (newPos - count) & 0xffff);
}
