/**
 * Virtqueue round-trip benchmark: driver add → device pop → payload copy → device push →
 * driver reclaim, for split and packed rings, 1- and 3-descriptor chains, 64 B and 1500 B
 * payloads, queue size 256. Each case is compared with a raw reference loop written here: a
 * minimal hand-inlined split-ring round trip over one Uint8Array/DataView doing the same work
 * (write descriptors and the avail entry, bump avail.idx, read them back, copy the payload
 * with `Uint8Array.set`, write the used element and idx, read them back).
 *
 * Measurement: both loops keep their state between runs; after a warm-up they run in many
 * short alternating pairs (raw, then simulator, ~2 ms each) and the figures are medians over
 * the pairs, so a burst of load from other processes hits both sides of a pair alike. Figures,
 * never pass/fail.
 *
 * @module
 */

import { GuestMemory } from "../runtime/memory/guest_memory.ts";
import { SplitDevice } from "../runtime/virtio/split_device.ts";
import { type Segment, SplitDriver } from "../runtime/virtio/split_driver.ts";
import { PackedDevice } from "../runtime/virtio/packed_device.ts";
import { PackedDriver } from "../runtime/virtio/packed_driver.ts";
import { featureMask, VIRTIO_F_RING_PACKED } from "../runtime/virtio/features.ts";

const QUEUE_SIZE = 256;
const DATA = 0x10_0000;

/** One benchmark case. */
export interface BenchCase {
  /** Printed name. */
  readonly name: string;
  /** Ring layout under test. */
  readonly layout: "split" | "packed";
  /** Descriptors per chain. */
  readonly descriptors: 1 | 3;
  /** Payload bytes per round trip. */
  readonly bytes: number;
}

/** The result of one case. */
export interface BenchResult {
  /** The case name. */
  readonly name: string;
  /** Round trips per second through the simulator's queues (median over the pairs). */
  readonly rate: number;
  /** Round trips per second of the raw reference loop (median over the pairs). */
  readonly rawRate: number;
  /** Median over the pairs of (simulator rate / raw rate). */
  readonly ratio: number;
}

/** The cases `deno task bench` runs. */
export const CASES: readonly BenchCase[] = [
  { name: "split 1-desc 64B", layout: "split", descriptors: 1, bytes: 64 },
  { name: "split 1-desc 1500B", layout: "split", descriptors: 1, bytes: 1500 },
  { name: "split 3-desc 64B", layout: "split", descriptors: 3, bytes: 64 },
  { name: "split 3-desc 1500B", layout: "split", descriptors: 3, bytes: 1500 },
  { name: "packed 1-desc 64B", layout: "packed", descriptors: 1, bytes: 64 },
  { name: "packed 1-desc 1500B", layout: "packed", descriptors: 1, bytes: 1500 },
  { name: "packed 3-desc 64B", layout: "packed", descriptors: 3, bytes: 64 },
  { name: "packed 3-desc 1500B", layout: "packed", descriptors: 3, bytes: 1500 },
];

/** Segment lengths: one buffer, or a 12-byte header and the rest in two halves. */
function segmentLengths(c: BenchCase): number[] {
  if (c.descriptors === 1) return [c.bytes];
  const rest = c.bytes - 12;
  return [12, Math.ceil(rest / 2), Math.floor(rest / 2)];
}

/** Runs `n` round trips, keeping its rings between calls. */
type Loop = (n: number) => void;

let sink = 0;

/** The raw reference: a hand-inlined split round trip over one buffer. */
export function rawLoop(lens: readonly number[]): Loop {
  const mask = QUEUE_SIZE - 1;
  const buf = new Uint8Array(4 << 20);
  const dv = new DataView(buf.buffer);
  const DESC = 0x1000;
  const AVAIL = 0x2000;
  const USED = 0x3000;
  const host = new Uint8Array(2048);
  const nseg = lens.length;
  let availIdx = 0;
  let lastAvail = 0;
  let usedIdx = 0;
  let lastUsed = 0;
  let nextDesc = 0;
  return (iterations) => {
    for (let it = 0; it < iterations; it++) {
      // Driver: descriptors, avail entry, idx.
      const head = nextDesc;
      let d = head;
      let addr = DATA;
      for (let k = 0; k < nseg; k++) {
        const at = DESC + d * 16;
        const len = lens[k] as number;
        const next = (d + 1) & mask;
        dv.setUint32(at, addr, true);
        dv.setUint32(at + 4, 0, true);
        dv.setUint32(at + 8, len, true);
        dv.setUint16(at + 12, k + 1 < nseg ? 1 : 0, true);
        dv.setUint16(at + 14, next, true);
        addr += len;
        d = next;
      }
      nextDesc = d;
      dv.setUint16(AVAIL + 4 + 2 * (availIdx & mask), head, true);
      availIdx = (availIdx + 1) & 0xffff;
      dv.setUint16(AVAIL + 2, availIdx, true);
      // Device: read idx, head, descriptors; copy the payload.
      if (dv.getUint16(AVAIL + 2, true) === lastAvail) throw new Error("raw loop lost a buffer");
      const h = dv.getUint16(AVAIL + 4 + 2 * (lastAvail & mask), true);
      lastAvail = (lastAvail + 1) & 0xffff;
      let i = h;
      let off = 0;
      for (;;) {
        const at = DESC + i * 16;
        const a = dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 4294967296;
        const l = dv.getUint32(at + 8, true);
        const f = dv.getUint16(at + 12, true);
        host.set(buf.subarray(a, a + l), off);
        off += l;
        if ((f & 1) === 0) break;
        i = dv.getUint16(at + 14, true);
      }
      // Device: used element and idx.
      const u = USED + 4 + 8 * (usedIdx & mask);
      dv.setUint32(u, h, true);
      dv.setUint32(u + 4, 0, true);
      usedIdx = (usedIdx + 1) & 0xffff;
      dv.setUint16(USED + 2, usedIdx, true);
      // Driver: reclaim.
      if (dv.getUint16(USED + 2, true) === lastUsed) throw new Error("raw loop lost a used entry");
      const e = USED + 4 + 8 * (lastUsed & mask);
      sink += dv.getUint32(e, true) + dv.getUint32(e + 4, true) + off;
      lastUsed = (lastUsed + 1) & 0xffff;
    }
  };
}

function segmentsFor(lens: readonly number[]): Segment[] {
  const segs: Segment[] = [];
  let addr = DATA;
  for (const len of lens) {
    segs.push({ addr, len, write: false });
    addr += len;
  }
  return segs;
}

function newMemory(): GuestMemory {
  const mem = new GuestMemory();
  mem.addRegion({ name: "pc.ram", gpa: 0, size: 64 << 20 });
  const payload = new Uint8Array(2048);
  for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;
  mem.write(DATA, payload);
  return mem;
}

/** The simulator's split round trip. */
export function splitLoop(lens: readonly number[]): Loop {
  const mem = newMemory();
  const rings = { size: QUEUE_SIZE, descTable: 0x1000, availRing: 0x2000, usedRing: 0x3000 };
  const drvR = SplitDriver.create(mem, rings);
  const devR = SplitDevice.create(mem, rings);
  if (!drvR.ok || !devR.ok) throw new Error("bench setup failed");
  const drv = drvR.value;
  const dev = devR.value;
  const segs = segmentsFor(lens);
  const one = segs.length === 1;
  const seg0 = segs[0] as Segment;
  const host = new Uint8Array(2048);
  const chain = dev.chain;
  let token = 0;
  return (iterations) => {
    for (let it = 0; it < iterations; it++) {
      const t = token++;
      if (one) drv.addOutbuf(seg0.addr, seg0.len, t);
      else drv.add(segs, t);
      const head = dev.pop();
      if (head < 0) throw new Error("split loop lost a buffer");
      const n = chain.copyOut(host);
      dev.addUsed(head, 0);
      if (drv.getUsed() !== t) throw new Error("split loop returned the wrong buffer");
      sink += n;
    }
  };
}

/** The simulator's packed round trip. */
export function packedLoop(lens: readonly number[]): Loop {
  const mem = newMemory();
  const rings = {
    size: QUEUE_SIZE,
    descRing: 0x1000,
    driverEvent: 0x2000,
    deviceEvent: 0x2010,
    features: featureMask(VIRTIO_F_RING_PACKED),
  };
  const drvR = PackedDriver.create(mem, rings);
  const devR = PackedDevice.create(mem, rings);
  if (!drvR.ok || !devR.ok) throw new Error("bench setup failed");
  const drv = drvR.value;
  const dev = devR.value;
  const segs = segmentsFor(lens);
  const one = segs.length === 1;
  const seg0 = segs[0] as Segment;
  const host = new Uint8Array(2048);
  const chain = dev.chain;
  let token = 0;
  return (iterations) => {
    for (let it = 0; it < iterations; it++) {
      const t = token++;
      if (one) drv.addOutbuf(seg0.addr, seg0.len, t);
      else drv.add(segs, t);
      const id = dev.pop();
      if (id < 0) throw new Error("packed loop lost a buffer");
      const n = chain.copyOut(host);
      dev.addUsed(id, 0);
      if (drv.getUsed() !== t) throw new Error("packed loop returned the wrong buffer");
      sink += n;
    }
  };
}

function timed(loop: Loop, n: number): number {
  const t0 = performance.now();
  loop(n);
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] as number : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Options of {@link runCase}. */
export interface RunOptions {
  /** Alternating (raw, simulator) pairs measured. Default 61. */
  readonly pairs?: number;
  /** Target duration of one raw run in ms. Default 2. */
  readonly chunkMs?: number;
  /** Warm-up time per loop in ms. Default 150. */
  readonly warmupMs?: number;
}

/** Runs one case; see the module documentation for the method. */
export function runCase(c: BenchCase, options: RunOptions = {}): BenchResult {
  const pairs = options.pairs ?? 61;
  const chunkMs = options.chunkMs ?? 2;
  const warmupMs = options.warmupMs ?? 150;
  const lens = segmentLengths(c);
  const raw = rawLoop(lens);
  const ours = c.layout === "split" ? splitLoop(lens) : packedLoop(lens);
  // Warm-up, then size the chunk so one raw run takes about chunkMs.
  let n = 1000;
  for (let spent = 0; spent < warmupMs;) {
    spent += timed(raw, n) + timed(ours, n);
    if (spent < warmupMs / 8) n *= 2;
  }
  const probe = timed(raw, n);
  const chunk = Math.max(1000, Math.round((n * chunkMs) / Math.max(probe, 0.01)));
  const rawMs: number[] = [];
  const ourMs: number[] = [];
  const ratios: number[] = [];
  for (let p = 0; p < pairs; p++) {
    const r = timed(raw, chunk);
    const o = timed(ours, chunk);
    rawMs.push(r);
    ourMs.push(o);
    ratios.push(r / Math.max(o, 1e-6));
  }
  return {
    name: c.name,
    rate: (chunk * 1000) / median(ourMs),
    rawRate: (chunk * 1000) / median(rawMs),
    ratio: median(ratios),
  };
}

function mega(n: number): string {
  return `${(n / 1e6).toFixed(2)}M`;
}

/** One line per case: name, rate, ratio. */
export function formatResult(r: BenchResult): string {
  return `${r.name.padEnd(22)} ${mega(r.rate).padStart(8)} round trips/s  ratio=${
    r.ratio.toFixed(2)
  }  (raw ${mega(r.rawRate)}/s)`;
}

/** Runs every case and prints one line each. */
export function runVirtioBench(print: (line: string) => void = console.log): BenchResult[] {
  // Warm the JIT on every loop shape first, so the first case is not measured half-compiled.
  for (const c of CASES) runCase(c, { pairs: 3, warmupMs: 60 });
  const out: BenchResult[] = [];
  for (const c of CASES) {
    const r = runCase(c);
    out.push(r);
    print(formatResult(r));
  }
  if (sink === 0.5) print(""); // keeps `sink` (the work) observable
  return out;
}
