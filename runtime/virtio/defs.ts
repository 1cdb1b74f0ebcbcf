/**
 * Virtio 1.x constants: descriptor flags, ring flags, structure sizes and alignments, event
 * suppression values, device status bits and device ids. Each size states its byte
 * composition; section numbers are those of virtio 1.2 (cs01).
 *
 * @example
 * ```ts
 * import { VIRTQ_DESC_SIZE, VIRTQ_USED_ELEM_SIZE } from "./defs.ts";
 * if (VIRTQ_DESC_SIZE !== 16 || VIRTQ_USED_ELEM_SIZE !== 8) throw new Error("layout");
 * ```
 *
 * @module
 */

// --- Descriptors (§2.7.5 split, §2.8.13 packed) ---

/** Descriptor continues via `next` (split) / the next ring slot (packed). */
export const VIRTQ_DESC_F_NEXT = 1;
/** Buffer is device-writable (otherwise device-readable). */
export const VIRTQ_DESC_F_WRITE = 2;
/** Buffer holds a table of indirect descriptors (§2.7.5.3, §2.8.19). */
export const VIRTQ_DESC_F_INDIRECT = 4;

/** `struct virtq_desc`: addr (le64) + len (le32) + flags (le16) + next (le16) = 16 bytes. */
export const VIRTQ_DESC_SIZE = 16;
/** Offset of `addr` in a split or packed descriptor. */
export const DESC_ADDR = 0;
/** Offset of `len` in a split or packed descriptor. */
export const DESC_LEN = 8;
/** Offset of `flags` in a split descriptor. */
export const DESC_FLAGS = 12;
/** Offset of `next` in a split descriptor. */
export const DESC_NEXT = 14;

// --- Split ring (§2.7) ---

/** Avail flag: the driver does not want used-buffer notifications (§2.7.7). */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** Used flag: the device does not want available-buffer notifications (§2.7.10). */
export const VIRTQ_USED_F_NO_NOTIFY = 1;

/** `struct virtq_avail` header: flags (le16) + idx (le16) = 4 bytes. */
export const VIRTQ_AVAIL_HEADER_SIZE = 4;
/** Offset of `flags` in the avail and used rings. */
export const RING_FLAGS = 0;
/** Offset of `idx` in the avail and used rings. */
export const RING_IDX = 2;
/** Offset of `ring[0]` in the avail and used rings. */
export const RING_ENTRIES = 4;
/** One avail ring entry: a descriptor head index (le16) = 2 bytes. */
export const VIRTQ_AVAIL_ELEM_SIZE = 2;
/** `used_event` after the avail ring entries: le16 = 2 bytes. */
export const VIRTQ_USED_EVENT_SIZE = 2;
/** `struct virtq_used` header: flags (le16) + idx (le16) = 4 bytes. */
export const VIRTQ_USED_HEADER_SIZE = 4;
/** `struct virtq_used_elem`: id (le32) + len (le32) = 8 bytes. */
export const VIRTQ_USED_ELEM_SIZE = 8;
/** `avail_event` after the used ring entries: le16 = 2 bytes. */
export const VIRTQ_AVAIL_EVENT_SIZE = 2;

/** Minimum alignment of the descriptor table (§2.7 table). */
export const VIRTQ_DESC_ALIGN = 16;
/** Minimum alignment of the available ring. */
export const VIRTQ_AVAIL_ALIGN = 2;
/** Minimum alignment of the used ring. */
export const VIRTQ_USED_ALIGN = 4;
/** Largest split queue size (§2.7: a power of 2, at most 32768). */
export const VIRTQ_MAX_SIZE = 32768;

// --- Packed ring (§2.8) ---

/** Bit number of the AVAIL flag in a packed descriptor. */
export const VRING_PACKED_DESC_F_AVAIL = 7;
/** Bit number of the USED flag in a packed descriptor. */
export const VRING_PACKED_DESC_F_USED = 15;
/** Mask of the AVAIL flag (1 << 7). */
export const PACKED_F_AVAIL = 1 << VRING_PACKED_DESC_F_AVAIL;
/** Mask of the USED flag (1 << 15). */
export const PACKED_F_USED = 1 << VRING_PACKED_DESC_F_USED;
/** Offset of `id` in a packed descriptor. */
export const PACKED_DESC_ID = 12;
/** Offset of `flags` in a packed descriptor. */
export const PACKED_DESC_FLAGS = 14;

/** Event suppression: notifications enabled (§2.8.10). */
export const RING_EVENT_FLAGS_ENABLE = 0;
/** Event suppression: notifications disabled. */
export const RING_EVENT_FLAGS_DISABLE = 1;
/** Event suppression: notify at the descriptor named by off_wrap (needs EVENT_IDX). */
export const RING_EVENT_FLAGS_DESC = 2;
/** Bit of `off_wrap` holding the wrap counter. */
export const VRING_PACKED_EVENT_F_WRAP_CTR = 15;
/** `struct pvirtq_event_suppress`: off_wrap (le16) + flags (le16) = 4 bytes. */
export const PVIRTQ_EVENT_SIZE = 4;
/** Offset of `off_wrap` (desc_event_off:15 | desc_event_wrap:1). */
export const EVENT_OFF_WRAP = 0;
/** Offset of `flags` (desc_event_flags:2 | reserved:14). */
export const EVENT_FLAGS = 2;
/** Alignment of the packed descriptor ring. */
export const PVIRTQ_DESC_ALIGN = 16;
/** Alignment of the packed event suppression structures. */
export const PVIRTQ_EVENT_ALIGN = 4;
/** Largest packed queue size (§2.8: 2^15; not required to be a power of 2). */
export const PVIRTQ_MAX_SIZE = 32768;

// --- Device status (§2.1) ---

/** The guest noticed the device. */
export const VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
/** The guest knows how to drive the device. */
export const VIRTIO_CONFIG_S_DRIVER = 2;
/** The driver is set up and ready to drive the device. */
export const VIRTIO_CONFIG_S_DRIVER_OK = 4;
/** Feature negotiation is complete. */
export const VIRTIO_CONFIG_S_FEATURES_OK = 8;
/** Suspended (only with VIRTIO_F_SUSPEND; recent drafts). */
export const VIRTIO_CONFIG_S_SUSPEND = 16;
/** The device hit an error it cannot recover from. */
export const VIRTIO_CONFIG_S_NEEDS_RESET = 64;
/** The driver gave up on the device. */
export const VIRTIO_CONFIG_S_FAILED = 128;

// --- Device ids (§5) ---

/** Network device. */
export const VIRTIO_ID_NET = 1;
/** Block device. */
export const VIRTIO_ID_BLOCK = 2;
/** Console. */
export const VIRTIO_ID_CONSOLE = 3;
/** Entropy source. */
export const VIRTIO_ID_RNG = 4;
/** Socket device. */
export const VIRTIO_ID_VSOCK = 19;
/** IOMMU device. */
export const VIRTIO_ID_IOMMU = 23;
