import assert from "node:assert/strict";
import { parseCommand } from "../../lang/commands/mod.ts";
import { Diagnostics } from "../../lang/diagnostic.ts";
import { expandWords } from "../../lang/expand.ts";
import { parse } from "../../lang/parse.ts";
import { walkStatements } from "../../lang/ast.ts";
import { KERNEL_MODULES } from "../catalog/kernel_modules.ts";
import { DEVICE_DRIVERS } from "../catalog/qemu_device.ts";
import { NETDEV_TYPES } from "../catalog/qemu_netdev.ts";
import { checkQemu } from "../check/qemu.ts";
import { checkTestpmd } from "../check/testpmd.ts";
import { checkOvs } from "../check/ovs.ts";
import { Session } from "../session.ts";
import { HELP_TOPIC_NAMES, helpExamples, helpPage } from "./help.ts";

function text(topic: string[]): string {
  const p = helpPage(topic);
  assert.ok(p.ok, topic.join(" "));
  return p.text;
}

Deno.test("helpPage: every topic has a page", async (t) => {
  await t.step("the overview names every static topic", () => {
    const overview = text([]);
    for (const topic of ["repl", "language", "modprobe", "vdpa", "sysfs", "ip", "qemu"]) {
      assert.match(overview, new RegExp(`\\b${topic}\\b`), topic);
    }
  });
  await t.step("every topic name and alias leads to a page", () => {
    for (const topic of HELP_TOPIC_NAMES) assert.ok(text([topic]).length > 40, topic);
    assert.equal(text(["rmmod"]), text(["modprobe"]));
    assert.equal(text(["qemu-kvm"]), text(["qemu"]));
  });
  await t.step("every module of the catalog, with its dependencies and parameters", () => {
    for (const name of Object.keys(KERNEL_MODULES)) {
      assert.match(text(["module", name]), /depends:/, name);
    }
    // A static topic wins over a module of the same name; `help module NAME` reaches it.
    assert.match(text(["vdpa"]), /^The vdpa tool/);
    assert.match(text(["vhost"]), /max_mem_regions=ushort/);
    assert.match(text(["module", "vdpa"]), /^module vdpa: vDPA bus driver/);
  });
  await t.step("every QEMU netdev type and device driver, with its properties", () => {
    for (const name of Object.keys(NETDEV_TYPES.classes)) {
      assert.match(text(["qemu", name]), new RegExp(`netdev type ${name}`), name);
    }
    for (const name of Object.keys(DEVICE_DRIVERS.classes)) {
      assert.match(text(["qemu", name]), new RegExp(`device driver ${name}`), name);
    }
    const vnet = text(["virtio-net-pci"]);
    assert.match(vnet, /\n {2}mq=on\|off +/);
    // What matters to I/O comes before what the lab ignores.
    assert.ok(vnet.indexOf("mq=") < vnet.indexOf("romfile="));
  });
  await t.step("a name that is a module and a netdev type shows both", () => {
    const tap = text(["tap"]);
    assert.match(tap, /^module tap: /);
    assert.match(tap, /\n\nnetdev type tap: /);
  });
  await t.step("an unknown topic comes back with suggestions", () => {
    const p = helpPage(["vdpa_sim_nett"]);
    assert.ok(!p.ok);
    assert.equal(p.topic, "vdpa_sim_nett");
    assert.equal(p.suggestions[0], "vdpa_sim_net");
  });
});

/** Codes of diagnostics an example must never produce: it would not be valid syntax. */
function problems(example: string): string[] {
  const r = parse(example, { source: "example" });
  const out = r.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.code}`);
  walkStatements(r.program.statements, (s) => {
    if (s.kind !== "command") return;
    const vars = new Map([["n", "2"], ["i", "1"], ["m", "vdpa"]]);
    const e = expandWords(s.words, vars);
    if (!e.words) return;
    const diags = new Diagnostics();
    const cmd = parseCommand(e.words, diags);
    if (cmd?.kind === "qemu") checkQemu(cmd, diags);
    if (cmd?.kind === "testpmd") checkTestpmd(cmd, diags);
    if (cmd?.kind === "ovs-vsctl") checkOvs(cmd, diags);
    for (const d of diags.items) if (d.severity === "error") out.push(`${d.code} ${d.message}`);
  });
  return out;
}

Deno.test("help: every example is a statement the lab parses and checks without error", async (t) => {
  for (const [topic, examples] of helpExamples()) {
    if (examples.length === 0) continue;
    await t.step(topic, () => {
      for (const e of examples) assert.deepEqual(problems(e), [], e);
      assert.match(text([topic]), /\nExamples:\n {2}/);
    });
  }
});

Deno.test("help statement: prints the page, or E0590 at the topic", async (t) => {
  await t.step("help vdpa prints the vdpa page, filters apply", async () => {
    let out = "";
    const s = new Session({ stdout: (x) => void (out += x) });
    assert.equal((await s.runText("help vdpa", "a.vdpa")).status, "ok");
    assert.equal(out, `${text(["vdpa"])}\n`);
    out = "";
    await s.runText("help vdpa | head -n 1", "b.vdpa");
    assert.equal(out, "The vdpa tool (iproute2)\n");
  });
  await t.step("an unknown topic is an error located at the topic words", async () => {
    const s = new Session({ stdout: () => {} });
    const r = await s.runText("help vdpa_sim_nett now", "a.vdpa");
    assert.equal(r.status, "failed");
    const d = r.diagnostics[0];
    assert.equal(d?.code, "E0590");
    assert.deepEqual(d?.labels[0]?.span, { source: "a.vdpa", start: 5, end: 22 });
    assert.ok(d?.help.some((h) => h.includes("help")));
  });
  await t.step("check mode prints nothing", async () => {
    let out = "";
    const s = new Session({ mode: "check", stdout: (x) => void (out += x) });
    assert.equal((await s.runText("help", "a.vdpa")).status, "ok");
    assert.equal(out, "");
  });
});
