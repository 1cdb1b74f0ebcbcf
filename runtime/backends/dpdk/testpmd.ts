/**
 * `dpdk-testpmd` (app/test-pmd) as a process of the lab's host: EAL initialisation on its
 * lcores, one port per `--vdev net_vhostN` (the vhost PMD), the forwarding configuration of
 * fwd_config.ts, one poll-mode thread per forwarding lcore running the engine's loop
 * (`rte_eth_rx_burst` of up to `--burst` (32) packets, the engine, `rte_eth_tx_burst`, free
 * what was not sent), and testpmd's counters and texts.
 *
 * Start-up follows testpmd: without `-i` it forwards at once ("Press enter to exit"); with
 * `-i --auto-start` it forwards and shows its prompt; with `-i` alone the real testpmd waits
 * for `start` at its prompt — the lab has no testpmd prompt, so it types `start` for the user
 * (the executor says so with a warning) and forwards too.
 *
 * @example
 * ```ts
 * import { Lab } from "../../lab.ts";
 * import { COST_KEYS, type CostEntry, type CostKey } from "../../sim/cost.ts";
 * import { Testpmd } from "./testpmd.ts";
 * const lab = new Lab({ hostCatalog: { modules: {}, nicModels: {} } });
 * const entries = Object.fromEntries(COST_KEYS.map((k): [CostKey, CostEntry] =>
 *   [k, { ns: 50, cycles: false, charge: "cpu", basis: "example" }])) as Record<CostKey, CostEntry>;
 * lab.setCostProfile({ name: "example", referenceGhz: 3, entries });
 * const r = Testpmd.start(lab, {
 *   lcores: { kind: "corelist", text: "0-1" },
 *   vhostPorts: [{ name: "net_vhost0", iface: "/tmp/vu0", queues: 1, client: false, iommuSupport: false, postcopySupport: false, tso: false }],
 *   forwardMode: "io", rxq: 1, txq: 1, rxd: 0, txd: 0, burst: 32,
 *   interactive: false, autoStart: false, topology: "paired", filePrefix: "rte",
 * });
 * if (!r.ok || !r.value.output.includes("Press enter to exit")) throw new Error("forwarding");
 * if (r.value.ports[0]?.linkUp !== false) throw new Error("no guest yet");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../../result.ts";
import type { Lab } from "../../lab.ts";
import type { PacketGroup } from "../../datapath/hop.ts";
import { socketsOf } from "../vhost_user/host_sockets.ts";
import type { VhostIoEnv } from "../vhost_user/vhost_datapath.ts";
import {
  describeLcoreError,
  type LcoreError,
  type Lcores,
  type LcoreSpec,
  parseLcores,
} from "./eal.ts";
import type { EthPort } from "./ethdev.ts";
import { type FwdConfig, fwdConfigSetup, type FwdStream, type PortTopology } from "./fwd_config.ts";
import { defaultPeerMac, fwdEngine } from "./fwd_engine.ts";
import { type Mbuf, MbufPool, testpmdPoolSize } from "./mbuf.ts";
import { PmdThread } from "./pmd_thread.ts";
import {
  formatFwdConfig,
  formatFwdStats,
  formatNicStats,
  type PortInfo,
  type PortStats,
  type StreamStats,
} from "./testpmd_text.ts";
import { NicPmdPort, nicProbeError } from "./nic_pmd.ts";
import { VhostPmdPort, type VhostPmdSpec } from "./vhost_pmd.ts";

/** A testpmd command line, checked (stdlib maps the parsed command onto it). */
export interface TestpmdSpec {
  readonly lcores: LcoreSpec;
  /** `--vdev net_vhostN,…` in command-line order. */
  readonly vhostPorts: readonly VhostPmdSpec[];
  /** `-a BDF` PCI devices (NIC ports, probed before the vdevs). */
  readonly nicPorts?: readonly string[];
  /** `--forward-mode` (default io). */
  readonly forwardMode: string;
  /** `--nb-cores` (default 1). */
  readonly nbCores?: number;
  readonly rxq: number;
  readonly txq: number;
  /** `--rxd`/`--txd` (0: the PMD's default). */
  readonly rxd: number;
  readonly txd: number;
  /** `--burst` (default 32). */
  readonly burst: number;
  readonly interactive: boolean;
  readonly autoStart: boolean;
  readonly topology: PortTopology;
  /** `--file-prefix` (default `rte`): one primary process per prefix. */
  readonly filePrefix: string;
}

/** Why testpmd exits at start-up (closed union; one formatter). */
export type TestpmdError =
  | { readonly kind: "eal"; readonly error: LcoreError }
  | { readonly kind: "prefix-in-use"; readonly prefix: string }
  | { readonly kind: "no-fwd-lcores" }
  | { readonly kind: "nb-cores"; readonly value: number; readonly max: number }
  | { readonly kind: "port"; readonly port: number; readonly message: string }
  | { readonly kind: "queues"; readonly port: number; readonly asked: number; readonly max: number }
  | { readonly kind: "mode"; readonly mode: string };

/** What testpmd prints before it exits (the only formatter of {@link TestpmdError}). */
export function describeTestpmdError(e: TestpmdError): string[] {
  switch (e.kind) {
    case "eal":
      return describeLcoreError(e.error);
    case "prefix-in-use":
      return [
        `EAL: Cannot create lock on '/var/run/dpdk/${e.prefix}/config'. Is another primary process running?`,
        "EAL: FATAL: Cannot init config",
        "EAL: Cannot init config",
        "EAL: Error - exiting with code: 1",
      ];
    case "no-fwd-lcores":
      return [
        "EAL: Error - exiting with code: 1",
        "  Cause: No cores defined for forwarding",
        "Check the core mask argument",
      ];
    case "nb-cores":
      return [
        `EAL: Error - exiting with code: 1`,
        `  Cause: nb-cores should be > 0 and <= ${e.max}`,
      ];
    case "port":
      return [e.message, `EAL: Driver cannot attach the device (net_vhost${e.port})`];
    case "queues":
      return [
        `ETHDEV: Ethdev port_id=${e.port} nb_rx_queues=${e.asked} > ${e.max}`,
        `Fail to configure port ${e.port}`,
        "EAL: Error - exiting with code: 1",
        "  Cause: Start ports failed",
      ];
    case "mode":
      return [`Invalid ${e.mode} packet forwarding mode`];
  }
}

/** One forwarding lcore and its thread. */
interface FwdLcore {
  readonly core: number;
  readonly streams: readonly FwdStream[];
  readonly pmd: PmdThread;
  readonly burst: Mbuf[];
  readonly group: PacketGroup;
}

const APPS = new WeakMap<object, Testpmd[]>();

/** The testpmd processes of `lab`, in start order. */
export function testpmdsOf(lab: object): readonly Testpmd[] {
  return APPS.get(lab) ?? [];
}

/** A running testpmd; see the module documentation. */
export class Testpmd {
  readonly spec: TestpmdSpec;
  readonly lcores: Lcores;
  readonly ports: readonly EthPort[];
  readonly fwd: FwdConfig;
  readonly mode: string;
  /** What testpmd printed at start-up. */
  readonly output: string;
  /** Per stream, in {@link fwd} order. */
  readonly streamStats: StreamStats[];
  /** The process name (`testpmd-4107`): the owner of its sockets. */
  readonly name: string;
  readonly #lab: Lab;
  readonly #pool: MbufPool;
  readonly #fwdLcores: FwdLcore[] = [];
  #forwarding = false;

  private constructor(
    lab: Lab,
    spec: TestpmdSpec,
    lcores: Lcores,
    ports: EthPort[],
    fwd: FwdConfig,
    output: string,
    name: string,
  ) {
    this.#lab = lab;
    this.spec = spec;
    this.lcores = lcores;
    this.ports = ports;
    this.fwd = fwd;
    this.mode = spec.forwardMode;
    this.output = output;
    this.name = name;
    this.streamStats = fwd.streams.map(() => ({ rxPackets: 0, txPackets: 0, fwdDropped: 0 }));
    this.#pool = new MbufPool("mb_pool_0", testpmdPoolSize(fwd.lcores.length || 1));
    for (const core of fwd.lcores) {
      const streams = fwd.streams.filter((s) => s.lcore === core);
      const burst: Mbuf[] = [];
      const holder: { lc?: FwdLcore } = {};
      const pmd = new PmdThread(lab, core, (now) => this.#pass(holder.lc as FwdLcore, now));
      const lc: FwdLcore = { core, streams, pmd, burst, group: lab.hops.group() };
      holder.lc = lc;
      this.#fwdLcores.push(lc);
    }
    for (const p of ports) {
      p.onWork = (t) => {
        if (!this.#forwarding) return;
        for (const lc of this.#fwdLcores) {
          if (lc.streams.some((s) => s.rxPort === p.id)) lc.pmd.notice(t);
        }
      };
    }
  }

  /** EAL init, port probe and configuration, and (as testpmd does) the start of forwarding. */
  static start(lab: Lab, spec: TestpmdSpec): Result<Testpmd, TestpmdError> {
    const apps = APPS.get(lab) ?? [];
    if (apps.some((a) => a.spec.filePrefix === spec.filePrefix)) {
      return err({ kind: "prefix-in-use", prefix: spec.filePrefix });
    }
    const detected = lab.host.cpu.cores;
    const lc = parseLcores(spec.lcores, detected);
    if (!lc.ok) return err({ kind: "eal", error: lc.error });
    const lcores = lc.value;
    if (fwdEngine(spec.forwardMode) === undefined) {
      return err({ kind: "mode", mode: spec.forwardMode });
    }
    if (lcores.workers.length === 0) return err({ kind: "no-fwd-lcores" });
    const nbCores = spec.nbCores ?? 1;
    if (nbCores < 1 || nbCores > lcores.workers.length) {
      return err({ kind: "nb-cores", value: nbCores, max: lcores.workers.length });
    }
    const pid = lab.allocPid();
    const name = `testpmd-${pid}`;
    lab.control({
      comp: name,
      action: "note",
      details: {
        name: "start",
        value: `pid ${pid}`,
        detail: `lcores ${lcores.main},${lcores.workers.join(",")}`,
      },
    });
    const out: string[] = [
      `EAL: Detected CPU lcores: ${detected}`,
      "EAL: Detected NUMA nodes: 1",
      "EAL: Detected static linkage of DPDK",
      `EAL: Multi-process socket /var/run/dpdk/${spec.filePrefix}/mp_socket`,
      "EAL: Selected IOVA mode 'VA'",
    ];
    const ns = socketsOf(lab);
    const ports: EthPort[] = [];
    // The PCI bus is probed first: NIC ports get the lowest port ids.
    for (const bdf of spec.nicPorts ?? []) {
      const dev = lab.host.pci.device(bdf);
      const why = nicProbeError(dev, bdf);
      if (why !== undefined || dev === undefined) {
        out.push(why ?? `EAL: Requested device ${bdf} cannot be used`);
        continue;
      }
      const nic = new NicPmdPort(lab, dev, { id: ports.length, rxq: spec.rxq, txq: spec.txq });
      out.push(
        `EAL: Probe PCI driver: ${nic.driver} (${dev.model.vendorId.toString(16)}:${
          dev.pf !== undefined ? dev.model.vfDeviceId.toString(16) : dev.model.deviceId.toString(16)
        }) device: ${bdf} (socket 0)`,
      );
      ports.push(nic);
    }
    for (const [k, v] of spec.vhostPorts.entries()) {
      const i = ports.length;
      if (spec.rxq > v.queues || spec.txq > v.queues) {
        for (const p of ports) p.close();
        return err({ kind: "queues", port: i, asked: Math.max(spec.rxq, spec.txq), max: v.queues });
      }
      const port = new VhostPmdPort(lab, ns, {
        id: i,
        spec: v,
        owner: name,
        rxq: spec.rxq,
        txq: spec.txq,
      });
      const r = port.start();
      if (!r.ok) {
        for (const p of ports) p.close();
        return err({ kind: "port", port: k, message: `VHOST_CONFIG: (${v.iface}) ${r.error}` });
      }
      out.push(
        `VHOST_CONFIG: (${v.iface}) vhost-user ${v.client ? "client" : "server"}: socket created`,
      );
      if (v.client) {
        for (
          const l of port.socket.log.filter((l) =>
            l.startsWith("failed") || l.startsWith("reconnecting")
          )
        ) {
          out.push(`VHOST_CONFIG: (${v.iface}) ${l}`);
        }
      } else {
        out.push(`VHOST_CONFIG: (${v.iface}) binding succeeded`);
      }
      ports.push(port);
    }
    if (spec.interactive) out.push("Interactive-mode selected");
    if (spec.autoStart) out.push("Auto-start selected");
    if (spec.forwardMode !== "io") out.push(`Set ${spec.forwardMode} packet forwarding mode`);
    const fwdLcores = lcores.workers.slice(0, nbCores);
    out.push(
      `testpmd: create a new mbuf pool <mb_pool_0>: n=${
        testpmdPoolSize(fwdLcores.length)
      }, size=2176, socket=0`,
    );
    out.push("testpmd: preferred mempool ops selected: ring_mp_mc");
    if (ports.length === 0) out.push("testpmd: No probed ethernet devices");
    for (const p of ports) {
      out.push(`Configuring Port ${p.id} (socket 0)`);
      out.push(
        `Port ${p.id}: ${
          [...p.mac].map((b) => b.toString(16).toUpperCase().padStart(2, "0")).join(":")
        }`,
      );
    }
    out.push("Checking link statuses...");
    out.push("Done");
    const fwd = fwdConfigSetup({
      ports: ports.map((p) => p.id),
      fwdLcores,
      rxq: spec.rxq,
      txq: spec.txq,
      topology: spec.topology,
    });
    const app = new Testpmd(lab, spec, lcores, ports, fwd, "", name);
    let text = out.join("\n") + "\n";
    if (spec.interactive && !spec.autoStart) text += "testpmd> start\n";
    else if (spec.autoStart) text += "Start automatic packet forwarding\n";
    text += app.#startForwarding();
    text += spec.interactive ? "testpmd> \n" : "Press enter to exit\n";
    (app as { output: string }).output = text;
    apps.push(app);
    APPS.set(lab, apps);
    lab.addProcess({
      pid,
      command: "dpdk-testpmd",
      name,
      terminate: (signal) => app.#exit(signal),
    });
    // Links that are already up (a QEMU server the PMD connected to) have work to find.
    for (const p of ports) if (p.linkUp) p.onWork?.(lab.now);
    return ok(app);
  }

  /** True while the forwarding loops run. */
  get forwarding(): boolean {
    return this.#forwarding;
  }

  /** The forwarding lcores' poll-mode threads. */
  get pmds(): readonly PmdThread[] {
    return this.#fwdLcores.map((l) => l.pmd);
  }

  #portInfos(): PortInfo[] {
    return this.ports.map((p) => ({
      id: p.id,
      rxq: p.rxq,
      txq: p.txq,
      rxd: this.spec.rxd,
      txd: this.spec.txd,
    }));
  }

  /** `start`: prints the configuration and starts the loops. */
  #startForwarding(): string {
    this.#forwarding = true;
    for (const lc of this.#fwdLcores) lc.pmd.resume();
    return formatFwdConfig(this.mode, this.fwd, this.#portInfos(), {
      burst: this.spec.burst,
      peerMac: defaultPeerMac,
    });
  }

  /** `stop`: stops the loops and returns what testpmd prints. */
  stop(): string {
    if (!this.#forwarding) return "Packet forwarding not started\n";
    this.#forwarding = false;
    for (const lc of this.#fwdLcores) lc.pmd.stop();
    return "Telling cores to stop...\nWaiting for lcores to finish...\n" + this.fwdStats() +
      "\nDone.\n";
  }

  /**
   * The process ends (`kill`): the forwarding loops stop, every port closes — a vhost-user
   * socket goes away as a crashed back-end's does, and QEMU sees the connection close — and
   * the lab forgets the process.
   */
  #exit(signal: string): void {
    this.#forwarding = false;
    for (const lc of this.#fwdLcores) lc.pmd.stop();
    for (const p of this.ports) p.close();
    APPS.set(this.#lab, testpmdsOf(this.#lab).filter((a) => a !== this));
    this.#lab.control({
      comp: this.name,
      action: "note",
      details: { name: "exit", value: signal },
    });
  }

  /** `show fwd stats all`. */
  fwdStats(): string {
    const ports = new Map<number, PortStats>(this.ports.map((p) => [p.id, p.stats]));
    return formatFwdStats(this.fwd, this.streamStats, ports);
  }

  /** `show port stats all`. */
  portStats(): string {
    return this.ports.map((p) => formatNicStats(p.id, p.stats)).join("");
  }

  /** One pass of a forwarding lcore over its streams (`run_pkt_fwd_on_lcore`). */
  #pass(lc: FwdLcore, now: number): { found: number; end: number } {
    if (!this.#forwarding) return { found: 0, end: now };
    const lab = this.#lab;
    const hops = lab.hops;
    const engine = fwdEngine(this.mode);
    if (engine === undefined) return { found: 0, end: now };
    const env: VhostIoEnv = { lab, ctx: lc.pmd.ctx, comp: "testpmd" };
    let t = now;
    let found = 0;
    for (const s of lc.streams) {
      const rxPort = this.ports[s.rxPort] as EthPort;
      const start = t;
      const r = rxPort.rxBurst(s.rxQueue, this.#pool, lc.burst, this.spec.burst, env, t);
      t = r.end;
      const n = r.n;
      if (n === 0) continue;
      found += n;
      const st = this.streamStats[s.id] as StreamStats;
      st.rxPackets += n;
      const g = lc.group;
      g.reset();
      for (let i = 0; i < n; i++) {
        const m = lc.burst[i] as Mbuf;
        if (m.flow !== undefined) g.add(m.flow, m.seq);
      }
      if (g.sampled) {
        hops.at(lc.pmd.ctx, start);
        g.record("testpmd", "poll", { q: rxPort.rxQueueName(s.rxQueue), found: n });
      }
      const txPort = this.ports[s.txPort] as EthPort;
      for (let i = 0; i < n; i++) {
        const m = lc.burst[i] as Mbuf;
        engine.apply(m.buf, m.len, { txPortMac: txPort.mac, peerMac: defaultPeerMac(s.txPort) });
        if (m.flow !== undefined && hops.wants(m.flow, m.seq)) {
          hops.at(lc.pmd.ctx, t);
          hops.record(m.flow, m.seq, `testpmd.${this.mode}`, "forward", {
            from: `port ${s.rxPort}`,
            to: `port ${s.txPort}`,
          });
        }
      }
      if (!engine.transmits) {
        for (let i = 0; i < n; i++) {
          const m = lc.burst[i] as Mbuf;
          if (m.flow !== undefined) {
            hops.drop(
              m.flow,
              m.seq,
              lc.pmd.ctx,
              t,
              "testpmd",
              "no_route",
              "rxonly frees every packet",
            );
          }
          m.free();
        }
        continue;
      }
      const tx = txPort.txBurst(s.txQueue, lc.burst, n, env, t);
      t = tx.end;
      st.txPackets += tx.sent;
      for (let i = tx.sent; i < n; i++) {
        // testpmd frees what the TX burst did not take: fwd_dropped.
        const m = lc.burst[i] as Mbuf;
        st.fwdDropped++;
        if (m.flow !== undefined) {
          hops.drop(
            m.flow,
            m.seq,
            lc.pmd.ctx,
            t,
            "testpmd",
            tx.refused ?? "queue_full",
            `port ${s.txPort} TX refused`,
          );
        }
        m.free();
      }
    }
    return { found, end: t };
  }

  /** Lines for `show` (ports, streams, threads). */
  describe(): string[] {
    const out = [
      `${this.name}: ${this.mode} forwarding ${
        this.#forwarding ? "running" : "stopped"
      }, lcores main ${this.lcores.main} forwarding ${
        this.fwd.lcores.join(",") || "-"
      }, burst ${this.spec.burst}`,
    ];
    for (const p of this.ports) out.push(...p.describe());
    this.fwd.streams.forEach((s, i) => {
      const st = this.streamStats[i] as StreamStats;
      out.push(
        `  stream ${s.id}: RX P=${s.rxPort}/Q=${s.rxQueue} -> TX P=${s.txPort}/Q=${s.txQueue} on lcore ${s.lcore}: rx ${st.rxPackets} tx ${st.txPackets} dropped ${st.fwdDropped}`,
      );
    });
    return out;
  }

  /** testpmd exits: ports closed (sockets unregistered), loops stopped. */
  quit(): void {
    this.#forwarding = false;
    for (const lc of this.#fwdLcores) lc.pmd.stop();
    for (const p of this.ports) p.close();
    const apps = APPS.get(this.#lab) ?? [];
    APPS.set(this.#lab, apps.filter((a) => a !== this));
  }
}
