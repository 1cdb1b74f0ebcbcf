/**
 * `kill` and `pkill` as procps and bash read them, for the lab's host processes (QEMU,
 * testpmd, ovs-vswitchd; `show topology` lists their pids):
 *
 * ```text
 * kill [-SIGNAL | -s SIGNAL | -n NUM] PID…        # SIGNAL: TERM (default), KILL, INT, HUP,
 * pkill [-SIGNAL] [-f] PATTERN                    #   with or without SIG, or 15, 9, 2, 1
 * ```
 *
 * A signal the lab does not model (STOP, CONT, USR1 …) is E0120; a name that is no signal
 * is E0109 with kill's text; a PID that is not a number is E0106. `pkill` matches PATTERN (an
 * extended regular expression) against the program name, or with `-f` against the name and
 * what the process is in the lab (`qemu-system-x86_64 vm1`).
 *
 * @example
 * ```ts
 * import { Diagnostics } from "../diagnostic.ts";
 * import { parseCommand } from "./mod.ts";
 * import { testWords } from "./test_words.ts";
 * const cmd = parseCommand(testWords("kill -9 4100 4107"), new Diagnostics());
 * if (cmd?.kind !== "kill" || cmd.signal.value !== "SIGKILL" || cmd.pids.map((p) => p.value).join() !== "4100,4107") {
 *   throw new Error("kill -9 expected");
 * }
 * ```
 *
 * @module
 */

import type { Located } from "../word.ts";
import { type ExpandedWord, located } from "../word.ts";
import type { KillCommand, KillSignal, PkillCommand } from "./ast.ts";
import type { CommandContext } from "./context.ts";
import { loc } from "./cursor.ts";
import { report, suggestHelp } from "./report.ts";

/** Signal numbers and names the lab models (all of them end a process). */
const MODELLED: Readonly<Record<string, KillSignal>> = {
  "1": "SIGHUP",
  "2": "SIGINT",
  "9": "SIGKILL",
  "15": "SIGTERM",
  HUP: "SIGHUP",
  INT: "SIGINT",
  KILL: "SIGKILL",
  TERM: "SIGTERM",
};

/** Real signals (signal(7)) the lab does not model. */
const OTHER_SIGNALS: readonly string[] = [
  "QUIT",
  "ILL",
  "TRAP",
  "ABRT",
  "BUS",
  "FPE",
  "USR1",
  "SEGV",
  "USR2",
  "PIPE",
  "ALRM",
  "STKFLT",
  "CHLD",
  "CONT",
  "STOP",
  "TSTP",
  "TTIN",
  "TTOU",
  "URG",
  "XCPU",
  "XFSZ",
  "VTALRM",
  "PROF",
  "WINCH",
  "IO",
  "PWR",
  "SYS",
];

const USAGE = "kill [-s sigspec | -n signum | -sigspec] pid …";

/** Reads a signal spec (`9`, `KILL`, `SIGKILL`, `kill`); reports and returns undefined if bad. */
function signalOf(ctx: CommandContext, w: ExpandedWord, text: string): KillSignal | undefined {
  const name = text.toUpperCase().replace(/^SIG/, "");
  const s = Object.hasOwn(MODELLED, name) ? MODELLED[name] : undefined;
  if (s !== undefined) return s;
  const known = OTHER_SIGNALS.includes(name) || (/^\d+$/.test(name) && Number(name) < 65);
  if (known) {
    report(ctx.diags, "E0120", `the lab does not model signal \`${text}\``, {
      span: w.span,
      label: "a real signal, not modelled",
      help: [
        "the lab's processes exit on TERM, KILL, INT and HUP: `kill -TERM PID`, `kill -9 PID`",
      ],
    });
    return undefined;
  }
  report(ctx.diags, "E0109", `\`${text}\` is not a signal`, {
    span: w.span,
    label: "invalid signal specification",
    notes: [`kill says: kill: ${text}: invalid signal specification`],
    help: [
      ...suggestHelp(name, ["TERM", "KILL", "INT", "HUP"]),
      "write TERM, KILL, INT or HUP (or 15, 9, 2, 1)",
    ],
  });
  return undefined;
}

/** Parses `kill …`. */
export function parseKill(ctx: CommandContext): KillCommand | undefined {
  let signal: Located<KillSignal> = located("SIGTERM", ctx.base.program.span);
  const pids: Located<number>[] = [];
  const args = ctx.args;
  let options = true;
  /** One signal was read: a `--` may still come before the pids. */
  let signalGiven = false;
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as ExpandedWord;
    const t = w.text;
    if (pids.length === 0 && t === "--" && (options || signalGiven)) {
      options = false;
      signalGiven = false;
      continue;
    }
    if (options && (t === "-s" || t === "-n")) {
      const v = args[i + 1];
      if (v === undefined) {
        report(ctx.diags, "E0102", `\`kill ${t}\` needs a signal`, {
          span: w.span,
          label: "no signal after it",
          notes: [`usage: ${USAGE}`],
          help: [`write the signal after it: \`kill ${t} KILL PID\``],
        });
        return undefined;
      }
      const s = signalOf(ctx, v, v.text);
      if (s === undefined) return undefined;
      signal = located(s, v.span);
      i++;
      options = false;
      signalGiven = true;
      continue;
    }
    if (options && (t === "-l" || t === "-L")) {
      report(ctx.diags, "E0120", "`kill -l` is not modelled", {
        span: w.span,
        label: "no signal list here",
        help: ["the lab's processes exit on TERM (15), KILL (9), INT (2) and HUP (1)"],
      });
      return undefined;
    }
    // `-9`, `-KILL`, `-SIGKILL`: one signal, before the first pid.
    if (options && t.startsWith("-") && t.length > 1) {
      const s = signalOf(ctx, w, t.slice(1));
      if (s === undefined) return undefined;
      signal = located(s, w.span);
      options = false;
      signalGiven = true;
      continue;
    }
    if (t.startsWith("%")) {
      report(ctx.diags, "E0120", "job specs are not modelled", {
        span: w.span,
        label: "a shell job",
        help: ["name the process by its pid (`show topology` lists them)"],
      });
      return undefined;
    }
    if (!/^\d+$/.test(t) || !Number.isSafeInteger(Number(t))) {
      report(ctx.diags, "E0106", `\`${t}\` is not a process id`, {
        span: w.span,
        label: "not a number",
        notes: [`kill says: kill: ${t}: arguments must be process or job IDs`],
        help: ["`show topology` lists the pids of the lab's processes"],
      });
      return undefined;
    }
    options = false;
    pids.push(located(Number(t), w.span));
  }
  if (pids.length === 0) {
    report(ctx.diags, "E0103", "`kill` needs a process id", {
      span: ctx.base.span,
      label: "no pid given",
      notes: [`kill says: kill: usage: ${USAGE}`],
      help: ["`show topology` lists the pids of the lab's processes"],
    });
    return undefined;
  }
  return { ...ctx.base, kind: "kill", signal, pids };
}

/** Parses `pkill …`. */
export function parsePkill(ctx: CommandContext): PkillCommand | undefined {
  let signal: Located<KillSignal> = located("SIGTERM", ctx.base.program.span);
  let full = false;
  let pattern: Located<string> | undefined;
  for (const w of ctx.args) {
    const t = w.text;
    if (pattern === undefined && t === "-f") {
      full = true;
      continue;
    }
    if (pattern === undefined && t.startsWith("-") && t.length > 1) {
      const s = signalOf(ctx, w, t.slice(1));
      if (s === undefined) return undefined;
      signal = located(s, w.span);
      continue;
    }
    if (pattern !== undefined) {
      report(ctx.diags, "E0104", "`pkill` takes one pattern", {
        span: w.span,
        label: "extra argument",
        notes: ["pkill says: pkill: only one pattern can be provided"],
        help: ["join the alternatives in one pattern: `pkill 'qemu|testpmd'`"],
      });
      return undefined;
    }
    pattern = loc(w);
  }
  if (pattern === undefined) {
    report(ctx.diags, "E0103", "`pkill` needs a pattern", {
      span: ctx.base.span,
      label: "no pattern given",
      notes: ["pkill says: pkill: no matching criteria specified"],
      help: ["write the program to match, e.g. `pkill qemu`, or `pkill -f vm1`"],
    });
    return undefined;
  }
  try {
    new RegExp(pattern.value);
  } catch {
    report(ctx.diags, "E0109", `\`${pattern.value}\` is not a valid pattern`, {
      span: pattern.span,
      label: "not an extended regular expression",
      help: ["write a program name such as `qemu`, with `\\` before `(`, `[`, `*` or `+`"],
    });
    return undefined;
  }
  return { ...ctx.base, kind: "pkill", signal, full, pattern };
}
