/**
 * `dpdk-testpmd` (also `testpmd`, or a path such as `./build/app/dpdk-testpmd`): EAL options,
 * then `--`, then testpmd's own options. Both halves are GNU getopt_long parses, so
 * `--socket-mem 1024` and `--socket-mem=1024`, `-l 0-3` and `-l0-3` are all accepted. Each
 * `--vdev` becomes a {@link Vdev} whose devargs are a PropList with exact spans. Options that
 * do not change the simulated datapath (`-n`, `--huge-dir`, `--file-prefix` …) are kept in the
 * node, marked `ignored`, and reported with a warning.
 *
 * @example
 * ```ts
 * import { Diagnostics } from "../diagnostic.ts";
 * import { parseCommand } from "./mod.ts";
 * import { testWords } from "./test_words.ts";
 * const line = "dpdk-testpmd -l 0-1 --vdev 'net_vhost0,iface=/tmp/vhost-user1,queues=1' -- -i";
 * const cmd = parseCommand(testWords(line), new Diagnostics());
 * if (cmd?.kind !== "testpmd" || cmd.vdevs[0]?.driver !== "net_vhost" || !cmd.interactive) {
 *   throw new Error("testpmd with a vhost vdev expected");
 * }
 * ```
 *
 * @module
 */

import { type ExpandedWord, type Located, located, subSpan } from "../word.ts";
import type { TestpmdCommand, TestpmdOption, UsageCommand, Vdev } from "./ast.ts";
import { type CommandContext, usage } from "./context.ts";
import { loc, wordsSpan } from "./cursor.ts";
import { type FoundOpt, getopt, type OptSpec } from "./getopt.ts";
import { maxUnsigned, parseUnsigned } from "./numbers.ts";
import { parseCommaList } from "./prop_list.ts";
import { report, suggestHelp } from "./report.ts";

/** An option spec plus whether it matters to the simulated datapath. */
type PmdSpec = OptSpec & { readonly ignored?: true };

const R = "required" as const;

/** DPDK EAL options (lib/eal/common/eal_common_options.c). */
const EAL_OPTIONS: readonly PmdSpec[] = [
  { name: "corelist", short: "l", arg: R },
  { name: "coremask", short: "c", arg: R },
  { name: "lcores", long: "lcores", arg: R },
  { name: "main-lcore", long: "main-lcore", arg: R, ignored: true },
  { name: "main-lcore", long: "master-lcore", arg: R, ignored: true },
  { name: "service-coremask", short: "s", arg: R, ignored: true },
  { name: "service-corelist", short: "S", arg: R, ignored: true },
  { name: "memory-channels", short: "n", arg: R, ignored: true },
  { name: "memory-ranks", short: "r", arg: R, ignored: true },
  { name: "memory-size", short: "m", arg: R, ignored: true },
  { name: "allow", short: "a", long: "allow", arg: R },
  { name: "block", short: "b", long: "block", arg: R },
  { name: "allow", short: "w", long: "pci-whitelist", arg: R },
  { name: "block", long: "pci-blacklist", arg: R },
  { name: "vdev", long: "vdev", arg: R },
  { name: "no-pci", long: "no-pci" },
  { name: "iova-mode", long: "iova-mode", arg: R },
  { name: "driver", short: "d", arg: R, ignored: true },
  { name: "socket-mem", long: "socket-mem", arg: R, ignored: true },
  { name: "socket-limit", long: "socket-limit", arg: R, ignored: true },
  { name: "file-prefix", long: "file-prefix", arg: R, ignored: true },
  { name: "huge-dir", long: "huge-dir", arg: R, ignored: true },
  { name: "huge-unlink", long: "huge-unlink", arg: "optional", ignored: true },
  { name: "no-huge", long: "no-huge", ignored: true },
  { name: "in-memory", long: "in-memory", ignored: true },
  { name: "single-file-segments", long: "single-file-segments", ignored: true },
  { name: "legacy-mem", long: "legacy-mem", ignored: true },
  { name: "match-allocations", long: "match-allocations", ignored: true },
  { name: "no-shconf", long: "no-shconf", ignored: true },
  { name: "proc-type", long: "proc-type", arg: R, ignored: true },
  { name: "base-virtaddr", long: "base-virtaddr", arg: R, ignored: true },
  { name: "log-level", long: "log-level", arg: R, ignored: true },
  { name: "syslog", long: "syslog", arg: "optional", ignored: true },
  { name: "telemetry", long: "telemetry", ignored: true },
  { name: "no-telemetry", long: "no-telemetry", ignored: true },
  { name: "no-hpet", long: "no-hpet", ignored: true },
  { name: "vfio-intr", long: "vfio-intr", arg: R, ignored: true },
  { name: "vfio-vf-token", long: "vfio-vf-token", arg: R, ignored: true },
  { name: "create-uio-dev", long: "create-uio-dev", ignored: true },
  { name: "mbuf-pool-ops-name", long: "mbuf-pool-ops-name", arg: R, ignored: true },
  { name: "force-max-simd-bitwidth", long: "force-max-simd-bitwidth", arg: R, ignored: true },
  { name: "trace", long: "trace", arg: R, ignored: true },
  { name: "version", short: "v", long: "version", ignored: true },
  { name: "help", short: "h", long: "help" },
];

/** RTE_MAX_LCORE of an x86 DPDK build (config/x86/meson.build): lcore ids are 0-127. */
const RTE_MAX_LCORE = 128;

/**
 * The first lcore id of a `-l` list or an `--lcores` list (`lcores[@cpus],…`, groups in
 * parentheses) at or beyond RTE_MAX_LCORE, and its offset; the cpus after `@` are not lcores.
 */
function lcoreBeyondMax(text: string, lcores: boolean): { id: string; at: number } | undefined {
  let depth = 0;
  let cpuSide = false;
  for (let i = 0; i < text.length;) {
    const c = text[i] as string;
    if (c >= "0" && c <= "9") {
      let j = i;
      while (j < text.length && (text[j] as string) >= "0" && (text[j] as string) <= "9") j++;
      // eal_parse_corelist / eal_parse_lcores: `idx >= RTE_MAX_LCORE` is a syntax error.
      if (!(lcores && cpuSide) && Number(text.slice(i, j)) >= RTE_MAX_LCORE) {
        return { id: text.slice(i, j), at: i };
      }
      i = j;
      continue;
    }
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "@") cpuSide = true;
    else if (c === "," && depth <= 0) cpuSide = false;
    i++;
  }
  return undefined;
}

const NUMERIC_APP = [
  "nb-cores",
  "nb-ports",
  "rxq",
  "txq",
  "rxd",
  "txd",
  "burst",
  "stats-period",
  "total-num-mbufs",
  "mbuf-size",
  "max-pkt-len",
  "flowgen-flows",
  "socket-num",
  "hairpinq",
];

/** testpmd's application options (app/test-pmd/parameters.c). */
const APP_OPTIONS: readonly PmdSpec[] = [
  { name: "interactive", short: "i", long: "interactive" },
  { name: "auto-start", short: "a", long: "auto-start" },
  { name: "help", short: "h", long: "help" },
  { name: "tx-first", long: "tx-first" },
  { name: "forward-mode", long: "forward-mode", arg: R },
  { name: "nb-cores", long: "nb-cores", arg: R },
  { name: "nb-ports", long: "nb-ports", arg: R },
  { name: "coremask", long: "coremask", arg: R },
  { name: "portmask", long: "portmask", arg: R },
  { name: "portlist", long: "portlist", arg: R },
  { name: "rxq", long: "rxq", arg: R },
  { name: "txq", long: "txq", arg: R },
  { name: "rxd", long: "rxd", arg: R },
  { name: "txd", long: "txd", arg: R },
  { name: "burst", long: "burst", arg: R },
  { name: "eth-peer", long: "eth-peer", arg: R },
  { name: "eth-peers-configfile", long: "eth-peers-configfile", arg: R },
  { name: "port-topology", long: "port-topology", arg: R },
  { name: "stats-period", long: "stats-period", arg: R },
  { name: "total-num-mbufs", long: "total-num-mbufs", arg: R },
  { name: "mbuf-size", long: "mbuf-size", arg: R },
  { name: "max-pkt-len", long: "max-pkt-len", arg: R },
  { name: "txpkts", long: "txpkts", arg: R },
  { name: "txonly-multi-flow", long: "txonly-multi-flow" },
  { name: "flowgen-flows", long: "flowgen-flows", arg: R },
  { name: "tx-ip", long: "tx-ip", arg: R },
  { name: "tx-udp", long: "tx-udp", arg: R },
  { name: "disable-rss", long: "disable-rss" },
  { name: "rss-ip", long: "rss-ip" },
  { name: "rss-udp", long: "rss-udp" },
  { name: "no-flush-rx", long: "no-flush-rx" },
  { name: "record-core-cycles", long: "record-core-cycles" },
  { name: "record-burst-stats", long: "record-burst-stats" },
  { name: "enable-rx-cksum", long: "enable-rx-cksum" },
  { name: "enable-scatter", long: "enable-scatter" },
  { name: "enable-lro", long: "enable-lro" },
  { name: "hairpinq", long: "hairpinq", arg: R },
  { name: "cmdline-file", long: "cmdline-file", arg: R, ignored: true },
  { name: "numa", long: "numa", ignored: true },
  { name: "no-numa", long: "no-numa", ignored: true },
  { name: "socket-num", long: "socket-num", arg: R, ignored: true },
  { name: "port-numa-config", long: "port-numa-config", arg: R, ignored: true },
  { name: "ring-numa-config", long: "ring-numa-config", arg: R, ignored: true },
  { name: "mp-anon", long: "mp-anon", ignored: true },
  { name: "mp-alloc", long: "mp-alloc", arg: R, ignored: true },
  { name: "mbcache", long: "mbcache", arg: R, ignored: true },
  { name: "mlockall", long: "mlockall", ignored: true },
  { name: "no-mlockall", long: "no-mlockall", ignored: true },
  { name: "txfreet", long: "txfreet", arg: R, ignored: true },
  { name: "txrst", long: "txrst", arg: R, ignored: true },
  { name: "rxfreet", long: "rxfreet", arg: R, ignored: true },
  { name: "display-xstats", long: "display-xstats", arg: R, ignored: true },
  { name: "no-lsc-interrupt", long: "no-lsc-interrupt", ignored: true },
  { name: "no-rmv-interrupt", long: "no-rmv-interrupt", ignored: true },
  { name: "disable-link-check", long: "disable-link-check", ignored: true },
  { name: "print-event", long: "print-event", arg: R, ignored: true },
  { name: "mask-event", long: "mask-event", arg: R, ignored: true },
  { name: "hot-plug", long: "hot-plug", ignored: true },
];

/** testpmd forwarding engines (app/test-pmd/testpmd.c fwd_engines). */
export const FORWARD_MODES: readonly string[] = [
  "io",
  "mac",
  "macswap",
  "flowgen",
  "rxonly",
  "txonly",
  "csum",
  "icmpecho",
  "ieee1588",
  "noisy",
  "5tswap",
  "shared-rxq",
  "recycle_mbufs",
];

/** Parses `dpdk-testpmd …`. */
export function parseTestpmd(ctx: CommandContext): TestpmdCommand | UsageCommand | undefined {
  const diags = ctx.diags;
  const dd = ctx.args.findIndex((w) => !w.quoted && w.text === "--");
  const ealWords = dd < 0 ? ctx.args : ctx.args.slice(0, dd);
  const appWords = dd < 0 ? [] : ctx.args.slice(dd + 1);
  const appHelp = (w: string) =>
    APP_OPTIONS.some((s) => `--${s.long}` === w.replace(/=.*$/, "") || `-${s.short}` === w);
  const eal = getopt(ealWords, diags, {
    program: "EAL",
    command: "dpdk-testpmd",
    specs: EAL_OPTIONS,
    permute: false,
    unknownHelp: dd < 0 && ealWords.some((w) => appHelp(w.text))
      ? ["testpmd's own options (`-i`, `--forward-mode` …) go after `--`"]
      : [],
  });
  if (eal.failed) return undefined;
  if (eal.operands.length > 0 || eal.stoppedAt < ealWords.length) {
    const stray = ealWords.slice(eal.stoppedAt);
    report(diags, "E0104", `unexpected argument \`${stray[0]?.text}\` among the EAL options`, {
      span: wordsSpan(stray),
      label: "not an option",
      notes: ["EAL prints: EAL: Error - exiting with code: 1\n  Cause: Invalid EAL arguments"],
      help: ["EAL options start with `-`; testpmd's own options go after `--`"],
    });
    return undefined;
  }
  if (eal.options.some((o) => o.spec.name === "help")) return usage(ctx, "testpmd");
  for (const o of eal.options) {
    if ((o.spec.name !== "corelist" && o.spec.name !== "lcores") || !o.value) continue;
    const lcores = o.spec.name === "lcores";
    const beyond = lcoreBeyondMax(o.value.value, lcores);
    if (!beyond) continue;
    const v = o.value;
    // Point at the number when the value is the source text verbatim.
    const verbatim = v.span.end - v.span.start === v.value.length;
    const start = v.span.start + beyond.at;
    report(diags, "E0106", `lcore \`${beyond.id}\` is beyond RTE_MAX_LCORE (${RTE_MAX_LCORE})`, {
      span: verbatim ? { source: v.span.source, start, end: start + beyond.id.length } : v.span,
      label: `lcore ids are 0 to ${RTE_MAX_LCORE - 1}`,
      notes: [
        lcores
          ? "EAL prints: EAL: invalid parameter for --lcores"
          : "EAL prints: EAL: invalid core list syntax",
      ],
      help: ["run the EAL on cores the host has, e.g. `-l 0-1`"],
    });
    return undefined;
  }
  const app = getopt(appWords, diags, {
    program: "testpmd",
    command: "dpdk-testpmd",
    specs: APP_OPTIONS,
    permute: true,
    unknownHelp: ["testpmd prints its usage and exits on an unknown option"],
  });
  if (app.failed) return undefined;
  if (app.operands.length > 0) {
    report(diags, "E0104", `unexpected argument \`${app.operands[0]?.text}\` after \`--\``, {
      span: wordsSpan(app.operands),
      label: "not a testpmd option",
      notes: ["testpmd prints its usage and exits"],
      help: ["testpmd's options start with `-` or `--`"],
    });
    return undefined;
  }
  if (app.options.some((o) => o.spec.name === "help")) return usage(ctx, "testpmd");
  const ealOpts = eal.options.map((o) => toOption(o));
  const appOpts = app.options.map((o) => toOption(o));
  let ok = true;
  for (const o of [...ealOpts, ...appOpts]) {
    if (!o.ignored) continue;
    report(diags, "W0010", `\`${o.flag.value}\` is ignored`, {
      span: o.span,
      label: "does not change the simulated datapath",
      help: ["remove it to silence this warning"],
    });
  }
  const vdevs: Vdev[] = [];
  for (const o of eal.options) {
    if (o.spec.name !== "vdev" || !o.value) continue;
    const v = parseVdev(o, ctx);
    if (v) vdevs.push(v);
    else ok = false;
  }
  const findApp = (n: string) => app.options.filter((o) => o.spec.name === n).at(-1);
  const numbers: Partial<Record<string, Located<number>>> = {};
  for (const n of NUMERIC_APP) {
    const o = findApp(n);
    if (!o?.value) continue;
    const v = parseUnsigned(o.value.value, { base: 10, max: maxUnsigned(32) });
    if (v === undefined) {
      ok = false;
      report(diags, "E0106", `invalid \`--${n}\` value \`${o.value.value}\``, {
        span: o.value.span,
        label: "not a non-negative integer",
        notes: ["testpmd prints its usage and exits"],
        help: [`write \`--${n}=N\``],
      });
      continue;
    }
    numbers[n] = located(Number(v), o.value.span);
  }
  const fwd = findApp("forward-mode")?.value;
  if (fwd && !FORWARD_MODES.includes(fwd.value)) {
    ok = false;
    report(diags, "E0109", `unknown forwarding mode \`${fwd.value}\``, {
      span: fwd.span,
      label: "not a testpmd forwarding engine",
      notes: [`testpmd prints: Invalid ${fwd.value} packet forwarding mode`],
      help: [
        ...suggestHelp(fwd.value, FORWARD_MODES),
        `the modes are ${FORWARD_MODES.join(", ")}`,
      ],
    });
  }
  if (!ok) return undefined;
  const lcores = eal.options.filter((o) => ["corelist", "coremask", "lcores"].includes(o.spec.name))
    .at(-1)?.value;
  const pick = (n: string) => (numbers[n] ? { [camel(n)]: numbers[n] } : {});
  return {
    ...ctx.base,
    kind: "testpmd",
    eal: ealOpts,
    vdevs,
    app: appOpts,
    interactive: app.options.some((o) => o.spec.name === "interactive"),
    autoStart: app.options.some((o) => o.spec.name === "auto-start"),
    ...(dd >= 0 ? { separator: loc(ctx.args[dd] as ExpandedWord) } : {}),
    ...(lcores ? { lcores } : {}),
    ...(fwd ? { forwardMode: fwd } : {}),
    ...pick("nb-cores"),
    ...pick("rxq"),
    ...pick("txq"),
    ...pick("rxd"),
    ...pick("txd"),
    ...pick("burst"),
  };
}

function camel(n: string): string {
  return n.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function toOption(o: FoundOpt): TestpmdOption {
  return {
    span: o.span,
    name: o.spec.name,
    flag: o.flag,
    ignored: (o.spec as PmdSpec).ignored === true,
    ...(o.value ? { value: o.value } : {}),
  };
}

/** `--vdev NAME[,key=value…]`: the name, then rte_kvargs devargs. */
function parseVdev(o: FoundOpt, ctx: CommandContext): Vdev | undefined {
  const value = o.value as Located<string>;
  const word = wordOf(ctx, value);
  const text = value.value;
  const comma = text.indexOf(",");
  const nameText = comma < 0 ? text : text.slice(0, comma);
  if (nameText === "") {
    report(ctx.diags, "E0110", "`--vdev` needs a device name first", {
      span: value.span,
      label: "no device name before the devargs",
      notes: ["EAL prints: EAL: failed to parse device"],
      help: ["start with the device name, e.g. `--vdev net_vhost0,iface=/tmp/sock0`"],
    });
    return undefined;
  }
  const nameSpan = word
    ? subSpan(word, offsetIn(word, value), offsetIn(word, value) + nameText.length)
    : value.span;
  const props = word
    ? parseCommaList(word, ctx.diags, {
      dialect: "dpdk",
      from: comma < 0 ? word.text.length : offsetIn(word, value) + comma + 1,
    })
    : { span: value.span, items: [] };
  return {
    span: o.span,
    name: located(nameText, nameSpan),
    driver: nameText.replace(/[0-9]+$/, ""),
    props,
  };
}

/** The word that holds `value` (a whole word, or the part after `--vdev=`). */
function wordOf(ctx: CommandContext, value: Located<string>): ExpandedWord | undefined {
  return ctx.args.find((w) =>
    w.span.start <= value.span.start && value.span.end <= w.span.end && w.text.endsWith(value.value)
  );
}

function offsetIn(word: ExpandedWord, value: Located<string>): number {
  return word.text.length - value.value.length;
}
