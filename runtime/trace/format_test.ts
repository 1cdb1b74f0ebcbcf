import assert from "node:assert/strict";
import {
  formatBps,
  formatControl,
  formatDetails,
  formatEvent,
  formatEvents,
  formatHop,
  formatNs,
  formatPacketTrace,
} from "./format.ts";
import { runPipeline } from "./testdata/pipeline.ts";

Deno.test("the trace of one packet, in the stable text form", async (t) => {
  const run = runPipeline({ count: 8, burst: 4, rate: { kind: "pps", pps: 1e6 } });
  const trace = run.recorder.packetTrace("t1", 4);
  assert.ok(trace.ok);
  await t.assertSnapshot(formatPacketTrace(trace.value), { serializer: String });
});

Deno.test("a listing of every event with its packet column", async (t) => {
  const run = runPipeline({ count: 3, burst: 2, rate: { kind: "pps", pps: 1e6 }, level: "full" });
  run.recorder.control({
    type: "control",
    t: 0,
    dur: 150,
    ctx: "",
    comp: "vhost-net",
    action: "ioctl",
    details: { name: "VHOST_SET_VRING_KICK", fd: 7, value: "index 1 fd 23" },
  });
  await t.assertSnapshot(formatEvents(run.recorder.events()), { serializer: String });
});

Deno.test("formatNs() prints whole ns plainly and at most three decimals otherwise", () => {
  assert.equal(formatNs(0), "0");
  assert.equal(formatNs(-0), "0");
  assert.equal(formatNs(1250), "1250");
  assert.equal(formatNs(67.2), "67.2");
  assert.equal(formatNs(0.1 + 0.2), "0.3");
  assert.equal(formatNs(1 / 3), "0.333");
  assert.equal(formatNs(1e15), "1000000000000000");
  assert.equal(formatNs(2.0004), "2");
});

Deno.test("formatBps() picks the largest unit", () => {
  assert.equal(formatBps(10e9), "10Gbps");
  assert.equal(formatBps(2.5e9), "2.5Gbps");
  assert.equal(formatBps(100e6), "100Mbps");
  assert.equal(formatBps(400e12), "400Tbps");
  assert.equal(formatBps(9600), "9.6Kbps");
  assert.equal(formatBps(12), "12bps");
});

Deno.test("formatDetails() orders keys canonically, prints addresses in hex, quotes text", () => {
  assert.equal(
    formatDetails({ bytes: 60, to: "skb", from: "guest" }),
    "from=guest to=skb bytes=60",
  );
  assert.equal(
    formatDetails({ len: 72, to: 0x7f000000, addr: 4096, space: "iova-hva" }, { hexTo: true }),
    "space=iova-hva addr=0x1000 to=0x7f000000 len=72",
  );
  assert.equal(
    formatDetails({ zeta: 1, alpha: "x", q: "rx0", hit: true, roundtrip: false }),
    "q=rx0 hit=yes roundtrip=no alpha=x zeta=1",
  );
  assert.equal(
    formatDetails({ ids: [3, 4, 5], detail: "iova 0x2000 not mapped", why: "" }),
    'ids=3,4,5 why="" detail="iova 0x2000 not mapped"',
  );
  assert.equal(formatDetails({ q: "tx0", batch: undefined }), "q=tx0");
});

Deno.test("the same hop prints the same line whatever order its details were written in", () => {
  const a = formatHop({
    type: "hop",
    t: 5,
    dur: 1,
    ctx: "vcpu0",
    comp: "c",
    action: "pop",
    flow: "t1",
    pkt: 1,
    details: { q: "tx0", head: 1, descs: 2, bytes: 3 },
  });
  const b = formatHop({
    type: "hop",
    t: 5,
    dur: 1,
    ctx: "vcpu0",
    comp: "c",
    action: "pop",
    flow: "t1",
    pkt: 1,
    details: { bytes: 3, descs: 2, head: 1, q: "tx0" },
  });
  assert.equal(a, b);
});

Deno.test("long names push the next column instead of being cut", () => {
  const line = formatControl({
    type: "control",
    t: 1,
    dur: 0,
    ctx: "a-very-long-context-name",
    comp: "c",
    action: "vhost-user-msg",
    details: { name: "VHOST_USER_SET_MEM_TABLE" },
  });
  assert.ok(line.includes("a-very-long-context-name c "), line);
  assert.ok(line.endsWith("vhost-user-msg   name=VHOST_USER_SET_MEM_TABLE"), line);
  assert.equal(
    formatEvent({ type: "truncated", t: 100, omitted: 1 }).trim(),
    "100 --- trace cap reached: 1 more event not kept ---",
  );
});
