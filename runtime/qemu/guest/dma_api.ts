/**
 * The guest kernel's DMA API for one PCI device behind the VM's vIOMMU in a translated domain
 * (drivers/iommu/dma-iommu.c over intel-iommu or virtio-iommu): what `dma_map_single` and
 * `dma_unmap_single` do, and what each costs the guest in VM exits.
 *
 * - **IOVAs**: allocated page-granular, top-down below 4 GiB first (iommu_dma_alloc_iova tries
 *   a 32-bit address for a PCI device), freed ranges reused first (the per-CPU IOVA caches);
 *   a buffer keeps its offset in the page (`iova + (gpa & 0xfff)`).
 * - **map**: the page-table entries are written in guest memory; intel-iommu with
 *   caching-mode=on must then invalidate (`iommu_flush_iotlb_psi` from iotlb_sync_map: a
 *   queued-invalidation tail write QEMU traps — one exit to userspace, in which QEMU walks the
 *   new entries and tells its MAP notifiers); without caching mode a map costs no exit.
 *   virtio-iommu sends a MAP request and waits for it (a kick QEMU handles: one exit).
 * - **unmap**: strict (`iommu.strict=1`): the entries go and the IOTLB is invalidated at once
 *   (one exit; QEMU tells its UNMAP notifiers). Lazy (the default, DMA-FQ): the IOVA waits in
 *   the flush queue and its translation stays valid for the device; one global invalidation
 *   (one exit) retires the whole queue when it is full (IOVA_FQ_SIZE, 256) or 10 ms after the
 *   first entry (IOVA_FQ_TIMEOUT). Only then is the IOVA reused.
 *
 * Exits are counted in {@link GuestDmaApi.exits}; the driver that mapped charges them on its
 * vCPU ({@link GuestDmaApi.takeExits}). A flush by the timer calls `onTimerFlush` so that its
 * exit is charged where the timer ran.
 *
 * @example A TX buffer mapped and unmapped under intel-iommu with caching mode, lazily
 * ```ts
 * import { Viommu } from "../../iommu/viommu.ts";
 * import { GuestDmaApi } from "./dma_api.ts";
 * const vi = new Viommu({ model: "intel-iommu", cachingMode: true });
 * vi.addDevice("0000:00:03.0");
 * const dma = new GuestDmaApi(vi, "0000:00:03.0", { strict: false });
 * const iova = dma.map(0x12_3456, 72, false);
 * if (iova !== 0xffff_f456 || dma.takeExits() !== 1) throw new Error("one page, one exit");
 * if (vi.translate("0000:00:03.0", iova, false)?.translatedAddr !== 0x12_3000) throw new Error();
 * dma.unmap(iova, 72);
 * if (dma.takeExits() !== 0 || dma.queued !== 1) throw new Error("lazy: queued, still mapped");
 * dma.flush();
 * if (dma.takeExits() !== 1 || vi.translate("0000:00:03.0", iova, false) !== undefined) throw new Error();
 * ```
 *
 * @module
 */

import { VHOST_ACCESS_RO, VHOST_ACCESS_RW } from "../../memory/translator.ts";
import type { Viommu } from "../../iommu/viommu.ts";

const PAGE = 4096;
/** iommu-dma's first choice for a PCI device: below 4 GiB. */
const DMA32_LIMIT = 0x1_0000_0000;
/** IOVA_FQ_SIZE (drivers/iommu/dma-iommu.c). */
export const IOVA_FQ_SIZE = 256;
/** IOVA_FQ_TIMEOUT: 10 ms. */
export const IOVA_FQ_TIMEOUT_NS = 10_000_000;

/** Options of {@link GuestDmaApi}. */
export interface GuestDmaApiOptions {
  /** `iommu.strict=1`: every unmap invalidates at once. */
  readonly strict: boolean;
  /**
   * Called when the first entry enters an empty flush queue: the caller arms the 10 ms timer
   * and calls {@link GuestDmaApi.flush} when it fires (undefined: only a full queue flushes).
   */
  readonly armFlushTimer?: (delayNs: number) => void;
}

/** The DMA API of one device in a translated domain; see the module documentation. */
export class GuestDmaApi {
  readonly rid: string;
  /** Exits taken since creation (invalidations, MAP requests). */
  exits = 0;
  /** Maps and unmaps done. */
  maps = 0;
  unmaps = 0;
  /** Global invalidations that retired the flush queue. */
  flushes = 0;
  readonly #viommu: Viommu;
  readonly #strict: boolean;
  readonly #arm: ((delayNs: number) => void) | undefined;
  readonly #mapExit: boolean;
  /** Next never-used IOVA page (allocation goes down from 4 GiB). */
  #top = DMA32_LIMIT;
  /** Freed ranges by page count, most recently freed last (reused first). */
  readonly #free = new Map<number, number[]>();
  /** Unmapped ranges waiting for the global invalidation: [iova, pages]. */
  readonly #fq: [number, number][] = [];
  #untaken = 0;

  constructor(viommu: Viommu, rid: string, o: GuestDmaApiOptions) {
    this.#viommu = viommu;
    this.rid = rid;
    this.#strict = o.strict;
    this.#arm = o.armFlushTimer;
    const c = viommu.config;
    // intel-iommu invalidates after a map only in caching mode; virtio-iommu always waits.
    this.#mapExit = c.model === "virtio-iommu" || c.cachingMode;
  }

  /** Unmapped ranges waiting in the flush queue. */
  get queued(): number {
    return this.#fq.length;
  }

  /**
   * dma_map_single: maps `[gpa, gpa + len)` for the device (`write`: the device writes it) and
   * returns its IOVA, or -1 when the IOVA space or the vIOMMU refused.
   */
  map(gpa: number, len: number, write: boolean): number {
    const first = Math.floor(gpa / PAGE) * PAGE;
    const pages = Math.ceil((gpa + Math.max(len, 1) - first) / PAGE);
    const base = this.#alloc(pages);
    if (base < 0) return -1;
    // DMA_TO_DEVICE maps read-only for the device; DMA_FROM_DEVICE / BIDIRECTIONAL read-write.
    const r = this.#viommu.map(
      this.rid,
      base,
      first,
      pages * PAGE,
      write ? VHOST_ACCESS_RW : VHOST_ACCESS_RO,
    );
    if (!r.ok) {
      this.#release(base, pages);
      return -1;
    }
    this.maps++;
    if (this.#mapExit) this.#exit();
    return base + (gpa - first);
  }

  /** dma_unmap_single of what {@link map} returned for `len` bytes. */
  unmap(iova: number, len: number): void {
    const base = Math.floor(iova / PAGE) * PAGE;
    const pages = Math.ceil((iova + Math.max(len, 1) - base) / PAGE);
    this.unmaps++;
    if (this.#strict) {
      this.#viommu.unmap(this.rid, base, pages * PAGE);
      this.#release(base, pages);
      this.#exit();
      return;
    }
    this.#fq.push([base, pages]);
    if (this.#fq.length === 1) this.#arm?.(IOVA_FQ_TIMEOUT_NS);
    if (this.#fq.length >= IOVA_FQ_SIZE) this.flush();
  }

  /**
   * fq_flush_iotlb + fq_ring_free: one global invalidation retires every queued range (their
   * translations end, QEMU's UNMAP notifiers hear of each) and frees their IOVAs. Returns the
   * ranges retired.
   */
  flush(): number {
    const n = this.#fq.length;
    if (n === 0) return 0;
    for (const [base, pages] of this.#fq.splice(0)) {
      this.#viommu.unmap(this.rid, base, pages * PAGE);
      this.#release(base, pages);
    }
    this.flushes++;
    this.#exit();
    return n;
  }

  /** Exits since the last call (the caller charges them). */
  takeExits(): number {
    const n = this.#untaken;
    this.#untaken = 0;
    return n;
  }

  #exit(): void {
    this.exits++;
    this.#untaken++;
  }

  #alloc(pages: number): number {
    const reuse = this.#free.get(pages);
    const hit = reuse?.pop();
    if (hit !== undefined) return hit;
    const next = this.#top - pages * PAGE;
    if (next < PAGE) return -1; // IOVA 0 is never handed out
    this.#top = next;
    return next;
  }

  #release(base: number, pages: number): void {
    let list = this.#free.get(pages);
    if (list === undefined) {
      list = [];
      this.#free.set(pages, list);
    }
    list.push(base);
  }
}
