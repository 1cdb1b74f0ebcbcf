import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { parseQuantity, type QuantityKind } from "./quantity.ts";
import { expandWord } from "./expand.ts";
import { parse } from "./parse.ts";
import { literalWord } from "./word.ts";

function q(text: string, expect?: readonly QuantityKind[]) {
  const w = literalWord(text, { source: "a.vdpa", start: 100, end: 100 + text.length });
  return parseQuantity(w, expect ? { expect } : {});
}

function value(text: string, expect?: readonly QuantityKind[]): [QuantityKind, number] {
  const r = q(text, expect);
  assert(r.quantity, `${text}: ${r.diagnostic?.message}`);
  assertEquals(r.quantity.text, text);
  return [r.quantity.kind, r.quantity.value];
}

Deno.test("parseQuantity() reads every documented form", async (t) => {
  const cases: [string, QuantityKind, number][] = [
    ["64", "count", 64],
    ["100000", "count", 100000],
    ["1_000_000", "count", 1_000_000],
    ["0x300020000", "count", 0x300020000],
    ["0X1f", "count", 31],
    ["1e12", "count", 1e12],
    ["2.5", "count", 2.5],
    ["1500B", "bytes", 1500],
    ["4K", "bytes", 4096],
    ["4k", "bytes", 4096],
    ["4KiB", "bytes", 4096],
    ["512M", "bytes", 512 * 2 ** 20],
    ["512m", "bytes", 512 * 2 ** 20],
    ["2G", "bytes", 2 * 2 ** 30],
    ["1.5G", "bytes", 1.5 * 2 ** 30],
    ["1GiB", "bytes", 2 ** 30],
    ["1T", "bytes", 2 ** 40],
    ["100ns", "time", 100],
    ["1.5us", "time", 1500],
    ["1.5\u00b5s", "time", 1500],
    ["10ms", "time", 10_000_000],
    ["2s", "time", 2e9],
    ["1e3ns", "time", 1000],
    ["1Mpps", "packet-rate", 1e6],
    ["500Kpps", "packet-rate", 5e5],
    ["14.88Mpps", "packet-rate", 14.88e6],
    ["10Gbps", "bit-rate", 1e10],
    ["25Gbps", "bit-rate", 25e9],
    ["100Mbps", "bit-rate", 1e8],
    ["line", "line", 1],
  ];
  for (const [text, kind, v] of cases) {
    await t.step(text, () => assertEquals(value(text), [kind, v]));
  }
});

Deno.test("parseQuantity() treats a plain number as bytes where only bytes fit", () => {
  assertEquals(value("64", ["bytes"]), ["bytes", 64]);
  assertEquals(value("64", ["count", "bytes"]), ["count", 64]);
  assertEquals(q("64.5", ["bytes"]).diagnostic?.code, "E0024");
});

Deno.test("parseQuantity() refuses malformed quantities, pointing into the word", async (t) => {
  const cases: [string, QuantityKind[] | undefined, string, string, string][] = [
    // text, expect, code, the text under the primary span, a piece of message or help
    ["fast", undefined, "E0020", "fast", "not a number"],
    ["-5", undefined, "E0020", "-5", "never negative"],
    ["", undefined, "E0020", "", "write a number"],
    ["10xs", undefined, "E0021", "xs", "unknown unit `xs`"],
    ["10mss", ["time"], "E0021", "mss", "did you mean `10ms`?"],
    ["10Gpbs", ["bit-rate"], "E0021", "Gpbs", "did you mean `10Gbps`?"],
    ["0x10K", undefined, "E0021", "K", "takes no unit"],
    ["4KB", undefined, "E0022", "KB", "write `4K` or `4KiB`"],
    ["2GB", ["bytes"], "E0022", "GB", "2·2^30"],
    ["512M", ["time"], "E0023", "512M", "expected a time"],
    ["10", ["time"], "E0023", "10", "add a unit"],
    ["1000", ["packet-rate", "line"], "E0023", "1000", "add a unit"],
    ["10ms", ["bytes"], "E0023", "10ms", "expected a byte size"],
    ["1.5B", undefined, "E0024", "1.5B", "not a whole number of bytes"],
    ["99999999999999999999", undefined, "E0024", "99999999999999999999", "too large"],
    ["0xffffffffffffffff", undefined, "E0024", "0xffffffffffffffff", "too large"],
    ["1e999", undefined, "E0024", "1e999", "too large"],
    ["9000000T", undefined, "E0024", "9000000T", "too large"],
  ];
  for (const [text, expect, code, under, says] of cases) {
    await t.step(`${JSON.stringify(text)} → ${code}`, () => {
      const d = q(text, expect).diagnostic;
      assert(d, `${text} should be refused`);
      assertEquals(d.code, code);
      const s = d.labels[0]?.span;
      assert(s);
      assertEquals(text.slice(s.start - 100, s.end - 100), under);
      assert(
        [d.message, ...d.help, d.labels[0]?.message].some((m) => m?.includes(says)),
        `${d.message} | ${d.help}`,
      );
    });
  }
});

Deno.test("parseQuantity() points at the unit inside an interpolated word", () => {
  const text = 'run "${n}xs"';
  const s = parse(text, { source: "a.vdpa" }).program.statements[0];
  assert(s?.kind === "command" && s.words[1]);
  const w = expandWord(s.words[1], new Map([["n", "10"]])).word;
  assert(w);
  const d = parseQuantity(w, { expect: ["time"], what: "the duration of `run`" }).diagnostic;
  assert(d);
  const span = d.labels[0]?.span;
  assert(span);
  assertEquals(text.slice(span.start, span.end), "xs");
});

Deno.test("parseQuantity() names what the value is for", () => {
  const d = q("fast", ["time"]).diagnostic;
  assertEquals(d?.message, "expected a time, found `fast`");
  const w = literalWord("1G", { source: "a", start: 0, end: 2 });
  const e = parseQuantity(w, { expect: ["time"], what: "`run`" }).diagnostic;
  assertEquals(e?.message, "expected a time for `run`, found a byte size `1G`");
});
