/**
 * The DMA addresses one guest virtio-net driver gives its device, and what producing them
 * costs. Linux's virtio ring uses the DMA API only when ACCESS_PLATFORM was negotiated
 * (`vring_use_dma_api`); with a translated guest vIOMMU ({@link Vm.dmaTranslation}) every
 * address the device sees is an IOVA ({@link GuestDmaApi}):
 *
 * - the rings and the indirect-descriptor pool come from `dma_alloc_coherent` (mapped once,
 *   read-write, for the life of the queue), as does the control queue's buffer;
 * - receive buffers are premapped: virtio_net maps its receive pages once and carves buffers
 *   from them (`virtnet_rq_alloc`, Linux 6.6+), so the lab maps each queue's receive area
 *   once, read-write;
 * - each transmit buffer is mapped when the packet is added (`vring_map_one_sg`,
 *   DMA_TO_DEVICE: read-only for the device) and unmapped when its completion is reclaimed
 *   (`vring_unmap_one_split`).
 *
 * Otherwise every address is the guest-physical one and nothing is charged. The exits the
 * vIOMMU takes (invalidations under caching mode, virtio-iommu requests, lazy flushes) are
 * charged by {@link NicDma.charge} on the vCPU that mapped or unmapped, as
 * `vmexit_to_userspace` each — QEMU handles the invalidation on that vCPU's thread — and the
 * flush queue's 10 ms timer charges its own exit on vCPU 0. (The lab's driver publishes the
 * buffer in the same step that charged the map's exit: a device polling the ring can take it
 * while the vCPU is still in that exit.)
 *
 * @example Without translation the addresses are guest-physical
 * ```ts
 * import { NicDma } from "./nic_dma.ts";
 * const dma = NicDma.identity();
 * if (dma.tx(1, 3, 0x8000, 72) !== 0x8000 || dma.rxArea(0x10_0000, 0x10000) !== 0x10_0000) throw new Error();
 * ```
 *
 * @module
 */

import type { CpuContext } from "../../sim/cpu_context.ts";
import { Counter } from "../../trace/metrics.ts";
import type { HopFlow } from "../../datapath/hop.ts";
import type { Lab } from "../../lab.ts";
import type { Viommu } from "../../iommu/viommu.ts";
import { GuestDmaApi } from "./dma_api.ts";

/** What a translated NIC needs: the lab, the vIOMMU, the device's RID, the guest's choices. */
export interface NicDmaOptions {
  readonly lab: Lab;
  readonly viommu: Viommu;
  readonly rid: string;
  /** `iommu.strict=1`. */
  readonly strict: boolean;
  /** Where the flush queue's timer runs (vCPU 0). */
  readonly timerCpu: CpuContext;
}

/** One driver's DMA addresses; see the module documentation. */
export class NicDma {
  /** The DMA API when translated, else undefined (guest-physical addresses). */
  readonly api: GuestDmaApi | undefined;
  readonly #lab: Lab | undefined;
  readonly #reason: string;
  /** Per TX queue: the IOVA of each slot's buffer and its length (-1: not mapped). */
  readonly #txIova = new Map<number, Float64Array>();
  readonly #txLen = new Map<number, Uint32Array>();
  #timer = false;

  private constructor(o: NicDmaOptions | undefined) {
    if (o === undefined) {
      this.api = undefined;
      this.#lab = undefined;
      this.#reason = "";
      return;
    }
    const lab = o.lab;
    this.#lab = lab;
    this.#reason = o.viommu.config.model === "intel-iommu" ? "dmar-invalidation" : "viommu-request";
    this.api = new GuestDmaApi(o.viommu, o.rid, {
      strict: o.strict,
      armFlushTimer: (delay) => {
        if (this.#timer) return;
        this.#timer = true;
        lab.sched.at(lab.now + delay, (now) => {
          this.#timer = false;
          // fq_flush_timeout on whichever CPU the timer fires: one global invalidation.
          this.api?.flush();
          this.charge(o.timerCpu, now, undefined, 0);
        });
      },
    });
  }

  /** Guest-physical addresses throughout (no translated vIOMMU in the way). */
  static identity(): NicDma {
    return new NicDma(undefined);
  }

  /** Addresses through `viommu` for device `rid`. */
  static translated(o: NicDmaOptions): NicDma {
    return new NicDma(o);
  }

  /** dma_alloc_coherent memory (a ring, the indirect pool, the control buffer): its address. */
  coherent(gpa: number, bytes: number): number {
    return this.api === undefined ? gpa : this.api.map(gpa, bytes, true);
  }

  /** A queue's premapped receive area: the address of its first byte (-1: mapping failed). */
  rxArea(gpa: number, bytes: number): number {
    return this.coherent(gpa, bytes);
  }

  /**
   * Maps TX slot `slot` of queue `q` (`len` bytes at `gpa`) for the device: its address, or -1
   * when the mapping failed (the driver drops the packet, as a failed virtqueue_add does).
   */
  tx(q: number, slot: number, gpa: number, len: number): number {
    const api = this.api;
    if (api === undefined) return gpa;
    const iova = api.map(gpa, len, false);
    if (iova < 0) return -1;
    this.#slots(q, slot + 1);
    (this.#txIova.get(q) as Float64Array)[slot] = iova;
    (this.#txLen.get(q) as Uint32Array)[slot] = len;
    return iova;
  }

  /** The device completed TX slot `slot` of queue `q`: unmap its buffer. */
  txDone(q: number, slot: number): void {
    const api = this.api;
    if (api === undefined) return;
    const iovas = this.#txIova.get(q);
    const lens = this.#txLen.get(q);
    const iova = iovas?.[slot];
    if (iovas === undefined || lens === undefined || iova === undefined || iova < 0) return;
    api.unmap(iova, lens[slot] as number);
    iovas[slot] = -1;
  }

  /**
   * Charges the exits taken since the last charge on `vcpu` from `now` (for `flow`'s packet
   * `seq`, when known): each a VM exit to QEMU. Returns when the vCPU is back in the guest.
   */
  charge(vcpu: CpuContext, now: number, flow: HopFlow | undefined, seq: number): number {
    const api = this.api;
    const lab = this.#lab;
    if (api === undefined || lab === undefined) return now;
    const n = api.takeExits();
    let end = now;
    for (let i = 0; i < n; i++) {
      const hops = lab.hops;
      end = hops.charge(vcpu, end, "vmexit_to_userspace", 0, flow);
      if (flow !== undefined) {
        flow.metrics.add(Counter.vmexits);
        flow.metrics.add(Counter.vmexits_userspace);
        flow.metrics.add(Counter.user_kernel_switches, 2);
        if (hops.wants(flow, seq)) {
          hops.record(flow, seq, "kvm", "vmexit", { reason: this.#reason, exit: "userspace" });
        }
      }
    }
    return end;
  }

  #slots(q: number, n: number): void {
    const have = this.#txIova.get(q);
    if (have !== undefined && have.length >= n) return;
    const size = Math.max(n, 2 * (have?.length ?? 0), 256);
    const iovas = new Float64Array(size).fill(-1);
    const lens = new Uint32Array(size);
    if (have !== undefined) {
      iovas.set(have);
      lens.set(this.#txLen.get(q) as Uint32Array);
    }
    this.#txIova.set(q, iovas);
    this.#txLen.set(q, lens);
  }
}
