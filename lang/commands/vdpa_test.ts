import assert from "node:assert/strict";
import { expectFailure, expectParse, must } from "./test_expect.ts";
import { parseForTest } from "./test_words.ts";

function ok(text: string) {
  const { cmd, at } = expectParse(text);
  return { cmd, at };
}

function fails(text: string, code: string) {
  return expectFailure(text, code);
}

Deno.test("vdpa dev add", async (t) => {
  await t.step("every argument is typed and located", () => {
    const text =
      "vdpa dev add name vdpa0 mgmtdev vdpasim_net device_features 0x300020000 mac 00:11:22:33:44:55 mtu 9000 max_vqp 4";
    const { cmd, at } = ok(text);
    assert.equal(cmd.kind, "vdpa-dev-add");
    if (cmd.kind !== "vdpa-dev-add") return;
    assert.equal(cmd.name.value, "vdpa0");
    assert.equal(at(cmd.name.span), "vdpa0");
    assert.equal(cmd.mgmtdev.name.value, "vdpasim_net");
    assert.equal(cmd.mgmtdev.bus, undefined);
    assert.equal(cmd.deviceFeatures?.value, 0x300020000n);
    assert.equal(at(must(cmd.deviceFeatures).span), "0x300020000");
    assert.equal(cmd.mac?.value, "00:11:22:33:44:55");
    assert.equal(cmd.mtu?.value, 9000);
    assert.equal(at(must(cmd.mtu).span), "9000");
    assert.equal(cmd.maxVqp?.value, 4);
    assert.deepEqual(cmd.args.map((a) => a.name), [
      "name",
      "mgmtdev",
      "device_features",
      "mac",
      "mtu",
      "max_vqp",
    ]);
    assert.equal(at(must(cmd.args[4]).span), "mtu 9000");
    assert.equal(at(cmd.span), text);
  });

  await t.step("bus/name management devices are split with spans", () => {
    const { cmd, at } = ok("vdpa dev add name a mgmtdev auxiliary/mlx5_core.sf.1");
    if (cmd.kind !== "vdpa-dev-add") throw new Error(cmd.kind);
    assert.equal(cmd.mgmtdev.bus?.value, "auxiliary");
    assert.equal(at(must(cmd.mgmtdev.bus).span), "auxiliary");
    assert.equal(cmd.mgmtdev.name.value, "mlx5_core.sf.1");
    assert.equal(at(cmd.mgmtdev.name.span), "mlx5_core.sf.1");
    assert.equal(cmd.mgmtdev.text, "auxiliary/mlx5_core.sf.1");
  });

  await t.step("name, mgmtdev and max_vqp accept prefixes; order does not matter", () => {
    const { cmd } = ok("vdpa d a mg vdpasim_net n vdpa0 ma 2");
    if (cmd.kind !== "vdpa-dev-add") throw new Error(cmd.kind);
    assert.equal(cmd.name.value, "vdpa0");
    assert.equal(cmd.maxVqp?.value, 2);
  });

  await t.step("`m` is mgmtdev (tested before mac, mtu and max_vqp)", () => {
    const { cmd } = ok("vdpa dev add name x m vdpasim_net");
    if (cmd.kind !== "vdpa-dev-add") throw new Error(cmd.kind);
    assert.equal(cmd.mgmtdev.name.value, "vdpasim_net");
  });

  await t.step("mac, mtu and device_features must be spelled in full", () => {
    const { d, at } = fails("vdpa dev add name x mgmtdev vdpasim_net mt 1500", "E0101");
    assert.equal(at(must(d.labels[0]).span), "mt");
    assert.deepEqual(d.notes, ['vdpa prints: Unknown option "mt"']);
    assert.ok(d.help.some((h) => h.includes("spelled in full")));
    fails("vdpa dev add name x mgmtdev vdpasim_net device_feat 0x1", "E0101");
  });

  await t.step("a later value of the same keyword wins, as in vdpa_argv_parse", () => {
    const { cmd } = ok("vdpa dev add name a mgmtdev vdpasim_net name b");
    if (cmd.kind !== "vdpa-dev-add") throw new Error(cmd.kind);
    assert.equal(cmd.name.value, "b");
    assert.equal(cmd.args.length, 3);
  });

  await t.step("missing name and mgmtdev are both reported with the real text", () => {
    const r = parseForTest("vdpa dev add mac 00:11:22:33:44:55");
    assert.deepEqual(r.codes, ["E0103", "E0103"]);
    assert.deepEqual(r.diags.items.map((d) => d.notes[0]), [
      "vdpa prints: management device handle not set.",
      "vdpa prints: device name is not set.",
    ]);
  });

  await t.step("u16 and hex u64 ranges", () => {
    ok("vdpa dev add name x mgmtdev vdpasim_net mtu 65535");
    const big = fails("vdpa dev add name x mgmtdev vdpasim_net mtu 65536", "E0106");
    assert.equal(must(big.d.labels[0]).message, "does not fit in u16");
    fails("vdpa dev add name x mgmtdev vdpasim_net mtu 0x10", "E0106");
    fails("vdpa dev add name x mgmtdev vdpasim_net mtu -1", "E0101"); // getopt sees `-1`
    fails("vdpa dev add name x mgmtdev vdpasim_net max_vqp 1.5", "E0106");
    ok("vdpa dev add name x mgmtdev vdpasim_net device_features ffffffffffffffff");
    fails("vdpa dev add name x mgmtdev vdpasim_net device_features 10000000000000000", "E0107");
    fails("vdpa dev add name x mgmtdev vdpasim_net device_features 0xg", "E0107");
  });

  await t.step("MAC addresses are parsed like ll_addr_a2n and normalised", () => {
    const { cmd } = ok("vdpa dev add name x mgmtdev vdpasim_net mac 0:1:2:a:B:cc");
    if (cmd.kind !== "vdpa-dev-add") throw new Error(cmd.kind);
    assert.equal(cmd.mac?.value, "00:01:02:0a:0b:cc");
    const bad = fails("vdpa dev add name x mgmtdev vdpasim_net mac 00:11:22:33:44", "E0108");
    assert.deepEqual(bad.d.notes, ['vdpa prints: "00:11:22:33:44" is invalid lladdr.']);
    fails("vdpa dev add name x mgmtdev vdpasim_net mac 00:11:22:33:44:555", "E0108");
  });

  await t.step("a keyword without its value", () => {
    const { d, at } = fails("vdpa dev add name x mgmtdev vdpasim_net mtu", "E0102");
    assert.equal(at(must(d.labels[0]).span), "mtu");
    assert.deepEqual(d.notes, ["vdpa prints: number expected"]);
    const m = fails("vdpa dev add name x mgmtdev", "E0102");
    assert.deepEqual(m.d.notes, [
      'vdpa prints: vdpa identification ("mgmtdev_bus_name/mgmtdev_name") expected',
    ]);
  });

  await t.step("more than one `/` in a management device", () => {
    const { d, at } = fails("vdpa dev add name x mgmtdev pci/0000:3b/00.2", "E0111");
    assert.equal(at(must(d.labels[0]).span), "pci/0000:3b/00.2");
    assert.deepEqual(d.notes, ["vdpa prints: Wrong vdpa mgmtdev identification string format"]);
    fails("vdpa mgmtdev show pci/", "E0111");
  });
});

Deno.test("vdpa dev show, del, config and set", async (t) => {
  await t.step("bare `vdpa dev` shows every device", () => {
    const { cmd } = ok("vdpa dev");
    assert.equal(cmd.kind, "vdpa-dev-show");
  });

  await t.step("show, list and their prefixes", () => {
    for (
      const text of [
        "vdpa dev show vdpa0",
        "vdpa dev list vdpa0",
        "vdpa dev sh vdpa0",
        "vdpa dev s vdpa0",
      ]
    ) {
      const { cmd, at } = ok(text);
      if (cmd.kind !== "vdpa-dev-show") throw new Error(`${text}: ${cmd.kind}`);
      assert.equal(at(must(cmd.dev).span), "vdpa0");
    }
  });

  await t.step("a second device name is an unknown option", () => {
    const { d } = fails("vdpa dev show vdpa0 vdpa1", "E0101");
    assert.deepEqual(d.notes, ['vdpa prints: Unknown option "vdpa1"']);
  });

  await t.step("del needs a device", () => {
    const { cmd } = ok("vdpa dev del vdpa0");
    assert.equal(cmd.kind, "vdpa-dev-del");
    const { d } = fails("vdpa dev del", "E0103");
    assert.deepEqual(d.notes, ["vdpa prints: String parameter expected"]);
  });

  await t.step("config: bare, show, and an unknown subcommand", () => {
    assert.equal(ok("vdpa dev config").cmd.kind, "vdpa-dev-config-show");
    const { cmd, at } = ok("vdpa dev config show vdpa0");
    if (cmd.kind !== "vdpa-dev-config-show") throw new Error(cmd.kind);
    assert.equal(at(must(cmd.dev).span), "vdpa0");
    const { d } = fails("vdpa dev config get vdpa0", "E0105");
    assert.deepEqual(d.notes, ['vdpa prints: Command "get" not found']);
  });

  await t.step("set takes name and mac only; vstats and set are not prefix-matched", () => {
    const { cmd } = ok("vdpa dev set name vdpa0 mac 00:11:22:33:44:66");
    if (cmd.kind !== "vdpa-dev-set") throw new Error(cmd.kind);
    assert.equal(cmd.mac?.value, "00:11:22:33:44:66");
    const m = fails("vdpa dev set name vdpa0 mtu 1500", "E0101");
    assert.ok(m.d.help.some((h) => h.includes("`vdpa dev set` accepts `name`, `mac`")));
    fails("vdpa dev vstat show vdpa0 qidx 0", "E0105");
    // `vdpa dev se …` is not `set`: `s` prefixes select `show`, and `se` matches nothing.
    fails("vdpa dev se name vdpa0", "E0105");
  });
});

Deno.test("vdpa dev vstats", async (t) => {
  await t.step("show DEV qidx N with a u32 index", () => {
    const { cmd, at } = ok("vdpa dev vstats show vdpa0 qidx 4294967295");
    if (cmd.kind !== "vdpa-dev-vstats-show") throw new Error(cmd.kind);
    assert.equal(cmd.qidx?.value, 4294967295);
    assert.equal(at(must(cmd.qidx).span), "4294967295");
    fails("vdpa dev vstats show vdpa0 qidx 4294967296", "E0106");
  });

  await t.step("1 argument is accepted (the kernel rejects a missing qidx)", () => {
    const { cmd } = ok("vdpa dev vstats show vdpa0");
    if (cmd.kind !== "vdpa-dev-vstats-show") throw new Error(cmd.kind);
    assert.equal(cmd.qidx, undefined);
  });

  await t.step("2 or 4 arguments break the 1-or-3 rule", () => {
    const two = fails("vdpa dev vstats show vdpa0 qidx", "E0104");
    assert.ok(must(two.d.notes[0]).includes("exactly 1 or 3 arguments"));
    fails("vdpa dev vstats show vdpa0 qidx 1 2", "E0104");
    fails("vdpa dev vstats show", "E0103");
  });

  await t.step("`show` is compared exactly here, and qidx must be spelled in full", () => {
    fails("vdpa dev vstats sh vdpa0 qidx 0", "E0105");
    fails("vdpa dev vstats show vdpa0 qid 0", "E0101");
  });
});

Deno.test("vdpa options and objects", async (t) => {
  await t.step("-j, -p, -jp and long forms, anywhere on the line", () => {
    for (
      const text of [
        "vdpa -jp dev show",
        "vdpa dev show -j -p",
        "vdpa --json --pretty dev show",
        "vdpa --js dev show -p",
      ]
    ) {
      const { cmd } = ok(text);
      if (cmd.kind !== "vdpa-dev-show") throw new Error(cmd.kind);
      assert.equal(cmd.options.json, true, text);
      assert.equal(cmd.options.pretty, text.includes("p"), text);
    }
  });

  await t.step("flags inside a cluster are located one by one", () => {
    const { cmd, at } = ok("vdpa -jp mgmtdev show");
    if (cmd.kind !== "vdpa-mgmtdev-show") throw new Error(cmd.kind);
    assert.deepEqual(cmd.options.words.map((w) => at(w.span)), ["-j", "p"]);
  });

  await t.step("unknown options and objects", () => {
    const o = fails("vdpa -x dev show", "E0101");
    assert.deepEqual(o.d.notes, ["vdpa prints: vdpa: invalid option -- 'x'"]);
    const obj = fails("vdpa devices show", "E0105");
    assert.deepEqual(obj.d.notes, ['vdpa prints: Object "devices" not found']);
    const m = fails("vdpa mgmtdev add", "E0105");
    assert.deepEqual(m.d.notes, ['vdpa prints: Command "add" not found']);
  });

  await t.step("help forms become usage nodes", () => {
    for (
      const [text, topic] of [
        ["vdpa", "vdpa"],
        ["vdpa help", "vdpa"],
        ["vdpa -h", "vdpa"],
        ["vdpa mgmtdev", "vdpa mgmtdev"],
        ["vdpa dev help", "vdpa dev"],
        ["vdpa dev config help", "vdpa dev config"],
        ["vdpa dev vstats help", "vdpa dev vstats"],
      ]
    ) {
      const { cmd } = ok(must(text));
      if (cmd.kind !== "usage") throw new Error(`${text}: ${cmd.kind}`);
      assert.equal(cmd.topic, topic);
    }
  });

  await t.step("mgmtdev show with a handle; extra words are unknown options", () => {
    const { cmd, at } = ok("vdpa mgmtdev show pci/0000:3b:00.2");
    if (cmd.kind !== "vdpa-mgmtdev-show") throw new Error(cmd.kind);
    assert.equal(at(must(must(cmd.mgmtdev).bus).span), "pci");
    assert.equal(at(must(cmd.mgmtdev).name.span), "0000:3b:00.2");
    fails("vdpa mgmtdev show vdpasim_net extra", "E0101");
  });
});
