/**
 * The REPL's history, kept across sessions in `$XDG_STATE_HOME/vdpa-lab/history` (or
 * `~/.local/state/vdpa-lab/history`, the XDG default): one line per entry line, the newest
 * last, at most {@link HISTORY_LIMIT} lines read back. Each accepted line is appended at once,
 * so two REPLs running side by side both keep theirs and a crash loses nothing. When the file
 * cannot be used (no HOME, a denied permission, a read-only disk) history stays in memory and
 * one warning says why.
 *
 * @example
 * ```ts
 * import { historyFilePath } from "./history.ts";
 * const env = (k: string) => ({ HOME: "/home/ada" } as Record<string, string>)[k];
 * if (historyFilePath(env) !== "/home/ada/.local/state/vdpa-lab/history") throw new Error("path");
 * ```
 *
 * @module
 */

/** Lines kept (Mininet keeps 1000 too). */
export const HISTORY_LIMIT = 1000;

/** Reads an environment variable; may throw when the permission is denied. */
export type EnvReader = (name: string) => string | undefined;

/**
 * Where the history lives: `$XDG_STATE_HOME/vdpa-lab/history` when that is an absolute path
 * (the XDG spec ignores relative ones), else `$HOME/.local/state/vdpa-lab/history`; undefined
 * without either. A denied permission throws to the caller.
 */
export function historyFilePath(env: EnvReader): string | undefined {
  const xdg = env("XDG_STATE_HOME");
  if (xdg !== undefined && xdg.startsWith("/")) {
    return `${xdg.replace(/\/+$/, "")}/vdpa-lab/history`;
  }
  const home = env("HOME");
  if (home !== undefined && home !== "") {
    return `${home.replace(/\/+$/, "")}/.local/state/vdpa-lab/history`;
  }
  return undefined;
}

function reason(e: unknown): string {
  if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
    return "permission denied";
  }
  return e instanceof Error ? e.message : String(e);
}

/** Options of {@link History.open}. */
export interface HistoryOptions {
  /** Default: Deno's environment. */
  readonly env?: EnvReader;
  /** No file at all (`--no-history`, tests). */
  readonly disabled?: boolean;
  /** Default {@link HISTORY_LIMIT}. */
  readonly limit?: number;
}

/** The history of entry lines, oldest first, backed by a file when it can be. */
export class History {
  readonly #lines: string[];
  readonly #limit: number;
  #path: string | undefined;
  #warnings: string[] = [];

  private constructor(path: string | undefined, lines: string[], limit: number) {
    this.#path = path;
    this.#lines = lines;
    this.#limit = limit;
  }

  /** Opens (and reads) the history file; problems become {@link History.warnings}. */
  static open(options: HistoryOptions = {}): History {
    const limit = options.limit ?? HISTORY_LIMIT;
    if (options.disabled) return new History(undefined, [], limit);
    let path: string | undefined;
    try {
      path = historyFilePath(options.env ?? ((k) => Deno.env.get(k)));
    } catch (e) {
      const h = new History(undefined, [], limit);
      h.#warn(`history is off: cannot read the environment (${reason(e)})`);
      return h;
    }
    if (path === undefined) {
      const h = new History(undefined, [], limit);
      h.#warn("history is off: neither XDG_STATE_HOME nor HOME is set");
      return h;
    }
    let text = "";
    try {
      text = Deno.readTextFileSync(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        const h = new History(undefined, [], limit);
        h.#warn(`history is off: cannot read ${path} (${reason(e)})`);
        return h;
      }
    }
    const all = text.split("\n").filter((l) => l !== "");
    const h = new History(path, all.slice(-limit), limit);
    // The file only grows by appends; rewrite it when it is twice the limit.
    if (all.length > 2 * limit) h.#rewrite();
    return h;
  }

  /** The file, while it is in use. */
  get path(): string | undefined {
    return this.#path;
  }

  /** Lines, oldest first. */
  get lines(): readonly string[] {
    return this.#lines;
  }

  /** What went wrong with the file (each problem once); cleared when read. */
  takeWarnings(): string[] {
    const w = this.#warnings;
    this.#warnings = [];
    return w;
  }

  /**
   * Adds an accepted line: not blank lines, not a repeat of the line before. Returns false
   * when it was not added.
   */
  add(line: string): boolean {
    if (line.trim() === "" || line.includes("\n") || this.#lines.at(-1) === line) return false;
    this.#lines.push(line);
    if (this.#lines.length > this.#limit) this.#lines.splice(0, this.#lines.length - this.#limit);
    if (this.#path !== undefined) {
      try {
        this.#ensureDir();
        Deno.writeTextFileSync(this.#path, `${line}\n`, { append: true });
      } catch (e) {
        this.#warn(`history is not saved: cannot write ${this.#path} (${reason(e)})`);
        this.#path = undefined;
      }
    }
    return true;
  }

  #ensureDir(): void {
    const path = this.#path as string;
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  }

  #rewrite(): void {
    try {
      Deno.writeTextFileSync(this.#path as string, `${this.#lines.join("\n")}\n`);
    } catch (e) {
      this.#warn(`history is not saved: cannot write ${this.#path} (${reason(e)})`);
      this.#path = undefined;
    }
  }

  #warn(text: string): void {
    this.#warnings.push(text);
  }
}
