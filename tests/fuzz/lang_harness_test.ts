// The fuzz harness itself: it must flag every broken promise it claims to check, and its
// inputs must be reproducible from their seed.
import assert from "node:assert/strict";
import { error, warning } from "../../lang/diagnostic.ts";
import { SourceMap } from "../../lang/span.ts";
import { loadCorpus, SEED_DIRS } from "./corpus.ts";
import { generateScript, mutate } from "./generators.ts";
import { campaignInput } from "./lang_campaign.ts";
import { checkScript, diagnosticProblems } from "./lang_harness.ts";
import { minimize } from "./minimize.ts";
import { Prng } from "./prng.ts";

function sources(): SourceMap {
  const s = new SourceMap();
  s.add("a.vdpa", "modprobe vdpa\n");
  return s;
}

Deno.test("diagnosticProblems accepts a located, well-coded diagnostic", () => {
  const d = error("E0201", "unknown module `vdpa`", {
    span: { source: "a.vdpa", start: 9, end: 13 },
    label: "not a module",
    secondary: [{ span: { source: "a.vdpa", start: 0, end: 14 }, message: "here" }],
  });
  assert.deepEqual(diagnosticProblems(d, sources(), true), []);
});

Deno.test("diagnosticProblems flags a label past the end of its source", () => {
  const d = error("E0201", "x", { span: { source: "a.vdpa", start: 9, end: 15 } });
  assert.match(diagnosticProblems(d, sources()).join("\n"), /past the end of a\.vdpa \(14 chars\)/);
});

Deno.test("diagnosticProblems flags a label in a source nobody registered", () => {
  const d = error("E0201", "x", { span: { source: "b.vdpa", start: 0, end: 1 } });
  assert.match(diagnosticProblems(d, sources()).join("\n"), /unknown source "b\.vdpa"/);
});

Deno.test("diagnosticProblems flags reversed and fractional spans", () => {
  for (const [start, end] of [[5, 4], [-1, 2], [1.5, 3]]) {
    const d = error("E0201", "x", { span: { source: "a.vdpa", start, end } as never });
    assert.match(diagnosticProblems(d, sources()).join("\n"), /malformed span/);
  }
});

Deno.test("diagnosticProblems flags codes outside [EW]dddd and a severity that disagrees", () => {
  assert.match(diagnosticProblems(error("E12", "x"), sources()).join(), /is not \[EW\]dddd/);
  assert.match(diagnosticProblems(error("X0001", "x"), sources()).join(), /is not \[EW\]dddd/);
  assert.match(diagnosticProblems(warning("E0001", "x"), sources()).join(), /severity warning/);
  assert.match(diagnosticProblems(error("E0001", ""), sources()).join(), /empty message/);
});

Deno.test("diagnosticProblems flags a primary label that is not first", () => {
  const span = { source: "a.vdpa", start: 0, end: 1 };
  const d = {
    ...error("E0001", "x"),
    labels: [{ span, message: "", primary: false }, { span, message: "", primary: true }],
  };
  assert.match(diagnosticProblems(d, sources()).join(), /primary label at position 1/);
});

Deno.test("checkScript finds nothing wrong in a script full of errors that are all diagnostics", async () => {
  const text = 'modprobe vdpasim_net\nqemu-system-x86_64 -m 4Q -netdev tap,vhost=maybe\nlet = 3\n"';
  for (const pipeline of ["interpreter", "session", "repl", "run"] as const) {
    assert.deepEqual(await checkScript(text, pipeline), []);
  }
});

Deno.test("fuzz inputs are the same for the same seed and index", () => {
  const corpus = loadCorpus();
  for (const i of [0, 1, 2, 3, 1000, 1001]) {
    assert.equal(campaignInput(9, i, corpus), campaignInput(9, i, corpus));
  }
  assert.notEqual(campaignInput(9, 0, corpus), campaignInput(10, 0, corpus));
  assert.equal(generateScript(new Prng(4)), generateScript(new Prng(4)));
});

Deno.test("the mutator changes its seed text", () => {
  const seed = "modprobe vdpa\nvdpa dev add name vdpa0 mgmtdev vdpasim_net\nrun\n";
  let changed = 0;
  for (let s = 0; s < 50; s++) if (mutate(seed, new Prng(s), [seed]) !== seed) changed++;
  assert.ok(changed >= 45, `${changed} of 50 mutations changed the text`);
});

Deno.test("the corpus holds every .vdpa file of the seed directories", () => {
  const names = loadCorpus().map((s) => s.name);
  for (const dir of SEED_DIRS) {
    const root = new URL(`../../${dir}/`, import.meta.url);
    for (const e of Deno.readDirSync(root)) {
      if (e.isFile && e.name.endsWith(".vdpa")) assert.ok(names.includes(`${dir}/${e.name}`));
    }
  }
});

Deno.test("minimize keeps the failure and drops the rest", async () => {
  const text = "modprobe vdpa\nqemu -m 4Q\nrun\nlsmod\n";
  const small = await minimize(text, (t) => t.includes("4Q"));
  assert.equal(small, "4Q");
});
