/**
 * ICMP echo (RFC 792) for `ping`: build an echo request, turn a request into its reply in
 * place (what a responder's stack does), and verify a reply. Sizes follow ping(8): the
 * payload size is `-s` (56 by default), so the default frame is 14 + 20 + 8 + 56 = 98 bytes
 * in memory, 102 with FCS. Payloads shorter than 16 bytes cannot carry the identification
 * marker and are rejected by the builder. Frames shorter than 60 bytes are padded with zeros
 * (IEEE 802.3 minimum), as a NIC would.
 *
 * @example A round trip
 * ```ts
 * import { buildEchoRequest, echoReplyInPlace, newEchoInfo, verifyEchoReply } from "./icmp.ts";
 * import { qemuMac } from "./address.ts";
 * const buf = new Uint8Array(256);
 * const len = buildEchoRequest(buf, {
 *   srcMac: qemuMac(0), dstMac: qemuMac(1), srcIp: 0x0a000001, dstIp: 0x0a000002,
 *   id: 0x1234, seq: 1, payloadBytes: 56, flowId: 3,
 * });
 * const frame = buf.subarray(0, len);
 * if (echoReplyInPlace(frame) !== undefined) throw new Error("valid request");
 * const info = newEchoInfo();
 * if (verifyEchoReply(frame, info) !== undefined || info.seq !== 1) throw new Error("reply");
 * ```
 *
 * @module
 */

import type { Mac } from "./address.ts";
import { checksumRange, fold, sumRange } from "./_ones_sum.ts";
import { payloadByte, readBe32, writePayload } from "./_payload.ts";
import {
  checkIpv4,
  ETH_FCS_LEN,
  ETH_HLEN,
  ETH_MIN_FRAME,
  ETHERTYPE_IPV4,
  type FrameProblem,
  IPPROTO_ICMP,
  IPV4_HLEN,
  PAYLOAD_HEADER_LEN,
  PAYLOAD_MAGIC,
  writeEthernetHeader,
  writeIpv4Header,
} from "./frame.ts";

/** ICMP echo reply type. */
export const ICMP_ECHO_REPLY = 0;
/** ICMP echo request type. */
export const ICMP_ECHO_REQUEST = 8;
/** ICMP echo header length. */
export const ICMP_HLEN = 8;
/** ping(8)'s default payload size (`-s 56`). */
export const PING_DEFAULT_PAYLOAD = 56;

/** An echo request to build. */
export interface EchoRequestSpec {
  /** Source MAC. */
  readonly srcMac: Readonly<Mac>;
  /** Destination MAC. */
  readonly dstMac: Readonly<Mac>;
  /** Source IPv4 address (u32). */
  readonly srcIp: number;
  /** Destination IPv4 address (u32). */
  readonly dstIp: number;
  /** ICMP identifier (ping uses its pid). */
  readonly id: number;
  /** ICMP sequence number (16 bits on the wire; the payload carries the full number). */
  readonly seq: number;
  /** Bytes after the ICMP header (ping `-s`), ≥ 16. */
  readonly payloadBytes: number;
  /** Carried in the payload, like a UDP flow's id. */
  readonly flowId: number;
}

/** Frame size with FCS for an echo of `payloadBytes` (what the metrics count). */
export function echoFrameBytes(payloadBytes: number): number {
  return Math.max(ETH_MIN_FRAME, ETH_HLEN + IPV4_HLEN + ICMP_HLEN + payloadBytes + ETH_FCS_LEN);
}

/**
 * Writes an echo request at the start of `buf` (pass a `subarray` to write elsewhere);
 * returns the bytes written, padding included.
 */
export function buildEchoRequest(buf: Uint8Array, spec: EchoRequestSpec): number {
  const off = 0;
  if (!Number.isInteger(spec.payloadBytes) || spec.payloadBytes < PAYLOAD_HEADER_LEN) {
    throw new RangeError(`Echo payload must be at least ${PAYLOAD_HEADER_LEN} bytes`);
  }
  const ipLen = IPV4_HLEN + ICMP_HLEN + spec.payloadBytes;
  if (ipLen > 65535) throw new RangeError(`Echo payload ${spec.payloadBytes} is too large`);
  const len = echoFrameBytes(spec.payloadBytes) - ETH_FCS_LEN;
  if (off + len > buf.length) throw new RangeError("Buffer too small for the echo request");
  writeEthernetHeader(buf, { dstMac: spec.dstMac, srcMac: spec.srcMac, ethertype: ETHERTYPE_IPV4 });
  writeIpv4Header(buf.subarray(ETH_HLEN), {
    totalLength: ipLen,
    protocol: IPPROTO_ICMP,
    src: spec.srcIp,
    dst: spec.dstIp,
  });
  const icmp = off + ETH_HLEN + IPV4_HLEN;
  buf[icmp] = ICMP_ECHO_REQUEST;
  buf[icmp + 1] = 0;
  buf[icmp + 2] = 0;
  buf[icmp + 3] = 0;
  buf[icmp + 4] = (spec.id >>> 8) & 0xff;
  buf[icmp + 5] = spec.id & 0xff;
  buf[icmp + 6] = (spec.seq >>> 8) & 0xff;
  buf[icmp + 7] = spec.seq & 0xff;
  writePayload(buf, icmp + ICMP_HLEN, spec.payloadBytes, spec.flowId, spec.seq);
  const c = checksumRange(buf, icmp, ICMP_HLEN + spec.payloadBytes, 0);
  buf[icmp + 2] = c >>> 8;
  buf[icmp + 3] = c & 0xff;
  buf.fill(0, off + ETH_HLEN + ipLen, off + len);
  return len;
}

/** Checks the ICMP part after {@link checkIpv4}; returns the ICMP type or a problem. */
function checkIcmp(frame: Uint8Array, ihl: number): number | FrameProblem {
  const ipLen = ((frame[ETH_HLEN + 2] as number) << 8) | (frame[ETH_HLEN + 3] as number);
  const icmp = ETH_HLEN + ihl;
  const icmpLen = ipLen - ihl;
  if (icmpLen < ICMP_HLEN) return { kind: "truncated", len: frame.length, need: icmp + ICMP_HLEN };
  if (fold(sumRange(frame, icmp, icmpLen, 0)) !== 0xffff) {
    const got = ((frame[icmp + 2] as number) << 8) | (frame[icmp + 3] as number);
    const without = sumRange(frame, icmp + 4, icmpLen - 4, sumRange(frame, icmp, 2, 0));
    return { kind: "bad-icmp-checksum", got, want: ~fold(without) & 0xffff };
  }
  const type = frame[icmp] as number;
  const code = frame[icmp + 1] as number;
  if (code !== 0 || (type !== ICMP_ECHO_REQUEST && type !== ICMP_ECHO_REPLY)) {
    return { kind: "not-echo", type, code };
  }
  return type;
}

/**
 * Turns a valid echo request into its reply, in place: swaps MACs and IPs, type 0, TTL 64,
 * both checksums recomputed. Returns a problem (and leaves the frame alone) if the frame is
 * not a valid echo request.
 */
export function echoReplyInPlace(frame: Uint8Array): FrameProblem | undefined {
  const ihl = checkIpv4(frame, IPPROTO_ICMP);
  if (typeof ihl !== "number") return ihl;
  const type = checkIcmp(frame, ihl);
  if (typeof type !== "number") return type;
  if (type !== ICMP_ECHO_REQUEST) return { kind: "not-echo", type, code: 0 };
  for (let i = 0; i < 6; i++) {
    const t = frame[i] as number;
    frame[i] = frame[6 + i] as number;
    frame[6 + i] = t;
  }
  const ip = ETH_HLEN;
  for (let i = 0; i < 4; i++) {
    const t = frame[ip + 12 + i] as number;
    frame[ip + 12 + i] = frame[ip + 16 + i] as number;
    frame[ip + 16 + i] = t;
  }
  frame[ip + 8] = 64;
  frame[ip + 10] = 0;
  frame[ip + 11] = 0;
  const ipc = checksumRange(frame, ip, ihl, 0);
  frame[ip + 10] = ipc >>> 8;
  frame[ip + 11] = ipc & 0xff;
  const ipLen = ((frame[ip + 2] as number) << 8) | (frame[ip + 3] as number);
  const icmp = ip + ihl;
  frame[icmp] = ICMP_ECHO_REPLY;
  frame[icmp + 2] = 0;
  frame[icmp + 3] = 0;
  const c = checksumRange(frame, icmp, ipLen - ihl, 0);
  frame[icmp + 2] = c >>> 8;
  frame[icmp + 3] = c & 0xff;
  return undefined;
}

/** What a verified echo carried. Reused across calls. */
export interface EchoInfo {
  /** ICMP type (8 request, 0 reply). */
  type: number;
  /** ICMP identifier. */
  id: number;
  /** The full sequence number from the payload. */
  seq: number;
  /** Flow id from the payload. */
  flowId: number;
  /** Bytes after the ICMP header. */
  payloadBytes: number;
}

/** A fresh info object to reuse. */
export function newEchoInfo(): EchoInfo {
  return { type: 0, id: 0, seq: 0, flowId: 0, payloadBytes: 0 };
}

/** Verifies an echo request or reply of ours: checksums, marker and every payload byte. */
export function verifyEcho(frame: Uint8Array, out: EchoInfo): FrameProblem | undefined {
  const ihl = checkIpv4(frame, IPPROTO_ICMP);
  if (typeof ihl !== "number") return ihl;
  const type = checkIcmp(frame, ihl);
  if (typeof type !== "number") return type;
  const ipLen = ((frame[ETH_HLEN + 2] as number) << 8) | (frame[ETH_HLEN + 3] as number);
  const icmp = ETH_HLEN + ihl;
  const payload = icmp + ICMP_HLEN;
  const plen = ipLen - ihl - ICMP_HLEN;
  if (plen < PAYLOAD_HEADER_LEN) {
    return { kind: "truncated", len: frame.length, need: payload + PAYLOAD_HEADER_LEN };
  }
  const word = (o: number) => readBe32(frame, o);
  const magic = word(payload);
  if (magic !== PAYLOAD_MAGIC) return { kind: "not-ours", magic };
  const flowId = word(payload + 4);
  const seq = word(payload + 8) * 4294967296 + word(payload + 12);
  for (let i = PAYLOAD_HEADER_LEN; i < plen; i++) {
    const want = payloadByte(flowId, seq, i);
    const got = frame[payload + i] as number;
    if (got !== want) return { kind: "payload-mismatch", offset: i, got, want };
  }
  out.type = type;
  out.id = ((frame[icmp + 4] as number) << 8) | (frame[icmp + 5] as number);
  out.seq = seq;
  out.flowId = flowId;
  out.payloadBytes = plen;
  return undefined;
}

/** {@link verifyEcho} that also insists on a reply (type 0). */
export function verifyEchoReply(frame: Uint8Array, out: EchoInfo): FrameProblem | undefined {
  const p = verifyEcho(frame, out);
  if (p !== undefined) return p;
  return out.type === ICMP_ECHO_REPLY ? undefined : { kind: "not-echo", type: out.type, code: 0 };
}
