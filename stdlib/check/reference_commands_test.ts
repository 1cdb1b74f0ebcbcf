import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Diagnostics } from "../../lang/diagnostic.ts";
import type { Command } from "../../lang/commands/ast.ts";
import { parseCommand } from "../../lang/commands/mod.ts";
import { testStatements } from "../../lang/commands/test_words.ts";
import { type QemuConfig, resolveQemu } from "../qemu_config.ts";
import { checkOvs, OvsCheckState } from "./ovs.ts";
import { checkTestpmd } from "./testpmd.ts";

// The command engineer's verbatim copy of every command the two reference files quote.
const FILE = new URL("../../lang/commands/testdata/reference_commands.vdpa", import.meta.url);
const TEXT = await Deno.readTextFile(FILE);

function commands(): Command[] {
  return testStatements(TEXT, "reference_commands.vdpa").flatMap((words) => {
    const cmd = parseCommand(words, new Diagnostics());
    return cmd ? [cmd] : [];
  });
}

Deno.test("every QEMU, testpmd and ovs-vsctl reference command checks without error", () => {
  const state = new OvsCheckState();
  const resolved: QemuConfig[] = [];
  let checked = 0;
  for (const cmd of commands()) {
    const diags = new Diagnostics();
    if (cmd.kind === "qemu") {
      const c = resolveQemu(cmd, diags);
      if (c) resolved.push(c);
    } else if (cmd.kind === "testpmd") checkTestpmd(cmd, diags);
    else if (cmd.kind === "ovs-vsctl") checkOvs(cmd, diags, state);
    else continue;
    checked++;
    const errs = diags.items.filter((d) => d.severity === "error");
    assertEquals(
      errs.map((d) => `${d.code} ${d.message}`),
      [],
      TEXT.slice(cmd.span.start, cmd.span.end),
    );
  }
  assert(checked >= 30, `only ${checked} reference commands found`);
  assert(resolved.length >= 20);
});

Deno.test("the SVQ command from qemu-devel resolves to what it says", () => {
  const qemu = commands().filter((c) => c.kind === "qemu");
  const svq = qemu.find((c) => TEXT.slice(c.span.start, c.span.end).includes("x-svq=on"));
  if (svq?.kind !== "qemu") throw new Error("SVQ line not found");
  const config = resolveQemu(svq, new Diagnostics());
  const nd = config?.netdevs[0];
  const nic = config?.devices[0];
  if (nd?.kind !== "vhost-vdpa" || nic?.kind !== "virtio-net") {
    throw new Error("vdpa + virtio-net expected");
  }
  assertEquals([nd.id.value, nd.queues.value, nd.svq.value, nd.vhostdev?.value], [
    "vhost-vdpa0",
    8,
    true,
    "/dev/vhost-vdpa-0",
  ]);
  assertEquals(
    [nic.mq.value, nic.vectors.value, nic.hostMtu.value, nic.ctrlVq.value, nic.pagePerVq.value],
    [true, 18, 9000, true, true],
  );
  assertEquals([nic.disableLegacy.value, nic.disableModern.value, nic.props.ctrl_vlan?.value], [
    true,
    false,
    false,
  ]);
});
