import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { type Rig, rig } from "./testdata/rig.ts";
import { VdpaSimNet, vdpaSimNetParent } from "./vdpa_sim_net.ts";
import { VdpaSimNetWorker } from "./vdpa_sim_net_worker.ts";
import { VhostVdpaDev } from "../backends/vhost_vdpa/vhost_vdpa_dev.ts";
import { qemuVdpaInit, qemuVdpaStart } from "../backends/vhost_vdpa/qemu_vhost_vdpa.ts";
import { SplitDriver } from "../virtio/split_driver.ts";
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_VERSION_1 } from "../virtio/features.ts";
import type { TrafficFlow } from "../datapath/flow_table.ts";
import { IDENTITY } from "../memory/translator.ts";
import { VIRTIO_CONFIG_S_NEEDS_RESET } from "./vdpa_device.ts";

const MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56] as const;
const OTHER = [0x52, 0x54, 0x00, 0x99, 0x99, 0x99];
const BCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const MCAST = [0x01, 0x00, 0x5e, 0x00, 0x00, 0x01];
const ACCESS_PLATFORM = 33;
const HDR = 12;
const RX_BUF = 1526;

interface Sim {
  readonly r: Rig;
  readonly device: VdpaSimNet;
  readonly v: VhostVdpaDev;
  readonly worker: VdpaSimNetWorker;
  readonly rx: SplitDriver;
  readonly tx: SplitDriver;
  readonly calls: number[];
  /** Queues TX frames `first..last` of `flow` (header + frame) without kicking. */
  send(flow: TrafficFlow, first: number, last: number): void;
  /** Posts `n` RX buffers. */
  post(n: number): void;
  /** Kicks the TX queue at the scheduler's time and runs to completion. */
  kickAndRun(): void;
}

function sim(
  o: { eventIdx?: boolean; ram?: readonly { gpa: number; size: number; hva: number }[] } = {},
): Sim {
  const r = rig();
  const created = vdpaSimNetParent().create("vdpa0", { mac: MAC });
  if (!created.ok || !(created.value instanceof VdpaSimNet)) throw new Error("create");
  const device = created.value;
  const worker = new VdpaSimNetWorker(device, r, { control: r, driverView: IDENTITY });
  const v = new VhostVdpaDev({ device, fd: 20, owner: "qemu:vm1", mm: r.qemuMm });
  const calls = [0, 0, 0];
  v.onCall = (vq) => calls[vq] = (calls[vq] ?? 0) + 1;
  if (!qemuVdpaInit(v, { ram: o.ram ?? [r.ramSection] }).ok) throw new Error("init");
  const features = featureMask(
    VIRTIO_F_VERSION_1,
    ACCESS_PLATFORM,
    ...(o.eventIdx ? [VIRTIO_F_EVENT_IDX] : []),
  );
  const rxq = { size: 256, descTable: 0x10000, availRing: 0x11000, usedRing: 0x12000, features };
  const txq = { size: 256, descTable: 0x20000, availRing: 0x21000, usedRing: 0x22000, features };
  const rx = SplitDriver.create(r.mem, rxq);
  const tx = SplitDriver.create(r.mem, txq);
  if (!rx.ok || !tx.ok) throw new Error("rings");
  const started = qemuVdpaStart(v, {
    features,
    queues: [rxq, txq].map((q, index) => ({
      index,
      size: 256,
      desc: q.descTable,
      driver: q.availRing,
      device: q.usedRing,
      base: 0,
      kickFd: 40 + index,
      callFd: 50 + index,
    })),
    configCallFd: -1,
    hostNotifierAllowed: false,
  });
  if (!started.ok) throw new Error("start");
  let txSlot = 0;
  let rxSlot = 0;
  const vcpu = r.context("vcpu", "vm1:vcpu0");
  const frame = new Uint8Array(2048);
  return {
    r,
    device,
    v,
    worker,
    rx: rx.value,
    tx: tx.value,
    calls,
    send(flow, first, last) {
      for (let seq = first; seq <= last; seq++) {
        const addr = 0x200000 + (txSlot++ % 256) * 4096;
        const len = flow.schedule.buildFrame(frame, seq);
        r.mem.fill(addr, HDR, 0);
        r.mem.write(addr + HDR, frame, 0, len);
        flow.metrics.onSend(r.sched.now, len + 4);
        tx.value.addOutbuf(addr, HDR + len, seq);
      }
    },
    post(n) {
      for (let i = 0; i < n; i++) rx.value.addInbuf(0x400000 + (rxSlot++ % 256) * 2048, RX_BUF, i);
    },
    kickAndRun() {
      tx.value.kickPrepare();
      v.kick(1, { t: r.sched.now, ctx: vcpu, group: undefined });
      r.sched.run();
    },
  };
}

/** Drains the guest's RX used ring: the frames the device wrote. */
function received(s: Sim): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (;;) {
    const token = s.rx.getUsed();
    if (token < 0) break;
    const buf = new Uint8Array(s.rx.lastLen);
    const slot = s.rx.lastHead;
    void slot;
    out.push(buf);
  }
  return out;
}

Deno.test("vdpa_sim_net datapath", async (t) => {
  await t.step("a frame to the device's own MAC comes back on RX, byte for byte", () => {
    const s = sim();
    const f = s.r.traffic("t1", MAC, MAC, 1);
    s.post(4);
    s.send(f, 1, 1);
    s.kickAndRun();
    const token = s.rx.getUsed();
    assert(token >= 0, "one RX buffer used");
    assertEquals(s.rx.lastLen, HDR + 60);
    const back = new Uint8Array(60);
    s.r.mem.read(0x400000 + HDR, back);
    const sent = new Uint8Array(60);
    f.schedule.buildFrame(sent, 1);
    assertEquals(back, sent);
    assertEquals(s.tx.getUsed(), 1, "TX completed with its token");
    assertEquals(s.tx.lastLen, 0, "TX used len is 0");
    assertEquals(s.device.stats.rx.packets, 1n);
    assertEquals(s.device.stats.tx.bytes, BigInt(HDR + 60));
    const m = f.metrics;
    const sum = s.r.metrics.summary("t1");
    assertEquals(sum.totals.copies, 2, "TX → bounce → RX");
    void m;
  });

  await t.step("batches of 5: n queued packets take ceil(n/5) busy work runs", () => {
    for (const n of [1, 4, 5, 6, 10, 12, 23]) {
      const s = sim();
      const f = s.r.traffic("t1", MAC, MAC, n);
      s.post(n);
      s.send(f, 1, n);
      s.kickAndRun();
      assertEquals(s.worker.busyRuns, Math.ceil(n / 5), `n=${n}`);
      // a run that ends because it handled 5 reschedules one more run; after the last
      // packet the run that finds the ring empty is a run too
      assertEquals(s.worker.workRuns, Math.floor(n / 5) + 1, `runs n=${n}`);
      assertEquals(s.device.stats.rx.packets, BigInt(n));
      assertEquals(received(s).length, n);
    }
  });

  await t.step(
    "the MAC filter: other unicast dropped (rx drops), broadcast and multicast pass",
    () => {
      const s = sim();
      const other = s.r.traffic("other", MAC, OTHER, 3);
      const bcast = s.r.traffic("bcast", MAC, BCAST, 1);
      const mcast = s.r.traffic("mcast", MAC, MCAST, 1);
      s.post(8);
      s.send(other, 1, 3);
      s.send(bcast, 1, 1);
      s.send(mcast, 1, 1);
      s.kickAndRun();
      assertEquals(s.device.stats.rx.drops, 3n);
      assertEquals(s.device.stats.rx.packets, 2n);
      assertEquals(s.r.metrics.summary("other").dropped_by_reason.mac_filter, 3);
      assertEquals(received(s).length, 2);
      // every TX buffer came back to the guest (len 0), filtered or not
      let txUsed = 0;
      while (s.tx.getUsed() >= 0) txUsed++;
      assertEquals(txUsed, 5);
    },
  );

  await t.step("no RX buffer: rx overruns, the TX buffer completes and the run ends", () => {
    const s = sim();
    const f = s.r.traffic("t1", MAC, MAC, 5);
    s.send(f, 1, 5);
    s.kickAndRun();
    assertEquals(s.device.stats.rx.overruns, 1n);
    assertEquals(s.r.metrics.summary("t1").dropped_by_reason.no_rx_buffer, 1);
    let txUsed = 0;
    while (s.tx.getUsed() >= 0) txUsed++;
    assertEquals(txUsed, 1, "only the first TX buffer was consumed");
    // buffers arrive: the next kick moves the other four
    s.post(4);
    s.kickAndRun();
    assertEquals(s.device.stats.rx.packets, 4n);
  });

  await t.step("interrupts: a notify per completion unless the driver sets NO_INTERRUPT", () => {
    const plain = sim();
    const f = plain.r.traffic("t1", MAC, MAC, 5);
    plain.post(5);
    plain.send(f, 1, 5);
    plain.kickAndRun();
    assertEquals(plain.calls, [5, 5, 0], "rx and tx notified per completion");
    assertEquals(plain.r.metrics.summary("t1").totals.interrupts_suppressed, 0);
    const quiet = sim();
    const g = quiet.r.traffic("t1", MAC, MAC, 5);
    quiet.post(5);
    quiet.rx.disableCallbacks(); // NAPI running: avail.flags = NO_INTERRUPT
    quiet.send(g, 1, 5);
    quiet.kickAndRun();
    assertEquals(quiet.calls, [0, 5, 0]);
    assertEquals(quiet.r.metrics.summary("t1").totals.interrupts_suppressed, 5);
  });

  await t.step("vdpa_sim does not offer EVENT_IDX: a driver asking for it does not get it", () => {
    const s = sim({ eventIdx: true });
    assertEquals(s.device.getDriverFeatures() & (1n << 29n), 0n);
    // vringh without event indices decides by NO_INTERRUPT: every completion notifies
    const f = s.r.traffic("t1", MAC, MAC, 3);
    s.post(3);
    s.send(f, 1, 3);
    s.kickAndRun();
    assertEquals(s.calls, [3, 3, 0]);
  });

  await t.step(
    "a kick before DRIVER_OK does nothing; a kick on a queue that is not ready is ignored",
    () => {
      const s = sim();
      const f = s.r.traffic("t1", MAC, MAC, 1);
      s.post(1);
      s.send(f, 1, 1);
      s.v.setStatus(0); // reset: not DRIVER_OK any more, queues not ready
      s.v.kick(1, { t: 0, ctx: s.worker.ctx, group: undefined });
      assertEquals(s.worker.kicksIgnored, 1);
      s.device.setVqReady(1, true);
      s.device.setVqReady(0, true);
      s.v.kick(1, { t: 0, ctx: s.worker.ctx, group: undefined });
      s.r.sched.run();
      assertEquals(s.worker.workRuns, 1);
      assertEquals(s.device.stats.tx.packets, 0n);
      assert(s.r.steps.some((x) => String(x.details.name).includes("DRIVER_OK not set")));
    },
  );

  await t.step(
    "an unmapped TX buffer: tx errors, drop iommu_fault, the next buffer still goes",
    () => {
      // the IOTLB maps the rings, the first TX buffer and the RX buffers, not the second TX buffer
      const s = sim({
        ram: [
          { gpa: 0, size: 0x20_1000, hva: 0x7f00_0000_0000 },
          { gpa: 0x20_2000, size: 0x1000, hva: 0x7f00_0020_2000 },
          { gpa: 0x40_0000, size: 0x10_0000, hva: 0x7f00_0040_0000 },
        ],
      });
      const f = s.r.traffic("t1", MAC, MAC, 3);
      s.post(3);
      s.send(f, 1, 3);
      s.kickAndRun();
      assertEquals(s.device.stats.tx.errors, 1n, "the second buffer (0x201000) is beyond the map");
      assertEquals(s.device.stats.rx.packets, 1n, "the fault ended the run");
      assertEquals(s.r.metrics.summary("t1").dropped_by_reason.iommu_fault, 1);
      // vringh consumed the bad head: the next kick carries on with the third buffer
      s.kickAndRun();
      assertEquals(s.device.stats.rx.packets, 2n);
      assertEquals(
        s.device.getStatus() & VIRTIO_CONFIG_S_NEEDS_RESET,
        0,
        "vdpa_sim never sets NEEDS_RESET",
      );
    },
  );

  await t.step("vstats follow the datapath", () => {
    const s = sim();
    const f = s.r.traffic("t1", MAC, MAC, 7);
    s.post(7);
    s.send(f, 1, 7);
    s.kickAndRun();
    const rx = s.device.vendorStats(0);
    assert(rx.ok);
    assertEquals(rx.value[0], ["rx packets", 7n]);
    const tx = s.device.vendorStats(1);
    assert(tx.ok);
    assertEquals(tx.value[1], ["tx bytes", BigInt(7 * (HDR + 60))]);
  });

  await t.step("a wake-up per idle worker, none for the requeued runs", () => {
    const s = sim();
    const f = s.r.traffic("t1", MAC, MAC, 12);
    s.post(12);
    s.send(f, 1, 12);
    s.kickAndRun();
    assertEquals(s.r.metrics.summary("t1").totals.wakeups, 1);
  });
});
