/**
 * The lab statements (`let`, `for` and `include` are grammar, handled by lang/parse.ts):
 *
 * ```text
 * host cpu ghz=3.0 cores=16
 * host cmdline "intel_iommu=on iommu=pt"
 * host nic NAME model=… pci=… speed=… [numvfs=…] [mac=…] [mtu=…]
 * traffic NAME from EP to EP size=… (count=…|duration=…) [rate=…] [burst=…] [flows=…] [proto=…]
 * ping EP EP [count=…] [size=…] [interval=…]
 * run [DURATION] [--json] [--trace=off|sample|full]
 * trace T packet N [--json]
 * show topology|graph|stats [T|PATTERN]|vq EP Q|vhost EP|features EP|iommu [VM]|log|modules|flows [--json]
 * expect LHS OP RHS              # OP: == != < <= > >=
 * capture IFACE to FILE [count=N] [snaplen=N]
 * export graph|trace to FILE [format=…]
 * inject link-down|link-up IFACE | reset EP | iotlb-invalidate EP [iova=… size=…]
 *        | bad-chain EP QUEUE cycle|out-of-range|outside-memory|write-only-tx|oversize
 *        | disconnect SOCKET | reconnect SOCKET | unmap VM [iova=… size=…]    (all: [at=TIME])
 * set cost KEY=VALUE… | set seed N | set profile NAME
 * help [TOPIC…]
 * ```
 *
 * Keys of `key=value` words are checked here (a misspelt `sise=64` gets a did-you-mean); what
 * the values mean is the business of stdlib.
 *
 * @example
 * ```ts
 * import { Diagnostics } from "../diagnostic.ts";
 * import { parseCommand } from "./mod.ts";
 * import { testWords } from "./test_words.ts";
 * const cmd = parseCommand(testWords("traffic t1 from vm1.eth0 to wire size=64 count=1000"), new Diagnostics());
 * if (cmd?.kind !== "traffic" || cmd.from.parts[0]?.value !== "vm1" || cmd.props.items.length !== 2) {
 *   throw new Error("traffic expected");
 * }
 * ```
 *
 * @module
 */

import type { Prop, PropList } from "../props.ts";
import { parseQuantity, type Quantity, type QuantityKind } from "../quantity.ts";
import type { Span } from "../span.ts";
import { joinSpans } from "../span.ts";
import { type ExpandedWord, type Located, located, subSpan } from "../word.ts";
import type {
  BadChainVariant,
  CompareOp,
  DottedName,
  InjectFault,
  LabStatement,
  ShowSubject,
} from "./ast.ts";
import type { CommandContext } from "./context.ts";
import { loc, own, sliceWord, spanAfter, WordCursor, wordsSpan } from "./cursor.ts";
import { parseMac, parseUnsigned } from "./numbers.ts";
import { report, suggestHelp } from "./report.ts";

/** The keywords that start a lab statement. */
export const LAB_KEYWORDS: readonly string[] = [
  "host",
  "traffic",
  "ping",
  "run",
  "trace",
  "show",
  "expect",
  "capture",
  "export",
  "inject",
  "set",
  "help",
];

/** A host NIC name: 1 to 15 letters, digits, `_` and `-`. */
const NIC_NAME_RE = /^[A-Za-z0-9_-]{1,15}$/;

/** `show` subjects and how many endpoint/queue arguments each takes: [min, max]. */
const SHOW_SUBJECTS: Readonly<Record<ShowSubject["kind"], readonly [number, number]>> = {
  topology: [0, 0],
  graph: [0, 0],
  stats: [0, 1],
  vq: [2, 2],
  vhost: [1, 1],
  features: [1, 1],
  iommu: [0, 1],
  log: [0, 0],
  modules: [0, 0],
  flows: [0, 0],
};

/** Every `show` subject, in the order `help show` lists them. */
export const SHOW_SUBJECT_KINDS: readonly ShowSubject["kind"][] = Object.keys(
  SHOW_SUBJECTS,
) as ShowSubject["kind"][];

/** `inject` faults: positional argument names and extra keys besides `at`. */
const INJECT_FAULTS: Readonly<
  Record<InjectFault["kind"], { args: readonly string[]; keys: readonly string[] }>
> = {
  "link-down": { args: ["IFACE"], keys: [] },
  "link-up": { args: ["IFACE"], keys: [] },
  reset: { args: ["ENDPOINT"], keys: [] },
  "iotlb-invalidate": { args: ["ENDPOINT"], keys: ["iova", "size"] },
  "bad-chain": { args: ["ENDPOINT", "QUEUE", "VARIANT"], keys: [] },
  disconnect: { args: ["SOCKET"], keys: [] },
  reconnect: { args: ["SOCKET"], keys: [] },
  unmap: { args: ["VM"], keys: ["iova", "size"] },
};

const BAD_CHAIN_VARIANTS: readonly BadChainVariant[] = [
  "cycle",
  "out-of-range",
  "outside-memory",
  "write-only-tx",
  "oversize",
];

const COMPARE_OPS: readonly CompareOp[] = ["==", "!=", "<=", ">=", "<", ">"];

/** How the value of a `key=value` word is read. */
type ValueSpec = "string" | "mac" | {
  readonly expect: readonly QuantityKind[];
  readonly whole?: true;
};

const WHOLE = { expect: ["count"], whole: true } as const;

const HOST_CPU_KEYS: Readonly<Record<string, ValueSpec>> = {
  ghz: { expect: ["count"] },
  cores: WHOLE,
};
const HOST_NIC_KEYS: Readonly<Record<string, ValueSpec>> = {
  model: "string",
  pci: "string",
  speed: { expect: ["bit-rate"] },
  numvfs: WHOLE,
  mac: "mac",
  mtu: WHOLE,
};
const TRAFFIC_KEYS: Readonly<Record<string, ValueSpec>> = {
  size: { expect: ["bytes"] },
  count: WHOLE,
  duration: { expect: ["time"] },
  rate: { expect: ["packet-rate", "bit-rate", "line"] },
  burst: WHOLE,
  flows: WHOLE,
  proto: "string",
};
const PING_KEYS: Readonly<Record<string, ValueSpec>> = {
  count: WHOLE,
  size: { expect: ["bytes"] },
  interval: { expect: ["time"] },
};
const CAPTURE_KEYS: Readonly<Record<string, ValueSpec>> = {
  count: WHOLE,
  snaplen: { expect: ["bytes"] },
};
const EXPORT_KEYS: Readonly<Record<string, ValueSpec>> = { format: "string" };
const INJECT_KEYS: Readonly<Record<string, ValueSpec>> = {
  at: { expect: ["time"] },
  iova: WHOLE,
  size: { expect: ["bytes"] },
};

/** The props of a statement and their values, typed by the key's {@link ValueSpec}. */
interface ParsedProps {
  readonly props: PropList;
  readonly strings: ReadonlyMap<string, Located<string>>;
  readonly quantities: ReadonlyMap<string, Located<Quantity>>;
}

/** The usage line of each statement, for help texts. */
const FORMS: Readonly<Record<string, string>> = {
  host:
    'host cpu ghz=3.0 cores=16 | host cmdline "intel_iommu=on" | host nic NAME model=… pci=… speed=…',
  traffic: "traffic NAME from EP to EP size=64 count=1000 [rate=…] [burst=…]",
  ping: "ping EP EP [count=3] [size=64] [interval=1ms]",
  run: "run [DURATION] [--json] [--trace=off|sample|full]",
  trace: "trace T packet N [--json]",
  show:
    "show topology|graph|stats [T|PATTERN]|vq EP Q|vhost EP|features EP|iommu [VM]|log|modules|flows",
  expect: "expect t1.delivered == 1000",
  capture: "capture IFACE to FILE [count=N]",
  export: "export graph|trace to FILE",
  inject: "inject link-down IFACE | bad-chain EP QUEUE cycle | reset EP | …",
  set: "set cost KEY=VALUE… | set seed N | set profile NAME",
};

/** Parses a lab statement; `ctx.name` is its keyword. */
export function parseLab(ctx: CommandContext): LabStatement | undefined {
  return new LabParser(ctx).parse();
}

class LabParser {
  readonly #ctx: CommandContext;

  constructor(ctx: CommandContext) {
    this.#ctx = ctx;
  }

  get #diags() {
    return this.#ctx.diags;
  }

  parse(): LabStatement | undefined {
    const base = this.#ctx.base;
    const args = this.#ctx.args;
    switch (this.#ctx.name) {
      case "host":
        return this.#host(args);
      case "traffic":
        return this.#traffic(args);
      case "ping":
        return this.#ping(args);
      case "run":
        return this.#run(args);
      case "trace":
        return this.#trace(args);
      case "show":
        return this.#show(args);
      case "expect":
        return this.#expect(args);
      case "capture":
        return this.#capture(args);
      case "export":
        return this.#export(args);
      case "inject":
        return this.#inject(args);
      case "set":
        return this.#set(args);
      case "help":
        return { ...base, kind: "help", topic: args.map(loc) };
      default:
        throw new Error(`parseLab called for ${this.#ctx.name}`);
    }
  }

  // ---------------------------------------------------------------------------------------

  #host(args: readonly ExpandedWord[]): LabStatement | undefined {
    const sub = args[0];
    const subs = ["cpu", "cmdline", "nic"];
    if (!sub || !subs.includes(sub.text)) {
      if (!sub) return this.#missing("host", "`cpu`, `cmdline` or `nic`");
      report(this.#diags, "E0105", `unknown \`host\` statement \`${sub.text}\``, {
        span: sub.span,
        label: "expected `cpu`, `cmdline` or `nic`",
        help: [...suggestHelp(sub.text, subs), `write \`${FORMS.host}\``],
      });
      return undefined;
    }
    const rest = args.slice(1);
    const base = this.#ctx.base;
    if (sub.text === "cpu") {
      const p = this.#props(rest, HOST_CPU_KEYS, "host cpu", sub);
      if (!p) return undefined;
      if (p.props.items.length === 0) return this.#missing("host cpu", "`ghz=…` or `cores=…`", sub);
      return { ...base, kind: "host-cpu", props: p.props, ...pick(p, "ghz", "cores") };
    }
    if (sub.text === "cmdline") {
      if (rest.length === 0) {
        return this.#missing("host cmdline", "the kernel command line in quotes", sub);
      }
      const items: Prop[] = [];
      for (const w of rest) {
        for (const m of w.text.matchAll(/\S+/g)) {
          const start = m.index;
          const end = start + m[0].length;
          const eq = m[0].indexOf("=");
          const span = subSpan(w, start, end);
          items.push(
            eq < 0 ? { span, key: located(m[0], span) } : {
              span,
              key: located(m[0].slice(0, eq), subSpan(w, start, start + eq)),
              value: located(m[0].slice(eq + 1), subSpan(w, start + eq + 1, end)),
            },
          );
        }
      }
      const span = wordsSpan(rest);
      return {
        ...base,
        kind: "host-cmdline",
        cmdline: located(rest.map((w) => w.text).join(" "), span),
        params: { span, items },
      };
    }
    const name = rest[0];
    if (!name || name.text.includes("=")) {
      return this.#missing("host nic", "the NIC's name (e.g. `ens1f0`)", sub);
    }
    // A Linux interface name (check_ifname: at most IFNAMSIZ - 1 = 15 bytes) of the kind
    // physical NICs get (`ens1f0`): the lab names the port's wire and its VFs after it.
    if (!NIC_NAME_RE.test(name.text)) {
      report(this.#diags, "E0121", `\`${name.text}\` is not a NIC name the lab can use`, {
        span: name.span,
        label: name.text.length > 15
          ? `${name.text.length} characters, at most 15`
          : "not letters, digits, `_` and `-`",
        help: ["name the NIC as the kernel names ports, e.g. `ens1f0` or `enp59s0f0np0`"],
      });
      return undefined;
    }
    const p = this.#props(rest.slice(1), HOST_NIC_KEYS, "host nic", name);
    if (!p) return undefined;
    return {
      ...base,
      kind: "host-nic",
      name: loc(name),
      props: p.props,
      ...pick(p, "speed", "numvfs", "mtu"),
      ...pickStrings(p, "model", "pci", "mac"),
    };
  }

  #traffic(args: readonly ExpandedWord[]): LabStatement | undefined {
    const c = new WordCursor(args);
    const name = this.#positional(c, "traffic", "a name for the flow (e.g. `t1`)");
    if (!name) return undefined;
    if (!this.#keyword(c, "from", "traffic", name)) return undefined;
    const from = this.#endpoint(c, "traffic", "the sending endpoint (e.g. `vm1.eth0`)");
    if (!from) return undefined;
    if (!this.#keyword(c, "to", "traffic", c.previous as ExpandedWord)) return undefined;
    const to = this.#endpoint(c, "traffic", "the receiving endpoint (e.g. `wire`)");
    if (!to) return undefined;
    const p = this.#props(c.rest(), TRAFFIC_KEYS, "traffic", c.previous as ExpandedWord);
    if (!p) return undefined;
    const props = p.props;
    const count = props.items.find((i) => i.key.value === "count");
    const duration = props.items.find((i) => i.key.value === "duration");
    if (count && duration) {
      report(this.#diags, "E0122", "`count=` and `duration=` both bound the flow", {
        span: duration.span,
        label: "second bound",
        secondary: [{ span: count.span, message: "first bound" }],
        help: ["keep one: `count=` packets or `duration=` time"],
      });
      return undefined;
    }
    return {
      ...this.#ctx.base,
      kind: "traffic",
      name: loc(name),
      from,
      to,
      props,
      ...pick(p, "size", "count", "duration", "rate", "burst", "flows"),
      ...pickStrings(p, "proto"),
    };
  }

  #ping(args: readonly ExpandedWord[]): LabStatement | undefined {
    const dash = args.find((w) => !w.quoted && w.text.startsWith("-"));
    if (dash) {
      report(this.#diags, "E0120", `the lab's \`ping\` has no option \`${dash.text}\``, {
        span: dash.span,
        label: "real `ping` options are not modelled",
        help: [`write \`${FORMS.ping}\``],
      });
      return undefined;
    }
    const c = new WordCursor(args);
    const from = this.#endpoint(c, "ping", "the sending endpoint (e.g. `vm1.eth0`)");
    if (!from) return undefined;
    const to = this.#endpoint(c, "ping", "the target endpoint (e.g. `tap0`)");
    if (!to) return undefined;
    const p = this.#props(c.rest(), PING_KEYS, "ping", c.previous as ExpandedWord);
    if (!p) return undefined;
    return {
      ...this.#ctx.base,
      kind: "ping",
      from,
      to,
      props: p.props,
      ...pick(p, "count", "size", "interval"),
    };
  }

  #run(args: readonly ExpandedWord[]): LabStatement | undefined {
    let duration: Located<Quantity> | undefined;
    let json = false;
    let trace: Located<"off" | "sample" | "full"> | undefined;
    for (let i = 0; i < args.length; i++) {
      const w = args[i] as ExpandedWord;
      if (w.text === "--json") {
        json = true;
        continue;
      }
      if (w.text === "--trace" || w.text.startsWith("--trace=")) {
        const glued = w.text.startsWith("--trace=");
        const vw = glued ? undefined : args[i + 1];
        if (!glued && !vw) return this.#missingValue(w, "--trace", "`off`, `sample` or `full`");
        if (vw) i++;
        const text = glued ? w.text.slice(8) : (vw as ExpandedWord).text;
        const span = glued ? subSpan(w, 8) : (vw as ExpandedWord).span;
        if (text !== "off" && text !== "sample" && text !== "full") {
          report(this.#diags, "E0109", `unknown trace level \`${text}\``, {
            span,
            label: "expected `off`, `sample` or `full`",
            help: [
              ...suggestHelp(text, ["off", "sample", "full"]),
              "write `--trace=full` to record every hop",
            ],
          });
          return undefined;
        }
        trace = located(text, span);
        continue;
      }
      if (!w.quoted && w.text.startsWith("-")) {
        return this.#unknownFlag(w, "run", ["--json", "--trace"]);
      }
      if (duration) return this.#extra([w], "run");
      duration = this.#quantity(w, { expect: ["time"] }, "the duration of `run`");
      if (!duration) return undefined;
    }
    return {
      ...this.#ctx.base,
      kind: "run",
      json,
      ...(duration ? { duration } : {}),
      ...(trace ? { trace } : {}),
    };
  }

  #trace(args: readonly ExpandedWord[]): LabStatement | undefined {
    const { json, rest } = this.#jsonFlag(args, "trace");
    if (!rest) return undefined;
    const c = new WordCursor(rest);
    const flow = this.#positional(c, "trace", "the flow name (e.g. `t1`)");
    if (!flow) return undefined;
    if (!this.#keyword(c, "packet", "trace", flow)) return undefined;
    const n = this.#positional(c, "trace", "the packet number");
    if (!n) return undefined;
    const packet = this.#integer(n, "packet number");
    if (!packet) return undefined;
    if (!c.done) return this.#extra(c.rest(), "trace");
    return { ...this.#ctx.base, kind: "trace", flow: loc(flow), packet, json };
  }

  #show(args: readonly ExpandedWord[]): LabStatement | undefined {
    const { json, rest } = this.#jsonFlag(args, "show");
    if (!rest) return undefined;
    const word = rest[0];
    const subjects = Object.keys(SHOW_SUBJECTS) as ShowSubject["kind"][];
    if (!word) return this.#missing("show", subjects.map((s) => `\`${s}\``).join(", "));
    const kind = subjects.find((s) => s === word.text);
    if (!kind) {
      report(this.#diags, "E0105", `unknown \`show\` subject \`${word.text}\``, {
        span: word.span,
        label: "nothing to show by this name",
        help: [...suggestHelp(word.text, subjects), `write \`${FORMS.show}\``],
      });
      return undefined;
    }
    const [min, max] = SHOW_SUBJECTS[kind];
    const operands = rest.slice(1);
    if (operands.length < min) {
      return this.#missing(
        `show ${kind}`,
        kind === "vq"
          ? "an endpoint and a queue (e.g. `vm1.eth0 tx0`)"
          : "an endpoint (e.g. `vm1.eth0`)",
        word,
      );
    }
    if (operands.length > max) return this.#extra(operands.slice(max), `show ${kind}`);
    const targetWord = operands[0];
    // `show stats 'tput_*'`: a shell-style pattern over traffic names selects a table.
    const pattern = kind === "stats" && targetWord !== undefined &&
      /[*?]/.test(targetWord.text) && /^[A-Za-z0-9_:@%+*?-]+$/.test(targetWord.text);
    const target = targetWord === undefined
      ? undefined
      : pattern
      ? { span: targetWord.span, text: targetWord.text, parts: [loc(targetWord)] }
      : this.#dotted(targetWord);
    if (targetWord && !target) return undefined;
    let subject: ShowSubject;
    switch (kind) {
      case "topology":
      case "graph":
      case "log":
      case "modules":
      case "flows":
        subject = { kind };
        break;
      case "stats":
      case "iommu":
        subject = target ? { kind, target } : { kind };
        break;
      case "vhost":
      case "features":
        subject = { kind, target: target as DottedName };
        break;
      case "vq":
        subject = { kind, target: target as DottedName, queue: loc(operands[1] as ExpandedWord) };
        break;
    }
    return { ...this.#ctx.base, kind: "show", word: loc(word), subject, json };
  }

  #expect(args: readonly ExpandedWord[]): LabStatement | undefined {
    if (args.length === 0) {
      return this.#missing("expect", "a comparison such as `t1.delivered == 1000`");
    }
    // Find the first operator, as its own word or inside one (`t1.dropped==0`).
    let found: { word: number; at: number; op: CompareOp } | undefined;
    for (let i = 0; i < args.length && !found; i++) {
      const w = args[i] as ExpandedWord;
      if (w.quoted) continue;
      for (let k = 0; k < w.text.length && !found; k++) {
        const op = COMPARE_OPS.find((o) => w.text.startsWith(o, k));
        if (op) found = { word: i, at: k, op };
      }
    }
    const all = wordsSpan(args);
    if (!found) {
      const eqWord = args.find((w) => /[=]/.test(w.text));
      report(this.#diags, "E0118", "`expect` needs a comparison operator", {
        span: eqWord?.span ?? all,
        label: eqWord ? "`=` is not a comparison" : "no operator found",
        help: [
          eqWord
            ? "write `==` to compare"
            : "write `expect t1.delivered == 1000` (operators: == != < <= > >=)",
        ],
      });
      return undefined;
    }
    const opWord = args[found.word] as ExpandedWord;
    const opLen = found.op.length;
    // `=>` and `=<` are common slips for `>=` and `<=` (the lexer may split `=` from `>`).
    const before = args[found.word - 1];
    if (
      found.at === 0 && before && !before.quoted && before.text.endsWith("=") &&
      before.span.end === opWord.span.start
    ) {
      report(this.#diags, "E0118", `\`=${found.op}\` is not a comparison operator`, {
        span: joinSpans(subSpan(before, before.text.length - 1), subSpan(opWord, 0, opLen)),
        label: "unknown operator",
        help: [`write \`${found.op}=\``],
      });
      return undefined;
    }
    if (found.at > 0 && opWord.text[found.at - 1] === "=") {
      const wrong = opWord.text.slice(found.at - 1, found.at + opLen);
      report(this.#diags, "E0118", `\`${wrong}\` is not a comparison operator`, {
        span: subSpan(opWord, found.at - 1, found.at + opLen),
        label: "unknown operator",
        help: [`write \`${found.op}=\``],
      });
      return undefined;
    }
    if (
      opWord.text[found.at + opLen] === "=" || opWord.text[found.at + opLen] === "<" ||
      opWord.text[found.at + opLen] === ">"
    ) {
      report(
        this.#diags,
        "E0118",
        `\`${opWord.text.slice(found.at, found.at + opLen + 1)}\` is not a comparison operator`,
        {
          span: subSpan(opWord, found.at, found.at + opLen + 1),
          label: "unknown operator",
          help: ["the operators are `==`, `!=`, `<`, `<=`, `>` and `>=`"],
        },
      );
      return undefined;
    }
    const lhsParts: { text: string; span: Span }[] = [];
    for (let i = 0; i < found.word; i++) {
      lhsParts.push({ text: (args[i] as ExpandedWord).text, span: (args[i] as ExpandedWord).span });
    }
    if (found.at > 0) {
      lhsParts.push({ text: opWord.text.slice(0, found.at), span: subSpan(opWord, 0, found.at) });
    }
    const rhsParts: { text: string; span: Span }[] = [];
    if (found.at + opLen < opWord.text.length) {
      rhsParts.push({
        text: opWord.text.slice(found.at + opLen),
        span: subSpan(opWord, found.at + opLen),
      });
    }
    for (let i = found.word + 1; i < args.length; i++) {
      rhsParts.push({ text: (args[i] as ExpandedWord).text, span: (args[i] as ExpandedWord).span });
    }
    const opSpan = subSpan(opWord, found.at, found.at + opLen);
    if (lhsParts.length !== 1 || rhsParts.length !== 1) {
      const side = lhsParts.length !== 1 ? lhsParts : rhsParts;
      const where = side.length === 0 ? opSpan : joinSpans(
        (side[0] as { span: Span }).span,
        (side[side.length - 1] as { span: Span }).span,
      );
      report(
        this.#diags,
        "E0118",
        side.length === 0
          ? `nothing on the ${side === lhsParts ? "left" : "right"} of \`${found.op}\``
          : `one value expected on each side of \`${found.op}\``,
        {
          span: where,
          label: side.length === 0 ? "operand missing" : `${side.length} words here`,
          help: ["write `expect t1.per_packet.vmexits == 0`"],
        },
      );
      return undefined;
    }
    const lhsPart = lhsParts[0] as { text: string; span: Span };
    const rhsPart = rhsParts[0] as { text: string; span: Span };
    const lhsWord = found.at > 0 ? opWord : args[0] as ExpandedWord;
    const lhs = this.#dottedText(lhsPart.text, lhsPart.span, lhsWord, found.at > 0 ? 0 : undefined);
    if (!lhs) return undefined;
    // The right side is a quantity when it reads as one; otherwise a word (`virtio_net`).
    const rhsWord = found.at + opLen < opWord.text.length
      ? sliceWord(opWord, found.at + opLen)
      : args[found.word + 1] as ExpandedWord;
    const q = parseQuantity(rhsWord).quantity;
    return {
      ...this.#ctx.base,
      kind: "expect",
      lhs,
      op: located(found.op, opSpan),
      rhs: located(rhsPart.text, rhsPart.span),
      ...(q ? { rhsQuantity: q } : {}),
    };
  }

  #capture(args: readonly ExpandedWord[]): LabStatement | undefined {
    const c = new WordCursor(args);
    const iface = this.#endpoint(c, "capture", "the interface to capture on (e.g. `tap0`)");
    if (!iface) return undefined;
    if (!this.#keyword(c, "to", "capture", c.previous as ExpandedWord)) return undefined;
    const file = this.#positional(c, "capture", "the pcap file to write");
    if (!file) return undefined;
    const p = this.#props(c.rest(), CAPTURE_KEYS, "capture", file);
    if (!p) return undefined;
    return {
      ...this.#ctx.base,
      kind: "capture",
      iface,
      file: loc(file),
      props: p.props,
      ...pick(p, "count", "snaplen"),
    };
  }

  #export(args: readonly ExpandedWord[]): LabStatement | undefined {
    const c = new WordCursor(args);
    const what = this.#positional(c, "export", "`graph` or `trace`");
    if (!what) return undefined;
    if (what.text !== "graph" && what.text !== "trace") {
      report(this.#diags, "E0109", `cannot export \`${what.text}\``, {
        span: what.span,
        label: "expected `graph` or `trace`",
        help: [
          ...suggestHelp(what.text, ["graph", "trace"]),
          `write \`${FORMS.export}\``,
        ],
      });
      return undefined;
    }
    if (!this.#keyword(c, "to", "export", what)) return undefined;
    const file = this.#positional(c, "export", "the file to write");
    if (!file) return undefined;
    const p = this.#props(c.rest(), EXPORT_KEYS, "export", file);
    if (!p) return undefined;
    return {
      ...this.#ctx.base,
      kind: "export",
      what: located(what.text, what.span),
      file: loc(file),
      props: p.props,
      ...pickStrings(p, "format"),
    };
  }

  #inject(args: readonly ExpandedWord[]): LabStatement | undefined {
    const word = args[0];
    const kinds = Object.keys(INJECT_FAULTS) as InjectFault["kind"][];
    if (!word) return this.#missing("inject", kinds.map((k) => `\`${k}\``).join(", "));
    const kind = kinds.find((k) => k === word.text);
    if (!kind) {
      report(this.#diags, "E0105", `unknown fault \`${word.text}\``, {
        span: word.span,
        label: "not a fault the lab can inject",
        help: [
          ...suggestHelp(word.text, kinds),
          `the faults are ${kinds.map((k) => `\`${k}\``).join(", ")}`,
        ],
      });
      return undefined;
    }
    const rule = INJECT_FAULTS[kind];
    const rest = args.slice(1);
    const positional = rest.filter((w) => !isProp(w));
    const propWords = rest.filter((w) => isProp(w));
    const firstProp = rest.findIndex((w) => isProp(w));
    if (firstProp >= 0 && rest.slice(firstProp).some((w) => !isProp(w))) {
      const misplaced = rest.slice(firstProp).find((w) => !isProp(w)) as ExpandedWord;
      report(
        this.#diags,
        "E0104",
        `argument \`${misplaced.text}\` after the \`key=value\` options`,
        {
          span: misplaced.span,
          label: "positional arguments come first",
          help: [`write \`inject ${kind} ${rule.args.join(" ")} [key=value…]\``],
        },
      );
      return undefined;
    }
    if (positional.length < rule.args.length) {
      return this.#missing(
        `inject ${kind}`,
        rule.args.slice(positional.length).map((a) => `\`${a}\``).join(" "),
        positional[positional.length - 1] ?? word,
      );
    }
    if (positional.length > rule.args.length) {
      return this.#extra(positional.slice(rule.args.length), `inject ${kind}`);
    }
    const keys = Object.fromEntries(
      ["at", ...rule.keys].map((k) => [k, INJECT_KEYS[k] as ValueSpec]),
    );
    const p = this.#props(propWords, keys, `inject ${kind}`, word);
    if (!p) return undefined;
    const p0 = positional[0] as ExpandedWord;
    let fault: InjectFault;
    switch (kind) {
      case "link-down":
      case "link-up": {
        const iface = this.#dotted(p0);
        if (!iface) return undefined;
        fault = { kind, iface };
        break;
      }
      case "reset":
      case "iotlb-invalidate": {
        const target = this.#dotted(p0);
        if (!target) return undefined;
        fault = { kind, target };
        break;
      }
      case "bad-chain": {
        const target = this.#dotted(p0);
        if (!target) return undefined;
        const v = positional[2] as ExpandedWord;
        const variant = BAD_CHAIN_VARIANTS.find((b) => b === v.text);
        if (!variant) {
          report(this.#diags, "E0109", `unknown bad-chain variant \`${v.text}\``, {
            span: v.span,
            label: "not a way the lab can corrupt a chain",
            help: [
              ...suggestHelp(v.text, BAD_CHAIN_VARIANTS),
              `the variants are ${BAD_CHAIN_VARIANTS.map((b) => `\`${b}\``).join(", ")}`,
            ],
          });
          return undefined;
        }
        fault = {
          kind,
          target,
          queue: loc(positional[1] as ExpandedWord),
          variant: located(variant, v.span),
        };
        break;
      }
      case "disconnect":
      case "reconnect":
        fault = { kind, socket: loc(p0) };
        break;
      case "unmap":
        fault = { kind, vm: loc(p0) };
        break;
    }
    return {
      ...this.#ctx.base,
      kind: "inject",
      word: loc(word),
      fault,
      props: p.props,
      ...pick(p, "at", "iova", "size"),
    };
  }

  #set(args: readonly ExpandedWord[]): LabStatement | undefined {
    const word = args[0];
    const scopes = ["cost", "seed", "profile"];
    if (!word) return this.#missing("set", "`cost KEY=VALUE…`, `seed N` or `profile NAME`");
    const base = { ...this.#ctx.base, kind: "set" as const, word: loc(word) };
    const rest = args.slice(1);
    switch (word.text) {
      case "cost": {
        if (rest.length === 0) return this.#missing("set cost", "at least one `KEY=VALUE`", word);
        const p = this.#props(rest, undefined, "set cost", word);
        if (!p) return undefined;
        const costs = p.props.items.map((i) => ({
          key: i.key,
          value: p.quantities.get(i.key.value) as Located<Quantity>,
        }));
        return { ...base, scope: "cost", props: p.props, costs };
      }
      case "seed": {
        const n = rest[0];
        if (!n) return this.#missing("set seed", "a number", word);
        if (rest.length > 1) return this.#extra(rest.slice(1), "set seed");
        const value = this.#integer(n, "seed");
        return value ? { ...base, scope: "seed", value } : undefined;
      }
      case "profile": {
        const n = rest[0];
        if (!n) return this.#missing("set profile", "a profile name", word);
        if (rest.length > 1) return this.#extra(rest.slice(1), "set profile");
        return { ...base, scope: "profile", value: loc(n) };
      }
      default:
        report(this.#diags, "E0105", `unknown \`set\` target \`${word.text}\``, {
          span: word.span,
          label: "expected `cost`, `seed` or `profile`",
          help: [...suggestHelp(word.text, scopes), `write \`${FORMS.set}\``],
        });
        return undefined;
    }
  }

  // --------------------------------------------------------------------------- helpers

  /**
   * `key=value` words, each value read as its key's spec says; `specs` undefined accepts any
   * key with a quantity of any kind (`set cost`).
   */
  #props(
    words: readonly ExpandedWord[],
    specs: Readonly<Record<string, ValueSpec>> | undefined,
    statement: string,
    anchor: ExpandedWord,
  ): ParsedProps | undefined {
    const items: Prop[] = [];
    const strings = new Map<string, Located<string>>();
    const quantities = new Map<string, Located<Quantity>>();
    const allowed = specs ? Object.keys(specs) : undefined;
    let ok = true;
    for (const w of words) {
      const eq = w.text.indexOf("=");
      if (eq < 0) {
        const form = FORMS[statement.split(" ")[0] as string];
        report(this.#diags, "E0104", `unexpected argument \`${w.text}\` in \`${statement}\``, {
          span: w.span,
          label: "expected `key=value`",
          help: [form ? `write \`${form}\`` : "remove it"],
        });
        return undefined;
      }
      const key = located(w.text.slice(0, eq), subSpan(w, 0, eq));
      if (key.value === "") {
        report(this.#diags, "E0110", `value \`${w.text}\` has no key`, {
          span: w.span,
          label: "expected `key=value`",
          help: ["write the key before `=`"],
        });
        return undefined;
      }
      const spec: ValueSpec | undefined = specs
        ? own(specs, key.value)
        : { expect: ALL_QUANTITY_KINDS };
      if (!spec) {
        report(this.#diags, "E0101", `unknown option \`${key.value}\` for \`${statement}\``, {
          span: key.span,
          label: "not an option of this statement",
          help: [
            ...suggestHelp(key.value, allowed ?? []),
            `\`${statement}\` accepts ${(allowed ?? []).map((a) => `\`${a}=\``).join(", ")}`,
          ],
        });
        return undefined;
      }
      const value = located(w.text.slice(eq + 1), subSpan(w, eq + 1));
      if (value.value === "") {
        report(this.#diags, "E0102", `\`${key.value}=\` needs a value`, {
          span: w.span,
          label: "empty value",
          help: [`write a value after \`${key.value}=\``],
        });
        return undefined;
      }
      const dup = items.find((p) => p.key.value === key.value);
      if (dup) {
        report(this.#diags, "E0119", `\`${key.value}\` is given twice`, {
          span: w.span,
          label: "second value",
          secondary: [{ span: dup.span, message: "first value" }],
          help: ["keep one"],
        });
        return undefined;
      }
      items.push({ span: w.span, key, value });
      if (spec === "string") {
        strings.set(key.value, value);
      } else if (spec === "mac") {
        const mac = parseMac(value.value);
        if (mac === undefined) {
          ok = false;
          report(this.#diags, "E0108", `invalid MAC address \`${value.value}\``, {
            span: value.span,
            label: "expected six hex bytes separated by `:`",
            help: ["write it like `52:54:00:12:34:56`"],
          });
        } else strings.set(key.value, located(mac, value.span));
      } else {
        const q = this.#quantity(sliceWord(w, eq + 1), spec, `\`${key.value}=\``);
        if (q) quantities.set(key.value, q);
        else ok = false;
      }
    }
    if (!ok) return undefined;
    const span = words.length > 0 ? wordsSpan(words) : spanAfter(anchor);
    return { props: { span, items }, strings, quantities };
  }

  /** A quantity through lang/quantity.ts; `whole` also refuses fractions. */
  #quantity(
    w: ExpandedWord,
    spec: { readonly expect: readonly QuantityKind[]; readonly whole?: true },
    what: string,
  ): Located<Quantity> | undefined {
    const r = parseQuantity(w, { expect: spec.expect, what });
    if (r.diagnostic) {
      this.#diags.push(r.diagnostic);
      return undefined;
    }
    if (spec.whole && !Number.isInteger(r.quantity.value)) {
      report(this.#diags, "E0106", `${what} must be a whole number, not \`${w.text}\``, {
        span: w.span,
        label: "fractional",
        help: ["write a whole number"],
      });
      return undefined;
    }
    return located(r.quantity, w.span);
  }

  #positional(c: WordCursor, statement: string, what: string): ExpandedWord | undefined {
    const w = c.peek();
    if (!w || isProp(w)) {
      this.#missing(statement, what, c.previous);
      return undefined;
    }
    return c.next();
  }

  #keyword(c: WordCursor, keyword: string, statement: string, after: ExpandedWord): boolean {
    const w = c.peek();
    if (w?.text === keyword) {
      c.next();
      return true;
    }
    report(this.#diags, "E0103", `\`${statement}\` needs \`${keyword}\` here`, {
      span: w ? w.span : spanAfter(after),
      label: w ? `expected \`${keyword}\`, found \`${w.text}\`` : `\`${keyword}\` expected`,
      help: [`write \`${FORMS[statement]}\``],
    });
    return false;
  }

  #endpoint(c: WordCursor, statement: string, what: string): DottedName | undefined {
    const w = this.#positional(c, statement, what);
    return w ? this.#dotted(w) : undefined;
  }

  #dotted(w: ExpandedWord): DottedName | undefined {
    return this.#dottedText(w.text, w.span, w, 0);
  }

  /** Splits `text` (found at `from` in `word`) at dots; empty or odd parts are errors. */
  #dottedText(
    text: string,
    span: Span,
    word: ExpandedWord,
    from: number | undefined,
  ): DottedName | undefined {
    const parts: Located<string>[] = [];
    let at = 0;
    for (const part of text.split(".")) {
      const partSpan = from === undefined
        ? span
        : subSpan(word, from + at, from + at + part.length);
      if (part === "" || !/^[A-Za-z0-9_:@%+-]+$/.test(part)) {
        report(this.#diags, "E0117", `malformed name \`${text}\``, {
          span: part === "" ? span : partSpan,
          label: part === "" ? "empty part between dots" : "unexpected character",
          help: ["write names like `vm1.eth0`, `tap0`, `wire` or `t1.per_packet.vmexits`"],
        });
        return undefined;
      }
      parts.push(located(part, partSpan));
      at += part.length + 1;
    }
    return { span, text, parts };
  }

  #integer(w: ExpandedWord, what: string): Located<number> | undefined {
    const n = parseUnsigned(w.text, { base: 10, max: BigInt(Number.MAX_SAFE_INTEGER) });
    if (n !== undefined) return located(Number(n), w.span);
    report(this.#diags, "E0106", `invalid ${what} \`${w.text}\``, {
      span: w.span,
      label: "not a non-negative integer",
      help: [`write the ${what} as a whole number`],
    });
    return undefined;
  }

  #jsonFlag(
    args: readonly ExpandedWord[],
    statement: string,
  ): { json: boolean; rest?: readonly ExpandedWord[] } {
    let json = false;
    const rest: ExpandedWord[] = [];
    for (const w of args) {
      if (w.text === "--json" && !w.quoted) {
        json = true;
        continue;
      }
      if (!w.quoted && w.text.startsWith("--")) {
        this.#unknownFlag(w, statement, ["--json"]);
        return { json };
      }
      rest.push(w);
    }
    return { json, rest };
  }

  #unknownFlag(w: ExpandedWord, statement: string, flags: readonly string[]): undefined {
    report(this.#diags, "E0101", `unknown option \`${w.text}\` for \`${statement}\``, {
      span: w.span,
      label: "not an option of this statement",
      help: [
        ...suggestHelp(w.text.replace(/=.*$/, ""), flags),
        `\`${statement}\` accepts ${flags.map((f) => `\`${f}\``).join(", ")}`,
      ],
    });
    return undefined;
  }

  #missing(statement: string, what: string, after?: ExpandedWord): undefined {
    report(this.#diags, "E0103", `\`${statement}\` needs ${what}`, {
      span: after ? spanAfter(after) : this.#ctx.base.span,
      label: "missing here",
      help: [`write \`${FORMS[statement.split(" ")[0] as string] ?? statement}\``],
    });
    return undefined;
  }

  #missingValue(w: ExpandedWord, flag: string, what: string): undefined {
    report(this.#diags, "E0102", `\`${flag}\` needs a value`, {
      span: w.span,
      label: "value expected after this",
      help: [`write ${what} after \`${flag}\``],
    });
    return undefined;
  }

  #extra(words: readonly ExpandedWord[], statement: string): undefined {
    report(this.#diags, "E0104", `unexpected argument \`${words[0]?.text}\` in \`${statement}\``, {
      span: wordsSpan(words),
      label: "not expected here",
      help: [`write \`${FORMS[statement.split(" ")[0] as string] ?? statement}\``],
    });
    return undefined;
  }
}

/** The quantities among `keys` that were given, as optional node fields. */
function pick<K extends string>(
  p: ParsedProps,
  ...keys: K[]
): Partial<Record<K, Located<Quantity>>> {
  const out: Partial<Record<K, Located<Quantity>>> = {};
  for (const k of keys) {
    const q = p.quantities.get(k);
    if (q) out[k] = q;
  }
  return out;
}

/** The string values among `keys` that were given, as optional node fields. */
function pickStrings<K extends string>(
  p: ParsedProps,
  ...keys: K[]
): Partial<Record<K, Located<string>>> {
  const out: Partial<Record<K, Located<string>>> = {};
  for (const k of keys) {
    const v = p.strings.get(k);
    if (v) out[k] = v;
  }
  return out;
}

const ALL_QUANTITY_KINDS: readonly QuantityKind[] = [
  "count",
  "bytes",
  "time",
  "packet-rate",
  "bit-rate",
  "line",
];

function isProp(w: ExpandedWord): boolean {
  return !w.quoted && /^[A-Za-z_][A-Za-z0-9_-]*=/.test(w.text);
}
