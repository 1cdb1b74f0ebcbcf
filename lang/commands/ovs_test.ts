import assert from "node:assert/strict";
import { ovsColumnKey } from "./ovs.ts";
import { expectFailure, expectParse, must, primaryText } from "./test_expect.ts";

Deno.test("ovs-vsctl", async (t) => {
  await t.step("add-br with `-- set bridge … datapath_type=netdev`", () => {
    const { cmd, at } = expectParse(
      "ovs-vsctl --may-exist add-br br0 -- set bridge br0 datapath_type=netdev",
    );
    if (cmd.kind !== "ovs-vsctl") throw new Error(cmd.kind);
    const [add, set] = cmd.commands;
    if (add?.op !== "add-br" || set?.op !== "set") throw new Error("add-br then set");
    assert.equal(add.mayExist, true);
    assert.equal(at(add.bridge.span), "br0");
    assert.equal(at(add.span), "--may-exist add-br br0");
    // Table names are case-insensitive; the node carries the schema's spelling.
    assert.equal(set.table.value, "Bridge");
    assert.equal(at(set.table.span), "bridge");
    assert.equal(at(must(set.settings.items[0]).span), "datapath_type=netdev");
  });

  await t.step("add-port with the Interface options, split into column and key", () => {
    const text =
      "ovs-vsctl add-port br0 vhu0 -- set Interface vhu0 type=dpdkvhostuserclient options:vhost-server-path=/tmp/vhu0 options:n_rxq=2";
    const { cmd, at } = expectParse(text);
    if (cmd.kind !== "ovs-vsctl") throw new Error(cmd.kind);
    const [port, set] = cmd.commands;
    if (port?.op !== "add-port" || set?.op !== "set") throw new Error("add-port then set");
    assert.equal(at(port.port.span), "vhu0");
    assert.equal(set.record.value, "vhu0");
    const path = must(set.settings.items[1]);
    const { column, key } = ovsColumnKey(path);
    assert.equal(at(column.span), "options");
    assert.equal(at(must(key).span), "vhost-server-path");
    assert.equal(at(must(path.value).span), "/tmp/vhu0");
    assert.equal(ovsColumnKey(must(set.settings.items[0])).key, undefined);
  });

  await t.step("an OVSDB-quoted value loses its quotes, with the span inside them", () => {
    const { cmd, at } = expectParse(
      `ovs-vsctl set Interface dpdk0 'options:dpdk-devargs="0000:01:00.0"'`,
    );
    if (cmd.kind !== "ovs-vsctl" || cmd.commands[0]?.op !== "set") throw new Error("set expected");
    const v = must(must(cmd.commands[0].settings.items[0]).value);
    assert.equal(v.value, "0000:01:00.0");
    assert.equal(at(v.span), "0000:01:00.0");
  });

  await t.step("Open_vSwitch . other_config, global options and the other commands", () => {
    const { cmd } = expectParse(
      "ovs-vsctl --no-wait --timeout=5 set Open_vSwitch . other_config:dpdk-init=true",
    );
    if (cmd.kind !== "ovs-vsctl") throw new Error(cmd.kind);
    assert.equal(cmd.noWait, true);
    assert.deepEqual(cmd.options.map((o) => [o.name.value, o.value?.value]), [[
      "no-wait",
      undefined,
    ], ["timeout", "5"]]);
    const set = cmd.commands[0];
    if (set?.op !== "set") throw new Error("set");
    assert.equal(set.table.value, "Open_vSwitch");
    assert.equal(set.record.value, ".");
    for (
      const [text, op] of [
        ["ovs-vsctl show", "show"],
        ["ovs-vsctl list-br", "list-br"],
        ["ovs-vsctl list-ports br0", "list-ports"],
        ["ovs-vsctl --if-exists del-port br0 vhu0", "del-port"],
        ["ovs-vsctl del-port vhu0", "del-port"],
        ["ovs-vsctl --if-exists del-br br0", "del-br"],
        ["ovs-vsctl get Interface vhu0 options:n_rxq", "get"],
        ["ovs-vsctl list int", "list"],
        ["ovs-vsctl -- add-br br1", "add-br"],
      ]
    ) {
      const r = expectParse(must(text));
      if (r.cmd.kind !== "ovs-vsctl") throw new Error(text);
      assert.equal(r.cmd.commands[0]?.op, op, text);
    }
  });

  await t.step("a fake bridge needs PARENT and VLAN", () => {
    const { cmd } = expectParse("ovs-vsctl add-br br0.10 br0 10");
    if (cmd.kind !== "ovs-vsctl" || cmd.commands[0]?.op !== "add-br") throw new Error("add-br");
    assert.equal(cmd.commands[0].vlan?.value, 10);
    expectFailure("ovs-vsctl add-br br0.10 br0", "E0103");
    expectFailure("ovs-vsctl add-br br0.10 br0 4096", "E0106");
  });

  await t.step("arity errors carry ovs-vsctl's texts", () => {
    const few = expectFailure("ovs-vsctl add-port br0", "E0103");
    assert.deepEqual(few.d.notes, [
      "ovs-vsctl prints: ovs-vsctl: 'add-port' command requires at least 2 arguments",
    ]);
    const many = expectFailure("ovs-vsctl del-br br0 br1", "E0104");
    assert.equal(primaryText(many.d, many.at), "br1");
    assert.deepEqual(many.d.notes, [
      "ovs-vsctl prints: ovs-vsctl: 'del-br' command takes at most 1 arguments",
    ]);
  });

  await t.step("unknown commands, options, tables and malformed settings", () => {
    const c = expectFailure("ovs-vsctl addbr br0", "E0105");
    assert.deepEqual(c.d.notes, [
      "ovs-vsctl prints: ovs-vsctl: unknown command 'addbr'; use --help for help",
    ]);
    assert.equal(c.d.help[0], "did you mean `add-br`?");
    const o = expectFailure("ovs-vsctl --may-exist del-br br0", "E0101");
    assert.deepEqual(o.d.notes, [
      "ovs-vsctl prints: ovs-vsctl: 'del-br' command has no '--may-exist' option",
    ]);
    // A unique prefix is a table name (`Interfac`); one letter too many is not.
    expectParse("ovs-vsctl set Interfac vhu0 type=dpdk");
    const table = expectFailure("ovs-vsctl set Interfaces vhu0 type=dpdk", "E0109");
    assert.equal(table.d.message, "unknown table `Interfaces`");
    assert.equal(table.d.help[0], "did you mean `Interface`?");
    expectFailure("ovs-vsctl list Q", "E0109"); // QoS and Queue
    const s = expectFailure("ovs-vsctl set Interface vhu0 type", "E0110");
    assert.equal(primaryText(s.d, s.at), "type");
    expectFailure("ovs-vsctl add-br br0 -- -- show", "E0103");
    expectFailure("ovs-vsctl", "E0103");
    expectFailure("ovs-vsctl add-bond br0 bond0 a b", "E0120");
  });
});
