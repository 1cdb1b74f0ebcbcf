/**
 * Sessions driven one line at a time, as a REPL would drive them, for tests of commands: what
 * each line printed and which diagnostic codes it produced.
 *
 * @module
 */

import { Session, type SessionOptions } from "../session.ts";

/** What one line printed on standard output and the codes of the diagnostics it produced. */
export interface LineResult {
  out: string;
  codes: string[];
}

/** A source of sessions that share one capture of standard output. */
export interface LineSessions {
  /** Standard output not yet taken by a {@linkcode LineSessions.step}. */
  readonly printed: string[];
  /** A fresh session writing into `printed` (emptied first). */
  session(): Session;
  /** Runs one more line in `s`; returns what it printed and its diagnostics' codes. */
  step(s: Session, line: string): Promise<LineResult>;
}

/**
 * Sessions whose standard output is captured line by line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lineSessions } from "./line_session.ts";
 * const { session, step } = lineSessions();
 * const s = session();
 * assert.deepEqual((await step(s, "modprobe vdpa_sim_net")).codes, []);
 * assert.deepEqual((await step(s, "modprobe vdpasim_net")).codes, ["E0201"]);
 * ```
 */
export function lineSessions(options: Omit<SessionOptions, "stdout"> = {}): LineSessions {
  const printed: string[] = [];
  return {
    printed,
    session() {
      printed.length = 0;
      return new Session({ ...options, stdout: (t) => printed.push(t) });
    },
    async step(s, line) {
      const before = s.diagnostics.length;
      await s.runText(line + "\n", `<step ${before}>`);
      return {
        out: printed.splice(0).join(""),
        codes: s.diagnostics.items.slice(before).map((d) => d.code),
      };
    },
  };
}

/** What a whole script printed, and its errors as `CODE message`. */
export interface ScriptResult {
  stdout: string;
  errors: string[];
}

/**
 * Runs a whole script in a fresh session (run mode).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runScript } from "./line_session.ts";
 * const r = await runScript("modprobe vdpasim_net\n", "typo.vdpa");
 * assert.match(r.errors[0] ?? "", /^E0201 /);
 * ```
 */
export async function runScript(script: string, name: string): Promise<ScriptResult> {
  let stdout = "";
  const session = new Session({ mode: "run", stdout: (t) => (stdout += t) });
  await session.runText(script, name);
  const errors = session.diagnostics.items.filter((d) => d.severity === "error").map((d) =>
    `${d.code} ${d.message}`
  );
  return { stdout, errors };
}
