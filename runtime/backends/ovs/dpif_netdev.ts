/**
 * OVS's userspace datapath (lib/dpif-netdev.c) for `datapath_type=netdev` bridges: ports
 * whose receive queues are polled by PMD threads, and per received burst (up to
 * NETDEV_MAX_BURST = 32 packets):
 *
 * 1. `netdev_rxq_recv` — for a vhost-user port rte_vhost_dequeue_burst (the copy out of the
 *    guest, hops `dpdk_vhost_dequeue`, `gpa_to_hva_translate`, `memcpy`);
 * 2. `dp_netdev_input` — miniflow extraction and the exact-match cache (EMC) lookup, one
 *    `ovs_dpdk_pipeline` per packet. A packet of a flow the datapath has not seen misses the
 *    EMC and the classifier and goes up to ofproto (an *upcall*), which translates the
 *    OpenFlow tables (here the bridge's default `actions=NORMAL`) and installs a megaflow;
 *    the lab records the upcall on that packet (the cost table has no key for it);
 * 3. the NORMAL action — MAC learning on the input port, output to the learned port, or a
 *    flood to every other port of the bridge (a second output clones the packet: a copy);
 * 4. `netdev_send` per output port — for a vhost-user port rte_vhost_enqueue_burst (the copy
 *    into the guest, then the call eventfd if the guest wants an interrupt); what the guest
 *    has no buffer for is dropped (`tx_dropped`). An internal port that is down drops its
 *    batch without a system call (netdev_linux_tap_batch_send).
 *
 * VM to VM over one bridge: one copy out of the first guest, one into the second — 2.
 *
 * @example
 * ```ts
 * import { Lab } from "../../lab.ts";
 * import { DpifNetdev, OFPP_LOCAL } from "./dpif_netdev.ts";
 * const lab = new Lab({ hostCatalog: { modules: {}, nicModels: {} } });
 * const dp = new DpifNetdev(lab);
 * dp.addPort({ name: "br0", bridge: "br0", ofport: OFPP_LOCAL, type: "internal", eth: undefined, txDropped: 0 });
 * if (dp.ports.length !== 1 || dp.fdb("br0").size !== 0) throw new Error("a bridge with its own port");
 * ```
 *
 * @module
 */

import type { Lab } from "../../lab.ts";
import type { PacketGroup } from "../../datapath/hop.ts";
import type { EthPort } from "../dpdk/ethdev.ts";
import { type Mbuf, MbufPool } from "../dpdk/mbuf.ts";
import { PmdThread } from "../dpdk/pmd_thread.ts";
import { VhostPmdPort } from "../dpdk/vhost_pmd.ts";
import { vhostUserSocketOf } from "../vhost_user/net_backend.ts";
import type { VhostIoEnv } from "../vhost_user/vhost_datapath.ts";
import { MacLearning } from "./mac_learning.ts";

/** dpif-netdev's burst size (NETDEV_MAX_BURST). */
export const NETDEV_MAX_BURST = 32;
/** Exact-match cache entries per PMD (EM_FLOW_HASH_ENTRIES). */
export const EM_FLOW_HASH_ENTRIES = 8192;
/** The OpenFlow number of a bridge's own internal port (OFPP_LOCAL). */
export const OFPP_LOCAL = 65534;

/** A port of the datapath. */
export interface DpPort {
  /** Interface name (`vhost-user1`). */
  readonly name: string;
  /** The bridge it is on. */
  readonly bridge: string;
  /** OpenFlow port number on that bridge. */
  readonly ofport: number;
  /** Interface type (`dpdkvhostuser`, `internal` …). */
  readonly type: string;
  /** The ethdev behind it; undefined for an internal port (a tap the lab keeps down). */
  readonly eth: EthPort | undefined;
  /** Packets an output to this port dropped (`tx_dropped`). */
  txDropped: number;
}

/** One PMD thread and its receive queues. */
interface Pmd {
  readonly thread: PmdThread;
  readonly core: number;
  readonly burst: Mbuf[];
  readonly group: PacketGroup;
  readonly emc: Map<string, true>;
  /** Ports whose queue 0 it polls. */
  readonly rxqs: DpPort[];
  /** Passes, packets, EMC hits, upcalls (`ovs-appctl dpif-netdev/pmd-stats-show`). */
  readonly stats: { passes: number; packets: number; emcHits: number; upcalls: number };
}

/** The datapath; see the module documentation. */
export class DpifNetdev {
  readonly #lab: Lab;
  readonly #pool = new MbufPool("ovs_mp_2030_0_262144", 262144);
  readonly #ports: DpPort[] = [];
  readonly #pmds: Pmd[] = [];
  readonly #fdb = new Map<string, MacLearning>();
  readonly #out = new Map<DpPort, Mbuf[]>();

  constructor(lab: Lab) {
    this.#lab = lab;
  }

  /** The ports, in the order they were added. */
  get ports(): readonly DpPort[] {
    return this.#ports;
  }

  /** The PMD threads' cores. */
  get pmdCores(): readonly number[] {
    return this.#pmds.map((p) => p.core);
  }

  /** The MAC table of `bridge`. */
  fdb(bridge: string): MacLearning {
    let t = this.#fdb.get(bridge);
    if (t === undefined) {
      t = new MacLearning();
      this.#fdb.set(bridge, t);
    }
    return t;
  }

  /** Sets the PMD cores (`pmd-cpu-mask`); receive queues are dealt round robin. */
  setPmdCores(cores: readonly number[]): void {
    const same = cores.length === this.#pmds.length &&
      cores.every((c, i) => this.#pmds[i]?.core === c);
    if (same) return;
    for (const p of this.#pmds) p.thread.stop();
    this.#pmds.length = 0;
    for (const core of cores) {
      const holder: { pmd?: Pmd } = {};
      const thread = new PmdThread(
        this.#lab,
        core,
        (now) => this.#pass(holder.pmd as Pmd, now),
        `pmd-c${String(core).padStart(2, "0")}`,
      );
      const pmd: Pmd = {
        thread,
        core,
        burst: [],
        group: this.#lab.hops.group(),
        emc: new Map(),
        rxqs: [],
        stats: { passes: 0, packets: 0, emcHits: 0, upcalls: 0 },
      };
      holder.pmd = pmd;
      this.#pmds.push(pmd);
    }
    this.#assign();
  }

  /** Adds a port; its receive queue goes to a PMD thread. */
  addPort(port: DpPort): void {
    this.#ports.push(port);
    if (port.eth !== undefined) {
      port.eth.onWork = (t) => this.#pmdOf(port)?.thread.notice(t);
    }
    this.#assign();
  }

  /** Removes a port (its ethdev is closed by the caller). */
  delPort(name: string): DpPort | undefined {
    const i = this.#ports.findIndex((p) => p.name === name);
    if (i < 0) return undefined;
    const [p] = this.#ports.splice(i, 1);
    this.#assign();
    return p;
  }

  #assign(): void {
    for (const p of this.#pmds) p.rxqs.length = 0;
    if (this.#pmds.length === 0) return;
    let k = 0;
    for (const port of this.#ports) {
      if (port.eth === undefined) continue;
      (this.#pmds[k++ % this.#pmds.length] as Pmd).rxqs.push(port);
    }
    for (const p of this.#pmds) {
      if (p.rxqs.some((q) => q.eth?.linkUp)) p.thread.notice(this.#lab.now);
    }
  }

  #pmdOf(port: DpPort): Pmd | undefined {
    return this.#pmds.find((p) => p.rxqs.includes(port));
  }

  /** One iteration of pmd_thread_main over its receive queues. */
  #pass(pmd: Pmd, now: number): { found: number; end: number } {
    const lab = this.#lab;
    const hops = lab.hops;
    const ctx = pmd.thread.ctx;
    const env: VhostIoEnv = { lab, ctx, comp: "ovs-vswitchd" };
    let t = now;
    let found = 0;
    pmd.stats.passes++;
    for (const port of pmd.rxqs) {
      const eth = port.eth;
      if (eth === undefined) continue;
      const start = t;
      const r = eth.rxBurst(0, this.#pool, pmd.burst, NETDEV_MAX_BURST, env, t);
      t = r.end;
      const n = r.n;
      if (n === 0) continue;
      found += n;
      pmd.stats.packets += n;
      const g = pmd.group;
      g.reset();
      for (let i = 0; i < n; i++) {
        const m = pmd.burst[i] as Mbuf;
        if (m.flow !== undefined) g.add(m.flow, m.seq);
      }
      if (g.sampled) {
        hops.at(ctx, start);
        g.record("ovs-vswitchd", "poll", { q: `${port.name}/${eth.rxQueueName(0)}`, found: n });
      }
      t = this.#input(pmd, port, n, t);
    }
    return { found, end: t };
  }

  /** dp_netdev_input + the NORMAL action + the output batches. */
  #input(pmd: Pmd, inPort: DpPort, n: number, now: number): number {
    const lab = this.#lab;
    const hops = lab.hops;
    const ctx = pmd.thread.ctx;
    const fdb = this.fdb(inPort.bridge);
    const bridgePorts = this.#ports.filter((p) => p.bridge === inPort.bridge && p !== inPort);
    let t = now;
    for (let i = 0; i < n; i++) {
      const m = pmd.burst[i] as Mbuf;
      const flow = m.flow;
      // EMC lookup on the packet's miniflow: hit, or upcall and megaflow install.
      const key = emcKey(inPort.ofport, m.buf, m.len);
      const hit = pmd.emc.has(key);
      if (!hit) {
        if (pmd.emc.size >= EM_FLOW_HASH_ENTRIES) {
          const first = pmd.emc.keys().next().value;
          if (first !== undefined) pmd.emc.delete(first);
        }
        pmd.emc.set(key, true);
        pmd.stats.upcalls++;
      } else {
        pmd.stats.emcHits++;
      }
      t = hops.charge(ctx, t, "ovs_dpdk_pipeline", 0, flow);
      fdb.learn(m.buf, 6, inPort.ofport);
      const learned = fdb.lookup(m.buf, 0);
      const outs = learned !== undefined
        ? bridgePorts.filter((p) => p.ofport === learned)
        : bridgePorts;
      if (flow !== undefined && hops.wants(flow, m.seq)) {
        // One hop for the lookup and the action: an EMC hit, or the upcall that ran NORMAL.
        const dest = learned !== undefined
          ? `${outs[0]?.name ?? `ofport ${learned}`} (NORMAL: learned)`
          : `${outs.map((p) => p.name).join(",") || "no port"} (NORMAL: flood)`;
        hops.record(flow, m.seq, hit ? "dpif-netdev.emc" : "dpif-netdev.upcall", "forward", {
          from: inPort.name,
          to: dest,
        });
      }
      // A flood: the copy towards the traffic's destination is the packet; the others are
      // shadows (dp_packet_clone: a copy each, and their fate is not the packet's).
      const live = outs.filter((o) => o.eth !== undefined && o.eth.linkUp);
      for (const o of outs) if (!live.includes(o)) o.txDropped++;
      const dst = vhostUserSocketOf(flow?.dst);
      let primary = live.findIndex((o) =>
        o.eth instanceof VhostPmdPort && o.eth.spec.iface === dst
      );
      if (primary < 0) primary = 0;
      let taken = false;
      for (let k = 0; k < live.length; k++) {
        const out = live[k] as DpPort;
        let pkt = m;
        if (k !== primary) {
          const c = this.#pool.alloc();
          if (c === undefined) {
            out.txDropped++;
            continue;
          }
          c.ensure(m.len).set(m.buf.subarray(0, m.len));
          c.len = m.len;
          // The copy may reach a guest that is not the destination: not the packet.
          if (flow !== undefined) lab.endpoints.flooded(flow);
          c.port = m.port;
          t = hops.charge(ctx, t, "memcpy", m.len, undefined);
          pkt = c;
        } else {
          taken = true;
        }
        let batch = this.#out.get(out);
        if (batch === undefined) {
          batch = [];
          this.#out.set(out, batch);
        }
        batch.push(pkt);
      }
      if (!taken) {
        if (flow !== undefined) {
          hops.drop(
            flow,
            m.seq,
            ctx,
            t,
            "dpif-netdev",
            "no_route",
            outs.length === 0 ? "no other port on the bridge" : "every output port is down",
          );
        }
        m.free();
      }
    }
    // netdev_send per output port, in port order.
    for (const [out, batch] of this.#out) {
      if (batch.length === 0) continue;
      const eth = out.eth as EthPort;
      const env: VhostIoEnv = { lab, ctx, comp: "ovs-vswitchd" };
      const tx = eth.txBurst(0, batch, batch.length, env, t);
      t = tx.end;
      for (let i = tx.sent; i < batch.length; i++) {
        const m = batch[i] as Mbuf;
        out.txDropped++;
        if (m.flow !== undefined) {
          hops.drop(
            m.flow,
            m.seq,
            ctx,
            t,
            "ovs-vswitchd",
            tx.refused ?? "queue_full",
            `${out.name}: tx_dropped`,
          );
        }
        m.free();
      }
      batch.length = 0;
    }
    return t;
  }

  /** `ovs-appctl dpif-netdev/pmd-stats-show`-like lines. */
  describe(): string[] {
    const out: string[] = [];
    for (const p of this.#pmds) {
      out.push(
        `pmd thread numa_id 0 core_id ${p.core} (${p.thread.ctx.name}): rxqs ${
          p.rxqs.map((q) => q.name).join(",") || "-"
        }`,
      );
      out.push(
        `  packets received: ${p.stats.packets}, emc hits: ${p.stats.emcHits}, upcalls (misses): ${p.stats.upcalls}, busy passes: ${p.thread.busyPasses}`,
      );
    }
    for (const [bridge, t] of this.#fdb) {
      out.push(`fdb ${bridge}: ${t.size} entries`);
      for (const e of t.entries()) out.push(`  port ${e.port}  ${e.mac}`);
    }
    return out;
  }

  /** Stops the PMD threads and forgets the ports (the caller closes their ethdevs). */
  close(): void {
    for (const p of this.#pmds) p.thread.stop();
    this.#ports.length = 0;
  }
}

/**
 * The EMC key of a packet: the input port and the miniflow fields that stay the same for
 * the packets of one flow — Ethernet, IPv4 version/TOS/TTL/protocol/addresses, L4 ports.
 */
function emcKey(inPort: number, frame: Uint8Array, len: number): string {
  let s = `${inPort}:`;
  const take = (from: number, to: number) => {
    for (let i = from; i < Math.min(to, len); i++) s += String.fromCharCode(frame[i] as number);
  };
  take(0, 16);
  take(22, 24);
  take(26, 38);
  return s;
}
