import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import fc from "fast-check";
import type { Word } from "./ast.ts";
import { expandWord, expandWords, MAX_WORD_LENGTH } from "./expand.ts";
import { parse } from "./parse.ts";
import { type ExpandedWord, sourceOffset, subSpan } from "./word.ts";

const SRC = "lab.vdpa";

function words(text: string): Word[] {
  const r = parse(text, { source: SRC });
  assertEquals(r.diagnostics.map((d) => d.message), []);
  const s = r.program.statements[0];
  assert(s?.kind === "command");
  return [...s.words];
}

function expand(text: string, vars: Record<string, string> = {}): ExpandedWord {
  const w = words(`x ${text}`)[1];
  assert(w);
  const r = expandWord(w, new Map(Object.entries(vars)));
  assert(r.word, r.diagnostic?.message);
  return r.word;
}

/** The source text under characters [from, to) of `w`. */
function under(text: string, w: ExpandedWord, from: number, to?: number): string {
  const s = subSpan(w, from, to);
  return `x ${text}`.slice(s.start, s.end);
}

Deno.test("expandWord() keeps each character's source offset", async (t) => {
  await t.step("a bare word is verbatim: no offsets table", () => {
    const w = expand("tap,id=n0,vhost=on");
    assertEquals(w.text, "tap,id=n0,vhost=on");
    assertEquals(w.offsets, undefined);
    assertEquals(under("tap,id=n0,vhost=on", w, 10), "vhost=on");
  });

  await t.step("quotes are removed, characters keep their place", () => {
    const text = `type=tap,"ifname=tap 0",'script=no'`;
    const w = expand(text);
    assertEquals(w.text, "type=tap,ifname=tap 0,script=no");
    assertEquals(w.quoted, true);
    assertEquals(under(text, w, 0, 8), "type=tap");
    assertEquals(under(text, w, 22), "script=no");
    // A range ends where the next character's source starts: a quote in between is included.
    assertEquals(under(text, w, 9, 21), 'ifname=tap 0"');
    // The end maps just past the last character, before the closing quote.
    assertEquals(sourceOffset(w, w.text.length), 2 + text.length - 1);
  });

  await t.step("an escaped character maps to its backslash", () => {
    const text = `a\\ b"\\"c\\""`;
    const w = expand(text);
    assertEquals(w.text, 'a b"c"');
    assertEquals(under(text, w, 1, 2), "\\ ");
    assertEquals(under(text, w, 3, 4), '\\"');
    assertEquals(under(text, w, 5, 6), '\\"');
  });

  await t.step("an interpolation's characters all map to its `$`", () => {
    const text = "net_vhost0,iface=/tmp/${vm}.sock,queues=${q}";
    const w = expand(text, { vm: "vm1", q: "2" });
    assertEquals(w.text, "net_vhost0,iface=/tmp/vm1.sock,queues=2");
    const i = w.text.indexOf("vm1");
    assertEquals(under(text, w, i, i + 3), "${vm}");
    assertEquals(under(text, w, i + 1, i + 2), "$"); // inside one interpolation: widened to one char
    assertEquals(under(text, w, i + 3, i + 8), ".sock");
    assertEquals(under(text, w, w.text.length - 1), "${q}");
    assertEquals(sourceOffset(w, w.text.length), 2 + text.length);
  });

  await t.step("interpolation inside double quotes", () => {
    const text = `"vdpa\${i}"`;
    const w = expand(text, { i: "10" });
    assertEquals(w.text, "vdpa10");
    assertEquals(under(text, w, 0, 4), "vdpa");
    assertEquals(under(text, w, 4, 6), "${i}");
    assertEquals(under(text, w, 4), "${i}");
  });

  await t.step("an empty value leaves a zero-width place at its `$`", () => {
    const text = "a${e}b";
    const w = expand(text, { e: "" });
    assertEquals(w.text, "ab");
    assertEquals(w.offsets, [2, 2 + 5, 2 + 6]);
  });

  await t.step("a value with blanks stays one word (no word splitting)", () => {
    const ws = words("ping ${peers}");
    const r = expandWords(ws, new Map([["peers", "vm1 vm2"]]));
    assert(r.words);
    assertEquals(r.words.map((w) => w.text), ["ping", "vm1 vm2"]);
  });

  await t.step("a continuation inside a word leaves no character", () => {
    const text = "virtio-net-pci,\\\nmq=on";
    const w = expand(text);
    assertEquals(w.text, "virtio-net-pci,mq=on");
    assertEquals(under(text, w, 15), "mq=on");
  });
});

Deno.test("expandWord() reports an undefined variable with a suggestion", async (t) => {
  await t.step("with a map of variables", () => {
    const w = words("x vm${idx}")[1];
    assert(w);
    const r = expandWord(w, new Map([["id", "1"], ["vm", "vm1"]]));
    const d = r.diagnostic;
    assert(d);
    assertEquals(d.code, "E0601");
    assertEquals(d.message, "undefined variable `idx`");
    assertEquals(d.labels[0]?.span, { source: SRC, start: 4, end: 10 });
    assertEquals(d.help, ["did you mean `id`?"]);
  });

  await t.step("with a lookup function and no candidates", () => {
    const w = words("x ${zzz}")[1];
    assert(w);
    const r = expandWord(w, () => undefined);
    assertEquals(r.diagnostic?.help, []);
  });

  await t.step("with a lookup function and the names given apart", () => {
    const w = words("x ${Count}")[1];
    assert(w);
    const r = expandWord(w, () => undefined, { names: () => ["count", "mount"] });
    assertEquals(r.diagnostic?.help, ["did you mean `count`?"]);
  });

  await t.step("a word too long once expanded is refused at the value that overflows", () => {
    const ws = words("echo ${big}-${big}");
    const big = "x".repeat(MAX_WORD_LENGTH / 2);
    const r = expandWords(ws, new Map([["big", big]]));
    assertEquals(r.diagnostics?.map((d) => [d.code, d.labels[0]?.span.start]), [["E0607", 12]]);
    const fits = expandWords(words("echo ${big}${big}"), new Map([["big", big]]));
    assertEquals(fits.words?.[1]?.text.length, MAX_WORD_LENGTH);
  });

  await t.step("every undefined variable of a statement is reported", () => {
    const r = expandWords(words("ping ${a}${b} ${c} ${n}"), new Map([["n", "1"]]));
    assertEquals(r.diagnostics?.map((d) => d.message), [
      "undefined variable `a`",
      "undefined variable `b`",
      "undefined variable `c`",
    ]);
  });
});

Deno.test("expandWord() offsets always point at the character or what produced it", () => {
  const piece = fc.oneof(
    fc.constantFrom("a", "b", "=", ",", "-", ".", "/", "#"),
    fc.constantFrom("\\ ", "\\\\", "\\;", "\\'", "\\$"),
    fc.constantFrom("'x y'", "''", '"p q"', '"\\""', '"\\$"', '"\\n"', '"${v}"', '"a${w}b"'),
    fc.constantFrom("${v}", "${w}", "${e}"),
  );
  const vars = new Map([["v", "VV"], ["w", "W W"], ["e", ""]]);
  fc.assert(
    fc.property(fc.array(piece, { minLength: 1, maxLength: 12 }), (pieces) => {
      const text = `x a${pieces.join("")}`;
      const r = parse(text, { source: SRC });
      const s = r.program.statements[0];
      assert(
        s?.kind === "command" && s.words.length === 2,
        `${text}: ${r.diagnostics[0]?.message}`,
      );
      const w = s.words[1];
      assert(w);
      const e = expandWord(w, vars).word;
      assert(e);
      const offsets = e.offsets ??
        [...Array(e.text.length + 1).keys()].map((i) => e.span.start + i);
      assertEquals(offsets.length, e.text.length + 1);
      for (let i = 0; i < e.text.length; i++) {
        const o = offsets[i] ?? -1;
        const src = text[o];
        assert(o >= w.span.start && o < w.span.end, `offset of char ${i} outside the word`);
        assert(src === e.text[i] || src === "\\" || src === "$", `char ${i} of ${text}`);
        if (i > 0) assert(o >= (offsets[i - 1] ?? 0));
      }
      const end = offsets[e.text.length] ?? -1;
      assert(end <= w.span.end && end >= (offsets[e.text.length - 1] ?? w.span.start));
    }),
    { numRuns: 2000 },
  );
});
