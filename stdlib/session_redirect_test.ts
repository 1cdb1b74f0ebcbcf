import assert from "node:assert/strict";
import { Session } from "./session.ts";

function lab(mode: "run" | "check" = "run") {
  const out: string[] = [];
  const files = new Map<string, string>();
  const s = new Session({
    mode,
    stdout: (t) => out.push(t),
    writeFile: (path, data, options) => {
      const text = typeof data === "string" ? data : new TextDecoder().decode(data);
      files.set(path, (options?.append ? files.get(path) ?? "" : "") + text);
      return Promise.resolve({ ok: true });
    },
  });
  return { s, out, files };
}

Deno.test("Session: `> /dev/null` discards a command's output", async () => {
  const { s, out } = lab();
  const r = await s.runText("modprobe vdpa\nlsmod > /dev/null\n", "a.vdpa");
  assert.equal(r.status, "ok");
  assert.deepEqual(out, []);
});

Deno.test("Session: `> FILE` writes the filtered output, `>>` appends", async () => {
  const { s, out, files } = lab();
  const r = await s.runText(
    "modprobe vdpa\nlsmod | head -n 1 > mods.txt\nlsmod | grep vdpa >> mods.txt\n",
    "a.vdpa",
  );
  assert.equal(r.status, "ok");
  assert.deepEqual(out, []);
  assert.equal(
    files.get("mods.txt"),
    "Module                  Size  Used by\nvdpa                   36864  0\n",
  );
});

Deno.test("Session: command output cannot be redirected into sysfs", async () => {
  const { s } = lab();
  const r = await s.runText("lsmod > /sys/bus/vdpa/drivers_probe\n", "a.vdpa");
  assert.equal(r.status, "failed");
  const d = s.diagnostics.items[0];
  assert.equal(d?.code, "E0501");
});

Deno.test("Session: check mode writes no file", async () => {
  const { s, files } = lab("check");
  const r = await s.runText("lsmod > mods.txt\n", "a.vdpa");
  assert.equal(r.status, "ok");
  assert.equal(files.size, 0);
});

Deno.test("Session: `expect a > b` compares, it does not redirect", async () => {
  const { s } = lab("check");
  const r = await s.runText("expect 2 > 1\n", "a.vdpa");
  assert.ok(!s.diagnostics.items.some((d) => d.code === "E0501" || d.code === "E0112"), r.status);
});
