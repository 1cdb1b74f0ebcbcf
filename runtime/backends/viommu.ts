/**
 * `-device intel-iommu[,caching-mode=on][,device-iotlb=on][,aw-bits=N]` and
 * `-device virtio-iommu-pci`: the VM's vIOMMU (runtime/iommu/viommu.ts), shown by
 * `show iommu vm1`. Every virtio-net-pci with `iommu_platform=on` is a device behind it
 * (`ats=on` asks for a device IOTLB), under the requester id the guest sees
 * ({@link guestRid}).
 *
 * What the guest does with it is {@link Vm.guestIommu}, read from its kernel command line
 * (runtime/qemu/guest/guest_iommu.ts). The lab's guest image boots with `iommu=pt` (and
 * without `intel_iommu=on` DMAR stays off): devices sit in pass-through domains, QEMU gives
 * vhost the whole of guest RAM as without a vIOMMU, the datapath is unchanged. A guest
 * started with `-kernel … -append "intel_iommu=on"` (or with virtio-iommu and no `iommu=pt`)
 * translates: its virtio_net maps every buffer through the DMA API
 * (runtime/qemu/guest/nic_dma.ts), QEMU's own virtio-net reads through the vIOMMU,
 * vhost-net's device IOTLB misses to QEMU (runtime/backends/vhost_net_iotlb.ts), and
 * {@link VhostVdpaBackend} relays each guest map as a VHOST_IOTLB_UPDATE and each unmap as an
 * INVALIDATE (runtime/backends/vhost_vdpa/viommu_glue.ts); a device access to an IOVA the
 * guest did not map is a fault.
 *
 * The vIOMMU's per-buffer events (maps, unmaps, invalidations, translations) are not control
 * steps — a translated guest makes them per packet; its faults are.
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import { Viommu } from "../iommu/viommu.ts";
import type { ViommuDeviceSpec, VmError } from "../qemu/vm_spec.ts";
import type { Vm, VmDevice, VmDeviceEnv, VmDeviceFactory } from "../qemu/vm.ts";

/** The guest's PCI address of the `k`-th virtio-net-pci (q35: slot 3 onwards on bus 0). */
export function guestRid(nicIndex: number): string {
  return `0000:00:${(3 + nicIndex).toString(16).padStart(2, "0")}.0`;
}

/** How `show topology` names the guest's use of its vIOMMU. */
const GUEST_MODE = {
  none: "no IOMMU driver",
  off: "DMAR off (no intel_iommu=on)",
  pt: "iommu=pt",
  dma: "translated",
} as const;

class ViommuDevice implements VmDevice {
  readonly kind: string;
  readonly id?: string;
  readonly viommu: Viommu;
  readonly #vm: Vm;

  constructor(vm: Vm, spec: ViommuDeviceSpec, viommu: Viommu) {
    this.kind = spec.kind;
    if (spec.id !== undefined) this.id = spec.id;
    this.viommu = viommu;
    this.#vm = vm;
  }

  describe(): readonly string[] {
    const c = this.viommu.config;
    const mode = c.model === "intel-iommu"
      ? `caching-mode=${c.cachingMode ? "on" : "off"} device-iotlb=${
        c.deviceIotlb ? "on" : "off"
      } aw-bits=${c.awBits}`
      : "virtio-iommu";
    return [
      `${this.kind} (${mode}) in ${this.#vm.name}: devices ${
        this.viommu.devices().join(", ") || "none"
      }; guest ${GUEST_MODE[this.#vm.guestIommu.mode]}`,
    ];
  }
}

function create(env: VmDeviceEnv): Result<VmDevice, VmError> {
  const { lab, vm } = env;
  const spec = env.device as ViommuDeviceSpec;
  const name = spec.kind === "intel-iommu" ? "intel-iommu" : "virtio-iommu-pci";
  if (vm.viommu !== undefined) {
    return err({
      kind: "backend",
      at: { device: env.index },
      message: "a VM has at most one vIOMMU",
      qemu:
        `qemu-system-x86_64: -device ${name}: QEMU does not support multiple vIOMMUs for x86 yet.`,
    });
  }
  const viommu = new Viommu({
    model: spec.kind === "intel-iommu" ? "intel-iommu" : "virtio-iommu",
    cachingMode: spec.cachingMode,
    deviceIotlb: spec.deviceIotlb,
    awBits: spec.awBits === 39 ? 39 : 48,
    guestPassthrough: vm.guestIommu.mode !== "dma",
  }, {
    sink: (e) => {
      if (e.kind !== "viommu-fault") return; // per buffer otherwise
      lab.control({ comp: "viommu", action: "note", details: { name: e.kind, vm: vm.name } });
    },
  });
  let nic = 0;
  for (const d of vm.spec.devices) {
    if (d.kind !== "virtio-net-pci") continue;
    if (d.iommuPlatform) viommu.addDevice(guestRid(nic), { ats: d.ats });
    nic++;
  }
  vm.viommu = viommu;
  return ok(new ViommuDevice(vm, spec, viommu));
}

/** The registry entries. */
export const INTEL_IOMMU_DEVICE: VmDeviceFactory = { kind: "intel-iommu", create };
export const VIRTIO_IOMMU_DEVICE: VmDeviceFactory = { kind: "virtio-iommu-pci", create };
