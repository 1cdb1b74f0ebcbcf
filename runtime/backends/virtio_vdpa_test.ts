import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { testLab } from "./testdata/lab_rig.ts";
import type { Lab } from "../lab.ts";
import { describeHostEvent } from "../host/host_event.ts";
import { VdpaSimNet } from "../devices/vdpa_sim_net.ts";
import { VdpaSimNetWorker } from "../devices/vdpa_sim_net_worker.ts";
import { formatHop } from "../trace/format.ts";
import { TXQUEUELEN, virtioVdpaNetdevs } from "./virtio_vdpa.ts";

const MAC = [0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01] as const;

/** modprobe vdpa virtio_vdpa vdpa_sim_net; vdpa dev add name vdpa0 …; ip link set eth0 up. */
function virtioHost(lab: Lab, o: { up?: boolean; deviceFeatures?: bigint } = {}): void {
  for (const m of ["vdpa", "virtio_vdpa", "vdpa_sim_net"]) {
    const r = lab.host.modprobe(m);
    if (!r.ok) throw new Error(`modprobe ${m}`);
  }
  const d = lab.host.vdpaNetlink.devNew({
    name: "vdpa0",
    mgmtdev: { dev: "vdpasim_net" },
    mac: MAC,
    ...(o.deviceFeatures !== undefined ? { deviceFeatures: o.deviceFeatures } : {}),
  });
  if (!d.ok) throw new Error(`dev add: ${JSON.stringify(d.error)}`);
  if (o.up ?? true) {
    const u = lab.host.linkSetUp("eth0", true);
    if (!u.ok) throw new Error("ip link set eth0 up");
  }
}

function loop(lab: Lab, count: number, rate: "line" | { kind: "pps"; pps: number }) {
  const tr = lab.addTraffic({
    name: "t1",
    from: "eth0",
    to: "eth0",
    frameBytes: 64,
    count,
    rate: rate === "line" ? "line" : rate,
  });
  if (!tr.ok) throw new Error(JSON.stringify(tr.error));
  const run = lab.run();
  assertEquals(run.violations, []);
  return lab.metrics.summary("t1");
}

Deno.test("virtio-vdpa: the host's virtio_net on vdpa_sim_net", async (t) => {
  await t.step("control plane: probe, find_vqs before DRIVER_OK, netdev, bind (golden)", async (
    t2,
  ) => {
    const lab = testLab();
    const from = lab.hostEvents.length;
    virtioHost(lab, { up: false });
    const seq = lab.hostEvents.slice(from)
      .filter((e) =>
        e.kind.startsWith("virtio-") || e.kind === "netdev-create" ||
        (e.kind === "driver-bind" || e.kind === "device-add")
      )
      .map(describeHostEvent);
    // find_vqs ran before DRIVER_OK: the rings are set and ready on the device
    const v = lab.host.virtio.device("virtio0");
    assert(v !== undefined);
    assertEquals(v.vqs.length, 3, "rx0, tx0 and the control queue");
    for (const q of v.vqs) assert(v.device.getVqReady(q.index).ok);
    const rings = lab.controlLog.filter((e) => e.details.name === "find_vqs").map((e) =>
      `${e.comp} ${e.details.q} num ${e.details.len} desc 0x${Number(e.details.addr).toString(16)}`
    );
    seq.push(...rings);
    await t2.assertSnapshot(seq.join("\n"), { serializer: String });
  });

  await t.step("no data plane until the link is up; then eth0 loops back to itself", () => {
    const lab = testLab();
    virtioHost(lab);
    assert(lab.net.hasDatapath("eth0"));
    const s = loop(lab, 1000, { kind: "pps", pps: 200_000 });
    assertEquals(s.delivered, 1000);
    assertEquals(s.dropped, 0);
    assertEquals(s.per_packet.copies, 2, "TX buffer → bounce → RX buffer");
    assertEquals(s.per_packet.vmexits, 0);
    assertEquals(s.per_packet.interrupts, 0, "vring_interrupt is a function call");
    const dev = lab.host.vdpa.device("vdpa0")?.device;
    assert(dev instanceof VdpaSimNet);
    assert(dev.datapath instanceof VdpaSimNetWorker);
    assertEquals(dev.stats.rx.packets, 1000n);
    // the worker reached the kernel's buffers by physical address (IOTLB pass-through)
    assertEquals(dev.datapath.physicalMem, lab.host.kmem().mem);
  });

  await t.step("the host's receive softirq runs in the vdpa_sim worker (bh enable)", () => {
    const lab = testLab();
    virtioHost(lab);
    lab.addTraffic({
      name: "t1",
      from: "eth0",
      to: "eth0",
      frameBytes: 64,
      count: 4,
      rate: { kind: "pps", pps: 100_000 },
    });
    lab.run();
    const p = lab.recorder.packetTrace("t1", 1);
    assert(p.ok);
    const rx = p.value.hops.filter((h) => h.comp === "virtio_net" && h.action === "receive");
    assertEquals(rx.map((h) => h.ctx), ["vdpa-sim:vdpa0"]);
    const deliver = p.value.hops.at(-1);
    assertEquals(deliver?.action, "deliver");
  });

  await t.step("a line-rate blast overruns the qdisc: queue_full, the books balance", () => {
    const lab = testLab();
    virtioHost(lab);
    const s = loop(lab, 5000, "line");
    assert(s.dropped_by_reason.queue_full > 0, "txqueuelen 1000 overflowed");
    assertEquals(s.delivered + s.dropped, 5000);
    assertEquals(s.in_flight, 0);
    assert(TXQUEUELEN === 1000);
  });

  await t.step("unbind from virtio_net: the data plane goes with the netdev", () => {
    const lab = testLab();
    virtioHost(lab);
    assert(virtioVdpaNetdevs(lab).has("eth0"));
    assert(lab.host.write("/sys/bus/vdpa/drivers/virtio_vdpa/unbind", "vdpa0").ok);
    assert(!virtioVdpaNetdevs(lab).has("eth0"));
    assert(!lab.net.hasDatapath("eth0"));
  });

  await t.step("first packet's hops (golden)", async (t2) => {
    const lab = testLab();
    virtioHost(lab);
    lab.addTraffic({
      name: "t1",
      from: "eth0",
      to: "eth0",
      frameBytes: 64,
      count: 4,
      rate: { kind: "pps", pps: 100_000 },
    });
    lab.run();
    const p = lab.recorder.packetTrace("t1", 1);
    assert(p.ok);
    await t2.assertSnapshot(p.value.hops.map(formatHop).join("\n"), { serializer: String });
  });
});
