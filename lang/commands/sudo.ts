/**
 * `sudo` in front of a command: the lab has no users, so sudo is stripped, but its options are
 * parsed (`-E`, `-H`, `-n`, `-u USER`, `--preserve-env[=LIST]`, `--user=USER`) so that a line
 * copied from a howto is accepted as written.
 *
 * @example
 * ```ts
 * import { Diagnostics } from "../diagnostic.ts";
 * import { parseSudo } from "./sudo.ts";
 * import { testWords } from "./test_words.ts";
 * const r = parseSudo(testWords("sudo -E -u root modprobe vhost_vdpa"), new Diagnostics());
 * if (r?.prefix?.user?.value !== "root" || r.rest[0]?.text !== "modprobe") throw new Error("sudo");
 * ```
 *
 * @module
 */

import type { Diagnostics } from "../diagnostic.ts";
import { joinSpans } from "../span.ts";
import type { ExpandedWord } from "../word.ts";
import type { SudoPrefix } from "./ast.ts";
import { basename, loc } from "./cursor.ts";
import { getopt, type OptSpec } from "./getopt.ts";
import { report } from "./report.ts";

const SUDO_OPTIONS: readonly OptSpec[] = [
  { name: "preserve-env", short: "E", long: "preserve-env", arg: "optional" },
  { name: "set-home", short: "H", long: "set-home" },
  { name: "non-interactive", short: "n", long: "non-interactive" },
  { name: "stdin", short: "S", long: "stdin" },
  { name: "user", short: "u", long: "user", arg: "required" },
  { name: "group", short: "g", long: "group", arg: "required" },
];

/** True if `w` is a `sudo` word (possibly a path). */
export function isSudo(w: ExpandedWord | undefined): boolean {
  return w !== undefined && !w.quoted && basename(w.text) === "sudo";
}

/**
 * Strips a leading `sudo` and its options. Returns the prefix (absent if there was no sudo) and
 * the remaining words, or undefined after reporting a problem.
 */
export function parseSudo(
  words: readonly ExpandedWord[],
  diags: Diagnostics,
): { prefix?: SudoPrefix; rest: readonly ExpandedWord[] } | undefined {
  const first = words[0];
  if (!first || !isSudo(first)) return { rest: words };
  const r = getopt(words.slice(1), diags, {
    program: "sudo",
    specs: SUDO_OPTIONS,
    permute: false,
    unknownCode: "E0113",
    unknownHelp: ["the lab has no users or passwords: drop the option, or `sudo` altogether"],
  });
  if (r.failed) return undefined;
  const rest = words.slice(1 + r.stoppedAt);
  if (rest.length === 0) {
    report(diags, "E0103", "`sudo` needs a command to run", {
      span: first.span,
      label: "nothing after this",
      notes: ["sudo prints: usage: sudo -h | -K | -k | -V"],
      help: ["write the command after `sudo`, e.g. `sudo modprobe vhost_vdpa`"],
    });
    return undefined;
  }
  const user = r.options.find((o) => o.spec.name === "user")?.value;
  const lastOpt = r.doubleDash ?? (r.stoppedAt > 0 ? words[r.stoppedAt] : undefined);
  const prefix: SudoPrefix = {
    span: lastOpt ? joinSpans(first.span, lastOpt.span) : first.span,
    word: loc(first),
    preserveEnv: r.options.some((o) => o.spec.name === "preserve-env"),
    options: r.options.map((o) => o.flag),
    ...(user ? { user } : {}),
  };
  return { prefix, rest };
}
