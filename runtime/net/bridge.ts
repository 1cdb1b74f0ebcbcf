/**
 * The forwarding database of a Linux bridge (net/bridge/br_fdb.c, br_forward.c): it learns
 * the source MAC of every frame on its ingress port, forwards a frame to the port that
 * learned its destination, floods unknown and group destinations to every other port, and
 * filters a frame whose destination lives on the port it came from. Which ports exist and
 * whether they are up is the kernel's netdev table; this is the state the bridge adds.
 *
 * @example
 * ```ts
 * import { BridgeFdb } from "./bridge.ts";
 * const fdb = new BridgeFdb("br0");
 * const a = 0x525400000001, b = 0x525400000002;
 * // unknown destination: flood to every port but the ingress
 * if (fdb.forward(a, b, "tap0", ["tap0", "tap1", "ens1f0"]).join() !== "tap1,ens1f0") throw new Error();
 * // b answers from tap1: now both are known
 * if (fdb.forward(b, a, "tap1", ["tap0", "tap1", "ens1f0"]).join() !== "tap0") throw new Error();
 * ```
 *
 * @module
 */

import { isGroupKey } from "./skb.ts";

/** One learned address. */
export interface FdbEntry {
  /** The MAC as a 48-bit number. */
  readonly mac: number;
  /** The port it was seen on. */
  readonly port: string;
}

/** A bridge's learned addresses. */
export class BridgeFdb {
  /** The bridge's name. */
  readonly name: string;
  readonly #fdb = new Map<number, string>();
  /** Frames forwarded to one known port. */
  forwarded = 0;
  /** Frames flooded. */
  flooded = 0;
  /** Frames filtered (destination on the ingress port). */
  filtered = 0;

  constructor(name: string) {
    this.name = name;
  }

  /**
   * Learns `src` on `ingress` and returns the egress ports for `dst` among `ports` (the
   * bridge's ports that may forward: up and running).
   */
  forward(src: number, dst: number, ingress: string, ports: readonly string[]): string[] {
    // br_handle_frame_finish: learn from the source unless it is a group address.
    if (!isGroupKey(src)) this.#fdb.set(src, ingress);
    if (!isGroupKey(dst)) {
      const port = this.#fdb.get(dst);
      if (port !== undefined) {
        if (port === ingress) {
          this.filtered++;
          return [];
        }
        if (ports.includes(port)) {
          this.forwarded++;
          return [port];
        }
      }
    }
    this.flooded++;
    return ports.filter((p) => p !== ingress);
  }

  /** The port a MAC was learned on. */
  lookup(mac: number): string | undefined {
    return this.#fdb.get(mac);
  }

  /** Forgets the entries of a port (it left the bridge or went down). */
  flushPort(port: string): void {
    for (const [mac, p] of this.#fdb) if (p === port) this.#fdb.delete(mac);
  }

  /** Every entry, in learning order (`bridge fdb show`). */
  entries(): FdbEntry[] {
    return [...this.#fdb].map(([mac, port]) => ({ mac, port }));
  }
}
