import assert from "node:assert/strict";
import { Diagnostics } from "../diagnostic.ts";
import { parse } from "../parse.ts";
import type { CommandKind } from "./ast.ts";
import { parseCommand } from "./mod.ts";
import { testStatements } from "./test_words.ts";

const dir = new URL("./testdata/", import.meta.url);

function parseFile(name: string): { kinds: CommandKind[]; diags: Diagnostics; statements: number } {
  const text = Deno.readTextFileSync(new URL(name, dir));
  assert.deepEqual(parse(text, { source: name }).diagnostics, [], `${name} has syntax errors`);
  const diags = new Diagnostics();
  const kinds: CommandKind[] = [];
  const statements = testStatements(text, name);
  for (const words of statements) {
    const cmd = parseCommand(words, diags);
    if (cmd) kinds.push(cmd.kind);
  }
  return { kinds, diags, statements: statements.length };
}

Deno.test("every command quoted in the reference files parses without an error", () => {
  const { kinds, diags, statements } = parseFile("reference_commands.vdpa");
  const errors = diags.items.filter((d) => d.severity === "error");
  assert.deepEqual(errors.map((d) => `${d.code} ${d.message}`), []);
  assert.equal(kinds.length, statements);
  // Warnings are only for ignored options and QEMU's deprecated short booleans.
  assert.deepEqual([...new Set(diags.items.map((d) => d.code))].sort(), ["W0010", "W0012"]);
  // Every family of the references is there.
  for (
    const kind of [
      "modprobe",
      "lsmod",
      "rmmod",
      "vdpa-mgmtdev-show",
      "vdpa-dev-add",
      "vdpa-dev-del",
      "vdpa-dev-show",
      "vdpa-dev-config-show",
      "vdpa-dev-vstats-show",
      "vdpa-dev-set",
      "echo",
      "cat",
      "ls",
      "ip-tuntap-add",
      "ip-link-add",
      "ip-link-set",
      "ovs-vsctl",
      "testpmd",
      "qemu",
      "devlink-eswitch-set",
      "devlink-port-add",
      "devlink-port-function-set",
      "devlink-port-del",
      "pkill",
    ] as const
  ) {
    assert.ok(kinds.includes(kind), `no ${kind} line`);
  }
});

Deno.test("the references' pitfalls are well-formed commands (semantics must catch them)", () => {
  const { kinds, diags, statements } = parseFile("reference_pitfalls.vdpa");
  assert.deepEqual(diags.items.map((d) => `${d.code} ${d.message}`), []);
  assert.equal(kinds.length, statements);
});

Deno.test("the lab statements of DESIGN §3 parse as written", () => {
  const { kinds, diags, statements } = parseFile("design_statements.vdpa");
  assert.deepEqual(diags.items.map((d) => `${d.code} ${d.message}`), []);
  assert.equal(kinds.length, statements);
  assert.deepEqual([...new Set(kinds)].sort(), [
    "capture",
    "expect",
    "export",
    "host-cmdline",
    "host-cpu",
    "host-nic",
    "ping",
    "run",
    "show",
    "trace",
    "traffic",
  ]);
});
