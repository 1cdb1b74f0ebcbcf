/**
 * `modprobe`, `rmmod` and `lsmod` as kmod parses them: GNU getopt with permutation, the first
 * operand is the module and later ones are its parameters (unless `-a` or `-r` make every
 * operand a module).
 *
 * @example
 * ```ts
 * import { Diagnostics } from "../diagnostic.ts";
 * import { parseCommand } from "./mod.ts";
 * import { testWords } from "./test_words.ts";
 * const cmd = parseCommand(testWords("modprobe vdpa_sim max_iotlb_entries=0"), new Diagnostics());
 * if (cmd?.kind !== "modprobe" || cmd.params.items[0]?.key.value !== "max_iotlb_entries") {
 *   throw new Error("module parameter expected");
 * }
 * ```
 *
 * @module
 */

import type { Prop } from "../props.ts";
import { located, subSpan } from "../word.ts";
import type { LsmodCommand, ModprobeCommand, RmmodCommand, UsageCommand } from "./ast.ts";
import { type CommandContext, usage } from "./context.ts";
import { loc, wordsSpan } from "./cursor.ts";
import { getopt, type OptSpec } from "./getopt.ts";
import { report } from "./report.ts";

const MODPROBE_OPTIONS: readonly OptSpec[] = [
  { name: "all", short: "a", long: "all" },
  { name: "remove", short: "r", long: "remove" },
  { name: "verbose", short: "v", long: "verbose" },
  { name: "quiet", short: "q", long: "quiet" },
  { name: "dry-run", short: "n", long: "dry-run" },
  { name: "dry-run", long: "show" },
  { name: "force", short: "f", long: "force" },
  { name: "first-time", long: "first-time" },
  { name: "show-depends", short: "D", long: "show-depends" },
  { name: "ignore-install", short: "i", long: "ignore-install" },
  { name: "ignore-install", long: "ignore-remove" },
  { name: "use-blacklist", short: "b", long: "use-blacklist" },
  { name: "help", short: "h", long: "help" },
  { name: "version", short: "V", long: "version" },
];

const RMMOD_OPTIONS: readonly OptSpec[] = [
  { name: "force", short: "f", long: "force" },
  { name: "verbose", short: "v", long: "verbose" },
  { name: "syslog", short: "s", long: "syslog" },
  { name: "help", short: "h", long: "help" },
  { name: "version", short: "V", long: "version" },
];

/** Parses `modprobe …`. */
export function parseModprobe(ctx: CommandContext): ModprobeCommand | UsageCommand | undefined {
  const r = getopt(ctx.args, ctx.diags, {
    program: "modprobe",
    specs: MODPROBE_OPTIONS,
    permute: true,
  });
  if (r.failed) return undefined;
  const has = (name: string) => r.options.some((o) => o.spec.name === name);
  if (has("help") || has("version")) {
    return usage(ctx, "modprobe", has("help") ? "usage" : "version");
  }
  const [first, ...rest] = r.operands;
  if (!first) {
    report(ctx.diags, "E0103", "`modprobe` needs a module name", {
      span: ctx.base.span,
      label: "no module given",
      notes: ["modprobe prints: modprobe: ERROR: missing parameters. See -h."],
      help: ["write the module to load, e.g. `modprobe vhost_vdpa`"],
    });
    return undefined;
  }
  const remove = has("remove");
  const all = has("all");
  const listMode = remove || all;
  const modules = listMode ? r.operands.map(loc) : [loc(first)];
  const params: Prop[] = [];
  if (!listMode) {
    for (const w of rest) {
      const eq = w.text.indexOf("=");
      if (eq < 0) {
        params.push({ span: w.span, key: loc(w) });
        continue;
      }
      params.push({
        span: w.span,
        key: located(w.text.slice(0, eq), subSpan(w, 0, eq)),
        value: located(w.text.slice(eq + 1), subSpan(w, eq + 1)),
      });
    }
  } else {
    const param = r.operands.find((w) => w.text.includes("="));
    if (param) {
      report(
        ctx.diags,
        "E0104",
        `module parameter \`${param.text}\` with \`${remove ? "-r" : "-a"}\``,
        {
          span: param.span,
          label: remove
            ? "parameters mean nothing when unloading"
            : "`-a` makes every word a module name",
          notes: [`modprobe would look for a module called \`${param.text}\``],
          help: [
            `load the module with its parameters in a separate \`modprobe MODULE ${param.text}\``,
          ],
        },
      );
      return undefined;
    }
  }
  const paramsSpan = rest.length > 0 && !listMode ? wordsSpan(rest) : first.span;
  return {
    ...ctx.base,
    kind: "modprobe",
    remove,
    all,
    verbose: has("verbose"),
    quiet: has("quiet"),
    dryRun: has("dry-run"),
    force: has("force"),
    firstTime: has("first-time"),
    showDepends: has("show-depends"),
    options: r.options.map((o) => o.flag),
    modules,
    params: { span: paramsSpan, items: params },
  };
}

/** Parses `rmmod …`. */
export function parseRmmod(ctx: CommandContext): RmmodCommand | UsageCommand | undefined {
  const r = getopt(ctx.args, ctx.diags, { program: "rmmod", specs: RMMOD_OPTIONS, permute: true });
  if (r.failed) return undefined;
  const has = (name: string) => r.options.some((o) => o.spec.name === name);
  if (has("help") || has("version")) return usage(ctx, "rmmod", has("help") ? "usage" : "version");
  if (r.operands.length === 0) {
    report(ctx.diags, "E0103", "`rmmod` needs a module name", {
      span: ctx.base.span,
      label: "no module given",
      notes: ["rmmod prints: rmmod: ERROR: missing module name."],
      help: ["write the module to unload, e.g. `rmmod vdpa_sim_net`"],
    });
    return undefined;
  }
  return {
    ...ctx.base,
    kind: "rmmod",
    force: has("force"),
    verbose: has("verbose"),
    options: r.options.map((o) => o.flag),
    modules: r.operands.map(loc),
  };
}

/** Parses `lsmod` (which takes no arguments). */
export function parseLsmod(ctx: CommandContext): LsmodCommand | undefined {
  const extra = ctx.args[0];
  if (extra) {
    report(ctx.diags, "E0104", "`lsmod` takes no arguments", {
      span: wordsSpan(ctx.args),
      label: "unexpected argument",
      notes: ["lsmod prints: Usage: lsmod"],
      help: ["filter the list with `lsmod | grep NAME`"],
    });
    return undefined;
  }
  return { ...ctx.base, kind: "lsmod" };
}
