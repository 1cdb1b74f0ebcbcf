/**
 * Guest physical memory: regions placed by guest-physical address (GPA), backed by sparse
 * chunks that are allocated the first time a byte in them is written. A 64 GiB guest costs
 * nothing until it is used; reading memory that was never written returns zeros without
 * allocating anything.
 *
 * Chunk size is 64 KiB ({@link CHUNK_SIZE}): big enough that a ring part or a 1500-byte
 * frame almost never straddles two chunks (so copies are one `Uint8Array.set`), small
 * enough that scattered touches stay cheap. It is an allocation granule only; it is not
 * visible to the guest (faults are reported at byte precision, by region).
 *
 * All multi-byte accessors are little-endian (virtio 1.x, §1.4). Accesses outside every
 * region return a fault value: the number accessors return -1 (the 64-bit one -1n), the
 * others `false`, and {@link GuestMemory.lastFault} says why. Nothing throws on a bad
 * address.
 *
 * Any virtio implementation can work on the same bytes: every method takes plain GPAs.
 *
 * @example Sparse RAM, little-endian accessors, faults as values
 * ```ts
 * import { GuestMemory } from "./guest_memory.ts";
 * const mem = new GuestMemory();
 * const ram = mem.addRegion({ name: "pc.ram", gpa: 0, size: 64 * 2 ** 30 });
 * if (!ram.ok) throw new Error("layout");
 * mem.setU32(0x1000, 0x11223344);
 * if (mem.getU8(0x1000) !== 0x44) throw new Error("little-endian expected");
 * if (mem.allocatedBytes !== 65536) throw new Error("one chunk expected");
 * if (mem.getU16(64 * 2 ** 30) !== -1) throw new Error("fault expected");
 * if (mem.lastFault?.kind !== "unmapped") throw new Error("unmapped expected");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import { MAX_ADDRESS, type MemoryFault, type MemoryLayoutError } from "./faults.ts";

/** Allocation granule of the sparse backing store, in bytes (64 KiB). */
export const CHUNK_SIZE = 65536;
/** Slots of the chunk lookup cache (a power of 2). */
const CACHE_SLOTS = 64;
/** Offset of an address inside its chunk: the low 16 bits (`>>> 0` is exact for integers below 2^53). */
const CHUNK_MASK = CHUNK_SIZE - 1;

/** What backs a region: ordinary RAM, or read-only memory (guest writes fault). */
export type RegionKind = "ram" | "rom";

/** How to place a region. */
export interface RegionOptions {
  /** A unique name (`pc.ram`, the id of a `memory-backend-*` object, …). */
  readonly name: string;
  /** First guest-physical address. */
  readonly gpa: number;
  /** Size in bytes (> 0). */
  readonly size: number;
  /** Default `"ram"`. */
  readonly kind?: RegionKind;
  /**
   * `share=on` on the memory backend: the pages can be mapped by another process (a
   * vhost-user back-end needs this). Default false.
   */
  readonly shared?: boolean;
  /** Id of the `-object memory-backend-*` that provides the region, if any. */
  readonly backend?: string;
}

/** A placed region. */
export interface MemRegion {
  /** Unique name. */
  readonly name: string;
  /** First guest-physical address. */
  readonly gpa: number;
  /** Size in bytes. */
  readonly size: number;
  /** `gpa + size`. */
  readonly end: number;
  /** RAM or ROM. */
  readonly kind: RegionKind;
  /** Mapped `share=on` (another process may map it). */
  readonly shared: boolean;
  /** Id of the memory backend object, if any. */
  readonly backend: string | undefined;
}

/** A chunk of backing bytes with a DataView over it. */
interface Chunk {
  readonly u8: Uint8Array;
  readonly dv: DataView;
}

/**
 * Copies up to this many bytes (headers, status bytes, a payload header) go byte by byte,
 * cheaper than creating the subarray `Uint8Array.set` needs; longer ones use `set`.
 */
const SMALL_COPY_MAX = 16;

function byteCopy(
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
  n: number,
): void {
  for (let k = 0; k < n; k++) dst[dstOff + k] = src[srcOff + k] as number;
}

/** Guest physical memory; see the module documentation. */
export class GuestMemory {
  #regions: MemRegion[] = [];
  #last: MemRegion | undefined = undefined;
  #chunks = new Map<number, Chunk>();
  #lastIdx = -1;
  #lastChunk: Chunk | undefined = undefined;
  /**
   * A direct-mapped cache of allocated chunks by index (slot = idx mod CACHE_SLOTS): a
   * datapath alternates between ring, TX-buffer and RX-buffer chunks, which the one-entry
   * cache above alone would miss every time.
   */
  readonly #cacheIdx = new Float64Array(CACHE_SLOTS).fill(-1);
  readonly #cacheChunk: (Chunk | undefined)[] = new Array(CACHE_SLOTS).fill(undefined);
  #generation = 0;

  /** Why the most recent failed access failed (stale after a successful one). */
  lastFault: MemoryFault | undefined = undefined;

  /** Where the range of the last successful {@link span} starts in the bytes it returned. */
  spanOffset = 0;

  /** Adds a region. Overlaps, empty regions and addresses past 2^53 are errors. */
  addRegion(opts: RegionOptions): Result<MemRegion, MemoryLayoutError> {
    const { name, gpa, size } = opts;
    if (size === 0) return err({ kind: "empty", name });
    if (
      !Number.isSafeInteger(gpa) || !Number.isSafeInteger(size) || gpa < 0 || size < 0 ||
      gpa + size > MAX_ADDRESS
    ) {
      return err({ kind: "out-of-range", name, gpa, size });
    }
    for (const r of this.#regions) {
      if (r.name === name) return err({ kind: "duplicate-name", name });
      if (gpa < r.end && r.gpa < gpa + size) return err({ kind: "overlap", name, other: r.name });
    }
    const region: MemRegion = {
      name,
      gpa,
      size,
      end: gpa + size,
      kind: opts.kind ?? "ram",
      shared: opts.shared ?? false,
      backend: opts.backend,
    };
    this.#regions.push(region);
    this.#regions.sort((a, b) => a.gpa - b.gpa);
    return ok(region);
  }

  /**
   * Removes a region (memory hot-unplug) and drops its bytes. Windows and cached ring
   * translations taken before are stale afterwards: {@link layoutGeneration} changes.
   */
  removeRegion(name: string): boolean {
    const i = this.#regions.findIndex((r) => r.name === name);
    const r = this.#regions[i];
    if (r === undefined) return false;
    this.#regions.splice(i, 1);
    this.#last = undefined;
    this.#lastIdx = -1;
    this.#lastChunk = undefined;
    this.#cacheIdx.fill(-1);
    this.#cacheChunk.fill(undefined);
    this.#generation++;
    for (let idx = Math.floor(r.gpa / CHUNK_SIZE); idx * CHUNK_SIZE < r.end; idx++) {
      const c = this.#chunks.get(idx);
      if (c === undefined) continue;
      const base = idx * CHUNK_SIZE;
      if (base >= r.gpa && base + CHUNK_SIZE <= r.end) this.#chunks.delete(idx);
      else c.u8.fill(0, Math.max(r.gpa, base) - base, Math.min(r.end, base + CHUNK_SIZE) - base);
    }
    return true;
  }

  /** The regions, sorted by address. */
  regions(): readonly MemRegion[] {
    return this.#regions;
  }

  /** The region holding `gpa`, if any. */
  findRegion(gpa: number): MemRegion | undefined {
    const rs = this.#regions;
    let lo = 0;
    let hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const r = rs[mid] as MemRegion;
      if (gpa < r.gpa) hi = mid - 1;
      else if (gpa >= r.end) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  /** Bytes of backing store allocated so far (a multiple of {@link CHUNK_SIZE}). */
  get allocatedBytes(): number {
    return this.#chunks.size * CHUNK_SIZE;
  }

  /** Changes whenever a region is removed: cached views and translations must be redone. */
  get layoutGeneration(): number {
    return this.#generation;
  }

  /**
   * True when every byte of `[gpa, gpa + len)` lies in some region (and, for `write`, no
   * byte is in a ROM). On false, {@link lastFault} says why.
   */
  check(gpa: number, len: number, write = false): boolean {
    const r = this.#last;
    if (r !== undefined && gpa >= r.gpa && gpa + len <= r.end && (!write || r.kind === "ram")) {
      return true;
    }
    return this.#slowCheck(gpa, len, write);
  }

  #slowCheck(gpa: number, len: number, write: boolean): boolean {
    if (
      !Number.isSafeInteger(gpa) || !Number.isSafeInteger(len) || gpa < 0 || len < 0 ||
      gpa + len > MAX_ADDRESS
    ) {
      this.lastFault = { kind: "out-of-range", gpa, len };
      return false;
    }
    // Walk adjacent regions: an access may straddle two contiguous regions legitimately.
    let at = gpa;
    const end = gpa + len;
    do {
      const r = this.findRegion(at);
      if (r === undefined) {
        this.lastFault = { kind: "unmapped", gpa, len };
        return false;
      }
      if (write && r.kind !== "ram") {
        this.lastFault = { kind: "read-only", gpa, len, region: r.name };
        return false;
      }
      this.#last = r;
      at = r.end;
    } while (at < end);
    return true;
  }

  #chunk(gpa: number, alloc: boolean): Chunk | undefined {
    const idx = Math.floor(gpa / CHUNK_SIZE);
    if (idx === this.#lastIdx) return this.#lastChunk;
    const slot = idx & (CACHE_SLOTS - 1);
    let c: Chunk | undefined;
    if (this.#cacheIdx[slot] === idx) c = this.#cacheChunk[slot];
    else {
      c = this.#chunks.get(idx);
      if (c === undefined) {
        if (!alloc) return undefined;
        const u8 = new Uint8Array(CHUNK_SIZE);
        c = { u8, dv: new DataView(u8.buffer) };
        this.#chunks.set(idx, c);
      }
      // only allocated chunks are cached: a miss must not hide a later allocation
      this.#cacheIdx[slot] = idx;
      this.#cacheChunk[slot] = c;
    }
    this.#lastIdx = idx;
    this.#lastChunk = c;
    return c;
  }

  /** Reads a byte, or -1 on a fault. */
  getU8(gpa: number): number {
    if (!this.check(gpa, 1)) return -1;
    const c = this.#chunk(gpa, false);
    return c === undefined ? 0 : c.u8[(gpa >>> 0) & CHUNK_MASK] as number;
  }

  /** Reads a little-endian u16, or -1 on a fault. */
  getU16(gpa: number): number {
    if (!this.check(gpa, 2)) return -1;
    const off = (gpa >>> 0) & CHUNK_MASK;
    if (off > CHUNK_SIZE - 2) return this.#getSlow(gpa, 2);
    const c = this.#chunk(gpa, false);
    return c === undefined ? 0 : c.dv.getUint16(off, true);
  }

  /** Reads a little-endian u32, or -1 on a fault. */
  getU32(gpa: number): number {
    if (!this.check(gpa, 4)) return -1;
    const off = (gpa >>> 0) & CHUNK_MASK;
    if (off > CHUNK_SIZE - 4) return this.#getSlow(gpa, 4);
    const c = this.#chunk(gpa, false);
    return c === undefined ? 0 : c.dv.getUint32(off, true);
  }

  /** Reads a little-endian u64 as a bigint, or -1n on a fault. */
  getU64(gpa: number): bigint {
    if (!this.check(gpa, 8)) return -1n;
    const lo = this.getU32(gpa);
    const hi = this.getU32(gpa + 4);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  #getSlow(gpa: number, n: number): number {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) {
      const c = this.#chunk(gpa + i, false);
      v = v * 256 + (c === undefined ? 0 : c.u8[((gpa + i) >>> 0) & CHUNK_MASK] as number);
    }
    return v;
  }

  /** Writes a byte; false on a fault. */
  setU8(gpa: number, v: number): boolean {
    if (!this.check(gpa, 1, true)) return false;
    (this.#chunk(gpa, true) as Chunk).u8[(gpa >>> 0) & CHUNK_MASK] = v;
    return true;
  }

  /** Writes a little-endian u16; false on a fault. */
  setU16(gpa: number, v: number): boolean {
    if (!this.check(gpa, 2, true)) return false;
    const off = (gpa >>> 0) & CHUNK_MASK;
    if (off > CHUNK_SIZE - 2) this.#setSlow(gpa, 2, v);
    else (this.#chunk(gpa, true) as Chunk).dv.setUint16(off, v, true);
    return true;
  }

  /** Writes a little-endian u32; false on a fault. */
  setU32(gpa: number, v: number): boolean {
    if (!this.check(gpa, 4, true)) return false;
    const off = (gpa >>> 0) & CHUNK_MASK;
    if (off > CHUNK_SIZE - 4) this.#setSlow(gpa, 4, v);
    else (this.#chunk(gpa, true) as Chunk).dv.setUint32(off, v, true);
    return true;
  }

  /** Writes a little-endian u64 (a bigint, or a number below 2^53); false on a fault. */
  setU64(gpa: number, v: bigint | number): boolean {
    if (!this.check(gpa, 8, true)) return false;
    const b = BigInt.asUintN(64, BigInt(v));
    this.setU32(gpa, Number(b & 0xffffffffn));
    this.setU32(gpa + 4, Number(b >> 32n));
    return true;
  }

  #setSlow(gpa: number, n: number, v: number): void {
    for (let i = 0; i < n; i++) {
      (this.#chunk(gpa + i, true) as Chunk).u8[((gpa + i) >>> 0) & CHUNK_MASK] = v & 0xff;
      v = Math.floor(v / 256);
    }
  }

  /**
   * Copies `len` bytes at `gpa` into `dst` starting at `dstOffset` (defaults: the rest of
   * `dst`). False on a fault, with `dst` untouched.
   */
  read(gpa: number, dst: Uint8Array, dstOffset = 0, len = dst.length - dstOffset): boolean {
    if (!this.check(gpa, len)) return false;
    const first = (gpa >>> 0) & CHUNK_MASK;
    if (first + len <= CHUNK_SIZE && len > SMALL_COPY_MAX) {
      // The common case: one chunk, one `set`.
      const c = this.#chunk(gpa, false);
      if (c === undefined) dst.fill(0, dstOffset, dstOffset + len);
      else dst.set(c.u8.subarray(first, first + len), dstOffset);
      return true;
    }
    while (len > 0) {
      const off = (gpa >>> 0) & CHUNK_MASK;
      const n = Math.min(len, CHUNK_SIZE - off);
      const c = this.#chunk(gpa, false);
      if (c === undefined) dst.fill(0, dstOffset, dstOffset + n);
      else if (n <= SMALL_COPY_MAX) byteCopy(c.u8, off, dst, dstOffset, n);
      else dst.set(c.u8.subarray(off, off + n), dstOffset);
      gpa += n;
      dstOffset += n;
      len -= n;
    }
    return true;
  }

  /**
   * {@link read} for a range the caller validated with {@link check} (or a queue pop) in the
   * current {@link layoutGeneration}: skips the region lookup. Never use it on an address
   * that was not checked; it would read whatever backs it.
   */
  readChecked(gpa: number, dst: Uint8Array, dstOffset: number, len: number): void {
    const first = (gpa >>> 0) & CHUNK_MASK;
    if (first + len <= CHUNK_SIZE) {
      const c = this.#chunk(gpa, false);
      if (c === undefined) dst.fill(0, dstOffset, dstOffset + len);
      else if (len <= SMALL_COPY_MAX) byteCopy(c.u8, first, dst, dstOffset, len);
      else dst.set(c.u8.subarray(first, first + len), dstOffset);
      return;
    }
    this.read(gpa, dst, dstOffset, len);
  }

  /**
   * Copies `len` bytes of `src` from `srcOffset` (defaults: the rest of `src`) to `gpa`.
   * False on a fault, with memory untouched.
   */
  write(gpa: number, src: Uint8Array, srcOffset = 0, len = src.length - srcOffset): boolean {
    if (!this.check(gpa, len, true)) return false;
    while (len > 0) {
      const off = (gpa >>> 0) & CHUNK_MASK;
      const n = Math.min(len, CHUNK_SIZE - off);
      const c = this.#chunk(gpa, true) as Chunk;
      if (n <= SMALL_COPY_MAX) byteCopy(src, srcOffset, c.u8, off, n);
      else c.u8.set(src.subarray(srcOffset, srcOffset + n), off);
      gpa += n;
      srcOffset += n;
      len -= n;
    }
    return true;
  }

  /** Fills `len` bytes at `gpa` with `value`; false on a fault. */
  fill(gpa: number, len: number, value = 0): boolean {
    if (!this.check(gpa, len, true)) return false;
    while (len > 0) {
      const off = (gpa >>> 0) & CHUNK_MASK;
      const n = Math.min(len, CHUNK_SIZE - off);
      const c = this.#chunk(gpa, value !== 0);
      if (c !== undefined) c.u8.fill(value, off, off + n);
      gpa += n;
      len -= n;
    }
    return true;
  }

  /** Copies `len` bytes inside guest memory (overlapping ranges allowed); false on a fault. */
  copy(dstGpa: number, srcGpa: number, len: number): boolean {
    if (!this.check(srcGpa, len) || !this.check(dstGpa, len, true)) return false;
    const tmp = new Uint8Array(len);
    this.read(srcGpa, tmp);
    this.write(dstGpa, tmp);
    return true;
  }

  /**
   * In-place access to `[gpa, gpa + len)` without a copy or a view object: when the range
   * lies in one backing chunk, returns that chunk's bytes and sets {@link spanOffset} to
   * where `gpa` lies in them (the caller touches only `[spanOffset, spanOffset + len)`).
   * Undefined on a fault ({@link lastFault} set), or — {@link lastFault} undefined — when
   * the range straddles chunks or, for a read, was never written: use {@link read} /
   * {@link write} then. Pass `write` when the bytes will be written (a ROM faults, the chunk
   * is allocated).
   */
  span(gpa: number, len: number, write = false): Uint8Array | undefined {
    if (!this.check(gpa, len, write)) return undefined;
    return this.#span(gpa, len, write);
  }

  /**
   * {@link span} for a range the caller validated with {@link check} (or a queue pop) in the
   * current {@link layoutGeneration}: skips the region lookup. Never use it on an address
   * that was not checked.
   */
  spanChecked(gpa: number, len: number, write = false): Uint8Array | undefined {
    return this.#span(gpa, len, write);
  }

  #span(gpa: number, len: number, write: boolean): Uint8Array | undefined {
    const off = (gpa >>> 0) & CHUNK_MASK;
    if (off + len > CHUNK_SIZE) {
      this.lastFault = undefined;
      return undefined;
    }
    const c = this.#chunk(gpa, write);
    if (c === undefined) {
      this.lastFault = undefined;
      return undefined;
    }
    this.spanOffset = off;
    return c.u8;
  }

  /**
   * A zero-copy view of `[gpa, gpa + len)` when the range lies inside one backing chunk
   * (allocating it), for payload copies with `Uint8Array.set`. Returns undefined on a fault
   * ({@link lastFault} set) or when the range straddles chunks ({@link lastFault}
   * undefined): use {@link read}/{@link write} then. Pass `write` when the view will be
   * written, so that a ROM faults.
   */
  view(gpa: number, len: number, write = false): Uint8Array | undefined {
    if (!this.check(gpa, len, write)) return undefined;
    const off = (gpa >>> 0) & CHUNK_MASK;
    if (off + len > CHUNK_SIZE) {
      this.lastFault = undefined;
      return undefined;
    }
    return (this.#chunk(gpa, true) as Chunk).u8.subarray(off, off + len);
  }
}
