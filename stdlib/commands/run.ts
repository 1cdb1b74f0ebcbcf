/**
 * `run [DURATION] [--json] [--trace=off|sample|full]`: starts the traffics declared since the
 * last run and runs the simulation until every one is done (or for DURATION of virtual
 * time, or until Ctrl-C). It then prints one summary line per traffic that ran — or, with
 * `--json`, the summaries with the stable field names of runtime/trace/metrics.ts — and a
 * ping's output as ping(8) prints it. Captures are written to their files after each run.
 * In `check` mode nothing runs.
 *
 * @example
 * ```ts
 * import { Lab } from "../../runtime/lab.ts";
 * import { ensureCostProfile } from "./run.ts";
 * const lab = new Lab({ hostCatalog: { modules: {}, nicModels: {} } });
 * ensureCostProfile(lab);
 * if (lab.costs.ns.vmexit_light !== 700) throw new Error("the default profile");
 * ```
 *
 * @module
 */

import { error } from "../../lang/diagnostic.ts";
import type { Run } from "../../lang/commands/mod.ts";
import { type Lab, type LabFlow, type LabRunResult, MAX_RUN_PACKETS } from "../../runtime/lab.ts";
import { describeConservationViolation } from "../../runtime/traffic/flow.ts";
import { formatIpv4 } from "../../runtime/traffic/address.ts";
import { formatNs } from "../../runtime/trace/format.ts";
import { type FlowSummary, summariesJson } from "../../runtime/trace/metrics.ts";
import { DEFAULT_COST_PROFILE } from "../cost_profile.ts";
import type { ExecContext, Executor, ExecutorTable } from "../exec.ts";
import { flushCaptures } from "./capture.ts";

/** Gives the lab the default cost profile when the session did not pass one. */
export function ensureCostProfile(lab: Lab): void {
  if (!lab.hasCostProfile) lab.setCostProfile(DEFAULT_COST_PROFILE);
}

/** Traffics already reported as finished, per lab. */
const reported = new WeakMap<Lab, Set<string>>();

/** A duration as people read it: 812 ns, 4.2 us, 33.7 ms, 1.2 s. */
export function humanNs(ns: number): string {
  if (ns < 1e3) return `${formatNs(ns)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)} us`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

/** One line per traffic after a run. */
export function runLine(f: LabFlow, s: FlowSummary): string {
  const drops = Object.entries(s.dropped_by_reason).filter(([, n]) => n > 0)
    .map(([r, n]) => `${r} ${n}`).join(", ");
  return `${f.name}: ${f.src.name} -> ${f.dst.name} ${s.frame_bytes} B: sent ${s.sent}, ` +
    `delivered ${s.delivered}, dropped ${s.dropped}${drops ? ` (${drops})` : ""}` +
    (s.in_flight > 0 ? `, in flight ${s.in_flight}` : "") +
    (s.delivered > 0
      ? `; ${s.mpps.toFixed(3)} Mpps, ${s.gbps.toFixed(3)} Gbit/s, latency p50 ${
        humanNs(s.latency.p50_ns)
      } p99 ${humanNs(s.latency.p99_ns)}; bottleneck ${s.bottleneck}`
      : "");
}

/** What ping(8) prints for a finished ping. */
export function pingOutput(f: LabFlow, s: FlowSummary): string {
  const ip = formatIpv4(f.dst.ip);
  const payload = s.frame_bytes - 4 - 42;
  const h = f.metrics.latency;
  const loss = s.sent > 0 ? Math.round((1 - s.delivered / s.sent) * 100) : 0;
  const ms = (ns: number) => (ns / 1e6).toFixed(3);
  const span = f.schedule.sendTime(s.sent) - f.schedule.sendTime(1);
  const lines = [
    `PING ${ip} (${ip}) ${payload}(${payload + 28}) bytes of data.`,
    `--- ${ip} ping statistics ---`,
    `${s.sent} packets transmitted, ${s.delivered} received, ${loss}% packet loss, time ${
      Math.round(span / 1e6)
    }ms`,
  ];
  if (s.delivered > 0) {
    lines.push(
      `rtt min/avg/max = ${ms(h.min)}/${ms(h.mean)}/${ms(h.max)} ms`,
    );
  }
  return lines.join("\n");
}

/**
 * Runs the lab in chunks (Lab.runAsync), reporting progress between them and stopping when
 * the user asks (Ctrl-C): the session is kept and a later `run` resumes where this one
 * stopped.
 */
export async function runLab(
  cx: ExecContext,
  durationNs: number | undefined,
): Promise<LabRunResult> {
  const lab = cx.lab;
  ensureCostProfile(lab);
  const startNs = lab.now;
  const flows = lab.traffics.filter((f) => !f.source.done && !f.source.stopped);
  const count = flows.reduce((n, f) => n + f.schedule.count, 0);
  const sentBefore = flows.reduce((n, f) => n + f.metrics.sent, 0);
  return await lab.runAsync({
    ...(durationNs !== undefined ? { durationNs } : {}),
    shouldStop: () => cx.interrupted(),
    pause: (now) =>
      cx.runProgress({
        doneNs: now - startNs,
        ...(durationNs !== undefined ? { totalNs: durationNs } : {}),
        sent: flows.reduce((n, f) => n + f.metrics.sent, 0) - sentBefore,
        ...(Number.isFinite(count) ? { count: count - sentBefore } : {}),
      }),
  });
}

/**
 * E0513 when the run would have to send more than {@link MAX_RUN_PACKETS} packets and nothing
 * can stop it (a script: a plain `run` of `count=1e12` would never end), so the script must give
 * a duration. In the REPL Ctrl-C stops any run and keeps the session. True if refused.
 */
function overBudget(cmd: Run, cx: ExecContext): boolean {
  if (cx.interruptible) return false;
  const lab = cx.lab;
  const durationNs = cmd.duration?.value.value;
  const due = lab.packetsDue(durationNs === undefined ? undefined : lab.now + durationNs);
  if (due <= MAX_RUN_PACKETS) return false;
  const pps = lab.traffics.filter((f) => !f.source.done).reduce((n, f) => n + f.schedule.pps, 0);
  const fits = pps > 0 ? (MAX_RUN_PACKETS / pps) * 1e9 : 0;
  const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });
  cx.diagnostics.push(error("E0513", `this run would send ${fmt(due)} packets`, {
    span: cmd.duration?.span ?? cmd.span,
    label: durationNs === undefined
      ? "runs until every traffic is done"
      : "too long for the traffics",
    notes: [
      `a script's run sends at most ${fmt(MAX_RUN_PACKETS)} packets (about two minutes of wall ` +
      "time); in the REPL, Ctrl-C stops a run instead",
    ],
    help: fits >= 1
      ? [
        `run for a time: \`run ${humanNs(fits).replace(/ /g, "")}\` sends about ${
          fmt(MAX_RUN_PACKETS)
        }`,
      ]
      : ["give the traffics fewer packets"],
  }));
  return true;
}

const run: Executor<Run> = async (cmd, cx) => {
  if (cx.mode === "check") return;
  const lab = cx.lab;
  ensureCostProfile(lab);
  if (overBudget(cmd, cx)) return;
  if (cmd.trace !== undefined) lab.setTraceLevel(cmd.trace.value);
  const before = lab.now;
  const r = await runLab(cx, cmd.duration?.value.value);
  for (const v of r.violations) {
    cx.diagnostics.push(
      error("E0509", `traffic \`${v.flow}\`: ${describeConservationViolation(v.v)}`, {
        span: cmd.span,
        label: "the books of this run do not balance",
        notes: ["every packet sent must be delivered or dropped with a reason"],
      }),
    );
  }
  let done = reported.get(lab);
  if (done === undefined) {
    done = new Set();
    reported.set(lab, done);
  }
  const ran = lab.traffics.filter((f) =>
    !done.has(f.name) && (f.metrics.sent > 0 || f.metrics.firstSend >= before)
  );
  const summaries: Record<string, FlowSummary> = {};
  const lines: string[] = [];
  for (const f of ran) {
    const s = lab.metrics.summary(f.name);
    summaries[f.name] = s;
    if (f.kind === "ping") lines.push(pingOutput(f, s));
    else lines.push(runLine(f, s));
    if (f.source.done && s.in_flight === 0) done.add(f.name);
  }
  if (cmd.json || cx.settings.json) cx.print(`${summariesJson(summaries)}\n`);
  else {
    const head = `run: ${humanNs(r.endNs - r.startNs)} of virtual time` +
      (r.stop === "stopped" ? " (interrupted)" : r.stop === "until" ? "" : "");
    cx.print(`${[head, ...lines].join("\n")}\n`);
  }
  await flushCaptures(cx);
};

/** The executors of this file. */
export const RUN_EXECUTORS: ExecutorTable = { run };
