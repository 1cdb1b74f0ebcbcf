/**
 * The embedded switch of an SR-IOV NIC port (legacy SR-IOV mode): a frame arriving from the
 * wire whose destination MAC belongs to a VF — a vDPA device created on it, or a VF given to
 * a guest with VFIO — goes to that function's receive engine; broadcast and multicast go to
 * every function and to the PF; anything else goes to the PF's netdev. One switch per
 * physical port, installed as the port's steering in the host network.
 *
 * @example
 * ```ts
 * import { Eswitch, macKey } from "./eswitch.ts";
 * const sw = new Eswitch("ens1f0");
 * const got: number[] = [];
 * sw.add([0x52, 0x54, 0, 0, 0, 1], (_f, _l, t) => { got.push(t); return true; });
 * const frame = new Uint8Array(60);
 * frame.set([0x52, 0x54, 0, 0, 0, 1]);
 * if (!sw.steer(frame, 60, 100, undefined, 0) || got[0] !== 100) throw new Error("steered");
 * if (macKey([0, 0, 0, 0, 0, 1], 0) !== 1) throw new Error("48-bit key");
 * ```
 *
 * @module
 */

import type { TrafficFlow } from "../datapath/flow_table.ts";

/** A function's receive engine: true when it took the frame (delivered or dropped it). */
export type VfReceive = (
  frame: Uint8Array,
  len: number,
  t: number,
  flow: TrafficFlow | undefined,
  seq: number,
) => boolean;

/** A MAC (6 octets at `off`) as a 48-bit number. */
export function macKey(b: ArrayLike<number>, off: number): number {
  let k = 0;
  for (let i = 0; i < 6; i++) k = k * 256 + ((b[off + i] as number) & 0xff);
  return k;
}

/** One port's embedded switch; see the module documentation. */
export class Eswitch {
  /** The physical port (`ens1f0`). */
  readonly port: string;
  readonly #byMac = new Map<number, VfReceive>();

  constructor(port: string) {
    this.port = port;
  }

  /** A function with `mac` behind the port. A MAC already there is replaced. */
  add(mac: ArrayLike<number>, rx: VfReceive): void {
    this.#byMac.set(macKey(mac, 0), rx);
  }

  /** The function with `mac` goes. */
  remove(mac: ArrayLike<number>): void {
    this.#byMac.delete(macKey(mac, 0));
  }

  /** Functions behind the port. */
  get size(): number {
    return this.#byMac.size;
  }

  /**
   * A frame from the wire: true when a function took it. Broadcast and multicast are offered
   * to every function (the PF gets them too: the result is false).
   */
  steer(
    frame: Uint8Array,
    len: number,
    t: number,
    flow: TrafficFlow | undefined,
    seq: number,
  ): boolean {
    if (len < 6) return false;
    if (((frame[0] as number) & 1) === 1) {
      for (const rx of this.#byMac.values()) rx(frame, len, t, flow, seq);
      return false;
    }
    const rx = this.#byMac.get(macKey(frame, 0));
    return rx !== undefined && rx(frame, len, t, flow, seq);
  }
}
