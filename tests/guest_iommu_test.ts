/**
 * A guest that translates through its vIOMMU (`-kernel … -append "intel_iommu=on"`, or
 * virtio-iommu without `iommu=pt`): its virtio_net maps every transmit buffer, the device
 * sees IOVAs, and each backend reaches guest memory its own way — QEMU's virtio-net through
 * the vIOMMU, vhost-net through its device IOTLB and QEMU's miss handling, vhost-vdpa through
 * the IOTLB updates QEMU relays. What it costs: the guest's exits for invalidations (caching
 * mode, strict unmaps, lazy flushes) and vhost's miss round trips.
 */

import assert from "node:assert/strict";
import { Session } from "../stdlib/session.ts";
import type { FlowSummary } from "../runtime/trace/metrics.ts";

const HOST = "modprobe tun\nmodprobe bridge\nmodprobe vhost_net\n" +
  "ip link add name br0 type bridge\nip link set dev br0 up\n" +
  "ip tuntap add dev tap0 mode tap vnet_hdr\nip link set dev tap0 master br0\n" +
  "ip link set dev tap0 up\n" +
  "ip tuntap add dev tap1 mode tap vnet_hdr\nip link set dev tap1 master br0\n" +
  "ip link set dev tap1 up\n";

/** vm1 (the guest under test) and a plain vm2 on the same bridge. */
function pair(o: { vhost?: "on" | "off"; iommu?: string; boot?: string; nic?: string }): string {
  const boot = o.boot === undefined ? "" : `-kernel /boot/vmlinuz -append "${o.boot}" `;
  return HOST +
    `qemu-system-x86_64 -name vm1 -machine q35,accel=kvm,kernel-irqchip=split -smp 2 -m 1G ${boot}` +
    `${o.iommu ?? "-device intel-iommu,caching-mode=on"} ` +
    `-netdev tap,id=n0,ifname=tap0,script=no,vhost=${o.vhost ?? "off"} ` +
    `-device virtio-net-pci,netdev=n0,disable-legacy=on,${o.nic ?? "iommu_platform=on"}\n` +
    "qemu-system-x86_64 -name vm2 -machine q35,accel=kvm -smp 2 -m 1G " +
    "-netdev tap,id=n0,ifname=tap1,script=no,vhost=off " +
    "-device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:02\n";
}

async function run(script: string): Promise<{ s: Session; out: string }> {
  let out = "";
  const s = new Session({ stdout: (t) => (out += t) });
  await s.runText(script, "iommu.vdpa");
  assert.deepEqual(
    s.diagnostics.items.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.message}`),
    [],
  );
  return { s, out };
}

const TRAFFIC = "traffic t1 from vm1.eth0 to vm2.eth0 size=64 count=1000 rate=100Kpps\n" +
  "traffic t2 from vm2.eth0 to vm1.eth0 size=64 count=1000 rate=100Kpps\nrun\n";

function sums(s: Session): { t1: FlowSummary; t2: FlowSummary } {
  const all = s.lab.metrics.summaries();
  const t1 = all.t1;
  const t2 = all.t2;
  assert.ok(t1 !== undefined && t2 !== undefined);
  for (const t of [t1, t2]) {
    assert.equal(t.delivered, t.sent, `${t.name} delivered`);
    assert.equal(t.dropped_by_reason.corrupt_payload, 0);
  }
  return { t1, t2 };
}

/** The rx0 ring address vm1's driver programmed (queue_enable). */
function rx0Addr(s: Session): number {
  const e = s.lab.controlLog.find((x) =>
    x.comp === "vm1.eth0" && x.details.name === "queue_enable" && x.details.q === "rx0"
  );
  return Number(e?.details.addr);
}

Deno.test("QEMU userspace, intel-iommu with caching mode, lazy unmaps: an exit per TX map, IOVAs in the rings", async () => {
  const { s } = await run(pair({ boot: "intel_iommu=on" }) + TRAFFIC);
  const { t1, t2 } = sums(s);
  assert.ok(rx0Addr(s) >= 0x8000_0000, "the ring is at an IOVA beyond the guest's 1 GiB");
  // One invalidation per map, plus a few lazy flushes (one per 256 unmaps or 10 ms).
  assert.ok(t1.totals.vmexits_userspace >= 1000, `${t1.totals.vmexits_userspace}`);
  assert.ok(t1.totals.vmexits_userspace < 1000 + 10, `${t1.totals.vmexits_userspace}`);
  assert.equal(t2.totals.vmexits_userspace, 0, "receive buffers are premapped");
  const vi = s.lab.vm("vm1")?.viommu;
  assert.ok(vi !== undefined && vi.ranges("0000:00:03.0").length > 0, "the guest's mappings");
  assert.equal(vi.faults.total, 0);
});

Deno.test("iommu.strict=1: each unmap invalidates too", async () => {
  const { s } = await run(pair({ boot: "intel_iommu=on iommu.strict=1" }) + TRAFFIC);
  const { t1 } = sums(s);
  assert.equal(t1.totals.vmexits_userspace, 2000, "map + unmap per packet");
});

Deno.test("intel-iommu without caching mode: maps cost nothing, only the lazy flushes exit", async () => {
  const { s } = await run(
    pair({ boot: "intel_iommu=on", iommu: "-device intel-iommu,caching-mode=off" }) + TRAFFIC,
  );
  const { t1 } = sums(s);
  assert.ok(t1.totals.vmexits_userspace > 0 && t1.totals.vmexits_userspace < 20);
});

Deno.test("virtio-iommu translates without any command line; a MAP request per buffer", async () => {
  const { s } = await run(
    pair({ boot: "console=ttyS0", iommu: "-device virtio-iommu-pci" }) + TRAFFIC,
  );
  const { t1 } = sums(s);
  assert.ok(t1.totals.vmexits_userspace >= 1000);
});

Deno.test("identity: the lab's image (iommu=pt), DMAR left off, or iommu_platform off", async (t) => {
  const cases: [string, Parameters<typeof pair>[0]][] = [
    ["no -append: the lab's image boots with iommu=pt", {}],
    ["intel_iommu=on iommu=pt", { boot: "intel_iommu=on iommu=pt" }],
    ["no intel_iommu=on: DMAR off", { boot: "console=ttyS0" }],
    ["iommu_platform=off: the ring bypasses the DMA API", {
      boot: "intel_iommu=on",
      nic: "iommu_platform=off",
    }],
  ];
  for (const [name, o] of cases) {
    await t.step(name, async () => {
      const { s } = await run(pair(o) + TRAFFIC);
      const { t1 } = sums(s);
      assert.ok(rx0Addr(s) < 0x4000_0000, "a guest-physical ring address");
      assert.equal(t1.totals.vmexits_userspace, 0);
    });
  }
});

Deno.test("vhost-net in a translated guest: one IOTLB miss round trip per fresh TX IOVA", async (t) => {
  const { s, out } = await run(
    pair({ boot: "intel_iommu=on", vhost: "on" }) + TRAFFIC + "trace t1 packet 3\n",
  );
  const { t1, t2 } = sums(s);
  assert.equal(t1.totals.iotlb_miss_roundtrips, 1000, "a new IOVA per packet: a miss each");
  // 256 buffers of 1536 bytes premapped: 96 pages, plus the rings' pages, each missed once.
  const rx = t2.totals.iotlb_miss_roundtrips;
  assert.ok(rx >= 96 && rx <= 110, `${rx} receive-side misses`);
  await t.assertSnapshot(out.slice(out.indexOf("packet 3 of t1")), { serializer: String });
});

Deno.test("vhost-vdpa in a translated guest: QEMU relays every map as an IOTLB update", async () => {
  const { s } = await run(
    "modprobe vdpa_sim_net\nmodprobe vhost_vdpa\n" +
      "vdpa dev add name vdpa0 mgmtdev vdpasim_net mac 52:54:00:00:00:04\n" +
      "qemu-system-x86_64 -name vm4 -machine q35,accel=kvm,kernel-irqchip=split -smp 2 -m 1G " +
      '-kernel /boot/vmlinuz -append "intel_iommu=on" ' +
      "-object memory-backend-memfd,id=mem1,size=1G,share=on -numa node,memdev=mem1 " +
      "-device intel-iommu,caching-mode=on -netdev type=vhost-vdpa,vhostdev=/dev/vhost-vdpa-0,id=v0 " +
      "-device virtio-net-pci,netdev=v0,mac=52:54:00:00:00:04,disable-legacy=on,iommu_platform=on\n" +
      "traffic t1 from vm4.eth0 to vm4.eth0 size=64 count=500 rate=100Kpps\nrun\n",
  );
  const t1 = s.lab.metrics.summaries().t1;
  assert.equal(t1?.delivered, 500);
  const updates = s.lab.controlLog.filter((e) => e.action === "iotlb-update").length;
  assert.ok(updates >= 500, `${updates} updates: at least one per transmitted buffer`);
});

Deno.test("vhost-user in a translated guest is refused at DRIVER_OK (its IOTLB messages are not modelled)", async () => {
  let out = "";
  const s = new Session({ stdout: (t) => (out += t) });
  await s.runText(
    "dpdk-testpmd -l 2-3 --no-pci --vdev net_vhost0,iface=/tmp/vu0,iommu-support=1 -- -a\n" +
      "qemu-system-x86_64 -name vm1 -machine q35,accel=kvm,kernel-irqchip=split -smp 2 -m 1G " +
      '-kernel /boot/vmlinuz -append "intel_iommu=on" -device intel-iommu,caching-mode=on ' +
      "-object memory-backend-memfd,id=mem0,size=1G,share=on -numa node,memdev=mem0 " +
      "-chardev socket,id=c0,path=/tmp/vu0 -netdev vhost-user,id=n0,chardev=c0 " +
      "-device virtio-net-pci,netdev=n0,iommu_platform=on\n",
    "vu.vdpa",
  );
  const w = s.diagnostics.items.find((d) => d.code === "W0401");
  assert.ok(w !== undefined, s.diagnostics.items.map((d) => d.code).join());
  assert.match(w.message, /not modelled by the lab: boot the guest with iommu=pt/);
});
