import assert from "node:assert/strict";
import { type EventHandle, Scheduler } from "./scheduler.ts";
import { Rng } from "./rng.ts";

Deno.test("Scheduler orders events by time, then priority, then scheduling order", () => {
  const s = new Scheduler();
  const seen: string[] = [];
  s.at(30, () => seen.push("t30"));
  s.at(10, () => seen.push("t10-p5"), 5);
  s.at(10, () => seen.push("t10-p0-first"));
  s.at(10, () => seen.push("t10-p-1"), -1);
  s.at(10, () => seen.push("t10-p0-second"));
  s.at(0, () => seen.push("t0"));
  const out = s.run();
  assert.deepEqual(seen, ["t0", "t10-p-1", "t10-p0-first", "t10-p0-second", "t10-p5", "t30"]);
  assert.deepEqual(out, { stop: "idle", events: 6, now: 30 });
});

Deno.test("Scheduler keeps FIFO order among thousands of equal-time events", () => {
  const s = new Scheduler();
  const seen: number[] = [];
  for (let i = 0; i < 5000; i++) s.at(7, (_now, i) => seen.push(i), 0, i);
  s.run();
  assert.deepEqual(seen, Array.from({ length: 5000 }, (_, i) => i));
});

Deno.test("Scheduler matches a sorted reference on random schedules", () => {
  const rng = new Rng(7);
  for (let round = 0; round < 20; round++) {
    const s = new Scheduler();
    const ref: { t: number; p: number; id: number }[] = [];
    const seen: number[] = [];
    const n = 1 + rng.int(400);
    for (let id = 0; id < n; id++) {
      const t = rng.int(50);
      const p = rng.int(3) - 1;
      ref.push({ t, p, id });
      s.at(t, (_now, x) => seen.push(x), p, id);
    }
    s.run();
    ref.sort((a, b) => a.t - b.t || a.p - b.p || a.id - b.id);
    assert.deepEqual(seen, ref.map((r) => r.id));
  }
});

Deno.test("Scheduler events scheduled from inside an event run at the right time", () => {
  const s = new Scheduler();
  const seen: string[] = [];
  s.at(10, (now) => {
    seen.push(`a@${now}`);
    s.after(0, (n) => seen.push(`same-time@${n}`));
    s.after(5, (n) => seen.push(`later@${n}`));
  });
  s.at(10, (now) => seen.push(`b@${now}`));
  s.run();
  // The zero-delay event was scheduled after b, so it fires after b.
  assert.deepEqual(seen, ["a@10", "b@10", "same-time@10", "later@15"]);
});

Deno.test("Scheduler.cancel() stops a pending event and reports a second cancel", () => {
  const s = new Scheduler();
  const seen: string[] = [];
  const h = s.at(5, () => seen.push("cancelled"));
  s.at(6, () => seen.push("kept"));
  assert.deepEqual(s.pending, 2);
  assert.deepEqual(s.cancel(h), true);
  assert.deepEqual(h.pending, false);
  assert.deepEqual(s.cancel(h), false);
  assert.deepEqual(s.pending, 1);
  s.run();
  assert.deepEqual(seen, ["kept"]);
  assert.deepEqual(s.cancel(h), false);
});

Deno.test("Scheduler.cancel() of a fired event returns false", () => {
  const s = new Scheduler();
  const h = s.at(1, () => {});
  s.run();
  assert.deepEqual(h.pending, false);
  assert.deepEqual(s.cancel(h), false);
  assert.deepEqual(s.pending, 0);
});

Deno.test("Scheduler survives a timer re-armed and cancelled many times", () => {
  const s = new Scheduler();
  let fired = 0;
  let h = s.at(1_000_000, () => fired++);
  for (let i = 0; i < 10_000; i++) {
    s.cancel(h);
    h = s.at(1_000_000 + i, () => fired++);
  }
  s.at(5, () => {});
  assert.deepEqual(s.pending, 2);
  const out = s.run();
  assert.deepEqual(fired, 1);
  assert.deepEqual(out.now, 1_000_000 + 9_999);
  assert.deepEqual(out.events, 2);
});

Deno.test("Scheduler.run({ until }) stops before later events and advances the clock", () => {
  const s = new Scheduler();
  const seen: number[] = [];
  for (const t of [5, 10, 15, 20]) s.at(t, (now) => seen.push(now));
  const a = s.run({ until: 10 });
  assert.deepEqual(a, { stop: "until", events: 2, now: 10 });
  assert.deepEqual(seen, [5, 10]);
  const b = s.run({ until: 12 });
  assert.deepEqual(b, { stop: "until", events: 0, now: 12 });
  const c = s.run({ until: 100 });
  assert.deepEqual(c, { stop: "idle", events: 2, now: 100 });
  assert.deepEqual(seen, [5, 10, 15, 20]);
  assert.throws(() => s.run({ until: 50 }), RangeError);
});

Deno.test("Scheduler.run() stopped by shouldStop resumes with the same result", () => {
  function world(s: Scheduler, seen: number[]) {
    // A self-rescheduling source: 1000 events, 1 ns apart.
    const tick = (now: number, i: number) => {
      seen.push(now);
      if (i < 999) s.after(1, tick, 0, i + 1);
    };
    s.at(0, tick, 0, 0);
  }
  const whole: number[] = [];
  const a = new Scheduler();
  world(a, whole);
  a.run();

  const pieces: number[] = [];
  const b = new Scheduler();
  world(b, pieces);
  let polls = 0;
  const first = b.run({ shouldStop: () => ++polls === 3, checkEvery: 100 });
  assert.deepEqual(first.stop, "stopped");
  assert.deepEqual(first.events, 300);
  const second = b.run({ maxEvents: 250 });
  assert.deepEqual(second, { stop: "max-events", events: 250, now: 549 });
  const rest = b.run();
  assert.deepEqual(rest.stop, "idle");
  assert.deepEqual(pieces, whole);
  assert.deepEqual(b.fired, 1000);
});

Deno.test("Scheduler.step() fires one event at a time", () => {
  const s = new Scheduler();
  const seen: number[] = [];
  s.at(3, () => seen.push(3));
  s.at(1, () => seen.push(1));
  assert.deepEqual(s.peekTime(), 1);
  assert.deepEqual(s.step(), true);
  assert.deepEqual(s.now, 1);
  assert.deepEqual(s.step(), true);
  assert.deepEqual(s.step(), false);
  assert.deepEqual(seen, [1, 3]);
});

Deno.test("Scheduler rejects scheduling in the past and a reentrant run", () => {
  const s = new Scheduler();
  s.at(10, () => {});
  s.run();
  assert.throws(() => s.at(9, () => {}), RangeError);
  assert.throws(() => s.after(-1, () => {}), RangeError);
  assert.throws(() => s.at(Number.NaN, () => {}), RangeError);
  s.at(11, () => s.run());
  assert.throws(() => s.run(), /not reentrant/);
});

Deno.test("Scheduler.post() events fire in the same order as at() events and reuse entries", () => {
  const s = new Scheduler();
  const seen: string[] = [];
  s.post(10, () => seen.push("post-10"));
  s.at(10, () => seen.push("at-10"));
  s.post(
    5,
    (now, x) => {
      seen.push(`post-5:${x}`);
      s.post(now, () => seen.push("post-5-again"));
    },
    0,
    "arg",
  );
  s.post(10, () => seen.push("post-10-p-1"), -1);
  assert.equal(s.pending, 4);
  const out = s.run();
  assert.deepEqual(seen, ["post-5:arg", "post-5-again", "post-10-p-1", "post-10", "at-10"]);
  assert.deepEqual(out, { stop: "idle", events: 5, now: 10 });
  assert.throws(() => s.post(9, () => {}), RangeError);
});

/**
 * A chain of continuations (one per "packet", each at a later time) interleaved with other
 * events; with `inline` it carries on through continueAt where the scheduler allows it.
 */
function chainRun(
  inline: boolean,
  seed: number,
): { log: string[]; fired: number; now: number; inlined: number } {
  let inlined = 0;
  const rng = new Rng(seed);
  const s = new Scheduler();
  const log: string[] = [];
  for (let i = 0; i < 60; i++) {
    const t = rng.int(400);
    const p = rng.int(3) - 1;
    s.at(t, (now) => {
      log.push(`other${i}@${now}`);
      // others schedule more work at the same time and later (ties must keep their order)
      if (i % 3 === 0) s.after(0, (n) => log.push(`tie${i}@${n}`), p);
    }, p);
  }
  const step = (at: number, k: number): void => {
    let t = at;
    for (let j = k; j < 200; j++) {
      log.push(`step${j}@${t}`);
      const next = t + rng.int(5); // sometimes 0: a continuation at the same time
      if (inline && s.continueAt(next)) {
        inlined++;
        t = next;
        continue;
      }
      s.post(next, step, 0, j + 1);
      return;
    }
  };
  s.post(0, step, 0, 0);
  const a = s.run({ until: 150 });
  log.push(`pause ${a.stop} ${a.events} @${a.now}`);
  const b = s.run({ maxEvents: 37 });
  log.push(`pause ${b.stop} ${b.events} @${b.now}`);
  const c = s.run({ shouldStop: () => true, checkEvery: 16 });
  log.push(`pause ${c.stop} ${c.events} @${c.now}`);
  const d = s.run();
  log.push(`end ${d.stop} ${d.events} @${d.now}`);
  return { log, fired: s.fired, now: s.now, inlined };
}

Deno.test("Scheduler.continueAt() runs a continuation inline only when it would fire next anyway", () => {
  let inlined = 0;
  for (let seed = 1; seed <= 30; seed++) {
    // The same rng draws on both sides: only the way continuations are fired differs.
    const a = chainRun(true, seed);
    const b = chainRun(false, seed);
    assert.deepEqual({ ...a, inlined: 0 }, b, `seed ${seed}`);
    inlined += a.inlined;
  }
  assert.ok(inlined > 1000, `continuations ran inline (${inlined})`);
});

Deno.test("Scheduler.continueAt() refuses outside a run, past the limit, and behind a tie", () => {
  const s = new Scheduler();
  assert.equal(s.continueAt(0), false, "not running");
  const answers: boolean[] = [];
  s.at(10, () => {
    answers.push(s.continueAt(25)); // past until
    answers.push(s.continueAt(12)); // the event at 12 comes first
    answers.push(s.continueAt(11)); // nothing before 11
    answers.push(s.now === 11);
    answers.push(s.continueAt(12, -1)); // a lower priority number goes before the tie
    answers.push(s.continueAt(12, 0)); // equal priority: the earlier event first
  });
  s.at(12, () => {});
  const out = s.run({ until: 20 });
  assert.deepEqual(answers, [false, false, true, true, true, false]);
  assert.deepEqual(out, { stop: "idle", events: 4, now: 20 });
  assert.equal(s.fired, 4);
});

Deno.test("Scheduler.cancel() of most pending events from inside a run keeps the others in order", () => {
  const s = new Scheduler();
  const seen: number[] = [];
  const handles: EventHandle[] = [];
  for (let i = 0; i < 400; i++) handles.push(s.at(100 + (i % 37), (_n, x) => seen.push(x), 0, i));
  s.at(50, () => {
    // cancelling 3 of every 4 compacts the heap while run() is iterating over it
    handles.forEach((h, i) => {
      if (i % 4 !== 0) s.cancel(h);
    });
  });
  assert.equal(s.run().events, 101);
  const want = Array.from({ length: 100 }, (_, k) => 4 * k)
    .sort((a, b) => (a % 37) - (b % 37) || a - b);
  assert.deepEqual(seen, want);
  assert.equal(s.pending, 0);
});
