/**
 * Steady-state profile of the vhost-vdpa + vdpa_sim 64 B loopback: warms the lab up past the
 * JIT's tier-up (the first ~60k packets run several times slower), then records a V8 CPU
 * profile of the next stretch through the inspector and writes it for profile_summary.ts.
 *
 * ```sh
 * deno run -A bench/profile_steady.ts off /tmp/steady.cpuprofile
 * deno run -A bench/profile_steady.ts full /tmp/full.cpuprofile 30 60
 * deno run -A bench/profile_summary.ts /tmp/steady.cpuprofile
 * ```
 *
 * @module
 */

import { Session as Inspector } from "node:inspector";
import process from "node:process";
import type { TraceLevel } from "../runtime/trace/recorder.ts";
import { benchLab } from "./vdpa_bench.ts";

const level = (Deno.args[0] ?? "off") as TraceLevel;
const out = Deno.args[1] ?? "/tmp/steady.cpuprofile";
// virtual ms of warm-up and of the profiled stretch (a full trace keeps at most 1M events)
const warmMs = Number(Deno.args[2] ?? "300");
const profMs = Number(Deno.args[3] ?? "600");
const { session, flow } = await benchLab(level);
const lab = session.lab;
lab.run({ durationNs: warmMs * 1e6 }); // 300 ms: ~150k packets, past tier-up

const insp = new Inspector();
insp.connect();
const post = (m: string, p: Record<string, unknown> = {}) =>
  new Promise<unknown>((res, rej) =>
    insp.post(m, p, (e: unknown, v: unknown) => e ? rej(e) : res(v))
  );
await post("Profiler.enable");
await post("Profiler.setSamplingInterval", { interval: 100 });
await post("Profiler.start");
const d0 = flow.metrics.delivered;
const c0 = process.cpuUsage();
lab.run({ durationNs: profMs * 1e6 });
const c = process.cpuUsage(c0);
const { profile } = await post("Profiler.stop") as { profile: unknown };
const n = flow.metrics.delivered - d0;
await Deno.writeTextFile(out, JSON.stringify(profile));
console.log(
  `${level}: ${n} packets, CPU ${((c.user + c.system) * 1000 / n).toFixed(0)} ns/packet -> ${out}`,
);
