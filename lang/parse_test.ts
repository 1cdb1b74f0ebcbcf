import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import fc from "fast-check";
import type { Program, Statement, Word } from "./ast.ts";
import { MAX_BLOCK_DEPTH, parse } from "./parse.ts";
import { SourceFile, type Span } from "./span.ts";

const SRC = "lab.vdpa";

function clean(text: string): Program {
  const r = parse(text, { source: SRC });
  assertEquals(r.diagnostics.map((d) => `${d.code} ${d.message}`), [], text);
  assertEquals(r.incomplete, false);
  return r.program;
}

function slice(text: string, s: Span): string {
  return text.slice(s.start, s.end);
}

/** The literal text of a word whose parts are all text (no interpolation). */
function literal(w: Word): string {
  return w.parts.map((p) => (p.kind === "text" ? p.text : `\${${p.name}}`)).join("");
}

function commands(p: Program): string[][] {
  return p.statements.map((s) => (s.kind === "command" ? s.words.map(literal) : [`<${s.kind}>`]));
}

function within(outer: Span, inner: Span, what: string): void {
  assert(
    inner.source === outer.source && inner.start >= outer.start && inner.end <= outer.end,
    `${what}: [${inner.start},${inner.end}) not inside [${outer.start},${outer.end})`,
  );
}

/** Every node's span lies inside its parent's, and text parts agree with the source. */
function checkWord(text: string, w: Word, parent: Span): void {
  within(parent, w.span, "word");
  assert(w.parts.length > 0, "a word has parts");
  for (const p of w.parts) {
    within(w.span, p.span, "part");
    if (p.kind === "var") {
      within(p.span, p.nameSpan, "variable name");
      assertEquals(slice(text, p.nameSpan), p.name);
      assert(text.startsWith("${", p.span.start));
      continue;
    }
    if (!p.offsets) {
      assertEquals(p.quoted, false);
      assertEquals(slice(text, p.span), p.text, "verbatim text part");
      continue;
    }
    assertEquals(p.offsets.length, p.text.length + 1);
    for (let i = 0; i < p.offsets.length; i++) {
      const o = p.offsets[i] ?? -1;
      assert(o >= p.span.start && o <= p.span.end, `offset ${o} outside its part`);
      if (i > 0) assert(o >= (p.offsets[i - 1] ?? 0), "offsets never go back");
      // A character maps to itself or to the backslash that escapes it.
      const c = p.text[i];
      if (c !== undefined) {
        assert(text[o] === c || text[o] === "\\", `offset of ${JSON.stringify(c)}`);
      }
    }
  }
}

function checkStatements(text: string, statements: readonly Statement[], parent: Span): void {
  for (const s of statements) {
    within(parent, s.span, s.kind);
    switch (s.kind) {
      case "command":
        for (const w of s.words) checkWord(text, w, s.span);
        break;
      case "let":
        within(s.span, s.keywordSpan, "let keyword");
        within(s.span, s.nameSpan, "let name");
        assertEquals(slice(text, s.nameSpan), s.name);
        checkWord(text, s.value, s.span);
        break;
      case "include":
        within(s.span, s.keywordSpan, "include keyword");
        checkWord(text, s.path, s.span);
        break;
      case "for":
        within(s.span, s.keywordSpan, "for keyword");
        within(s.span, s.variableSpan, "for variable");
        assertEquals(slice(text, s.variableSpan), s.variable);
        assertEquals(slice(text, s.openSpan), "{");
        assertEquals(slice(text, s.closeSpan), "}");
        for (const w of s.items) checkWord(text, w, s.span);
        checkStatements(text, s.body, {
          source: SRC,
          start: s.openSpan.end,
          end: s.closeSpan.start,
        });
        break;
    }
  }
}

function checkTree(text: string, p: Program): void {
  checkStatements(text, p.statements, { source: SRC, start: 0, end: text.length });
}

Deno.test("parse() reads commands as shell-like words", async (t) => {
  await t.step("bare words with spans", () => {
    const text = "modprobe vdpa_sim_net";
    const s = clean(text).statements[0];
    assert(s?.kind === "command");
    assertEquals(s.words.map((w) => slice(text, w.span)), ["modprobe", "vdpa_sim_net"]);
    assertEquals(s.span, { source: SRC, start: 0, end: 21 });
    assertEquals(s.words[1]?.quoted, false);
  });

  await t.step("one statement per line, `;` separates, blank lines and comments skipped", () => {
    const p = clean("lsmod\n\n  # a comment\nmodprobe vdpa ; lsmod;run # trailing\n");
    assertEquals(commands(p), [["lsmod"], ["modprobe", "vdpa"], ["lsmod"], ["run"]]);
  });

  await t.step("`#` starts a comment only at the start of a word", () => {
    assertEquals(commands(clean("echo a#b #c\n")), [["echo", "a#b"]]);
    assertEquals(commands(clean("echo 'a #b' \"#c\"")), [["echo", "a #b", "#c"]]);
  });

  await t.step("single quotes keep everything literal, across lines", () => {
    const text = "echo 'a ${b} \\n\n\"c\"'";
    const w = (clean(text).statements[0] as Extract<Statement, { kind: "command" }>).words[1];
    assert(w);
    assertEquals(w.quoted, true);
    assertEquals(w.parts.length, 1);
    assertEquals(literal(w), 'a ${b} \\n\n"c"');
    assertEquals(slice(text, w.span), "'a ${b} \\n\n\"c\"'");
  });

  await t.step('double quotes interpolate and honour \\" \\\\ \\$ only', () => {
    const text = 'echo "a \\"b\\" \\\\ \\$x \\n ${y}!"';
    const s = clean(text).statements[0];
    assert(s?.kind === "command");
    const w = s.words[1];
    assert(w);
    assertEquals(w.parts.map((p) => p.kind), ["text", "var", "text"]);
    assertEquals(literal(w), 'a "b" \\ $x \\n ${y}!');
    const v = w.parts[1];
    assert(v?.kind === "var");
    assertEquals(slice(text, v.span), "${y}");
    assertEquals(slice(text, v.nameSpan), "y");
    // The parts tile the quoted string: the quotes belong to the text parts beside them.
    assertEquals(slice(text, w.parts[0]?.span ?? v.span), '"a \\"b\\" \\\\ \\$x \\n ');
    assertEquals(slice(text, w.parts[2]?.span ?? v.span), '!"');
  });

  await t.step("adjacent parts make one word", () => {
    const text = `-netdev type=vhost-vdpa,vhostdev="/dev/vhost-vdpa-\${i}",id='n0'`;
    const s = clean(text).statements[0];
    assert(s?.kind === "command");
    assertEquals(s.words.length, 2);
    const w = s.words[1];
    assert(w);
    assertEquals(w.parts.map((p) => p.kind), ["text", "text", "var", "text", "text"]);
    assertEquals(literal(w), "type=vhost-vdpa,vhostdev=/dev/vhost-vdpa-${i},id=n0");
    assertEquals(w.quoted, true);
  });

  await t.step("empty quotes are an empty word", () => {
    const s = clean(`vdpa dev add name "" ''`).statements[0];
    assert(s?.kind === "command");
    assertEquals(s.words.map(literal), ["vdpa", "dev", "add", "name", "", ""]);
    assertEquals(s.words[4]?.parts.length, 1);
  });

  await t.step("a backslash escapes in bare words", () => {
    const text = "echo a\\ b \\; c\\\\d \\$x";
    const s = clean(text).statements[0];
    assert(s?.kind === "command");
    assertEquals(s.words.map(literal), ["echo", "a b", ";", "c\\d", "$x"]);
    const p = s.words[1]?.parts[0];
    assert(p?.kind === "text");
    assertEquals(p.offsets, [5, 6, 8, 9]);
  });

  await t.step("`\\` + newline continues a statement, between and inside words", () => {
    const text = "qemu-system-x86_64 \\\n  -m 4G \\\r\n  -smp 2\nrun";
    assertEquals(commands(clean(text)), [["qemu-system-x86_64", "-m", "4G", "-smp", "2"], ["run"]]);
    const joined = "ab\\\ncd";
    const s = clean(joined).statements[0];
    assert(s?.kind === "command");
    assertEquals(s.words.map(literal), ["abcd"]);
    const p = s.words[0]?.parts[0];
    assert(p?.kind === "text");
    assertEquals(p.offsets, [0, 1, 4, 5, 6]);
  });

  await t.step("an unquoted `>` or `>>` is a word of its own; `>=` is not", () => {
    assertEquals(commands(clean("echo vdpa0 >/sys/bus/vdpa/drivers/vhost_vdpa/bind")), [
      ["echo", "vdpa0", ">", "/sys/bus/vdpa/drivers/vhost_vdpa/bind"],
    ]);
    assertEquals(commands(clean("echo 1>>f")), [["echo", "1", ">>", "f"]]);
    assertEquals(commands(clean("expect t1.delivered >= 10 a>=b")), [
      ["expect", "t1.delivered", ">=", "10", "a>=b"],
    ]);
    const s = clean("echo '>' \">\"").statements[0];
    assert(s?.kind === "command");
    assertEquals(s.words.map((w) => [literal(w), w.quoted]), [["echo", false], [">", true], [
      ">",
      true,
    ]]);
  });

  await t.step("braces inside words are ordinary characters", () => {
    assertEquals(commands(clean("find {} a} {b $ x$")), [["find", "{}", "a}", "{b", "$", "x$"]]);
  });

  await t.step("CRLF line endings", () => {
    assertEquals(commands(clean("lsmod\r\nrun\r\n")), [["lsmod"], ["run"]]);
  });

  await t.step("empty input and comment-only input", () => {
    assertEquals(clean("").statements, []);
    assertEquals(clean("# nothing\n\n   \n;;\n").statements, []);
  });

  await t.step("keywords are keywords only as the first bare word", () => {
    assertEquals(commands(clean("echo let for include\n'let' x = 1\nletx = 1\nformat")), [
      ["echo", "let", "for", "include"],
      ["let", "x", "=", "1"],
      ["letx", "=", "1"],
      ["format"],
    ]);
  });
});

Deno.test("parse() reads let, for and include with spans", async (t) => {
  await t.step("let NAME = VALUE", () => {
    const text = 'let mac = "52:54:00:${n}"';
    const s = clean(text).statements[0];
    assert(s?.kind === "let");
    assertEquals(s.name, "mac");
    assertEquals(slice(text, s.keywordSpan), "let");
    assertEquals(slice(text, s.nameSpan), "mac");
    assertEquals(slice(text, s.value.span), '"52:54:00:${n}"');
    assertEquals(slice(text, s.span), text);
  });

  await t.step("let without blanks around `=`", () => {
    const s = clean("let n=4").statements[0];
    assert(s?.kind === "let");
    assertEquals([s.name, literal(s.value)], ["n", "4"]);
  });

  await t.step("for over a range, body spanning lines", () => {
    const text = "for i in 1..${n} {\n  vdpa dev add name vdpa${i} mgmtdev vdpasim_net\n  run\n}\n";
    const s = clean(text).statements[0];
    assert(s?.kind === "for");
    assertEquals(s.variable, "i");
    assertEquals(s.items.map(literal), ["1..${n}"]);
    assertEquals(slice(text, s.span), text.trimEnd());
    assertEquals(s.body.map((b) => b.kind), ["command", "command"]);
    assertEquals(slice(text, s.openSpan), "{");
    assertEquals(s.closeSpan.start, text.length - 2);
  });

  await t.step("for over a list, on one line, nested", () => {
    const text = "for vm in vm1 vm2 { for q in rx0 tx0 { show vq ${vm}.eth0 ${q} } }";
    const s = clean(text).statements[0];
    assert(s?.kind === "for");
    assertEquals(s.items.map(literal), ["vm1", "vm2"]);
    const inner = s.body[0];
    assert(inner?.kind === "for");
    assertEquals(inner.items.map(literal), ["rx0", "tx0"]);
    assertEquals(commands({ source: SRC, statements: inner.body }), [[
      "show",
      "vq",
      "${vm}.eth0",
      "${q}",
    ]]);
  });

  await t.step("the block may open on a later line", () => {
    const s = clean("for i in a b   # the list\n\n{\n  run\n}").statements[0];
    assert(s?.kind === "for");
    assertEquals(s.body.length, 1);
  });

  await t.step("include PATH", () => {
    const text = 'include "common.vdpa" # shared setup';
    const s = clean(text).statements[0];
    assert(s?.kind === "include");
    assertEquals(literal(s.path), "common.vdpa");
    assertEquals(slice(text, s.span), 'include "common.vdpa"');
  });

  await t.step("every span nests inside its parent", () => {
    const text = [
      "let n = 2",
      "for i in 1..${n} {",
      '  vdpa dev add name "vdpa${i}" mgmtdev vdpasim_net \\',
      "    mac 52:54:00:00:00:0${i}",
      "  for q in a b { echo ${q} >> /tmp/x; }",
      "}",
      "include ../common.vdpa",
    ].join("\n");
    checkTree(text, clean(text));
  });
});

/** Malformed inputs: the first diagnostic's code, line and column, and a piece of its help. */
const MALFORMED: [string, string, string, number, number, string][] = [
  [
    "unterminated double quote",
    'modprobe "vdpa_sim_net',
    "E0001",
    1,
    10,
    'close the string with `"`',
  ],
  ["unterminated single quote", "echo 'abc\nrun", "E0001", 1, 6, "close the string with `'`"],
  ["`${` without `}`", "echo ${n", "E0002", 1, 6, "write `${n}`"],
  ["`${` with a blank inside", "echo ${a b}", "E0002", 1, 6, "write `${a}`"],
  ["invalid name in `${}`", "echo ${1x}", "E0003", 1, 8, "starts with a letter"],
  ["dash in `${}`", "echo ${vm-1}", "E0003", 1, 8, "starts with a letter"],
  ["empty `${}`", "echo x${}y", "E0003", 1, 7, "write the variable's name"],
  [
    "continuation at end of file",
    "run \\",
    "E0005",
    1,
    5,
    "continue the statement on the next line",
  ],
  ["continuation inside a word at end of file", "run ab\\", "E0005", 1, 7, "remove the `\\`"],
  ["unmatched `}`", "run\n}\n", "E0006", 2, 1, "open a block"],
  ["`}` after a closed block", "for i in a {\n}\n}", "E0006", 3, 1, "open a block"],
  ["unclosed `{`", "for i in 1..3 {\n  run\n", "E0007", 1, 15, "add `}`"],
  ["`}` glued to a word", "for i in 1..3 {run}", "E0007", 1, 15, "stands alone"],
  ["stray `{`", "run {\n", "E0008", 1, 5, "quote it"],
  ["let without `=`", "let x 4", "E0009", 1, 7, "write `let x = VALUE`"],
  ["let with a name only", "let x\n", "E0009", 1, 6, "write `let x = VALUE`"],
  ["let alone", "let", "E0010", 1, 1, "write `let NAME = VALUE`"],
  ["let without a name", "let = 3", "E0010", 1, 1, "write `let NAME = VALUE`"],
  ["let without a value", "let x =\nrun", "E0011", 1, 7, 'let x = ""'],
  ["let with two words", "let x = a b", "E0012", 1, 11, "quote a value with blanks"],
  ["let with an invalid name", "let 1x = 3", "E0003", 1, 5, "starts with a letter"],
  ["for without a variable", "for in 1..3 {\n}", "E0013", 1, 1, "write `for NAME in ITEMS {`"],
  ["for without `in`", "for i 1..3 {\n}", "E0014", 1, 7, "write `for i in ITEMS {`"],
  ["for with nothing after `in`", "for i in {\n}", "E0015", 1, 7, "give a range"],
  ["for without `{`", "for i in 1..3\nrun", "E0016", 1, 14, "write the body as a block"],
  ["for with an invalid variable", "for 1x in a {\n}", "E0003", 1, 5, "starts with a letter"],
  ["include without a path", "include\nrun", "E0017", 1, 1, 'include "common.vdpa"'],
  ["include with two paths", "include a.vdpa b.vdpa", "E0018", 1, 16, "quote a path with blanks"],
  [
    "blocks nested too deeply",
    "for i in a {\n".repeat(65) + "}\n".repeat(65),
    "E0019",
    65,
    12,
    "flatten",
  ],
  ["`$name` without braces", "echo $HOME", "W0001", 1, 6, "write `${HOME}`"],
  ["error on a later line", 'run\nrun\n  echo "${x"', "E0002", 3, 9, "write `${x}`"],
];

Deno.test("parse() reports malformed input at the exact place, with help", async (t) => {
  for (const [name, text, code, line, column, help] of MALFORMED) {
    await t.step(name, () => {
      const r = parse(text, { source: SRC });
      const d = r.diagnostics[0];
      assert(d, `no diagnostic for ${JSON.stringify(text)}`);
      const primary = d.labels.find((l) => l.primary);
      assert(primary, "a primary label");
      const pos = new SourceFile(SRC, text).position(primary.span.start);
      assertEquals([d.code, pos.line, pos.column], [code, line, column], d.message);
      assert(d.help.some((h) => h.includes(help)), `help ${JSON.stringify(d.help)} lacks ${help}`);
      assert(d.message === d.message.trim() && !d.message.endsWith("."), "rustc wording");
      assert(primary.message !== "", "the primary label says something");
    });
  }
});

Deno.test("parse() keeps going after an error and reports every one", () => {
  const text = [
    "modprobe vdpa_sim_net", // fine
    'echo "unterminated', // E0001: the quote ends at the end of the line for recovery
    "let = 3", // E0010
    "lsmod", // fine
    "}", // E0006
    "for i 1..2 {", // E0014
    "  show ${1x}", // E0003
    "}",
    "let ok = 1", // fine
    "include", // E0017
    "run", // fine
  ].join("\n");
  const r = parse(text, { source: SRC });
  const f = new SourceFile(SRC, text);
  const found = r.diagnostics.map((d) => {
    const s = d.labels.find((l) => l.primary)?.span;
    return `${d.code}@${s ? f.position(s.start).line : "?"}`;
  });
  assertEquals(found, ["E0001@2", "E0010@3", "E0006@5", "E0014@6", "E0003@7", "E0017@10"]);
  assertEquals(commands(r.program), [["modprobe", "vdpa_sim_net"], ["lsmod"], ["<let>"], ["run"]]);
  // The unterminated quote makes the input incomplete (the REPL would ask for more).
  assertEquals(r.incomplete, true);
});

Deno.test("parse() says when input is incomplete, for the REPL", async (t) => {
  const cases: [string, boolean][] = [
    ['echo "abc', true],
    ["echo 'abc\ndef", true],
    ["for i in 1..3 {", true],
    ["for i in 1..3 {\n  run\n", true],
    ["for i in 1..3", true],
    ["for i in 1..3   # the body follows\n", true],
    ["run \\", true],
    ["for i in a {\n  for j in b {\n  }\n", true],
    ['echo "abc\ndef"', false],
    ["for i in 1..3 {\n}", false],
    ["let x =", false],
    ["}", false],
    ["echo ${x", false],
    ["for i in 1..3\nrun", false],
    ["run \\\n", false],
    ["", false],
  ];
  for (const [text, incomplete] of cases) {
    await t.step(JSON.stringify(text), () => {
      assertEquals(parse(text, { source: "<repl:1>" }).incomplete, incomplete);
    });
  }
});

Deno.test("parse() reports the whole unclosed block with the loop that opened it", () => {
  const text = "run\nfor vm in vm1 vm2 {\n  show stats\n";
  const d = parse(text, { source: SRC }).diagnostics[0];
  assert(d);
  assertEquals(d.code, "E0007");
  assertEquals(d.labels.map((l) => [slice(text, l.span), l.primary]), [
    ["{", true],
    ["for vm in vm1 vm2", false],
  ]);
});

Deno.test("parse() bounds the nesting of blocks so no input exhausts the stack", () => {
  const nested = (n: number) => "for i in a {\n".repeat(n) + "run\n" + "}\n".repeat(n);
  const ok64 = parse(nested(MAX_BLOCK_DEPTH), { source: SRC });
  assertEquals(ok64.diagnostics, []);
  let s = ok64.program.statements[0];
  let depth = 0;
  while (s?.kind === "for") {
    depth++;
    s = s.body[0];
  }
  assertEquals([depth, s?.kind], [MAX_BLOCK_DEPTH, "command"]);
  for (const n of [MAX_BLOCK_DEPTH + 1, 100_000]) {
    const r = parse(nested(n), { source: SRC });
    // One error, not one per enclosing loop: the rest of the input is not read.
    assertEquals(r.diagnostics.map((d) => d.code), ["E0019"]);
    assertEquals([r.program.statements, r.incomplete], [[], false]);
  }
});

Deno.test("parse() never throws and keeps spans nested, whatever the input", () => {
  const tokens = [
    " ",
    "\t",
    "\n",
    "\r\n",
    "\\",
    "\\\n",
    '"',
    "'",
    "$",
    "${",
    "}",
    "{",
    "#",
    ";",
    ">",
    ">>",
    "=",
    ">=",
    "a",
    "x1",
    "1..3",
    "let ",
    "for ",
    " in ",
    "include ",
    "${n}",
    "é",
    "中",
    "\u{1F600}",
  ];
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 40 }), (parts) => {
      const text = parts.join("");
      const r = parse(text, { source: SRC });
      checkTree(text, r.program);
      for (const d of r.diagnostics) {
        for (const l of d.labels) {
          assert(l.span.start >= 0 && l.span.start <= l.span.end && l.span.end <= text.length);
        }
      }
    }),
    { numRuns: 3000 },
  );
});

Deno.test("parse() round-trips any text through quoting", async (t) => {
  const anyText = fc.string({ unit: "binary", maxLength: 30 });
  await t.step('double quotes with \\ " $ escaped', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const quoted = `"${s.replace(/["\\$]/g, (c) => `\\${c}`)}"`;
        const text = `echo ${quoted}`;
        const r = parse(text, { source: SRC });
        const c = r.program.statements[0];
        assert(c?.kind === "command", `${JSON.stringify(text)}: ${r.diagnostics[0]?.message}`);
        assertEquals(c.words.length, 2);
        assertEquals(literal(c.words[1] as Word), s);
        checkTree(text, r.program);
      }),
    );
  });
  await t.step("single quotes", () => {
    fc.assert(
      fc.property(anyText.filter((s) => !s.includes("'")), (s) => {
        const r = parse(`echo '${s}'`, { source: SRC });
        const c = r.program.statements[0];
        assert(c?.kind === "command");
        assertEquals(literal(c.words[1] as Word), s);
      }),
    );
  });
  await t.step("bare words with every character escaped", () => {
    fc.assert(
      fc.property(anyText.filter((s) => s.length > 0 && !s.includes("\n")), (s) => {
        const escaped = [...s].map((ch) => `\\${ch}`).join("");
        const r = parse(`echo ${escaped}`, { source: SRC });
        const c = r.program.statements[0];
        assert(c?.kind === "command", r.diagnostics[0]?.message);
        assertEquals(c.words.length, 2);
        assertEquals(literal(c.words[1] as Word), s);
      }),
    );
  });
});
