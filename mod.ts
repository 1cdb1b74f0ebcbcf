/**
 * vdpa-lab as a library: run `.vdpa` scripts from TypeScript with {@link Session}, or use
 * the layers directly — the language (`lang`), the virtio core (`virtio`, `memory`), the
 * IOMMU (`iommu`), the host kernel (`host`), the event engine (`sim`), traces and metrics
 * (`trace`) and traffic (`traffic`).
 *
 * @example Checking a script
 * ```ts
 * import { lang, Session } from "./mod.ts";
 * const s = new Session({ mode: "check", stdout: () => {} });
 * await s.runText("let n = 2\nfor i in 1..${n} {\n  lsmod\n}\n", "lab.vdpa");
 * const text = lang.renderDiagnostics(s.diagnostics.items, s.sources);
 * if (typeof text !== "string") throw new Error("rendered text expected");
 * ```
 *
 * @module
 */

export { Session, type SessionOptions } from "./stdlib/session.ts";
export type { ExecContext, Executor } from "./stdlib/exec.ts";
export { Lab, type LabOptions } from "./runtime/lab.ts";
export { err, ok, type Result } from "./runtime/result.ts";

export * as lang from "./lang/mod.ts";
export * as memory from "./runtime/memory/mod.ts";
export * as virtio from "./runtime/virtio/mod.ts";
export * as iommu from "./runtime/iommu/mod.ts";
export * as host from "./runtime/host/mod.ts";
export * as sim from "./runtime/sim/mod.ts";
export * as trace from "./runtime/trace/mod.ts";
export * as traffic from "./runtime/traffic/mod.ts";
