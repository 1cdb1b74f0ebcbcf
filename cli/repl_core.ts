/**
 * The REPL without a terminal: one session, entries numbered `<repl:N>`, diagnostics rendered
 * against the entry that was typed, the transcript `.save` writes, and the meta commands.
 * The terminal driver (`repl.ts`) and the piped-input driver (`repl_pipe.ts`) feed it text.
 *
 * @example
 * ```ts
 * import { ReplCore } from "./repl_core.ts";
 * import { parseCliArgs } from "./args.ts";
 * const parsed = parseCliArgs(["repl"]);
 * if (!parsed.ok) throw new Error("args");
 * let out = "";
 * let err = "";
 * const core = new ReplCore({
 *   args: parsed.value,
 *   io: {
 *     stdout: (t) => void (out += t),
 *     stderr: (t) => void (err += t),
 *     readFile: () => Promise.resolve({ error: "No such file or directory" }),
 *     readStdin: () => Promise.resolve(""),
 *     isTerminal: false,
 *     noColor: true,
 *   },
 *   interactive: false,
 * });
 * if (await core.entry("let n = 4") !== "ok") throw new Error(err);
 * if (await core.entry("for i in 1..${n} {") !== "incomplete") throw new Error("a block is open");
 * if (await core.entry("nosuchcommand") !== "failed" || !err.includes("<repl:2>:1:1")) throw new Error(err);
 * await core.entry(".vars");
 * if (out !== "n = 4\n") throw new Error(out);
 * ```
 *
 * @module
 */

import type { Diagnostic } from "../lang/diagnostic.ts";
import type { RunOutcome } from "../lang/interpreter.ts";
import { diagnosticToJson, renderDiagnostics } from "../lang/render.ts";
import { helpPage } from "../stdlib/commands/help.ts";
import type { CostProfile } from "../runtime/sim/cost.ts";
import type { RunProgressInfo } from "../stdlib/exec.ts";
import { Session } from "../stdlib/session.ts";
import type { CliArgs } from "./args.ts";
import { type CliIo, VERSION } from "./main.ts";
import { type MetaLine, parseMeta } from "./meta.ts";
import { Transcript } from "./transcript.ts";

/** How an entry ended. */
export type EntryResult = "ok" | "failed" | "interrupted" | "incomplete" | "exit";

/** Options of {@link ReplCore}. */
export interface ReplCoreOptions {
  readonly args: CliArgs;
  readonly io: CliIo;
  /** A person is typing (informational messages are for them). */
  readonly interactive: boolean;
  /** ANSI colour in diagnostics. */
  readonly color?: boolean;
  /** Asked during runs: true stops the run (Ctrl-C). */
  readonly interrupted?: () => boolean;
  /** The working directory, to record `.load`ed files by absolute path. */
  readonly cwd?: string;
  /** The cost profile (`--profile`); default stdlib's. */
  readonly costProfile?: CostProfile;
  /** Told how far a long run is; awaiting it lets the terminal see Ctrl-C. */
  readonly runProgress?: (p: RunProgressInfo) => Promise<void>;
}

/** The REPL's state: a session and what `.save` needs. */
export class ReplCore {
  readonly session: Session;
  readonly transcript: Transcript = new Transcript();
  readonly #o: ReplCoreOptions;
  #entries = 0;
  #failed = false;
  #json: ReturnType<typeof diagnosticToJson>[] = [];

  constructor(options: ReplCoreOptions) {
    this.#o = options;
    const { args, io } = options;
    this.session = new Session({
      mode: "run",
      stdout: (t) => io.stdout(t),
      readFile: (p) => io.readFile(p),
      ...(io.writeFile ? { writeFile: io.writeFile } : {}),
      seed: args.seed,
      traceLevel: args.trace,
      ...(options.costProfile ? { costProfile: options.costProfile } : {}),
      json: args.json,
      quiet: args.quiet,
      color: options.color ?? false,
      ...(options.interrupted ? { interrupted: options.interrupted } : {}),
      ...(options.runProgress ? { runProgress: options.runProgress } : {}),
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    });
  }

  /** True once an entry, a script or a meta command failed. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Entries run so far (the N of the next `<repl:N>` is one more). */
  get entries(): number {
    return this.#entries;
  }

  /** JSON diagnostics collected under `--json` (printed by the driver at the end). */
  takeJson(): ReturnType<typeof diagnosticToJson>[] {
    const j = this.#json;
    this.#json = [];
    return j;
  }

  /**
   * Runs one entry: a meta command line, or script text (which may be `incomplete`, asking for
   * another line). Diagnostics are printed on standard error.
   */
  async entry(text: string): Promise<EntryResult> {
    const meta = parseMeta(text);
    if (meta) return await this.meta(meta);
    const source = `<repl:${this.#entries + 1}>`;
    const outcome = await this.session.runText(text, source, { allowIncomplete: true });
    if (outcome.status === "incomplete") return "incomplete";
    this.#entries++;
    this.#finish(outcome);
    this.transcript.record({ text, source }, outcome);
    return outcome.status;
  }

  /** Runs a whole script (the FILE argument, `.load`, piped input) called `source`. */
  async script(
    text: string,
    source: string,
    options: { readonly loadedFrom?: string; readonly record?: boolean } = {},
  ): Promise<RunOutcome> {
    const outcome = await this.session.runText(text, source);
    this.#finish(outcome);
    if (options.record ?? true) {
      this.transcript.record(
        { text, source, ...(options.loadedFrom ? { loadedFrom: options.loadedFrom } : {}) },
        outcome,
      );
    }
    return outcome;
  }

  /** Runs a meta command. */
  async meta(m: MetaLine): Promise<EntryResult> {
    const io = this.#o.io;
    if (m.kind === "unknown") {
      const hint = m.suggestions[0] ? `; did you mean \`${m.suggestions[0]}\`?` : "";
      return this.#metaError(`unknown REPL command \`${m.name}\`${hint} (.help repl lists them)`);
    }
    if (m.kind === "bad-arg") return this.#metaError(m.problem);
    switch (m.name) {
      case ".exit":
        return "exit";
      case ".help": {
        const page = helpPage(m.arg === undefined ? [] : m.arg.split(/\s+/));
        if (!page.ok) {
          const hint = page.suggestions[0] ? `; did you mean \`${page.suggestions[0]}\`?` : "";
          return this.#metaError(`no help for \`${page.topic}\`${hint} (.help lists the topics)`);
        }
        io.stdout(`${page.text}\n`);
        return "ok";
      }
      case ".vars": {
        const vars = [...this.session.variables].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        io.stdout(vars.map(([k, v]) => `${k} = ${v}\n`).join(""));
        if (vars.length === 0 && this.#o.interactive) io.stderr("(no variables)\n");
        return "ok";
      }
      case ".reset":
        this.session.reset();
        this.transcript.clear();
        if (this.#o.interactive) io.stderr("(a fresh lab)\n");
        return "ok";
      case ".load":
        return await this.#load(m.arg as string);
      case ".save":
        return await this.#save(m.arg as string);
      default:
        throw new Error(`meta command ${m.name} has no handler`);
    }
  }

  async #load(path: string): Promise<EntryResult> {
    const read = await this.#o.io.readFile(path);
    if ("error" in read) return this.#metaError(`cannot read ${path}: ${read.error}`);
    const cwd = this.#o.cwd;
    const absolute = path.startsWith("/") || cwd === undefined ? path : `${cwd}/${path}`;
    const outcome = await this.script(read.text, path, { loadedFrom: absolute });
    return outcome.status === "incomplete" ? "failed" : outcome.status;
  }

  async #save(path: string): Promise<EntryResult> {
    const io = this.#o.io;
    if (!io.writeFile) {
      return this.#metaError(`cannot write ${path}: this REPL may not write files`);
    }
    const { text, notes } = this.transcript.script(VERSION);
    const r = await io.writeFile(path, text);
    if (!r.ok) return this.#metaError(`cannot write ${path}: ${r.error}`);
    if (this.#o.interactive && !this.#o.args.quiet) {
      const n = this.transcript.size;
      io.stderr(`saved ${n} statement${n === 1 ? "" : "s"} to ${path}\n`);
    }
    for (const note of notes) io.stderr(`note: ${note}\n`);
    return "ok";
  }

  #metaError(text: string): EntryResult {
    this.#failed = true;
    this.#o.io.stderr(`error: ${text}\n`);
    return "failed";
  }

  #finish(outcome: RunOutcome): void {
    if (outcome.status === "failed" || outcome.status === "interrupted") this.#failed = true;
    this.#show(outcome.diagnostics);
    if (outcome.status === "interrupted") this.#o.io.stderr("interrupted\n");
  }

  #show(diagnostics: readonly Diagnostic[]): void {
    if (diagnostics.length === 0) return;
    if (this.#o.args.json) {
      for (const d of diagnostics) this.#json.push(diagnosticToJson(d, this.session.sources));
      return;
    }
    this.#o.io.stderr(
      renderDiagnostics(diagnostics, this.session.sources, { color: this.#o.color ?? false }),
    );
  }
}
