/**
 * Command-line arguments of `vdpa-lab`: subcommand, files and options, parsed with
 * `node:util` `parseArgs`. Usage mistakes are values (exit status 2), never exceptions.
 *
 * @example
 * ```ts
 * import { parseCliArgs } from "./args.ts";
 * const a = parseCliArgs(["check", "--json", "lab.vdpa"]);
 * if (!a.ok || a.value.command !== "check" || !a.value.json) throw new Error("check --json expected");
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";

/** What the user asked for. */
export type CliCommand = "run" | "check" | "repl" | "help" | "version";

/** Where trace events are kept during a run. */
export type TraceLevel = "off" | "sample" | "full";

/** Parsed arguments. */
export interface CliArgs {
  readonly command: CliCommand;
  /** Script paths; `-` is standard input. */
  readonly files: readonly string[];
  /** Machine-readable output: diagnostics and run summaries as JSON. */
  readonly json: boolean;
  /** No command output, only diagnostics and failures. */
  readonly quiet: boolean;
  /** `auto` colours only a TTY without NO_COLOR. */
  readonly color: "auto" | "always" | "never";
  /** A JSON file of cost-profile overrides. */
  readonly profile?: string;
  /** The seed of the lab's random streams. */
  readonly seed: number;
  readonly trace: TraceLevel;
  /** Help for a subcommand (`vdpa-lab help run`, `vdpa-lab run --help`). */
  readonly helpTopic?: string;
  /** `--no-history`: the REPL neither reads nor writes its history file. */
  readonly noHistory?: boolean;
}

/** A usage error: what is wrong, shown with the usage text, exit status 2. */
export interface UsageError {
  readonly message: string;
}

/** The usage text. */
export const USAGE = `vdpa-lab: a lab for virtio, vhost and vDPA I/O topologies

Usage:
  vdpa-lab run [OPTIONS] FILE...     run scripts: build the topology, run traffic, check expects
  vdpa-lab check [OPTIONS] FILE...   check scripts: syntax, names, the whole topology; no traffic
  vdpa-lab repl [FILE]               interactive lab (FILE is run first)
  vdpa-lab help [COMMAND]            this text, or help for one command
  vdpa-lab --version

FILE may be - for standard input.

Options:
  --json             diagnostics and run summaries as JSON on standard output
  -q, --quiet        print only diagnostics and failed expectations
  --color WHEN       auto (default), always or never; NO_COLOR disables auto colour
  --profile FILE     cost-profile overrides (JSON object of event kind to ns)
  --seed N           seed of the lab's random streams (default 1)
  --trace LEVEL      off, sample (default: first packets of each flow) or full
  --no-history       repl: do not read or write the history file
  -h, --help         show help
  -V, --version      show the version

Exit status: 0 success, 1 diagnostics or failed expectations, 2 usage error.`;

const COMMANDS: readonly CliCommand[] = ["run", "check", "repl", "help", "version"];

/** Parses `args` (without the program name). */
export function parseCliArgs(
  args: readonly string[],
): { ok: true; value: CliArgs } | { ok: false; error: UsageError } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: "boolean" },
        quiet: { type: "boolean", short: "q" },
        color: { type: "string" },
        profile: { type: "string" },
        seed: { type: "string" },
        trace: { type: "string" },
        "no-history": { type: "boolean" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
    });
  } catch (e) {
    // parseArgs reports unknown options and missing values by throwing a TypeError.
    const message = e instanceof Error ? e.message.replace(/\. To specify.*$/s, "") : String(e);
    return { ok: false, error: { message } };
  }
  const { values, positionals } = parsed;
  const color = values.color ?? "auto";
  if (color !== "auto" && color !== "always" && color !== "never") {
    return { ok: false, error: { message: `--color takes auto, always or never, not '${color}'` } };
  }
  const trace = values.trace ?? "sample";
  if (trace !== "off" && trace !== "sample" && trace !== "full") {
    return { ok: false, error: { message: `--trace takes off, sample or full, not '${trace}'` } };
  }
  const seedText = values.seed ?? "1";
  const seed = Number(seedText);
  if (!/^\d+$/.test(seedText) || !Number.isSafeInteger(seed)) {
    return { ok: false, error: { message: `--seed takes a whole number, not '${seedText}'` } };
  }
  const common = {
    json: values.json ?? false,
    quiet: values.quiet ?? false,
    color,
    seed,
    trace,
    ...(values.profile !== undefined ? { profile: values.profile } : {}),
    ...(values["no-history"] ? { noHistory: true } : {}),
  } as const;

  if (values.version) return { ok: true, value: { ...common, command: "version", files: [] } };
  const [first, ...rest] = positionals;
  if (values.help || first === undefined) {
    const topic = values.help && first !== undefined ? first : undefined;
    return {
      ok: true,
      value: { ...common, command: "help", files: [], ...(topic ? { helpTopic: topic } : {}) },
    };
  }
  if (!COMMANDS.includes(first as CliCommand)) {
    const hint = first.endsWith(".vdpa") ? ` (did you mean \`vdpa-lab run ${first}\`?)` : "";
    return { ok: false, error: { message: `unknown command '${first}'${hint}` } };
  }
  const command = first as CliCommand;
  if (command === "help") {
    return {
      ok: true,
      value: { ...common, command, files: [], ...(rest[0] ? { helpTopic: rest[0] } : {}) },
    };
  }
  if (command === "version") return { ok: true, value: { ...common, command, files: [] } };
  if ((command === "run" || command === "check") && rest.length === 0) {
    return {
      ok: false,
      error: { message: `'${command}' needs at least one FILE (or - for stdin)` },
    };
  }
  if (command === "repl" && rest.length > 1) {
    return { ok: false, error: { message: "'repl' takes at most one FILE" } };
  }
  return { ok: true, value: { ...common, command, files: rest } };
}
