/**
 * Test input for the semantic checks: one command line through the real command parser
 * (lang/commands), narrowed to the node kind a check consumes. Throws when the line does not
 * parse to that kind, since a test that feeds the checker a broken line is a bug of the test.
 *
 * @example
 * ```ts
 * import { testQemu } from "./test_commands.ts";
 * const cmd = testQemu("qemu-system-x86_64 -netdev tap,id=n0");
 * if (cmd.netdevs.length !== 1) throw new Error("one netdev");
 * ```
 *
 * @module
 */

import { Diagnostics } from "../../lang/diagnostic.ts";
import type { OvsVsctlCommand, QemuCommand, TestpmdCommand } from "../../lang/commands/ast.ts";
import { parseCommand } from "../../lang/commands/mod.ts";
import { testWords } from "../../lang/commands/test_words.ts";

function parse(line: string, source: string) {
  const diags = new Diagnostics();
  const cmd = parseCommand(testWords(line, source), diags);
  if (!cmd) {
    const why = diags.items.map((d) => `${d.code} ${d.message}`).join("; ");
    throw new Error(`Test line does not parse: ${why}`);
  }
  return cmd;
}

/** Parses a QEMU command line (spans refer to `source`). */
export function testQemu(line: string, source = "test.vdpa"): QemuCommand {
  const cmd = parse(line, source);
  if (cmd.kind !== "qemu") throw new Error(`Expected a qemu command, got ${cmd.kind}`);
  return cmd;
}

/** Parses a dpdk-testpmd command line. */
export function testTestpmd(line: string, source = "test.vdpa"): TestpmdCommand {
  const cmd = parse(line, source);
  if (cmd.kind !== "testpmd") throw new Error(`Expected a testpmd command, got ${cmd.kind}`);
  return cmd;
}

/** Parses an ovs-vsctl command line. */
export function testOvs(line: string, source = "test.vdpa"): OvsVsctlCommand {
  const cmd = parse(line, source);
  if (cmd.kind !== "ovs-vsctl") throw new Error(`Expected an ovs-vsctl command, got ${cmd.kind}`);
  return cmd;
}
