/**
 * `deno task bench`: prints the figures of every benchmark file. Each file exports a
 * `run…Bench(print)` function; add yours to the list below.
 *
 * Run: `deno run --allow-read=. --allow-env bench/run.ts`
 *
 * @module
 */

import { runVirtioBench } from "./virtio_bench.ts";

const benches: readonly [string, (print: (line: string) => void) => unknown][] = [
  ["virtio rings", runVirtioBench],
];

for (const [title, run] of benches) {
  console.log(`# ${title}`);
  run((line) => console.log(line));
}
