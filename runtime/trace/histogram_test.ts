import assert from "node:assert/strict";
import { Histogram, HISTOGRAM_RELATIVE_ERROR } from "./histogram.ts";
import { Rng } from "../sim/rng.ts";

/** Nearest-rank percentile of a sorted array. */
function exact(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

function within(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= Math.max(1, expected * HISTOGRAM_RELATIVE_ERROR);
}

Deno.test("Histogram percentiles stay within the documented error of the exact ones", () => {
  const rng = new Rng(2024);
  const shapes: [string, () => number][] = [
    ["uniform 0..10us", () => rng.float() * 10_000],
    ["exponential mean 3us", () => -Math.log(1 - rng.float()) * 3_000],
    ["bimodal 700ns/20us", () => (rng.chance(0.97) ? 700 + rng.int(50) : 20_000 + rng.int(5_000))],
    ["heavy tail", () => 100 * Math.pow(1 - rng.float(), -1.5)],
    ["tiny integers", () => rng.int(300)],
  ];
  for (const [name, draw] of shapes) {
    const h = new Histogram();
    const xs: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const v = Math.floor(draw());
      xs.push(v);
      h.record(v);
    }
    xs.sort((a, b) => a - b);
    for (const p of [1, 10, 50, 90, 99, 99.9, 100]) {
      const got = h.percentile(p);
      const want = exact(xs, p);
      assert.ok(within(got, want), `${name} p${p}: got ${got}, exact ${want}`);
    }
    assert.equal(h.min, xs[0]);
    assert.equal(h.max, xs[xs.length - 1]);
    assert.equal(h.count, xs.length);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(Math.abs(h.mean - mean) < 1e-6 * mean);
  }
});

Deno.test("Histogram is exact for integers below 256 ns", () => {
  const h = new Histogram();
  for (const v of [5, 5, 7, 200, 255]) h.record(v);
  assert.equal(h.percentile(20), 5);
  assert.equal(h.percentile(40), 5);
  assert.equal(h.percentile(60), 7);
  assert.equal(h.percentile(80), 200);
  assert.equal(h.percentile(100), 255);
});

Deno.test("Histogram handles huge values, zero, negatives and the empty case", () => {
  const h = new Histogram();
  assert.equal(h.percentile(50), 0);
  assert.equal(h.mean, 0);
  assert.equal(h.min, 0);
  assert.equal(h.max, 0);
  h.record(0);
  h.record(-5); // clamped to 0
  h.record(2 ** 40 + 12345);
  h.record(1e15);
  assert.equal(h.count, 4);
  assert.equal(h.percentile(50), 0);
  assert.ok(within(h.percentile(75), 2 ** 40 + 12345));
  assert.equal(h.percentile(100), 1e15);
  assert.throws(() => h.percentile(0), RangeError);
  assert.throws(() => h.percentile(101), RangeError);
});

Deno.test("Histogram.merge() equals recording everything in one histogram", () => {
  const a = new Histogram();
  const b = new Histogram();
  const all = new Histogram();
  for (let i = 0; i < 1000; i++) {
    const v = (i * 7919) % 50_000;
    (i % 3 === 0 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  for (const p of [50, 90, 99]) assert.equal(a.percentile(p), all.percentile(p));
  assert.equal(a.count, all.count);
  assert.equal(a.max, all.max);
  assert.equal(a.min, all.min);
});

Deno.test("Histogram memory does not grow with the number of samples", () => {
  const h = new Histogram();
  const before = Deno.memoryUsage().heapUsed;
  for (let i = 0; i < 2_000_000; i++) h.record(1000 + (i & 1023));
  const after = Deno.memoryUsage().heapUsed;
  assert.equal(h.count, 2_000_000);
  // 2M numbers in an array would take ≥ 16 MB; the histogram stays flat.
  assert.ok(after - before < 4_000_000, `heap grew by ${after - before} bytes`);
});
