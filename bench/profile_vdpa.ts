/**
 * Profile harness for the vhost-vdpa + vdpa_sim 64 B loopback: builds the bench lab, warms
 * it up, then runs it for a number of virtual milliseconds and prints the simulated packets
 * per wall-clock second. Run under the V8 profiler and summarise with profile_summary.ts:
 *
 * ```sh
 * deno run -A --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile_vdpa.ts off 50
 * deno run -A bench/profile_summary.ts /tmp/prof/*.cpuprofile
 * ```
 *
 * @module
 */

import type { TraceLevel } from "../runtime/trace/recorder.ts";
import { benchLab } from "./vdpa_bench.ts";
import { rawLoop } from "./virtio_bench.ts";
import process from "node:process";

const level = (Deno.args[0] ?? "off") as TraceLevel;
const virtualMs = Number(Deno.args[1] ?? "50");
const { session, flow } = await benchLab(level);
const lab = session.lab;
lab.run({ durationNs: 2_000_000 });
const raw = rawLoop([64]);
raw(200_000);
// Interleave raw-loop and simulation chunks so a burst of load hits both alike.
let n = 0;
let ms = 0;
let rawMs = 0;
let cpuUs = 0;
let rawCpuUs = 0;
const chunks = 10;
for (let i = 0; i < chunks; i++) {
  const r0 = performance.now();
  const rc0 = process.cpuUsage();
  raw(100_000);
  const rc1 = process.cpuUsage(rc0);
  rawCpuUs += rc1.user + rc1.system;
  rawMs += performance.now() - r0;
  const d0 = flow.metrics.delivered;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  lab.run({ durationNs: (virtualMs * 1_000_000) / chunks });
  const c1 = process.cpuUsage(c0);
  cpuUs += c1.user + c1.system;
  ms += performance.now() - t0;
  n += flow.metrics.delivered - d0;
}
const pps = n / ms / 1000;
const rawRate = (chunks * 100_000) / rawMs / 1000;
console.log(
  `${level}: ${n} packets in ${ms.toFixed(0)} ms: ${pps.toFixed(3)} M sim pps, raw ${
    rawRate.toFixed(2)
  } M/s, ratio ${(pps / rawRate).toFixed(4)}; CPU ${(cpuUs / n * 1000).toFixed(0)} ns/packet, ${
    (cpuUs / n / (rawCpuUs / (chunks * 100_000))).toFixed(1)
  } raw round trips`,
);
console.log(
  `events fired ${lab.sched.fired}, pending ${lab.sched.pending}, per packet ${
    (lab.sched.fired / flow.metrics.delivered).toFixed(2)
  }`,
);
if (Deno.env.get("SUMMARY")) {
  const s = lab.metrics.summary("t1");
  console.log(
    JSON.stringify(
      { per_packet: s.per_packet, cpu: s.cpu_ns_per_packet, util: s.utilisation, lat: s.latency },
      null,
      1,
    ),
  );
}
