import assert from "node:assert/strict";
import { Metrics } from "./metrics.ts";
import { formatFlowSummary, renderSummaryTable } from "./stats_text.ts";
import { runPipeline } from "./testdata/pipeline.ts";

Deno.test("show stats: one traffic with drops", async (t) => {
  const run = runPipeline({ count: 640, burst: 32, ringSize: 64 });
  await t.assertSnapshot(formatFlowSummary(run.metrics.summary("t1")), { serializer: String });
});

Deno.test("show stats: a polling context shows poll time and iterations", async (t) => {
  const m = new Metrics();
  const pmd = m.addContext("pmd", "pmd0", { polling: true, pollIterationNs: 50 });
  const f = m.addFlow("t1");
  for (let i = 0; i < 4; i++) {
    const t0 = i * 1000;
    f.onSend(t0, 64);
    const end = pmd.exec(pmd.discover(t0), 120, f.index);
    f.onDeliver(end, 64, end - t0);
  }
  await t.assertSnapshot(formatFlowSummary(m.summary("t1")), { serializer: String });
});

Deno.test("a comparison table takes its columns as metric paths", () => {
  const a = runPipeline({ count: 320, burst: 32, rate: { kind: "pps", pps: 100_000 } });
  const b = runPipeline({ count: 320, burst: 1, rate: { kind: "pps", pps: 100_000 } });
  const text = renderSummaryTable(
    [
      { label: "burst 32", summary: a.metrics.summary("t1") },
      { label: "burst 1", summary: b.metrics.summary("t1") },
    ],
    [
      { header: "delivered", path: "delivered" },
      { header: "exits/pkt", path: "per_packet.vmexits", decimals: 3 },
      { header: "worker ns", path: "cpu_ns.vhost-4242", decimals: 0 },
      { header: "bottleneck", path: "bottleneck" },
    ],
    { labelHeader: "run" },
  );
  const lines = text.split("\n");
  assert.equal(lines[0], "run       delivered  exits/pkt  worker ns  bottleneck");
  const cols = (line: string | undefined) => (line ?? "").split(/ {2,}/);
  assert.deepEqual(cols(lines[2]).filter((_, i) => i !== 3), [
    "burst 32",
    "320",
    "0.031",
    "vhost-4242",
  ]);
  assert.deepEqual(cols(lines[3]).filter((_, i) => i !== 3), [
    "burst 1",
    "320",
    "1.000",
    "vhost-4242",
  ]);
  assert.match(cols(lines[2])[3] ?? "", /^[\d,]+$/);
  assert.throws(
    () =>
      renderSummaryTable([{ label: "x", summary: a.metrics.summary("t1") }], [{
        header: "?",
        path: "per_packet.vmexit",
      }]),
    /did you mean `per_packet.vmexits`/,
  );
});

Deno.test("a column only some rows have prints '-' for the others", () => {
  const m = new Metrics();
  m.addContext("pmd", "pmd0", { polling: true, pollIterationNs: 50 });
  const f = m.addFlow("a");
  f.onSend(0, 64);
  const pmd = m.context("pmd0");
  assert.ok(pmd);
  f.onDeliver(pmd.exec(0, 10, f.index), 64, 10);
  const g = m.addFlow("b");
  g.onSend(0, 64);
  const text = renderSummaryTable(
    [{ label: "a", summary: m.summary("a") }, { label: "b", summary: m.summary("b") }],
    [{ header: "pmd", path: "cpu_ns.pmd0" }],
  );
  assert.equal(text, "   pmd\n-  ---\na   10\nb  -");
});
