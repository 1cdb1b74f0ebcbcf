/**
 * A guest vIOMMU as QEMU models it: `-device intel-iommu[,caching-mode=on][,device-iotlb=on]`
 * or `-device virtio-iommu-pci`. The guest driver maps and unmaps DMA per buffer in a domain
 * per device (IOVA → GPA page tables, the same radix structure as the host's); QEMU translates
 * on behalf of its device models and back-ends, and tells registered IOMMU notifiers about
 * changes — the hooks it uses to send VHOST_IOTLB_UPDATE / INVALIDATE to vhost, or mappings to
 * vhost-vdpa and VFIO.
 *
 * What QEMU can see depends on the model:
 * - intel-iommu without caching mode: the guest invalidates only after unmapping (a
 *   not-present entry cannot be cached), so only UNMAP notifications exist; MAP notifiers
 *   are refused ("requires caching mode").
 * - intel-iommu with caching-mode=on: the guest also invalidates after mapping; QEMU walks the
 *   new entries and notifies MAP.
 * - device-iotlb=on with an `ats=on` device: unmaps are followed by a device-IOTLB
 *   invalidation, delivered as DEVIOTLB_UNMAP (what vhost registers for when available).
 * - virtio-iommu: MAP and UNMAP requests on its request queue; QEMU sees both; no ATS.
 *
 * With the guest's `iommu=pt`, guest kernel drivers use identity mappings: their map/unmap
 * calls change nothing and translation returns the address itself, 4 KiB at a time.
 *
 * @example
 * ```ts
 * import { Viommu } from "./viommu.ts";
 * import { VHOST_ACCESS_RW } from "../memory/translator.ts";
 * const vi = new Viommu({ model: "intel-iommu", cachingMode: true });
 * vi.addDevice("0000:00:03.0");
 * const seen: string[] = [];
 * vi.addNotifier("0000:00:03.0", ["map", "unmap"], (n) => seen.push(n.event));
 * vi.map("0000:00:03.0", 0x10000, 0x4000_0000, 0x1000, VHOST_ACCESS_RW);
 * const e = vi.translate("0000:00:03.0", 0x10010, true);
 * if (e?.translatedAddr !== 0x4000_0000 || seen[0] !== "map") throw new Error("viommu");
 * ```
 *
 * @module
 */

import type { Access } from "../memory/translator.ts";
import { err, ok, type Result } from "../result.ts";
import type { IommuEventSink, NotifierEvent } from "./event.ts";
import { FaultLog } from "./fault_log.ts";
import type { IommuError } from "./iommu_error.ts";
import { psiRegion } from "./iotlb_cache.ts";
import { IoPageTable, type MappedRange, newWalkResult, PAGE_SIZE_4K } from "./page_table.ts";

/** Which vIOMMU device the VM has. */
export type ViommuModel = "intel-iommu" | "virtio-iommu";

/** The vIOMMU's properties and the guest's choice of identity mappings. */
export interface ViommuConfig {
  readonly model: ViommuModel;
  /** intel-iommu caching-mode=on. */
  readonly cachingMode?: boolean | undefined;
  /** intel-iommu device-iotlb=on. */
  readonly deviceIotlb?: boolean | undefined;
  /** aw-bits (default 48). */
  readonly awBits?: 39 | 48 | undefined;
  /** The guest kernel booted with iommu=pt. */
  readonly guestPassthrough?: boolean | undefined;
}

/** A {@link ViommuConfig} with every default filled in. */
export interface ViommuSettings {
  readonly model: ViommuModel;
  readonly cachingMode: boolean;
  readonly deviceIotlb: boolean;
  readonly awBits: 39 | 48;
  readonly guestPassthrough: boolean;
}

/** QEMU's IOMMUTLBEntry: a translated, naturally aligned block. */
export interface IommuTlbEntry {
  /** IOVA of the block (aligned to the mask). */
  readonly iova: number;
  /** GPA of the block. */
  readonly translatedAddr: number;
  /** Block size minus one. */
  readonly addrMask: number;
  readonly perm: Access;
}

/** What a notifier hears. */
export interface IommuNotification {
  readonly event: NotifierEvent;
  readonly rid: string;
  readonly iova: number;
  readonly size: number;
  /** GPA for "map" (0 otherwise). */
  readonly gpa: number;
  /** Permission for "map" (0 otherwise). */
  readonly perm: Access;
}

interface Notifier {
  readonly events: readonly NotifierEvent[];
  readonly fn: (n: IommuNotification) => void;
}

class GuestDevice {
  readonly notifiers: Notifier[] = [];
  constructor(
    readonly rid: string,
    readonly ats: boolean,
    readonly table: IoPageTable | undefined,
  ) {}
}

/** The guest vIOMMU. */
export class Viommu {
  readonly #config: ViommuSettings;
  readonly #sink: IommuEventSink | undefined;
  readonly #devices = new Map<string, GuestDevice>();
  readonly #faults: FaultLog;
  readonly #walk = newWalkResult();

  /**
   * @param config the `-device intel-iommu` / `virtio-iommu-pci` properties
   * @param options event `sink`; `faultLogSize` guest fault records kept
   */
  constructor(
    config: ViommuConfig,
    options: { sink?: IommuEventSink | undefined; faultLogSize?: number | undefined } = {},
  ) {
    this.#config = {
      model: config.model,
      cachingMode: config.cachingMode ?? false,
      deviceIotlb: config.deviceIotlb ?? false,
      awBits: config.awBits ?? 48,
      guestPassthrough: config.guestPassthrough ?? false,
    };
    this.#sink = options.sink;
    this.#faults = new FaultLog(options.faultLogSize);
  }

  /** The configuration in force. */
  get config(): ViommuSettings {
    return this.#config;
  }

  /** DMA faults the vIOMMU reported to the guest. */
  get faults(): FaultLog {
    return this.#faults;
  }

  /**
   * Puts a guest PCI device behind the vIOMMU. `ats` is the device's `ats=on` property; it
   * matters only with intel-iommu device-iotlb=on.
   */
  addDevice(rid: string, options: { ats?: boolean | undefined } = {}): Result<void, IommuError> {
    const known = this.#devices.get(rid);
    if (known !== undefined) return err({ kind: "device-exists", rid, group: 0 });
    const table = this.#config.guestPassthrough
      ? undefined
      : new IoPageTable(this.#config.awBits, { domain: this.#devices.size + 1 });
    this.#devices.set(rid, new GuestDevice(rid, options.ats ?? false, table));
    return ok(undefined);
  }

  /** True when unmaps of this device are followed by device-IOTLB invalidations. */
  deviceIotlbEnabled(rid: string): boolean {
    const d = this.#devices.get(rid);
    return d !== undefined && d.ats && this.#config.deviceIotlb &&
      this.#config.model === "intel-iommu";
  }

  /**
   * Registers an IOMMU notifier for a device (memory_region_register_iommu_notifier). Returns a
   * function that unregisters it. MAP needs caching mode on intel-iommu; DEVIOTLB_UNMAP needs
   * device-iotlb=on.
   */
  addNotifier(
    rid: string,
    events: readonly NotifierEvent[],
    fn: (n: IommuNotification) => void,
  ): Result<() => void, IommuError> {
    const d = this.#devices.get(rid);
    if (d === undefined) return err({ kind: "unknown-device", rid });
    const intel = this.#config.model === "intel-iommu";
    // intel_iommu.c vtd_iommu_notify_flag_changed(): MAP without CM cannot be honoured.
    if (intel && events.includes("map") && !this.#config.cachingMode) {
      return err({ kind: "notifier-unsupported", rid, needs: "caching mode" });
    }
    if (events.includes("deviotlb-unmap") && !(intel && this.#config.deviceIotlb)) {
      return err({ kind: "notifier-unsupported", rid, needs: "device IOTLB mode" });
    }
    const n: Notifier = { events: [...events], fn };
    d.notifiers.push(n);
    return ok(() => {
      const i = d.notifiers.indexOf(n);
      if (i >= 0) d.notifiers.splice(i, 1);
    });
  }

  /**
   * The guest driver maps a buffer for DMA (dma_map_single → intel_iommu_map / virtio-iommu
   * MAP). In a pass-through guest this changes nothing.
   */
  map(
    rid: string,
    iova: number,
    gpa: number,
    size: number,
    perm: Access,
  ): Result<void, IommuError> {
    const d = this.#devices.get(rid);
    if (d === undefined) return err({ kind: "unknown-device", rid });
    if (d.table === undefined) return ok(undefined);
    const r = d.table.map(iova, gpa, size, perm);
    if (!r.ok) return r;
    this.#sink?.({ kind: "viommu-map", rid, iova, gpa, size, perm });
    const intel = this.#config.model === "intel-iommu";
    // CM=1: the guest must invalidate after making entries present, so QEMU sees the map.
    if (intel && !this.#config.cachingMode) return ok(undefined);
    if (intel) this.#sink?.({ kind: "viommu-invalidate", rid, scope: "iotlb", iova, size });
    this.#notifyLeaves(d, iova, iova + size);
    return ok(undefined);
  }

  /**
   * The guest driver unmaps a buffer (dma_unmap_single). intel-iommu: IOTLB invalidation, then
   * device-IOTLB invalidation when enabled; virtio-iommu: an UNMAP request. Returns the bytes
   * unmapped (the whole range in a pass-through guest).
   */
  unmap(rid: string, iova: number, size: number): Result<number, IommuError> {
    const d = this.#devices.get(rid);
    if (d === undefined) return err({ kind: "unknown-device", rid });
    if (d.table === undefined) return ok(size);
    const r = d.table.unmap(iova, size);
    if (!r.ok) return r;
    if (r.value.bytes === 0) return err({ kind: "not-mapped", domain: 0, iova });
    const { start, bytes } = r.value;
    this.#sink?.({ kind: "viommu-unmap", rid, iova: start, size: bytes });
    if (this.#config.model === "intel-iommu") {
      // The guest's page-selective invalidation covers an aligned 2^AM block.
      const psi = psiRegion(start, bytes);
      this.#sink?.({
        kind: "viommu-invalidate",
        rid,
        scope: "iotlb",
        iova: psi.iova,
        size: psi.size,
      });
      this.#notify(d, "unmap", psi.iova, psi.size, 0, 0);
      if (this.deviceIotlbEnabled(rid)) {
        this.#sink?.({
          kind: "viommu-invalidate",
          rid,
          scope: "device-iotlb",
          iova: psi.iova,
          size: psi.size,
        });
        this.#notify(d, "deviotlb-unmap", psi.iova, psi.size, 0, 0);
      }
    } else {
      this.#notify(d, "unmap", start, bytes, 0, 0);
    }
    return ok(bytes);
  }

  /**
   * QEMU translates an IOVA for a device model or back-end (vtd_iommu_translate /
   * virtio_iommu_translate through address_space_get_iotlb_entry). Returns undefined when the
   * page is not mapped or lacks the needed permission, after recording a guest-visible fault.
   */
  translate(rid: string, iova: number, write: boolean): IommuTlbEntry | undefined {
    const d = this.#devices.get(rid);
    if (d === undefined) {
      this.#fault(rid, iova, write, "no-context");
      return undefined;
    }
    let entry: IommuTlbEntry;
    if (d.table === undefined) {
      // Pass-through context: identity, one 4 KiB page at a time.
      const base = iova - (iova % PAGE_SIZE_4K);
      entry = { iova: base, translatedAddr: base, addrMask: PAGE_SIZE_4K - 1, perm: 3 };
    } else {
      if (!(iova >= 0 && iova < d.table.limit)) {
        this.#fault(rid, iova, write, "beyond-address-width");
        return undefined;
      }
      const w = this.#walk;
      if (!d.table.walk(iova, w)) {
        this.#fault(rid, iova, write, "not-present");
        return undefined;
      }
      entry = { iova: w.pageIova, translatedAddr: w.pa, addrMask: w.pageSize - 1, perm: w.perm };
    }
    // address_space_get_iotlb_entry(): the entry must allow the access (bit 0 read, bit 1 write).
    if ((entry.perm & (write ? 2 : 1)) === 0) {
      this.#fault(rid, iova, write, write ? "write-to-read-only" : "read-from-write-only");
      return undefined;
    }
    this.#sink?.({
      kind: "viommu-translate",
      rid,
      iova,
      gpa: entry.translatedAddr + (iova - entry.iova),
      mask: entry.addrMask,
      perm: entry.perm,
    });
    return entry;
  }

  /** The guest's mappings of a device, merged (empty for a pass-through guest). */
  ranges(rid: string): MappedRange[] {
    return this.#devices.get(rid)?.table?.ranges() ?? [];
  }

  /** Devices behind the vIOMMU, in the order they were added. */
  devices(): string[] {
    return [...this.#devices.keys()];
  }

  #notifyLeaves(d: GuestDevice, from: number, to: number): void {
    // QEMU's page walk reports one entry per leaf; report each leaf page of the new range.
    const w = this.#walk;
    let at = from;
    while (at < to && d.table !== undefined && d.table.walk(at, w)) {
      this.#notify(d, "map", w.pageIova, w.pageSize, w.pa, w.perm);
      at = w.pageIova + w.pageSize;
    }
  }

  #notify(
    d: GuestDevice,
    event: NotifierEvent,
    iova: number,
    size: number,
    gpa: number,
    perm: Access,
  ): void {
    const listeners = d.notifiers.filter((n) => n.events.includes(event));
    if (listeners.length === 0) return;
    this.#sink?.({ kind: "viommu-notify", rid: d.rid, event, iova, gpa, size, perm });
    for (const n of listeners) n.fn({ event, rid: d.rid, iova, size, gpa, perm });
  }

  #fault(
    rid: string,
    iova: number,
    write: boolean,
    reason: Parameters<FaultLog["record"]>[0]["reason"],
  ): void {
    const f = this.#faults.record({ rid, domain: undefined, iova, write, reason });
    this.#sink?.({ kind: "viommu-fault", fault: f });
  }
}
