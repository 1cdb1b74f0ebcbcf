import assert from "node:assert/strict";
import { style, useColor } from "./style.ts";

Deno.test("useColor: a terminal without NO_COLOR, unless told", () => {
  assert.equal(useColor("auto", { isTerminal: true, noColor: false }), true);
  assert.equal(useColor("auto", { isTerminal: true, noColor: true }), false);
  assert.equal(useColor("auto", { isTerminal: false, noColor: false }), false);
  assert.equal(useColor("always", { isTerminal: false, noColor: true }), true);
  assert.equal(useColor("never", { isTerminal: true, noColor: false }), false);
});

Deno.test("style: ANSI only with colour", () => {
  const plain = style(false);
  const c = style(true);
  for (const k of ["bold", "dim", "red", "yellow", "green", "cyan"] as const) {
    assert.equal(plain[k]("x"), "x");
    const painted = c[k]("x");
    assert.ok(painted.startsWith("\x1b[") && painted.endsWith("x\x1b[0m"), painted);
  }
});
