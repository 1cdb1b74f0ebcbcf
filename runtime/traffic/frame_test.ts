import assert from "node:assert/strict";
import { qemuMac } from "./address.ts";
import { internetChecksum, pseudoHeaderSum } from "./checksum.ts";
import { writePayload } from "./_payload.ts";
import { HELLO_IP_PACKET, inEthernet, SYSLOG_IP_PACKET } from "./testdata/captures.ts";
import {
  describeFrameProblem,
  ETH_HLEN,
  type FrameProblem,
  isChecksumProblem,
  newUdpFrameInfo,
  UDP_PAYLOAD_OFFSET,
  UdpFrameBuilder,
  verifyUdpFrame,
  verifyUdpFrameAt,
} from "./frame.ts";

Deno.test("captured frames from real networks pass both checksum checks of the verifier", () => {
  // Not ours (no marker), but the verifier only says so after both checksums passed.
  // "Hello\n" is too short to carry our 16-byte payload header; the syslog text is not ours.
  for (
    const [ip, after] of [[SYSLOG_IP_PACKET, "not-ours"], [HELLO_IP_PACKET, "truncated"]] as const
  ) {
    const f = inEthernet(ip);
    assert.equal(problem(f)?.kind, after);
    const bad = f.slice();
    bad[ETH_HLEN + 8] = 1; // TTL
    assert.equal(problem(bad)?.kind, "bad-ip-checksum");
    const badUdp = f.slice();
    badUdp[f.length - 1] = (badUdp[f.length - 1] as number) ^ 0x40;
    assert.equal(problem(badUdp)?.kind, "bad-udp-checksum");
  }
});

function builder(frameBytes: number, flowId = 7) {
  return new UdpFrameBuilder({
    srcMac: qemuMac(0),
    dstMac: qemuMac(1),
    srcIp: 0x0a000001,
    dstIp: 0x0a000002,
    srcPort: 1024,
    dstPort: 9,
    flowId,
    frameBytes,
  });
}

function frame(frameBytes: number, seq = 1, flowId = 7): Uint8Array {
  const b = builder(frameBytes, flowId);
  const buf = new Uint8Array(b.length);
  b.build(buf, seq);
  return buf;
}

function problem(f: Uint8Array): FrameProblem | undefined {
  return verifyUdpFrame(f, newUdpFrameInfo());
}

Deno.test("a 64 B frame is 60 bytes in memory with 18 payload bytes", () => {
  const f = frame(64);
  assert.equal(f.length, 60);
  assert.equal(f.length - UDP_PAYLOAD_OFFSET, 18);
  // Ethernet: dst, src, EtherType 0x0800.
  assert.deepEqual([...f.subarray(0, 14)], [
    0x52,
    0x54,
    0x00,
    0x12,
    0x34,
    0x57,
    0x52,
    0x54,
    0x00,
    0x12,
    0x34,
    0x56,
    0x08,
    0x00,
  ]);
  // IPv4: 45 00, total length 46, id 0, DF, TTL 64, UDP.
  assert.deepEqual([...f.subarray(14, 24)], [0x45, 0, 0, 46, 0, 0, 0x40, 0, 64, 17]);
  // UDP: 1024 → 9, length 26.
  assert.deepEqual([...f.subarray(34, 40)], [0x04, 0x00, 0x00, 0x09, 0x00, 26]);
  // Payload header: "vdpa", flow 7, sequence 1.
  assert.deepEqual([...f.subarray(42, 58)], [
    0x76,
    0x64,
    0x70,
    0x61,
    0,
    0,
    0,
    7,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
  ]);
});

Deno.test("the builder's checksums equal checksums computed from scratch", () => {
  for (const size of [64, 65, 66, 127, 1518, 9018]) {
    for (const seq of [1, 2, 65535, 2 ** 40 + 3]) {
      const f = frame(size, seq);
      const ip = f.slice(ETH_HLEN, ETH_HLEN + 20);
      const ipSum = (ip[10] as number) << 8 | (ip[11] as number);
      ip[10] = 0;
      ip[11] = 0;
      assert.equal(ipSum, internetChecksum(ip), `ip size ${size}`);
      const udp = f.slice(34);
      const udpSum = (udp[6] as number) << 8 | (udp[7] as number);
      udp[6] = 0;
      udp[7] = 0;
      let want = internetChecksum(
        udp,
        pseudoHeaderSum({ src: 0x0a000001, dst: 0x0a000002, protocol: 17, length: udp.length }),
      );
      if (want === 0) want = 0xffff;
      assert.equal(udpSum, want, `udp size ${size} seq ${seq}`);
    }
  }
});

Deno.test("the builder's payload is byte for byte the reference pattern of writePayload()", () => {
  for (const flowId of [1, 7, 0xffffffff]) {
    for (const size of [64, 65, 300, 1518]) {
      for (const seq of [1, 0xffff, 0x10000, 2 ** 32 + 77, 2 ** 52 - 1]) {
        const f = frame(size, seq, flowId);
        const want = new Uint8Array(f.length - UDP_PAYLOAD_OFFSET);
        writePayload(want, 0, want.length, flowId, seq);
        assert.deepEqual(
          f.subarray(UDP_PAYLOAD_OFFSET),
          want,
          `flow ${flowId} ${size} B seq ${seq}`,
        );
        assert.equal(problem(f), undefined);
      }
    }
  }
});

Deno.test("verifyUdpFrame() identifies flow, sequence and ports of an intact frame", () => {
  const info = newUdpFrameInfo();
  assert.equal(verifyUdpFrame(frame(1518, 2 ** 40 + 3, 99), info), undefined);
  assert.deepEqual(info, {
    flowId: 99,
    seq: 2 ** 40 + 3,
    srcIp: 0x0a000001,
    dstIp: 0x0a000002,
    srcPort: 1024,
    dstPort: 9,
    payloadBytes: 1472,
  });
});

Deno.test("verifyUdpFrame() finds a flipped bit anywhere in the frame", () => {
  const good = frame(128, 5);
  // Every bit of the IP header, UDP header and payload; MAC bits are not protected.
  for (let byte = ETH_HLEN; byte < good.length; byte++) {
    for (let bit = 0; bit < 8; bit++) {
      const f = good.slice();
      f[byte] = (f[byte] as number) ^ (1 << bit);
      assert.notEqual(problem(f), undefined, `byte ${byte} bit ${bit}`);
    }
  }
});

Deno.test("verifyUdpFrameAt() in a larger buffer says exactly what verifyUdpFrame() says of the frame", () => {
  for (const [size, seq] of [[64, 3], [300, 70_001], [1518, 2 ** 33 + 9]] as const) {
    const good = frame(size, seq);
    const check = (f: Uint8Array, what: string) => {
      const at = 37;
      // the frame inside bytes that are not part of it: they must not be read
      const big = new Uint8Array(at + f.length + 29).fill(0xa5);
      big.set(f, at);
      const a = newUdpFrameInfo();
      const b = newUdpFrameInfo();
      assert.deepEqual(verifyUdpFrameAt(big, at, f.length, a), verifyUdpFrame(f, b), what);
      assert.deepEqual(a, b, what);
    };
    check(good, `intact ${size}`);
    for (let byte = 0; byte < good.length; byte += size > 300 ? 7 : 1) {
      for (let bit = 0; bit < 8; bit++) {
        const f = good.slice();
        f[byte] = (f[byte] as number) ^ (1 << bit);
        check(f, `${size}: byte ${byte} bit ${bit}`);
      }
    }
    check(good.subarray(0, good.length - 1), `${size}: one byte short`);
  }
});

Deno.test("a payload rewritten with a fixed-up checksum is still caught by the byte check", () => {
  const f = frame(128, 5);
  f[100] = (f[100] as number) ^ 0xff;
  f[101] = (f[101] as number) ^ 0xff;
  // Keep the UDP checksum right: flipping a whole 16-bit word changes the sum by a known amount.
  const udp = f.slice(34);
  udp[6] = 0;
  udp[7] = 0;
  const c = internetChecksum(
    udp,
    pseudoHeaderSum({ src: 0x0a000001, dst: 0x0a000002, protocol: 17, length: udp.length }),
  );
  f[40] = c >>> 8;
  f[41] = c & 0xff;
  const p = problem(f);
  assert.equal(p?.kind, "payload-mismatch");
  assert.equal(isChecksumProblem(p as FrameProblem), false);
});

Deno.test("a stale buffer holding another packet of the flow does not pass as this one", () => {
  const a = frame(256, 10);
  const b = frame(256, 11);
  // Sequence field of b with the rest of a: the header no longer matches the payload.
  const mixed = a.slice();
  mixed.set(b.subarray(42, 58), 42);
  assert.notEqual(problem(mixed), undefined);
});

Deno.test("verifyUdpFrame() names each kind of damage", () => {
  const kinds = (mutate: (f: Uint8Array) => Uint8Array) => problem(mutate(frame(128)))?.kind;
  assert.equal(kinds((f) => f.subarray(0, 30)), "truncated");
  assert.equal(kinds((f) => f.subarray(0, 100)), "bad-ip-length");
  assert.equal(kinds((f) => (f[12] = 0x86, f[13] = 0xdd, f)), "not-ipv4");
  assert.equal(kinds((f) => (f[14] = 0x65, f)), "bad-ip-header");
  assert.equal(kinds((f) => (f[22] = 63, f)), "bad-ip-checksum");
  assert.equal(kinds((f) => (f[40] = (f[40] as number) ^ 1, f)), "bad-udp-checksum");
  const p = problem((() => {
    const f = frame(128);
    f[22] = 63;
    return f;
  })());
  assert.equal(p?.kind, "bad-ip-checksum");
  // Reports what the checksum should be for the bytes received.
  if (p?.kind === "bad-ip-checksum") {
    const ip = frame(128).slice(14, 34);
    ip[8] = 63;
    ip[10] = 0;
    ip[11] = 0;
    assert.equal(p.want, internetChecksum(ip));
  }
  assert.equal(
    describeFrameProblem({ kind: "bad-udp-checksum", got: 0x1234, want: 0xabcd }),
    "UDP checksum is 0x1234, should be 0xabcd",
  );
});

Deno.test("a UDP checksum of zero means 'not computed' and is accepted", () => {
  const f = frame(128);
  f[40] = 0;
  f[41] = 0;
  assert.equal(problem(f), undefined);
});

Deno.test("UdpFrameBuilder writes at an offset and refuses sizes out of range", () => {
  const b = builder(64);
  const buf = new Uint8Array(200).fill(0xee);
  assert.equal(b.build(buf, 3, 100), 60);
  assert.equal(buf[99], 0xee);
  assert.equal(buf[160], 0xee);
  assert.equal(problem(buf.subarray(100, 160)), undefined);
  assert.throws(() => builder(63), RangeError);
  assert.throws(() => builder(65554), RangeError);
  assert.throws(() => b.build(new Uint8Array(59), 1), RangeError);
});
