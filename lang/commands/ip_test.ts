import assert from "node:assert/strict";
import { expectFailure, expectParse, must, primaryText } from "./test_expect.ts";

Deno.test("ip tuntap", async (t) => {
  await t.step("add with dev, mode and flags", () => {
    const { cmd, at } = expectParse(
      "ip tuntap add dev tap0 mode tap multi_queue vnet_hdr user qemu group kvm",
    );
    if (cmd.kind !== "ip-tuntap-add") throw new Error(cmd.kind);
    assert.equal(at(must(cmd.name).span), "tap0");
    assert.equal(cmd.mode?.value, "tap");
    assert.equal(at(must(cmd.mode).span), "tap");
    assert.deepEqual([cmd.multiQueue, cmd.vnetHdr, cmd.oneQueue, cmd.pi], [
      true,
      true,
      false,
      false,
    ]);
    assert.equal(cmd.user?.value, "qemu");
    assert.equal(cmd.group?.value, "kvm");
  });

  await t.step("the name may be bare or after `name`; keywords take prefixes", () => {
    for (
      const text of [
        "ip tuntap add tap1 mode tap",
        "ip tuntap add name tap1 mo ta",
        "ip tuntap a tap1 m tap",
      ]
    ) {
      const { cmd } = expectParse(text);
      if (cmd.kind !== "ip-tuntap-add") throw new Error(`${text}: ${cmd.kind}`);
      assert.equal(cmd.name?.value, "tap1", text);
      assert.equal(cmd.mode?.value, "tap", text);
    }
  });

  await t.step("del, show, list and bare tuntap", () => {
    assert.equal(expectParse("ip tuntap del tap0 mode tap").cmd.kind, "ip-tuntap-del");
    assert.equal(expectParse("ip tuntap show").cmd.kind, "ip-tuntap-show");
    assert.equal(expectParse("ip tuntap list").cmd.kind, "ip-tuntap-show");
    assert.equal(expectParse("ip tuntap").cmd.kind, "ip-tuntap-show");
    assert.equal(expectParse("ip tap").cmd.kind, "ip-tuntap-show");
  });

  await t.step("mode errors carry iproute2's texts", () => {
    const none = expectFailure("ip tuntap add tap0", "E0103");
    assert.deepEqual(none.d.notes, ["ip prints: You failed to specify a tunnel mode"]);
    const bad = expectFailure("ip tuntap add tap0 mode tcp", "E0109");
    assert.deepEqual(bad.d.notes, ["ip prints: Cannot guess tunnel mode."]);
    const two = expectFailure("ip tuntap add tap0 mode tap mode tun", "E0122");
    assert.equal(primaryText(two.d, two.at), "tun");
    assert.equal(two.d.labels[1]?.message, "`tap` here");
  });

  await t.step("names longer than IFNAMSIZ-1 and a second name", () => {
    const { d, at } = expectFailure("ip tuntap add tap0123456789abcd mode tap", "E0121");
    assert.equal(primaryText(d, at), "tap0123456789abcd");
    const second = expectFailure("ip tuntap add tap0 tap1 mode tap", "E0104");
    assert.equal(primaryText(second.d, second.at), "tap1");
  });

  await t.step("`ip tun` is `ip tunnel`, which is not modelled", () => {
    const { d } = expectFailure("ip tun add tap0 mode tap", "E0120");
    assert.ok(d.help[0]?.includes("write `ip tuntap`"));
  });
});

Deno.test("ip link add", async (t) => {
  await t.step("a bridge, by bare name, `name` or `dev`", () => {
    for (
      const text of [
        "ip link add br0 type bridge",
        "ip link add name br0 type bridge",
        "ip link add dev br0 type bridge",
      ]
    ) {
      const { cmd, at } = expectParse(text);
      if (cmd.kind !== "ip-link-add") throw new Error(cmd.kind);
      assert.equal(at(cmd.name.span), "br0");
      assert.equal(cmd.type.value, "bridge");
    }
  });

  await t.step("bridge arguments after `type`", () => {
    const { cmd, at } = expectParse("ip link add br0 type bridge stp_state 0 vlan_filtering 1");
    if (cmd.kind !== "ip-link-add") throw new Error(cmd.kind);
    assert.deepEqual(cmd.typeArgs.map((a) => [a.key.value, a.value?.value]), [["stp_state", "0"], [
      "vlan_filtering",
      "1",
    ]]);
    assert.equal(at(must(cmd.typeArgs[1]).span), "vlan_filtering 1");
    const bad = expectFailure("ip link add br0 type bridge stp 1", "E0101");
    assert.deepEqual(bad.d.notes, ['ip prints: bridge: unknown command "stp"?']);
  });

  await t.step("veth with a peer and its own attributes", () => {
    const { cmd, at } = expectParse(
      "ip link add veth0 mtu 9000 type veth peer name veth1 mtu 1500",
    );
    if (cmd.kind !== "ip-link-add") throw new Error(cmd.kind);
    assert.equal(at(must(cmd.peer).name.span), "veth1");
    assert.deepEqual(cmd.attrs.map((a) => a.key), ["mtu"]);
    assert.deepEqual(must(cmd.peer).attrs.map((a) => a.key), ["mtu"]);
    const bare = expectParse("ip link add veth0 type veth peer veth1");
    if (bare.cmd.kind !== "ip-link-add") throw new Error(bare.cmd.kind);
    assert.equal(bare.cmd.peer?.name.value, "veth1");
    expectFailure("ip link add veth0 type veth peer", "E0103");
    expectFailure("ip link add veth0 type veth name veth1", "E0101");
  });

  await t.step("macvtap on a lower device; vlan needs an id", () => {
    const { cmd, at } = expectParse(
      "ip link add link ens1f0 name macvtap0 type macvtap mode bridge",
    );
    if (cmd.kind !== "ip-link-add") throw new Error(cmd.kind);
    assert.equal(at(must(cmd.link).span), "ens1f0");
    assert.equal(at(cmd.name.span), "macvtap0");
    assert.equal(cmd.typeArgs[0]?.value?.value, "bridge");
    expectParse("ip link add link eth0 name eth0.10 type vlan id 10");
    expectFailure("ip link add link eth0 name eth0.10 type vlan", "E0103");
  });

  await t.step("type is required, unknown types are named", () => {
    const none = expectFailure("ip link add br0", "E0103");
    assert.deepEqual(none.d.notes, [
      'ip prints: Not enough information: "type" argument is required',
    ]);
    const tap = expectFailure("ip link add tap0 type tap", "E0120");
    assert.ok(tap.d.help[0]?.includes("ip tuntap add"));
    const typo = expectFailure("ip link add br0 type brdige", "E0120");
    assert.equal(typo.d.help[0], "did you mean `bridge`?");
    expectFailure("ip link add type dummy", "E0103");
    expectFailure("ip link add d0 type dummy foo", "E0101");
  });
});

Deno.test("ip link set, del, show", async (t) => {
  await t.step("several attributes in one line, each located", () => {
    const text = "ip link set dev tap0 master br0 mtu 9000 address 52:54:00:AB:CD:EF promisc on up";
    const { cmd, at } = expectParse(text);
    if (cmd.kind !== "ip-link-set") throw new Error(cmd.kind);
    assert.equal(at(cmd.dev.span), "tap0");
    assert.deepEqual(cmd.attrs.map((a) => a.key), ["master", "mtu", "address", "promisc", "up"]);
    const [master, mtu, addr, promisc] = cmd.attrs;
    if (
      master?.key !== "master" || mtu?.key !== "mtu" || addr?.key !== "address" ||
      promisc?.key !== "promisc"
    ) {
      throw new Error("attribute kinds");
    }
    assert.equal(at(master.span), "master br0");
    assert.equal(mtu.value.value, 9000);
    assert.equal(addr.value.value, "52:54:00:ab:cd:ef");
    assert.equal(promisc.value.value, true);
  });

  await t.step("iproute2 matching: `s` is set, `a` is address, `ma` is master", () => {
    const { cmd } = expectParse("ip l s tap0 ma br0 a 52:54:00:00:00:01");
    if (cmd.kind !== "ip-link-set") throw new Error(cmd.kind);
    assert.deepEqual(cmd.attrs.map((a) => a.key), ["master", "address"]);
  });

  await t.step("nomaster, down, rename, txqueuelen spellings", () => {
    const { cmd } = expectParse("ip link set tap0 nomaster down name tap9 qlen 1000");
    if (cmd.kind !== "ip-link-set") throw new Error(cmd.kind);
    assert.deepEqual(cmd.attrs.map((a) => a.key), ["nomaster", "down", "name", "txqueuelen"]);
  });

  await t.step("VF settings stop at the first word that is no VF keyword", () => {
    const { cmd, at } = expectParse(
      "ip link set ens1f0 vf 0 mac 52:54:00:00:00:02 spoofchk off trust on up",
    );
    if (cmd.kind !== "ip-link-set") throw new Error(cmd.kind);
    const vf = cmd.attrs[0];
    if (vf?.key !== "vf") throw new Error("vf expected");
    assert.equal(vf.index.value, 0);
    assert.deepEqual(vf.settings.map((s) => [s.key.value, s.value.value]), [
      ["mac", "52:54:00:00:00:02"],
      ["spoofchk", "off"],
      ["trust", "on"],
    ]);
    assert.equal(at(vf.span), "vf 0 mac 52:54:00:00:00:02 spoofchk off trust on");
    assert.equal(cmd.attrs[1]?.key, "up");
  });

  await t.step("the famous garbage error for a second device name", () => {
    const { d, at } = expectFailure("ip link set tap0 upp", "E0104");
    assert.equal(primaryText(d, at), "upp");
    assert.deepEqual(d.notes, [
      'ip prints: Error: either "dev" is duplicate, or "upp" is a garbage.',
    ]);
    assert.equal(d.help[0], "did you mean `up`?");
    assert.equal(d.labels[1]?.message, "the device is already named here");
  });

  await t.step("value errors", () => {
    expectFailure("ip link set tap0 mtu big", "E0106");
    expectFailure("ip link set tap0 address 52:54:00", "E0108");
    const onoff = expectFailure("ip link set tap0 promisc yes", "E0109");
    assert.deepEqual(onoff.d.notes, [
      'ip prints: Error: argument of "promisc" must be "on" or "off", not "yes"',
    ]);
    expectFailure("ip link set tap0 master", "E0102");
    expectFailure("ip link set up", "E0103"); // `up` is a keyword: the device is missing
    expectFailure("ip link set tap0", "E0103");
    expectFailure("ip link set tap0 xdp obj x.o", "E0120");
  });

  await t.step("delete and show", () => {
    for (const text of ["ip link del br0", "ip link delete dev br0", "ip link d br0 type bridge"]) {
      const { cmd } = expectParse(text);
      if (cmd.kind !== "ip-link-del") throw new Error(`${text}: ${cmd.kind}`);
      assert.equal(cmd.dev.value, "br0");
    }
    expectFailure("ip link del", "E0103");
    expectFailure("ip link del br0 up", "E0104");
    const { cmd } = expectParse("ip -d link show dev tap0 up");
    if (cmd.kind !== "ip-link-show") throw new Error(cmd.kind);
    assert.equal(cmd.dev?.value, "tap0");
    assert.equal(cmd.up, true);
    assert.equal(cmd.options.details, true);
    const filtered = expectParse("ip -br link show type bridge master br0");
    if (filtered.cmd.kind !== "ip-link-show") throw new Error(filtered.cmd.kind);
    assert.equal(filtered.cmd.type?.value, "bridge");
    assert.equal(filtered.cmd.options.brief, true);
    assert.equal(expectParse("ip link").cmd.kind, "ip-link-show");
  });

  await t.step("unknown link commands", () => {
    const { d } = expectFailure("ip link create br0 type bridge", "E0105");
    assert.deepEqual(d.notes, ['ip prints: Command "create" is unknown, try "ip link help".']);
    assert.equal(expectParse("ip link help").cmd.kind, "usage");
    expectFailure("ip link xstats", "E0120");
  });
});

Deno.test("ip options, objects and addresses", async (t) => {
  await t.step("global options in ip.c's order", () => {
    const { cmd } = expectParse("ip -j -p -s -4 addr show");
    if (cmd.kind !== "ip-addr-show") throw new Error(cmd.kind);
    assert.deepEqual([cmd.options.json, cmd.options.pretty, cmd.options.stats], [true, true, true]);
    assert.equal(cmd.options.family?.value, "inet");
    const long = expectParse("ip --json -f inet6 -details link");
    if (long.cmd.kind !== "ip-link-show") throw new Error(long.cmd.kind);
    assert.equal(long.cmd.options.family?.value, "inet6");
    assert.equal(long.cmd.options.details, true);
  });

  await t.step("`-b` is -batch, not -brief", () => {
    const { d } = expectFailure("ip -b link", "E0120");
    assert.ok(d.help[0]?.includes("`-br`"));
  });

  await t.step("unknown options and objects", () => {
    const o = expectFailure("ip -z link", "E0101");
    assert.deepEqual(o.d.notes, ['ip prints: Option "-z" is unknown, try "ip -help".']);
    const obj = expectFailure("ip lnk show", "E0105");
    assert.deepEqual(obj.d.notes, ['ip prints: Object "lnk" is unknown, try "ip help".']);
    assert.equal(obj.d.help[0], "did you mean `link`?");
    expectFailure("ip route add default via 10.0.0.1", "E0120");
    expectFailure("ip -f ipx link", "E0109");
    assert.equal(expectParse("ip").cmd.kind, "usage");
  });

  await t.step("addr add, del and show", () => {
    const { cmd, at } = expectParse("ip addr add 10.0.0.1/24 dev tap0");
    if (cmd.kind !== "ip-addr-add") throw new Error(cmd.kind);
    assert.equal(at(cmd.address.span), "10.0.0.1/24");
    assert.equal(at(cmd.dev.span), "tap0");
    assert.equal(expectParse("ip a del 10.0.0.1/24 dev tap0").cmd.kind, "ip-addr-del");
    assert.equal(expectParse("ip a").cmd.kind, "ip-addr-show");
    const show = expectParse("ip address show dev tap0");
    if (show.cmd.kind !== "ip-addr-show") throw new Error(show.cmd.kind);
    assert.equal(show.cmd.dev?.value, "tap0");
    expectFailure("ip addr add 10.0.0.1/24", "E0103");
    expectFailure("ip addr add tap0 dev tap0", "E0109");
    expectFailure("ip addr add 10.0.0.1/24 10.0.0.2/24 dev tap0", "E0104");
    expectFailure("ip addr add 10.0.0.1/24 brd + dev tap0", "E0120");
  });
});
