import assert from "node:assert/strict";
import { qemuMac } from "./address.ts";
import {
  buildEchoRequest,
  echoFrameBytes,
  echoReplyInPlace,
  newEchoInfo,
  verifyEcho,
  verifyEchoReply,
} from "./icmp.ts";

function request(payloadBytes = 56, seq = 1): Uint8Array {
  const buf = new Uint8Array(echoFrameBytes(payloadBytes) - 4);
  buildEchoRequest(buf, {
    srcMac: qemuMac(0),
    dstMac: qemuMac(1),
    srcIp: 0x0a000001,
    dstIp: 0x0a000002,
    id: 0x4d,
    seq,
    payloadBytes,
    flowId: 9,
  });
  return buf;
}

Deno.test("ping's default echo request is a 98-byte frame (102 with FCS)", () => {
  assert.equal(echoFrameBytes(56), 102);
  const f = request();
  assert.equal(f.length, 98);
  assert.equal(f[34], 8); // echo request
  const info = newEchoInfo();
  assert.equal(verifyEcho(f, info), undefined);
  assert.deepEqual(info, { type: 8, id: 0x4d, seq: 1, flowId: 9, payloadBytes: 56 });
  // A request is not a reply.
  assert.equal(verifyEchoReply(f, info)?.kind, "not-echo");
});

Deno.test("echoReplyInPlace() swaps addresses and keeps both checksums valid", () => {
  const f = request(56, 3);
  const before = f.slice();
  assert.equal(echoReplyInPlace(f), undefined);
  assert.deepEqual([...f.subarray(0, 6)], [...before.subarray(6, 12)]);
  assert.deepEqual([...f.subarray(6, 12)], [...before.subarray(0, 6)]);
  assert.deepEqual([...f.subarray(26, 30)], [...before.subarray(30, 34)]);
  assert.deepEqual([...f.subarray(30, 34)], [...before.subarray(26, 30)]);
  assert.equal(f[34], 0);
  const info = newEchoInfo();
  assert.equal(verifyEchoReply(f, info), undefined);
  assert.equal(info.seq, 3);
  // The payload is echoed unchanged.
  assert.deepEqual([...f.subarray(42)], [...before.subarray(42)]);
});

Deno.test("echoReplyInPlace() refuses a reply, a damaged request and leaves it untouched", () => {
  const f = request();
  echoReplyInPlace(f);
  assert.equal(echoReplyInPlace(f)?.kind, "not-echo");
  const g = request();
  g[60] = (g[60] as number) ^ 4;
  const copy = g.slice();
  assert.equal(echoReplyInPlace(g)?.kind, "bad-icmp-checksum");
  assert.deepEqual(g, copy);
});

Deno.test("a small echo is padded to the 60-byte minimum and still verifies", () => {
  const f = request(16);
  assert.equal(f.length, 60);
  assert.deepEqual([...f.subarray(58)], [0, 0]);
  assert.equal(verifyEcho(f, newEchoInfo()), undefined);
  assert.throws(() => request(15), RangeError);
});
