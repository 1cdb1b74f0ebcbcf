/**
 * vhost-vdpa's handling of IOTLB messages (drivers/vhost/vdpa.c). There is no miss protocol:
 * userspace pre-populates each address space with UPDATE / INVALIDATE, optionally batched,
 * and vhost-vdpa programs the parent's translation:
 *
 * - `set_map` parents (vdpa_sim, mlx5 MR) get the whole table: after each update, or once at
 *   BATCH_END inside a batch;
 * - `dma_map` parents get incremental map / unmap calls;
 * - parents with neither use a platform IOMMU domain (`iommu_map` / `iommu_unmap`).
 *
 * UPDATE is refused outside the device's IOVA range or with size 0 (EINVAL) and when it
 * overlaps an existing mapping (EEXIST). In PA mode (`use_va` off) user pages are pinned and
 * each physically contiguous chunk becomes its own mapping; in VA mode the HVA is kept.
 *
 * @example A batch to a set_map parent
 * ```ts
 * import { VhostVdpaIotlb } from "./vhost_vdpa_iotlb.ts";
 * import { VHOST_IOTLB_BATCH_BEGIN, VHOST_IOTLB_BATCH_END, VHOST_IOTLB_UPDATE } from "./vhost_iotlb_msg.ts";
 * let setMaps = 0;
 * const v = new VhostVdpaIotlb({ parent: { kind: "set_map", setMap: () => { setMaps++; return undefined; } } });
 * const none = { iova: 0, size: 0, uaddr: 0, perm: 0 } as const;
 * v.process({ ...none, type: VHOST_IOTLB_BATCH_BEGIN });
 * v.process({ type: VHOST_IOTLB_UPDATE, iova: 0, size: 0x1000, uaddr: 0x7f00_0000, perm: 3 });
 * v.process({ type: VHOST_IOTLB_UPDATE, iova: 0x1000, size: 0x1000, uaddr: 0x7f00_1000, perm: 3 });
 * v.process({ ...none, type: VHOST_IOTLB_BATCH_END });
 * if (setMaps !== 1) throw new Error("one set_map per batch");
 * ```
 *
 * @module
 */

import type { Access } from "../memory/translator.ts";
import { err, ok, type Result } from "../result.ts";
import type { IommuEventSink } from "./event.ts";
import type { Iommu } from "./iommu.ts";
import { IOVA_LIMIT, PAGE_SIZE_4K } from "./page_table.ts";
import { VhostIotlb } from "./vhost_iotlb.ts";
import type { VhostIotlbError } from "./vhost_iotlb_error.ts";
import {
  VHOST_IOTLB_BATCH_BEGIN,
  VHOST_IOTLB_BATCH_END,
  VHOST_IOTLB_INVALIDATE,
  VHOST_IOTLB_UPDATE,
  type VhostIotlbMsg,
} from "./vhost_iotlb_msg.ts";

/** The highest IOVA a number holds; stands in for U64_MAX. */
export const IOVA_MAX = IOVA_LIMIT - 1;

/** How a vDPA parent takes translations (its `vdpa_config_ops` DMA callbacks). */
export type VdpaDmaParent =
  | {
    readonly kind: "set_map";
    /** Replace the whole translation of `asid` with `iotlb`'s ranges. */
    setMap(asid: number, iotlb: VhostIotlb): VhostIotlbError | undefined;
  }
  | {
    readonly kind: "dma_map";
    dmaMap(
      asid: number,
      iova: number,
      size: number,
      addr: number,
      perm: Access,
    ): VhostIotlbError | undefined;
    dmaUnmap(asid: number, iova: number, size: number): void;
  }
  | {
    readonly kind: "platform";
    /** The host IOMMU and the unmanaged domain vhost-vdpa allocated on the parent's dma_dev. */
    readonly iommu: Iommu;
    readonly domain: number;
  };

/** The IOVA window of a vDPA device (VHOST_VDPA_GET_IOVA_RANGE). */
export interface IovaRange {
  readonly first: number;
  readonly last: number;
}

/** vhost-vdpa's per-address-space IOTLBs in front of a parent. */
export class VhostVdpaIotlb {
  readonly #parent: VdpaDmaParent;
  readonly #range: IovaRange;
  readonly #nas: number;
  readonly #hvaToPa: ((hva: number) => number | undefined) | undefined;
  readonly #sink: IommuEventSink | undefined;
  readonly #as = new Map<number, VhostIotlb>();
  #inBatch = false;
  #pinnedPages = 0;

  /**
   * @param options `parent` DMA ops; `range` (default [0, IOVA_MAX]); `nas` address spaces
   *   (default 1); `hvaToPa` selects PA mode (pin pages, map physical chunks), absent means
   *   VA mode; event `sink`
   */
  constructor(options: {
    parent: VdpaDmaParent;
    range?: IovaRange | undefined;
    nas?: number | undefined;
    hvaToPa?: ((hva: number) => number | undefined) | undefined;
    sink?: IommuEventSink | undefined;
  }) {
    this.#parent = options.parent;
    this.#range = options.range ?? { first: 0, last: IOVA_MAX };
    this.#nas = options.nas ?? 1;
    this.#hvaToPa = options.hvaToPa;
    this.#sink = options.sink;
  }

  /** The device's IOVA window. */
  get range(): IovaRange {
    return this.#range;
  }

  /** True between BATCH_BEGIN and BATCH_END. */
  get inBatch(): boolean {
    return this.#inBatch;
  }

  /** Pages pinned in PA mode (counted against RLIMIT_MEMLOCK by the kernel). */
  get pinnedPages(): number {
    return this.#pinnedPages;
  }

  /** The IOTLB of an address space, once it exists. */
  iotlb(asid = 0): VhostIotlb | undefined {
    return this.#as.get(asid);
  }

  /** Handles one message written to /dev/vhost-vdpa-N (vhost_vdpa_process_iotlb_msg). */
  process(msg: VhostIotlbMsg, asid = 0): Result<void, VhostIotlbError> {
    if (asid < 0 || asid >= this.#nas || !Number.isInteger(asid)) {
      return err({ kind: "bad-asid", asid });
    }
    // vhost_chr_write_iter(): a zero-sized UPDATE or INVALIDATE is -EINVAL.
    if (
      (msg.type === VHOST_IOTLB_UPDATE || msg.type === VHOST_IOTLB_INVALIDATE) && msg.size === 0
    ) {
      return err({ kind: "zero-size", iova: msg.iova });
    }
    switch (msg.type) {
      case VHOST_IOTLB_UPDATE:
        return this.#update(this.#asFor(asid), asid, msg);
      case VHOST_IOTLB_INVALIDATE: {
        const tlb = this.#as.get(asid);
        if (tlb === undefined) return err({ kind: "bad-asid", asid });
        this.#unmap(tlb, asid, msg.iova, msg.iova + msg.size - 1);
        return ok(undefined);
      }
      case VHOST_IOTLB_BATCH_BEGIN:
        this.#asFor(asid);
        this.#inBatch = true;
        this.#sink?.({ kind: "vhost-iotlb-batch", asid, phase: "begin" });
        return ok(undefined);
      case VHOST_IOTLB_BATCH_END: {
        this.#sink?.({ kind: "vhost-iotlb-batch", asid, phase: "end" });
        const tlb = this.#as.get(asid);
        let r: VhostIotlbError | undefined;
        if (this.#inBatch && tlb !== undefined && this.#parent.kind === "set_map") {
          r = this.#setMap(asid, tlb);
        }
        this.#inBatch = false;
        return r === undefined ? ok(undefined) : err(r);
      }
      default:
        return err({ kind: "bad-type", type: msg.type });
    }
  }

  /** Tears every address space down (close of the fd): unmaps everything. */
  release(): void {
    for (const [asid, tlb] of [...this.#as]) this.#unmap(tlb, asid, 0, IOVA_MAX);
    this.#as.clear();
    this.#inBatch = false;
  }

  #asFor(asid: number): VhostIotlb {
    let tlb = this.#as.get(asid);
    if (tlb === undefined) {
      // vhost-vdpa IOTLBs have no limit (vhost_iotlb_init(iotlb, 0, 0)).
      tlb = new VhostIotlb();
      this.#as.set(asid, tlb);
    }
    return tlb;
  }

  #update(tlb: VhostIotlb, asid: number, msg: VhostIotlbMsg): Result<void, VhostIotlbError> {
    const { iova, size } = msg;
    const last = iova + size - 1;
    const range = this.#range;
    // vhost_vdpa_process_iotlb_update(): inside [range.first, range.last], no wrap.
    if (iova < range.first || last > range.last || last > IOVA_MAX) {
      return err({ kind: "outside-range", iova, size, first: range.first, last: range.last });
    }
    const clash = tlb.first(iova, last);
    if (clash !== undefined) {
      return err({ kind: "overlap", iova, size, start: clash.start, last: clash.last });
    }
    if ((msg.perm & 3) === 0) return err({ kind: "bad-perm", perm: msg.perm });
    this.#sink?.({
      kind: "vhost-iotlb-update",
      asid,
      iova,
      size,
      uaddr: msg.uaddr,
      perm: msg.perm,
    });
    const toPa = this.#hvaToPa;
    if (toPa === undefined) return this.#map(tlb, asid, iova, size, msg.uaddr, msg.perm);
    // PA mode (vhost_vdpa_pa_map): whole pages from the aligned-down addresses are pinned one
    // by one; each physically contiguous chunk becomes its own mapping.
    const off = iova % PAGE_SIZE_4K;
    const iova0 = iova - off;
    const base = msg.uaddr - (msg.uaddr % PAGE_SIZE_4K);
    const pages = Math.ceil((size + off) / PAGE_SIZE_4K);
    const mapped: [number, number][] = [];
    const rollback = () => {
      for (const [a, l] of mapped) this.#unmap(tlb, asid, a, a + l - 1);
    };
    let chunkIova = iova0;
    let chunkPa = -1;
    let chunkPages = 0;
    const flush = (): Result<void, VhostIotlbError> => {
      const len = chunkPages * PAGE_SIZE_4K;
      const r = this.#map(tlb, asid, chunkIova, len, chunkPa, msg.perm);
      if (r.ok) mapped.push([chunkIova, len]);
      return r;
    };
    for (let i = 0; i < pages; i++) {
      const pa = toPa(base + i * PAGE_SIZE_4K);
      if (pa === undefined) {
        rollback();
        return err({ kind: "pin-failed", uaddr: base + i * PAGE_SIZE_4K });
      }
      if (chunkPages > 0 && pa === chunkPa + chunkPages * PAGE_SIZE_4K) {
        chunkPages++;
        continue;
      }
      if (chunkPages > 0) {
        const r = flush();
        if (!r.ok) {
          rollback();
          return r;
        }
      }
      chunkIova = iova0 + i * PAGE_SIZE_4K;
      chunkPa = pa;
      chunkPages = 1;
    }
    const r = flush();
    if (!r.ok) rollback();
    return r;
  }

  /** vhost_vdpa_map(): record the range, then program the parent; undo on failure. */
  #map(
    tlb: VhostIotlb,
    asid: number,
    iova: number,
    size: number,
    addr: number,
    perm: Access,
  ): Result<void, VhostIotlbError> {
    const added = tlb.addRange(iova, iova + size - 1, addr, perm);
    if (!added.ok) return added;
    let failure: VhostIotlbError | undefined;
    const p = this.#parent;
    if (p.kind === "dma_map") {
      this.#sink?.({ kind: "vdpa-dma-map", asid, iova, size, addr, perm });
      failure = p.dmaMap(asid, iova, size, addr, perm);
    } else if (p.kind === "set_map") {
      if (!this.#inBatch) failure = this.#setMap(asid, tlb);
    } else {
      const r = p.iommu.map(p.domain, iova, addr, size, perm);
      if (!r.ok) failure = { kind: "iommu", error: r.error };
    }
    if (failure !== undefined) {
      tlb.free(added.value);
      return err(failure);
    }
    if (this.#hvaToPa !== undefined) this.#pinnedPages += Math.ceil(size / PAGE_SIZE_4K);
    return ok(undefined);
  }

  /** vhost_vdpa_unmap(): drop every overlapping range, per range at the parent. */
  #unmap(tlb: VhostIotlb, asid: number, start: number, last: number): void {
    const gone = tlb.delRange(start, last);
    const p = this.#parent;
    for (const m of gone) {
      if (this.#hvaToPa !== undefined) this.#pinnedPages -= Math.ceil(m.size / PAGE_SIZE_4K);
      if (p.kind === "dma_map") {
        this.#sink?.({ kind: "vdpa-dma-unmap", asid, iova: m.start, size: m.size });
        p.dmaUnmap(asid, m.start, m.size);
      } else if (p.kind === "platform") {
        p.iommu.unmap(p.domain, m.start, m.size);
      }
    }
    this.#sink?.({
      kind: "vhost-iotlb-invalidate",
      asid,
      iova: start,
      size: last - start + 1,
      removed: gone.length,
    });
    if (p.kind === "set_map" && !this.#inBatch) this.#setMap(asid, tlb);
  }

  #setMap(asid: number, tlb: VhostIotlb): VhostIotlbError | undefined {
    if (this.#parent.kind !== "set_map") return undefined;
    this.#sink?.({ kind: "vdpa-set-map", asid, entries: tlb.size });
    return this.#parent.setMap(asid, tlb);
  }
}
