/**
 * QEMU's vhost-vdpa glue under a guest vIOMMU (hw/virtio/vhost-vdpa.c
 * vhost_vdpa_iommu_map_notify): vDPA has no miss protocol, so every guest map must reach the
 * device before the device uses it. QEMU registers a MAP|UNMAP notifier — which on intel-iommu
 * requires caching-mode=on — and forwards each guest map as VHOST_IOTLB_UPDATE {guest IOVA →
 * HVA} and each unmap as VHOST_IOTLB_INVALIDATE.
 *
 * @example
 * ```ts
 * import { VdpaViommuRelay } from "./vdpa_viommu_relay.ts";
 * import { VdpaSimIotlb } from "./vdpa_sim_iotlb.ts";
 * import { VhostVdpaIotlb } from "./vhost_vdpa_iotlb.ts";
 * import { Viommu } from "./viommu.ts";
 * import { VHOST_ACCESS_RW } from "../memory/translator.ts";
 * const vi = new Viommu({ model: "intel-iommu", cachingMode: false });
 * vi.addDevice("0000:00:03.0");
 * const sim = new VdpaSimIotlb();
 * const relay = new VdpaViommuRelay({
 *   vdpa: new VhostVdpaIotlb({ parent: sim.setMapParent(), nas: 2 }),
 *   viommu: vi, rid: "0000:00:03.0", gpaToHva: (gpa) => ({ hva: gpa + 0x7f00_0000_0000, len: 1 << 30 }),
 * });
 * const r = relay.start();
 * if (r.ok) throw new Error("caching mode is required");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { IommuError } from "./iommu_error.ts";
import type { VhostIotlbError } from "./vhost_iotlb_error.ts";
import { VHOST_IOTLB_INVALIDATE, VHOST_IOTLB_UPDATE } from "./vhost_iotlb_msg.ts";
import type { GpaToHva } from "./vhost_iotlb_relay.ts";
import type { VhostVdpaIotlb } from "./vhost_vdpa_iotlb.ts";
import type { Viommu } from "./viommu.ts";

/** A notification vhost-vdpa refused or could not place. */
export type VdpaRelayFailure =
  | { readonly kind: "hva-lookup-failed"; readonly iova: number; readonly gpa: number }
  | { readonly kind: "rejected"; readonly iova: number; readonly error: VhostIotlbError };

/** Forwards a device's vIOMMU maps and unmaps to vhost-vdpa. */
export class VdpaViommuRelay {
  readonly #vdpa: VhostVdpaIotlb;
  readonly #viommu: Viommu;
  readonly #rid: string;
  readonly #gpaToHva: GpaToHva;
  readonly #asid: number;
  readonly #failures: VdpaRelayFailure[] = [];
  #unregister: (() => void) | undefined;

  /**
   * @param options vhost-vdpa's IOTLB, the vIOMMU, the guest requester id, QEMU's
   *   `gpaToHva`, and the address space the device's data vqs use (default 0)
   */
  constructor(options: {
    vdpa: VhostVdpaIotlb;
    viommu: Viommu;
    rid: string;
    gpaToHva: GpaToHva;
    asid?: number | undefined;
  }) {
    this.#vdpa = options.vdpa;
    this.#viommu = options.viommu;
    this.#rid = options.rid;
    this.#gpaToHva = options.gpaToHva;
    this.#asid = options.asid ?? 0;
  }

  /** Notifications that could not be applied, oldest first. */
  failures(): readonly VdpaRelayFailure[] {
    return [...this.#failures];
  }

  /** Registers the MAP|UNMAP notifier (fails without caching mode on intel-iommu). */
  start(): Result<void, IommuError> {
    if (this.#unregister !== undefined) return ok(undefined);
    const r = this.#viommu.addNotifier(this.#rid, ["map", "unmap"], (n) => {
      if (n.event === "map") {
        const hv = this.#gpaToHva(n.gpa);
        if (hv === undefined) {
          this.#failures.push({ kind: "hva-lookup-failed", iova: n.iova, gpa: n.gpa });
          return;
        }
        const u = this.#vdpa.process(
          {
            type: VHOST_IOTLB_UPDATE,
            iova: n.iova,
            size: Math.min(n.size, hv.len),
            uaddr: hv.hva,
            perm: n.perm,
          },
          this.#asid,
        );
        if (!u.ok) this.#failures.push({ kind: "rejected", iova: n.iova, error: u.error });
      } else {
        const i = this.#vdpa.process(
          { type: VHOST_IOTLB_INVALIDATE, iova: n.iova, size: n.size, uaddr: 0, perm: 0 },
          this.#asid,
        );
        if (!i.ok) this.#failures.push({ kind: "rejected", iova: n.iova, error: i.error });
      }
    });
    if (!r.ok) return err(r.error);
    this.#unregister = r.value;
    return ok(undefined);
  }

  /** Unregisters the notifier. */
  stop(): void {
    this.#unregister?.();
    this.#unregister = undefined;
  }
}
