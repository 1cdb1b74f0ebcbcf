/**
 * QEMU's side of the vhost device-IOTLB (hw/virtio/vhost.c, vhost-backend.c): the fd handler
 * that reads MISS messages from a kernel vhost device and answers each with an UPDATE
 * translated through the guest vIOMMU, and the IOMMU notifier that turns guest unmaps into
 * VHOST_IOTLB_INVALIDATE.
 *
 * The miss round trip, one typed event per step:
 * `vhost-iotlb-miss` (worker, EAGAIN) → `vhost-iotlb-read` (QEMU reads the fd) →
 * `viommu-translate` (IOVA → GPA) → `qemu-gpa-to-hva` (memory table) → `vhost-iotlb-update`
 * → `vhost-iotlb-resolved` (the vq is re-queued).
 *
 * A failed step leaves the miss pending (the vq stays stalled), as in QEMU, and emits
 * `qemu-iotlb-miss-failed`.
 *
 * @example
 * ```ts
 * import { VhostIotlbRelay } from "./vhost_iotlb_relay.ts";
 * import { VhostDevIotlb } from "./vhost_dev_iotlb.ts";
 * import { Viommu } from "./viommu.ts";
 * import { newTranslateResult, VHOST_ACCESS_RO, VHOST_ACCESS_RW } from "../memory/translator.ts";
 * const vi = new Viommu({ model: "intel-iommu" });
 * vi.addDevice("0000:00:03.0");
 * vi.map("0000:00:03.0", 0x10000, 0x20_0000, 0x1000, VHOST_ACCESS_RW);
 * const vhost = new VhostDevIotlb();
 * const relay = new VhostIotlbRelay({
 *   vhost, viommu: vi, rid: "0000:00:03.0",
 *   gpaToHva: (gpa) => ({ hva: 0x7f00_0000_0000 + gpa, len: 0x4000_0000 - gpa }),
 * });
 * relay.start();
 * const out = newTranslateResult();
 * vhost.translatorFor(0).translate(0x10008, 8, VHOST_ACCESS_RO, out); // miss
 * relay.serviceReadable();
 * if (!vhost.translatorFor(0).translate(0x10008, 8, VHOST_ACCESS_RO, out)) throw new Error("miss left");
 * if (out.addr !== 0x7f00_0020_0008) throw new Error(out.addr.toString(16));
 * ```
 *
 * @module
 */

import type { Access } from "../memory/translator.ts";
import { err, ok, type Result } from "../result.ts";
import type { IommuEventSink } from "./event.ts";
import type { IommuError } from "./iommu_error.ts";
import type { VhostDevIotlb } from "./vhost_dev_iotlb.ts";
import { VHOST_IOTLB_INVALIDATE, VHOST_IOTLB_MISS, VHOST_IOTLB_UPDATE } from "./vhost_iotlb_msg.ts";
import type { Viommu } from "./viommu.ts";

/**
 * QEMU's memory-table lookup (vhost_memory_region_lookup): the HVA of a GPA and the bytes
 * left in its RAM region, or undefined outside guest RAM.
 */
export type GpaToHva = (gpa: number) => { readonly hva: number; readonly len: number } | undefined;

/** How one miss was answered. */
export type MissOutcome =
  | {
    readonly kind: "updated";
    readonly iova: number;
    readonly size: number;
    readonly requeue: readonly number[];
  }
  | { readonly kind: "translate-failed"; readonly iova: number }
  | { readonly kind: "hva-lookup-failed"; readonly iova: number; readonly gpa: number }
  | { readonly kind: "update-rejected"; readonly iova: number };

/** QEMU's vhost IOTLB glue for one vhost device behind a vIOMMU. */
export class VhostIotlbRelay {
  readonly #vhost: VhostDevIotlb;
  readonly #viommu: Viommu;
  readonly #rid: string;
  readonly #gpaToHva: GpaToHva;
  readonly #sink: IommuEventSink | undefined;
  #unregister: (() => void) | undefined;

  /**
   * @param options the kernel vhost device, the vIOMMU and the virtio device's requester id in
   *   the guest, QEMU's `gpaToHva`, and an event `sink` (usually the same one the vhost device
   *   and vIOMMU use, so the round trip reads as one sequence)
   */
  constructor(options: {
    vhost: VhostDevIotlb;
    viommu: Viommu;
    rid: string;
    gpaToHva: GpaToHva;
    sink?: IommuEventSink | undefined;
  }) {
    this.#vhost = options.vhost;
    this.#viommu = options.viommu;
    this.#rid = options.rid;
    this.#gpaToHva = options.gpaToHva;
    this.#sink = options.sink;
  }

  /**
   * Registers the unmap notifier: DEVIOTLB_UNMAP when the device's IOTLB is enabled (ats=on
   * with device-iotlb=on), plain UNMAP otherwise (vhost_iommu_region_add).
   */
  start(): Result<void, IommuError> {
    if (this.#unregister !== undefined) return ok(undefined);
    const event = this.#viommu.deviceIotlbEnabled(this.#rid) ? "deviotlb-unmap" : "unmap";
    const r = this.#viommu.addNotifier(this.#rid, [event], (n) => {
      // vhost_iommu_unmap_notify(): invalidate what the guest invalidated.
      this.#vhost.process({
        type: VHOST_IOTLB_INVALIDATE,
        iova: n.iova,
        size: n.size,
        uaddr: 0,
        perm: 0,
      });
    });
    if (!r.ok) return err(r.error);
    this.#unregister = r.value;
    return ok(undefined);
  }

  /** Unregisters the notifier (vhost_iommu_region_del). */
  stop(): void {
    this.#unregister?.();
    this.#unregister = undefined;
  }

  /**
   * The fd handler (vhost_kernel_iotlb_read): reads every queued message and answers each
   * MISS. Returns the outcomes in order. An ACCESS_FAIL is read and ignored (QEMU reports it
   * as unsupported).
   */
  serviceReadable(): MissOutcome[] {
    const done: MissOutcome[] = [];
    for (let m = this.#vhost.read(); m !== undefined; m = this.#vhost.read()) {
      if (m.type === VHOST_IOTLB_MISS) done.push(this.miss(m.iova, m.perm !== 1));
    }
    return done;
  }

  /**
   * vhost_device_iotlb_miss(): translate `iova` through the vIOMMU, find the HVA, write an
   * UPDATE covering the vIOMMU entry clipped to the RAM region. Also used at start to
   * pre-translate the used rings.
   */
  miss(iova: number, write: boolean): MissOutcome {
    const entry = this.#viommu.translate(this.#rid, iova, write);
    if (entry === undefined) return this.#failed({ kind: "translate-failed", iova }, "translate");
    const gpa = entry.translatedAddr;
    const hv = this.#gpaToHva(gpa);
    if (hv === undefined) {
      return this.#failed({ kind: "hva-lookup-failed", iova, gpa }, "hva-lookup");
    }
    this.#sink?.({ kind: "qemu-gpa-to-hva", gpa, hva: hv.hva, len: hv.len });
    const size = Math.min(entry.addrMask + 1, hv.len);
    const base = entry.iova;
    const perm: Access = entry.perm;
    const r = this.#vhost.process({
      type: VHOST_IOTLB_UPDATE,
      iova: base,
      size,
      uaddr: hv.hva,
      perm,
    });
    if (!r.ok) return this.#failed({ kind: "update-rejected", iova }, "update-rejected");
    return { kind: "updated", iova: base, size, requeue: r.value.requeue };
  }

  #failed(o: MissOutcome, reason: "translate" | "hva-lookup" | "update-rejected"): MissOutcome {
    this.#sink?.({ kind: "qemu-iotlb-miss-failed", iova: o.iova, reason });
    return o;
  }
}
