import assert from "node:assert/strict";
import { Skb } from "./skb.ts";
import { TapPlane, TapQueue } from "./tap.ts";

const frame = () => new Skb(new Uint8Array(60), undefined, 0);

Deno.test("a tap queue holds txqueuelen frames, drops the next, and wakes its owner once", () => {
  const woken: number[] = [];
  const q = new TapQueue("tap0", 0, 3);
  q.owner = { label: "qemu", readable: (_q, t) => woken.push(t) };
  for (let t = 1; t <= 4; t++) q.push(frame(), t);
  assert.equal(q.length, 3);
  assert.equal(q.drops, 1);
  assert.deepEqual(woken, [1], "readable only on empty → non-empty");
  q.shift();
  q.shift();
  q.shift();
  q.push(frame(), 9);
  assert.deepEqual(woken, [1, 9]);
});

Deno.test("a tap queue keeps FIFO order across growth", () => {
  const q = new TapQueue("tap0", 0, 1000);
  for (let i = 0; i < 200; i++) q.push(new Skb(new Uint8Array(1), undefined, i), i);
  for (let i = 0; i < 200; i++) assert.equal(q.shift()?.seq, i);
  assert.equal(q.shift(), undefined);
});

Deno.test("a multi-queue tap steers by flow hash; detaching returns what waited", () => {
  const plane = new TapPlane("tap0", 10);
  const owner = { label: "x", readable: () => {} };
  const q0 = plane.attach(owner);
  const q1 = plane.attach(owner);
  const a = frame();
  a.hash = 4;
  const b = frame();
  b.hash = 5;
  assert.equal(plane.select(a), q0);
  assert.equal(plane.select(b), q1);
  q1.push(b, 0);
  assert.deepEqual(plane.detach(q1), [b]);
  assert.equal(plane.select(b), q0, "one queue left");
});
