/**
 * The device side of a packed virtqueue (virtio 1.2 §2.8): reads descriptors in ring order
 * by the AVAIL/USED bits and its wrap counter, takes the buffer id from the last descriptor
 * of a list, walks chains and indirect tables with every validation as a fault value,
 * writes one used descriptor per buffer (or per IN_ORDER batch) and skips the list length,
 * and keeps both event suppression structures (ENABLE/DISABLE/DESC with offset and wrap).
 *
 * Same conventions as {@link SplitDevice}: allocation-free pops into {@link chain}, faults
 * stop the queue, addresses go through a {@link Translator}.
 *
 * @example
 * ```ts
 * import { GuestMemory } from "../memory/guest_memory.ts";
 * import { featureMask, VIRTIO_F_RING_PACKED } from "./features.ts";
 * import { PackedDevice } from "./packed_device.ts";
 * import { PackedDriver } from "./packed_driver.ts";
 * const mem = new GuestMemory();
 * mem.addRegion({ name: "ram", gpa: 0, size: 1 << 20 });
 * const rings = {
 *   size: 4, descRing: 0x1000, driverEvent: 0x1100, deviceEvent: 0x1104,
 *   features: featureMask(VIRTIO_F_RING_PACKED),
 * };
 * const drv = PackedDriver.create(mem, rings);
 * const dev = PackedDevice.create(mem, rings);
 * if (!drv.ok || !dev.ok) throw new Error("setup");
 * drv.value.add([{ addr: 0x8000, len: 12, write: false }, { addr: 0x9000, len: 100, write: true }], 5);
 * const id = dev.value.pop();
 * if (dev.value.chain.count !== 2 || dev.value.chain.writableBytes !== 100) throw new Error("chain");
 * dev.value.addUsed(id, 60);
 * if (drv.value.getUsed() !== 5 || drv.value.lastLen !== 60) throw new Error("used");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { GuestMemory } from "../memory/guest_memory.ts";
import type { LeView } from "../memory/mem_window.ts";
import type { Translator } from "../memory/translator.ts";
import { Mapper } from "./_mapper.ts";
import { Chain } from "./chain.ts";
import type { DeviceQueueCounters } from "./counters.ts";
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
  isDescAvail,
  type PackedRingAddrs,
  packedUsedFlags,
} from "./packed_layout.ts";
import type { QueueFault } from "./queue_fault.ts";
import { checkQueueState, type PackedQueueState } from "./queue_state.ts";
import { type LiveGate, POP_EMPTY, POP_FAULT } from "./split_device.ts";

/** How to build a device-side packed queue. Addresses are device-visible. */
export interface PackedDeviceOptions extends PackedRingAddrs {
  /** Queue size, 1..32768. */
  readonly size: number;
  /** Negotiated features (RING_EVENT_IDX, RING_INDIRECT_DESC, IN_ORDER matter). */
  readonly features?: bigint;
  /** Device address → guest-physical, for descriptors and indirect tables. Default identity. */
  readonly translator?: Translator;
  /** Device address → guest-physical for the ring parts. Default: `translator`. */
  readonly ringTranslator?: Translator;
}

const TWO_32 = 2 ** 32;
const ADDR_HIGH_LIMIT = 2 ** 21;

/** The device side of a packed queue; see the module documentation. */
export class PackedDevice {
  /** Ring layout. */
  readonly layout = "packed" as const;
  /** Queue size (any value in 1..32768). */
  readonly size: number;
  /** The chain of the last successful pop (`head` is the buffer id). */
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
  /** Called once when the queue faults. */
  onFault: ((f: QueueFault) => void) | undefined = undefined;
  /** When set, nothing is popped and no interrupt is requested unless `gate.live`. */
  gate: LiveGate | undefined = undefined;

  #mem: GuestMemory;
  #addrs: PackedRingAddrs;
  #mapper: Mapper;
  /** No translation: descriptor addresses are guest-physical. */
  #identity: boolean;
  #desc!: LeView;
  #driverEvent!: LeView;
  #deviceEvent!: LeView;
  #gpas!: PackedRingAddrs;
  #gen = -1;
  #eventIdx: boolean;
  #indirect: boolean;
  #inOrder: boolean;

  #nextAvail = 0;
  #availWrap = 1;
  #nextUsed = 0;
  #usedWrap = 1;
  #signalledUsed = 0;
  #signalledValid = false;
  /** Descriptors marked used since the last interrupt decision. */
  #usedSinceSignal = 0;
  #notify = true;
  /** Ring slots each in-flight id occupies. */
  #descs: Uint16Array;
  /** Pop sequence number (from 1) of each in-flight id, 0 when not in flight. */
  #seq: Float64Array;
  #pops = 0;
  /** IN_ORDER only: in-flight ids in pop order (a ring of `size`). */
  #order: Uint16Array;
  #orderHead = 0;
  #inFlight = 0;
  /** Ring slots of buffers popped and not flushed to the ring yet (QEMU `inuse`). */
  #slotsInUse = 0;
  #pendingIds: Uint16Array;
  #pendingLens: Uint32Array;
  /** Slots of each staged buffer, taken when it was filled: the id may be popped again. */
  #pendingSlots: Uint16Array;
  #pending = 0;
  #fault: QueueFault | undefined = undefined;

  private constructor(mem: GuestMemory, opts: PackedDeviceOptions) {
    this.size = opts.size;
    this.#mem = mem;
    this.#addrs = {
      descRing: opts.descRing,
      driverEvent: opts.driverEvent,
      deviceEvent: opts.deviceEvent,
    };
    this.#mapper = new Mapper(mem, opts.translator, opts.ringTranslator);
    this.#identity = this.#mapper.identity;
    const f = opts.features ?? 0n;
    this.#eventIdx = hasFeature(f, VIRTIO_F_EVENT_IDX);
    this.#indirect = hasFeature(f, VIRTIO_F_INDIRECT_DESC);
    this.#inOrder = hasFeature(f, VIRTIO_F_IN_ORDER);
    this.#descs = new Uint16Array(opts.size);
    this.#order = new Uint16Array(opts.size);
    this.#seq = new Float64Array(opts.size);
    this.#pendingIds = new Uint16Array(opts.size);
    this.#pendingLens = new Uint32Array(opts.size);
    this.#pendingSlots = new Uint16Array(opts.size);
    this.chain = new Chain(mem, 8);
  }

  /** Checks size and alignment, maps the three parts, and returns the queue. */
  static create(mem: GuestMemory, opts: PackedDeviceOptions): Result<PackedDevice, QueueFault> {
    const bad = checkPackedLayout(opts.size, opts);
    if (bad) return err(bad);
    const q = new PackedDevice(mem, opts);
    const f = q.#mapRings();
    return f ? err(f) : ok(q);
  }

  /** Rebuilds a queue from saved state (after validating it). */
  static fromState(
    mem: GuestMemory,
    state: PackedQueueState,
    opts: Pick<PackedDeviceOptions, "features" | "translator" | "ringTranslator"> = {},
  ): Result<PackedDevice, QueueFault> {
    const bad = checkQueueState(state);
    if (bad) return err(bad);
    const q = PackedDevice.create(mem, { ...state, ...opts });
    if (!q.ok) return q;
    const d = q.value;
    d.#nextAvail = state.nextAvail;
    d.#availWrap = state.availWrap;
    d.#nextUsed = state.nextUsed;
    d.#usedWrap = state.usedWrap;
    d.#signalledUsed = state.signalledUsed;
    d.#signalledValid = state.signalledUsedValid;
    d.#notify = state.notifications;
    for (const e of state.inFlight) {
      d.#descs[e.id] = e.descriptors;
      d.#order[(d.#orderHead + d.#inFlight) % d.size] = e.id;
      d.#seq[e.id] = ++d.#pops;
      d.#inFlight++;
      d.#slotsInUse += e.descriptors;
    }
    return ok(d);
  }

  #mapRings(): QueueFault | undefined {
    const a = this.#addrs;
    const m = this.#mapper;
    const d = m.mapPart("descTable", a.descRing, descRingSize(this.size), true);
    if ("kind" in d) return d;
    const drv = m.mapPart("driverEvent", a.driverEvent, PVIRTQ_EVENT_SIZE, false);
    if ("kind" in drv) return drv;
    const dev = m.mapPart("deviceEvent", a.deviceEvent, PVIRTQ_EVENT_SIZE, true);
    if ("kind" in dev) return dev;
    this.#desc = d.view;
    this.#driverEvent = drv.view;
    this.#deviceEvent = dev.view;
    this.#gpas = { descRing: d.gpa, driverEvent: drv.gpa, deviceEvent: dev.gpa };
    this.#gen = this.#mem.layoutGeneration;
    return undefined;
  }

  /** Re-translates the ring parts; a failure is a queue fault. */
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

  /** Next ring slot to read and the wrap counter expected there. */
  get nextAvail(): { slot: number; wrap: number } {
    return { slot: this.#nextAvail, wrap: this.#availWrap };
  }

  /** Next ring slot to mark used and the device wrap counter. */
  get nextUsed(): { slot: number; wrap: number } {
    return { slot: this.#nextUsed, wrap: this.#usedWrap };
  }

  /** Buffers popped and not yet returned. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Device-visible ring addresses. */
  get addrs(): PackedRingAddrs {
    return this.#addrs;
  }

  /** Guest-physical addresses of the three parts. */
  ringGpas(): PackedRingAddrs {
    return this.#gpas;
  }

  /** Records an available-buffer notification (a kick). */
  notified(): void {
    this.#c_notifications++;
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

  #bad(f: QueueFault): false {
    this.#fail(f);
    return false;
  }

  /** Records a fault found while walking a list; the walk's "failed" value. */
  #badWalk(f: QueueFault): number {
    this.#fail(f);
    return -1;
  }

  /** True when the next slot holds an available descriptor. */
  hasAvail(): boolean {
    if (!this.#usable()) return false;
    return isDescAvail(
      this.#desc.getUint16(this.#nextAvail * VIRTQ_DESC_SIZE + PACKED_DESC_FLAGS, true),
      this.#availWrap,
    );
  }

  /**
   * Pops the next buffer into {@link chain}; returns its buffer id, {@link POP_EMPTY} or
   * {@link POP_FAULT}.
   */
  pop(): number {
    if (this.#fault !== undefined) return POP_FAULT;
    const gate = this.gate;
    if (gate !== undefined && !gate.live) {
      this.#c_notReady++;
      return POP_EMPTY;
    }
    if (this.#gen !== this.#mem.layoutGeneration && this.remapRings()) return POP_FAULT;
    const first = this.#nextAvail;
    // virtio 1.2 §2.8.13.1: use a descriptor only once its AVAIL bit changed for this lap.
    if (
      !isDescAvail(
        this.#desc.getUint16(first * VIRTQ_DESC_SIZE + PACKED_DESC_FLAGS, true),
        this.#availWrap,
      )
    ) {
      return POP_EMPTY;
    }
    const slots = this.#walkOne(first) ? 1 : this.#walk(first);
    if (slots < 0) return POP_FAULT;
    // §2.8.21: a slot is the driver's again only once its buffer is used. A list that reaches
    // slots still in use was written over buffers the device holds (QEMU "Virtqueue size
    // exceeded" counts slots too).
    const inUse = this.#slotsInUse;
    if (inUse + slots > this.size) {
      return this.#fail({ kind: "packed-ring-overrun", inUse, slots, size: this.size });
    }
    const id = this.chain.head;
    let next = first + slots;
    if (next >= this.size) {
      next -= this.size;
      this.#availWrap ^= 1;
    }
    this.#nextAvail = next;
    this.#descs[id] = slots;
    this.#seq[id] = ++this.#pops;
    if (this.#inOrder) this.#order[(this.#orderHead + this.#inFlight) % this.size] = id;
    this.#inFlight++;
    this.#slotsInUse = inUse + slots;
    this.#c_popped++;
    return id;
  }

  /**
   * The common case, checked inline: one direct descriptor (no NEXT, no INDIRECT) with a free,
   * in-range id and a non-zero length in 32-bit identity-mapped memory. Returns false when the
   * descriptor is anything else; the full walk then decides.
   */
  #walkOne(slot: number): boolean {
    const desc = this.#desc;
    const at = slot * VIRTQ_DESC_SIZE;
    const flags = desc.getUint16(at + PACKED_DESC_FLAGS, true);
    if ((flags & (VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_INDIRECT)) !== 0) return false;
    const len = desc.getUint32(at + 8, true);
    const id = desc.getUint16(at + PACKED_DESC_ID, true);
    if (len === 0 || id >= this.size || this.#seq[id] !== 0) return false;
    if (desc.getUint32(at + 4, true) !== 0 || !this.#identity) return false;
    const addr = desc.getUint32(at, true);
    const write = (flags & VIRTQ_DESC_F_WRITE) !== 0;
    if (!this.#mem.check(addr, len, write)) return false;
    this.chain.setSingle(id, addr, len, write);
    return true;
  }

  /** Walks the list starting at `first`; returns the slots it occupies, or -1 after a fault. */
  #walk(first: number): number {
    const chain = this.chain;
    chain.clear();
    const desc = this.#desc;
    const size = this.size;
    let slot = first;
    let wrap = this.#availWrap;
    let count = 0;
    let bytes = 0;
    let sawWrite = false;
    for (;;) {
      const at = slot * VIRTQ_DESC_SIZE;
      const flags = desc.getUint16(at + PACKED_DESC_FLAGS, true);
      // §2.8 "maximum number of descriptors in a list is the queue size": a list that never ends
      // comes back round to its own first slot.
      if (++count > size) {
        return this.#badWalk({ kind: "chain-too-long", head: first, length: count, size });
      }
      if (count > 1 && !isDescAvail(flags, wrap)) {
        // §2.8.6: the whole list is available before its first descriptor is.
        return this.#badWalk({ kind: "packed-desc-not-available", slot, flags });
      }
      const lo = desc.getUint32(at, true);
      const hi = desc.getUint32(at + 4, true);
      const len = desc.getUint32(at + 8, true);
      const id = desc.getUint16(at + PACKED_DESC_ID, true);
      if ((flags & VIRTQ_DESC_F_INDIRECT) !== 0) {
        // §2.8.19: only when negotiated, never inside a NEXT list.
        if (!this.#indirect) {
          return this.#badWalk({ kind: "indirect-not-negotiated", index: slot });
        }
        if (count > 1 || (flags & VIRTQ_DESC_F_NEXT) !== 0) {
          return this.#badWalk({ kind: "indirect-with-next", index: slot });
        }
        if (!this.#walkIndirect(slot, first, hi, lo, len)) return -1;
        chain.head = id;
        break;
      }
      if (len === 0) {
        return this.#badWalk({ kind: "zero-length", index: slot, indirect: false });
      }
      const write = (flags & VIRTQ_DESC_F_WRITE) !== 0;
      if (write) sawWrite = true;
      else if (sawWrite) {
        return this.#badWalk({ kind: "readable-after-writable", index: slot, indirect: false });
      }
      if (hi >= ADDR_HIGH_LIMIT) {
        return this.#badWalk({
          kind: "addr-out-of-range",
          index: slot,
          addrHigh: hi,
          indirect: false,
        });
      }
      bytes += len;
      if (bytes > TWO_32) {
        return this.#badWalk({ kind: "chain-too-large", head: first, bytes });
      }
      const cause = this.#mapper.mapBuffer(chain, hi * TWO_32 + lo, len, write);
      if (cause !== undefined) {
        const addr = hi * TWO_32 + lo;
        return this.#badWalk({ kind: "buffer-unmapped", index: slot, addr, len, write, cause });
      }
      if ((flags & VIRTQ_DESC_F_NEXT) === 0) {
        // §2.8.6: the buffer id is in the last descriptor of the list.
        chain.head = id;
        break;
      }
      if (++slot === size) {
        slot = 0;
        wrap ^= 1;
      }
    }
    const id = chain.head;
    if (id >= size) return this.#badWalk({ kind: "packed-id-out-of-range", id, size });
    if (this.#seq[id] !== 0) return this.#badWalk({ kind: "packed-id-in-use", id });
    chain.descriptors = count;
    return count;
  }

  /** Reads an indirect table (entries in order, §2.8.19) into the chain; false after a fault. */
  #walkIndirect(slot: number, first: number, hi: number, lo: number, len: number): boolean {
    if (len === 0 || len % VIRTQ_DESC_SIZE !== 0) {
      return this.#bad({ kind: "indirect-bad-length", index: slot, len });
    }
    if (hi >= ADDR_HIGH_LIMIT) {
      return this.#bad({ kind: "addr-out-of-range", index: slot, addrHigh: hi, indirect: false });
    }
    const addr = hi * TWO_32 + lo;
    const entries = len / VIRTQ_DESC_SIZE;
    if (entries > this.size) {
      return this.#bad({ kind: "chain-too-long", head: first, length: entries, size: this.size });
    }
    const cause = this.#mapper.mapTable(addr, len);
    if (cause !== undefined) {
      return this.#bad({ kind: "indirect-unmapped", index: slot, addr, len, cause });
    }
    const table = this.#mapper.tableGpa;
    const mem = this.#mem;
    let bytes = 0;
    let sawWrite = false;
    for (let k = 0; k < entries; k++) {
      const at = table + k * VIRTQ_DESC_SIZE;
      const elo = mem.getU32(at);
      const ehi = mem.getU32(at + 4);
      const elen = mem.getU32(at + 8);
      // §2.8.19: only WRITE is valid inside the table; other flags and the id are ignored.
      const write = (mem.getU16(at + PACKED_DESC_FLAGS) & VIRTQ_DESC_F_WRITE) !== 0;
      if (elen === 0) return this.#bad({ kind: "zero-length", index: k, indirect: true });
      if (write) sawWrite = true;
      else if (sawWrite) {
        return this.#bad({ kind: "readable-after-writable", index: k, indirect: true });
      }
      if (ehi >= ADDR_HIGH_LIMIT) {
        return this.#bad({ kind: "addr-out-of-range", index: k, addrHigh: ehi, indirect: true });
      }
      bytes += elen;
      if (bytes > TWO_32) return this.#bad({ kind: "chain-too-large", head: first, bytes });
      const eaddr = ehi * TWO_32 + elo;
      const c = this.#mapper.mapBuffer(this.chain, eaddr, elen, write);
      if (c !== undefined) {
        return this.#bad({
          kind: "buffer-unmapped",
          index: k,
          addr: eaddr,
          len: elen,
          write,
          cause: c,
        });
      }
    }
    return true;
  }

  #release(id: number): void {
    if (this.#seq[id] === 0) {
      throw new RangeError(`Cannot return buffer ${id}: it is not in flight`);
    }
    if (this.#inOrder) {
      if (this.#order[this.#orderHead] !== id) {
        throw new RangeError(`Cannot return buffer ${id} out of order: IN_ORDER was negotiated`);
      }
      this.#orderHead = (this.#orderHead + 1) % this.size;
    }
    this.#seq[id] = 0;
    this.#inFlight--;
  }

  /** Writes the used descriptor for `id` at ring position `slot` with wrap `wrap`; flags optional. */
  #writeUsed(slot: number, wrap: number, id: number, len: number, flags: boolean): void {
    const at = slot * VIRTQ_DESC_SIZE;
    const d = this.#desc;
    d.setUint32(at + 8, len, true);
    d.setUint16(at + PACKED_DESC_ID, id, true);
    // §2.8.2: WRITE in a used descriptor says data was written (len is reserved otherwise).
    if (flags) {
      d.setUint16(
        at + PACKED_DESC_FLAGS,
        packedUsedFlags(wrap) | (len > 0 ? VIRTQ_DESC_F_WRITE : 0),
        true,
      );
    }
  }

  #advanceUsed(slots: number): void {
    let next = this.#nextUsed + slots;
    if (next >= this.size) {
      next -= this.size;
      this.#usedWrap ^= 1;
    }
    this.#nextUsed = next;
    this.#usedSinceSignal += slots;
  }

  /**
   * Stages a used descriptor for `id` (QEMU `virtqueue_fill`); {@link flushUsed} makes the
   * staged ones visible, the first one last (§2.8.21). Ignored after a fault.
   */
  fillUsed(id: number, len: number): void {
    if (!this.#usable()) return;
    this.#release(id);
    this.#pendingIds[this.#pending] = id;
    this.#pendingLens[this.#pending] = len;
    this.#pendingSlots[this.#pending] = this.#descs[id] as number;
    this.#pending++;
  }

  /**
   * Gives back the last `count` buffers that were popped and staged by {@link fillUsed} but not
   * flushed: nothing is written and the buffers are available again, as if never popped
   * (QEMU `virtqueue_packed_rewind`). Throws when fewer are staged (a bug in the caller).
   */
  rewind(count: number): void {
    if (this.#fault !== undefined) return;
    if (count > this.#pending) {
      throw new RangeError(`Cannot rewind ${count} buffers: ${this.#pending} are staged`);
    }
    for (let k = 0; k < count; k++) {
      const slots = this.#pendingSlots[--this.#pending] as number;
      this.#slotsInUse -= slots;
      let next = this.#nextAvail - slots;
      if (next < 0) {
        next += this.size;
        this.#availWrap ^= 1;
      }
      this.#nextAvail = next;
      this.#c_popped--;
    }
  }

  /** Writes every staged used descriptor; the first one's flags are stored last. */
  flushUsed(): void {
    const n = this.#pending;
    if (n === 0 || !this.#usable()) return;
    const firstSlot = this.#nextUsed;
    const firstWrap = this.#usedWrap;
    for (let k = 0; k < n; k++) {
      const id = this.#pendingIds[k] as number;
      const slots = this.#pendingSlots[k] as number;
      this.#writeUsed(this.#nextUsed, this.#usedWrap, id, this.#pendingLens[k] as number, k > 0);
      this.#advanceUsed(slots);
      this.#slotsInUse -= slots;
    }
    const len0 = this.#pendingLens[0] as number;
    this.#desc.setUint16(
      firstSlot * VIRTQ_DESC_SIZE + PACKED_DESC_FLAGS,
      packedUsedFlags(firstWrap) | (len0 > 0 ? VIRTQ_DESC_F_WRITE : 0),
      true,
    );
    this.#pending = 0;
    this.#c_used += n;
    this.#c_usedFlushes++;
  }

  /** Marks one buffer used (fill + flush). */
  addUsed(id: number, len: number): void {
    if (!this.#usable()) return;
    if (this.#pending !== 0) {
      this.fillUsed(id, len);
      this.flushUsed();
      return;
    }
    this.#release(id);
    this.#writeUsed(this.#nextUsed, this.#usedWrap, id, len, true);
    this.#advanceUsed(this.#descs[id] as number);
    this.#slotsInUse -= this.#descs[id] as number;
    this.#c_used++;
    this.#c_usedFlushes++;
  }

  /**
   * IN_ORDER only (§2.8.20): one used descriptor with the id of the last of the `count` oldest
   * buffers, written over the batch's first slot; the ring skips the whole batch.
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
    const slot = this.#nextUsed;
    const wrap = this.#usedWrap;
    let last = 0;
    let slots = 0;
    for (let k = 0; k < count; k++) {
      last = this.#order[this.#orderHead] as number;
      slots += this.#descs[last] as number;
      this.#release(last);
    }
    this.#writeUsed(slot, wrap, last, len, true);
    this.#advanceUsed(slots);
    this.#slotsInUse -= slots;
    this.#c_used += count;
    this.#c_usedFlushes++;
  }

  /**
   * Should the driver be interrupted now (QEMU `virtio_packed_should_notify`)? Reads the
   * Driver Event Suppression structure: DISABLE → no, ENABLE → yes, DESC → whether the used
   * descriptors written since the last decision reached (off, wrap).
   */
  needsInterrupt(): boolean {
    if ((this.gate !== undefined && !this.gate.live) || !this.#usable()) return false;
    const flags = this.#driverEvent.getUint16(EVENT_FLAGS, true);
    const valid = this.#signalledValid;
    const count = this.#usedSinceSignal;
    this.#signalledValid = true;
    this.#signalledUsed = this.#nextUsed | (this.#usedWrap << 15);
    this.#usedSinceSignal = 0;
    let notify: boolean;
    if (flags === RING_EVENT_FLAGS_DISABLE) notify = false;
    else if (flags === RING_EVENT_FLAGS_ENABLE) notify = true;
    else {
      const offWrap = this.#driverEvent.getUint16(EVENT_OFF_WRAP, true);
      notify = !valid || packedNeedEvent(offWrap, this.#nextUsed, count, this.#usedWrap, this.size);
    }
    if (notify) this.#c_interrupts++;
    else this.#c_interruptsSuppressed++;
    return notify;
  }

  /** Asks the driver not to kick (Device Event Suppression flags = DISABLE). */
  disableNotifications(): void {
    this.#notify = false;
    if (this.#usable()) {
      this.#deviceEvent.setUint16(EVENT_FLAGS, RING_EVENT_FLAGS_DISABLE, true);
    }
  }

  /**
   * Asks the driver to kick again (ENABLE, or DESC at the next slot with EVENT_IDX), then
   * re-checks the ring: true when a buffer is waiting (poll again before sleeping).
   */
  enableNotifications(): boolean {
    this.#notify = true;
    if (!this.#usable()) return false;
    if (this.#eventIdx) {
      // QEMU: off_wrap first, then flags.
      this.#deviceEvent.setUint16(EVENT_OFF_WRAP, this.#nextAvail | (this.#availWrap << 15), true);
      this.#deviceEvent.setUint16(EVENT_FLAGS, RING_EVENT_FLAGS_DESC, true);
    } else this.#deviceEvent.setUint16(EVENT_FLAGS, RING_EVENT_FLAGS_ENABLE, true);
    return this.hasAvail();
  }

  /** Device reset: forget every position and in-flight buffer; the ring is not touched. */
  reset(): void {
    this.#nextAvail =
      this.#nextUsed =
      this.#pending =
      this.#usedSinceSignal =
        0;
    this.#availWrap = this.#usedWrap = 1;
    this.#signalledUsed = 0;
    this.#signalledValid = false;
    this.#notify = true;
    this.#seq.fill(0);
    this.#inFlight = 0;
    this.#slotsInUse = 0;
    this.#orderHead = 0;
    this.#fault = undefined;
    this.chain.clear();
  }

  /** The saved state (plain data). */
  toState(): PackedQueueState {
    const inFlight: { id: number; descriptors: number }[] = [];
    const ids: number[] = [];
    for (let id = 0; id < this.size; id++) if (this.#seq[id] !== 0) ids.push(id);
    ids.sort((a, b) => (this.#seq[a] as number) - (this.#seq[b] as number));
    for (const id of ids) inFlight.push({ id, descriptors: this.#descs[id] as number });
    return {
      layout: "packed",
      size: this.size,
      ...this.#addrs,
      nextAvail: this.#nextAvail,
      availWrap: this.#availWrap,
      nextUsed: this.#nextUsed,
      usedWrap: this.#usedWrap,
      signalledUsed: this.#signalledUsed,
      signalledUsedValid: this.#signalledValid,
      notifications: this.#notify,
      inFlight,
    };
  }
}
