/**
 * Costs are data. A {@link CostProfile} holds one entry per event kind ({@link CostKey}):
 * nanoseconds at the profile's reference clock, an optional per-byte part (memcpy is
 * `a + b·n`), whether the figure is cycle-bound (so `host cpu ghz=` scales it), and the row
 * of `reference/cost-model.md` it comes from. The default values live in
 * `stdlib/cost_profile.ts`; this file owns the schema, GHz scaling, the resolved lookup
 * table the datapaths read ({@link Costs}) and the validation of user overrides (a JSON file
 * given with `--profile`, or `key=value` pairs from a script), which returns every problem
 * as a value naming the bad key, with a suggestion.
 *
 * @example Resolving a profile and overriding one entry
 * ```ts
 * import { applyCostOverrides, COST_KEYS, copyNs, parseCostOverrides, resolveCosts } from "./cost.ts";
 * import type { CostEntry, CostKey, CostProfile } from "./cost.ts";
 * // Every entry 100 ns and cycle-bound; memcpy 10 + 0.1·n (stdlib has the real figures).
 * const entries = Object.fromEntries(COST_KEYS.map((k): [CostKey, CostEntry] => [k, {
 *   ns: k === "memcpy" ? 10 : 100, perByteNs: k === "memcpy" ? 0.1 : 0,
 *   cycles: true, charge: "cpu", basis: "example",
 * }])) as Record<CostKey, CostEntry>;
 * const profile: CostProfile = { name: "example", referenceGhz: 3.0, entries };
 * const o = parseCostOverrides({ vmexit_light: 500 }, profile);
 * if (!o.ok) throw new Error("valid override");
 * const costs = resolveCosts(applyCostOverrides(profile, o.value), { ghz: 2.0 });
 * if (costs.ns.vmexit_light !== 750) throw new Error("500 ns at 3 GHz is 750 ns at 2 GHz");
 * if (Math.abs(copyNs(costs, 64) - (15 + 6.4)) > 1e-9) throw new Error("memcpy = a + b·n");
 * const bad = parseCostOverrides({ vmexit_lite: 500 }, profile);
 * if (bad.ok || bad.error[0]?.kind !== "unknown-key") throw new Error("bad key reported");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import { didYouMean } from "./suggest.ts";

/**
 * Every event kind that has a cost. §4 of cost-model.md first (in its order), then the
 * kinds the datapaths of virtio-vhost-vdpa.md §9 need on top of it.
 */
export const COST_KEYS = [
  // cost-model.md §4
  "vmexit_light",
  "vmexit_indirect_penalty",
  "vmexit_to_userspace",
  "ioeventfd_signal",
  "thread_wakeup_remote",
  "poll_iteration_empty",
  "irq_inject_posted",
  "irq_inject_exit_based",
  "vcpu_wake_from_halt",
  "guest_irq_to_napi",
  "syscall",
  "context_switch",
  "memcpy",
  "vring_desc_fetch_and_used_update",
  "gpa_to_hva_translate",
  "qemu_virtqueue_pop_push",
  "tap_write_kernel",
  "tap_read_kernel",
  "tap_syscall_user",
  "xdp_tap_fastpath",
  "dpdk_pmd_rxtx",
  "dpdk_vhost_enqueue",
  "dpdk_vhost_dequeue",
  "ovs_dpdk_pipeline",
  "hw_doorbell_mmio",
  "vdpa_kick_via_vhost_vdpa",
  "hw_nic_per_packet",
  "iotlb_hit_hw",
  "iotlb_miss_hw",
  "vhost_iotlb_miss_roundtrip",
  "vdpa_sim_per_packet",
  "svq_relay_per_packet",
  "vhost_requeue_after_weight",
  // datapath hops of virtio-vhost-vdpa.md §9 not in the table
  "guest_xmit",
  "guest_rx_per_packet",
  "napi_poll",
  "qemu_tx_flush",
  "bridge_forward",
  "host_nic_xmit",
  "host_stack_rx",
  "pcie_dma_latency",
  "wire_latency",
] as const;

/** One event kind with a cost. */
export type CostKey = typeof COST_KEYS[number];

const KEY_INDEX: ReadonlyMap<string, number> = new Map(COST_KEYS.map((k, i) => [k, i]));

/**
 * The position of `key` in {@link COST_KEYS}: hot paths resolve their keys once, at module
 * load, and index flat per-key arrays with it instead of looking names up per packet.
 */
export function costKeyIndex(key: CostKey): number {
  const i = KEY_INDEX.get(key);
  if (i === undefined) throw new RangeError(`Unknown cost key "${key}"`);
  return i;
}

/**
 * How a cost is charged: `cpu` occupies the context that runs the hop (it limits
 * throughput); `delay` only adds latency (a pipelined device, a propagation delay, a
 * round trip during which the context is free).
 */
export type CostCharge = "cpu" | "delay";

/** One entry of a profile. */
export interface CostEntry {
  /** Nanoseconds at the profile's reference clock (the fixed part for per-byte costs). */
  readonly ns: number;
  /** Nanoseconds per byte on top of `ns` (memcpy); not scaled by GHz (memory bound). */
  readonly perByteNs?: number;
  /** True if the figure is cycle-bound: `host cpu ghz=` scales `ns` by referenceGhz/ghz. */
  readonly cycles: boolean;
  /** How it is charged: CPU time or pure delay. */
  readonly charge: CostCharge;
  /** The plausible range from cost-model.md, when it gives one. */
  readonly range?: readonly [number, number];
  /** Where the number comes from: the cost-model.md row and its tag ([V] [D] [R] [E]). */
  readonly basis: string;
}

/** A complete set of costs. */
export interface CostProfile {
  /** Shown in bases of overridden entries (`default+lab.json`). */
  readonly name: string;
  /** The clock the `ns` figures assume (cost-model.md converts cycles at 3.0 GHz). */
  readonly referenceGhz: number;
  /** One entry per cost key. */
  readonly entries: { readonly [K in CostKey]: CostEntry };
}

/** The flat table a datapath reads on the hot path. */
export interface Costs {
  /** The host clock the table was resolved for. */
  readonly ghz: number;
  /** Fixed ns per event, scaled for `ghz`. */
  readonly ns: { readonly [K in CostKey]: number };
  /** Per-byte ns per event (0 for most). */
  readonly perByteNs: { readonly [K in CostKey]: number };
  /** How each cost is charged. */
  readonly charge: { readonly [K in CostKey]: CostCharge };
  /** The cost of one `key` event that handles `bytes` bytes: ns + perByteNs·bytes. */
  of(key: CostKey, bytes?: number): number;
}

/** Options of {@link resolveCosts}. */
export interface ResolveOptions {
  /** The host clock (`host cpu ghz=`); defaults to the profile's reference clock. */
  ghz?: number;
}

/**
 * A copy of `profile` whose cycle-bound entries are scaled to a `ghz` clock (a 2.0 GHz host
 * takes 1.5× the ns of the 3.0 GHz reference), with `referenceGhz` set to `ghz`.
 */
export function scaleForGhz(profile: CostProfile, ghz: number): CostProfile {
  if (!(ghz > 0) || !Number.isFinite(ghz)) throw new RangeError(`Invalid clock ${ghz} GHz`);
  const factor = profile.referenceGhz / ghz;
  const entries = {} as Record<CostKey, CostEntry>;
  for (const k of COST_KEYS) {
    const e = profile.entries[k];
    entries[k] = e.cycles ? { ...e, ns: e.ns * factor } : e;
  }
  return { name: profile.name, referenceGhz: ghz, entries };
}

/** The hot-path table for a profile at a clock. */
export function resolveCosts(profile: CostProfile, options: ResolveOptions = {}): Costs {
  const scaled = options.ghz === undefined ? profile : scaleForGhz(profile, options.ghz);
  const ns = {} as Record<CostKey, number>;
  const perByteNs = {} as Record<CostKey, number>;
  const charge = {} as Record<CostKey, CostCharge>;
  for (const k of COST_KEYS) {
    const e = scaled.entries[k];
    ns[k] = e.ns;
    perByteNs[k] = e.perByteNs ?? 0;
    charge[k] = e.charge;
  }
  return Object.freeze({
    ghz: scaled.referenceGhz,
    ns: Object.freeze(ns),
    perByteNs: Object.freeze(perByteNs),
    charge: Object.freeze(charge),
    of: (key: CostKey, bytes = 0) => ns[key] + perByteNs[key] * bytes,
  });
}

/** memcpy(n) = a + b·n (cost-model.md §4 `memcpy(n)`). */
export function copyNs(costs: Costs, bytes: number): number {
  return costs.ns.memcpy + costs.perByteNs.memcpy * bytes;
}

// ---------------------------------------------------------------------------------------
// Overrides

/** A validated change to one entry. Absent fields keep the profile's value. */
export interface CostEntryOverride {
  /** New fixed ns at the reference clock. */
  readonly ns?: number;
  /** New per-byte ns. */
  readonly perByteNs?: number;
  /** Whether the entry scales with the host clock. */
  readonly cycles?: boolean;
}

/** Validated overrides, keyed by cost key. */
export type CostOverrides = { readonly [K in CostKey]?: CostEntryOverride };

/** What is wrong with an override. Paths are dotted: `memcpy.per_byte_ns`. */
export type CostOverrideError =
  | { readonly kind: "invalid-json"; readonly message: string }
  | { readonly kind: "not-an-object"; readonly path: string; readonly got: string }
  | {
    readonly kind: "unknown-key";
    readonly path: string;
    readonly suggestion: string | undefined;
  }
  | {
    readonly kind: "wrong-type";
    readonly path: string;
    readonly expected: string;
    readonly got: string;
  }
  | {
    readonly kind: "out-of-range";
    readonly path: string;
    readonly value: number;
    readonly min: number;
    readonly max: number;
  };

/** One lowercase line per error (the only formatter of {@link CostOverrideError}). */
export function describeCostOverrideError(e: CostOverrideError): string {
  switch (e.kind) {
    case "invalid-json":
      return `cost profile is not valid JSON: ${e.message}`;
    case "not-an-object":
      return e.path === ""
        ? `cost profile must be a JSON object of cost keys, got ${e.got}`
        : `\`${e.path}\` must be a number or an object, got ${e.got}`;
    case "unknown-key":
      return `unknown cost key \`${e.path}\`` +
        (e.suggestion === undefined ? "" : `; did you mean \`${e.suggestion}\`?`);
    case "wrong-type":
      return `\`${e.path}\` must be ${e.expected}, got ${e.got}`;
    case "out-of-range":
      return `\`${e.path}\` = ${e.value} is out of range [${e.min}, ${e.max}]`;
  }
}

/** Largest accepted figure: 1,000 s per event is already absurd. */
const MAX_NS = 1e12;
const ENTRY_FIELDS = ["ns", "per_byte_ns", "cycles", "basis"] as const;

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  switch (typeof v) {
    case "string":
      return `a string (${JSON.stringify(v)})`;
    case "number":
      return `a number (${v})`;
    case "boolean":
      return `a boolean (${v})`;
    case "object":
      return "an object";
    default:
      return typeof v;
  }
}

function checkNs(
  path: string,
  v: unknown,
  errors: CostOverrideError[],
): number | undefined {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    errors.push({
      kind: "wrong-type",
      path,
      expected: "a number of nanoseconds",
      got: typeName(v),
    });
    return undefined;
  }
  if (v < 0 || v > MAX_NS) {
    errors.push({ kind: "out-of-range", path, value: v, min: 0, max: MAX_NS });
    return undefined;
  }
  return v;
}

/**
 * Validates overrides against `profile`'s keys. Accepted forms per key: a number (the `ns`
 * at the profile's reference clock; a cycle-bound entry keeps scaling with `host cpu
 * ghz=`), or an object with any of `ns`, `per_byte_ns` (numbers ≥ 0), `cycles` (boolean)
 * and `basis` (a string, ignored: it lets a dumped profile be edited and read back). Every
 * problem is reported, not only the first.
 */
export function parseCostOverrides(
  input: unknown,
  profile: CostProfile,
): Result<CostOverrides, CostOverrideError[]> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return err([{ kind: "not-an-object", path: "", got: typeName(input) }]);
  }
  const errors: CostOverrideError[] = [];
  const out: Partial<Record<CostKey, CostEntryOverride>> = {};
  const keys = Object.keys(profile.entries);
  // Key order of the input is kept so errors come out in the order the user wrote them.
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (!Object.hasOwn(profile.entries, key)) {
      errors.push({ kind: "unknown-key", path: key, suggestion: didYouMean(key, keys) });
      continue;
    }
    const k = key as CostKey;
    if (typeof value === "number") {
      const ns = checkNs(key, value, errors);
      if (ns !== undefined) out[k] = { ns };
      continue;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      errors.push({ kind: "not-an-object", path: key, got: typeName(value) });
      continue;
    }
    const o: { ns?: number; perByteNs?: number; cycles?: boolean } = {};
    let good = true;
    for (const [field, fv] of Object.entries(value as Record<string, unknown>)) {
      const path = `${key}.${field}`;
      if (field === "ns") {
        const ns = checkNs(path, fv, errors);
        if (ns === undefined) good = false;
        else o.ns = ns;
      } else if (field === "per_byte_ns") {
        const b = checkNs(path, fv, errors);
        if (b === undefined) good = false;
        else o.perByteNs = b;
      } else if (field === "cycles") {
        if (typeof fv !== "boolean") {
          errors.push({ kind: "wrong-type", path, expected: "true or false", got: typeName(fv) });
          good = false;
        } else o.cycles = fv;
      } else if (field === "basis") {
        // Documentation only (a dumped profile carries it); the origin replaces it.
        if (typeof fv !== "string") {
          errors.push({ kind: "wrong-type", path, expected: "a string", got: typeName(fv) });
          good = false;
        }
      } else {
        errors.push({ kind: "unknown-key", path, suggestion: didYouMean(field, ENTRY_FIELDS) });
        good = false;
      }
    }
    if (good) out[k] = o;
  }
  return errors.length > 0 ? err(errors) : ok(out);
}

/** {@link parseCostOverrides} on JSON text (the `--profile FILE` contents). */
export function parseCostOverridesJson(
  text: string,
  profile: CostProfile,
): Result<CostOverrides, CostOverrideError[]> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return err([{ kind: "invalid-json", message: e instanceof Error ? e.message : String(e) }]);
  }
  return parseCostOverrides(value, profile);
}

/** Options of {@link applyCostOverrides}. */
export interface ApplyOverridesOptions {
  /** Where the overrides come from (a file name, `script`); default `override`. */
  origin?: string;
}

/** A copy of `profile` with `overrides` applied; the basis of a changed entry says so. */
export function applyCostOverrides(
  profile: CostProfile,
  overrides: CostOverrides,
  options: ApplyOverridesOptions = {},
): CostProfile {
  const origin = options.origin ?? "override";
  const entries = { ...profile.entries } as Record<CostKey, CostEntry>;
  for (const k of COST_KEYS) {
    const o = overrides[k];
    if (o === undefined) continue;
    const e = entries[k];
    entries[k] = {
      ns: o.ns ?? e.ns,
      ...(o.perByteNs ?? e.perByteNs) !== undefined
        ? { perByteNs: (o.perByteNs ?? e.perByteNs) as number }
        : {},
      cycles: o.cycles ?? e.cycles,
      charge: e.charge,
      ...(e.range ? { range: e.range } : {}),
      basis: `${origin} (was: ${e.basis})`,
    };
  }
  return { name: `${profile.name}+${origin}`, referenceGhz: profile.referenceGhz, entries };
}
