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
  assert(checked >= 27, `only ${checked} reference commands found`);
  assert(resolved.length >= 19);
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
    "/dev/vhost-vdpa-2",
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

Deno.test("the reference pitfalls that are about command lines get their diagnostic", () => {
  const file = new URL("../../lang/commands/testdata/reference_pitfalls.vdpa", import.meta.url);
  const text = Deno.readTextFileSync(file);
  const got: Record<string, string[]> = {};
  for (const words of testStatements(text, "reference_pitfalls.vdpa")) {
    const cmd = parseCommand(words, new Diagnostics());
    if (cmd?.kind !== "qemu") continue;
    const diags = new Diagnostics();
    resolveQemu(cmd, diags);
    got[text.slice(cmd.span.start, cmd.span.end)] = diags.items.map((d) => d.code);
  }
  const codes = (fragment: string) => {
    const key = Object.keys(got).find((k) => k.includes(fragment));
    if (key === undefined) throw new Error(`no pitfall with ${fragment}`);
    return got[key];
  };
  // vhost-user without share=on: QEMU starts, the back-end cannot map guest RAM.
  assertEquals(codes("-netdev vhost-user"), ["W0225"]);
  // tx_queue_size=1024 on tap: QEMU clamps it to 256 without a word.
  assertEquals(codes("tx_queue_size=1024"), ["W0224"]);
  // vhost-vdpa behind an e1000: "vhost-vdpa requires frontend driver virtio-net-*".
  assertEquals(codes("-device e1000"), ["W0221", "E0234"]);
  // SVQ's feature check needs the vDPA device's features: the VM model reports it at start.
  assertEquals(codes("x-svq=on"), []);
  // intremap=on under KVM needs a split irqchip (the pitfall line says accel=kvm).
  assertEquals(codes("intremap=on"), ["E0233"]);
});
