/**
 * `show … --json` for every subject is JSON a program can consume, with the stable field
 * names documented in stdlib/commands/show_json.ts; `--json` on the command line (`vdpa-lab
 * run --json`) turns it on for every `show`; and a `show` of something that does not exist is
 * a located E0508 with the names that do.
 */

import assert from "node:assert/strict";
import { SHOW_SUBJECT_KINDS } from "../lang/commands/mod.ts";
import { Session } from "../stdlib/session.ts";

const LAB = 'host cmdline "intel_iommu=on"\nmodprobe tun\nmodprobe vhost_net\n' +
  "ip tuntap add dev tap0 mode tap vnet_hdr\nip link set dev tap0 up\n" +
  "qemu-system-x86_64 -name vm1 -m 1G -netdev tap,id=n0,ifname=tap0,script=no,vhost=on " +
  "-device virtio-net-pci,netdev=n0 -netdev user,id=u0 -device virtio-net-pci,netdev=u0\n" +
  "traffic t1 from vm1.eth1 to vm1.u0.host size=64 count=50 rate=100Kpps\nrun\n";

/** A session over {@link LAB}; `show(…)` runs one show and parses what it printed. */
async function lab(
  json = false,
): Promise<{ session: Session; show: (s: string) => Promise<Record<string, unknown>> }> {
  let out = "";
  const session = new Session({ stdout: (t) => void (out += t), json });
  const r = await session.runText(LAB, "lab.vdpa");
  assert.equal(r.status, "ok", session.diagnostics.items.map((d) => d.message).join("\n"));
  let n = 0;
  const show = async (s: string) => {
    out = "";
    const before = session.diagnostics.items.length;
    const r = await session.runText(`show ${s}`, `<repl:${++n}>`);
    const diags = session.diagnostics.items.slice(before).map((d) => d.message);
    assert.equal(r.status, "ok", diags.join("\n"));
    return JSON.parse(out);
  };
  return { session, show };
}

Deno.test("show --json: every subject prints JSON with its stable fields", async (t) => {
  const { show } = await lab() as unknown as {
    show: (s: string) => Promise<Record<string, unknown>>;
  };
  const seen = new Set<string>();
  const j = async (s: string) => {
    seen.add(s.split(" ")[0] as string);
    return await show(`${s} --json`);
  };

  await t.step("topology and graph: the model", async () => {
    for (const s of ["topology", "graph"]) {
      const m = await j(s);
      assert.deepEqual(Object.keys(m), ["groups", "lanes", "nodes", "edges", "processes"]);
      const nodes = m.nodes as { id: string; layer: string; up: boolean }[];
      assert.ok(nodes.some((n) => n.id === "vm1.eth0" && n.layer === "guest" && n.up));
      const edges = m.edges as { from: string; to: string; label?: string }[];
      assert.ok(edges.some((e) => e.label === "kick: ioeventfd, irq: irqfd → posted"));
      assert.deepEqual(m.processes, [{ pid: 4100, command: "qemu-system-x86_64", name: "vm1" }]);
    }
  });

  await t.step("stats and stats T: the flow summaries", async () => {
    const all = await j("stats");
    assert.deepEqual(Object.keys(all), ["t1"]);
    const one = await j("stats t1");
    assert.equal(one.sent, 50);
    assert.equal(one.delivered, 50);
    assert.ok("per_packet" in one && "dropped_by_reason" in one);
  });

  await t.step("vq: driver and device sides", async () => {
    const q = await j("vq vm1.eth0 tx0");
    assert.equal(q.endpoint, "vm1.eth0");
    assert.equal(q.queue, "tx0");
    assert.equal(q.layout, "split");
    const driver = q.driver as Record<string, unknown>;
    assert.ok("avail_idx" in driver && "used_event" in driver);
    assert.ok("kicks_suppressed" in (driver.counters as object));
    const device = q.device as Record<string, unknown>;
    assert.equal(device.backend, "vhost-net");
    assert.ok("next_avail" in device && "in_flight" in device);
    const ctrl = await j("vq vm1.eth0 ctrl");
    assert.equal(ctrl.device, null, "the control queue is QEMU's, not vhost's");
  });

  await t.step("vhost: the backend, its notify paths and its datapath table", async () => {
    const v = await j("vhost vm1.eth0");
    assert.equal(v.type, "tap");
    assert.equal(v.backend, "vhost-net");
    assert.deepEqual(v.notify, { kick: "ioeventfd", interrupt: "irqfd → posted" });
    const dp = v.datapath as { copies: unknown; tx: { key: string; per_batch: boolean }[] };
    assert.deepEqual(dp.copies, { tx: 1, rx: 1 });
    assert.ok(dp.tx.some((s) => s.key === "memcpy" && s.per_batch === false));
    const slirp = await j("vhost vm1.eth1");
    assert.deepEqual(slirp.notify, {
      kick: "ioeventfd → QEMU",
      interrupt: "KVM_SIGNAL_MSI → posted",
    });
  });

  await t.step("features: offered, driver, negotiated, status", async () => {
    const f = await j("features vm1.eth0");
    assert.match(f.negotiated as string, /^0x[0-9a-f]+$/);
    assert.ok((f.negotiated_names as string[]).includes("VERSION_1"));
    assert.ok((f.status_names as string[]).includes("DRIVER_OK"));
  });

  await t.step("iommu, log, flows, modules", async () => {
    const i = await j("iommu");
    assert.equal(i.mode, "translated");
    assert.ok(Array.isArray(i.domains) && Array.isArray(i.groups));
    assert.equal((i.faults as { total: number }).total, 0);
    const vmi = await j("iommu vm1");
    assert.equal(vmi.viommu, null, "vm1 has no vIOMMU");
    const log = await j("log") as unknown as { comp: string; action: string; t: number }[];
    assert.ok(log.some((e) => e.comp === "qemu-vm1" && e.action === "note"));
    const flows = await j("flows") as unknown as Record<string, unknown>[];
    assert.deepEqual(flows.map((f) => [f.name, f.from, f.to, f.sent]), [
      ["t1", "vm1.eth1", "vm1.u0.host", 50],
    ]);
    const mods = await j("modules") as unknown as { name: string; used_by: number }[];
    assert.ok(mods.some((m) => m.name === "vhost_net"));
  });

  await t.step("every subject was covered", () => {
    assert.deepEqual([...seen].sort(), [...SHOW_SUBJECT_KINDS].sort());
  });
});

Deno.test("vdpa-lab run --json: every show prints JSON without --json on the line", async () => {
  const { show } = await lab(true);
  const q = await show("vq vm1.eth0 rx0");
  assert.equal(q.queue, "rx0");
  const topo = await show("topology");
  assert.ok(Array.isArray(topo.lanes));
});

Deno.test("show of something that does not exist is a located E0508 naming what does", async (t) => {
  const session = new Session({ stdout: () => {} });
  assert.equal((await session.runText(LAB, "lab.vdpa")).status, "ok");
  const cases: [string, string, RegExp][] = [
    ["show vq vm1.eth9 tx0", "vm1.eth9", /interfaces: vm1\.eth0, vm1\.eth1/],
    ["show vq vm1.eth0 tx4", "tx4", /queues: rx0, tx0, ctrl/],
    ["show vhost vm2.eth0", "vm2.eth0", /no VM `vm2`/],
    ["show features vm1.eth2 --json", "vm1.eth2", /has no such interface/],
    ["show stats t9", "t9", /no such traffic/],
    ["show iommu vm7", "vm7", /no such VM/],
  ];
  for (const [line, at, what] of cases) {
    await t.step(line, async () => {
      const before = session.diagnostics.items.length;
      const r = await session.runText(line, "<repl>");
      assert.equal(r.status, "failed");
      const d = session.diagnostics.items[before];
      assert.equal(d?.code, "E0508");
      const label = d.labels.find((l) => l.primary);
      assert.equal(line.slice(label?.span.start, label?.span.end), at);
      assert.match(
        [d.message, ...d.labels.map((l) => l.message ?? ""), ...d.notes].join("\n"),
        what,
      );
    });
  }
});

Deno.test("trace --json: the hop list and its totals, the same as the text's title", async () => {
  let out = "";
  const session = new Session({ stdout: (t) => void (out += t) });
  assert.equal((await session.runText(LAB, "lab.vdpa")).status, "ok");
  out = "";
  await session.runText("trace t1 packet 2", "<repl:1>");
  const text = out;
  out = "";
  await session.runText("trace t1 packet 2 --json", "<repl:2>");
  const j = JSON.parse(out) as {
    flow: string;
    pkt: number;
    hops: { action: string; t: number; dur: number; ctx: string }[];
    summary: { hops: number; span_ns: number; cost_ns: number; fate: string };
  };
  assert.equal(j.flow, "t1");
  assert.equal(j.pkt, 2);
  assert.equal(j.summary.hops, j.hops.length);
  assert.equal(j.summary.fate, "delivered");
  assert.ok(j.hops.some((h) => h.action === "deliver"));
  const title = text.split("\n")[0] as string;
  assert.ok(title.startsWith(`packet 2 of t1: ${j.hops.length} hops, `), title);
  assert.ok(title.endsWith(", delivered"), title);
});
