// Property-based tests: random sequences of add / kick / pop / push / interrupt / reclaim and
// notification toggles, with random chain shapes and queue sizes, for split and packed rings,
// EVENT_IDX, INDIRECT_DESC and IN_ORDER on and off, across 16-bit index wrap (split) and ring
// wrap (packed).
//
// The reference model below is written from the spec text and from what the Linux driver and
// QEMU device write into the suppression fields; it shares no code with the implementation.
// Its decision rules are brute force: "was the event position among the positions published
// (or used) since the last decision?", answered by enumerating those positions.
import assert from "node:assert/strict";
import fc from "fast-check";
import { GuestMemory } from "../memory/guest_memory.ts";
import {
  featureMask,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
} from "./features.ts";
import { PackedDevice } from "./packed_device.ts";
import { PackedDriver } from "./packed_driver.ts";
import { POP_EMPTY, SplitDevice } from "./split_device.ts";
import { type Segment, SplitDriver, USED_NONE } from "./split_driver.ts";

const POOL_ENTRIES = 6;
const DATA = 0x20_0000;

type Op =
  | { op: "add"; segs: number; writable: number; lens: number[]; indirect: boolean | undefined }
  | { op: "kick" }
  | { op: "pop" }
  | { op: "push"; pick: number; batch: number; lenFrac: number }
  | { op: "irq" }
  | { op: "reclaim"; count: number }
  | { op: "disableCb" }
  | { op: "enableCb" }
  | { op: "enableCbDelayed" }
  | { op: "disableNotify" }
  | { op: "enableNotify" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant("add" as const),
      segs: fc.integer({ min: 1, max: 4 }),
      writable: fc.integer({ min: 0, max: 4 }),
      lens: fc.array(fc.integer({ min: 1, max: 1600 }), { minLength: 4, maxLength: 4 }),
      indirect: fc.option(fc.boolean(), { nil: undefined }),
    }),
  },
  { weight: 4, arbitrary: fc.constant({ op: "kick" as const }) },
  { weight: 5, arbitrary: fc.constant({ op: "pop" as const }) },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant("push" as const),
      pick: fc.nat(),
      batch: fc.integer({ min: 1, max: 4 }),
      lenFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ op: "irq" as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("reclaim" as const),
      count: fc.integer({ min: 1, max: 5 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: "disableCb" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "enableCb" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "enableCbDelayed" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "disableNotify" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "enableNotify" as const }) },
);

interface Config {
  packed: boolean;
  size: number;
  eventIdx: boolean;
  indirect: boolean;
  inOrder: boolean;
  warm: number;
}

/** Is `event` one of `count` consecutive u16 positions ending just before `end`? (brute force) */
function passed16(event: number, end: number, count: number): boolean {
  for (let k = 1; k <= count; k++) if (((end - k) & 0xffff) === event) return true;
  return false;
}

/** Is (off, wrap) one of the `count` ring positions ending just before (pos, wrap)? */
function passedRing(
  off: number,
  offWrap: number,
  pos: number,
  wrap: number,
  count: number,
  size: number,
): boolean {
  let p = pos;
  let w = wrap;
  for (let k = 0; k < count; k++) {
    if (p === 0) {
      p = size - 1;
      w ^= 1;
    } else p--;
    if (p === off && w === offWrap) return true;
  }
  return false;
}

interface Buffer {
  token: number;
  segs: Segment[];
  inBytes: number;
  slots: number;
}

/** One queue pair (driver + device) and the reference model next to it. */
class Harness {
  readonly cfg: Config;
  readonly mem = new GuestMemory();
  readonly drv: SplitDriver | PackedDriver;
  readonly dev: SplitDevice | PackedDevice;

  // Reference model — driver side.
  avail = 0; // split: published count (u16); packed: published slots
  numAdded = 0; // since the last kick decision, in entries (split) or slots (packed)
  lastUsed = 0; // split: u16 used index read; packed: slots reclaimed
  cbOn = true; // the driver's shadow: callbacks wanted
  triggered = false; // Linux event_triggered
  freeSlots: number;
  // What the driver wrote for the device to read.
  memUsedEvent = 0; // split used_event
  memAvailFlags = 0; // split avail.flags
  memDrvFlags = 0; // packed driver event flags (ENABLE)
  memDrvOff = 0; // packed driver event off
  memDrvWrap = 0; // packed driver event wrap
  // Model — device side.
  popped = 0; // split: u16 last_avail; packed: slots popped
  usedIdx = 0; // split: u16; packed: slots marked used
  notifyOn = true;
  memNoNotify = false; // split used.flags
  memAvailEvent = 0; // split avail_event
  memDevFlags = 0; // packed device event flags
  memDevOff = 0;
  memDevWrap = 0;
  signalled = 0; // split: used idx at last decision; packed: slots used at last decision
  signalledValid = false;
  // Buffers.
  nextToken = 0;
  published: Buffer[] = [];
  inFlight: Buffer[] = [];
  completed: { buf: Buffer; len: number }[] = [];
  reclaimed = new Set<number>();
  outstanding = 0;
  // Predictions.
  kicks = 0;
  irqs = 0;

  constructor(cfg: Config) {
    this.cfg = cfg;
    this.freeSlots = cfg.size;
    this.mem.addRegion({ name: "ram", gpa: 0, size: 64 << 20 });
    const f = (cfg.eventIdx ? featureMask(VIRTIO_F_EVENT_IDX) : 0n) |
      (cfg.indirect ? featureMask(VIRTIO_F_INDIRECT_DESC) : 0n) |
      (cfg.inOrder ? featureMask(VIRTIO_F_IN_ORDER) : 0n);
    const pool = { gpa: 0x10_0000, entries: POOL_ENTRIES };
    if (cfg.packed) {
      const rings = {
        size: cfg.size,
        descRing: 0x1000,
        driverEvent: 0x9_0000,
        deviceEvent: 0x9_0010,
      };
      const d = PackedDriver.create(this.mem, { ...rings, features: f, indirectPool: pool });
      const v = PackedDevice.create(this.mem, {
        ...rings,
        features: f | featureMask(VIRTIO_F_RING_PACKED),
      });
      assert.ok(d.ok && v.ok);
      this.drv = d.value;
      this.dev = v.value;
    } else {
      const rings = { size: cfg.size, descTable: 0x1000, availRing: 0x9_0000, usedRing: 0xa_0000 };
      const d = SplitDriver.create(this.mem, { ...rings, features: f, indirectPool: pool });
      const v = SplitDevice.create(this.mem, { ...rings, features: f });
      assert.ok(d.ok && v.ok);
      this.drv = d.value;
      this.dev = v.value;
    }
  }

  get size(): number {
    return this.cfg.size;
  }

  /** Runs `n` plain round trips and sets the model to the state they leave (split only). */
  warmUp(n: number): void {
    const drv = this.drv;
    const dev = this.dev;
    if (this.cfg.packed || n === 0) return;
    for (let i = 0; i < n; i++) {
      drv.addOutbuf(DATA, 1, -1);
      drv.kickPrepare();
      dev.addUsed(dev.pop(), 0);
      dev.needsInterrupt();
      drv.getUsed();
    }
    const w = n & 0xffff;
    this.avail =
      this.lastUsed =
      this.popped =
      this.usedIdx =
      this.signalled =
        w;
    this.signalledValid = true;
    this.memUsedEvent = w; // Linux writes used_event = last_used after each get_buf
    this.memAvailEvent = this.cfg.eventIdx ? w : 0; // QEMU writes avail_event on each pop
    // Each warm-up round trip publishes the very entry avail_event names (or no NO_NOTIFY is
    // set), and completes the very entry used_event names: every one kicks and interrupts.
    this.kicks = n;
    this.irqs = n;
  }

  // ----- model helpers -----

  #usesIndirect(n: number, forced: boolean | undefined): boolean {
    if (!this.cfg.indirect || n > POOL_ENTRIES || n > this.size) return false;
    return forced ?? (n > 1 && this.freeSlots > 0);
  }

  #pos(slots: number): { pos: number; wrap: number } {
    const lap = Math.floor(slots / this.size);
    return { pos: slots % this.size, wrap: (1 + lap) & 1 };
  }

  // ----- operations: each drives the implementation and checks it against the model -----

  add(o: Extract<Op, { op: "add" }>): void {
    let forced = o.indirect;
    let n = o.segs;
    // Never ask for the impossible (a caller bug the driver throws on): a chain longer than the
    // ring needs an indirect table.
    if (n > this.size) n = this.size;
    const writable = Math.min(o.writable, n);
    const token = this.nextToken++;
    const segs: Segment[] = [];
    for (let k = 0; k < n; k++) {
      segs.push({
        addr: DATA + token * 0x4000 + k * 0x800,
        len: o.lens[k] as number,
        write: k >= n - writable,
      });
    }
    if (forced === true && !(this.cfg.indirect && n <= POOL_ENTRIES && n <= this.size)) {
      forced = undefined;
    }
    const indirect = this.#usesIndirect(n, forced);
    const slots = indirect ? 1 : n;
    const fits = this.freeSlots >= slots && slots <= this.size;
    const r = this.drv.add(segs, token, forced);
    if (!fits) {
      assert.equal(r, -1, "a full ring refuses the buffer");
      this.nextToken--;
      return;
    }
    assert.ok(r >= 0, `add should fit: free ${this.freeSlots}, needs ${slots}`);
    this.freeSlots -= slots;
    this.outstanding++;
    const inBytes = segs.filter((s) => s.write).reduce((a, s) => a + s.len, 0);
    this.published.push({ token, segs, inBytes, slots });
    if (this.cfg.packed) {
      this.avail += slots;
      this.numAdded += slots;
    } else {
      this.avail = (this.avail + 1) & 0xffff;
      this.numAdded++;
    }
  }

  kick(): void {
    let expect: boolean;
    if (this.cfg.packed) {
      // §2.8.10: DISABLE → no, ENABLE → yes, DESC → was (off, wrap) just made available?
      const { pos, wrap } = this.#pos(this.avail);
      if (this.memDevFlags === 1) expect = false;
      else if (this.memDevFlags === 0) expect = true;
      else {
        expect = this.numAdded >= this.size ||
          passedRing(this.memDevOff, this.memDevWrap, pos, wrap, this.numAdded, this.size);
      }
    } else if (this.cfg.eventIdx) {
      // §2.7.10: notify when the entry at avail_event was just published.
      expect = passed16(this.memAvailEvent, this.avail, this.numAdded);
    } else expect = !this.memNoNotify;
    this.numAdded = 0;
    const got = this.drv.kickPrepare();
    assert.equal(got, expect, "kick decision");
    if (got) {
      this.kicks++;
      this.dev.notified();
    }
  }

  pop(): void {
    const got = this.dev.pop();
    const next = this.published.shift();
    if (next === undefined) {
      assert.equal(got, POP_EMPTY, "nothing was published");
      return;
    }
    assert.ok(got >= 0, `pop failed: ${JSON.stringify(this.dev.fault)}`);
    const chain = this.dev.chain;
    assert.deepEqual(chain.segments(), next.segs, "the device sees the buffer the driver added");
    (next as Buffer & { head?: number }).head = got;
    this.inFlight.push(next);
    if (this.cfg.packed) {
      this.popped += next.slots;
    } else {
      this.popped = (this.popped + 1) & 0xffff;
      // QEMU virtqueue_split_pop: avail_event follows last_avail_idx while notifications are on.
      if (this.cfg.eventIdx && this.notifyOn) this.memAvailEvent = this.popped;
    }
  }

  push(o: Extract<Op, { op: "push" }>): void {
    if (this.inFlight.length === 0) return;
    const head = (b: Buffer) => (b as Buffer & { head: number }).head;
    if (this.cfg.inOrder) {
      const count = Math.min(o.batch, this.inFlight.length);
      const batch = this.inFlight.splice(0, count);
      const last = batch[count - 1] as Buffer;
      const len = Math.floor(o.lenFrac * last.inBytes);
      if (count === 1) this.dev.addUsed(head(last), len);
      else this.dev.addUsedInOrder(count, len);
      // §2.7.9 / §2.8.20: buffers skipped by the batch count as fully used.
      batch.forEach((b, i) =>
        this.completed.push({ buf: b, len: i === count - 1 ? len : b.inBytes })
      );
      for (const b of batch) this.#used(b);
      return;
    }
    const count = Math.min(o.batch, this.inFlight.length);
    for (let i = 0; i < count; i++) {
      const b = this.inFlight.splice((o.pick + i) % this.inFlight.length, 1)[0] as Buffer;
      const len = Math.floor(o.lenFrac * b.inBytes);
      this.dev.fillUsed(head(b), len);
      this.completed.push({ buf: b, len });
      this.#used(b);
    }
    this.dev.flushUsed();
  }

  #used(b: Buffer): void {
    if (this.cfg.packed) this.usedIdx += b.slots;
    else this.usedIdx = (this.usedIdx + 1) & 0xffff;
  }

  irq(): void {
    let expect: boolean;
    if (this.cfg.packed) {
      const since = this.usedIdx - this.signalled;
      const { pos, wrap } = this.#pos(this.usedIdx);
      if (this.memDrvFlags === 1) expect = false;
      else if (this.memDrvFlags === 0) expect = true;
      else {
        expect = !this.signalledValid || since >= this.size ||
          passedRing(this.memDrvOff, this.memDrvWrap, pos, wrap, since, this.size);
      }
      this.signalled = this.usedIdx;
      this.signalledValid = true;
    } else if (this.cfg.eventIdx) {
      // §2.7.7: notify when the entry at used_event was just published (first time: always).
      const since = (this.usedIdx - this.signalled) & 0xffff;
      expect = !this.signalledValid || passed16(this.memUsedEvent, this.usedIdx, since);
      this.signalled = this.usedIdx;
      this.signalledValid = true;
    } else expect = this.memAvailFlags === 0;
    const got = this.dev.needsInterrupt();
    assert.equal(got, expect, "interrupt decision");
    if (got) {
      this.irqs++;
      const more = this.completed.length > 0;
      const seen = this.drv.interrupt();
      assert.equal(seen, more, "the interrupt finds used buffers iff some are unread");
      if (more && this.cfg.eventIdx) this.triggered = true;
    }
  }

  reclaim(count: number): void {
    for (let i = 0; i < count; i++) {
      const got = this.drv.getUsed();
      const next = this.completed.shift();
      if (next === undefined) {
        assert.equal(got, USED_NONE);
        return;
      }
      assert.equal(got, next.buf.token, "buffers come back in used order");
      const len = this.drv.lastLen;
      assert.equal(len, next.len, "with the length the device reported");
      assert.ok(!this.reclaimed.has(got), "exactly once");
      this.reclaimed.add(got);
      this.freeSlots += next.buf.slots;
      this.outstanding--;
      if (this.cfg.packed) {
        this.lastUsed += next.buf.slots;
        // Linux get_buf_packed: with a DESC event, keep off_wrap at the next used slot.
        if (this.#drvShadow() === 2) this.#writeDrvOff(this.lastUsed);
      } else {
        this.lastUsed = (this.lastUsed + 1) & 0xffff;
        if (this.cbOn) this.memUsedEvent = this.lastUsed;
      }
    }
  }

  // Packed driver shadow flags: ENABLE (0) / DISABLE (1) / DESC (2).
  #drvFlagsShadow = 0;
  #drvShadow(): number {
    return this.#drvFlagsShadow;
  }
  #writeDrvOff(slots: number): void {
    const { pos, wrap } = this.#pos(slots);
    this.memDrvOff = pos;
    this.memDrvWrap = wrap;
  }

  disableCb(): void {
    if (this.cfg.packed) {
      this.drv.disableCallbacks();
      if (this.#drvFlagsShadow !== 1) {
        this.#drvFlagsShadow = 1;
        if (!this.triggered) this.memDrvFlags = 1;
      }
      return;
    }
    this.drv.disableCallbacks();
    if (this.cbOn) {
      this.cbOn = false;
      if (!this.triggered) {
        if (this.cfg.eventIdx) this.memUsedEvent = 0; // Linux: "a hack"
        else this.memAvailFlags = 1;
      }
    }
  }

  #enableCommon(): void {
    this.triggered = false;
    if (this.cfg.packed) {
      if (this.#drvFlagsShadow === 1) {
        this.#drvFlagsShadow = this.cfg.eventIdx ? 2 : 0;
        this.memDrvFlags = this.#drvFlagsShadow;
      }
    } else if (!this.cbOn) {
      this.cbOn = true;
      if (!this.cfg.eventIdx) this.memAvailFlags = 0;
    }
  }

  enableCb(): void {
    if (this.cfg.packed) {
      this.triggered = false;
      if (this.cfg.eventIdx) this.#writeDrvOff(this.lastUsed);
      if (this.#drvFlagsShadow === 1) {
        this.#drvFlagsShadow = this.cfg.eventIdx ? 2 : 0;
        this.memDrvFlags = this.#drvFlagsShadow;
      }
      assert.equal(
        this.drv.enableCallbacks(),
        this.completed.length === 0,
        "re-check after enabling",
      );
      return;
    }
    this.#enableCommon();
    this.memUsedEvent = this.lastUsed;
    assert.equal(
      this.drv.enableCallbacks(),
      this.completed.length === 0,
      "re-check after enabling",
    );
  }

  enableCbDelayed(): void {
    if (this.cfg.packed) {
      this.triggered = false;
      if (this.cfg.eventIdx) {
        const bufs = Math.floor(((this.size - this.freeSlots) * 3) / 4);
        this.#writeDrvOff(this.lastUsed + bufs);
      }
      if (this.#drvFlagsShadow === 1) {
        this.#drvFlagsShadow = this.cfg.eventIdx ? 2 : 0;
        this.memDrvFlags = this.#drvFlagsShadow;
      }
      assert.equal(this.drv.enableCallbacksDelayed(), this.completed.length === 0);
      return;
    }
    this.#enableCommon();
    const bufs = Math.floor((((this.avail - this.lastUsed) & 0xffff) * 3) / 4);
    this.memUsedEvent = (this.lastUsed + bufs) & 0xffff;
    const pending = (this.usedIdx - this.lastUsed) & 0xffff;
    assert.equal(this.drv.enableCallbacksDelayed(), pending <= bufs);
  }

  disableNotify(): void {
    this.notifyOn = false;
    if (this.cfg.packed) {
      this.dev.disableNotifications();
      this.memDevFlags = 1;
    } else {
      this.dev.disableNotifications();
      if (!this.cfg.eventIdx) this.memNoNotify = true;
    }
  }

  enableNotify(): void {
    this.notifyOn = true;
    const waiting = this.published.length > 0;
    if (this.cfg.packed) {
      if (this.cfg.eventIdx) {
        const { pos, wrap } = this.#pos(this.popped);
        this.memDevOff = pos;
        this.memDevWrap = wrap;
        this.memDevFlags = 2;
      } else this.memDevFlags = 0;
      assert.equal(this.dev.enableNotifications(), waiting);
    } else {
      if (this.cfg.eventIdx) this.memAvailEvent = this.avail; // QEMU: avail_event = avail.idx
      else this.memNoNotify = false;
      assert.equal(this.dev.enableNotifications(), waiting);
    }
  }

  /** Cross-checks the suppression fields the model predicts against the bytes in memory. */
  checkFields(): void {
    const m = this.mem;
    if (this.cfg.packed) {
      assert.equal(m.getU16(0x9_0002), this.memDrvFlags, "driver event flags");
      assert.equal(m.getU16(0x9_0000), this.memDrvOff | (this.memDrvWrap << 15), "driver off_wrap");
      assert.equal(m.getU16(0x9_0012), this.memDevFlags, "device event flags");
      assert.equal(m.getU16(0x9_0010), this.memDevOff | (this.memDevWrap << 15), "device off_wrap");
    } else {
      const n = this.size;
      assert.equal(m.getU16(0x9_0002), this.avail, "avail.idx");
      assert.equal(m.getU16(0xa_0002), this.usedIdx, "used.idx");
      assert.equal(m.getU16(0x9_0000), this.memAvailFlags, "avail.flags");
      assert.equal(m.getU16(0xa_0000), this.memNoNotify ? 1 : 0, "used.flags");
      assert.equal(m.getU16(0x9_0004 + 2 * n), this.memUsedEvent, "used_event");
      assert.equal(m.getU16(0xa_0004 + 8 * n), this.memAvailEvent, "avail_event");
    }
  }

  run(o: Op): void {
    switch (o.op) {
      case "add":
        return this.add(o);
      case "kick":
        return this.kick();
      case "pop":
        return this.pop();
      case "push":
        return this.push(o);
      case "irq":
        return this.irq();
      case "reclaim":
        return this.reclaim(o.count);
      case "disableCb":
        return this.disableCb();
      case "enableCb":
        return this.enableCb();
      case "enableCbDelayed":
        return this.enableCbDelayed();
      case "disableNotify":
        return this.disableNotify();
      case "enableNotify":
        return this.enableNotify();
    }
  }

  /** Pops, completes and reclaims everything left; every buffer must come back once. */
  drain(): void {
    for (let guard = 0; guard < 10 * this.size + 10; guard++) {
      if (this.published.length) this.pop();
      else if (this.inFlight.length) this.push({ op: "push", pick: 0, batch: 1, lenFrac: 1 });
      else if (this.completed.length) this.reclaim(1);
      else break;
      this.checkFields();
    }
    assert.equal(this.outstanding, 0);
    assert.equal(this.reclaimed.size, this.nextToken, "every buffer came back exactly once");
    const { drv, dev } = this;
    assert.equal(drv.counters.kicks, this.kicks, "kick count matches the suppression rules");
    assert.equal(
      dev.counters.interrupts,
      this.irqs,
      "interrupt count matches the suppression rules",
    );
    assert.equal(drv.numFree, this.size);
    assert.equal(dev.broken || drv.broken, false);
  }
}

function configArb(packed: boolean): fc.Arbitrary<Config> {
  return fc.record({
    packed: fc.constant(packed),
    size: packed
      ? fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(31, 64, 256))
      : fc.constantFrom(1, 2, 4, 8, 16, 64, 256),
    eventIdx: fc.boolean(),
    indirect: fc.boolean(),
    inOrder: fc.boolean(),
    // Split: start just before the 16-bit wrap in a third of the runs.
    warm: packed ? fc.constant(0) : fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, {
      weight: 1,
      arbitrary: fc.integer({ min: 65536 - 300, max: 65536 }),
    }),
  });
}

function property(packed: boolean) {
  return fc.property(
    configArb(packed),
    fc.array(opArb, { minLength: 1, maxLength: 160 }),
    (cfg, ops) => {
      const h = new Harness(cfg);
      h.warmUp(cfg.warm);
      h.checkFields();
      for (const o of ops) {
        h.run(o);
        h.checkFields();
      }
      h.drain();
    },
  );
}

Deno.test("split rings: every buffer returns once with its length, and kicks/interrupts follow the rules", () => {
  fc.assert(property(false), { numRuns: 250 });
});

Deno.test("packed rings: every buffer returns once with its length, and kicks/interrupts follow the rules", () => {
  fc.assert(property(true), { numRuns: 250 });
});

Deno.test("IN_ORDER holds: buffers come back in the order they were made available", () => {
  for (const packed of [false, true]) {
    fc.assert(
      fc.property(
        configArb(packed).map((c) => ({ ...c, inOrder: true })),
        fc.array(opArb, { maxLength: 120 }),
        (cfg, ops) => {
          const h = new Harness(cfg);
          h.warmUp(cfg.warm);
          for (const o of ops) h.run(o);
          h.drain();
          const order = [...h.reclaimed];
          assert.deepEqual(
            order,
            [...order].sort((a, b) => a - b),
            "tokens are handed out in add order",
          );
        },
      ),
      { numRuns: 80 },
    );
  }
});
