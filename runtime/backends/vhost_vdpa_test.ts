import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { testLab, vhostVdpaNetdev, virtioNet, vmSpec } from "./testdata/lab_rig.ts";
import type { Lab } from "../lab.ts";
import { VhostVdpaBackend } from "./vhost_vdpa.ts";
import { describeVmError } from "../qemu/vm_spec.ts";
import { VdpaSimNet } from "../devices/vdpa_sim_net.ts";
import { VdpaSimNetWorker } from "../devices/vdpa_sim_net_worker.ts";
import { formatHop } from "../trace/format.ts";

const MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56] as const;

/** modprobe vdpa vhost_vdpa vdpa_sim_net; vdpa dev add name vdpa0 mgmtdev vdpasim_net mac … */
function simHost(lab: Lab, o: { deviceFeatures?: bigint } = {}): void {
  for (const m of ["vdpa", "vhost_vdpa", "vdpa_sim_net"]) {
    const r = lab.host.modprobe(m);
    if (!r.ok) throw new Error(`modprobe ${m}`);
  }
  const d = lab.host.vdpaNetlink.devNew({
    name: "vdpa0",
    mgmtdev: { dev: "vdpasim_net" },
    ...(o.deviceFeatures === undefined ? { mac: MAC } : {}),
    ...(o.deviceFeatures !== undefined ? { deviceFeatures: o.deviceFeatures } : {}),
  });
  if (!d.ok) throw new Error(`dev add: ${JSON.stringify(d.error)}`);
}

function startVm(lab: Lab, name = "vm1", o: { svq?: boolean; path?: string } = {}) {
  return lab.startVm(
    vmSpec(name, [vhostVdpaNetdev(o.path, { svq: o.svq ?? false })], [virtioNet()]),
  );
}

Deno.test("vhost-vdpa + vdpa_sim_net in a VM", async (t) => {
  await t.step("QEMU opens /dev/vhost-vdpa-0 and the guest brings eth0 up on it", () => {
    const lab = testLab();
    simHost(lab);
    const vm = startVm(lab);
    assert(vm.ok, vm.ok ? "" : describeVmError(vm.error).message);
    const b = vm.value.backends.get("vdpa0");
    assert(b instanceof VhostVdpaBackend);
    assert(b.device instanceof VdpaSimNet);
    assertEquals(b.device.getStatus() & 0xf, 0xf, "ACK|DRIVER|FEATURES_OK|DRIVER_OK");
    assert((b.device.getDriverFeatures() & (1n << 33n)) !== 0n, "ACCESS_PLATFORM negotiated");
    assert(b.device.datapath instanceof VdpaSimNetWorker);
    assert(!b.hostNotifier, "vdpa_sim has no doorbell page");
  });

  await t.step("loopback: 1000 frames to the guest's own MAC all come back", () => {
    const lab = testLab();
    simHost(lab);
    const vm = startVm(lab);
    assert(vm.ok);
    const tr = lab.addTraffic({
      name: "t1",
      from: "vm1.eth0",
      to: "vm1.eth0",
      frameBytes: 64,
      count: 1000,
      rate: "line",
      burst: 32,
    });
    assert(tr.ok);
    const run = lab.run();
    assertEquals(run.violations, []);
    const s = lab.metrics.summary("t1");
    assertEquals(s.delivered, 1000);
    assertEquals(s.dropped, 0);
    assertEquals(s.per_packet.copies, 2, "TX buffer → bounce → RX buffer");
    const b = vm.value.backends.get("vdpa0") as VhostVdpaBackend;
    const dev = b.device as VdpaSimNet;
    assertEquals(dev.stats.rx.packets, 1000n);
    const w = dev.datapath as VdpaSimNetWorker;
    assert(w.busyRuns >= Math.ceil(1000 / 5), "at most 5 packets per run");
  });

  await t.step("the first packet's hops", async (t2) => {
    const lab = testLab();
    simHost(lab);
    assert(startVm(lab).ok);
    lab.addTraffic({
      name: "t1",
      from: "vm1.eth0",
      to: "vm1.eth0",
      frameBytes: 64,
      count: 8,
      rate: "line",
      burst: 8,
    });
    lab.run();
    const p = lab.recorder.packetTrace("t1", 1);
    assert(p.ok);
    assert(p.value.complete);
    await t2.assertSnapshot(p.value.hops.map(formatHop).join("\n"), { serializer: String });
  });

  await t.step("a second VM on the same node: Could not open … Device or resource busy", () => {
    const lab = testLab();
    simHost(lab);
    assert(startVm(lab).ok);
    const second = startVm(lab, "vm2");
    assert(!second.ok);
    const d = describeVmError(second.error);
    assert(d.qemu.endsWith("Could not open '/dev/vhost-vdpa-0': Device or resource busy"), d.qemu);
    assert(second.error.kind === "backend");
    assertEquals(second.error.at, { netdev: 0, prop: "vhostdev" });
    assert(d.message.includes("qemu:vm1"));
  });

  await t.step("no such node: ENOENT, and the help names a device bound to virtio_vdpa", () => {
    const lab = testLab();
    simHost(lab);
    lab.host.modprobe("virtio_vdpa");
    assert(lab.host.write("/sys/bus/vdpa/drivers/vhost_vdpa/unbind", "vdpa0").ok);
    assert(lab.host.write("/sys/bus/vdpa/drivers/virtio_vdpa/bind", "vdpa0").ok);
    const vm = startVm(lab);
    assert(!vm.ok);
    const d = describeVmError(vm.error);
    assert(d.qemu.endsWith("Could not open '/dev/vhost-vdpa-0': No such file or directory"));
    assert(d.help?.includes("vdpa0 is bound to virtio_vdpa"), d.help);
  });

  await t.step(
    "x-svq=on with device_features lacking ACCESS_PLATFORM: QEMU's SVQ error at x-svq",
    () => {
      const lab = testLab();
      simHost(lab, { deviceFeatures: 0x1_0002_0000n });
      const vm = startVm(lab, "vm1", { svq: true });
      assert(!vm.ok);
      assert(vm.error.kind === "backend");
      assertEquals(vm.error.at, { netdev: 0, prop: "x-svq" });
      assert(
        describeVmError(vm.error).qemu.endsWith(
          "SVQ Invalid device feature flags, offer: 0x100020000, ok: 0x300020000",
        ),
      );
      // QEMU closed the node: it can be opened again
      assert(lab.host.open("/dev/vhost-vdpa-0", "qemu:vm2").ok);
    },
  );
});

Deno.test("vhost-vdpa x-svq=on: QEMU's shadow virtqueues relay every descriptor", async (t) => {
  function svqLab() {
    const lab = testLab();
    simHost(lab);
    const vm = startVm(lab, "vm1", { svq: true });
    assert(vm.ok, vm.ok ? "" : describeVmError(vm.error).message);
    return { lab, vm: vm.value };
  }

  await t.step("guest RAM at IOVAs from QEMU's tree; the device gets the shadow rings", () => {
    const { lab, vm } = svqLab();
    const b = vm.backends.get("vdpa0") as VhostVdpaBackend;
    assertEquals(b.svqs.size, 2, "rx0 and tx0 shadowed");
    assert(!b.hostNotifier, "no host notifier with SVQ");
    assertEquals(b.path.name, "vhost-vdpa + shadow virtqueues (x-svq)");
    const updates = lab.controlLog.filter((e) => e.action === "iotlb-update");
    // guest RAM first, then each shadow ring: driver area read-only, device area writable
    assertEquals(updates[0]?.details.iova, 0);
    const rings = updates.slice(1).map((e) => `${e.details.perm}`);
    assertEquals(rings, ["ro", "rw", "ro", "rw"]);
    const addr = lab.controlLog.filter((e) => e.details.name === "VHOST_SET_VRING_ADDR");
    const tx = b.svqs.get(1);
    assert(tx !== undefined);
    assert(addr.some((e) => e.details.desc === `0x${tx.iova.desc.toString(16)}`));
  });

  await t.step("loopback works; relays on QEMU's thread, interrupts from QEMU", () => {
    const { lab, vm } = svqLab();
    const tr = lab.addTraffic({
      name: "t1",
      from: "vm1.eth0",
      to: "vm1.eth0",
      frameBytes: 64,
      count: 2000,
      rate: { kind: "pps", pps: 100_000 },
    });
    assert(tr.ok);
    const run = lab.run();
    assertEquals(run.violations, []);
    const s = lab.metrics.summary("t1");
    assertEquals(s.delivered, 2000);
    assertEquals(s.per_packet.copies, 2, "SVQ moves descriptors, vdpa_sim still copies twice");
    assert(s.per_packet.vmexits > 0, "every guest kick exits to QEMU");
    assert(s.per_packet.syscalls > 0, "QEMU reads and writes eventfds");
    const qemu = s.cpu_ns[`qemu-vm1:main`] ?? 0;
    assert(qemu / 2000 >= 1500, `svq_relay_per_packet on QEMU's thread: ${qemu / 2000} ns/pkt`);
    const b = vm.backends.get("vdpa0") as VhostVdpaBackend;
    assert((b.svqs.get(1)?.relayed ?? 0) >= 2000);
  });

  await t.step("the first packet's hops go through QEMU", async (t2) => {
    const { lab } = svqLab();
    lab.addTraffic({
      name: "t1",
      from: "vm1.eth0",
      to: "vm1.eth0",
      frameBytes: 64,
      count: 4,
      rate: { kind: "pps", pps: 100_000 },
    });
    lab.run();
    const p = lab.recorder.packetTrace("t1", 1);
    assert(p.ok);
    assertEquals(p.value.hops.at(-1)?.action, "deliver");
    assert(p.value.hops.some((h) => h.comp === "qemu.svq" && h.action === "forward"));
    await t2.assertSnapshot(p.value.hops.map(formatHop).join("\n"), { serializer: String });
  });
});
