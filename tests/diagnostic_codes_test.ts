/**
 * The diagnostic code registries (tools/readme/codes.ts merges them) and the sources agree:
 * every code a source file reports is in exactly one registry, and every registered code is
 * reported somewhere. The tables that were only doc comments before (syntax, quantities, the
 * interpreter) are exercised code by code: an input that produces each one, with the severity
 * its row says.
 */

import assert from "node:assert/strict";
import { Interpreter } from "../lang/interpreter.ts";
import { INTERPRETER_CODES } from "../lang/interpreter.ts";
import { parse, SYNTAX_CODES } from "../lang/parse.ts";
import { parseQuantity, QUANTITY_CODES, type QuantityKind } from "../lang/quantity.ts";
import { literalWord } from "../lang/word.ts";
import { allCodes, CODE_REGISTRIES, type CodeRegistry } from "../tools/readme/codes.ts";

const ROOT = new URL("../", import.meta.url);

/** Non-test source files of the layers that report diagnostics, with their text. */
async function sources(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(dir: string): Promise<void> {
    for await (const e of Deno.readDir(new URL(dir, ROOT))) {
      const path = `${dir}${e.name}`;
      if (e.isDirectory) {
        if (e.name !== "__snapshots__" && e.name !== "testdata") await walk(`${path}/`);
      } else if (
        e.name.endsWith(".ts") && !e.name.endsWith("_test.ts") && !e.name.startsWith("test_")
      ) {
        out.set(path, await Deno.readTextFile(new URL(path, ROOT)));
      }
    }
  }
  for (const layer of ["lang/", "stdlib/", "runtime/", "cli/"]) await walk(layer);
  return out;
}

/** The codes written as string literals (`"E0301"`) in `text`. */
function reportedCodes(text: string): string[] {
  return [...text.matchAll(/["'`]([EW]\d{4})["'`]/g)].map((m) => m[1] as string);
}

Deno.test("every code the sources report is registered, and every registered code is reported", async () => {
  const registered = new Set(allCodes().map((c) => c.code));
  const reportedBy = new Map<string, string[]>();
  for (const [path, text] of await sources()) {
    for (const code of reportedCodes(text)) {
      reportedBy.set(code, [...(reportedBy.get(code) ?? []), path]);
    }
  }
  assert.ok(reportedBy.size > 100, "the scan sees the sources");
  const unregistered = [...reportedBy].filter(([c]) => !registered.has(c));
  assert.deepEqual(
    unregistered.map(([c, where]) => `${c} in ${[...new Set(where)].join(", ")}`),
    [],
    "register each in the table beside its emitter (" +
      CODE_REGISTRIES.map((r) => `${r.module} ${r.table}`).join(", ") +
      "), then run `deno task gen`",
  );
  assert.deepEqual(
    [...registered].filter((c) => !reportedBy.has(c)),
    [],
    "registered, never reported",
  );
});

Deno.test("reportedCodes() reads quoted codes only", () => {
  assert.deepEqual(reportedCodes(`error("E0301", x); warning('W0010'); \`E0405\`; E0999: {`), [
    "E0301",
    "W0010",
    "E0405",
  ]);
});

Deno.test("allCodes() refuses a code in two registries and a letter that contradicts the severity", () => {
  const a: CodeRegistry = {
    module: "a.ts",
    table: "A",
    codes: { E0001: { severity: "error", summary: "x" } },
  };
  const b: CodeRegistry = { ...a, module: "b.ts" };
  assert.throws(() => allCodes([a, b]), /E0001 is in a.ts and in b.ts/);
  const w: CodeRegistry = {
    module: "w.ts",
    table: "W",
    codes: { W0001: { severity: "error", summary: "x" } },
  };
  assert.throws(() => allCodes([w]), /W0001 has severity error/);
  assert.deepEqual(allCodes([a]).map((r) => r.module), ["a.ts"]);
});

Deno.test("every registry module exports its table under the name the registry gives", async () => {
  for (const r of CODE_REGISTRIES) {
    const mod = await import(new URL(r.module, ROOT).href) as Record<string, unknown>;
    assert.equal(mod[r.table], r.codes, `${r.module} exports ${r.table}`);
  }
});

/** An input for each syntax code, and the code it must produce. */
const SYNTAX_INPUTS: Readonly<Record<keyof typeof SYNTAX_CODES, string>> = {
  E0001: 'modprobe "vdpa\n',
  E0002: "echo ${name\n",
  E0003: "echo ${1x}\n",
  E0005: "modprobe vdpa \\",
  E0006: "run\n}\n",
  E0007: "for i in 1..2 {\n  run\n",
  E0008: "modprobe { vdpa }\n",
  E0009: "let n 4\n",
  E0010: "let = 4\n",
  E0011: "let n =\n",
  E0012: "let n = 4 5\n",
  E0013: "for in 1..2 { run }\n",
  E0014: "for i 1..2 { run }\n",
  E0015: "for i in { run }\n",
  E0016: "for i in 1..2\n",
  E0017: "include\n",
  E0018: "include a.vdpa b.vdpa\n",
  E0019: "for i in 1..2 {\n".repeat(65) + "}\n".repeat(65),
  W0001: "echo $name\n",
};

for (const [code, info] of Object.entries(SYNTAX_CODES)) {
  Deno.test(`parse() reports ${code} (${info.summary}) as ${info.severity}`, () => {
    const input = SYNTAX_INPUTS[code as keyof typeof SYNTAX_CODES];
    const d = parse(input, { source: "a.vdpa" }).diagnostics.find((x) => x.code === code);
    assert.ok(d, `${code} for ${JSON.stringify(input.slice(0, 40))}`);
    assert.equal(d.severity, info.severity);
  });
}

/** A word for each quantity code, with the kinds expected where it is read. */
const QUANTITY_INPUTS: Readonly<
  Record<keyof typeof QUANTITY_CODES, readonly [string, readonly QuantityKind[] | undefined]>
> = {
  E0020: ["fast", undefined],
  E0021: ["10parsecs", undefined],
  E0022: ["2MB", undefined],
  E0023: ["64B", ["time"]],
  E0024: ["1.5B", undefined],
};

for (const [code, info] of Object.entries(QUANTITY_CODES)) {
  Deno.test(`parseQuantity() reports ${code} (${info.summary})`, () => {
    const [text, expect] = QUANTITY_INPUTS[code as keyof typeof QUANTITY_CODES];
    const word = literalWord(text, { source: "a.vdpa", start: 0, end: text.length });
    const r = parseQuantity(word, expect ? { expect } : {});
    assert.equal(r.diagnostic?.code, code, text);
    assert.equal(r.diagnostic.severity, info.severity);
  });
}

/** A script for each interpreter code (run in check mode, includes read from `files`). */
const INTERPRETER_INPUTS: Readonly<Record<keyof typeof INTERPRETER_CODES, string>> = {
  E0601: "echo ${nosuch}\n",
  E0602: "for i in 1..1001 { run }\n",
  E0603: 'include "missing.vdpa"\n',
  E0604: 'include "self.vdpa"\n',
  E0605: "for i in 1..99999999999999999999 { run }\n",
  E0606: "let HOST = x\n",
  E0607: 'let a = "' + "x".repeat(5000) + '"\n' + "let b = " + "${a}".repeat(400) + "\n",
  E0608: 'include "d0.vdpa"\n',
};

/** d0.vdpa includes d1.vdpa, … : a chain deeper than the interpreter's include limit. */
const INCLUDE_CHAIN = Object.fromEntries(
  Array.from({ length: 100 }, (_, i) => [`d${i}.vdpa`, `include "d${i + 1}.vdpa"\n`]),
);

for (const [code, info] of Object.entries(INTERPRETER_CODES)) {
  Deno.test(`the interpreter reports ${code} (${info.summary})`, async () => {
    const files: Record<string, string> = {
      "self.vdpa": 'include "self.vdpa"\n',
      ...INCLUDE_CHAIN,
    };
    const lab = new Interpreter({
      mode: "check",
      executor: () => {},
      maxIterations: 1000,
      variables: [["HOST", "lab"]],
      readFile: (p) =>
        Promise.resolve(
          p in files ? { text: files[p] as string } : { error: "No such file or directory" },
        ),
    });
    const r = await lab.runText(
      INTERPRETER_INPUTS[code as keyof typeof INTERPRETER_CODES],
      "main.vdpa",
    );
    const d = r.diagnostics.find((x) => x.code === code);
    assert.ok(d, `${code}: got ${r.diagnostics.map((x) => x.code).join(", ")}`);
    assert.equal(d.severity, info.severity);
  });
}
