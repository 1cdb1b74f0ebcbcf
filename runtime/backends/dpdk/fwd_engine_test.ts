import assert from "node:assert/strict";
import { defaultPeerMac, fwdEngine } from "./fwd_engine.ts";

/** Ethernet + IPv4 + UDP, src 10.0.0.1:1000 → dst 10.0.0.2:2000. */
function frame(): Uint8Array {
  const f = new Uint8Array(60);
  f.set([2, 0, 0, 0, 0, 0xbb], 0);
  f.set([2, 0, 0, 0, 0, 0xaa], 6);
  f.set([0x08, 0x00, 0x45], 12);
  f[23] = 17;
  f.set([10, 0, 0, 1, 10, 0, 0, 2], 26);
  f.set([0x03, 0xe8, 0x07, 0xd0], 34);
  return f;
}

const cx = {
  txPortMac: new Uint8Array([0x56, 0x48, 0x4f, 0x53, 0x54, 0]),
  peerMac: defaultPeerMac(1),
};

Deno.test("forwarding engines rewrite frames as testpmd's do", () => {
  const io = frame();
  fwdEngine("io")?.apply(io, 60, cx);
  assert.deepEqual(io, frame(), "io leaves the frame alone");
  const mac = frame();
  fwdEngine("mac")?.apply(mac, 60, cx);
  assert.deepEqual([...mac.subarray(0, 12)], [2, 0, 0, 0, 0, 1, 0x56, 0x48, 0x4f, 0x53, 0x54, 0]);
  const sw = frame();
  fwdEngine("macswap")?.apply(sw, 60, cx);
  assert.deepEqual([...sw.subarray(0, 12)], [2, 0, 0, 0, 0, 0xaa, 2, 0, 0, 0, 0, 0xbb]);
  assert.deepEqual(sw.subarray(12), frame().subarray(12), "macswap touches only the MACs");
  const five = frame();
  fwdEngine("5tswap")?.apply(five, 60, cx);
  assert.deepEqual([...five.subarray(26, 38)], [10, 0, 0, 2, 10, 0, 0, 1, 0x07, 0xd0, 0x03, 0xe8]);
  assert.equal(fwdEngine("rxonly")?.transmits, false);
  assert.equal(fwdEngine("txonly"), undefined, "not modelled");
});
