/**
 * The seed corpus of the mutator: every script in `examples/` and every reference command
 * file in `lang/commands/testdata/`, read when the fuzzer starts (so new examples join it
 * without a change here).
 *
 * @example
 * ```ts
 * import { loadCorpus } from "./corpus.ts";
 * const seeds = loadCorpus();
 * if (!seeds.some((s) => s.name.startsWith("examples/"))) throw new Error("examples expected");
 * ```
 *
 * @module
 */

/** One seed file. */
export interface Seed {
  /** Path relative to the repository root. */
  readonly name: string;
  readonly text: string;
}

/** Directories whose `.vdpa` files seed the mutator. */
export const SEED_DIRS: readonly string[] = ["examples", "lang/commands/testdata"];

const ROOT = new URL("../../", import.meta.url);

/** Reads every seed, sorted by name (the order is part of the fuzzer's determinism). */
export function loadCorpus(): Seed[] {
  const seeds: Seed[] = [];
  for (const dir of SEED_DIRS) {
    for (const e of Deno.readDirSync(new URL(`${dir}/`, ROOT))) {
      if (!e.isFile || !e.name.endsWith(".vdpa")) continue;
      const name = `${dir}/${e.name}`;
      seeds.push({ name, text: Deno.readTextFileSync(new URL(name, ROOT)) });
    }
  }
  return seeds.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
