/**
 * The interactive lab: prompt `vdpa> `, one statement (or block) per entry, state kept
 * between entries, diagnostics rendered against the entry typed, multi-line input while a
 * quote, a block or a trailing `\` is open. Piped input (not a terminal) runs through the
 * same loop without prompts, so transcripts can be tested.
 *
 * @module
 */

import process from "node:process";
import { createInterface } from "node:readline";
import { renderDiagnostics } from "../lang/render.ts";
import { Session } from "../stdlib/session.ts";
import type { CliArgs } from "./args.ts";
import type { CliIo } from "./main.ts";

/** The prompt of a fresh entry. */
export const PROMPT = "vdpa> ";
/** The prompt of a continuation line. */
export const CONTINUATION_PROMPT = "  ... ";

/** Runs the REPL on Deno's stdin/stdout until `.exit` or end of input; returns the exit status. */
export async function runRepl(args: CliArgs, io: CliIo): Promise<number> {
  const interactive = Deno.stdin.isTerminal();
  const color = args.color === "always" || (args.color === "auto" && io.isTerminal && !io.noColor);
  const session = new Session({
    mode: "run",
    stdout: (t) => io.stdout(t),
    readFile: (p) => io.readFile(p),
    ...(io.writeFile ? { writeFile: io.writeFile } : {}),
    seed: args.seed,
    json: args.json,
    quiet: args.quiet,
    color,
  });
  let failed = false;
  let shown = 0;
  const showNewDiagnostics = () => {
    const items = session.diagnostics.items.slice(shown);
    shown = session.diagnostics.items.length;
    if (items.length > 0) io.stderr(renderDiagnostics(items, session.sources, { color }));
  };

  const file = args.files[0];
  if (file !== undefined) {
    const read = await io.readFile(file);
    if ("error" in read) {
      io.stderr(`vdpa-lab: cannot read ${file}: ${read.error}\n`);
      return 1;
    }
    const r = await session.runText(read.text, file);
    showNewDiagnostics();
    if (r.status === "failed") failed = true;
  }

  const rl = createInterface({
    input: process.stdin,
    ...(interactive ? { output: process.stdout } : {}),
    terminal: interactive,
    prompt: PROMPT,
  });
  let entry = 0;
  let pending = "";
  if (interactive) rl.prompt();
  for await (const line of rl) {
    const text = pending === "" ? line : `${pending}\n${line}`;
    if (pending === "" && line.trim() === ".exit") break;
    const source = `<repl:${entry + 1}>`;
    const r = await session.runText(text, source, { allowIncomplete: true });
    if (r.status === "incomplete") {
      pending = text;
      if (interactive) {
        rl.setPrompt(CONTINUATION_PROMPT);
        rl.prompt();
      }
      continue;
    }
    entry++;
    pending = "";
    showNewDiagnostics();
    if (r.status === "failed") failed = true;
    if (interactive) {
      rl.setPrompt(PROMPT);
      rl.prompt();
    }
  }
  rl.close();
  return !interactive && failed ? 1 : 0;
}
