/**
 * The lab: the whole simulated world a script builds and drives — the host kernel (modules,
 * sysfs, /dev, netdevs, PCI, the vDPA bus) and, as the simulator grows, VMs, back-ends,
 * traffic and the event scheduler. It knows nothing of the language: the interpreter in
 * `stdlib/` maps commands onto its methods.
 *
 * @example
 * ```ts
 * import { Lab } from "./lab.ts";
 * import type { HostCatalog } from "./host/kernel_ctx.ts";
 * const catalog: HostCatalog = { modules: {}, nicModels: {} };
 * const lab = new Lab({ hostCatalog: catalog });
 * if (lab.host.lsmod().length !== 0) throw new Error("a fresh host has no modules");
 * ```
 *
 * @module
 */

import type { HostEvent } from "./host/host_event.ts";
import { HostKernel } from "./host/kernel.ts";
import type { HostCatalog } from "./host/kernel_ctx.ts";

/** Options of {@link Lab}. */
export interface LabOptions {
  /** Kernel modules and NIC models (stdlib's catalogs). */
  readonly hostCatalog: HostCatalog;
  /** Seed of every random stream (MAC addresses, …). Default 1. */
  readonly seed?: number;
}

/** The simulated world. */
export class Lab {
  readonly host: HostKernel;
  readonly seed: number;
  readonly #hostEvents: HostEvent[] = [];

  constructor(options: LabOptions) {
    this.seed = options.seed ?? 1;
    this.host = new HostKernel({
      catalog: options.hostCatalog,
      seed: this.seed,
      sink: (e) => this.#hostEvents.push(e),
    });
  }

  /** Host events so far, in the order the kernel emitted them. */
  get hostEvents(): readonly HostEvent[] {
    return this.#hostEvents;
  }
}
