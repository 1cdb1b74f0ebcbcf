import assert from "node:assert/strict";
import { Scheduler } from "../sim/scheduler.ts";
import { qemuMac } from "./address.ts";
import { planUdpFlow, type UdpFlowSpec } from "./flow.ts";
import { TrafficSource } from "./source.ts";

function plan(over: Partial<UdpFlowSpec>) {
  const r = planUdpFlow({
    flowId: 1,
    frameBytes: 64,
    count: 10,
    rate: { kind: "pps", pps: 1e6 },
    srcMac: qemuMac(0),
    dstMac: qemuMac(1),
    srcIp: 1,
    dstIp: 2,
    ...over,
  });
  if (!r.ok) throw new Error("bad spec");
  return r.value;
}

Deno.test("TrafficSource hands over every burst at its send time, then says done", () => {
  const sched = new Scheduler();
  const seen: string[] = [];
  let doneAt = -1;
  const src = new TrafficSource(plan({ count: 10, burst: 4 }), {
    sched,
    onBurst: (now, first, last) => seen.push(`${now}:${first}-${last}`),
    onDone: (now) => (doneAt = now),
  });
  src.start();
  sched.run();
  assert.deepEqual(seen, ["0:1-4", "4000:5-8", "8000:9-10"]);
  assert.equal(doneAt, 8000);
  assert.ok(src.done);
  assert.equal(src.nextSeq, 11);
  assert.throws(() => src.start(), /already started/);
});

Deno.test("a 10^12-packet traffic keeps one pending event and resumes after a stop", () => {
  const sched = new Scheduler();
  let sent = 0;
  const src = new TrafficSource(plan({ count: 1e12, burst: 32, rate: { kind: "pps", pps: 1e7 } }), {
    sched,
    onBurst: (_now, first, last) => (sent += last - first + 1),
  });
  src.start();
  for (let ms = 1; ms <= 3; ms++) {
    sched.run({ until: ms * 1e6 });
    assert.equal(sched.pending, 1);
    // 10 Mpps in bursts of 32: bursts every 3.2 µs, those starting at or before the limit.
    assert.equal(sent, (Math.floor((ms * 1e6) / 3200) + 1) * 32);
  }
  assert.ok(!src.done);
  assert.equal(src.stop(), true);
  assert.equal(src.stop(), false);
  assert.equal(sched.pending, 0);
  const before = sent;
  sched.run({ until: 10e6 });
  assert.equal(sent, before);
  assert.ok(src.stopped);
});

Deno.test("stopping from inside a burst handler sends no further burst", () => {
  const sched = new Scheduler();
  const bursts: number[] = [];
  const src: TrafficSource = new TrafficSource(plan({ count: 100, burst: 10 }), {
    sched,
    onBurst: (_now, first) => {
      bursts.push(first);
      if (first === 21) src.stop();
    },
  });
  src.start();
  sched.run();
  assert.deepEqual(bursts, [1, 11, 21]);
});

Deno.test("a source started late sends its overdue first burst at once", () => {
  const sched = new Scheduler();
  sched.at(5000, () => {});
  sched.run();
  const seen: number[] = [];
  new TrafficSource(plan({ count: 3 }), { sched, onBurst: (now) => seen.push(now) }).start();
  sched.run();
  // Packets were due at 0, 1000, 2000; the schedule is not shifted, overdue ones go now.
  assert.deepEqual(seen, [5000, 5000, 5000]);
});
