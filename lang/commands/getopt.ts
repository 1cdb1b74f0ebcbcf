/**
 * GNU `getopt_long` as the real tools use it (modprobe, rmmod, sudo, vdpa, dpdk-testpmd,
 * ovs-vsctl): short flags combine (`-jp`), a short option's value may be glued (`-l0-3`) or
 * the next word, a long option's value follows `=` or is the next word, a long option may be
 * abbreviated to a unique prefix, `--` ends the options, and (when `permute` is on) operands may
 * be mixed with options. Errors are reported with the real getopt text in a note.
 *
 * @example
 * ```ts
 * import { Diagnostics } from "../diagnostic.ts";
 * import { literalWord } from "../word.ts";
 * import { getopt } from "./getopt.ts";
 * const w = (t: string, at: number) => literalWord(t, { source: "a", start: at, end: at + t.length });
 * const r = getopt([w("-rv", 9), w("vhost_vdpa", 13)], new Diagnostics(), {
 *   program: "modprobe",
 *   specs: [{ name: "remove", short: "r", long: "remove" }, { name: "verbose", short: "v" }],
 *   permute: true,
 * });
 * if (r.options.map((o) => o.spec.name).join() !== "remove,verbose") throw new Error("flags");
 * if (r.options[1]?.flag.span.start !== 11) throw new Error("flag span inside the word");
 * ```
 *
 * @module
 */

import type { Diagnostics } from "../diagnostic.ts";
import type { Span } from "../span.ts";
import { joinSpans } from "../span.ts";
import { type ExpandedWord, type Located, located, subSpan } from "../word.ts";
import type { CommandCode } from "./codes.ts";
import { loc } from "./cursor.ts";
import { report, suggestHelp } from "./report.ts";

/** One option the program accepts. */
export interface OptSpec {
  /** Canonical name reported back (usually the long name). */
  readonly name: string;
  readonly short?: string;
  readonly long?: string;
  /** Whether the option takes a value (default: no). */
  readonly arg?: "required" | "optional";
}

/** An option as found on the command line. */
export interface FoundOpt {
  readonly spec: OptSpec;
  /** The option as typed (`-l`, `--lcores`); in a cluster `-jp`, `-p` spans just the `p`. */
  readonly flag: Located<string>;
  readonly value?: Located<string>;
  /** From the flag to the end of its value. */
  readonly span: Span;
}

/** Options of {@link getopt}. */
export interface GetoptOptions {
  /** Program name used in the real error texts (`modprobe`, `EAL`). */
  readonly program: string;
  /** The command as the user knows it, for our messages (default: `program`). */
  readonly command?: string;
  readonly specs: readonly OptSpec[];
  /** Operands may be mixed with options (glibc's default); otherwise the first operand stops. */
  readonly permute: boolean;
  /** Extra help for an unknown option, after any "did you mean". */
  readonly unknownHelp?: readonly string[];
  /** The code for an unknown option (default E0101). */
  readonly unknownCode?: CommandCode;
}

/** What {@link getopt} found. */
export interface GetoptResult {
  readonly options: readonly FoundOpt[];
  /** Non-option words in order (everything after `--` included, unless `stopAtDoubleDash`). */
  readonly operands: readonly ExpandedWord[];
  /** The `--` word, if one ended the options. */
  readonly doubleDash?: ExpandedWord;
  /** Index (in the input) of the first word not consumed when options stopped at an operand. */
  readonly stoppedAt: number;
  /** True if any option was unknown or malformed (already reported). */
  readonly failed: boolean;
}

/** Parses `words` the way glibc's getopt_long would. */
export function getopt(
  words: readonly ExpandedWord[],
  diags: Diagnostics,
  options: GetoptOptions,
): GetoptResult {
  const found: FoundOpt[] = [];
  const operands: ExpandedWord[] = [];
  let failed = false;
  let doubleDash: ExpandedWord | undefined;
  let i = 0;
  for (; i < words.length; i++) {
    const w = words[i] as ExpandedWord;
    const t = w.text;
    if (w.quoted || t.length < 2 || !t.startsWith("-")) {
      if (!options.permute) break;
      operands.push(w);
      continue;
    }
    if (t === "--") {
      doubleDash = w;
      i++;
      break;
    }
    if (t.startsWith("--")) {
      const eq = t.indexOf("=");
      const name = eq < 0 ? t.slice(2) : t.slice(2, eq);
      const flag = located(eq < 0 ? t : t.slice(0, eq), subSpan(w, 0, eq < 0 ? t.length : eq));
      const spec = lookupLong(name, options.specs);
      if (spec === "ambiguous") {
        failed = true;
        const choices = options.specs.filter((s) => s.long?.startsWith(name)).map((s) =>
          `--${s.long}`
        );
        report(
          diags,
          "E0101",
          `ambiguous option \`${flag.value}\` for \`${options.command ?? options.program}\``,
          {
            span: flag.span,
            label: "matches several options",
            notes: [
              `${options.program} prints: ${options.program}: option '${flag.value}' is ambiguous; possibilities: ${
                choices.map((c) => `'${c}'`).join(" ")
              }`,
            ],
            help: [`write one of ${choices.map((c) => `\`${c}\``).join(", ")} in full`],
          },
        );
        continue;
      }
      if (!spec) {
        failed = true;
        unknown(diags, options, flag, `${options.program}: unrecognized option '${flag.value}'`);
        continue;
      }
      if (eq >= 0) {
        if (!spec.arg) {
          failed = true;
          report(diags, "E0104", `option \`--${spec.long}\` does not take a value`, {
            span: subSpan(w, eq, t.length),
            label: "remove this",
            notes: [
              `${options.program} prints: ${options.program}: option '--${spec.long}' doesn't allow an argument`,
            ],
            help: [`write \`--${spec.long}\` alone`],
          });
          continue;
        }
        const value = located(t.slice(eq + 1), subSpan(w, eq + 1, t.length));
        found.push({ spec, flag, value, span: w.span });
        continue;
      }
      if (spec.arg === "required") {
        const v = words[i + 1];
        if (!v) {
          failed = true;
          missingValue(
            diags,
            options,
            flag,
            `${options.program}: option '--${spec.long}' requires an argument`,
          );
          continue;
        }
        i++;
        found.push({ spec, flag, value: loc(v), span: joinSpans(w.span, v.span) });
        continue;
      }
      found.push({ spec, flag, span: w.span });
      continue;
    }
    // A cluster of short options: "-jp", "-l0-3", "-uroot".
    for (let k = 1; k < t.length; k++) {
      const ch = t[k] as string;
      const flag = located(`-${ch}`, subSpan(w, k === 1 ? 0 : k, k + 1));
      const spec = options.specs.find((s) => s.short === ch);
      if (!spec) {
        failed = true;
        unknown(diags, options, flag, `${options.program}: invalid option -- '${ch}'`);
        break;
      }
      if (!spec.arg) {
        found.push({ spec, flag, span: flag.span });
        continue;
      }
      if (k + 1 < t.length) {
        const value = located(t.slice(k + 1), subSpan(w, k + 1, t.length));
        found.push({ spec, flag, value, span: joinSpans(flag.span, value.span) });
        break;
      }
      if (spec.arg === "optional") {
        found.push({ spec, flag, span: flag.span });
        break;
      }
      const v = words[i + 1];
      if (!v) {
        failed = true;
        missingValue(
          diags,
          options,
          flag,
          `${options.program}: option requires an argument -- '${ch}'`,
        );
        break;
      }
      i++;
      found.push({ spec, flag, value: loc(v), span: joinSpans(flag.span, v.span) });
      break;
    }
  }
  const stoppedAt = i;
  if (doubleDash || options.permute) {
    for (; i < words.length; i++) operands.push(words[i] as ExpandedWord);
  }
  const result = { options: found, operands, stoppedAt, failed };
  return doubleDash ? { ...result, doubleDash } : result;
}

function lookupLong(name: string, specs: readonly OptSpec[]): OptSpec | "ambiguous" | undefined {
  const exact = specs.find((s) => s.long === name);
  if (exact) return exact;
  const prefixed = specs.filter((s) =>
    s.long !== undefined && name !== "" && s.long.startsWith(name)
  );
  // glibc accepts an ambiguous prefix when every candidate is the same option.
  const distinct = new Set(prefixed.map((s) => s.name));
  if (distinct.size === 1) return prefixed[0];
  return distinct.size > 1 ? "ambiguous" : undefined;
}

function unknown(
  diags: Diagnostics,
  options: GetoptOptions,
  flag: Located<string>,
  real: string,
): void {
  const candidates = options.specs.flatMap((s) => [
    ...(s.long ? [`--${s.long}`] : []),
    ...(s.short ? [`-${s.short}`] : []),
  ]);
  const command = options.command ?? options.program;
  const suggestion = flag.value.startsWith("--") ? suggestHelp(flag.value, candidates) : [];
  const listing = candidates.length === 0
    ? `\`${command}\` takes no options`
    : candidates.length <= 16
    ? `\`${command}\` accepts ${candidates.map((c) => `\`${c}\``).join(", ")}`
    : `\`help ${command}\` lists its options`;
  report(
    diags,
    options.unknownCode ?? "E0101",
    `unknown option \`${flag.value}\` for \`${command}\``,
    {
      span: flag.span,
      label: "not an option of this command",
      notes: [`${options.program} prints: ${real}`],
      help: [...suggestion, ...(options.unknownHelp ?? []), listing],
    },
  );
}

function missingValue(
  diags: Diagnostics,
  options: GetoptOptions,
  flag: Located<string>,
  real: string,
): void {
  report(diags, "E0102", `option \`${flag.value}\` needs a value`, {
    span: flag.span,
    label: "value expected after this",
    notes: [`${options.program} prints: ${real}`],
    help: [`write the value after \`${flag.value}\``],
  });
}
