/**
 * A device's DMA translation as the datapath charges it: wraps the IOMMU stage of a DMA path
 * (a {@link DeviceTranslator}, or anything with a `lastOutcome`) and counts what each
 * translation did — IOTLB hits, misses with their page walk, identity (no IOMMU or a
 * pass-through domain), faults — until the datapath reads and clears the counts after each
 * ring operation.
 *
 * @example
 * ```ts
 * import { DmaCounter } from "./dma_counter.ts";
 * import { Iommu } from "../iommu/iommu.ts";
 * import { newTranslateResult, VHOST_ACCESS_RO } from "../memory/translator.ts";
 * const mmu = new Iommu({ enabled: true, passthrough: true, addressWidth: 48, iotlbEntries: 64 });
 * mmu.addDevice("0000:3b:00.2");
 * const t = mmu.translatorFor("0000:3b:00.2");
 * if (!t.ok) throw new Error();
 * const c = new DmaCounter(t.value);
 * c.translate(0x1000, 64, VHOST_ACCESS_RO, newTranslateResult());
 * if (c.identity !== 1 || c.misses !== 0) throw new Error("iommu=pt: identity");
 * ```
 *
 * @module
 */

import type { Access, TranslateResult, Translator } from "../memory/translator.ts";
import type { TranslateOutcome } from "../iommu/iommu.ts";

/** A translator that reports what its last translation did. */
export interface OutcomeTranslator extends Translator {
  readonly lastOutcome: TranslateOutcome;
}

/** Counts the outcomes of the translations through it; see the module documentation. */
export class DmaCounter implements Translator {
  /** Translations since the last {@link clear}. */
  count = 0;
  hits = 0;
  misses = 0;
  identity = 0;
  faults = 0;
  /** Input and output address of the first translation since {@link clear} (-1: none). */
  firstIn = -1;
  firstOut = -1;
  readonly #inner: OutcomeTranslator;

  constructor(inner: OutcomeTranslator) {
    this.#inner = inner;
  }

  translate(addr: number, len: number, access: Access, out: TranslateResult): boolean {
    const ok = this.#inner.translate(addr, len, access, out);
    if (this.count === 0) {
      this.firstIn = addr;
      this.firstOut = ok ? out.addr : -1;
    }
    this.count++;
    switch (this.#inner.lastOutcome) {
      case "iotlb-hit":
      case "atc-hit":
        this.hits++;
        break;
      case "iotlb-miss":
      case "ats-miss":
        this.misses++;
        break;
      case "identity":
        this.identity++;
        break;
      case "fault":
        this.faults++;
        break;
    }
    return ok;
  }

  /** Starts a new count. */
  clear(): void {
    this.count = 0;
    this.hits = 0;
    this.misses = 0;
    this.identity = 0;
    this.faults = 0;
    this.firstIn = -1;
    this.firstOut = -1;
  }
}
