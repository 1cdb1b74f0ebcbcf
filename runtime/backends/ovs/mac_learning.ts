/**
 * The MAC learning table of an OVS bridge (lib/mac-learning.c) as the NORMAL action uses it
 * (ofproto/ofproto-dpif-xlate.c xlate_normal): the source MAC of every frame is learned on
 * its input port; a unicast destination that was learned goes to that port, anything else
 * (broadcast, multicast, an unknown unicast address) is flooded to every other port.
 *
 * @example
 * ```ts
 * import { MacLearning } from "./mac_learning.ts";
 * const t = new MacLearning();
 * const a = new Uint8Array([0x52, 0x54, 0, 0, 0, 1]);
 * const b = new Uint8Array([0x52, 0x54, 0, 0, 0, 2]);
 * t.learn(a, 0, 1);
 * if (t.lookup(a, 0) !== 1) throw new Error("learned on port 1");
 * if (t.lookup(b, 0) !== undefined) throw new Error("unknown: flood");
 * ```
 *
 * @module
 */

/** `other_config:mac-table-size` default (lib/mac-learning.h MAC_DEFAULT_MAX). */
export const MAC_DEFAULT_MAX = 8192;

function key(frame: Uint8Array, off: number): number {
  // 48 bits fit a double exactly.
  let k = 0;
  for (let i = 0; i < 6; i++) k = k * 256 + (frame[off + i] as number);
  return k;
}

/** True for a group (broadcast or multicast) address: the I/G bit. */
export function isGroupMac(frame: Uint8Array, off: number): boolean {
  return ((frame[off] as number) & 1) === 1;
}

/** One bridge's table; see the module documentation. */
export class MacLearning {
  readonly max: number;
  #table = new Map<number, number>();

  constructor(max = MAC_DEFAULT_MAX) {
    this.max = max;
  }

  /** Learns the MAC at `frame[off, off+6)` on OpenFlow port `port` (group addresses are not). */
  learn(frame: Uint8Array, off: number, port: number): boolean {
    if (isGroupMac(frame, off)) return false;
    const k = key(frame, off);
    const cur = this.#table.get(k);
    if (cur === port) return false;
    if (cur === undefined && this.#table.size >= this.max) {
      // mac_learning_insert evicts the least recently used entry.
      const oldest = this.#table.keys().next().value;
      if (oldest !== undefined) this.#table.delete(oldest);
    }
    this.#table.delete(k);
    this.#table.set(k, port);
    return true;
  }

  /** The port of the unicast MAC at `frame[off, off+6)`, or undefined (flood). */
  lookup(frame: Uint8Array, off: number): number | undefined {
    if (isGroupMac(frame, off)) return undefined;
    return this.#table.get(key(frame, off));
  }

  /** Entries learned. */
  get size(): number {
    return this.#table.size;
  }

  /** `ovs-appctl fdb/show` rows: port and MAC. */
  entries(): { port: number; mac: string }[] {
    return [...this.#table].map(([k, port]) => {
      const b: string[] = [];
      let v = k;
      for (let i = 0; i < 6; i++) {
        b.unshift((v % 256).toString(16).padStart(2, "0"));
        v = Math.floor(v / 256);
      }
      return { port, mac: b.join(":") };
    });
  }
}
