/**
 * The REPL's figure for `deno task bench`: wall time from starting `vdpa-lab repl` in a real
 * terminal to its first prompt (the issue's bound: under 300 ms). The REPL runs as a real
 * process on a pseudo-terminal: util-linux `script` when it is installed (the prompt's bytes
 * are seen the moment they are written), else a tmux pane polled every few milliseconds.
 * One launch warms Deno's module cache first and is not counted.
 *
 * Needs --allow-run (and --allow-read, --allow-env); without it the figure is skipped.
 * Run alone: `deno run --allow-read --allow-env --allow-run bench/repl_bench.ts`
 *
 * @module
 */

/** The figure. Times are wall-clock milliseconds (benchmarks may read the clock). */
export interface ReplStartupResult {
  /** How the terminal was provided. */
  readonly method: "script" | "tmux";
  /** Launches timed. */
  readonly samples: readonly number[];
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** Median time until the first entry typed at the prompt was answered (`script` only). */
  readonly readyMedianMs?: number;
}

/** Options of {@link replStartupBench}. */
export interface ReplStartupOptions {
  /** Timed launches (default 7). */
  readonly runs?: number;
  /** Give up on one launch after this long (default 10 s). */
  readonly timeoutMs?: number;
  /** The terminal to use (default: `script` when installed, else tmux). */
  readonly method?: "script" | "tmux";
}

/** The issue's bound on REPL start to first prompt. */
export const STARTUP_BOUND_MS = 300;

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const PROMPT = "vdpa> ";

function replArgs(): string[] {
  return [
    Deno.execPath(),
    "run",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    MAIN,
    "repl",
    "--no-history",
  ];
}

function shellQuote(words: readonly string[]): string {
  return words.map((w) => `'${w.replaceAll("'", `'"'"'`)}'`).join(" ");
}

async function installed(program: string): Promise<boolean> {
  try {
    const r = await new Deno.Command(program, { args: ["-V"], stdout: "null", stderr: "null" })
      .output();
    return r.code === 0 || r.code === 1;
  } catch {
    return false;
  }
}

/** When the last launch under `script` answered its first entry (ms from start). */
let lastReadyMs = Number.NaN;

/** One launch under `script`: milliseconds until the prompt's bytes arrive. */
async function underScript(timeoutMs: number): Promise<number> {
  lastReadyMs = Number.NaN;
  const t0 = performance.now();
  const child = new Deno.Command("script", {
    args: ["-qfec", shellQuote(replArgs()), "/dev/null"],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
    env: { TERM: "xterm-256color" },
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  let at = Number.NaN;
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value, { stream: true });
      if (Number.isNaN(at) && seen.includes(PROMPT)) {
        at = performance.now() - t0;
        // The prompt may come before the lab's modules are loaded (main.ts shows it early):
        // type an entry and time its answer too, so both figures are honest.
        const w = child.stdin.getWriter();
        await w.write(new TextEncoder().encode("lsmod\n"));
        w.releaseLock();
      }
      if (!Number.isNaN(at) && seen.includes("Used by")) {
        lastReadyMs = performance.now() - t0;
        break;
      }
    }
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    await child.stdin.close().catch(() => {});
    await child.status;
  }
  if (Number.isNaN(at)) throw new Error("The REPL never showed its prompt");
  return at;
}

async function tmux(args: string[]): Promise<string> {
  const r = await new Deno.Command("tmux", { args, stdout: "piped", stderr: "null" }).output();
  return new TextDecoder().decode(r.stdout);
}

/** A tmux server of the benchmark's own; each launch opens a window in it. */
class TmuxLauncher {
  readonly #socket = `vdpa-lab-bench-${Deno.pid}`;
  #n = 0;

  async start(): Promise<void> {
    await tmux(["-L", this.#socket, "new-session", "-d", "-s", "bench", "-x", "100", "-y", "20"]);
  }

  /** Milliseconds from opening a window running the REPL to its prompt in the pane. */
  async once(timeoutMs: number): Promise<number> {
    const window = `bench:${++this.#n}`;
    const t0 = performance.now();
    await tmux([
      "-L",
      this.#socket,
      "new-window",
      "-t",
      window,
      `${shellQuote(replArgs())}; sleep 5`,
    ]);
    try {
      while (performance.now() - t0 < timeoutMs) {
        const pane = await tmux(["-L", this.#socket, "capture-pane", "-p", "-t", window]);
        if (pane.includes("vdpa>")) return performance.now() - t0;
        await new Promise((r) => setTimeout(r, 2));
      }
      throw new Error("The REPL never showed its prompt");
    } finally {
      await tmux(["-L", this.#socket, "kill-window", "-t", window]);
    }
  }

  async stop(): Promise<void> {
    await tmux(["-L", this.#socket, "kill-server"]);
  }
}

/** Times REPL start to first prompt in a real terminal. */
export async function replStartupBench(
  options: ReplStartupOptions = {},
): Promise<ReplStartupResult> {
  const runs = options.runs ?? 7;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const method = options.method ?? ((await installed("script")) ? "script" : "tmux");
  const launcher = method === "tmux" ? new TmuxLauncher() : undefined;
  await launcher?.start();
  const once = launcher ? (t: number) => launcher.once(t) : underScript;
  const samples: number[] = [];
  const ready: number[] = [];
  try {
    await once(timeoutMs); // warm Deno's caches
    for (let i = 0; i < runs; i++) {
      samples.push(await once(timeoutMs));
      if (!launcher && !Number.isNaN(lastReadyMs)) ready.push(lastReadyMs);
    }
  } finally {
    await launcher?.stop();
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const readySorted = [...ready].sort((a, b) => a - b);
  return {
    method,
    samples,
    ...(readySorted.length > 0
      ? { readyMedianMs: readySorted[Math.floor(readySorted.length / 2)] as number }
      : {}),
    medianMs: sorted[Math.floor(sorted.length / 2)] as number,
    minMs: sorted[0] as number,
    maxMs: sorted[sorted.length - 1] as number,
  };
}

/** Prints the figure (for bench/run.ts). */
export async function runReplBench(print: (line: string) => void): Promise<void> {
  const run = await Deno.permissions.query({ name: "run" });
  if (run.state !== "granted") {
    print("repl startup: skipped (needs --allow-run to start the REPL in a terminal)");
    return;
  }
  const r = await replStartupBench();
  const verdict = r.medianMs < STARTUP_BOUND_MS ? "under" : "OVER";
  print(
    `repl startup to first prompt (${r.method} pty, ${r.samples.length} runs): ` +
      `median ${r.medianMs.toFixed(0)} ms, min ${r.minMs.toFixed(0)} ms, ` +
      `max ${r.maxMs.toFixed(0)} ms (${verdict} the ${STARTUP_BOUND_MS} ms bound)`,
  );
  if (r.readyMedianMs !== undefined) {
    print(
      `repl first entry answered (lsmod typed at the prompt): median ${
        r.readyMedianMs.toFixed(0)
      } ms from start (the modules load behind the prompt)`,
    );
  }
}

if (import.meta.main) {
  await runReplBench((line) => console.log(line));
}
