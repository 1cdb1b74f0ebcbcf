/**
 * Adversarial trials of the device side of a virtqueue (split or packed). A trial builds a
 * small guest memory (two RAM regions with a hole between them and a ROM), places the ring
 * parts at random addresses (mostly sane, sometimes misaligned, unmapped, straddling a hole,
 * in ROM or beyond 2^53), fills them with random bytes or with plausible descriptors, starts
 * the device fresh or from a random saved state (indices, wrap counters, in-flight buffers),
 * then runs a budget of steps mixing a hostile driver (scribbling over any ring byte, offering
 * chains of every shape including loops, bad lengths, unmapped and read-only buffers, nested
 * and misplaced indirect tables) with device work (pop, drain, used entries single, batched
 * and in order, interrupt decisions, notification toggles, save/restore, reset, memory
 * hot-unplug).
 *
 * After every step it checks what the device promises:
 * - nothing throws;
 * - `pop()` returns a head/id with a well-formed chain of at most 1024 segments lying in guest
 *   memory (writable ones in RAM), or POP_EMPTY with no fault, or POP_FAULT with a device-side fault
 *   that describes itself; once broken the device stays broken until reset or restore: every
 *   pop faults, no interrupt is requested, and it writes nothing more to memory;
 * - its saved state passes `checkQueueState`, restores through `fromState`, and agrees with a
 *   model of what was popped and returned (indices, wrap counters, in-flight buffers and, with
 *   IN_ORDER, their order);
 * - a published used index (split) or used descriptor (packed) is in guest memory;
 * - guest memory changes only where each call may write — split: used.flags, used.idx,
 *   avail_event and the used elements the call fills or publishes; packed: the Device Event
 *   Suppression area and the first slot of each buffer marked used — and in the writable
 *   buffers of popped chains the device wrote to (memory is compared with a shadow copy that
 *   the driver's own writes also update), and nowhere at all once the queue has faulted;
 * - draining pops stops within `size + 1` pops without a used entry in between.
 *
 * @example
 * ```ts
 * import { runRingTrial } from "./ring_harness.ts";
 * const r = runRingTrial({ seed: 5, layout: "split", features: 0n, steps: 50 });
 * if (r.problems.length !== 0) throw new Error(r.problems.join("\n"));
 * ```
 *
 * @module
 */

import { GuestMemory, type RegionOptions } from "../../runtime/memory/guest_memory.ts";
import { MemTable } from "../../runtime/memory/mem_table.ts";
import type { Translator } from "../../runtime/memory/translator.ts";
import { VdpaSimIotlb } from "../../runtime/iommu/vdpa_sim_iotlb.ts";
import {
  PACKED_DESC_FLAGS,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_DESC_SIZE,
} from "../../runtime/virtio/defs.ts";
import {
  featureMask,
  hasFeature,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_NOTIFY_ON_EMPTY,
  VIRTIO_F_VERSION_1,
} from "../../runtime/virtio/features.ts";
import { PackedDevice } from "../../runtime/virtio/packed_device.ts";
import { descRingSize, isDescUsed, packedAvailFlags } from "../../runtime/virtio/packed_layout.ts";
import { describeQueueFault, type QueueFault } from "../../runtime/virtio/queue_fault.ts";
import {
  checkQueueState,
  type PackedQueueState,
  type SplitQueueState,
} from "../../runtime/virtio/queue_state.ts";
import { POP_EMPTY, POP_FAULT, SplitDevice } from "../../runtime/virtio/split_device.ts";
import { DeviceStatus } from "../../runtime/virtio/status.ts";
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
} from "../../runtime/virtio/defs.ts";
import {
  availEntryOffset,
  availEventOffset,
  availRingSize,
  descTableSize,
  usedEntryOffset,
  usedRingSize,
} from "../../runtime/virtio/split_layout.ts";
import { Prng } from "./prng.ts";

/** Which ring and features a trial runs. */
export interface RingTrialOptions {
  readonly seed: number;
  readonly layout: "split" | "packed";
  /** Negotiated features (EVENT_IDX, INDIRECT_DESC, IN_ORDER matter; RING_PACKED is implied). */
  readonly features: bigint;
  /** Steps after setup (a drain counts as one step per pop). */
  readonly steps: number;
}

/** What a trial did and what it found wrong. */
export interface RingTrialResult {
  /** Steps run (0 when setup refused the ring, which is a step of its own). */
  readonly steps: number;
  /** `create`/`fromState` refused the ring (the fault kind). */
  readonly setupFault: string | undefined;
  readonly pops: number;
  readonly chains: number;
  /** Queue faults seen, by kind. */
  readonly faults: ReadonlyMap<string, number>;
  /** Broken promises; empty when the device behaved. */
  readonly problems: readonly string[];
  /** The last steps, for a failure report. */
  readonly log: readonly string[];
}

/** Faults a device may report about what the driver wrote (not driver-side or setup ones). */
const DEVICE_FAULTS = new Set<QueueFault["kind"]>([
  "avail-idx-jump",
  "head-out-of-range",
  "head-in-use",
  "in-flight-overflow",
  "next-out-of-range",
  "chain-loop",
  "chain-too-long",
  "chain-too-large",
  "zero-length",
  "readable-after-writable",
  "nested-indirect",
  "indirect-with-next",
  "indirect-not-negotiated",
  "indirect-bad-length",
  "indirect-unmapped",
  "addr-out-of-range",
  "buffer-unmapped",
  "packed-id-out-of-range",
  "packed-id-in-use",
  "packed-desc-not-available",
  "packed-ring-overrun",
  "ring-unmapped",
]);

const SETUP_FAULTS = new Set<QueueFault["kind"]>([
  "bad-size",
  "misaligned",
  "ring-unmapped",
  "bad-state",
]);

/** QEMU's VIRTQUEUE_MAX_SIZE iovecs and vhost's UIO_MAXIOV: no chain maps to more segments. */
const MAX_CHAIN_SEGMENTS = 1024;

const RAM0: RegionOptions = { name: "ram0", gpa: 0, size: 0x10000 };
/** A hole at [0x10000, 0x18000). */
const RAM1: RegionOptions = { name: "ram1", gpa: 0x18000, size: 0x4000 };
const ROM: RegionOptions = { name: "rom", gpa: 0x1c000, size: 0x1000, kind: "rom" };
const HOLE = 0x10000;

/** Where buffers and indirect tables usually go. */
const DATA_AREAS: readonly (readonly [number, number])[] = [[0x8000, 0x10000], [0x18000, 0x1c000]];

type Device = SplitDevice | PackedDevice;

/** The harness's own record of a popped buffer. */
interface Held {
  readonly id: number;
  readonly writableBytes: number;
  /** Writable segments (GPA, length), for the device's writes. */
  readonly writable: readonly (readonly [number, number])[];
  /** Packed: ring slots the buffer took. */
  readonly slots: number;
}

/** Runs one trial; see the module documentation. */
export function runRingTrial(o: RingTrialOptions): RingTrialResult {
  return new Trial(o).run();
}

class Trial {
  readonly #o: RingTrialOptions;
  readonly #rng: Prng;
  readonly #mem = new GuestMemory();
  readonly #problems: string[] = [];
  readonly #log: string[] = [];
  readonly #faults = new Map<string, number>();
  #translator: Translator | undefined;
  #dev!: Device;
  #size = 0;
  /** Ring part addresses as the device sees them. */
  #addrs: Record<string, number> = {};
  /** Shadow of every region: what memory must hold but for allowed device writes. */
  #shadow = new Map<string, Uint8Array>();
  /** Reused buffers for memory comparisons, by region. */
  #scratch = new Map<string, Uint8Array>();
  /** GPA ranges the device may have written since the last comparison. */
  #allowed: [number, number][] = [];
  /** Ids the driver offered that the device has not popped yet. */
  #offered = new Set<number>();
  /** Model of buffers in flight, oldest first. */
  #held: Held[] = [];
  /** Buffers filled (released) but not flushed yet. */
  #pending: Held[] = [];
  /** Split: pops and used publications since the model's origin (u16). */
  #nextAvail = 0;
  #nextUsed = 0;
  /** Packed: used slot and wrap. */
  #usedSlot = 0;
  #usedWrap = 1;
  /** The driver's own positions (split avail idx; packed next slot and wrap). */
  #drvAvail = 0;
  #drvSlot = 0;
  #drvWrap = 1;
  #broken = false;
  #unplugged = false;
  /** The negotiated features (the trial's, plus NOTIFY_ON_EMPTY on some split queues). */
  #features: bigint;
  /** The device status the queue is attached to (QEMU's policy: a fault sets NEEDS_RESET). */
  #status: DeviceStatus | undefined;
  /** How often this trial's driver makes mistakes (a factor on every mistake's odds). */
  #hostility = 1;
  #pops = 0;
  #chains = 0;
  #steps = 0;

  constructor(o: RingTrialOptions) {
    this.#o = o;
    this.#rng = new Prng(o.seed);
    this.#features = o.features;
  }

  get #inOrder(): boolean {
    return hasFeature(this.#features, VIRTIO_F_IN_ORDER);
  }

  #problem(text: string): void {
    if (this.#problems.length < 5) this.#problems.push(`${text} (after: ${this.#log.at(-1)})`);
  }

  #note(step: string): void {
    this.#log.push(step);
    if (this.#log.length > 40) this.#log.shift();
  }

  run(): RingTrialResult {
    const setup = this.#setup();
    if (setup === undefined) {
      try {
        for (; this.#steps < this.#o.steps && this.#problems.length === 0;) this.#step();
        this.#compareMemory("end of trial");
      } catch (e) {
        this.#problem(`threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      }
    }
    return {
      steps: this.#steps,
      setupFault: setup,
      pops: this.#pops,
      chains: this.#chains,
      faults: this.#faults,
      problems: this.#problems,
      log: this.#log,
    };
  }

  // --- setup --------------------------------------------------------------------------------

  /** Builds memory and the device; returns the setup fault kind, if setup was refused. */
  #setup(): string | undefined {
    const r = this.#rng;
    for (const region of [RAM0, RAM1, ROM]) this.#mem.addRegion(region);
    this.#hostility = r.pick([0.1, 0.5, 1, 2]);
    this.#translator = this.#pickTranslator();
    const packed = this.#o.layout === "packed";
    this.#size = packed
      ? r.weighted<number>([[30, r.range(1, 16)], [10, r.range(17, 300)], [
        2,
        r.pick([
          0,
          -1,
          1.5,
          32768,
          32769,
          NaN,
        ]),
      ]])
      : r.weighted<number>([[30, 2 ** r.range(0, 4)], [10, 2 ** r.range(5, 8)], [
        2,
        r.pick([
          0,
          3,
          6,
          100,
          32768,
          65536,
          -8,
          NaN,
        ]),
      ]]);
    const size = this.#size;
    const parts = packed
      ? [["descRing", descRingSize(size), 16], ["driverEvent", 4, 4], ["deviceEvent", 4, 4]]
      : [
        ["descTable", descTableSize(size), 16],
        ["availRing", availRingSize(size), 2],
        ["usedRing", usedRingSize(size), 4],
      ];
    // Rings usually sit low in ram0; sometimes in ram1, the region that gets hot-unplugged.
    let next = (r.chance(0.15) ? RAM1.gpa : 0) + r.int(8) * 0x100;
    for (const [name, len, align] of parts as [string, number, number][]) {
      this.#addrs[name] = this.#placePart(next, len, align);
      next = alignUp(next + (Number.isFinite(len) ? Math.max(len, 0) : 0) + r.int(4) * 64, 256);
    }
    const image = r.weighted<string>([[2, "zero"], [2, "random"], [6, "structured"]]);
    if (image === "random") this.#randomImage();
    this.#takeShadow();
    const fromState = r.chance(0.4);
    // Split queues sometimes also run with the legacy NOTIFY_ON_EMPTY.
    if (!packed && r.chance(0.2)) this.#features |= featureMask(VIRTIO_F_NOTIFY_ON_EMPTY);
    const features = this.#features;
    const translator = this.#translator;
    const opts = translator ? { features, translator } : { features };
    let made;
    if (fromState) {
      const state = this.#randomState();
      const bad = checkQueueState(state);
      made = packed
        ? PackedDevice.fromState(this.#mem, state as PackedQueueState, opts)
        : SplitDevice.fromState(this.#mem, state as SplitQueueState, opts);
      if (bad && made.ok) this.#problem(`fromState accepted a state checkQueueState refuses`);
    } else {
      made = packed
        ? PackedDevice.create(this.#mem, { size, ...this.#packedAddrs(), ...opts })
        : SplitDevice.create(this.#mem, { size, ...this.#splitAddrs(), ...opts });
    }
    if (!made.ok) {
      this.#note(`setup refused: ${made.error.kind}`);
      if (!SETUP_FAULTS.has(made.error.kind)) {
        this.#problem(`setup returned a non-setup fault ${made.error.kind}`);
      }
      this.#describe(made.error);
      return made.error.kind;
    }
    this.#dev = made.value;
    if (r.chance(0.5)) {
      const status = new DeviceStatus({
        deviceFeatures: features | featureMask(VIRTIO_F_VERSION_1),
      });
      if (this.#bringUp(status)) {
        this.#status = status;
        status.attachQueue(this.#dev, "needs-reset");
      }
    }
    this.#adoptState();
    if (fromState && !packed && r.chance(0.85)) {
      // A driver that agrees with the restored position.
      this.#drvAvail = this.#nextAvail;
      this.#guestU16((this.#addrs.availRing as number) + 2, this.#drvAvail);
    }
    if (image === "random" && !packed && r.chance(0.8) && Number.isInteger(size) && size > 0) {
      // Random descriptors behind a sane index: the walk meets the garbage.
      this.#drvAvail = (this.#nextAvail + r.int(size + 1)) & 0xffff;
      this.#guestU16((this.#addrs.availRing as number) + 2, this.#drvAvail);
    }
    if (image === "structured") {
      const n = r.range(1, 8);
      for (let k = 0; k < n; k++) this.#offer();
    }
    this.#note(
      `${this.#o.layout} size ${size} ${fromState ? "restored" : "created"} ${
        JSON.stringify(this.#addrs)
      }${this.#translator ? " translated" : ""}`,
    );
    this.#checkState();
    return undefined;
  }

  #splitAddrs() {
    const a = this.#addrs;
    return {
      descTable: a.descTable as number,
      availRing: a.availRing as number,
      usedRing: a.usedRing as number,
    };
  }

  #packedAddrs() {
    const a = this.#addrs;
    return {
      descRing: a.descRing as number,
      driverEvent: a.driverEvent as number,
      deviceEvent: a.deviceEvent as number,
    };
  }

  /** Identity, a vhost memory table with holes, or a vdpa_sim IOTLB with pages moved around. */
  #pickTranslator(): Translator | undefined {
    const r = this.#rng;
    const kind = r.weighted<string>([[6, "identity"], [1, "memtable"], [1, "iotlb"]]);
    if (kind === "memtable") {
      // Every region but one piece of ram0: rings or buffers there fault in translation.
      const cut = r.range(1, 15) * 0x1000;
      const t = MemTable.create([
        { guestPhysAddr: 0, memorySize: cut, userspaceAddr: 0x7f00_0000_0000 },
        {
          guestPhysAddr: cut + 0x1000,
          memorySize: 0x10000 - cut - 0x1000,
          userspaceAddr: 0x7f10_0000_0000,
        },
        { guestPhysAddr: 0x18000, memorySize: 0x5000, userspaceAddr: 0x7f20_0000_0000 },
      ]);
      return t.ok ? t.value.gpaToGuestMemory : undefined;
    }
    if (kind === "iotlb") {
      // IOVA pages map to shuffled guest pages, some read-only, some write-only, some absent.
      const sim = new VdpaSimIotlb({ nas: 1 });
      const pages = [...Array(0x14).keys()].map((p) => (p < 0x10 ? p : p + 8));
      for (let p = 0; p < 0x14; p++) {
        if (r.chance(0.1)) continue;
        const target = r.chance(0.7) ? (pages[p] as number) : r.pick(pages);
        const perm = r.weighted<1 | 2 | 3>([[8, 3], [1, 1], [1, 2]]);
        sim.dmaMap(0, (pages[p] as number) * 0x1000, 0x1000, target * 0x1000, perm);
      }
      return sim.translatorFor(0);
    }
    return undefined;
  }

  /** A ring part's address: usually `natural`, sometimes somewhere hostile. */
  #placePart(natural: number, len: number, align: number): number {
    const r = this.#rng;
    if (!r.chance(0.06)) return natural;
    return r.pick([
      natural + r.pick([1, 2, 4, 8]),
      HOLE + r.int(0x10) * 0x100,
      HOLE - alignUp(Math.max(1, Math.min(len, 0x1000)) >> 1, align),
      ROM.gpa,
      RAM1.gpa + r.int(0x30) * 0x100,
      2 ** 53 - 0x100,
      2 ** 64,
      0,
    ]);
  }

  /** Random bytes in the ring parts and in the data areas (where tables and buffers are). */
  #randomImage(): void {
    const r = this.#rng;
    for (const [, len, at] of this.#partRanges()) this.#scribble(at, Math.min(len, 0x4000));
    for (let k = 0; k < 4; k++) {
      const [lo, hi] = r.pick(DATA_AREAS);
      this.#scribble(lo + r.int(hi - lo - 64), r.range(1, 64));
    }
  }

  /** `[name, length, address]` of each ring part. */
  #partRanges(): [string, number, number][] {
    const s = this.#size;
    const lens: Record<string, number> = this.#o.layout === "packed"
      ? { descRing: descRingSize(s), driverEvent: 4, deviceEvent: 4 }
      : { descTable: descTableSize(s), availRing: availRingSize(s), usedRing: usedRingSize(s) };
    return Object.entries(this.#addrs).map(([k, a]) => [k, lens[k] ?? 0, a]);
  }

  #randomState(): SplitQueueState | PackedQueueState {
    const r = this.#rng;
    const size = this.#size;
    const n = Number.isInteger(size) && size > 0 ? size : 1;
    const heads = [...Array(Math.min(n, 64)).keys()].filter(() => r.chance(0.2));
    if (r.chance(0.1)) heads.push(r.pick([n, -1, 0.5, heads[0] ?? 0]));
    const junk = () => r.pick([-1, 65536, 1.5, NaN, 2 ** 53]);
    const u16 = () => (r.chance(0.97) ? r.int(0x10000) : junk());
    if (this.#o.layout === "split") {
      const nextUsed = u16();
      const outstanding = r.chance(0.9) ? heads.length + r.int(2) : r.int(0x10000);
      return {
        layout: "split",
        size,
        ...this.#splitAddrs(),
        nextAvail: r.chance(0.97) ? (nextUsed + outstanding) & 0xffff : junk(),
        nextUsed,
        signalledUsed: u16(),
        signalledUsedValid: r.chance(0.5),
        notifications: r.chance(0.7),
        inFlight: heads,
      };
    }
    const slot = () => (r.chance(0.97) ? r.int(n) : r.pick([n, -1, 1.5]));
    const wrap = () => (r.chance(0.97) ? r.int(2) : r.pick([2, -1]));
    let room = n;
    const inFlight = heads.flatMap((id) => {
      const d = r.chance(0.97) ? r.range(1, 3) : r.pick([0, n + 1]);
      if (d > room && r.chance(0.95)) return [];
      room -= d;
      return [{ id, descriptors: d }];
    });
    return {
      layout: "packed",
      size,
      ...this.#packedAddrs(),
      nextAvail: slot(),
      availWrap: wrap(),
      nextUsed: slot(),
      usedWrap: wrap(),
      signalledUsed: u16(),
      signalledUsedValid: r.chance(0.5),
      notifications: r.chance(0.7),
      inFlight,
    };
  }

  /** Resets the model from the device's saved state (after create, restore or reset). */
  #adoptState(): void {
    const st = this.#dev.toState();
    this.#pending = [];
    this.#offered.clear();
    if (st.layout === "split") {
      this.#nextAvail = st.nextAvail;
      this.#nextUsed = st.nextUsed;
      this.#held = st.inFlight.map((id) => ({ id, writableBytes: 0, writable: [], slots: 1 }));
      this.#drvAvail = this.#readU16(this.#addrs.availRing as number, 2);
    } else {
      this.#usedSlot = st.nextUsed;
      this.#usedWrap = st.usedWrap;
      this.#held = st.inFlight.map((e) => ({
        id: e.id,
        writableBytes: 0,
        writable: [],
        slots: e.descriptors,
      }));
      this.#drvSlot = st.nextAvail;
      this.#drvWrap = st.availWrap;
    }
    this.#broken = this.#dev.broken;
  }

  #readU16(gpa: number, off: number): number {
    const v = this.#mem.getU16(gpa + off);
    return v < 0 ? 0 : v;
  }

  // --- the driver (hostile) --------------------------------------------------------------------

  /** Writes through the shadow: the driver's writes are not the device's. */
  #guestWrite(gpa: number, bytes: Uint8Array): void {
    if (!this.#mem.write(gpa, bytes)) return;
    for (const region of this.#mem.regions()) {
      const sh = this.#shadow.get(region.name);
      if (!sh) continue;
      const lo = Math.max(gpa, region.gpa);
      const hi = Math.min(gpa + bytes.length, region.end);
      for (let a = lo; a < hi; a++) sh[a - region.gpa] = bytes[a - gpa] as number;
    }
  }

  #guestU16(gpa: number, v: number): void {
    this.#guestWrite(gpa, new Uint8Array([v & 0xff, (v >>> 8) & 0xff]));
  }

  /** Random bytes at `gpa` (translated addresses are written where the device would look). */
  #scribble(gpa: number, len: number): void {
    const r = this.#rng;
    const bytes = new Uint8Array(Math.max(0, Math.min(len, 0x4000)));
    for (let i = 0; i < bytes.length; i++) bytes[i] = r.int(256);
    this.#guestWrite(gpa, bytes);
  }

  /** A buffer address and length: usually in a data area, sometimes anywhere hostile. */
  #buffer(write: boolean): [number | bigint, number] {
    const r = this.#rng;
    const [lo, hi] = r.pick(DATA_AREAS);
    const h = this.#hostility;
    const len = r.weighted<number>([[40, r.range(1, 256)], [6, r.range(257, 4096)], [
      h,
      r.pick([
        0,
        0xffff_ffff,
        0x8000_0000,
        hi - lo,
      ]),
    ]]);
    const addr = r.weighted<number | bigint>([[80, lo + r.int(Math.max(1, hi - lo - len))], [
      h,
      r.pick([HOLE, ROM.gpa, hi - 1, 2 ** 53 - 1, 0]),
    ], [h, r.pick([2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, BigInt(2 ** 52) * 3n])]]);
    return write && this.#bad(0.01) ? [ROM.gpa, len] : [addr, len];
  }

  /** Descriptor flags for position `k` of `n` (`w` writable at the end), with mistakes. */
  #flags(k: number, n: number, writableFrom: number): number {
    const r = this.#rng;
    let f = (k < n - 1 ? VIRTQ_DESC_F_NEXT : 0) | (k >= writableFrom ? VIRTQ_DESC_F_WRITE : 0);
    if (this.#bad(0.015)) f ^= VIRTQ_DESC_F_NEXT;
    if (this.#bad(0.015)) f ^= VIRTQ_DESC_F_WRITE;
    if (this.#bad(0.01)) f |= VIRTQ_DESC_F_INDIRECT;
    if (this.#bad(0.01)) f |= r.int(0x10000) & ~0x8080;
    return f;
  }

  /** Writes an indirect table somewhere; returns its address and length. */
  #indirectTable(): [number | bigint, number] {
    const r = this.#rng;
    const n = r.weighted<number>([[10, r.range(1, 4)], [2, r.range(5, 40)], [this.#hostility, 0]]);
    const [lo, hi] = r.pick(DATA_AREAS);
    const at = lo + r.int((hi - lo - n * 16 - 16) >> 4) * 16;
    const writableFrom = r.range(0, n);
    for (let k = 0; k < n; k++) {
      const [addr, len] = this.#buffer(k >= writableFrom);
      const flags = this.#flags(k, n, writableFrom);
      const next = this.#bad(0.1) ? r.int(n + 2) : k + 1;
      this.#rawDesc(at, k, { addr, len, flags, next });
    }
    const len = this.#bad(0.05) ? r.pick([0, 8, n * 16 + 4, 0xffff_fff0]) : n * 16;
    return [this.#bad(0.03) ? r.pick([HOLE, ROM.gpa, 2 ** 53 - 16]) : at, len];
  }

  #rawDesc(table: number, i: number, d: RawDesc): void {
    this.#guestWrite(table + i * VIRTQ_DESC_SIZE, encodeDesc(d, "split"));
  }

  /** A driver mistake with odds `p` (scaled by the trial's hostility). */
  #bad(p: number): boolean {
    return this.#rng.chance(p * this.#hostility);
  }

  /** Buffers (split) or ring slots (packed) the driver made available and got no used entry for. */
  #outstanding(): number {
    if (this.#o.layout === "split") return (this.#drvAvail - this.#nextUsed) & 0xffff;
    const lap = this.#drvWrap === this.#usedWrap ? 0 : this.#size;
    return this.#drvSlot + lap - this.#usedSlot;
  }

  /** A head or buffer id the driver is not waiting for (-1 when all are out). */
  #freeId(): number {
    const r = this.#rng;
    const size = this.#size;
    const busy = new Set(this.#held.map((h) => h.id));
    for (const h of this.#pending) busy.add(h.id);
    for (let k = 0; k < 8; k++) {
      const id = r.int(size);
      if (!busy.has(id) && !this.#offered.has(id)) return id;
    }
    for (let id = 0; id < size; id++) if (!busy.has(id) && !this.#offered.has(id)) return id;
    // Offers the device never took (garbage it will not reach) are forgotten.
    this.#offered.clear();
    return -1;
  }

  /** A driver making a chain available, usually well formed, sometimes not. */
  #offer(): void {
    const r = this.#rng;
    const size = this.#size;
    if (!Number.isInteger(size) || size < 1 || size > 4096) return;
    // A driver keeps at most `size` buffers outstanding (§2.7.13, §2.8.21), nearly always.
    if (this.#outstanding() >= size && r.chance(0.95)) return;
    const n = r.weighted<number>([[12, 1], [8, r.range(2, 4)], [1, r.range(5, size + 2)]]);
    const writableFrom = r.range(0, n);
    const indirect = hasFeature(this.#features, VIRTIO_F_INDIRECT_DESC)
      ? r.chance(0.25)
      : this.#bad(0.03);
    if (this.#o.layout === "split") {
      const table = this.#addrs.descTable as number;
      const head = this.#bad(0.03) ? r.pick([size, 0xffff, r.int(size)]) : this.#freeId();
      if (head < 0) return;
      let i = head;
      for (let k = 0; k < (indirect ? 1 : n); k++) {
        const next = this.#bad(0.02) ? r.pick([size, i, head]) : r.int(size);
        if (indirect) {
          const [addr, len] = this.#indirectTable();
          let flags = VIRTQ_DESC_F_INDIRECT;
          if (this.#bad(0.05)) flags |= VIRTQ_DESC_F_NEXT;
          this.#rawDesc(table, i, { addr, len, flags, next });
        } else {
          const [addr, len] = this.#buffer(k >= writableFrom);
          this.#rawDesc(table, i, { addr, len, flags: this.#flags(k, n, writableFrom), next });
        }
        i = next;
      }
      const avail = this.#addrs.availRing as number;
      this.#guestU16(avail + availEntryOffset(this.#drvAvail % size), head);
      this.#drvAvail = (this.#drvAvail + (this.#bad(0.03) ? r.pick([0, 2, size + 1]) : 1)) & 0xffff;
      this.#guestU16(avail + 2, this.#drvAvail);
      this.#offered.add(head);
      this.#note(`offer split head ${head} n ${indirect ? "indirect" : n}`);
      return;
    }
    // Packed: descriptors at the driver's slots, the first one's flags written last.
    const ring = this.#addrs.descRing as number;
    const id = this.#bad(0.05) ? r.pick([size, 0xffff, r.int(size)]) : this.#freeId();
    if (id < 0) return;
    const count = indirect ? 1 : n;
    const first = this.#drvSlot;
    const firstWrap = this.#drvWrap;
    let firstFlags = 0;
    for (let k = 0; k < count; k++) {
      let flags: number;
      let addr: number | bigint;
      let len: number;
      if (indirect) {
        [addr, len] = this.#indirectTable();
        flags = VIRTQ_DESC_F_INDIRECT | (this.#bad(0.05) ? VIRTQ_DESC_F_NEXT : 0);
      } else {
        [addr, len] = this.#buffer(k >= writableFrom);
        flags = this.#flags(k, count, writableFrom);
      }
      flags |= this.#bad(0.03) ? r.int(4) << 14 : packedAvailFlags(this.#drvWrap);
      const bytes = encodeDesc({ addr, len, flags, next: id }, "packed");
      if (k === 0) {
        firstFlags = flags;
        // Keep the slot's old flags until the whole list is written (§2.8.21).
        const old = this.#mem.getU16(ring + this.#drvSlot * 16 + PACKED_DESC_FLAGS);
        bytes[14] = old < 0 ? 0 : old & 0xff;
        bytes[15] = old < 0 ? 0 : old >>> 8;
      }
      this.#guestWrite(ring + this.#drvSlot * VIRTQ_DESC_SIZE, bytes);
      if (++this.#drvSlot >= size) {
        this.#drvSlot = 0;
        this.#drvWrap ^= 1;
      }
    }
    this.#guestU16(ring + first * VIRTQ_DESC_SIZE + PACKED_DESC_FLAGS, firstFlags);
    this.#offered.add(id);
    this.#note(`offer packed id ${id} at ${first}/${firstWrap} n ${indirect ? "indirect" : count}`);
  }

  // --- steps -------------------------------------------------------------------------------------

  #step(): void {
    const r = this.#rng;
    this.#steps++;
    // A driver that sees NEEDS_RESET usually resets the device.
    const op = this.#broken && r.chance(0.3) ? "reset" : r.weighted<string>([
      [14, "offer"],
      [2, "scribble"],
      [0.5, "scribbleIdx"],
      [3, "eventWord"],
      [16, "pop"],
      [3, "drain"],
      [10, "complete"],
      [3, "batch"],
      [this.#inOrder ? 4 : 0.01, "inOrderBatch"],
      [5, "irq"],
      [2, "notify"],
      [2, "count"],
      [2, "saveRestore"],
      [1, "reset"],
      [0.6, "unplug"],
      [0.6, "replug"],
    ]);
    switch (op) {
      case "offer":
        this.#offer();
        break;
      case "scribble": {
        const [name, len, at] = r.pick(this.#partRanges());
        const off = r.int(Math.max(1, Math.min(len, 0x4000)));
        this.#note(`scribble ${name}+${off}`);
        this.#scribble(at + off, r.range(1, 8));
        break;
      }
      case "scribbleIdx": {
        const split = this.#o.layout === "split";
        const at = split
          ? (this.#addrs.availRing as number) + 2
          : (this.#addrs.driverEvent as number) + r.pick([0, 2]);
        const v = r.int(0x10000);
        this.#note(`${split ? "avail.idx" : "driver event"} = ${v}`);
        this.#guestU16(at, v);
        if (split) this.#drvAvail = v;
        break;
      }
      case "eventWord":
        this.#eventWord();
        break;
      case "pop":
        this.#pop();
        break;
      case "drain":
        this.#drain();
        break;
      case "complete":
        this.#complete();
        break;
      case "batch":
        this.#batch();
        break;
      case "inOrderBatch":
        this.#inOrderBatch();
        break;
      case "irq": {
        const v = this.#dev.needsInterrupt();
        this.#note(`needsInterrupt → ${v}`);
        if (typeof v !== "boolean") this.#problem(`needsInterrupt returned ${v}`);
        if (this.#broken && v) this.#problem("a broken device asks for an interrupt");
        this.#afterDeviceCall();
        break;
      }
      case "notify": {
        this.#allow("notify");
        if (r.chance(0.5)) {
          this.#note("disableNotifications");
          this.#dev.disableNotifications();
        } else {
          const v = this.#dev.enableNotifications();
          this.#note(`enableNotifications → ${v}`);
          if (this.#broken && v) this.#problem("a broken device says buffers are waiting");
        }
        this.#afterDeviceCall();
        break;
      }
      case "count":
        this.#count();
        break;
      case "saveRestore":
        this.#saveRestore();
        break;
      case "reset":
        this.#reset();
        break;
      case "unplug":
        if (!this.#unplugged) {
          this.#note("unplug ram1");
          this.#compareMemory("before unplug");
          this.#mem.removeRegion("ram1");
          this.#shadow.delete("ram1");
          this.#unplugged = true;
        }
        break;
      case "replug":
        if (this.#unplugged) {
          this.#note("replug ram1");
          this.#mem.addRegion(RAM1);
          this.#shadow.set("ram1", new Uint8Array(RAM1.size));
          this.#unplugged = false;
        }
        break;
    }
    this.#checkState();
    if (this.#steps % 16 === 0) this.#compareMemory(`step ${this.#steps}`);
  }

  /**
   * The driver's event suppression words: split avail.flags (NO_INTERRUPT) and used_event,
   * packed Driver Event Suppression flags (ENABLE, DISABLE, DESC, reserved) and off_wrap.
   */
  #eventWord(): void {
    const r = this.#rng;
    const size = Number.isInteger(this.#size) ? this.#size : 0;
    if (this.#o.layout === "split") {
      const avail = this.#addrs.availRing as number;
      if (r.chance(0.4)) {
        const v = r.weighted<number>([[4, 0], [4, 1], [1, r.int(0x10000)]]);
        this.#note(`avail.flags = ${v}`);
        this.#guestU16(avail, v);
      } else {
        const near = (this.#nextUsed + r.range(-2, 3)) & 0xffff;
        const v = r.chance(0.8) ? near : r.int(0x10000);
        this.#note(`used_event = ${v}`);
        this.#guestU16(avail + availEntryOffset(size), v);
      }
      return;
    }
    const ev = this.#addrs.driverEvent as number;
    if (r.chance(0.5)) {
      const v = r.weighted<number>([[3, 0], [3, 1], [3, 2], [1, 3], [1, r.int(0x10000)]]);
      this.#note(`driver event flags = ${v}`);
      this.#guestU16(ev + 2, v);
    } else {
      const off = r.chance(0.8) ? r.int(Math.max(1, size)) : r.int(0x8000);
      const v = off | ((r.chance(0.8) ? this.#usedWrap : r.int(2)) << 15);
      this.#note(`driver event off_wrap = ${v}`);
      this.#guestU16(ev, v);
    }
  }

  /** One pop and what it promises. Returns the result. */
  #pop(): number {
    const dev = this.#dev;
    this.#allow("pop");
    const res = dev.pop();
    this.#pops++;
    if (res === POP_EMPTY) {
      this.#note("pop → empty");
      if (dev.fault !== undefined) this.#problem(`POP_EMPTY with a fault ${dev.fault.kind}`);
      if (this.#broken) this.#problem("a broken device popped nothing instead of a fault");
    } else if (res === POP_FAULT) {
      const f = dev.fault;
      this.#note(`pop → fault ${f?.kind}`);
      if (f === undefined) this.#problem("POP_FAULT without a fault");
      else {
        if (!DEVICE_FAULTS.has(f.kind)) this.#problem(`pop reported a non-device fault ${f.kind}`);
        if (!this.#broken) this.#faults.set(f.kind, (this.#faults.get(f.kind) ?? 0) + 1);
        this.#describe(f);
      }
      if (!dev.broken) this.#problem("POP_FAULT but the device is not broken");
      if (!this.#broken) {
        this.#broken = true;
        // From here on the device may not write: compare now and allow nothing more.
        this.#compareMemory("at the fault");
      }
    } else {
      this.#chain(res);
    }
    this.#afterDeviceCall();
    return res;
  }

  /** Pops until empty or fault; at most `size` chains can be taken without returning any. */
  #drain(): void {
    const size = Number.isInteger(this.#size) ? this.#size : 0;
    let taken = 0;
    for (let k = 0; k <= size + 1; k++) {
      const res = this.#pop();
      if (res < 0) return;
      if (++taken > size) {
        this.#problem(`drain popped ${taken} chains from a queue of ${size}`);
        return;
      }
    }
    this.#problem(`drain did not stop within ${size + 2} pops`);
  }

  /** Checks a popped chain and records it in the model. */
  #chain(id: number): void {
    const dev = this.#dev;
    const c = dev.chain;
    const size = this.#size;
    this.#chains++;
    this.#note(`pop → ${id} (${c.count} segments, ${c.descriptors} descriptors)`);
    if (this.#broken) this.#problem(`a broken device popped ${id}`);
    if (!Number.isInteger(id) || id < 0 || id >= size) this.#problem(`pop returned ${id}`);
    if (c.head !== id) this.#problem(`chain.head ${c.head} for pop ${id}`);
    if (this.#held.some((h) => h.id === id)) this.#problem(`pop returned ${id} twice in flight`);
    if (c.count < 1 || c.readable > c.count) {
      this.#problem(`chain of ${c.count} segments, ${c.readable} readable`);
    }
    if (c.count > MAX_CHAIN_SEGMENTS) {
      this.#problem(`chain of ${c.count} segments, more than ${MAX_CHAIN_SEGMENTS}`);
    }
    if (c.descriptors < 1 || c.descriptors > size) {
      this.#problem(`chain of ${c.descriptors} descriptors in a queue of ${size}`);
    }
    let readable = 0;
    let writable = 0;
    const writableSegs: [number, number][] = [];
    for (let i = 0; i < c.count; i++) {
      const s = c.segment(i);
      if (!(s.len > 0)) this.#problem(`segment ${i} has length ${s.len}`);
      if (!this.#mem.check(s.addr, s.len, s.write)) {
        this.#problem(`segment ${i} [${s.addr}, +${s.len}) ${s.write ? "w" : "r"} outside memory`);
      }
      if (s.write) {
        writable += s.len;
        writableSegs.push([s.addr, s.len]);
      } else readable += s.len;
    }
    if (readable !== c.readableBytes || writable !== c.writableBytes) {
      this.#problem(
        `chain byte counts ${c.readableBytes}/${c.writableBytes}, segments say ${readable}/${writable}`,
      );
    }
    if (readable + writable > 2 ** 32) this.#problem(`chain of ${readable + writable} bytes`);
    const slots = this.#o.layout === "packed" ? c.descriptors : 1;
    this.#held.push({ id, writableBytes: writable, writable: writableSegs, slots });
    this.#offered.delete(id);
    if (this.#o.layout === "split") this.#nextAvail = (this.#nextAvail + 1) & 0xffff;
  }

  /** The device writes into a buffer it holds (what a receive queue does). */
  #deviceWrites(h: Held): number {
    const r = this.#rng;
    if (h.writableBytes === 0 || r.chance(0.5) || this.#broken) return 0;
    const n = Math.min(h.writableBytes, r.range(1, 512));
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = r.int(256);
    // The chain object is reused by every pop, so the held buffer's own segments are used.
    let left = n;
    for (const [addr, len] of h.writable) {
      if (left === 0) break;
      const k = Math.min(left, len);
      this.#allowed.push([addr, addr + k]);
      this.#mem.write(addr, data, n - left, k);
      left -= k;
    }
    return n;
  }

  #pickHeld(): number {
    return this.#inOrder ? 0 : this.#rng.int(this.#held.length);
  }

  #usedLen(h: Held, written: number): number {
    const r = this.#rng;
    return r.weighted<number>([[8, written], [1, h.writableBytes], [
      1,
      r.pick([
        0,
        0xffff_ffff,
        h.writableBytes + 1,
      ]),
    ]]);
  }

  // A device call on a broken queue is ignored, and so is one that finds the rings gone
  // (the fault is raised inside the call): the model moves only when the device is intact.

  #complete(): void {
    if (this.#held.length === 0 || this.#pending.length > 0) return;
    const k = this.#pickHeld();
    const h = this.#held[k] as Held;
    const written = this.#deviceWrites(h);
    const len = this.#usedLen(h, written);
    this.#note(`addUsed(${h.id}, ${len})`);
    this.#allow("addUsed");
    this.#dev.addUsed(h.id, len);
    if (!this.#dev.broken) {
      this.#held.splice(k, 1);
      this.#published([h]);
    }
    this.#afterDeviceCall();
  }

  #batch(): void {
    const r = this.#rng;
    const n = Math.min(this.#held.length, r.range(1, 4));
    for (let k = 0; k < n; k++) {
      const at = this.#pickHeld();
      const h = this.#held[at] as Held;
      const len = this.#usedLen(h, this.#deviceWrites(h));
      this.#note(`fillUsed(${h.id}, ${len})`);
      this.#allow("fill");
      this.#dev.fillUsed(h.id, len);
      if (!this.#dev.broken) {
        this.#held.splice(at, 1);
        this.#pending.push(h);
      }
    }
    if (r.chance(0.8)) {
      this.#note("flushUsed");
      this.#allow("flush");
      this.#dev.flushUsed();
      if (!this.#dev.broken) {
        const done = this.#pending;
        this.#pending = [];
        this.#published(done);
      }
    }
    this.#afterDeviceCall();
  }

  #inOrderBatch(): void {
    if (!this.#inOrder || this.#held.length === 0 || this.#pending.length > 0) return;
    const r = this.#rng;
    const count = r.range(1, this.#held.length);
    const batch = this.#held.slice(0, count);
    for (const h of batch) this.#deviceWrites(h);
    const len = r.int(4096);
    this.#note(`addUsedInOrder(${count}, ${len})`);
    this.#allow("inOrder");
    this.#dev.addUsedInOrder(count, len);
    if (!this.#dev.broken) {
      this.#held.splice(0, count);
      if (this.#o.layout === "split") {
        this.#nextUsed = (this.#nextUsed + count) & 0xffff;
        this.#checkPublishedSplit();
      } else {
        const firstSlot = this.#usedSlot;
        const firstWrap = this.#usedWrap;
        this.#advanceUsed(batch.reduce((s, h) => s + h.slots, 0));
        this.#checkPublishedPacked(firstSlot, firstWrap);
      }
    }
    this.#afterDeviceCall();
  }

  /** The model after used entries were published. */
  #published(done: readonly Held[]): void {
    if (done.length === 0) return;
    if (this.#o.layout === "split") {
      this.#nextUsed = (this.#nextUsed + done.length) & 0xffff;
      this.#checkPublishedSplit();
      return;
    }
    const firstSlot = this.#usedSlot;
    const firstWrap = this.#usedWrap;
    for (const h of done) this.#advanceUsed(h.slots);
    this.#checkPublishedPacked(firstSlot, firstWrap);
  }

  #advanceUsed(slots: number): void {
    let next = this.#usedSlot + slots;
    if (next >= this.#size) {
      next -= this.#size;
      this.#usedWrap ^= 1;
    }
    this.#usedSlot = next;
  }

  /** The used index the device published is what guest memory holds. */
  #checkPublishedSplit(): void {
    const gpa = (this.#dev as SplitDevice).ringGpas().usedRing;
    const idx = this.#mem.getU16(gpa + 2);
    if (idx >= 0 && idx !== this.#nextUsed) {
      this.#problem(`used.idx in memory is ${idx}, the device published ${this.#nextUsed}`);
    }
  }

  /** The first used descriptor of a publication is visible as used in guest memory. */
  #checkPublishedPacked(slot: number, wrap: number): void {
    const gpa = (this.#dev as PackedDevice).ringGpas().descRing;
    const flags = this.#mem.getU16(gpa + slot * VIRTQ_DESC_SIZE + PACKED_DESC_FLAGS);
    if (flags >= 0 && !isDescUsed(flags, wrap)) {
      this.#problem(`used descriptor at ${slot} has flags 0x${flags.toString(16)} (wrap ${wrap})`);
    }
  }

  #count(): void {
    const dev = this.#dev;
    if (dev instanceof SplitDevice) {
      const n = dev.availCount();
      this.#note(`availCount → ${n}`);
      if (this.#broken && n !== -1) this.#problem(`availCount ${n} on a broken device`);
      if (n < -1 || n > this.#size) this.#problem(`availCount ${n} in a queue of ${this.#size}`);
      if (n === -1 && !this.#broken) {
        if (!dev.broken) this.#problem("availCount -1 without a fault");
        else {
          const f = dev.fault as QueueFault;
          this.#faults.set(f.kind, (this.#faults.get(f.kind) ?? 0) + 1);
          this.#broken = true;
          this.#compareMemory("at the fault");
        }
      }
    } else {
      const v = dev.hasAvail();
      this.#note(`hasAvail → ${v}`);
      if (this.#broken && v) this.#problem("a broken device has buffers available");
    }
    this.#afterDeviceCall();
  }

  /** Device reset; the driver usually starts its ring over too (§2.1, §3.1.1). */
  /** The Linux probe sequence up to DRIVER_OK (§3.1.1); false when the device refuses. */
  #bringUp(status: DeviceStatus): boolean {
    const s1 = VIRTIO_CONFIG_S_ACKNOWLEDGE;
    const s2 = s1 | VIRTIO_CONFIG_S_DRIVER;
    const s3 = s2 | VIRTIO_CONFIG_S_FEATURES_OK;
    status.write(0);
    status.write(s1);
    status.write(s2);
    status.setDriverFeatures(this.#features | featureMask(VIRTIO_F_VERSION_1));
    status.write(s3);
    status.write(s3 | VIRTIO_CONFIG_S_DRIVER_OK);
    return status.live;
  }

  #reset(): void {
    this.#note(this.#status ? "status reset and probe" : "reset");
    this.#compareMemory("before reset");
    if (this.#status) {
      // Writing 0 resets every queue attached to the device.
      if (!this.#bringUp(this.#status)) this.#problem("the device refuses the probe after a reset");
    } else this.#dev.reset();
    this.#adoptState();
    if (this.#dev.broken) this.#problem("reset left the device broken");
    if (this.#o.layout === "split" && this.#rng.chance(0.85)) {
      this.#drvAvail = 0;
      this.#guestU16((this.#addrs.availRing as number) + 2, 0);
    }
  }

  #saveRestore(): void {
    if (this.#pending.length > 0) return;
    const st = this.#dev.toState();
    const opts = this.#translator
      ? { features: this.#features, translator: this.#translator }
      : { features: this.#features };
    const made = st.layout === "split"
      ? SplitDevice.fromState(this.#mem, st, opts)
      : PackedDevice.fromState(this.#mem, st, opts);
    this.#note(`save/restore → ${made.ok ? "ok" : made.error.kind}`);
    if (!made.ok) {
      // Only the memory under the rings may have gone (hot-unplug).
      if (made.error.kind !== "ring-unmapped" || !this.#unplugged) {
        this.#problem(`a saved state does not restore: ${describeQueueFault(made.error)}`);
      }
      return;
    }
    const again = made.value.toState();
    if (JSON.stringify(again) !== JSON.stringify(st)) {
      this.#problem(`restore changed the state: ${JSON.stringify(st)} → ${JSON.stringify(again)}`);
    }
    this.#compareMemory("before restore");
    this.#dev = made.value;
    this.#broken = false;
    this.#status?.attachQueue(this.#dev, "needs-reset");
  }

  // --- invariants ---------------------------------------------------------------------------------

  #describe(f: QueueFault): void {
    const text = describeQueueFault(f);
    if (typeof text !== "string" || text === "" || text.includes("undefined")) {
      this.#problem(`fault ${f.kind} describes itself as ${JSON.stringify(text)}`);
    }
  }

  /**
   * Allows exactly the ring bytes the device may write in the call about to be made (none
   * once it is broken): split — used.flags, used.idx, avail_event and the used elements the
   * call publishes or fills; packed — the Device Event Suppression area and the len, id and
   * flags of the first slot of each buffer it marks used.
   */
  #allow(call: "pop" | "notify" | "addUsed" | "fill" | "flush" | "inOrder"): void {
    if (this.#broken) return;
    const dev = this.#dev;
    const size = this.#size;
    const range = (lo: number, len: number) => this.#allowed.push([lo, lo + len]);
    if (dev instanceof SplitDevice) {
      const u = dev.ringGpas().usedRing;
      const entry = (i: number) => range(u + usedEntryOffset(i & (size - 1)), 8);
      const availEvent = () => range(u + availEventOffset(size), 2);
      const pending = this.#pending.length;
      if (call === "pop") availEvent();
      else if (call === "notify") {
        range(u, 2);
        availEvent();
      } else if (call === "fill") entry(this.#nextUsed + pending);
      else if (call === "flush") range(u + 2, 2);
      else {
        entry(this.#nextUsed + pending);
        range(u + 2, 2);
      }
      return;
    }
    const g = dev.ringGpas();
    const first = (slot: number) => range(g.descRing + (slot % size) * VIRTQ_DESC_SIZE + 8, 8);
    if (call === "notify") range(g.deviceEvent, 4);
    else if (call === "addUsed" || call === "inOrder") first(this.#usedSlot);
    else if (call === "flush") {
      let slot = this.#usedSlot;
      for (const h of this.#pending) {
        first(slot);
        slot += h.slots;
      }
    }
  }

  #afterDeviceCall(): void {
    if (this.#dev.broken && !this.#broken) {
      // A fault found outside pop (a remap after hot-unplug, an avail index jump).
      const f = this.#dev.fault as QueueFault;
      this.#note(`fault ${f.kind}`);
      this.#faults.set(f.kind, (this.#faults.get(f.kind) ?? 0) + 1);
      this.#broken = true;
      this.#compareMemory("at the fault");
    }
  }

  /** The saved state validates and matches the model. */
  #checkState(): void {
    const dev = this.#dev;
    const status = this.#status;
    if (status && dev.broken) {
      // QEMU virtio_error: a queue fault sets NEEDS_RESET and stops the device.
      if ((status.value & VIRTIO_CONFIG_S_NEEDS_RESET) === 0) {
        this.#problem(`a fault (${dev.fault?.kind}) did not set NEEDS_RESET`);
      }
      if (status.live) this.#problem("a device with a faulted queue is still live");
    }
    const st = dev.toState();
    const bad = checkQueueState(st);
    if (bad) this.#problem(`saved state is invalid: ${describeQueueFault(bad)}`);
    if (dev.broken !== this.#broken) {
      this.#problem(`broken is ${dev.broken}, expected ${this.#broken}`);
    }
    if (dev.broken && dev.fault === undefined) this.#problem("broken without a fault");
    const ids = this.#held.map((h) => h.id);
    const got = st.layout === "split" ? [...st.inFlight] : st.inFlight.map((e) => e.id);
    const same = this.#inOrder || st.layout === "packed"
      ? JSON.stringify(got) === JSON.stringify(ids)
      : JSON.stringify([...got].sort((a, b) => a - b)) ===
        JSON.stringify([...ids].sort((a, b) => a - b));
    if (!same) this.#problem(`in flight ${JSON.stringify(got)}, expected ${JSON.stringify(ids)}`);
    if (dev.inFlight !== this.#held.length) {
      this.#problem(`inFlight ${dev.inFlight}, expected ${this.#held.length}`);
    }
    if (st.layout === "split") {
      if (st.nextAvail !== this.#nextAvail) {
        this.#problem(`nextAvail ${st.nextAvail}, expected ${this.#nextAvail}`);
      }
      if (st.nextUsed !== this.#nextUsed) {
        this.#problem(`nextUsed ${st.nextUsed}, expected ${this.#nextUsed}`);
      }
    } else {
      if (st.nextUsed !== this.#usedSlot || st.usedWrap !== this.#usedWrap) {
        this.#problem(
          `used position ${st.nextUsed}/${st.usedWrap}, expected ${this.#usedSlot}/${this.#usedWrap}`,
        );
      }
      for (const e of st.inFlight) {
        const h = this.#held.find((x) => x.id === e.id);
        if (h && h.slots !== e.descriptors) {
          this.#problem(`buffer ${e.id} holds ${e.descriptors} slots, popped with ${h.slots}`);
        }
      }
    }
  }

  #takeShadow(): void {
    this.#shadow.clear();
    for (const region of this.#mem.regions()) {
      const copy = new Uint8Array(region.size);
      this.#mem.read(region.gpa, copy);
      this.#shadow.set(region.name, copy);
    }
    this.#allowed = [];
  }

  /** Memory differs from the shadow only where the device was allowed to write. */
  #compareMemory(when: string): void {
    const allowed = this.#allowed;
    for (const region of this.#mem.regions()) {
      const shadow = this.#shadow.get(region.name);
      if (!shadow) continue;
      let now = this.#scratch.get(region.name);
      if (!now) {
        now = new Uint8Array(region.size);
        this.#scratch.set(region.name, now);
      }
      this.#mem.read(region.gpa, now);
      // Word compare first (regions are multiples of 4 KiB), bytes only where a word differs.
      const a = new Uint32Array(now.buffer, 0, now.length >> 2);
      const b = new Uint32Array(shadow.buffer, 0, shadow.length >> 2);
      let reported = false;
      for (let w = 0; w < a.length && !reported; w++) {
        if (a[w] === b[w]) continue;
        for (let i = w * 4; i < w * 4 + 4; i++) {
          if (now[i] === shadow[i]) continue;
          const gpa = region.gpa + i;
          if (!allowed.some(([lo, hi]) => gpa >= lo && gpa < hi)) {
            this.#problem(
              `${when}: the device wrote 0x${gpa.toString(16)} (${region.name}), outside what ` +
                `its calls may write and the writable buffers it holds`,
            );
            reported = true;
            break;
          }
        }
      }
      // The compared bytes become the new shadow; the old shadow is the next scratch buffer.
      this.#shadow.set(region.name, now);
      this.#scratch.set(region.name, shadow);
    }
    this.#allowed = [];
  }
}

/** A descriptor as a hostile driver writes it: `addr` may exceed 2^53 (a bigint). */
interface RawDesc {
  readonly addr: number | bigint;
  readonly len: number;
  readonly flags: number;
  /** Split: next index. Packed: buffer id. */
  readonly next: number;
}

/** The 16 bytes of a descriptor (virtio 1.2 §2.7.5 split, §2.8.13 packed), little-endian. */
function encodeDesc(d: RawDesc, layout: "split" | "packed"): Uint8Array {
  const bytes = new Uint8Array(VIRTQ_DESC_SIZE);
  const v = new DataView(bytes.buffer);
  v.setBigUint64(0, BigInt.asUintN(64, BigInt(d.addr)), true);
  v.setUint32(8, d.len >>> 0, true);
  if (layout === "split") {
    v.setUint16(12, d.flags & 0xffff, true);
    v.setUint16(14, d.next & 0xffff, true);
  } else {
    v.setUint16(12, d.next & 0xffff, true);
    v.setUint16(14, d.flags & 0xffff, true);
  }
  return bytes;
}

function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/** Every subset of {EVENT_IDX, INDIRECT_DESC, IN_ORDER}, as feature masks with names. */
export function featureSets(): { readonly name: string; readonly features: bigint }[] {
  const bits: [string, bigint][] = [
    ["EVENT_IDX", featureMask(VIRTIO_F_EVENT_IDX)],
    ["INDIRECT_DESC", featureMask(VIRTIO_F_INDIRECT_DESC)],
    ["IN_ORDER", featureMask(VIRTIO_F_IN_ORDER)],
  ];
  const out: { name: string; features: bigint }[] = [];
  for (let m = 0; m < 8; m++) {
    const on = bits.filter((_, i) => (m & (1 << i)) !== 0);
    out.push({
      name: on.length === 0 ? "none" : on.map(([n]) => n).join("+"),
      features: on.reduce((f, [, b]) => f | b, 0n),
    });
  }
  return out;
}
