/**
 * The EAL's view of the CPU (lib/eal/common/eal_common_options.c): the logical cores a DPDK
 * application may run on, from `-l` (a core list: `2-3`, `0,2,4-6`), `-c` (a hex core mask)
 * or `--lcores` (a list, optionally `lcore@cpu`), checked against the host's cores. The
 * first lcore is the main lcore (the one that runs the command line); the others are worker
 * lcores, on which testpmd and OVS-DPDK run their poll-mode loops.
 *
 * @example
 * ```ts
 * import { parseLcores } from "./eal.ts";
 * const r = parseLcores({ kind: "corelist", text: "2-3" }, 16);
 * if (!r.ok || r.value.main !== 2 || r.value.workers.join() !== "3") throw new Error("main 2, worker 3");
 * const bad = parseLcores({ kind: "corelist", text: "18-19" }, 16);
 * if (bad.ok || bad.error.kind !== "not-detected") throw new Error("lcore 18 does not exist");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../../result.ts";

/** How the cores were given. */
export type LcoreSpec =
  | { readonly kind: "corelist" | "lcores"; readonly text: string }
  | { readonly kind: "coremask"; readonly text: string }
  /** No option: every detected core. */
  | { readonly kind: "default" };

/** The cores of an EAL instance. */
export interface Lcores {
  /** The main lcore (first of the list). */
  readonly main: number;
  /** The other lcores, ascending. */
  readonly workers: readonly number[];
}

/** Why the core option is refused (EAL prints the usage and exits). */
export type LcoreError =
  | { readonly kind: "syntax"; readonly option: string; readonly text: string }
  | { readonly kind: "not-detected"; readonly lcore: number; readonly detected: number }
  | { readonly kind: "empty"; readonly option: string };

/** EAL's words for each error (the only formatter of {@link LcoreError}). */
export function describeLcoreError(e: LcoreError): string[] {
  switch (e.kind) {
    case "syntax":
      return [`EAL: invalid ${e.option} format`, `EAL: Invalid 'command line' arguments.`];
    case "not-detected":
      return [
        `EAL: lcore ${e.lcore} unavailable`,
        `EAL: invalid core list syntax`,
        `EAL: Invalid 'command line' arguments.`,
      ];
    case "empty":
      return [`EAL: No lcores in ${e.option}`, `EAL: Invalid 'command line' arguments.`];
  }
}

/** Parses the core option against `detected` host cores. */
export function parseLcores(spec: LcoreSpec, detected: number): Result<Lcores, LcoreError> {
  let cores: number[] = [];
  const option = spec.kind === "coremask"
    ? "coremask"
    : spec.kind === "lcores"
    ? "lcores"
    : "core list";
  if (spec.kind === "default") {
    cores = Array.from({ length: detected }, (_, i) => i);
  } else if (spec.kind === "coremask") {
    const t = spec.text.replace(/^0[xX]/, "");
    if (!/^[0-9a-fA-F]+$/.test(t)) return err({ kind: "syntax", option, text: spec.text });
    const mask = BigInt(`0x${t}`);
    for (let i = 0; i < 1024; i++) if ((mask >> BigInt(i)) & 1n) cores.push(i);
  } else {
    for (const part of spec.text.split(",")) {
      // --lcores 'lcore@cpu': the lcore id is what the application sees.
      const id = spec.kind === "lcores" ? part.split("@")[0] ?? "" : part;
      const m = /^\(?(\d+)(?:-(\d+))?\)?$/.exec(id.trim());
      if (!m) return err({ kind: "syntax", option, text: spec.text });
      const lo = Number(m[1]);
      const hi = m[2] === undefined ? lo : Number(m[2]);
      if (hi < lo) return err({ kind: "syntax", option, text: spec.text });
      for (let c = lo; c <= hi; c++) cores.push(c);
    }
  }
  cores = [...new Set(cores)].sort((a, b) => a - b);
  if (cores.length === 0) return err({ kind: "empty", option });
  for (const c of cores) {
    if (c >= detected) return err({ kind: "not-detected", lcore: c, detected });
  }
  return ok({ main: cores[0] as number, workers: cores.slice(1) });
}
