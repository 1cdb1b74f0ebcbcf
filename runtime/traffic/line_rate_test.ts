import assert from "node:assert/strict";
import { linePps, ppsForWireBps, serializationNs, WIRE_OVERHEAD_BYTES } from "./line_rate.ts";

Deno.test("64 B line rate is 14.88 Mpps at 10G, 37.2 at 25G, 148.8 at 100G", () => {
  assert.equal(WIRE_OVERHEAD_BYTES, 20);
  assert.equal((linePps(10e9, 64) / 1e6).toFixed(2), "14.88");
  assert.equal((linePps(25e9, 64) / 1e6).toFixed(1), "37.2");
  assert.equal((linePps(100e9, 64) / 1e6).toFixed(1), "148.8");
  assert.equal(Math.floor(linePps(10e9, 64)), 14_880_952);
});

Deno.test("1518 B frames at 10G: 812,743 pps", () => {
  assert.equal(Math.floor(linePps(10e9, 1518)), 812_743);
});

Deno.test("serializationNs() is the inverse of the line rate", () => {
  assert.equal(serializationNs(64, 10e9), 67.2);
  assert.equal(serializationNs(1518, 100e9), 123.04);
  for (const size of [64, 128, 512, 1518, 9018]) {
    assert.ok(Math.abs(serializationNs(size, 25e9) * linePps(25e9, size) - 1e9) < 1e-3);
  }
  assert.equal(ppsForWireBps(5e9, 64), linePps(10e9, 64) / 2);
});
