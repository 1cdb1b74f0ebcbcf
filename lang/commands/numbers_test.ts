import assert from "node:assert/strict";
import { firstMatch, matches } from "./matches.ts";
import { maxUnsigned, parseMac, parseUnsigned } from "./numbers.ts";

Deno.test("parseUnsigned follows strtoul's bases and the tools' range checks", () => {
  const u16 = { base: 10, max: maxUnsigned(16) } as const;
  assert.equal(parseUnsigned("0", u16), 0n);
  assert.equal(parseUnsigned("+7", u16), 7n);
  assert.equal(parseUnsigned("65535", u16), 65535n);
  for (const bad of ["65536", "-1", "", "1.0", "0x10", "1 ", "١"]) {
    assert.equal(parseUnsigned(bad, u16), undefined, bad);
  }
  const hex = { base: 16, max: maxUnsigned(64) } as const;
  assert.equal(parseUnsigned("0X1F", hex), 31n);
  assert.equal(parseUnsigned("ffffffffffffffff", hex), 2n ** 64n - 1n);
  assert.equal(parseUnsigned("0x", hex), undefined);
  const auto = { base: 0, max: maxUnsigned(32) } as const;
  assert.equal(parseUnsigned("010", auto), 8n);
  assert.equal(parseUnsigned("0x10", auto), 16n);
  assert.equal(parseUnsigned("09", auto), undefined);
});

Deno.test("parseMac takes six groups of one or two hex digits", () => {
  assert.equal(parseMac("52:54:00:12:34:56"), "52:54:00:12:34:56");
  assert.equal(parseMac("A:b:C:d:E:f"), "0a:0b:0c:0d:0e:0f");
  for (
    const bad of [
      "52:54:00:12:34",
      "52:54:00:12:34:56:78",
      "52-54-00-12-34-56",
      "52:54:00:12:34:5g",
      "::::::",
    ]
  ) {
    assert.equal(parseMac(bad), undefined, bad);
  }
});

Deno.test("matches() is iproute2's prefix rule, and the first keyword in order wins", () => {
  assert.equal(matches("d", "dev"), true);
  assert.equal(matches("dev", "dev"), true);
  assert.equal(matches("devs", "dev"), false);
  assert.equal(matches("", "dev"), false);
  assert.equal(firstMatch("de", ["delete", "dev"]), "delete");
  assert.equal(firstMatch("x", ["a", "b"]), undefined);
});
