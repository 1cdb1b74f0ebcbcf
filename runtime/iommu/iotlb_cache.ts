/**
 * A translation cache keyed by (domain id, IOVA page) → (output page, permission): the
 * IOMMU's hardware IOTLB, and (with one domain) a device's ATS translation cache. Fixed
 * capacity with least-recently-used replacement (deterministic: a doubly linked list, most
 * recent at the head). Entries cache whole leaves, so a 2 MiB leaf takes one entry — the
 * reason large pages extend IOTLB reach.
 *
 * Invalidation follows VT-d's three granularities (§6.5.2.3): global, domain-selective and
 * page-selective. A page-selective request is an address plus an address mask (2^AM pages,
 * naturally aligned), so it may drop more than the range asked for.
 *
 * The hit path (`lookup`) allocates nothing; an insert at capacity reuses the evicted entry.
 *
 * @example
 * ```ts
 * import { IotlbCache } from "./iotlb_cache.ts";
 * const tlb = new IotlbCache(2);
 * tlb.insert(1, 0x1000, 0x1000, 0x9000, 3);
 * if (tlb.lookup(1, 0x1800)?.pa !== 0x9000) throw new Error("hit expected");
 * if (tlb.lookup(2, 0x1800) !== undefined) throw new Error("other domain must miss");
 * if (tlb.stats().hits !== 1 || tlb.stats().misses !== 1) throw new Error("counts");
 * ```
 *
 * @module
 */

import type { Access } from "../memory/translator.ts";
import { PAGE_SIZE_1G, PAGE_SIZE_2M, PAGE_SIZE_4K } from "./page_table.ts";

/** One cached translation. */
export interface IotlbEntry {
  readonly domain: number;
  /** IOVA of the cached page. */
  readonly iova: number;
  /** Page size: 4 KiB, 2 MiB or 1 GiB. */
  readonly size: number;
  /** Output address of the page. */
  readonly pa: number;
  readonly perm: Access;
}

/** Counters since creation. */
export interface IotlbStats {
  readonly capacity: number;
  readonly entries: number;
  readonly hits: number;
  readonly misses: number;
  readonly inserts: number;
  readonly evictions: number;
  /** Invalidation requests by granularity. */
  readonly invalidations: {
    readonly global: number;
    readonly domain: number;
    readonly page: number;
  };
  /** Entries dropped by invalidations. */
  readonly invalidatedEntries: number;
}

/** The naturally aligned region a page-selective invalidation covers. */
export interface PsiRegion {
  readonly iova: number;
  readonly size: number;
  /** VT-d address mask: the region is 2^am pages. */
  readonly am: number;
}

/**
 * The aligned region a page-selective invalidation of `[iova, iova + size)` covers: the
 * smallest 2^AM pages, naturally aligned, that contain the range.
 */
export function psiRegion(iova: number, size: number): PsiRegion {
  const first = Math.floor(iova / PAGE_SIZE_4K);
  const last = Math.floor((iova + Math.max(size, 1) - 1) / PAGE_SIZE_4K);
  let am = 0;
  // Grow the mask until one aligned block holds both ends (Linux calculate_psi_aligned_address).
  while (Math.floor(first / 2 ** am) !== Math.floor(last / 2 ** am)) am++;
  const pages = 2 ** am;
  return { iova: Math.floor(first / pages) * pages * PAGE_SIZE_4K, size: pages * PAGE_SIZE_4K, am };
}

const SIZES = [PAGE_SIZE_4K, PAGE_SIZE_2M, PAGE_SIZE_1G] as const;

class Node implements IotlbEntry {
  prev: Node | undefined = undefined;
  next: Node | undefined = undefined;
  constructor(
    public domain: number,
    public iova: number,
    public size: number,
    public pa: number,
    public perm: Access,
    public key: number,
    public cls: number,
  ) {}
}

type DomainMaps = [Map<number, Node>, Map<number, Node>, Map<number, Node>];

function classOf(size: number): number {
  return size === PAGE_SIZE_1G ? 2 : size === PAGE_SIZE_2M ? 1 : 0;
}

/** A fixed-capacity LRU translation cache. */
export class IotlbCache {
  readonly #capacity: number;
  readonly #domains = new Map<number, DomainMaps>();
  #head: Node | undefined;
  #tail: Node | undefined;
  #size = 0;
  #hits = 0;
  #misses = 0;
  #inserts = 0;
  #evictions = 0;
  #inv = { global: 0, domain: 0, page: 0 };
  #invalidated = 0;
  #onEvict: ((e: IotlbEntry) => void) | undefined;

  /**
   * @param capacity entries; 0 disables caching (every lookup misses)
   * @param options `onEvict` hears each capacity eviction (not invalidations); the entry it
   *   receives is reused right after the call, so copy what you keep
   */
  constructor(capacity: number, options: { onEvict?: ((e: IotlbEntry) => void) | undefined } = {}) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`IOTLB capacity must be a non-negative integer, got ${capacity}`);
    }
    this.#capacity = capacity;
    this.#onEvict = options.onEvict;
  }

  /** Entries the cache can hold. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Entries held now. */
  get size(): number {
    return this.#size;
  }

  /**
   * Looks up the page holding `iova` in `domain`, counting a hit or a miss; a hit becomes the
   * most recently used entry. Allocation-free.
   */
  lookup(domain: number, iova: number): IotlbEntry | undefined {
    const maps = this.#domains.get(domain);
    if (maps !== undefined) {
      for (let c = 0; c < 3; c++) {
        const m = maps[c] as Map<number, Node>;
        if (m.size === 0) continue;
        const n = m.get(Math.floor(iova / (SIZES[c] as number)));
        if (n !== undefined) {
          this.#hits++;
          this.#touch(n);
          return n;
        }
      }
    }
    this.#misses++;
    return undefined;
  }

  /** Like {@link lookup} without counting or reordering: for displays and tests. */
  peek(domain: number, iova: number): IotlbEntry | undefined {
    const maps = this.#domains.get(domain);
    if (maps === undefined) return undefined;
    for (let c = 0; c < 3; c++) {
      const n = (maps[c] as Map<number, Node>).get(Math.floor(iova / (SIZES[c] as number)));
      if (n !== undefined) return n;
    }
    return undefined;
  }

  /**
   * Caches a translation of the page `[iova, iova + size)` (iova aligned to size), evicting the
   * least recently used entry when full. Replaces an entry with the same key.
   */
  insert(domain: number, iova: number, size: number, pa: number, perm: Access): void {
    if (this.#capacity === 0) return;
    const cls = classOf(size);
    const key = Math.floor(iova / size);
    let maps = this.#domains.get(domain);
    if (maps === undefined) {
      maps = [new Map(), new Map(), new Map()];
      this.#domains.set(domain, maps);
    }
    const m = maps[cls] as Map<number, Node>;
    let n = m.get(key);
    this.#inserts++;
    if (n !== undefined) {
      n.pa = pa;
      n.perm = perm;
      this.#touch(n);
      return;
    }
    if (this.#size >= this.#capacity) {
      const victim = this.#tail as Node;
      this.#remove(victim);
      this.#evictions++;
      this.#onEvict?.(victim);
      // Reuse the victim's object: a steady-state miss allocates nothing.
      n = victim;
      n.domain = domain;
      n.iova = iova;
      n.size = size;
      n.pa = pa;
      n.perm = perm;
      n.key = key;
      n.cls = cls;
    } else {
      n = new Node(domain, iova, size, pa, perm, key, cls);
    }
    m.set(key, n);
    this.#size++;
    this.#pushFront(n);
  }

  /** Global invalidation: drops everything. Returns the entries dropped. */
  invalidateAll(): number {
    this.#inv.global++;
    const n = this.#size;
    this.#domains.clear();
    this.#head = this.#tail = undefined;
    this.#size = 0;
    this.#invalidated += n;
    return n;
  }

  /** Domain-selective invalidation. Returns the entries dropped. */
  invalidateDomain(domain: number): number {
    this.#inv.domain++;
    return this.#dropWhere((n) => n.domain === domain);
  }

  /**
   * Page-selective invalidation of `[iova, iova + size)` in `domain`, widened to the aligned
   * 2^AM-page region hardware takes (see {@link psiRegion}). Drops every entry overlapping it.
   * Returns the entries dropped.
   */
  invalidatePages(domain: number, iova: number, size: number): number {
    this.#inv.page++;
    const r = psiRegion(iova, size);
    const end = r.iova + r.size;
    return this.#dropWhere((n) => n.domain === domain && n.iova < end && n.iova + n.size > r.iova);
  }

  /** Entries from most to least recently used. */
  entries(): IotlbEntry[] {
    const out: IotlbEntry[] = [];
    for (let n = this.#head; n !== undefined; n = n.next) {
      out.push({ domain: n.domain, iova: n.iova, size: n.size, pa: n.pa, perm: n.perm });
    }
    return out;
  }

  /** A snapshot of the counters. */
  stats(): IotlbStats {
    return {
      capacity: this.#capacity,
      entries: this.#size,
      hits: this.#hits,
      misses: this.#misses,
      inserts: this.#inserts,
      evictions: this.#evictions,
      invalidations: { ...this.#inv },
      invalidatedEntries: this.#invalidated,
    };
  }

  #dropWhere(pred: (n: Node) => boolean): number {
    let dropped = 0;
    for (let n = this.#head; n !== undefined;) {
      const next = n.next;
      if (pred(n)) {
        this.#remove(n);
        dropped++;
      }
      n = next;
    }
    this.#invalidated += dropped;
    return dropped;
  }

  #remove(n: Node): void {
    const maps = this.#domains.get(n.domain);
    maps?.[n.cls]?.delete(n.key);
    if (n.prev !== undefined) n.prev.next = n.next;
    else this.#head = n.next;
    if (n.next !== undefined) n.next.prev = n.prev;
    else this.#tail = n.prev;
    n.prev = n.next = undefined;
    this.#size--;
  }

  #pushFront(n: Node): void {
    n.prev = undefined;
    n.next = this.#head;
    if (this.#head !== undefined) this.#head.prev = n;
    this.#head = n;
    if (this.#tail === undefined) this.#tail = n;
  }

  #touch(n: Node): void {
    if (this.#head === n) return;
    // Unlink without touching the maps, then move to the front.
    if (n.prev !== undefined) n.prev.next = n.next;
    if (n.next !== undefined) n.next.prev = n.prev;
    else this.#tail = n.prev;
    this.#pushFront(n);
  }
}
