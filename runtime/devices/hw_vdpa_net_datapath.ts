/**
 * The datapath of a hardware vDPA net device (mlx5_vdpa on a ConnectX VF): the NIC engine
 * (hw_nic_engine.ts) serving the device's virtqueues once the driver set DRIVER_OK, its MAC
 * claimed on the port's embedded switch, and its DMA path:
 *
 *   IOVA (the driver's address: a GPA without a vIOMMU)
 *     → the device's memory key (set_map from vhost-vdpa's IOTLB: IOVA → pinned host page)
 *     → the platform IOMMU in front of the VF (identity with iommu=pt; with translation the
 *       parent's dma_map of those pages put them in the VF's DMA domain, mapped here 1:1)
 *     → the guest RAM block behind that host page.
 *
 * Kicks arrive as doorbell writes (from the guest through a host notifier, or from
 * vhost-vdpa's worker); completions raise the queue's MSI, which reaches the bus driver
 * through the queue's callback (vhost-vdpa: its call eventfd, or the IRQ bypass).
 *
 * @module
 */

import type { Iommu } from "../iommu/iommu.ts";
import { composeTranslators } from "../memory/compose.ts";
import type { GuestMemory } from "../memory/guest_memory.ts";
import type { Translator } from "../memory/translator.ts";
import type { HostRam } from "../host/host_ram.ts";
import { hasFeature, VIRTIO_F_RING_PACKED } from "../virtio/features.ts";
import type { DeviceEnv } from "./device_env.ts";
import { DmaCounter } from "./dma_counter.ts";
import type { Eswitch } from "./eswitch.ts";
import { HwNicEngine, type HwNicEngineOptions, type HwQueueSpec } from "./hw_nic_engine.ts";
import type { HwVdpaNet } from "./hw_vdpa_net.ts";
import {
  type NotifyAt,
  type VdpaDatapath,
  VIRTIO_CONFIG_S_DRIVER_OK,
  type VqStatePacked,
  type VqStateSplit,
} from "./vdpa_device.ts";

/** Options of {@link HwVdpaNetDatapath}. */
export interface HwVdpaNetDatapathOptions {
  /** The host IOMMU (the VF's platform stage). */
  readonly iommu: Iommu;
  /** Host physical memory behind guest RAM. */
  readonly ram: HostRam;
  /** The PF port's embedded switch. */
  readonly eswitch: Eswitch | undefined;
  /** Frames out of the port. */
  readonly uplink: HwNicEngineOptions["uplink"];
}

/** The datapath of one hardware vDPA net device; see the module documentation. */
export class HwVdpaNetDatapath implements VdpaDatapath {
  readonly dev: HwVdpaNet;
  readonly engine: HwNicEngine;
  readonly #o: HwVdpaNetDatapathOptions;
  readonly #env: DeviceEnv;
  #mem: GuestMemory | undefined;
  #built = false;

  /** Attaches itself as the device's datapath. */
  constructor(dev: HwVdpaNet, env: DeviceEnv, o: HwVdpaNetDatapathOptions) {
    this.dev = dev;
    this.#o = o;
    this.#env = env;
    const bdf = dev.bdf ?? dev.name;
    this.engine = new HwNicEngine(env, {
      bdf,
      comp: "mlx5_vdpa",
      uplink: o.uplink,
      msi: (index, at) => dev.vqCallback(index)?.(at),
      broken: (_index, _why, t) => dev.raiseNeedsReset(t),
    });
    dev.attachDatapath(this);
  }

  /** The engine it runs on. */
  get env(): DeviceEnv {
    return this.#env;
  }

  /** The memory the pinned pages belong to (the owner's guest RAM). */
  setMemory(mem: GuestMemory | undefined): void {
    this.#mem = mem;
    this.#built = false;
  }

  kick(index: number, at?: NotifyAt): void {
    if (!this.#ensure() || at === undefined) return;
    this.engine.kick(index, at);
  }

  statusChanged(old: number, status: number): void {
    const on = (status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0;
    if (on && (old & VIRTIO_CONFIG_S_DRIVER_OK) === 0) {
      this.#built = false;
      this.#ensure();
    }
  }

  vqState(index: number): VqStateSplit | VqStatePacked | undefined {
    const ring = this.engine.ring(index);
    if (ring === undefined) return undefined;
    const a = ring.nextAvail;
    return typeof a === "number" ? { kind: "split", availIndex: a } : {
      kind: "packed",
      lastAvailIdx: a.slot,
      lastAvailCounter: a.wrap === 0 ? 0 : 1,
      lastUsedIdx: typeof ring.nextUsed === "number" ? ring.nextUsed : ring.nextUsed.slot,
      lastUsedCounter: typeof ring.nextUsed === "number" || ring.nextUsed.wrap === 0 ? 0 : 1,
    };
  }

  reset(): void {
    this.engine.clear();
    this.#built = false;
    this.#o.eswitch?.remove(this.dev.mac);
  }

  /** mlx5_vdpa creates its hardware queues at DRIVER_OK from the queues the driver set up. */
  #ensure(): boolean {
    if (this.#built) return true;
    const dev = this.dev;
    const mem = this.#mem;
    if ((dev.getStatus() & VIRTIO_CONFIG_S_DRIVER_OK) === 0 || mem === undefined) return false;
    const features = dev.getDriverFeatures();
    const layout = hasFeature(features, VIRTIO_F_RING_PACKED) ? "packed" : "split";
    const queues: HwQueueSpec[] = [];
    const dataVqs = dev.spec.nvqs - (dev.spec.nvqs % 2);
    for (let i = 0; i < dataVqs; i++) {
      const c = dev.vqConfig(i);
      if (c === undefined || !c.ready || c.num === 0) continue;
      queues.push({
        index: i,
        layout,
        size: c.num,
        desc: Number(c.descArea),
        driver: Number(c.driverArea),
        device: Number(c.deviceArea),
      });
    }
    if (queues.length === 0) return false;
    const r = this.engine.setQueues(queues, this.#dma(mem), features);
    if (!r.ok) {
      dev.raiseNeedsReset();
      return false;
    }
    this.#o.eswitch?.add(
      dev.mac,
      (frame, len, t, flow, seq) => this.engine.receive(frame, len, t, flow, seq),
    );
    this.#built = true;
    return true;
  }

  /** memory key → platform IOMMU → guest RAM. */
  #dma(mem: GuestMemory) {
    const o = this.#o;
    const bdf = this.dev.bdf ?? "";
    const platform = o.iommu.translatorFor(bdf);
    this.#mapDmaDomain();
    const counter = new DmaCounter(
      platform.ok ? platform.value : { lastOutcome: "identity", translate: identity },
    );
    const mr: Translator = this.dev.mr[this.dev.groupAsid(0) ?? 0] ?? this.dev.mr[0] as Translator;
    const translator = composeTranslators(composeTranslators(mr, counter), o.ram.paToMem(mem));
    return { mem, translator, counter, space: "mkey gpa-pa" };
  }

  /**
   * With a translated (not pass-through) host domain, the parent's dma_map_sg put the pinned
   * pages in the VF's DMA domain; the lab maps them at their physical address.
   */
  #mapDmaDomain(): void {
    const iommu = this.#o.iommu;
    const bdf = this.dev.bdf;
    if (bdf === undefined || iommu.mode !== "translated") return;
    const dom = iommu.domainOf(bdf);
    if (dom === undefined) return;
    for (const mr of this.dev.mr) {
      for (const m of mr.maps()) {
        const size = m.last - m.start + 1;
        iommu.map(dom, m.addr, m.addr, size, m.perm);
      }
    }
  }
}

const identity: Translator["translate"] = (addr, len, _access, out) => {
  out.addr = addr;
  out.len = len;
  out.fault = undefined;
  return true;
};
