/**
 * Output filters after `|`: `grep [-i] [-v] [-E] [-F] [-w] [-c] PATTERN`, `head [-n N | -N]`,
 * `tail [-n N | -N]` and `wc -l`, which is how people read `lsmod`, `ls /sys/…` or
 * `vdpa dev show` output. Only an unquoted `|` word separates stages.
 *
 * @example
 * ```ts
 * import { Diagnostics } from "../diagnostic.ts";
 * import { parseFilter, splitPipeline } from "./pipeline.ts";
 * import { testWords } from "./test_words.ts";
 * const stages = splitPipeline(testWords("lsmod | grep -i vdpa"));
 * const f = parseFilter(stages[1]?.words ?? [], new Diagnostics());
 * if (f?.kind !== "grep" || f.pattern.value !== "vdpa" || !f.ignoreCase) throw new Error("grep");
 * ```
 *
 * @module
 */

import type { Diagnostics } from "../diagnostic.ts";
import { joinSpans } from "../span.ts";
import type { ExpandedWord } from "../word.ts";
import { located, subSpan } from "../word.ts";
import type { FileRedirect, OutputFilter, PathArg } from "./ast.ts";
import { basename, isOperator, loc, sliceWord, spanAfter, wordsSpan } from "./cursor.ts";
import { getopt, type OptSpec } from "./getopt.ts";
import { maxUnsigned, parseUnsigned } from "./numbers.ts";
import { report, suggestHelp } from "./report.ts";

/** One stage of a pipeline and the `|` before it (absent for the first stage). */
export interface Stage {
  readonly pipe?: ExpandedWord;
  readonly words: readonly ExpandedWord[];
}

/** Splits words at unquoted `|`, also where it is glued to a word (`lsmod|grep vdpa`). */
export function splitPipeline(words: readonly ExpandedWord[]): Stage[] {
  const stages: Stage[] = [];
  let current: ExpandedWord[] = [];
  let pipe: ExpandedWord | undefined;
  for (const w of words.flatMap(splitGluedPipes)) {
    if (isOperator(w, "|")) {
      stages.push(pipe ? { pipe, words: current } : { words: current });
      current = [];
      pipe = w;
      continue;
    }
    current.push(w);
  }
  stages.push(pipe ? { pipe, words: current } : { words: current });
  return stages;
}

function splitGluedPipes(w: ExpandedWord): ExpandedWord[] {
  if (w.quoted || w.text === "|" || !w.text.includes("|")) return [w];
  const parts: ExpandedWord[] = [];
  let from = 0;
  for (let i = 0; i <= w.text.length; i++) {
    if (i < w.text.length && w.text[i] !== "|") continue;
    if (i > from) parts.push(sliceWord(w, from, i));
    if (i < w.text.length) parts.push(sliceWord(w, i, i + 1));
    from = i + 1;
  }
  return parts;
}

const GREP_OPTIONS: readonly OptSpec[] = [
  { name: "ignore-case", short: "i", long: "ignore-case" },
  { name: "invert-match", short: "v", long: "invert-match" },
  { name: "extended-regexp", short: "E", long: "extended-regexp" },
  { name: "fixed-strings", short: "F", long: "fixed-strings" },
  { name: "word-regexp", short: "w", long: "word-regexp" },
  { name: "count", short: "c", long: "count" },
];

const HEAD_OPTIONS: readonly OptSpec[] = [{
  name: "lines",
  short: "n",
  long: "lines",
  arg: "required",
}];

/** The filters the lab applies to command output. */
export const FILTER_PROGRAMS = ["grep", "head", "tail", "wc"] as const;

/** Parses one filter stage; undefined after reporting a problem. */
export function parseFilter(
  words: readonly ExpandedWord[],
  diags: Diagnostics,
): OutputFilter | undefined {
  const first = words[0];
  if (!first) return undefined;
  const name = basename(first.text);
  const span = wordsSpan(words);
  const args = words.slice(1);
  switch (name) {
    case "grep":
    case "egrep": {
      const r = getopt(args, diags, { program: "grep", specs: GREP_OPTIONS, permute: true });
      if (r.failed) return undefined;
      const has = (n: string) => r.options.some((o) => o.spec.name === n);
      const [pattern, ...extra] = r.operands;
      if (!pattern) {
        report(diags, "E0103", "`grep` needs a pattern", {
          span: spanAfter(words[words.length - 1] as ExpandedWord),
          label: "pattern expected",
          notes: ["grep prints: Usage: grep [OPTION]... PATTERNS [FILE]..."],
          help: ["write what to look for, e.g. `| grep vdpa`"],
        });
        return undefined;
      }
      if (extra.length > 0) {
        report(diags, "E0104", "`grep` after `|` reads the command's output, not files", {
          span: wordsSpan(extra),
          label: "unexpected file argument",
          help: ["remove the file names, or quote a pattern that contains spaces"],
        });
        return undefined;
      }
      return {
        kind: "grep",
        span,
        pattern: loc(pattern),
        ignoreCase: has("ignore-case"),
        invert: has("invert-match"),
        extended: has("extended-regexp") || name === "egrep",
        fixed: has("fixed-strings"),
        wordMatch: has("word-regexp"),
        count: has("count"),
      };
    }
    case "head":
    case "tail": {
      // `head -5` is the historical spelling of `head -n 5`.
      const legacy = args.length === 1 && /^-[0-9]+$/.test(args[0]?.text ?? "")
        ? args[0]
        : undefined;
      if (legacy) {
        const n = Number(legacy.text.slice(1));
        return { kind: name, span, lines: located(n, legacy.span) };
      }
      const r = getopt(args, diags, { program: name, specs: HEAD_OPTIONS, permute: true });
      if (r.failed) return undefined;
      if (r.operands.length > 0) {
        report(diags, "E0104", `\`${name}\` after \`|\` reads the command's output, not files`, {
          span: wordsSpan(r.operands),
          label: "unexpected argument",
          help: [`write \`| ${name} -n 10\``],
        });
        return undefined;
      }
      const value = r.options.find((o) => o.spec.name === "lines")?.value;
      if (!value) return { kind: name, span, lines: located(10, first.span) };
      const n = parseUnsigned(value.value, { base: 10, max: maxUnsigned(32) });
      if (n === undefined) {
        report(diags, "E0106", `invalid number of lines \`${value.value}\``, {
          span: value.span,
          label: "not a number",
          notes: [`${name} prints: ${name}: invalid number of lines: '${value.value}'`],
          help: [`write \`| ${name} -n 10\``],
        });
        return undefined;
      }
      return { kind: name, span, lines: located(Number(n), value.span) };
    }
    case "wc": {
      if (args.length !== 1 || args[0]?.text !== "-l") {
        report(diags, "E0120", "only `wc -l` is modelled", {
          span: args.length > 0 ? wordsSpan(args) : first.span,
          label: "the lab counts lines only",
          help: ["write `| wc -l`"],
        });
        return undefined;
      }
      return { kind: "wc", span, lines: true };
    }
    default:
      report(diags, "E0112", `\`${first.text}\` cannot filter command output in the lab`, {
        span: first.span,
        label: "unsupported pipe stage",
        help: [
          ...suggestHelp(name, FILTER_PROGRAMS),
          "after `|` the lab supports `grep`, `head`, `tail` and `wc -l` (and `tee` after `echo`)",
        ],
      });
      return undefined;
  }
}

/**
 * Takes a stdout redirection (`> PATH`, `>> PATH`, `1> PATH`, glued or not) out of a
 * command's words: `dpdk-testpmd … > /dev/null`, `vdpa -jp dev show > devs.json`. Returns
 * the remaining words and the redirection, or undefined after reporting a problem (a second
 * redirection, no target, another file descriptor). Only unquoted `>` counts.
 */
export function splitStdoutRedirect(
  words: readonly ExpandedWord[],
  diags: Diagnostics,
): { words: ExpandedWord[]; redirect?: FileRedirect } | undefined {
  const rest: ExpandedWord[] = [];
  let redirect: FileRedirect | undefined;
  let ok = true;
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as ExpandedWord;
    const gt = w.quoted ? -1 : w.text.indexOf(">");
    if (gt < 0 || w.text.startsWith(">=")) {
      rest.push(w);
      continue;
    }
    let before = w.text.slice(0, gt);
    let from = w.span;
    // `2>/dev/null` arrives as `2`, `>`, `/dev/null`: a number glued to `>` names a descriptor.
    const prev = rest[rest.length - 1];
    if (
      gt === 0 && prev && !prev.quoted && prev.span.end === w.span.start &&
      /^[0-9]+$/.test(prev.text)
    ) {
      rest.pop();
      before = prev.text;
      from = prev.span;
    }
    if (before === "2") {
      // People paste `2>/dev/null` and `2>&1` out of habit: harmless, say so and go on.
      const target = gt + 1 === w.text.length && words[i + 1] ? words[++i] as ExpandedWord : w;
      report(diags, "W0014", "stderr redirection has no effect in the lab", {
        span: joinSpans(from, target.span),
        label: "ignored",
        help: [
          "problems are reported as diagnostics either way; remove it to silence this warning",
        ],
      });
      continue;
    }
    if (before !== "" && before !== "1") {
      ok = false;
      const fd = /^[0-9]+$/.test(before);
      // Take the target along so it is not reported again as an argument.
      const target = gt + 1 === w.text.length && words[i + 1] ? words[++i] as ExpandedWord : w;
      report(
        diags,
        "E0112",
        fd
          ? `redirection of file descriptor ${before} is not modelled`
          : `\`${w.text}\`: a \`>\` inside a word is not modelled`,
        {
          span: joinSpans(from, target.span),
          label: fd ? "only stdout can be redirected" : "put spaces around `>`",
          help: [
            fd
              ? "remove it: the lab reports problems as diagnostics, there is no stderr to redirect"
              : "write `CMD > PATH`",
          ],
        },
      );
      continue;
    }
    const append = w.text[gt + 1] === ">";
    const opEnd = gt + (append ? 2 : 1);
    const operator = located(append ? ">>" as const : ">" as const, subSpan(w, gt, opEnd));
    let path: PathArg | undefined;
    if (opEnd < w.text.length) {
      path = { value: w.text.slice(opEnd), span: subSpan(w, opEnd), glob: false };
    } else if (words[i + 1] && !(words[i + 1] as ExpandedWord).text.startsWith(">")) {
      const next = words[++i] as ExpandedWord;
      path = { value: next.text, span: next.span, glob: false };
    }
    if (!path) {
      ok = false;
      report(diags, "E0112", `\`${operator.value}\` needs a file to write to`, {
        span: operator.span,
        label: "no file after this",
        notes: ["bash prints: syntax error near unexpected token `newline'"],
        help: ["write the target after it, e.g. `> /dev/null`"],
      });
      continue;
    }
    if (redirect) {
      ok = false;
      report(diags, "E0112", "the output is redirected twice", {
        span: joinSpans(operator.span, path.span),
        label: "second redirection",
        secondary: [{ span: redirect.span, message: "first redirection" }],
        help: ["keep one"],
      });
      continue;
    }
    redirect = { kind: "file", span: joinSpans(operator.span, path.span), operator, append, path };
  }
  if (!ok) return undefined;
  return redirect ? { words: rest, redirect } : { words: rest };
}
