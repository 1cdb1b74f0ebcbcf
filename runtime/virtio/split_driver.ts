/**
 * The driver side of a split virtqueue, behaving like Linux `drivers/virtio/virtio_ring.c`:
 * a free-descriptor list kept in driver-private memory (never re-read from the ring), chains
 * of readable then writable segments, indirect tables when RING_INDIRECT_DESC is negotiated
 * (Linux's rule: any chain of two or more segments while a descriptor is free), IN_ORDER
 * allocation, publish-then-decide kicks (`avail_event` or NO_NOTIFY), reclaim of used
 * entries with validation (`BAD_RING`), and interrupt suppression requests (`used_event` or
 * NO_INTERRUPT) with the re-check race rule.
 *
 * It is the ring engine of the simulated guest driver and the test fixture that writes real
 * rings for device tests (like rust-vmm's `MockSplitQueue`). Tokens are numbers the caller
 * attaches to a buffer and gets back from {@link SplitDriver.getUsed}.
 *
 * @example Add, kick, and the re-check when re-enabling callbacks
 * ```ts
 * import { GuestMemory } from "../memory/guest_memory.ts";
 * import { SplitDriver } from "./split_driver.ts";
 * const mem = new GuestMemory();
 * mem.addRegion({ name: "ram", gpa: 0, size: 1 << 20 });
 * const q = SplitDriver.create(mem, { size: 4, descTable: 0x1000, availRing: 0x1100, usedRing: 0x1200 });
 * if (!q.ok) throw new Error("setup");
 * const drv = q.value;
 * drv.add([{ addr: 0x8000, len: 12, write: false }, { addr: 0x9000, len: 64, write: true }], 7);
 * if (!drv.kickPrepare()) throw new Error("kick expected: the device did not set NO_NOTIFY");
 * if (mem.getU16(0x1102) !== 1) throw new Error("avail.idx is published at add time");
 * if (!drv.enableCallbacks()) throw new Error("nothing used yet: safe to sleep");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { GuestMemory } from "../memory/guest_memory.ts";
import { type LeView, MemWindow } from "../memory/mem_window.ts";
import type { DriverQueueCounters } from "./counters.ts";
import {
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_DESC_SIZE,
  VIRTQ_USED_F_NO_NOTIFY,
} from "./defs.ts";
import { vringNeedEvent } from "./event_suppression.ts";
import {
  hasFeature,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_INDIRECT_DESC,
} from "./features.ts";
import type { QueueFault, RingPart } from "./queue_fault.ts";
import {
  availEntryOffset,
  availEventOffset,
  availRingSize,
  checkSplitLayout,
  descTableSize,
  type SplitRingAddrs,
  usedEntryOffset,
  usedEventOffset,
  usedRingSize,
} from "./split_layout.ts";

/** One element of a buffer: `len` bytes at `addr`, device-writable or device-readable. */
export interface Segment {
  /** Address written into the descriptor (GPA, or IOVA with ACCESS_PLATFORM). */
  readonly addr: number;
  /** Length in bytes. */
  readonly len: number;
  /** Device-writable (otherwise device-readable). */
  readonly write: boolean;
}

/**
 * Memory for indirect tables: `entries` descriptors (16 bytes each) per head, head `h` using
 * `gpa + h × entries × 16`. `addr` is the same place as the device sees it (an IOVA when
 * ACCESS_PLATFORM is in use; default `gpa`).
 */
export interface IndirectPool {
  /** Guest-physical address of the pool (where the driver writes the tables). */
  readonly gpa: number;
  /** Address written into the descriptor (GPA, or IOVA with ACCESS_PLATFORM). */
  readonly addr?: number;
  /** Descriptors per table. */
  readonly entries: number;
}

/** How to build a driver-side split queue. Ring addresses are guest-physical. */
export interface SplitDriverOptions extends SplitRingAddrs {
  /** Queue size: a power of 2 in 1..32768. */
  readonly size: number;
  /** Negotiated features (RING_EVENT_IDX, RING_INDIRECT_DESC, IN_ORDER matter). */
  readonly features?: bigint;
  /** Where indirect tables go; without it the driver never uses indirect descriptors. */
  readonly indirectPool?: IndirectPool;
  /** Whether the driver wants used-buffer notifications at all (a callback). Default true. */
  readonly callbacks?: boolean;
  /** Transport notify, called when Linux would kick on its own (65535 adds without a kick). */
  readonly notify?: () => void;
}

/** `getUsed()`: nothing new in the used ring. */
export const USED_NONE: -1 = -1;
/** `getUsed()`: the used ring is corrupt; see `fault`. */
export const USED_FAULT: -2 = -2;

const TWO_32 = 2 ** 32;

/** The driver side of a split queue; see the module documentation. */
export class SplitDriver {
  /** Ring layout. */
  readonly layout = "split" as const;
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
  /** Length reported by the device for the buffer last returned by {@link getUsed}. */
  lastLen = 0;
  /** Head of the buffer last returned by {@link getUsed}. */
  lastHead: number = -1;

  #mem: GuestMemory;
  #addrs: SplitRingAddrs;
  #desc!: LeView;
  #avail!: LeView;
  #used!: LeView;
  #mask: number;
  #eventIdx: boolean;
  #inOrder: boolean;
  #pool: IndirectPool | undefined;
  #notify: (() => void) | undefined;
  #usedEventOff: number;
  #availEventOff: number;

  /** Driver-private copy of each descriptor's `next` (the free list and chains). */
  #next: Uint16Array;
  #freeHead = 0;
  #numFree: number;
  #inOrderNext = 0;
  /**
   * Per head, three numbers side by side (one cache line for the hot path): the caller's token,
   * the ring descriptors the head holds (1 for an indirect chain; 0: not an outstanding head),
   * and the buffer's device-writable bytes.
   */
  #meta: Float64Array;
  /** IN_ORDER: heads in the order they were made available. */
  #fifo: Uint16Array;
  #fifoHead = 0;
  #fifoLen = 0;
  #batchLeft = 0;
  #batchLen = 0;

  #availIdx = 0;
  #outstanding = 0;
  #numAdded = 0;
  #lastUsed = 0;
  #availFlags = 0;
  #eventTriggered = false;
  #fault: QueueFault | undefined = undefined;

  private constructor(mem: GuestMemory, opts: SplitDriverOptions) {
    this.size = opts.size;
    this.#mem = mem;
    this.#addrs = { descTable: opts.descTable, availRing: opts.availRing, usedRing: opts.usedRing };
    const f = opts.features ?? 0n;
    this.#eventIdx = hasFeature(f, VIRTIO_F_EVENT_IDX);
    this.#inOrder = hasFeature(f, VIRTIO_F_IN_ORDER);
    this.#pool = hasFeature(f, VIRTIO_F_INDIRECT_DESC) ? opts.indirectPool : undefined;
    this.#notify = opts.notify;
    this.#mask = opts.size - 1;
    this.#usedEventOff = usedEventOffset(opts.size);
    this.#availEventOff = availEventOffset(opts.size);
    const n = opts.size;
    this.#next = new Uint16Array(n);
    for (let i = 0; i < n - 1; i++) this.#next[i] = i + 1;
    this.#numFree = n;
    this.#meta = new Float64Array(3 * n);
    this.#fifo = new Uint16Array(n);
    if (opts.callbacks === false) this.#availFlags = VIRTQ_AVAIL_F_NO_INTERRUPT;
  }

  /**
   * Checks the layout, zeroes the rings (a driver allocates them zeroed; §2.7.10 needs
   * used.flags = 0) and returns the queue. Ring memory must exist.
   */
  static create(mem: GuestMemory, opts: SplitDriverOptions): Result<SplitDriver, QueueFault> {
    const bad = checkSplitLayout(opts.size, opts);
    if (bad) return err(bad);
    const q = new SplitDriver(mem, opts);
    const parts: [RingPart, number, number][] = [
      ["descTable", opts.descTable, descTableSize(opts.size)],
      ["availRing", opts.availRing, availRingSize(opts.size)],
      ["usedRing", opts.usedRing, usedRingSize(opts.size)],
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
    [q.#desc, q.#avail, q.#used] = windows.map((w) => w.view) as [LeView, LeView, LeView];
    if (q.#availFlags !== 0 && !q.#eventIdx) q.#avail.setUint16(0, q.#availFlags, true);
    return ok(q);
  }

  /** The fault that broke the queue, if any. */
  get fault(): QueueFault | undefined {
    return this.#fault;
  }

  /** True once the device returned something impossible (Linux `vq->broken`). */
  get broken(): boolean {
    return this.#fault !== undefined;
  }

  /** Free descriptors. */
  get numFree(): number {
    return this.#numFree;
  }

  /** The avail.idx the driver has published. */
  get availIdx(): number {
    return this.#availIdx;
  }

  /** The next used index the driver will read. */
  get lastUsed(): number {
    return this.#lastUsed;
  }

  /** Buffers made available and not yet reclaimed. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /** Guest-physical ring addresses. */
  get addrs(): SplitRingAddrs {
    return this.#addrs;
  }

  #writeDesc(i: number, addr: number, len: number, flags: number, next: number): void {
    const d = this.#desc;
    const at = i * VIRTQ_DESC_SIZE;
    d.setUint32(at, addr >>> 0, true);
    d.setUint32(at + 4, addr < TWO_32 ? 0 : (addr - (addr >>> 0)) / TWO_32, true);
    d.setUint32(at + 8, len, true);
    d.setUint16(at + 12, flags, true);
    d.setUint16(at + 14, next, true);
  }

  #allocate(): number {
    if (this.#inOrder) {
      const i = this.#inOrderNext;
      this.#inOrderNext = (i + 1) & this.#mask;
      return i;
    }
    const i = this.#freeHead;
    this.#freeHead = this.#next[i] as number;
    return i;
  }

  /**
   * Makes a buffer available and publishes avail.idx (Linux `virtqueue_add_split`). Returns
   * the head descriptor, or -1 when not enough descriptors are free (-ENOSPC). `indirect`
   * forces (true) or forbids (false) an indirect table; by default Linux's rule applies.
   * Throws on an empty buffer or a readable segment after a writable one (a caller bug).
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
    const needed = useIndirect ? 1 : n;
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
    if (this.#numFree < needed) {
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
    const head = this.#allocate();
    if (useIndirect) {
      // Linux alloc_indirect_split: entries chained 0 → 1 → …, the table in one descriptor.
      const p = pool as IndirectPool;
      const tableGpa = p.gpa + head * p.entries * VIRTQ_DESC_SIZE;
      const tableAddr = (p.addr ?? p.gpa) + head * p.entries * VIRTQ_DESC_SIZE;
      const mem = this.#mem;
      for (let k = 0; k < n; k++) {
        const s = segs[k] as Segment;
        const at = tableGpa + k * VIRTQ_DESC_SIZE;
        mem.setU32(at, s.addr >>> 0);
        mem.setU32(at + 4, (s.addr - (s.addr >>> 0)) / TWO_32);
        mem.setU32(at + 8, s.len);
        mem.setU16(
          at + 12,
          (s.write ? VIRTQ_DESC_F_WRITE : 0) | (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0),
        );
        mem.setU16(at + 14, k + 1 < n ? k + 1 : 0);
      }
      this.#writeDesc(head, tableAddr, n * VIRTQ_DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
      this.#meta[3 * head + 1] = 1;
      this.#c_indirect++;
    } else {
      let i = head;
      for (let k = 0; k < n; k++) {
        const s = segs[k] as Segment;
        const last = k + 1 === n;
        const next = last ? 0 : this.#allocate();
        // §2.7.5: IN_ORDER chains use next = x + 1 (0 after the last slot); the free list
        // gives the same when allocation is sequential.
        this.#writeDesc(
          i,
          s.addr,
          s.len,
          (s.write ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT),
          next,
        );
        if (!last) this.#next[i] = next;
        i = next;
      }
      this.#meta[3 * head + 1] = n;
    }
    this.#numFree -= needed;
    this.#meta[3 * head + 2] = inLen;
    return this.#publish(head, token);
  }

  /** Adds one device-readable buffer (Linux `virtqueue_add_outbuf` with one element). */
  addOutbuf(addr: number, len: number, token?: number): number {
    return this.#addOne(addr, len, false, token);
  }

  /** Adds one device-writable buffer (Linux `virtqueue_add_inbuf` with one element). */
  addInbuf(addr: number, len: number, token?: number): number {
    return this.#addOne(addr, len, true, token);
  }

  /** The one-descriptor case of {@link add}, without building a segment list. */
  #addOne(addr: number, len: number, write: boolean, token: number | undefined): number {
    if (this.#numFree === 0) {
      this.#c_full++;
      return -1;
    }
    const head = this.#allocate();
    this.#writeDesc(head, addr, len, write ? VIRTQ_DESC_F_WRITE : 0, 0);
    this.#meta[3 * head + 1] = 1;
    this.#numFree--;
    this.#meta[3 * head + 2] = write ? len : 0;
    return this.#publish(head, token);
  }

  /** Records `head` as outstanding and publishes it in the avail ring. */
  #publish(head: number, token: number | undefined): number {
    this.#meta[3 * head] = token ?? head;
    this.#outstanding++;
    if (this.#inOrder) {
      this.#fifo[(this.#fifoHead + this.#fifoLen) & this.#mask] = head;
      this.#fifoLen++;
    }
    // Publish: ring entry, then idx (virtio 1.2 §2.7.13.2 and .3; Linux updates idx per add).
    const avail = this.#avail;
    avail.setUint16(availEntryOffset(this.#availIdx & this.#mask), head, true);
    this.#availIdx = (this.#availIdx + 1) & 0xffff;
    avail.setUint16(2, this.#availIdx, true);
    this.#numAdded++;
    this.#c_added++;
    // Linux: kick on our own before num_added could alias the 16-bit index.
    if (this.#numAdded === 0xffff) {
      if (this.kickPrepare()) this.#notify?.();
    }
    return head;
  }

  /**
   * After publishing, must the device be notified (Linux `virtqueue_kick_prepare_split`)?
   * EVENT_IDX: when avail_event lies in what was published since the last call; otherwise
   * unless the device set NO_NOTIFY.
   */
  kickPrepare(): boolean {
    const now = this.#availIdx;
    const old = (now - this.#numAdded) & 0xffff;
    this.#numAdded = 0;
    let kick: boolean;
    if (this.#eventIdx) {
      // virtio 1.2 §2.7.10: notify when the entry at avail_event was just published.
      kick = vringNeedEvent(this.#used.getUint16(this.#availEventOff, true), now, old);
    } else {
      kick = (this.#used.getUint16(0, true) & VIRTQ_USED_F_NO_NOTIFY) === 0;
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

  /** True when the device has published used entries the driver has not read. */
  moreUsed(): boolean {
    return this.#fault === undefined &&
      (this.#batchLeft > 0 || this.#used.getUint16(2, true) !== this.#lastUsed);
  }

  #detach(head: number): void {
    this.#outstanding--;
    const n = this.#meta[3 * head + 1] as number;
    this.#meta[3 * head + 1] = 0; // no longer a head
    if (this.#inOrder) {
      this.#fifoHead = (this.#fifoHead + 1) & this.#mask;
      this.#fifoLen--;
    } else {
      // Linux detach_buf_split: walk the private next links and splice the chain onto the free list.
      let i = head;
      for (let k = 1; k < n; k++) i = this.#next[i] as number;
      // (i is the chain's last descriptor; n is 1 for an indirect chain)
      this.#next[i] = this.#freeHead;
      this.#freeHead = head;
    }
    this.#numFree += n; // 1 for an indirect chain
  }

  /**
   * Takes the next used buffer (Linux `virtqueue_get_buf`): returns its token and sets
   * {@link lastLen}/{@link lastHead}, or {@link USED_NONE}, or {@link USED_FAULT} when the
   * device wrote something impossible (the queue is then broken).
   */
  getUsed(): number {
    if (this.#fault !== undefined) return USED_FAULT;
    if (this.#inOrder) return this.#getUsedInOrder();
    const used = this.#used;
    const last = this.#lastUsed;
    const published = (used.getUint16(2, true) - last) & 0xffff;
    if (published === 0) return USED_NONE;
    const at = usedEntryOffset(last & this.#mask);
    const id = used.getUint32(at, true);
    const len = used.getUint32(at + 4, true);
    if (
      published > this.size || id >= this.size || this.#meta[3 * id + 1] === 0 ||
      len > (this.#meta[3 * id + 2] as number)
    ) {
      return this.#usedFault(published, id, len);
    }
    return this.#complete(id, len);
  }

  /** Names what is wrong with the used entry at lastUsed (Linux BAD_RING texts). */
  #usedFault(published: number, id: number, len: number): number {
    if (published > this.size) {
      const usedIdx = (this.#lastUsed + published) & 0xffff;
      return this.#badRing({
        kind: "used-idx-jump",
        lastUsed: this.#lastUsed,
        usedIdx,
        size: this.size,
      });
    }
    if (id >= this.size) {
      return this.#badRing({ kind: "used-id-out-of-range", id, size: this.size });
    }
    if (this.#meta[3 * id + 1] === 0) return this.#badRing({ kind: "used-id-not-in-flight", id });
    return this.#badRing({
      kind: "used-len-too-big",
      id,
      len,
      max: this.#meta[3 * id + 2] as number,
    });
  }

  /** IN_ORDER (§2.7.9): one used entry may stand for a batch of buffers ending with its id. */
  #getUsedInOrder(): number {
    if (this.#batchLeft === 0) {
      const used = this.#used;
      const last = this.#lastUsed;
      const published = (used.getUint16(2, true) - last) & 0xffff;
      if (published === 0) return USED_NONE;
      const at = usedEntryOffset(last & this.#mask);
      const id = used.getUint32(at, true);
      const len = used.getUint32(at + 4, true);
      if (
        published > this.size || id >= this.size || this.#meta[3 * id + 1] === 0 ||
        len > (this.#meta[3 * id + 2] as number)
      ) {
        return this.#usedFault(published, id, len);
      }
      let k = 0;
      while (k < this.#fifoLen && this.#fifo[(this.#fifoHead + k) & this.#mask] !== id) k++;
      if (k === this.#fifoLen) return this.#badRing({ kind: "used-id-not-in-flight", id });
      if (published < k + 1) {
        return this.#badRing({ kind: "used-batch-incomplete", id, batch: k + 1, published });
      }
      this.#batchLeft = k + 1;
      this.#batchLen = len;
    }
    const head = this.#fifo[this.#fifoHead] as number;
    // Buffers skipped by a batch count as fully written.
    const len = this.#batchLeft === 1 ? this.#batchLen : this.#meta[3 * head + 2] as number;
    this.#batchLeft--;
    return this.#complete(head, len);
  }

  /** Returns `head` to the free list and hands its token back. */
  #complete(head: number, len: number): number {
    const token = this.#meta[3 * head] as number;
    this.#detach(head);
    this.#lastUsed = (this.#lastUsed + 1) & 0xffff;
    // Linux: while callbacks are on, keep used_event at the next entry.
    if ((this.#availFlags & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0) {
      this.#avail.setUint16(this.#usedEventOff, this.#lastUsed, true);
    }
    this.lastLen = len;
    this.lastHead = head;
    this.#c_reclaimed++;
    return token;
  }

  /**
   * A used-buffer notification arrived (Linux `vring_interrupt`): returns false (spurious)
   * when nothing new is in the used ring.
   */
  interrupt(): boolean {
    this.#c_interrupts++;
    if (!this.moreUsed()) {
      this.#c_spuriousInterrupts++;
      return false;
    }
    if (this.#eventIdx) this.#eventTriggered = true;
    return true;
  }

  /** Asks for no used-buffer notifications (Linux `virtqueue_disable_cb_split`). */
  disableCallbacks(): void {
    if ((this.#availFlags & VIRTQ_AVAIL_F_NO_INTERRUPT) !== 0) return;
    this.#availFlags |= VIRTQ_AVAIL_F_NO_INTERRUPT;
    // An interrupt already fired will not fire again: nothing to write.
    if (this.#eventTriggered) return;
    // Linux writes used_event = 0 here with EVENT_IDX ("a hack"), else the flag.
    if (this.#eventIdx) this.#avail.setUint16(this.#usedEventOff, 0, true);
    else this.#avail.setUint16(0, this.#availFlags, true);
  }

  #enablePrepare(): void {
    this.#eventTriggered = false;
    if ((this.#availFlags & VIRTQ_AVAIL_F_NO_INTERRUPT) !== 0) {
      this.#availFlags &= ~VIRTQ_AVAIL_F_NO_INTERRUPT;
      if (!this.#eventIdx) this.#avail.setUint16(0, this.#availFlags, true);
    }
    this.#avail.setUint16(this.#usedEventOff, this.#lastUsed, true);
  }

  /**
   * Re-enables used-buffer notifications (Linux `virtqueue_enable_cb`), then re-checks the
   * used ring: returns true when it is empty (safe to sleep), false when buffers arrived in
   * the meantime (process them first).
   */
  enableCallbacks(): boolean {
    this.#enablePrepare();
    return !this.moreUsed();
  }

  /**
   * Like {@link enableCallbacks} but asks to be notified only after about 3/4 of the
   * outstanding buffers are used (Linux `virtqueue_enable_cb_delayed`, used for TX).
   */
  enableCallbacksDelayed(): boolean {
    this.#eventTriggered = false;
    if ((this.#availFlags & VIRTQ_AVAIL_F_NO_INTERRUPT) !== 0) {
      this.#availFlags &= ~VIRTQ_AVAIL_F_NO_INTERRUPT;
      if (!this.#eventIdx) this.#avail.setUint16(0, this.#availFlags, true);
    }
    const bufs = Math.floor((((this.#availIdx - this.#lastUsed) & 0xffff) * 3) / 4);
    this.#avail.setUint16(this.#usedEventOff, (this.#lastUsed + bufs) & 0xffff, true);
    return ((this.#used.getUint16(2, true) - this.#lastUsed) & 0xffff) <= bufs;
  }

  /**
   * After a device reset: takes back one buffer the device never returned (Linux
   * `virtqueue_detach_unused_buf`). Returns its token, or -1 when none is left.
   */
  detachUnused(): number {
    for (let i = 0; i < this.size; i++) {
      if (this.#meta[3 * i + 1] !== 0) {
        const token = this.#meta[3 * i] as number;
        if (this.#inOrder) {
          this.#outstanding--;
          this.#numFree += this.#meta[3 * i + 1] as number;
          this.#meta[3 * i + 1] = 0;
          if (this.#outstanding === 0) this.#fifoLen = this.#batchLeft = 0;
        } else this.#detach(i);
        this.#availIdx = (this.#availIdx - 1) & 0xffff; // Linux rewinds its shadow index
        return token;
      }
    }
    return -1;
  }

  /** A plain snapshot of the driver's view, for `show vq`. */
  inspect(): {
    availIdx: number;
    lastUsed: number;
    numFree: number;
    availFlags: number;
    usedEvent: number;
    deviceUsedIdx: number;
    deviceFlags: number;
    availEvent: number;
  } {
    return {
      availIdx: this.#availIdx,
      lastUsed: this.#lastUsed,
      numFree: this.#numFree,
      availFlags: this.#avail.getUint16(0, true),
      usedEvent: this.#avail.getUint16(this.#usedEventOff, true),
      deviceUsedIdx: this.#used.getUint16(2, true),
      deviceFlags: this.#used.getUint16(0, true),
      availEvent: this.#used.getUint16(this.#availEventOff, true),
    };
  }
}
