/**
 * `export graph to F.dot`: the {@link Topology} as Graphviz DOT — one cluster per VM (the
 * guest and what runs in its QEMU) and one for the host, nodes of a layer on one rank
 * (`newrank` lets ranks cross clusters), edges top to bottom with their labels, components
 * that are down dashed. `dot -Tsvg` renders it.
 *
 * @example
 * ```ts
 * import { topologyDot } from "./dot.ts";
 * const dot = topologyDot({
 *   groups: [{ id: "host", kind: "host", label: "host" }],
 *   nodes: [{ id: "tap0", layer: "device", kind: "tap", label: "tap0 tap", details: [], group: "host", up: false }],
 *   lanes: [{ id: "tap0", group: "host", nodes: ["tap0"] }],
 *   edges: [],
 *   processes: [],
 * });
 * if (!dot.includes('"tap0" [label="tap0 tap", style=dashed]')) throw new Error(dot);
 * ```
 *
 * @module
 */

import { layerIndex, TOPO_LAYERS, type Topology } from "./topology.ts";

/** A DOT double-quoted string. */
export function dotString(s: string): string {
  return `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`;
}

/** The DOT text; see the module documentation. */
export function topologyDot(t: Topology): string {
  const lines = [
    "digraph vdpa_lab {",
    "  newrank=true;",
    "  rankdir=TB;",
    '  node [shape=box, fontname="monospace"];',
    '  edge [fontname="monospace", fontsize=10];',
  ];
  const placed = new Set(t.lanes.flatMap((l) => l.nodes));
  const nodes = t.nodes.filter((n) => placed.has(n.id));
  for (const g of t.groups) {
    const members = nodes.filter((n) => n.group === g.id);
    if (members.length === 0) continue;
    lines.push(`  subgraph ${dotString(`cluster_${g.id}`)} {`, `    label=${dotString(g.label)};`);
    for (const n of members) {
      const attrs = [`label=${dotString(n.label)}`];
      if (n.details.length > 0) attrs.push(`tooltip=${dotString(n.details.join("\n"))}`);
      if (!n.up) attrs.push("style=dashed");
      lines.push(`    ${dotString(n.id)} [${attrs.join(", ")}];`);
    }
    lines.push("  }");
  }
  for (const layer of TOPO_LAYERS) {
    const same = nodes.filter((n) => layerIndex(n.layer) === layerIndex(layer));
    if (same.length > 1) {
      lines.push(`  { rank=same; ${same.map((n) => `${dotString(n.id)};`).join(" ")} }`);
    }
  }
  for (const e of t.edges) {
    lines.push(
      `  ${dotString(e.from)} -> ${dotString(e.to)}${
        e.label !== undefined ? ` [label=${dotString(e.label)}]` : ""
      };`,
    );
  }
  lines.push("}");
  return lines.join("\n");
}
