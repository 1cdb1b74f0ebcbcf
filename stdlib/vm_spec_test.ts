import assert from "node:assert/strict";
import { Diagnostics } from "../lang/diagnostic.ts";
import { testQemu } from "./check/test_commands.ts";
import { resolveQemu } from "./qemu_config.ts";
import { vmSpecOf } from "./vm_spec.ts";

function mapOf(line: string) {
  const cmd = testQemu(line);
  const diags = new Diagnostics();
  const config = resolveQemu(cmd, diags);
  assert.ok(config, diags.items.map((d) => d.message).join("; "));
  return { map: vmSpecOf(config, 0n), text: line };
}

function at(m: ReturnType<typeof mapOf>, span: { start: number; end: number }): string {
  return m.text.slice(span.start, span.end);
}

Deno.test("vmSpecOf maps a vhost-net NIC with its defaults and locates its properties", () => {
  const m = mapOf(
    "qemu-system-x86_64 -name vm1 -smp 4 -m 2G -netdev tap,id=n0,ifname=tap0,vhost=on,queues=2 " +
      "-device virtio-net-pci,netdev=n0,mq=on,vectors=6,packed=on,mac=52:54:00:00:00:09",
  );
  const s = m.map.spec;
  assert.equal(s.name, "vm1");
  assert.equal(s.cpus, 4);
  assert.equal(s.ramSize, 2 * 2 ** 30);
  const nd = s.netdevs[0];
  assert.ok(nd?.kind === "tap");
  assert.equal(nd.queues, 2);
  assert.equal(nd.vhost, true);
  const d = s.devices[0];
  assert.ok(d?.kind === "virtio-net-pci");
  assert.equal(d.netdev, 0);
  assert.equal(d.mq, true);
  assert.equal(d.vectors, 6);
  assert.equal(d.packed, true);
  assert.equal(d.eventIdx, true, "QEMU's default");
  assert.equal(d.txBurst, 256, "x-txburst default");
  assert.equal(d.mac, "52:54:00:00:00:09");
  assert.equal(at(m, m.map.locate({ netdev: 0, prop: "ifname" })), "tap0");
  assert.equal(at(m, m.map.locate({ netdev: 0, prop: "queues" })), "2");
  assert.equal(at(m, m.map.locate({ device: 0, prop: "packed" })), "on");
  assert.equal(at(m, m.map.locate({ vm: "name" })), "vm1");
});

Deno.test("vmSpecOf takes RAM from NUMA memory backends with share=on", () => {
  const m = mapOf(
    "qemu-system-x86_64 -m 1G -object memory-backend-memfd,id=mem0,size=1G,share=on " +
      "-numa node,memdev=mem0",
  );
  const ram = m.map.spec.ram;
  assert.equal(ram.length, 1);
  assert.equal(ram[0]?.name, "mem0");
  assert.equal(ram[0]?.shared, true);
  assert.equal(ram[0]?.size, 2 ** 30);
});

Deno.test("vmSpecOf gives NICs without mac= QEMU's 52:54:00:12:34:56 sequence", () => {
  const m = mapOf(
    "qemu-system-x86_64 -netdev user,id=a -netdev user,id=b " +
      "-device virtio-net-pci,netdev=a -device virtio-net-pci,netdev=b",
  );
  const macs = m.map.spec.devices.map((d) => (d.kind === "virtio-net-pci" ? d.mac : ""));
  assert.deepEqual(macs, ["52:54:00:12:34:56", "52:54:00:12:34:57"]);
});

Deno.test("a path to an unknown index falls back to the whole command line", () => {
  const m = mapOf("qemu-system-x86_64 -m 512M");
  const span = m.map.locate({ netdev: 3, prop: "ifname" });
  assert.equal(at(m, span), m.text);
});
