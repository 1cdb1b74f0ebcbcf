import assert from "node:assert/strict";
import { Metrics } from "../trace/metrics.ts";
import { qemuMac } from "./address.ts";
import {
  checkConservation,
  describeConservationViolation,
  describeFlowSpecError,
  FlowSink,
  planPing,
  planUdpFlow,
  type UdpFlowSpec,
} from "./flow.ts";
import { buildEchoRequest, echoReplyInPlace } from "./icmp.ts";
import { linePps } from "./line_rate.ts";

const BASE: UdpFlowSpec = {
  flowId: 1,
  frameBytes: 64,
  count: 10,
  rate: { kind: "pps", pps: 1e6 },
  srcMac: qemuMac(0),
  dstMac: qemuMac(1),
  srcIp: 0x0a000001,
  dstIp: 0x0a000002,
};

const { count: _count, ...NO_COUNT } = BASE;

function plan(over: Partial<UdpFlowSpec>, base: UdpFlowSpec = BASE) {
  const r = planUdpFlow({ ...base, ...over });
  if (!r.ok) throw new Error(r.error.map(describeFlowSpecError).join("; "));
  return r.value;
}

Deno.test("planUdpFlow() spaces single packets at 1/rate", () => {
  const s = plan({ rate: { kind: "pps", pps: 2e6 } });
  assert.deepEqual([1, 2, 3, 10].map((k) => s.sendTime(k)), [0, 500, 1000, 4500]);
  assert.ok(s.endsBurst(1) && s.endsBurst(10));
});

Deno.test("planUdpFlow() sends bursts back to back at the average rate", () => {
  const s = plan({ burst: 4, count: 10, startNs: 100 });
  assert.deepEqual(
    Array.from({ length: 10 }, (_, i) => s.sendTime(i + 1)),
    [100, 100, 100, 100, 4100, 4100, 4100, 4100, 8100, 8100],
  );
  assert.deepEqual(Array.from({ length: 10 }, (_, i) => s.endsBurst(i + 1)), [
    false,
    false,
    false,
    true,
    false,
    false,
    false,
    true,
    false,
    true,
  ]);
});

Deno.test("rate=line and rate=<wire bps> give the same schedule on the same link", () => {
  const line = plan({ rate: { kind: "line", linkBps: 10e9 }, count: 1000 });
  const bps = plan({ rate: { kind: "bps", bps: 10e9 }, count: 1000 });
  assert.equal(line.pps, linePps(10e9, 64));
  assert.equal(line.sendTime(1000), bps.sendTime(1000));
  // 14,880,952.38 pps: packets 1 … 14,880,953 leave within the first second.
  assert.ok(line.sendTime(14_880_953) < 1e9);
  assert.ok(line.sendTime(14_880_954) >= 1e9);
});

Deno.test("the schedule does not drift over 10^12 packets", () => {
  const s = plan({ count: 1e12, rate: { kind: "pps", pps: 1e7 }, burst: 32 });
  // Packet 10^12 - the last of burst 31,249,999,999 - starts at 31,249,999,999 · 3.2 µs.
  assert.equal(s.sendTime(1e12), 31_249_999_999 * 3200);
  assert.equal(s.count, 1e12);
});

Deno.test("a duration sends every whole burst that starts before it ends", () => {
  const s = plan({ durationNs: 10_000, burst: 4 }, NO_COUNT);
  // Bursts at 0, 4000, 8000 start before 10 µs.
  assert.equal(s.count, 12);
  const exact = plan({ durationNs: 8_000, burst: 4 }, NO_COUNT);
  assert.equal(exact.count, 8);
});

Deno.test("flows=N cycles N source ports", () => {
  const s = plan({ flows: 3, frameBytes: 128 });
  const buf = new Uint8Array(200);
  const ports: number[] = [];
  for (let k = 1; k <= 5; k++) {
    s.buildFrame(buf, k);
    ports.push((buf[34] as number) << 8 | (buf[35] as number));
  }
  assert.deepEqual(ports, [1024, 1025, 1026, 1024, 1025]);
});

Deno.test("planUdpFlow() reports every bad option by its script name", () => {
  const r = planUdpFlow({
    ...BASE,
    frameBytes: 60,
    count: 0,
    burst: 0,
    flows: 70_000,
    rate: { kind: "pps", pps: -1 },
  });
  assert.ok(!r.ok);
  assert.deepEqual(r.error.map(describeFlowSpecError), [
    "`size` = 60 is out of range [64, 65553]",
    "`burst` = 0 is out of range [1, 1048576]",
    "`flows` = 70000 is out of range [1, 64512]",
    "`rate` = -1 is out of range [0.001, 1000000000000]",
    "`count` = 0 is out of range [1, 9007199254740991]",
  ]);
  const both = planUdpFlow({ ...BASE, durationNs: 5 });
  assert.ok(!both.ok);
  assert.deepEqual(both.error, [{ kind: "count-and-duration" }]);
  const neither = planUdpFlow(NO_COUNT);
  assert.ok(!neither.ok);
  assert.deepEqual(neither.error, [{ kind: "no-count-or-duration" }]);
  const frac = planUdpFlow({ ...BASE, count: 2.5 });
  assert.ok(!frac.ok);
});

Deno.test("FlowSink delivers intact frames with their latency from the send time", () => {
  const m = new Metrics();
  const fm = m.addFlow("t1");
  const s = plan({ count: 3, rate: { kind: "pps", pps: 1e6 } });
  const sink = new FlowSink(fm, s);
  const buf = new Uint8Array(60);
  for (let k = 1; k <= 3; k++) {
    fm.onSend(s.sendTime(k), 64);
    s.buildFrame(buf, k);
    assert.equal(sink.receiveUdp(s.sendTime(k) + 500 * k, buf), "delivered");
  }
  assert.equal(fm.delivered, 3);
  assert.equal(fm.latency.max, 1500);
  assert.equal(fm.latency.min, 500);
  assert.equal(checkConservation(fm, { finished: true }), undefined);
});

Deno.test("FlowSink drops damaged frames with a reason and keeps the books balanced", () => {
  const m = new Metrics();
  const fm = m.addFlow("t1");
  const s = plan({ count: 4, frameBytes: 128 });
  const sink = new FlowSink(fm, s);
  const buf = new Uint8Array(124);
  for (let k = 1; k <= 4; k++) fm.onSend(s.sendTime(k), 128);
  s.buildFrame(buf, 1);
  buf[30] = (buf[30] as number) ^ 1; // destination IP: IP checksum fails
  assert.equal(sink.receiveUdp(10, buf), "bad_checksum");
  assert.equal(sink.lastProblem?.kind, "bad-ip-checksum");
  s.buildFrame(buf, 2);
  buf[90] = (buf[90] as number) ^ 1;
  assert.equal(sink.receiveUdp(11, buf), "bad_checksum"); // UDP checksum
  s.buildFrame(buf, 3);
  buf[40] = 0; // checksum "not computed": the payload check is all that is left
  buf[41] = 0;
  buf[100] = (buf[100] as number) ^ 1;
  assert.equal(sink.receiveUdp(12, buf), "corrupt_payload");
  assert.equal(sink.lastProblem?.kind, "payload-mismatch");
  assert.equal(checkConservation(fm), undefined);
  const stuck = checkConservation(fm, { finished: true });
  assert.deepEqual(stuck, { kind: "stuck", inFlight: 1 });
  assert.equal(
    describeConservationViolation(stuck as NonNullable<typeof stuck>),
    "1 packet is neither delivered nor dropped after the run ended",
  );
  assert.equal(fm.droppedFor("bad_checksum"), 2);
  assert.equal(fm.droppedFor("corrupt_payload"), 1);
});

Deno.test("FlowSink counts duplicates apart and notices reordering", () => {
  const m = new Metrics();
  const fm = m.addFlow("t1");
  const s = plan({ count: 10_000 });
  const sink = new FlowSink(fm, s);
  const buf = new Uint8Array(60);
  const deliver = (k: number) => (s.buildFrame(buf, k), sink.receiveUdp(100_000, buf));
  for (let k = 1; k <= 10_000; k++) fm.onSend(s.sendTime(k), 64);
  assert.equal(deliver(1), "delivered");
  assert.equal(deliver(3), "delivered");
  assert.equal(deliver(2), "delivered"); // late
  assert.equal(deliver(2), "duplicate");
  assert.equal(deliver(3), "duplicate");
  assert.equal(deliver(9000), "delivered"); // jumps past the window
  assert.equal(deliver(9000), "duplicate");
  assert.equal(deliver(4), "delivered"); // too old to tell: counted late
  assert.equal(fm.delivered, 5);
  assert.equal(fm.duplicates, 3);
  assert.equal(fm.reordered, 2);
  assert.equal(fm.inFlight, 10_000 - 5);
  assert.equal(checkConservation(fm), undefined);
});

Deno.test("FlowSink leaves frames of another flow to their own sink", () => {
  const m = new Metrics();
  const fm = m.addFlow("t1");
  const mine = plan({ flowId: 1 });
  const other = plan({ flowId: 2 });
  const sink = new FlowSink(fm, mine);
  const buf = new Uint8Array(60);
  other.buildFrame(buf, 1);
  assert.equal(sink.receiveUdp(5, buf), "foreign");
  assert.equal(fm.delivered + fm.dropped, 0);
  // A sequence number the flow never sent is corruption, not a delivery.
  const short = plan({ flowId: 1, count: 2 });
  const big = plan({ flowId: 1, count: 5 });
  big.buildFrame(buf, 5);
  assert.equal(new FlowSink(fm, short).receiveUdp(5, buf), "corrupt_payload");
});

Deno.test("checkConservation() catches a datapath that counts a packet twice", () => {
  const m = new Metrics();
  const fm = m.addFlow("t1");
  fm.onSend(0, 64);
  fm.onDeliver(10, 64, 10);
  fm.onDrop(11, "ring_full");
  assert.deepEqual(checkConservation(fm), {
    kind: "over-counted",
    sent: 1,
    delivered: 1,
    dropped: 1,
  });
});

Deno.test("planPing() sends one request per interval and the sink measures the round trip", () => {
  const r = planPing({ flowId: 4, count: 3 });
  assert.ok(r.ok);
  const s = r.value;
  assert.equal(s.frameBytes, 102);
  assert.deepEqual([1, 2, 3].map((k) => s.sendTime(k)), [0, 1e9, 2e9]);
  const m = new Metrics();
  const fm = m.addFlow("ping1");
  const sink = new FlowSink(fm, s);
  const buf = new Uint8Array(98);
  for (let k = 1; k <= 3; k++) {
    fm.onSend(s.sendTime(k), s.frameBytes);
    buildEchoRequest(buf, {
      srcMac: qemuMac(0),
      dstMac: qemuMac(1),
      srcIp: 1,
      dstIp: 2,
      id: 1,
      seq: k,
      payloadBytes: 56,
      flowId: 4,
    });
    assert.equal(echoReplyInPlace(buf), undefined);
    assert.equal(sink.receiveEchoReply(s.sendTime(k) + 30_000, buf), "delivered");
  }
  assert.equal(fm.latency.percentile(50), 30_000);
  assert.ok(!planPing({ flowId: 1, count: 0 }).ok);
  assert.ok(!planPing({ flowId: 1, count: 1, payloadBytes: 8 }).ok);
  assert.throws(() => s.buildFrame(buf, 1), Error);
});
