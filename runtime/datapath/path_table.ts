/**
 * Each backend's datapath as data: which CPU contexts and which cost keys make up a kick, a
 * transmitted packet, a received packet and an interrupt, and how many times the bytes are
 * copied. `show topology` and `show vhost` print it, the comparison table cites it, and the
 * tests check that the hops a backend records for its first packet follow its table — so
 * what the lab says a datapath does and what it charges cannot drift apart.
 *
 * Context roles are generic (`vcpu`, `qemu`, `vhost`, `pmd`, `softirq`, `device`, `wire`);
 * a role names the kind of context, not one instance.
 *
 * @example
 * ```ts
 * import { formatPath, type DatapathPath } from "./path_table.ts";
 * const p: DatapathPath = {
 *   name: "example", qemuInPath: false, copies: { tx: 1, rx: 1 },
 *   kick: [{ role: "vcpu", key: "vmexit_light", what: "notify write exits to KVM" }],
 *   tx: [], rx: [], interrupt: [],
 * };
 * if (!formatPath(p).includes("vmexit_light")) throw new Error("listed");
 * ```
 *
 * @module
 */

import type { CpuContextKind } from "../sim/cpu_context.ts";
import type { CostKey } from "../sim/cost.ts";

/** One step of a path: a cost key charged on a context of some kind. */
export interface PathStep {
  /** The kind of context that runs it. */
  readonly role: CpuContextKind;
  /** The cost key it charges. */
  readonly key: CostKey;
  /** What happens, in a few words. */
  readonly what: string;
  /** Charged once per batch (a wake-up, a kick), not per packet. */
  readonly perBatch?: boolean;
}

/** A backend's datapath. */
export interface DatapathPath {
  /** Shown in tables: `QEMU userspace + tap`. */
  readonly name: string;
  /** Guest notify → the backend running. */
  readonly kick: readonly PathStep[];
  /** Per transmitted packet, from the avail ring to the host network. */
  readonly tx: readonly PathStep[];
  /** Per received packet, from the host network to the used ring. */
  readonly rx: readonly PathStep[];
  /** Used ring → the guest's interrupt handler. */
  readonly interrupt: readonly PathStep[];
  /** CPU copies of the packet bytes per direction. */
  readonly copies: { readonly tx: number; readonly rx: number };
  /** Whether QEMU's own threads touch packets. */
  readonly qemuInPath: boolean;
}

/** The path as an indented listing (for `show vhost` and `show topology`). */
export function formatPath(p: DatapathPath): string {
  const lines = [
    `datapath ${p.name}: copies tx ${p.copies.tx} rx ${p.copies.rx}, QEMU in path: ${
      p.qemuInPath ? "yes" : "no"
    }`,
  ];
  const part = (title: string, steps: readonly PathStep[]) => {
    if (steps.length === 0) return;
    lines.push(`  ${title}:`);
    for (const s of steps) {
      lines.push(
        `    ${s.role.padEnd(8)} ${s.key.padEnd(34)} ${s.what}${s.perBatch ? " (per batch)" : ""}`,
      );
    }
  };
  part("kick", p.kick);
  part("tx", p.tx);
  part("rx", p.rx);
  part("interrupt", p.interrupt);
  return lines.join("\n");
}
