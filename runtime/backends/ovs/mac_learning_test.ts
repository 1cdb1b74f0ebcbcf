import assert from "node:assert/strict";
import { isGroupMac, MacLearning } from "./mac_learning.ts";

const mac = (last: number) => new Uint8Array([0x52, 0x54, 0, 0, 0, last]);

Deno.test("MacLearning learns unicast sources, moves them, never learns group addresses", () => {
  const t = new MacLearning();
  assert.equal(t.learn(mac(1), 0, 1), true);
  assert.equal(t.learn(mac(1), 0, 1), false, "same port: nothing new");
  assert.equal(t.lookup(mac(1), 0), 1);
  assert.equal(t.learn(mac(1), 0, 2), true, "the host moved");
  assert.equal(t.lookup(mac(1), 0), 2);
  const bcast = new Uint8Array(6).fill(0xff);
  assert.equal(isGroupMac(bcast, 0), true);
  assert.equal(t.learn(bcast, 0, 3), false);
  assert.equal(t.lookup(bcast, 0), undefined, "broadcast floods");
  assert.deepEqual(t.entries(), [{ port: 2, mac: "52:54:00:00:00:01" }]);
});

Deno.test("MacLearning evicts the least recently learned entry when full", () => {
  const t = new MacLearning(2);
  t.learn(mac(1), 0, 1);
  t.learn(mac(2), 0, 2);
  t.learn(mac(3), 0, 3);
  assert.equal(t.size, 2);
  assert.equal(t.lookup(mac(1), 0), undefined);
  assert.equal(t.lookup(mac(3), 0), 3);
});
