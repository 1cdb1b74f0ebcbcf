import assert from "node:assert/strict";
import { Diagnostics } from "../diagnostic.ts";
import { getopt, type OptSpec } from "./getopt.ts";
import { must } from "./test_expect.ts";
import { testWords } from "./test_words.ts";

const SPECS: readonly OptSpec[] = [
  { name: "lcores", short: "l", long: "lcores", arg: "required" },
  { name: "json", short: "j", long: "json" },
  { name: "pretty", short: "p", long: "pretty" },
  { name: "syslog", long: "syslog", arg: "optional" },
  { name: "socket-mem", long: "socket-mem", arg: "required" },
  { name: "socket-limit", long: "socket-limit", arg: "required" },
];

function run(line: string, permute = true) {
  const words = testWords(line).slice(1);
  const diags = new Diagnostics();
  const r = getopt(words, diags, { program: "prog", specs: SPECS, permute });
  const at = (s: { start: number; end: number }) => line.slice(s.start, s.end);
  return { r, diags, at };
}

Deno.test("getopt_long as glibc does it", async (t) => {
  await t.step("values: glued, next word, after `=`", () => {
    const { r, at } = run("prog -l0-3 -l 4 --lcores=5 --lcores 6");
    assert.deepEqual(r.options.map((o) => at(must(o.value).span)), ["0-3", "4", "5", "6"]);
    assert.deepEqual(r.options.map((o) => at(o.flag.span)), ["-l", "-l", "--lcores", "--lcores"]);
    assert.equal(at(must(r.options[1]).span), "-l 4");
  });

  await t.step("a cluster ends at an option with a value", () => {
    const { r, at } = run("prog -jpl2");
    assert.deepEqual(r.options.map((o) => o.spec.name), ["json", "pretty", "lcores"]);
    assert.equal(at(must(must(r.options[2]).value).span), "2");
  });

  await t.step("the value of an option may start with a dash", () => {
    const { r } = run("prog -l -j");
    assert.equal(must(r.options[0]).value?.value, "-j");
    assert.equal(r.options.length, 1);
  });

  await t.step("optional arguments only with `=`", () => {
    const { r } = run("prog --syslog x --syslog=local0");
    assert.equal(must(r.options[0]).value, undefined);
    assert.equal(must(r.options[1]).value?.value, "local0");
    assert.deepEqual(r.operands.map((w) => w.text), ["x"]);
  });

  await t.step("abbreviations: unique prefixes work, ambiguous ones do not", () => {
    assert.equal(must(run("prog --pre").r.options[0]).spec.name, "pretty");
    const { diags } = run("prog --socket=1");
    assert.equal(must(diags.items[0]).message, "ambiguous option `--socket` for `prog`");
    assert.deepEqual(must(diags.items[0]).notes, [
      "prog prints: prog: option '--socket' is ambiguous; possibilities: '--socket-mem' '--socket-limit'",
    ]);
  });

  await t.step("permutation, `--`, and stopping at the first operand", () => {
    const p = run("prog a -j b -- -p c");
    assert.deepEqual(p.r.operands.map((w) => w.text), ["a", "b", "-p", "c"]);
    assert.deepEqual(p.r.options.map((o) => o.spec.name), ["json"]);
    const s = run("prog -j a -p", false);
    assert.equal(s.r.stoppedAt, 1);
    assert.deepEqual(s.r.options.map((o) => o.spec.name), ["json"]);
  });

  await t.step("a quoted dash word is an operand", () => {
    const { r } = run("prog '-j'");
    assert.equal(r.options.length, 0);
    assert.equal(r.operands.length, 1);
  });

  await t.step("errors carry glibc's texts", () => {
    assert.deepEqual(must(run("prog -l").diags.items[0]).notes, [
      "prog prints: prog: option requires an argument -- 'l'",
    ]);
    assert.deepEqual(must(run("prog --lcores").diags.items[0]).notes, [
      "prog prints: prog: option '--lcores' requires an argument",
    ]);
    assert.deepEqual(must(run("prog --json=1").diags.items[0]).notes, [
      "prog prints: prog: option '--json' doesn't allow an argument",
    ]);
    assert.deepEqual(must(run("prog -jx").diags.items[0]).notes, [
      "prog prints: prog: invalid option -- 'x'",
    ]);
    const r = run("prog -jx");
    assert.equal(r.at(must(must(r.diags.items[0]).labels[0]).span), "x");
  });
});
