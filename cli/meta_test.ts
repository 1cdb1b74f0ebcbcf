import assert from "node:assert/strict";
import { isMetaLine, parseMeta } from "./meta.ts";

Deno.test("parseMeta: the REPL's dot commands", async (t) => {
  await t.step("known commands with and without an argument", () => {
    assert.deepEqual(parseMeta(".help"), { kind: "command", name: ".help" });
    assert.deepEqual(parseMeta(".help vdpa"), { kind: "command", name: ".help", arg: "vdpa" });
    assert.deepEqual(parseMeta("  .load  lab.vdpa  "), {
      kind: "command",
      name: ".load",
      arg: "lab.vdpa",
    });
    assert.deepEqual(parseMeta(".save 'my lab.vdpa'"), {
      kind: "command",
      name: ".save",
      arg: "my lab.vdpa",
    });
  });
  await t.step("a missing or extra argument", () => {
    assert.equal(parseMeta(".load")?.kind, "bad-arg");
    assert.equal(parseMeta(".reset now")?.kind, "bad-arg");
  });
  await t.step("an unknown one, with a suggestion", () => {
    assert.deepEqual(parseMeta(".sav x"), {
      kind: "unknown",
      name: ".sav",
      suggestions: [".save"],
    });
  });
  await t.step("statements are not meta commands", () => {
    assert.equal(parseMeta("./build/app/dpdk-testpmd -- -i"), undefined);
    assert.equal(parseMeta("lsmod"), undefined);
    assert.equal(parseMeta(".5"), undefined);
    assert.equal(parseMeta(".help\nlsmod"), undefined);
    assert.ok(!isMetaLine("ls ./x"));
    assert.ok(isMetaLine(".nope"));
  });
});
