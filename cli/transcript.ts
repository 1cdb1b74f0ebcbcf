/**
 * What `.save` writes: the statements of a REPL session that changed the lab, in order, as a
 * script that rebuilds the same state when run (`vdpa-lab run FILE`, or `.load FILE`).
 *
 * Each entry is recorded with its outcome. A statement that ran without error is kept; queries
 * that only print (`lsmod`, `ls`, `cat`, `show …`, `vdpa … show`, `ip … show`, `trace`, `help`)
 * are left out. An entry that failed keeps the statements before the one that failed (commands
 * change the lab all or nothing, so the failed one left no trace); when the failed statement
 * is a loop or an include, or the entry was interrupted, some of its effects may be lost, and
 * `.save` says so in a note.
 *
 * @example
 * ```ts
 * import { Transcript } from "./transcript.ts";
 * const t = new Transcript();
 * t.record({ text: "modprobe vdpa_sim_net; lsmod", source: "<repl:1>" }, { status: "ok", diagnostics: [] });
 * const { text } = t.script("0.1.0");
 * if (!text.endsWith("\n\nmodprobe vdpa_sim_net\n")) throw new Error(text);
 * ```
 *
 * @module
 */

import type { Statement, Word } from "../lang/ast.ts";
import { walkStatements } from "../lang/ast.ts";
import { type Diagnostic, primarySpan } from "../lang/diagnostic.ts";
import { parse } from "../lang/parse.ts";

/** One entry of the session: what was typed (or loaded) and under which source name. */
export interface TranscriptInput {
  readonly text: string;
  /** `<repl:N>` for a typed entry, the path for a loaded file. */
  readonly source: string;
  /** For a loaded file: its absolute path (an include of it replays it). */
  readonly loadedFrom?: string;
}

/** How an entry ended (a `RunOutcome`). */
export interface TranscriptOutcome {
  readonly status: "ok" | "failed" | "interrupted" | "incomplete";
  readonly diagnostics: readonly Diagnostic[];
}

interface Kept {
  readonly text: string;
  readonly comment?: string;
}

/** The literal text of a word, or undefined when it interpolates. */
function literal(w: Word | undefined): string | undefined {
  if (!w) return undefined;
  let out = "";
  for (const p of w.parts) {
    if (p.kind !== "text") return undefined;
    out += p.text;
  }
  return out;
}

const QUERY_PROGRAMS = new Set(["lsmod", "ls", "cat", "help", "show", "trace"]);

/**
 * True for a command that only prints: leaving it out of a saved script does not change the
 * state the script builds. Unknown or interpolated forms count as changes.
 */
export function isQuery(s: Statement): boolean {
  if (s.kind !== "command") return false;
  const words = s.words.map(literal);
  let i = 0;
  if (words[0]?.replace(/.*\//, "") === "sudo") {
    i = 1;
    while ((words[i] ?? "").startsWith("-")) i += words[i] === "-u" || words[i] === "-g" ? 2 : 1;
  }
  const program = words[i]?.replace(/.*\//, "");
  const rest = words.slice(i + 1);
  if (program === undefined) return false;
  if (QUERY_PROGRAMS.has(program)) return true;
  if (rest.some((w) => w === undefined)) return false;
  const args = (rest as string[]).filter((w) => !w.startsWith("-"));
  if (program === "vdpa") {
    const verb = args[1];
    if (args[0] === "mgmtdev") return true;
    return args[0] === "dev" &&
      (verb === undefined || verb === "show" || verb === "list" ||
        ((verb === "config" || verb === "vstats") &&
          (args[2] === undefined || args[2] === "show")));
  }
  if (program === "ip") {
    const verb = args[1];
    return ["link", "addr", "address", "tuntap", "tap"].includes(args[0] ?? "") &&
      (verb === undefined || verb === "show" || verb === "list");
  }
  if (program === "ovs-vsctl") {
    // One read-only command (several joined by `--` may include a change).
    return !(rest as string[]).includes("--") &&
      ["show", "list-br", "list-ports", "br-exists", "get", "list"].includes(args[0] ?? "");
  }
  if (program === "echo") {
    return !(rest as string[]).some((w) => w === ">" || w === ">>" || w === "|");
  }
  return false;
}

/** The entries of a REPL session that `.save` writes. */
export class Transcript {
  #kept: Kept[] = [];
  #notes: string[] = [];

  /** Records one entry and how it ended. */
  record(input: TranscriptInput, outcome: TranscriptOutcome): void {
    if (outcome.status === "incomplete") return;
    const parsed = parse(input.text, { source: input.source });
    // A syntax error means nothing ran.
    if (parsed.diagnostics.some((d) => d.severity === "error")) return;
    const statements = parsed.program.statements;
    const label = input.loadedFrom !== undefined ? `.load ${input.loadedFrom}` : input.source;
    let hasInclude = false;
    walkStatements(statements, (s) => {
      if (s.kind === "include") hasInclude = true;
    });
    if (outcome.status === "ok") {
      if (input.loadedFrom !== undefined && hasInclude) {
        // Its includes are relative to the file: replay the file itself.
        this.#kept.push({ text: `include ${quote(input.loadedFrom)}`, comment: label });
        return;
      }
      this.#keep(input.text, statements, statements.length, label, input.loadedFrom !== undefined);
      return;
    }
    const failedAt = this.#failedStatement(statements, input.source, outcome);
    const failed = failedAt === undefined ? undefined : statements[failedAt];
    const upTo = failedAt ?? 0;
    if (upTo > 0 && !(input.loadedFrom !== undefined && hasInclude)) {
      this.#keep(input.text, statements, upTo, label, input.loadedFrom !== undefined);
    }
    if (outcome.status === "interrupted") {
      this.#notes.push(`${label} was interrupted: what it did is not saved`);
    } else if (failed === undefined || failed.kind === "for" || failed.kind === "include") {
      this.#notes.push(
        `${label} failed part-way (in a loop or an include): what ran before the error is not saved`,
      );
    }
  }

  /** Forgets everything (`.reset`). */
  clear(): void {
    this.#kept = [];
    this.#notes = [];
  }

  /** How many statements (or loaded files) are kept. */
  get size(): number {
    return this.#kept.length;
  }

  /** The script, and the notes about what could not be saved. */
  script(version: string): { text: string; notes: readonly string[] } {
    const lines = [
      `# vdpa-lab ${version}: a REPL session saved by .save`,
      "# Replay it with `vdpa-lab run FILE` or `.load FILE`. Queries (show, ls, cat, lsmod …) are",
      "# left out; so are the statements that failed.",
      ...this.#notes.map((n) => `# note: ${n}`),
      "",
    ];
    let lastComment: string | undefined;
    for (const k of this.#kept) {
      if (k.comment !== lastComment && k.comment?.startsWith(".load")) lines.push(`# ${k.comment}`);
      lastComment = k.comment;
      lines.push(k.text);
    }
    return { text: `${lines.join("\n")}\n`, notes: this.#notes };
  }

  #keep(
    text: string,
    statements: readonly Statement[],
    count: number,
    label: string,
    loaded: boolean,
  ): void {
    for (const s of statements.slice(0, count)) {
      if (isQuery(s)) continue;
      this.#kept.push({
        text: text.slice(s.span.start, s.span.end),
        ...(loaded ? { comment: label } : {}),
      });
    }
  }

  /** Index of the top-level statement that holds the first error, if it can be told. */
  #failedStatement(
    statements: readonly Statement[],
    source: string,
    outcome: TranscriptOutcome,
  ): number | undefined {
    const first = outcome.diagnostics.find((d) => d.severity === "error");
    const at = first ? primarySpan(first) : undefined;
    if (!at || at.source !== source) return undefined;
    const i = statements.findIndex((s) => at.start >= s.span.start && at.start < s.span.end);
    return i < 0 ? undefined : i;
  }
}

/** A word that `parse` reads back as `text`. */
export function quote(text: string): string {
  if (/^[A-Za-z0-9_./:@%+,=-]+$/.test(text)) return text;
  return `'${text.replaceAll("'", `'"'"'`)}'`;
}
