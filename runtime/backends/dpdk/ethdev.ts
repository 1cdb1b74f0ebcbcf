/**
 * A DPDK ethdev port as the applications of the lab use it (lib/ethdev): receive a burst
 * from a queue into mbufs, transmit a burst, per-port counters (`rte_eth_stats`), link
 * status. The vhost PMD (vhost_pmd.ts) is one; a physical NIC port would be another.
 *
 * @example The vhost PMD's port is an ethdev
 * ```ts
 * import { Lab } from "../../lab.ts";
 * import { socketsOf } from "../vhost_user/host_sockets.ts";
 * import type { EthPort } from "./ethdev.ts";
 * import { VhostPmdPort } from "./vhost_pmd.ts";
 * const lab = new Lab({ hostCatalog: { modules: {}, nicModels: {} } });
 * const port: EthPort = new VhostPmdPort(lab, socketsOf(lab), {
 *   id: 0, owner: "testpmd-1", rxq: 1, txq: 1,
 *   spec: { name: "net_vhost0", iface: "/tmp/vu0", queues: 1, client: false, iommuSupport: false, postcopySupport: false, tso: false },
 * });
 * if (port.rxQueueName(0) !== "tx0") throw new Error("the PMD receives from the guest's TX ring");
 * ```
 *
 * @module
 */

import type { Result } from "../../result.ts";
import type { VhostIoEnv } from "../vhost_user/vhost_datapath.ts";
import type { Mbuf, MbufPool } from "./mbuf.ts";
import type { PortStats } from "./testpmd_text.ts";

/** What a TX burst did. */
export interface TxResult {
  /** Mbufs taken from the front (the port owns and frees them). */
  readonly sent: number;
  readonly end: number;
  /** Why the rest were refused, as a drop reason of the lab. */
  readonly refused: "no_rx_buffer" | "link_down" | "device_not_ready" | undefined;
}

/** One port. */
export interface EthPort {
  /** Port id (probe order: PCI devices first, then vdevs). */
  readonly id: number;
  /** Device name (`net_vhost0`, `0000:3b:00.0`). */
  readonly name: string;
  /** PMD driver name (`net_vhost`). */
  readonly driver: string;
  readonly mac: Uint8Array;
  readonly rxq: number;
  readonly txq: number;
  readonly stats: PortStats;
  /** Link status (vhost: a guest is connected and its rings are ready). */
  readonly linkUp: boolean;
  /** Called when receive work appears on the port at `t` (set by the application). */
  onWork: ((t: number) => void) | undefined;
  /** What an RX burst of `queue` polls, for traces (the vhost PMD polls the guest's `tx0`). */
  rxQueueName(queue: number): string;
  /** Brings the port up (registers its socket, opens the device). */
  start(): Result<void, string>;
  /** rte_eth_rx_burst. */
  rxBurst(
    queue: number,
    pool: MbufPool,
    out: Mbuf[],
    max: number,
    env: VhostIoEnv,
    now: number,
  ): { n: number; end: number };
  /** rte_eth_tx_burst: the port frees what it sent; the caller frees the rest. */
  txBurst(queue: number, mbufs: readonly Mbuf[], n: number, env: VhostIoEnv, now: number): TxResult;
  /** Lines for `show`. */
  describe(): string[];
  /** Closes the port (rte_eth_dev_close). */
  close(): void;
}
