/**
 * `show topology`: the {@link Topology} as indented text, group by group (each VM, then the
 * host), one lane at a time from its top node down: each node's label with its details
 * under it, `->` before each node below the first, the edge's label (notify path, socket,
 * system call) in brackets. A node already printed (a bridge two lanes share) is named
 * again without its details. The host's processes come last, as `kill` knows them.
 *
 * @example
 * ```ts
 * import { topologyText } from "./text.ts";
 * const text = topologyText({
 *   groups: [{ id: "host", kind: "host", label: "host: 16 cores" }],
 *   nodes: [
 *     { id: "tap0", layer: "device", kind: "tap", label: "tap0 tap", details: ["mtu 1500"], group: "host", up: true },
 *     { id: "br0", layer: "switch", kind: "bridge", label: "br0 Linux bridge", details: [], group: "host", up: true },
 *   ],
 *   lanes: [{ id: "tap0", group: "host", nodes: ["tap0", "br0"] }],
 *   edges: [{ from: "tap0", to: "br0", label: "port" }],
 *   processes: [{ pid: 4100, command: "qemu-system-x86_64", name: "vm1" }],
 * });
 * if (text !== "host: 16 cores\n  tap0 tap\n      mtu 1500\n  -> [port] br0 Linux bridge\nprocesses:\n  4100 qemu-system-x86_64 (vm1)") throw new Error(text);
 * ```
 *
 * @module
 */

import type { Topology, TopoNode } from "./topology.ts";

/** The text; see the module documentation. */
export function topologyText(t: Topology): string {
  const nodes = new Map(t.nodes.map((n) => [n.id, n]));
  const labels = new Map(t.edges.map((e) => [`${e.from}\u0000${e.to}`, e.label]));
  const printed = new Set<string>();
  const out: string[] = [];
  for (const g of t.groups) {
    const lanes = t.lanes.filter((l) => l.group === g.id);
    if (lanes.length === 0 && g.kind !== "host") {
      out.push(g.label, "  (no network device)");
      continue;
    }
    out.push(g.label);
    for (const lane of lanes) {
      lane.nodes.forEach((id, k) => {
        const n = nodes.get(id) as TopoNode;
        const label = k > 0 ? labels.get(`${lane.nodes[k - 1]}\u0000${id}`) : undefined;
        const head = k === 0 ? "  " : `  -> ${label !== undefined ? `[${label}] ` : ""}`;
        const again = printed.has(id);
        out.push(`${head}${n.label}${again && n.details.length > 0 ? " (above)" : ""}`);
        if (!again) { for (const d of n.details) out.push(`      ${d}`); }
        printed.add(id);
      });
    }
  }
  if (t.processes.length > 0) {
    out.push("processes:");
    for (const p of t.processes) out.push(`  ${p.pid} ${p.command} (${p.name})`);
  }
  return out.join("\n");
}
