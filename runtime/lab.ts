/**
 * The lab: the whole simulated world a script builds and drives — the host kernel (modules,
 * sysfs, /dev, netdevs, PCI, the vDPA bus), the engine (a deterministic scheduler on a
 * virtual clock, seeded random streams, CPU contexts as servers, the resolved cost profile,
 * the trace recorder and the metrics), the VMs, the host network data plane, the traffics
 * and their endpoints. It knows nothing of the language: stdlib's executors map commands
 * onto its methods, and plain TypeScript can drive it too.
 *
 * Control planes run synchronously at the current virtual time (a `qemu` line boots its VM
 * before the next statement, so `show` works on the next line); traffic runs only in
 * {@link Lab.run}. Every host-kernel event becomes a control-plane trace event.
 *
 * @example A fresh lab has no modules and a clock at 0
 * ```ts
 * import { Lab } from "./lab.ts";
 * import type { HostCatalog } from "./host/kernel_ctx.ts";
 * const catalog: HostCatalog = { modules: {}, nicModels: {} };
 * const lab = new Lab({ hostCatalog: catalog });
 * if (lab.host.lsmod().length !== 0) throw new Error("a fresh host has no modules");
 * if (lab.now !== 0 || lab.run().stop !== "done") throw new Error("nothing to run");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "./result.ts";
import type { HostEvent } from "./host/host_event.ts";
import { HostKernel } from "./host/kernel.ts";
import type { HostCatalog } from "./host/kernel_ctx.ts";
import { type CostProfile, type Costs, resolveCosts } from "./sim/cost.ts";
import { CpuContext, type CpuContextKind, type CpuContextOptions } from "./sim/cpu_context.ts";
import { Rng } from "./sim/rng.ts";
import { Scheduler } from "./sim/scheduler.ts";
import type { ControlAction, ControlEvent, DetailValue } from "./trace/event.ts";
import { Metrics } from "./trace/metrics.ts";
import { Recorder, type RecorderOptions, type TraceLevel } from "./trace/recorder.ts";
import { qemuMac } from "./traffic/address.ts";
import {
  checkConservation,
  type ConservationViolation,
  FlowSink,
  type FlowSpecError,
  planPing,
  planUdpFlow,
  type RateSpec,
} from "./traffic/flow.ts";
import { buildEchoRequest } from "./traffic/icmp.ts";
import { TrafficSource } from "./traffic/source.ts";
import type { Endpoint, FrameBuilder } from "./datapath/endpoint.ts";
import { type EndpointError, Endpoints } from "./datapath/endpoints.ts";
import { FlowTable, type TrafficFlow } from "./datapath/flow_table.ts";
import { Hops } from "./datapath/hop.ts";
import { HostNetwork } from "./net/host_network.ts";
import { formatIommuEvent } from "./iommu/event.ts";
import { Iommu } from "./iommu/iommu.ts";
import { startVm, type Vm } from "./qemu/vm.ts";
import type { VmError, VmSpec } from "./qemu/vm_spec.ts";

/** Options of {@link Lab}. */
export interface LabOptions {
  /** Kernel modules and NIC models (stdlib's catalogs). */
  readonly hostCatalog: HostCatalog;
  /** Seed of every random stream (MAC addresses, …). Default 1. */
  readonly seed?: number;
  /**
   * The cost profile (stdlib's `DEFAULT_COST_PROFILE` with overrides); runtime never imports
   * stdlib, so it is injected. It can also be set later with {@link Lab.setCostProfile}.
   */
  readonly costProfile?: CostProfile;
  /** Trace recorder settings (default: `sample`, 8 packets per traffic). */
  readonly trace?: RecorderOptions;
}

/** A traffic as a script asks for it (`traffic t1 from vm1.eth0 to wire size=64 …`). */
export interface TrafficSpec {
  readonly name: string;
  readonly from: string;
  readonly to: string;
  /** Frame size with FCS (`size=`). */
  readonly frameBytes: number;
  readonly count?: number;
  readonly durationNs?: number;
  /** A rate, or `line`: the speed of the physical link on the path (10 Gbps without one). */
  readonly rate: RateSpec | "line";
  readonly burst?: number;
  /** Distinct UDP source ports. */
  readonly flows?: number;
}

/** A `ping FROM TO count=N [size=] [interval=]`. */
export interface PingSpec {
  readonly from: string;
  readonly to: string;
  readonly count: number;
  /** ICMP payload bytes (default 56). */
  readonly payloadBytes?: number;
  /** Between requests (default 1 s). */
  readonly intervalNs?: number;
}

/** Why a traffic or ping was refused. */
export type TrafficError =
  | { readonly kind: "endpoint"; readonly which: "from" | "to"; readonly error: EndpointError }
  | { readonly kind: "spec"; readonly errors: readonly FlowSpecError[] }
  | { readonly kind: "duplicate"; readonly name: string }
  /** A host netdev whose datapath no engine provides yet (a virtio_vdpa netdev, a VF). */
  | { readonly kind: "no-datapath"; readonly which: "from" | "to"; readonly name: string };

/** A traffic of the lab: the datapath's view plus its endpoints and source. */
export interface LabFlow extends TrafficFlow {
  readonly src: Endpoint;
  readonly dst: Endpoint;
  /** Drives the schedule on the scheduler (started by the next {@link Lab.run}). */
  readonly source: TrafficSource;
}

/** Options of {@link Lab.run}. */
export interface LabRunOptions {
  /** Run for this long (ns of virtual time); default: until every traffic is done. */
  readonly durationNs?: number;
  /** Or run until this absolute virtual time (ns). */
  readonly until?: number;
  /** Polled now and then; true stops the run (resumable by another `run`). */
  readonly shouldStop?: () => boolean;
  /** Called now and then with the clock and the events fired so far. */
  readonly onProgress?: (now: number, events: number) => void;
}

/** Options of {@link Lab.runAsync}. */
export interface LabRunAsyncOptions extends LabRunOptions {
  /** Awaited between chunks with the clock and the events fired by this run so far. */
  readonly pause: (now: number, events: number) => Promise<void>;
  /** Events per chunk (default 16384). */
  readonly chunkEvents?: number;
}

/** Why a run stopped and what it left behind. */
export interface LabRunResult {
  /** `done`: nothing left to do; `until`: the duration elapsed; `stopped`: asked to stop. */
  readonly stop: "done" | "until" | "stopped";
  /** Clock at the start and at the end (ns). */
  readonly startNs: number;
  readonly endNs: number;
  /** Events fired. */
  readonly events: number;
  /** Traffics whose books do not balance (checked when the run is done). */
  readonly violations: readonly { readonly flow: string; readonly v: ConservationViolation }[];
}

/**
 * A host process of the lab (QEMU, testpmd, ovs-vswitchd): what `kill PID` finds and what
 * `show topology` lists.
 */
export interface LabProcess {
  readonly pid: number;
  /** The program, as `ps` shows it (`qemu-system-x86_64`, `dpdk-testpmd`). */
  readonly command: string;
  /** What it is in the lab (`vm1`, `testpmd-4100`). */
  readonly name: string;
  /**
   * Delivers a terminating signal at `t`: the process exits and releases what it held. Absent
   * when the lab does not model the exit of this process.
   */
  readonly terminate?: (signal: Signal, t: number) => void;
}

/** The signals `kill` can send to a lab process (all of them end it). */
export type Signal = "SIGTERM" | "SIGKILL" | "SIGINT" | "SIGHUP";

/** Why {@link Lab.kill} did nothing (closed union; {@link describeKillError} formats it). */
export type KillError =
  | { readonly kind: "no-such-process"; readonly pid: number }
  | { readonly kind: "not-modelled"; readonly pid: number; readonly name: string };

/** The text of a {@link KillError}, in kill(1)'s words where it has some. */
export function describeKillError(e: KillError): string {
  switch (e.kind) {
    case "no-such-process":
      return `kill: (${e.pid}) - No such process`;
    case "not-modelled":
      return `the lab does not model the exit of ${e.name} (pid ${e.pid})`;
  }
}

/** A control-plane step as a component reports it. */
export interface ControlStep {
  readonly comp: string;
  readonly action: ControlAction;
  readonly details: Readonly<Record<string, DetailValue | undefined>>;
  /** Context it ran on ("" when not charged to one). */
  readonly ctx?: string;
  /** Cost (ns), default 0. */
  readonly dur?: number;
}

const DEFAULT_LINE_BPS = 10e9;

/**
 * The most packets one run may have to send (about two minutes of wall time at the ~80k
 * simulated packets per second of a busy datapath): `run` refuses more, so a script cannot
 * ask for a run that never ends. Limit a run with a duration (`run 1ms`) instead.
 */
export const MAX_RUN_PACKETS = 10_000_000;

/**
 * The most VMs a lab runs. A VM with one virtio-net NIC costs about 130 KB (a 64 KiB chunk
 * of sparse guest memory for its rings, the rest typed arrays and objects): 4096 VMs take
 * about 600 MB and 7 s to start; the next `qemu` line is refused (E0407).
 */
export const MAX_VMS = 4096;

/** The simulated world. */
export class Lab {
  readonly host: HostKernel;
  readonly seed: number;
  /** The event scheduler and virtual clock (ns). */
  readonly sched: Scheduler = new Scheduler();
  /** The lab's root random stream; fork it per model. */
  readonly rng: Rng;
  /** Per-traffic counters and the CPU contexts. */
  readonly metrics: Metrics = new Metrics();
  /** The traffics, by payload id. */
  readonly flows: FlowTable = new FlowTable();
  /** The host network data plane. */
  readonly net: HostNetwork;
  /** Endpoint providers and the receiving end of every datapath. */
  readonly endpoints: Endpoints;
  readonly #hostEvents: HostEvent[] = [];
  readonly #control: ControlEvent[] = [];
  readonly #vms = new Map<string, Vm>();
  readonly #flows: LabFlow[] = [];
  readonly #unstarted: LabFlow[] = [];
  readonly #ips = new Map<string, number>();
  readonly #processes = new Map<number, LabProcess>();
  /** CPU contexts by `kind name` as asked for ({@link Lab.context}). */
  readonly #contexts = new Map<string, CpuContext>();
  #muted: string | undefined = undefined;
  #recorder: Recorder;
  #recorderOptions: RecorderOptions;
  #profile: CostProfile | undefined;
  #costs: Costs | undefined;
  #costsGhz = 0;
  #hops: Hops | undefined;
  #iommu: Iommu | undefined;
  #pid = 4100;
  #vmIndex = 0;
  #macIndex = 0;
  #pingIndex = 0;

  constructor(options: LabOptions) {
    this.seed = options.seed ?? 1;
    this.rng = new Rng(this.seed);
    this.#recorderOptions = options.trace ?? {};
    this.#recorder = new Recorder(this.#recorderOptions);
    this.#profile = options.costProfile;
    this.net = new HostNetwork(this);
    this.host = new HostKernel({
      catalog: options.hostCatalog,
      seed: this.seed,
      sink: (e) => this.#onHostEvent(e),
    });
    this.endpoints = new Endpoints(this.flows, () => this.hops);
    this.endpoints.register({
      endpoint: (name) => this.#vmEndpoint(name),
      endpointNames: () => [...this.#vms.values()].flatMap((vm) => vm.endpointNames()),
    });
    this.endpoints.register(this.net);
  }

  // -- engine ---------------------------------------------------------------------------------

  /** The virtual clock (ns). */
  get now(): number {
    return this.sched.now;
  }

  /** The trace recorder in force. */
  get recorder(): Recorder {
    return this.#recorder;
  }

  /** Replaces the recorder (`run --trace=full`, `trace level …`); kept events are dropped. */
  setTraceLevel(level: TraceLevel, options: Omit<RecorderOptions, "level"> = {}): void {
    this.#recorderOptions = { ...this.#recorderOptions, ...options, level };
    this.#recorder = new Recorder(this.#recorderOptions);
    for (const f of this.#flows) this.#recorder.addFlow(f.name);
    for (const e of this.#control) this.#recorder.control(e);
    if (this.#hops !== undefined) this.#hops.recorder = this.#recorder;
  }

  /** True once a cost profile is set. */
  get hasCostProfile(): boolean {
    return this.#profile !== undefined;
  }

  /** The cost profile in force (throws when none was given: API misuse). */
  get costProfile(): CostProfile {
    if (this.#profile === undefined) {
      throw new Error("Lab has no cost profile: pass LabOptions.costProfile or setCostProfile()");
    }
    return this.#profile;
  }

  /** Sets the cost profile (with any overrides already applied). */
  setCostProfile(profile: CostProfile): void {
    this.#profile = profile;
    this.#costs = undefined;
    this.#refreshCosts();
  }

  /** The resolved costs at the host's clock (`host cpu ghz=`). */
  get costs(): Costs {
    const ghz = this.host.cpu.ghz;
    if (this.#costs === undefined || this.#costsGhz !== ghz) {
      this.#costs = resolveCosts(this.costProfile, { ghz });
      this.#costsGhz = ghz;
      this.#hops?.setCosts(this.#costs);
    }
    return this.#costs;
  }

  #refreshCosts(): void {
    if (this.#profile === undefined) return;
    const c = this.costs;
    this.#hops?.setCosts(c);
  }

  /** The hop helper (charges the resolved costs, records to the recorder). */
  get hops(): Hops {
    if (this.#hops === undefined) this.#hops = new Hops(this.#recorder, this.costs);
    return this.#hops;
  }

  /**
   * The CPU context of `kind` called `name`, created on first use. Names follow
   * `vm1:vcpu0`, `qemu-vm1:main`, `vhost-4100`, `pmd:core2`, `softirq:cpu0`, `app:br0`,
   * `wire:ens1f0`. Callers build them from names a script chose (any legal ifname: `b.r`,
   * `tap@x`, 15 characters of UTF-8), so this is the one place that turns a name into one a
   * metric path can hold ({@link contextName}): a name that already is one is kept, and a
   * derived name that another (kind, name) holds gets a `-2`, `-3` … suffix, so two distinct
   * requests never share a context and none throws.
   */
  context(kind: CpuContextKind, name: string, options: CpuContextOptions = {}): CpuContext {
    const key = `${kind} ${name}`;
    const known = this.#contexts.get(key);
    if (known !== undefined) return known;
    const base = contextName(name);
    let display = base;
    for (let n = 2; this.metrics.context(display) !== undefined; n++) display = `${base}-${n}`;
    const c = this.metrics.addContext(kind, display, options);
    this.#contexts.set(key, c);
    return c;
  }

  /** A new process id for a host process (QEMU, testpmd): deterministic. */
  allocPid(): number {
    const pid = this.#pid;
    this.#pid += 7;
    return pid;
  }

  /** Registers a running host process (its pid from {@link allocPid}). */
  addProcess(p: LabProcess): void {
    if (this.#processes.has(p.pid)) throw new Error(`pid ${p.pid} is already running`);
    this.#processes.set(p.pid, p);
  }

  /** The running host processes, by pid. */
  get processes(): readonly LabProcess[] {
    return [...this.#processes.values()].sort((a, b) => a.pid - b.pid);
  }

  /**
   * `kill -SIG PID`: the process exits at the current virtual time and leaves the process
   * table (a VM's QEMU releases its devices, fds and sockets; see {@link Vm.exit}).
   */
  kill(pid: number, signal: Signal): Result<LabProcess, KillError> {
    const p = this.#processes.get(pid);
    if (p === undefined) return err({ kind: "no-such-process", pid });
    if (p.terminate === undefined) return err({ kind: "not-modelled", pid, name: p.name });
    this.#processes.delete(pid);
    p.terminate(signal, this.sched.now);
    return ok(p);
  }

  /** The next default NIC MAC (52:54:00:12:34:56, …57, … as QEMU assigns them). */
  allocMac(): Uint8Array {
    return qemuMac(this.#macIndex++);
  }

  /** The IPv4 address of an endpoint: 10.0.0.1, .2, … in the order endpoints are named. */
  ipFor(name: string): number {
    let ip = this.#ips.get(name);
    if (ip === undefined) {
      ip = 0x0a000000 + this.#ips.size + 1;
      this.#ips.set(name, ip);
    }
    return ip;
  }

  /**
   * The host IOMMU (VT-d / AMD-Vi), set up from the kernel command line the first time it
   * is needed (`intel_iommu=on`, `iommu=pt`); its events are control-plane trace events.
   */
  get iommu(): Iommu {
    if (this.#iommu === undefined) {
      const st = this.host.iommu();
      this.#iommu = new Iommu(
        { enabled: st.enabled, passthrough: st.passthrough, addressWidth: 48, iotlbEntries: 64 },
        {
          sink: (e) =>
            this.control({ comp: "iommu", action: "note", details: { name: formatIommuEvent(e) } }),
        },
      );
    }
    return this.#iommu;
  }

  // -- control plane --------------------------------------------------------------------------

  /** Host events so far, in the order the kernel emitted them. */
  get hostEvents(): readonly HostEvent[] {
    return this.#hostEvents;
  }

  /** Every control-plane event so far (whatever the trace level). */
  get controlLog(): readonly ControlEvent[] {
    return this.#control;
  }

  /**
   * Runs `fn` with the control steps of component `comp` left out: a process killed with
   * SIGKILL runs none of its own code (QEMU sends no VHOST_NET_SET_BACKEND -1, no
   * GET_VRING_BASE); only what the kernel does for it (closing its fds) is recorded.
   */
  withoutControlOf(comp: string, fn: () => void): void {
    const before = this.#muted;
    this.#muted = comp;
    try {
      fn();
    } finally {
      this.#muted = before;
    }
  }

  /** Records a control-plane step at the current virtual time. */
  control(step: ControlStep): void {
    if (step.comp === this.#muted) return;
    const e: ControlEvent = {
      type: "control",
      t: this.sched.now,
      dur: step.dur ?? 0,
      ctx: step.ctx ?? "",
      comp: step.comp,
      action: step.action,
      details: step.details,
    };
    this.#control.push(e);
    this.#recorder.control(e);
  }

  #onHostEvent(e: HostEvent): void {
    this.#hostEvents.push(e);
    this.net.onHostEvent(e);
    const step = hostControlStep(e);
    if (step !== undefined) this.control(step);
  }

  // -- VMs ------------------------------------------------------------------------------------

  /** The next default VM name (vm1, vm2 …), skipping taken ones. */
  nextVmName(): string {
    for (;;) {
      const name = `vm${++this.#vmIndex}`;
      if (!this.#vms.has(name)) return name;
    }
  }

  /** Starts a VM: RAM, vCPUs, devices, backends, and the guest's driver probe. */
  startVm(spec: VmSpec): Result<Vm, VmError> {
    if (spec.name !== undefined && this.#vms.has(spec.name)) {
      return err({ kind: "name-in-use", at: { vm: "name" }, name: spec.name });
    }
    const name = spec.name ?? this.nextVmName();
    if (this.#vms.size >= MAX_VMS) {
      return err({ kind: "too-many-vms", at: { vm: "name" }, max: MAX_VMS, name });
    }
    const r = startVm(this, name, spec);
    if (r.ok) {
      const vm = r.value;
      this.#vms.set(name, vm);
      this.addProcess({
        pid: vm.pid,
        command: "qemu-system-x86_64",
        name,
        terminate: (signal, t) => this.#vmExited(vm, signal, t),
      });
    }
    return r;
  }

  /**
   * QEMU of `vm` got `signal`: the guest's applications die with it (its traffics stop
   * sending), QEMU releases everything (see {@link Vm.exit}) and the name is free again.
   */
  #vmExited(vm: Vm, signal: Signal, t: number): void {
    const why = `${vm.name} exited: QEMU pid ${vm.pid} got ${signal}`;
    const names = new Set(vm.endpointNames());
    for (const f of this.#flows) {
      if (!names.has(f.src.name)) continue;
      f.source.stop();
      const i = this.#unstarted.indexOf(f);
      if (i >= 0) this.#unstarted.splice(i, 1);
    }
    vm.exit(t, why, { abrupt: signal === "SIGKILL" });
    this.#vms.delete(vm.name);
  }

  /** A VM by name. */
  vm(name: string): Vm | undefined {
    return this.#vms.get(name);
  }

  /** Every VM, in start order. */
  get vms(): readonly Vm[] {
    return [...this.#vms.values()];
  }

  #vmEndpoint(name: string): Endpoint | undefined {
    const dot = name.indexOf(".");
    if (dot < 0) return undefined;
    return this.#vms.get(name.slice(0, dot))?.endpoint(name.slice(dot + 1));
  }

  // -- traffic --------------------------------------------------------------------------------

  /** Every traffic and ping, in creation order. */
  get traffics(): readonly LabFlow[] {
    return this.#flows;
  }

  /** A traffic by name. */
  traffic(name: string): LabFlow | undefined {
    return this.#flows.find((f) => f.name === name);
  }

  #lineBps(src: Endpoint, dst: Endpoint): number {
    for (const e of [dst, src]) {
      if (e.kind === "wire") return (e as { bps?: number }).bps ?? DEFAULT_LINE_BPS;
    }
    return DEFAULT_LINE_BPS;
  }

  #endpoints(from: string, to: string): Result<[Endpoint, Endpoint], TrafficError> {
    const src = this.endpoints.resolve(from);
    if (!src.ok) return err({ kind: "endpoint", which: "from", error: src.error });
    const dst = this.endpoints.resolve(to);
    if (!dst.ok) return err({ kind: "endpoint", which: "to", error: dst.error });
    for (const [which, e] of [["from", src.value], ["to", dst.value]] as const) {
      if (e.kind === "host" && this.host.net.get(e.name) && !this.net.hasDatapath(e.name)) {
        return err({ kind: "no-datapath", which, name: e.name });
      }
    }
    return ok([src.value, dst.value]);
  }

  /** Declares a traffic; it starts sending at the next {@link run}. */
  addTraffic(spec: TrafficSpec): Result<LabFlow, TrafficError> {
    if (this.flows.get(spec.name) !== undefined) {
      return err({ kind: "duplicate", name: spec.name });
    }
    const eps = this.#endpoints(spec.from, spec.to);
    if (!eps.ok) return eps;
    const [src, dst] = eps.value;
    const rate: RateSpec = spec.rate === "line"
      ? { kind: "line", linkBps: this.#lineBps(src, dst) }
      : spec.rate;
    const id = this.flows.nextId;
    const plan = planUdpFlow({
      flowId: id,
      frameBytes: spec.frameBytes,
      ...(spec.count !== undefined ? { count: spec.count } : {}),
      ...(spec.durationNs !== undefined ? { durationNs: spec.durationNs } : {}),
      rate,
      ...(spec.burst !== undefined ? { burst: spec.burst } : {}),
      ...(spec.flows !== undefined ? { flows: spec.flows } : {}),
      startNs: this.sched.now,
      srcMac: src.mac,
      dstMac: dst.mac,
      srcIp: src.ip,
      dstIp: dst.ip,
    });
    if (!plan.ok) return err({ kind: "spec", errors: plan.error });
    const schedule = plan.value;
    const build: FrameBuilder = (buf, off, seq) => schedule.buildFrame(buf, seq, off);
    return ok(this.#register(spec.name, id, "udp", schedule, src, dst, build));
  }

  /** Declares a ping (ICMP echo round trips); it starts at the next {@link run}. */
  addPing(spec: PingSpec): Result<LabFlow, TrafficError> {
    const eps = this.#endpoints(spec.from, spec.to);
    if (!eps.ok) return eps;
    const [src, dst] = eps.value;
    let name: string;
    do name = `ping${++this.#pingIndex}`; while (this.flows.get(name) !== undefined);
    const id = this.flows.nextId;
    const payload = spec.payloadBytes ?? 56;
    const plan = planPing({
      flowId: id,
      count: spec.count,
      payloadBytes: payload,
      ...(spec.intervalNs !== undefined ? { intervalNs: spec.intervalNs } : {}),
      startNs: this.sched.now,
    });
    if (!plan.ok) return err({ kind: "spec", errors: plan.error });
    const icmpId = 0x1000 + id;
    const build: FrameBuilder = (buf, off, seq) =>
      buildEchoRequest(buf.subarray(off), {
        srcMac: src.mac,
        dstMac: dst.mac,
        srcIp: src.ip,
        dstIp: dst.ip,
        id: icmpId,
        seq,
        payloadBytes: payload,
        flowId: id,
      });
    return ok(this.#register(name, id, "ping", plan.value, src, dst, build));
  }

  #register(
    name: string,
    id: number,
    kind: "udp" | "ping",
    schedule: LabFlow["schedule"],
    src: Endpoint,
    dst: Endpoint,
    build: FrameBuilder,
  ): LabFlow {
    const metrics = this.metrics.addFlow(name);
    this.#recorder.addFlow(name);
    const sink = new FlowSink(metrics, schedule);
    const holder: { flow?: LabFlow } = {};
    const source = new TrafficSource(schedule, {
      sched: this.sched,
      onBurst: (now, first, last) => src.sendBurst(now, holder.flow as LabFlow, first, last, build),
    });
    const flow: LabFlow = { name, id, kind, metrics, schedule, sink, src, dst, source };
    holder.flow = flow;
    this.flows.add(flow);
    this.#flows.push(flow);
    this.#unstarted.push(flow);
    return flow;
  }

  /**
   * Packets the traffics still have to send before virtual time `untilNs` (all of them when
   * undefined): what a run to then must simulate. Computed from the schedules, O(traffics).
   */
  packetsDue(untilNs?: number): number {
    let n = 0;
    for (const f of this.#flows) {
      const s = f.schedule;
      const next = f.source.nextSeq;
      let last = s.count;
      if (untilNs !== undefined) {
        if (untilNs < s.startNs) continue;
        const bursts = Math.floor((untilNs - s.startNs) / s.burstIntervalNs) + 1;
        last = Math.min(s.count, bursts * s.burst);
      }
      if (last >= next) n += last - next + 1;
    }
    return n;
  }

  /**
   * Runs the simulation: starts the traffics declared since the last run, then fires events
   * until nothing is left, the duration elapsed, or `shouldStop` said so.
   */
  run(options: LabRunOptions = {}): LabRunResult {
    const startNs = this.sched.now;
    const until = this.#begin(options);
    const progress = options.onProgress;
    const stopper = options.shouldStop;
    const r = this.sched.run({
      ...(until !== undefined ? { until } : {}),
      ...(stopper !== undefined || progress !== undefined
        ? {
          shouldStop: () => {
            progress?.(this.sched.now, this.sched.fired);
            return stopper?.() ?? false;
          },
        }
        : {}),
      checkEvery: 65536,
    });
    const stop = r.stop === "stopped" ? "stopped" : r.stop === "until" ? "until" : "done";
    return this.#finish(stop, startNs, r.events);
  }

  /**
   * {@link run} in chunks of `chunkEvents` events, awaiting `pause` between chunks so that
   * the event loop gets a turn: a REPL sees Ctrl-C (then `shouldStop` says so) and its
   * progress line advances. Chunks change nothing the simulation does: the scheduler resumes
   * exactly where it stopped, so the result is the same event for event as {@link run}.
   */
  async runAsync(options: LabRunAsyncOptions): Promise<LabRunResult> {
    const startNs = this.sched.now;
    const until = this.#begin(options);
    const chunk = Math.max(1, Math.floor(options.chunkEvents ?? 16384));
    let events = 0;
    let stop: LabRunResult["stop"];
    for (;;) {
      if (options.shouldStop?.() ?? false) {
        stop = "stopped";
        break;
      }
      const r = this.sched.run({ ...(until !== undefined ? { until } : {}), maxEvents: chunk });
      events += r.events;
      if (r.stop !== "max-events") {
        stop = r.stop === "until" ? "until" : "done";
        break;
      }
      options.onProgress?.(this.sched.now, this.sched.fired);
      await options.pause(this.sched.now, events);
    }
    return this.#finish(stop, startNs, events);
  }

  /** Starts what the run needs; returns its end time, if it has one. */
  #begin(options: LabRunOptions): number | undefined {
    if (this.#unstarted.length > 0) this.hops; // a run with traffic needs the costs
    for (const f of this.#unstarted.splice(0)) f.source.start();
    return options.until ??
      (options.durationNs !== undefined ? this.sched.now + options.durationNs : undefined);
  }

  #finish(stop: LabRunResult["stop"], startNs: number, events: number): LabRunResult {
    const violations: { flow: string; v: ConservationViolation }[] = [];
    for (const f of this.#flows) {
      const v = checkConservation(f.metrics, { finished: stop === "done" });
      if (v !== undefined) violations.push({ flow: f.name, v });
    }
    return { stop, startNs, endNs: this.sched.now, events, violations };
  }
}

/**
 * The CPU context name the lab derives from `name`: metric paths (`t1.cpu_ns.app:br0`) split
 * on dots and stats tables on blanks, so every character other than letters, digits, `_`,
 * `:` and `-` becomes `_` (one per code point); the empty name becomes `_`.
 *
 * @example
 * ```ts
 * import { contextName } from "./lab.ts";
 * if (contextName("app:b.r") !== "app:b_r") throw new Error("a dot becomes _");
 * if (contextName("my vm é:vcpu0") !== "my_vm__:vcpu0") throw new Error("blanks too");
 * ```
 */
export function contextName(name: string): string {
  let out = "";
  for (const ch of name) out += /^[A-Za-z0-9_:-]$/.test(ch) ? ch : "_";
  return out === "" ? "_" : out;
}

/** Host-kernel events as control-plane trace steps. */
function hostControlStep(e: HostEvent): ControlStep | undefined {
  switch (e.kind) {
    case "module-load":
      return {
        comp: "kernel",
        action: "module",
        details: { name: e.module, op: "load", reason: e.reason, ...(e.by ? { by: e.by } : {}) },
      };
    case "module-unload":
      return { comp: "kernel", action: "module", details: { name: e.module, op: "unload" } };
    case "device-add":
    case "device-del":
      return {
        comp: e.bus,
        action: "device",
        details: { name: e.device, op: e.kind === "device-add" ? "add" : "del" },
      };
    case "driver-bind":
    case "driver-unbind":
      return {
        comp: e.bus,
        action: "bind",
        details: { name: e.device, to: e.driver, op: e.kind === "driver-bind" ? "bind" : "unbind" },
      };
    case "devnode-create":
    case "devnode-remove":
      return {
        comp: "devtmpfs",
        action: "device",
        details: { name: e.path, op: e.kind === "devnode-create" ? "create" : "remove" },
      };
    case "devnode-open":
    case "devnode-close":
      return {
        comp: "vfs",
        action: "device",
        details: { name: e.path, op: e.kind === "devnode-open" ? "open" : "close", by: e.owner },
      };
    case "netdev-create":
    case "netdev-remove":
      return {
        comp: "rtnetlink",
        action: "netlink",
        details: { name: e.ifname, op: e.kind === "netdev-create" ? "newlink" : "dellink" },
      };
    case "link-up":
    case "link-down":
      return {
        comp: "rtnetlink",
        action: "netlink",
        details: { name: e.ifname, op: e.kind === "link-up" ? "up" : "down" },
      };
    case "master-change":
      return {
        comp: "rtnetlink",
        action: "netlink",
        details: { name: e.ifname, op: "master", to: e.master ?? "none" },
      };
    case "virtio-status":
      return { comp: e.device, action: "status", details: { value: e.status } };
    case "virtio-features":
      return {
        comp: e.device,
        action: "features",
        details: { value: `0x${e.features.toString(16)}` },
      };
    default:
      return undefined;
  }
}
