/**
 * The vhost memory table (`struct vhost_memory` / the vhost-user SET_MEM_TABLE payload):
 * the regions of guest RAM and where each one is mapped in the back-end's address space.
 * A vhost back-end translates descriptor addresses (GPAs) to HVAs with it; ring addresses
 * arrive as HVAs already. Both directions are {@link Translator}s, so a device queue can
 * be built on them.
 *
 * In the simulator an HVA names a byte of guest memory through the table, so
 * {@link MemTable.gpaToGuestMemory} (GPA → HVA → GPA) is the translator a vhost device queue
 * uses for descriptors: identity where the table maps the address, a fault where it does
 * not, exactly like vhost's `translate_desc` failing with -EFAULT.
 *
 * @example GPA → HVA and back
 * ```ts
 * import { MemTable } from "./mem_table.ts";
 * import { newTranslateResult, VHOST_ACCESS_RO } from "./translator.ts";
 * const t = MemTable.create([
 *   { guestPhysAddr: 0, memorySize: 0x8000_0000, userspaceAddr: 0x7f00_0000_0000 },
 * ]);
 * if (!t.ok) throw new Error("bad table");
 * const out = newTranslateResult();
 * if (!t.value.gpaToHva.translate(0x1000, 64, VHOST_ACCESS_RO, out)) throw new Error("fault");
 * if (out.addr !== 0x7f00_0000_1000) throw new Error("wrong hva");
 * if (t.value.gpaToHva.translate(0x8000_0000, 1, VHOST_ACCESS_RO, out)) throw new Error("hole");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import { composeTranslators } from "./compose.ts";
import { MAX_ADDRESS } from "./faults.ts";
import type { GuestMemory } from "./guest_memory.ts";
import type { Access, TranslateResult, Translator } from "./translator.ts";

/** One `struct vhost_memory_region` (32 bytes on the wire; `flags_padding` omitted). */
export interface VhostMemoryRegion {
  /** First guest-physical address of the region. */
  readonly guestPhysAddr: number;
  /** Size of the region in bytes. */
  readonly memorySize: number;
  /** Where the region is mapped in the back-end's address space (HVA). */
  readonly userspaceAddr: number;
  /** vhost-user only: offset of the region in the shared file. Default 0. */
  readonly mmapOffset?: number;
}

/** Default limit on regions: the vhost module parameter `max_mem_regions` (64). */
export const VHOST_MAX_MEM_REGIONS = 64;

/** Why a memory table was refused. */
export type MemTableError =
  /** More regions than allowed (vhost: -E2BIG). */
  | { readonly kind: "too-many-regions"; readonly count: number; readonly max: number }
  /** A region of size 0. */
  | { readonly kind: "empty-region"; readonly index: number }
  /** A region whose end is beyond the address space (vhost: -EFAULT). */
  | { readonly kind: "region-overflow"; readonly index: number }
  /** Two regions cover the same guest-physical or the same user address. */
  | {
    readonly kind: "region-overlap";
    readonly index: number;
    readonly other: number;
    readonly space: "gpa" | "hva";
  };

/** One lowercase line describing a memory table error. */
export function describeMemTableError(e: MemTableError): string {
  switch (e.kind) {
    case "too-many-regions":
      return `memory table has ${e.count} regions, the limit is ${e.max}`;
    case "empty-region":
      return `memory region ${e.index} has size 0`;
    case "region-overflow":
      return `memory region ${e.index} extends past the end of the address space`;
    case "region-overlap":
      return `memory region ${e.index} overlaps region ${e.other} (${e.space})`;
  }
}

/** Translates through sorted, non-overlapping ranges `[from, from + size)` → `to`. */
class RangeTranslator implements Translator {
  #from: Float64Array;
  #to: Float64Array;
  #size: Float64Array;
  #last = 0;

  constructor(ranges: readonly { from: number; to: number; size: number }[]) {
    const sorted = [...ranges].sort((a, b) => a.from - b.from);
    this.#from = Float64Array.from(sorted, (r) => r.from);
    this.#to = Float64Array.from(sorted, (r) => r.to);
    this.#size = Float64Array.from(sorted, (r) => r.size);
  }

  #find(addr: number): number {
    const from = this.#from;
    const size = this.#size;
    const l = this.#last;
    if (
      l < from.length && addr >= (from[l] as number) &&
      addr - (from[l] as number) < (size[l] as number)
    ) {
      return l;
    }
    let lo = 0;
    let hi = from.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const f = from[mid] as number;
      if (addr < f) hi = mid - 1;
      else if (addr - f >= (size[mid] as number)) lo = mid + 1;
      else return (this.#last = mid);
    }
    return -1;
  }

  translate(addr: number, len: number, access: Access, out: TranslateResult): boolean {
    const i = this.#find(addr);
    if (i < 0) {
      out.fault = !Number.isSafeInteger(addr) || addr < 0
        ? { kind: "out-of-range", iova: addr, limit: MAX_ADDRESS - 1 }
        : { kind: "unmapped", iova: addr, access };
      return false;
    }
    const off = addr - (this.#from[i] as number);
    out.addr = (this.#to[i] as number) + off;
    out.len = Math.min(len, (this.#size[i] as number) - off);
    out.fault = undefined;
    return true;
  }
}

/** A validated vhost memory table; see the module documentation. */
export class MemTable {
  #regions: readonly VhostMemoryRegion[];
  /** GPA → HVA (what vhost does to every descriptor address). */
  readonly gpaToHva: Translator;
  /** HVA → GPA (how the simulator finds the guest bytes behind an HVA). */
  readonly hvaToGpa: Translator;
  /** GPA → guest memory through the table: faults where the table has no entry. */
  readonly gpaToGuestMemory: Translator;

  private constructor(regions: readonly VhostMemoryRegion[]) {
    this.#regions = regions;
    this.gpaToHva = new RangeTranslator(
      regions.map((r) => ({ from: r.guestPhysAddr, to: r.userspaceAddr, size: r.memorySize })),
    );
    this.hvaToGpa = new RangeTranslator(
      regions.map((r) => ({ from: r.userspaceAddr, to: r.guestPhysAddr, size: r.memorySize })),
    );
    this.gpaToGuestMemory = composeTranslators(this.gpaToHva, this.hvaToGpa);
  }

  /** Validates and builds a table. */
  static create(
    regions: readonly VhostMemoryRegion[],
    options: { readonly maxRegions?: number } = {},
  ): Result<MemTable, MemTableError> {
    const max = options.maxRegions ?? VHOST_MAX_MEM_REGIONS;
    if (regions.length > max) return err({ kind: "too-many-regions", count: regions.length, max });
    for (let i = 0; i < regions.length; i++) {
      const r = regions[i] as VhostMemoryRegion;
      if (r.memorySize === 0) return err({ kind: "empty-region", index: i });
      for (const a of [r.guestPhysAddr, r.userspaceAddr]) {
        if (!Number.isSafeInteger(a) || a < 0 || a + r.memorySize > MAX_ADDRESS) {
          return err({ kind: "region-overflow", index: i });
        }
      }
      if (!Number.isSafeInteger(r.memorySize) || r.memorySize < 0) {
        return err({ kind: "region-overflow", index: i });
      }
      for (let j = 0; j < i; j++) {
        const o = regions[j] as VhostMemoryRegion;
        if (overlaps(r.guestPhysAddr, o.guestPhysAddr, r.memorySize, o.memorySize)) {
          return err({ kind: "region-overlap", index: i, other: j, space: "gpa" });
        }
        if (overlaps(r.userspaceAddr, o.userspaceAddr, r.memorySize, o.memorySize)) {
          return err({ kind: "region-overlap", index: i, other: j, space: "hva" });
        }
      }
    }
    return ok(new MemTable(regions.map((r) => ({ ...r }))));
  }

  /**
   * The table QEMU would send for `mem`: one entry per RAM region, mapped one after the
   * other from `hvaBase` (each mapping starting on a 2 MiB boundary, like an mmap of a
   * hugepage-backed or THP-aligned block).
   */
  static fromGuestMemory(
    mem: GuestMemory,
    options: { readonly hvaBase?: number } = {},
  ): Result<MemTable, MemTableError> {
    const align = 2 * 1024 * 1024;
    let hva = options.hvaBase ?? 0x7f00_0000_0000;
    const regions: VhostMemoryRegion[] = [];
    for (const r of mem.regions()) {
      if (r.kind !== "ram") continue;
      regions.push({ guestPhysAddr: r.gpa, memorySize: r.size, userspaceAddr: hva });
      hva += Math.ceil(r.size / align) * align;
    }
    return MemTable.create(regions);
  }

  /** The regions, in the order given. */
  regions(): readonly VhostMemoryRegion[] {
    return this.#regions;
  }
}

function overlaps(a: number, b: number, asz: number, bsz: number): boolean {
  return a < b + bsz && b < a + asz;
}
