/**
 * The classic vhost-vdpa walkthrough (examples/vdpa-walkthrough.vdpa) works as written
 * through the session, host part first (the QEMU, `show` and traffic statements belong to
 * other executors and are blanked out, keeping line numbers); and the host statements of
 * every example check without an error.
 */

import assert from "node:assert/strict";
import { Diagnostics } from "../lang/diagnostic.ts";
import { parse } from "../lang/parse.ts";
import { parseCommand } from "../lang/commands/mod.ts";
import { expandWords } from "../lang/expand.ts";
import type { Command } from "../lang/commands/ast.ts";
import { Session } from "../stdlib/session.ts";

const EXAMPLES = new URL("../examples/", import.meta.url);

/** Host command kinds (everything the host executors handle). */
function isHost(cmd: Command): boolean {
  return /^(modprobe|rmmod|lsmod|vdpa-|echo|cat|ls|ip-|host-|usage)/.test(cmd.kind);
}

/** Each command statement of `text` with its parsed node. */
function statements(text: string, source: string): { start: number; end: number; cmd: Command }[] {
  const r = parse(text, { source });
  const out: { start: number; end: number; cmd: Command }[] = [];
  for (const s of r.program.statements) {
    if (s.kind !== "command") continue;
    const words = expandWords(s.words, new Map()).words;
    const cmd = words ? parseCommand(words, new Diagnostics()) : undefined;
    if (cmd) out.push({ start: s.span.start, end: s.span.end, cmd });
  }
  return out;
}

/** `text` with every statement that is not a host command blanked (newlines kept). */
function hostOnly(text: string, source: string): string {
  let out = text;
  for (const s of statements(text, source)) {
    if (isHost(s.cmd)) continue;
    const blank = text.slice(s.start, s.end).replace(/[^\n]/g, " ");
    out = out.slice(0, s.start) + blank + out.slice(s.end);
  }
  return out;
}

Deno.test("the vhost-vdpa walkthrough runs as written, host part first", async (t) => {
  const file = "vdpa-walkthrough.vdpa";
  const text = hostOnly(await Deno.readTextFile(new URL(file, EXAMPLES)), file);
  const out: string[] = [];
  const s = new Session({ mode: "run", stdout: (o) => out.push(o) });
  const r = await s.runText(text, file);
  assert.equal(r.status, "ok", r.diagnostics.map((d) => d.message).join("; "));
  assert.deepEqual(r.diagnostics, []);
  await t.assertSnapshot(out.join(""), { serializer: String });
  const h = s.lab.host;
  // vdpa0 stays on vhost_vdpa with its node; vdpa1 went to virtio_vdpa and became a netdev
  assert.deepEqual(h.glob("/dev/vhost-vdpa-*"), ["/dev/vhost-vdpa-0"]);
  assert.equal(h.vdpa.device("vdpa1")?.driver, "virtio_vdpa");
  assert.deepEqual(h.net.list().map((d) => d.name), ["lo", "eth0"]);
  assert.equal(h.net.get("eth0")?.mtu, 9000, "the virtio_net netdev takes vdpa1's MTU");
  // the same script checks clean
  const c = new Session({ mode: "check", stdout: () => {} });
  assert.deepEqual((await c.runText(text, file)).diagnostics, []);
});

Deno.test("the host statements of every example check without an error", async (t) => {
  for await (const entry of Deno.readDir(EXAMPLES)) {
    if (!entry.name.endsWith(".vdpa")) continue;
    await t.step(entry.name, async () => {
      const text = await Deno.readTextFile(new URL(entry.name, EXAMPLES));
      const host = statements(text, entry.name).filter((s) => isHost(s.cmd));
      assert.ok(host.length > 0);
      const s = new Session({ mode: "check", stdout: () => {} });
      await s.runText(text, entry.name);
      const onHost = s.diagnostics.items.filter((d) => {
        const p = d.labels.find((l) => l.primary)?.span;
        return d.severity === "error" && p !== undefined &&
          host.some((h) => p.start >= h.start && p.end <= h.end);
      });
      assert.deepEqual(onHost.map((d) => `${d.code} ${d.message}`), []);
    });
  }
});
