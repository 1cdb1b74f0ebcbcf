import assert from "node:assert/strict";
import { foldSum, internetChecksum, onesSum, pseudoHeaderSum } from "./checksum.ts";
import { HELLO_IP_PACKET, SYSLOG_IP_PACKET } from "./testdata/captures.ts";

function hex(s: string): Uint8Array {
  const clean = s.replace(/[^0-9a-f]/gi, "");
  return new Uint8Array(clean.match(/../g)?.map((b) => parseInt(b, 16)) ?? []);
}

function zeroed(p: Uint8Array, at: number): Uint8Array {
  const c = p.slice();
  c[at] = 0;
  c[at + 1] = 0;
  return c;
}

Deno.test("internetChecksum() reproduces the IPv4 header checksum of RFC-style examples", () => {
  const h = hex("4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7");
  assert.equal(internetChecksum(h), 0xb861);
  // Summing a header that includes its correct checksum folds to 0xffff.
  h[10] = 0xb8;
  h[11] = 0x61;
  assert.equal(foldSum(onesSum(h)), 0xffff);
  assert.equal(internetChecksum(h), 0);
});

Deno.test("checksums of a captured syslog datagram match the capture", () => {
  const p = SYSLOG_IP_PACKET;
  assert.equal(p.length, 139);
  assert.equal(internetChecksum(zeroed(p, 10).subarray(0, 20)), 0x1c78);
  const udp = zeroed(p, 26);
  const udpLen = 0x77;
  const src = 0x0a0a0b14;
  const dst = 0x0ac80005;
  // 119 bytes of UDP: an odd length, so the last byte is padded (RFC 1071 §4.1).
  assert.equal(udpLen % 2, 1);
  assert.equal(
    internetChecksum(
      udp.subarray(20, 20 + udpLen),
      pseudoHeaderSum({ src, dst, protocol: 17, length: udpLen }),
    ),
    0xa96b,
  );
});

Deno.test("checksums of a captured 'Hello' datagram match the capture", () => {
  // 10.0.0.1:52716 -> 10.0.0.2:4000, IP checksum 0xc927, UDP checksum 0xea66.
  const p = HELLO_IP_PACKET;
  assert.equal(internetChecksum(zeroed(p, 10).subarray(0, 20)), 0xc927);
  assert.equal(
    internetChecksum(
      zeroed(p, 26).subarray(20, 34),
      pseudoHeaderSum({ src: 0x0a000001, dst: 0x0a000002, protocol: 17, length: 14 }),
    ),
    0xea66,
  );
});

Deno.test("foldSum() carries repeatedly until 16 bits remain", () => {
  assert.equal(foldSum(0x6fff9), 0xffff);
  assert.equal(foldSum(0xffff), 0xffff);
  assert.equal(foldSum(0x1_0000), 1);
  assert.equal(foldSum(0xffff_ffff * 3), foldSum(foldSum(0xffff_ffff) * 3));
});
