import assert from "node:assert/strict";
import { helpPage } from "../stdlib/commands/help.ts";
import { parseCliArgs } from "./args.ts";
import type { CliIo } from "./main.ts";
import { ReplCore } from "./repl_core.ts";

/** A REPL core over real files and captured output. */
function fixture(
  argv: string[] = [],
  options: { write?: boolean; interrupted?: () => boolean } = {},
) {
  const parsed = parseCliArgs(["repl", ...argv]);
  if (!parsed.ok) throw new Error(parsed.error.message);
  const out = { stdout: "", stderr: "" };
  const io: CliIo = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    readFile: async (p) => {
      try {
        return { text: await Deno.readTextFile(p) };
      } catch {
        return { error: "No such file or directory" };
      }
    },
    readStdin: () => Promise.resolve(""),
    ...(options.write === false ? {} : {
      writeFile: async (p: string, data: string | Uint8Array) => {
        await Deno.writeTextFile(
          p,
          typeof data === "string" ? data : new TextDecoder().decode(data),
        );
        return { ok: true as const };
      },
    }),
    isTerminal: false,
    noColor: true,
  };
  const core = new ReplCore({
    args: parsed.value,
    io,
    interactive: false,
    cwd: "/work",
    ...(options.interrupted ? { interrupted: options.interrupted } : {}),
  });
  const take = () => {
    const r = { ...out };
    out.stdout = "";
    out.stderr = "";
    return r;
  };
  return { core, take };
}

Deno.test("ReplCore: entries", async (t) => {
  await t.step("state persists from one entry to the next", async () => {
    const { core, take } = fixture();
    assert.equal(await core.entry("let a = 1"), "ok");
    assert.equal(await core.entry("let b = ${a}2"), "ok");
    await core.entry(".vars");
    assert.equal(take().stdout, "a = 1\nb = 12\n");
  });
  await t.step("an open block asks for more; only a complete entry gets a number", async () => {
    const { core, take } = fixture();
    assert.equal(await core.entry("for i in 1..2 {"), "incomplete");
    assert.equal(await core.entry("for i in 1..2 {\n  let x = ${i}"), "incomplete");
    assert.equal(await core.entry("for i in 1..2 {\n  let x = ${i}\n}"), "ok");
    assert.equal(core.entries, 1);
    assert.equal(await core.entry("nosuch"), "failed");
    assert.match(take().stderr, /--> <repl:2>:1:1/);
  });
  await t.step("an error is shown against the entry typed and the session goes on", async () => {
    const { core, take } = fixture();
    await core.entry("let a = 1");
    assert.equal(await core.entry("let b = 2; let c = ${nope}"), "failed");
    const err = take().stderr;
    assert.match(err, /error\[E0601\]/);
    assert.match(err, /--> <repl:2>:1:20/);
    assert.match(err, /1 \| let b = 2; let c = \$\{nope\}/);
    assert.equal(await core.entry("let d = ${a}"), "ok");
    await core.entry(".vars");
    assert.equal(take().stdout, "a = 1\nb = 2\nd = 1\n");
    assert.equal(core.failed, true);
  });
  await t.step("the help statement and .help print the same page", async () => {
    const { core, take } = fixture();
    await core.entry("help vdpa");
    const statement = take().stdout;
    await core.entry(".help vdpa");
    assert.equal(take().stdout, statement);
    const page = helpPage(["vdpa"]);
    assert.ok(page.ok);
    assert.equal(statement, `${page.text}\n`);
  });
  await t.step("--json collects diagnostics instead of rendering them", async () => {
    const { core, take } = fixture(["--json"]);
    await core.entry("nosuch");
    assert.equal(take().stderr, "");
    const json = core.takeJson();
    assert.equal(json.length, 1);
    assert.equal(json[0]?.code, "E0100");
  });
});

Deno.test("ReplCore: Ctrl-C stops a run between statements and keeps the session", async () => {
  let stop = false;
  const { core, take } = fixture([], { interrupted: () => stop });
  await core.entry("let a = 1");
  stop = true;
  assert.equal(await core.entry("let b = 2\nlet c = 3"), "interrupted");
  assert.equal(take().stderr, "interrupted\n");
  stop = false;
  await core.entry(".vars");
  assert.equal(take().stdout, "a = 1\n");
  assert.match(core.transcript.script("1").notes.join(), /<repl:2> was interrupted/);
});

Deno.test("ReplCore: meta commands", async (t) => {
  await t.step(".exit, unknown commands and bad arguments", async () => {
    const { core, take } = fixture();
    assert.equal(await core.entry(".exit"), "exit");
    assert.equal(await core.entry(".sve x"), "failed");
    assert.match(take().stderr, /unknown REPL command `\.sve`; did you mean `\.save`\?/);
    assert.equal(await core.entry(".load"), "failed");
    assert.match(take().stderr, /\.load needs a FILE/);
    assert.equal(await core.entry(".help nosuchtopic"), "failed");
    assert.match(take().stderr, /no help for `nosuchtopic`/);
  });
  await t.step(".reset starts a fresh lab and forgets the transcript", async () => {
    const { core, take } = fixture();
    await core.entry("let a = 1");
    assert.equal(await core.entry(".reset"), "ok");
    await core.entry(".vars");
    assert.equal(take().stdout, "");
    assert.equal(core.transcript.size, 0);
    assert.equal(await core.entry("nosuch"), "failed");
    assert.match(take().stderr, /<repl:2>/, "entry numbers go on: sources stay unique");
  });
  await t.step(".save then .load into a fresh REPL gives the same state", async () => {
    const dir = await Deno.makeTempDir();
    const a = fixture();
    await a.core.entry("let n = 2");
    await a.core.entry("for i in 1..${n} {\n  let dev = vdpa${i}\n}");
    await a.core.entry("let broken = ${missing}");
    await a.core.entry("lsmod");
    a.take(); // lsmod's output is not part of the state compared below
    assert.equal(await a.core.entry(`.save ${dir}/s.vdpa`), "ok");
    await a.core.entry(".vars");
    const before = a.take().stdout;
    const b = fixture();
    assert.equal(await b.core.entry(`.load ${dir}/s.vdpa`), "ok");
    await b.core.entry(".vars");
    assert.equal(b.take().stdout, before);
    const statements = (await Deno.readTextFile(`${dir}/s.vdpa`)).split("\n")
      .filter((l) => !l.startsWith("#"));
    assert.doesNotMatch(statements.join("\n"), /lsmod|broken/);
    await Deno.remove(dir, { recursive: true });
  });
  await t.step(".load reports errors located in the file", async () => {
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/bad.vdpa`, "let a = 1\nnosuch\n");
    const { core, take } = fixture();
    assert.equal(await core.entry(`.load ${dir}/bad.vdpa`), "failed");
    assert.match(take().stderr, new RegExp(`--> ${dir}/bad.vdpa:2:1`));
    assert.equal(await core.entry(".load /nonexistent/x.vdpa"), "failed");
    assert.match(take().stderr, /cannot read \/nonexistent\/x\.vdpa: No such file/);
    await Deno.remove(dir, { recursive: true });
  });
  await t.step(".save without a file writer is an error, not a crash", async () => {
    const { core, take } = fixture([], { write: false });
    assert.equal(await core.entry(".save /tmp/x.vdpa"), "failed");
    assert.match(take().stderr, /may not write files/);
  });
});
