/**
 * What testpmd prints, byte for byte in the forms of app/test-pmd/{testpmd,config}.c: the
 * forwarding configuration at `start` (`pkt_fwd_config_display` + `rxtx_config_display`),
 * `show port stats` (`nic_stats_display`) and the forwarding statistics of `stop` /
 * `show fwd stats all` (`fwd_stats_display`). Throughput lines are per lab time, not wall
 * time (the lab has no wall clock).
 *
 * @example
 * ```ts
 * import { formatNicStats } from "./testpmd_text.ts";
 * const t = formatNicStats(0, { ipackets: 32, opackets: 32, ibytes: 2048, obytes: 2048, imissed: 0, ierrors: 0, oerrors: 0, rxNombuf: 0 });
 * if (!t.includes("  RX-packets: 32         RX-missed: 0          RX-bytes:  2048")) throw new Error(t);
 * ```
 *
 * @module
 */

import type { FwdConfig } from "./fwd_config.ts";

/** rte_eth_stats of a port (the counters testpmd shows). */
export interface PortStats {
  ipackets: number;
  opackets: number;
  ibytes: number;
  obytes: number;
  /** RX packets the port could not take (no descriptor / guest buffer). */
  imissed: number;
  ierrors: number;
  /** TX packets the port failed to send. */
  oerrors: number;
  rxNombuf: number;
}

/** A fresh set of zero counters. */
export function newPortStats(): PortStats {
  return {
    ipackets: 0,
    opackets: 0,
    ibytes: 0,
    obytes: 0,
    imissed: 0,
    ierrors: 0,
    oerrors: 0,
    rxNombuf: 0,
  };
}

/** Per-stream counters (`struct fwd_stream`). */
export interface StreamStats {
  rxPackets: number;
  txPackets: number;
  /** Packets the TX burst did not take (freed: `fwd_dropped`). */
  fwdDropped: number;
}

/** A port as the configuration display needs it. */
export interface PortInfo {
  readonly id: number;
  readonly rxq: number;
  readonly txq: number;
  readonly rxd: number;
  readonly txd: number;
}

function mac(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).toUpperCase().padStart(2, "0")).join(":");
}

function left(n: number, w: number): string {
  return String(n).padEnd(w);
}

/** `start`: the forwarding configuration and the per-port queue configuration. */
export function formatFwdConfig(
  mode: string,
  cfg: FwdConfig,
  ports: readonly PortInfo[],
  o: { readonly burst: number; readonly peerMac: (port: number) => Uint8Array },
): string {
  const lines: string[] = [];
  lines.push(
    `${mode} packet forwarding - ports=${cfg.ports.length} - cores=${cfg.lcores.length} - streams=${cfg.streams.length} - NUMA support enabled, MP allocation mode: native`,
  );
  for (const lc of cfg.lcores) {
    const streams = cfg.streams.filter((s) => s.lcore === lc);
    lines.push(`Logical Core ${lc} (socket 0) forwards packets on ${streams.length} streams:`);
    for (const s of streams) {
      lines.push(
        `  RX P=${s.rxPort}/Q=${s.rxQueue} (socket 0) -> TX P=${s.txPort}/Q=${s.txQueue} (socket 0) peer=${
          mac(o.peerMac(s.txPort))
        }`,
      );
    }
  }
  lines.push("");
  lines.push(`  ${mode} packet forwarding packets/burst=${o.burst}`);
  lines.push(
    `  nb forwarding cores=${cfg.lcores.length} - nb forwarding ports=${cfg.ports.length}`,
  );
  for (const p of ports) {
    lines.push(`  port ${p.id}: RX queue number: ${p.rxq} Tx queue number: ${p.txq}`);
    lines.push(`    Rx offloads=0x0 Tx offloads=0x0`);
    for (let q = 0; q < p.rxq; q++) {
      lines.push(`    RX queue: ${q}`);
      lines.push(`      RX desc=${p.rxd} - RX free threshold=0`);
      lines.push(`      RX threshold registers: pthresh=0 hthresh=0  wthresh=0`);
      lines.push(`      RX Offloads=0x0`);
    }
    for (let q = 0; q < p.txq; q++) {
      lines.push(`    TX queue: ${q}`);
      lines.push(`      TX desc=${p.txd} - TX free threshold=0`);
      lines.push(`      TX threshold registers: pthresh=0 hthresh=0  wthresh=0`);
      lines.push(`      TX offloads=0x0 - TX RS bit threshold=0`);
    }
  }
  return lines.join("\n") + "\n";
}

const NIC_BORDER = "########################";

/** `show port stats N` (without the xstats lines). */
export function formatNicStats(
  port: number,
  s: PortStats,
  rate: {
    readonly rxPps: number;
    readonly rxBps: number;
    readonly txPps: number;
    readonly txBps: number;
  } = {
    rxPps: 0,
    rxBps: 0,
    txPps: 0,
    txBps: 0,
  },
): string {
  const pad12 = (n: number) => String(Math.floor(n)).padStart(12);
  return [
    "",
    `  ${NIC_BORDER} NIC statistics for port ${left(port, 2)} ${NIC_BORDER}`,
    `  RX-packets: ${left(s.ipackets, 10)} RX-missed: ${
      left(s.imissed, 10)
    } RX-bytes:  ${s.ibytes}`,
    `  RX-errors: ${s.ierrors}`,
    `  RX-nombuf:  ${left(s.rxNombuf, 10)}`,
    `  TX-packets: ${left(s.opackets, 10)} TX-errors: ${
      left(s.oerrors, 10)
    } TX-bytes:  ${s.obytes}`,
    "",
    "  Throughput (since last show)",
    `  Rx-pps: ${pad12(rate.rxPps)}          Rx-bps: ${pad12(rate.rxBps)}`,
    `  Tx-pps: ${pad12(rate.txPps)}          Tx-bps: ${pad12(rate.txBps)}`,
    `  ${NIC_BORDER}############################${NIC_BORDER}`,
  ].join("\n") + "\n";
}

const FWD_BORDER = "----------------------";
const ACC_BORDER = "+++++++++++++++";

/**
 * `show fwd stats all` / the report of `stop`: per-stream blocks when there are more streams
 * than ports, then per port, then the totals.
 */
export function formatFwdStats(
  cfg: FwdConfig,
  streams: readonly StreamStats[],
  ports: ReadonlyMap<number, PortStats>,
): string {
  const out: string[] = [];
  const txDropped = new Map<number, number>();
  cfg.streams.forEach((fs, i) => {
    const st = streams[i] as StreamStats;
    if (cfg.streams.length > cfg.ports.length && (st.rxPackets || st.txPackets || st.fwdDropped)) {
      out.push("");
      out.push(
        `  ------- Forward Stats for RX Port=${String(fs.rxPort).padStart(2)}/Queue=${
          String(fs.rxQueue).padStart(2)
        } -> TX Port=${String(fs.txPort).padStart(2)}/Queue=${
          String(fs.txQueue).padStart(2)
        } -------`,
      );
      out.push(
        `  RX-packets: ${left(st.rxPackets, 14)} TX-packets: ${
          left(st.txPackets, 14)
        } TX-dropped: ${left(st.fwdDropped, 14)}`.trimEnd(),
      );
    }
    txDropped.set(fs.txPort, (txDropped.get(fs.txPort) ?? 0) + st.fwdDropped);
  });
  let recv = 0, xmit = 0, rxDrop = 0, txDrop = 0, nombuf = 0;
  for (const p of cfg.ports) {
    const s = ports.get(p);
    if (s === undefined) continue;
    const drop = txDropped.get(p) ?? 0;
    recv += s.ipackets;
    xmit += s.opackets;
    rxDrop += s.imissed;
    txDrop += drop + s.oerrors;
    nombuf += s.rxNombuf;
    out.push("");
    out.push(`  ${FWD_BORDER} Forward statistics for port ${left(p, 2)} ${FWD_BORDER}`);
    out.push(
      `  RX-packets: ${left(s.ipackets, 14)} RX-dropped: ${left(s.imissed, 14)}RX-total: ${
        s.ipackets + s.imissed
      }`,
    );
    if (s.ierrors + s.rxNombuf > 0) {
      out.push(`  RX-error: ${s.ierrors}`);
      out.push(`  RX-nombufs: ${left(s.rxNombuf, 14)}`.trimEnd());
    }
    out.push(
      `  TX-packets: ${left(s.opackets, 14)} TX-dropped: ${left(drop, 14)}TX-total: ${
        s.opackets + drop
      }`,
    );
    out.push(`  ${FWD_BORDER}--------------------------------${FWD_BORDER}`);
  }
  out.push("");
  out.push(`  ${ACC_BORDER} Accumulated forward statistics for all ports${ACC_BORDER}`);
  out.push(
    `  RX-packets: ${left(recv, 14)} RX-dropped: ${left(rxDrop, 14)}RX-total: ${recv + rxDrop}`,
  );
  out.push(
    `  TX-packets: ${left(xmit, 14)} TX-dropped: ${left(txDrop, 14)}TX-total: ${xmit + txDrop}`,
  );
  if (nombuf > 0) out.push(`  RX-nombufs: ${left(nombuf, 14)}`.trimEnd());
  out.push(`  ${ACC_BORDER}++++++++++++++++++++++++++++++++++++++++++++++${ACC_BORDER}`);
  return out.join("\n") + "\n";
}
