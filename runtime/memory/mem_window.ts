/**
 * A window on a fixed range of guest memory (a ring part, an event suppression structure),
 * checked once when opened and then read and written by offset without any region lookup.
 * This is what QEMU calls a memory region cache (`address_space_cache_init` for the desc,
 * avail and used rings) and what vhost does when it prefetches ring metadata.
 *
 * When the range lies in one backing chunk the window holds a DataView on it (the fast,
 * common case); otherwise it falls back to the {@link GuestMemory} accessors. A window is
 * stale once {@link GuestMemory.layoutGeneration} changes (a region was removed); its owner
 * re-opens it.
 *
 * @example
 * ```ts
 * import { GuestMemory } from "./guest_memory.ts";
 * import { MemWindow } from "./mem_window.ts";
 * const mem = new GuestMemory();
 * mem.addRegion({ name: "ram", gpa: 0, size: 1 << 20 });
 * const w = MemWindow.open(mem, 0x2000, 6, true);
 * if (!w.ok) throw new Error("fault");
 * w.value.setU16(2, 7);
 * if (mem.getU16(0x2002) !== 7) throw new Error("same bytes expected");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { MemoryFault } from "./faults.ts";
import type { GuestMemory } from "./guest_memory.ts";

/**
 * The little-endian accessors of a window: a DataView on the backing chunk, or a stand-in with
 * the same methods when the range straddles chunks. Hot paths call these directly (pass
 * `true`: virtio 1.x is little-endian).
 */
export interface LeView {
  /** Reads a little-endian u16 at `byteOffset`. */
  getUint16(byteOffset: number, littleEndian: true): number;
  /** Reads a little-endian u32 at `byteOffset`. */
  getUint32(byteOffset: number, littleEndian: true): number;
  /** Writes a little-endian u16 at `byteOffset`. */
  setUint16(byteOffset: number, value: number, littleEndian: true): void;
  /** Writes a little-endian u32 at `byteOffset`. */
  setUint32(byteOffset: number, value: number, littleEndian: true): void;
}

/** The stand-in view for a range that straddles chunks: goes through the memory accessors. */
class StraddlingView implements LeView {
  #mem: GuestMemory;
  #gpa: number;
  constructor(mem: GuestMemory, gpa: number) {
    this.#mem = mem;
    this.#gpa = gpa;
  }
  getUint16(off: number): number {
    return this.#mem.getU16(this.#gpa + off);
  }
  getUint32(off: number): number {
    return this.#mem.getU32(this.#gpa + off);
  }
  setUint16(off: number, v: number): void {
    this.#mem.setU16(this.#gpa + off, v);
  }
  setUint32(off: number, v: number): void {
    this.#mem.setU32(this.#gpa + off, v);
  }
}

/** A checked window on `[gpa, gpa + len)`; see the module documentation. */
export class MemWindow {
  /** First guest-physical address of the window. */
  readonly gpa: number;
  /** Length in bytes. */
  readonly len: number;
  /** The memory layout generation the window was opened against. */
  readonly generation: number;
  /** Offset-based little-endian access to the window's bytes. */
  readonly view: LeView;
  #mem: GuestMemory;

  private constructor(mem: GuestMemory, gpa: number, len: number, dv: DataView | undefined) {
    this.gpa = gpa;
    this.len = len;
    this.generation = mem.layoutGeneration;
    this.#mem = mem;
    this.view = dv ?? new StraddlingView(mem, gpa);
  }

  /** Opens a window; faults when any byte is outside memory (or in a ROM, for `write`). */
  static open(
    mem: GuestMemory,
    gpa: number,
    len: number,
    write: boolean,
  ): Result<MemWindow, MemoryFault> {
    if (!mem.check(gpa, len, write)) {
      return err(mem.lastFault ?? { kind: "unmapped", gpa, len });
    }
    const v = mem.view(gpa, len, write);
    const dv = v === undefined ? undefined : new DataView(v.buffer, v.byteOffset, v.byteLength);
    return ok(new MemWindow(mem, gpa, len, dv));
  }

  /** True while the memory layout has not changed since the window was opened. */
  get fresh(): boolean {
    return this.generation === this.#mem.layoutGeneration;
  }

  /** Reads a u16 at `off` (relative to the window). */
  u16(off: number): number {
    return this.view.getUint16(off, true);
  }

  /** Reads a u32 at `off`. */
  u32(off: number): number {
    return this.view.getUint32(off, true);
  }

  /** Writes a u16 at `off`. */
  setU16(off: number, v: number): void {
    this.view.setUint16(off, v, true);
  }

  /** Writes a u32 at `off`. */
  setU32(off: number, v: number): void {
    this.view.setUint32(off, v, true);
  }
}
