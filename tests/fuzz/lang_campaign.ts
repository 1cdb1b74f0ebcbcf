/**
 * A fuzzing campaign over the language: input `i` of seed `s` is a generated script (even
 * `i`) or a mutation of one seed file (odd `i`, cycling through every file of the corpus,
 * a window of its lines or the whole file), and goes through the pipelines the schedule
 * gives it. Failures are grouped by signature, and the first input of each is minimised.
 *
 * @example
 * ```ts
 * import { runLangCampaign } from "./lang_campaign.ts";
 * const r = await runLangCampaign({ seed: 1, count: 20 });
 * if (r.inputs !== 20) throw new Error("20 inputs");
 * ```
 *
 * @module
 */

import { loadCorpus, type Seed } from "./corpus.ts";
import { generateScript, mutate } from "./generators.ts";
import { checkScript, type Pipeline } from "./lang_harness.ts";
import { minimize } from "./minimize.ts";
import { Prng } from "./prng.ts";

/** Options of {@link runLangCampaign}. */
export interface LangCampaignOptions {
  readonly seed: number;
  readonly count: number;
  /** Every `sessionEvery`-th input also goes through the whole `Session` (default 15). */
  readonly sessionEvery?: number;
  /** Every `replEvery`-th input also goes through a REPL-style session (default 100). */
  readonly replEvery?: number;
  /** Every `runEvery`-th input also goes through a session in run mode (default 50). */
  readonly runEvery?: number;
}

/** One kind of failure and the smallest input found for it. */
export interface LangFailure {
  readonly signature: string;
  readonly problem: string;
  readonly pipeline: Pipeline;
  readonly index: number;
  readonly input: string;
  readonly minimized: string;
  /** How many inputs failed this way. */
  readonly hits: number;
}

/** What a campaign did. */
export interface LangCampaignResult {
  readonly inputs: number;
  readonly generated: number;
  readonly mutated: number;
  readonly seeds: number;
  readonly runs: Readonly<Record<Pipeline, number>>;
  readonly chars: number;
  /** The input that took longest through one pipeline (a hint at slow paths, not a check). */
  readonly slowest: { readonly index: number; readonly pipeline: Pipeline; readonly ms: number };
  readonly failures: readonly LangFailure[];
}

/** The seed of input `i` in campaign `seed` (so any input is regenerated on its own). */
export function inputSeed(seed: number, i: number): number {
  return (Math.imul(seed, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0;
}

/** Input `i` of campaign `seed`. */
export function campaignInput(seed: number, i: number, corpus: readonly Seed[]): string {
  const rng = new Prng(inputSeed(seed, i));
  if (i % 2 === 0 || corpus.length === 0) return generateScript(rng);
  const base = (corpus[(i >> 1) % corpus.length] as Seed).text;
  const others = corpus.map((s) => s.text);
  if (rng.chance(0.03)) return mutate(base, rng, others);
  const lines = base.split("\n");
  const from = rng.int(lines.length);
  return mutate(`${lines.slice(from, from + rng.range(1, 5)).join("\n")}\n`, rng, others);
}

/** The pipelines input `i` goes through. */
function schedule(i: number, o: LangCampaignOptions): Pipeline[] {
  const out: Pipeline[] = ["interpreter"];
  const session = o.sessionEvery ?? 15;
  const repl = o.replEvery ?? 100;
  const run = o.runEvery ?? 50;
  if (i % session === 3 % session) out.push("session");
  if (i % repl === 7 % repl) out.push("repl");
  if (i % run === 11 % run) out.push("run");
  return out;
}

/** Numbers in a problem vary between inputs; the signature keeps its kind. */
function signature(problem: string): string {
  const first = problem.split("\n")[0] ?? "";
  return first.replace(/"(?:[^"\\]|\\.)*"/g, '"…"').replace(/\d+/g, "N").slice(0, 160);
}

/** Runs a campaign; see the module documentation. */
export async function runLangCampaign(o: LangCampaignOptions): Promise<LangCampaignResult> {
  const corpus = loadCorpus();
  const runs: Record<Pipeline, number> = { interpreter: 0, session: 0, repl: 0, run: 0 };
  const found = new Map<
    string,
    { problem: string; pipeline: Pipeline; index: number; input: string; hits: number }
  >();
  let chars = 0;
  let slowest: { index: number; pipeline: Pipeline; ms: number } = {
    index: -1,
    pipeline: "interpreter",
    ms: 0,
  };
  for (let i = 0; i < o.count; i++) {
    const input = campaignInput(o.seed, i, corpus);
    chars += input.length;
    for (const pipeline of schedule(i, o)) {
      runs[pipeline]++;
      const started = performance.now();
      const problems = await checkScript(input, pipeline, { color: i % 16 === 5 });
      const ms = performance.now() - started;
      if (ms > slowest.ms) slowest = { index: i, pipeline, ms };
      for (const problem of problems) {
        const sig = signature(problem);
        const f = found.get(sig);
        if (f) f.hits++;
        else found.set(sig, { problem, pipeline, index: i, input, hits: 1 });
      }
    }
  }
  const failures: LangFailure[] = [];
  for (const [sig, f] of found) {
    const minimized = failures.length < 8
      ? await minimize(
        f.input,
        async (t) => (await checkScript(t, f.pipeline)).some((p) => signature(p) === sig),
        1500,
      )
      : f.input;
    failures.push({ signature: sig, ...f, minimized });
  }
  const generated = Math.ceil(o.count / 2);
  return {
    inputs: o.count,
    generated,
    mutated: o.count - generated,
    seeds: corpus.length,
    runs,
    chars,
    slowest,
    failures,
  };
}

/** A failure as the test prints it: how to reproduce it, and the minimised input. */
export function describeFailure(f: LangFailure, seed: number): string {
  return [
    `${f.signature}  (${f.hits} input${f.hits === 1 ? "" : "s"})`,
    `  first: VDPA_FUZZ_SEED=${seed} input #${f.index}, pipeline ${f.pipeline}`,
    `  minimised input: ${JSON.stringify(f.minimized)}`,
    `  problem: ${f.problem.split("\n").slice(0, 8).join("\n    ")}`,
  ].join("\n");
}
