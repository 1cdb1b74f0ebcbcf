/**
 * The driver side of a packed virtqueue, behaving like Linux `virtqueue_add_packed` and
 * friends: buffer ids from a free list, descriptors written in ring order with AVAIL/USED
 * bits from the driver wrap counter, the first descriptor's flags stored last, indirect
 * tables, kick decisions from the Device Event Suppression structure, used descriptors read
 * by the used wrap counter with per-id list lengths to skip, and interrupt suppression via
 * the Driver Event Suppression structure (ENABLE/DISABLE/DESC).
 *
 * @example
 * ```ts
 * import { GuestMemory } from "../memory/guest_memory.ts";
 * import { PackedDriver } from "./packed_driver.ts";
 * const mem = new GuestMemory();
 * mem.addRegion({ name: "ram", gpa: 0, size: 1 << 20 });
 * const q = PackedDriver.create(mem, { size: 4, descRing: 0x1000, driverEvent: 0x1100, deviceEvent: 0x1104 });
 * if (!q.ok) throw new Error("setup");
 * q.value.addOutbuf(0x8000, 64, 1);
 * // The first lap marks descriptors available with AVAIL=1, USED=0.
 * if (mem.getU16(0x1000 + 14) !== 0x80) throw new Error("flags");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { GuestMemory } from "../memory/guest_memory.ts";
import { type LeView, MemWindow } from "../memory/mem_window.ts";
import type { DriverQueueCounters } from "./counters.ts";
import {
  EVENT_FLAGS,
  EVENT_OFF_WRAP,
  PACKED_DESC_FLAGS,
  PACKED_DESC_ID,
  PVIRTQ_EVENT_SIZE,
  RING_EVENT_FLAGS_DESC,
  RING_EVENT_FLAGS_DISABLE,
  RING_EVENT_FLAGS_ENABLE,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_DESC_SIZE,
} from "./defs.ts";
import { packedNeedEvent } from "./event_suppression.ts";
import {
  hasFeature,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_INDIRECT_DESC,
} from "./features.ts";
import {
  checkPackedLayout,
  descRingSize,
  isDescUsed,
  packedAvailFlags,
  type PackedRingAddrs,
} from "./packed_layout.ts";
import type { QueueFault, RingPart } from "./queue_fault.ts";
import { type IndirectPool, type Segment, USED_FAULT, USED_NONE } from "./split_driver.ts";

/** How to build a driver-side packed queue. Addresses are guest-physical. */
export interface PackedDriverOptions extends PackedRingAddrs {
  /** Queue size, 1..32768. */
  readonly size: number;
  /** Negotiated features (RING_EVENT_IDX, RING_INDIRECT_DESC, IN_ORDER matter). */
  readonly features?: bigint;
  /** Where indirect tables go (per buffer id); without it no indirect descriptors. */
  readonly indirectPool?: IndirectPool;
  /** Whether the driver wants used-buffer notifications at all. Default true. */
  readonly callbacks?: boolean;
}

const TWO_32 = 2 ** 32;

/** The driver side of a packed queue; see the module documentation. */
export class PackedDriver {
  /** Ring layout. */
  readonly layout = "packed" as const;
  /** Queue size. */
  readonly size: number;
  /** What this queue did. */
  #c_added = 0;
  #c_indirect = 0;
  #c_kicks = 0;
  #c_kicksSuppressed = 0;
  #c_reclaimed = 0;
  #c_interrupts = 0;
  #c_spuriousInterrupts = 0;
  #c_full = 0;
  #c_faults = 0;
  /** What this queue did (a snapshot; the queue counts in plain fields on the hot path). */
  get counters(): DriverQueueCounters {
    return {
      added: this.#c_added,
      indirect: this.#c_indirect,
      kicks: this.#c_kicks,
      kicksSuppressed: this.#c_kicksSuppressed,
      reclaimed: this.#c_reclaimed,
      interrupts: this.#c_interrupts,
      spuriousInterrupts: this.#c_spuriousInterrupts,
      full: this.#c_full,
      faults: this.#c_faults,
    };
  }
  /** Length reported for the buffer last returned by {@link getUsed}. */
  lastLen = 0;
  /** Buffer id last returned by {@link getUsed}. */
  lastId: number = -1;

  #mem: GuestMemory;
  #addrs: PackedRingAddrs;
  #desc!: LeView;
  #driverEvent!: LeView;
  #deviceEvent!: LeView;
  #eventIdx: boolean;
  #inOrder: boolean;
  #pool: IndirectPool | undefined;

  #nextAvail = 0;
  #availWrap = 1;
  #lastUsed = 0;
  #usedWrap = 1;
  #numFree: number;
  #numAdded = 0;
  #outstanding = 0;
  /** Free buffer ids, chained. */
  #idNext: Uint16Array;
  #freeId = 0;
  /**
   * Per buffer id, three numbers side by side: the caller's token, the ring slots the buffer
   * occupies (0: not outstanding), and its device-writable bytes.
   */
  #meta: Float64Array;
  #fifo: Uint16Array;
  #fifoHead = 0;
  #fifoLen = 0;
  #batchLeft = 0;
  #batchLen = 0;
  #eventFlags: number = RING_EVENT_FLAGS_ENABLE;
  #eventTriggered = false;
  #fault: QueueFault | undefined = undefined;

  private constructor(mem: GuestMemory, opts: PackedDriverOptions) {
    this.size = opts.size;
    this.#mem = mem;
    this.#addrs = {
      descRing: opts.descRing,
      driverEvent: opts.driverEvent,
      deviceEvent: opts.deviceEvent,
    };
    const f = opts.features ?? 0n;
    this.#eventIdx = hasFeature(f, VIRTIO_F_EVENT_IDX);
    this.#inOrder = hasFeature(f, VIRTIO_F_IN_ORDER);
    this.#pool = hasFeature(f, VIRTIO_F_INDIRECT_DESC) ? opts.indirectPool : undefined;
    const n = opts.size;
    this.#numFree = n;
    this.#idNext = new Uint16Array(n);
    for (let i = 0; i < n - 1; i++) this.#idNext[i] = i + 1;
    this.#meta = new Float64Array(3 * n);
    this.#fifo = new Uint16Array(n);
    if (opts.callbacks === false) this.#eventFlags = RING_EVENT_FLAGS_DISABLE;
  }

  /** Checks the layout, zeroes the ring (§2.8.13: "zero-initialized") and returns the queue. */
  static create(mem: GuestMemory, opts: PackedDriverOptions): Result<PackedDriver, QueueFault> {
    const bad = checkPackedLayout(opts.size, opts);
    if (bad) return err(bad);
    const q = new PackedDriver(mem, opts);
    const parts: [RingPart, number, number][] = [
      ["descTable", opts.descRing, descRingSize(opts.size)],
      ["driverEvent", opts.driverEvent, PVIRTQ_EVENT_SIZE],
      ["deviceEvent", opts.deviceEvent, PVIRTQ_EVENT_SIZE],
    ];
    const windows: MemWindow[] = [];
    for (const [part, addr, len] of parts) {
      const w = MemWindow.open(mem, addr, len, true);
      if (!w.ok) {
        return err({
          kind: "ring-unmapped",
          part,
          addr,
          len,
          cause: { via: "memory", fault: w.error },
        });
      }
      mem.fill(addr, len, 0);
      windows.push(w.value);
    }
    [q.#desc, q.#driverEvent, q.#deviceEvent] = windows.map((w) => w.view) as [
      LeView,
      LeView,
      LeView,
    ];
    if (q.#eventFlags !== RING_EVENT_FLAGS_ENABLE) {
      q.#driverEvent.setUint16(EVENT_FLAGS, q.#eventFlags, true);
    }
    return ok(q);
  }

  /** The fault that broke the queue, if any. */
  get fault(): QueueFault | undefined {
    return this.#fault;
  }

  /** True once the device returned something impossible. */
  get broken(): boolean {
    return this.#fault !== undefined;
  }

  /** Free ring slots. */
  get numFree(): number {
    return this.#numFree;
  }

  /** Buffers made available and not yet reclaimed. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /** Guest-physical ring addresses. */
  get addrs(): PackedRingAddrs {
    return this.#addrs;
  }

  /** Next slot to make available and the driver wrap counter (the NOTIFICATION_DATA payload). */
  get nextAvail(): { slot: number; wrap: number } {
    return { slot: this.#nextAvail, wrap: this.#availWrap };
  }

  #writeDesc(slot: number, addr: number, len: number, id: number): void {
    const d = this.#desc;
    const at = slot * VIRTQ_DESC_SIZE;
    d.setUint32(at, addr >>> 0, true);
    d.setUint32(at + 4, addr < TWO_32 ? 0 : (addr - (addr >>> 0)) / TWO_32, true);
    d.setUint32(at + 8, len, true);
    d.setUint16(at + PACKED_DESC_ID, id, true);
  }

  /**
   * Makes a buffer available (Linux `virtqueue_add_packed`). Returns its buffer id, or -1
   * when the ring lacks free slots. `indirect` forces or forbids an indirect table.
   */
  add(segs: readonly Segment[], token?: number, indirect?: boolean): number {
    const n = segs.length;
    if (n === 0) throw new RangeError("Cannot add a buffer with no segments");
    const pool = this.#pool;
    // virtio 1.2 §2.7.5.3.1: an indirect chain is no longer than the queue (Linux does not check).
    const useIndirect = pool !== undefined && n <= pool.entries && n <= this.size &&
      (indirect ?? (n > 1 && this.#numFree > 0));
    if (indirect === true && !useIndirect) {
      throw new RangeError(
        "Cannot use an indirect table: not negotiated, no pool, or too many segments",
      );
    }
    if (!useIndirect && n > this.size) {
      // Linux WARNs when this can never fit; with indirect tables it only waits for a free slot.
      if (indirect === false || pool === undefined || n > pool.entries) {
        throw new RangeError(
          `Cannot add ${n} segments to a queue of ${this.size} without an indirect table`,
        );
      }
      this.#c_full++;
      return -1;
    }
    const needed = useIndirect ? 1 : n;
    if (this.#numFree < needed || this.#outstanding === this.size) {
      this.#c_full++;
      return -1;
    }
    let inLen = 0;
    let sawWrite = false;
    for (let k = 0; k < n; k++) {
      const s = segs[k] as Segment;
      if (s.write) {
        sawWrite = true;
        inLen += s.len;
      } else if (sawWrite) {
        throw new RangeError(`Cannot add segment ${k}: device-readable after device-writable`);
      }
    }
    const id = this.#freeId;
    this.#freeId = this.#idNext[id] as number;
    const head = this.#nextAvail;
    const availFlags = packedAvailFlags(this.#availWrap);
    let headFlags: number;
    if (useIndirect) {
      const p = pool as IndirectPool;
      const tableGpa = p.gpa + id * p.entries * VIRTQ_DESC_SIZE;
      const tableAddr = (p.addr ?? p.gpa) + id * p.entries * VIRTQ_DESC_SIZE;
      const mem = this.#mem;
      for (let k = 0; k < n; k++) {
        const s = segs[k] as Segment;
        const at = tableGpa + k * VIRTQ_DESC_SIZE;
        mem.setU32(at, s.addr >>> 0);
        mem.setU32(at + 4, (s.addr - (s.addr >>> 0)) / TWO_32);
        mem.setU32(at + 8, s.len);
        mem.setU16(at + PACKED_DESC_ID, 0);
        // §2.8.19: WRITE is the only flag inside an indirect table.
        mem.setU16(at + PACKED_DESC_FLAGS, s.write ? VIRTQ_DESC_F_WRITE : 0);
      }
      this.#writeDesc(head, tableAddr, n * VIRTQ_DESC_SIZE, id);
      headFlags = VIRTQ_DESC_F_INDIRECT | availFlags;
      this.#advanceAvail();
      this.#c_indirect++;
    } else {
      headFlags = 0;
      for (let k = 0; k < n; k++) {
        const s = segs[k] as Segment;
        const slot = this.#nextAvail;
        // Linux writes the id into every descriptor; §2.8.6 requires it in the last one.
        this.#writeDesc(slot, s.addr, s.len, id);
        const flags = packedAvailFlags(this.#availWrap) | (s.write ? VIRTQ_DESC_F_WRITE : 0) |
          (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
        if (k === 0) headFlags = flags;
        else this.#desc.setUint16(slot * VIRTQ_DESC_SIZE + PACKED_DESC_FLAGS, flags, true);
        this.#advanceAvail();
      }
    }
    this.#numFree -= needed;
    this.#meta[3 * id + 1] = needed;
    this.#meta[3 * id] = token ?? id;
    this.#meta[3 * id + 2] = inLen;
    this.#outstanding++;
    if (this.#inOrder) {
      this.#fifo[(this.#fifoHead + this.#fifoLen) % this.size] = id;
      this.#fifoLen++;
    }
    // §2.8.6: the first descriptor's flags go last, exposing the whole list at once.
    this.#desc.setUint16(head * VIRTQ_DESC_SIZE + PACKED_DESC_FLAGS, headFlags, true);
    this.#numAdded += needed;
    this.#c_added++;
    return id;
  }

  #advanceAvail(): void {
    if (++this.#nextAvail === this.size) {
      this.#nextAvail = 0;
      this.#availWrap ^= 1;
    }
  }

  /** Adds one device-readable buffer. */
  addOutbuf(addr: number, len: number, token?: number): number {
    return this.#addOne(addr, len, false, token);
  }

  /** Adds one device-writable buffer. */
  addInbuf(addr: number, len: number, token?: number): number {
    return this.#addOne(addr, len, true, token);
  }

  /** The one-descriptor case of {@link add}, without building a segment list. */
  #addOne(addr: number, len: number, write: boolean, token: number | undefined): number {
    if (this.#numFree === 0) {
      this.#c_full++;
      return -1;
    }
    const id = this.#freeId;
    this.#freeId = this.#idNext[id] as number;
    const slot = this.#nextAvail;
    const flags = packedAvailFlags(this.#availWrap) | (write ? VIRTQ_DESC_F_WRITE : 0);
    this.#writeDesc(slot, addr, len, id);
    this.#advanceAvail();
    this.#numFree--;
    this.#meta[3 * id + 1] = 1;
    this.#meta[3 * id] = token ?? id;
    this.#meta[3 * id + 2] = write ? len : 0;
    this.#outstanding++;
    if (this.#inOrder) {
      this.#fifo[(this.#fifoHead + this.#fifoLen) % this.size] = id;
      this.#fifoLen++;
    }
    // §2.8.6: flags last.
    this.#desc.setUint16(slot * VIRTQ_DESC_SIZE + PACKED_DESC_FLAGS, flags, true);
    this.#numAdded++;
    this.#c_added++;
    return id;
  }

  /**
   * Must the device be notified (Linux `virtqueue_kick_prepare_packed`)? Reads the Device
   * Event Suppression structure: DISABLE → no, ENABLE → yes, DESC → whether the slots made
   * available since the last call reached (off, wrap).
   */
  kickPrepare(): boolean {
    const count = this.#numAdded;
    this.#numAdded = 0;
    const flags = this.#deviceEvent.getUint16(EVENT_FLAGS, true);
    let kick: boolean;
    if (flags !== RING_EVENT_FLAGS_DESC) kick = flags !== RING_EVENT_FLAGS_DISABLE;
    else {
      const offWrap = this.#deviceEvent.getUint16(EVENT_OFF_WRAP, true);
      kick = packedNeedEvent(offWrap, this.#nextAvail, count, this.#availWrap, this.size);
    }
    if (kick) this.#c_kicks++;
    else this.#c_kicksSuppressed++;
    return kick;
  }

  #badRing(f: QueueFault): number {
    if (this.#fault === undefined) {
      this.#fault = f;
      this.#c_faults++;
    }
    return USED_FAULT;
  }

  #slotUsed(): boolean {
    return isDescUsed(
      this.#desc.getUint16(this.#lastUsed * VIRTQ_DESC_SIZE + PACKED_DESC_FLAGS, true),
      this.#usedWrap,
    );
  }

  /** True when a used descriptor (or the rest of an IN_ORDER batch) is waiting. */
  moreUsed(): boolean {
    return this.#fault === undefined && (this.#batchLeft > 0 || this.#slotUsed());
  }

  /**
   * Takes the next used buffer (Linux `virtqueue_get_buf_ctx_packed`): returns its token and
   * sets {@link lastLen}/{@link lastId}, or {@link USED_NONE}, or {@link USED_FAULT}.
   */
  getUsed(): number {
    if (this.#fault !== undefined) return USED_FAULT;
    let id: number;
    let len = 0;
    if (this.#batchLeft === 0) {
      if (!this.#slotUsed()) return USED_NONE;
      const at = this.#lastUsed * VIRTQ_DESC_SIZE;
      const flags = this.#desc.getUint16(at + PACKED_DESC_FLAGS, true);
      id = this.#desc.getUint16(at + PACKED_DESC_ID, true);
      // §2.8.4: len is reserved (0) in a used descriptor without WRITE.
      len = (flags & VIRTQ_DESC_F_WRITE) !== 0 ? this.#desc.getUint32(at + 8, true) : 0;
      if (id >= this.size) {
        return this.#badRing({ kind: "used-id-out-of-range", id, size: this.size });
      }
      if (this.#meta[3 * id + 1] === 0) return this.#badRing({ kind: "used-id-not-in-flight", id });
      if (len > (this.#meta[3 * id + 2] as number)) {
        return this.#badRing({
          kind: "used-len-too-big",
          id,
          len,
          max: this.#meta[3 * id + 2] as number,
        });
      }
      if (this.#inOrder) {
        let k = 0;
        while (k < this.#fifoLen && this.#fifo[(this.#fifoHead + k) % this.size] !== id) k++;
        if (k === this.#fifoLen) return this.#badRing({ kind: "used-id-not-in-flight", id });
        this.#batchLeft = k + 1;
        this.#batchLen = len;
      }
    } else id = -1;
    if (this.#inOrder) {
      id = this.#fifo[this.#fifoHead] as number;
      // §2.8.20: skipped buffers were used completely.
      len = this.#batchLeft === 1 ? this.#batchLen : this.#meta[3 * id + 2] as number;
      this.#batchLeft--;
      this.#fifoHead = (this.#fifoHead + 1) % this.size;
      this.#fifoLen--;
    }
    const token = this.#meta[3 * id] as number;
    const slots = this.#meta[3 * id + 1] as number;
    this.#meta[3 * id + 1] = 0; // no longer outstanding
    this.#outstanding--;
    this.#numFree += slots;
    this.#idNext[id] = this.#freeId;
    this.#freeId = id;
    let next = this.#lastUsed + slots;
    if (next >= this.size) {
      next -= this.size;
      this.#usedWrap ^= 1;
    }
    this.#lastUsed = next;
    // Linux: with a DESC event, keep it at the next used position.
    if (this.#eventFlags === RING_EVENT_FLAGS_DESC) {
      this.#driverEvent.setUint16(EVENT_OFF_WRAP, this.#lastUsed | (this.#usedWrap << 15), true);
    }
    this.lastLen = len;
    this.lastId = id;
    this.#c_reclaimed++;
    return token;
  }

  /** A used-buffer notification arrived; false when it found nothing (spurious). */
  interrupt(): boolean {
    this.#c_interrupts++;
    if (!this.moreUsed()) {
      this.#c_spuriousInterrupts++;
      return false;
    }
    if (this.#eventIdx) this.#eventTriggered = true;
    return true;
  }

  /** Asks for no used-buffer notifications (Linux `virtqueue_disable_cb_packed`). */
  disableCallbacks(): void {
    if (this.#eventFlags === RING_EVENT_FLAGS_DISABLE) return;
    this.#eventFlags = RING_EVENT_FLAGS_DISABLE;
    if (this.#eventTriggered) return;
    this.#driverEvent.setUint16(EVENT_FLAGS, this.#eventFlags, true);
  }

  #enableFlags(): void {
    if (this.#eventFlags === RING_EVENT_FLAGS_DISABLE) {
      this.#eventFlags = this.#eventIdx ? RING_EVENT_FLAGS_DESC : RING_EVENT_FLAGS_ENABLE;
      this.#driverEvent.setUint16(EVENT_FLAGS, this.#eventFlags, true);
    }
  }

  /**
   * Re-enables used-buffer notifications (Linux `virtqueue_enable_cb_prepare_packed` +
   * `virtqueue_poll`): true when nothing is pending (safe to sleep).
   */
  enableCallbacks(): boolean {
    this.#eventTriggered = false;
    if (this.#eventIdx) {
      this.#driverEvent.setUint16(EVENT_OFF_WRAP, this.#lastUsed | (this.#usedWrap << 15), true);
    }
    this.#enableFlags();
    return !this.moreUsed();
  }

  /** Like {@link enableCallbacks}, but the event sits 3/4 of the outstanding slots ahead. */
  enableCallbacksDelayed(): boolean {
    this.#eventTriggered = false;
    if (this.#eventIdx) {
      const bufs = Math.floor(((this.size - this.#numFree) * 3) / 4);
      let pos = this.#lastUsed + bufs;
      let wrap = this.#usedWrap;
      if (pos >= this.size) {
        pos -= this.size;
        wrap ^= 1;
      }
      this.#driverEvent.setUint16(EVENT_OFF_WRAP, pos | (wrap << 15), true);
    }
    this.#enableFlags();
    return !this.moreUsed();
  }

  /** A plain snapshot of the driver's view, for `show vq`. */
  inspect(): {
    nextAvail: number;
    availWrap: number;
    lastUsed: number;
    usedWrap: number;
    numFree: number;
    driverEventFlags: number;
    driverEventOffWrap: number;
    deviceEventFlags: number;
    deviceEventOffWrap: number;
  } {
    return {
      nextAvail: this.#nextAvail,
      availWrap: this.#availWrap,
      lastUsed: this.#lastUsed,
      usedWrap: this.#usedWrap,
      numFree: this.#numFree,
      driverEventFlags: this.#driverEvent.getUint16(EVENT_FLAGS, true),
      driverEventOffWrap: this.#driverEvent.getUint16(EVENT_OFF_WRAP, true),
      deviceEventFlags: this.#deviceEvent.getUint16(EVENT_FLAGS, true),
      deviceEventOffWrap: this.#deviceEvent.getUint16(EVENT_OFF_WRAP, true),
    };
  }
}
