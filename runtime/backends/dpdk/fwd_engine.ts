/**
 * testpmd's forwarding engines (app/test-pmd/{iofwd,macfwd,macswap,5tswap,rxonly}.c) as what
 * they do to the frames of one received burst before it is sent:
 *
 * - `io`: nothing, the burst goes out as it came;
 * - `mac`: source MAC = the TX port's MAC, destination = the peer (`--eth-peer`, default
 *   02:00:00:00:00:<port>);
 * - `macswap`: source and destination MAC swapped;
 * - `5tswap`: MACs, IPv4 addresses and UDP/TCP ports swapped (checksums stay valid: a swap
 *   does not change a ones'-complement sum);
 * - `rxonly`: the burst is freed, nothing is sent.
 *
 * The generating engines (`txonly`, `flowgen`) and the others are recognised but not
 * modelled: {@link fwdEngine} says so.
 *
 * @example macswap
 * ```ts
 * import { fwdEngine } from "./fwd_engine.ts";
 * const f = new Uint8Array(60);
 * f.set([2, 0, 0, 0, 0, 2], 0);
 * f.set([2, 0, 0, 0, 0, 1], 6);
 * const e = fwdEngine("macswap");
 * if (e === undefined) throw new Error("modelled");
 * e.apply(f, f.length, { txPortMac: new Uint8Array(6), peerMac: new Uint8Array(6) });
 * if (f[5] !== 1 || f[11] !== 2) throw new Error("swapped");
 * ```
 *
 * @module
 */

/** What an engine may use besides the frame. */
export interface FwdContext {
  /** The MAC of the port the burst is sent from. */
  readonly txPortMac: Uint8Array;
  /** The peer MAC of the TX port (`--eth-peer`). */
  readonly peerMac: Uint8Array;
}

/** One forwarding engine. */
export interface FwdEngine {
  readonly name: string;
  /** False for `rxonly`: received packets are freed. */
  readonly transmits: boolean;
  /** Rewrites one frame in place. */
  apply(frame: Uint8Array, len: number, cx: FwdContext): void;
}

function swap(f: Uint8Array, a: number, b: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const t = f[a + i] as number;
    f[a + i] = f[b + i] as number;
    f[b + i] = t;
  }
}

const ENGINES: Readonly<Record<string, FwdEngine>> = {
  io: { name: "io", transmits: true, apply: () => {} },
  mac: {
    name: "mac",
    transmits: true,
    apply: (f, _len, cx) => {
      f.set(cx.peerMac, 0);
      f.set(cx.txPortMac, 6);
    },
  },
  macswap: { name: "macswap", transmits: true, apply: (f) => swap(f, 0, 6, 6) },
  "5tswap": {
    name: "5tswap",
    transmits: true,
    apply: (f, len) => {
      swap(f, 0, 6, 6);
      // IPv4 (ethertype 0x0800): addresses at 26/30, then the L4 ports after the header.
      if (len < 34 || f[12] !== 0x08 || f[13] !== 0x00) return;
      swap(f, 26, 30, 4);
      const ihl = ((f[14] as number) & 0x0f) * 4;
      const proto = f[23];
      const l4 = 14 + ihl;
      if ((proto === 17 || proto === 6) && len >= l4 + 4) swap(f, l4, l4 + 2, 2);
    },
  },
  rxonly: { name: "rxonly", transmits: false, apply: () => {} },
};

/** The engine `name`, or undefined when the lab does not model it. */
export function fwdEngine(name: string): FwdEngine | undefined {
  return Object.hasOwn(ENGINES, name) ? ENGINES[name] : undefined;
}

/** testpmd's default peer MAC of port `port`: 02:00:00:00:00:<port>. */
export function defaultPeerMac(port: number): Uint8Array {
  return new Uint8Array([2, 0, 0, 0, 0, port & 0xff]);
}
