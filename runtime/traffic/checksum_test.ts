import assert from "node:assert/strict";
import { foldSum, internetChecksum, onesSum, pseudoHeaderSum } from "./checksum.ts";

function hex(s: string): Uint8Array {
  const clean = s.replace(/[^0-9a-f]/gi, "");
  return new Uint8Array(clean.match(/../g)?.map((b) => parseInt(b, 16)) ?? []);
}

/** A syslog datagram captured on a real network (the pnet project's UDP checksum test). */
const SYSLOG_IP_PACKET = hex(
  "4500 008b 0000 4000 3e11 1c78 0a0a 0b14 0ac8 0005 0852 0202 0077 a96b 3c35 343e" +
    "4a75 6c20 3239 2031 393a 3439 3a34 3520 7665 6761 3478 3420 5445 4c4e 4554 203a" +
    "204c 4f47 3a20 3239 2f30 372f 3230 3137 2031 393a 3439 3a34 352e 3030 3020 5445" +
    "4c4e 4554 2028 4329 5230 3143 3030 2028 7573 6572 3a61 646d 696e 296c 6f67 2064" +
    "6973 706c 6179 206f 6666 0a",
);

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
  const p = hex(
    "4500 0022 5da1 4000 4011 c927 0a00 0001 0a00 0002 cdec 0fa0 000e ea66 4865 6c6c 6f0a",
  );
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
