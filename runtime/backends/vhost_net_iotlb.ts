/**
 * vhost-net behind a translated guest vIOMMU (VIRTIO_F_ACCESS_PLATFORM, the guest without
 * `iommu=pt`): ring and buffer addresses are guest IOVAs. The kernel translates them through
 * its device IOTLB (runtime/iommu/vhost_dev_iotlb.ts); a miss goes to QEMU over the vhost fd
 * (VHOST_IOTLB_MISS), QEMU walks the vIOMMU and writes back a VHOST_IOTLB_UPDATE
 * (runtime/iommu/vhost_iotlb_relay.ts), and the stalled virtqueue is re-queued. Guest unmaps
 * reach the kernel as VHOST_IOTLB_INVALIDATE through QEMU's UNMAP notifier.
 *
 * The shared datapath translates a chain in one synchronous pop, so the round trip is folded
 * into the translation: a miss is answered at once (QEMU's relay runs, the update goes in)
 * and the lookup retried; the worker learns how many round trips its last chain cost
 * ({@link VhostNetIotlb.takeRoundTrips}) and charges `vhost_iotlb_miss_roundtrip` for each —
 * the time its virtqueue stalls. An IOVA the guest never mapped stays a miss QEMU cannot
 * answer: the translation fails and the queue stops, as vhost's vq does waiting for an
 * update that never comes.
 *
 * The translator it gives a ring goes IOVA → HVA (the device IOTLB) → GPA (QEMU's memory
 * table): the lab's rings read guest memory by guest-physical address.
 *
 * @example A miss answered through QEMU, then a hit
 * ```ts
 * import { Viommu } from "../iommu/viommu.ts";
 * import { newTranslateResult, VHOST_ACCESS_RO, VHOST_ACCESS_RW } from "../memory/translator.ts";
 * import { VhostNetIotlb } from "./vhost_net_iotlb.ts";
 * const vi = new Viommu({ model: "intel-iommu" });
 * vi.addDevice("0000:00:03.0");
 * vi.map("0000:00:03.0", 0xffff_f000, 0x20_0000, 0x1000, VHOST_ACCESS_RW);
 * const hvaBase = 0x7f00_0000_0000;
 * const iotlb = new VhostNetIotlb({
 *   viommu: vi, rid: "0000:00:03.0",
 *   gpaToHva: (gpa) => ({ hva: hvaBase + gpa, len: 0x4000_0000 - gpa }),
 *   hvaToGpa: (hva) => hva - hvaBase,
 * });
 * const tr = iotlb.translatorFor(1);
 * const out = newTranslateResult();
 * if (!tr.translate(0xffff_f010, 64, VHOST_ACCESS_RO, out) || out.addr !== 0x20_0010) throw new Error();
 * if (iotlb.takeRoundTrips() !== 1) throw new Error("one miss, one round trip");
 * tr.translate(0xffff_f020, 64, VHOST_ACCESS_RO, out);
 * if (iotlb.takeRoundTrips() !== 0) throw new Error("then a hit");
 * ```
 *
 * @module
 */

import type { Result } from "../result.ts";
import type { IommuEventSink } from "../iommu/event.ts";
import type { IommuError } from "../iommu/iommu_error.ts";
import { VhostDevIotlb } from "../iommu/vhost_dev_iotlb.ts";
import { type GpaToHva, VhostIotlbRelay } from "../iommu/vhost_iotlb_relay.ts";
import type { Viommu } from "../iommu/viommu.ts";
import type { Access, TranslateResult, Translator } from "../memory/translator.ts";

/** Options of {@link VhostNetIotlb}. */
export interface VhostNetIotlbOptions {
  readonly viommu: Viommu;
  /** The virtio-net-pci function in the guest (`0000:00:03.0`). */
  readonly rid: string;
  /** QEMU's memory table: GPA → HVA and the bytes left in the region. */
  readonly gpaToHva: GpaToHva;
  /** The same table backwards: HVA → GPA (undefined outside guest RAM). */
  readonly hvaToGpa: (hva: number) => number | undefined;
  readonly sink?: IommuEventSink | undefined;
}

/** One vhost-net device's IOTLB and QEMU's side of it; see the module documentation. */
export class VhostNetIotlb {
  /** The kernel's device IOTLB. */
  readonly dev: VhostDevIotlb;
  /** QEMU's miss handler and unmap notifier. */
  readonly relay: VhostIotlbRelay;
  readonly #hvaToGpa: (hva: number) => number | undefined;
  #roundTrips = 0;
  /** Round trips since creation. */
  roundTrips = 0;
  /** The IOVA of the last miss. */
  lastMiss = 0;
  /** The IOVA of the last translation (after a pop: its chain's last buffer). */
  lastIova = 0;

  constructor(o: VhostNetIotlbOptions) {
    this.dev = new VhostDevIotlb({ sink: o.sink });
    this.relay = new VhostIotlbRelay({
      vhost: this.dev,
      viommu: o.viommu,
      rid: o.rid,
      gpaToHva: o.gpaToHva,
      sink: o.sink,
    });
    this.#hvaToGpa = o.hvaToGpa;
  }

  /** QEMU registers its UNMAP notifier (vhost_iommu_region_add). */
  start(): Result<void, IommuError> {
    return this.relay.start();
  }

  /** QEMU unregisters it (the device stops). */
  stop(): void {
    this.relay.stop();
  }

  /** Round trips to QEMU since the last call (the worker charges them). */
  takeRoundTrips(): number {
    const n = this.#roundTrips;
    this.#roundTrips = 0;
    return n;
  }

  /** The IOVA → GPA translator of virtqueue `vq`'s worker. */
  translatorFor(vq: number): Translator {
    const inner = this.dev.translatorFor(vq);
    return {
      translate: (addr: number, len: number, access: Access, out: TranslateResult): boolean => {
        if (!inner.translate(addr, len, access, out)) {
          if (inner.lastOutcome !== "miss") return false;
          // EAGAIN: QEMU reads the MISS, walks the vIOMMU, writes the UPDATE; vq re-queued.
          this.relay.serviceReadable();
          this.lastMiss = addr;
          this.#roundTrips++;
          this.roundTrips++;
          if (!inner.translate(addr, len, access, out)) return false;
        }
        const gpa = this.#hvaToGpa(out.addr);
        if (gpa === undefined) {
          out.fault = { kind: "unmapped", iova: addr, access };
          return false;
        }
        out.addr = gpa;
        this.lastIova = addr;
        return true;
      },
    };
  }
}
