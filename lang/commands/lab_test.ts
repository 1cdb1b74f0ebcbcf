import assert from "node:assert/strict";
import { expectFailure, expectParse, must, primaryText } from "./test_expect.ts";

Deno.test("host", async (t) => {
  await t.step("cpu: quantities with spans", () => {
    const { cmd, at } = expectParse("host cpu ghz=3.0 cores=16");
    if (cmd.kind !== "host-cpu") throw new Error(cmd.kind);
    assert.equal(cmd.ghz?.value.value, 3);
    assert.equal(cmd.cores?.value.value, 16);
    assert.equal(at(must(cmd.cores).span), "16");
    assert.equal(at(cmd.props.span), "ghz=3.0 cores=16");
  });

  await t.step("cmdline: one quoted word split into parameters with exact spans", () => {
    const { cmd, at } = expectParse('host cmdline "intel_iommu=on iommu=pt  hugepages"');
    if (cmd.kind !== "host-cmdline") throw new Error(cmd.kind);
    assert.equal(cmd.cmdline.value, "intel_iommu=on iommu=pt  hugepages");
    assert.deepEqual(
      cmd.params.items.map((p) => [at(p.key.span), p.value ? at(p.value.span) : undefined]),
      [
        ["intel_iommu", "on"],
        ["iommu", "pt"],
        ["hugepages", undefined],
      ],
    );
  });

  await t.step("nic: strings, a MAC and a bit rate", () => {
    const { cmd, at } = expectParse(
      "host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=100Gbps numvfs=4 mac=0C:42:A1:00:00:01",
    );
    if (cmd.kind !== "host-nic") throw new Error(cmd.kind);
    assert.equal(at(cmd.name.span), "ens1f0");
    assert.equal(cmd.model?.value, "mlx5");
    assert.equal(cmd.pci?.value, "0000:3b:00.0");
    assert.equal(cmd.speed?.value.kind, "bit-rate");
    assert.equal(cmd.speed?.value.value, 100e9);
    assert.equal(cmd.numvfs?.value.value, 4);
    assert.equal(cmd.mac?.value, "0c:42:a1:00:00:01");
  });

  await t.step("errors", () => {
    const sub = expectFailure("host cpus ghz=3", "E0105");
    assert.equal(sub.d.help[0], "did you mean `cpu`?");
    const key = expectFailure("host cpu ghz=3 core=4", "E0101");
    assert.equal(primaryText(key.d, key.at), "core");
    assert.equal(key.d.help[0], "did you mean `cores`?");
    expectFailure("host cpu", "E0103");
    expectFailure("host nic model=mlx5", "E0103");
    expectFailure("host nic ens1f0 speed=100G", "E0023"); // 100G is a byte size, not a rate
    expectFailure("host cpu cores=1.5", "E0106");
    expectFailure("host nic ens1f0 mac=0c:42", "E0108");
  });
});

Deno.test("traffic and ping", async (t) => {
  await t.step("the contract form, with every key typed", () => {
    const text =
      "traffic t1 from vm1.eth0 to wire size=64 count=100000 rate=line burst=32 flows=4 proto=udp";
    const { cmd, at } = expectParse(text);
    if (cmd.kind !== "traffic") throw new Error(cmd.kind);
    assert.equal(at(cmd.name.span), "t1");
    assert.deepEqual(cmd.from.parts.map((p) => at(p.span)), ["vm1", "eth0"]);
    assert.equal(at(cmd.from.span), "vm1.eth0");
    assert.deepEqual(cmd.to.parts.map((p) => p.value), ["wire"]);
    assert.deepEqual(
      [
        cmd.size?.value.kind,
        cmd.size?.value.value,
        cmd.count?.value.value,
        cmd.rate?.value.kind,
        cmd.burst?.value.value,
      ],
      ["bytes", 64, 100000, "line", 32],
    );
    assert.equal(cmd.proto?.value, "udp");
    assert.equal(at(must(cmd.rate).span), "line");
  });

  await t.step("duration and rates with units", () => {
    const { cmd } = expectParse(
      "traffic t2 from vm1.net0 to tap0 size=1500B duration=10ms rate=1Mpps",
    );
    if (cmd.kind !== "traffic") throw new Error(cmd.kind);
    assert.equal(cmd.duration?.value.value, 10e6);
    assert.equal(cmd.rate?.value.value, 1e6);
  });

  await t.step("errors point at the part that is wrong", () => {
    const from = expectFailure("traffic t1 vm1.eth0 to wire", "E0103");
    assert.equal(primaryText(from.d, from.at), "vm1.eth0");
    assert.equal(from.d.labels[0]?.message, "expected `from`, found `vm1.eth0`");
    const to = expectFailure("traffic t1 from vm1.eth0", "E0103");
    assert.equal(to.d.labels[0]?.message, "`to` expected");
    const ep = expectFailure("traffic t1 from vm1..eth0 to wire", "E0117");
    assert.equal(primaryText(ep.d, ep.at), "vm1..eth0");
    const key = expectFailure("traffic t1 from a to b sise=64", "E0101");
    assert.equal(key.d.help[0], "did you mean `size`?");
    const dup = expectFailure("traffic t1 from a to b size=64 size=128", "E0119");
    assert.equal(primaryText(dup.d, dup.at), "size=128");
    const both = expectFailure("traffic t1 from a to b count=10 duration=1ms", "E0122");
    assert.equal(primaryText(both.d, both.at), "duration=1ms");
    expectFailure("traffic t1 from a to b count=10.5", "E0106");
    expectFailure("traffic t1 from a to b duration=10", "E0023");
    expectFailure("traffic t1 from a to b size=", "E0102");
    expectFailure("traffic t1 from a to b fast", "E0104");
    expectFailure("traffic size=64", "E0103");
  });

  await t.step("ping", () => {
    const { cmd, at } = expectParse("ping vm1.eth0 tap0 count=3 size=64 interval=1ms");
    if (cmd.kind !== "ping") throw new Error(cmd.kind);
    assert.equal(at(cmd.to.span), "tap0");
    assert.equal(cmd.count?.value.value, 3);
    assert.equal(cmd.interval?.value.value, 1e6);
    const real = expectFailure("ping -c 3 10.0.0.2", "E0120");
    assert.equal(primaryText(real.d, real.at), "-c");
    expectFailure("ping vm1.eth0", "E0103");
  });
});

Deno.test("run, trace, show", async (t) => {
  await t.step("run with a duration and flags", () => {
    const { cmd, at } = expectParse("run 10ms --json --trace=full");
    if (cmd.kind !== "run") throw new Error(cmd.kind);
    assert.equal(cmd.duration?.value.value, 10e6);
    assert.equal(cmd.json, true);
    assert.equal(cmd.trace?.value, "full");
    assert.equal(at(must(cmd.trace).span), "full");
    const sep = expectParse("run --trace sample");
    if (sep.cmd.kind !== "run") throw new Error(sep.cmd.kind);
    assert.equal(sep.cmd.trace?.value, "sample");
    assert.equal(expectParse("run").cmd.kind, "run");
    expectFailure("run 10", "E0023");
    expectFailure("run --trace=verbose", "E0109");
    expectFailure("run --trace", "E0102");
    expectFailure("run 1ms 2ms", "E0104");
    expectFailure("run --jsn", "E0101");
  });

  await t.step("trace T packet N", () => {
    const { cmd, at } = expectParse("trace t1 packet 1 --json");
    if (cmd.kind !== "trace") throw new Error(cmd.kind);
    assert.equal(cmd.packet.value, 1);
    assert.equal(at(cmd.packet.span), "1");
    assert.equal(cmd.json, true);
    expectFailure("trace t1 pkt 1", "E0103");
    expectFailure("trace t1 packet one", "E0106");
    expectFailure("trace t1 packet 1 2", "E0104");
  });

  await t.step("show: every subject and its operands", () => {
    for (
      const [text, kind] of [
        ["show topology", "topology"],
        ["show graph", "graph"],
        ["show stats", "stats"],
        ["show stats t1", "stats"],
        ["show vq vm1.eth0 tx0", "vq"],
        ["show vhost vm1.eth0", "vhost"],
        ["show features vm1.eth0 --json", "features"],
        ["show iommu", "iommu"],
        ["show iommu vm1", "iommu"],
        ["show log", "log"],
        ["show modules", "modules"],
        ["show flows", "flows"],
      ]
    ) {
      const { cmd } = expectParse(must(text));
      if (cmd.kind !== "show") throw new Error(`${text}: ${cmd.kind}`);
      assert.equal(cmd.subject.kind, kind, text);
    }
    const { cmd, at } = expectParse("show vq vm1.eth0 tx0");
    if (cmd.kind !== "show" || cmd.subject.kind !== "vq") throw new Error("vq");
    assert.equal(at(cmd.subject.target.span), "vm1.eth0");
    assert.equal(at(cmd.subject.queue.span), "tx0");
    const typo = expectFailure("show topolgy", "E0105");
    assert.equal(typo.d.help[0], "did you mean `topology`?");
    expectFailure("show vq vm1.eth0", "E0103");
    expectFailure("show topology extra", "E0104");
    expectFailure("show", "E0103");
    expectFailure("show stats --all", "E0101");
  });
});

Deno.test("expect", async (t) => {
  await t.step("the contract forms", () => {
    for (
      const [text, op, rhs] of [
        ["expect t1.delivered == 100000", "==", "100000"],
        ["expect t1.dropped == 0", "==", "0"],
        ["expect t1.per_packet.vmexits == 0", "==", "0"],
        ["expect t1.per_packet.copies <= 1", "<=", "1"],
        ["expect t1.latency.p99 < 20us", "<", "20us"],
        ["expect t1.rate > 1Mpps", ">", "1Mpps"],
        ["expect vm1.eth0.driver != virtio_net", "!=", "virtio_net"],
      ]
    ) {
      const { cmd, at } = expectParse(must(text));
      if (cmd.kind !== "expect") throw new Error(cmd.kind);
      assert.equal(cmd.op.value, op, text);
      assert.equal(at(cmd.op.span), op, text);
      assert.equal(cmd.rhs.value, rhs, text);
    }
  });

  await t.step("the right side is also read as a quantity when it is one", () => {
    const q = expectParse("expect t1.latency.p99 < 20us");
    if (q.cmd.kind !== "expect") throw new Error(q.cmd.kind);
    assert.deepEqual(q.cmd.rhsQuantity, { kind: "time", value: 20000, text: "20us" });
    const glued = expectParse("expect t1.delivered>=1e5");
    if (glued.cmd.kind !== "expect") throw new Error(glued.cmd.kind);
    assert.equal(glued.cmd.rhsQuantity?.value, 100000);
    const w = expectParse("expect vm1.eth0.driver == virtio_net");
    if (w.cmd.kind !== "expect") throw new Error(w.cmd.kind);
    assert.equal(w.cmd.rhsQuantity, undefined);
  });

  await t.step("an operator inside a word is split with spans", () => {
    const { cmd, at } = expectParse("expect t1.per_packet.vmexits>=2");
    if (cmd.kind !== "expect") throw new Error(cmd.kind);
    assert.deepEqual(cmd.lhs.parts.map((p) => at(p.span)), ["t1", "per_packet", "vmexits"]);
    assert.equal(at(cmd.op.span), ">=");
    assert.equal(at(cmd.rhs.span), "2");
    const eq = expectParse("expect t1.dropped==0");
    if (eq.cmd.kind !== "expect") throw new Error(eq.cmd.kind);
    assert.equal(eq.at(eq.cmd.lhs.span), "t1.dropped");
  });

  await t.step("malformed comparisons", () => {
    const single = expectFailure("expect t1.delivered = 100", "E0118");
    assert.equal(single.d.help[0], "write `==` to compare");
    const arrow = expectFailure("expect t1.delivered => 100", "E0118");
    assert.equal(arrow.d.help[0], "write `>=`");
    const triple = expectFailure("expect t1.delivered === 100", "E0118");
    assert.equal(primaryText(triple.d, triple.at), "===");
    expectFailure("expect t1.delivered ==", "E0118");
    expectFailure("expect == 3", "E0118");
    expectFailure("expect t1 delivered == 3", "E0118");
    expectFailure("expect t1..delivered == 3", "E0117");
    expectFailure("expect", "E0103");
  });
});

Deno.test("capture, export, inject, set, help", async (t) => {
  await t.step("capture and export", () => {
    const c = expectParse("capture tap0 to out.pcap count=100 snaplen=128");
    if (c.cmd.kind !== "capture") throw new Error(c.cmd.kind);
    assert.equal(c.at(c.cmd.file.span), "out.pcap");
    assert.equal(c.cmd.snaplen?.value.value, 128);
    const e = expectParse("export trace to run.json format=chrome");
    if (e.cmd.kind !== "export") throw new Error(e.cmd.kind);
    assert.equal(e.cmd.what.value, "trace");
    assert.equal(e.cmd.format?.value, "chrome");
    expectParse("export graph to topo.dot");
    const what = expectFailure("export grpah to x.dot", "E0109");
    assert.equal(what.d.help[0], "did you mean `graph`?");
    expectFailure("export graph topo.dot", "E0103");
    expectFailure("capture tap0 out.pcap", "E0103");
  });

  await t.step("inject: every fault with its operands", () => {
    for (
      const [text, kind] of [
        ["inject link-down tap0", "link-down"],
        ["inject link-up ens1f0 at=5ms", "link-up"],
        ["inject reset vm1.eth0", "reset"],
        ["inject iotlb-invalidate vm1.eth0 iova=0x1000 size=4K", "iotlb-invalidate"],
        ["inject bad-chain vm1.eth0 tx0 cycle", "bad-chain"],
        ["inject disconnect /tmp/vhost-user0", "disconnect"],
        ["inject reconnect /tmp/vhost-user0 at=1ms", "reconnect"],
        ["inject unmap vm1 iova=0x100000 size=2M", "unmap"],
      ]
    ) {
      const { cmd } = expectParse(must(text));
      if (cmd.kind !== "inject") throw new Error(`${text}: ${cmd.kind}`);
      assert.equal(cmd.fault.kind, kind);
    }
    const { cmd, at } = expectParse("inject bad-chain vm1.eth0 tx0 write-only-tx at=2ms");
    if (cmd.kind !== "inject" || cmd.fault.kind !== "bad-chain") throw new Error("bad-chain");
    assert.equal(cmd.fault.variant.value, "write-only-tx");
    assert.equal(at(cmd.fault.queue.span), "tx0");
    assert.equal(cmd.at?.value.value, 2e6);
    const iova = expectParse("inject unmap vm1 iova=0x100000 size=2M");
    if (iova.cmd.kind !== "inject") throw new Error("inject");
    assert.equal(iova.cmd.iova?.value.value, 0x100000);
    assert.equal(iova.cmd.size?.value.value, 2 * 2 ** 20);
    const v = expectFailure("inject bad-chain vm1.eth0 tx0 loop", "E0109");
    assert.ok(v.d.help.some((h) => h.includes("`cycle`")));
    expectFailure("inject link-dwn tap0", "E0105");
    expectFailure("inject bad-chain vm1.eth0 tx0", "E0103");
    expectFailure("inject reset vm1.eth0 extra", "E0104");
    expectFailure("inject reset vm1.eth0 iova=0x1000", "E0101");
    expectFailure("inject link-down at=1ms tap0", "E0104");
    expectFailure("inject", "E0103");
  });

  await t.step("set", () => {
    const { cmd, at } = expectParse("set cost vmexit_light=900ns copy_per_byte=0.05ns");
    if (cmd.kind !== "set" || cmd.scope !== "cost") throw new Error("set cost");
    assert.deepEqual(
      cmd.costs.map((c) => [at(c.key.span), c.value.value.kind, c.value.value.value]),
      [
        ["vmexit_light", "time", 900],
        ["copy_per_byte", "time", 0.05],
      ],
    );
    const seed = expectParse("set seed 42");
    if (seed.cmd.kind !== "set" || seed.cmd.scope !== "seed") throw new Error("seed");
    assert.equal(seed.cmd.value.value, 42);
    const prof = expectParse("set profile mlx5-cx6");
    if (prof.cmd.kind !== "set" || prof.cmd.scope !== "profile") throw new Error("profile");
    assert.equal(prof.cmd.value.value, "mlx5-cx6");
    expectFailure("set cost", "E0103");
    expectFailure("set cost vmexit_light=fast", "E0020");
    expectFailure("set seeds 4", "E0105");
    expectFailure("set seed -1", "E0106");
  });

  await t.step("help takes any topic", () => {
    const { cmd } = expectParse("help vdpa dev add");
    if (cmd.kind !== "help") throw new Error(cmd.kind);
    assert.deepEqual(cmd.topic.map((w) => w.value), ["vdpa", "dev", "add"]);
    assert.equal(expectParse("help").cmd.kind, "help");
  });
});

Deno.test("show stats takes a shell-style pattern over traffic names", () => {
  const { cmd, at } = expectParse("show stats 'lat_*'");
  if (cmd.kind !== "show" || cmd.subject.kind !== "stats") throw new Error(cmd.kind);
  assert.equal(cmd.subject.target?.text, "lat_*");
  assert.equal(at(cmd.subject.target?.span ?? cmd.span), "'lat_*'");
  expectFailure("show vhost 'vm*'", "E0117");
});
