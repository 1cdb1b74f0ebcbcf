/**
 * A VFIO device fd (vfio-pci, drivers/vfio/pci/vfio_pci_core.c): what QEMU asks before it
 * exposes the function to the guest — device info (PCI, resettable, 9 regions, 5 IRQ
 * types), region info (BAR 0 is mmap-able: the guest's doorbell writes go straight to the
 * device), and the MSI-X eventfds KVM turns into interrupts (VFIO_DEVICE_SET_IRQS).
 *
 * @example
 * ```ts
 * import { VFIO_PCI_NUM_REGIONS } from "./vfio_ioctl.ts";
 * if (VFIO_PCI_NUM_REGIONS !== 9) throw new Error("BAR0-5, ROM, config, VGA");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../../result.ts";
import type { PciDevice } from "../../host/pci.ts";
import { functionBar0 } from "../../devices/hw_vdpa_net.ts";
import type { DetailValue } from "../../trace/event.ts";
import { type ControlTrace, NO_CONTROL_TRACE } from "../vhost_vdpa/control_trace.ts";
import {
  VFIO_DEVICE_FLAGS_PCI,
  VFIO_DEVICE_FLAGS_RESET,
  VFIO_PCI_BAR0_REGION_INDEX,
  VFIO_PCI_MSIX_IRQ_INDEX,
  VFIO_PCI_NUM_IRQS,
  VFIO_PCI_NUM_REGIONS,
  type VfioError,
  type VfioIoctlName,
} from "./vfio_ioctl.ts";

/** Size of the NIC functions' BAR 0 in the lab (32 MiB, as mlx5 VFs). */
export const BAR0_SIZE = 0x200_0000;
/** MSI-X vectors a VF exposes. */
export const VF_MSIX_VECTORS = 64;

/** Options of {@link VfioDevice}. */
export interface VfioDeviceOptions {
  readonly dev: PciDevice;
  readonly fd: number;
  readonly trace?: ControlTrace;
  readonly ctx?: string;
  readonly onClose?: () => void;
}

/** An open VFIO device; see the module documentation. */
export class VfioDevice {
  /** The PCI function. */
  readonly dev: PciDevice;
  readonly fd: number;
  readonly #trace: ControlTrace;
  readonly #ctx: string;
  readonly #onClose: (() => void) | undefined;
  readonly #msix: (number | undefined)[] = [];
  #closed = false;

  /** Handed out by VfioGroup.getDeviceFd. */
  constructor(o: VfioDeviceOptions) {
    this.dev = o.dev;
    this.fd = o.fd;
    this.#trace = o.trace ?? NO_CONTROL_TRACE;
    this.#ctx = o.ctx ?? "";
    this.#onClose = o.onClose;
  }

  #log(name: VfioIoctlName, details: Readonly<Record<string, DetailValue | undefined>>): void {
    this.#trace.emit({
      type: "control",
      t: this.#trace.now(),
      dur: 0,
      ctx: this.#ctx,
      comp: "vfio",
      action: "ioctl",
      details: { name, fd: this.fd, ...details },
    });
  }

  /** VFIO_DEVICE_GET_INFO. */
  getInfo(): { readonly flags: number; readonly numRegions: number; readonly numIrqs: number } {
    const info = {
      flags: VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET,
      numRegions: VFIO_PCI_NUM_REGIONS,
      numIrqs: VFIO_PCI_NUM_IRQS,
    };
    this.#log("VFIO_DEVICE_GET_INFO", { flags: info.flags, num: info.numRegions });
    return info;
  }

  /** VFIO_DEVICE_GET_REGION_INFO for BAR 0: where the BAR is and that it can be mmap'd. */
  getBar0(): {
    readonly index: number;
    readonly hpa: number;
    readonly size: number;
    readonly mmap: boolean;
  } {
    const r = {
      index: VFIO_PCI_BAR0_REGION_INDEX,
      hpa: functionBar0(this.dev.rid),
      size: BAR0_SIZE,
      mmap: true,
    };
    this.#log("VFIO_DEVICE_GET_REGION_INFO", { index: r.index, size: r.size });
    return r;
  }

  /**
   * VFIO_DEVICE_SET_IRQS for MSI-X: one eventfd per vector from `start` (-1 leaves a vector
   * without one). More vectors than the function has is -EINVAL.
   */
  setMsixEventfds(start: number, fds: readonly number[]): Result<void, VfioError> {
    if (start < 0 || start + fds.length > VF_MSIX_VECTORS) {
      this.#log("VFIO_DEVICE_SET_IRQS", { index: VFIO_PCI_MSIX_IRQ_INDEX, error: "-EINVAL" });
      return err({
        kind: "errno",
        op: "VFIO_DEVICE_SET_IRQS",
        errno: "EINVAL",
        reason: `vectors ${start}..${
          start + fds.length - 1
        } beyond the ${VF_MSIX_VECTORS} the function has`,
      });
    }
    fds.forEach((fd, i) => (this.#msix[start + i] = fd < 0 ? undefined : fd));
    this.#log("VFIO_DEVICE_SET_IRQS", {
      index: VFIO_PCI_MSIX_IRQ_INDEX,
      start,
      count: fds.length,
      eventfd: [...fds],
    });
    return ok(undefined);
  }

  /** The eventfd of an MSI-X vector, if set. */
  msixEventfd(vector: number): number | undefined {
    return this.#msix[vector];
  }

  /** VFIO_DEVICE_RESET (FLR). */
  reset(): void {
    this.#log("VFIO_DEVICE_RESET", {});
  }

  /** close(2). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose?.();
  }

  /** True after close. */
  get closed(): boolean {
    return this.#closed;
  }
}
