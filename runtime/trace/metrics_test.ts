import assert from "node:assert/strict";
import { Counter, COUNTERS, Metrics, summariesJson } from "./metrics.ts";
import { DROP_REASONS } from "./event.ts";
import { runPipeline } from "./testdata/pipeline.ts";
import { formatEvents } from "./format.ts";
import { toChromeTrace } from "./chrome.ts";

Deno.test("two runs of the same world give byte-identical summaries, traces and exports", () => {
  const opts = { count: 2000, burst: 32, ringSize: 64, level: "full" as const };
  const a = runPipeline(opts);
  const b = runPipeline(opts);
  assert.equal(summariesJson(a.metrics.summaries()), summariesJson(b.metrics.summaries()));
  assert.equal(formatEvents(a.recorder.events()), formatEvents(b.recorder.events()));
  assert.equal(toChromeTrace(a.recorder.events()), toChromeTrace(b.recorder.events()));
  assert.equal(a.sched.fired, b.sched.fired);
});

Deno.test("the busiest context limits throughput and is named the bottleneck", () => {
  // 64 B at 10G line rate: the worker needs ~800 ns a packet, the wire 67.2 ns.
  const small = runPipeline({ count: 5000, burst: 32, ringSize: 4096 }).metrics.summary("t1");
  assert.equal(small.bottleneck, "vhost-4242");
  assert.ok(small.bottleneck_utilisation > 0.95, String(small.bottleneck_utilisation));
  // Worker per packet: 60 + 20 + (10 + 0.1·60) + 700 = 796 ns, plus a posted interrupt and
  // a wake-up per batch: a little under 1/796 ns = 1.256 Mpps.
  assert.ok(small.mpps > 1.2 && small.mpps < 1.256, String(small.mpps));
  // 1518 B: the wire needs 1230.4 ns a frame and becomes the bottleneck at 812.7 kpps.
  const big = runPipeline({ count: 3000, burst: 32, frameBytes: 1518, ringSize: 4096 })
    .metrics.summary("t1");
  assert.equal(big.bottleneck, "wire-eth0");
  assert.ok(Math.abs(big.mpps - 0.8127) < 0.01, String(big.mpps));
  assert.ok(Math.abs(big.wire_gbps - 10) < 0.1, String(big.wire_gbps));
  assert.ok(big.gbps < big.wire_gbps);
});

Deno.test("every packet is delivered or dropped with a reason", () => {
  const run = runPipeline({ count: 3200, burst: 32, ringSize: 16 });
  const s = run.metrics.summary("t1");
  assert.equal(s.sent, 3200);
  assert.ok(s.dropped > 0, "a 16-slot ring must overflow at line rate");
  assert.equal(s.dropped_by_reason.ring_full, s.dropped);
  assert.equal(s.sent, s.delivered + s.dropped + s.in_flight);
  assert.equal(s.in_flight, 0);
  assert.equal(s.duplicates, 0);
  assert.equal(Object.values(s.dropped_by_reason).reduce((a, b) => a + b, 0), s.dropped);
});

Deno.test("per-packet figures divide totals by packets sent", () => {
  const s = runPipeline({ count: 320, burst: 32, rate: { kind: "pps", pps: 100_000 } })
    .metrics.summary("t1");
  assert.equal(s.totals.vmexits, 10);
  assert.equal(s.per_packet.vmexits, 10 / 320);
  assert.equal(s.per_packet.kicks, 10 / 320);
  assert.equal(s.per_packet.copies, 1);
  assert.equal(s.totals.bytes_copied, 320 * 60);
  assert.equal(s.totals.interrupts, s.totals.interrupts_posted + s.totals.interrupts_exit);
  assert.equal(s.delivered, 320);
  assert.ok(s.latency.p50_ns <= s.latency.p90_ns && s.latency.p90_ns <= s.latency.p99_ns);
  assert.ok(s.latency.p99_ns <= s.latency.max_ns && s.latency.min_ns <= s.latency.p50_ns);
  // Lightly loaded: the first packet of a burst waits for its burst's xmits and the kick,
  // the wake-up, its own worker hops, the wire and its latency.
  assert.ok(s.latency.min_ns > 3000 && s.latency.max_ns < 50_000, JSON.stringify(s.latency));
  const cpu = Object.values(s.cpu_ns).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(s.cpu_ns_per_packet - cpu / 320) < 1e-3);
});

Deno.test("a summary has stable snake_case fields, all counters and all drop reasons", () => {
  const m = new Metrics();
  m.addContext("vcpu", "vcpu0");
  m.addFlow("idle");
  const s = m.summary("idle");
  assert.deepEqual(Object.keys(s), [
    "name",
    "frame_bytes",
    "sent",
    "delivered",
    "dropped",
    "in_flight",
    "dropped_by_reason",
    "bytes_sent",
    "bytes_delivered",
    "duplicates",
    "reordered",
    "duration_ns",
    "mpps",
    "gbps",
    "wire_gbps",
    "latency",
    "totals",
    "per_packet",
    "cpu_ns",
    "cpu_ns_per_packet",
    "utilisation",
    "poll_ns",
    "poll_iterations",
    "bottleneck",
    "bottleneck_utilisation",
  ]);
  assert.deepEqual(Object.keys(s.totals), [...COUNTERS, "interrupts"]);
  assert.deepEqual(Object.keys(s.dropped_by_reason), [...DROP_REASONS]);
  for (const k of Object.keys(s)) assert.match(k, /^[a-z0-9_]+$/);
  assert.equal(s.bottleneck, "none");
  assert.equal(s.mpps, 0);
  assert.equal(s.latency.p99_ns, 0);
});

Deno.test("polling contexts report poll time and empty iterations over the traffic", () => {
  const m = new Metrics();
  const pmd = m.addContext("pmd", "pmd0", { polling: true, pollIterationNs: 50 });
  const f = m.addFlow("t1");
  f.onSend(0, 64);
  const end = pmd.exec(pmd.discover(120), 100, f.index); // noticed at 150
  f.add(Counter.descriptors);
  f.onDeliver(end, 64, end);
  const s = m.summary("t1");
  assert.equal(end, 250);
  assert.equal(s.cpu_ns.pmd0, 100);
  assert.equal(s.utilisation.pmd0, 0.4);
  assert.equal(s.poll_ns.pmd0, 150);
  assert.equal(s.poll_iterations.pmd0, 3);
  assert.equal(s.bottleneck, "pmd0");
});

Deno.test("Metrics refuses duplicate names and unknown traffics (API misuse)", () => {
  const m = new Metrics();
  m.addContext("vcpu", "vcpu0");
  assert.throws(() => m.addContext("vhost", "vcpu0"), /already exists/);
  m.addFlow("t1");
  assert.throws(() => m.addFlow("t1"), /already exists/);
  assert.throws(() => m.summary("t2"), /Unknown traffic/);
  assert.equal(m.flow("t2"), undefined);
  assert.equal(m.context("vcpu0")?.kind, "vcpu");
});

Deno.test("contextSummaries() reports busy time, backlog and waits per context", () => {
  const run = runPipeline({ count: 640, burst: 32 });
  const now = run.sched.now;
  const rows = run.metrics.contextSummaries(now);
  assert.deepEqual(rows.map((r) => r.name), ["vcpu0", "vhost-4242", "wire-eth0"]);
  const worker = rows[1];
  const delivered = run.flow.delivered;
  // Four jobs per packet it handled (pop, translate, copy, tap write) plus batch work.
  assert.ok(worker !== undefined && worker.jobs >= delivered * 4, JSON.stringify(worker));
  assert.ok(worker.max_backlog >= 1);
  // The guest cannot keep up with line rate at 300 ns per xmit: its bursts queue.
  assert.ok((rows[0]?.max_wait_ns ?? 0) > 0);
  for (const r of rows) assert.ok(r.utilisation >= 0 && r.utilisation <= 1);
});

Deno.test("counting 10^7 packets allocates no per-packet state", () => {
  const m = new Metrics();
  const vcpu = m.addContext("vcpu", "vcpu0");
  const f = m.addFlow("t1");
  const before = Deno.memoryUsage().heapUsed;
  let t = 0;
  for (let i = 0; i < 10_000_000; i++) {
    f.onSend(t, 64);
    t = vcpu.exec(t, 10, f.index);
    f.add(Counter.vmexits);
    f.onDeliver(t, 64, 10 + (i & 255));
  }
  const grown = Deno.memoryUsage().heapUsed - before;
  assert.equal(m.summary("t1").delivered, 10_000_000);
  assert.ok(grown < 8_000_000, `heap grew ${grown} bytes`);
});
