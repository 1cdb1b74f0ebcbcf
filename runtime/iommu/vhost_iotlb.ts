/**
 * The kernel's software IOTLB (`struct vhost_iotlb`, drivers/vhost/iotlb.c): a set of ranges
 * {start, last, size, addr, perm} with interval-tree queries, used by vhost devices, by
 * vhost-vdpa per address space and by vdpa_sim. Like the kernel's tree it accepts overlapping
 * ranges; `first(start, last)` returns the overlapping range with the lowest start (ties in
 * insertion order).
 *
 * A limit with the RETIRE flag evicts the oldest range to make room (vhost's device IOTLB,
 * `max_iotlb_entries` = 2048). A limit without RETIRE is not enforced by
 * `vhost_iotlb_add_range()` (the kernel only consults the limit with RETIRE set).
 *
 * Stored as an array sorted by start with a running maximum of `last`, which answers the same
 * queries as the kernel's augmented rb-tree: lookups are O(log n), updates O(n).
 *
 * @example
 * ```ts
 * import { VhostIotlb } from "./vhost_iotlb.ts";
 * const tlb = new VhostIotlb({ limit: 2, retire: true });
 * tlb.addRange(0x0000, 0x0fff, 0xa000, 3);
 * tlb.addRange(0x1000, 0x1fff, 0xb000, 3);
 * tlb.addRange(0x2000, 0x2fff, 0xc000, 3); // evicts the oldest range
 * if (tlb.first(0x0, 0x0) !== undefined || tlb.size !== 2) throw new Error("retire");
 * ```
 *
 * @module
 */

import type { Access } from "../memory/translator.ts";
import { err, ok, type Result } from "../result.ts";
import type { VhostIotlbError } from "./vhost_iotlb_error.ts";

/** One range (`struct vhost_iotlb_map`). */
export interface VhostIotlbMap {
  readonly start: number;
  /** Last byte, inclusive. */
  readonly last: number;
  readonly size: number;
  /** Address of `start` in the next space down (HVA, PA or VA). */
  readonly addr: number;
  readonly perm: Access;
}

/** Default `max_iotlb_entries` of vhost and vdpa_sim. */
export const MAX_IOTLB_ENTRIES = 2048;

class MapNode implements VhostIotlbMap {
  constructor(
    readonly start: number,
    readonly last: number,
    readonly addr: number,
    readonly perm: Access,
  ) {}
  get size(): number {
    return this.last - this.start + 1;
  }
}

/** A software IOTLB. */
export class VhostIotlb {
  readonly #limit: number;
  readonly #retire: boolean;
  readonly #onEvict: ((m: VhostIotlbMap) => void) | undefined;
  #sorted: MapNode[] = [];
  #maxLast: number[] = [];
  #age = new Set<MapNode>();

  /**
   * @param options `limit` ranges (0 = unlimited) and `retire` (VHOST_IOTLB_FLAG_RETIRE:
   *   evict the oldest at the limit); `onEvict` hears each eviction
   */
  constructor(
    options: {
      limit?: number | undefined;
      retire?: boolean | undefined;
      onEvict?: ((m: VhostIotlbMap) => void) | undefined;
    } = {},
  ) {
    this.#limit = options.limit ?? 0;
    this.#retire = options.retire ?? false;
    this.#onEvict = options.onEvict;
  }

  /** Ranges held (`nmaps`). */
  get size(): number {
    return this.#sorted.length;
  }

  /** The configured limit (0 = none). */
  get limit(): number {
    return this.#limit;
  }

  /**
   * Adds `[start, last]` → `addr` (vhost_iotlb_add_range). Refuses `last < start`; at a
   * RETIRE limit evicts the oldest range first.
   */
  addRange(
    start: number,
    last: number,
    addr: number,
    perm: Access,
  ): Result<VhostIotlbMap, VhostIotlbError> {
    if (last < start) return err({ kind: "bad-range", start, last });
    // drivers/vhost/iotlb.c: only a RETIRE IOTLB enforces its limit, by dropping the oldest.
    if (this.#limit > 0 && this.#sorted.length >= this.#limit && this.#retire) {
      const oldest = this.#age.values().next().value as MapNode;
      this.#remove(oldest);
      this.#onEvict?.(oldest);
    }
    const node = new MapNode(start, last, addr, perm);
    // Upper bound on start: equal starts keep insertion order, as rb-tree inserts go right.
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#sorted[mid] as MapNode).start <= start) lo = mid + 1;
      else hi = mid;
    }
    this.#sorted.splice(lo, 0, node);
    this.#maxLast.splice(lo, 0, 0);
    this.#rebuild(lo);
    this.#age.add(node);
    return ok(node);
  }

  /** The overlapping range with the lowest start, if any (vhost_iotlb_itree_first). */
  first(start: number, last: number): VhostIotlbMap | undefined {
    const i = this.#firstIndex(start);
    const n = this.#sorted[i];
    return n !== undefined && n.start <= last ? n : undefined;
  }

  /** Every range overlapping `[start, last]`, by start. */
  overlapping(start: number, last: number): VhostIotlbMap[] {
    const out: VhostIotlbMap[] = [];
    for (let i = this.#firstIndex(start); i < this.#sorted.length; i++) {
      const n = this.#sorted[i] as MapNode;
      if (n.start > last) break;
      if (n.last >= start) out.push(n);
    }
    return out;
  }

  /** Removes every range overlapping `[start, last]` (vhost_iotlb_del_range); returns them. */
  delRange(start: number, last: number): VhostIotlbMap[] {
    const gone = this.overlapping(start, last);
    for (const n of gone) this.#remove(n as MapNode);
    return gone;
  }

  /** Removes one range previously returned by this IOTLB (vhost_iotlb_map_free). */
  free(map: VhostIotlbMap): boolean {
    if (!(map instanceof MapNode) || !this.#age.has(map)) return false;
    this.#remove(map);
    return true;
  }

  /** Removes everything (vhost_iotlb_reset). */
  reset(): void {
    this.#sorted = [];
    this.#maxLast = [];
    this.#age = new Set();
  }

  /** All ranges by start. */
  maps(): VhostIotlbMap[] {
    return [...this.#sorted];
  }

  /** All ranges from oldest to newest (eviction order). */
  byAge(): VhostIotlbMap[] {
    return [...this.#age];
  }

  /** Leftmost index whose running max of `last` reaches `start`: the first overlap candidate. */
  #firstIndex(start: number): number {
    let lo = 0;
    let hi = this.#maxLast.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#maxLast[mid] as number) >= start) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  #remove(n: MapNode): void {
    let i = this.#sorted.indexOf(n);
    if (i < 0) throw new Error("Range is not in this IOTLB");
    this.#sorted.splice(i, 1);
    this.#maxLast.splice(i, 1);
    this.#age.delete(n);
    if (i > this.#sorted.length) i = this.#sorted.length;
    this.#rebuild(i);
  }

  #rebuild(from: number): void {
    let m = from > 0 ? (this.#maxLast[from - 1] as number) : -Infinity;
    for (let i = from; i < this.#sorted.length; i++) {
      const l = (this.#sorted[i] as MapNode).last;
      if (l > m) m = l;
      this.#maxLast[i] = m;
    }
  }
}
