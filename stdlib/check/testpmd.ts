/**
 * The semantic check of a `dpdk-testpmd` command line: every `--vdev` names a known driver and
 * its devargs are the ones the PMD lists, with values its handlers accept. The result is the
 * typed vdevs (defaults applied) the testpmd back-end model consumes.
 *
 * DPDK reads 0/1 devargs with `strtoul`, so `client=yes` silently means `client=0`: that is a
 * warning (W0228) with the value DPDK actually uses. Unknown devargs are errors (E0225): the
 * real `rte_kvargs_parse()` fails and the port is never created.
 *
 * @example
 * ```ts
 * import { Diagnostics } from "../../lang/diagnostic.ts";
 * import { checkTestpmd } from "./testpmd.ts";
 * import { testTestpmd } from "./test_commands.ts";
 * const diags = new Diagnostics();
 * const vdevs = checkTestpmd(
 *   testTestpmd("dpdk-testpmd -l 0-1 --vdev net_vhost0,iface=/tmp/vu0,queues=2 -- -i"),
 *   diags,
 * );
 * if (vdevs[0]?.kind !== "vhost" || vdevs[0].queues.value !== 2) throw new Error("2 queues");
 * ```
 *
 * @module
 */

import { type Diagnostics, error, warning } from "../../lang/diagnostic.ts";
import type { TestpmdCommand, Vdev } from "../../lang/commands/ast.ts";
import type { Prop, PropList } from "../../lang/props.ts";
import type { Span } from "../../lang/span.ts";
import type { Located } from "../../lang/word.ts";
import { suggest } from "../../lang/suggest.ts";
import { classNames, type ClassSchema, findClass, parseInteger } from "../catalog/schema.ts";
import { VDEV_DRIVERS } from "../catalog/dpdk.ts";
import type { Setting } from "../qemu_config.ts";
import { type TypedProps, typeProps } from "./class_props.ts";

/** A `--vdev net_vhostN`: the PMD side of a vhost-user socket. */
export interface VhostVdevConfig {
  readonly kind: "vhost";
  readonly span: Span;
  readonly name: Located<string>;
  readonly iface: Setting<string>;
  readonly queues: Setting<number>;
  /** The PMD connects to the socket (QEMU's chardev is the server). */
  readonly client: Setting<boolean>;
  readonly iommuSupport: Setting<boolean>;
  readonly tso: Setting<boolean>;
  readonly linearBuffer: Setting<boolean>;
  readonly extBuffer: Setting<boolean>;
}

/** A `--vdev virtio_userN`: a virtio-net driver in userspace. */
export interface VirtioUserVdevConfig {
  readonly kind: "virtio-user";
  readonly span: Span;
  readonly name: Located<string>;
  readonly path: Setting<string>;
  /** Which kernel or socket backend `path` names. */
  readonly backend: "vhost-user" | "vhost-net" | "vhost-vdpa";
  readonly mac?: Setting<string>;
  readonly queues: Setting<number>;
  readonly queueSize: Setting<number>;
  readonly cq: Setting<boolean>;
  readonly server: Setting<boolean>;
  readonly mrgRxbuf: Setting<boolean>;
  readonly inOrder: Setting<boolean>;
  readonly packedVq: Setting<boolean>;
}

/** A vdev driver the lab does not simulate (net_null, net_tap …). */
export interface UnmodelledVdevConfig {
  readonly kind: "unmodelled";
  readonly span: Span;
  readonly name: Located<string>;
  readonly driver: string;
}

/** A checked `--vdev`. */
export type VdevConfig = VhostVdevConfig | VirtioUserVdevConfig | UnmodelledVdevConfig;

/** `strtoul(text, NULL, 0)`: the leading number, or 0 (what the PMD handlers do). */
function strtoul(text: string): number {
  const m = /^\s*(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  const n = m?.[1] === undefined ? undefined : parseInteger(m[1]);
  return n === undefined ? 0 : Number(n);
}

/**
 * Rewrites values DPDK reads leniently to what it actually reads, with a warning for each
 * (`client=yes` → `0`). Spans are kept.
 */
function lenient(list: PropList, schema: ClassSchema, diags: Diagnostics): PropList {
  const items: Prop[] = list.items.map((item) => {
    const prop = schema.props[item.key.value];
    const v = item.value;
    if (!prop || prop.type !== "uint" || !v || parseInteger(v.value) !== undefined) return item;
    const n = strtoul(v.value);
    diags.push(
      warning("W0228", `DPDK reads \`${item.key.value}=${v.value}\` as \`${n}\``, {
        span: v.span,
        label: `strtoul() gives ${n}`,
        notes: ["vdev devargs are numbers: the handler stops at the first non-digit"],
        help: [`write \`${item.key.value}=${n === 0 ? "1" : String(n)}\` if that is what you mean`],
      }),
    );
    return { ...item, value: { value: String(n), span: v.span } };
  });
  return { span: list.span, items };
}

function num(t: TypedProps, schema: ClassSchema, key: string, at: Span): Setting<number> {
  const p = t.get(key);
  if (p) return { value: p.value as number, span: p.span, explicit: true };
  return { value: Number(schema.props[key]?.default ?? 0), span: at, explicit: false };
}

function flagOf(t: TypedProps, schema: ClassSchema, key: string, at: Span): Setting<boolean> {
  const n = num(t, schema, key, at);
  return { ...n, value: n.value !== 0 };
}

function str(t: TypedProps, key: string): Setting<string> | undefined {
  const p = t.get(key);
  return p && typeof p.value === "string"
    ? { value: p.value, span: p.span, explicit: true }
    : undefined;
}

/** Checks one `--vdev` and returns its typed configuration (undefined when it is unusable). */
export function checkVdev(vdev: Vdev, diags: Diagnostics): VdevConfig | undefined {
  const schema = findClass(VDEV_DRIVERS, vdev.driver);
  if (!schema) {
    const instance = vdev.name.value.slice(vdev.driver.length);
    const best = suggest(vdev.driver, classNames(VDEV_DRIVERS), { limit: 1 })[0];
    const help = best === undefined ? undefined : `did you mean \`${best}${instance}\`?`;
    diags.push(
      error("E0240", `unknown vdev driver \`${vdev.driver}\``, {
        span: vdev.name.span,
        label: "no PMD registers this name",
        notes: [
          "EAL matches a vdev name against the driver names and aliases; with no match the device is not created",
        ],
        ...(help === undefined ? {} : { help: [help] }),
      }),
    );
    return undefined;
  }
  const typed = typeProps(lenient(vdev.props, schema, diags), diags, {
    schema,
    owner: schema.name,
    what: "vdev",
    at: vdev.name.span,
  });
  const at = vdev.span;
  if (schema.name === "net_vhost") {
    const iface = str(typed, "iface");
    if (!iface) return undefined;
    return {
      kind: "vhost",
      span: at,
      name: vdev.name,
      iface,
      queues: num(typed, schema, "queues", at),
      client: flagOf(typed, schema, "client", at),
      iommuSupport: flagOf(typed, schema, "iommu-support", at),
      tso: flagOf(typed, schema, "tso", at),
      linearBuffer: flagOf(typed, schema, "linear-buffer", at),
      extBuffer: flagOf(typed, schema, "ext-buffer", at),
    };
  }
  if (schema.name === "net_virtio_user") {
    const path = str(typed, "path");
    if (!path) return undefined;
    const mac = str(typed, "mac");
    const backend = path.value === "/dev/vhost-net"
      ? "vhost-net"
      : /^\/dev\/vhost-vdpa-\d+$/.test(path.value)
      ? "vhost-vdpa"
      : "vhost-user";
    return {
      kind: "virtio-user",
      span: at,
      name: vdev.name,
      path,
      backend,
      ...(mac === undefined ? {} : { mac }),
      queues: num(typed, schema, "queues", at),
      queueSize: num(typed, schema, "queue_size", at),
      cq: flagOf(typed, schema, "cq", at),
      server: flagOf(typed, schema, "server", at),
      mrgRxbuf: flagOf(typed, schema, "mrg_rxbuf", at),
      inOrder: flagOf(typed, schema, "in_order", at),
      packedVq: flagOf(typed, schema, "packed_vq", at),
    };
  }
  diags.push(
    warning("W0221", `vdev driver \`${schema.name}\` is accepted but not modelled by the lab`, {
      span: vdev.name.span,
      label: "not simulated",
      notes: ["the lab simulates net_vhost and net_virtio_user ports"],
    }),
  );
  return { kind: "unmodelled", span: at, name: vdev.name, driver: schema.name };
}

/** Checks every `--vdev` of a testpmd command line; returns the usable ones in order. */
export function checkTestpmd(cmd: TestpmdCommand, diags: Diagnostics): VdevConfig[] {
  const out: VdevConfig[] = [];
  const names = new Map<string, Located<string>>();
  for (const vdev of cmd.vdevs) {
    const first = names.get(vdev.name.value);
    if (first) {
      diags.push(
        error("E0228", `vdev \`${vdev.name.value}\` is given twice`, {
          span: vdev.name.span,
          label: "second device with this name",
          secondary: [{ span: first.span, message: "first given here" }],
          notes: ["EAL: a device name is unique: the second probe fails"],
        }),
      );
      continue;
    }
    names.set(vdev.name.value, vdev.name);
    const c = checkVdev(vdev, diags);
    if (c) out.push(c);
  }
  const sockets = new Map<string, Setting<string>>();
  for (const v of out) {
    if (v.kind !== "vhost") continue;
    const first = sockets.get(v.iface.value);
    if (first) {
      diags.push(
        error("E0230", `two vhost ports on the socket \`${v.iface.value}\``, {
          span: v.iface.span,
          label: "socket already used",
          secondary: [{ span: first.span, message: "first port on it" }],
          notes: ["rte_vhost_driver_register() refuses a path that is already registered"],
        }),
      );
    } else {
      sockets.set(v.iface.value, v.iface);
    }
  }
  return out;
}
