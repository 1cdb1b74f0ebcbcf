import assert from "node:assert/strict";
import { describePacketTraceUnavailable, Recorder } from "./recorder.ts";
import { runPipeline } from "./testdata/pipeline.ts";
import type { HopEvent } from "./event.ts";

function deliver(pkt: number, flow = "t1"): HopEvent<"deliver"> {
  return {
    type: "hop",
    t: pkt * 10,
    dur: 0,
    ctx: "vcpu0",
    comp: "app",
    action: "deliver",
    flow,
    pkt,
    details: { dev: "eth0", bytes: 64, latency: 5 },
  };
}

Deno.test("level off records nothing and says tracing is off", () => {
  const run = runPipeline({ count: 100, burst: 4, level: "off" });
  assert.equal(run.recorder.events().length, 0);
  assert.equal(run.recorder.wants("t1", 1), false);
  const r = run.recorder.packetTrace("t1", 1, { sent: run.flow.sent });
  assert.ok(!r.ok);
  assert.equal(r.error.kind, "tracing-off");
  // The metrics still count everything.
  assert.equal(run.flow.delivered, 100);
});

Deno.test("level sample keeps the first K packets of a traffic, hop by hop", () => {
  const run = runPipeline({ count: 100, burst: 4, samplePackets: 3 });
  const one = run.recorder.packetTrace("t1", 1);
  assert.ok(one.ok);
  assert.ok(one.value.complete);
  assert.deepEqual(one.value.hops.map((h) => h.action), [
    "xmit",
    "add-avail",
    "wakeup",
    "pop",
    "translate",
    "copy",
    "xmit",
    "serialize",
    "deliver",
  ]);
  // Packet 4 ends its burst: it carries the kick.
  const pkts = new Set(run.recorder.events().flatMap((e) => (e.type === "hop" ? [e.pkt] : [])));
  assert.deepEqual([...pkts].sort(), [1, 2, 3]);
  const four = run.recorder.packetTrace("t1", 4, { sent: 100 });
  assert.ok(!four.ok);
  assert.deepEqual(four.error, { kind: "not-sampled", flow: "t1", pkt: 4, samplePackets: 3 });
  assert.equal(
    describePacketTraceUnavailable(four.error),
    "packet 4 of `t1` was not sampled: the sample level keeps packets 1 to 3 of each traffic " +
      "(use `trace level full`)",
  );
});

Deno.test("level sample keeps the first drops of each reason even for unsampled packets", () => {
  const run = runPipeline({ count: 640, burst: 32, ringSize: 8, samplePackets: 2 });
  const drops = run.recorder.events().filter((e) => e.type === "hop" && e.action === "drop");
  assert.equal(drops.length, 8);
  assert.ok(run.flow.droppedFor("ring_full") > 8);
  const first = drops[0];
  assert.ok(first?.type === "hop");
  const r = run.recorder.packetTrace("t1", first.pkt);
  assert.ok(r.ok);
  // Only the drop was kept for an unsampled packet: the trace says it is partial.
  assert.equal(r.value.hops.length, 1);
  assert.equal(r.value.complete, false);
});

Deno.test("level full keeps everything up to the cap, then a truncation marker", () => {
  const run = runPipeline({ count: 50, level: "full", maxEvents: 100 });
  const events = run.recorder.events();
  assert.equal(events.length, 101);
  const last = events[100];
  assert.ok(last?.type === "truncated");
  assert.equal(last.omitted, run.recorder.omitted);
  assert.ok(last.omitted > 0);
  const late = run.recorder.packetTrace("t1", 50, { sent: 50 });
  assert.ok(!late.ok);
  assert.equal(late.error.kind, "truncated");
  // A packet cut in the middle is reported as partial.
  const lastHop = events[99];
  assert.ok(lastHop?.type === "hop");
  const cut = run.recorder.packetTrace("t1", lastHop.pkt);
  assert.ok(cut.ok);
  assert.equal(cut.value.complete, lastHop.action === "deliver");
});

Deno.test("packetTrace() tells an unknown traffic and a packet never sent apart", () => {
  const rec = new Recorder();
  rec.addFlow("t1");
  rec.addFlow("t2");
  rec.hop(deliver(1));
  const unknown = rec.packetTrace("t3", 1);
  assert.ok(!unknown.ok);
  assert.deepEqual(unknown.error, {
    kind: "unknown-flow",
    flow: "t3",
    known: ["t1", "t2"],
    suggestion: "t1",
  });
  for (const pkt of [0, -1, 1.5, 9]) {
    const r = rec.packetTrace("t1", pkt, { sent: 8 });
    assert.ok(!r.ok);
    assert.equal(r.error.kind, "not-sent", String(pkt));
  }
  const none = rec.packetTrace("t2", 1);
  assert.ok(!none.ok);
  assert.equal(none.error.kind, "no-hops");
  const ok = rec.packetTrace("t1", 1);
  assert.ok(ok.ok && ok.value.complete);
});

Deno.test("control events are kept at sample and full, not at off", () => {
  for (const level of ["off", "sample", "full"] as const) {
    const rec = new Recorder({ level });
    rec.control({
      type: "control",
      t: 0,
      dur: 150,
      ctx: "qemu-main",
      comp: "vhost-net",
      action: "ioctl",
      details: { name: "VHOST_SET_OWNER", fd: 12 },
    });
    assert.equal(rec.events().length, level === "off" ? 0 : 1, level);
  }
});

Deno.test("Recorder rejects nonsense options (API misuse)", () => {
  assert.throws(() => new Recorder({ samplePackets: -1 }), RangeError);
  assert.throws(() => new Recorder({ maxEvents: 1.5 }), RangeError);
});

Deno.test("Recorder.clear() forgets events, samples and the cap count", () => {
  const rec = new Recorder({ level: "full", maxEvents: 2 });
  rec.addFlow("t1");
  for (const pkt of [1, 2, 3]) rec.hop(deliver(pkt));
  assert.equal(rec.omitted, 1);
  rec.clear();
  assert.equal(rec.events().length, 0);
  assert.equal(rec.omitted, 0);
  const r = rec.packetTrace("t1", 1);
  assert.ok(!r.ok);
  assert.equal(r.error.kind, "no-hops");
  rec.hop(deliver(4));
  assert.ok(rec.packetTrace("t1", 4).ok);
  assert.deepEqual(rec.flows, ["t1"]);
});

Deno.test("packetTrace() between recordings sees every hop recorded so far, in order", () => {
  const rec = new Recorder({ level: "full" });
  const hop = (pkt: number, t: number, flow = "t1"): HopEvent<"deliver"> => ({
    ...deliver(pkt, flow),
    t,
  });
  rec.hop(hop(1, 50));
  rec.hop(hop(2, 20));
  const first = rec.packetTrace("t1", 1);
  assert.ok(first.ok);
  assert.deepEqual(first.value.hops.map((h) => h.t), [50]);
  // more hops of the same packet after a query, and of a traffic never declared
  rec.hop(hop(1, 30));
  rec.hop(hop(1, 30, "t9"));
  rec.control({
    type: "control",
    t: 31,
    dur: 0,
    ctx: "",
    comp: "kernel",
    action: "note",
    details: {},
  });
  rec.hop(hop(1, 10));
  const again = rec.packetTrace("t1", 1);
  assert.ok(again.ok);
  assert.deepEqual(again.value.hops.map((h) => h.t), [10, 30, 50], "sorted by time");
  assert.equal(again.value.hops[1], rec.events().find((e) => e.type === "hop" && e.t === 30));
  assert.deepEqual(rec.flows, ["t1", "t9"], "a hop declares its traffic");
  const other = rec.packetTrace("t9", 1);
  assert.ok(other.ok && other.value.hops.length === 1);
  assert.equal(rec.kept, 6);
  rec.clear();
  assert.equal(rec.kept, 0);
  const gone = rec.packetTrace("t1", 1);
  assert.ok(!gone.ok && gone.error.kind === "no-hops", "cleared");
  rec.hop(hop(1, 70));
  const after = rec.packetTrace("t1", 1);
  assert.ok(after.ok);
  assert.deepEqual(after.value.hops.map((h) => h.t), [70], "only what came after the clear");
});
