/**
 * Ethernet addresses: parsing, formatting, the kernel's validity test, and a deterministic
 * stand-in for `eth_random_addr()` (include/linux/etherdevice.h). The kernel draws random
 * bytes, clears the multicast bit and sets the locally-administered bit; we do the same
 * from a seeded sequence so the same script always yields the same addresses.
 *
 * @example
 * ```ts
 * import { formatMac, isValidEtherAddr, MacGenerator, parseMac } from "./mac.ts";
 * const gen = new MacGenerator(1);
 * const mac = gen.next();
 * if (!isValidEtherAddr(mac) || (mac[0]! & 0x02) === 0) throw new Error("local unicast");
 * if (formatMac(parseMac("00:11:22:33:44:55")!) !== "00:11:22:33:44:55") throw new Error();
 * ```
 *
 * @module
 */

/** Six bytes. */
export type MacAddress = readonly [number, number, number, number, number, number];

/** The all-zero address (what an unset `mac` reads as). */
export const ZERO_MAC: MacAddress = [0, 0, 0, 0, 0, 0];

/** `aa:bb:cc:dd:ee:ff`, lowercase, as iproute2 prints it (`ll_addr_n2a`). */
export function formatMac(mac: MacAddress): string {
  return mac.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/**
 * Parses `aa:bb:cc:dd:ee:ff` (1 or 2 hex digits per byte, like iproute2's `ll_addr_a2n`);
 * `undefined` when malformed.
 */
export function parseMac(text: string): MacAddress | undefined {
  const parts = text.split(":");
  if (parts.length !== 6) return undefined;
  const bytes: number[] = [];
  for (const p of parts) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return undefined;
    bytes.push(parseInt(p, 16));
  }
  return bytes as unknown as MacAddress;
}

/** `is_valid_ether_addr()`: not multicast and not all zero. */
export function isValidEtherAddr(mac: MacAddress): boolean {
  return (mac[0] & 0x01) === 0 && mac.some((b) => b !== 0);
}

/** Whether two addresses are equal. */
export function sameMac(a: MacAddress, b: MacAddress): boolean {
  return a.every((v, i) => v === b[i]);
}

/**
 * Deterministic `eth_random_addr()`: a splitmix32 sequence from a seed. Each call yields a
 * locally-administered unicast address.
 */
export class MacGenerator {
  #state: number;

  /** Same seed, same sequence. */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  #next32(): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0;
    let z = this.#state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** The next address: random bytes, multicast bit cleared, local bit set. */
  next(): MacAddress {
    const a = this.#next32();
    const b = this.#next32();
    const bytes = [
      ((a >>> 24) & 0xfe) | 0x02,
      (a >>> 16) & 0xff,
      (a >>> 8) & 0xff,
      a & 0xff,
      (b >>> 24) & 0xff,
      (b >>> 16) & 0xff,
    ];
    return bytes as unknown as MacAddress;
  }

  /** An address under a vendor OUI (first three bytes), for hardware ports. */
  nextWithOui(oui: readonly [number, number, number]): MacAddress {
    const r = this.next();
    return [oui[0], oui[1], oui[2], r[3], r[4], r[5]];
  }
}
