import assert from "node:assert/strict";
import { mermaidString, topologyMermaid } from "./mermaid.ts";
import { checkMermaid } from "./mermaid_check.ts";
import { sampleTopology } from "./testdata/sample.ts";

Deno.test("mermaidString quotes a label and escapes its quotes", () => {
  assert.equal(mermaidString('say "hi"'), '"say #quot;hi#quot;"');
});

Deno.test("topologyMermaid: well formed, a subgraph per group, every node and edge once", () => {
  const t = sampleTopology();
  const mmd = topologyMermaid(t);
  assert.deepEqual(checkMermaid(mmd), []);
  assert.equal(mmd.split("\n").filter((l) => /^\s+n\d+\[/.test(l)).length, t.nodes.length);
  assert.equal(
    mmd.split("\n").filter((l) => l.includes(" --> ") || l.includes(" -->|")).length,
    t.edges.length,
  );
  assert.equal(mmd.split("\n").filter((l) => l.trim().startsWith("subgraph ")).length, 4);
  assert.match(mmd, /n\d+\["tap1 tap \(down\)"\]:::down/);
  assert.match(mmd, /-->\|"vhost-vdpa #quot;ioctls#quot;"\|/);
});

Deno.test("checkMermaid finds what would break a renderer", () => {
  const problems = checkMermaid(
    'flowchart TB\n  subgraph g0["a"]\n    end["keyword"]\n    n1["x"]\n    n1["again"]\n  n1 --> n7',
  );
  assert.ok(problems.some((p) => p.includes("invalid id `end`")), problems.join());
  assert.ok(problems.some((p) => p.includes("`n1` declared twice")), problems.join());
  assert.ok(problems.some((p) => p.includes("`n7` is not declared")), problems.join());
  assert.ok(problems.some((p) => p.includes("without `end`")), problems.join());
});
