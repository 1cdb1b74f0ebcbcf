/**
 * `show graph`: the I/O stack drawn in the terminal with box-drawing characters, from the
 * {@link Topology} model. One column per lane (a guest interface, a host consumer, a port of
 * a switch), the layers top to bottom — guest driver, virtqueues, device model or backend,
 * bus, device, switch, NIC, IOMMU, wire — one row of boxes each; a node that several lanes
 * share (a bridge, OVS, testpmd, the IOMMU) is one box across their columns. The connector
 * under a box carries the label of the edge it starts: the notify and interrupt paths under
 * the virtqueues. A component that is down is drawn with dashed lines.
 *
 * @example Two guests joined by a bridge
 * ```ts
 * import { drawTopology } from "./draw.ts";
 * import type { Topology } from "./topology.ts";
 * const node = (id: string, layer: "guest" | "device" | "switch") =>
 *   ({ id, layer, kind: layer, label: id, details: [], group: "host", up: true });
 * const t: Topology = {
 *   groups: [], processes: [],
 *   nodes: [node("vm1.eth0", "guest"), node("vm2.eth0", "guest"), node("br0", "switch")],
 *   lanes: [
 *     { id: "a", group: "host", nodes: ["vm1.eth0", "br0"] },
 *     { id: "b", group: "host", nodes: ["vm2.eth0", "br0"] },
 *   ],
 *   edges: [],
 * };
 * const lines = drawTopology(t).split("\n");
 * if (!lines.some((l) => l.includes("│ br0") && l.trimEnd().endsWith("│"))) throw new Error(lines.join("\n"));
 * if (lines.filter((l) => l.includes("┴")).length !== 1) throw new Error("one box, two lanes in");
 * ```
 *
 * @module
 */

import { layerIndex, type TopoLane, type Topology, type TopoNode } from "./topology.ts";

/** Columns between lanes. */
const GAP = 2;
/** Where a lane's vertical connector runs, from its left edge. */
const CONN = 3;
/** The narrowest lane. */
const MIN_WIDTH = 12;

/**
 * Orders lanes so that lanes sharing a node sit side by side: connected components in the
 * order of their first lane; inside one, each next lane is the one that shares the highest
 * node (the smallest layer) with the lane placed last, so that a switch's lanes stay together
 * before the lanes that meet it lower down (at the wire).
 */
function orderLanes(lanes: readonly TopoLane[], layerOf: (id: string) => number): TopoLane[] {
  const shared = (a: TopoLane, b: TopoLane): number => {
    let best = Infinity;
    for (const n of a.nodes) if (b.nodes.includes(n)) best = Math.min(best, layerOf(n));
    return best;
  };
  const left = [...lanes];
  const out: TopoLane[] = [];
  while (left.length > 0) {
    let current = left.shift() as TopoLane;
    out.push(current);
    const component = [current];
    for (;;) {
      let pick = -1;
      let pickLayer = Infinity;
      for (const from of [current, ...component]) {
        left.forEach((l, i) => {
          const layer = shared(from, l);
          if (layer < pickLayer) {
            pick = i;
            pickLayer = layer;
          }
        });
        if (pick >= 0) break;
      }
      if (pick < 0) break;
      current = left.splice(pick, 1)[0] as TopoLane;
      out.push(current);
      component.push(current);
    }
  }
  return out;
}

/** The drawing; see the module documentation. */
export function drawTopology(t: Topology): string {
  if (t.lanes.length === 0) return "(nothing to draw yet: no VM, vDPA device or host netdev)";
  const nodes = new Map(t.nodes.map((n) => [n.id, n]));
  const lanes = orderLanes(t.lanes, (id) => layerIndex((nodes.get(id) as TopoNode).layer));
  const used = [
    ...new Set(
      t.nodes.filter((n) => lanes.some((l) => l.nodes.includes(n.id)))
        .map((n) => layerIndex(n.layer)),
    ),
  ].sort((a, b) => a - b);
  const rowOf = (id: string) => used.indexOf(layerIndex((nodes.get(id) as TopoNode).layer));
  const edgeLabel = new Map(t.edges.map((e) => [`${e.from}\u0000${e.to}`, e.label]));
  /** Per lane: node id at each row. */
  const cells = lanes.map((l) => {
    const m = new Map<number, string>();
    for (const n of l.nodes) m.set(rowOf(n), n);
    return m;
  });
  const spans = new Map<string, number[]>();
  lanes.forEach((l, i) => {
    for (const n of l.nodes) spans.set(n, [...(spans.get(n) ?? []), i]);
  });
  // Widths: the lane's own boxes and connector labels; then shared boxes widen their span.
  const width = lanes.map((l) => {
    let w = MIN_WIDTH;
    for (const [k, n] of l.nodes.entries()) {
      if ((spans.get(n) as number[]).length === 1) {
        w = Math.max(w, (nodes.get(n) as TopoNode).label.length + 4);
      }
      const next = l.nodes[k + 1];
      const label = next !== undefined ? edgeLabel.get(`${n}\u0000${next}`) : undefined;
      if (label !== undefined) w = Math.max(w, CONN + 2 + label.length + 1);
    }
    return w;
  });
  for (const [id, ls] of spans) {
    if (ls.length < 2) continue;
    const a = Math.min(...ls), b = Math.max(...ls);
    let have = GAP * (b - a);
    for (let i = a; i <= b; i++) have += width[i] as number;
    const need = (nodes.get(id) as TopoNode).label.length + 4;
    if (need > have) width[b] = (width[b] as number) + need - have;
  }
  const x: number[] = [];
  let total = 0;
  for (const w of width) {
    x.push(total);
    total += w + GAP;
  }
  total -= GAP;
  const first = cells.map((c) => Math.min(...c.keys()));
  const last = cells.map((c) => Math.max(...c.keys()));
  const out: string[] = [];
  for (const g of t.groups) out.push(g.label);
  out.push("");
  for (let r = 0; r < used.length; r++) {
    const grid = [0, 1, 2].map(() => Array<string>(total).fill(" "));
    const done = new Set<string>();
    lanes.forEach((_, i) => {
      const id = cells[i]?.get(r);
      const cx = (x[i] as number) + CONN;
      if (id === undefined) {
        // A lane passing through a layer it has no node in.
        if (r > (first[i] as number) && r < (last[i] as number)) {
          for (const line of grid) line[cx] = "│";
        }
        return;
      }
      if (done.has(id)) return;
      done.add(id);
      const ls = (spans.get(id) as number[]).filter((k) => cells[k]?.get(r) === id);
      const a = Math.min(...ls), b = Math.max(...ls);
      const x0 = x[a] as number;
      const x1 = (x[b] as number) + (width[b] as number) - 1;
      const node = nodes.get(id) as TopoNode;
      const h = node.up ? "─" : "╌";
      const v = node.up ? "│" : "╎";
      const [top, mid, bottom] = grid as [string[], string[], string[]];
      for (let k = x0; k <= x1; k++) top[k] = bottom[k] = h;
      top[x0] = "┌";
      top[x1] = "┐";
      bottom[x0] = "└";
      bottom[x1] = "┘";
      mid[x0] = v;
      mid[x1] = v;
      const text = node.label.slice(0, x1 - x0 - 3);
      for (let k = 0; k < text.length; k++) mid[x0 + 2 + k] = text[k] as string;
      for (const k of ls) {
        const c = (x[k] as number) + CONN;
        if (r > (first[k] as number)) top[c] = "┴";
        if (r < (last[k] as number)) bottom[c] = "┬";
      }
    });
    for (const line of grid) out.push(line.join("").trimEnd());
    if (r === used.length - 1) break;
    const conn = Array<string>(total).fill(" ");
    lanes.forEach((l, i) => {
      if (r < (first[i] as number) || r >= (last[i] as number)) return;
      const cx = (x[i] as number) + CONN;
      conn[cx] = "│";
      const upper = cells[i]?.get(r);
      if (upper === undefined) return;
      const lower = l.nodes[l.nodes.indexOf(upper) + 1];
      const label = lower !== undefined ? edgeLabel.get(`${upper}\u0000${lower}`) : undefined;
      if (label === undefined) return;
      for (let k = 0; k < label.length && cx + 2 + k < total; k++) {
        conn[cx + 2 + k] = label[k] as string;
      }
    });
    out.push(conn.join("").trimEnd());
  }
  return out.join("\n");
}
