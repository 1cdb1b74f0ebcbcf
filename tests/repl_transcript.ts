/**
 * Runs the real CLI as a user pipes a session into it: `deno run main.ts repl < script` in a
 * child process (stdin a pipe, not a terminal), and returns its exit status and its standard
 * output and error as text. The transcript tests compare those with golden files and run the
 * same script twice to show the output is the same byte for byte.
 *
 * @module
 */

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** What a piped REPL printed. */
export interface Transcript {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Pipes `script` into `vdpa-lab repl [args…]` run from `cwd` (default: a fresh temp dir). */
export async function pipeRepl(
  script: string,
  options: { readonly args?: readonly string[]; readonly cwd?: string } = {},
): Promise<Transcript> {
  const cwd = options.cwd ?? await Deno.makeTempDir({ prefix: "vdpa-lab-transcript-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        MAIN,
        "repl",
        ...(options.args ?? []),
      ],
      cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", HOME: cwd, XDG_STATE_HOME: `${cwd}/state` },
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(script));
    await w.close();
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    if (options.cwd === undefined) await Deno.remove(cwd, { recursive: true });
  }
}

/** The transcript as one golden text: the exit status, then both streams. */
export function transcriptText(t: Transcript): string {
  return `exit ${t.code}\n--- stdout\n${t.stdout}--- stderr\n${t.stderr}`;
}
