/**
 * Completion inside property lists: QEMU options and their comma lists (`-netdev tap,vhost=on`,
 * `-device virtio-net-pci,netdev=n0`), DPDK testpmd's EAL and application options with
 * `--vdev` devargs and `--forward-mode=`, and `ovs-vsctl` commands with `set TABLE RECORD
 * column[:key]=value`. Classes, properties and enum values come from the stdlib catalogs, so
 * completion offers exactly what the checker accepts.
 *
 * @example
 * ```ts
 * import { complete, emptySources } from "./complete.ts";
 * const c = complete("qemu-system-x86_64 -netdev tap,id=n0 -device virtio-net-pci,netdev=", emptySources());
 * if (c.candidates.join() !== "n0") throw new Error(c.candidates.join());
 * ```
 *
 * @module
 */

import { FORWARD_MODES } from "../stdlib/catalog/dpdk.ts";
import { VDEV_DRIVERS } from "../stdlib/catalog/dpdk.ts";
import { OVS_INTERFACE_TYPES, OVS_TABLE_COLUMNS, type OvsColumn } from "../stdlib/catalog/ovs.ts";
import { CHARDEV_BACKENDS } from "../stdlib/catalog/qemu_chardev.ts";
import { DEVICE_DRIVERS } from "../stdlib/catalog/qemu_device.ts";
import {
  ACCEL_SCHEMA,
  ACCELERATORS,
  MACHINE_SCHEMA,
  machineTypeNames,
  MEMORY_SCHEMA,
  NAME_SCHEMA,
  SMP_SCHEMA,
} from "../stdlib/catalog/qemu_machine.ts";
import { NETDEV_TYPES } from "../stdlib/catalog/qemu_netdev.ts";
import { OBJECT_TYPES } from "../stdlib/catalog/qemu_object.ts";
import { QEMU_OPTION_NAMES } from "../lang/commands/mod.ts";
import { findQemuOption, type QemuOptionSpec } from "../stdlib/catalog/qemu_options.ts";
import {
  type ClassCatalog,
  classNames,
  type ClassSchema,
  findClass,
  type PropSchema,
} from "../stdlib/catalog/schema.ts";
import type { FamilyContext, Item, Offer } from "./complete.ts";
import { hostPath } from "./complete_paths.ts";
import type { ScannedWord } from "./line_scan.ts";

const NOTHING: Offer = { at: 0, items: [] };

function finals(texts: Iterable<string>): Item[] {
  return [...texts].map((text) => ({ text, final: true }));
}

function partials(texts: Iterable<string>): Item[] {
  return [...texts].map((text) => ({ text, final: false }));
}

/** Where a comma list gets its class and property schemas. */
export interface PropListShape {
  /** Class names for a bare first item (`tap`, `virtio-net-pci`); absent: no class. */
  readonly classes?: () => readonly string[];
  /** The schema of the list, given the class (when the list has one). */
  readonly schema: (cls: string | undefined) => ClassSchema | undefined;
  /** The key a bare first item stands for (QEMU `implied_opt_name`). */
  readonly head?: string;
}

function fromCatalog(catalog: ClassCatalog, head: string): PropListShape {
  return {
    classes: () => classNames(catalog),
    schema: (cls) => (cls === undefined ? undefined : findClass(catalog, cls)),
    head,
  };
}

/** QEMU options whose comma list completion knows (others complete no further). */
const QEMU_LISTS: Readonly<Record<string, PropListShape>> = {
  netdev: fromCatalog(NETDEV_TYPES, "type"),
  nic: fromCatalog(NETDEV_TYPES, "type"),
  device: fromCatalog(DEVICE_DRIVERS, "driver"),
  chardev: fromCatalog(CHARDEV_BACKENDS, "backend"),
  object: fromCatalog(OBJECT_TYPES, "qom-type"),
  machine: { classes: machineTypeNames, schema: () => MACHINE_SCHEMA, head: "type" },
  accel: { classes: () => ACCELERATORS, schema: () => ACCEL_SCHEMA, head: "accel" },
  smp: { schema: () => SMP_SCHEMA },
  m: { schema: () => MEMORY_SCHEMA },
  name: { schema: () => NAME_SCHEMA },
};

/** Which QEMU option defines the ids a `ref` property names. */
const REF_OPTIONS: Readonly<Record<string, string>> = {
  netdev: "netdev",
  chardev: "chardev",
  memdev: "object",
  iothread: "object",
  device: "device",
};

/** The ids (`id=`) given by every `-OPTION` list among `args`. */
function idsOf(args: readonly ScannedWord[], option: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < args.length; i++) {
    if (optionSpec(args[i] as ScannedWord)?.name !== option) continue;
    for (const item of (args[i + 1] as ScannedWord).text.split(",")) {
      if (item.startsWith("id=") && item.length > 3) out.push(item.slice(3));
    }
  }
  return out;
}

/** Values a property may take, when they are few. */
function valuesOf(
  prop: PropSchema,
  refs: (kind: string) => readonly string[],
): readonly string[] {
  switch (prop.type) {
    case "bool":
      return ["on", "off"];
    case "onoffauto":
      return ["on", "off", "auto"];
    case "enum":
      return prop.values ?? [];
    case "ref":
      return prop.refKind === undefined ? [] : refs(prop.refKind);
    default:
      return [];
  }
}

/**
 * Completes the comma list `text` (the partial word, from `base` on) against `shape`: the class
 * first, then `key=` for unused properties, then values. Items never end the word: a comma
 * usually follows.
 */
export function completePropList(
  text: string,
  base: number,
  shape: PropListShape,
  refs: (kind: string) => readonly string[],
  hostPaths?: (at: number, value: string) => Offer,
): Offer {
  const items = text.split(",");
  const current = items[items.length - 1] as string;
  const at = base + text.length - current.length;
  const firstBare = items[0] !== undefined && !items[0].includes("=") ? items[0] : undefined;
  const headItem = shape.head === undefined
    ? undefined
    : items.find((it) => it.startsWith(`${shape.head}=`))?.slice((shape.head?.length ?? 0) + 1);
  const eq = current.indexOf("=");
  if (items.length === 1 && eq < 0 && shape.classes) {
    return { at, items: partials(shape.classes()) };
  }
  const cls = items.length > 1 ? firstBare ?? headItem : headItem;
  const schema = shape.schema(cls);
  if (!schema) return NOTHING;
  if (eq < 0) {
    const used = new Set(items.slice(0, -1).map((it) => it.split("=")[0]));
    const keys = Object.entries(schema.props)
      .filter(([k, p]) => !used.has(k) && p.removed === undefined)
      .map(([k]) => `${k}=`);
    return { at, items: partials(keys) };
  }
  const key = current.slice(0, eq);
  const prop = Object.hasOwn(schema.props, key) ? schema.props[key] : undefined;
  if (!prop) return NOTHING;
  if (prop.type === "path" && hostPaths) return hostPaths(at + eq + 1, current.slice(eq + 1));
  return { at: at + eq + 1, items: partials(valuesOf(prop, refs)) };
}

function optionSpec(w: ScannedWord): QemuOptionSpec | undefined {
  return !w.quoted && w.text.startsWith("-")
    ? findQemuOption(w.text.replace(/^--?/, ""))
    : undefined;
}

/** The option whose argument the next word is, if any (QEMU: always the next word). */
function pendingOption(args: readonly ScannedWord[]): QemuOptionSpec | undefined {
  let j = 0;
  while (j < args.length) {
    const spec = optionSpec(args[j] as ScannedWord);
    if (spec && spec.arg !== "none") {
      if (j + 1 === args.length) return spec;
      j += 2;
    } else j++;
  }
  return undefined;
}

/** `qemu-system-x86_64 …`: options, and the comma list of the option before the cursor. */
export function completeQemu(cx: FamilyContext): Offer {
  const pending = pendingOption(cx.args);
  if (pending) {
    const shape = QEMU_LISTS[pending.name];
    if (!shape) return NOTHING;
    const refs = (kind: string) => {
      const opt = REF_OPTIONS[kind];
      return opt === undefined ? [] : idsOf(cx.args, opt);
    };
    // Paths (vhostdev=/dev/vhost-vdpa-0) from the simulated host; a comma may follow.
    const paths = (at: number, value: string): Offer => {
      const o = hostPath({ text: value, start: 0, literalFrom: 0, hasVar: false }, cx.src);
      return { at: at + o.at, items: o.items.map((it) => ({ text: it.text, final: false })) };
    };
    return completePropList(cx.partial.text, 0, shape, refs, paths);
  }
  if (cx.partial.text.startsWith("-")) {
    // The command parser's option table decides what is an option.
    return { at: 0, items: finals(QEMU_OPTION_NAMES.map((n) => `-${n}`)) };
  }
  return NOTHING;
}

// ---- dpdk-testpmd ----------------------------------------------------------------------------

/** EAL options offered (lang/commands/testpmd.ts accepts them); `=` marks a value. */
const EAL_OPTIONS = [
  "-l",
  "-c",
  "-n",
  "-a",
  "-b",
  "--lcores=",
  "--vdev=",
  "--no-pci",
  "--iova-mode=",
  "--socket-mem=",
  "--file-prefix=",
  "--huge-dir=",
  "--no-huge",
  "--in-memory",
  "--single-file-segments",
  "--log-level=",
  "--allow=",
  "--block=",
];

const APP_OPTIONS = [
  "-i",
  "-a",
  "--interactive",
  "--auto-start",
  "--tx-first",
  "--forward-mode=",
  "--nb-cores=",
  "--nb-ports=",
  "--rxq=",
  "--txq=",
  "--rxd=",
  "--txd=",
  "--burst=",
  "--eth-peer=",
  "--port-topology=",
  "--stats-period=",
  "--total-num-mbufs=",
  "--mbuf-size=",
  "--max-pkt-len=",
  "--txpkts=",
  "--txonly-multi-flow",
  "--disable-rss",
  "--no-flush-rx",
  "--record-core-cycles",
  "--record-burst-stats",
  "--enable-rx-cksum",
];

const VDEV_SHAPE: PropListShape = {
  classes: () => classNames(VDEV_DRIVERS).map((n) => `${n}0`),
  schema: (
    cls,
  ) => (cls === undefined ? undefined : findClass(VDEV_DRIVERS, cls.replace(/\d+$/, ""))),
};

function optionItems(list: readonly string[]): Item[] {
  return list.map((text) => ({ text, final: !text.endsWith("=") }));
}

/** `dpdk-testpmd [EAL options] -- [testpmd options]`. */
export function completeTestpmd(cx: FamilyContext): Offer {
  const app = cx.args.some((w) => w.text === "--" && !w.quoted);
  const prev = cx.args[cx.args.length - 1]?.text;
  const t = cx.partial.text;
  if (!app) {
    if (prev === "--vdev") return completePropList(t, 0, VDEV_SHAPE, () => []);
    if (t.startsWith("--vdev=")) return completePropList(t.slice(7), 7, VDEV_SHAPE, () => []);
    if (t.startsWith("-")) {
      return { at: 0, items: [...optionItems(EAL_OPTIONS), ...finals(["--"])] };
    }
    return NOTHING;
  }
  if (prev === "--forward-mode") return { at: 0, items: finals(FORWARD_MODES.map((m) => m.name)) };
  if (t.startsWith("--forward-mode=")) {
    return { at: 15, items: finals(FORWARD_MODES.map((m) => m.name)) };
  }
  if (t.startsWith("-")) return { at: 0, items: optionItems(APP_OPTIONS) };
  return NOTHING;
}

// ---- ovs-vsctl -------------------------------------------------------------------------------

const OVS_COMMANDS = [
  "init",
  "show",
  "add-br",
  "del-br",
  "list-br",
  "br-exists",
  "list-ports",
  "add-port",
  "del-port",
  "set",
  "get",
  "list",
  "clear",
  "remove",
];

/** `ovs-vsctl [options] CMD ARGS [-- CMD ARGS]…`. */
export function completeOvs(cx: FamilyContext): Offer {
  const sep = cx.args.findLastIndex((w) => w.text === "--" && !w.quoted);
  const seg = cx.args.slice(sep + 1).filter((w) => !w.text.startsWith("--"));
  const t = cx.partial.text;
  if (t.startsWith("-")) return { at: 0, items: finals(["--may-exist", "--if-exists", "--"]) };
  const [cmd, ...rest] = seg.map((w) => w.text);
  if (cmd === undefined) return { at: 0, items: finals(OVS_COMMANDS) };
  const bridges = () => ({ at: 0, items: finals(cx.src.names("ovsBridges")) });
  switch (cmd) {
    case "add-port":
    case "del-br":
    case "list-ports":
    case "br-exists":
      return rest.length === 0 ? bridges() : NOTHING;
    case "set":
    case "get":
    case "list":
    case "clear":
    case "remove": {
      if (rest.length === 0) return { at: 0, items: finals(Object.keys(OVS_TABLE_COLUMNS)) };
      if (rest.length === 1 || cmd === "list") return NOTHING;
      const table = OVS_TABLE_COLUMNS[rest[0] as string];
      if (!table) return NOTHING;
      return ovsSetting(t, table, rest.slice(2));
    }
    default:
      return NOTHING;
  }
}

function ovsSetting(
  t: string,
  table: Readonly<Record<string, OvsColumn>>,
  earlier: readonly string[],
): Offer {
  const eq = t.indexOf("=");
  const colon = t.indexOf(":");
  if (eq < 0 && colon < 0) {
    return {
      at: 0,
      items: Object.entries(table).map(([name, col]) => ({
        text: col.kind === "map" ? `${name}:` : `${name}=`,
        final: false,
      })),
    };
  }
  const column = t.slice(0, colon >= 0 && (eq < 0 || colon < eq) ? colon : eq);
  const col = Object.hasOwn(table, column) ? table[column] : undefined;
  if (!col) return NOTHING;
  if (col.kind === "map" && colon >= 0 && (eq < 0 || colon < eq)) {
    if (eq >= 0) return NOTHING;
    const type = earlier.find((w) => w.startsWith("type="))?.slice(5);
    const cls = column === "options" && type !== undefined
      ? findClass(OVS_INTERFACE_TYPES, type)
      : undefined;
    const keys = cls ? Object.keys(cls.props) : Object.keys(col.keys ?? {});
    return { at: colon + 1, items: partials(keys.map((k) => `${k}=`)) };
  }
  if (column === "type" && eq >= 0) {
    return { at: eq + 1, items: finals(Object.keys(OVS_INTERFACE_TYPES.classes)) };
  }
  return NOTHING;
}
