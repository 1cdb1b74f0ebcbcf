/**
 * testpmd's forwarding configuration (app/test-pmd/config.c `fwd_config_setup`): which port
 * and queue each stream receives from, where it sends, and which forwarding lcore polls it.
 *
 * - With one RX or one TX queue per port (`simple_fwd_config_setup`): one stream per port,
 *   RX queue 0 → TX queue 0 of the peer port, and no more forwarding lcores than ports.
 * - With several queues on both sides (`rss_fwd_config_setup`): one stream per port and
 *   queue, RX queue q → TX queue q of the peer port.
 * - The peer port follows `--port-topology`: `paired` (default: 0↔1, 2↔3, an odd last port
 *   to itself), `chained` (0→1→…→0) or `loop` (each port to itself).
 * - Streams are dealt to the lcores in order: each gets `streams / lcores`, the last
 *   `streams % lcores` lcores one more (`setup_fwd_config_of_each_lcore`).
 *
 * @example Two vhost ports, one core: 0→1 and 1→0 on lcore 3
 * ```ts
 * import { fwdConfigSetup } from "./fwd_config.ts";
 * const c = fwdConfigSetup({ ports: [0, 1], fwdLcores: [3], rxq: 1, txq: 1, topology: "paired" });
 * const s = c.streams.map((s) => `${s.rxPort}->${s.txPort}@${s.lcore}`).join(" ");
 * if (s !== "0->1@3 1->0@3") throw new Error(s);
 * ```
 *
 * @module
 */

/** `--port-topology`. */
export type PortTopology = "paired" | "chained" | "loop";

/** One forwarding stream. */
export interface FwdStream {
  readonly id: number;
  readonly rxPort: number;
  readonly rxQueue: number;
  readonly txPort: number;
  readonly txQueue: number;
  /** The lcore that polls it. */
  readonly lcore: number;
}

/** What the forwarding runs with. */
export interface FwdConfig {
  readonly ports: readonly number[];
  /** The forwarding lcores in use. */
  readonly lcores: readonly number[];
  readonly streams: readonly FwdStream[];
}

/** Options of {@link fwdConfigSetup}. */
export interface FwdConfigOptions {
  /** Forwarding port ids, in order. */
  readonly ports: readonly number[];
  /** Forwarding lcores (`--nb-cores` of the workers). */
  readonly fwdLcores: readonly number[];
  readonly rxq: number;
  readonly txq: number;
  readonly topology: PortTopology;
}

/** testpmd `fwd_topology_tx_port_get`: the index of the port stream `i` sends to. */
export function txPortIndex(i: number, nbPorts: number, topology: PortTopology): number {
  switch (topology) {
    case "paired":
      if ((i & 1) === 0) return i + 1 < nbPorts ? i + 1 : i;
      return i - 1;
    case "chained":
      return (i + 1) % nbPorts;
    case "loop":
      return i;
  }
}

/** Builds the streams and deals them to lcores; see the module documentation. */
export function fwdConfigSetup(o: FwdConfigOptions): FwdConfig {
  const nbPorts = o.ports.length;
  const perPort = o.rxq > 1 && o.txq > 1 ? Math.min(o.rxq, o.txq) : 1;
  const specs: { rxPort: number; rxQueue: number; txPort: number; txQueue: number }[] = [];
  for (let i = 0; i < nbPorts; i++) {
    const tx = o.ports[txPortIndex(i, nbPorts, o.topology)] as number;
    for (let q = 0; q < perPort; q++) {
      specs.push({ rxPort: o.ports[i] as number, rxQueue: q, txPort: tx, txQueue: q });
    }
  }
  const nbLcores = Math.max(0, Math.min(o.fwdLcores.length, specs.length));
  const lcores = o.fwdLcores.slice(0, nbLcores);
  const streams: FwdStream[] = [];
  if (nbLcores > 0) {
    const per = Math.floor(specs.length / nbLcores);
    const extra = specs.length % nbLcores;
    let next = 0;
    for (let l = 0; l < nbLcores; l++) {
      // The last `extra` lcores take one stream more.
      const n = per + (l >= nbLcores - extra ? 1 : 0);
      for (let k = 0; k < n; k++) {
        const s = specs[next] as (typeof specs)[number];
        streams.push({ id: next, ...s, lcore: lcores[l] as number });
        next++;
      }
    }
  }
  return { ports: o.ports, lcores, streams };
}
