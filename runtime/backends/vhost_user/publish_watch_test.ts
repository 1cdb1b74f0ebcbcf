import assert from "node:assert/strict";
import { Scheduler } from "../../sim/scheduler.ts";
import { PublishWatch } from "./publish_watch.ts";

Deno.test("PublishWatch checks after every other event, at its time, and goes quiet when idle", () => {
  const sched = new Scheduler();
  const w = new PublishWatch(sched);
  const seen: string[] = [];
  const stop = w.add((now) => seen.push(`check@${now}`));
  sched.at(5, () => seen.push("a@5"));
  sched.at(5, () => seen.push("b@5"));
  sched.at(9, () => seen.push("c@9"));
  w.arm();
  w.arm(); // one pending check at a time
  assert.equal(sched.run().stop, "idle", "the watch never keeps the run alive by itself");
  assert.deepEqual(seen, ["a@5", "b@5", "check@5", "c@9", "check@9"]);
  assert.equal(w.armed, false);
  // Without other events, arming does nothing.
  w.arm();
  assert.equal(w.armed, false);
  sched.at(20, () => {});
  w.arm();
  assert.equal(w.armed, true);
  stop();
  assert.equal(w.armed, false, "the last watcher gone: the pending check is cancelled");
});

Deno.test("PublishWatch tells its quiet listeners when nothing else is left to run", () => {
  const sched = new Scheduler();
  const w = new PublishWatch(sched);
  let quiet = 0;
  w.add(() => {});
  const off = w.onQuiet(() => quiet++);
  sched.at(1, () => sched.at(2, () => {}));
  w.arm();
  sched.run();
  assert.equal(quiet, 1, "once, after the last event");
  off();
  sched.at(3, () => {});
  w.arm();
  sched.run();
  assert.equal(quiet, 1);
});
