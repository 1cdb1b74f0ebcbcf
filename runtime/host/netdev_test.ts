import assert from "node:assert/strict";
import { formatHostError } from "./host_error.ts";
import { describeHostEvent, type HostEvent } from "./host_event.ts";
import { formatMac, MacGenerator } from "./mac.ts";
import { NetdevTable } from "./netdev.ts";

function table(): { net: NetdevTable; events: HostEvent[] } {
  const events: HostEvent[] = [];
  return { net: new NetdevTable((e) => events.push(e), new MacGenerator(42)), events };
}

Deno.test("NetdevTable starts with lo up at ifindex 1 and never reuses an ifindex", () => {
  const { net } = table();
  const lo = net.get("lo");
  assert.ok(lo !== undefined && lo.ifindex === 1 && lo.up);
  assert.equal(net.operstate(lo), "unknown");
  net.createTap("tap0", { multiQueue: false, vnetHdr: true });
  net.remove("tap0");
  const again = net.createTap("tap0", { multiQueue: false, vnetHdr: true });
  assert.equal(again.ifindex, 3, "ifindex 2 is not handed out again");
});

Deno.test("A tap has carrier only while a queue is attached", () => {
  const { net } = table();
  const tap = net.createTap("tap0", { multiQueue: false, vnetHdr: true });
  net.setUp("tap0", true);
  assert.equal(net.isRunning(tap), false, "up without a queue is NO-CARRIER");
  assert.equal(net.operstate(tap), "down");
  assert.ok(net.attachQueue("tap0", "qemu:vm1").ok);
  assert.equal(net.operstate(tap), "unknown", "tun reports no operstate of its own");
  const second = net.attachQueue("tap0", "qemu:vm2");
  assert.equal(second.ok, false);
  if (!second.ok) {
    assert.equal(formatHostError(second.error), "ioctl(TUNSETIFF): Device or resource busy");
  }
  net.detachQueue("tap0", "qemu:vm1");
  assert.equal(net.isRunning(tap), false);
});

Deno.test("MTU changes are range-checked with dev_validate_mtu's messages", async (t) => {
  const { net } = table();
  net.createTap("tap0", { multiQueue: false, vnetHdr: false });
  const cases: [number, string | undefined][] = [
    [67, "Error: mtu less than device minimum."],
    [68, undefined],
    [9000, undefined],
    [65535, undefined],
    [65536, "Error: mtu greater than device maximum."],
  ];
  for (const [mtu, text] of cases) {
    await t.step(`mtu ${mtu}`, () => {
      const r = net.setMtu("tap0", mtu);
      if (text === undefined) assert.ok(r.ok && net.get("tap0")?.mtu === mtu);
      else assert.equal(!r.ok && formatHostError(r.error), text);
    });
  }
  const missing = net.setMtu("tap9", 1500);
  assert.equal(!missing.ok && formatHostError(missing.error), 'Cannot find device "tap9"');
});

Deno.test("Bridge ports: only Ethernet devices, moving between bridges, MTU following the smallest port", () => {
  const { net, events } = table();
  net.createBridge("br0");
  net.createBridge("br1");
  net.createTap("tap0", { multiQueue: false, vnetHdr: false });
  net.createTap("tun0", { multiQueue: false, vnetHdr: false, tun: true });
  net.setMtu("tap0", 1400);
  assert.ok(net.setMaster("tap0", "br0").ok);
  assert.equal(net.get("br0")?.mtu, 1400, "br_mtu_auto_adjust");
  assert.ok(net.setMaster("tap0", "br1").ok, "enslaving elsewhere leaves the old bridge first");
  assert.equal(net.get("tap0")?.master, "br1");
  const masters = events.filter((e) => e.kind === "master-change").map(describeHostEvent);
  assert.deepEqual(masters, [
    "master-change tap0 br0",
    "master-change tap0 nomaster",
    "master-change tap0 br1",
  ]);
  const cases: [string, string, string][] = [
    ["br0", "br1", "Error: Can not enslave a bridge to a bridge."],
    ["lo", "br0", "RTNETLINK answers: Invalid argument"],
    ["tun0", "br0", "RTNETLINK answers: Invalid argument"],
    ["tap0", "tun0", "RTNETLINK answers: Operation not supported"],
    ["tap0", "br9", 'Error: argument "br9" is wrong: Device does not exist'],
  ];
  for (const [port, master, text] of cases) {
    const r = net.setMaster(port, master);
    assert.equal(!r.ok && formatHostError(r.error), text, `${port} → ${master}`);
  }
});

Deno.test("A bridge runs when a port runs, and takes its lowest port address", () => {
  const { net } = table();
  const br = net.createBridge("br0");
  const own = formatMac(net.mac(br));
  const a = net.createTap("tap0", { multiQueue: false, vnetHdr: false });
  const b = net.createTap("tap1", { multiQueue: false, vnetHdr: false });
  net.setMaster("tap0", "br0");
  net.setMaster("tap1", "br0");
  const lowest = [formatMac(a.ownMac), formatMac(b.ownMac)].sort()[0];
  assert.equal(formatMac(net.mac(br)), lowest);
  net.setUp("br0", true);
  assert.equal(net.operstate(br), "down", "no running port");
  net.setUp("tap0", true);
  net.attachQueue("tap0", "qemu:vm1");
  assert.equal(net.operstate(br), "up");
  net.remove("tap0");
  net.remove("tap1");
  assert.equal(formatMac(net.mac(br)), own, "back to its own address without ports");
  assert.equal(net.operstate(br), "down");
});

Deno.test("MacGenerator is deterministic and yields locally administered unicast addresses", () => {
  const a = new MacGenerator(7);
  const b = new MacGenerator(7);
  for (let i = 0; i < 50; i++) {
    const m = a.next();
    assert.deepEqual(m, b.next());
    assert.equal(m[0] & 0x01, 0, "unicast");
    assert.equal(m[0] & 0x02, 0x02, "locally administered");
  }
  assert.notDeepEqual(new MacGenerator(8).next(), new MacGenerator(7).next());
});
