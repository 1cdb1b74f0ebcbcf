/**
 * Tab completion: given the text before the cursor, the words that may come next. Pure: the
 * live state (loaded modules, vDPA devices, netdevs, sysfs and /dev entries, files, variables)
 * comes in through {@link CompletionSources}, built from a session by `complete_sources.ts`.
 *
 * What completes where:
 * - the start of a statement (also after `sudo`): programs and lab statements; `.help`,
 *   `.load` … at the start of a REPL entry;
 * - each program's options, objects and subcommands (`vdpa dev add`, `ip link set`,
 *   `ip tuntap add`, `show stats`, `inject bad-chain` …) and keywords (`mgmtdev`, `master`);
 * - names that exist now: module names for `modprobe` (loaded ones for `rmmod`/`modprobe -r`),
 *   management devices and vDPA devices, netdevs, VMs, guest interfaces, traffic ids;
 * - paths of the simulated host for `cat`, `ls`, `echo … >` and `tee`, and of the real file
 *   system for `include`, `.load`, `.save`, `capture … to` and `export … to`;
 * - inside a QEMU comma list the class (`-device virtio-net-pci`), its properties (`vhost=`)
 *   and enum or boolean values (`vhost=on`), and ids defined earlier on the line (`netdev=n0`);
 *   the same for DPDK `--vdev` devargs, `--forward-mode=` and OVS `set` columns;
 * - metric paths after `expect`, and variable names after `${`.
 *
 * A candidate that ends a word carries a trailing space (and closes an open quote); `key=`,
 * directories and `${name}` do not, so typing continues in the same word.
 *
 * @example
 * ```ts
 * import { complete, emptySources } from "./complete.ts";
 * const c = complete("modpr", emptySources());
 * if (c.candidates.join() !== "modprobe " || c.from !== 0) throw new Error(c.candidates.join());
 * const p = complete("qemu-system-x86_64 -netdev tap,vh", emptySources());
 * if (p.candidates.join() !== "vhost=,vhostfd=,vhostfds=,vhostforce=") throw new Error(p.candidates.join());
 * ```
 *
 * @module
 */

import { IP_LINK_TYPES, KNOWN_PROGRAMS, LAB_KEYWORDS } from "../lang/commands/mod.ts";
import { FILTER_PROGRAMS } from "../lang/commands/pipeline.ts";
import { COST_KEYS } from "../runtime/sim/cost.ts";
import { metricLeafPaths } from "../runtime/trace/metric_path.ts";
import { Metrics } from "../runtime/trace/metrics.ts";
import { KERNEL_MODULES } from "../stdlib/catalog/kernel_modules.ts";
import { NIC_MODELS } from "../stdlib/catalog/nic_models.ts";
import { type PartialWord, scanLine, type ScannedWord } from "./line_scan.ts";
import { hostPath, localPath } from "./complete_paths.ts";
import { completeOvs, completeQemu, completeTestpmd } from "./complete_props.ts";

/** Kinds of live names a completion can ask for (see `complete_sources.ts`). */
export type NameKind =
  /** Every module the host could load (the catalog). */
  | "modules"
  /** Modules loaded now. */
  | "loadedModules"
  /** vDPA management devices registered now (`vdpasim_net`, `pci/0000:3b:00.2`). */
  | "mgmtdevs"
  /** vDPA devices on the bus now. */
  | "vdpaDevices"
  /** Host network devices now. */
  | "netdevs"
  /** Host bridges now. */
  | "bridges"
  /** VMs (`vm1`). */
  | "vms"
  /** Guest interfaces (`vm1.eth0`). */
  | "interfaces"
  /** Traffic ids (`t1`). */
  | "traffic"
  /** OVS bridges. */
  | "ovsBridges"
  /** Process ids of the lab's processes (QEMU, testpmd, ovs-vswitchd). */
  | "pids"
  /** Program names of the lab's processes (`qemu-system-x86_64`). */
  | "programs"
  /** Variables defined now. */
  | "variables"
  /** Topics of `help` and `.help`. */
  | "helpTopics";

/** Where completion finds what exists now. */
export interface CompletionSources {
  /** Names of one kind. */
  names(kind: NameKind): readonly string[];
  /**
   * Entries of a directory of the simulated host (`/sys/bus/vdpa/`), sorted; a directory (or a
   * link to one) ends with `/`. Empty when the directory does not exist.
   */
  hostDir(dir: string): readonly string[];
  /** Entries of a directory of the real file system (`.` for a relative prefix), same form. */
  localDir(dir: string): readonly string[];
  /** Meta commands are completed (the REPL; not in scripts). */
  readonly meta: boolean;
}

/** Sources that know nothing live: the catalogs only. */
export function emptySources(): CompletionSources {
  return { names: () => [], hostDir: () => [], localDir: () => [], meta: false };
}

/** The result of {@link complete}. */
export interface Completion {
  /** Offset in the text where the replaced part starts (the cursor is at the end). */
  readonly from: number;
  /** Replacements for `text.slice(from)`, sorted, without duplicates. */
  readonly candidates: readonly string[];
}

/** A candidate word; `final` ones end the word (a space follows). */
export interface Item {
  readonly text: string;
  readonly final: boolean;
}

/** What a family offers: items that replace the partial word from index `at` on. */
export interface Offer {
  readonly at: number;
  readonly items: readonly Item[];
}

/** What a family completer gets. */
export interface FamilyContext {
  /** The program as typed (`/usr/bin/qemu-kvm`) and its basename. */
  readonly program: string;
  /** Words after the program, before the partial one. */
  readonly args: readonly ScannedWord[];
  readonly partial: PartialWord;
  readonly src: CompletionSources;
}

/** The meta commands of the REPL, with the kind of argument they take. */
export const META_COMMANDS: Readonly<Record<string, "topic" | "file" | "none">> = {
  ".help": "topic",
  ".load": "file",
  ".save": "file",
  ".reset": "none",
  ".vars": "none",
  ".exit": "none",
};

/** Words that end the word being typed. */
export function finals(texts: Iterable<string>): Item[] {
  return [...texts].map((text) => ({ text, final: true }));
}

/** Words after which the same word goes on (`key=`, `dir/`). */
export function partials(texts: Iterable<string>): Item[] {
  return [...texts].map((text) => ({ text, final: false }));
}

/** An offer of items for the whole partial word. */
export function whole(items: readonly Item[]): Offer {
  return { at: 0, items };
}

const NOTHING: Offer = { at: 0, items: [] };

/** `a/b/c` → `c`. */
export function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Splits option words from operands; `valued` options consume the next word. */
export function operands(
  args: readonly ScannedWord[],
  valued: ReadonlySet<string> = new Set(),
): { options: string[]; operands: string[]; pendingValue?: string } {
  const options: string[] = [];
  const ops: string[] = [];
  let pendingValue: string | undefined;
  for (const w of args) {
    if (pendingValue !== undefined) {
      pendingValue = undefined;
      continue;
    }
    if (!w.quoted && w.text.startsWith("-") && w.text.length > 1) {
      options.push(w.text);
      if (valued.has(w.text)) pendingValue = w.text;
    } else ops.push(w.text);
  }
  return { options, operands: ops, ...(pendingValue !== undefined ? { pendingValue } : {}) };
}

/** Statements of the language itself, besides programs and lab statements. */
const LANGUAGE_KEYWORDS = ["let", "for", "include"];

// ---------------------------------------------------------------------------------------------
// The families

type Family = (cx: FamilyContext) => Offer;

const MODPROBE_OPTIONS = [
  "-a",
  "-r",
  "-v",
  "-q",
  "-n",
  "-f",
  "-D",
  "--all",
  "--remove",
  "--verbose",
  "--quiet",
  "--dry-run",
  "--force",
  "--first-time",
  "--show-depends",
];

type ModuleCatalog = Readonly<
  Record<string, { readonly params?: Readonly<Record<string, unknown>> }>
>;

function moduleParams(name: string): string[] {
  const normal = name.replaceAll("-", "_");
  const spec = Object.hasOwn(KERNEL_MODULES, normal)
    ? (KERNEL_MODULES as ModuleCatalog)[normal]
    : undefined;
  return Object.keys(spec?.params ?? {}).map((k) => `${k}=`);
}

function modprobe(cx: FamilyContext): Offer {
  if (cx.partial.text.startsWith("-")) return whole(finals(MODPROBE_OPTIONS));
  const o = operands(cx.args);
  const remove = o.options.some((x) => x === "-r" || x === "--remove" || /^-[a-z]*r/.test(x));
  const all = o.options.some((x) => x === "-a" || x === "--all" || /^-[a-z]*a/.test(x));
  if (remove) return whole(finals(cx.src.names("loadedModules")));
  const first = o.operands[0];
  if (all || first === undefined) return whole(finals(cx.src.names("modules")));
  if (cx.partial.text.includes("=")) return NOTHING;
  return whole(partials(moduleParams(first)));
}

function rmmod(cx: FamilyContext): Offer {
  if (cx.partial.text.startsWith("-")) {
    return whole(finals(["-f", "-v", "-s", "--force", "--verbose", "--syslog"]));
  }
  return whole(finals(cx.src.names("loadedModules")));
}

/** `vdpa dev add` and friends: keyword → what its value is. */
const VDPA_KEYWORDS: Readonly<Record<string, NameKind | "free">> = {
  name: "free",
  mgmtdev: "mgmtdevs",
  mac: "free",
  mtu: "free",
  max_vqp: "free",
  device_features: "free",
  qidx: "free",
};

function vdpaKeywords(
  cx: FamilyContext,
  rest: readonly string[],
  accepted: readonly string[],
): Offer {
  const prev = rest[rest.length - 1];
  // Keyword/value pairs: an odd count means the last keyword waits for its value.
  if (rest.length % 2 === 1 && prev !== undefined) {
    const kind = VDPA_KEYWORDS[prev];
    if (kind === "free" || kind === undefined) return NOTHING;
    if (prev === "name" && accepted.includes("mac")) return NOTHING;
    return whole(finals(cx.src.names(kind)));
  }
  const used = new Set(rest.filter((_, i) => i % 2 === 0));
  return whole(finals(accepted.filter((k) => !used.has(k))));
}

function vdpa(cx: FamilyContext): Offer {
  if (cx.partial.text.startsWith("-")) {
    return whole(finals(["-j", "-p", "-V", "--json", "--pretty", "--Version"]));
  }
  const ops = operands(cx.args).operands;
  const [object, verb, ...rest] = ops;
  if (object === undefined) return whole(finals(["dev", "mgmtdev", "help"]));
  if (object === "mgmtdev") {
    if (verb === undefined) return whole(finals(["show", "help"]));
    if (verb === "show" && rest.length === 0) return whole(finals(cx.src.names("mgmtdevs")));
    return NOTHING;
  }
  if (object !== "dev") return NOTHING;
  if (verb === undefined) {
    return whole(finals(["add", "del", "show", "config", "vstats", "set", "help"]));
  }
  const devices = () => whole(finals(cx.src.names("vdpaDevices")));
  switch (verb) {
    case "add":
      return vdpaKeywords(cx, rest, [
        "name",
        "mgmtdev",
        "mac",
        "mtu",
        "max_vqp",
        "device_features",
      ]);
    case "del":
    case "show":
      return rest.length === 0 ? devices() : NOTHING;
    case "config":
    case "vstats":
      if (rest.length === 0) return whole(finals(["show"]));
      if (rest[0] !== "show") return NOTHING;
      if (rest.length === 1) return devices();
      if (verb === "vstats" && rest.length === 2) return whole(finals(["qidx"]));
      return NOTHING;
    case "set":
      if (rest.length === 1 && rest[0] === "name") return devices();
      return vdpaKeywords(cx, rest, ["name", "mac"]);
    default:
      return NOTHING;
  }
}

function echo(cx: FamilyContext): Offer {
  if (cx.partial.text.startsWith("-")) return whole(finals(["-n", "-e"]));
  // What is written to the vDPA bus files: device names, and driver names for driver_override.
  return whole(finals([...cx.src.names("vdpaDevices"), "vhost_vdpa", "virtio_vdpa"]));
}

function catOrLs(cx: FamilyContext): Offer {
  if (cx.program === "ls" && cx.partial.text.startsWith("-")) {
    return whole(finals(["-l", "-a", "-A", "-1", "-d", "-h"]));
  }
  return hostPath(cx.partial, cx.src);
}

const IP_OPTIONS = ["-j", "-p", "-br", "-d", "-s", "-4", "-6", "-0", "-f", "-c"];
const IP_LINK_SET_ATTRS = [
  "up",
  "down",
  "master",
  "nomaster",
  "mtu",
  "address",
  "name",
  "txqueuelen",
  "promisc",
  "multicast",
  "allmulticast",
  "arp",
  "carrier",
  "alias",
  "vf",
];

function ip(cx: FamilyContext): Offer {
  if (cx.partial.text.startsWith("-") && operands(cx.args).operands.length === 0) {
    return whole(finals(IP_OPTIONS));
  }
  const o = operands(cx.args, new Set(["-f", "-family"]));
  if (o.pendingValue !== undefined) return whole(finals(["inet", "inet6", "link"]));
  const [object, verb, ...rest] = o.operands;
  const prev = rest[rest.length - 1];
  const netdevs = () => whole(finals(cx.src.names("netdevs")));
  if (object === undefined) return whole(finals(["link", "addr", "tuntap", "help"]));
  if (object === "link" || object === "l") {
    if (verb === undefined) return whole(finals(["add", "set", "del", "show", "help"]));
    if (verb === "add") {
      if (prev === "type") return whole(finals(IP_LINK_TYPES));
      if (prev === "link" || prev === "master") return netdevs();
      if (prev !== undefined && ["name", "mtu", "address", "txqueuelen"].includes(prev)) {
        return NOTHING;
      }
      return whole(finals(["name", "type", "link", "mtu", "address", "txqueuelen", "master"]));
    }
    if (verb === "set" || verb === "del") {
      if (rest.length === 0) return whole(finals(["dev", ...cx.src.names("netdevs")]));
      if (rest.length === 1 && rest[0] === "dev") return netdevs();
      if (verb === "del") return NOTHING;
      if (prev === "master") return whole(finals(cx.src.names("bridges")));
      if (["promisc", "multicast", "allmulticast", "arp", "carrier"].includes(prev ?? "")) {
        return whole(finals(["on", "off"]));
      }
      if (["mtu", "address", "name", "txqueuelen", "alias", "vf"].includes(prev ?? "")) {
        return NOTHING;
      }
      return whole(finals(IP_LINK_SET_ATTRS));
    }
    if (verb === "show" || verb === "list") {
      if (prev === "dev" || prev === "master") {
        return prev === "master" ? whole(finals(cx.src.names("bridges"))) : netdevs();
      }
      if (prev === "type") return whole(finals(IP_LINK_TYPES));
      return whole(finals(["dev", "up", "master", "type", ...cx.src.names("netdevs")]));
    }
    return NOTHING;
  }
  if (object === "addr" || object === "address" || object === "a") {
    if (verb === undefined) return whole(finals(["show", "add", "del", "help"]));
    if (prev === "dev") return netdevs();
    if (verb === "show" || verb === "list") {
      return whole(finals(rest.length === 0 ? ["dev", ...cx.src.names("netdevs")] : []));
    }
    return rest.length >= 1 ? whole(finals(["dev"])) : NOTHING;
  }
  if (object === "tuntap" || object === "tap") {
    if (verb === undefined) return whole(finals(["add", "del", "show", "help"]));
    if (verb === "show" || verb === "list") return NOTHING;
    if (prev === "mode") return whole(finals(["tap", "tun"]));
    if (prev === "dev") return verb === "del" ? netdevs() : NOTHING;
    if (prev === "user" || prev === "group" || prev === "name") return NOTHING;
    if (rest.length === 0) {
      return verb === "del"
        ? whole(finals(["dev", "mode", ...cx.src.names("netdevs")]))
        : whole(finals(["dev", "mode"]));
    }
    const keys = verb === "add"
      ? ["mode", "dev", "user", "group", "multi_queue", "vnet_hdr", "one_queue", "pi"]
      : ["mode", "dev"];
    const used = new Set(rest);
    return whole(finals(keys.filter((k) => !used.has(k))));
  }
  return NOTHING;
}

// ---- lab statements -------------------------------------------------------------------------

/** `key=` words of a lab statement, minus those already written. */
function labKeys(cx: FamilyContext, keys: readonly string[], values: Record<string, Offer> = {}) {
  const eq = cx.partial.text.indexOf("=");
  if (eq >= 0) {
    const key = cx.partial.text.slice(0, eq);
    const v = values[key];
    return v ? { at: eq + 1 + v.at, items: v.items } : NOTHING;
  }
  const used = new Set(cx.args.map((w) => w.text.split("=")[0]));
  return whole(partials(keys.filter((k) => !used.has(k)).map((k) => `${k}=`)));
}

const SHOW_SUBJECTS = [
  "topology",
  "graph",
  "stats",
  "vq",
  "vhost",
  "features",
  "iommu",
  "log",
  "modules",
  "flows",
];
const INJECT_FAULTS = [
  "link-down",
  "link-up",
  "reset",
  "iotlb-invalidate",
  "bad-chain",
  "disconnect",
  "reconnect",
  "unmap",
];
const BAD_CHAIN_VARIANTS = ["cycle", "out-of-range", "outside-memory", "write-only-tx", "oversize"];
const COMPARE_OPS = ["==", "!=", "<", "<=", ">", ">="];

function endpoints(src: CompletionSources): Item[] {
  return finals([...src.names("interfaces"), ...src.names("netdevs"), "wire"]);
}

let metricPathsCache: readonly string[] | undefined;

/**
 * Every metric path of a traffic, relative to it (`delivered`, `per_packet.vmexits` …): the
 * leaves of an empty summary, which has the same shape as any other.
 */
export function metricPaths(): readonly string[] {
  metricPathsCache ??= metricPathsOfEmptyFlow();
  return metricPathsCache;
}

function metricPathsOfEmptyFlow(): string[] {
  const m = new Metrics();
  m.addFlow("t");
  const summary = m.summaries()["t"];
  return summary ? metricLeafPaths(summary) : [];
}

/** `t1.per_packet.vm` → the next path segment of each metric that fits. */
function metricPath(cx: FamilyContext): Offer {
  const text = cx.partial.text;
  const dot = text.indexOf(".");
  if (dot < 0) return whole(partials(cx.src.names("traffic").map((t) => `${t}.`)));
  const rest = text.slice(dot + 1);
  const lastDot = rest.lastIndexOf(".");
  const group = rest.slice(0, lastDot + 1);
  const next = new Map<string, boolean>();
  for (const path of metricPaths()) {
    if (!path.startsWith(group)) continue;
    const tail = path.slice(group.length);
    const seg = tail.split(".")[0] as string;
    const leaf = !tail.includes(".");
    next.set(leaf ? seg : `${seg}.`, leaf);
  }
  return {
    at: dot + 1 + lastDot + 1,
    items: [...next].map(([t, leaf]) => ({ text: t, final: leaf })),
  };
}

function lab(cx: FamilyContext): Offer {
  const a = cx.args.map((w) => w.text);
  const n = a.length;
  const src = cx.src;
  const flag = (opts: readonly string[]) =>
    cx.partial.text.startsWith("-") ? whole(finals(opts)) : undefined;
  switch (cx.program) {
    case "host":
      if (n === 0) return whole(finals(["cpu", "cmdline", "nic"]));
      if (a[0] === "cpu") return labKeys(cx, ["ghz", "cores"]);
      if (a[0] === "nic" && n >= 2) {
        return labKeys(cx, ["model", "pci", "speed", "numvfs", "mac", "mtu"], {
          model: whole(finals(Object.keys(NIC_MODELS))),
        });
      }
      return NOTHING;
    case "traffic": {
      if (n === 0) return NOTHING;
      if (a[n - 1] === "from" || a[n - 1] === "to") return whole(endpoints(src));
      if (n === 1) return whole(finals(["from"]));
      if (n === 3) return whole(finals(["to"]));
      if (n < 5) return NOTHING;
      return labKeys(cx, ["size", "count", "duration", "rate", "burst", "flows", "proto"], {
        rate: whole(finals(["line"])),
        proto: whole(finals(["udp"])),
      });
    }
    case "ping":
      if (n < 2) return whole(endpoints(src));
      return labKeys(cx, ["count", "size", "interval"]);
    case "run":
      if (cx.partial.text.startsWith("--trace=")) {
        return { at: 8, items: finals(["off", "sample", "full"]) };
      }
      if (!cx.partial.text.startsWith("-")) return NOTHING;
      return whole([...finals(["--json"]), ...partials(["--trace="])]);
    case "trace":
      if (n === 0) return whole(finals(src.names("traffic")));
      if (n === 1) return whole(finals(["packet"]));
      return flag(["--json"]) ?? NOTHING;
    case "show": {
      const f = flag(["--json"]);
      if (f) return f;
      if (n === 0) return whole(finals(SHOW_SUBJECTS));
      const subject = a[0];
      if (n === 1) {
        if (subject === "stats") return whole(finals(src.names("traffic")));
        if (subject === "vq" || subject === "vhost" || subject === "features") {
          return whole(finals(src.names("interfaces")));
        }
        if (subject === "iommu") return whole(finals(src.names("vms")));
      }
      if (n === 2 && subject === "vq") return whole(finals(["tx0", "rx0", "ctrl"]));
      return NOTHING;
    }
    case "expect":
      if (n === 0) return metricPath(cx);
      if (n === 1) return whole(finals(COMPARE_OPS));
      return NOTHING;
    case "capture":
      if (n === 0) return whole(finals([...src.names("netdevs"), ...src.names("interfaces")]));
      if (n === 1) return whole(finals(["to"]));
      if (n === 2) return localPath(cx.partial, src);
      return labKeys(cx, ["count", "snaplen"]);
    case "export":
      if (n === 0) return whole(finals(["graph", "trace"]));
      if (n === 1) return whole(finals(["to"]));
      if (n === 2) return localPath(cx.partial, src);
      return labKeys(cx, ["format"], {
        format: whole(finals(a[0] === "graph" ? ["dot", "mermaid"] : ["chrome", "json"])),
      });
    case "inject": {
      if (n === 0) return whole(finals(INJECT_FAULTS));
      const kind = a[0];
      const keys = kind === "iotlb-invalidate" || kind === "unmap"
        ? ["at", "iova", "size"]
        : ["at"];
      if (kind === "link-down" || kind === "link-up") {
        if (n === 1) return whole(endpoints(src));
      } else if (kind === "reset" || kind === "iotlb-invalidate") {
        if (n === 1) return whole(finals(src.names("interfaces")));
      } else if (kind === "bad-chain") {
        if (n === 1) return whole(finals(src.names("interfaces")));
        if (n === 2) return whole(finals(["tx0", "rx0"]));
        if (n === 3) return whole(finals(BAD_CHAIN_VARIANTS));
      } else if (kind === "unmap") {
        if (n === 1) return whole(finals(src.names("vms")));
      } else if (kind === "disconnect" || kind === "reconnect") {
        if (n === 1) return localPath(cx.partial, src);
      } else return NOTHING;
      return labKeys(cx, keys);
    }
    case "set":
      if (n === 0) return whole(finals(["cost", "seed", "profile"]));
      if (a[0] === "cost") return labKeys(cx, COST_KEYS);
      if (a[0] === "profile" && n === 1) return whole(finals(["default"]));
      return NOTHING;
    case "help":
      return n === 0 ? whole(finals(src.names("helpTopics"))) : NOTHING;
    default:
      return NOTHING;
  }
}

/** Signals `kill` and `pkill` take (the ones the lab's processes exit on). */
const KILL_SIGNALS = ["-TERM", "-KILL", "-INT", "-HUP", "-9", "-15"];

/** `kill [-SIGNAL] PID…`: signals first, then the pids of the lab's processes. */
function kill(cx: FamilyContext): Offer {
  const pids = finals(cx.src.names("pids"));
  if (cx.args.length === 0) return whole([...finals(KILL_SIGNALS), ...pids]);
  return whole(pids);
}

/** `pkill [-SIGNAL] [-f] PATTERN`: signals, then the programs running now. */
function pkill(cx: FamilyContext): Offer {
  const programs = finals(cx.src.names("programs"));
  if (cx.args.every((a) => a.text.startsWith("-"))) {
    return whole([...finals([...KILL_SIGNALS, "-f"]), ...programs]);
  }
  return NOTHING;
}

const FAMILIES: Readonly<Record<string, Family>> = {
  kill,
  pkill,
  modprobe,
  rmmod,
  lsmod: () => NOTHING,
  vdpa,
  echo,
  cat: catOrLs,
  ls: catOrLs,
  ip,
  "ovs-vsctl": completeOvs,
  "dpdk-testpmd": completeTestpmd,
  testpmd: completeTestpmd,
  qemu: completeQemu,
  "qemu-kvm": completeQemu,
  ...Object.fromEntries(LAB_KEYWORDS.map((k) => [k, lab])),
};

function familyOf(program: string): Family | undefined {
  if (Object.hasOwn(FAMILIES, program)) return FAMILIES[program];
  if (program.startsWith("qemu-system-")) return completeQemu;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The engine

const SUDO_VALUED = new Set(["-u", "-g", "--user", "--group"]);

/** The first word of a statement: programs, lab statements and the language's keywords. */
function statementStart(sudo: boolean): Item[] {
  return finals(
    sudo ? KNOWN_PROGRAMS : [...KNOWN_PROGRAMS, ...LAB_KEYWORDS, ...LANGUAGE_KEYWORDS, "sudo"],
  );
}

/** What may come at the cursor, before filtering by what was typed. */
function offer(
  words: readonly ScannedWord[],
  partial: PartialWord,
  src: CompletionSources,
  firstStatement: boolean,
): Offer {
  const first = words[0];
  // Meta commands: only as the first word of a REPL entry.
  if (src.meta && firstStatement && first === undefined && partial.text.startsWith(".")) {
    return whole(finals(Object.keys(META_COMMANDS)));
  }
  if (src.meta && firstStatement && first && Object.hasOwn(META_COMMANDS, first.text)) {
    if (words.length > 1) return NOTHING;
    const kind = META_COMMANDS[first.text];
    if (kind === "topic") return whole(finals(src.names("helpTopics")));
    if (kind === "file") return localPath(partial, src);
    return NOTHING;
  }
  if (first?.text === "let") return NOTHING;
  if (first?.text === "for") {
    return words.length === 1 || words.length >= 3 ? NOTHING : whole(finals(["in"]));
  }
  if (first?.text === "include") return words.length === 1 ? localPath(partial, src) : NOTHING;

  // Output filters and `tee` after the last unquoted `|`.
  const pipe = words.findLastIndex((w) => !w.quoted && w.text === "|");
  if (pipe >= 0) {
    const stage = words.slice(pipe + 1).map((w) => w.text);
    const isEcho = basename(words[0]?.text ?? "") === "echo" ||
      (words[0]?.text === "sudo" && words.some((w) => basename(w.text) === "echo"));
    if (stage.length === 0) {
      return whole(finals([...FILTER_PROGRAMS, ...(isEcho ? ["tee", "sudo"] : [])]));
    }
    if (stage[0] === "sudo" && stage.length === 1) return whole(finals(["tee"]));
    if (stage.includes("tee")) {
      if (partial.text.startsWith("-")) return whole(finals(["-a", "--append"]));
      return hostPath(partial, src);
    }
    if (stage[0] === "grep" && partial.text.startsWith("-")) {
      return whole(finals(["-i", "-v", "-E", "-F", "-w", "-c"]));
    }
    if (stage[0] === "wc") return whole(finals(["-l"]));
    if ((stage[0] === "head" || stage[0] === "tail") && stage.length === 1) {
      return whole(finals(["-n"]));
    }
    return NOTHING;
  }
  const last = words[words.length - 1];
  if (last && !last.quoted && (last.text === ">" || last.text === ">>")) {
    return hostPath(partial, src);
  }

  // `sudo [options]` in front.
  let i = 0;
  let sudo = false;
  if (words[0] && basename(words[0].text) === "sudo" && !words[0].quoted) {
    sudo = true;
    i = 1;
    while (i < words.length && (words[i] as ScannedWord).text.startsWith("-")) {
      i += SUDO_VALUED.has((words[i] as ScannedWord).text) ? 2 : 1;
    }
    if (i > words.length) return NOTHING; // `sudo -u` waits for a user name
  }
  const programWord = words[i];
  if (programWord === undefined) {
    if (sudo && partial.text.startsWith("-")) {
      return whole(finals(["-E", "-H", "-n", "-u", "--preserve-env", "--user"]));
    }
    return whole(statementStart(sudo));
  }
  const program = basename(programWord.text);
  const family = familyOf(program);
  if (!family) return NOTHING;
  return family({ program, args: words.slice(i + 1), partial, src });
}

/**
 * Completes the text before the cursor (a REPL entry so far, continuation lines included).
 *
 * @example Live names come from the sources
 * ```ts
 * import { complete, emptySources } from "./complete.ts";
 * const src = { ...emptySources(), names: (k: string) => (k === "mgmtdevs" ? ["vdpasim_net"] : []) };
 * const c = complete("vdpa dev add name vdpa0 mgmtdev vd", src);
 * if (c.candidates.join() !== "vdpasim_net ") throw new Error(c.candidates.join());
 * ```
 */
export function complete(text: string, src: CompletionSources): Completion {
  const scan = scanLine(text);
  const p = scan.partial;
  const none = { from: text.length, candidates: [] };
  if (scan.inComment) return none;
  if (p.varName !== undefined) {
    const names = src.names("variables").filter((n) => n.startsWith(p.varName as string));
    return {
      from: text.length - (p.varName as string).length,
      candidates: unique(names.map((n) => `${n}}`)),
    };
  }
  if (p.hasVar) return none;
  const o = offer(scan.words, p, src, scan.firstStatement);
  const typed = p.text.slice(o.at);
  const from = text.length - typed.length;
  if (from < p.literalFrom) return none;
  const close = p.quote ? `${p.quote} ` : " ";
  const candidates = o.items
    .filter((it) => it.text.startsWith(typed))
    .map((it) => (it.final ? `${it.text}${close}` : it.text));
  return { from, candidates: unique(candidates) };
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)].sort();
}
