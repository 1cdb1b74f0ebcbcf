import assert from "node:assert/strict";
import { BridgeFdb } from "./bridge.ts";

const A = 0x525400000001;
const B = 0x525400000002;
const C = 0x525400000003;
const BCAST = 0xffffffffffff;
const PORTS = ["tap0", "tap1", "ens1f0"];

Deno.test("a bridge floods an unknown destination to every port but the ingress", () => {
  const fdb = new BridgeFdb("br0");
  assert.deepEqual(fdb.forward(A, B, "tap0", PORTS), ["tap1", "ens1f0"]);
  assert.equal(fdb.flooded, 1);
  assert.equal(fdb.lookup(A), "tap0", "the source was learned");
});

Deno.test("a learned destination goes to its port only", () => {
  const fdb = new BridgeFdb("br0");
  fdb.forward(B, A, "tap1", PORTS);
  assert.deepEqual(fdb.forward(A, B, "tap0", PORTS), ["tap1"]);
  assert.equal(fdb.forwarded, 1);
});

Deno.test("a destination learned on the ingress port is filtered", () => {
  const fdb = new BridgeFdb("br0");
  fdb.forward(B, C, "tap0", PORTS);
  assert.deepEqual(fdb.forward(A, B, "tap0", PORTS), []);
  assert.equal(fdb.filtered, 1);
});

Deno.test("broadcast floods even when known, and a group source is never learned", () => {
  const fdb = new BridgeFdb("br0");
  fdb.forward(A, C, "tap0", PORTS);
  assert.deepEqual(fdb.forward(B, BCAST, "tap1", PORTS), ["tap0", "ens1f0"]);
  fdb.forward(BCAST, A, "ens1f0", PORTS);
  assert.equal(fdb.lookup(BCAST), undefined);
});

Deno.test("a learned port that stopped running is flooded around; flushPort forgets it", () => {
  const fdb = new BridgeFdb("br0");
  fdb.forward(B, A, "tap1", PORTS);
  assert.deepEqual(fdb.forward(A, B, "tap0", ["tap0", "ens1f0"]), ["ens1f0"]);
  fdb.flushPort("tap1");
  assert.equal(fdb.lookup(B), undefined);
});
