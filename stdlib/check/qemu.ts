/**
 * The semantic check of a QEMU command line: every option typed against the catalogs, every
 * cross-option rule (stdlib/check/qemu_rules.ts). It is {@link resolveQemu} with the result
 * dropped, for callers that only want the diagnostics (`vdpa-lab check`, the REPL's live
 * feedback).
 *
 * @example A typo in a netdev property
 * ```ts
 * import { Diagnostics } from "../../lang/diagnostic.ts";
 * import { checkQemu } from "./qemu.ts";
 * import { testQemu } from "./test_commands.ts";
 * const diags = new Diagnostics();
 * checkQemu(testQemu("qemu-system-x86_64 -netdev tap,id=n0,vhsot=on"), diags);
 * const d = diags.items.find((x) => x.code === "E0225");
 * if (d?.help[0] !== "did you mean `vhost`?") throw new Error("vhost suggested");
 * ```
 *
 * @module
 */

import type { Diagnostics } from "../../lang/diagnostic.ts";
import type { QemuCommand } from "../../lang/commands/ast.ts";
import { resolveQemu } from "../qemu_config.ts";

/** Checks `cmd`, pushing every problem to `diags`; true when it has no error. */
export function checkQemu(cmd: QemuCommand, diags: Diagnostics): boolean {
  return resolveQemu(cmd, diags) !== undefined;
}
