/**
 * Real Ethernet II + IPv4 + UDP frames, built into a caller-provided buffer with correct
 * checksums, and verified byte for byte at the sink.
 *
 * **Sizes.** `size=` (a traffic's frame size) is the Ethernet frame length *including* the
 * 4-byte FCS, as RFC 2544 and traffic generators count it: `size=64` is the minimum frame,
 * of which 60 bytes are in memory (virtio-net, tap and pcap never carry the FCS). So a
 * buffer holds `size − 4` bytes: 14 (Ethernet) + 20 (IPv4) + 8 (UDP) + payload, and a
 * 64 B frame carries 18 payload bytes. Line-rate math adds the 20 B of preamble, start
 * delimiter and inter-frame gap (`line_rate.ts`).
 *
 * **Payload.** The first 16 payload bytes are a marker `76 64 70 61` ("vdpa"), the flow id
 * (u32) and the 64-bit sequence number (two u32), all big-endian; every following byte is a
 * deterministic function of (flow id, sequence, offset). A sink can therefore identify the
 * packet and check every byte, and a stale buffer from another packet fails the check.
 *
 * **Headers.** IPv4 with no options, DF set, ID 0, TTL 64 (what Linux sends for UDP with
 * path-MTU discovery on); UDP checksum always computed over the RFC 768 pseudo-header.
 *
 * Building and verifying allocate nothing; the verifier returns `undefined` when the frame is
 * intact (filling a reusable {@link UdpFrameInfo}) or a {@link FrameProblem}.
 *
 * @example Build a 64 B frame and verify it
 * ```ts
 * import { newUdpFrameInfo, UdpFrameBuilder, verifyUdpFrame } from "./frame.ts";
 * import { qemuMac } from "./address.ts";
 * const b = new UdpFrameBuilder({
 *   srcMac: qemuMac(0), dstMac: qemuMac(1), srcIp: 0x0a000001, dstIp: 0x0a000002,
 *   srcPort: 1024, dstPort: 9, flowId: 7, frameBytes: 64,
 * });
 * const buf = new Uint8Array(2048);
 * const len = b.build(buf, 42);
 * const info = newUdpFrameInfo();
 * if (len !== 60 || verifyUdpFrame(buf.subarray(0, len), info) !== undefined) throw new Error();
 * if (info.flowId !== 7 || info.seq !== 42) throw new Error("identified");
 * buf[50] = (buf[50] ?? 0) ^ 1; // flip a payload bit
 * if (verifyUdpFrame(buf.subarray(0, len), info)?.kind !== "bad-udp-checksum") throw new Error();
 * ```
 *
 * @module
 */

import type { Mac } from "./address.ts";
import { checksumRange, fold, pseudoSum, sumRange, sumRangeWide } from "./_ones_sum.ts";
import { PAYLOAD_HEADER_LEN, PAYLOAD_MAGIC, payloadByte, writePayload } from "./_payload.ts";

/** Ethernet header length. */
export const ETH_HLEN = 14;
/** Ethernet frame check sequence length (counted in `size=`, never in buffers). */
export const ETH_FCS_LEN = 4;
/** Smallest Ethernet frame, FCS included (IEEE 802.3). */
export const ETH_MIN_FRAME = 64;
/** Largest frame the builder accepts, FCS included: a 65,535-byte IPv4 packet. */
export const MAX_FRAME: number = ETH_HLEN + 65535 + ETH_FCS_LEN;
/** EtherType IPv4. */
export const ETHERTYPE_IPV4 = 0x0800;
/** EtherType ARP. */
export const ETHERTYPE_ARP = 0x0806;
/** IP protocol number of ICMP. */
export const IPPROTO_ICMP = 1;
/** IP protocol number of UDP. */
export const IPPROTO_UDP = 17;
/** IPv4 header length without options. */
export const IPV4_HLEN = 20;
/** UDP header length. */
export const UDP_HLEN = 8;
/** Bytes before the UDP payload. */
export const UDP_PAYLOAD_OFFSET: number = ETH_HLEN + IPV4_HLEN + UDP_HLEN;
export { PAYLOAD_HEADER_LEN, PAYLOAD_MAGIC } from "./_payload.ts";

/** What is wrong with a received frame. */
export type FrameProblem =
  | { readonly kind: "truncated"; readonly len: number; readonly need: number }
  | { readonly kind: "not-ipv4"; readonly ethertype: number }
  | { readonly kind: "bad-ip-header"; readonly versionIhl: number }
  | { readonly kind: "bad-ip-length"; readonly ipLen: number; readonly frameLen: number }
  | { readonly kind: "bad-ip-checksum"; readonly got: number; readonly want: number }
  | { readonly kind: "wrong-protocol"; readonly protocol: number; readonly want: number }
  | { readonly kind: "bad-udp-length"; readonly udpLen: number; readonly ipPayload: number }
  | { readonly kind: "bad-udp-checksum"; readonly got: number; readonly want: number }
  | { readonly kind: "bad-icmp-checksum"; readonly got: number; readonly want: number }
  | { readonly kind: "not-echo"; readonly type: number; readonly code: number }
  | { readonly kind: "not-arp"; readonly detail: string }
  | { readonly kind: "not-ours"; readonly magic: number }
  | { readonly kind: "bad-sequence"; readonly seq: number; readonly count: number }
  | {
    readonly kind: "payload-mismatch";
    readonly offset: number;
    readonly got: number;
    readonly want: number;
  };

/** One lowercase line (the only formatter of {@link FrameProblem}). */
export function describeFrameProblem(p: FrameProblem): string {
  const h = (n: number, w = 4) => `0x${n.toString(16).padStart(w, "0")}`;
  switch (p.kind) {
    case "truncated":
      return `frame of ${p.len} bytes is too short (need ${p.need})`;
    case "not-ipv4":
      return `ethertype ${h(p.ethertype)} is not IPv4`;
    case "bad-ip-header":
      return `IPv4 version/IHL byte ${h(p.versionIhl, 2)} is invalid`;
    case "bad-ip-length":
      return `IPv4 total length ${p.ipLen} does not fit a ${p.frameLen}-byte frame`;
    case "bad-ip-checksum":
      return `IPv4 header checksum is ${h(p.got)}, should be ${h(p.want)}`;
    case "wrong-protocol":
      return `IP protocol ${p.protocol}, expected ${p.want}`;
    case "bad-udp-length":
      return `UDP length ${p.udpLen} does not match the ${p.ipPayload} bytes after the IP header`;
    case "bad-udp-checksum":
      return `UDP checksum is ${h(p.got)}, should be ${h(p.want)}`;
    case "bad-icmp-checksum":
      return `ICMP checksum is ${h(p.got)}, should be ${h(p.want)}`;
    case "not-echo":
      return `ICMP type ${p.type} code ${p.code} is not an echo message`;
    case "not-arp":
      return `not an Ethernet/IPv4 ARP packet: ${p.detail}`;
    case "not-ours":
      return `payload marker ${h(p.magic, 8)} is not a vdpa-lab packet`;
    case "bad-sequence":
      return `sequence number ${p.seq} is outside the flow's 1..${p.count}`;
    case "payload-mismatch":
      return `payload byte at offset ${p.offset} is ${h(p.got, 2)}, should be ${h(p.want, 2)}`;
  }
}

/** True for problems a sink counts as `bad_checksum` (the rest are `corrupt_payload`). */
export function isChecksumProblem(p: FrameProblem): boolean {
  return p.kind === "bad-ip-checksum" || p.kind === "bad-udp-checksum" ||
    p.kind === "bad-icmp-checksum";
}

function be16(buf: Uint8Array, off: number): number {
  return ((buf[off] as number) << 8) | (buf[off + 1] as number);
}
function be32(buf: Uint8Array, off: number): number {
  return (((buf[off] as number) << 24) | ((buf[off + 1] as number) << 16) |
    ((buf[off + 2] as number) << 8) | (buf[off + 3] as number)) >>> 0;
}
function put16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 8) & 0xff;
  buf[off + 1] = v & 0xff;
}
function put32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

/** The fields of an IPv4 header we vary. */
export interface Ipv4HeaderSpec {
  /** IP packet length (header and data). */
  readonly totalLength: number;
  /** IP protocol number. */
  readonly protocol: number;
  /** Source address (u32). */
  readonly src: number;
  /** Destination address (u32). */
  readonly dst: number;
  /** Default 64. */
  readonly ttl?: number;
}

/** Writes an IPv4 header (no options, DF, ID 0, TTL 64) with its checksum at `out[0…20)`. */
export function writeIpv4Header(out: Uint8Array, h: Ipv4HeaderSpec): void {
  const buf = out;
  const off = 0;
  buf[off] = 0x45; // version 4, IHL 5
  buf[off + 1] = 0; // DSCP/ECN
  put16(buf, off + 2, h.totalLength);
  put16(buf, off + 4, 0); // identification
  put16(buf, off + 6, 0x4000); // DF, fragment offset 0
  buf[off + 8] = h.ttl ?? 64;
  buf[off + 9] = h.protocol;
  put16(buf, off + 10, 0);
  put32(buf, off + 12, h.src);
  put32(buf, off + 16, h.dst);
  put16(buf, off + 10, checksumRange(buf, off, IPV4_HLEN, 0));
}

/** The fields of an Ethernet II header. */
export interface EthernetHeaderSpec {
  /** Destination MAC. */
  readonly dstMac: Readonly<Mac>;
  /** Source MAC. */
  readonly srcMac: Readonly<Mac>;
  /** EtherType (0x0800 IPv4, 0x0806 ARP). */
  readonly ethertype: number;
}

/** Writes destination MAC, source MAC and EtherType at `out[0…14)`. */
export function writeEthernetHeader(out: Uint8Array, h: EthernetHeaderSpec): void {
  out.set(h.dstMac.subarray(0, 6), 0);
  out.set(h.srcMac.subarray(0, 6), 6);
  put16(out, 12, h.ethertype);
}

/** The addresses and identity of one UDP flow's frames. */
export interface UdpFrameSpec {
  /** Source MAC. */
  readonly srcMac: Readonly<Mac>;
  /** Destination MAC. */
  readonly dstMac: Readonly<Mac>;
  /** Source IPv4 address (u32). */
  readonly srcIp: number;
  /** Destination IPv4 address (u32). */
  readonly dstIp: number;
  /** UDP source port. */
  readonly srcPort: number;
  /** UDP destination port. */
  readonly dstPort: number;
  /** Carried in every payload; the sink checks it. */
  readonly flowId: number;
  /** Frame size with FCS (`size=`), 64 … {@link MAX_FRAME}. */
  readonly frameBytes: number;
}

/** Builds the frames of one UDP flow: headers are precomputed, each packet costs its payload. */
export class UdpFrameBuilder {
  /** Frame size with FCS. */
  readonly frameBytes: number;
  /** Bytes written per frame (frameBytes − 4). */
  readonly length: number;
  /** Carried in every payload. */
  readonly flowId: number;
  readonly #headers = new Uint8Array(UDP_PAYLOAD_OFFSET);
  readonly #udpBaseSum: number;

  /** Throws for sizes or ports out of range (callers validate script input first). */
  constructor(spec: UdpFrameSpec) {
    if (
      !Number.isInteger(spec.frameBytes) || spec.frameBytes < ETH_MIN_FRAME ||
      spec.frameBytes > MAX_FRAME
    ) {
      throw new RangeError(
        `Frame size ${spec.frameBytes} is outside ${ETH_MIN_FRAME}..${MAX_FRAME}`,
      );
    }
    for (const p of [spec.srcPort, spec.dstPort]) {
      if (!Number.isInteger(p) || p < 0 || p > 0xffff) throw new RangeError(`Invalid port ${p}`);
    }
    this.frameBytes = spec.frameBytes;
    this.length = spec.frameBytes - ETH_FCS_LEN;
    this.flowId = spec.flowId >>> 0;
    const h = this.#headers;
    writeEthernetHeader(h, { dstMac: spec.dstMac, srcMac: spec.srcMac, ethertype: ETHERTYPE_IPV4 });
    const ipLen = this.length - ETH_HLEN;
    writeIpv4Header(h.subarray(ETH_HLEN), {
      totalLength: ipLen,
      protocol: IPPROTO_UDP,
      src: spec.srcIp,
      dst: spec.dstIp,
    });
    const udp = ETH_HLEN + IPV4_HLEN;
    const udpLen = ipLen - IPV4_HLEN;
    put16(h, udp, spec.srcPort);
    put16(h, udp + 2, spec.dstPort);
    put16(h, udp + 4, udpLen);
    put16(h, udp + 6, 0);
    this.#udpBaseSum = pseudoSum(spec.srcIp, spec.dstIp, IPPROTO_UDP, udpLen) +
      sumRange(h, udp, UDP_HLEN, 0);
  }

  /** Writes packet `seq` at `buf[off…]`; returns the bytes written ({@link length}). */
  build(buf: Uint8Array, seq: number, off = 0): number {
    const len = this.length;
    if (off + len > buf.length) {
      throw new RangeError(
        `Buffer of ${buf.length} bytes cannot hold a ${len}-byte frame at ${off}`,
      );
    }
    buf.set(this.#headers, off);
    const payload = off + UDP_PAYLOAD_OFFSET;
    const plen = len - UDP_PAYLOAD_OFFSET;
    let c: number;
    if (plen < PAYLOAD_HEADER_LEN) {
      writePayload(buf, payload, plen, this.flowId, seq);
      c = checksumRange(buf, payload, plen, this.#udpBaseSum);
    } else c = ~fold(this.#writePayload(buf, payload, plen, seq)) & 0xffff;
    if (c === 0) c = 0xffff; // RFC 768: a computed zero is sent as all ones
    put16(buf, off + ETH_HLEN + IPV4_HLEN + 6, c);
    return len;
  }

  /**
   * writePayload() and the UDP sum over the payload in one pass: the payload header (marker,
   * flow id, 64-bit sequence), then payloadByte(flowId, seq, i) with its i-independent part
   * summed once. Returns the unfolded sum on top of the headers' and pseudo-header's.
   */
  #writePayload(buf: Uint8Array, p: number, plen: number, seq: number): number {
    const flowId = this.flowId;
    const hi = Math.floor(seq / 4294967296) >>> 0;
    const lo = seq >>> 0;
    put32(buf, p, PAYLOAD_MAGIC);
    put32(buf, p + 4, flowId);
    put32(buf, p + 8, hi);
    put32(buf, p + 12, lo);
    let sum = this.#udpBaseSum + (PAYLOAD_MAGIC >>> 16) + (PAYLOAD_MAGIC & 0xffff) +
      (flowId >>> 16) + (flowId & 0xffff) + (hi >>> 16) + (hi & 0xffff) + (lo >>> 16) +
      (lo & 0xffff);
    const k = (seq % 0x10000) * 13 + flowId * 7;
    let i = PAYLOAD_HEADER_LEN;
    for (; i + 1 < plen; i += 2) {
      const a = (i * 167 + k + (i >>> 8)) & 0xff;
      const j = i + 1;
      const b = (j * 167 + k + (j >>> 8)) & 0xff;
      buf[p + i] = a;
      buf[p + j] = b;
      sum += (a << 8) | b;
    }
    if (i < plen) {
      // RFC 1071 §4.1: an odd trailing byte is padded with a zero byte on the right.
      const a = (i * 167 + k + (i >>> 8)) & 0xff;
      buf[p + i] = a;
      sum += a << 8;
    }
    return sum;
  }
}

/** What a verified frame carried. Reused across calls. */
export interface UdpFrameInfo {
  /** Flow id from the payload. */
  flowId: number;
  /** Sequence number from the payload. */
  seq: number;
  /** Source IPv4 address. */
  srcIp: number;
  /** Destination IPv4 address. */
  dstIp: number;
  /** UDP source port. */
  srcPort: number;
  /** UDP destination port. */
  dstPort: number;
  /** UDP payload bytes. */
  payloadBytes: number;
}

/** A fresh info object to reuse. */
export function newUdpFrameInfo(): UdpFrameInfo {
  return { flowId: 0, seq: 0, srcIp: 0, dstIp: 0, srcPort: 0, dstPort: 0, payloadBytes: 0 };
}

/**
 * Checks an IPv4 header at `ETH_HLEN` of `frame` (ethertype, version, lengths, checksum,
 * protocol). Returns the header length or a problem.
 */
export function checkIpv4(frame: Uint8Array, protocol: number): number | FrameProblem {
  return checkIpv4At(frame, 0, frame.length, protocol);
}

/** {@link checkIpv4} on the `len`-byte frame at `buf[off]` (no view is made). */
export function checkIpv4At(
  buf: Uint8Array,
  off: number,
  len: number,
  protocol: number,
): number | FrameProblem {
  if (len < ETH_HLEN + IPV4_HLEN) return { kind: "truncated", len, need: ETH_HLEN + IPV4_HLEN };
  const ethertype = be16(buf, off + 12);
  if (ethertype !== ETHERTYPE_IPV4) return { kind: "not-ipv4", ethertype };
  const ip = off + ETH_HLEN;
  const vihl = buf[ip] as number;
  const ihl = (vihl & 0x0f) * 4;
  if (vihl >>> 4 !== 4 || ihl < IPV4_HLEN) return { kind: "bad-ip-header", versionIhl: vihl };
  if (len < ETH_HLEN + ihl) return { kind: "truncated", len, need: ETH_HLEN + ihl };
  const ipLen = be16(buf, ip + 2);
  // Frames shorter than the minimum carry padding after the IP packet (IEEE 802.3).
  const padded = len === ETH_MIN_FRAME - ETH_FCS_LEN && ETH_HLEN + ipLen < len;
  if (ipLen < ihl || (ETH_HLEN + ipLen !== len && !padded)) {
    return { kind: "bad-ip-length", ipLen, frameLen: len };
  }
  // RFC 1071: the sum over a header with a correct checksum folds to 0xffff.
  if (fold(sumRangeWide(buf, ip, ihl, 0)) !== 0xffff) {
    // The sum over the header without its checksum field gives the value it should hold.
    const rest = sumRange(buf, ip + 12, ihl - 12, sumRange(buf, ip, 10, 0));
    return { kind: "bad-ip-checksum", got: be16(buf, ip + 10), want: ~fold(rest) & 0xffff };
  }
  const proto = buf[ip + 9] as number;
  if (proto !== protocol) return { kind: "wrong-protocol", protocol: proto, want: protocol };
  return ihl;
}

/**
 * Verifies a received UDP frame of ours (`frame` holds exactly the received bytes, no FCS):
 * headers, both checksums, the payload marker and every payload byte. Fills `out` and
 * returns undefined when intact.
 */
export function verifyUdpFrame(frame: Uint8Array, out: UdpFrameInfo): FrameProblem | undefined {
  return verifyUdpFrameAt(frame, 0, frame.length, out);
}

/**
 * {@link verifyUdpFrame} on the `len`-byte frame at `buf[off]`, in place (a frame still in
 * the receive buffer it arrived in is checked there, with no copy and no view).
 */
export function verifyUdpFrameAt(
  buf: Uint8Array,
  off: number,
  len: number,
  out: UdpFrameInfo,
): FrameProblem | undefined {
  const ihl = checkIpv4At(buf, off, len, IPPROTO_UDP);
  if (typeof ihl !== "number") return ihl;
  const ipLen = be16(buf, off + ETH_HLEN + 2);
  const udpAt = ETH_HLEN + ihl;
  const udp = off + udpAt;
  if (ipLen < ihl + UDP_HLEN) return { kind: "truncated", len, need: udpAt + UDP_HLEN };
  const udpLen = be16(buf, udp + 4);
  if (udpLen !== ipLen - ihl) return { kind: "bad-udp-length", udpLen, ipPayload: ipLen - ihl };
  const got = be16(buf, udp + 6);
  const src = be32(buf, off + ETH_HLEN + 12);
  const dst = be32(buf, off + ETH_HLEN + 16);
  if (got !== 0) {
    // Sum with the field as sent: a correct checksum makes the total fold to 0xffff.
    const pseudo = pseudoSum(src, dst, IPPROTO_UDP, udpLen);
    const total = fold(sumRangeWide(buf, udp, udpLen, pseudo));
    if (total !== 0xffff) {
      const without = sumRange(
        buf,
        udp + UDP_HLEN,
        udpLen - UDP_HLEN,
        sumRange(buf, udp, 6, pseudo),
      );
      let want = ~fold(without) & 0xffff;
      if (want === 0) want = 0xffff;
      return { kind: "bad-udp-checksum", got, want };
    }
  }
  const payloadAt = udpAt + UDP_HLEN;
  const payload = off + payloadAt;
  const plen = udpLen - UDP_HLEN;
  if (plen < PAYLOAD_HEADER_LEN) {
    return { kind: "truncated", len, need: payloadAt + PAYLOAD_HEADER_LEN };
  }
  const magic = be32(buf, payload);
  if (magic !== PAYLOAD_MAGIC) return { kind: "not-ours", magic };
  const flowId = be32(buf, payload + 4);
  const seq = be32(buf, payload + 8) * 4294967296 + be32(buf, payload + 12);
  // payloadByte(flowId, seq, i), with the part that does not depend on i summed once
  const k = (seq % 0x10000) * 13 + flowId * 7;
  for (let i = PAYLOAD_HEADER_LEN; i < plen; i++) {
    const b = buf[payload + i] as number;
    if (b !== ((i * 167 + k + (i >>> 8)) & 0xff)) {
      return { kind: "payload-mismatch", offset: i, got: b, want: payloadByte(flowId, seq, i) };
    }
  }
  out.flowId = flowId;
  out.seq = seq;
  out.srcIp = src;
  out.dstIp = dst;
  out.srcPort = be16(buf, udp);
  out.dstPort = be16(buf, udp + 2);
  out.payloadBytes = plen;
  return undefined;
}
