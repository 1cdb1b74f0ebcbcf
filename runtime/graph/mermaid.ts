/**
 * `export graph to F.mmd`: the {@link Topology} as a Mermaid flowchart (top to bottom), one
 * subgraph per VM and one for the host. Node ids are `n0`, `n1` … in model order (Mermaid ids
 * are plain words, and `end` is a keyword); labels are quoted with `"` as `#quot;`; edge
 * labels ride on the arrow; components that are down get the `down` class (dashed).
 *
 * @example
 * ```ts
 * import { topologyMermaid } from "./mermaid.ts";
 * const mmd = topologyMermaid({
 *   groups: [{ id: "host", kind: "host", label: "host" }],
 *   nodes: [
 *     { id: "a", layer: "device", kind: "tap", label: 'say "hi"', details: [], group: "host", up: true },
 *     { id: "b", layer: "switch", kind: "bridge", label: "br0", details: [], group: "host", up: true },
 *   ],
 *   lanes: [{ id: "a", group: "host", nodes: ["a", "b"] }],
 *   edges: [{ from: "a", to: "b", label: "port" }],
 *   processes: [],
 * });
 * if (!mmd.includes('n0["say #quot;hi#quot;"]') || !mmd.includes('n0 -->|"port"| n1')) throw new Error(mmd);
 * ```
 *
 * @module
 */

import type { Topology } from "./topology.ts";

/** A Mermaid quoted label. */
export function mermaidString(s: string): string {
  return `"${s.replaceAll('"', "#quot;").replaceAll("\n", "<br>")}"`;
}

/** The Mermaid text; see the module documentation. */
export function topologyMermaid(t: Topology): string {
  const placed = new Set(t.lanes.flatMap((l) => l.nodes));
  const nodes = t.nodes.filter((n) => placed.has(n.id));
  const ids = new Map(nodes.map((n, i) => [n.id, `n${i}`]));
  const lines = ["flowchart TB"];
  t.groups.forEach((g, k) => {
    const members = nodes.filter((n) => n.group === g.id);
    if (members.length === 0) return;
    lines.push(`  subgraph g${k}[${mermaidString(g.label)}]`);
    for (const n of members) {
      lines.push(`    ${ids.get(n.id)}[${mermaidString(n.label)}]${n.up ? "" : ":::down"}`);
    }
    lines.push("  end");
  });
  for (const e of t.edges) {
    const from = ids.get(e.from), to = ids.get(e.to);
    if (from === undefined || to === undefined) continue;
    lines.push(`  ${from} -->${e.label !== undefined ? `|${mermaidString(e.label)}|` : ""} ${to}`);
  }
  lines.push("  classDef down stroke-dasharray: 5 5");
  return lines.join("\n");
}
