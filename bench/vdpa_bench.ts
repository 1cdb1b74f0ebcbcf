/**
 * vhost-vdpa + vdpa_sim_net loopback benchmark: simulated packets per wall-clock second for
 * a guest sending 64-byte frames to itself through `/dev/vhost-vdpa-0` on a vdpa_sim_net
 * device (guest virtio_net TX, VM exit, ioeventfd → kick_vq, the vdpa_sim worker's batches
 * of 5 with its two copies, irqfd interrupts, guest NAPI RX), every byte verified at the
 * sink. Two configurations: metrics on and per-hop tracing off, then full tracing (every hop
 * of every packet recorded). Each is compared with the raw reference loop of the virtio-core
 * benchmark (bench/virtio_bench.ts `rawLoop`: a hand-inlined 64-byte split-ring round trip)
 * in the same process: `ratio = simulated pps / raw round trips per second`.
 *
 * Method: the lab is built by the script a user would write (stdlib Session) with a traffic
 * that outlasts the measurement, offered at 500 kpps — under the device's simulated
 * capacity (about 0.64 Mpps), so the steady state does not pile up a backlog in the guest.
 * Each trace level is first run on a throwaway lab until the JIT has tiered up (the first
 * ~60,000 packets run 3-5x slower than the steady state; {@link warmUp}), then a fresh lab
 * runs in short chunks of virtual time, each right after a chunk of the raw loop, and the
 * figures are medians over the pairs (the host running this may be busy; a burst of load
 * hits both sides of a pair alike). Figures, never pass/fail; the target is 1,000,000
 * simulated packets per second with metrics on.
 *
 * @module
 */

import { Session } from "../stdlib/session.ts";
import type { TraceLevel } from "../runtime/trace/recorder.ts";
import { rawLoop } from "./virtio_bench.ts";

/** The script: host, vdpa_sim_net device, QEMU on /dev/vhost-vdpa-0, a 64 B loopback. */
export function benchScript(packets: number): string {
  return `
host cpu ghz=3.0 cores=16
modprobe vdpa
modprobe vhost_vdpa
modprobe vdpa_sim_net
vdpa dev add name vdpa0 mgmtdev vdpasim_net mac 52:54:00:12:34:56
qemu-system-x86_64 -name vm1 -machine q35,accel=kvm -cpu host -smp 2 -m 4G \\
  -object memory-backend-memfd,id=mem0,size=4G,share=on -numa node,memdev=mem0 \\
  -netdev type=vhost-vdpa,vhostdev=/dev/vhost-vdpa-0,id=vdpa0 \\
  -device virtio-net-pci,netdev=vdpa0,mac=52:54:00:12:34:56,disable-legacy=on
traffic t1 from vm1.eth0 to vm1.eth0 size=64 count=${packets} rate=500kpps burst=32
`;
}

/** One measured configuration. */
export interface VdpaBenchResult {
  readonly name: string;
  readonly level: TraceLevel;
  /** Packets delivered over the measured chunks. */
  readonly packets: number;
  /** Wall-clock milliseconds of the measured chunks. */
  readonly ms: number;
  /** Simulated packets per wall-clock second (median over the chunks). */
  readonly pps: number;
  /** Raw reference loop round trips per second (median over the paired raw chunks). */
  readonly rawRate: number;
  /** Median over the pairs of pps / raw rate. */
  readonly ratio: number;
}

async function buildLab(packets: number, level: TraceLevel): Promise<Session> {
  const session = new Session({ mode: "run", stdout: () => {}, traceLevel: level });
  const r = await session.runText(benchScript(packets), "bench/vdpa_bench.vdpa");
  const errors = session.diagnostics.items.filter((d) => d.severity === "error");
  if (r.status !== "ok" || errors.length > 0) {
    throw new Error(`bench setup failed: ${errors.map((d) => d.message).join("; ")}`);
  }
  return session;
}

/** The bench lab at `level` with its traffic t1 (the loopback, `packets` long). */
export async function benchLab(
  level: TraceLevel,
  packets = 100_000_000,
): Promise<{ session: Session; flow: NonNullable<ReturnType<Session["lab"]["traffic"]>> }> {
  const session = await buildLab(packets, level);
  const flow = session.lab.traffic("t1");
  if (flow === undefined) throw new Error("bench: no traffic t1");
  return { session, flow };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] as number : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Options of {@link measure}. */
export interface MeasureOptions {
  /** Paired (raw, simulation) chunks measured. Default 15. */
  readonly pairs?: number;
  /** Target wall time of one simulation chunk in ms. Default 40. */
  readonly chunkMs?: number;
}

/**
 * Builds the lab with a traffic that outlasts the measurement, warms it up, then runs it in
 * short chunks of virtual time, each right after a chunk of the raw loop: a burst of load
 * from other processes hits both sides of a pair alike. Figures are medians over the pairs.
 */
export async function measure(
  name: string,
  level: TraceLevel,
  options: MeasureOptions = {},
): Promise<VdpaBenchResult> {
  const pairs = options.pairs ?? 15;
  const chunkMs = options.chunkMs ?? 40;
  const { session, flow } = await benchLab(level);
  const lab = session.lab;
  const raw = rawLoop([64]);
  // warm-up: JIT for both, and the lab past its start (rings filled, the queue backlogged)
  raw(200_000);
  let dv = 200_000; // virtual ns per chunk, calibrated below
  for (let i = 0; i < 4; i++) {
    const t0 = performance.now();
    lab.run({ durationNs: dv });
    const ms = performance.now() - t0;
    dv = Math.max(10_000, Math.round((dv * chunkMs) / Math.max(ms, 0.5)));
  }
  // A traced run keeps every hop up to the recorder's cap; past it hops are only counted,
  // which is cheaper and not what "full tracing" means: keep the measurement under it.
  const rec = lab.recorder;
  if (level !== "off" && lab.now > 0) {
    const eventsPerNs = rec.kept / lab.now;
    const room = 0.9 * rec.maxEvents - rec.kept;
    dv = Math.max(10_000, Math.min(dv, Math.floor(room / pairs / eventsPerNs)));
  }
  let rawN = 100_000;
  {
    const t0 = performance.now();
    raw(rawN);
    const ms = performance.now() - t0;
    rawN = Math.max(10_000, Math.round((rawN * (chunkMs / 4)) / Math.max(ms, 0.05)));
  }
  const rates: number[] = [];
  const raws: number[] = [];
  const ratios: number[] = [];
  let packets = 0;
  let total = 0;
  for (let p = 0; p < pairs; p++) {
    const r0 = performance.now();
    raw(rawN);
    const rawMs = performance.now() - r0;
    const d0 = flow.metrics.delivered;
    const s0 = performance.now();
    lab.run({ durationNs: dv });
    const simMs = performance.now() - s0;
    const n = flow.metrics.delivered - d0;
    const pps = (n * 1000) / simMs;
    const rr = (rawN * 1000) / rawMs;
    rates.push(pps);
    raws.push(rr);
    ratios.push(pps / rr);
    packets += n;
    total += simMs;
  }
  if (flow.metrics.dropped > 0) {
    throw new Error(`bench: ${flow.metrics.dropped} packets dropped`);
  }
  if (rec.omitted > 0) throw new Error(`bench: the trace reached its cap of ${rec.maxEvents}`);
  return {
    name,
    level,
    packets,
    ms: total,
    pps: median(rates),
    rawRate: median(raws),
    ratio: median(ratios),
  };
}

function mega(n: number): string {
  return `${(n / 1e6).toFixed(3)}M`;
}

/** One line per run. */
export function formatVdpaResult(r: VdpaBenchResult): string {
  return `${r.name.padEnd(34)} ${mega(r.pps).padStart(8)} sim pps  ratio=${
    r.ratio.toFixed(3)
  }  (${r.packets} packets in ${r.ms.toFixed(0)} ms; raw ${mega(r.rawRate)}/s)`;
}

/** Options of {@link warmUp}. */
export interface WarmUpOptions {
  /** Packets to run through (default 200,000: past the JIT's tier-up). */
  readonly packets?: number;
  /** Stop earlier after this much wall time (ms, default 4000). */
  readonly maxMs?: number;
}

/**
 * Runs a throwaway lab at `level` until `packets` were delivered (or `maxMs` passed), so the
 * code the measurement runs is optimized; returns the packets delivered. The measured lab
 * is a fresh one (a full trace must not start out at its event cap).
 */
export async function warmUp(level: TraceLevel, options: WarmUpOptions = {}): Promise<number> {
  const packets = options.packets ?? 200_000;
  const maxMs = options.maxMs ?? 4000;
  const { session, flow } = await benchLab(level);
  const t0 = performance.now();
  while (flow.metrics.delivered < packets && performance.now() - t0 < maxMs) {
    session.lab.run({ durationNs: 10_000_000 });
  }
  return flow.metrics.delivered;
}

/** Warms up, then measures the metrics-only and full-trace runs; prints one line each. */
export async function runVdpaBench(
  print: (line: string) => void = console.log,
  options: MeasureOptions = {},
): Promise<VdpaBenchResult[]> {
  // warm the JIT on both shapes first
  await warmUp("off");
  await warmUp("full");
  const out = [
    await measure("vhost-vdpa + vdpa_sim 64B, metrics", "off", options),
    await measure("vhost-vdpa + vdpa_sim 64B, full trace", "full", options),
  ];
  for (const r of out) print(formatVdpaResult(r));
  return out;
}

if (import.meta.main) await runVdpaBench();
