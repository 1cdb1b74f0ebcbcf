import assert from "node:assert/strict";
import { History, historyFilePath } from "./history.ts";

function env(vars: Record<string, string>) {
  return (k: string) => (Object.hasOwn(vars, k) ? vars[k] : undefined);
}

Deno.test("historyFilePath: XDG state directory first, then ~/.local/state", () => {
  assert.equal(
    historyFilePath(env({ XDG_STATE_HOME: "/x/state/", HOME: "/h" })),
    "/x/state/vdpa-lab/history",
  );
  assert.equal(historyFilePath(env({ HOME: "/h" })), "/h/.local/state/vdpa-lab/history");
  // XDG Base Directory spec: a relative path is invalid and must be ignored.
  assert.equal(
    historyFilePath(env({ XDG_STATE_HOME: "state", HOME: "/h" })),
    "/h/.local/state/vdpa-lab/history",
  );
  assert.equal(historyFilePath(env({})), undefined);
});

Deno.test("History: kept across sessions in a file", async (t) => {
  const home = await Deno.makeTempDir();
  const e = env({ XDG_STATE_HOME: `${home}/state` });
  await t.step("a first session creates the directory and appends each line", () => {
    const h = History.open({ env: e });
    assert.deepEqual(h.takeWarnings(), []);
    assert.ok(h.add("modprobe vdpa_sim_net"));
    assert.ok(h.add("lsmod"));
    assert.equal(
      Deno.readTextFileSync(`${home}/state/vdpa-lab/history`),
      "modprobe vdpa_sim_net\nlsmod\n",
    );
  });
  await t.step("blank lines and a repeat of the line before are not kept", () => {
    const h = History.open({ env: e });
    assert.ok(!h.add("   "));
    assert.ok(!h.add("lsmod"));
    assert.ok(h.add("vdpa dev show"));
    assert.ok(h.add("lsmod"));
  });
  await t.step("a second session reads them back, oldest first", () => {
    const h = History.open({ env: e });
    assert.deepEqual(h.lines, ["modprobe vdpa_sim_net", "lsmod", "vdpa dev show", "lsmod"]);
  });
  await Deno.remove(home, { recursive: true });
});

Deno.test("History: bounded", async () => {
  const home = await Deno.makeTempDir();
  const e = env({ HOME: home });
  const h = History.open({ env: e, limit: 3 });
  for (let i = 0; i < 7; i++) h.add(`let x = ${i}`);
  assert.deepEqual(h.lines, ["let x = 4", "let x = 5", "let x = 6"]);
  // The file grew past twice the limit: the next session reads the last 3 and trims it.
  const again = History.open({ env: e, limit: 3 });
  assert.deepEqual(again.lines, ["let x = 4", "let x = 5", "let x = 6"]);
  assert.equal(
    Deno.readTextFileSync(`${home}/.local/state/vdpa-lab/history`),
    "let x = 4\nlet x = 5\nlet x = 6\n",
  );
  await Deno.remove(home, { recursive: true });
});

Deno.test("History: without a usable file it stays in memory and warns once", async (t) => {
  await t.step("no HOME and no XDG_STATE_HOME", () => {
    const h = History.open({ env: env({}) });
    assert.match(h.takeWarnings().join(), /history is off/);
    assert.ok(h.add("lsmod"));
    assert.deepEqual(h.lines, ["lsmod"]);
    assert.deepEqual(h.takeWarnings(), []);
  });
  await t.step("the environment may not be read", () => {
    const h = History.open({
      env: () => {
        throw new Deno.errors.NotCapable("Requires env access");
      },
    });
    assert.match(h.takeWarnings().join(), /cannot read the environment \(permission denied\)/);
  });
  await t.step("an unreadable history file: history is off, in memory", async () => {
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/state`, "a file, not a directory");
    const h = History.open({ env: env({ XDG_STATE_HOME: `${dir}/state` }) });
    assert.match(h.takeWarnings().join(), /history is off: cannot read .*Not a directory/);
    assert.ok(h.add("lsmod"));
    assert.deepEqual(h.takeWarnings(), []);
    assert.deepEqual(h.lines, ["lsmod"]);
    await Deno.remove(dir, { recursive: true });
  });
  await t.step("the file cannot be written any more: one warning, then silence", async () => {
    const dir = await Deno.makeTempDir();
    const h = History.open({ env: env({ XDG_STATE_HOME: `${dir}/state` }) });
    assert.ok(h.add("lsmod"));
    // The state directory is replaced by a file while the REPL runs.
    await Deno.remove(`${dir}/state`, { recursive: true });
    await Deno.writeTextFile(`${dir}/state`, "in the way");
    assert.ok(h.add("vdpa dev show"));
    assert.match(h.takeWarnings().join(), /history is not saved: cannot write/);
    assert.ok(h.add("ip link show"));
    assert.deepEqual(h.takeWarnings(), []);
    assert.deepEqual(h.lines, ["lsmod", "vdpa dev show", "ip link show"]);
    assert.equal(h.path, undefined);
    await Deno.remove(dir, { recursive: true });
  });
  await t.step("--no-history touches no file", () => {
    const h = History.open({ disabled: true, env: () => assert.fail("env read") });
    assert.equal(h.path, undefined);
    assert.deepEqual(h.takeWarnings(), []);
  });
});
