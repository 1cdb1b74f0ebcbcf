/**
 * vdpa_sim's translation (drivers/vdpa/vdpa_sim/vdpa_sim.c): one software IOTLB per address
 * space, walked by vringh for every ring and buffer access. Each address space starts as an
 * identity pass-through of the whole IOVA space; the first `set_map` (batch_mapping=1, the
 * default) or `dma_map` / `dma_unmap` (batch_mapping=0) replaces it with what vhost-vdpa
 * provides. A device reset restores pass-through.
 *
 * vringh has no miss protocol: an untranslated address fails (EINVAL) and the device stops
 * the request; a wrong permission fails with EPERM.
 *
 * @example Identity until vhost-vdpa installs a map
 * ```ts
 * import { VdpaSimIotlb } from "./vdpa_sim_iotlb.ts";
 * import { VhostVdpaIotlb } from "./vhost_vdpa_iotlb.ts";
 * import { VHOST_IOTLB_UPDATE } from "./vhost_iotlb_msg.ts";
 * import { newTranslateResult, VHOST_ACCESS_RO } from "../memory/translator.ts";
 * const sim = new VdpaSimIotlb();
 * const tx = sim.translatorFor(0);
 * const out = newTranslateResult();
 * const before = tx.translate(0x5000, 8, VHOST_ACCESS_RO, out) ? out.addr : undefined;
 * const v = new VhostVdpaIotlb({ parent: sim.setMapParent(), nas: 2 });
 * v.process({ type: VHOST_IOTLB_UPDATE, iova: 0x5000, size: 0x1000, uaddr: 0x7f00_5000, perm: 1 });
 * const after = tx.translate(0x5000, 8, VHOST_ACCESS_RO, out) ? out.addr : undefined;
 * if (before !== 0x5000 || after !== 0x7f00_5000) throw new Error("identity, then the map");
 * ```
 *
 * @module
 */

import type { Access, TranslateResult, Translator } from "../memory/translator.ts";
import { MAX_IOTLB_ENTRIES, VhostIotlb } from "./vhost_iotlb.ts";
import type { VhostIotlbError } from "./vhost_iotlb_error.ts";
import { IOVA_MAX, type VdpaDmaParent } from "./vhost_vdpa_iotlb.ts";

/** vdpa_sim's per-address-space IOTLBs. */
export class VdpaSimIotlb {
  readonly #iommu: VhostIotlb[] = [];
  readonly #pt: boolean[] = [];

  /**
   * @param options `nas` address spaces (vdpa_sim_net: 2, the CVQ can be isolated);
   *   `maxIotlbEntries` (module param, default 2048; the kernel sets it without RETIRE, so it
   *   does not bound the table)
   */
  constructor(
    options: {
      nas?: number | undefined;
      maxIotlbEntries?: number | undefined;
    } = {},
  ) {
    const nas = options.nas ?? 2;
    for (let i = 0; i < nas; i++) {
      this.#iommu.push(new VhostIotlb({ limit: options.maxIotlbEntries ?? MAX_IOTLB_ENTRIES }));
      this.#pt.push(false);
    }
    this.reset();
  }

  /** Address spaces. */
  get nas(): number {
    return this.#iommu.length;
  }

  /** True while `asid` is still the initial identity pass-through. */
  passthrough(asid: number): boolean {
    return this.#pt[asid] ?? false;
  }

  /** The IOTLB of `asid`. */
  iotlb(asid: number): VhostIotlb | undefined {
    return this.#iommu[asid];
  }

  /** Device reset (vdpasim_do_reset): every address space back to identity pass-through. */
  reset(): void {
    for (let i = 0; i < this.#iommu.length; i++) {
      const tlb = this.#iommu[i] as VhostIotlb;
      tlb.reset();
      tlb.addRange(0, IOVA_MAX, 0, 3);
      this.#pt[i] = true;
    }
  }

  /** vdpasim_set_map(): replace `asid`'s table with `iotlb`'s ranges. */
  setMap(asid: number, iotlb: VhostIotlb): VhostIotlbError | undefined {
    const own = this.#iommu[asid];
    if (own === undefined) return { kind: "bad-asid", asid };
    own.reset();
    this.#pt[asid] = false;
    for (const m of iotlb.maps()) {
      const r = own.addRange(m.start, m.last, m.addr, m.perm);
      if (!r.ok) {
        own.reset();
        return r.error;
      }
    }
    return undefined;
  }

  /** vdpasim_dma_map(): the first call drops the pass-through map. */
  dmaMap(
    asid: number,
    iova: number,
    size: number,
    addr: number,
    perm: Access,
  ): VhostIotlbError | undefined {
    const own = this.#leavePassthrough(asid);
    if (own === undefined) return { kind: "bad-asid", asid };
    const r = own.addRange(iova, iova + size - 1, addr, perm);
    return r.ok ? undefined : r.error;
  }

  /** vdpasim_dma_unmap(). */
  dmaUnmap(asid: number, iova: number, size: number): void {
    this.#leavePassthrough(asid)?.delRange(iova, iova + size - 1);
  }

  /** This device as a `set_map` parent (batch_mapping=1). */
  setMapParent(): VdpaDmaParent {
    return { kind: "set_map", setMap: (asid, iotlb) => this.setMap(asid, iotlb) };
  }

  /** This device as a `dma_map` parent (batch_mapping=0). */
  dmaMapParent(): VdpaDmaParent {
    return {
      kind: "dma_map",
      dmaMap: (asid, iova, size, addr, perm) => this.dmaMap(asid, iova, size, addr, perm),
      dmaUnmap: (asid, iova, size) => this.dmaUnmap(asid, iova, size),
    };
  }

  /** The vringh translation of the virtqueues in `asid`. */
  translatorFor(asid: number): VringhTranslator {
    return new VringhTranslator(this, asid);
  }

  #leavePassthrough(asid: number): VhostIotlb | undefined {
    const own = this.#iommu[asid];
    if (own !== undefined && this.#pt[asid]) {
      own.reset();
      this.#pt[asid] = false;
    }
    return own;
  }
}

/** vringh's iotlb_translate() over one vdpa_sim address space. */
export class VringhTranslator implements Translator {
  readonly #sim: VdpaSimIotlb;
  readonly #asid: number;
  /** "hit", or why the last translate failed. */
  lastOutcome: "hit" | "unmapped" | "denied" = "hit";

  /** Built by {@link VdpaSimIotlb.translatorFor}. */
  constructor(sim: VdpaSimIotlb, asid: number) {
    this.#sim = sim;
    this.#asid = asid;
  }

  /** Translates one contiguous run. */
  translate(addr: number, len: number, access: Access, out: TranslateResult): boolean {
    out.fault = undefined;
    const tlb = this.#sim.iotlb(this.#asid);
    const m = tlb?.first(addr, addr + Math.max(len, 1) - 1);
    // vringh iotlb_translate(): no range at addr is -EINVAL (no miss protocol in vDPA).
    if (m === undefined || m.start > addr) {
      this.lastOutcome = "unmapped";
      out.fault = { kind: "unmapped", iova: addr, access };
      return false;
    }
    if ((m.perm & access) === 0) {
      this.lastOutcome = "denied";
      out.fault = { kind: "permission", iova: addr, access, allowed: m.perm };
      return false;
    }
    this.lastOutcome = "hit";
    out.addr = m.addr + (addr - m.start);
    out.len = Math.min(len, m.last - addr + 1);
    return true;
  }
}
