/**
 * `deno task bench`: prints the figures of every benchmark file. Each file exports a
 * `run…Bench(print)` function; add yours to the list below. Figures, not pass/fail timing:
 * ratios are measured against reference loops in the same run.
 *
 * Run: `deno task bench`, or one section: `deno task bench virtio`
 *
 * @module
 */

import { fullCheckBench, langBench } from "./lang_bench.ts";
import { runReplBench } from "./repl_bench.ts";
import { runVdpaBench } from "./vdpa_bench.ts";
import { runVirtioBench } from "./virtio_bench.ts";

async function runLangBench(print: (line: string) => void): Promise<void> {
  const r = await langBench(10_000);
  print(
    `language core on a ${r.lines}-line script: parse ${r.parseMs.toFixed(0)} ms, ` +
      `parse+expand+loops ${r.checkMs.toFixed(0)} ms`,
  );
  const f = await fullCheckBench(10_000);
  print(
    `full check (every command family, the lab built in check mode) of the same ${f.lines}-line ` +
      `script: ${f.ms.toFixed(0)} ms, ${f.errors} errors (bound for check: 2000 ms: ` +
      `${f.ms <= 2000 ? "met" : "NOT met"})`,
  );
}

const benches: readonly [string, string, (print: (line: string) => void) => unknown][] = [
  ["virtio", "virtio rings: round trips per second", runVirtioBench],
  ["lang", "language: 10,000-line script", runLangBench],
  ["repl", "REPL start to first prompt", runReplBench],
  [
    "vdpa",
    "vhost-vdpa + vdpa_sim 64 B loopback: simulated packets per wall-clock second",
    runVdpaBench,
  ],
];

const only = Deno.args[0];
for (const [key, title, run] of benches) {
  if (only !== undefined && key !== only) continue;
  console.log(`# ${title}`);
  await run((line) => console.log(line));
}
