/**
 * Issue 7: "the parser and checker on at least 100,000 generated and mutated inputs
 * (mutations of every example) never throw anything but diagnostics, and every diagnostic's
 * location is inside the input".
 *
 * The default run checks 100,000 inputs (VDPA_FUZZ_N scales it, VDPA_FUZZ_SEED picks another
 * campaign): half generated from the real vocabulary (tests/fuzz/generators.ts), half
 * mutations of every file in examples/ and lang/commands/testdata/, taken in turn.
 *
 * The split, honestly: every input goes through the cheap pipeline — parse → interpreter in
 * check mode → parseCommand → checkQemu / checkTestpmd / checkOvs — and every diagnostic is
 * rendered (plain; coloured for one input in 16) and converted to JSON. One input in 15 also
 * goes through the whole checker, `Session` in check mode with every executor registered (it
 * must print nothing and write no file), one in 100 through a check-mode session fed line by
 * line like the REPL, and one in 50 through a session in run mode (output filters run,
 * traffic is simulated; it has no file writer): 6,667 + 1,000 + 2,000 session runs. Loops are
 * cut at 200 iterations in the cheap pipeline and at 5,000 statements per input in sessions.
 * Measured here, with every executor merged: 65-80 s of CPU time for the 100,000 inputs
 * (22 M characters), three quarters of it the cheap pipeline (parsing, interpretation,
 * rendering), the rest the sessions (run mode simulates traffic); 90-110 s of wall time while
 * other engineers' test runs load the 2 cores — over the 60 s asked for, as small as it gets
 * without dropping inputs or renderings.
 *
 * A failure prints the campaign seed, the input's index and pipeline, the problem, and the
 * input minimised; keep it in tests/fuzz/corpus/lang/, whose hand-written hostile inputs (block
 * nesting past the limit, doubling variables, quotes open to the end, tabs, wide characters and
 * CRLF, include cycles, control characters …) go through all four pipelines on every run.
 */

import assert from "node:assert/strict";
import { describeFailure, runLangCampaign } from "./fuzz/lang_campaign.ts";
import { checkScript, type Pipeline } from "./fuzz/lang_harness.ts";

function envInt(name: string, fallback: number): number {
  const v = Deno.env.get(name);
  const n = v === undefined ? NaN : Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : fallback;
}

const COUNT = envInt("VDPA_FUZZ_N", 100_000);
const SEED = envInt("VDPA_FUZZ_SEED", 1);
const CORPUS = new URL("./fuzz/corpus/lang/", import.meta.url);

Deno.test("fuzz: the hostile inputs kept in tests/fuzz/corpus/lang stay handled in every pipeline", async () => {
  const files = [...Deno.readDirSync(CORPUS)].filter((e) => e.isFile).map((e) => e.name).sort();
  assert.ok(files.length >= 8, `the hostile corpus has ${files.length} files`);
  const problems: string[] = [];
  for (const name of files) {
    const text = Deno.readTextFileSync(new URL(name, CORPUS));
    for (const pipeline of ["interpreter", "session", "repl", "run"] as Pipeline[]) {
      for (const p of await checkScript(text, pipeline, { color: true })) {
        problems.push(`${name} (${pipeline}): ${p}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test(`fuzz: ${COUNT} generated and mutated scripts produce only diagnostics, all inside their source`, async () => {
  const started = performance.now();
  const r = await runLangCampaign({ seed: SEED, count: COUNT });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `fuzz_lang: seed ${SEED}: ${r.inputs} inputs (${r.generated} generated, ${r.mutated} ` +
      `mutated from ${r.seeds} seed files, ${r.chars} chars); pipelines: interpreter ` +
      `${r.runs.interpreter}, session ${r.runs.session}, repl ${r.runs.repl}, run ` +
      `${r.runs.run}; ${seconds} s (slowest: input #${r.slowest.index} through ` +
      `${r.slowest.pipeline}, ${r.slowest.ms.toFixed(0)} ms)`,
  );
  assert.equal(r.inputs, COUNT);
  assert.ok(r.seeds >= 14, `every example and testdata file seeds the mutator (${r.seeds})`);
  if (r.failures.length > 0) {
    assert.fail(
      `${r.failures.length} kind(s) of failure:\n\n` +
        r.failures.map((f) => describeFailure(f, SEED)).join("\n\n"),
    );
  }
});
