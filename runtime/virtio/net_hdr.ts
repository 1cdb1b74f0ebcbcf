/**
 * The virtio-net header (`struct virtio_net_hdr` and its v1 / hash / tunnel extensions,
 * virtio 1.2 §5.1.6): its size for a negotiated feature set, little-endian encode/decode at
 * any offset of a buffer, and the checks a device applies to a transmitted header.
 *
 * | features                                  | size |
 * | ----------------------------------------- | ---- |
 * | legacy, no MRG_RXBUF                      | 10   |
 * | legacy + MRG_RXBUF, or any VERSION_1      | 12   |
 * | + HASH_REPORT                             | 20   |
 * | + GUEST/HOST_UDP_TUNNEL_GSO               | 24   |
 * | + OUT_NET_HEADER or IPSEC                 | 32   |
 *
 * @example
 * ```ts
 * import { decodeNetHdr, encodeNetHdr, netHdrSize, VIRTIO_NET_HDR_F_NEEDS_CSUM } from "./net_hdr.ts";
 * import { featureMask, VIRTIO_F_VERSION_1 } from "./features.ts";
 * const size = netHdrSize(featureMask(VIRTIO_F_VERSION_1));
 * const buf = new Uint8Array(size);
 * encodeNetHdr({ flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 34, csumOffset: 16 }, buf, 0, size);
 * const back = decodeNetHdr(buf, 0, size);
 * if (!back.ok || back.value.csumStart !== 34 || size !== 12) throw new Error("round trip");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import {
  hasFeature,
  VIRTIO_F_VERSION_1,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO,
  VIRTIO_NET_F_HASH_REPORT,
  VIRTIO_NET_F_HOST_ECN,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_HOST_TSO6,
  VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO,
  VIRTIO_NET_F_HOST_UFO,
  VIRTIO_NET_F_HOST_USO,
  VIRTIO_NET_F_IPSEC,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_OUT_NET_HEADER,
} from "./features.ts";

/** flags: csum_start/csum_offset are valid; the device completes the checksum. */
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
/** flags (RX): the checksum was validated. */
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
/** flags (RX): RSC information in csum fields. */
export const VIRTIO_NET_HDR_F_RSC_INFO = 4;
/** flags: the outer UDP checksum of a tunnel is partial. */
export const VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM = 8;
/** gso_type: not a GSO frame. */
export const VIRTIO_NET_HDR_GSO_NONE = 0;
/** gso_type: TCPv4 segmentation. */
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
/** gso_type: UDP fragmentation (UFO). */
export const VIRTIO_NET_HDR_GSO_UDP = 3;
/** gso_type: TCPv6 segmentation. */
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
/** gso_type: UDP segmentation (USO). */
export const VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
/** gso_type bit: inside a UDP tunnel over IPv4. */
export const VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV4 = 0x20;
/** gso_type bit: inside a UDP tunnel over IPv6. */
export const VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV6 = 0x40;
/** gso_type bit: ECN (CWR) set. */
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

/** A decoded header; fields beyond the negotiated size read as 0. */
export interface VirtioNetHdr {
  /** NEEDS_CSUM, DATA_VALID, RSC_INFO, UDP_TUNNEL_CSUM. */
  readonly flags: number;
  /** NONE, TCPV4, UDP, TCPV6, UDP_L4, tunnel bits, ECN. */
  readonly gsoType: number;
  /** Length of the headers before the payload. */
  readonly hdrLen: number;
  /** Segment size (MSS) for GSO. */
  readonly gsoSize: number;
  /** Where checksumming starts (NEEDS_CSUM). */
  readonly csumStart: number;
  /** Offset of the checksum field from csum_start (NEEDS_CSUM). */
  readonly csumOffset: number;
  /** RX: buffers this packet spans (1 without MRG_RXBUF). TX: 0. */
  readonly numBuffers: number;
  /** Packet hash (HASH_REPORT). */
  readonly hashValue: number;
  /** Hash type reported (HASH_REPORT). */
  readonly hashReport: number;
  /** Outer transport header offset (UDP tunnel GSO). */
  readonly outerThOffset: number;
  /** Inner network header offset (UDP tunnel GSO). */
  readonly innerNhOffset: number;
  /** Outer network header offset (OUT_NET_HEADER). */
  readonly outerNhOffset: number;
}

/** Byte offsets of the header fields. */
export const NET_HDR_OFFSETS = {
  flags: 0,
  gsoType: 1,
  hdrLen: 2,
  gsoSize: 4,
  csumStart: 6,
  csumOffset: 8,
  numBuffers: 10,
  hashValue: 12,
  hashReport: 16,
  outerThOffset: 20,
  innerNhOffset: 22,
  outerNhOffset: 24,
} as const;

/** The header size for a negotiated feature set (see the module table). */
export function netHdrSize(features: bigint): number {
  if (!hasFeature(features, VIRTIO_F_VERSION_1)) {
    return hasFeature(features, VIRTIO_NET_F_MRG_RXBUF) ? 12 : 10;
  }
  if (
    hasFeature(features, VIRTIO_NET_F_OUT_NET_HEADER) || hasFeature(features, VIRTIO_NET_F_IPSEC)
  ) return 32;
  if (
    hasFeature(features, VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO) ||
    hasFeature(features, VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO)
  ) return 24;
  if (hasFeature(features, VIRTIO_NET_F_HASH_REPORT)) return 20;
  return 12;
}

/** Why a header could not be read or is not acceptable. */
export type NetHdrProblem =
  | { readonly kind: "short-buffer"; readonly need: number; readonly have: number }
  | { readonly kind: "bad-size"; readonly size: number }
  /** A TX header uses an offload that was not negotiated. */
  | { readonly kind: "offload-not-negotiated"; readonly what: string }
  /** csum_start + csum_offset + 2 lies beyond the frame. */
  | {
    readonly kind: "csum-out-of-frame";
    readonly csumStart: number;
    readonly csumOffset: number;
    readonly frameLen: number;
  }
  | { readonly kind: "bad-gso-type"; readonly gsoType: number }
  /** GSO requested with gso_size 0. */
  | { readonly kind: "zero-gso-size" };

/** One lowercase line describing a header problem. */
export function describeNetHdrProblem(p: NetHdrProblem): string {
  switch (p.kind) {
    case "short-buffer":
      return `virtio-net header needs ${p.need} bytes, buffer has ${p.have}`;
    case "bad-size":
      return `virtio-net header size ${p.size} is not one of 10, 12, 20, 24, 32`;
    case "offload-not-negotiated":
      return `header asks for ${p.what}, which was not negotiated`;
    case "csum-out-of-frame":
      return `checksum at ${p.csumStart}+${p.csumOffset} lies beyond the ${p.frameLen}-byte frame`;
    case "bad-gso-type":
      return `unknown gso_type 0x${p.gsoType.toString(16)}`;
    case "zero-gso-size":
      return "GSO requested with gso_size 0";
  }
}

const SIZES = new Set([10, 12, 20, 24, 32]);

/**
 * Writes `h` (missing fields = 0) as a `size`-byte header at `offset` of `buf`. Fields past
 * `size` are not written. False if `buf` is too short or `size` is not a header size.
 */
export function encodeNetHdr(
  h: Partial<VirtioNetHdr>,
  buf: Uint8Array,
  offset: number,
  size: number,
): boolean {
  if (!SIZES.has(size) || offset < 0 || offset + size > buf.length) return false;
  const dv = new DataView(buf.buffer, buf.byteOffset + offset, size);
  for (let i = 0; i < size; i++) dv.setUint8(i, 0);
  dv.setUint8(0, h.flags ?? 0);
  dv.setUint8(1, h.gsoType ?? 0);
  dv.setUint16(2, h.hdrLen ?? 0, true);
  dv.setUint16(4, h.gsoSize ?? 0, true);
  dv.setUint16(6, h.csumStart ?? 0, true);
  dv.setUint16(8, h.csumOffset ?? 0, true);
  if (size >= 12) dv.setUint16(10, h.numBuffers ?? 0, true);
  if (size >= 20) {
    dv.setUint32(12, h.hashValue ?? 0, true);
    dv.setUint16(16, h.hashReport ?? 0, true);
  }
  if (size >= 24) {
    dv.setUint16(20, h.outerThOffset ?? 0, true);
    dv.setUint16(22, h.innerNhOffset ?? 0, true);
  }
  if (size >= 32) dv.setUint16(24, h.outerNhOffset ?? 0, true);
  return true;
}

/** Reads a `size`-byte header at `offset` of `buf`. */
export function decodeNetHdr(
  buf: Uint8Array,
  offset: number,
  size: number,
): Result<VirtioNetHdr, NetHdrProblem> {
  if (!SIZES.has(size)) return err({ kind: "bad-size", size });
  if (offset < 0 || offset + size > buf.length) {
    return err({ kind: "short-buffer", need: size, have: Math.max(0, buf.length - offset) });
  }
  const dv = new DataView(buf.buffer, buf.byteOffset + offset, size);
  return ok({
    flags: dv.getUint8(0),
    gsoType: dv.getUint8(1),
    hdrLen: dv.getUint16(2, true),
    gsoSize: dv.getUint16(4, true),
    csumStart: dv.getUint16(6, true),
    csumOffset: dv.getUint16(8, true),
    numBuffers: size >= 12 ? dv.getUint16(10, true) : 0,
    hashValue: size >= 20 ? dv.getUint32(12, true) : 0,
    hashReport: size >= 20 ? dv.getUint16(16, true) : 0,
    outerThOffset: size >= 24 ? dv.getUint16(20, true) : 0,
    innerNhOffset: size >= 24 ? dv.getUint16(22, true) : 0,
    outerNhOffset: size >= 32 ? dv.getUint16(24, true) : 0,
  });
}

/**
 * What a device checks on a transmitted header (§5.1.6.2.1): NEEDS_CSUM needs CSUM and a
 * checksum field inside the frame; a GSO type needs the matching HOST_* feature and a
 * non-zero gso_size. `frameLen` is the length of the packet after the header.
 */
export function checkTxNetHdr(
  h: VirtioNetHdr,
  features: bigint,
  frameLen: number,
): NetHdrProblem | undefined {
  if ((h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0) {
    if (!hasFeature(features, VIRTIO_NET_F_CSUM)) {
      return { kind: "offload-not-negotiated", what: "CSUM" };
    }
    if (h.csumStart + h.csumOffset + 2 > frameLen) {
      return {
        kind: "csum-out-of-frame",
        csumStart: h.csumStart,
        csumOffset: h.csumOffset,
        frameLen,
      };
    }
  }
  const gso = h.gsoType & ~VIRTIO_NET_HDR_GSO_ECN &
    ~(VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV4 | VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV6);
  if (h.gsoType === VIRTIO_NET_HDR_GSO_NONE) return undefined;
  const need: Record<number, [number[], string]> = {
    [VIRTIO_NET_HDR_GSO_TCPV4]: [[VIRTIO_NET_F_HOST_TSO4], "HOST_TSO4"],
    [VIRTIO_NET_HDR_GSO_TCPV6]: [[VIRTIO_NET_F_HOST_TSO6], "HOST_TSO6"],
    [VIRTIO_NET_HDR_GSO_UDP]: [[VIRTIO_NET_F_HOST_UFO], "HOST_UFO"],
    [VIRTIO_NET_HDR_GSO_UDP_L4]: [[VIRTIO_NET_F_HOST_USO], "HOST_USO"],
  };
  const rule = need[gso];
  if (rule === undefined) return { kind: "bad-gso-type", gsoType: h.gsoType };
  if (!rule[0].every((b) => hasFeature(features, b))) {
    return { kind: "offload-not-negotiated", what: rule[1] };
  }
  if ((h.gsoType & VIRTIO_NET_HDR_GSO_ECN) !== 0 && !hasFeature(features, VIRTIO_NET_F_HOST_ECN)) {
    return { kind: "offload-not-negotiated", what: "HOST_ECN" };
  }
  if (
    (h.gsoType & (VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV4 | VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV6)) !== 0
  ) {
    if (!hasFeature(features, VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO)) {
      return { kind: "offload-not-negotiated", what: "HOST_UDP_TUNNEL_GSO" };
    }
  }
  if (h.gsoSize === 0) return { kind: "zero-gso-size" };
  return undefined;
}
