import assert from "node:assert/strict";
import fc from "fast-check";
import { packedNeedEvent, vringNeedEvent } from "./event_suppression.ts";

/** The definition, spelled out: is `event` one of old, old + 1, …, new − 1 (mod 2^16)? */
function inWindow(event: number, newIdx: number, oldIdx: number): boolean {
  for (let i = oldIdx; i !== newIdx; i = (i + 1) & 0xffff) if (i === event) return true;
  return false;
}

Deno.test("vringNeedEvent() is true exactly when the event index was just published", () => {
  assert.equal(vringNeedEvent(6, 8, 5), true);
  assert.equal(vringNeedEvent(5, 8, 5), true, "the first published entry counts");
  assert.equal(vringNeedEvent(8, 8, 5), false, "the next, unpublished entry does not");
  assert.equal(vringNeedEvent(4, 8, 5), false);
  assert.equal(vringNeedEvent(0xffff, 2, 0xfffe), true, "across the 16-bit wrap");
  assert.equal(vringNeedEvent(1, 2, 0xfffe), true);
  assert.equal(vringNeedEvent(2, 2, 0xfffe), false);
  assert.equal(vringNeedEvent(7, 7, 7), false, "nothing published, nothing to notify");
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 300 }),
      (ev, old, n) => {
        const now = (old + n) & 0xffff;
        assert.equal(vringNeedEvent(ev, now, old), inWindow(ev, now, old));
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("packedNeedEvent() places an event of the previous lap before the ring start", () => {
  const N = 8;
  // 3 slots made available ending at position 1 of lap with wrap 0: slots 6, 7 (wrap 1) and 0 (wrap 0).
  assert.equal(packedNeedEvent(6 | (1 << 15), 1, 3, 0, N), true, "slot 6 of the previous lap");
  assert.equal(packedNeedEvent(7 | (1 << 15), 1, 3, 0, N), true);
  assert.equal(packedNeedEvent(0 | (0 << 15), 1, 3, 0, N), true, "slot 0 of this lap");
  assert.equal(packedNeedEvent(1 | (0 << 15), 1, 3, 0, N), false, "not yet");
  assert.equal(packedNeedEvent(5 | (1 << 15), 1, 3, 0, N), false, "before the batch");
  assert.equal(
    packedNeedEvent(0 | (1 << 15), 1, 3, 0, N),
    false,
    "slot 0 of the previous lap is long gone",
  );
  assert.equal(packedNeedEvent(3, 4, 0, 1, N), false, "nothing published");
  assert.equal(packedNeedEvent(3, 4, N, 1, N), true, "a whole lap certainly passed the event");
});
