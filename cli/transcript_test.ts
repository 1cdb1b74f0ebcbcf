import assert from "node:assert/strict";
import { parse } from "../lang/parse.ts";
import { memoryFileReader } from "../lang/interpreter.ts";
import { Session } from "../stdlib/session.ts";
import { isQuery, quote, Transcript } from "./transcript.ts";

/** A session and a transcript fed the way the REPL feeds them. */
function repl(files: Record<string, string> = {}) {
  const session = new Session({ stdout: () => {}, readFile: memoryFileReader(files) });
  const transcript = new Transcript();
  let n = 0;
  return {
    session,
    transcript,
    async entry(text: string) {
      const source = `<repl:${++n}>`;
      const outcome = await session.runText(text, source);
      transcript.record({ text, source }, outcome);
      return outcome.status;
    },
    async load(path: string) {
      const text = files[path] as string;
      const outcome = await session.runText(text, path);
      transcript.record({ text, source: path, loadedFrom: `/abs/${path}` }, outcome);
    },
  };
}

function body(t: Transcript): string[] {
  return t.script("9.9.9").text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
}

Deno.test("Transcript: what an entry leaves behind", async (t) => {
  await t.step("statements that ran are kept in order; queries are left out", async () => {
    const r = repl();
    await r.entry("let a = 1; help vdpa");
    await r.entry("let b = ${a}\nlsmod | grep vdpa");
    assert.deepEqual(body(r.transcript), ["let a = 1", "let b = ${a}"]);
  });
  await t.step("a failed entry keeps the statements before the failing one", async () => {
    const r = repl();
    assert.equal(await r.entry("let a = 1; nosuch command; let b = 2"), "failed");
    assert.deepEqual(body(r.transcript), ["let a = 1"]);
    assert.deepEqual(r.transcript.script("1").notes, []);
  });
  await t.step("an undefined variable fails its statement only", async () => {
    const r = repl();
    await r.entry("let a = 1\nlet b = ${nope}");
    assert.deepEqual(body(r.transcript), ["let a = 1"]);
  });
  await t.step("a loop that failed part-way is not kept, and a note says so", async () => {
    const r = repl();
    await r.entry("for i in 1..2 {\n  let x = ${i}\n  nosuch\n}");
    assert.deepEqual(body(r.transcript), []);
    assert.match(r.transcript.script("1").notes.join(), /<repl:1> failed part-way/);
    assert.match(r.transcript.script("1").text, /# note: <repl:1> failed part-way/);
  });
  await t.step("a syntax error ran nothing: nothing kept, nothing to note", async () => {
    const r = repl();
    await r.entry("let = 3");
    assert.deepEqual(body(r.transcript), []);
    assert.deepEqual(r.transcript.script("1").notes, []);
  });
  await t.step("an interrupted entry is noted", () => {
    const tr = new Transcript();
    tr.record({ text: "let a = 1", source: "<repl:1>" }, {
      status: "interrupted",
      diagnostics: [],
    });
    assert.match(tr.script("1").notes.join(), /interrupted/);
  });
  await t.step("an incomplete entry is not an entry yet", () => {
    const tr = new Transcript();
    tr.record({ text: "for i in a {", source: "<repl:1>" }, {
      status: "incomplete",
      diagnostics: [],
    });
    assert.equal(tr.size, 0);
  });
  await t.step(".reset forgets everything", async () => {
    const r = repl();
    await r.entry("let a = 1");
    r.transcript.clear();
    assert.equal(r.transcript.size, 0);
  });
});

Deno.test("Transcript: loaded files", async (t) => {
  await t.step("a file without includes is written inline, under a comment", async () => {
    const r = repl({ "lab.vdpa": "let a = 1\nlet b = 2\n" });
    await r.load("lab.vdpa");
    const text = r.transcript.script("1").text;
    assert.match(text, /# \.load \/abs\/lab\.vdpa\nlet a = 1\nlet b = 2\n/);
  });
  await t.step("a file with includes is included by absolute path", async () => {
    const r = repl({ "lab.vdpa": 'include "common.vdpa"\n', "common.vdpa": "let c = 1\n" });
    await r.load("lab.vdpa");
    assert.deepEqual(body(r.transcript), ["include /abs/lab.vdpa"]);
  });
});

Deno.test("Transcript: the saved script replays to the same variables", async () => {
  const r = repl();
  await r.entry("let n = 3");
  await r.entry("for i in 1..${n} {\n  let last = vdpa${i}\n}");
  await r.entry("let q = 'it''s'; nosuch");
  await r.entry('let s = "${last}-x" # a comment');
  const script = r.transcript.script("1").text;
  assert.deepEqual(parse(script, { source: "saved.vdpa" }).diagnostics, []);
  const fresh = new Session({ stdout: () => {} });
  const outcome = await fresh.runText(script, "saved.vdpa");
  assert.equal(outcome.status, "ok");
  assert.deepEqual([...fresh.variables], [...r.session.variables]);
});

Deno.test("isQuery: commands that only print", () => {
  const q = (text: string) => {
    const s = parse(text, { source: "t" }).program.statements[0];
    assert.ok(s, text);
    return isQuery(s);
  };
  for (
    const text of [
      "lsmod",
      "sudo lsmod | grep vdpa",
      "ls -l /sys/bus/vdpa/devices",
      "cat /sys/bus/vdpa/drivers_autoprobe",
      "vdpa mgmtdev show",
      "vdpa -jp dev show vdpa0",
      "vdpa dev",
      "vdpa dev config show vdpa0",
      "vdpa dev vstats show vdpa0 qidx 0",
      "ip link show",
      "ip -br link",
      "ip addr show dev tap0",
      "ovs-vsctl show",
      "show topology",
      "trace t1 packet 1",
      "help vdpa",
      "echo hello",
    ]
  ) assert.ok(q(text), text);
  for (
    const text of [
      "modprobe vdpa_sim_net",
      "sudo -u root modprobe vhost_vdpa",
      "vdpa dev add name vdpa0 mgmtdev vdpasim_net",
      "vdpa dev set name vdpa0 mac 52:54:00:00:00:01",
      "ip link set tap0 up",
      "ip tuntap add tap0 mode tap",
      "echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind",
      "echo 1 | sudo tee /sys/bus/pci/devices/x/sriov_numvfs",
      "ovs-vsctl show -- add-br br0",
      "ip ${obj} show",
      "run",
      "expect t1.delivered == 1",
      "let a = 1",
    ]
  ) assert.ok(!q(text), text);
});

Deno.test("quote: words that read back as themselves", () => {
  assert.equal(quote("/tmp/lab.vdpa"), "/tmp/lab.vdpa");
  assert.equal(quote("/tmp/my lab.vdpa"), "'/tmp/my lab.vdpa'");
  const tricky = "it's ${x}";
  const s = parse(`include ${quote(tricky)}`, { source: "t" }).program.statements[0];
  assert.equal(s?.kind, "include");
  if (s?.kind === "include") {
    assert.equal(s.path.parts.map((p) => (p.kind === "text" ? p.text : "?")).join(""), tricky);
  }
});
