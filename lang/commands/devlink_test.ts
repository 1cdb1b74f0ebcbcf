import assert from "node:assert/strict";
import { Diagnostics } from "../diagnostic.ts";
import type { Command } from "./ast.ts";
import { parseCommand } from "./mod.ts";
import { testWords } from "./test_words.ts";

function parse(text: string): { cmd: Command | undefined; codes: string[]; notes: string[] } {
  const d = new Diagnostics();
  const cmd = parseCommand(testWords(text), d);
  return { cmd, codes: d.items.map((x) => x.code), notes: d.items.flatMap((x) => x.notes) };
}

Deno.test("devlink commands of the mlx5 subfunction howto parse into their nodes", async (t) => {
  await t.step("port add with flavour, pfnum and sfnum", () => {
    const { cmd } = parse("devlink port add pci/0000:3b:00.0 flavour pcisf pfnum 0 sfnum 88");
    assert.ok(cmd?.kind === "devlink-port-add");
    assert.deepEqual(
      [cmd.dev.value, cmd.flavour.value, cmd.pfnum?.value, cmd.sfnum?.value, cmd.controller],
      ["pci/0000:3b:00.0", "pcisf", 0, 88, undefined],
    );
  });
  await t.step(
    "port function set with hw_addr and state, the port split into DEV and index",
    () => {
      const { cmd } = parse(
        "devlink port function set pci/0000:3b:00.0/32768 hw_addr 00:00:00:00:88:88 state active",
      );
      assert.ok(cmd?.kind === "devlink-port-function-set" && cmd.port.kind === "index");
      assert.deepEqual(
        [cmd.port.dev.value, cmd.port.index.value, cmd.hwAddr?.value, cmd.state?.value],
        ["pci/0000:3b:00.0", 32768, "00:00:00:00:88:88", "active"],
      );
      // the index's span covers only the digits after the last `/`
      const text = cmd.words[4]?.text ?? "";
      assert.equal(cmd.port.index.span.end - cmd.port.index.span.start, "32768".length);
      assert.equal(cmd.port.dev.span.end - cmd.port.dev.span.start, text.length - 6);
    },
  );
  await t.step("port show by netdev name, and the bare forms", () => {
    const a = parse("devlink port show ens1f0npf0sf88").cmd;
    assert.ok(a?.kind === "devlink-port-show" && a.port?.kind === "netdev");
    assert.equal(parse("devlink port").cmd?.kind, "devlink-port-show");
    assert.equal(parse("devlink dev").cmd?.kind, "devlink-dev-show");
    assert.equal(parse("devlink dev list").cmd?.kind, "devlink-dev-show");
  });
  await t.step("eswitch set and show", () => {
    const s = parse("devlink dev eswitch set pci/0000:3b:00.0 mode switchdev").cmd;
    assert.ok(s?.kind === "devlink-eswitch-set" && s.mode.value === "switchdev");
    assert.equal(
      parse("devlink dev eswitch show pci/0000:3b:00.0").cmd?.kind,
      "devlink-eswitch-show",
    );
  });
});

Deno.test("devlink's mistakes are refused at the word, with devlink's own text", async (t) => {
  const cases: [string, string, string | undefined][] = [
    [
      "devlink dev eswitch set pci/0000:3b:00.0 mode offloads",
      "E0109",
      'devlink prints: Unknown eswitch mode "offloads"',
    ],
    ["devlink dev eswitch set pci/0000:3b:00.0", "E0103", undefined],
    ["devlink port add pci/0000:3b:00.0 flavour pcisf sfnum 88", "E0103", undefined],
    ["devlink port add pci/0000:3b:00.0 pfnum 0 sfnum 88", "E0103", undefined],
    [
      "devlink port add 0000:3b:00.0 flavour pcisf pfnum 0",
      "E0103",
      'devlink prints: Devlink identification ("BUS_NAME/DEV_NAME") expected',
    ],
    ["devlink port add pci/0000:3b:00.0 flavour pcisf pfnum 0 sfnum -1", "E0106", undefined],
    [
      "devlink port function set pci/0000:3b:00.0/32768 state up",
      "E0109",
      'devlink prints: Unknown state "up"',
    ],
    ["devlink port function set pci/0000:3b:00.0/32768 hw_addr 00:00:88", "E0108", undefined],
    ["devlink port function set pci/0000:3b:00.0/32768", "E0103", undefined],
    ["devlink port function set pci/0000:3b:00.0/32768 roce false", "E0120", undefined],
    ["devlink port function set pci/0000:3b:00.0/x state active", "E0103", undefined],
    ["devlink port frob", "E0105", 'devlink prints: Command "frob" not found'],
    ["devlink region show", "E0105", 'devlink prints: Object "region" not found'],
    ["devlink -j port show", "E0120", undefined],
    [
      "devlink port add pci/0000:3b:00.0 flavour pcisf pfnum 0 sfnum 88 splittable",
      "E0101",
      undefined,
    ],
    ["devlink dev show pci/0000:3b:00.0 extra", "E0104", undefined],
  ];
  for (const [text, code, note] of cases) {
    await t.step(text, () => {
      const r = parse(text);
      assert.equal(r.cmd, undefined);
      assert.deepEqual(r.codes, [code]);
      if (note !== undefined) assert.ok(r.notes.includes(note), r.notes.join("\n"));
    });
  }
});
