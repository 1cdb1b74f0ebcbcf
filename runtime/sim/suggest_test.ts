import assert from "node:assert/strict";
import { didYouMean, editDistance } from "./suggest.ts";

Deno.test("editDistance() counts insertions, deletions, substitutions and swaps", () => {
  assert.deepEqual(editDistance("", ""), 0);
  assert.deepEqual(editDistance("abc", ""), 3);
  assert.deepEqual(editDistance("", "ab"), 2);
  assert.deepEqual(editDistance("kitten", "sitting"), 3);
  assert.deepEqual(editDistance("syscall", "sycsall"), 1); // adjacent transposition
  assert.deepEqual(editDistance("vmexits", "vmexit"), 1);
});

Deno.test("didYouMean() names a close candidate and refuses a far one", () => {
  const keys = ["vmexit_light", "vmexit_to_userspace", "syscall", "memcpy"];
  assert.deepEqual(didYouMean("vmexit_lite", keys), "vmexit_light");
  assert.deepEqual(didYouMean("SYSCALL", keys), "syscall");
  assert.deepEqual(didYouMean("memcpi", keys), "memcpy");
  assert.deepEqual(didYouMean("tap", keys), undefined);
  assert.deepEqual(didYouMean("x", []), undefined);
});

Deno.test("didYouMean() breaks ties by candidate order", () => {
  assert.deepEqual(didYouMean("ab", ["ac", "ad"]), "ac");
  assert.deepEqual(didYouMean("ab", ["ad", "ac"]), "ad");
});
