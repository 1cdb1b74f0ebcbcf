/**
 * An IOMMU second-level page table, modelled as the real radix structure: 512-entry tables,
 * one level per 9 address bits above the 4 KiB page offset (3 levels for a 39-bit address
 * width, 4 for 48, 5 for 57), with large-page leaves (the PS bit) at level 2 (2 MiB) and
 * level 3 (1 GiB). A walk reports how many table levels it read, which is what an IOTLB miss
 * costs. The same structure holds a host domain (IOVA → PA) and a guest vIOMMU domain
 * (IOVA → GPA).
 *
 * Addresses are JavaScript numbers, so the usable aperture is capped at 2^53 even for a
 * 57-bit width.
 *
 * @example Map 8 KiB read-only and walk it
 * ```ts
 * import { IoPageTable, newWalkResult } from "./page_table.ts";
 * import { VHOST_ACCESS_RO } from "../memory/translator.ts";
 * const pt = new IoPageTable(48);
 * const r = pt.map(0x10000, 0x80000, 0x2000, VHOST_ACCESS_RO);
 * if (!r.ok) throw new Error("map failed");
 * const w = newWalkResult();
 * if (!pt.walk(0x11234, w) || w.pa !== 0x81000 || w.levels !== 4) throw new Error("walk");
 * ```
 *
 * @module
 */

import type { Access } from "../memory/translator.ts";
import { err, ok, type Result } from "../result.ts";
import type { IommuError } from "./iommu_error.ts";

/** The minimum IOMMU page (VTD_PAGE_SIZE). */
export const PAGE_SIZE_4K = 0x1000;
/** A level-2 large page (PS bit in a PDE). */
export const PAGE_SIZE_2M = 0x20_0000;
/** A level-3 large page (PS bit in a PDPE). */
export const PAGE_SIZE_1G = 0x4000_0000;
/** Entries per page-table page (4 KiB of 8-byte entries). */
export const PT_ENTRIES = 512;

/** Supported address widths (VT-d SAGAW: 39 = 3-level, 48 = 4-level, 57 = 5-level). */
export type AddressWidth = 39 | 48 | 57;

/** Largest address a number holds exactly; apertures are capped here. */
export const IOVA_LIMIT = 2 ** 53;

/** The number of table levels for an address width. */
export function levelsFor(width: AddressWidth): 3 | 4 | 5 {
  // VT-d §3.6: each level resolves 9 bits above the 12-bit page offset.
  return width === 39 ? 3 : width === 48 ? 4 : 5;
}

/** Filled by {@link IoPageTable.walk}; reuse one across calls. */
export interface WalkResult {
  /** IOVA of the first byte of the leaf page. */
  pageIova: number;
  /** Leaf page size: 4 KiB, 2 MiB or 1 GiB. */
  pageSize: number;
  /** Output address of the first byte of the leaf page. */
  pa: number;
  /** Leaf permission bits (R = 1, W = 2). */
  perm: Access;
  /** Table levels read, including the one that held the leaf (or the empty slot). */
  levels: number;
}

/** A fresh walk result. */
export function newWalkResult(): WalkResult {
  return { pageIova: 0, pageSize: 0, pa: 0, perm: 0, levels: 0 };
}

/** A run of mapped IOVA space with contiguous output addresses and one permission. */
export interface MappedRange {
  readonly iova: number;
  readonly size: number;
  readonly pa: number;
  readonly perm: Access;
  /** Leaf counts by page size. */
  readonly pages4k: number;
  readonly pages2m: number;
  readonly pages1g: number;
}

/** What {@link IoPageTable.map} installed. */
export interface MapSummary {
  readonly pages4k: number;
  readonly pages2m: number;
  readonly pages1g: number;
}

/** What {@link IoPageTable.unmap} removed. */
export interface UnmapSummary {
  /** Bytes removed (a large leaf counts whole even if the request covered part of it). */
  readonly bytes: number;
  /** IOVA of the lowest removed byte (the request start when nothing was removed). */
  readonly start: number;
  /** One past the highest removed byte. */
  readonly end: number;
}

class Leaf {
  constructor(readonly pa: number, readonly perm: Access, readonly size: number) {}
}

class Table {
  readonly slots: (Table | Leaf | undefined)[] = new Array(PT_ENTRIES);
  used = 0;
}

const SIZES = [PAGE_SIZE_1G, PAGE_SIZE_2M, PAGE_SIZE_4K] as const;

/** Bytes covered by one slot of a level (level 1 holds 4 KiB leaves). */
function slotSize(level: number): number {
  return PAGE_SIZE_4K * PT_ENTRIES ** (level - 1);
}

function levelOfSize(size: number): number {
  return size === PAGE_SIZE_1G ? 3 : size === PAGE_SIZE_2M ? 2 : 1;
}

/** A radix page table of one domain. */
export class IoPageTable {
  readonly #levels: number;
  readonly #limit: number;
  readonly #largePages: boolean;
  readonly #slot: number[];
  readonly #domain: number;
  #root = new Table();
  #mappedBytes = 0;
  #tables = 1;

  /**
   * @param width address width; sets the number of levels and the aperture
   * @param options `largePages: false` maps everything with 4 KiB leaves (intel_iommu=sp_off);
   *   `domain` names the owner in errors
   */
  constructor(width: AddressWidth, options: { largePages?: boolean; domain?: number } = {}) {
    this.#domain = options.domain ?? 0;
    this.#levels = levelsFor(width);
    this.#limit = Math.min(2 ** width, IOVA_LIMIT);
    this.#largePages = options.largePages ?? true;
    this.#slot = [0];
    for (let l = 1; l <= this.#levels; l++) this.#slot.push(slotSize(l));
  }

  /** Table levels a full 4 KiB walk reads. */
  get levels(): number {
    return this.#levels;
  }

  /** One past the highest mappable IOVA. */
  get limit(): number {
    return this.#limit;
  }

  /** Bytes mapped. */
  get mappedBytes(): number {
    return this.#mappedBytes;
  }

  /** Page-table pages in use, the root included. */
  get tablePages(): number {
    return this.#tables;
  }

  #index(iova: number, level: number): number {
    return Math.floor(iova / (this.#slot[level] as number)) % PT_ENTRIES;
  }

  /**
   * Walks the table for `iova`. Returns true and fills `out` when a leaf maps it; returns false
   * (with `out.levels` set) when the walk hits an empty slot. Allocation-free.
   */
  walk(iova: number, out: WalkResult): boolean {
    let table = this.#root;
    let depth = 0;
    if (!(iova >= 0 && iova < this.#limit)) {
      out.levels = 0;
      return false;
    }
    for (let level = this.#levels; level >= 1; level--) {
      depth++;
      const e = table.slots[this.#index(iova, level)];
      if (e === undefined) break;
      if (e instanceof Leaf) {
        out.pageSize = e.size;
        out.pageIova = iova - (iova % e.size);
        out.pa = e.pa;
        out.perm = e.perm;
        out.levels = depth;
        return true;
      }
      table = e;
    }
    out.levels = depth;
    return false;
  }

  /** The lowest mapped IOVA in `[start, end)`, if any. */
  firstMapped(start: number, end: number): number | undefined {
    let found: number | undefined;
    this.#visit(this.#root, this.#levels, 0, start, end, (base) => {
      found = base;
      return false;
    });
    return found;
  }

  /**
   * Maps `[iova, iova + size)` to `[pa, pa + size)` with `perm`, choosing the largest page
   * that both addresses' alignment and the remaining size allow. Refuses (changing nothing)
   * unaligned input, a permission without R or W, space beyond the aperture and any overlap.
   */
  map(iova: number, pa: number, size: number, perm: Access): Result<MapSummary, IommuError> {
    // Linux iommu_map(): iova, paddr and size must be multiples of the minimum page size.
    if (iova % PAGE_SIZE_4K !== 0 || pa % PAGE_SIZE_4K !== 0 || size % PAGE_SIZE_4K !== 0) {
      return err({ kind: "unaligned", iova, pa, size });
    }
    // intel-iommu __domain_mapping(): a PTE needs DMA_PTE_READ or DMA_PTE_WRITE.
    if ((perm & 3) === 0) return err({ kind: "bad-perm", perm });
    if (iova < 0 || pa < 0 || size < 0 || iova + size > this.#limit) {
      return err({ kind: "out-of-range", iova, size, limit: this.#limit });
    }
    const existing = this.firstMapped(iova, iova + size);
    // A present PTE is never silently replaced (io-pgtable returns -EEXIST).
    if (existing !== undefined) {
      return err({ kind: "overlap", domain: this.#domain, iova, size, existing });
    }
    const counts = [0, 0, 0];
    let off = 0;
    while (off < size) {
      const at = iova + off;
      const to = pa + off;
      let chosen: number = PAGE_SIZE_4K;
      for (let i = 0; i < SIZES.length; i++) {
        const ps = SIZES[i] as number;
        if (ps !== PAGE_SIZE_4K && (!this.#largePages || levelOfSize(ps) > this.#levels)) {
          continue;
        }
        if (at % ps === 0 && to % ps === 0 && size - off >= ps) {
          chosen = ps;
          counts[i] = (counts[i] as number) + 1;
          break;
        }
      }
      this.#install(at, to, chosen, perm);
      off += chosen;
    }
    this.#mappedBytes += size;
    return ok({
      pages1g: counts[0] as number,
      pages2m: counts[1] as number,
      pages4k: counts[2] as number,
    });
  }

  #install(iova: number, pa: number, size: number, perm: Access): void {
    const leafLevel = levelOfSize(size);
    let table = this.#root;
    for (let level = this.#levels; level > leafLevel; level--) {
      const i = this.#index(iova, level);
      const e = table.slots[i];
      if (e instanceof Table) {
        table = e;
        continue;
      }
      if (e !== undefined) throw new Error("Overlap reached install despite the check");
      const t = new Table();
      table.slots[i] = t;
      table.used++;
      this.#tables++;
      table = t;
    }
    const i = this.#index(iova, leafLevel);
    const old = table.slots[i];
    // Only an empty table can sit where a large leaf goes (the overlap check passed), and
    // intel-iommu frees such tables to make room for the superpage.
    if (old instanceof Table) this.#tables -= countTables(old);
    else table.used++;
    table.slots[i] = new Leaf(pa, perm, size);
  }

  /**
   * Unmaps from `iova` for `size` bytes, leaf by leaf, stopping at the first hole (Linux
   * `__iommu_unmap()` stops when the driver unmaps nothing). A large leaf is removed whole
   * (intel-iommu unmaps the full superpage and reports its size). Unaligned input is refused.
   */
  unmap(iova: number, size: number): Result<UnmapSummary, IommuError> {
    if (iova % PAGE_SIZE_4K !== 0 || size % PAGE_SIZE_4K !== 0 || iova < 0 || size < 0) {
      return err({ kind: "unaligned", iova, pa: undefined, size });
    }
    const end = iova + size;
    let at = iova;
    let start = iova;
    let bytes = 0;
    const path: Table[] = [];
    const idx: number[] = [];
    while (at < end && at < this.#limit) {
      path.length = 0;
      idx.length = 0;
      let table = this.#root;
      let leaf: Leaf | undefined;
      for (let level = this.#levels; level >= 1; level--) {
        const i = this.#index(at, level);
        path.push(table);
        idx.push(i);
        const e = table.slots[i];
        if (e === undefined) break;
        if (e instanceof Leaf) {
          leaf = e;
          break;
        }
        table = e;
      }
      if (leaf === undefined) break;
      const base = at - (at % leaf.size);
      if (bytes === 0) start = base;
      // Remove the leaf, then free tables that became empty, bottom up.
      for (let k = path.length - 1; k >= 0; k--) {
        const t = path[k] as Table;
        t.slots[idx[k] as number] = undefined;
        t.used--;
        if (t.used > 0 || k === 0) break;
        this.#tables--;
      }
      bytes += leaf.size;
      this.#mappedBytes -= leaf.size;
      at = base + leaf.size;
    }
    return ok({ bytes, start, end: bytes === 0 ? start : at });
  }

  /** Mapped space in IOVA order, adjacent leaves merged when IOVA, output and perm continue. */
  ranges(): MappedRange[] {
    const out: MappedRange[] = [];
    let cur: { iova: number; size: number; pa: number; perm: Access; c: number[] } | undefined;
    this.#visit(this.#root, this.#levels, 0, 0, this.#limit, (base, leaf) => {
      const ci = leaf.size === PAGE_SIZE_1G ? 0 : leaf.size === PAGE_SIZE_2M ? 1 : 2;
      if (
        cur !== undefined && cur.iova + cur.size === base && cur.pa + cur.size === leaf.pa &&
        cur.perm === leaf.perm
      ) {
        cur.size += leaf.size;
        cur.c[ci] = (cur.c[ci] as number) + 1;
      } else {
        if (cur !== undefined) out.push(freeze(cur));
        cur = { iova: base, size: leaf.size, pa: leaf.pa, perm: leaf.perm, c: [0, 0, 0] };
        cur.c[ci] = 1;
      }
      return true;
    });
    if (cur !== undefined) out.push(freeze(cur));
    return out;
  }

  /** Removes every mapping. */
  clear(): void {
    this.#root = new Table();
    this.#mappedBytes = 0;
    this.#tables = 1;
  }

  #visit(
    table: Table,
    level: number,
    base: number,
    start: number,
    end: number,
    fn: (leafBase: number, leaf: Leaf) => boolean,
  ): boolean {
    const step = this.#slot[level] as number;
    const first = Math.max(0, Math.floor((start - base) / step));
    const last = Math.min(PT_ENTRIES - 1, Math.floor((end - 1 - base) / step));
    for (let i = first; i <= last; i++) {
      const e = table.slots[i];
      if (e === undefined) continue;
      const b = base + i * step;
      if (e instanceof Leaf) {
        if (!fn(b, e)) return false;
      } else if (!this.#visit(e, level - 1, b, start, end, fn)) {
        return false;
      }
    }
    return true;
  }
}

function countTables(t: Table): number {
  let n = 1;
  for (const e of t.slots) if (e instanceof Table) n += countTables(e);
  return n;
}

function freeze(
  c: { iova: number; size: number; pa: number; perm: Access; c: number[] },
): MappedRange {
  return {
    iova: c.iova,
    size: c.size,
    pa: c.pa,
    perm: c.perm,
    pages1g: c.c[0] as number,
    pages2m: c.c[1] as number,
    pages4k: c.c[2] as number,
  };
}
