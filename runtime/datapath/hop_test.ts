import assert from "node:assert/strict";
import { COST_KEYS, type CostEntry, type CostKey, resolveCosts } from "../sim/cost.ts";
import { Counter, Metrics } from "../trace/metrics.ts";
import { Recorder } from "../trace/recorder.ts";
import { Hops } from "./hop.ts";

function costs(over: Partial<Record<CostKey, Partial<CostEntry>>> = {}) {
  const entries = Object.fromEntries(COST_KEYS.map((k): [CostKey, CostEntry] => [k, {
    ns: 100,
    cycles: false,
    charge: "cpu",
    basis: "test",
    ...over[k],
  }])) as Record<CostKey, CostEntry>;
  return resolveCosts({ name: "test", referenceGhz: 3, entries });
}

function world(level: "off" | "sample" | "full" = "sample", samplePackets = 2) {
  const metrics = new Metrics();
  const recorder = new Recorder({ level, samplePackets });
  const hops = new Hops(recorder, costs({ wire_latency: { charge: "delay", ns: 250 } }));
  const ctx = metrics.addContext("vhost", "vhost-1");
  const m1 = metrics.addFlow("t1");
  const m2 = metrics.addFlow("t2");
  return { hops, recorder, ctx, f1: { name: "t1", metrics: m1 }, f2: { name: "t2", metrics: m2 } };
}

Deno.test("Hops.charge occupies the context for cpu costs and only delays for delay costs", () => {
  const w = world();
  assert.equal(w.hops.charge(w.ctx, 0, "vmexit_light", 0, w.f1), 100);
  assert.equal(w.hops.charge(w.ctx, 0, "vmexit_light", 0, w.f1), 200, "queued behind the first");
  assert.equal(w.hops.t, 100, "the hop starts when the context was free");
  assert.equal(w.hops.charge(w.ctx, 50, "wire_latency", 0, w.f1), 300);
  assert.equal(w.ctx.busyNs, 200, "a delay does not occupy the context");
  assert.equal(w.ctx.busyNsOf(w.f1.metrics.index), 200);
});

Deno.test("Hops.cost adds the per-byte part (memcpy = a + b·n)", () => {
  const hops = new Hops(new Recorder(), costs({ memcpy: { ns: 10, perByteNs: 0.5 } }));
  assert.equal(hops.cost("memcpy", 100), 60);
});

Deno.test("Hops records only sampled packets, with the last charge's start, cost and context", () => {
  const w = world("sample", 1);
  for (const seq of [1, 2]) {
    w.hops.charge(w.ctx, 0, "syscall", 0, w.f1);
    if (w.hops.wants(w.f1, seq)) w.hops.record(w.f1, seq, "x", "syscall", { name: "writev" });
  }
  const ev = w.recorder.events();
  assert.equal(ev.length, 1);
  const e = ev[0];
  assert.ok(e?.type === "hop");
  assert.equal(e.pkt, 1);
  assert.equal(e.ctx, "vhost-1");
  assert.equal(e.dur, 100);
});

Deno.test("Hops with tracing off records nothing and still counts drops", () => {
  const w = world("off");
  assert.equal(w.hops.wants(w.f1, 1), false);
  w.hops.drop(w.f1, 1, w.ctx, 10, "x", "ring_full");
  assert.equal(w.f1.metrics.droppedFor("ring_full"), 1);
  assert.equal(w.recorder.events().length, 0);
});

Deno.test("PacketGroup counts a batch hop once per traffic and records it per sampled packet", () => {
  const w = world("sample", 2);
  const g = w.hops.group();
  for (const seq of [1, 2, 3]) g.add(w.f1, seq);
  g.add(w.f2, 1);
  assert.equal(g.size, 4);
  assert.equal(g.flow, w.f1, "the first packet's traffic pays");
  g.count(Counter.kicks);
  assert.equal(w.f1.metrics.get("kicks"), 1);
  assert.equal(w.f2.metrics.get("kicks"), 1);
  w.hops.charge(w.ctx, 0, "vmexit_light", 0, g.flow);
  g.record("kvm", "vmexit", { reason: "ept-misconfig", exit: "light", batch: g.size });
  const pkts = w.recorder.events().map((e) => (e.type === "hop" ? `${e.flow}#${e.pkt}` : ""));
  assert.deepEqual(pkts, ["t1#1", "t1#2", "t2#1"], "t1#3 is not sampled");
});

Deno.test("PacketGroup.mark keeps a hop charged before its packets were known", () => {
  const w = world("full");
  const g = w.hops.group();
  w.hops.charge(w.ctx, 500, "thread_wakeup_remote", 0, undefined);
  g.mark();
  w.hops.charge(w.ctx, 0, "syscall", 0, w.f1);
  g.add(w.f1, 9);
  g.recordMark("vhost-net", "wakeup", { thread: "vhost-1" });
  const e = w.recorder.events()[0];
  assert.ok(e?.type === "hop");
  assert.equal(e.t, 500);
  assert.equal(e.dur, 100);
  assert.equal(e.pkt, 9);
});

Deno.test("PacketGroup.reset forgets the batch; an empty group counts nothing", () => {
  const w = world();
  const g = w.hops.group();
  g.add(w.f1, 1);
  g.reset();
  g.count(Counter.kicks);
  assert.equal(w.f1.metrics.get("kicks"), 0);
  assert.equal(g.sampled, false);
});
