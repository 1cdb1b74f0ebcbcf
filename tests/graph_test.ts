/**
 * The topology of every example script, as `show graph` draws it and `show topology` prints
 * it (golden text), as DOT that Graphviz renders (`dot -Tsvg`, spawned here) and as Mermaid
 * that passes the structural check. Each script is built in `check` mode: the whole topology,
 * no traffic — what the graph shows does not depend on packets.
 */

import assert from "node:assert/strict";
import { Session } from "../stdlib/session.ts";
import { buildTopology, layerIndex, type Topology } from "../runtime/graph/topology.ts";
import { drawTopology } from "../runtime/graph/draw.ts";
import { topologyText } from "../runtime/graph/text.ts";
import { topologyDot } from "../runtime/graph/dot.ts";
import { topologyMermaid } from "../runtime/graph/mermaid.ts";
import { checkMermaid } from "../runtime/graph/mermaid_check.ts";

const EXAMPLES = new URL("../examples/", import.meta.url);

function hasDot(): boolean {
  try {
    return new Deno.Command("dot", { args: ["-V"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}
const DOT = hasDot();

async function examples(): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(EXAMPLES)) if (e.name.endsWith(".vdpa")) names.push(e.name);
  return names.sort();
}

async function topologyOf(name: string): Promise<Topology> {
  const session = new Session({
    mode: "check",
    stdout: () => {},
    readFile: async (p) => ({ text: await Deno.readTextFile(new URL(p, EXAMPLES)) }),
  });
  await session.runText(await Deno.readTextFile(new URL(name, EXAMPLES)), `examples/${name}`);
  return buildTopology(session.lab);
}

/** The model is consistent: lanes go down the stack, edges join declared nodes. */
function checkModel(t: Topology): void {
  const ids = new Set(t.nodes.map((n) => n.id));
  assert.equal(ids.size, t.nodes.length, "node ids are unique");
  for (const lane of t.lanes) {
    let last = -1;
    for (const id of lane.nodes) {
      const n = t.nodes.find((x) => x.id === id);
      assert.ok(n, `lane ${lane.id}: ${id} is a node`);
      assert.ok(layerIndex(n.layer) > last, `lane ${lane.id} goes down the stack at ${id}`);
      last = layerIndex(n.layer);
    }
  }
  for (const e of t.edges) assert.ok(ids.has(e.from) && ids.has(e.to), `${e.from} -> ${e.to}`);
  const groups = new Set(t.groups.map((g) => g.id));
  for (const n of t.nodes) assert.ok(groups.has(n.group), `${n.id} is in a known group`);
}

async function renderSvg(dot: string): Promise<string> {
  const child = new Deno.Command("dot", {
    args: ["-Tsvg"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(dot));
  await w.close();
  const out = await child.output();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, err);
  assert.equal(err, "", "Graphviz has no warning");
  return new TextDecoder().decode(out.stdout);
}

Deno.test("every example's topology: drawing and text (golden), DOT, Mermaid", async (t) => {
  for (const name of await examples()) {
    await t.step(name, async (t) => {
      const topo = await topologyOf(name);
      checkModel(topo);
      await t.assertSnapshot(
        `$ show graph\n${drawTopology(topo)}\n\n$ show topology\n${topologyText(topo)}\n`,
        { serializer: String },
      );
      assert.deepEqual(checkMermaid(topologyMermaid(topo)), []);
      if (DOT) {
        const svg = await renderSvg(topologyDot(topo));
        const drawn = [...svg.matchAll(/<g id="node\d+" class="node">/g)].length;
        assert.equal(drawn, new Set(topo.lanes.flatMap((l) => l.nodes)).size);
      }
    });
  }
  if (!DOT) {
    console.warn("dot -Tsvg: SKIPPED because Graphviz is not installed (.ci/run installs it)");
  }
});

Deno.test("the topology follows the lab: a link down dashes the tap, a killed VM leaves", async () => {
  const session = new Session({ stdout: () => {} });
  const r = await session.runText(
    "modprobe tun\nmodprobe bridge\nmodprobe vhost_net\nip link add name br0 type bridge\n" +
      "ip link set dev br0 up\nip tuntap add dev tap0 mode tap vnet_hdr\n" +
      "ip link set dev tap0 master br0\nip link set dev tap0 up\n" +
      "qemu-system-x86_64 -name vm1 -m 1G -netdev tap,id=n0,ifname=tap0,script=no,vhost=on " +
      "-device virtio-net-pci,netdev=n0\n",
    "lab.vdpa",
  );
  assert.equal(r.status, "ok");
  const before = buildTopology(session.lab);
  assert.equal(before.nodes.find((n) => n.id === "tap0")?.up, true);
  assert.deepEqual(before.processes.map((p) => p.name), ["vm1"]);
  await session.runText("ip link set dev tap0 down", "<repl:1>");
  const down = buildTopology(session.lab);
  assert.equal(down.nodes.find((n) => n.id === "tap0")?.up, false);
  assert.match(drawTopology(down), /╎ tap0 tap \(down\)/);
  await session.runText(`kill ${before.processes[0]?.pid}`, "<repl:2>");
  const after = buildTopology(session.lab);
  assert.equal(after.groups.some((g) => g.id === "vm1"), false);
  assert.equal(after.nodes.some((n) => n.group === "vm1" || n.id.startsWith("vm1")), false);
  assert.deepEqual(after.processes, []);
  // The tap stays (ip tuntap made it persistent), without its reader.
  assert.match(topologyText(after), /tap0 tap \(down\)/);
});

Deno.test("building the model changes nothing: a show in the middle leaves the run identical", async () => {
  const script = (show: boolean) =>
    "host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=25Gbps\nmodprobe tun\nmodprobe bridge\n" +
    "ip link add name br0 type bridge\nip link set dev ens1f0 master br0\n" +
    "ip link set dev br0 up\nip link set dev ens1f0 up\n" +
    (show ? "show graph\nshow topology\nexport graph to g.dot\n" : "") +
    "ip tuntap add dev tap0 mode tap\nip link set dev tap0 master br0\nip link set dev tap0 up\n" +
    "qemu-system-x86_64 -name vm1 -m 1G -netdev tap,id=n0,ifname=tap0,script=no " +
    "-device virtio-net-pci,netdev=n0\n" +
    "traffic t1 from wire to vm1.eth0 size=64 count=200 rate=1Mpps\nrun\nshow stats t1 --json\n";
  const outputs: string[] = [];
  for (const show of [false, true]) {
    let out = "";
    const s = new Session({
      stdout: (t) => void (out += t),
      writeFile: () => Promise.resolve({ ok: true }),
    });
    assert.equal((await s.runText(script(show), "lab.vdpa")).status, "ok");
    outputs.push(out.slice(out.indexOf("run: ")));
  }
  assert.equal(outputs[1], outputs[0]);
});
