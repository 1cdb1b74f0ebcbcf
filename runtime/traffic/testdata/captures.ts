/**
 * IPv4 packets captured on real networks, with their checksums as captured, for checking our
 * checksum code against bytes we did not produce.
 *
 * @module
 */

function hex(s: string): Uint8Array {
  const clean = s.replace(/[^0-9a-f]/gi, "");
  return new Uint8Array(clean.match(/../g)?.map((b) => parseInt(b, 16)) ?? []);
}

/**
 * A 139-byte syslog datagram 10.10.11.20:2130 → 10.200.0.5:514 (the pnet project's UDP
 * checksum test): IPv4 checksum 0x1c78, UDP checksum 0xa96b, 111 bytes of payload (odd UDP
 * length, so the checksum pads the last byte).
 */
export const SYSLOG_IP_PACKET: Uint8Array = hex(
  "4500 008b 0000 4000 3e11 1c78 0a0a 0b14 0ac8 0005 0852 0202 0077 a96b 3c35 343e" +
    "4a75 6c20 3239 2031 393a 3439 3a34 3520 7665 6761 3478 3420 5445 4c4e 4554 203a" +
    "204c 4f47 3a20 3239 2f30 372f 3230 3137 2031 393a 3439 3a34 352e 3030 3020 5445" +
    "4c4e 4554 2028 4329 5230 3143 3030 2028 7573 6572 3a61 646d 696e 296c 6f67 2064" +
    "6973 706c 6179 206f 6666 0a",
);

/** 10.0.0.1:52716 → 10.0.0.2:4000 "Hello\n": IPv4 checksum 0xc927, UDP checksum 0xea66. */
export const HELLO_IP_PACKET: Uint8Array = hex(
  "4500 0022 5da1 4000 4011 c927 0a00 0001 0a00 0002 cdec 0fa0 000e ea66 4865 6c6c 6f0a",
);

/** `ip` behind an Ethernet II header (02:00:00:00:00:02 ← 02:00:00:00:00:01, IPv4). */
export function inEthernet(ip: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + ip.length);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
  f.set(ip, 14);
  return f;
}
