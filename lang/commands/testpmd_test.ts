import assert from "node:assert/strict";
import { expectFailure, expectParse, must, primaryText } from "./test_expect.ts";

Deno.test("dpdk-testpmd", async (t) => {
  await t.step("EAL options, a vhost vdev and application options", () => {
    const text =
      "dpdk-testpmd -l 0-2 -n 4 --socket-mem=1024 --vdev 'net_vhost0,iface=/tmp/vhost-user1,queues=2,client=1' -- -i --forward-mode=macswap --nb-cores=2 --rxq=2 --txq 2 --rxd=1024 --txd=1024 --burst=32";
    const { cmd, at, warnings } = expectParse(text, { warnings: ["W0010", "W0010"] });
    if (cmd.kind !== "testpmd") throw new Error(cmd.kind);
    assert.equal(at(must(cmd.lcores).span), "0-2");
    assert.deepEqual(cmd.eal.map((o) => [o.name, o.ignored]), [
      ["corelist", false],
      ["memory-channels", true],
      ["socket-mem", true],
      ["vdev", false],
    ]);
    assert.deepEqual(warnings.map((w) => at(must(w.labels[0]).span)), [
      "-n 4",
      "--socket-mem=1024",
    ]);
    const vdev = must(cmd.vdevs[0]);
    assert.equal(vdev.name.value, "net_vhost0");
    assert.equal(vdev.driver, "net_vhost");
    assert.equal(at(vdev.name.span), "net_vhost0");
    assert.deepEqual(vdev.props.items.map((p) => [at(p.key.span), at(must(p.value).span)]), [
      ["iface", "/tmp/vhost-user1"],
      ["queues", "2"],
      ["client", "1"],
    ]);
    assert.equal(at(vdev.props.span), "iface=/tmp/vhost-user1,queues=2,client=1");
    assert.equal(cmd.interactive, true);
    assert.equal(cmd.forwardMode?.value, "macswap");
    assert.equal(at(must(cmd.forwardMode).span), "macswap");
    assert.deepEqual([
      cmd.nbCores?.value,
      cmd.rxq?.value,
      cmd.txq?.value,
      cmd.rxd?.value,
      cmd.burst?.value,
    ], [
      2,
      2,
      2,
      1024,
      32,
    ]);
    assert.equal(at(must(cmd.txq).span), "2");
    assert.equal(at(must(cmd.separator).span), "--");
  });

  await t.step("--vdev=… glued, a virtio_user vdev, glued short values", () => {
    const { cmd, at } = expectParse(
      "testpmd -l0-1 --no-pci --vdev=virtio_user0,path=/dev/vhost-vdpa-0,queues=1 -- -a",
    );
    if (cmd.kind !== "testpmd") throw new Error(cmd.kind);
    assert.equal(at(must(cmd.lcores).span), "0-1");
    const vdev = must(cmd.vdevs[0]);
    assert.equal(vdev.driver, "virtio_user");
    assert.equal(at(vdev.name.span), "virtio_user0");
    assert.equal(at(must(must(vdev.props.items[0]).value).span), "/dev/vhost-vdpa-0");
    assert.equal(cmd.autoStart, true);
    assert.equal(cmd.interactive, false);
  });

  await t.step("a vdev without devargs, and bracketed lists keep their commas", () => {
    const { cmd } = expectParse(
      "dpdk-testpmd --vdev net_null0 --vdev 'net_ring0,nodeaction=[0:0:CREATE,1:0:ATTACH]'",
    );
    if (cmd.kind !== "testpmd") throw new Error(cmd.kind);
    assert.equal(must(cmd.vdevs[0]).props.items.length, 0);
    assert.equal(must(must(cmd.vdevs[1]).props.items[0]).value?.value, "[0:0:CREATE,1:0:ATTACH]");
    assert.equal(cmd.separator, undefined);
  });

  await t.step("-a means allow before `--` and auto-start after it", () => {
    const { cmd } = expectParse("dpdk-testpmd -a 0000:3b:00.0 -- -a");
    if (cmd.kind !== "testpmd") throw new Error(cmd.kind);
    assert.equal(must(cmd.eal[0]).name, "allow");
    assert.equal(cmd.autoStart, true);
  });

  await t.step("application options before `--` are EAL errors with a hint", () => {
    const { d, at } = expectFailure("dpdk-testpmd -l 0-1 -i", "E0101");
    assert.equal(primaryText(d, at), "-i");
    assert.deepEqual(d.notes, ["EAL prints: EAL: invalid option -- 'i'"]);
    assert.ok(d.help.some((h) => h.includes("go after `--`")));
  });

  await t.step("a unique prefix of a long option is accepted, as getopt_long does", () => {
    const { cmd } = expectParse("dpdk-testpmd -l 0-1 -- --forward=io --nb-c=1");
    if (cmd.kind !== "testpmd") throw new Error(cmd.kind);
    assert.equal(cmd.forwardMode?.value, "io");
    assert.equal(cmd.nbCores?.value, 1);
    const amb = expectFailure("dpdk-testpmd -- --rx=1", "E0101");
    assert.equal(amb.d.message, "ambiguous option `--rx` for `dpdk-testpmd`");
  });

  await t.step("unknown application options are named, with a suggestion", () => {
    const { d, at } = expectFailure("dpdk-testpmd -l 0-1 -- --forwad-mode=io", "E0101");
    assert.equal(primaryText(d, at), "--forwad-mode");
    assert.deepEqual(d.notes, ["testpmd prints: testpmd: unrecognized option '--forwad-mode'"]);
    assert.equal(d.help[0], "did you mean `--forward-mode`?");
  });

  await t.step("value errors", () => {
    const mode = expectFailure("dpdk-testpmd -- --forward-mode=maswap", "E0109");
    assert.equal(mode.d.help[0], "did you mean `macswap`?");
    assert.deepEqual(mode.d.notes, ["testpmd prints: Invalid maswap packet forwarding mode"]);
    expectFailure("dpdk-testpmd -- --nb-cores=two", "E0106");
    expectFailure("dpdk-testpmd -l", "E0102");
    expectFailure("dpdk-testpmd --vdev ,iface=/tmp/x", "E0110");
    expectFailure("dpdk-testpmd -l 0-1 stray", "E0104");
    expectFailure("dpdk-testpmd -- -i stray", "E0104");
    expectFailure("dpdk-testpmd --vdev 'net_vhost0,iface=/tmp/x,,queues=1'", "E0110");
  });

  await t.step("help is a usage request", () => {
    assert.equal(expectParse("dpdk-testpmd -h").cmd.kind, "usage");
    assert.equal(expectParse("dpdk-testpmd -l 0 -- --help").cmd.kind, "usage");
  });
});
