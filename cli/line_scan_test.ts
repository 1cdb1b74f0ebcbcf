import assert from "node:assert/strict";
import { scanLine } from "./line_scan.ts";

function words(text: string): string[] {
  return scanLine(text).words.map((w) => w.text);
}

Deno.test("scanLine: words of the statement under the cursor", async (t) => {
  await t.step("blanks separate words; the last one is the partial word", () => {
    const s = scanLine("vdpa dev ad");
    assert.deepEqual(s.words.map((w) => w.text), ["vdpa", "dev"]);
    assert.equal(s.partial.text, "ad");
    assert.equal(s.partial.start, 9);
  });
  await t.step("a trailing blank leaves an empty partial word at the end", () => {
    const s = scanLine("vdpa dev ");
    assert.equal(s.partial.text, "");
    assert.equal(s.partial.start, 9);
  });
  await t.step("`;`, a newline and a lone brace end a statement", () => {
    assert.deepEqual(words("modprobe a; lsmod x"), ["lsmod"]);
    assert.deepEqual(words("modprobe a\nlsmod x"), ["lsmod"]);
    assert.deepEqual(words("for i in a b {\n  ls x"), ["ls"]);
    assert.deepEqual(words("for i in a b { ls x"), ["ls"]);
    assert.deepEqual(words("for i in a b {\n}\nls x"), ["ls"]);
    assert.equal(scanLine("lsmod; ls").firstStatement, false);
    assert.equal(scanLine("   ls").firstStatement, true);
  });
  await t.step("a brace inside a word is a word character", () => {
    assert.deepEqual(words("echo a{b} x"), ["echo", "a{b}"]);
  });
  await t.step("`\\` + newline is a blank, not a statement end", () => {
    assert.deepEqual(words("qemu-kvm -m 4G \\\n  -netdev x"), ["qemu-kvm", "-m", "4G", "-netdev"]);
  });
  await t.step("an unquoted > is its own word, glued or not; >= is not", () => {
    assert.deepEqual(words("echo 1>/sys/x y"), ["echo", "1", ">", "/sys/x"]);
    assert.deepEqual(words("echo 1 >> /x y"), ["echo", "1", ">>", "/x"]);
    assert.deepEqual(words("expect t1.x >= 3 y"), ["expect", "t1.x", ">=", "3"]);
    assert.equal(scanLine("echo '>' x").words[1]?.quoted, true);
  });
});

Deno.test("scanLine: quotes, escapes and variables", async (t) => {
  await t.step("quotes are removed; an open quote is reported", () => {
    const s = scanLine("echo 'a b' \"c d\" 'e f");
    assert.deepEqual(s.words.map((w) => w.text), ["echo", "a b", "c d"]);
    assert.equal(s.partial.text, "e f");
    assert.equal(s.partial.quote, "'");
    assert.equal(s.partial.literalFrom, 18);
  });
  await t.step("a quote may span lines without ending the statement", () => {
    const s = scanLine("echo 'a\nb");
    assert.deepEqual(s.words.map((w) => w.text), ["echo"]);
    assert.equal(s.partial.text, "a\nb");
  });
  await t.step("escapes resolve, and completion may not replace across them", () => {
    const s = scanLine("ls a\\ b");
    assert.equal(s.partial.text, "a b");
    assert.equal(s.partial.literalFrom, 6);
    assert.equal(scanLine('echo "a\\"b').partial.text, 'a"b');
  });
  await t.step("${name} is kept as written and marks the word", () => {
    const s = scanLine("echo vdpa${i} x${n");
    assert.equal(s.words[1]?.text, "vdpa${i}");
    assert.equal(s.words[1]?.hasVar, true);
    assert.equal(s.partial.varName, "n");
    assert.equal(scanLine('echo "${').partial.varName, "");
  });
  await t.step("`#` starts a comment only at the start of a word", () => {
    assert.equal(scanLine("lsmod # x").inComment, true);
    assert.equal(scanLine("echo a#b").inComment, false);
    assert.equal(scanLine("echo '#' ").inComment, false);
    assert.deepEqual(words("# c\nls x"), ["ls"]);
  });
  await t.step("a trailing backslash leaves nothing to complete", () => {
    assert.equal(scanLine("ls \\").partial.text, "");
  });
});

Deno.test("scanLine: never throws on any text", () => {
  const alphabet = ["a", " ", "'", '"', "\\", "$", "{", "}", "\n", ";", "#", ">", "=", "|"];
  // Every string of up to 4 characters from the lexically interesting alphabet.
  const visit = (prefix: string, depth: number) => {
    const s = scanLine(prefix);
    assert.ok(s.partial.literalFrom <= prefix.length, prefix);
    assert.ok(s.partial.start <= prefix.length, prefix);
    if (depth === 0) return;
    for (const c of alphabet) visit(prefix + c, depth - 1);
  };
  visit("", 4);
});
