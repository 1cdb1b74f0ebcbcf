/**
 * MAC and IPv4 addresses. A MAC is six bytes (`Uint8Array`), an IPv4 address an unsigned
 * 32-bit number; both parse from and print to their usual text forms. Script text is
 * parsed into results (bad input never throws); frame builders take the parsed values.
 *
 * @example
 * ```ts
 * import { formatIpv4, formatMac, parseIpv4, parseMac, qemuMac } from "./address.ts";
 * const mac = parseMac("52:54:00:12:34:56");
 * if (!mac.ok || formatMac(mac.value) !== "52:54:00:12:34:56") throw new Error("mac");
 * if (formatMac(qemuMac(1)) !== "52:54:00:12:34:57") throw new Error("qemu default + 1");
 * const ip = parseIpv4("10.0.0.1");
 * if (!ip.ok || formatIpv4(ip.value) !== "10.0.0.1") throw new Error("ip");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";

/** Six bytes. */
export type Mac = Uint8Array;

/** ff:ff:ff:ff:ff:ff. */
export const BROADCAST_MAC: Readonly<Mac> = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** Why an address does not parse. */
export type AddressError =
  | { readonly kind: "bad-mac"; readonly text: string }
  | { readonly kind: "bad-ipv4"; readonly text: string };

/** One lowercase line (the only formatter of {@link AddressError}). */
export function describeAddressError(e: AddressError): string {
  switch (e.kind) {
    case "bad-mac":
      return `\`${e.text}\` is not a MAC address (six hex bytes like 52:54:00:12:34:56)`;
    case "bad-ipv4":
      return `\`${e.text}\` is not an IPv4 address (four numbers 0-255 like 10.0.0.1)`;
  }
}

/** Parses `aa:bb:cc:dd:ee:ff` (also `-` separated, any case). */
export function parseMac(text: string): Result<Mac, AddressError> {
  const m =
    /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i
      .exec(text);
  if (!m) return err({ kind: "bad-mac", text });
  const bytes = [m[1], m[3], m[4], m[5], m[6], m[7]].map((h) => parseInt(h ?? "", 16));
  return ok(new Uint8Array(bytes));
}

/** `52:54:00:12:34:56` (lowercase). */
export function formatMac(mac: Readonly<Mac>): string {
  return Array.from(mac.subarray(0, 6), (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** True for group (multicast or broadcast) addresses: bit 0 of the first byte. */
export function isMulticastMac(mac: Readonly<Mac>): boolean {
  return ((mac[0] ?? 0) & 1) === 1;
}

/** True if the two MACs are equal. */
export function macEquals(a: Readonly<Mac>, b: Readonly<Mac>): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * QEMU's default NIC address for the `n`-th NIC: 52:54:00:12:34:56 + n in the last byte
 * (QEMU `qemu_macaddr_default_if_unset`); past 0xff we carry into the bytes before, where
 * QEMU would run out of addresses.
 */
export function qemuMac(n: number): Mac {
  const low = (0x123456 + n) & 0xffffff;
  return new Uint8Array([0x52, 0x54, 0x00, low >>> 16, (low >>> 8) & 0xff, low & 0xff]);
}

/** Parses dotted-quad IPv4 (no leading zeros, each part 0-255). */
export function parseIpv4(text: string): Result<number, AddressError> {
  const parts = text.split(".");
  if (parts.length !== 4) return err({ kind: "bad-ipv4", text });
  let v = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return err({ kind: "bad-ipv4", text });
    const n = Number(p);
    if (n > 255) return err({ kind: "bad-ipv4", text });
    v = v * 256 + n;
  }
  return ok(v);
}

/** Dotted quad of a u32. */
export function formatIpv4(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff].join(".");
}
