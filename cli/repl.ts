/**
 * The interactive lab: prompt `vdpa> `, one statement (or block) per entry, state kept
 * between entries, diagnostics rendered against the entry typed, multi-line input while a
 * quote, a block or a trailing `\` is open (prompt `  ... `). Tab completes (`complete.ts`),
 * Up/Down recall the history kept across sessions (`history.ts`), meta commands run in
 * `repl_core.ts`. Ctrl-C abandons the line being typed, stops a run in progress, or at an
 * empty prompt says how to leave; Ctrl-D on an empty line leaves.
 *
 * Piped input (not a terminal) runs as a script through `repl_pipe.ts`.
 *
 * @module
 */

import process from "node:process";
import { createInterface, type Interface } from "node:readline";
import type { CliArgs } from "./args.ts";
import { complete } from "./complete.ts";
import { sessionSources } from "./complete_sources.ts";
import { History, HISTORY_LIMIT } from "./history.ts";
import { banner, PROMPT } from "./early_prompt.ts";
import { type CliIo, loadProfile, VERSION } from "./main.ts";
import { Progress, runProgressOf } from "./progress.ts";
import { ReplCore } from "./repl_core.ts";
import { runPiped } from "./repl_pipe.ts";
import { style, useColor } from "./style.ts";

/** The prompt of a fresh entry. */
export { PROMPT };
/** The prompt of a continuation line. */
export const CONTINUATION_PROMPT = "  ... ";
/** What Ctrl-C at an empty prompt prints. */
export const LEAVE_HINT = "(use .exit or Ctrl-D to leave)";

function currentDir(): string | undefined {
  try {
    return Deno.cwd();
  } catch {
    return undefined;
  }
}

/**
 * The readline completer for an entry whose earlier lines are `pending`: completes `line`
 * (the text before the cursor on the current line) and returns readline's
 * `[candidates, replaced text]`.
 */
export function readlineCompleter(
  core: ReplCore,
  pending: () => string,
): (line: string) => [string[], string] {
  const sources = sessionSources(core.session);
  return (line) => {
    const before = pending();
    const text = before === "" ? line : `${before}\n${line}`;
    const offset = text.length - line.length;
    try {
      const c = complete(text, sources);
      if (c.from < offset) return [[], line];
      return [[...c.candidates], text.slice(c.from)];
    } catch (e) {
      // A completion bug must not end the session: report it and complete nothing.
      console.error(`\ncompletion failed: ${e instanceof Error ? e.stack : e}`);
      return [[], line];
    }
  };
}

/** Runs the REPL on Deno's stdin/stdout until `.exit` or end of input; returns the exit status. */
export async function runRepl(
  args: CliArgs,
  io: CliIo,
  options: { readonly earlyPrompt?: boolean } = {},
): Promise<number> {
  const interactive = Deno.stdin.isTerminal();
  const color = useColor(args.color, io);
  let interrupt = false;
  const cwd = currentDir();
  const loaded = await loadProfile(args.profile, io);
  if ("error" in loaded) {
    io.stderr(`vdpa-lab: ${loaded.error}\n`);
    return 2;
  }
  // The spinner of long runs: stderr, a terminal only, erased before any other output.
  const progress = new Progress({
    write: (t) => io.stderr(t),
    now: () => Date.now(),
    enabled: interactive && Deno.stderr.isTerminal() && !args.quiet && !args.json,
  });
  const report = progress.reporter();
  const out: CliIo = {
    ...io,
    stdout: (t) => {
      progress.clear();
      io.stdout(t);
    },
    stderr: (t) => {
      progress.clear();
      io.stderr(t);
    },
  };
  const core = new ReplCore({
    args,
    io: out,
    costProfile: loaded.profile,
    interactive,
    color,
    interrupted: () => interrupt,
    runProgress: (p) => report(runProgressOf(p)),
    ...(cwd !== undefined ? { cwd } : {}),
  });
  const file = args.files[0];
  if (file !== undefined) {
    const read = await io.readFile(file);
    if ("error" in read) {
      io.stderr(`vdpa-lab: cannot read ${file}: ${read.error}\n`);
      return 1;
    }
    const abs = file.startsWith("/") || cwd === undefined ? file : `${cwd}/${file}`;
    const outcome = await core.script(read.text, file, { loadedFrom: abs });
    if (!interactive && outcome.status !== "ok") return 1;
  }
  if (!interactive) {
    const status = await runPiped(core, await io.readStdin());
    const json = core.takeJson();
    if (args.json && json.length > 0) {
      const errors = json.filter((d) => d.severity === "error").length;
      io.stderr(
        `${
          JSON.stringify({ diagnostics: json, errors, warnings: json.length - errors }, null, 2)
        }\n`,
      );
    }
    return status;
  }
  return await interactiveLoop(core, args, io, color, progress, {
    setInterrupt: (v) => void (interrupt = v),
  }, options.earlyPrompt ?? false);
}

async function interactiveLoop(
  core: ReplCore,
  args: CliArgs,
  io: CliIo,
  color: boolean,
  progress: Progress,
  control: { setInterrupt(v: boolean): void },
  earlyPrompt: boolean,
): Promise<number> {
  const history = History.open({ disabled: args.noHistory === true });
  const warn = () => {
    for (const w of history.takeWarnings()) io.stderr(`vdpa-lab: ${w}\n`);
  };
  warn();
  const s = style(color);
  const prompt = s.color ? s.bold(PROMPT) : PROMPT;
  const continuation = s.color ? s.dim(CONTINUATION_PROMPT) : CONTINUATION_PROMPT;
  let pending = "";
  let running = false;
  const rl: Interface = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: true,
    prompt,
    history: [...history.lines].reverse(),
    historySize: HISTORY_LIMIT,
    completer: readlineCompleter(core, () => pending),
  });
  rl.on("SIGINT", () => {
    if (running) {
      control.setInterrupt(true);
      return;
    }
    const typed = rl.line !== "" || pending !== "";
    // Abandon what was typed, like a shell: the line stays on screen, marked ^C.
    rl.write(null, { ctrl: true, name: "e" });
    io.stdout(typed ? "^C\n" : `\n${LEAVE_HINT}\n`);
    rl.write(null, { ctrl: true, name: "u" });
    pending = "";
    rl.setPrompt(prompt);
    rl.prompt();
  });
  // main.ts may have shown the banner and the prompt while the modules loaded.
  if (!args.quiet && !earlyPrompt) io.stdout(`${s.dim(banner(VERSION))}\n`);
  rl.prompt();
  let exited = false;
  for await (const line of rl) {
    if (history.add(line)) warn();
    if (pending === "" && line.trim() === "") {
      rl.prompt();
      continue;
    }
    const text = pending === "" ? line : `${pending}\n${line}`;
    running = true;
    control.setInterrupt(false);
    progress.start("run", { timer: true });
    let r;
    try {
      r = await core.entry(text);
    } finally {
      progress.stop();
      running = false;
    }
    if (r === "exit") {
      exited = true;
      break;
    }
    if (r === "incomplete") {
      pending = text;
      rl.setPrompt(continuation);
    } else {
      pending = "";
      rl.setPrompt(prompt);
    }
    rl.prompt();
  }
  rl.close();
  // Ctrl-D leaves the cursor after the prompt: end the line for the shell.
  if (!exited) io.stdout("\n");
  return 0;
}
