/**
 * Real runs for the generated documents, in-process and deterministic: a script run through a
 * {@link Session} (with statements typed after it), the `vdpa-lab` CLI through `cli()` with a
 * captured {@link CliIo}, and a REPL session through {@link ReplCore} recorded as a transcript
 * (each input line after its prompt, then what the lab printed). Files are read from the
 * project root; a run may also see files that exist only in memory (a script shown inline in
 * the README). Nothing is written to disk.
 *
 * @example
 * ```ts
 * import { ProjectFiles, runScript } from "./runs.ts";
 * const files = new ProjectFiles(new URL("../../", import.meta.url));
 * files.add("a.vdpa", "modprobe vdpa_sim_net\nlsmod | grep -c ^vdpa\n");
 * const r = await runScript("a.vdpa", files);
 * if (r.failed || r.output !== "3\n") throw new Error(r.output);
 * const more = await r.more("lsmod | grep -c vhost");
 * if (more.output !== "1\n") throw new Error(more.output);
 * ```
 *
 * @module
 */

import { cli, type CliIo } from "../../cli/main.ts";
import { parseCliArgs } from "../../cli/args.ts";
import { ReplCore } from "../../cli/repl_core.ts";
import { CONTINUATION_PROMPT, PROMPT } from "../../cli/repl.ts";
import type { ReadResult } from "../../lang/interpreter.ts";
import { renderDiagnostics } from "../../lang/render.ts";
import { Session } from "../../stdlib/session.ts";

/** Files as the runs see them: the project's, plus files that exist only in memory. */
export class ProjectFiles {
  readonly #root: URL;
  readonly #memory = new Map<string, string>();
  /** What runs wrote (`capture`, `export`, `.save`), by path; never written to disk. */
  readonly written: Map<string, Uint8Array | string> = new Map();

  constructor(root: URL) {
    this.#root = root;
  }

  /** Makes `path` readable with `text`, in memory only. */
  add(path: string, text: string): void {
    this.#memory.set(path, text);
  }

  /** Reads `path` (relative to the project root). */
  async read(path: string): Promise<ReadResult> {
    const mem = this.#memory.get(path);
    if (mem !== undefined) return { text: mem };
    try {
      return { text: await Deno.readTextFile(new URL(path, this.#root)) };
    } catch (e) {
      return { error: e instanceof Deno.errors.NotFound ? "No such file or directory" : String(e) };
    }
  }

  /** Records a write. */
  write(path: string, data: Uint8Array | string): Promise<{ ok: true }> {
    this.written.set(path, data);
    return Promise.resolve({ ok: true });
  }
}

/** What a run printed, and whether it failed. */
export interface RunResult {
  /** Command output; after a failure, only the errors, rendered as the CLI renders them. */
  readonly output: string;
  readonly failed: boolean;
  /** The session, to read the lab after the run. */
  readonly session: Session;
  /** Runs more statements in the same lab (as typed after `.load PATH`): what they print. */
  more(text: string): Promise<{ readonly output: string; readonly failed: boolean }>;
}

/** Runs the script at `path` in a fresh lab. */
export async function runScript(path: string, files: ProjectFiles): Promise<RunResult> {
  const read = await files.read(path);
  if ("error" in read) throw new Error(`cannot read ${path}: ${read.error}`);
  let out = "";
  const session = new Session({
    stdout: (t) => void (out += t),
    readFile: (p) => files.read(p),
    writeFile: (p, d) => files.write(p, d),
  });
  let entries = 0;
  const step = async (text: string, source: string) => {
    out = "";
    const before = session.diagnostics.items.length;
    const outcome = await session.runText(text, source);
    if (outcome.status === "ok") return { output: out, failed: false };
    const errors = session.diagnostics.items.slice(before).filter((d) => d.severity === "error");
    return { output: renderDiagnostics(errors, session.sources), failed: true };
  };
  const first = await step(read.text, path);
  return { ...first, session, more: (text) => step(text, `<then:${++entries}>`) };
}

/** What `vdpa-lab ARGS` printed (standard output and error, interleaved) and its status. */
export async function runCli(
  argv: readonly string[],
  files: ProjectFiles,
  stdin = "",
): Promise<{ readonly output: string; readonly status: number }> {
  let output = "";
  const io: CliIo = {
    stdout: (t) => void (output += t),
    stderr: (t) => void (output += t),
    readFile: (p) => files.read(p),
    readStdin: () => Promise.resolve(stdin),
    writeFile: (p, d) => files.write(p, d),
    isTerminal: false,
    noColor: true,
  };
  const status = await cli(argv, io);
  return { output, status };
}

/** A REPL session that keeps its lab between transcripts. */
export class ReplRecorder {
  readonly #core: ReplCore;
  #printed = "";

  constructor(files: ProjectFiles) {
    const args = parseCliArgs(["repl", "--no-history"]);
    if (!args.ok) throw new Error(args.error.message);
    this.#core = new ReplCore({
      args: args.value,
      io: {
        stdout: (t) => void (this.#printed += t),
        stderr: (t) => void (this.#printed += t),
        readFile: (p) => files.read(p),
        readStdin: () => Promise.resolve(""),
        writeFile: (p, d) => files.write(p, d),
        isTerminal: false,
        noColor: true,
      },
      interactive: true,
    });
  }

  /**
   * Types `input` line by line, as at the terminal (a line that leaves a quote, a block or a
   * `\` open continues at the `  ... ` prompt), and returns the transcript. A blank line stays
   * blank. Output that does not end its line gets a newline before the next prompt.
   */
  async type(input: string): Promise<string> {
    let transcript = "";
    let pending = "";
    const lines = input.endsWith("\n") ? input.slice(0, -1).split("\n") : input.split("\n");
    for (const line of lines) {
      if (pending === "" && line.trim() === "") {
        transcript += "\n";
        continue;
      }
      transcript += `${pending === "" ? PROMPT : CONTINUATION_PROMPT}${line}\n`;
      const text = pending === "" ? line : `${pending}\n${line}`;
      const r = await this.#core.entry(text);
      transcript += this.#printed;
      if (this.#printed !== "" && !this.#printed.endsWith("\n")) transcript += "\n";
      this.#printed = "";
      if (r === "exit") break;
      pending = r === "incomplete" ? text : "";
    }
    if (pending !== "") throw new Error(`REPL input ends inside an open entry: ${pending}`);
    return transcript;
  }
}
