import assert from "node:assert/strict";
import type { ModuleSpec } from "./module_spec.ts";
import { normalizeModuleName } from "./module_spec.ts";
import { ModuleTable } from "./modules.ts";

const SPECS = {
  base: { description: "base", size: 1, depends: [] },
  mid: { description: "mid", size: 1, depends: ["base"] },
  left: { description: "left", size: 1, depends: ["mid", "base"] },
  right: { description: "right", size: 1, depends: ["mid"] },
  core: { description: "core", size: 1, depends: [], builtin: true },
  knobs: {
    description: "knobs",
    size: 1,
    depends: [],
    params: {
      flag: { type: "bool", default: true, perm: 0o444, description: "" },
      count: { type: "int", default: 2048, perm: 0o444, description: "" },
      small: { type: "ushort", default: 64, perm: 0o444, description: "" },
      name: { type: "charp", default: "", perm: 0o444, description: "" },
    },
  },
} satisfies Record<string, ModuleSpec>;

Deno.test("ModuleTable.loadPlan() puts dependencies before the module, each once", () => {
  const t = new ModuleTable(SPECS);
  assert.deepEqual(t.loadPlan("left"), ["base", "mid", "left"]);
  t.insert("base", new Map());
  assert.deepEqual(t.loadPlan("left"), ["mid", "left"], "loaded modules are skipped");
  assert.deepEqual(t.loadPlan("core"), [], "built-ins are always present");
});

Deno.test("ModuleTable records holders in load order and counts them in refcnt", () => {
  const t = new ModuleTable(SPECS);
  for (const m of t.loadPlan("right")) t.insert(m, new Map());
  for (const m of t.loadPlan("left")) t.insert(m, new Map());
  assert.deepEqual(t.get("mid")?.holders, ["right", "left"]);
  assert.deepEqual(t.get("base")?.holders, ["mid", "left"]);
  assert.equal(t.refcnt("mid"), 2);
  t.delete("right");
  assert.deepEqual(t.get("mid")?.holders, ["left"]);
  assert.deepEqual(t.list().map((m) => m.name), ["left", "mid", "base"], "most recent first");
});

Deno.test("ModuleTable pins count as references but not as holders", () => {
  const t = new ModuleTable(SPECS);
  t.insert("base", new Map());
  assert.equal(t.pin("base"), true);
  assert.equal(t.refcnt("base"), 1);
  assert.deepEqual(t.get("base")?.holders, []);
  t.unpin("base");
  assert.equal(t.refcnt("base"), 0);
  assert.equal(t.pin("mid"), false, "a module that is not loaded cannot be pinned");
});

Deno.test("ModuleTable.dependencyClosure() lists users before the modules they use", () => {
  const t = new ModuleTable(SPECS);
  assert.deepEqual(t.dependencyClosure("left"), ["mid", "base"]);
  assert.deepEqual(t.dependencyClosure("base"), []);
});

Deno.test("ModuleTable rejects a catalog whose dependency is missing", () => {
  assert.throws(
    () => new ModuleTable({ a: { description: "", size: 1, depends: ["ghost"] } }),
    /depends on ghost/,
  );
});

Deno.test("ModuleTable.parseParams() follows the kernel's parsers", async (t) => {
  const table = new ModuleTable(SPECS);
  const cases: [string[], Record<string, string> | "rejected", string[]][] = [
    [[], { flag: "Y", count: "2048", small: "64", name: "" }, []],
    [["flag=0", "count=0x10"], { flag: "N", count: "16" }, []],
    [["flag"], { flag: "Y" }, []],
    [["flag=off", "count=010"], { flag: "N", count: "8" }, []],
    [["count=-5"], { count: "-5" }, []],
    [["nope=1", "count=1"], { count: "1" }, ["nope"]],
    [["small=65536"], "rejected", []],
    [["count=abc"], "rejected", []],
    [["flag=maybe"], "rejected", []],
    [["name=hello world"], { name: "hello world" }, []],
  ];
  for (const [given, expected, unknown] of cases) {
    await t.step(`${given.join(" ") || "(defaults)"}`, () => {
      const r = table.parseParams("knobs", given);
      if (expected === "rejected") {
        assert.equal(r.ok, false);
        return;
      }
      assert.ok(r.ok);
      for (const [k, v] of Object.entries(expected)) assert.equal(r.value.values.get(k), v, k);
      assert.deepEqual(r.value.unknown, unknown);
    });
  }
});

Deno.test("normalizeModuleName treats dashes as underscores", () => {
  assert.equal(normalizeModuleName("vhost-vdpa"), "vhost_vdpa");
  assert.equal(normalizeModuleName("vdpa_sim-net"), "vdpa_sim_net");
  const t = new ModuleTable(SPECS);
  assert.equal(t.resolve("knobs"), "knobs");
  assert.equal(t.resolve("kno-bs"), undefined);
});
