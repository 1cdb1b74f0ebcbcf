import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { type Diagnostic, error } from "./diagnostic.ts";
import {
  type CommandContext,
  Interpreter,
  type InterpreterOptions,
  memoryFileReader,
  normalizePath,
  resolveInclude,
} from "./interpreter.ts";
import { renderDiagnostics } from "./render.ts";
import { subSpan } from "./word.ts";

/** Records every executed command as its words joined by blanks. */
function lab(options: Partial<InterpreterOptions> & { files?: Record<string, string> } = {}) {
  const ran: string[] = [];
  const contexts: CommandContext[] = [];
  const { files, ...rest } = options;
  const interpreter = new Interpreter({
    executor: (words, ctx) => {
      ran.push(words.map((w) => w.text).join(" "));
      contexts.push(ctx);
    },
    ...(files ? { readFile: memoryFileReader(files) } : {}),
    ...rest,
  });
  return { interpreter, ran, contexts };
}

function codes(ds: readonly Diagnostic[]): string[] {
  return ds.map((d) => d.code);
}

/** Where the primary label points: `source:line:column`. */
function where(i: Interpreter, d: Diagnostic | undefined): string {
  const s = d?.labels.find((l) => l.primary)?.span;
  if (!s) return "<none>";
  const pos = i.sources.get(s.source)?.position(s.start);
  return `${s.source}:${pos?.line}:${pos?.column}`;
}

Deno.test("Interpreter binds variables with let", async (t) => {
  await t.step("a command sees the value, with offsets into the source", async () => {
    const { interpreter, ran, contexts } = lab();
    const text = 'let n = 0\nvdpa dev add name "vdpa${n}" mgmtdev vdpasim_net';
    const r = await interpreter.runText(text, "lab.vdpa");
    assertEquals(r.status, "ok");
    assertEquals(ran, ["vdpa dev add name vdpa0 mgmtdev vdpasim_net"]);
    assertEquals(interpreter.variables.get("n"), "0");
    assertEquals(contexts[0]?.statement.kind, "command");
    assertEquals(contexts[0]?.includedFrom, []);
  });

  await t.step("a value may interpolate, and rebinding replaces it", async () => {
    const { interpreter, ran } = lab();
    await interpreter.runText("let a = x\nlet b = ${a}-y\nlet a = z\necho ${a} ${b}", "lab.vdpa");
    assertEquals(ran, ["echo z x-y"]);
  });

  await t.step("an undefined variable is located, with a suggestion", async () => {
    const { interpreter, ran } = lab();
    const r = await interpreter.runText("let count = 3\nrun\nping ${cuont}\nrun", "lab.vdpa");
    assertEquals(r.status, "failed");
    assertEquals(codes(r.diagnostics), ["E0601"]);
    assertEquals(where(interpreter, r.diagnostics[0]), "lab.vdpa:3:6");
    assertEquals(r.diagnostics[0]?.help, ["did you mean `count`?"]);
    assertEquals(ran, ["run"], "the run stops at the first error");
  });

  await t.step("a value doubled again and again stops at the word length limit", async () => {
    const { interpreter } = lab();
    const doubling = Array.from({ length: 40 }, () => "let a = ${a}${a}").join("\n");
    const r = await interpreter.runText(`let a = xx\n${doubling}\necho ${"$"}{a}`, "lab.vdpa");
    assertEquals(codes(r.diagnostics), ["E0607"]);
    // 2 · 2^19 = 2^20 characters fit; the 20th doubling would pass the limit.
    assertEquals(where(interpreter, r.diagnostics[0]), "lab.vdpa:21:13");
    assertEquals(interpreter.variables.get("a")?.length, 1 << 20);
  });

  await t.step("predefined variables are readable and read-only", async () => {
    const { interpreter, ran } = lab({ variables: [["LAB_DIR", "/labs"]] });
    const r = await interpreter.runText("echo ${LAB_DIR}\nlet LAB_DIR = x\necho after", "lab.vdpa");
    assertEquals(ran, ["echo /labs"]);
    assertEquals(codes(r.diagnostics), ["E0606"]);
    assertEquals(where(interpreter, r.diagnostics[0]), "lab.vdpa:2:5");
    assertEquals(interpreter.variables.get("LAB_DIR"), "/labs");
  });
});

Deno.test("Interpreter runs for loops", async (t) => {
  await t.step("an inclusive range", async () => {
    const { interpreter, ran } = lab();
    await interpreter.runText("let n = 3\nfor i in 1..${n} {\n  echo ${i}\n}", "lab.vdpa");
    assertEquals(ran, ["echo 1", "echo 2", "echo 3"]);
  });

  await t.step("a descending range counts down, negative ends work", async () => {
    const { interpreter, ran } = lab();
    await interpreter.runText("for i in 2..-1 { echo ${i} }", "lab.vdpa");
    assertEquals(ran, ["echo 2", "echo 1", "echo 0", "echo -1"]);
  });

  await t.step("a list of words, nested loops", async () => {
    const { interpreter, ran } = lab();
    await interpreter.runText(
      "for vm in vm1 vm2 {\n  for q in rx0 tx0 { show vq ${vm}.eth0 ${q} }\n}",
      "lab.vdpa",
    );
    assertEquals(ran, [
      "show vq vm1.eth0 rx0",
      "show vq vm1.eth0 tx0",
      "show vq vm2.eth0 rx0",
      "show vq vm2.eth0 tx0",
    ]);
  });

  await t.step("a single word that is not a range is one iteration", async () => {
    const { interpreter, ran } = lab();
    await interpreter.runText(
      "for f in ../x.vdpa { echo ${f} }\nfor q in '1..2' { echo ${q} }",
      "a",
    );
    assertEquals(ran, ["echo ../x.vdpa", "echo 1..2"]);
  });

  await t.step("the loop variable is bound in the body only; let persists", async () => {
    const { interpreter, ran } = lab();
    const r = await interpreter.runText(
      "let i = outer\nfor i in a b { let last = ${i} }\necho ${i} ${last}\nfor j in a { run }\necho ${j}",
      "lab.vdpa",
    );
    assertEquals(ran, ["echo outer b", "run"]);
    assertEquals(codes(r.diagnostics), ["E0601"]);
    assertEquals(where(interpreter, r.diagnostics[0]), "lab.vdpa:5:6");
  });

  await t.step("a malformed range is an error at the word", async () => {
    const { interpreter, ran } = lab();
    const r = await interpreter.runText("let n = x\nfor i in 1..${n} {\n  run\n}", "lab.vdpa");
    assertEquals(ran, []);
    assertEquals(codes(r.diagnostics), ["E0605"]);
    assertEquals(where(interpreter, r.diagnostics[0]), "lab.vdpa:2:10");
  });

  await t.step("a range larger than the iteration cap is refused before running", async () => {
    const { interpreter, ran } = lab();
    const r = await interpreter.runText("for i in 1..1000001 {\n  run\n}", "lab.vdpa");
    assertEquals(ran, []);
    assertEquals(codes(r.diagnostics), ["E0602"]);
    assertEquals(r.diagnostics[0]?.message, "too many loop iterations (the limit is 1,000,000)");
    assertEquals(r.diagnostics[0]?.labels[0]?.message, "1,000,001 iterations");
  });

  await t.step("nested loops count against one cap, located at the loop that hits it", async () => {
    const { interpreter, ran } = lab({ maxIterations: 10 });
    const r = await interpreter.runText(
      "for i in 1..3 {\n  for j in a b c {\n    run\n  }\n}",
      "lab.vdpa",
    );
    // 1 (i=1) + 3 (j) + 1 (i=2) + 3 (j) + 1 (i=3) + 1 (j=a) = 10 iterations; j=b is one too many.
    assertEquals(ran.length, 7);
    assertEquals(codes(r.diagnostics), ["E0602"]);
    assertEquals(where(interpreter, r.diagnostics[0]), "lab.vdpa:2:12");
  });

  await t.step("the cap is per run: a REPL line starts afresh", async () => {
    const { interpreter, ran } = lab({ maxIterations: 3 });
    assertEquals((await interpreter.runText("for i in 1..3 { run }", "<repl:1>")).status, "ok");
    assertEquals((await interpreter.runText("for i in 1..3 { run }", "<repl:2>")).status, "ok");
    assertEquals(ran.length, 6);
  });
});

Deno.test("Interpreter includes files relative to the including file", async (t) => {
  const files = {
    "labs/main.vdpa": 'include "setup/host.vdpa"\necho ${vm} ${mgmt}\n',
    "labs/setup/host.vdpa": "include ../vars.vdpa\nmodprobe ${mod}\n",
    "labs/vars.vdpa": "let vm = vm1\nlet mgmt = vdpasim_net\nlet mod = vdpa_sim_net\n",
  };

  await t.step("nested includes resolve against each file's directory", async () => {
    const { interpreter, ran, contexts } = lab({ files });
    const r = await interpreter.runFile("labs/main.vdpa");
    assertEquals(r.status, "ok", renderDiagnostics(r.diagnostics, interpreter.sources));
    assertEquals(ran, ["modprobe vdpa_sim_net", "echo vm1 vdpasim_net"]);
    assertEquals(
      interpreter.sources.names(),
      ["labs/main.vdpa", "labs/setup/host.vdpa", "labs/vars.vdpa"],
    );
    // The command in host.vdpa knows it was included from main.vdpa line 1.
    const from = contexts[0]?.includedFrom ?? [];
    assertEquals(from.map((s) => s.source), ["labs/main.vdpa"]);
  });

  await t.step("REPL input includes relative to the working directory", async () => {
    const { interpreter, ran } = lab({ files, cwd: "labs" });
    const r = await interpreter.runText("include vars.vdpa\necho ${vm}", "<repl:1>");
    assertEquals(r.status, "ok");
    assertEquals(ran, ["echo vm1"]);
  });

  await t.step("a missing file is an error at the path, saying where it looked", async () => {
    const { interpreter } = lab({ files });
    const r = await interpreter.runText('run\ninclude "../commn.vdpa"\n', "labs/x/main.vdpa");
    assertEquals(codes(r.diagnostics), ["E0603"]);
    assertEquals(where(interpreter, r.diagnostics[0]), "labs/x/main.vdpa:2:9");
    assertEquals(r.diagnostics[0]?.notes, [
      "No such file or directory",
      "`../commn.vdpa` resolves to `labs/commn.vdpa` (relative to the including file)",
    ]);
  });

  await t.step("without a reader, include is an error", async () => {
    const { interpreter } = lab();
    const r = await interpreter.runText("include a.vdpa", "<stdin>");
    assertEquals(codes(r.diagnostics), ["E0603"]);
    assertEquals(r.diagnostics[0]?.notes, ["this session cannot read files"]);
  });

  await t.step(
    "a syntax error in an included file is reported there and nothing of it runs",
    async () => {
      const { interpreter, ran } = lab({
        files: { "bad.vdpa": "modprobe vdpa\nlet = 1\n", "main.vdpa": "include bad.vdpa\nrun\n" },
      });
      const r = await interpreter.runFile("main.vdpa");
      assertEquals(codes(r.diagnostics), ["E0010"]);
      assertEquals(where(interpreter, r.diagnostics[0]), "bad.vdpa:2:1");
      assertEquals(ran, []);
    },
  );

  await t.step("a cycle is an error showing the include chain", async (t) => {
    const { interpreter, ran } = lab({
      files: {
        "a.vdpa": "modprobe vdpa\ninclude b.vdpa\n",
        "b.vdpa": "include sub/c.vdpa\n",
        "sub/c.vdpa": "run\ninclude ../a.vdpa\n",
      },
    });
    const r = await interpreter.runFile("a.vdpa");
    assertEquals(ran, ["modprobe vdpa", "run"]);
    assertEquals(codes(r.diagnostics), ["E0604"]);
    const d = r.diagnostics[0];
    assert(d);
    assertEquals(where(interpreter, d), "sub/c.vdpa:2:9");
    assertEquals(d.notes, ["the include chain: `a.vdpa` → `b.vdpa` → `sub/c.vdpa` → `a.vdpa`"]);
    assertEquals(d.labels.map((l) => l.span.source), ["sub/c.vdpa", "a.vdpa", "b.vdpa"]);
    await t.assertSnapshot(renderDiagnostics(r.diagnostics, interpreter.sources), {
      serializer: String,
    });
  });

  await t.step("a file including itself", async () => {
    const { interpreter } = lab({ files: { "self.vdpa": "include ./self.vdpa\n" } });
    const r = await interpreter.runFile("self.vdpa");
    assertEquals(codes(r.diagnostics), ["E0604"]);
    assertEquals(r.diagnostics[0]?.notes, ["the include chain: `self.vdpa` → `self.vdpa`"]);
  });

  await t.step("including the same file twice (no cycle) is fine", async () => {
    const { interpreter, ran } = lab({
      files: { "m.vdpa": "include x.vdpa\ninclude x.vdpa\n", "x.vdpa": "run\n" },
    });
    assertEquals((await interpreter.runFile("m.vdpa")).status, "ok");
    assertEquals(ran, ["run", "run"]);
  });

  await t.step("runFile of a missing file", async () => {
    const { interpreter } = lab({ files: {} });
    const r = await interpreter.runFile("nope.vdpa");
    assertEquals([r.status, codes(r.diagnostics)], ["failed", ["E0603"]]);
  });
});

Deno.test("Interpreter stops include nesting at the depth limit with E0608", async (t) => {
  /** `a0.vdpa` includes `a1.vdpa` … up to `a${n - 1}`, which runs `deepest`; then `after`. */
  function chain(n: number): Record<string, string> {
    const files: Record<string, string> = {};
    for (let i = 0; i < n; i++) {
      files[`a${i}.vdpa`] = i + 1 < n ? `include a${i + 1}.vdpa\nafter${i}\n` : "deepest\n";
    }
    return files;
  }

  await t.step("64 nested includes run to the deepest file", async () => {
    const { interpreter, ran } = lab({ files: chain(65) });
    const r = await interpreter.runFile("a0.vdpa");
    assertEquals(r.status, "ok");
    assertEquals(ran[0], "deepest");
    assertEquals(ran.length, 65);
  });

  for (const mode of ["run", "check"] as const) {
    await t.step(`the 65th is E0608 at its path; the file is not read (${mode})`, async () => {
      const read: string[] = [];
      const files = memoryFileReader(chain(66));
      const { interpreter, ran } = lab({
        mode,
        readFile: (p) => (read.push(p), files(p)),
      });
      const r = await interpreter.runFile("a0.vdpa");
      assertEquals(codes(r.diagnostics), ["E0608"]);
      const d = r.diagnostics[0];
      assertEquals(d?.message, "include nesting too deep (the limit is 64 files)");
      assertEquals(where(interpreter, d), "a64.vdpa:1:9");
      assertEquals(d?.labels.map((l) => [l.span.source, l.message]), [
        ["a64.vdpa", "the 65th nested include"],
        ["a0.vdpa", "the chain starts here"],
      ]);
      assertEquals(d?.notes, [
        "the include chain: `a0.vdpa` → `a1.vdpa` → `a2.vdpa` → … 60 more … → " +
        "`a63.vdpa` → `a64.vdpa` → `a65.vdpa`",
      ]);
      assert(!read.includes("a65.vdpa"), "the file beyond the limit is never read");
      // Run mode stops at the error; check mode goes on after the include, level by level.
      assertEquals(
        ran,
        mode === "run" ? [] : Array.from({ length: 65 }, (_, i) => `after${64 - i}`),
      );
    });
  }

  await t.step("a chain 10,000 files deep reads 65 of them", async () => {
    const read: string[] = [];
    const files = memoryFileReader(chain(10_000));
    const { interpreter } = lab({ mode: "check", readFile: (p) => (read.push(p), files(p)) });
    const r = await interpreter.runFile("a0.vdpa");
    assertEquals(codes(r.diagnostics), ["E0608"]);
    assertEquals(read.length, 65);
  });

  await t.step(
    "a path that grows at every level (a symlink to `.`) ends at the limit",
    async () => {
      // `d` -> `.`: every `d/…/x.vdpa` is the same file under a new name, so no cycle is seen.
      const { interpreter } = lab({
        readFile: (
          p,
        ) => (/^(d\/)*x\.vdpa$/.test(p) ? { text: "include d/x.vdpa\n" } : { error: "no" }),
      });
      const r = await interpreter.runFile("x.vdpa");
      assertEquals(codes(r.diagnostics), ["E0608"]);
      assertEquals(r.diagnostics[0]?.labels[0]?.span.source, `${"d/".repeat(64)}x.vdpa`);
    },
  );

  await t.step("a cycle inside the limit is still E0604", async () => {
    const files = chain(10);
    files["a9.vdpa"] = "include a3.vdpa\n";
    const { interpreter } = lab({ files });
    const r = await interpreter.runFile("a0.vdpa");
    assertEquals(codes(r.diagnostics), ["E0604"]);
  });

  await t.step("maxIncludeDepth sets another limit", async () => {
    const { interpreter, ran } = lab({ files: chain(4), maxIncludeDepth: 2, mode: "check" });
    const r = await interpreter.runFile("a0.vdpa");
    assertEquals(r.diagnostics[0]?.message, "include nesting too deep (the limit is 2 files)");
    assertEquals(r.diagnostics[0]?.labels[0]?.message, "the 3rd nested include");
    assertEquals(ran, ["after2", "after1", "after0"]);
  });
});

Deno.test("Interpreter stops at the first error in run mode and collects all in check mode", async (t) => {
  const script = [
    "modprobe vdpa_sim_net",
    "modprobe vdpasim_net", // the executor refuses it
    "let x = ${nope}", // undefined variable
    "echo ${x}", // x's let failed: not reported again in check mode
    "modprobe vhost_vpda", // refused
    "run",
  ].join("\n");
  /** An executor that knows three kernel modules, as a stdlib family would. */
  function executorOf(ran: string[]) {
    const known = new Set(["vdpa_sim_net", "vhost_vdpa", "vdpa"]);
    return (words: Parameters<InterpreterOptions["executor"]>[0], ctx: CommandContext) => {
      ran.push(words.map((w) => w.text).join(" "));
      const [cmd, arg] = words;
      if (cmd?.text === "modprobe" && arg && !known.has(arg.text)) {
        ctx.diagnostics.push(error("E0201", `unknown module \`${arg.text}\``, {
          span: subSpan(arg, 0),
          label: "not a kernel module",
        }));
      }
    };
  }

  await t.step("run", async () => {
    const ran: string[] = [];
    const i = new Interpreter({ executor: executorOf(ran) });
    const r = await i.runText(script, "lab.vdpa");
    assertEquals(r.status, "failed");
    assertEquals(codes(r.diagnostics), ["E0201"]);
    assertEquals(ran, ["modprobe vdpa_sim_net", "modprobe vdpasim_net"]);
  });

  await t.step("check", async () => {
    const ran: string[] = [];
    const i = new Interpreter({ executor: executorOf(ran), mode: "check" });
    const r = await i.runText(script, "lab.vdpa");
    assertEquals(r.status, "failed");
    assertEquals(codes(r.diagnostics), ["E0201", "E0601", "E0201"]);
    assertEquals(r.diagnostics.map((d) => where(i, d)), [
      "lab.vdpa:2:10",
      "lab.vdpa:3:9",
      "lab.vdpa:5:10",
    ]);
    assertEquals(ran, [
      "modprobe vdpa_sim_net",
      "modprobe vdpasim_net",
      "modprobe vhost_vpda",
      "run",
    ]);
  });

  await t.step("an error inside a loop stops the loop in run mode", async () => {
    const ran: string[] = [];
    const i = new Interpreter({ executor: executorOf(ran) });
    await i.runText("for m in vdpa bogus vhost_vdpa { modprobe ${m} }\nrun", "lab.vdpa");
    assertEquals(ran, ["modprobe vdpa", "modprobe bogus"]);
  });

  await t.step("a syntax error anywhere means nothing runs, in both modes", async () => {
    for (const mode of ["run", "check"] as const) {
      const ran: string[] = [];
      const i = new Interpreter({ executor: executorOf(ran), mode });
      const r = await i.runText("modprobe vdpa\nrun\necho 'oops\n", "lab.vdpa");
      assertEquals([ran, codes(r.diagnostics)], [[], ["E0001"]]);
    }
  });

  await t.step("a warning does not stop anything", async () => {
    const ran: string[] = [];
    const i = new Interpreter({ executor: executorOf(ran) });
    const r = await i.runText("echo $HOME\nrun", "lab.vdpa");
    assertEquals([r.status, codes(r.diagnostics), ran], ["ok", ["W0001"], ["echo $HOME", "run"]]);
  });
});

Deno.test("Interpreter serves a REPL", async (t) => {
  await t.step("state persists from one input to the next", async () => {
    const { interpreter, ran } = lab();
    await interpreter.runText("let vm = vm1", "<repl:1>");
    await interpreter.runText("show vq ${vm}.eth0 tx0", "<repl:2>");
    assertEquals(ran, ["show vq vm1.eth0 tx0"]);
    assertEquals(interpreter.sources.names(), ["<repl:1>", "<repl:2>"]);
  });

  await t.step("incomplete input is reported as such, and accepted once complete", async () => {
    const { interpreter, ran } = lab();
    let buffer = "for i in 1..2 {";
    const first = await interpreter.runText(buffer, "<repl:3>", { allowIncomplete: true });
    assertEquals(first, { status: "incomplete", diagnostics: [] });
    buffer += "\n  echo ${i}";
    assertEquals(
      (await interpreter.runText(buffer, "<repl:3>", { allowIncomplete: true })).status,
      "incomplete",
    );
    buffer += "\n}";
    assertEquals(
      (await interpreter.runText(buffer, "<repl:3>", { allowIncomplete: true })).status,
      "ok",
    );
    assertEquals(ran, ["echo 1", "echo 2"]);
    assertEquals(interpreter.diagnostics.length, 0);
  });

  await t.step("an errored input does not poison the next", async () => {
    const { interpreter, ran } = lab();
    assertEquals((await interpreter.runText("echo ${x}", "<repl:1>")).status, "failed");
    assertEquals((await interpreter.runText("run", "<repl:2>")).status, "ok");
    assertEquals(ran, ["run"]);
  });

  await t.step("interrupted() is asked before every statement and iteration", async () => {
    // Asked before `run`, before the loop, before iteration 1 and before its `echo`: then stop.
    let budget = 4;
    const { interpreter, ran } = lab({ interrupted: () => budget-- <= 0 });
    const r = await interpreter.runText("run\nfor i in 1..100 { echo ${i} }\nrun", "<repl:1>");
    assertEquals(r.status, "interrupted");
    assertEquals(ran, ["run", "echo 1"]);
  });

  await t.step("an async executor is awaited in order", async () => {
    const ran: string[] = [];
    const i = new Interpreter({
      executor: async (words) => {
        await new Promise((resolve) => setTimeout(resolve, words.length));
        ran.push(words[0]?.text ?? "");
      },
    });
    await i.runText("a 1 2 3 4 5\nb\nc 1 2", "<repl:1>");
    assertEquals(ran, ["a", "b", "c"]);
  });
});

Deno.test("resolveInclude() and normalizePath()", () => {
  assertEquals(resolveInclude("labs/main.vdpa", "common.vdpa"), "labs/common.vdpa");
  assertEquals(resolveInclude("main.vdpa", "common.vdpa"), "common.vdpa");
  assertEquals(resolveInclude("labs/a/main.vdpa", "../../x.vdpa"), "x.vdpa");
  assertEquals(resolveInclude("main.vdpa", "../x.vdpa"), "../x.vdpa");
  assertEquals(resolveInclude("/srv/labs/main.vdpa", "./x/../y.vdpa"), "/srv/labs/y.vdpa");
  assertEquals(resolveInclude("labs/main.vdpa", "/etc/lab.vdpa"), "/etc/lab.vdpa");
  assertEquals(resolveInclude("<stdin>", "x.vdpa"), "x.vdpa");
  assertEquals(resolveInclude("<repl:4>", "x.vdpa", "../up"), "../up/x.vdpa");
  assertEquals(normalizePath("/../a//b/./"), "/a/b");
  assertEquals(normalizePath("./"), ".");
  assertEquals(normalizePath("../../a/../b"), "../../b");
});
