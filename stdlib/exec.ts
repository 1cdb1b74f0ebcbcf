/**
 * The contract between the session and the command families: each family file in
 * `stdlib/commands/` exports executors that map one typed command node onto runtime calls,
 * print the command's output and report diagnostics located at the source.
 *
 * @example An executor
 * ```ts
 * import type { Executor } from "./exec.ts";
 * import type { LsmodCommand } from "../lang/commands/mod.ts";
 * const lsmod: Executor<LsmodCommand> = (_cmd, cx) => {
 *   cx.print(`${cx.lab.host.lsmod().length} modules\n`);
 * };
 * if (typeof lsmod !== "function") throw new Error("unreachable");
 * ```
 *
 * @module
 */

import type { Command, CommandKind } from "../lang/commands/mod.ts";
import type { Diagnostics } from "../lang/diagnostic.ts";
import type { CommandStatement } from "../lang/ast.ts";
import type { Mode } from "../lang/interpreter.ts";
import type { Span } from "../lang/span.ts";
import type { SourceMap } from "../lang/span.ts";
import type { Lab } from "../runtime/lab.ts";
import type { Provenance } from "./provenance.ts";

/** Where the lab may write files (`capture`, `export`, `.save`); absent: writing is refused. */
export type FileWriter = (
  path: string,
  data: Uint8Array | string,
  options?: { readonly append?: boolean },
) => Promise<FileWriteResult>;

/** The outcome of a {@link FileWriter} call. */
export type FileWriteResult = { readonly ok: true } | {
  readonly ok: false;
  readonly error: string;
};

/** Settings of a session that executors read. */
export interface SessionSettings {
  /** `run --json` / `--json`: summaries as JSON. */
  readonly json: boolean;
  /** `--quiet`: no command output. */
  readonly quiet: boolean;
  /** The CLI colours output for a terminal. */
  readonly color: boolean;
}

/** How far a `run` is, reported between chunks of events. */
export interface RunProgressInfo {
  /** Virtual time run so far (ns). */
  readonly doneNs: number;
  /** Virtual time the run will stop at, from its start (ns), for `run DURATION`. */
  readonly totalNs?: number;
  /** Packets sent so far by the traffics that run, and in all when each has a count. */
  readonly sent: number;
  readonly count?: number;
}

/** What an executor gets besides its command. */
export interface ExecContext {
  readonly lab: Lab;
  readonly mode: Mode;
  readonly diagnostics: Diagnostics;
  readonly sources: SourceMap;
  /** The statement being executed. */
  readonly statement: CommandStatement;
  /** Spans of the things scripts created or configured, for secondary labels. */
  readonly provenance: Provenance;
  readonly settings: SessionSettings;
  /** Prints command output (after the statement's `| grep …` filters). */
  print(text: string): void;
  /** Writes a file the script asked for; refused when the session has no writer. */
  writeFile(path: string, data: Uint8Array | string, at: Span): Promise<boolean>;
  /** True once the user asked to stop (Ctrl-C in the REPL). */
  interrupted(): boolean;
  /** Someone can interrupt (the REPL's Ctrl-C): a long run need not be refused up front. */
  readonly interruptible: boolean;
  /**
   * Called by a long run between chunks; awaiting it gives the terminal a turn (Ctrl-C, the
   * progress line). Resolves at once when nobody watches.
   */
  runProgress(p: RunProgressInfo): Promise<void>;
}

/** Executes one kind of command. */
export type Executor<C extends Command> = (cmd: C, cx: ExecContext) => void | Promise<void>;

/** One executor per command kind. */
export type ExecutorTable = {
  readonly [K in CommandKind]?: Executor<Extract<Command, { kind: K }>>;
};
