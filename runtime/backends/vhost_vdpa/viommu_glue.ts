/**
 * vhost-vdpa under a guest vIOMMU (hw/virtio/vhost-vdpa.c vhost_vdpa_iommu_region_add /
 * vhost_vdpa_iommu_map_notify): vDPA has no IOTLB-miss protocol, so every mapping the guest
 * makes must reach the device before the device uses it. QEMU registers a MAP|UNMAP notifier
 * on the device's IOMMU memory region (intel-iommu honours MAP only with caching-mode=on),
 * replays what is already mapped, and turns each guest map into VHOST_IOTLB_UPDATE {guest
 * IOVA → QEMU's HVA of the GPA} and each unmap into VHOST_IOTLB_INVALIDATE — traced like the
 * premap's messages. A device access to an IOVA the guest did not map (or maps without the
 * right permission) fails in the parent's translation: vdpa_sim counts tx/rx errors and the
 * packet is dropped `iommu_fault`; hardware raises a DMA fault and breaks the queue.
 *
 * @example
 * ```ts
 * import { relayViommu } from "./viommu_glue.ts";
 * import { Viommu } from "../../iommu/viommu.ts";
 * const vi = new Viommu({ model: "intel-iommu", cachingMode: false });
 * vi.addDevice("0000:00:03.0");
 * const r = relayViommu({
 *   writeIotlb: () => ({ ok: true, value: undefined }),
 *   viommu: vi,
 *   rid: "0000:00:03.0",
 *   gpaToHva: (gpa) => 0x7f00_0000_0000 + gpa,
 * });
 * if (r.ok) throw new Error("intel-iommu needs caching-mode=on for MAP notifiers");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../../result.ts";
import type { Access } from "../../memory/translator.ts";
import type { Viommu } from "../../iommu/viommu.ts";
import {
  VHOST_IOTLB_INVALIDATE,
  VHOST_IOTLB_UPDATE,
  type VhostIotlbMsg,
} from "../../iommu/vhost_iotlb_msg.ts";

/** Why QEMU could not put the device behind the vIOMMU. */
export interface ViommuRelayError {
  /** QEMU's message. */
  readonly qemu: string;
}

/** What the relay needs: a traced IOTLB write, the vIOMMU, the device's requester id. */
export interface ViommuRelayOptions {
  readonly writeIotlb: (msg: VhostIotlbMsg, asid: number) => Result<void, unknown>;
  readonly viommu: Viommu;
  /** The virtio-net-pci function as the guest sees it (`0000:00:03.0`). */
  readonly rid: string;
  /** QEMU's address of a guest-physical address (undefined: not RAM). */
  readonly gpaToHva: (gpa: number) => number | undefined;
  /** The data queues' address space (default 0). */
  readonly asid?: number;
}

/** Registers the notifier and replays existing maps; returns the unregister function. */
export function relayViommu(o: ViommuRelayOptions): Result<() => void, ViommuRelayError> {
  const asid = o.asid ?? 0;
  const forward = (event: string, iova: number, size: number, gpa: number, perm: Access) => {
    if (event === "map") {
      const hva = o.gpaToHva(gpa);
      if (hva === undefined) return;
      o.writeIotlb(
        { type: VHOST_IOTLB_UPDATE, iova, size, uaddr: hva, perm: perm as Access },
        asid,
      );
    } else if (event === "unmap") {
      o.writeIotlb({ type: VHOST_IOTLB_INVALIDATE, iova, size, uaddr: 0, perm: 0 }, asid);
    }
  };
  const reg = o.viommu.addNotifier(
    o.rid,
    ["map", "unmap"],
    (n) => forward(n.event, n.iova, n.size, n.gpa, n.perm),
  );
  if (!reg.ok) {
    const e = reg.error;
    const text = e.kind === "notifier-unsupported"
      ? "We need to set caching-mode=on for intel-iommu to enable device assignment with IOMMU protection."
      : `vhost-vdpa: cannot register an IOMMU notifier for ${o.rid}`;
    return err({ qemu: `qemu-system-x86_64: ${text}` });
  }
  // memory_region_iommu_replay: what the guest mapped before the notifier existed
  for (const m of o.viommu.ranges(o.rid)) {
    forward("map", m.iova, m.size, m.pa, m.perm);
  }
  return ok(reg.value);
}
