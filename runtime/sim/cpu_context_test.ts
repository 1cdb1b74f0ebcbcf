import assert from "node:assert/strict";
import { CpuContext } from "./cpu_context.ts";
import { Scheduler } from "./scheduler.ts";

Deno.test("CpuContext.exec() starts at max(readyAt, busyUntil)", () => {
  const c = new CpuContext("vhost", "vhost-1");
  assert.deepEqual(c.exec(100, 50), 150);
  assert.deepEqual(c.lastStart, 100);
  // Ready while busy: waits.
  assert.deepEqual(c.exec(120, 10), 160);
  assert.deepEqual(c.lastStart, 150);
  // Ready after idle: starts at once.
  assert.deepEqual(c.exec(500, 5), 505);
  assert.deepEqual(c.lastStart, 500);
  assert.deepEqual(c.busyNs, 65);
  assert.deepEqual(c.jobs, 3);
  assert.deepEqual(c.waitNs, 30);
  assert.deepEqual(c.maxWaitNs, 30);
  assert(c.isIdleAt(505));
  assert(!c.isIdleAt(504));
});

Deno.test("CpuContext queue grows when arrivals outpace service (D/D/1)", () => {
  // One arrival every 100 ns, 150 ns of work each: the k-th job waits 50·k ns.
  const c = new CpuContext("qemu", "qemu-main");
  const s = new Scheduler();
  const m = c.mark(0);
  const waits: number[] = [];
  for (let k = 0; k < 10; k++) {
    s.at(k * 100, (now) => {
      c.exec(now, 150);
      waits.push(c.lastStart - now);
    });
  }
  s.run();
  assert.deepEqual(waits, Array.from({ length: 10 }, (_, k) => 50 * k));
  assert.deepEqual(c.busyUntil, 1500);
  // At the 10th arrival (t=900) jobs 6, 7 and 8 are still in the system (job 6 ends at
  // 1050), so with the newcomer there are four.
  assert.deepEqual(c.maxBacklog, 4);
  assert.deepEqual(c.utilisationSince(m, 1500), 1);
  assert.deepEqual(c.utilisationSince(m, 3000), 0.5);
});

Deno.test("CpuContext: throughput of a pipeline is set by its busiest stage", () => {
  const a = new CpuContext("vcpu", "vcpu0");
  const b = new CpuContext("vhost", "vhost-1");
  const n = 1000;
  const ma = a.mark(0);
  const mb = b.mark(100);
  let last = 0;
  for (let i = 0; i < n; i++) {
    const endA = a.exec(0, 100);
    last = b.exec(endA, 300);
  }
  assert.deepEqual(last, 100 + 300 * n);
  // Per-packet service time of the bottleneck: 300 ns → 3.33 Mpps.
  assert(Math.abs(n / (last - 100) * 1e3 - 3.3333) < 1e-3);
  assert.deepEqual(b.utilisationSince(mb, last), 1);
  assert(Math.abs(a.utilisationSince(ma, last) - 100 * n / last) < 1e-12);
});

Deno.test("CpuContext attributes busy time per flow and to shared work", () => {
  const c = new CpuContext("vhost", "vhost-1");
  c.exec(0, 10, 0);
  c.exec(0, 20, 1);
  c.exec(0, 5); // shared (e.g. the wake-up before a batch)
  c.exec(0, 7, 40); // a high flow index grows the table
  assert.deepEqual(c.busyNsOf(0), 10);
  assert.deepEqual(c.busyNsOf(1), 20);
  assert.deepEqual(c.busyNsOf(-1), 5);
  assert.deepEqual(c.busyNsOf(40), 7);
  assert.deepEqual(c.busyNsOf(3), 0);
  assert.deepEqual(c.busyNsOf(1000), 0);
  assert.deepEqual(c.busyNs, 42);
});

Deno.test("CpuContext.busyAt() excludes work reserved beyond the reading time", () => {
  const c = new CpuContext("vhost", "vhost-1");
  c.exec(0, 100);
  assert.deepEqual(c.busyAt(0), 0);
  assert.deepEqual(c.busyAt(50), 50);
  const m = c.mark(50);
  c.exec(200, 100);
  c.exec(200, 50); // queued: 300..350
  assert.deepEqual(c.busyAt(250), 150);
  assert.deepEqual(c.busyAt(320), 220);
  assert.deepEqual(c.busyAt(1000), 250);
  // [50, 350): 50 + 100 + 50 ns of work in 300 ns.
  assert.deepEqual(c.utilisationSince(m, 350), 200 / 300);
  assert.deepEqual(c.utilisationSince(m, 50), 0);
});

Deno.test("CpuContext backlog ring grows past its initial capacity without losing order", () => {
  const c = new CpuContext("softirq", "softirq0");
  for (let i = 0; i < 100; i++) c.exec(0, 1);
  assert.deepEqual(c.maxBacklog, 100);
  // At t=50.5 jobs ending at 51..100 are still in the system, plus the new one.
  c.exec(50.5, 1);
  assert.deepEqual(c.maxBacklog, 100);
  assert.deepEqual(c.busyUntil, 101);
  c.exec(101, 1);
  assert.deepEqual(c.lastStart, 101);
});

Deno.test("A polling context notices work at its next poll iteration and burns idle time", () => {
  const pmd = new CpuContext("pmd", "pmd0", { polling: true, pollIterationNs: 50 });
  const m = pmd.mark(0);
  pmd.exec(0, 30); // busy until 30; iterations then start at 30, 80, 130 …
  assert.deepEqual(pmd.discover(31), 80);
  assert.deepEqual(pmd.discover(80), 80);
  assert.deepEqual(pmd.discover(81), 130);
  assert.deepEqual(pmd.discover(10), 10); // busy: the work queues behind the current job
  const end = pmd.exec(pmd.discover(100), 20);
  assert.deepEqual(end, 150);
  // In [0, 1000): 50 ns of work, 950 ns of polling = 19 empty iterations.
  assert.deepEqual(pmd.pollNsSince(m, 1000), 950);
  assert.deepEqual(pmd.pollIterationsSince(m, 1000), 19);
  const vhost = new CpuContext("vhost", "vhost-1");
  assert.deepEqual(vhost.discover(81), 81);
  const mv = vhost.mark(0);
  assert.deepEqual(vhost.pollNsSince(mv, 1000), 0);
  assert.deepEqual(vhost.pollIterationsSince(mv, 1000), 0);
});

Deno.test("CpuContext rejects misuse by TypeScript callers", () => {
  assert.throws(() => new CpuContext("vhost", "vhost.1"), TypeError);
  assert.throws(() => new CpuContext("vhost", "vhost 1"), TypeError);
  assert.throws(() => new CpuContext("pmd", "pmd0", { polling: true }), RangeError);
  const c = new CpuContext("vhost", "vhost-1");
  assert.throws(() => c.exec(0, -1), RangeError);
  assert.throws(() => c.exec(Number.NaN, 1), RangeError);
});
