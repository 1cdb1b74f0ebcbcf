/**
 * Classic libpcap capture files (the `.pcap` format of tcpdump and Wireshark; see the
 * pcap-savefile(5) man page), for `capture tap0 to out.pcap`.
 *
 * The writer uses the **nanosecond** variant (magic `0xa1b23c4d`, libpcap ≥ 1.5, read by
 * tshark/Wireshark and tcpdump) so the virtual clock's ns survive; `resolution: "us"` writes
 * the original microsecond magic `0xa1b2c3d4` for old tools. Fields are little-endian,
 * version 2.4, link type 1 (LINKTYPE_ETHERNET: frames start at the destination MAC and carry
 * no FCS, which is what our buffers hold). Timestamps are the simulated time since the start
 * of the run, so a capture starts at 1970-01-01 00:00:00.
 *
 * The reader accepts both magics in both byte orders; it exists for our own tests.
 *
 * @example Round trip
 * ```ts
 * import { PcapWriter, readPcap } from "./pcap.ts";
 * const w = new PcapWriter();
 * w.write(1_500_000_123, new Uint8Array([1, 2, 3]));
 * const r = readPcap(w.bytes());
 * if (!r.ok || r.value.packets[0]?.tNs !== 1_500_000_123) throw new Error("ns kept");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";

/** Microsecond-resolution magic. */
export const PCAP_MAGIC_US = 0xa1b2c3d4;
/** Nanosecond-resolution magic. */
export const PCAP_MAGIC_NS = 0xa1b23c4d;
/** LINKTYPE_ETHERNET. */
export const LINKTYPE_ETHERNET = 1;
/** Global header length. */
export const PCAP_HEADER_LEN = 24;
/** Per-record header length. */
export const PCAP_RECORD_HEADER_LEN = 16;
/** Default snapshot length (what tcpdump uses since 4.x). */
export const PCAP_DEFAULT_SNAPLEN = 262144;

/** Options of {@link PcapWriter}. */
export interface PcapWriterOptions {
  /** `ns` (default) or `us`. */
  resolution?: "ns" | "us";
  /** Bytes kept per packet (default 262144); longer frames are cut, `orig_len` keeps the size. */
  snaplen?: number;
  /** Receives the file in chunks (header first) instead of buffering it. */
  sink?: (chunk: Uint8Array) => void;
}

/** Writes a pcap file, buffered or streamed. */
export class PcapWriter {
  /** Timestamp resolution of the file. */
  readonly resolution: "ns" | "us";
  /** Bytes kept per packet. */
  readonly snaplen: number;
  readonly #sink: ((chunk: Uint8Array) => void) | undefined;
  #buf: Uint8Array;
  #len = 0;
  #packets = 0;
  readonly #rec = new Uint8Array(PCAP_RECORD_HEADER_LEN);
  readonly #recView = new DataView(this.#rec.buffer);

  /** A writer; the global header is written at once. */
  constructor(options: PcapWriterOptions = {}) {
    this.resolution = options.resolution ?? "ns";
    this.snaplen = options.snaplen ?? PCAP_DEFAULT_SNAPLEN;
    if (!Number.isInteger(this.snaplen) || this.snaplen < 1) {
      throw new RangeError(`Invalid snaplen ${this.snaplen}`);
    }
    this.#sink = options.sink;
    this.#buf = new Uint8Array(this.#sink ? 0 : 4096);
    const h = new Uint8Array(PCAP_HEADER_LEN);
    const v = new DataView(h.buffer);
    v.setUint32(0, this.resolution === "ns" ? PCAP_MAGIC_NS : PCAP_MAGIC_US, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setInt32(8, 0, true); // thiszone: UTC
    v.setUint32(12, 0, true); // sigfigs
    v.setUint32(16, this.snaplen, true);
    v.setUint32(20, LINKTYPE_ETHERNET, true);
    this.#emit(h);
  }

  /** Appends one frame seen at `tNs` (simulated ns). */
  write(tNs: number, frame: Uint8Array, origLen: number = frame.length): void {
    const ns = Math.max(0, Math.round(tNs));
    const sec = Math.floor(ns / 1e9);
    const frac = this.resolution === "ns" ? ns % 1e9 : Math.floor((ns % 1e9) / 1000);
    const incl = Math.min(frame.length, this.snaplen);
    const v = this.#recView;
    v.setUint32(0, sec >>> 0, true);
    v.setUint32(4, frac, true);
    v.setUint32(8, incl, true);
    v.setUint32(12, origLen, true);
    this.#emit(this.#rec);
    this.#emit(frame.subarray(0, incl));
    this.#packets++;
  }

  /** Records written. */
  get packets(): number {
    return this.#packets;
  }

  /** The file so far (empty when streaming to a sink). */
  bytes(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }

  #emit(chunk: Uint8Array): void {
    if (this.#sink) {
      this.#sink(chunk.slice());
      return;
    }
    if (this.#len + chunk.length > this.#buf.length) {
      let cap = this.#buf.length * 2;
      while (cap < this.#len + chunk.length) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
    }
    this.#buf.set(chunk, this.#len);
    this.#len += chunk.length;
  }
}

/** The global header of a read file. */
export interface PcapHeader {
  /** Byte order of the file. */
  readonly littleEndian: boolean;
  /** True for the nanosecond magic. */
  readonly nanosecond: boolean;
  /** Format version (2). */
  readonly versionMajor: number;
  /** Format version (4). */
  readonly versionMinor: number;
  /** Bytes kept per packet. */
  readonly snaplen: number;
  /** Link type (1 = Ethernet). */
  readonly linktype: number;
}

/** One record of a read file. */
export interface PcapPacket {
  /** Timestamp in ns. */
  readonly tNs: number;
  /** The captured bytes (a view into the file). */
  readonly data: Uint8Array;
  /** The frame's length on the wire. */
  readonly origLen: number;
}

/** Why a file cannot be read. */
export type PcapError =
  | { readonly kind: "too-short"; readonly len: number }
  | { readonly kind: "bad-magic"; readonly magic: number }
  | { readonly kind: "truncated-record"; readonly index: number; readonly offset: number }
  | {
    readonly kind: "bad-record-length";
    readonly index: number;
    readonly incl: number;
    readonly orig: number;
  };

/** One lowercase line (the only formatter of {@link PcapError}). */
export function describePcapError(e: PcapError): string {
  switch (e.kind) {
    case "too-short":
      return `file of ${e.len} bytes is too short for a pcap header`;
    case "bad-magic":
      return `magic 0x${e.magic.toString(16).padStart(8, "0")} is not a pcap file`;
    case "truncated-record":
      return `record ${e.index} at offset ${e.offset} is cut off`;
    case "bad-record-length":
      return `record ${e.index} captures ${e.incl} bytes of a ${e.orig}-byte frame`;
  }
}

/** Parses a whole pcap file. */
export function readPcap(
  bytes: Uint8Array,
): Result<{ header: PcapHeader; packets: PcapPacket[] }, PcapError> {
  if (bytes.length < PCAP_HEADER_LEN) return err({ kind: "too-short", len: bytes.length });
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = v.getUint32(0, true);
  const be = v.getUint32(0, false);
  let littleEndian: boolean;
  let nanosecond: boolean;
  if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS) {
    littleEndian = true;
    nanosecond = le === PCAP_MAGIC_NS;
  } else if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) {
    littleEndian = false;
    nanosecond = be === PCAP_MAGIC_NS;
  } else {
    return err({ kind: "bad-magic", magic: le });
  }
  const header: PcapHeader = {
    littleEndian,
    nanosecond,
    versionMajor: v.getUint16(4, littleEndian),
    versionMinor: v.getUint16(6, littleEndian),
    snaplen: v.getUint32(16, littleEndian),
    linktype: v.getUint32(20, littleEndian),
  };
  const packets: PcapPacket[] = [];
  let off = PCAP_HEADER_LEN;
  while (off < bytes.length) {
    const index = packets.length;
    if (off + PCAP_RECORD_HEADER_LEN > bytes.length) {
      return err({ kind: "truncated-record", index, offset: off });
    }
    const sec = v.getUint32(off, littleEndian);
    const frac = v.getUint32(off + 4, littleEndian);
    const incl = v.getUint32(off + 8, littleEndian);
    const orig = v.getUint32(off + 12, littleEndian);
    if (incl > orig && orig !== 0) return err({ kind: "bad-record-length", index, incl, orig });
    const start = off + PCAP_RECORD_HEADER_LEN;
    if (start + incl > bytes.length) return err({ kind: "truncated-record", index, offset: off });
    packets.push({
      tNs: sec * 1e9 + (nanosecond ? frac : frac * 1000),
      data: bytes.subarray(start, start + incl),
      origLen: orig,
    });
    off = start + incl;
  }
  return ok({ header, packets });
}
