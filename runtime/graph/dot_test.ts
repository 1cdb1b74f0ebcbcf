import assert from "node:assert/strict";
import { dotString, topologyDot } from "./dot.ts";
import { sampleTopology } from "./testdata/sample.ts";

function hasDot(): boolean {
  try {
    return new Deno.Command("dot", { args: ["-V"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

Deno.test("dotString escapes quotes, backslashes and newlines", () => {
  assert.equal(dotString('a "b" \\ c\nd'), '"a \\"b\\" \\\\ c\\nd"');
});

Deno.test("topologyDot: a cluster per group, a rank per layer, labelled edges", () => {
  const dot = topologyDot(sampleTopology());
  assert.match(dot, /^digraph vdpa_lab \{\n {2}newrank=true;/);
  for (const g of ["vm1", "vm2", "vm3", "host"]) {
    assert.match(dot, new RegExp(`subgraph "cluster_${g}" \\{`));
  }
  assert.match(dot, /\{ rank=same; "vm1\.eth0"; "vm2\.eth0"; "vm3\.eth0"; \}/);
  assert.match(
    dot,
    /"vm1\.eth0\/vqs" -> "vm1\/n0" \[label="kick: ioeventfd, irq: irqfd → posted"\];/,
  );
  assert.match(dot, /"tap1" \[label="tap1 tap \(down\)", tooltip="tap1 details", style=dashed\];/);
  // The shared bridge is declared once, though two lanes pass through it.
  assert.equal(dot.split('"br0" [').length - 1, 1);
});

Deno.test({
  name: hasDot()
    ? "topologyDot renders with Graphviz dot -Tsvg, every node and edge drawn"
    : "topologyDot renders with Graphviz: SKIPPED because `dot` is not installed (.ci/run installs graphviz)",
  ignore: !hasDot(),
  fn: async () => {
    const t = sampleTopology();
    const child = new Deno.Command("dot", {
      args: ["-Tsvg"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(topologyDot(t)));
    await w.close();
    const out = await child.output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, err);
    assert.equal(err, "", "no warnings");
    const svg = new TextDecoder().decode(out.stdout);
    assert.match(svg, /<svg /);
    const nodes = [...svg.matchAll(/<g id="node\d+" class="node">/g)].length;
    const edges = [...svg.matchAll(/<g id="edge\d+" class="edge">/g)].length;
    assert.equal(nodes, t.nodes.length);
    assert.equal(edges, t.edges.length);
    assert.match(svg, /br0 &quot;lab&quot; bridge \\ test/);
  },
});
