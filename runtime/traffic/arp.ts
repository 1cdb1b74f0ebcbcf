/**
 * ARP for Ethernet/IPv4 (RFC 826): the request a host broadcasts before its first ping, and
 * the reply. Frames are 42 bytes of ARP padded to the 60-byte minimum, as a NIC sends them.
 *
 * @example
 * ```ts
 * import { arpReplyInPlace, buildArpRequest, newArpInfo, parseArp, ARP_REPLY } from "./arp.ts";
 * import { qemuMac } from "./address.ts";
 * const buf = new Uint8Array(60);
 * buildArpRequest(buf, { senderMac: qemuMac(0), senderIp: 0x0a000001, targetIp: 0x0a000002 });
 * if (arpReplyInPlace(buf, qemuMac(1)) !== undefined) throw new Error("valid request");
 * const info = newArpInfo();
 * if (parseArp(buf, info) !== undefined || info.op !== ARP_REPLY) throw new Error("reply");
 * ```
 *
 * @module
 */

import { BROADCAST_MAC, type Mac } from "./address.ts";
import { ETH_HLEN, ETHERTYPE_ARP, type FrameProblem, writeEthernetHeader } from "./frame.ts";

/** ARP request operation code. */
export const ARP_REQUEST = 1;
/** ARP reply operation code. */
export const ARP_REPLY = 2;
/** Bytes of an Ethernet/IPv4 ARP message. */
export const ARP_LEN = 28;
/** Bytes an ARP frame occupies in memory (padded to the 60-byte minimum). */
export const ARP_FRAME_LEN = 60;

/** An ARP request to build. */
export interface ArpRequestSpec {
  /** The asker's MAC. */
  readonly senderMac: Readonly<Mac>;
  /** The asker's IPv4 address. */
  readonly senderIp: number;
  /** The address asked about. */
  readonly targetIp: number;
}

function put32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}
function get32(buf: Uint8Array, off: number): number {
  return (((buf[off] as number) << 24) | ((buf[off + 1] as number) << 16) |
    ((buf[off + 2] as number) << 8) | (buf[off + 3] as number)) >>> 0;
}

/**
 * Writes a broadcast who-has request at the start of `buf` (pass a `subarray` to write
 * elsewhere); returns {@link ARP_FRAME_LEN}.
 */
export function buildArpRequest(buf: Uint8Array, spec: ArpRequestSpec): number {
  const off = 0;
  if (ARP_FRAME_LEN > buf.length) throw new RangeError("Buffer too small for ARP");
  writeEthernetHeader(buf, {
    dstMac: BROADCAST_MAC,
    srcMac: spec.senderMac,
    ethertype: ETHERTYPE_ARP,
  });
  const a = off + ETH_HLEN;
  // RFC 826: htype 1 (Ethernet), ptype 0x0800, hlen 6, plen 4.
  buf.set([0, 1, 0x08, 0x00, 6, 4, 0, ARP_REQUEST], a);
  buf.set(spec.senderMac.subarray(0, 6), a + 8);
  put32(buf, a + 14, spec.senderIp);
  buf.fill(0, a + 18, a + 24); // target MAC unknown
  put32(buf, a + 24, spec.targetIp);
  buf.fill(0, a + ARP_LEN, off + ARP_FRAME_LEN);
  return ARP_FRAME_LEN;
}

/** A parsed ARP message. Reused across calls. */
export interface ArpInfo {
  /** ARP_REQUEST or ARP_REPLY. */
  op: number;
  /** Sender hardware address. */
  senderMac: Mac;
  /** Sender protocol address. */
  senderIp: number;
  /** Target hardware address. */
  targetMac: Mac;
  /** Target protocol address. */
  targetIp: number;
}

/** A fresh info object to reuse. */
export function newArpInfo(): ArpInfo {
  return {
    op: 0,
    senderMac: new Uint8Array(6),
    senderIp: 0,
    targetMac: new Uint8Array(6),
    targetIp: 0,
  };
}

/** Parses an Ethernet/IPv4 ARP frame. */
export function parseArp(frame: Uint8Array, out: ArpInfo): FrameProblem | undefined {
  if (frame.length < ETH_HLEN + ARP_LEN) {
    return { kind: "truncated", len: frame.length, need: ETH_HLEN + ARP_LEN };
  }
  const ethertype = ((frame[12] as number) << 8) | (frame[13] as number);
  if (ethertype !== ETHERTYPE_ARP) {
    return { kind: "not-arp", detail: `ethertype 0x${ethertype.toString(16)}` };
  }
  const a = ETH_HLEN;
  const htype = ((frame[a] as number) << 8) | (frame[a + 1] as number);
  const ptype = ((frame[a + 2] as number) << 8) | (frame[a + 3] as number);
  if (htype !== 1 || ptype !== 0x0800 || frame[a + 4] !== 6 || frame[a + 5] !== 4) {
    return { kind: "not-arp", detail: `hardware ${htype} protocol 0x${ptype.toString(16)}` };
  }
  const op = ((frame[a + 6] as number) << 8) | (frame[a + 7] as number);
  if (op !== ARP_REQUEST && op !== ARP_REPLY) return { kind: "not-arp", detail: `operation ${op}` };
  out.op = op;
  out.senderMac.set(frame.subarray(a + 8, a + 14));
  out.senderIp = get32(frame, a + 14);
  out.targetMac.set(frame.subarray(a + 18, a + 24));
  out.targetIp = get32(frame, a + 24);
  return undefined;
}

/**
 * Turns a request into the reply `ourMac` would send, in place (RFC 826 "swap the hardware
 * and protocol fields, put the local addresses in the sender slots").
 */
export function arpReplyInPlace(
  frame: Uint8Array,
  ourMac: Readonly<Mac>,
): FrameProblem | undefined {
  const info = newArpInfo();
  const p = parseArp(frame, info);
  if (p !== undefined) return p;
  if (info.op !== ARP_REQUEST) return { kind: "not-arp", detail: "not a request" };
  writeEthernetHeader(frame, { dstMac: info.senderMac, srcMac: ourMac, ethertype: ETHERTYPE_ARP });
  const a = ETH_HLEN;
  frame[a + 7] = ARP_REPLY;
  frame.set(ourMac.subarray(0, 6), a + 8);
  put32(frame, a + 14, info.targetIp);
  frame.set(info.senderMac, a + 18);
  put32(frame, a + 24, info.senderIp);
  return undefined;
}
