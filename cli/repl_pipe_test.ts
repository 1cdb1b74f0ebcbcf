import assert from "node:assert/strict";
import { parseCliArgs } from "./args.ts";
import { cli, type CliIo } from "./main.ts";
import { ReplCore } from "./repl_core.ts";
import { pipedSegments, runPiped } from "./repl_pipe.ts";

function io(stdin: string) {
  const out = { stdout: "", stderr: "" };
  const value: CliIo = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    readFile: () => Promise.resolve({ error: "No such file or directory" }),
    readStdin: () => Promise.resolve(stdin),
    isTerminal: false,
    noColor: true,
  };
  return { io: value, out };
}

async function piped(text: string) {
  const parsed = parseCliArgs(["repl"]);
  if (!parsed.ok) throw new Error("args");
  const { io: value, out } = io(text);
  const core = new ReplCore({ args: parsed.value, io: value, interactive: false });
  const status = await runPiped(core, text);
  return { status, ...out };
}

async function run(text: string) {
  const { io: value, out } = io(text);
  const status = await cli(["run", "-"], value);
  return { status, ...out };
}

Deno.test("pipedSegments: meta lines split the script, keeping line numbers", async (t) => {
  await t.step("without meta lines the text is one piece, untouched", () => {
    const text = "let a = 1\nhelp vdpa\n";
    assert.deepEqual(pipedSegments(text), [{ kind: "script", text }]);
  });
  await t.step("the lines of other pieces are blanked, not removed", () => {
    const segs = pipedSegments("let a = 1\n.vars\nlet b = 2\n");
    assert.deepEqual(segs, [
      { kind: "script", text: "let a = 1\n\n\n" },
      { kind: "meta", line: ".vars" },
      { kind: "script", text: "\n\nlet b = 2\n" },
    ]);
  });
  await t.step("a dot line inside a quote or a block is script text", () => {
    assert.equal(pipedSegments("let a = '\n.vars'\n").length, 1);
    assert.equal(pipedSegments("for i in a {\n.vars\n}\n").length, 1);
  });
  await t.step("empty input is one empty script", () => {
    assert.deepEqual(pipedSegments(""), [{ kind: "script", text: "" }]);
  });
});

Deno.test("runPiped: the same output, diagnostics and status as `run -`", async (t) => {
  const scripts = {
    "a clean script": "let a = 1\nhelp vdpa | head -n 3\n",
    "an error stops the run": "help vdpa | head -n 1\nnosuch command\nhelp ip | head -n 1\n",
    "a syntax error anywhere runs nothing": "help vdpa | head -n 1\nlet = 1\n",
    "an error inside a loop": "for i in 1..3 {\n  let x = ${i}\n  help ${x}\n}\n",
    "warnings only": "let a = $b\n",
  };
  for (const [name, text] of Object.entries(scripts)) {
    await t.step(name, async () => {
      assert.deepEqual(await piped(text), await run(text));
    });
  }
});

Deno.test("runPiped: meta lines between statements", async (t) => {
  await t.step("a diagnostic after a meta line points at its line in the piped text", async () => {
    const r = await piped("let a = 1\n.vars\n\nnosuch\n");
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "a = 1\n");
    assert.match(r.stderr, /--> <stdin>:4:1/);
  });
  await t.step("a failing meta command stops the script with status 1", async () => {
    const r = await piped(".load /nonexistent.vdpa\nhelp vdpa\n");
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
  });
  await t.step(".exit stops reading", async () => {
    const r = await piped("let a = 1\n.exit\nnosuch\n");
    assert.equal(r.status, 0);
    assert.equal(r.stderr, "");
  });
});
