/**
 * The iproute2 `ip` commands the lab models: `ip tuntap`, `ip link add|set|del|show` and
 * `ip addr show|add|del`, with iproute2's own matching rules. Options (`-j`, `-br`, `-d`, `-s`,
 * `-4` …), objects and commands are tested in ip.c's order with `matches()` (so `ip -b` is
 * `-batch` and `ip link s` is `set`); link keywords use strcmp or `matches()` exactly as
 * iplink.c does; a word that is no keyword is the device name, and a second one is iproute2's
 * famous `either "dev" is duplicate, or "x" is a garbage`.
 *
 * @example
 * ```ts
 * import { Diagnostics } from "../diagnostic.ts";
 * import { parseCommand } from "./mod.ts";
 * import { testWords } from "./test_words.ts";
 * const cmd = parseCommand(testWords("ip link set tap0 master br0 up"), new Diagnostics());
 * if (cmd?.kind !== "ip-link-set" || cmd.attrs.map((a) => a.key).join() !== "master,up") {
 *   throw new Error("ip link set expected");
 * }
 * ```
 *
 * @module
 */

import { joinSpans } from "../span.ts";
import { type ExpandedWord, type Located, located } from "../word.ts";
import type {
  IpAddrChange,
  IpAddrShow,
  IpCommand,
  IpLinkAdd,
  IpLinkAttr,
  IpLinkDel,
  IpLinkSet,
  IpLinkShow,
  IpOptions,
  IpTuntapCommand,
  IpTypeArg,
  UsageCommand,
} from "./ast.ts";
import { type CommandContext, usage } from "./context.ts";
import { loc, own, spanAfter, WordCursor, wordsSpan } from "./cursor.ts";
import { firstMatch, matches } from "./matches.ts";
import { maxUnsigned, parseMac, parseUnsigned } from "./numbers.ts";
import { report, suggestHelp } from "./report.ts";

/** ip.c's object table, in order (the first prefix match wins). */
const OBJECTS = [
  "address",
  "addrlabel",
  "maddress",
  "route",
  "rule",
  "neighbor",
  "neighbour",
  "ntable",
  "ntbl",
  "link",
  "l2tp",
  "fou",
  "ila",
  "macsec",
  "tunnel",
  "tunl",
  "tuntap",
  "tap",
  "token",
  "tcpmetrics",
  "tcp_metrics",
  "monitor",
  "xfrm",
  "mroute",
  "mrule",
  "netns",
  "netconf",
  "vrf",
  "sr",
  "nexthop",
  "mptcp",
  "ioam",
  "stats",
  "help",
] as const;

/** ip.c's global options in test order: [name, how it is compared, takes a value]. */
const GLOBAL_OPTIONS: readonly [string, "matches" | "strcmp", boolean][] = [
  ["-loops", "matches", true],
  ["-family", "matches", true],
  ["-4", "strcmp", false],
  ["-6", "strcmp", false],
  ["-0", "strcmp", false],
  ["-M", "strcmp", false],
  ["-B", "strcmp", false],
  ["-human", "matches", false],
  ["-human-readable", "matches", false],
  ["-iec", "matches", false],
  ["-stats", "matches", false],
  ["-statistics", "matches", false],
  ["-details", "matches", false],
  ["-resolve", "matches", false],
  ["-oneline", "matches", false],
  ["-timestamp", "matches", false],
  ["-tshort", "matches", false],
  ["-Version", "matches", false],
  ["-force", "matches", false],
  ["-batch", "matches", true],
  ["-rcvbuf", "matches", true],
  ["-color", "matches", false],
  ["-colour", "matches", false],
  ["-help", "matches", false],
  ["-netns", "matches", true],
  ["-Numeric", "matches", false],
  ["-all", "matches", false],
  ["-json", "matches", false],
  ["-pretty", "matches", false],
  ["-brief", "matches", false],
  ["-echo", "matches", false],
];

const IFNAMSIZ = 16;

/** Parses `ip …`. */
export function parseIp(ctx: CommandContext): IpCommand | UsageCommand | undefined {
  const c = new WordCursor(ctx.args);
  const seen = new Set<string>();
  const words: Located<string>[] = [];
  let family: Located<"inet" | "inet6" | "link"> | undefined;
  while (!c.done) {
    const w = c.peek() as ExpandedWord;
    if (w.quoted || !w.text.startsWith("-") || w.text.length < 2) break;
    c.next();
    if (w.text === "--") break;
    words.push(loc(w));
    // ip.c: "--opt" is the same as "-opt"; "-color=always" carries its value.
    const opt = (w.text.startsWith("--") ? w.text.slice(1) : w.text).replace(/=.*$/, "");
    const found = GLOBAL_OPTIONS.find(([name, how]) =>
      how === "strcmp" ? opt === name : matches(opt, name)
    );
    if (!found) {
      report(ctx.diags, "E0101", `unknown option \`${w.text}\` for \`ip\``, {
        span: w.span,
        label: "not an `ip` option",
        notes: [`ip prints: Option "${w.text}" is unknown, try "ip -help".`],
        help: [
          ...(opt.length > 2 ? suggestHelp(opt, GLOBAL_OPTIONS.map(([n]) => n)) : []),
          "the lab's `ip` options are `-j`, `-p`, `-br`, `-d`, `-s`, `-4`, `-6`, `-0` and `-f FAMILY`",
        ],
      });
      return undefined;
    }
    const [name, , takesValue] = found;
    if (name === "-Version" || name === "-help") {
      return usage(ctx, "ip", name === "-Version" ? "version" : "usage");
    }
    if (name === "-batch" || name === "-netns" || name === "-loops" || name === "-rcvbuf") {
      report(ctx.diags, "E0120", `\`ip ${name}\` is not modelled`, {
        span: w.span,
        label: name === "-batch"
          ? "`-b` is `-batch` (write `-br` for brief output)"
          : "not modelled",
        help: name === "-batch"
          ? ["write `-br` for brief output, or put the commands in the script"]
          : [
            "remove the option",
          ],
      });
      return undefined;
    }
    if (name === "-family") {
      const v = c.next();
      if (!v) {
        missing(ctx, w, "-family", "inet, inet6 or link");
        return undefined;
      }
      if (v.text !== "inet" && v.text !== "inet6" && v.text !== "link") {
        report(ctx.diags, "E0109", `unsupported address family \`${v.text}\``, {
          span: v.span,
          label: "expected `inet`, `inet6` or `link`",
          notes: ['ip prints: Error: argument "' + v.text + '" is wrong: invalid protocol family'],
          help: ["write `-f inet`, `-f inet6` or `-f link`"],
        });
        return undefined;
      }
      family = located(v.text, v.span);
      continue;
    }
    if (name === "-4") family = located("inet", w.span);
    else if (name === "-6") family = located("inet6", w.span);
    else if (name === "-0") family = located("link", w.span);
    if (takesValue) c.next();
    seen.add(name);
  }
  const options: IpOptions = {
    json: seen.has("-json"),
    pretty: seen.has("-pretty"),
    brief: seen.has("-brief"),
    details: seen.has("-details"),
    stats: seen.has("-stats") || seen.has("-statistics"),
    words,
    ...(family ? { family } : {}),
  };
  const objWord = c.next();
  if (!objWord) return usage(ctx, "ip");
  const object = firstMatch(objWord.text, OBJECTS);
  const p = new IpParser(ctx, options);
  switch (object) {
    case "help":
      return usage(ctx, "ip");
    case "link":
      return p.link(c.rest());
    case "address":
      return p.addr(c.rest());
    case "tuntap":
    case "tap":
      return p.tuntap(c.rest());
    case undefined:
      report(ctx.diags, "E0105", `unknown object \`${objWord.text}\` for \`ip\``, {
        span: objWord.span,
        label: "not an `ip` object",
        notes: [`ip prints: Object "${objWord.text}" is unknown, try "ip help".`],
        help: [
          ...suggestHelp(objWord.text, ["link", "address", "tuntap"]),
          "the lab models `ip link`, `ip addr` and `ip tuntap`",
        ],
      });
      return undefined;
    default:
      report(ctx.diags, "E0120", `\`ip ${object}\` is not modelled`, {
        span: objWord.span,
        label: objWord.text === object ? "not modelled" : `\`${objWord.text}\` means \`${object}\``,
        help: [
          object === "tunnel" && matches(objWord.text, "tuntap")
            ? "`ip tun` means `ip tunnel`: write `ip tuntap`"
            : "the lab models `ip link`, `ip addr` and `ip tuntap`",
        ],
      });
      return undefined;
  }
}

function missing(ctx: CommandContext, w: ExpandedWord, what: string, expected: string): void {
  report(ctx.diags, "E0102", `\`${what}\` needs a value`, {
    span: w.span,
    label: "value expected after this",
    notes: ['ip prints: Command line is not complete. Try option "help"'],
    help: [`write ${expected} after \`${what}\``],
  });
}

/** One link attribute keyword of iplink.c: how it is matched and what value it takes. */
interface AttrRule {
  readonly key: string;
  readonly how: "matches" | "strcmp";
  readonly value:
    | "none"
    | "string"
    | "number"
    | "mac"
    | "onoff"
    | "vf"
    | "type"
    | "link"
    | "unmodelled1"
    | "unmodelled0";
  /** The canonical key stored in the node (`address` for `brd`…). */
  readonly canonical?: string;
}

/** iplink_parse()'s keywords in test order. */
const LINK_ATTRS: readonly AttrRule[] = [
  { key: "up", how: "strcmp", value: "none" },
  { key: "down", how: "strcmp", value: "none" },
  { key: "name", how: "strcmp", value: "string" },
  { key: "index", how: "strcmp", value: "unmodelled1" },
  { key: "link", how: "matches", value: "link" },
  { key: "address", how: "matches", value: "mac" },
  { key: "broadcast", how: "matches", value: "mac" },
  { key: "brd", how: "strcmp", value: "mac", canonical: "broadcast" },
  { key: "txqueuelen", how: "matches", value: "number" },
  { key: "qlen", how: "strcmp", value: "number", canonical: "txqueuelen" },
  { key: "txqlen", how: "matches", value: "number", canonical: "txqueuelen" },
  { key: "mtu", how: "strcmp", value: "number" },
  { key: "xdpgeneric", how: "strcmp", value: "unmodelled1" },
  { key: "xdpdrv", how: "strcmp", value: "unmodelled1" },
  { key: "xdpoffload", how: "strcmp", value: "unmodelled1" },
  { key: "xdp", how: "strcmp", value: "unmodelled1" },
  { key: "netns", how: "strcmp", value: "string" },
  { key: "multicast", how: "strcmp", value: "onoff" },
  { key: "allmulticast", how: "strcmp", value: "onoff" },
  { key: "promisc", how: "strcmp", value: "onoff" },
  { key: "trailers", how: "strcmp", value: "unmodelled1" },
  { key: "arp", how: "strcmp", value: "onoff" },
  { key: "carrier", how: "strcmp", value: "onoff" },
  { key: "vf", how: "strcmp", value: "vf" },
  { key: "master", how: "matches", value: "string" },
  { key: "vrf", how: "strcmp", value: "unmodelled1" },
  { key: "nomaster", how: "matches", value: "none" },
  { key: "dynamic", how: "matches", value: "unmodelled1" },
  { key: "type", how: "matches", value: "type" },
  { key: "alias", how: "matches", value: "string" },
  { key: "group", how: "strcmp", value: "string" },
  { key: "mode", how: "strcmp", value: "unmodelled1" },
  { key: "state", how: "strcmp", value: "unmodelled1" },
  { key: "numtxqueues", how: "matches", value: "number" },
  { key: "numrxqueues", how: "matches", value: "number" },
  { key: "addrgenmode", how: "matches", value: "unmodelled1" },
  { key: "link-netns", how: "matches", value: "unmodelled1" },
  { key: "link-netnsid", how: "matches", value: "unmodelled1" },
  { key: "protodown", how: "strcmp", value: "unmodelled1" },
  { key: "gso_max_size", how: "strcmp", value: "unmodelled1" },
  { key: "gso_max_segs", how: "strcmp", value: "unmodelled1" },
  { key: "gro_max_size", how: "strcmp", value: "unmodelled1" },
  { key: "parentdev", how: "strcmp", value: "unmodelled1" },
];

/** iplink_parse_vf()'s keywords; each takes one value (`vlan` may add `qos N` and `proto P`). */
const VF_KEYS = [
  "mac",
  "vlan",
  "rate",
  "max_tx_rate",
  "min_tx_rate",
  "spoofchk",
  "query_rss",
  "state",
  "trust",
  "node_guid",
  "port_guid",
] as const;

/** Link types the lab can create, and the keywords of their `type` arguments. */
const LINK_TYPES: Readonly<Record<string, readonly string[]>> = {
  bridge: [
    "forward_delay",
    "hello_time",
    "max_age",
    "ageing_time",
    "stp_state",
    "priority",
    "vlan_filtering",
    "vlan_protocol",
    "vlan_default_pvid",
    "vlan_stats_enabled",
    "group_fwd_mask",
    "group_address",
    "mcast_snooping",
    "mcast_router",
    "mcast_querier",
    "nf_call_iptables",
    "nf_call_ip6tables",
    "nf_call_arptables",
  ],
  veth: [],
  dummy: [],
  macvtap: ["mode", "bcqueuelen"],
  macvlan: ["mode", "bcqueuelen"],
  vlan: ["id", "protocol", "reorder_hdr", "gvrp", "mvrp", "loose_binding"],
};

/** The state of one iplink_parse() pass. */
interface LinkParse {
  attrs: IpLinkAttr[];
  dev?: ExpandedWord;
  name?: ExpandedWord;
  link?: ExpandedWord;
  type?: ExpandedWord;
  /** Words after `type T`. */
  typeWords: readonly ExpandedWord[];
}

class IpParser {
  readonly #ctx: CommandContext;
  readonly #options: IpOptions;

  constructor(ctx: CommandContext, options: IpOptions) {
    this.#ctx = ctx;
    this.#options = options;
  }

  get #diags() {
    return this.#ctx.diags;
  }

  // -------------------------------------------------------------------------- ip link

  link(words: readonly ExpandedWord[]): IpCommand | UsageCommand | undefined {
    const verb = words[0];
    if (!verb) return { ...this.#base(), kind: "ip-link-show", up: false };
    const rest = words.slice(1);
    const m = firstMatch(
      verb.text,
      ["add", "set", "change", "replace", "delete", "show", "lst", "list", "help"] as const,
    ) ??
      firstMatch(verb.text, ["xstats", "afstats", "property"] as const);
    switch (m) {
      case "add":
        return this.#linkAdd(rest, verb);
      case "set":
      case "change":
        return this.#linkSet(rest, verb);
      case "delete":
        return this.#linkDel(rest, verb);
      case "show":
      case "lst":
      case "list":
        return this.#linkShow(rest);
      case "help":
        return usage(this.#ctx, "ip link");
      case undefined:
        return this.#unknownCommand(verb, "link", ["add", "set", "delete", "show", "help"]);
      default:
        report(this.#diags, "E0120", `\`ip link ${m}\` is not modelled`, {
          span: verb.span,
          label: "not modelled",
          help: ["the lab models `ip link add`, `set`, `delete` and `show`"],
        });
        return undefined;
    }
  }

  #linkAdd(words: readonly ExpandedWord[], verb: ExpandedWord): IpLinkAdd | undefined {
    const p = this.#parseLink(words, true);
    if (!p) return undefined;
    const nameWord = p.name ?? p.dev;
    if (!nameWord) {
      report(this.#diags, "E0103", "`ip link add` needs a name for the new link", {
        span: spanAfter(verb),
        label: "name expected",
        notes: ['ip prints: Not enough information: "dev" argument is required.'],
        help: ["write `ip link add br0 type bridge`"],
      });
      return undefined;
    }
    if (!p.type) {
      report(this.#diags, "E0103", "`ip link add` needs `type`", {
        span: wordsSpan([verb, ...words]),
        label: "no link type given",
        notes: ['ip prints: Not enough information: "type" argument is required'],
        help: ["add `type bridge` (or `veth`, `dummy`, `macvtap`, `macvlan`, `vlan`)"],
      });
      return undefined;
    }
    const type = p.type;
    const typeRule = own(LINK_TYPES, type.text);
    if (!typeRule) {
      report(this.#diags, "E0120", `link type \`${type.text}\` is not modelled`, {
        span: type.span,
        label: "not modelled",
        help: [
          ...(type.text === "tap" || type.text === "tun" || type.text === "tuntap"
            ? ["create tap devices with `ip tuntap add NAME mode tap`"]
            : suggestHelp(type.text, Object.keys(LINK_TYPES))),
          `the lab creates ${Object.keys(LINK_TYPES).map((t) => `\`${t}\``).join(", ")} links`,
        ],
      });
      return undefined;
    }
    let peer: IpLinkAdd["peer"];
    const typeArgs: IpTypeArg[] = [];
    if (type.text === "veth") {
      const [peerWord, ...peerRest] = p.typeWords;
      if (peerWord) {
        if (peerWord.text !== "peer") {
          return this.#garbageAfterType(peerWord, "veth", ["peer"]);
        }
        const pp = this.#parseLink(peerRest, true);
        if (!pp) return undefined;
        const peerName = pp.name ?? pp.dev;
        if (!peerName) {
          report(this.#diags, "E0103", "`peer` needs a name", {
            span: spanAfter(peerWord),
            label: "peer name expected",
            help: ["write `type veth peer name veth1`"],
          });
          return undefined;
        }
        if (pp.type) return this.#garbageAfterType(pp.type, "veth peer", []);
        peer = { span: wordsSpan(p.typeWords), name: loc(peerName), attrs: pp.attrs };
      }
    } else {
      const c = new WordCursor(p.typeWords);
      while (!c.done) {
        const k = c.next() as ExpandedWord;
        if (!typeRule.includes(k.text)) return this.#garbageAfterType(k, type.text, typeRule);
        const flagOnly = k.text === "fdb_flush";
        const v = flagOnly ? undefined : c.next();
        if (!flagOnly && !v) {
          missing(this.#ctx, k, k.text, "its value");
          return undefined;
        }
        typeArgs.push({
          span: v ? joinSpans(k.span, v.span) : k.span,
          key: loc(k),
          ...(v ? { value: loc(v) } : {}),
        });
      }
      if (type.text === "vlan" && !typeArgs.some((a) => a.key.value === "id")) {
        report(this.#diags, "E0103", "a `vlan` link needs `id`", {
          span: type.span,
          label: "no VLAN id given",
          notes: ["the kernel answers: Error: 8021q: VLAN id not specified."],
          help: ["write `type vlan id 10`"],
        });
        return undefined;
      }
    }
    if (!this.#ifname(nameWord, p.name ? "name" : "dev")) return undefined;
    return {
      ...this.#base(),
      kind: "ip-link-add",
      name: loc(nameWord),
      type: loc(type),
      attrs: p.attrs,
      typeArgs,
      ...(p.link ? { link: loc(p.link) } : {}),
      ...(peer ? { peer } : {}),
    };
  }

  #linkSet(words: readonly ExpandedWord[], verb: ExpandedWord): IpLinkSet | undefined {
    const p = this.#parseLink(words, false);
    if (!p) return undefined;
    if (!p.dev) {
      report(this.#diags, "E0103", "`ip link set` needs a device", {
        span: spanAfter(verb),
        label: "device expected",
        notes: ['ip prints: Not enough information: "dev" argument is required.'],
        help: ["write `ip link set tap0 up`"],
      });
      return undefined;
    }
    if (p.type) {
      report(this.#diags, "E0120", "`ip link set … type` is not modelled", {
        span: p.type.span,
        label: "not modelled",
        help: ["set bridge port options on the bridge in `ip link add … type bridge`"],
      });
      return undefined;
    }
    if (p.link) {
      report(this.#diags, "E0104", "`link` only applies to `ip link add`", {
        span: p.link.span,
        label: "not a `set` attribute",
        help: ["remove `link DEV`"],
      });
      return undefined;
    }
    if (p.attrs.length === 0) {
      report(this.#diags, "E0103", `\`ip link set ${p.dev.text}\` changes nothing`, {
        span: p.dev.span,
        label: "no attribute after the device",
        help: ["add what to change, e.g. `up`, `master br0` or `mtu 9000`"],
      });
      return undefined;
    }
    return { ...this.#base(), kind: "ip-link-set", dev: loc(p.dev), attrs: p.attrs };
  }

  #linkDel(words: readonly ExpandedWord[], verb: ExpandedWord): IpLinkDel | undefined {
    const p = this.#parseLink(words, false);
    if (!p) return undefined;
    if (!p.dev) {
      report(this.#diags, "E0103", "`ip link delete` needs a device", {
        span: spanAfter(verb),
        label: "device expected",
        notes: ['ip prints: Not enough information: "dev" argument is required.'],
        help: ["write `ip link del br0`"],
      });
      return undefined;
    }
    const extra = p.attrs[0];
    if (extra) {
      report(this.#diags, "E0104", "`ip link delete` takes only the device (and `type`)", {
        span: extra.span,
        label: "not used when deleting",
        help: ["remove it"],
      });
      return undefined;
    }
    if (p.typeWords.length > 0) {
      return this.#garbageAfterType(p.typeWords[0] as ExpandedWord, p.type?.text ?? "", []);
    }
    return {
      ...this.#base(),
      kind: "ip-link-del",
      dev: loc(p.dev),
      ...(p.type ? { type: loc(p.type) } : {}),
    };
  }

  #linkShow(words: readonly ExpandedWord[]): IpLinkShow | undefined {
    const c = new WordCursor(words);
    let dev: ExpandedWord | undefined;
    let type: ExpandedWord | undefined;
    let master: ExpandedWord | undefined;
    let up = false;
    while (!c.done) {
      const w = c.next() as ExpandedWord;
      if (w.text === "up") {
        up = true;
        continue;
      }
      if (w.text === "type" || w.text === "master") {
        const v = c.next();
        if (!v) {
          missing(this.#ctx, w, w.text, w.text === "type" ? "a link type" : "a bridge name");
          return undefined;
        }
        if (w.text === "type") type = v;
        else master = v;
        continue;
      }
      const d = w.text === "dev" ? c.next() : w;
      if (!d) {
        missing(this.#ctx, w, "dev", "a device name");
        return undefined;
      }
      if (dev) {
        this.#garbage(d, dev);
        return undefined;
      }
      dev = d;
    }
    return {
      ...this.#base(),
      kind: "ip-link-show",
      up,
      ...(dev ? { dev: loc(dev) } : {}),
      ...(type ? { type: loc(type) } : {}),
      ...(master ? { master: loc(master) } : {}),
    };
  }

  /** iplink_parse(): attributes until `type`, whose arguments are returned unparsed. */
  #parseLink(words: readonly ExpandedWord[], create: boolean): LinkParse | undefined {
    const out: LinkParse = { attrs: [], typeWords: [] };
    const c = new WordCursor(words);
    while (!c.done) {
      const w = c.next() as ExpandedWord;
      const rule = LINK_ATTRS.find((r) =>
        r.how === "strcmp" ? w.text === r.key : matches(w.text, r.key)
      );
      if (!rule) {
        if (matches(w.text, "help")) {
          report(this.#diags, "E0115", "`help` inside an `ip link` command", {
            span: w.span,
            label: "ip would print its usage here",
            help: ["run `ip link help` on its own line"],
          });
          return undefined;
        }
        const d = w.text === "dev" ? c.next() : w;
        if (!d) {
          missing(this.#ctx, w, "dev", "a device name");
          return undefined;
        }
        if (out.dev) {
          this.#garbage(d, out.dev);
          return undefined;
        }
        if (!this.#ifname(d, "dev")) return undefined;
        out.dev = d;
        continue;
      }
      const canonical = rule.canonical ?? rule.key;
      if (rule.value === "none") {
        out.attrs.push({
          key: canonical as "up" | "down" | "nomaster",
          span: w.span,
          word: loc(w),
        });
        continue;
      }
      if (rule.value === "unmodelled0" || rule.value === "unmodelled1") {
        report(this.#diags, "E0120", `link attribute \`${rule.key}\` is not modelled`, {
          span: w.span,
          label: "not modelled",
          help: [
            "remove it; the lab models up/down, master, mtu, address, name, txqueuelen, vf and the flags",
          ],
        });
        return undefined;
      }
      const v = c.next();
      if (!v) {
        missing(this.#ctx, w, rule.key, valueDescription(rule.value));
        return undefined;
      }
      const span = joinSpans(w.span, v.span);
      switch (rule.value) {
        case "type":
          out.type = v;
          out.typeWords = c.drain();
          return out;
        case "link":
          out.link = v;
          continue;
        case "string":
          if (canonical === "name" && !this.#ifname(v, "name")) return undefined;
          if (canonical === "name") out.name = v;
          if (canonical === "name" && create) continue;
          out.attrs.push({
            key: canonical as "master" | "name" | "alias" | "netns" | "group",
            span,
            word: loc(w),
            value: loc(v),
          });
          continue;
        case "number": {
          const n = this.#number(v, canonical, 32);
          if (n === undefined) return undefined;
          out.attrs.push({
            key: canonical as "mtu" | "txqueuelen" | "numtxqueues" | "numrxqueues",
            span,
            word: loc(w),
            value: n,
          });
          continue;
        }
        case "mac": {
          const mac = parseMac(v.text);
          if (mac === undefined) {
            report(this.#diags, "E0108", `invalid MAC address \`${v.text}\``, {
              span: v.span,
              label: "expected six hex bytes separated by `:`",
              notes: [`ip prints: "${v.text}" is invalid lladdr.`],
              help: ["write it like `52:54:00:12:34:56`"],
            });
            return undefined;
          }
          out.attrs.push({
            key: canonical as "address" | "broadcast",
            span,
            word: loc(w),
            value: located(mac, v.span),
          });
          continue;
        }
        case "onoff": {
          if (v.text !== "on" && v.text !== "off") {
            report(
              this.#diags,
              "E0109",
              `\`${rule.key}\` takes \`on\` or \`off\`, not \`${v.text}\``,
              {
                span: v.span,
                label: "expected `on` or `off`",
                notes: [
                  `ip prints: Error: argument of "${rule.key}" must be "on" or "off", not "${v.text}"`,
                ],
                help: [`write \`${rule.key} on\` or \`${rule.key} off\``],
              },
            );
            return undefined;
          }
          out.attrs.push({
            key: canonical as "promisc" | "multicast" | "allmulticast" | "arp" | "carrier",
            span,
            word: loc(w),
            value: located(v.text === "on", v.span),
          });
          continue;
        }
        case "vf": {
          const index = this.#number(v, "vf", 32);
          if (index === undefined) return undefined;
          const settings: { key: Located<string>; value: Located<string> }[] = [];
          let end = v.span;
          while (!c.done) {
            const k = c.peek() as ExpandedWord;
            const key = firstMatch(k.text, VF_KEYS);
            // iplink_parse_vf() stops (and rewinds) at the first word that is no vf keyword.
            if (!key) break;
            c.next();
            const kv = c.next();
            if (!kv) {
              missing(this.#ctx, k, `vf ${key}`, "its value");
              return undefined;
            }
            if (key === "mac" && parseMac(kv.text) === undefined) {
              report(this.#diags, "E0108", `invalid MAC address \`${kv.text}\``, {
                span: kv.span,
                label: "expected six hex bytes separated by `:`",
                notes: [`ip prints: "${kv.text}" is invalid lladdr.`],
                help: ["write it like `52:54:00:12:34:56`"],
              });
              return undefined;
            }
            const value = key === "mac" ? located(parseMac(kv.text) as string, kv.span) : loc(kv);
            settings.push({ key: located(key, k.span), value });
            end = kv.span;
          }
          out.attrs.push({
            key: "vf",
            span: joinSpans(w.span, end),
            word: loc(w),
            index,
            settings,
          });
          continue;
        }
      }
    }
    return out;
  }

  #garbage(d: ExpandedWord, first: ExpandedWord): void {
    report(this.#diags, "E0104", `second device name \`${d.text}\``, {
      span: d.span,
      label: "not a link keyword, so read as a device name",
      secondary: [{ span: first.span, message: "the device is already named here" }],
      notes: [`ip prints: Error: either "dev" is duplicate, or "${d.text}" is a garbage.`],
      help: [
        ...suggestHelp(d.text, LINK_ATTRS.map((r) => r.key)),
        "name the device once, then list attributes such as `up`, `master br0`, `mtu 9000`",
      ],
    });
  }

  #garbageAfterType(w: ExpandedWord, type: string, keys: readonly string[]): undefined {
    report(this.#diags, "E0101", `unknown argument \`${w.text}\` for link type \`${type}\``, {
      span: w.span,
      label: "not an argument of this link type",
      notes: [
        keys.length === 0
          ? `ip prints: Garbage instead of arguments "${w.text} ...". Try "ip link help".`
          : `ip prints: ${type}: unknown command "${w.text}"?`,
      ],
      help: [
        ...suggestHelp(w.text, keys),
        keys.length === 0
          ? `\`${type}\` takes no arguments here`
          : `\`${type}\` takes ${keys.map((k) => `\`${k}\``).join(", ")}`,
      ],
    });
    return undefined;
  }

  // -------------------------------------------------------------------------- ip tuntap

  tuntap(words: readonly ExpandedWord[]): IpCommand | UsageCommand | undefined {
    const verb = words[0];
    if (!verb) return { ...this.#base(), kind: "ip-tuntap-show" };
    const m = firstMatch(verb.text, ["add", "del", "show", "lst", "list", "help"] as const);
    const rest = words.slice(1);
    switch (m) {
      case "add":
      case "del":
        return this.#tuntapChange(rest, verb, m);
      case "show":
      case "lst":
      case "list":
        if (rest[0]) {
          report(this.#diags, "E0104", "`ip tuntap show` takes no arguments in the lab", {
            span: wordsSpan(rest),
            label: "unexpected argument",
            help: ["filter with `ip tuntap show | grep NAME`"],
          });
          return undefined;
        }
        return { ...this.#base(), kind: "ip-tuntap-show" };
      case "help":
        return usage(this.#ctx, "ip tuntap");
      default:
        return this.#unknownCommand(verb, "tuntap", ["add", "del", "show", "list", "help"]);
    }
  }

  #tuntapChange(
    words: readonly ExpandedWord[],
    verb: ExpandedWord,
    op: "add" | "del",
  ): IpTuntapCommand | undefined {
    let name: ExpandedWord | undefined;
    let mode: Located<"tap" | "tun"> | undefined;
    let user: ExpandedWord | undefined;
    let group: ExpandedWord | undefined;
    let multiQueue = false;
    let vnetHdr = false;
    let oneQueue = false;
    let pi = false;
    const c = new WordCursor(words);
    // iptuntap.c parse_args(): matches() for every keyword, in this order.
    const keys = [
      "mode",
      "user",
      "group",
      "pi",
      "one_queue",
      "multi_queue",
      "vnet_hdr",
      "dev",
    ] as const;
    while (!c.done) {
      const w = c.next() as ExpandedWord;
      const k = firstMatch(w.text, keys);
      if (k === "mode") {
        const v = c.next();
        if (!v) {
          missing(this.#ctx, w, "mode", "`tap` or `tun`");
          return undefined;
        }
        const m = firstMatch(v.text, ["tun", "tap"] as const);
        if (!m) {
          report(this.#diags, "E0109", `unknown tuntap mode \`${v.text}\``, {
            span: v.span,
            label: "expected `tap` or `tun`",
            notes: ["ip prints: Cannot guess tunnel mode."],
            help: [
              ...suggestHelp(v.text, ["tap", "tun"]),
              "write `mode tap` (Ethernet frames, what QEMU uses)",
            ],
          });
          return undefined;
        }
        if (mode && mode.value !== m) {
          report(this.#diags, "E0122", "both `tap` and `tun` modes requested", {
            span: v.span,
            label: `\`${m}\` here`,
            secondary: [{ span: mode.span, message: `\`${mode.value}\` here` }],
            notes: ["ip prints: You managed to ask for more than one tunnel mode."],
            help: ["keep one `mode`"],
          });
          return undefined;
        }
        mode = located(m, v.span);
        continue;
      }
      if ((k === "user" || k === "group") && op === "add") {
        const v = c.next();
        if (!v) {
          missing(this.#ctx, w, k, k === "user" ? "a user name or uid" : "a group name or gid");
          return undefined;
        }
        if (k === "user") user = v;
        else group = v;
        continue;
      }
      if (k === "pi") {
        pi = true;
        continue;
      }
      if (k === "one_queue") {
        oneQueue = true;
        continue;
      }
      if (k === "multi_queue") {
        multiQueue = true;
        continue;
      }
      if (k === "vnet_hdr") {
        vnetHdr = true;
        continue;
      }
      let n = w;
      if (k === "dev" || matches(w.text, "name")) {
        const v = c.next();
        if (!v) {
          missing(this.#ctx, w, k === "dev" ? "dev" : "name", "the interface name");
          return undefined;
        }
        n = v;
      } else if (matches(w.text, "help")) {
        report(this.#diags, "E0115", "`help` inside an `ip tuntap` command", {
          span: w.span,
          label: "ip would print its usage here",
          help: ["run `ip tuntap help` on its own line"],
        });
        return undefined;
      }
      if (name && k !== "dev") {
        report(this.#diags, "E0104", `second interface name \`${n.text}\``, {
          span: n.span,
          label: "not a tuntap keyword, so read as a name",
          secondary: [{ span: name.span, message: "the interface is already named here" }],
          notes: [`ip prints: Error: duplicate "name": "${n.text}" is the second value.`],
          help: [
            ...suggestHelp(n.text, [...keys]),
            "the keywords are `mode`, `multi_queue`, `vnet_hdr`, `one_queue`, `pi`, `user`, `group`",
          ],
        });
        return undefined;
      }
      if (!this.#ifname(n, "name")) return undefined;
      name = n;
    }
    if (!mode && op === "add") {
      report(this.#diags, "E0103", "`ip tuntap add` needs `mode tap` or `mode tun`", {
        span: wordsSpan([verb, ...words]),
        label: "no mode given",
        notes: ["ip prints: You failed to specify a tunnel mode"],
        help: ["add `mode tap`"],
      });
      return undefined;
    }
    if (!name && op === "del") {
      report(this.#diags, "E0103", "`ip tuntap del` needs the interface name", {
        span: spanAfter(verb),
        label: "name expected",
        help: ["write `ip tuntap del tap0 mode tap`"],
      });
      return undefined;
    }
    return {
      ...this.#base(),
      kind: op === "add" ? "ip-tuntap-add" : "ip-tuntap-del",
      multiQueue,
      vnetHdr,
      oneQueue,
      pi,
      ...(name ? { name: loc(name) } : {}),
      ...(mode ? { mode } : {}),
      ...(user ? { user: loc(user) } : {}),
      ...(group ? { group: loc(group) } : {}),
    };
  }

  // -------------------------------------------------------------------------- ip addr

  addr(words: readonly ExpandedWord[]): IpCommand | UsageCommand | undefined {
    const verb = words[0];
    if (!verb) return { ...this.#base(), kind: "ip-addr-show", up: false };
    const m = firstMatch(
      verb.text,
      [
        "add",
        "change",
        "chg",
        "replace",
        "delete",
        "list",
        "show",
        "lst",
        "flush",
        "save",
        "showdump",
        "restore",
        "help",
      ] as const,
    );
    const rest = words.slice(1);
    switch (m) {
      case "add":
      case "delete":
        return this.#addrChange(rest, verb, m === "add" ? "ip-addr-add" : "ip-addr-del");
      case "list":
      case "show":
      case "lst":
        return this.#addrShow(rest);
      case "help":
        return usage(this.#ctx, "ip address");
      case undefined:
        return this.#unknownCommand(verb, "address", ["add", "delete", "show", "help"]);
      default:
        report(this.#diags, "E0120", `\`ip address ${m}\` is not modelled`, {
          span: verb.span,
          label: "not modelled",
          help: ["the lab models `ip addr add`, `del` and `show`"],
        });
        return undefined;
    }
  }

  #addrShow(words: readonly ExpandedWord[]): IpAddrShow | undefined {
    const c = new WordCursor(words);
    let dev: ExpandedWord | undefined;
    let up = false;
    while (!c.done) {
      const w = c.next() as ExpandedWord;
      if (w.text === "up") {
        up = true;
        continue;
      }
      const d = w.text === "dev" ? c.next() : w;
      if (!d) {
        missing(this.#ctx, w, "dev", "a device name");
        return undefined;
      }
      if (dev) {
        this.#garbage(d, dev);
        return undefined;
      }
      dev = d;
    }
    return { ...this.#base(), kind: "ip-addr-show", up, ...(dev ? { dev: loc(dev) } : {}) };
  }

  #addrChange(
    words: readonly ExpandedWord[],
    verb: ExpandedWord,
    kind: "ip-addr-add" | "ip-addr-del",
  ): IpAddrChange | undefined {
    const c = new WordCursor(words);
    let dev: ExpandedWord | undefined;
    let address: ExpandedWord | undefined;
    while (!c.done) {
      const w = c.next() as ExpandedWord;
      if (w.text === "dev") {
        const v = c.next();
        if (!v) {
          missing(this.#ctx, w, "dev", "a device name");
          return undefined;
        }
        dev = v;
        continue;
      }
      if (
        [
          "peer",
          "remote",
          "broadcast",
          "brd",
          "anycast",
          "scope",
          "label",
          "valid_lft",
          "preferred_lft",
          "local",
        ].includes(w.text)
      ) {
        report(this.#diags, "E0120", `address attribute \`${w.text}\` is not modelled`, {
          span: w.span,
          label: "not modelled",
          help: ["write `ip addr add ADDR/LEN dev NAME`"],
        });
        return undefined;
      }
      if (address) {
        report(this.#diags, "E0104", `second address \`${w.text}\``, {
          span: w.span,
          label: "unexpected",
          secondary: [{ span: address.span, message: "the address is given here" }],
          notes: [`ip prints: Error: either "local" is duplicate, or "${w.text}" is a garbage.`],
          help: ["add one address per command"],
        });
        return undefined;
      }
      if (!/^[0-9a-fA-F:.]+(\/[0-9]{1,3})?$/.test(w.text)) {
        report(this.#diags, "E0109", `invalid address \`${w.text}\``, {
          span: w.span,
          label: "expected an IPv4 or IPv6 address with an optional prefix length",
          notes: [`ip prints: Error: any valid prefix is expected rather than "${w.text}".`],
          help: ["write it like `10.0.0.1/24`"],
        });
        return undefined;
      }
      address = w;
    }
    if (!address || !dev) {
      report(
        this.#diags,
        "E0103",
        `\`${
          kind === "ip-addr-add" ? "ip addr add" : "ip addr del"
        }\` needs an address and \`dev\``,
        {
          span: wordsSpan([verb, ...words]),
          label: !address ? "no address given" : "no `dev` given",
          notes: !dev ? ['ip prints: Not enough information: "dev" argument is required.'] : [],
          help: ["write `ip addr add 10.0.0.1/24 dev tap0`"],
        },
      );
      return undefined;
    }
    return { ...this.#base(), kind, address: loc(address), dev: loc(dev) };
  }

  // -------------------------------------------------------------------------- shared

  #unknownCommand(w: ExpandedWord, object: string, verbs: readonly string[]): undefined {
    report(this.#diags, "E0105", `unknown subcommand \`${w.text}\` for \`ip ${object}\``, {
      span: w.span,
      label: "not a subcommand here",
      notes: [`ip prints: Command "${w.text}" is unknown, try "ip ${object} help".`],
      help: [
        ...suggestHelp(w.text, verbs),
        `\`ip ${object}\` has ${verbs.map((v) => `\`${v}\``).join(", ")}`,
      ],
    });
    return undefined;
  }

  #number(v: ExpandedWord, what: string, bits: 32): Located<number> | undefined {
    const n = parseUnsigned(v.text, { base: 0, max: maxUnsigned(bits) });
    if (n !== undefined) return located(Number(n), v.span);
    report(this.#diags, "E0106", `invalid \`${what}\` value \`${v.text}\``, {
      span: v.span,
      label: "not an unsigned number",
      notes: [`ip prints: Error: argument "${v.text}" is wrong: Invalid "${what}" value`],
      help: ["write a non-negative integer"],
    });
    return undefined;
  }

  /** check_ifname(): 1 to 15 characters, no `/` or blank, not `.` or `..`. */
  #ifname(w: ExpandedWord, what: "name" | "dev"): boolean {
    const t = w.text;
    if (t.length > 0 && t.length < IFNAMSIZ && !/[/\s]/.test(t) && t !== "." && t !== "..") {
      return true;
    }
    report(this.#diags, "E0121", `invalid interface name \`${t}\``, {
      span: w.span,
      label: t.length >= IFNAMSIZ
        ? `${t.length} characters, at most ${IFNAMSIZ - 1} allowed`
        : "not a valid interface name",
      notes: [`ip prints: Error: argument "${t}" is wrong: "${what}" not a valid ifname`],
      help: [`use at most ${IFNAMSIZ - 1} characters without \`/\` or spaces`],
    });
    return false;
  }

  #base() {
    return { ...this.#ctx.base, options: this.#options };
  }
}

function valueDescription(v: AttrRule["value"]): string {
  switch (v) {
    case "number":
      return "a number";
    case "mac":
      return "a MAC address";
    case "onoff":
      return "`on` or `off`";
    case "vf":
      return "the VF number";
    case "type":
      return "the link type";
    default:
      return "its value";
  }
}

/** For tests and help: the link types the lab can create. */
export const IP_LINK_TYPES: readonly string[] = Object.keys(LINK_TYPES);
