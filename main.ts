#!/usr/bin/env -S deno run --allow-read
/**
 * `vdpa-lab`: the command-line entry point. Binds the CLI to Deno's I/O; nothing here runs
 * host commands or opens sockets. Install with
 * `deno install --global --allow-read --name vdpa-lab main.ts`.
 *
 * @module
 */

import type { CliIo } from "./cli/main.ts";
import { showEarlyPrompt } from "./cli/early_prompt.ts";

async function readStdin(): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const c of Deno.stdin.readable) chunks.push(c);
  return new TextDecoder().decode(await new Blob(chunks as BlobPart[]).arrayBuffer());
}

function errorText(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "No such file or directory";
  if (e instanceof Deno.errors.PermissionDenied) {
    return "permission denied (run with --allow-read / --allow-write for this path)";
  }
  return e instanceof Error ? e.message : String(e);
}

const encoder = new TextEncoder();

/** The CLI's I/O bound to Deno; `repl` is filled in once the REPL module is loaded. */
function denoIo(repl: CliIo["repl"]): CliIo {
  return {
    stdout: (t) => void Deno.stdout.writeSync(encoder.encode(t)),
    stderr: (t) => void Deno.stderr.writeSync(encoder.encode(t)),
    readFile: async (path) => {
      try {
        return { text: await Deno.readTextFile(path) };
      } catch (e) {
        return { error: errorText(e) };
      }
    },
    readStdin,
    writeFile: async (path, data, options) => {
      const append = options?.append ?? false;
      try {
        if (typeof data === "string") await Deno.writeTextFile(path, data, { append });
        else await Deno.writeFile(path, data, { append });
        return { ok: true };
      } catch (e) {
        return { ok: false, error: errorText(e) };
      }
    },
    isTerminal: Deno.stdout.isTerminal(),
    stderrIsTerminal: Deno.stderr.isTerminal(),
    noColor: Deno.noColor,
    ...(repl ? { repl } : {}),
  };
}

if (import.meta.main) {
  // An interactive REPL shows its prompt before the lab's modules load (a few hundred ms).
  const early = showEarlyPrompt(Deno.args, {
    stdin: Deno.stdin.isTerminal(),
    stdout: Deno.stdout.isTerminal(),
    noColor: Deno.noColor,
  }, (t) => void Deno.stdout.writeSync(encoder.encode(t)));
  // Keystrokes typed while the modules load wait, unechoed, for readline (which then echoes
  // them and completes on Tab) instead of being echoed half-cooked by the terminal.
  if (early) Deno.stdin.setRaw(true);
  let status: number;
  try {
    const { cli } = await import("./cli/main.ts");
    const { runRepl } = await import("./cli/repl.ts");
    const io = denoIo((args, io) => runRepl(args, io, { earlyPrompt: early }));
    status = await cli(Deno.args, io);
  } finally {
    if (early) Deno.stdin.setRaw(false);
  }
  Deno.exit(status);
}
