// Regressions found by the language fuzzer (tests/fuzz_lang_test.ts) in the interpreter.
import assert from "node:assert/strict";
import { Diagnostics, error } from "./diagnostic.ts";
import { type CommandExecutor, Interpreter, memoryFileReader } from "./interpreter.ts";

/** An executor that records each command and reports E0100 for the word `bad`. */
function recorder(seen: string[]): CommandExecutor {
  return (words, ctx) => {
    const text = words.map((w) => w.text).join(" ");
    seen.push(text);
    const first = words[0];
    if (first?.text === "bad") {
      ctx.diagnostics.push(error("E0100", "unknown command `bad`", { span: first.span }));
    }
  };
}

for (const mode of ["run", "check"] as const) {
  Deno.test(`Interpreter regression: running the same source again reports its errors again (${mode})`, async () => {
    // The REPL's `.load FILE` twice: the shared collector keeps identical diagnostics once,
    // so the second run came back `ok`, with no diagnostics, and in run mode went on past
    // the error.
    const seen: string[] = [];
    const shared = new Diagnostics();
    const lab = new Interpreter({ mode, diagnostics: shared, executor: recorder(seen) });
    const first = await lab.runText("bad\nafter\n", "lab.vdpa");
    const second = await lab.runText("bad\nafter\n", "lab.vdpa");
    assert.equal(first.status, "failed");
    assert.equal(second.status, "failed");
    assert.deepEqual(second.diagnostics.map((d) => d.code), ["E0100"]);
    assert.deepEqual(seen, mode === "run" ? ["bad", "bad"] : ["bad", "after", "bad", "after"]);
    assert.equal(shared.length, 1, "the shared collector still keeps the diagnostic once");
  });
}

Deno.test("Interpreter regression: a file that cannot be read is reported on every attempt", async () => {
  const lab = new Interpreter({ executor: () => {}, readFile: memoryFileReader({}) });
  const first = await lab.runFile("missing.vdpa");
  const second = await lab.runFile("missing.vdpa");
  assert.deepEqual(first.diagnostics.map((d) => d.code), ["E0603"]);
  assert.deepEqual(second.diagnostics.map((d) => d.code), ["E0603"]);
});

Deno.test("Interpreter regression: a loop still reports an error of its body once", async () => {
  const seen: string[] = [];
  const lab = new Interpreter({ mode: "check", executor: recorder(seen) });
  const r = await lab.runText("for i in 1..3 {\n  bad\n}\n", "lab.vdpa");
  assert.equal(seen.length, 3);
  assert.deepEqual(r.diagnostics.map((d) => d.code), ["E0100"]);
});
