/**
 * `ovs-vsctl`: global options, then commands separated by `--`, each with its own options
 * (`--may-exist`, `--if-exists`). `column[:key]=value` settings become props keyed
 * `options:vhost-server-path`; {@link ovsColumnKey} splits such a key. Table names are matched
 * case-insensitively and may be abbreviated to a unique prefix, as ovs-vsctl allows.
 *
 * @example
 * ```ts
 * import { Diagnostics } from "../diagnostic.ts";
 * import { parseCommand } from "./mod.ts";
 * import { ovsColumnKey } from "./ovs.ts";
 * import { testWords } from "./test_words.ts";
 * const line = "ovs-vsctl add-port br0 vhu0 -- set Interface vhu0 type=dpdkvhostuserclient " +
 *   "options:vhost-server-path=/tmp/vhu0";
 * const cmd = parseCommand(testWords(line), new Diagnostics());
 * const set = cmd?.kind === "ovs-vsctl" ? cmd.commands[1] : undefined;
 * if (set?.op !== "set" || set.table.value !== "Interface") throw new Error("set Interface expected");
 * const path = set.settings.items[1];
 * if (!path || ovsColumnKey(path).key?.value !== "vhost-server-path") throw new Error("map key");
 * ```
 *
 * @module
 */

import type { Prop, PropList } from "../props.ts";
import { type ExpandedWord, type Located, located, subSpan } from "../word.ts";
import type { OvsOption, OvsSubcommand, OvsVsctlCommand, UsageCommand } from "./ast.ts";
import { type CommandContext, usage } from "./context.ts";
import { isOptionWord, loc, own, spanAfter, wordsSpan } from "./cursor.ts";
import { parseUnsigned } from "./numbers.ts";
import { report, suggestHelp } from "./report.ts";

/** Global options: name → takes a value. */
const GLOBAL_OPTIONS: Readonly<Record<string, boolean>> = {
  db: true,
  "no-wait": false,
  timeout: true,
  t: true,
  "dry-run": false,
  oneline: false,
  verbose: false,
  v: false,
  retry: false,
  format: true,
  data: true,
  bare: false,
  pretty: false,
  "no-headings": false,
  "no-syslog": false,
};

/** Commands: [min args, max args, command options]. */
const COMMANDS: Readonly<Record<string, readonly [number, number, readonly string[]]>> = {
  init: [0, 0, []],
  show: [0, 0, []],
  "add-br": [1, 3, ["may-exist"]],
  "del-br": [1, 1, ["if-exists"]],
  "list-br": [0, 0, ["real", "fake"]],
  "br-exists": [1, 1, []],
  "list-ports": [1, 1, []],
  "add-port": [2, Infinity, ["may-exist"]],
  "del-port": [1, 2, ["if-exists", "with-iface"]],
  set: [3, Infinity, ["if-exists"]],
  get: [2, Infinity, ["if-exists", "id"]],
  list: [1, Infinity, ["if-exists", "columns"]],
  clear: [3, Infinity, ["if-exists"]],
  remove: [4, Infinity, ["if-exists"]],
};

/** Real ovs-vsctl commands the lab does not model. */
const UNMODELLED = [
  "emer-reset",
  "add-bond",
  "add-bond-iface",
  "del-bond-iface",
  "br-to-vlan",
  "br-to-parent",
  "br-set-external-id",
  "br-get-external-id",
  "list-ifaces",
  "iface-to-br",
  "port-to-br",
  "set-controller",
  "del-controller",
  "get-controller",
  "set-manager",
  "del-manager",
  "get-manager",
  "set-fail-mode",
  "get-fail-mode",
  "del-fail-mode",
  "find",
  "create",
  "destroy",
  "add",
  "wait-until",
  "comment",
  "set-ssl",
  "get-ssl",
  "del-ssl",
];

/** OVSDB tables of the Open_vSwitch schema. */
const TABLES = [
  "Open_vSwitch",
  "Bridge",
  "Port",
  "Interface",
  "Flow_Table",
  "QoS",
  "Queue",
  "Mirror",
  "Controller",
  "Manager",
  "NetFlow",
  "SSL",
  "sFlow",
  "IPFIX",
  "Flow_Sample_Collector_Set",
  "AutoAttach",
  "Datapath",
  "CT_Zone",
  "CT_Timeout_Policy",
];

/** Splits a setting key `options:vhost-server-path` into its column and map key, with spans. */
export function ovsColumnKey(prop: Prop): { column: Located<string>; key?: Located<string> } {
  const k = prop.key;
  const colon = k.value.indexOf(":");
  if (colon < 0) return { column: k };
  const at = k.span.start;
  return {
    column: located(k.value.slice(0, colon), { ...k.span, end: at + colon }),
    key: located(k.value.slice(colon + 1), { ...k.span, start: at + colon + 1 }),
  };
}

/** Parses `ovs-vsctl …`. */
export function parseOvsVsctl(ctx: CommandContext): OvsVsctlCommand | UsageCommand | undefined {
  const args = ctx.args;
  // Split into segments at "--" words; the first segment starts with the global options.
  const segments: ExpandedWord[][] = [[]];
  for (const w of args) {
    if (!w.quoted && w.text === "--") segments.push([]);
    else (segments[segments.length - 1] as ExpandedWord[]).push(w);
  }
  const options: OvsOption[] = [];
  const first = segments[0] as ExpandedWord[];
  let i = 0;
  for (; i < first.length; i++) {
    const w = first[i] as ExpandedWord;
    if (!isOptionWord(w)) break;
    const { name, value } = splitOption(w);
    if (
      name.value === "help" || name.value === "h" || name.value === "version" || name.value === "V"
    ) {
      const help = name.value === "help" || name.value === "h";
      return usage(ctx, "ovs-vsctl", help ? "usage" : "version");
    }
    if (own(GLOBAL_OPTIONS, name.value) === undefined) break; // a command option: belongs to the first command
    let v = value;
    if (own(GLOBAL_OPTIONS, name.value) && !v) {
      const next = first[i + 1];
      if (!next) {
        report(ctx.diags, "E0102", `option \`${w.text}\` needs a value`, {
          span: w.span,
          label: "value expected",
          notes: [`ovs-vsctl prints: ovs-vsctl: option '${w.text}' requires an argument`],
          help: [`write \`${w.text}=VALUE\``],
        });
        return undefined;
      }
      v = loc(next);
      i++;
    }
    options.push({
      span: v ? { ...w.span, end: v.span.end } : w.span,
      name,
      ...(v ? { value: v } : {}),
    });
  }
  segments[0] = first.slice(i);
  const commands: OvsSubcommand[] = [];
  let ok = true;
  for (const [k, seg] of segments.entries()) {
    if (seg.length === 0) {
      // "ovs-vsctl -- add-br br0": an empty leading segment is harmless; "-- --" is not.
      if (k === 0) continue;
      const dash = args.filter((w) => !w.quoted && w.text === "--")[k - 1] as ExpandedWord;
      report(ctx.diags, "E0103", "`--` with no command after it", {
        span: dash.span,
        label: "empty command",
        notes: ["ovs-vsctl prints: ovs-vsctl: missing command name (use --help for help)"],
        help: ["remove the extra `--`"],
      });
      ok = false;
      continue;
    }
    const c = parseSubcommand(ctx, seg);
    if (c) commands.push(c);
    else ok = false;
  }
  if (!ok) return undefined;
  if (commands.length === 0) {
    report(ctx.diags, "E0103", "`ovs-vsctl` needs a command", {
      span: ctx.base.span,
      label: "no command given",
      notes: ["ovs-vsctl prints: ovs-vsctl: missing command name (use --help for help)"],
      help: ["write e.g. `ovs-vsctl add-br br0 -- set bridge br0 datapath_type=netdev`"],
    });
    return undefined;
  }
  return {
    ...ctx.base,
    kind: "ovs-vsctl",
    options,
    noWait: options.some((o) => o.name.value === "no-wait"),
    commands,
  };
}

function splitOption(w: ExpandedWord): { name: Located<string>; value?: Located<string> } {
  const dashes = w.text.startsWith("--") ? 2 : 1;
  const eq = w.text.indexOf("=");
  const end = eq < 0 ? w.text.length : eq;
  const name = located(w.text.slice(dashes, end), subSpan(w, dashes, end));
  if (eq < 0) return { name };
  return { name, value: located(w.text.slice(eq + 1), subSpan(w, eq + 1)) };
}

function parseSubcommand(
  ctx: CommandContext,
  seg: readonly ExpandedWord[],
): OvsSubcommand | undefined {
  const opts: OvsOption[] = [];
  let i = 0;
  while (i < seg.length && isOptionWord(seg[i])) {
    const w = seg[i] as ExpandedWord;
    const { name, value } = splitOption(w);
    opts.push({ span: w.span, name, ...(value ? { value } : {}) });
    i++;
  }
  const verbWord = seg[i];
  if (!verbWord) {
    report(ctx.diags, "E0103", "command options without a command", {
      span: wordsSpan(seg),
      label: "no command after these options",
      notes: ["ovs-vsctl prints: ovs-vsctl: missing command name (use --help for help)"],
      help: ["write the command after its options, e.g. `--may-exist add-br br0`"],
    });
    return undefined;
  }
  const verb = verbWord.text;
  const args = seg.slice(i + 1);
  const rule = own(COMMANDS, verb);
  if (!rule) {
    const unmodelled = UNMODELLED.includes(verb);
    report(
      ctx.diags,
      unmodelled ? "E0120" : "E0105",
      unmodelled
        ? `\`ovs-vsctl ${verb}\` is not modelled`
        : `unknown ovs-vsctl command \`${verb}\``,
      {
        span: verbWord.span,
        label: unmodelled ? "not modelled" : "not an ovs-vsctl command",
        notes: unmodelled
          ? []
          : [`ovs-vsctl prints: ovs-vsctl: unknown command '${verb}'; use --help for help`],
        help: [
          ...(unmodelled ? [] : suggestHelp(verb, Object.keys(COMMANDS))),
          "the lab models add-br, del-br, add-port, del-port, set, get, list, clear, show, list-br, list-ports, br-exists",
        ],
      },
    );
    return undefined;
  }
  const [min, max, allowed] = rule;
  for (const o of opts) {
    if (!allowed.includes(o.name.value)) {
      report(ctx.diags, "E0101", `\`${verb}\` has no \`--${o.name.value}\` option`, {
        span: o.span,
        label: "not an option of this command",
        notes: [`ovs-vsctl prints: ovs-vsctl: '${verb}' command has no '--${o.name.value}' option`],
        help: [
          ...suggestHelp(o.name.value, allowed),
          allowed.length > 0
            ? `\`${verb}\` accepts ${allowed.map((a) => `\`--${a}\``).join(", ")}`
            : `\`${verb}\` takes no options`,
        ],
      });
      return undefined;
    }
  }
  if (args.length < min || args.length > max) {
    const tooFew = args.length < min;
    report(ctx.diags, tooFew ? "E0103" : "E0104", `\`${verb}\` takes ${arity(min, max)}`, {
      span: tooFew ? spanAfter(seg[seg.length - 1] as ExpandedWord) : wordsSpan(args.slice(max)),
      label: tooFew ? "argument missing" : "unexpected argument",
      notes: [
        tooFew
          ? `ovs-vsctl prints: ovs-vsctl: '${verb}' command requires at least ${min} arguments`
          : `ovs-vsctl prints: ovs-vsctl: '${verb}' command takes at most ${max} arguments`,
      ],
      help: [usageOf(verb)],
    });
    return undefined;
  }
  const has = (n: string) => opts.some((o) => o.name.value === n);
  const base = { span: wordsSpan(seg), verb: loc(verbWord), options: opts };
  const a = (k: number) => loc(args[k] as ExpandedWord);
  switch (verb) {
    case "init":
    case "show":
    case "list-br":
      return { ...base, op: verb };
    case "add-br": {
      if (args.length === 2) {
        report(ctx.diags, "E0103", "a fake bridge needs both `PARENT` and `VLAN`", {
          span: spanAfter(args[1] as ExpandedWord),
          label: "VLAN expected",
          help: ["write `add-br BR` or `add-br BR PARENT VLAN`"],
        });
        return undefined;
      }
      let vlan: Located<number> | undefined;
      if (args.length === 3) {
        const n = parseUnsigned(a(2).value, { base: 10, max: 4095n });
        if (n === undefined) {
          report(ctx.diags, "E0106", `invalid VLAN \`${a(2).value}\``, {
            span: a(2).span,
            label: "expected 0 to 4095",
            notes: [
              `ovs-vsctl prints: ovs-vsctl: vlan must be between 0 and 4095 (got ${a(2).value})`,
            ],
            help: ["write a VLAN id from 0 to 4095"],
          });
          return undefined;
        }
        vlan = located(Number(n), a(2).span);
      }
      return {
        ...base,
        op: "add-br",
        mayExist: has("may-exist"),
        bridge: a(0),
        ...(args.length === 3 ? { parent: a(1) } : {}),
        ...(vlan ? { vlan } : {}),
      };
    }
    case "del-br":
      return { ...base, op: "del-br", ifExists: has("if-exists"), bridge: a(0) };
    case "br-exists":
    case "list-ports":
      return { ...base, op: verb, bridge: a(0) };
    case "add-port": {
      const settings = parseSettings(ctx, args.slice(2));
      if (!settings) return undefined;
      return {
        ...base,
        op: "add-port",
        mayExist: has("may-exist"),
        bridge: a(0),
        port: a(1),
        settings,
      };
    }
    case "del-port":
      return {
        ...base,
        op: "del-port",
        ifExists: has("if-exists"),
        port: args.length === 2 ? a(1) : a(0),
        ...(args.length === 2 ? { bridge: a(0) } : {}),
      };
    case "set": {
      const table = resolveTable(ctx, args[0] as ExpandedWord);
      const settings = parseSettings(ctx, args.slice(2));
      if (!table || !settings) return undefined;
      return { ...base, op: "set", table, record: a(1), settings };
    }
    default: {
      const table = resolveTable(ctx, args[0] as ExpandedWord);
      if (!table) return undefined;
      const op = verb as "get" | "list" | "clear" | "remove";
      return {
        ...base,
        op,
        table,
        columns: args.slice(2).map(loc),
        ...(args.length > 1 ? { record: a(1) } : {}),
      };
    }
  }
}

function arity(min: number, max: number): string {
  if (min === max) return min === 0 ? "no arguments" : `${min} argument${min === 1 ? "" : "s"}`;
  if (max === Infinity) return `at least ${min} arguments`;
  return `${min} to ${max} arguments`;
}

function usageOf(verb: string): string {
  const forms: Record<string, string> = {
    "add-br": "write `ovs-vsctl add-br BRIDGE`",
    "del-br": "write `ovs-vsctl del-br BRIDGE`",
    "add-port": "write `ovs-vsctl add-port BRIDGE PORT [COLUMN[:KEY]=VALUE]…`",
    "del-port": "write `ovs-vsctl del-port [BRIDGE] PORT`",
    set: "write `ovs-vsctl set TABLE RECORD COLUMN[:KEY]=VALUE…`",
    get: "write `ovs-vsctl get TABLE RECORD COLUMN[:KEY]…`",
    list: "write `ovs-vsctl list TABLE [RECORD]…`",
    clear: "write `ovs-vsctl clear TABLE RECORD COLUMN…`",
    remove: "write `ovs-vsctl remove TABLE RECORD COLUMN VALUE…`",
    "list-ports": "write `ovs-vsctl list-ports BRIDGE`",
    "br-exists": "write `ovs-vsctl br-exists BRIDGE`",
  };
  return own(forms, verb) ?? `write \`ovs-vsctl ${verb}\``;
}

/** Case-insensitive exact match, else a unique case-insensitive prefix (ovs-vsctl get_table()). */
function resolveTable(ctx: CommandContext, w: ExpandedWord): Located<string> | undefined {
  const t = w.text.toLowerCase();
  const exact = TABLES.find((n) => n.toLowerCase() === t);
  if (exact) return located(exact, w.span);
  const prefixed = t === "" ? [] : TABLES.filter((n) => n.toLowerCase().startsWith(t));
  if (prefixed.length === 1) return located(prefixed[0] as string, w.span);
  report(
    ctx.diags,
    "E0109",
    prefixed.length > 1 ? `ambiguous table name \`${w.text}\`` : `unknown table \`${w.text}\``,
    {
      span: w.span,
      label: prefixed.length > 1
        ? `matches ${prefixed.map((p) => `\`${p}\``).join(", ")}`
        : "not an Open_vSwitch table",
      notes: [
        prefixed.length > 1
          ? `ovs-vsctl prints: ovs-vsctl: multiple table names match "${w.text}"`
          : `ovs-vsctl prints: ovs-vsctl: unknown table "${w.text}"`,
      ],
      help: [
        ...suggestHelp(w.text, TABLES),
        "the usual tables are `Open_vSwitch`, `Bridge`, `Port` and `Interface`",
      ],
    },
  );
  return undefined;
}

/** `column[:key]=value` words; a value written in OVSDB double quotes loses its quotes. */
function parseSettings(ctx: CommandContext, words: readonly ExpandedWord[]): PropList | undefined {
  const items: Prop[] = [];
  for (const w of words) {
    const eq = w.text.indexOf("=");
    if (eq <= 0) {
      report(ctx.diags, "E0110", `expected \`column[:key]=value\`, found \`${w.text}\``, {
        span: w.span,
        label: eq === 0 ? "no column before `=`" : "no `=` in this setting",
        help: [
          "write settings like `type=dpdkvhostuserclient` or `options:vhost-server-path=/tmp/vhu0`",
        ],
      });
      return undefined;
    }
    let from = eq + 1;
    let to = w.text.length;
    if (to - from >= 2 && w.text[from] === '"' && w.text[to - 1] === '"') {
      from++;
      to--;
    }
    items.push({
      span: w.span,
      key: located(w.text.slice(0, eq), subSpan(w, 0, eq)),
      value: located(w.text.slice(from, to), subSpan(w, from, to)),
    });
  }
  const span = words.length > 0
    ? wordsSpan(words)
    : { source: ctx.base.span.source, start: ctx.base.span.end, end: ctx.base.span.end };
  return { span, items };
}
