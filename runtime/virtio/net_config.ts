/**
 * The virtio-net device configuration space (`struct virtio_net_config`, virtio 1.2 §5.1.4):
 * field offsets, the size the device exposes for its offered features (QEMU
 * `virtio_get_config_size`), little-endian encode/decode, and the device-side value rules.
 *
 * | off | size | field                              | present if           |
 * | --- | ---- | ---------------------------------- | -------------------- |
 * | 0   | 6    | mac                                | always               |
 * | 6   | 2    | status                             | STATUS               |
 * | 8   | 2    | max_virtqueue_pairs                | MQ or RSS            |
 * | 10  | 2    | mtu                                | MTU                  |
 * | 12  | 4    | speed                              | SPEED_DUPLEX         |
 * | 16  | 1    | duplex                             | SPEED_DUPLEX         |
 * | 17  | 1    | rss_max_key_size                   | RSS or HASH_REPORT   |
 * | 18  | 2    | rss_max_indirection_table_length   | RSS                  |
 * | 20  | 4    | supported_hash_types               | RSS or HASH_REPORT   |
 * | 24  | 4    | supported_tunnel_types             | HASH_TUNNEL          |
 *
 * @example
 * ```ts
 * import { decodeNetConfig, encodeNetConfig, netConfigSize } from "./net_config.ts";
 * import { featureMask, VIRTIO_NET_F_MAC, VIRTIO_NET_F_MTU, VIRTIO_NET_F_STATUS } from "./features.ts";
 * const f = featureMask(VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS, VIRTIO_NET_F_MTU);
 * const bytes = encodeNetConfig({ mac: "52:54:00:12:34:56", status: 1, mtu: 1500 }, f);
 * if (bytes.length !== netConfigSize(f) || bytes.length !== 12) throw new Error("size");
 * if (decodeNetConfig(bytes).mtu !== 1500) throw new Error("mtu");
 * ```
 *
 * @module
 */

import {
  hasFeature,
  VIRTIO_NET_F_HASH_REPORT,
  VIRTIO_NET_F_HASH_TUNNEL,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_RSS,
  VIRTIO_NET_F_SPEED_DUPLEX,
  VIRTIO_NET_F_STATUS,
} from "./features.ts";

/** status: the link is up. */
export const VIRTIO_NET_S_LINK_UP = 1;
/** status: the driver should announce itself (gratuitous ARP). */
export const VIRTIO_NET_S_ANNOUNCE = 2;
/** speed: unknown. */
export const SPEED_UNKNOWN = 0xffffffff;
/** duplex: full (Linux DUPLEX_FULL). */
export const DUPLEX_FULL = 0x01;
/** duplex: half. */
export const DUPLEX_HALF = 0x00;
/** duplex: unknown. */
export const DUPLEX_UNKNOWN = 0xff;

/** Byte offsets of the config fields. */
export const NET_CONFIG_OFFSETS = {
  mac: 0,
  status: 6,
  maxVirtqueuePairs: 8,
  mtu: 10,
  speed: 12,
  duplex: 16,
  rssMaxKeySize: 17,
  rssMaxIndirectionTableLength: 18,
  supportedHashTypes: 20,
  supportedTunnelTypes: 24,
} as const;

/** The whole structure: 28 bytes. */
export const NET_CONFIG_MAX_SIZE = 28;

/** A config space; `mac` as `aa:bb:cc:dd:ee:ff`. Missing numbers read as 0. */
export interface VirtioNetConfig {
  /** MAC address, `aa:bb:cc:dd:ee:ff` (valid with MAC). */
  readonly mac: string;
  /** LINK_UP (1) and ANNOUNCE (2) bits (STATUS). */
  readonly status?: number;
  /** Queue pairs, 1..0x8000 (MQ or RSS). */
  readonly maxVirtqueuePairs?: number;
  /** Maximum MTU, 68..65535 (MTU). */
  readonly mtu?: number;
  /** Speed in Mbit/s, 0xffffffff unknown (SPEED_DUPLEX). */
  readonly speed?: number;
  /** Duplex: 1 full, 0 half, 0xff unknown (SPEED_DUPLEX). */
  readonly duplex?: number;
  /** RSS key bytes, at least 40 (RSS or HASH_REPORT). */
  readonly rssMaxKeySize?: number;
  /** RSS indirection table entries, at least 128 (RSS). */
  readonly rssMaxIndirectionTableLength?: number;
  /** Supported hash types bitmap (RSS or HASH_REPORT). */
  readonly supportedHashTypes?: number;
  /** Supported tunnel types bitmap (HASH_TUNNEL). */
  readonly supportedTunnelTypes?: number;
}

// QEMU virtio-net feature_sizes: the config ends after the last field an offered feature needs.
const FEATURE_ENDS: readonly [number, number][] = [
  [VIRTIO_NET_F_MAC, 6],
  [VIRTIO_NET_F_STATUS, 8],
  [VIRTIO_NET_F_MQ, 10],
  [VIRTIO_NET_F_MTU, 12],
  [VIRTIO_NET_F_SPEED_DUPLEX, 17],
  [VIRTIO_NET_F_RSS, 24],
  [VIRTIO_NET_F_HASH_REPORT, 24],
  [VIRTIO_NET_F_HASH_TUNNEL, 28],
];

/** Bytes of config space a device with `features` exposes (at least the MAC: 6). */
export function netConfigSize(features: bigint): number {
  let end = 6;
  for (const [bit, e] of FEATURE_ENDS) if (hasFeature(features, bit) && e > end) end = e;
  return end;
}

/** Parses `aa:bb:cc:dd:ee:ff` (case-insensitive); undefined when malformed. */
export function parseMac(text: string): Uint8Array | undefined {
  const m = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i
    .exec(text);
  if (!m) return undefined;
  return Uint8Array.from(m.slice(1), (h) => parseInt(h, 16));
}

/** Formats 6 bytes as `aa:bb:cc:dd:ee:ff`. */
export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, "0")).join(":");
}

/**
 * The config bytes a device with `features` exposes. Throws on a malformed MAC (a caller bug:
 * scripts' MACs are parsed and reported before they get here).
 */
export function encodeNetConfig(cfg: VirtioNetConfig, features: bigint): Uint8Array {
  const mac = parseMac(cfg.mac);
  if (!mac) {
    throw new TypeError(`Cannot encode MAC address "${cfg.mac}": expected aa:bb:cc:dd:ee:ff`);
  }
  const full = new Uint8Array(NET_CONFIG_MAX_SIZE);
  const dv = new DataView(full.buffer);
  full.set(mac, 0);
  dv.setUint16(6, cfg.status ?? 0, true);
  dv.setUint16(8, cfg.maxVirtqueuePairs ?? 0, true);
  dv.setUint16(10, cfg.mtu ?? 0, true);
  dv.setUint32(12, cfg.speed ?? 0, true);
  dv.setUint8(16, cfg.duplex ?? 0);
  dv.setUint8(17, cfg.rssMaxKeySize ?? 0);
  dv.setUint16(18, cfg.rssMaxIndirectionTableLength ?? 0, true);
  dv.setUint32(20, cfg.supportedHashTypes ?? 0, true);
  dv.setUint32(24, cfg.supportedTunnelTypes ?? 0, true);
  return full.slice(0, netConfigSize(features));
}

/** Reads config bytes (any prefix of the structure; absent fields read as 0). */
export function decodeNetConfig(bytes: Uint8Array): Required<VirtioNetConfig> {
  const full = new Uint8Array(NET_CONFIG_MAX_SIZE);
  full.set(bytes.subarray(0, NET_CONFIG_MAX_SIZE));
  const dv = new DataView(full.buffer);
  return {
    mac: formatMac(full),
    status: dv.getUint16(6, true),
    maxVirtqueuePairs: dv.getUint16(8, true),
    mtu: dv.getUint16(10, true),
    speed: dv.getUint32(12, true),
    duplex: dv.getUint8(16),
    rssMaxKeySize: dv.getUint8(17),
    rssMaxIndirectionTableLength: dv.getUint16(18, true),
    supportedHashTypes: dv.getUint32(20, true),
    supportedTunnelTypes: dv.getUint32(24, true),
  };
}

/** A config value the device must not offer. */
export interface NetConfigProblem {
  /** The field. */
  readonly field: keyof VirtioNetConfig;
  /** The offending value. */
  readonly value: number | string;
  /** The rule it breaks. */
  readonly rule: string;
}

/** One lowercase line describing a config problem. */
export function describeNetConfigProblem(p: NetConfigProblem): string {
  return `${p.field} ${p.value}: ${p.rule}`;
}

/** The device-normative value rules of §5.1.4.1 for the offered features. */
export function checkNetConfig(cfg: VirtioNetConfig, features: bigint): NetConfigProblem[] {
  const out: NetConfigProblem[] = [];
  if (!parseMac(cfg.mac)) {
    out.push({ field: "mac", value: cfg.mac, rule: "expected aa:bb:cc:dd:ee:ff" });
  }
  const pairs = cfg.maxVirtqueuePairs ?? 0;
  if (hasFeature(features, VIRTIO_NET_F_MQ) && (pairs < 1 || pairs > 0x8000)) {
    out.push({
      field: "maxVirtqueuePairs",
      value: pairs,
      rule: "must be between 1 and 0x8000 with MQ",
    });
  }
  const mtu = cfg.mtu ?? 0;
  if (hasFeature(features, VIRTIO_NET_F_MTU) && (mtu < 68 || mtu > 65535)) {
    out.push({ field: "mtu", value: mtu, rule: "must be between 68 and 65535 with MTU" });
  }
  const rss = hasFeature(features, VIRTIO_NET_F_RSS);
  if ((rss || hasFeature(features, VIRTIO_NET_F_HASH_REPORT)) && (cfg.rssMaxKeySize ?? 0) < 40) {
    out.push({
      field: "rssMaxKeySize",
      value: cfg.rssMaxKeySize ?? 0,
      rule: "must be at least 40 with RSS or HASH_REPORT",
    });
  }
  if (rss && (cfg.rssMaxIndirectionTableLength ?? 0) < 128) {
    out.push({
      field: "rssMaxIndirectionTableLength",
      value: cfg.rssMaxIndirectionTableLength ?? 0,
      rule: "must be at least 128 with RSS",
    });
  }
  const speed = cfg.speed ?? 0;
  if (
    hasFeature(features, VIRTIO_NET_F_SPEED_DUPLEX) && speed > 0x7fffffff && speed !== SPEED_UNKNOWN
  ) {
    out.push({
      field: "speed",
      value: speed,
      rule: "must be 0..0x7fffffff or 0xffffffff (unknown)",
    });
  }
  return out;
}
