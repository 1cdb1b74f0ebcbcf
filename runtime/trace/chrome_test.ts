import assert from "node:assert/strict";
import { toChromeTrace } from "./chrome.ts";
import { runPipeline } from "./testdata/pipeline.ts";

interface ChromeEvent {
  name: string;
  cat?: string;
  ph: string;
  ts?: number;
  dur?: number;
  pid: number;
  tid: number;
  id?: number;
  bp?: string;
  s?: string;
  args?: Record<string, unknown>;
}

function load(json: string): ChromeEvent[] {
  const doc = JSON.parse(json) as { displayTimeUnit: string; traceEvents: ChromeEvent[] };
  assert.equal(doc.displayTimeUnit, "ns");
  return doc.traceEvents;
}

const run = runPipeline({ count: 12, burst: 4, rate: { kind: "pps", pps: 1e6 }, level: "full" });
run.recorder.control({
  type: "control",
  t: 10,
  dur: 0,
  ctx: "",
  comp: "vdpa",
  action: "device",
  details: { name: "vdpa0", op: "add" },
});
const contexts = run.metrics.contexts.map((c) => c.name);
const json = toChromeTrace(run.recorder.events(), { contexts });
const events = load(json);

Deno.test("one named track per CPU context, in the given order, plus the control plane", () => {
  const names = events.filter((e) => e.ph === "M" && e.name === "thread_name");
  assert.deepEqual(names.map((e) => [e.tid, e.args?.name]), [
    [1, "vcpu0"],
    [2, "vhost-4242"],
    [3, "wire-eth0"],
    [4, "control-plane"],
  ]);
  const proc = events.find((e) => e.name === "process_name");
  assert.equal(proc?.args?.name, "vdpa-lab");
  const sort = events.filter((e) => e.name === "thread_sort_index");
  assert.equal(sort.length, 4);
});

Deno.test("one complete slice per hop with µs timestamps at ns precision", () => {
  const hops = run.recorder.events().filter((e) => e.type === "hop");
  const slices = events.filter((e) => e.ph === "X");
  assert.equal(slices.length, hops.length);
  const serialize = slices.find((e) => e.name === "serialize");
  assert.ok(serialize);
  assert.equal(serialize.dur, 0.067); // 67.2 ns rounded to the ns
  for (const s of slices) {
    assert.ok(Number.isInteger(Math.round((s.ts ?? 0) * 1000 * 1000) / 1000));
    assert.ok((s.dur ?? -1) >= 0);
    assert.equal(typeof s.args?.packet, "string");
  }
  const control = events.filter((e) => e.ph === "i");
  assert.equal(control.length, 1);
  assert.equal(control[0]?.tid, 4);
});

Deno.test("slices on one track never overlap unless they are the same batch hop", () => {
  const byTid = new Map<number, ChromeEvent[]>();
  for (const e of events.filter((x) => x.ph === "X")) {
    byTid.set(e.tid, [...(byTid.get(e.tid) ?? []), e]);
  }
  for (const [tid, list] of byTid) {
    list.sort((a, b) => (a.ts ?? 0) - (b.ts ?? 0));
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1] as ChromeEvent;
      const cur = list[i] as ChromeEvent;
      const prevEnd = Math.round(((prev.ts ?? 0) + (prev.dur ?? 0)) * 1000);
      const start = Math.round((cur.ts ?? 0) * 1000);
      assert.ok(
        start >= prevEnd || cur.dur === 0 || prev.dur === 0,
        `track ${tid}: ${prev.name} / ${cur.name}`,
      );
    }
  }
});

Deno.test("each packet gets one flow arrow: s, then t…, then f bound to its enclosing slice", () => {
  const flows = events.filter((e) => e.ph === "s" || e.ph === "t" || e.ph === "f");
  const ids = new Set(flows.map((e) => e.id));
  assert.equal(ids.size, 12);
  for (const id of ids) {
    const chain = flows.filter((e) => e.id === id);
    assert.equal(chain[0]?.ph, "s");
    assert.equal(chain[chain.length - 1]?.ph, "f");
    assert.equal(chain[chain.length - 1]?.bp, "e");
    assert.ok(chain.slice(1, -1).every((e) => e.ph === "t"));
    assert.equal(new Set(chain.map((e) => e.name)).size, 1);
    // Every step sits inside (at the start of) a slice on the same track.
    for (const step of chain) {
      const slice = events.find((e) =>
        e.ph === "X" && e.tid === step.tid && e.ts === step.ts && e.args?.packet === step.name
      );
      assert.ok(slice, `${step.name} ${step.ph} at ${step.ts}`);
    }
    for (let i = 1; i < chain.length; i++) {
      assert.ok((chain[i]?.ts ?? 0) >= (chain[i - 1]?.ts ?? 0));
    }
  }
});

Deno.test("keys come out in a fixed order, so the export is byte-stable", () => {
  assert.match(
    json,
    /^\{"displayTimeUnit":"ns","traceEvents":\[\{"name":"process_name","ph":"M","pid":1,"tid":0,/,
  );
  assert.match(
    json,
    /\{"name":"pop","cat":"vhost-net","ph":"X","ts":[0-9.]+,"dur":0\.06,"pid":1,"tid":2,"args":\{"packet":"t1#1","q":"tx0","head":0,"descs":1,"bytes":72\}\}/,
  );
  assert.equal(toChromeTrace(run.recorder.events(), { contexts }), json);
});

Deno.test("a truncated recording leaves a global marker in the export", () => {
  const small = runPipeline({ count: 20, level: "full", maxEvents: 30 });
  const ev = load(toChromeTrace(small.recorder.events()));
  const marker = ev.find((e) => e.ph === "i" && e.s === "g");
  assert.ok(marker);
  assert.match(marker.name, /^trace cap reached: \d+ events not kept$/);
});
