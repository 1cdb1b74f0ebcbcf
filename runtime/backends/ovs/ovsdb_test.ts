import assert from "node:assert/strict";
import { describeOvsdbError, formatOvsShow, OvsDb } from "./ovsdb.ts";

Deno.test("OvsDb.transact() commits all of a transaction or nothing", () => {
  const db = new OvsDb({ uuid: "u" });
  assert.ok(db.transact((tx) => tx.addBridge("br0", false)).ok);
  const gen = db.generation;
  const r = db.transact((tx) => {
    const a = tx.addBridge("br1", false);
    if (!a.ok) return a;
    return tx.addPort("br9", "p0", false);
  });
  assert.ok(!r.ok);
  assert.equal(describeOvsdbError(r.error), "ovs-vsctl: no bridge named br9");
  assert.deepEqual(db.bridges().map((b) => b.name), ["br0"], "br1 was rolled back");
  assert.equal(db.generation, gen);
});

Deno.test("ovs-vsctl's errors for bridges and ports that exist or do not", () => {
  const db = new OvsDb({ uuid: "u" });
  db.transact((tx) => {
    tx.addBridge("br0", false);
    return tx.addPort("br0", "p0", false);
  });
  const texts = [
    db.transact((tx) => tx.addBridge("br0", false)),
    db.transact((tx) => tx.addPort("br0", "p0", false)),
    db.transact((tx) => tx.delPort(undefined, "p9", false)),
    db.transact((tx) => tx.set("Interface", "p9", "type", undefined, "dpdk")),
  ].map((r) => r.ok ? "ok" : describeOvsdbError(r.error));
  assert.deepEqual(texts, [
    "ovs-vsctl: cannot create a bridge named br0 because a bridge named br0 already exists",
    "ovs-vsctl: cannot create a port named p0 because a port named p0 already exists on bridge br0",
    "ovs-vsctl: no port named p9",
    'ovs-vsctl: no row "p9" in table Interface',
  ]);
  assert.ok(db.transact((tx) => tx.addBridge("br0", true)).ok, "--may-exist");
  assert.ok(db.transact((tx) => tx.delPort(undefined, "p9", true)).ok, "--if-exists");
});

Deno.test("formatOvsShow() lists bridges, ports and interfaces in name order", () => {
  const db = new OvsDb({ uuid: "2c8e4b5a-0000-4000-8000-000000000001", version: "3.3.1" });
  db.transact((tx) => {
    tx.addBridge("br0", false);
    tx.set("Bridge", "br0", "datapath_type", undefined, "netdev");
    tx.addPort("br0", "vhu0", false);
    tx.set("Interface", "vhu0", "type", undefined, "dpdkvhostuserclient");
    return tx.set("Interface", "vhu0", "options", "vhost-server-path", "/tmp/vhu0");
  });
  assert.equal(
    formatOvsShow(db),
    [
      "2c8e4b5a-0000-4000-8000-000000000001",
      "    Bridge br0",
      "        datapath_type: netdev",
      "        Port br0",
      "            Interface br0",
      "                type: internal",
      "        Port vhu0",
      "            Interface vhu0",
      "                type: dpdkvhostuserclient",
      '                options: {vhost-server-path="/tmp/vhu0"}',
      '    ovs_version: "3.3.1"',
      "",
    ].join("\n"),
  );
});
