/**
 * Script input never throws: whatever words arrive, parseCommand returns a node or reports
 * diagnostics, and every diagnostic span lies inside the statement.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { Diagnostics } from "../diagnostic.ts";
import { spanContains } from "../span.ts";
import type { ExpandedWord } from "../word.ts";
import { KNOWN_PROGRAMS, parseCommand } from "./mod.ts";
import { LAB_KEYWORDS } from "./lab.ts";
import { wordsSpan } from "./cursor.ts";

const VOCABULARY = [
  ...KNOWN_PROGRAMS,
  ...LAB_KEYWORDS,
  "sudo",
  "-",
  "--",
  "-j",
  "-p",
  "dev",
  "mgmtdev",
  "add",
  "show",
  "name",
  "mac",
  "mtu",
  "qidx",
  "vstats",
  "link",
  "set",
  "tuntap",
  "mode",
  "tap",
  "type",
  "peer",
  "vf",
  "-netdev",
  "-device",
  "-chardev",
  "tap,id=n0",
  "socket,,server",
  ",",
  "=",
  ">",
  ">>",
  "|",
  "grep",
  "tee",
  "--vdev",
  "net_vhost0,iface=/x",
  "add-br",
  "--",
  "from",
  "to",
  "==",
  "packet",
  "size=64",
  "count=",
  "vm1..eth0",
  "0x300020000",
  "00:11:22:33:44:55",
];

const word = fc.oneof(
  fc.constantFrom(...VOCABULARY),
  fc.string({ maxLength: 12 }).filter((s) => s.length > 0 && !/\s/.test(s)),
);

function toWords(texts: string[]): ExpandedWord[] {
  const out: ExpandedWord[] = [];
  let at = 0;
  for (const text of texts) {
    out.push({ text, span: { source: "fuzz", start: at, end: at + text.length }, quoted: false });
    at += text.length + 1;
  }
  return out;
}

Deno.test("parseCommand never throws and keeps every span inside the statement", () => {
  fc.assert(
    fc.property(fc.array(word, { minLength: 1, maxLength: 14 }), (texts) => {
      const words = toWords(texts);
      const diags = new Diagnostics();
      const cmd = parseCommand(words, diags);
      const whole = wordsSpan(words);
      for (const d of diags.items) {
        for (const l of d.labels) {
          assert.ok(spanContains(whole, l.span), `${d.code} label outside: ${texts.join(" ")}`);
        }
        assert.ok(
          d.help.length > 0 || d.severity === "warning" || d.code.startsWith("E00"),
          `${d.code} without help`,
        );
      }
      if (cmd) assert.ok(spanContains(whole, cmd.span));
      else assert.ok(diags.hasErrors, `no node and no error for: ${texts.join(" ")}`);
    }),
    { numRuns: 3000, seed: 20261122 },
  );
});
