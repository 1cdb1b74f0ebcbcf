/**
 * Hardware vDPA and VFIO datapaths through the scripts a user writes: the host notifier
 * decides whether a TX kick exits, VFIO has no host software hop at all, and a DMA to an
 * IOVA the device's translation no longer maps breaks the queue (NEEDS_RESET) and drops the
 * packet `iommu_fault`.
 */

import assert from "node:assert/strict";
import { Session } from "../stdlib/session.ts";
import { VhostVdpaBackend } from "../runtime/backends/vhost_vdpa.ts";
import { VHOST_IOTLB_INVALIDATE } from "../runtime/iommu/vhost_iotlb_msg.ts";
import { HwVdpaNetDatapath } from "../runtime/devices/hw_vdpa_net_datapath.ts";

const HOST = `
host cpu ghz=3.0 cores=16
host cmdline "intel_iommu=on iommu=pt"
host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=100Gbps
`;

function mlx5(pagePerVq: boolean, traffic: string): string {
  return `${HOST}
modprobe vdpa
modprobe vhost_vdpa
modprobe mlx5_vdpa
echo 2 > /sys/class/net/ens1f0/device/sriov_numvfs
vdpa dev add name vdpa0 mgmtdev pci/0000:3b:00.2 mac 52:54:00:00:00:01
qemu-system-x86_64 -name vm1 -machine q35,accel=kvm -cpu host -smp 2 -m 4G \\
  -object memory-backend-file,id=mem0,size=4G,mem-path=/dev/hugepages,share=on \\
  -numa node,memdev=mem0 \\
  -netdev type=vhost-vdpa,vhostdev=/dev/vhost-vdpa-0,id=vdpa0 \\
  -device virtio-net-pci,netdev=vdpa0,mac=52:54:00:00:00:01,page-per-vq=${
    pagePerVq ? "on" : "off"
  },disable-legacy=on
${traffic}
`;
}

async function run(script: string): Promise<Session> {
  const s = new Session({ mode: "run", stdout: () => {} });
  await s.runText(script, "tests/vdpa_datapath.vdpa");
  const errors = s.diagnostics.items.filter((d) => d.severity === "error");
  assert.deepEqual(errors.map((d) => `${d.code} ${d.message}`), []);
  return s;
}

const TX = "traffic t1 from vm1.eth0 to wire size=64 count=5000 rate=1Mpps burst=32\nrun";

Deno.test("vhost-vdpa on mlx5: the host notifier decides the TX exit", async (t) => {
  await t.step("page-per-vq=on: the notify write is the doorbell, no exit", async () => {
    const s = await run(mlx5(true, TX));
    const m = s.lab.metrics.summary("t1");
    assert.equal(m.delivered, 5000);
    assert.equal(m.per_packet.vmexits, 0);
    assert.ok(m.per_packet.doorbells > 0);
    const b = s.lab.vm("vm1")?.backends.get("vdpa0");
    assert.ok(b instanceof VhostVdpaBackend && b.hostNotifier);
  });

  await t.step("page-per-vq=off: exit, ioeventfd, kick_vq writes the doorbell", async () => {
    const s = await run(mlx5(false, TX));
    const m = s.lab.metrics.summary("t1");
    assert.equal(m.delivered, 5000);
    assert.ok(m.per_packet.vmexits > 0, "every kick exits");
    assert.equal(m.per_packet.vmexits, m.per_packet.kicks);
    const b = s.lab.vm("vm1")?.backends.get("vdpa0");
    assert.ok(b instanceof VhostVdpaBackend && !b.hostNotifier);
    assert.equal(b.path.name, "vhost-vdpa + hardware (no host notifier)");
    const p = s.lab.recorder.packetTrace("t1", 1);
    assert.ok(p.ok);
    const doorbell = p.value.hops.find((h) => h.comp === "vhost-vdpa" && h.action === "doorbell");
    assert.ok(doorbell !== undefined, "the kernel's doorbell write in the vCPU's exit");
    assert.match(doorbell.ctx, /^vm1:vcpu/);
  });

  await t.step(
    "an IOVA the device no longer maps: DMA fault, NEEDS_RESET, queue lost",
    async () => {
      const s = await run(mlx5(true, ""));
      const lab = s.lab;
      const b = lab.vm("vm1")?.backends.get("vdpa0");
      assert.ok(b instanceof VhostVdpaBackend);
      // QEMU would never do this while the guest runs; a test can
      const inv = b.dev.writeIotlb({
        type: VHOST_IOTLB_INVALIDATE,
        iova: 0,
        size: 0x8000_0000,
        uaddr: 0,
        perm: 0,
      });
      assert.ok(inv.ok);
      const tr = lab.addTraffic({
        name: "t1",
        from: "vm1.eth0",
        to: "wire",
        frameBytes: 64,
        count: 100,
        rate: { kind: "pps", pps: 100_000 },
      });
      assert.ok(tr.ok);
      lab.run();
      const m = lab.metrics.summary("t1");
      // the NIC's read faulted: the device needs a reset, the guest's TX queue never completes
      assert.ok((b.device.getStatus() & 0x40) !== 0, "DEVICE_NEEDS_RESET");
      assert.equal(m.delivered, 0);
      assert.equal(m.dropped_by_reason.device_not_ready, 100, JSON.stringify(m.dropped_by_reason));
      const dp = b.device.datapath;
      assert.ok(dp instanceof HwVdpaNetDatapath && dp.engine.stats.faults === 1);
      const p = lab.recorder.packetTrace("t1", 1);
      assert.ok(p.ok);
      const fault = p.value.hops.find((h) => h.action === "fault");
      assert.ok(fault !== undefined && String(fault.details.what).includes("0x1065000"));
      const drop = p.value.hops.at(-1);
      assert.equal(drop?.action, "drop");
      assert.ok(String(drop?.details.detail).includes("DEVICE_NEEDS_RESET (cannot map"));
    },
  );
});

Deno.test("VFIO VF passthrough: no host software hop", async () => {
  const s = await run(`${HOST}
modprobe vfio-pci
echo 2 > /sys/class/net/ens1f0/device/sriov_numvfs
echo 0000:3b:00.2 > /sys/bus/pci/drivers/mlx5_core/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:3b:00.2/driver_override
echo 0000:3b:00.2 > /sys/bus/pci/drivers_probe
qemu-system-x86_64 -name vm1 -machine q35,accel=kvm -cpu host -smp 2 -m 4G \\
  -device vfio-pci,host=0000:3b:00.2
traffic t1 from vm1.eth0 to wire size=64 count=2000 rate=500kpps
traffic t2 from wire to vm1.eth0 size=64 count=2000 rate=200kpps
run
`);
  for (const name of ["t1", "t2"]) {
    const m = s.lab.metrics.summary(name);
    assert.equal(m.delivered, 2000, name);
    for (const c of ["vmexits", "syscalls", "wakeups", "context_switches", "copies"] as const) {
      assert.equal(m.per_packet[c], 0, `${name}: ${c}`);
    }
    const p = s.lab.recorder.packetTrace(name, 1);
    assert.ok(p.ok);
    const ctxs = new Set(p.value.hops.map((h) => h.ctx.split(":")[0]));
    for (const c of ctxs) assert.ok(["vm1", "nic", "wire"].includes(c ?? ""), `${name}: ${c}`);
  }
});
