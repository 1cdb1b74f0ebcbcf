import assert from "node:assert/strict";
import { describeMetricPathError, metricLeafPaths, resolveMetricPath } from "./metric_path.ts";
import { runPipeline } from "./testdata/pipeline.ts";

const run = runPipeline({ count: 640, burst: 32, ringSize: 64 });
const all = run.metrics.summaries();
const s = all.t1;

function value(path: string) {
  const r = resolveMetricPath(all, path);
  if (!r.ok) throw new Error(describeMetricPathError(r.error));
  return r.value;
}

function error(path: string) {
  const r = resolveMetricPath(all, path);
  if (r.ok) throw new Error(`${path} resolved to ${r.value}`);
  return r.error;
}

Deno.test("the documented paths resolve to the summary's numbers", () => {
  assert.ok(s !== undefined);
  assert.equal(value("t1.sent"), 640);
  assert.equal(value("t1.delivered"), s.delivered);
  assert.equal(value("t1.dropped"), s.dropped);
  assert.equal(value("t1.dropped.ring_full"), s.dropped_by_reason.ring_full);
  assert.equal(value("t1.dropped_by_reason.ring_full"), s.dropped_by_reason.ring_full);
  assert.equal(value("t1.per_packet.vmexits"), s.per_packet.vmexits);
  assert.equal(value("t1.per_packet.copies"), s.per_packet.copies);
  assert.equal(value("t1.latency.p50_ns"), s.latency.p50_ns);
  assert.equal(value("t1.mpps"), s.mpps);
  assert.equal(value("t1.gbps"), s.gbps);
  assert.equal(value("t1.bottleneck"), s.bottleneck);
  assert.equal(typeof value("t1.bottleneck"), "string");
  assert.equal(value("t1.cpu_ns.vhost-4242"), s.cpu_ns["vhost-4242"]);
});

Deno.test("a typo gets a did-you-mean and the list of what exists there", () => {
  const e = error("t1.per_packet.vmexit");
  assert.equal(e.kind, "unknown-metric");
  assert.ok(e.kind === "unknown-metric");
  assert.equal(e.suggestion, "per_packet.vmexits");
  assert.ok(e.known.includes("per_packet.kicks"));
  assert.match(
    describeMetricPathError(e),
    /^traffic `t1` has no metric `per_packet.vmexit`; did you mean `per_packet.vmexits`\?/,
  );
  const top = error("t1.deliverd");
  assert.ok(top.kind === "unknown-metric" && top.suggestion === "delivered");
  const reason = error("t1.dropped.ring_ful");
  assert.ok(reason.kind === "unknown-metric");
  assert.equal(reason.suggestion, "dropped.ring_full");
  assert.ok(reason.known.includes("dropped.mac_filter"));
});

Deno.test("an unknown traffic lists the traffics", () => {
  const e = error("t2.sent");
  assert.deepEqual(e, { kind: "unknown-traffic", traffic: "t2", known: ["t1"], suggestion: "t1" });
  assert.equal(
    describeMetricPathError(e),
    "no traffic named `t2`; did you mean `t1`? (traffics: `t1`)",
  );
  assert.equal(error("__proto__.sent").kind, "unknown-traffic");
  assert.equal(error("t1.constructor").kind, "unknown-metric");
});

Deno.test("a group is not a number", () => {
  const e = error("t1.latency");
  assert.equal(e.kind, "not-a-leaf");
  assert.ok(e.kind === "not-a-leaf" && e.children.includes("p99_ns"));
  assert.equal(error("t1").kind, "not-a-leaf");
  assert.equal(error("").kind, "empty-path");
  assert.equal(error("t1..sent").kind, "empty-path");
  assert.equal(error("t1.sent.more").kind, "unknown-metric");
});

Deno.test("metricLeafPaths() lists every readable path once", () => {
  assert.ok(s !== undefined);
  const paths = metricLeafPaths(s);
  assert.equal(new Set(paths).size, paths.length);
  for (const p of paths) {
    const r = resolveMetricPath(all, `t1.${p}`);
    assert.ok(r.ok, p);
  }
  assert.ok(paths.includes("dropped.no_rx_buffer"));
  assert.ok(paths.includes("latency.p99_ns"));
});
