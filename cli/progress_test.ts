import assert from "node:assert/strict";
import { Progress, runProgressOf } from "./progress.ts";

function fixture(enabled = true) {
  const clock = { now: 0 };
  let out = "";
  const p = new Progress({ write: (t) => void (out += t), now: () => clock.now, enabled });
  return { p, clock, out: () => out };
}

Deno.test("Progress: a spinner line on stderr for long runs only", async (t) => {
  await t.step("silent during the first second, then one line with the percentage", () => {
    const { p, clock, out } = fixture();
    p.start("run");
    clock.now = 999;
    p.update({ done: 1, total: 4 });
    assert.equal(out(), "");
    clock.now = 1000;
    p.update({ done: 1, total: 4, label: "t1" });
    assert.equal(out(), "\r| run 25% t1 (1.0 s, Ctrl-C stops)\x1b[K");
  });
  await t.step("redraws at most every 100 ms", () => {
    const { p, clock, out } = fixture();
    p.start("run");
    clock.now = 1000;
    p.update({ done: 1 });
    clock.now = 1050;
    p.update({ done: 2 });
    assert.equal(out().split("\r").length - 1, 1);
    clock.now = 1100;
    p.update({ done: 3 });
    assert.equal(out().split("\r").length - 1, 2);
    assert.match(out(), /\r\/ run \(1\.1 s/);
  });
  await t.step("stop erases a line that was drawn, and only then", () => {
    const short = fixture();
    short.p.start("run");
    short.p.stop();
    assert.equal(short.out(), "");
    const long = fixture();
    long.p.start("run");
    long.clock.now = 2000;
    long.p.update({ done: 5, total: 5 });
    long.p.stop();
    assert.ok(long.out().endsWith("100% (2.0 s, Ctrl-C stops)\x1b[K\r\x1b[K"));
  });
  await t.step("a percentage never exceeds 100 and needs a total", () => {
    const { p, clock, out } = fixture();
    p.start("run");
    clock.now = 1000;
    p.update({ done: 7, total: 5 });
    assert.match(out(), / 100% /);
    const none = fixture();
    none.p.start("run");
    none.clock.now = 1000;
    none.p.update({ done: 7, total: 0 });
    assert.doesNotMatch(none.out(), /%/);
  });
  await t.step("disabled (not a terminal, --quiet): nothing at all", () => {
    const { p, clock, out } = fixture(false);
    p.start("run");
    clock.now = 5000;
    p.update({ done: 1, total: 2 });
    p.stop();
    assert.equal(out(), "");
  });
  await t.step("the reporter gives the event loop a turn every 50 ms", async () => {
    const { p, clock } = fixture();
    const report = p.reporter();
    p.start("run");
    let timerRan = false;
    setTimeout(() => timerRan = true, 0);
    clock.now = 10;
    await report({ done: 1 });
    assert.equal(timerRan, false, "no turn before 50 ms");
    clock.now = 60;
    await report({ done: 2 });
    assert.equal(timerRan, true, "a macrotask ran while the run awaited");
    p.stop();
  });
  await t.step("clear erases a drawn line before other output; the next update redraws it", () => {
    const { p, clock, out } = fixture();
    p.start("run");
    p.clear();
    assert.equal(out(), "", "nothing drawn, nothing to erase");
    clock.now = 1000;
    p.update({ done: 1 });
    p.clear();
    assert.ok(out().endsWith("Ctrl-C stops)\x1b[K\r\x1b[K"));
    clock.now = 1200;
    p.update({ done: 2 });
    assert.ok(out().endsWith("Ctrl-C stops)\x1b[K"), "drawn again");
    p.stop();
  });
});

Deno.test("runProgressOf: virtual time of a timed run, else packets of counted traffic", () => {
  assert.deepEqual(runProgressOf({ doneNs: 2_500_000, totalNs: 10_000_000, sent: 9 }), {
    done: 2_500_000,
    total: 10_000_000,
    label: "2.5 ms virtual",
  });
  assert.deepEqual(runProgressOf({ doneNs: 1_500, sent: 40, count: 160 }), {
    done: 40,
    total: 160,
    label: "1.5 us virtual",
  });
  assert.deepEqual(runProgressOf({ doneNs: 3e9, sent: 40 }), { done: 40, label: "3.00 s virtual" });
});
