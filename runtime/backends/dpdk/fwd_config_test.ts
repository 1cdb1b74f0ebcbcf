import assert from "node:assert/strict";
import { fwdConfigSetup, txPortIndex } from "./fwd_config.ts";

Deno.test("txPortIndex() pairs ports 0↔1, 2↔3, a lone last port sends to itself", () => {
  assert.deepEqual([0, 1, 2, 3].map((i) => txPortIndex(i, 4, "paired")), [1, 0, 3, 2]);
  assert.deepEqual([0, 1, 2].map((i) => txPortIndex(i, 3, "paired")), [1, 0, 2]);
  assert.deepEqual([0].map((i) => txPortIndex(i, 1, "paired")), [0]);
  assert.deepEqual([0, 1, 2].map((i) => txPortIndex(i, 3, "chained")), [1, 2, 0]);
  assert.deepEqual([0, 1, 2].map((i) => txPortIndex(i, 3, "loop")), [0, 1, 2]);
});

Deno.test("fwdConfigSetup() makes one stream per port and queue and deals them to lcores", () => {
  const one = fwdConfigSetup({ ports: [0], fwdLcores: [3], rxq: 1, txq: 1, topology: "paired" });
  assert.deepEqual(one.streams, [
    { id: 0, rxPort: 0, rxQueue: 0, txPort: 0, txQueue: 0, lcore: 3 },
  ]);
  const two = fwdConfigSetup({
    ports: [0, 1],
    fwdLcores: [2, 3, 4],
    rxq: 2,
    txq: 2,
    topology: "paired",
  });
  assert.equal(two.streams.length, 4);
  assert.deepEqual(two.lcores, [2, 3, 4]);
  // 4 streams on 3 lcores: the last lcore takes the extra one.
  assert.deepEqual(two.streams.map((s) => s.lcore), [2, 3, 4, 4]);
  assert.deepEqual(two.streams.map((s) => `${s.rxPort}/${s.rxQueue}>${s.txPort}`), [
    "0/0>1",
    "0/1>1",
    "1/0>0",
    "1/1>0",
  ]);
  // More lcores than streams: only as many forward as there are streams.
  const few = fwdConfigSetup({
    ports: [0],
    fwdLcores: [1, 2, 3],
    rxq: 1,
    txq: 1,
    topology: "loop",
  });
  assert.deepEqual(few.lcores, [1]);
});
