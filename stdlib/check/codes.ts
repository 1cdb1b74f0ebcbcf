/**
 * The diagnostic codes of the semantic checks of QEMU, testpmd and ovs-vsctl command lines
 * against the catalogs: E0220–E0249 and W0220–W0239 (E0200–E0219 belong to the kernel-module
 * and management-device catalogs). One table, one line each; the tests iterate it so that every
 * code is exercised. (Unknown testpmd forwarding modes are the command parser's E0109.)
 *
 * @example
 * ```ts
 * import { CHECK_CODES } from "./codes.ts";
 * if (CHECK_CODES.E0229.severity !== "error") throw new Error("a dangling reference is an error");
 * if (CHECK_CODES.W0220.severity !== "warning") throw new Error("ignored is a warning");
 * ```
 *
 * @module
 */

import type { Severity } from "../../lang/diagnostic.ts";

/** One code: its severity and what it means. */
export interface CheckCodeInfo {
  readonly severity: Severity;
  readonly summary: string;
}

/** Every code the catalog checks emit. */
export const CHECK_CODES = {
  E0220: { severity: "error", summary: "unknown QEMU device driver" },
  E0221: { severity: "error", summary: "unknown QEMU netdev type" },
  E0222: { severity: "error", summary: "unknown QEMU chardev backend" },
  E0223: { severity: "error", summary: "unknown QEMU object type" },
  E0224: { severity: "error", summary: "unknown machine type, accelerator or -numa kind" },
  E0225: { severity: "error", summary: "unknown property of a class" },
  E0226: {
    severity: "error",
    summary: "invalid property value (wrong type, not allowed, out of range)",
  },
  E0227: { severity: "error", summary: "missing required property" },
  E0228: { severity: "error", summary: "duplicate id" },
  E0229: { severity: "error", summary: "dangling reference (netdev=, chardev=, memdev=, bus= …)" },
  E0230: { severity: "error", summary: "a netdev or chardev is used by two frontends" },
  E0231: { severity: "error", summary: "virtqueue size is not a power of 2 in the allowed range" },
  E0232: { severity: "error", summary: "queue count out of range" },
  E0233: {
    severity: "error",
    summary: "vIOMMU setup QEMU rejects (machine type, irqchip, caching mode)",
  },
  E0234: { severity: "error", summary: "frontend and backend do not fit together" },
  E0235: { severity: "error", summary: "conflicting properties" },
  E0236: { severity: "error", summary: "memory sizes do not agree" },
  E0237: { severity: "error", summary: "removed property or devarg" },
  E0238: { severity: "error", summary: "invalid CPU topology" },
  E0239: { severity: "error", summary: "device on a bus it cannot plug into" },
  E0240: { severity: "error", summary: "unknown DPDK vdev driver" },
  E0241: { severity: "error", summary: "guest name the lab cannot use as a VM name" },
  E0242: { severity: "error", summary: "unknown OVS interface type, table column or option" },
  E0243: { severity: "error", summary: "OVS port on a bridge whose datapath cannot run it" },
  W0220: {
    severity: "warning",
    summary: "accepted but ignored: no effect on the I/O the lab simulates",
  },
  W0221: { severity: "warning", summary: "accepted by the real tool, but not modelled by the lab" },
  W0222: { severity: "warning", summary: "deprecated property, value or machine type" },
  W0223: { severity: "warning", summary: "netdev has no peer (no NIC uses it)" },
  W0224: {
    severity: "warning",
    summary: "tx_queue_size is silently clamped to 256 for this backend",
  },
  W0225: { severity: "warning", summary: "vhost-user backend but guest RAM is not shared" },
  W0226: {
    severity: "warning",
    summary: "device not translated by the vIOMMU (order or iommu_platform)",
  },
  W0227: {
    severity: "warning",
    summary: "multiqueue half-configured (netdev queues vs. mq, vectors)",
  },
  W0228: {
    severity: "warning",
    summary: "DPDK devarg read leniently (strtoul): not what was meant",
  },
  W0229: { severity: "warning", summary: "MSI-X vectors QEMU cannot set up: falls back to INTx" },
} as const satisfies Record<string, CheckCodeInfo>;

/** A code of {@link CHECK_CODES}. */
export type CheckCode = keyof typeof CHECK_CODES;
