/**
 * Runs one script through the check pipeline and lists every broken promise: an exception
 * (anything thrown is a bug: script input must only produce diagnostics), a diagnostic whose
 * label lies outside the source it names, a code outside `[EW]\d{4}`, a severity that
 * disagrees with its code, a diagnostic that does not render, output printed in check mode.
 *
 * Three pipelines:
 * - `interpreter`: parse → interpreter (check mode) → parseCommand → the stdlib checkers
 *   (checkQemu, checkTestpmd, checkOvs) called directly. Cheap: most inputs go this way.
 * - `session`: the whole checker, `Session` in check mode, with whatever executors the lab
 *   has registered (they are being added; this path picks them up as they land).
 * - `repl`: a `Session` fed line by line as the REPL does (`<repl:N>` sources, incomplete
 *   input carried over), so diagnostics may point into earlier entries.
 * - `run`: a `Session` in run mode (stops at the first error), so command output goes through
 *   the `| grep …` filters; it has no file writer, so nothing reaches the real file system.
 *
 * Check-mode sessions get a file writer that reports any call: checking writes nothing.
 *
 * @example
 * ```ts
 * import { checkScript } from "./lang_harness.ts";
 * const problems = await checkScript("modprobe vdpa\nqemu-system-x86_64 -m 4Q\n", "interpreter");
 * if (problems.length !== 0) throw new Error(problems.join("\n"));
 * ```
 *
 * @module
 */

import { parseCommand } from "../../lang/commands/mod.ts";
import type { Command } from "../../lang/commands/mod.ts";
import { type Diagnostic, Diagnostics } from "../../lang/diagnostic.ts";
import { Interpreter, memoryFileReader } from "../../lang/interpreter.ts";
import { diagnosticToJson, renderDiagnostic, renderShort } from "../../lang/render.ts";
import { SourceMap, type Span } from "../../lang/span.ts";
import type { ExpandedWord } from "../../lang/word.ts";
import { checkOvs, OvsCheckState } from "../../stdlib/check/ovs.ts";
import { checkQemu } from "../../stdlib/check/qemu.ts";
import { checkTestpmd } from "../../stdlib/check/testpmd.ts";
import type { FileWriter } from "../../stdlib/exec.ts";
import { Session } from "../../stdlib/session.ts";
import { INCLUDE_FILES } from "./generators.ts";

/** Which pipeline a script goes through; see the module documentation. */
export type Pipeline = "interpreter" | "session" | "repl" | "run";

/** Statements and loop iterations one input may run before the harness stops it. */
export const STEP_BUDGET = 5_000;

/** Loop iterations the cheap pipeline allows (the interpreter's own limit, lowered). */
const MAX_ITERATIONS = 200;

const CODE_RE = /^[EW]\d{4}$/;

const readFile = memoryFileReader(INCLUDE_FILES);

/** What running one script produced. */
interface Run {
  readonly diagnostics: readonly Diagnostic[];
  readonly sources: SourceMap;
  readonly problems: string[];
}

/** Runs `text` through `pipeline`; returns the problems found (none: the input is handled). */
export async function checkScript(
  text: string,
  pipeline: Pipeline,
  options: { readonly color?: boolean } = {},
): Promise<string[]> {
  let run: Run;
  try {
    run = pipeline === "interpreter"
      ? await viaInterpreter(text)
      : pipeline === "repl"
      ? await viaRepl(text)
      : await viaSession(text, pipeline === "run" ? "run" : "check");
  } catch (e) {
    return [`threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`];
  }
  const problems = [...run.problems];
  for (const d of run.diagnostics) {
    problems.push(...diagnosticProblems(d, run.sources, options.color ?? false));
  }
  return problems;
}

/** The stdlib checks a parsed command gets without a lab. */
function checkCommand(cmd: Command, diags: Diagnostics, ovs: OvsCheckState): void {
  switch (cmd.kind) {
    case "qemu":
      checkQemu(cmd, diags);
      break;
    case "testpmd":
      checkTestpmd(cmd, diags);
      break;
    case "ovs-vsctl":
      checkOvs(cmd, diags, ovs);
      break;
  }
}

async function viaInterpreter(text: string): Promise<Run> {
  const sources = new SourceMap();
  const diagnostics = new Diagnostics();
  const ovs = new OvsCheckState();
  const problems: string[] = [];
  let steps = 0;
  const interpreter = new Interpreter({
    mode: "check",
    sources,
    diagnostics,
    readFile,
    maxIterations: MAX_ITERATIONS,
    interrupted: () => ++steps > STEP_BUDGET,
    executor: (words, ctx) => {
      problems.push(...wordProblems(words, sources));
      const cmd = parseCommand(words, ctx.diagnostics);
      if (cmd) checkCommand(cmd, ctx.diagnostics, ovs);
    },
  });
  const outcome = await interpreter.runText(text, "fuzz.vdpa");
  if (outcome.status === "incomplete") problems.push("`incomplete` without allowIncomplete");
  return { diagnostics: diagnostics.items, sources, problems };
}

/** A file writer that must never be called: checking writes nothing. */
function noWrites(problems: string[]): FileWriter {
  return (path) => {
    problems.push(`check mode wrote ${JSON.stringify(path)}`);
    return Promise.resolve({ ok: false, error: "check mode writes nothing" });
  };
}

async function viaSession(text: string, mode: "check" | "run"): Promise<Run> {
  const problems: string[] = [];
  let steps = 0;
  const session = new Session({
    mode,
    stdout: (t) => {
      if (mode === "check") problems.push(`check mode printed ${JSON.stringify(t.slice(0, 80))}`);
      else if (typeof t !== "string") problems.push(`printed a ${typeof t}`);
    },
    readFile,
    ...(mode === "check" ? { writeFile: noWrites(problems) } : {}),
    interrupted: () => ++steps > STEP_BUDGET,
  });
  await session.runText(text, "fuzz.vdpa");
  return { diagnostics: session.diagnostics.items, sources: session.sources, problems };
}

async function viaRepl(text: string): Promise<Run> {
  const problems: string[] = [];
  let steps = 0;
  const session = new Session({
    mode: "check",
    stdout: (t) => void problems.push(`check mode printed ${JSON.stringify(t.slice(0, 80))}`),
    readFile,
    writeFile: noWrites(problems),
    interrupted: () => ++steps > STEP_BUDGET,
  });
  let pending = "";
  let entry = 0;
  for (const line of text.split("\n")) {
    pending = pending === "" ? line : `${pending}\n${line}`;
    const r = await session.runText(pending, `<repl:${++entry}>`, { allowIncomplete: true });
    if (r.status !== "incomplete") pending = "";
  }
  if (pending !== "") await session.runText(pending, `<repl:${++entry}>`);
  return { diagnostics: session.diagnostics.items, sources: session.sources, problems };
}

function spanProblem(span: Span, sources: SourceMap): string | undefined {
  const file = sources.get(span.source);
  if (!file) return `span in unknown source ${JSON.stringify(span.source)}`;
  const { start, end } = span;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start) {
    return `malformed span [${start}, ${end})`;
  }
  if (end > file.text.length) {
    return `span [${start}, ${end}) past the end of ${span.source} (${file.text.length} chars)`;
  }
  return undefined;
}

/** Expanded words must point into their source, and their offsets too. */
function wordProblems(words: readonly ExpandedWord[], sources: SourceMap): string[] {
  const out: string[] = [];
  for (const w of words) {
    const p = spanProblem(w.span, sources);
    if (p) out.push(`word ${JSON.stringify(w.text.slice(0, 40))}: ${p}`);
    if (w.offsets && w.offsets.length !== w.text.length + 1) {
      out.push(`word ${JSON.stringify(w.text.slice(0, 40))}: ${w.offsets.length} offsets`);
    }
    for (const o of w.offsets ?? []) {
      if (!Number.isInteger(o) || o < w.span.start || o > w.span.end) {
        out.push(`word ${JSON.stringify(w.text.slice(0, 40))}: offset ${o} outside its span`);
        break;
      }
    }
  }
  return out;
}

/** Everything wrong with one diagnostic. */
export function diagnosticProblems(d: Diagnostic, sources: SourceMap, color = false): string[] {
  const out: string[] = [];
  const name = `${d.code} (${JSON.stringify(d.message.slice(0, 60))})`;
  if (!CODE_RE.test(d.code)) out.push(`code ${JSON.stringify(d.code)} is not [EW]dddd`);
  const expected = d.code.startsWith("E") ? "error" : "warning";
  if (CODE_RE.test(d.code) && d.severity !== expected) {
    out.push(`${name}: severity ${d.severity} for an ${d.code[0]} code`);
  }
  if (typeof d.message !== "string" || d.message === "") out.push(`${name}: empty message`);
  d.labels.forEach((l, i) => {
    const p = spanProblem(l.span, sources);
    if (p) out.push(`${name}: label ${i} ${JSON.stringify(l.message)}: ${p}`);
    if (l.primary && i !== 0) out.push(`${name}: primary label at position ${i}`);
  });
  try {
    const text = renderDiagnostic(d, sources);
    if (!text.startsWith(`${d.severity}[${d.code}]: `)) {
      out.push(`${name}: rendered head is ${JSON.stringify(text.slice(0, 40))}`);
    }
    if (!text.endsWith("\n")) out.push(`${name}: rendered text does not end with a newline`);
    if (color && !renderDiagnostic(d, sources, { color }).endsWith("\n")) {
      out.push(`${name}: coloured text does not end with a newline`);
    }
    renderShort(d, sources);
    const json = diagnosticToJson(d, sources);
    JSON.stringify(json);
    for (const l of json.labels) {
      if (sources.get(l.file) && (l.line === null || l.column === null)) {
        out.push(`${name}: JSON label without a line in a known source`);
      }
    }
  } catch (e) {
    out.push(`${name}: rendering threw: ${e instanceof Error ? (e.stack ?? e.message) : e}`);
  }
  return out;
}
