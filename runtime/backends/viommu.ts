/**
 * `-device intel-iommu[,caching-mode=on][,device-iotlb=on][,aw-bits=N]` and
 * `-device virtio-iommu-pci`: the VM's vIOMMU (runtime/iommu/viommu.ts), shown by
 * `show iommu vm1`. Every virtio-net-pci with `iommu_platform=on` is a device behind it
 * (`ats=on` asks for a device IOTLB), under the requester id the guest sees
 * ({@link guestRid}).
 *
 * What the guest does with it: the lab's guest kernel boots with `iommu=pt` — its virtio_net
 * driver programs guest-physical addresses and does not map each buffer through the DMA API
 * (the guest driver model has no per-buffer map/unmap yet; `Vm.dma` stays the identity). So
 * the devices sit in pass-through domains, QEMU gives vhost the whole of guest RAM as
 * without a vIOMMU, and the datapath is unchanged. A guest in translated mode (no `iommu=pt`)
 * is what {@link VhostVdpaBackend} relays with runtime/backends/vhost_vdpa/viommu_glue.ts:
 * each guest map becomes a VHOST_IOTLB_UPDATE, each unmap an INVALIDATE, and a device access
 * to an IOVA the guest did not map is a fault, counted and dropped `iommu_fault`.
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

/** The guest kernel of the lab boots with iommu=pt (see the module documentation). */
export const GUEST_IOMMU_PT = true;

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
      }; guest ${c.guestPassthrough ? "iommu=pt" : "translated"}`,
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
    guestPassthrough: GUEST_IOMMU_PT,
  }, {
    sink: (e) =>
      lab.control({
        comp: "viommu",
        action: "note",
        details: { name: e.kind, vm: vm.name },
      }),
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
