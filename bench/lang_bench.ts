/**
 * The language core's figure for `deno task bench`: how long parsing and checking a
 * generated 10,000-line script takes (the bound: `check` under 2 s). "Check" here is
 * the language core alone (parse, expand every word, run every `let`, `for` and `include`);
 * each command's words go to an executor that only counts them, so the figure excludes
 * what the stdlib command families cost.
 *
 * Run alone: `deno run --allow-read=. bench/lang_bench.ts`
 *
 * @module
 */

import { Interpreter, parse } from "../lang/mod.ts";
import { Session } from "../stdlib/session.ts";

/** The figure. Times are wall-clock milliseconds (benchmarks may read the clock). */
export interface LangBenchResult {
  /** Lines in the generated script. */
  readonly lines: number;
  /** Its size in UTF-16 code units. */
  readonly bytes: number;
  /** Statements in the program (loop bodies counted once). */
  readonly statements: number;
  /** Words handed to the executor (loop bodies counted per iteration). */
  readonly words: number;
  /** Time to parse it. */
  readonly parseMs: number;
  /** Time to parse and check it (the language core alone). */
  readonly checkMs: number;
}

const BLOCK = [
  "# vm ${i}: a vhost-vdpa guest",
  "let mac = 52:54:00:00:00:01",
  'vdpa dev add name "vdpa${i}" mgmtdev vdpasim_net mac ${mac}',
  "ls /sys/bus/vdpa/devices/vdpa${i}/driver",
  "qemu-system-x86_64 -name vm${i} -m 4G -smp 2 -enable-kvm \\",
  "  -object memory-backend-file,id=mem0,size=4G,mem-path=/dev/hugepages,share=on \\",
  "  -netdev type=vhost-vdpa,vhostdev=/dev/vhost-vdpa-${i},id=net0 \\",
  "  -device virtio-net-pci,netdev=net0,packed=on,mrg_rxbuf=off",
  "for q in 0..0 { show vq vm${i}.eth0 tx${q} ; show vq vm${i}.eth0 rx${q} }",
  "traffic t${i} from vm${i}.eth0 to vm${i}.eth0 size=64 count=100000 rate=line burst=32",
  "expect t${i}.delivered == 100000",
  "",
];

/** A script of about `lines` lines, made of realistic blocks. */
export function generateScript(lines: number): string {
  const out = ["modprobe -a vdpa_sim_net vhost_vdpa", "host cpu ghz=3.0 cores=16"];
  for (let i = 0; out.length < lines; i++) {
    out.push(`let i = ${i}`);
    out.push(...BLOCK);
  }
  return out.slice(0, lines).join("\n") + "\n";
}

/** What `vdpa-lab check` does with the same script: every command family, the lab built in check mode. */
export interface FullCheckResult {
  readonly lines: number;
  /** Wall-clock milliseconds of Session.runText in check mode. */
  readonly ms: number;
  /** Errors the check reported (0 for the generated script). */
  readonly errors: number;
}

/** Checks a generated script of `lines` lines as `vdpa-lab check` does (stdout discarded). */
export async function fullCheckBench(lines = 10_000): Promise<FullCheckResult> {
  const text = generateScript(lines);
  const s = new Session({ mode: "check", stdout: () => {} });
  const t0 = performance.now();
  await s.runText(text, "bench.vdpa");
  const ms = performance.now() - t0;
  const errors = s.diagnostics.items.filter((d) => d.severity === "error").length;
  return { lines, ms, errors };
}

/** Parses and checks a generated script of `lines` lines. */
export async function langBench(lines = 10_000): Promise<LangBenchResult> {
  const text = generateScript(lines);
  let t0 = performance.now();
  const parsed = parse(text, { source: "bench.vdpa" });
  const parseMs = performance.now() - t0;
  if (parsed.diagnostics.length > 0) throw new Error("The generated script has syntax errors");
  let words = 0;
  const lab = new Interpreter({
    mode: "check",
    executor: (ws) => {
      words += ws.length;
    },
  });
  t0 = performance.now();
  const r = await lab.runText(text, "bench.vdpa");
  const checkMs = performance.now() - t0;
  if (r.status !== "ok") throw new Error("The generated script does not check");
  return {
    lines,
    bytes: text.length,
    statements: parsed.program.statements.length,
    words,
    parseMs,
    checkMs,
  };
}

if (import.meta.main) {
  const r = await langBench();
  console.log(
    `lang: ${r.lines} lines (${r.bytes} bytes, ${r.statements} statements, ${r.words} words): ` +
      `parse ${r.parseMs.toFixed(1)} ms, check ${r.checkMs.toFixed(1)} ms`,
  );
}
