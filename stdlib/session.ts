/**
 * A session: one lab, one interpreter, and the executors that give commands their meaning.
 * The CLI (`run`, `check`), the REPL and the tests all drive a lab through a session.
 *
 * Each command statement is expanded by the interpreter, parsed into a typed node by
 * `lang/commands`, and handed to the executor for its kind (`stdlib/commands/`). Output a
 * command prints goes through the statement's `| grep …` filters, then to `stdout`. In
 * `check` mode the whole topology is still built (so setup mistakes are diagnostics), but
 * nothing is printed and no traffic runs.
 *
 * @example Checking a script
 * ```ts
 * import { Session } from "./session.ts";
 * const out: string[] = [];
 * const s = new Session({ mode: "check", stdout: (t) => out.push(t) });
 * const r = await s.runText("modprobe vdpasim_net\n", "lab.vdpa");
 * if (r.status !== "failed") throw new Error("a misspelt module must fail");
 * ```
 *
 * @module
 */

import { type FileRedirect, parseCommand } from "../lang/commands/mod.ts";
import { Diagnostics, error } from "../lang/diagnostic.ts";
import {
  type CommandContext,
  type FileReader,
  Interpreter,
  type Mode,
  type RunOutcome,
  type RunTextOptions,
} from "../lang/interpreter.ts";
import { SourceMap, type Span } from "../lang/span.ts";
import type { ExpandedWord } from "../lang/word.ts";
import { Lab } from "../runtime/lab.ts";
import type { CostProfile } from "../runtime/sim/cost.ts";
import type { TraceLevel } from "../runtime/trace/recorder.ts";
import { KERNEL_MODULES } from "./catalog/kernel_modules.ts";
import { NIC_MODELS } from "./catalog/nic_models.ts";
import { DEFAULT_COST_PROFILE } from "./cost_profile.ts";
import { EXECUTORS } from "./commands/mod.ts";
import type {
  ExecContext,
  Executor,
  FileWriter,
  RunProgressInfo,
  SessionSettings,
} from "./exec.ts";
import { applyFilters } from "./output_filter.ts";
import { Provenance } from "./provenance.ts";

/** Options of {@link Session}. */
export interface SessionOptions {
  /** `run` (default) stops at the first error; `check` collects all and runs no traffic. */
  readonly mode?: Mode;
  /** Where command output goes. */
  readonly stdout: (text: string) => void;
  /** Reads included files (and profile files); without one, `include` is an error. */
  readonly readFile?: FileReader;
  /** Writes files scripts ask for (`capture`, `export`); without one, writing is refused. */
  readonly writeFile?: FileWriter;
  /** Seed of the lab's random streams (default 1). */
  readonly seed?: number;
  /** The cost profile (default: stdlib's DEFAULT_COST_PROFILE, from reference/cost-model.md). */
  readonly costProfile?: CostProfile;
  /** How many per-hop events runs keep (default `sample`). */
  readonly traceLevel?: TraceLevel;
  readonly json?: boolean;
  readonly quiet?: boolean;
  readonly color?: boolean;
  /** Asked between statements and during runs: true stops (Ctrl-C). */
  readonly interrupted?: () => boolean;
  /** Told how far a long run is, between chunks of events (a terminal's progress line). */
  readonly runProgress?: (p: RunProgressInfo) => Promise<void>;
  /** Directory that includes from `<stdin>` and `<repl:N>` are relative to. */
  readonly cwd?: string;
  /** Shared source registry (the REPL keeps one across resets). */
  readonly sources?: SourceMap;
}

const NO_WAIT: Promise<void> = Promise.resolve();

/** A lab driven by scripts. */
export class Session {
  readonly mode: Mode;
  readonly sources: SourceMap;
  readonly settings: SessionSettings;
  readonly #options: SessionOptions;
  #lab: Lab;
  #provenance = new Provenance();
  #diagnostics = new Diagnostics();
  #interpreter: Interpreter;

  constructor(options: SessionOptions) {
    this.#options = options;
    this.mode = options.mode ?? "run";
    this.sources = options.sources ?? new SourceMap();
    this.settings = {
      json: options.json ?? false,
      quiet: options.quiet ?? false,
      color: options.color ?? false,
    };
    this.#lab = this.#newLab();
    this.#interpreter = this.#newInterpreter();
  }

  /** The lab this session drives. */
  get lab(): Lab {
    return this.#lab;
  }

  /** Every diagnostic reported so far. */
  get diagnostics(): Diagnostics {
    return this.#diagnostics;
  }

  /** The variables defined so far. */
  get variables(): ReadonlyMap<string, string> {
    return this.#interpreter.variables;
  }

  /** Where things were created, for secondary labels. */
  get provenance(): Provenance {
    return this.#provenance;
  }

  /** Runs `text` (a whole file, stdin, or one REPL entry) called `source`. */
  runText(text: string, source: string, options?: RunTextOptions): Promise<RunOutcome> {
    return this.#interpreter.runText(text, source, options);
  }

  /** Reads and runs the file at `path` through the session's reader. */
  runFile(path: string): Promise<RunOutcome> {
    return this.#interpreter.runFile(path);
  }

  /** Throws the lab away and starts a fresh one (the REPL's `.reset`); sources are kept. */
  reset(): void {
    this.#lab = this.#newLab();
    this.#provenance = new Provenance();
    this.#diagnostics = new Diagnostics();
    this.#interpreter = this.#newInterpreter();
  }

  #newLab(): Lab {
    const lab = new Lab({
      hostCatalog: { modules: KERNEL_MODULES, nicModels: NIC_MODELS },
      seed: this.#options.seed ?? 1,
      costProfile: this.#options.costProfile ?? DEFAULT_COST_PROFILE,
    });
    if (this.#options.traceLevel !== undefined) lab.setTraceLevel(this.#options.traceLevel);
    return lab;
  }

  #newInterpreter(): Interpreter {
    const o = this.#options;
    return new Interpreter({
      mode: this.mode,
      sources: this.sources,
      diagnostics: this.#diagnostics,
      executor: (words, ctx) => this.#execute(words, ctx),
      ...(o.readFile ? { readFile: o.readFile } : {}),
      ...(o.interrupted ? { interrupted: o.interrupted } : {}),
      ...(o.cwd ? { cwd: o.cwd } : {}),
    });
  }

  async #execute(words: ExpandedWord[], ctx: CommandContext): Promise<void> {
    const cmd = parseCommand(words, ctx.diagnostics);
    if (!cmd) return;
    const executor = EXECUTORS[cmd.kind] as Executor<typeof cmd> | undefined;
    if (!executor) {
      ctx.diagnostics.push(error("E0599", `\`${cmd.program.value}\` is not modelled by the lab`, {
        span: cmd.program.span,
        label: "no model for this command",
      }));
      return;
    }
    let printed = "";
    const cx: ExecContext = {
      lab: this.#lab,
      mode: this.mode,
      diagnostics: ctx.diagnostics,
      sources: this.sources,
      statement: ctx.statement,
      provenance: this.#provenance,
      settings: this.settings,
      print: (text) => {
        printed += text;
      },
      writeFile: (path, data, at) => this.#write(path, data, at, ctx.diagnostics),
      interrupted: () => this.#options.interrupted?.() ?? false,
      interruptible: this.#options.interrupted !== undefined,
      runProgress: (p) => this.#options.runProgress?.(p) ?? NO_WAIT,
    };
    try {
      await executor(cmd, cx);
    } finally {
      // Output printed before a failure is still shown, as a real tool's would be.
      const out = cmd.pipeline.length > 0 ? applyFilters(printed, cmd.pipeline) : printed;
      if (cmd.stdout) await this.#redirect(out, cmd.stdout, ctx.diagnostics);
      else if (out !== "" && this.mode === "run" && !this.settings.quiet) {
        this.#options.stdout(out);
      }
    }
  }

  /** `cmd > PATH`: `/dev/null` discards; a file gets the output; sysfs and /dev refuse it. */
  async #redirect(out: string, r: FileRedirect, diags: Diagnostics): Promise<void> {
    const path = r.path.value;
    if (path === "/dev/null") return;
    if (/^\/(sys|dev|proc)(\/|$)/.test(path)) {
      diags.push(error("E0501", `cannot redirect command output into \`${path}\``, {
        span: r.path.span,
        label: "not a file for command output",
        help: ["write to sysfs with `echo VALUE > PATH`; discard output with `> /dev/null`"],
      }));
      return;
    }
    if (this.mode === "check") return;
    const writer = this.#options.writeFile;
    if (!writer) {
      await this.#write(path, out, r.path.span, diags);
      return;
    }
    const w = await writer(path, out, { append: r.append });
    if (!w.ok) {
      diags.push(error("E0501", `cannot write \`${path}\`: ${w.error}`, {
        span: r.path.span,
        label: "write failed",
      }));
    }
  }

  async #write(
    path: string,
    data: Uint8Array | string,
    at: Span,
    diags: Diagnostics,
  ): Promise<boolean> {
    if (this.mode === "check") return true;
    const writer = this.#options.writeFile;
    if (!writer) {
      diags.push(error("E0501", `cannot write \`${path}\`: this session may not write files`, {
        span: at,
        label: "writing refused",
        help: ["run the script with `vdpa-lab run` (it may write the files a script asks for)"],
      }));
      return false;
    }
    const r = await writer(path, data);
    if (!r.ok) {
      diags.push(error("E0501", `cannot write \`${path}\`: ${r.error}`, {
        span: at,
        label: "write failed",
      }));
      return false;
    }
    return true;
  }
}
