/**
 * The `vdpa-lab` command line: `run`, `check`, `repl`, `help`, `--version`. All terminal and
 * file I/O goes through an injected {@link CliIo}, so tests drive the real CLI in-process
 * and `main.ts` only binds it to Deno.
 *
 * @example Checking a script from memory
 * ```ts
 * import { cli, type CliIo } from "./main.ts";
 * let err = "";
 * const io: CliIo = {
 *   stdout: () => {},
 *   stderr: (t) => void (err += t),
 *   readFile: () => Promise.resolve({ text: "modprobe vhost_vpda\n" }),
 *   readStdin: () => Promise.resolve(""),
 *   isTerminal: false,
 *   noColor: true,
 * };
 * const status = await cli(["check", "lab.vdpa"], io);
 * if (status !== 1 || !err.includes("vhost_vdpa")) throw new Error(err);
 * ```
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };
import type { Diagnostic } from "../lang/diagnostic.ts";
import type { ReadResult } from "../lang/interpreter.ts";
import { diagnosticToJson, renderDiagnostics } from "../lang/render.ts";
import type { FileWriter } from "../stdlib/exec.ts";
import { Session } from "../stdlib/session.ts";
import { DEFAULT_COST_PROFILE } from "../stdlib/cost_profile.ts";
import {
  applyCostOverrides,
  type CostProfile,
  describeCostOverrideError,
  parseCostOverridesJson,
} from "../runtime/sim/cost.ts";
import { type CliArgs, parseCliArgs, USAGE } from "./args.ts";
import { helpText } from "./help.ts";
import { Progress, runProgressOf } from "./progress.ts";

/** The outside world, as the CLI sees it. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(path: string): Promise<ReadResult>;
  readStdin(): Promise<string>;
  /** Absent: the CLI may not write files. */
  writeFile?: FileWriter;
  /** Standard output is a terminal. */
  readonly isTerminal: boolean;
  /** Standard error is a terminal (a long run draws its progress line there). */
  readonly stderrIsTerminal?: boolean;
  /** NO_COLOR is set. */
  readonly noColor: boolean;
  /** Ctrl-C was pressed since the last run started. */
  interrupted?(): boolean;
  /** Starts the interactive REPL (absent in tests that do not need it). */
  repl?(args: CliArgs, io: CliIo): Promise<number>;
}

/** The version in deno.json. */
export const VERSION: string = denoJson.version;

function useColor(args: CliArgs, io: CliIo): boolean {
  if (args.color === "always") return true;
  if (args.color === "never") return false;
  return io.isTerminal && !io.noColor;
}

async function readScript(path: string, io: CliIo): Promise<ReadResult> {
  if (path === "-") return { text: await io.readStdin() };
  return await io.readFile(path);
}

/**
 * The cost profile `--profile FILE` asks for: the default with the file's overrides applied,
 * or the problems found in the file (each naming its key, with did-you-mean).
 */
export async function loadProfile(
  path: string | undefined,
  io: Pick<CliIo, "readFile">,
): Promise<{ profile: CostProfile } | { error: string }> {
  if (path === undefined) return { profile: DEFAULT_COST_PROFILE };
  const read = await io.readFile(path);
  if ("error" in read) return { error: `cannot read ${path}: ${read.error}` };
  const parsed = parseCostOverridesJson(read.text, DEFAULT_COST_PROFILE);
  if (!parsed.ok) {
    const lines = parsed.error.map((e) => `  ${describeCostOverrideError(e)}`);
    return { error: `bad cost profile ${path}:\n${lines.join("\n")}` };
  }
  return { profile: applyCostOverrides(DEFAULT_COST_PROFILE, parsed.value, { origin: path }) };
}

/** Runs or checks each file in its own lab; returns the exit status. */
async function runFiles(args: CliArgs, io: CliIo): Promise<number> {
  const color = useColor(args, io);
  const loaded = await loadProfile(args.profile, io);
  if ("error" in loaded) {
    io.stderr(`vdpa-lab: ${loaded.error}\n`);
    return 2;
  }
  let status = 0;
  const json: ReturnType<typeof diagnosticToJson>[] = [];
  // Runs longer than about a second show a spinner on a terminal's stderr, erased before
  // anything else is printed.
  const progress = new Progress({
    write: (t) => io.stderr(t),
    now: () => Date.now(),
    enabled: (io.stderrIsTerminal ?? false) && !args.quiet && !args.json,
  });
  const report = progress.reporter();
  const stdout = (t: string) => {
    progress.clear();
    io.stdout(t);
  };
  for (const path of args.files) {
    const source = path === "-" ? "<stdin>" : path;
    const read = await readScript(path, io);
    if ("error" in read) {
      io.stderr(`vdpa-lab: cannot read ${path}: ${read.error}\n`);
      status = Math.max(status, 1);
      continue;
    }
    const session = new Session({
      mode: args.command === "check" ? "check" : "run",
      stdout,
      readFile: (p) => io.readFile(p),
      ...(io.writeFile ? { writeFile: io.writeFile } : {}),
      seed: args.seed,
      costProfile: loaded.profile,
      runProgress: (p) => report(runProgressOf(p)),
      traceLevel: args.trace,
      json: args.json,
      quiet: args.quiet,
      color,
      ...(io.interrupted ? { interrupted: io.interrupted } : {}),
    });
    progress.start(source);
    const outcome = await session.runText(read.text, source);
    progress.stop();
    const diags: readonly Diagnostic[] = session.diagnostics.items;
    if (args.json) {
      for (const d of diags) json.push(diagnosticToJson(d, session.sources));
    } else if (diags.length > 0) {
      io.stderr(renderDiagnostics(diags, session.sources, { color }));
    }
    if (outcome.status !== "ok") status = 1;
  }
  if (args.json && (args.command === "check" || json.length > 0)) {
    const errors = json.filter((d) => d.severity === "error").length;
    const out = { diagnostics: json, errors, warnings: json.length - errors };
    (args.command === "check" ? io.stdout : io.stderr)(`${JSON.stringify(out, null, 2)}\n`);
  }
  return status;
}

/** The CLI: parses `argv` (without the program name) and does what it says. */
export async function cli(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCliArgs(argv);
  if (!parsed.ok) {
    io.stderr(`vdpa-lab: ${parsed.error.message}\n\n${USAGE}\n`);
    return 2;
  }
  const args = parsed.value;
  switch (args.command) {
    case "version":
      io.stdout(`vdpa-lab ${VERSION}\n`);
      return 0;
    case "help": {
      const text = helpText(args.helpTopic);
      if (text === undefined) {
        io.stderr(`vdpa-lab: no help for '${args.helpTopic}'\n\n${USAGE}\n`);
        return 2;
      }
      io.stdout(`${text}\n`);
      return 0;
    }
    case "repl":
      if (!io.repl) {
        io.stderr("vdpa-lab: the REPL needs a terminal or piped input\n");
        return 2;
      }
      return await io.repl(args, io);
    case "run":
    case "check":
      return await runFiles(args, io);
  }
}
