/**
 * The device side of a split virtqueue, behaving like vhost and QEMU: pop a chain (with
 * every validation a malformed ring needs, as a fault value), add used entries (single or
 * batched, IN_ORDER batches too), decide interrupts (`used_event` / NO_INTERRUPT), maintain
 * `avail_event` / NO_NOTIFY, and wrap every 16-bit index.
 *
 * Memory is reached through a {@link Translator} (identity when absent): a vhost-net queue
 * uses its memory table, a vDPA device its IOTLB. Ring parts are translated once when the
 * queue is created (QEMU's region caches, vhost's metadata prefetch) and must map to
 * contiguous guest memory; buffers are translated on every pop. Translation and memory faults
 * become queue faults.
 *
 * Popping is allocation-free: the chain lands in {@link SplitDevice.chain} (preallocated typed
 * arrays) and `pop()` returns the head index, {@link POP_EMPTY}, or {@link POP_FAULT} with the
 * fault in {@link SplitDevice.fault}. A fault stops the queue until `reset()` or a restore
 * (vhost stops the vq; QEMU's `virtio_error` also sets NEEDS_RESET — see
 * {@link DeviceStatus.attachQueue}).
 *
 * @example A driver adds a buffer, the device pops it, copies it out and returns it
 * ```ts
 * import { GuestMemory } from "../memory/guest_memory.ts";
 * import { SplitDevice } from "./split_device.ts";
 * import { SplitDriver } from "./split_driver.ts";
 * const mem = new GuestMemory();
 * mem.addRegion({ name: "ram", gpa: 0, size: 1 << 20 });
 * const rings = { size: 8, descTable: 0x1000, availRing: 0x2000, usedRing: 0x3000 };
 * const drv = SplitDriver.create(mem, rings);
 * const dev = SplitDevice.create(mem, rings);
 * if (!drv.ok || !dev.ok) throw new Error("setup");
 * mem.write(0x8000, new TextEncoder().encode("hello"));
 * drv.value.addOutbuf(0x8000, 5, 42);
 * if (!drv.value.kickPrepare()) throw new Error("first kick expected");
 * const head = dev.value.pop();
 * const buf = new Uint8Array(5);
 * dev.value.chain.copyOut(buf);
 * dev.value.addUsed(head, 0);
 * if (new TextDecoder().decode(buf) !== "hello") throw new Error("payload");
 * if (drv.value.getUsed() !== 42) throw new Error("token 42 expected back");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { GuestMemory } from "../memory/guest_memory.ts";
import { type LeView, MemWindow } from "../memory/mem_window.ts";
import type { Translator } from "../memory/translator.ts";
import { Mapper } from "./_mapper.ts";
import { Chain } from "./chain.ts";
import type { DeviceQueueCounters } from "./counters.ts";
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
  VIRTIO_F_NOTIFY_ON_EMPTY,
} from "./features.ts";
import type { QueueFault } from "./queue_fault.ts";
import { checkQueueState, type SplitQueueState } from "./queue_state.ts";
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

/** `pop()` found no new buffer. */
export const POP_EMPTY: -1 = -1;
/** `pop()` found a malformed ring; see `fault`. */
export const POP_FAULT: -2 = -2;

/** Something that says whether the device may process buffers (DRIVER_OK, not broken). */
export interface LiveGate {
  /** True while buffers may be processed. */
  readonly live: boolean;
}

/** How to build a device-side split queue. Addresses are device-visible. */
export interface SplitDeviceOptions extends SplitRingAddrs {
  /** Queue size: a power of 2 in 1..32768. */
  readonly size: number;
  /** Negotiated features (RING_EVENT_IDX, RING_INDIRECT_DESC, IN_ORDER, NOTIFY_ON_EMPTY matter). */
  readonly features?: bigint;
  /** Device address → guest-physical, for descriptors and indirect tables. Default identity. */
  readonly translator?: Translator;
  /** Device address → guest-physical for the ring parts. Default: `translator`. */
  readonly ringTranslator?: Translator;
}

const TWO_32 = 2 ** 32;
/** Descriptor address high words at or above this make the address ≥ 2^53. */
const ADDR_HIGH_LIMIT = 2 ** 21;

/** The device side of a split queue; see the module documentation. */
export class SplitDevice {
  /** Ring layout. */
  readonly layout = "split" as const;
  /** Queue size (power of 2). */
  readonly size: number;
  /** The chain of the last successful pop. */
  readonly chain: Chain;
  /** What this queue did. */
  #c_notifications = 0;
  #c_popped = 0;
  #c_used = 0;
  #c_usedFlushes = 0;
  #c_interrupts = 0;
  #c_interruptsSuppressed = 0;
  #c_notReady = 0;
  #c_faults = 0;
  /** What this queue did (a snapshot; the queue counts in plain fields on the hot path). */
  get counters(): DeviceQueueCounters {
    return {
      notifications: this.#c_notifications,
      popped: this.#c_popped,
      used: this.#c_used,
      usedFlushes: this.#c_usedFlushes,
      interrupts: this.#c_interrupts,
      interruptsSuppressed: this.#c_interruptsSuppressed,
      notReady: this.#c_notReady,
      faults: this.#c_faults,
    };
  }
  /** Called once when the queue faults (the owner may set NEEDS_RESET). */
  onFault: ((f: QueueFault) => void) | undefined = undefined;
  /** When set, nothing is popped and no interrupt is requested unless `gate.live`. */
  gate: LiveGate | undefined = undefined;

  #mem: GuestMemory;
  #addrs: SplitRingAddrs;
  #mapper: Mapper;
  /** No translation: descriptor addresses are guest-physical. */
  #identity: boolean;
  #desc!: LeView;
  #avail!: LeView;
  #used!: LeView;
  #gpas!: SplitRingAddrs;
  #gen = -1;
  #mask: number;
  #eventIdx: boolean;
  #indirect: boolean;
  #inOrder: boolean;
  #notifyOnEmpty: boolean;
  #usedEventOff: number;
  #availEventOff: number;

  #nextAvail = 0;
  #shadowAvail = 0;
  #nextUsed = 0;
  #pending = 0;
  #signalledUsed = 0;
  #signalledValid = false;
  #notify = true;
  #usedFlags = 0;
  #inFlight = 0;
  /** Pop sequence number (from 1) of each in-flight head, 0 when not in flight: the in-use
   * marker, and the order saved state lists them in. */
  #seq: Float64Array;
  #pops = 0;
  /** IN_ORDER only: in-flight heads in pop order (a ring of `size`). */
  #order: Uint16Array;
  #orderHead = 0;
  #fault: QueueFault | undefined = undefined;

  private constructor(mem: GuestMemory, opts: SplitDeviceOptions) {
    this.size = opts.size;
    this.#mem = mem;
    this.#addrs = { descTable: opts.descTable, availRing: opts.availRing, usedRing: opts.usedRing };
    this.#mapper = new Mapper(mem, opts.translator, opts.ringTranslator);
    this.#identity = this.#mapper.identity;
    const f = opts.features ?? 0n;
    this.#eventIdx = hasFeature(f, VIRTIO_F_EVENT_IDX);
    this.#indirect = hasFeature(f, VIRTIO_F_INDIRECT_DESC);
    this.#inOrder = hasFeature(f, VIRTIO_F_IN_ORDER);
    this.#notifyOnEmpty = hasFeature(f, VIRTIO_F_NOTIFY_ON_EMPTY);
    this.#mask = opts.size - 1;
    this.#usedEventOff = usedEventOffset(opts.size);
    this.#availEventOff = availEventOffset(opts.size);
    this.#seq = new Float64Array(opts.size);
    this.#order = new Uint16Array(opts.size);
    this.chain = new Chain(mem, 8);
  }

  /** Checks size and alignment (§2.7), maps the three ring parts, and returns the queue. */
  static create(mem: GuestMemory, opts: SplitDeviceOptions): Result<SplitDevice, QueueFault> {
    const bad = checkSplitLayout(opts.size, opts);
    if (bad) return err(bad);
    const q = new SplitDevice(mem, opts);
    const f = q.#mapRings();
    return f ? err(f) : ok(q);
  }

  /** Rebuilds a queue from saved state (after validating it). */
  static fromState(
    mem: GuestMemory,
    state: SplitQueueState,
    opts: Pick<SplitDeviceOptions, "features" | "translator" | "ringTranslator"> = {},
  ): Result<SplitDevice, QueueFault> {
    const bad = checkQueueState(state);
    if (bad) return err(bad);
    const q = SplitDevice.create(mem, { ...state, ...opts });
    if (!q.ok) return q;
    const d = q.value;
    d.#nextAvail = d.#shadowAvail = state.nextAvail;
    d.#nextUsed = state.nextUsed;
    d.#signalledUsed = state.signalledUsed;
    d.#signalledValid = state.signalledUsedValid;
    d.#notify = state.notifications;
    for (const h of state.inFlight) {
      d.#seq[h] = ++d.#pops;
      d.#order[(d.#orderHead + d.#inFlight) & d.#mask] = h;
      d.#inFlight++;
    }
    return ok(d);
  }

  #mapRings(): QueueFault | undefined {
    const a = this.#addrs;
    const d = this.#mapper.mapPart("descTable", a.descTable, descTableSize(this.size), false);
    if (!(d instanceof MemWindow)) return d;
    const av = this.#mapper.mapPart("availRing", a.availRing, availRingSize(this.size), false);
    if (!(av instanceof MemWindow)) return av;
    const u = this.#mapper.mapPart("usedRing", a.usedRing, usedRingSize(this.size), true);
    if (!(u instanceof MemWindow)) return u;
    this.#desc = d.view;
    this.#avail = av.view;
    this.#used = u.view;
    this.#gpas = { descTable: d.gpa, availRing: av.gpa, usedRing: u.gpa };
    this.#gen = this.#mem.layoutGeneration;
    return undefined;
  }

  /**
   * Re-translates the ring parts (after an IOTLB or memory-table change). A failure is a
   * queue fault, as when QEMU cannot re-map a ring.
   */
  remapRings(): QueueFault | undefined {
    const f = this.#mapRings();
    if (f) this.#fail(f);
    return f;
  }

  /** The fault that stopped the queue, if any. */
  get fault(): QueueFault | undefined {
    return this.#fault;
  }

  /** True once a fault stopped the queue. */
  get broken(): boolean {
    return this.#fault !== undefined;
  }

  /**
   * True when the queue may touch its rings: it has not faulted, and its ring windows match
   * the memory layout (re-mapped after a hot-unplug: a window on removed memory writes where
   * no region is, or into whatever is plugged in there next). QEMU re-inits its region caches
   * on every memory topology change; vhost re-walks the rings after SET_MEM_TABLE.
   */
  #usable(): boolean {
    if (this.#fault !== undefined) return false;
    return this.#gen === this.#mem.layoutGeneration || this.remapRings() === undefined;
  }

  /** Next avail ring index to pop (vhost `last_avail_idx`). */
  get nextAvail(): number {
    return this.#nextAvail;
  }

  /** Used index published so far. */
  get nextUsed(): number {
    return this.#nextUsed;
  }

  /** Chains popped and not yet returned. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Device-visible ring addresses. */
  get addrs(): SplitRingAddrs {
    return this.#addrs;
  }

  /** Guest-physical addresses of the ring parts (after translation): where the bytes are. */
  ringGpas(): SplitRingAddrs {
    return this.#gpas;
  }

  /** Records an available-buffer notification (a kick). Processing is the caller's loop. */
  notified(): void {
    this.#c_notifications++;
  }

  #bad(f: QueueFault): false {
    this.#fail(f);
    return false;
  }

  #fail(f: QueueFault): number {
    if (this.#fault === undefined) {
      this.#fault = f;
      this.#c_faults++;
      this.chain.clear();
      this.onFault?.(f);
    }
    return POP_FAULT;
  }

  /** Reads avail.idx, checking that it did not jump (vhost: "Guest moved avail index"). */
  #readAvailIdx(): number {
    const idx = this.#avail.getUint16(2, true);
    // vhost_get_vq_desc / QEMU virtqueue_num_heads: more than `size` new entries is corrupt.
    if (((idx - this.#nextAvail) & 0xffff) > this.size) {
      this.#fail({
        kind: "avail-idx-jump",
        lastAvail: this.#nextAvail,
        availIdx: idx,
        size: this.size,
      });
      return -1;
    }
    this.#shadowAvail = idx;
    return idx;
  }

  /** Number of buffers made available and not popped yet, or -1 after a fault. */
  availCount(): number {
    if (!this.#usable()) return -1;
    const idx = this.#readAvailIdx();
    return idx < 0 ? -1 : (idx - this.#nextAvail) & 0xffff;
  }

  /**
   * Pops the next chain into {@link chain}. Returns its head, {@link POP_EMPTY} when the
   * driver has made nothing new available (or the device is not live), or {@link POP_FAULT}.
   */
  pop(): number {
    if (this.#fault !== undefined) return POP_FAULT;
    const gate = this.gate;
    if (gate !== undefined && !gate.live) {
      // virtio 1.2 §3.1.1: no buffers are consumed before DRIVER_OK.
      this.#c_notReady++;
      return POP_EMPTY;
    }
    if (this.#gen !== this.#mem.layoutGeneration && this.remapRings()) return POP_FAULT;
    const last = this.#nextAvail;
    if (this.#shadowAvail === last) {
      const idx = this.#readAvailIdx();
      if (idx < 0) return POP_FAULT;
      if (idx === last) return POP_EMPTY;
    }
    // QEMU virtqueue_split_pop "Virtqueue size exceeded": inuse counts every buffer popped and
    // not yet flushed to the used ring, filled ones too (and, after a restore, ones in no list).
    if (((last - this.#nextUsed) & 0xffff) >= this.size) {
      return this.#fail({ kind: "in-flight-overflow", size: this.size });
    }
    const head = this.#avail.getUint16(availEntryOffset(last & this.#mask), true);
    // virtio 1.2 §2.7.6 (QEMU virtqueue_get_head): a head must name a descriptor.
    if (head >= this.size) return this.#fail({ kind: "head-out-of-range", head, size: this.size });
    if (this.#seq[head] !== 0) return this.#fail({ kind: "head-in-use", head });
    if (!this.#walkOne(head) && !this.#walk(head)) return POP_FAULT;
    this.#nextAvail = (last + 1) & 0xffff;
    this.#seq[head] = ++this.#pops;
    if (this.#inOrder) this.#order[(this.#orderHead + this.#inFlight) & this.#mask] = head;
    this.#inFlight++;
    this.#c_popped++;
    // QEMU virtqueue_split_pop: keep avail_event at the next index while kicks are wanted.
    if (this.#eventIdx && this.#notify) {
      this.#used.setUint16(this.#availEventOff, this.#nextAvail, true);
    }
    return head;
  }

  /**
   * The common case, checked inline: a single direct descriptor with a non-zero length in
   * 32-bit, identity-mapped memory. Returns false (touching nothing but the chain) when the
   * descriptor is anything else; the full walk then decides.
   */
  #walkOne(head: number): boolean {
    const desc = this.#desc;
    const at = head * VIRTQ_DESC_SIZE;
    const flags = desc.getUint16(at + 12, true);
    if ((flags & (VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_INDIRECT)) !== 0) return false;
    const len = desc.getUint32(at + 8, true);
    if (len === 0 || desc.getUint32(at + 4, true) !== 0 || !this.#identity) return false;
    const addr = desc.getUint32(at, true);
    const write = (flags & VIRTQ_DESC_F_WRITE) !== 0;
    if (!this.#mem.check(addr, len, write)) return false;
    this.chain.setSingle(head, addr, len, write);
    return true;
  }

  /** Walks the chain from `head` into `chain`; false after recording a fault. */
  #walk(head: number): boolean {
    const chain = this.chain;
    chain.clear();
    chain.head = head;
    const desc = this.#desc;
    const mem = this.#mem;
    let table = -1; // GPA of the indirect table being walked, -1 for the main table
    let max = this.size;
    let walked = 0; // descriptors visited in the current table
    let total = 0; // descriptors in the chain (main + indirect)
    let bytes = 0;
    let sawWrite = false;
    let i = head;
    for (;;) {
      // QEMU "Looped descriptor" / vhost "Loop detected": more visits than entries is a cycle.
      if (++walked > max) return this.#bad({ kind: "chain-loop", head, max, indirect: table >= 0 });
      let lo: number, hi: number, len: number, flags: number, next: number;
      if (table < 0) {
        const at = i * VIRTQ_DESC_SIZE;
        lo = desc.getUint32(at, true);
        hi = desc.getUint32(at + 4, true);
        len = desc.getUint32(at + 8, true);
        flags = desc.getUint16(at + 12, true);
        next = desc.getUint16(at + 14, true);
        chain.descriptors++;
      } else {
        const at = table + i * VIRTQ_DESC_SIZE;
        lo = mem.getU32(at);
        hi = mem.getU32(at + 4);
        len = mem.getU32(at + 8);
        flags = mem.getU16(at + 12);
        next = mem.getU16(at + 14);
      }
      const indirect = table >= 0;
      if (++total > this.size) {
        // virtio 1.2 §2.7.5.3.1: no chain longer than the queue size.
        return this.#bad({ kind: "chain-too-long", head, length: total, size: this.size });
      }
      if ((flags & VIRTQ_DESC_F_INDIRECT) !== 0) {
        // virtio 1.2 §2.7.5.3.1: one level only, never with NEXT, only when negotiated.
        if (indirect) return this.#bad({ kind: "nested-indirect", index: i });
        if (!this.#indirect) return this.#bad({ kind: "indirect-not-negotiated", index: i });
        if ((flags & VIRTQ_DESC_F_NEXT) !== 0) {
          return this.#bad({ kind: "indirect-with-next", index: i });
        }
        // QEMU: "Invalid size for indirect buffer table"; vhost: len % sizeof desc.
        if (len === 0 || len % VIRTQ_DESC_SIZE !== 0) {
          return this.#bad({ kind: "indirect-bad-length", index: i, len });
        }
        if (hi >= ADDR_HIGH_LIMIT) {
          return this.#bad({ kind: "addr-out-of-range", index: i, addrHigh: hi, indirect: false });
        }
        const addr = hi * TWO_32 + lo;
        const gpa = this.#mapTable(i, addr, len);
        if (gpa < 0) return false;
        total--; // the pointer itself is not part of the buffer
        table = gpa;
        max = len / VIRTQ_DESC_SIZE;
        walked = 0;
        i = 0;
        continue;
      }
      // QEMU virtqueue_map_desc: "zero sized buffers are not allowed".
      if (len === 0) return this.#bad({ kind: "zero-length", index: i, indirect });
      const write = (flags & VIRTQ_DESC_F_WRITE) !== 0;
      if (write) sawWrite = true;
      else if (sawWrite) {
        // virtio 1.2 §2.7.4.2: device-readable elements come first.
        return this.#bad({ kind: "readable-after-writable", index: i, indirect });
      }
      if (hi >= ADDR_HIGH_LIMIT) {
        return this.#bad({ kind: "addr-out-of-range", index: i, addrHigh: hi, indirect });
      }
      const addr = hi * TWO_32 + lo;
      bytes += len;
      // virtio 1.2 §2.7.5.1: a chain holds at most 2^32 bytes.
      if (bytes > TWO_32) return this.#bad({ kind: "chain-too-large", head, bytes });
      if (!this.#mapBuffer(i, addr, len, write)) return false;
      if ((flags & VIRTQ_DESC_F_NEXT) === 0) return true;
      // QEMU "Desc next is %u" / vhost "Desc index is %u > %u".
      if (next >= max) {
        return this.#bad({ kind: "next-out-of-range", index: i, next, max, indirect });
      }
      i = next;
    }
  }

  /** Translates an indirect table; returns its GPA, or -1 after recording a fault. */
  #mapTable(index: number, addr: number, len: number): number {
    const cause = this.#mapper.mapTable(addr, len);
    if (cause !== undefined) {
      this.#fail({ kind: "indirect-unmapped", index, addr, len, cause });
      return -1;
    }
    return this.#mapper.tableGpa;
  }

  /** Translates one buffer into chain segments; false after recording a fault. */
  #mapBuffer(index: number, addr: number, len: number, write: boolean): boolean {
    const cause = this.#mapper.mapBuffer(this.chain, addr, len, write);
    if (cause === undefined) return true;
    return this.#bad({ kind: "buffer-unmapped", index, addr, len, write, cause });
  }

  #release(head: number): void {
    if (this.#seq[head] === 0) {
      throw new RangeError(`Cannot return head ${head}: it is not in flight`);
    }
    if (this.#inOrder) {
      if (this.#order[this.#orderHead] !== head) {
        throw new RangeError(`Cannot return head ${head} out of order: IN_ORDER was negotiated`);
      }
      this.#orderHead = (this.#orderHead + 1) & this.#mask;
    }
    this.#seq[head] = 0;
    this.#inFlight--;
  }

  /**
   * Writes a used element for `head` with `len` bytes written, without publishing it
   * (QEMU `virtqueue_fill`). Ignored once the queue has faulted (QEMU skips a broken device).
   * Throws if `head` is not in flight (a bug in the caller).
   */
  fillUsed(head: number, len: number): void {
    if (!this.#usable()) return;
    this.#release(head);
    const at = usedEntryOffset((this.#nextUsed + this.#pending) & this.#mask);
    this.#used.setUint32(at, head, true);
    this.#used.setUint32(at + 4, len, true);
    this.#pending++;
  }

  /**
   * Gives back the last `count` chains that were popped and staged by {@link fillUsed} but not
   * flushed: their used elements are dropped and the chains are available again, as if never
   * popped (QEMU `virtqueue_rewind`, vhost `vhost_discard_vq_desc`: a receive that found too
   * few buffers for a frame takes none). Nothing is published. Throws when fewer are staged
   * (a bug in the caller).
   */
  rewind(count: number): void {
    if (this.#fault !== undefined) return;
    if (count > this.#pending) {
      throw new RangeError(`Cannot rewind ${count} chains: ${this.#pending} are staged`);
    }
    this.#pending -= count;
    this.#nextAvail = (this.#nextAvail - count) & 0xffff;
    this.#c_popped -= count;
  }

  /** Publishes every filled element with one used.idx store (QEMU `virtqueue_flush`). */
  flushUsed(): void {
    this.#publish(this.#pending);
    this.#pending = 0;
  }

  #publish(count: number): void {
    if (count === 0 || !this.#usable()) return;
    const old = this.#nextUsed;
    const next = (old + count) & 0xffff;
    // virtio 1.2 §2.7.8.1: the element is written before idx moves.
    this.#used.setUint16(2, next, true);
    this.#nextUsed = next;
    this.#c_used += count;
    this.#c_usedFlushes++;
    // QEMU virtqueue_split_flush: if idx ran far past signalled_used, the old value is stale.
    if ((((next - this.#signalledUsed) << 16) >> 16) < ((next - old) & 0xffff)) {
      this.#signalledValid = false;
    }
  }

  /** Fill and flush one element (QEMU `virtqueue_push`, vhost `vhost_add_used`). */
  addUsed(head: number, len: number): void {
    if (!this.#usable()) return;
    this.#release(head);
    const at = usedEntryOffset((this.#nextUsed + this.#pending) & this.#mask);
    const used = this.#used;
    used.setUint32(at, head, true);
    used.setUint32(at + 4, len, true);
    this.#publish(this.#pending + 1);
    this.#pending = 0;
  }

  /**
   * IN_ORDER only (§2.7.9): returns the `count` oldest in-flight buffers with one used
   * element carrying the id of the last of them and `len`, and moves used.idx by `count`.
   */
  addUsedInOrder(count: number, len: number): void {
    if (!this.#inOrder) {
      throw new RangeError("Cannot batch used buffers: IN_ORDER was not negotiated");
    }
    if (count < 1 || count > this.#inFlight) {
      throw new RangeError(`Cannot return ${count} buffers: ${this.#inFlight} are in flight`);
    }
    if (!this.#usable()) return;
    this.flushUsed(); // anything filled earlier goes first
    let last = 0;
    for (let k = 0; k < count; k++) {
      last = this.#order[this.#orderHead] as number;
      this.#release(last);
    }
    const at = usedEntryOffset(this.#nextUsed & this.#mask);
    this.#used.setUint32(at, last, true);
    this.#used.setUint32(at + 4, len, true);
    this.#publish(count);
  }

  /**
   * Should the driver be interrupted now (vhost `vhost_notify`, QEMU
   * `virtio_split_should_notify`)? Call after publishing used entries; it records the used
   * index it decided on.
   */
  needsInterrupt(): boolean {
    if ((this.gate !== undefined && !this.gate.live) || !this.#usable()) return false;
    let notify: boolean;
    if (this.#notifyOnEmpty && this.#avail.getUint16(2, true) === this.#nextAvail) {
      // Legacy NOTIFY_ON_EMPTY: interrupt when the device runs out of buffers.
      notify = true;
    } else if (!this.#eventIdx) {
      // virtio 1.2 §2.7.7.1: flags 1 means SHOULD NOT notify.
      notify = (this.#avail.getUint16(0, true) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
    } else {
      const old = this.#signalledUsed;
      const valid = this.#signalledValid;
      const now = this.#nextUsed;
      this.#signalledUsed = now;
      this.#signalledValid = true;
      // virtio 1.2 §2.7.7.1: notify when the entry at used_event was published.
      notify = !valid || vringNeedEvent(this.#avail.getUint16(this.#usedEventOff, true), now, old);
    }
    if (notify) this.#c_interrupts++;
    else this.#c_interruptsSuppressed++;
    return notify;
  }

  /** Asks the driver not to kick (NO_NOTIFY; with EVENT_IDX, stops advancing avail_event). */
  disableNotifications(): void {
    this.#notify = false;
    if (!this.#eventIdx && this.#usable()) {
      this.#usedFlags |= VIRTQ_USED_F_NO_NOTIFY;
      this.#used.setUint16(0, this.#usedFlags, true);
    }
  }

  /**
   * Asks the driver to kick again (clears NO_NOTIFY, or sets avail_event to the current
   * avail.idx), then re-reads avail.idx to close the race: returns true when buffers are
   * waiting, so the caller must poll again instead of sleeping.
   */
  enableNotifications(): boolean {
    this.#notify = true;
    if (!this.#usable()) return false;
    if (!this.#eventIdx) {
      this.#usedFlags &= ~VIRTQ_USED_F_NO_NOTIFY;
      this.#used.setUint16(0, this.#usedFlags, true);
    } else {
      this.#used.setUint16(this.#availEventOff, this.#avail.getUint16(2, true), true);
    }
    const n = this.availCount();
    return n > 0;
  }

  /** Device reset: forget every index and in-flight chain; the rings are not touched. */
  reset(): void {
    this.#nextAvail =
      this.#shadowAvail =
      this.#nextUsed =
      this.#pending =
        0;
    this.#signalledUsed = 0;
    this.#signalledValid = false;
    this.#notify = true;
    this.#usedFlags = 0;
    this.#seq.fill(0);
    this.#inFlight = 0;
    this.#orderHead = 0;
    this.#fault = undefined;
    this.chain.clear();
  }

  /** The saved state (plain data). */
  toState(): SplitQueueState {
    const inFlight: number[] = [];
    for (let h = 0; h < this.size; h++) if (this.#seq[h] !== 0) inFlight.push(h);
    inFlight.sort((a, b) => (this.#seq[a] as number) - (this.#seq[b] as number));
    return {
      layout: "split",
      size: this.size,
      ...this.#addrs,
      nextAvail: this.#nextAvail,
      nextUsed: this.#nextUsed,
      signalledUsed: this.#signalledUsed,
      signalledUsedValid: this.#signalledValid,
      notifications: this.#notify,
      inFlight,
    };
  }
}
