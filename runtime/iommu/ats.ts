/**
 * PCIe Address Translation Services: a device's Address Translation Cache (ATC, the
 * "device IOTLB"). On a miss the device sends a Translation Request to the IOMMU and caches
 * the Completion (translated page, R/W); later DMA is issued pre-translated and bypasses the
 * IOMMU's own lookup. When the OS unmaps, the IOMMU sends an Invalidate Request and waits
 * for the Invalidate Completion (VT-d queued-invalidation descriptor type 3).
 *
 * A completion with R = W = 0 means "no translation": it is not cached, and the device must
 * not touch the page; the DMA fails without a DMAR fault record (the IOMMU answered, it did
 * not block a request).
 *
 * @example ATC through a host IOMMU
 * ```ts
 * import { Iommu } from "./iommu.ts";
 * import { newTranslateResult, VHOST_ACCESS_RO } from "../memory/translator.ts";
 * const mmu = new Iommu({ enabled: true, passthrough: false, addressWidth: 48, iotlbEntries: 16 });
 * mmu.addDevice("0000:3b:00.2");
 * const dom = mmu.allocDomain("unmanaged");
 * if (!dom.ok) throw new Error("alloc");
 * mmu.attachGroup(0, dom.value);
 * mmu.map(dom.value, 0x1000, 0x9000, 0x1000, VHOST_ACCESS_RO);
 * const ats = mmu.enableAts("0000:3b:00.2");
 * if (!ats.ok) throw new Error("ats");
 * const out = newTranslateResult();
 * ats.value.translate(0x1004, 4, VHOST_ACCESS_RO, out); // miss: translation request
 * ats.value.translate(0x1008, 4, VHOST_ACCESS_RO, out); // hit in the ATC
 * if (ats.value.stats().hits !== 1 || out.addr !== 0x9008) throw new Error("atc");
 * ```
 *
 * @module
 */

import {
  type Access,
  type TranslateResult,
  type Translator,
  VHOST_ACCESS_WO,
} from "../memory/translator.ts";
import type { IommuEventSink } from "./event.ts";
import { IotlbCache } from "./iotlb_cache.ts";
import type { TranslateOutcome } from "./iommu.ts";

/** Filled by a translation request. */
export interface AtsCompletion {
  /** IOVA of the translated page. */
  iova: number;
  size: number;
  pa: number;
  /** R = 1, W = 2; 0 means the IOMMU has no translation. */
  perm: Access;
  /** Page-table levels the IOMMU walked to answer (0 on an IOMMU IOTLB hit). */
  walk: number;
}

/** The IOMMU side of ATS, as a device sees it. */
export interface TranslationAgent {
  /** True when the device's context translates (ATS is not used for pass-through). */
  atsActive(rid: string): boolean;
  /** Answers a Translation Request for the page holding `iova`. */
  translationRequest(rid: string, iova: number, write: boolean, out: AtsCompletion): void;
}

/** ATC counters since creation. */
export interface AtsStats {
  readonly entries: number;
  readonly capacity: number;
  readonly hits: number;
  readonly misses: number;
  /** Translation requests sent. */
  readonly requests: number;
  /** Completions with R = W = 0. */
  readonly failedCompletions: number;
  readonly invalidateRequests: number;
  readonly invalidateCompletions: number;
  readonly invalidatedEntries: number;
  readonly evictions: number;
}

/** A device's Address Translation Cache. Implements the DMA {@link Translator}. */
export class DeviceIotlb implements Translator {
  readonly #agent: TranslationAgent;
  readonly #rid: string;
  readonly #cache: IotlbCache;
  readonly #sink: IommuEventSink | undefined;
  readonly #completion: AtsCompletion = { iova: 0, size: 0, pa: 0, perm: 0, walk: 0 };
  #requests = 0;
  #failed = 0;
  #invReq = 0;
  #invDone = 0;
  #invEntries = 0;
  /** What the last {@link translate} did, for the datapath's cost accounting. */
  lastOutcome: TranslateOutcome = "identity";
  /** Page-table levels the IOMMU walked for the last translate (0 unless it missed). */
  lastWalk = 0;

  /**
   * @param agent the IOMMU answering translation requests
   * @param rid the device's requester id
   * @param options ATC `entries` (default 32) and an event `sink`
   */
  constructor(
    agent: TranslationAgent,
    rid: string,
    options: { entries?: number | undefined; sink?: IommuEventSink | undefined } = {},
  ) {
    this.#agent = agent;
    this.#rid = rid;
    this.#cache = new IotlbCache(options.entries ?? 32);
    this.#sink = options.sink;
  }

  /** The device's requester id. */
  get rid(): string {
    return this.#rid;
  }

  /**
   * Translates one contiguous run for a DMA of the device: ATC hit, or a translation request
   * to the IOMMU whose completion is cached. In a pass-through context, the address is used
   * as is.
   */
  translate(addr: number, len: number, access: Access, out: TranslateResult): boolean {
    out.fault = undefined;
    this.lastWalk = 0;
    if (!this.#agent.atsActive(this.#rid)) {
      this.lastOutcome = "identity";
      out.addr = addr;
      out.len = len;
      return true;
    }
    let iova: number;
    let size: number;
    let pa: number;
    let perm: Access;
    const hit = this.#cache.lookup(0, addr);
    if (hit !== undefined) {
      ({ iova, size, pa, perm } = hit);
      this.lastOutcome = "atc-hit";
    } else {
      const write = (access & VHOST_ACCESS_WO) !== 0;
      this.#requests++;
      this.#sink?.({ kind: "ats-request", rid: this.#rid, iova: addr, write });
      const c = this.#completion;
      this.#agent.translationRequest(this.#rid, addr, write, c);
      this.lastWalk = c.walk;
      this.#sink?.({
        kind: "ats-completion",
        rid: this.#rid,
        iova: c.iova,
        pa: c.pa,
        size: c.size,
        perm: c.perm,
      });
      this.lastOutcome = "ats-miss";
      if (c.perm === 0) {
        this.#failed++;
        this.lastOutcome = "fault";
        out.fault = { kind: "unmapped", iova: addr, access };
        return false;
      }
      ({ iova, size, pa, perm } = c);
      this.#cache.insert(0, iova, size, pa, perm);
    }
    // PCIe ATS: a translated request may only use the permissions the completion granted.
    if ((access & ~perm & 3) !== 0) {
      this.lastOutcome = "fault";
      out.fault = { kind: "permission", iova: addr, access, allowed: perm };
      return false;
    }
    out.addr = pa + (addr - iova);
    out.len = Math.min(len, iova + size - addr);
    if (hit !== undefined) {
      this.#sink?.({ kind: "atc-hit", rid: this.#rid, iova: addr, pa: out.addr, len: out.len });
    }
    return true;
  }

  /**
   * An Invalidate Request from the IOMMU for `[iova, iova + size)`, or for everything when
   * `iova` is undefined; answered with an Invalidate Completion. Returns the entries dropped.
   */
  invalidate(iova?: number, size?: number): number {
    this.#invReq++;
    const dropped = iova === undefined
      ? this.#cache.invalidateAll()
      : this.#cache.invalidatePages(0, iova, size ?? 0x1000);
    this.#invEntries += dropped;
    this.#sink?.({ kind: "ats-invalidate", rid: this.#rid, iova, size, dropped });
    this.#invDone++;
    this.#sink?.({ kind: "ats-invalidate-completion", rid: this.#rid });
    return dropped;
  }

  /** A snapshot of the counters. */
  stats(): AtsStats {
    const c = this.#cache.stats();
    return {
      entries: c.entries,
      capacity: c.capacity,
      hits: c.hits,
      misses: c.misses,
      requests: this.#requests,
      failedCompletions: this.#failed,
      invalidateRequests: this.#invReq,
      invalidateCompletions: this.#invDone,
      invalidatedEntries: this.#invEntries,
      evictions: c.evictions,
    };
  }
}
