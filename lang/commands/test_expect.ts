/**
 * Assertions shared by the command parser tests: a statement that must parse cleanly, and one
 * that must fail with a given code.
 *
 * @example
 * ```ts
 * import { expectFailure, expectParse } from "./test_expect.ts";
 * const { cmd } = expectParse("lsmod");
 * if (cmd.kind !== "lsmod") throw new Error("lsmod expected");
 * const { d } = expectFailure("lsmod -v", "E0104");
 * if (d.code !== "E0104") throw new Error("E0104 expected");
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Diagnostic } from "../diagnostic.ts";
import type { Span } from "../span.ts";
import type { Command } from "./ast.ts";
import { parseForTest } from "./test_words.ts";

/** Parses `text`, asserting a node and no diagnostics at all (warnings included). */
export function expectParse(
  text: string,
  options: { warnings?: readonly string[] } = {},
): { cmd: Command; at: (s: Span) => string; warnings: readonly Diagnostic[] } {
  const r = parseForTest(text);
  const expected = options.warnings ?? [];
  assert.deepEqual(
    r.codes,
    expected,
    `diagnostics for ${text}: ${r.diags.items.map((d) => `${d.code} ${d.message}`).join("; ")}`,
  );
  assert.ok(r.cmd, `no node for ${text}`);
  return { cmd: r.cmd, at: r.at, warnings: r.diags.items };
}

/** Parses `text`, asserting no node and a diagnostic with `code` (returned). */
export function expectFailure(
  text: string,
  code: string,
): { d: Diagnostic; at: (s: Span) => string; all: readonly Diagnostic[] } {
  const r = parseForTest(text);
  assert.equal(r.cmd, undefined, `${text} should not parse`);
  const d = r.diags.items.find((x) => x.code === code);
  assert.ok(
    d,
    `${text}: expected ${code}, got ${
      r.diags.items.map((x) => `${x.code} ${x.message}`).join("; ")
    }`,
  );
  return { d, at: r.at, all: r.diags.items };
}

/** The source text under a diagnostic's primary label. */
export function primaryText(d: Diagnostic, at: (s: Span) => string): string {
  const l = d.labels.find((x) => x.primary);
  assert.ok(l, `${d.code} has no primary label`);
  return at(l.span);
}

/** `value`, asserting it is present (tests use it instead of `!`). */
export function must<T>(value: T | undefined | null, what = "value"): T {
  assert.ok(value !== undefined && value !== null, `${what} is missing`);
  return value;
}
