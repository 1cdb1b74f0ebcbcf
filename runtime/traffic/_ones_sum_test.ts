import assert from "node:assert/strict";
import fc from "fast-check";
import { fold, sumRange, sumRangeWide } from "./_ones_sum.ts";

Deno.test("sumRangeWide folds to the 16-bit word sum for any range, offset and carry-in", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 300 }),
      fc.nat(300),
      fc.nat(300),
      fc.nat(0xffffffff),
      (buf, a, b, sum) => {
        const off = Math.min(a, buf.length);
        const len = Math.min(b, buf.length - off);
        assert.equal(fold(sumRangeWide(buf, off, len, sum)), fold(sumRange(buf, off, len, sum)));
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("sumRangeWide: all-ones words and odd tails carry like RFC 1071 says", () => {
  const ones = new Uint8Array(1501).fill(0xff);
  for (const len of [0, 1, 2, 3, 4, 5, 7, 8, 1499, 1500, 1501]) {
    for (const off of [0, 1, 2, 3]) {
      const n = Math.max(0, Math.min(len, ones.length - off));
      assert.equal(fold(sumRangeWide(ones, off, n, 0)), fold(sumRange(ones, off, n, 0)));
    }
  }
  // an odd trailing byte is the high byte of a zero-padded word
  assert.equal(fold(sumRangeWide(new Uint8Array([0, 0, 0, 0, 0xab]), 0, 5, 0)), 0xab00);
});
