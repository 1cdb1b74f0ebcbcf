/**
 * The iproute2 `vdpa` tool's grammar, token for token as vdpa/vdpa.c parses it: global options
 * through GNU getopt (`-j`, `-p`, `-jp`, `--json`, anywhere on the line); objects, commands and
 * the `name`, `mgmtdev` and `max_vqp` keywords accept prefixes (`matches()`); `mac`, `mtu`,
 * `qidx`, `device_features`, `vstats`, `set` and the `vstats` subcommand `show` must be spelled
 * exactly (strcmp); a keyword is only accepted by the commands that take it, anything else is
 * `Unknown option "<x>"`. `mtu` and `max_vqp` are u16, `qidx` u32 (base 10), `device_features`
 * a hex u64; a management device is `name` or `bus/name`.
 *
 * @example
 * ```ts
 * import { Diagnostics } from "../diagnostic.ts";
 * import { parseCommand } from "./mod.ts";
 * import { testWords } from "./test_words.ts";
 * const cmd = parseCommand(testWords("vdpa dev add name vdpa0 mgmtdev vdpasim_net mtu 9000"), new Diagnostics());
 * if (cmd?.kind !== "vdpa-dev-add" || cmd.mtu?.value !== 9000) throw new Error("dev add expected");
 * ```
 *
 * @module
 */

import type { Span } from "../span.ts";
import { joinSpans } from "../span.ts";
import { type ExpandedWord, type Located, located, subSpan } from "../word.ts";
import type { MgmtdevHandle, UsageCommand, VdpaArg, VdpaCommand, VdpaOptions } from "./ast.ts";
import { type CommandContext, usage } from "./context.ts";
import { loc, spanAfter, wordsSpan } from "./cursor.ts";
import { getopt, type OptSpec } from "./getopt.ts";
import { firstMatch, matches } from "./matches.ts";
import { maxUnsigned, parseMac, parseUnsigned } from "./numbers.ts";
import { didYouMeanHelp, report, suggestHelp } from "./report.ts";
import { suggest } from "../suggest.ts";

const GLOBAL_OPTIONS: readonly OptSpec[] = [
  { name: "version", short: "V", long: "Version" },
  { name: "json", short: "j", long: "json" },
  { name: "pretty", short: "p", long: "pretty" },
  { name: "help", short: "h", long: "help" },
];

/** A vDPA device name the lab can use. */
const DEVICE_NAME_RE = /^[A-Za-z0-9_-]+$/;

type Keyword = VdpaArg["name"];

/** How vdpa.c compares each keyword, and which parser reads its value. */
const KEYWORDS: readonly { name: Keyword; prefix: boolean }[] = [
  // Order of the if/else chain in vdpa_argv_parse().
  { name: "name", prefix: true },
  { name: "mgmtdev", prefix: true },
  { name: "mac", prefix: false },
  { name: "mtu", prefix: false },
  { name: "max_vqp", prefix: true },
  { name: "qidx", prefix: false },
  { name: "device_features", prefix: false },
];

/** What one command accepts after its positional handle. */
interface ArgRule {
  readonly required: readonly Keyword[];
  readonly optional: readonly Keyword[];
}

/** Parses `vdpa …`. */
export function parseVdpa(ctx: CommandContext): VdpaCommand | UsageCommand | undefined {
  const r = getopt(ctx.args, ctx.diags, {
    program: "vdpa",
    specs: GLOBAL_OPTIONS,
    permute: true,
    unknownHelp: ["vdpa's options are `-j` (JSON), `-p` (pretty) and `-V` (version)"],
  });
  if (r.failed) return undefined;
  const has = (n: string) => r.options.some((o) => o.spec.name === n);
  if (has("help") || has("version")) {
    return usage(ctx, "vdpa", has("help") ? "usage" : "version");
  }
  const options: VdpaOptions = {
    json: has("json"),
    pretty: has("pretty"),
    version: false,
    words: r.options.map((o) => o.flag),
  };
  const words = r.operands;
  const object = words[0];
  if (!object || matches(object.text, "help")) return usage(ctx, "vdpa");
  const p = new VdpaParser(ctx, options);
  if (matches(object.text, "mgmtdev")) return p.mgmtdev(words.slice(1), object);
  if (matches(object.text, "dev")) return p.dev(words.slice(1));
  report(ctx.diags, "E0105", `unknown object \`${object.text}\` for \`vdpa\``, {
    span: object.span,
    label: "expected `dev` or `mgmtdev`",
    notes: [`vdpa prints: Object "${object.text}" not found`],
    help: [
      ...suggestHelp(object.text, ["dev", "mgmtdev"]),
      "the objects are `dev` and `mgmtdev`",
    ],
  });
  return undefined;
}

class VdpaParser {
  readonly #ctx: CommandContext;
  readonly #options: VdpaOptions;

  constructor(ctx: CommandContext, options: VdpaOptions) {
    this.#ctx = ctx;
    this.#options = options;
  }

  mgmtdev(
    words: readonly ExpandedWord[],
    object: ExpandedWord,
  ): VdpaCommand | UsageCommand | undefined {
    const verb = words[0];
    if (!verb || matches(verb.text, "help")) return usage(this.#ctx, "vdpa mgmtdev");
    if (!matches(verb.text, "show") && !matches(verb.text, "list")) {
      return this.#unknownCommand(verb, "vdpa mgmtdev", ["show", "list", "help"]);
    }
    const rest = words.slice(1);
    const handleWord = rest[0];
    if (!handleWord) return { ...this.#base([]), kind: "vdpa-mgmtdev-show" };
    const handle = this.#handle(handleWord);
    const args = this.#keywords(
      rest.slice(1),
      { required: [], optional: [] },
      "vdpa mgmtdev show",
      object,
    );
    if (!handle || !args) return undefined;
    return { ...this.#base(args), kind: "vdpa-mgmtdev-show", mgmtdev: handle };
  }

  dev(words: readonly ExpandedWord[]): VdpaCommand | UsageCommand | undefined {
    const verb = words[0];
    if (!verb) return { ...this.#base([]), kind: "vdpa-dev-show" };
    const rest = words.slice(1);
    // Order of cmd_dev(): matches() for help/show/list/add/del/config, strcmp for vstats/set.
    const m = firstMatch(verb.text, ["help", "show", "list", "add", "del", "config"] as const) ??
      (verb.text === "vstats" || verb.text === "set" ? verb.text : undefined);
    switch (m) {
      case "help":
        return usage(this.#ctx, "vdpa dev");
      case "show":
      case "list":
        return this.#devShow(rest, verb);
      case "add":
        return this.#devAdd(rest, verb);
      case "del":
        return this.#devDel(rest, verb);
      case "config":
        return this.#config(rest);
      case "vstats":
        return this.#vstats(rest, verb);
      case "set":
        return this.#devSet(rest, verb);
      default:
        return this.#unknownCommand(verb, "vdpa dev", [
          "show",
          "list",
          "add",
          "del",
          "config",
          "vstats",
          "set",
          "help",
        ]);
    }
  }

  #devShow(rest: readonly ExpandedWord[], verb: ExpandedWord): VdpaCommand | undefined {
    const dev = rest[0];
    if (!dev) return { ...this.#base([]), kind: "vdpa-dev-show" };
    const args = this.#keywords(
      rest.slice(1),
      { required: [], optional: [] },
      "vdpa dev show",
      verb,
    );
    if (!args) return undefined;
    return { ...this.#base(args), kind: "vdpa-dev-show", dev: loc(dev) };
  }

  #devAdd(rest: readonly ExpandedWord[], verb: ExpandedWord): VdpaCommand | undefined {
    const rule: ArgRule = {
      required: ["mgmtdev", "name"],
      optional: ["mac", "mtu", "max_vqp", "device_features"],
    };
    const args = this.#keywords(rest, rule, "vdpa dev add", verb);
    if (!args) return undefined;
    const name = last(args, "name");
    const mgmtdevArg = last(args, "mgmtdev");
    if (!name || !mgmtdevArg) return undefined;
    // The kernel takes nearly any name; the lab names the device's worker, queues and paths
    // after it, so it takes the kind of name people give (`vdpa0`).
    if (!DEVICE_NAME_RE.test(name.value.value)) {
      report(
        this.#ctx.diags,
        "E0123",
        `\`${name.value.value}\` is not a vDPA device name the lab can use`,
        {
          span: name.value.span,
          label: name.value.value === "" ? "empty name" : "not letters, digits, `_` and `-`",
          help: ["name the device with letters, digits, `_` and `-`, e.g. `vdpa0`"],
        },
      );
      return undefined;
    }
    const mgmtdev = this.#handleOf(mgmtdevArg.value);
    const mac = this.#mac(last(args, "mac"));
    const mtu = this.#u16(last(args, "mtu"));
    const maxVqp = this.#u16(last(args, "max_vqp"));
    const features = this.#hex64(last(args, "device_features"));
    if (!mgmtdev || mac === null || mtu === null || maxVqp === null || features === null) {
      return undefined;
    }
    return {
      ...this.#base(args),
      kind: "vdpa-dev-add",
      name: name.value,
      mgmtdev,
      ...(mac ? { mac } : {}),
      ...(mtu ? { mtu } : {}),
      ...(maxVqp ? { maxVqp } : {}),
      ...(features ? { deviceFeatures: features } : {}),
    };
  }

  #devDel(rest: readonly ExpandedWord[], verb: ExpandedWord): VdpaCommand | undefined {
    const dev = rest[0];
    if (!dev) {
      this.#missingDevice(verb, "vdpa dev del", "String parameter expected");
      return undefined;
    }
    const args = this.#keywords(
      rest.slice(1),
      { required: [], optional: [] },
      "vdpa dev del",
      verb,
    );
    if (!args) return undefined;
    return { ...this.#base(args), kind: "vdpa-dev-del", dev: loc(dev) };
  }

  #config(words: readonly ExpandedWord[]): VdpaCommand | UsageCommand | undefined {
    const sub = words[0];
    if (!sub) return { ...this.#base([]), kind: "vdpa-dev-config-show" };
    if (matches(sub.text, "help")) return usage(this.#ctx, "vdpa dev config");
    if (!matches(sub.text, "show")) {
      return this.#unknownCommand(sub, "vdpa dev config", ["show", "help"]);
    }
    const rest = words.slice(1);
    const dev = rest[0];
    if (!dev) return { ...this.#base([]), kind: "vdpa-dev-config-show" };
    const args = this.#keywords(
      rest.slice(1),
      { required: [], optional: [] },
      "vdpa dev config show",
      sub,
    );
    if (!args) return undefined;
    return { ...this.#base(args), kind: "vdpa-dev-config-show", dev: loc(dev) };
  }

  #vstats(
    words: readonly ExpandedWord[],
    verb: ExpandedWord,
  ): VdpaCommand | UsageCommand | undefined {
    const sub = words[0];
    const usageText = "vdpa prints: Usage: vdpa dev vstats show DEV [qidx QUEUE_INDEX]";
    if (!sub) {
      report(this.#ctx.diags, "E0103", "`vdpa dev vstats` needs `show DEV qidx N`", {
        span: spanAfter(verb),
        label: "expected `show` here",
        notes: [usageText],
        help: ["write `vdpa dev vstats show vdpa0 qidx 0`"],
      });
      return undefined;
    }
    if (sub.text === "help") return usage(this.#ctx, "vdpa dev vstats");
    // cmd_dev_vstats() compares with strcmp: `sh` is not `show` here.
    if (sub.text !== "show") return this.#unknownCommand(sub, "vdpa dev vstats", ["show", "help"]);
    const rest = words.slice(1);
    if (rest.length !== 1 && rest.length !== 3) {
      const at = rest.length === 0 ? spanAfter(sub) : wordsSpan(rest);
      report(
        this.#ctx.diags,
        rest.length === 0 ? "E0103" : "E0104",
        "`vdpa dev vstats show` takes `DEV` or `DEV qidx N`",
        {
          span: at,
          label: rest.length === 0 ? "device name expected" : `${rest.length} arguments here`,
          notes: [
            `vdpa accepts exactly 1 or 3 arguments after \`show\` and otherwise prints: ${
              usageText.slice(13)
            }`,
          ],
          help: ["write `vdpa dev vstats show vdpa0 qidx 0`"],
        },
      );
      return undefined;
    }
    const dev = rest[0] as ExpandedWord;
    const args = this.#keywords(
      rest.slice(1),
      { required: [], optional: ["qidx"] },
      "vdpa dev vstats show",
      sub,
    );
    if (!args) return undefined;
    const qidx = this.#u32(last(args, "qidx"));
    if (qidx === null) return undefined;
    return {
      ...this.#base(args),
      kind: "vdpa-dev-vstats-show",
      dev: loc(dev),
      ...(qidx ? { qidx } : {}),
    };
  }

  #devSet(rest: readonly ExpandedWord[], verb: ExpandedWord): VdpaCommand | undefined {
    const args = this.#keywords(
      rest,
      { required: ["name"], optional: ["mac"] },
      "vdpa dev set",
      verb,
    );
    if (!args) return undefined;
    const name = last(args, "name");
    const mac = this.#mac(last(args, "mac"));
    if (!name || mac === null) return undefined;
    return { ...this.#base(args), kind: "vdpa-dev-set", name: name.value, ...(mac ? { mac } : {}) };
  }

  /** vdpa_argv_parse()'s keyword loop; undefined if anything was wrong (already reported). */
  #keywords(
    words: readonly ExpandedWord[],
    rule: ArgRule,
    command: string,
    anchor: ExpandedWord,
  ): VdpaArg[] | undefined {
    const accepted = new Set<Keyword>([...rule.required, ...rule.optional]);
    const args: VdpaArg[] = [];
    let ok = true;
    for (let i = 0; i < words.length; i++) {
      const w = words[i] as ExpandedWord;
      const kw = KEYWORDS.find((k) =>
        accepted.has(k.name) && (k.prefix ? matches(w.text, k.name) : w.text === k.name)
      );
      if (!kw) {
        ok = false;
        this.#unknownOption(w, command, [...accepted]);
        break; // vdpa stops at the first unknown option
      }
      const v = words[i + 1];
      if (!v) {
        ok = false;
        const real = kw.name === "mgmtdev"
          ? 'vdpa identification ("mgmtdev_bus_name/mgmtdev_name") expected'
          : kw.name === "name" || kw.name === "mac"
          ? "String parameter expected"
          : "number expected";
        report(this.#ctx.diags, "E0102", `\`${kw.name}\` needs a value`, {
          span: w.span,
          label: "value expected after this",
          notes: [`vdpa prints: ${real}`],
          help: [`write the ${describe(kw.name)} after \`${kw.name}\``],
        });
        break;
      }
      i++;
      args.push({ span: joinSpans(w.span, v.span), keyword: loc(w), name: kw.name, value: loc(v) });
    }
    if (!ok) return undefined;
    for (const required of rule.required) {
      if (args.some((a) => a.name === required)) continue;
      ok = false;
      const real = required === "mgmtdev"
        ? "management device handle not set."
        : "device name is not set.";
      report(this.#ctx.diags, "E0103", `\`${command}\` needs \`${required}\``, {
        span: wordsSpan([anchor, ...words]),
        label: `no \`${required}\` given`,
        notes: [`vdpa prints: ${real}`],
        help: [
          required === "mgmtdev"
            ? "add `mgmtdev vdpasim_net` (see `vdpa mgmtdev show` for the management devices)"
            : "add `name vdpa0` (any name not yet used)",
        ],
      });
    }
    return ok ? args : undefined;
  }

  #unknownOption(w: ExpandedWord, command: string, accepted: readonly Keyword[]): void {
    const suggestion = suggest(w.text, accepted, { dashUnderscore: true })[0];
    const known = KEYWORDS.find((k) => k.name === w.text || (k.prefix && matches(w.text, k.name)));
    const help = [...didYouMeanHelp(suggestion)];
    if (known && !accepted.includes(known.name)) {
      help.push(`\`${known.name}\` is not an argument of \`${command}\``);
    } else if (
      !known &&
      KEYWORDS.some((k) => !k.prefix && accepted.includes(k.name) && k.name.startsWith(w.text))
    ) {
      help.push("`mac`, `mtu`, `qidx` and `device_features` must be spelled in full");
    }
    if (accepted.length === 0) help.push(`\`${command}\` takes at most one device name`);
    else help.push(`\`${command}\` accepts ${accepted.map((k) => `\`${k}\``).join(", ")}`);
    report(this.#ctx.diags, "E0101", `unknown option \`${w.text}\` for \`${command}\``, {
      span: w.span,
      label: "not accepted here",
      notes: [`vdpa prints: Unknown option "${w.text}"`],
      help,
    });
  }

  #unknownCommand(w: ExpandedWord, command: string, verbs: readonly string[]): undefined {
    report(this.#ctx.diags, "E0105", `unknown subcommand \`${w.text}\` for \`${command}\``, {
      span: w.span,
      label: "not a subcommand here",
      notes: [`vdpa prints: Command "${w.text}" not found`],
      help: [
        ...suggestHelp(w.text, verbs),
        `\`${command}\` has ${verbs.map((v) => `\`${v}\``).join(", ")}`,
      ],
    });
    return undefined;
  }

  #missingDevice(verb: ExpandedWord, command: string, real: string): void {
    report(this.#ctx.diags, "E0103", `\`${command}\` needs a device name`, {
      span: spanAfter(verb),
      label: "device name expected",
      notes: [`vdpa prints: ${real}`],
      help: [`write \`${command} vdpa0\``],
    });
  }

  #handle(w: ExpandedWord): MgmtdevHandle | undefined {
    return this.#handleOf(loc(w), w);
  }

  /** vdpa_argv_handle(): `name` or `bus/name`; more than one `/` is an error. */
  #handleOf(value: Located<string>, word?: ExpandedWord): MgmtdevHandle | undefined {
    const text = value.value;
    const slashes = [...text].filter((c) => c === "/").length;
    const slash = text.indexOf("/");
    const bad = slashes > 1 || text === "" ||
      (slashes === 1 && (slash === 0 || slash === text.length - 1));
    if (bad) {
      report(this.#ctx.diags, "E0111", `malformed management device \`${text}\``, {
        span: value.span,
        label: slashes > 1 ? "more than one `/`" : "empty bus or device name",
        notes: slashes > 1
          ? ["vdpa prints: Wrong vdpa mgmtdev identification string format"]
          : ["the kernel looks the management device up by bus and name"],
        help: [
          "write `name` (`vdpasim_net`) or `bus/name` (`pci/0000:3b:00.2`, `auxiliary/mlx5_core.sf.1`)",
        ],
      });
      return undefined;
    }
    const w = word ?? this.#wordAt(value);
    if (slash < 0) return { span: value.span, text, name: value };
    const sub = (from: number, to: number): Span =>
      w
        ? subSpan(w, from, to)
        : { ...value.span, start: value.span.start + from, end: value.span.start + to };
    return {
      span: value.span,
      text,
      bus: located(text.slice(0, slash), sub(0, slash)),
      name: located(text.slice(slash + 1), sub(slash + 1, text.length)),
    };
  }

  #wordAt(value: Located<string>): ExpandedWord | undefined {
    return this.#ctx.args.find((w) =>
      w.span.start === value.span.start && w.span.end === value.span.end
    );
  }

  /** A MAC value; `null` if malformed (reported), undefined if absent. */
  #mac(arg: VdpaArg | undefined): Located<string> | undefined | null {
    if (!arg) return undefined;
    const mac = parseMac(arg.value.value);
    if (mac !== undefined) return located(mac, arg.value.span);
    report(this.#ctx.diags, "E0108", `invalid MAC address \`${arg.value.value}\``, {
      span: arg.value.span,
      label: "expected six hex bytes separated by `:`",
      notes: [`vdpa prints: "${arg.value.value}" is invalid lladdr.`],
      help: ["write it like `00:11:22:33:44:55`"],
    });
    return null;
  }

  #u16(arg: VdpaArg | undefined): Located<number> | undefined | null {
    return this.#unsigned(arg, 16);
  }

  #u32(arg: VdpaArg | undefined): Located<number> | undefined | null {
    return this.#unsigned(arg, 32);
  }

  #unsigned(arg: VdpaArg | undefined, bits: 16 | 32): Located<number> | undefined | null {
    if (!arg) return undefined;
    // get_u16()/get_u32() with base 10: the whole word, no sign, no hex.
    const v = parseUnsigned(arg.value.value, { base: 10, max: maxUnsigned(bits) });
    if (v !== undefined) return located(Number(v), arg.value.span);
    const tooBig = /^[0-9]+$/.test(arg.value.value);
    report(this.#ctx.diags, "E0106", `invalid \`${arg.name}\` value \`${arg.value.value}\``, {
      span: arg.value.span,
      label: tooBig ? `does not fit in u${bits}` : "not a decimal number",
      notes: [
        `\`${arg.name}\` is a u${bits} read in base 10; vdpa exits with status 1 without a message`,
      ],
      help: [`write a decimal number from 0 to ${maxUnsigned(bits)}`],
    });
    return null;
  }

  #hex64(arg: VdpaArg | undefined): Located<bigint> | undefined | null {
    if (!arg) return undefined;
    const v = parseUnsigned(arg.value.value, { base: 16, max: maxUnsigned(64) });
    if (v !== undefined) return located(v, arg.value.span);
    report(this.#ctx.diags, "E0107", `invalid \`device_features\` value \`${arg.value.value}\``, {
      span: arg.value.span,
      label: "not a 64-bit hex mask",
      notes: ["`device_features` is read with strtoull in base 16 (an `0x` prefix is optional)"],
      help: [
        "write the feature bits as hex, e.g. `0x300020000` (CTRL_VQ, VERSION_1, ACCESS_PLATFORM)",
      ],
    });
    return null;
  }

  #base(args: readonly VdpaArg[]) {
    return { ...this.#ctx.base, options: this.#options, args };
  }
}

function last(args: readonly VdpaArg[], name: Keyword): VdpaArg | undefined {
  for (let i = args.length - 1; i >= 0; i--) if (args[i]?.name === name) return args[i];
  return undefined;
}

function describe(k: Keyword): string {
  switch (k) {
    case "name":
      return "device name";
    case "mgmtdev":
      return "management device (`vdpasim_net` or `bus/name`)";
    case "mac":
      return "MAC address";
    case "device_features":
      return "hex feature mask";
    case "qidx":
      return "queue index";
    default:
      return "number";
  }
}
