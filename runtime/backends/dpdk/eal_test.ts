import assert from "node:assert/strict";
import { describeLcoreError, parseLcores } from "./eal.ts";

Deno.test("parseLcores() takes the first lcore as main and the rest as workers", () => {
  const cases: [Parameters<typeof parseLcores>[0], number, readonly number[]][] = [
    [{ kind: "corelist", text: "2-3" }, 2, [3]],
    [{ kind: "corelist", text: "0,2,4-6" }, 0, [2, 4, 5, 6]],
    [{ kind: "coremask", text: "0xc" }, 2, [3]],
    [{ kind: "coremask", text: "f0" }, 4, [5, 6, 7]],
    [{ kind: "lcores", text: "1@1,2@3" }, 1, [2]],
    [{ kind: "default" }, 0, [1, 2, 3]],
  ];
  for (const [spec, main, workers] of cases) {
    const r = parseLcores(spec, spec.kind === "default" ? 4 : 8);
    assert.ok(r.ok, JSON.stringify(spec));
    assert.equal(r.value.main, main, JSON.stringify(spec));
    assert.deepEqual(r.value.workers, workers, JSON.stringify(spec));
  }
});

Deno.test("parseLcores() refuses lcores the host does not have, and bad syntax, with EAL's words", () => {
  const gone = parseLcores({ kind: "corelist", text: "14-17" }, 16);
  assert.ok(!gone.ok);
  assert.deepEqual(describeLcoreError(gone.error), [
    "EAL: lcore 16 unavailable",
    "EAL: invalid core list syntax",
    "EAL: Invalid 'command line' arguments.",
  ]);
  const mask = parseLcores({ kind: "coremask", text: "0xzz" }, 16);
  assert.ok(!mask.ok && mask.error.kind === "syntax");
  assert.equal(describeLcoreError(mask.error)[0], "EAL: invalid coremask format");
  const list = parseLcores({ kind: "corelist", text: "2-" }, 16);
  assert.ok(!list.ok && list.error.kind === "syntax");
  const none = parseLcores({ kind: "coremask", text: "0" }, 16);
  assert.ok(!none.ok && none.error.kind === "empty");
});
