/**
 * The host IOMMU configuration a kernel command line produces, combined with hardware facts
 * (vendor, address width, IOTLB size). Only the parameters that change DMA remapping are
 * read; everything else is ignored, and when a parameter repeats the last one wins, as in
 * the kernel.
 *
 * - `intel_iommu=on|off[,sp_off,…]` (Intel: off unless turned on, or the kernel was built
 *   with CONFIG_INTEL_IOMMU_DEFAULT_ON — pass `defaultOn`); `sp_off` disables large pages.
 * - `amd_iommu=off` (AMD-Vi is on by default when present).
 * - `iommu=pt|nopt|off[,…]` and `iommu.passthrough=0|1`.
 *
 * @example
 * ```ts
 * import { iommuConfigFromCmdline } from "./cmdline.ts";
 * const c = iommuConfigFromCmdline("ro quiet intel_iommu=on iommu=pt");
 * if (!c.enabled || !c.passthrough || c.addressWidth !== 48) throw new Error("parse");
 * ```
 *
 * @module
 */

import type { IommuConfig } from "./iommu.ts";
import type { AddressWidth } from "./page_table.ts";

/** Hardware facts the command line does not carry. */
export interface IommuHardware {
  /** "intel" (VT-d, default) or "amd" (AMD-Vi). */
  readonly vendor?: "intel" | "amd" | undefined;
  /** Supported address width (default 48). */
  readonly addressWidth?: AddressWidth | undefined;
  /** IOTLB entries (default 64; real sizes are undocumented). */
  readonly iotlbEntries?: number | undefined;
  /** Translation on without a parameter (CONFIG_INTEL_IOMMU_DEFAULT_ON); AMD defaults on. */
  readonly defaultOn?: boolean | undefined;
}

function truthy(v: string): boolean | undefined {
  const s = v.toLowerCase();
  // Linux kstrtobool(): 1/y/on are true, 0/n/off are false.
  if (s === "1" || s === "y" || s === "yes" || s === "on") return true;
  if (s === "0" || s === "n" || s === "no" || s === "off") return false;
  return undefined;
}

/** Reads the IOMMU parameters from a kernel command line. */
export function iommuConfigFromCmdline(cmdline: string, hw: IommuHardware = {}): IommuConfig {
  const vendor = hw.vendor ?? "intel";
  let enabled = hw.defaultOn ?? vendor === "amd";
  let passthrough = false;
  let largePages = true;
  let forcedOff = false;
  for (const word of cmdline.trim().split(/\s+/)) {
    const eq = word.indexOf("=");
    if (eq < 0) continue;
    const key = word.slice(0, eq);
    const opts = word.slice(eq + 1).split(",");
    switch (key) {
      case "intel_iommu":
        if (vendor !== "intel") break;
        for (const o of opts) {
          if (o === "on") enabled = true;
          else if (o === "off") enabled = false;
          else if (o === "sp_off") largePages = false;
        }
        break;
      case "amd_iommu":
        if (vendor === "amd" && opts.includes("off")) enabled = false;
        break;
      case "iommu":
        // arch/x86/kernel/pci-dma.c iommu_setup(): a comma-separated list.
        for (const o of opts) {
          if (o === "pt") passthrough = true;
          else if (o === "nopt") passthrough = false;
          else if (o === "off") forcedOff = true;
        }
        break;
      case "iommu.passthrough": {
        const b = truthy(opts[0] ?? "");
        if (b !== undefined) passthrough = b;
        break;
      }
    }
  }
  return {
    enabled: enabled && !forcedOff,
    passthrough,
    addressWidth: hw.addressWidth ?? 48,
    iotlbEntries: hw.iotlbEntries ?? 64,
    largePages,
  };
}
