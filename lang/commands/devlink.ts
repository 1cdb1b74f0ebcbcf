/**
 * `devlink`, the subset that makes mlx5 subfunctions (iproute2 devlink/devlink.c, man pages
 * devlink-dev(8), devlink-port(8)):
 *
 * ```text
 * devlink dev [show [DEV]]                                   # alias: list
 * devlink dev eswitch show DEV
 * devlink dev eswitch set DEV mode { legacy | switchdev }
 * devlink port [show [DEV/PORT_INDEX | NETDEV]]              # alias: list
 * devlink port add DEV flavour pcisf pfnum N sfnum N [controller N]
 * devlink port del { DEV/PORT_INDEX | NETDEV }
 * devlink port function set { DEV/PORT_INDEX | NETDEV } [hw_addr MAC] [state { active | inactive }]
 * ```
 *
 * devlink compares keywords exactly (`dl_argv_match` is strcmp). DEV is `BUS/NAME`
 * (`pci/0000:3b:00.0`, `auxiliary/mlx5_core.sf.1`). Options and attributes devlink has but
 * the lab does not model (`-j`, `inline-mode`, `roce` …) are E0120.
 *
 * @example
 * ```ts
 * import { Diagnostics } from "../diagnostic.ts";
 * import { parseCommand } from "./mod.ts";
 * import { testWords } from "./test_words.ts";
 * const cmd = parseCommand(
 *   testWords("devlink port add pci/0000:3b:00.0 flavour pcisf pfnum 0 sfnum 88"),
 *   new Diagnostics(),
 * );
 * if (cmd?.kind !== "devlink-port-add" || cmd.sfnum?.value !== 88) throw new Error("port add");
 * ```
 *
 * @module
 */

import type { Located } from "../word.ts";
import { type ExpandedWord, located } from "../word.ts";
import type { DevlinkCommand, DevlinkPortHandle, UsageCommand } from "./ast.ts";
import { type CommandContext, usage } from "./context.ts";
import { loc, wordsSpan } from "./cursor.ts";
import { report, suggestHelp } from "./report.ts";

/** `BUS/NAME` with a single `/`. */
const DEV_RE = /^[a-z]+\/[^/\s]+$/;
const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** Parses `devlink …`. */
export function parseDevlink(ctx: CommandContext): DevlinkCommand | UsageCommand | undefined {
  const args = ctx.args;
  const first = args[0];
  if (first !== undefined && first.text.startsWith("-")) {
    if (first.text === "-V" || first.text === "--Version") return usage(ctx, "devlink", "version");
    report(ctx.diags, "E0120", `devlink option \`${first.text}\` is not modelled by the lab`, {
      span: first.span,
      label: "not modelled",
      help: ["the lab's devlink prints text only: drop the option"],
    });
    return undefined;
  }
  const p = new DevlinkParser(ctx);
  if (first === undefined || first.text === "help") return usage(ctx, "devlink");
  if (first.text === "dev") return p.dev(args.slice(1));
  if (first.text === "port") return p.port(args.slice(1));
  report(ctx.diags, "E0105", `unknown object \`${first.text}\` for \`devlink\``, {
    span: first.span,
    label: "the lab models `dev` and `port`",
    notes: [`devlink prints: Object "${first.text}" not found`],
    help: [
      ...suggestHelp(first.text, ["dev", "port"]),
      "the lab's devlink objects are `dev` and `port`",
    ],
  });
  return undefined;
}

class DevlinkParser {
  readonly #ctx: CommandContext;

  constructor(ctx: CommandContext) {
    this.#ctx = ctx;
  }

  dev(words: readonly ExpandedWord[]): DevlinkCommand | UsageCommand | undefined {
    const verb = words[0];
    if (verb === undefined) return { ...this.#ctx.base, kind: "devlink-dev-show" };
    if (verb.text === "help") return usage(this.#ctx, "devlink dev");
    if (verb.text === "show" || verb.text === "list") {
      const dev = words[1];
      if (dev === undefined) return { ...this.#ctx.base, kind: "devlink-dev-show" };
      const d = this.#dev(dev);
      if (d === undefined || !this.#noMore(words.slice(2))) return undefined;
      return { ...this.#ctx.base, kind: "devlink-dev-show", dev: d };
    }
    if (verb.text === "eswitch") return this.#eswitch(words.slice(1), verb);
    return this.#unknown(verb, "devlink dev", ["show", "list", "eswitch", "help"]);
  }

  #eswitch(words: readonly ExpandedWord[], at: ExpandedWord): DevlinkCommand | undefined {
    const verb = words[0];
    if (verb === undefined) {
      this.#missing(at, "`show` or `set`", "devlink dev eswitch show pci/0000:3b:00.0");
      return undefined;
    }
    if (verb.text !== "show" && verb.text !== "set") {
      return this.#unknown(verb, "devlink dev eswitch", ["show", "set"]);
    }
    const devWord = words[1];
    if (devWord === undefined) {
      this.#missing(verb, 'a devlink handle ("BUS_NAME/DEV_NAME")', "pci/0000:3b:00.0");
      return undefined;
    }
    const dev = this.#dev(devWord);
    if (dev === undefined) return undefined;
    if (verb.text === "show") {
      if (!this.#noMore(words.slice(2))) return undefined;
      return { ...this.#ctx.base, kind: "devlink-eswitch-show", dev };
    }
    let mode: Located<"legacy" | "switchdev"> | undefined;
    const rest = words.slice(2);
    for (let i = 0; i < rest.length; i += 2) {
      const key = rest[i] as ExpandedWord;
      const value = rest[i + 1];
      if (key.text === "inline-mode" || key.text === "encap-mode") {
        report(this.#ctx.diags, "E0120", `\`${key.text}\` is not modelled by the lab`, {
          span: key.span,
          label: "not modelled",
          help: ["the lab's e-switch has modes only: `mode legacy` or `mode switchdev`"],
        });
        return undefined;
      }
      if (key.text !== "mode") return this.#unknownKeyword(key, ["mode"]);
      if (value === undefined) return this.#noValue(key, "`legacy` or `switchdev`");
      if (value.text !== "legacy" && value.text !== "switchdev") {
        report(this.#ctx.diags, "E0109", `\`${value.text}\` is not an e-switch mode`, {
          span: value.span,
          label: "expected `legacy` or `switchdev`",
          notes: [`devlink prints: Unknown eswitch mode "${value.text}"`],
          help: suggestHelp(value.text, ["legacy", "switchdev"]),
        });
        return undefined;
      }
      mode = located(value.text, value.span);
    }
    if (mode === undefined) {
      this.#missing(devWord, "`mode legacy` or `mode switchdev`", "mode switchdev");
      return undefined;
    }
    return { ...this.#ctx.base, kind: "devlink-eswitch-set", dev, mode };
  }

  port(words: readonly ExpandedWord[]): DevlinkCommand | UsageCommand | undefined {
    const verb = words[0];
    if (verb === undefined) return { ...this.#ctx.base, kind: "devlink-port-show" };
    if (verb.text === "help") return usage(this.#ctx, "devlink port");
    switch (verb.text) {
      case "show":
      case "list": {
        const h = words[1];
        if (h === undefined) return { ...this.#ctx.base, kind: "devlink-port-show" };
        const port = this.#port(h);
        if (port === undefined || !this.#noMore(words.slice(2))) return undefined;
        return { ...this.#ctx.base, kind: "devlink-port-show", port };
      }
      case "add":
        return this.#portAdd(words.slice(1), verb);
      case "del": {
        const h = words[1];
        if (h === undefined) {
          this.#missing(verb, 'a port ("DEV/PORT_INDEX")', "pci/0000:3b:00.0/32768");
          return undefined;
        }
        const port = this.#port(h);
        if (port === undefined || !this.#noMore(words.slice(2))) return undefined;
        return { ...this.#ctx.base, kind: "devlink-port-del", port };
      }
      case "function":
        return this.#functionSet(words.slice(1), verb);
      default:
        return this.#unknown(verb, "devlink port", [
          "show",
          "list",
          "add",
          "del",
          "function",
          "help",
        ]);
    }
  }

  #portAdd(words: readonly ExpandedWord[], verb: ExpandedWord): DevlinkCommand | undefined {
    const devWord = words[0];
    if (devWord === undefined) {
      this.#missing(verb, 'a devlink handle ("BUS_NAME/DEV_NAME")', "pci/0000:3b:00.0");
      return undefined;
    }
    const dev = this.#dev(devWord);
    if (dev === undefined) return undefined;
    let flavour: Located<string> | undefined;
    const nums: Partial<Record<"pfnum" | "sfnum" | "controller", Located<number>>> = {};
    const rest = words.slice(1);
    for (let i = 0; i < rest.length; i += 2) {
      const key = rest[i] as ExpandedWord;
      const value = rest[i + 1];
      if (key.text === "flavour") {
        if (value === undefined) return this.#noValue(key, "`pcisf` or `pcipf`");
        flavour = loc(value);
      } else if (key.text === "pfnum" || key.text === "sfnum" || key.text === "controller") {
        if (value === undefined) return this.#noValue(key, "a number");
        const n = this.#u32(value);
        if (n === undefined) return undefined;
        nums[key.text] = n;
      } else {
        return this.#unknownKeyword(key, ["flavour", "pfnum", "sfnum", "controller"]);
      }
    }
    if (flavour === undefined) {
      this.#missing(devWord, "`flavour pcisf`", "flavour pcisf pfnum 0 sfnum 88");
      return undefined;
    }
    if (nums.pfnum === undefined) {
      // dl_argv_parse: DL_OPT_PORT_PFNUMBER is required for `port add`
      this.#missing(devWord, "`pfnum N`", "pfnum 0");
      return undefined;
    }
    return {
      ...this.#ctx.base,
      kind: "devlink-port-add",
      dev,
      flavour,
      ...(nums.pfnum ? { pfnum: nums.pfnum } : {}),
      ...(nums.sfnum ? { sfnum: nums.sfnum } : {}),
      ...(nums.controller ? { controller: nums.controller } : {}),
    };
  }

  #functionSet(words: readonly ExpandedWord[], at: ExpandedWord): DevlinkCommand | undefined {
    const verb = words[0];
    if (verb?.text !== "set") {
      if (verb === undefined) {
        this.#missing(at, "`set`", "function set pci/0000:3b:00.0/32768 state active");
        return undefined;
      }
      return this.#unknown(verb, "devlink port function", ["set"]);
    }
    const h = words[1];
    if (h === undefined) {
      this.#missing(verb, 'a port ("DEV/PORT_INDEX")', "pci/0000:3b:00.0/32768");
      return undefined;
    }
    const port = this.#port(h);
    if (port === undefined) return undefined;
    let hwAddr: Located<string> | undefined;
    let state: Located<"active" | "inactive"> | undefined;
    const rest = words.slice(2);
    for (let i = 0; i < rest.length; i += 2) {
      const key = rest[i] as ExpandedWord;
      const value = rest[i + 1];
      if (key.text === "hw_addr") {
        if (value === undefined) return this.#noValue(key, "a MAC address");
        if (!MAC_RE.test(value.text)) {
          report(this.#ctx.diags, "E0108", `\`${value.text}\` is not a MAC address`, {
            span: value.span,
            label: "expected six hex octets",
            notes: ["devlink prints: Port function hardware address is invalid."],
          });
          return undefined;
        }
        hwAddr = loc(value);
      } else if (key.text === "state") {
        if (value === undefined) return this.#noValue(key, "`active` or `inactive`");
        if (value.text !== "active" && value.text !== "inactive") {
          report(this.#ctx.diags, "E0109", `\`${value.text}\` is not a port function state`, {
            span: value.span,
            label: "expected `active` or `inactive`",
            notes: [`devlink prints: Unknown state "${value.text}"`],
            help: suggestHelp(value.text, ["active", "inactive"]),
          });
          return undefined;
        }
        state = located(value.text, value.span);
      } else if (
        ["roce", "migratable", "ipsec_crypto", "ipsec_packet", "max_io_eqs"].includes(key.text)
      ) {
        report(this.#ctx.diags, "E0120", `\`${key.text}\` is not modelled by the lab`, {
          span: key.span,
          label: "not modelled",
          help: ["the lab's port functions have `hw_addr` and `state`"],
        });
        return undefined;
      } else {
        return this.#unknownKeyword(key, ["hw_addr", "state"]);
      }
    }
    if (hwAddr === undefined && state === undefined) {
      this.#missing(h, "`hw_addr MAC` or `state active|inactive`", "state active");
      return undefined;
    }
    return {
      ...this.#ctx.base,
      kind: "devlink-port-function-set",
      port,
      ...(hwAddr ? { hwAddr } : {}),
      ...(state ? { state } : {}),
    };
  }

  #dev(w: ExpandedWord): Located<string> | undefined {
    if (DEV_RE.test(w.text)) return loc(w);
    report(this.#ctx.diags, "E0103", `\`${w.text}\` is not a devlink handle`, {
      span: w.span,
      label: 'expected "BUS_NAME/DEV_NAME"',
      notes: ['devlink prints: Devlink identification ("BUS_NAME/DEV_NAME") expected'],
      help: ["write the PCI address with its bus: `pci/0000:3b:00.0`"],
    });
    return undefined;
  }

  #port(w: ExpandedWord): DevlinkPortHandle | undefined {
    const parts = w.text.split("/");
    if (parts.length === 1 && /^[A-Za-z0-9_.-]+$/.test(w.text)) {
      return { kind: "netdev", netdev: loc(w) };
    }
    const index = parts[2];
    if (parts.length === 3 && index !== undefined && /^\d+$/.test(index)) {
      const devText = `${parts[0]}/${parts[1]}`;
      const cut = w.text.length - index.length - 1;
      return {
        kind: "index",
        dev: located(devText, { ...w.span, end: w.span.start + cut }),
        index: located(Number(index), { ...w.span, start: w.span.start + cut + 1 }),
      };
    }
    report(this.#ctx.diags, "E0103", `\`${w.text}\` is not a devlink port handle`, {
      span: w.span,
      label: 'expected "DEV/PORT_INDEX" or a netdev name',
      notes: ['devlink prints: Port identification ("DEV/PORT_INDEX") expected'],
      help: ["write the port as `pci/0000:3b:00.0/32768`"],
    });
    return undefined;
  }

  #u32(w: ExpandedWord): Located<number> | undefined {
    if (/^\d+$/.test(w.text) && Number(w.text) <= 0xffff_ffff) {
      return located(Number(w.text), w.span);
    }
    report(this.#ctx.diags, "E0106", `\`${w.text}\` is not a number`, {
      span: w.span,
      label: "expected an unsigned 32-bit number",
    });
    return undefined;
  }

  #noMore(rest: readonly ExpandedWord[]): boolean {
    if (rest.length === 0) return true;
    report(this.#ctx.diags, "E0104", "unexpected extra argument", {
      span: wordsSpan(rest),
      label: "devlink takes nothing more here",
    });
    return false;
  }

  #missing(after: ExpandedWord, what: string, example: string): void {
    report(this.#ctx.diags, "E0103", `missing ${what}`, {
      span: { ...after.span, start: after.span.end },
      label: `${what} expected here`,
      help: [`for example: \`${example}\``],
    });
  }

  #noValue(key: ExpandedWord, what: string): undefined {
    report(this.#ctx.diags, "E0102", `\`${key.text}\` needs a value`, {
      span: key.span,
      label: `${what} expected after it`,
    });
    return undefined;
  }

  #unknownKeyword(key: ExpandedWord, known: readonly string[]): undefined {
    report(this.#ctx.diags, "E0101", `unknown keyword \`${key.text}\``, {
      span: key.span,
      label: "not an option of this command",
      notes: [`devlink prints: Unknown option "${key.text}"`],
      help: [
        ...suggestHelp(key.text, known),
        `the lab knows ${known.map((k) => `\`${k}\``).join(", ")}`,
      ],
    });
    return undefined;
  }

  #unknown(verb: ExpandedWord, where: string, known: readonly string[]): undefined {
    report(this.#ctx.diags, "E0105", `unknown command \`${verb.text}\` for \`${where}\``, {
      span: verb.span,
      label: "not a command here",
      notes: [`devlink prints: Command "${verb.text}" not found`],
      help: [
        ...suggestHelp(verb.text, known),
        `\`${where}\` takes ${known.map((k) => `\`${k}\``).join(", ")}`,
      ],
    });
    return undefined;
  }
}
