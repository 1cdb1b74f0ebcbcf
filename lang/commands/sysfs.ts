/**
 * The shell commands that touch sysfs and /dev: `echo [-n] [-e] VALUE… > PATH` (also `>>`, a
 * glued `>/sys/…`, and `| [sudo] tee [-a] PATH… [> /dev/null]`), `cat PATH…` and
 * `ls [-l] [-a] [-1] [-d] [-h] [PATH|GLOB…]`. Only an unquoted `>` or `|` is an operator: a
 * quoted `'>'` is text.
 *
 * @example
 * ```ts
 * import { Diagnostics } from "../diagnostic.ts";
 * import { parseCommand } from "./mod.ts";
 * import { testWords } from "./test_words.ts";
 * const cmd = parseCommand(testWords("echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/bind"), new Diagnostics());
 * if (cmd?.kind !== "echo" || cmd.redirect?.kind !== "file" || cmd.output !== "vdpa0\n") {
 *   throw new Error("sysfs write expected");
 * }
 * ```
 *
 * @module
 */

import { joinSpans } from "../span.ts";
import { type ExpandedWord, type Located, located, subSpan } from "../word.ts";
import type { CatCommand, EchoCommand, LsCommand, PathArg, Redirect, TeeRedirect } from "./ast.ts";
import type { CommandContext } from "./context.ts";
import { basename, isOperator, loc, pathArg, spanAfter, wordsSpan } from "./cursor.ts";
import { getopt, type OptSpec } from "./getopt.ts";
import type { Stage } from "./pipeline.ts";
import { report } from "./report.ts";
import { parseSudo } from "./sudo.ts";

/** True if `stage` is `[sudo] tee …` (a write, which only `echo` feeds in the lab). */
export function isTeeStage(stage: Stage | undefined): boolean {
  if (!stage) return false;
  const [a] = stage.words;
  if (!a || a.quoted) return false;
  if (basename(a.text) === "tee") return true;
  return basename(a.text) === "sudo" &&
    stage.words.some((w) => !w.quoted && basename(w.text) === "tee");
}

/** Parses `echo …`, with the `| tee` stage if the pipeline has one. */
export function parseEcho(ctx: CommandContext, tee?: Stage): EchoCommand | undefined {
  const diags = ctx.diags;
  let noNewline = false;
  let escapes = false;
  const values: Located<string>[] = [];
  let redirect: Redirect | undefined;
  let ok = true;
  let optionsDone = false;
  let lastValue: ExpandedWord | undefined;
  const args = ctx.args;
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as ExpandedWord;
    // bash's echo takes options only before the first value, and only -n/-e/-E clusters.
    if (!optionsDone && !w.quoted && /^-[neE]+$/.test(w.text)) {
      for (const c of w.text.slice(1)) {
        if (c === "n") noNewline = true;
        else if (c === "e") escapes = true;
        else escapes = false;
      }
      continue;
    }
    const gt = w.quoted ? -1 : w.text.indexOf(">");
    if (gt < 0) {
      optionsDone = true;
      values.push(loc(w));
      lastValue = w;
      continue;
    }
    // `2>/dev/null` reaches us as `2`, `>`, `/dev/null`: a number glued to `>` is a descriptor.
    if (
      gt === 0 && lastValue && !lastValue.quoted && lastValue.span.end === w.span.start &&
      /^[0-9]+$/.test(lastValue.text)
    ) {
      values.pop();
      const fd = lastValue;
      lastValue = undefined;
      if (fd.text !== "1") {
        ok = false;
        report(diags, "E0112", `redirection of file descriptor ${fd.text} is not modelled`, {
          span: joinSpans(fd.span, (args[i + 1] ?? w).span),
          label: "a number glued to `>` names a file descriptor",
          help: [
            `to write \`${fd.text}\`, put a space before \`>\`: \`echo ${fd.text} > ${
              args[i + 1]?.text ?? "PATH"
            }\``,
          ],
        });
        if (args[i + 1]) i++;
        continue;
      }
    }
    if (gt > 0) {
      const before = w.text.slice(0, gt);
      if (/^[0-9]+$/.test(before)) {
        ok = false;
        report(diags, "E0112", `file descriptor redirection \`${w.text}\` is not modelled`, {
          span: w.span,
          label: "only stdout can be redirected",
          help: ["remove it: the lab's `echo` has no stderr to redirect"],
        });
        continue;
      }
      optionsDone = true;
      values.push(located(before, subSpan(w, 0, gt)));
      lastValue = undefined;
    }
    const append = w.text[gt + 1] === ">";
    const opEnd = gt + (append ? 2 : 1);
    const operator = located(append ? ">>" as const : ">" as const, subSpan(w, gt, opEnd));
    let path: PathArg | undefined;
    if (opEnd < w.text.length) {
      path = { value: w.text.slice(opEnd), span: subSpan(w, opEnd), glob: false };
    } else {
      const next = args[i + 1];
      if (next && !isOperator(next, ">") && !isOperator(next, ">>")) {
        path = pathArg(next);
        i++;
      }
    }
    if (!path) {
      ok = false;
      report(diags, "E0112", `\`${operator.value}\` needs a file to write to`, {
        span: operator.span,
        label: "no file after this",
        notes: ["bash prints: syntax error near unexpected token `newline'"],
        help: [
          `write the target after \`${operator.value}\`, e.g. \`> /sys/bus/vdpa/drivers/vhost_vdpa/bind\``,
        ],
      });
      continue;
    }
    if (redirect) {
      ok = false;
      report(diags, "E0112", "`echo` is redirected twice", {
        span: joinSpans(operator.span, path.span),
        label: "second redirection",
        secondary: [{ span: redirect.span, message: "first redirection" }],
        help: ["write one `echo` per file"],
      });
      continue;
    }
    redirect = {
      kind: "file",
      span: joinSpans(operator.span, path.span),
      operator,
      append,
      path: path.glob ? path : { ...path, glob: false },
    };
  }
  if (tee) {
    const t = parseTee(ctx, tee);
    if (!t) ok = false;
    else if (redirect) {
      ok = false;
      report(diags, "E0112", "`echo` is both redirected and piped to `tee`", {
        span: redirect.span,
        label: "this redirection takes the output away from `tee`",
        secondary: [{ span: t.span, message: "so `tee` would write nothing" }],
        help: ["keep either `> PATH` or `| tee PATH`"],
      });
    } else redirect = t;
  }
  if (!ok) return undefined;
  const sudo = ctx.base.sudo;
  if (sudo && redirect?.kind === "file") {
    // The redirection belongs to the user's shell, which opens the file before sudo runs.
    report(diags, "W0013", "`sudo` does not apply to the redirection", {
      span: redirect.operator.span,
      label: "opened by your shell, without root",
      secondary: [{ span: sudo.span, message: "only `echo` runs as root" }],
      notes: [`on a real host this fails with: bash: ${redirect.path.value}: Permission denied`],
      help: [
        `write \`echo ${values.map((v) => v.value).join(" ")} | sudo tee ${redirect.path.value}\``,
      ],
    });
  }
  const joined = values.map((v) => v.value).join(" ");
  const output = (escapes ? interpretEscapes(joined) : joined) + (noNewline ? "" : "\n");
  return {
    ...ctx.base,
    kind: "echo",
    noNewline,
    escapes,
    values,
    output,
    ...(redirect ? { redirect } : {}),
  };
}

const TEE_OPTIONS: readonly OptSpec[] = [{ name: "append", short: "a", long: "append" }];

function parseTee(ctx: CommandContext, stage: Stage): TeeRedirect | undefined {
  const pipeWord = stage.pipe;
  if (!pipeWord) return undefined;
  const s = parseSudo(stage.words, ctx.diags);
  if (!s) return undefined;
  const [program, ...rest] = s.rest;
  if (!program) return undefined;
  // `| sudo tee FILE > /dev/null` silences tee's copy on stdout.
  let words = rest;
  let silenced = false;
  const gtAt = rest.findIndex((w) => isOperator(w, ">") || (!w.quoted && w.text.startsWith(">")));
  if (gtAt >= 0) {
    const gt = rest[gtAt] as ExpandedWord;
    const target = gt.text.length > 1 ? gt.text.slice(1) : rest[gtAt + 1]?.text;
    const consumed = gt.text.length > 1 ? 1 : 2;
    if (target !== "/dev/null" || gtAt + consumed !== rest.length) {
      report(ctx.diags, "E0112", "`tee`'s own output can only be sent to `/dev/null`", {
        span: wordsSpan(rest.slice(gtAt)),
        label: "unsupported redirection",
        help: ["name every file as an argument of `tee` instead"],
      });
      return undefined;
    }
    silenced = true;
    words = rest.slice(0, gtAt);
  }
  const r = getopt(words, ctx.diags, { program: "tee", specs: TEE_OPTIONS, permute: true });
  if (r.failed) return undefined;
  if (r.operands.length === 0) {
    report(ctx.diags, "E0103", "`tee` needs a file to write to", {
      span: spanAfter(program),
      label: "file expected",
      help: ["write the target, e.g. `| sudo tee /sys/class/net/ens1f0/device/sriov_numvfs`"],
    });
    return undefined;
  }
  return {
    kind: "tee",
    span: joinSpans(pipeWord.span, wordsSpan(stage.words)),
    pipe: located("|" as const, pipeWord.span),
    program: loc(program),
    append: r.options.length > 0,
    paths: r.operands.map(pathArg),
    silenced,
    ...(s.prefix ? { sudo: s.prefix } : {}),
  };
}

/** bash `echo -e` escapes: \a \b \e \f \n \r \t \v \\ \0NNN \xHH, and \c ends the output. */
function interpretEscapes(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c !== "\\" || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const d = s[++i] as string;
    const simple: Record<string, string> = {
      a: "\x07",
      b: "\b",
      e: "\x1b",
      f: "\f",
      n: "\n",
      r: "\r",
      t: "\t",
      v: "\v",
      "\\": "\\",
    };
    if (Object.hasOwn(simple, d)) out += simple[d];
    else if (d === "c") return out;
    else if (d === "0") {
      const m = /^[0-7]{0,3}/.exec(s.slice(i + 1))?.[0] ?? "";
      out += String.fromCharCode(m === "" ? 0 : parseInt(m, 8));
      i += m.length;
    } else if (d === "x") {
      const m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 1))?.[0];
      if (m === undefined) out += "\\x";
      else {
        out += String.fromCharCode(parseInt(m, 16));
        i += m.length;
      }
    } else out += `\\${d}`;
  }
  return out;
}

/** Parses `cat PATH…`. */
export function parseCat(ctx: CommandContext): CatCommand | undefined {
  const r = getopt(ctx.args, ctx.diags, {
    program: "cat",
    specs: [],
    permute: true,
    unknownHelp: ["the lab's `cat` prints files as they are; it takes no options"],
  });
  if (r.failed || !noRedirect(ctx)) return undefined;
  if (r.operands.length === 0) {
    report(ctx.diags, "E0103", "`cat` needs a file", {
      span: ctx.base.program.span,
      label: "no file given",
      help: ["write the file to print, e.g. `cat /sys/bus/vdpa/devices/vdpa0/driver_override`"],
    });
    return undefined;
  }
  return { ...ctx.base, kind: "cat", paths: r.operands.map(pathArg) };
}

const LS_OPTIONS: readonly OptSpec[] = [
  { name: "long", short: "l" },
  { name: "all", short: "a", long: "all" },
  { name: "all", short: "A", long: "almost-all" },
  { name: "one", short: "1" },
  { name: "directory", short: "d", long: "directory" },
  { name: "human", short: "h", long: "human-readable" },
];

/** Parses `ls …`. */
export function parseLs(ctx: CommandContext): LsCommand | undefined {
  const r = getopt(ctx.args, ctx.diags, {
    program: "ls",
    specs: LS_OPTIONS,
    permute: true,
    unknownHelp: ["the lab's `ls` knows `-l`, `-a`, `-1`, `-d` and `-h`"],
  });
  if (r.failed || !noRedirect(ctx)) return undefined;
  const has = (n: string) => r.options.some((o) => o.spec.name === n);
  return {
    ...ctx.base,
    kind: "ls",
    long: has("long"),
    all: has("all"),
    onePerLine: has("one"),
    directory: has("directory"),
    human: has("human"),
    options: r.options.map((o) => o.flag),
    paths: r.operands.map(pathArg),
  };
}

/** Reports an output redirection on a command other than echo. */
function noRedirect(ctx: CommandContext): boolean {
  const gt = ctx.args.find((w) => !w.quoted && w.text.startsWith(">"));
  if (!gt) return true;
  report(ctx.diags, "E0112", `output redirection of \`${ctx.name}\` is not modelled`, {
    span: gt.span,
    label: "only `echo` can write files in the lab",
    help: ["drop the redirection; `export … to FILE` writes lab results to files"],
  });
  return false;
}
