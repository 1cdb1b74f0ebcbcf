/**
 * Feature bits by spec bit number: the transport bits (§6) and every virtio-net bit (§5.1.3),
 * named the way iproute2's `vdpa` tool and Linux print them (`CSUM`, `RING_EVENT_IDX`,
 * `VERSION_1`, …; an unnamed bit prints as `bit_N`), with the spec constants kept as
 * exports, the dependency rules of §5.1.3.1, and negotiation.
 *
 * Feature sets are bigints (bits reach 70); they are control plane, never hot path.
 *
 * @example Names, dependencies, negotiation
 * ```ts
 * import {
 *   featureMask, featureNames, negotiateFeatures, VIRTIO_F_VERSION_1,
 *   VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4,
 * } from "./features.ts";
 * const offered = featureMask(VIRTIO_F_VERSION_1, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_CSUM);
 * // A driver that cannot do GUEST_CSUM must drop GUEST_TSO4 as well.
 * const acked = negotiateFeatures(offered, featureMask(VIRTIO_F_VERSION_1, VIRTIO_NET_F_GUEST_TSO4));
 * if (featureNames(acked).join(" ") !== "VERSION_1") throw new Error(featureNames(acked).join());
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";

// --- Transport and ring bits (§6) ---

/** Legacy: notify when the avail ring empties even if suppressed. */
export const VIRTIO_F_NOTIFY_ON_EMPTY = 24;
/** Legacy: no assumptions about framing (§2.7.4). */
export const VIRTIO_F_ANY_LAYOUT = 27;
/** Indirect descriptors (also VIRTIO_RING_F_INDIRECT_DESC). */
export const VIRTIO_F_INDIRECT_DESC = 28;
/** used_event / avail_event notification suppression (also VIRTIO_RING_F_EVENT_IDX). */
export const VIRTIO_F_EVENT_IDX = 29;
/** Linux spelling of {@link VIRTIO_F_INDIRECT_DESC}. */
export const VIRTIO_RING_F_INDIRECT_DESC: number = VIRTIO_F_INDIRECT_DESC;
/** Linux spelling of {@link VIRTIO_F_EVENT_IDX}. */
export const VIRTIO_RING_F_EVENT_IDX: number = VIRTIO_F_EVENT_IDX;
/** Modern (1.x) device. */
export const VIRTIO_F_VERSION_1 = 32;
/** Addresses go through the platform IOMMU (old name IOMMU_PLATFORM). */
export const VIRTIO_F_ACCESS_PLATFORM = 33;
/** Packed virtqueue layout. */
export const VIRTIO_F_RING_PACKED = 34;
/** Buffers are used in the order they were made available. */
export const VIRTIO_F_IN_ORDER = 35;
/** Hardware-grade memory barriers. */
export const VIRTIO_F_ORDER_PLATFORM = 36;
/** Single-root I/O virtualization. */
export const VIRTIO_F_SR_IOV = 37;
/** Notifications carry the next available position. */
export const VIRTIO_F_NOTIFICATION_DATA = 38;
/** Notifications carry queue_notif_config_data instead of the queue index. */
export const VIRTIO_F_NOTIF_CONFIG_DATA = 39;
/** Per-queue reset. */
export const VIRTIO_F_RING_RESET = 40;
/** Administration virtqueue (PCI). */
export const VIRTIO_F_ADMIN_VQ = 41;
/** Device suspend (recent drafts). */
export const VIRTIO_F_SUSPEND = 43;
/** vhost only: dirty page logging for migration (never offered to a guest). */
export const VHOST_F_LOG_ALL = 26;
/** vhost-user only: protocol features are supported (never offered to a guest). */
export const VHOST_USER_F_PROTOCOL_FEATURES = 30;

// --- virtio-net bits (§5.1.3) ---

/** Device handles packets with partial checksum. */
export const VIRTIO_NET_F_CSUM = 0;
/** Driver handles packets with partial checksum. */
export const VIRTIO_NET_F_GUEST_CSUM = 1;
/** Control channel offloads reconfiguration. */
export const VIRTIO_NET_F_CTRL_GUEST_OFFLOADS = 2;
/** Device reports its maximum MTU. */
export const VIRTIO_NET_F_MTU = 3;
/** Device has a given MAC address. */
export const VIRTIO_NET_F_MAC = 5;
/** Legacy: device handles packets with any GSO type. */
export const VIRTIO_NET_F_GSO = 6;
/** Driver can receive TSOv4. */
export const VIRTIO_NET_F_GUEST_TSO4 = 7;
/** Driver can receive TSOv6. */
export const VIRTIO_NET_F_GUEST_TSO6 = 8;
/** Driver can receive TSO with ECN. */
export const VIRTIO_NET_F_GUEST_ECN = 9;
/** Driver can receive UFO. */
export const VIRTIO_NET_F_GUEST_UFO = 10;
/** Device can receive TSOv4. */
export const VIRTIO_NET_F_HOST_TSO4 = 11;
/** Device can receive TSOv6. */
export const VIRTIO_NET_F_HOST_TSO6 = 12;
/** Device can receive TSO with ECN. */
export const VIRTIO_NET_F_HOST_ECN = 13;
/** Device can receive UFO. */
export const VIRTIO_NET_F_HOST_UFO = 14;
/** Driver can merge receive buffers. */
export const VIRTIO_NET_F_MRG_RXBUF = 15;
/** Configuration status field is available. */
export const VIRTIO_NET_F_STATUS = 16;
/** Control virtqueue is available. */
export const VIRTIO_NET_F_CTRL_VQ = 17;
/** Control channel RX mode. */
export const VIRTIO_NET_F_CTRL_RX = 18;
/** Control channel VLAN filtering. */
export const VIRTIO_NET_F_CTRL_VLAN = 19;
/** Control channel RX extra modes. */
export const VIRTIO_NET_F_CTRL_RX_EXTRA = 20;
/** Driver can send gratuitous packets. */
export const VIRTIO_NET_F_GUEST_ANNOUNCE = 21;
/** Multiqueue with automatic receive steering. */
export const VIRTIO_NET_F_MQ = 22;
/** Set MAC address through the control channel. */
export const VIRTIO_NET_F_CTRL_MAC_ADDR = 23;
/** Legacy: device coalesces TCP/IPv4 (bit shared with VIRTIO_F_ADMIN_VQ). */
export const VIRTIO_NET_F_GUEST_RSC4 = 41;
/** Legacy: device coalesces TCP/IPv6. */
export const VIRTIO_NET_F_GUEST_RSC6 = 42;
/** Device statistics through the control queue. */
export const VIRTIO_NET_F_DEVICE_STATS = 50;
/** Inner header hash for encapsulated packets. */
export const VIRTIO_NET_F_HASH_TUNNEL = 51;
/** Per-virtqueue notification coalescing. */
export const VIRTIO_NET_F_VQ_NOTF_COAL = 52;
/** Notification coalescing. */
export const VIRTIO_NET_F_NOTF_COAL = 53;
/** Driver can receive USOv4. */
export const VIRTIO_NET_F_GUEST_USO4 = 54;
/** Driver can receive USOv6. */
export const VIRTIO_NET_F_GUEST_USO6 = 55;
/** Device can receive USO. */
export const VIRTIO_NET_F_HOST_USO = 56;
/** Device reports a per-packet hash. */
export const VIRTIO_NET_F_HASH_REPORT = 57;
/** Driver provides the exact hdr_len. */
export const VIRTIO_NET_F_GUEST_HDRLEN = 59;
/** Receive-side scaling. */
export const VIRTIO_NET_F_RSS = 60;
/** Extended RSC information. */
export const VIRTIO_NET_F_RSC_EXT = 61;
/** Standby for a primary device with the same MAC. */
export const VIRTIO_NET_F_STANDBY = 62;
/** Device reports speed and duplex. */
export const VIRTIO_NET_F_SPEED_DUPLEX = 63;
/** Multiple RSS contexts. */
export const VIRTIO_NET_F_RSS_CONTEXT = 64;
/** Driver can receive GSO over UDP tunnels. */
export const VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO = 65;
/** … with partial checksum of the outer header. */
export const VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO_CSUM = 66;
/** Device can receive GSO over UDP tunnels. */
export const VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO = 67;
/** … with partial checksum of the outer header. */
export const VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO_CSUM = 68;
/** Outer network header offset in the virtio-net header. */
export const VIRTIO_NET_F_OUT_NET_HEADER = 69;
/** IPsec offload. */
export const VIRTIO_NET_F_IPSEC = 70;

/** Which part of the spec a bit belongs to. */
export type FeatureScope = "transport" | "net" | "vhost";

/** One feature bit. */
export interface FeatureInfo {
  /** Spec bit number. */
  readonly bit: number;
  /** iproute2/Linux spelling: `CSUM`, `RING_EVENT_IDX`, `VERSION_1`. */
  readonly name: string;
  /** The spec constant: `VIRTIO_NET_F_CSUM`, `VIRTIO_F_EVENT_IDX`. */
  readonly spec: string;
  /** Transport, virtio-net, or vhost-only. */
  readonly scope: FeatureScope;
  /** Hard requirements (§5.1.3.1): every clause needs at least one of its names. */
  readonly requires: readonly (readonly string[])[];
  /** SHOULD-level requirements: reported, never refused. */
  readonly should: readonly (readonly string[])[];
  /** Legacy (pre-1.0) only. */
  readonly legacy: boolean;
}

type Row = [
  bit: number,
  name: string,
  scope: FeatureScope,
  requires?: string | undefined,
  should?: string,
];

// requires/should: clauses separated by "&", alternatives by "|".
const ROWS: readonly Row[] = [
  [0, "CSUM", "net"],
  [1, "GUEST_CSUM", "net"],
  [2, "CTRL_GUEST_OFFLOADS", "net", undefined, "CTRL_VQ"],
  [3, "MTU", "net"],
  [5, "MAC", "net"],
  [6, "GSO", "net"],
  [7, "GUEST_TSO4", "net", "GUEST_CSUM"],
  [8, "GUEST_TSO6", "net", "GUEST_CSUM"],
  [9, "GUEST_ECN", "net", "GUEST_TSO4|GUEST_TSO6"],
  [10, "GUEST_UFO", "net", "GUEST_CSUM"],
  [11, "HOST_TSO4", "net", "CSUM"],
  [12, "HOST_TSO6", "net", "CSUM"],
  [13, "HOST_ECN", "net", "HOST_TSO4|HOST_TSO6"],
  [14, "HOST_UFO", "net", "CSUM"],
  [15, "MRG_RXBUF", "net"],
  [16, "STATUS", "net"],
  [17, "CTRL_VQ", "net"],
  [18, "CTRL_RX", "net", "CTRL_VQ"],
  [19, "CTRL_VLAN", "net", "CTRL_VQ"],
  [20, "CTRL_RX_EXTRA", "net", undefined, "CTRL_VQ"],
  [21, "GUEST_ANNOUNCE", "net", "CTRL_VQ"],
  [22, "MQ", "net", "CTRL_VQ"],
  [23, "CTRL_MAC_ADDR", "net", "CTRL_VQ"],
  [24, "NOTIFY_ON_EMPTY", "transport"],
  [26, "LOG_ALL", "vhost"],
  [27, "ANY_LAYOUT", "transport"],
  [28, "RING_INDIRECT_DESC", "transport"],
  [29, "RING_EVENT_IDX", "transport"],
  [30, "PROTOCOL_FEATURES", "vhost"],
  [32, "VERSION_1", "transport"],
  [33, "ACCESS_PLATFORM", "transport"],
  [34, "RING_PACKED", "transport"],
  [35, "IN_ORDER", "transport"],
  [36, "ORDER_PLATFORM", "transport"],
  [37, "SR_IOV", "transport"],
  [38, "NOTIFICATION_DATA", "transport"],
  [39, "NOTIF_CONFIG_DATA", "transport"],
  [40, "RING_RESET", "transport"],
  [41, "ADMIN_VQ", "transport"],
  [41, "GUEST_RSC4", "net"],
  [42, "GUEST_RSC6", "net"],
  [43, "SUSPEND", "transport"],
  [50, "DEVICE_STATS", "net"],
  [51, "HASH_TUNNEL", "net", "CTRL_VQ&RSS|HASH_REPORT"],
  [52, "VQ_NOTF_COAL", "net", "CTRL_VQ"],
  [53, "NOTF_COAL", "net", "CTRL_VQ"],
  [54, "GUEST_USO4", "net", "GUEST_CSUM"],
  [55, "GUEST_USO6", "net", "GUEST_CSUM"],
  [56, "HOST_USO", "net", "CSUM"],
  [57, "HASH_REPORT", "net", undefined, "CTRL_VQ"],
  [59, "GUEST_HDRLEN", "net"],
  [60, "RSS", "net", "CTRL_VQ"],
  [61, "RSC_EXT", "net", "HOST_TSO4|HOST_TSO6"],
  [62, "STANDBY", "net"],
  [63, "SPEED_DUPLEX", "net"],
  [64, "RSS_CONTEXT", "net", "CTRL_VQ&RSS"],
  // UDP tunnel GSO (virtio 1.4 drafts): needs some segmentation offload in that direction.
  [65, "GUEST_UDP_TUNNEL_GSO", "net", "GUEST_TSO4|GUEST_TSO6|GUEST_USO4|GUEST_USO6"],
  [66, "GUEST_UDP_TUNNEL_GSO_CSUM", "net", "GUEST_UDP_TUNNEL_GSO"],
  [67, "HOST_UDP_TUNNEL_GSO", "net", "HOST_TSO4|HOST_TSO6|HOST_USO"],
  [68, "HOST_UDP_TUNNEL_GSO_CSUM", "net", "HOST_UDP_TUNNEL_GSO"],
  [69, "OUT_NET_HEADER", "net"],
  [70, "IPSEC", "net"],
];

const LEGACY = new Set(["GSO", "NOTIFY_ON_EMPTY", "ANY_LAYOUT", "GUEST_RSC4", "GUEST_RSC6"]);

function clauses(s: string | undefined): string[][] {
  return s === undefined ? [] : s.split("&").map((c) => c.split("|"));
}

function specName(name: string, scope: FeatureScope): string {
  if (scope === "vhost") {
    return name === "LOG_ALL" ? "VHOST_F_LOG_ALL" : "VHOST_USER_F_PROTOCOL_FEATURES";
  }
  if (scope === "net") return `VIRTIO_NET_F_${name}`;
  return `VIRTIO_F_${name.replace(/^RING_(INDIRECT_DESC|EVENT_IDX)$/, "$1")}`;
}

/** Every known feature bit, in bit order. */
export const FEATURES: readonly FeatureInfo[] = ROWS.map(([bit, name, scope, req, should]) => ({
  bit,
  name,
  spec: specName(name, scope),
  scope,
  requires: clauses(req),
  should: clauses(should),
  legacy: LEGACY.has(name),
}));

const BY_NAME = new Map<string, FeatureInfo>();
const BY_BIT = new Map<number, FeatureInfo>();
for (const f of FEATURES) {
  BY_NAME.set(f.name, f);
  BY_NAME.set(f.spec, f);
  // A bit shared by a transport and a legacy net meaning prints as the transport name.
  if (!BY_BIT.has(f.bit)) BY_BIT.set(f.bit, f);
}
BY_NAME.set("VIRTIO_RING_F_INDIRECT_DESC", BY_BIT.get(28) as FeatureInfo);
BY_NAME.set("VIRTIO_RING_F_EVENT_IDX", BY_BIT.get(29) as FeatureInfo);
BY_NAME.set("IOMMU_PLATFORM", BY_BIT.get(33) as FeatureInfo);
BY_NAME.set("VIRTIO_F_IOMMU_PLATFORM", BY_BIT.get(33) as FeatureInfo);

/** The feature set with exactly the given bits. */
export function featureMask(...bits: readonly number[]): bigint {
  let m = 0n;
  for (const b of bits) m |= 1n << BigInt(b);
  return m;
}

/** True when `bit` is in `set`. */
export function hasFeature(set: bigint, bit: number): boolean {
  return ((set >> BigInt(bit)) & 1n) === 1n;
}

/** A feature by any of its spellings (`CSUM`, `VIRTIO_NET_F_CSUM`, case-insensitive). */
export function featureByName(name: string): FeatureInfo | undefined {
  return BY_NAME.get(name.toUpperCase());
}

/** A feature by bit number (the transport meaning where a bit has two). */
export function featureByBit(bit: number): FeatureInfo | undefined {
  return BY_BIT.get(bit);
}

/** The names of the bits in `set`, lowest first; an unknown bit is `bit_N` (as iproute2). */
export function featureNames(set: bigint): string[] {
  const out: string[] = [];
  for (let bit = 0; set >> BigInt(bit) !== 0n; bit++) {
    if (hasFeature(set, bit)) out.push(BY_BIT.get(bit)?.name ?? `bit_${bit}`);
  }
  return out;
}

/** Why a feature set is not acceptable. */
export type FeatureProblem =
  | { readonly kind: "unknown-feature"; readonly name: string }
  /** `name` is set but none of `anyOf` is. */
  | {
    readonly kind: "missing-dependency";
    readonly name: string;
    readonly anyOf: readonly string[];
  }
  /** The driver accepted bits the device did not offer. */
  | { readonly kind: "not-offered"; readonly bits: bigint }
  /** The device insists on bits the driver did not accept (e.g. ACCESS_PLATFORM). */
  | { readonly kind: "required"; readonly bits: bigint };

/** One lowercase line describing a feature problem. */
export function describeFeatureProblem(p: FeatureProblem): string {
  switch (p.kind) {
    case "unknown-feature":
      return `unknown feature ${p.name}`;
    case "missing-dependency":
      return `${p.name} requires ${p.anyOf.join(" or ")}`;
    case "not-offered":
      return `features not offered by the device: ${featureNames(p.bits).join(" ")}`;
    case "required":
      return `the device requires ${featureNames(p.bits).join(" ")}`;
  }
}

/** Parses feature names (any spelling, or `bit_N`) into a set. */
export function parseFeatureNames(names: readonly string[]): Result<bigint, FeatureProblem> {
  let set = 0n;
  for (const n of names) {
    const m = /^bit_(\d+)$/i.exec(n);
    const f = featureByName(n);
    if (m) set |= 1n << BigInt(m[1] as string);
    else if (f) set |= 1n << BigInt(f.bit);
    else return err({ kind: "unknown-feature", name: n });
  }
  return ok(set);
}

/** Every hard dependency (§5.1.3.1) that `set` breaks, with `level: "should"` for soft ones. */
export function missingDependencies(
  set: bigint,
  level: "requires" | "should" = "requires",
): FeatureProblem[] {
  const out: FeatureProblem[] = [];
  for (const f of FEATURES) {
    if (!hasFeature(set, f.bit) || BY_BIT.get(f.bit) !== f) continue;
    for (const clause of f[level]) {
      if (!clause.some((n) => hasFeature(set, (BY_NAME.get(n) as FeatureInfo).bit))) {
        out.push({ kind: "missing-dependency", name: f.name, anyOf: clause });
      }
    }
  }
  return out;
}

/**
 * What a well-behaved driver acknowledges: the offered bits it supports, minus every bit
 * whose dependencies did not survive (repeated until nothing changes).
 */
export function negotiateFeatures(offered: bigint, supported: bigint): bigint {
  let set = offered & supported;
  for (;;) {
    const missing = missingDependencies(set);
    if (missing.length === 0) return set;
    for (const p of missing) {
      if (p.kind === "missing-dependency") {
        set &= ~(1n << BigInt((BY_NAME.get(p.name) as FeatureInfo).bit));
      }
    }
  }
}

/**
 * The device's check at FEATURES_OK (§3.1.1, §6.1): accepted bits must have been offered,
 * their dependencies met, and every bit in `required` accepted (QEMU refuses FEATURES_OK when
 * ACCESS_PLATFORM was offered and not accepted). Returns the first problem, if any.
 */
export function checkAcceptedFeatures(
  offered: bigint,
  accepted: bigint,
  required = 0n,
): FeatureProblem | undefined {
  const extra = accepted & ~offered;
  if (extra !== 0n) return { kind: "not-offered", bits: extra };
  const missing = missingDependencies(accepted)[0];
  if (missing) return missing;
  const absent = required & ~accepted;
  if (absent !== 0n) return { kind: "required", bits: absent };
  return undefined;
}
