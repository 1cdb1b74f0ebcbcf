import assert from "node:assert/strict";
import { drawTopology } from "./draw.ts";
import { sampleTopology } from "./testdata/sample.ts";
import type { Topology } from "./topology.ts";

/** The drawing below the group lines, as a grid of characters. */
function grid(t: Topology): string[] {
  const lines = drawTopology(t).split("\n");
  return lines.slice(lines.indexOf("") + 1);
}

/** Columns of the box that holds `label` on its middle line. */
function boxAt(g: string[], label: string): { row: number; x0: number; x1: number } {
  const row = g.findIndex((l) => l.includes(`│ ${label}`) || l.includes(`╎ ${label}`));
  assert.ok(row > 0, `no box for ${label}`);
  const line = g[row] as string;
  const x0 = line.indexOf(label) - 2;
  const x1 = [...line].findIndex((c, i) =>
    i > x0 && (c === "│" || c === "╎") && i > x0 + label.length
  );
  return { row, x0, x1 };
}

Deno.test("drawTopology: the I/O stack in boxes, one column per lane", async (t) => {
  const g = grid(sampleTopology());

  await t.step("lanes that share a node sit side by side; the others come after", () => {
    const vm1 = boxAt(g, "vm1.eth0 virtio_net");
    const vm2 = boxAt(g, "vm2.eth0 virtio_net");
    const vm3 = boxAt(g, "vm3.eth0 virtio_net");
    assert.equal(vm1.row, vm2.row);
    assert.equal(vm1.row, vm3.row);
    assert.ok(vm1.x0 < vm2.x0 && vm2.x0 < vm3.x0, "vm1 and vm2 share br0; vm3 does not");
  });

  await t.step("a shared node is one box across the columns of its lanes", () => {
    const br = boxAt(g, 'br0 "lab" bridge \\ test');
    const vm1 = boxAt(g, "vm1.eth0 virtio_net");
    const nic = boxAt(g, "ens1f0 mlx5 25 Gbit/s");
    assert.equal(br.x0, vm1.x0, "from the first lane");
    assert.ok(br.x1 >= nic.x1, "to the last lane it joins");
    const top = g[br.row - 1] as string;
    assert.equal([...top].filter((c) => c === "┴").length, 2, "two lanes come in from above");
    const bottom = g[br.row + 1] as string;
    assert.equal([...bottom].filter((c) => c === "┬").length, 1, "one goes on below (the NIC)");
  });

  await t.step("every connector runs unbroken from its box down to the next", () => {
    // For each ┬ the column below reads │ (or a pass-through │) until a ┴.
    for (let r = 0; r < g.length; r++) {
      const line = g[r] as string;
      for (let x = 0; x < line.length; x++) {
        if (line[x] !== "┬") continue;
        let k = r + 1;
        while (k < g.length && (g[k] as string)[x] === "│") k++;
        assert.equal((g[k] as string)[x], "┴", `connector from row ${r} col ${x} ends at row ${k}`);
      }
    }
  });

  await t.step("a lane passes through the layers it has no node in", () => {
    // vm1's lane has no bus: at the vDPA bus row its connector passes through.
    const bus = boxAt(g, "vDPA bus: vdpa0 → vhost_vdpa");
    const vm1 = boxAt(g, "vm1.eth0 virtio_net");
    const cx = vm1.x0 + 3;
    assert.equal((g[bus.row] as string)[cx], "│");
  });

  await t.step("the edge label is written beside the connector under its upper node", () => {
    const backend = boxAt(g, "vhost-net: worker vhost-4100");
    const above = g[backend.row - 2] as string;
    assert.match(above, /│ kick: ioeventfd, irq: irqfd → posted/);
  });

  await t.step("a node that is down is drawn with dashed lines", () => {
    const tap1 = boxAt(g, "tap1 tap (down)");
    assert.ok((g[tap1.row - 1] as string).slice(tap1.x0, tap1.x1).includes("╌"));
    const tap0 = boxAt(g, "tap0 tap");
    assert.ok(!(g[tap0.row - 1] as string).slice(tap0.x0, tap0.x1).includes("╌"));
  });

  await t.step("every box line is as wide as its top border", () => {
    for (const label of ["vm1.eth0 virtio_net", "ens1f0 mlx5 25 Gbit/s", "loopback (tx → rx)"]) {
      const b = boxAt(g, label);
      const top = g[b.row - 1] as string;
      const bottom = g[b.row + 1] as string;
      assert.ok(top[b.x0] === "┌" && top[b.x1] === "┐", `${label} top`);
      assert.ok(bottom[b.x0] === "└" && bottom[b.x1] === "┘", `${label} bottom`);
    }
  });

  await t.step("the group lines head the drawing", () => {
    const text = drawTopology(sampleTopology());
    assert.ok(text.startsWith("vm1: qemu pid 4100\nvm2: qemu pid 4107\nvm3: qemu pid 4114\nhost:"));
  });
});

Deno.test("drawTopology: an empty lab draws a sentence, not an empty frame", () => {
  const t: Topology = { groups: [], lanes: [], nodes: [], edges: [], processes: [] };
  assert.match(drawTopology(t), /^\(nothing to draw yet/);
});
