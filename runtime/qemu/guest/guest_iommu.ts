/**
 * What the guest kernel's IOMMU driver makes of the VM's vIOMMU, read from the guest's kernel
 * command line (`-kernel … -append "…"`, {@link GuestSpec.cmdline}):
 *
 * - no `-device intel-iommu` / `virtio-iommu-pci`: `none` — the DMA API hands out
 *   guest-physical addresses;
 * - intel-iommu: the lab's guest kernel is built without CONFIG_INTEL_IOMMU_DEFAULT_ON, so
 *   DMA remapping stays `off` (the DMAR unit is left disabled and QEMU translates nothing)
 *   unless the command line says `intel_iommu=on`;
 * - virtio-iommu: its driver binds whatever the command line says;
 * - `iommu=pt` (or `iommu.passthrough=1`): devices get identity domains (`pt`): map calls
 *   change nothing, addresses stay guest-physical;
 * - otherwise `dma`: every buffer a driver hands a device is mapped at an IOVA and unmapped
 *   after use, and `iommu.strict=1` (or `intel_iommu=strict`) makes each unmap invalidate at
 *   once instead of through the lazy flush queue (the default).
 *
 * A VM started without `-append` runs the lab's guest image, whose boot loader passes
 * `iommu=pt`.
 *
 * @example
 * ```ts
 * import { guestIommuMode } from "./guest_iommu.ts";
 * const viommu = [{ kind: "intel-iommu" as const }];
 * if (guestIommuMode(viommu, "console=ttyS0").mode !== "off") throw new Error("DMAR left off");
 * if (guestIommuMode(viommu, "intel_iommu=on").mode !== "dma") throw new Error("translated");
 * if (guestIommuMode(viommu, "intel_iommu=on iommu=pt").mode !== "pt") throw new Error("pt");
 * if (guestIommuMode(viommu, undefined).mode !== "pt") throw new Error("the lab's image");
 * ```
 *
 * @module
 */

import { iommuConfigFromCmdline } from "../../iommu/cmdline.ts";
import type { DeviceSpec } from "../vm_spec.ts";

/** The guest's use of its vIOMMU; see the module documentation. */
export interface GuestIommuMode {
  readonly mode: "none" | "off" | "pt" | "dma";
  /** Unmaps invalidate at once (`iommu.strict=1`); else through the lazy flush queue. */
  readonly strict: boolean;
  /** The vIOMMU model, when there is one. */
  readonly model?: "intel-iommu" | "virtio-iommu-pci";
}

/** Linux kstrtobool for `iommu.strict=`. */
function bool(v: string): boolean | undefined {
  const s = v.toLowerCase();
  if (s === "1" || s === "y" || s === "yes" || s === "on") return true;
  if (s === "0" || s === "n" || s === "no" || s === "off") return false;
  return undefined;
}

/** The guest's IOMMU mode for a VM with `devices` booted with `cmdline`. */
export function guestIommuMode(
  devices: readonly Pick<DeviceSpec, "kind">[],
  cmdline: string | undefined,
): GuestIommuMode {
  const d = devices.find((x) => x.kind === "intel-iommu" || x.kind === "virtio-iommu-pci");
  if (d === undefined) return { mode: "none", strict: false };
  const model = d.kind as "intel-iommu" | "virtio-iommu-pci";
  if (cmdline === undefined) return { mode: "pt", strict: false, model };
  const c = iommuConfigFromCmdline(cmdline, {
    vendor: "intel",
    defaultOn: model === "virtio-iommu-pci",
  });
  let strict = false;
  for (const word of cmdline.trim().split(/\s+/)) {
    const eq = word.indexOf("=");
    if (eq < 0) continue;
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    // drivers/iommu/iommu.c iommu_dma_setup; intel_iommu=strict is the older spelling.
    if (key === "iommu.strict") strict = bool(value) ?? strict;
    else if (key === "intel_iommu" && value.split(",").includes("strict")) strict = true;
  }
  if (!c.enabled) return { mode: "off", strict, model };
  return { mode: c.passthrough ? "pt" : "dma", strict, model };
}
