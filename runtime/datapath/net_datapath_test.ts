import assert from "node:assert/strict";
import { GuestMemory } from "../memory/guest_memory.ts";
import { Metrics } from "../trace/metrics.ts";
import { qemuMac } from "../traffic/address.ts";
import { FlowSink, planUdpFlow } from "../traffic/flow.ts";
import {
  featureMask,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_VERSION_1,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_MRG_RXBUF,
} from "../virtio/features.ts";
import { PackedDriver } from "../virtio/packed_driver.ts";
import { SplitDriver, USED_NONE } from "../virtio/split_driver.ts";
import { FlowTable } from "./flow_table.ts";
import {
  createDeviceRing,
  NET_BAD_CHAIN,
  NET_EMPTY,
  NET_NO_BUFFER,
  NET_OK,
  NET_TOO_BIG,
  VirtioNetRx,
  VirtioNetTx,
} from "./net_datapath.ts";

const V1 = featureMask(VIRTIO_F_VERSION_1);
const SIZE = 16;
const BUF = 0x10000;

function setup(features: bigint, packed = false) {
  const mem = new GuestMemory();
  mem.addRegion({ name: "ram", gpa: 0, size: 1 << 22 });
  const drv = packed
    ? PackedDriver.create(mem, {
      size: SIZE,
      descRing: 0x1000,
      driverEvent: 0x2000,
      deviceEvent: 0x2004,
      features,
    })
    : SplitDriver.create(mem, {
      size: SIZE,
      descTable: 0x1000,
      availRing: 0x2000,
      usedRing: 0x3000,
      features,
    });
  const ring = createDeviceRing(mem, {
    layout: packed ? "packed" : "split",
    size: SIZE,
    desc: 0x1000,
    driver: 0x2000,
    device: packed ? 0x2004 : 0x3000,
    features,
  });
  if (!drv.ok || !ring.ok) throw new Error("setup");
  const flows = new FlowTable();
  const metrics = new Metrics().addFlow("t1");
  const plan = planUdpFlow({
    flowId: 1,
    frameBytes: 1518,
    count: 100,
    rate: { kind: "pps", pps: 1e6 },
    srcMac: qemuMac(0),
    dstMac: qemuMac(1),
    srcIp: 1,
    dstIp: 2,
  });
  if (!plan.ok) throw new Error("plan");
  flows.add({
    name: "t1",
    id: 1,
    kind: "udp",
    metrics,
    schedule: plan.value,
    sink: new FlowSink(metrics, plan.value),
  });
  return { mem, drv: drv.value, ring: ring.value, flows, plan: plan.value };
}

/** Writes a 12-byte header + frame `seq` of the plan at `addr`; returns the bytes. */
function frameAt(s: ReturnType<typeof setup>, addr: number, seq: number, len = 1514): Uint8Array {
  const f = new Uint8Array(len);
  if (len === s.plan.frameLength) s.plan.buildFrame(f, seq);
  else for (let i = 0; i < len; i++) f[i] = (i * 7 + seq) & 0xff;
  s.mem.fill(addr, 12, 0);
  s.mem.write(addr + 12, f);
  return f;
}

for (const packed of [false, true]) {
  const layout = packed ? "packed" : "split";
  const features = packed ? V1 | featureMask(VIRTIO_F_RING_PACKED) : V1;

  Deno.test(`${layout} TX: pop strips the 12-byte header, names the packet, completes with len 0`, () => {
    const s = setup(features, packed);
    const sent = frameAt(s, BUF, 7);
    s.drv.addOutbuf(BUF, 12 + sent.length, 99);
    const tx = new VirtioNetTx(s.ring, { features, flows: s.flows });
    assert.equal(tx.pop(), NET_OK);
    assert.equal(tx.hdrLen, 12);
    assert.equal(tx.frameLen, sent.length);
    assert.equal(tx.id.flow?.name, "t1");
    assert.equal(tx.id.seq, 7);
    const out = new Uint8Array(tx.frameLen);
    assert.equal(tx.copyFrame(out), sent.length);
    assert.deepEqual(out, sent);
    const withHdr = new Uint8Array(12 + sent.length);
    tx.copyFrame(withHdr, 0, true);
    assert.deepEqual(withHdr.subarray(12), sent, "keepHeader copies the header too");
    assert.deepEqual(tx.frameView(s.mem), sent, "a DMA view of the same bytes");
    tx.complete();
    tx.flush();
    assert.equal(s.drv.getUsed(), 99);
    assert.equal(s.drv.lastLen, 0, "the device wrote nothing into a TX buffer");
    assert.equal(tx.pop(), NET_EMPTY);
  });

  Deno.test(`${layout} TX: a chain split at the header still yields the frame`, () => {
    const s = setup(features, packed);
    const sent = frameAt(s, BUF, 3, 60);
    s.drv.add(
      [
        { addr: BUF, len: 12, write: false },
        { addr: BUF + 12, len: 30, write: false },
        { addr: BUF + 42, len: 30, write: false },
      ],
      1,
      false,
    );
    const tx = new VirtioNetTx(s.ring, { features, flows: s.flows });
    assert.equal(tx.pop(), NET_OK);
    assert.equal(tx.descs, 3);
    const out = new Uint8Array(60);
    tx.copyFrame(out);
    assert.deepEqual(out, sent);
    assert.equal(tx.frameView(s.mem), undefined, "not one segment: no zero-copy view");
  });

  Deno.test(`${layout} TX: a device-writable descriptor is consumed and refused`, () => {
    const s = setup(features, packed);
    frameAt(s, BUF, 1, 60);
    s.drv.add([{ addr: BUF, len: 72, write: false }, { addr: BUF + 100, len: 8, write: true }], 5);
    const tx = new VirtioNetTx(s.ring, { features, flows: s.flows });
    assert.equal(tx.pop(), NET_BAD_CHAIN);
    assert.match(tx.problem, /device-writable/);
    tx.flush();
    assert.equal(s.drv.getUsed(), 5, "the chain goes back to the driver");
  });

  Deno.test(`${layout} TX: a chain shorter than the header is refused`, () => {
    const s = setup(features, packed);
    s.drv.addOutbuf(BUF, 8, 1);
    const tx = new VirtioNetTx(s.ring, { features, flows: s.flows });
    assert.equal(tx.pop(), NET_BAD_CHAIN);
    assert.match(tx.problem, /shorter than the header/);
  });

  Deno.test(`${layout} TX: NEEDS_CSUM without CSUM negotiated is refused, with CSUM accepted`, () => {
    for (const csum of [false, true]) {
      const f = features | (csum ? featureMask(VIRTIO_NET_F_CSUM) : 0n);
      const s = setup(f, packed);
      frameAt(s, BUF, 1, 60);
      s.mem.setU8(BUF, 1); // VIRTIO_NET_HDR_F_NEEDS_CSUM
      s.mem.setU16(BUF + 6, 34);
      s.mem.setU16(BUF + 8, 6);
      s.drv.addOutbuf(BUF, 72, 1);
      const tx = new VirtioNetTx(s.ring, { features: f, flows: s.flows });
      assert.equal(tx.pop(), csum ? NET_OK : NET_BAD_CHAIN);
    }
  });

  Deno.test(`${layout} RX: header with num_buffers 1, then the frame, used len = both`, () => {
    const s = setup(features, packed);
    s.drv.addInbuf(BUF, 1530, 4);
    const rx = new VirtioNetRx(s.ring, s.mem, { features, flows: s.flows });
    const f = new Uint8Array(100).fill(0xee);
    assert.equal(rx.deliver(f, 0, 100), NET_OK);
    rx.flush();
    assert.equal(s.drv.getUsed(), 4);
    assert.equal(s.drv.lastLen, 112);
    assert.equal(s.mem.getU16(BUF + 10), 1, "num_buffers");
    assert.equal(s.mem.getU8(BUF + 12 + 99), 0xee);
  });

  Deno.test(`${layout} RX: without MRG_RXBUF a frame larger than the buffer is dropped, len 0`, () => {
    const s = setup(features, packed);
    s.drv.addInbuf(BUF, 200, 4);
    const rx = new VirtioNetRx(s.ring, s.mem, { features, flows: s.flows });
    assert.equal(rx.deliver(new Uint8Array(500), 0, 500), NET_TOO_BIG);
    rx.flush();
    assert.equal(s.drv.getUsed(), 4);
    assert.equal(s.drv.lastLen, 0);
  });

  Deno.test(`${layout} RX: with MRG_RXBUF a frame spans buffers and num_buffers says how many`, () => {
    const f = features | featureMask(VIRTIO_NET_F_MRG_RXBUF);
    const s = setup(f, packed);
    for (let i = 0; i < 3; i++) s.drv.addInbuf(BUF + i * 0x1000, 1536, 10 + i);
    const rx = new VirtioNetRx(s.ring, s.mem, { features: f, flows: s.flows });
    const frame = new Uint8Array(3000);
    for (let i = 0; i < frame.length; i++) frame[i] = i & 0xff;
    assert.equal(rx.deliver(frame, 0, frame.length), NET_OK);
    assert.equal(rx.buffers, 2);
    rx.flush();
    assert.equal(s.mem.getU16(BUF + 10), 2);
    assert.equal(s.drv.getUsed(), 10);
    assert.equal(s.drv.lastLen, 1536, "the first buffer is full");
    assert.equal(s.drv.getUsed(), 11);
    assert.equal(s.drv.lastLen, 3012 - 1536, "the rest in the second");
    assert.equal(s.mem.getU8(BUF + 0x1000), 1524 & 0xff, "the frame continues where it left off");
  });

  Deno.test(`${layout} RX: with MRG_RXBUF, too few buffers for the frame: none taken, it waits`, () => {
    const f = features | featureMask(VIRTIO_NET_F_MRG_RXBUF);
    const s = setup(f, packed);
    s.drv.addInbuf(BUF, 1536, 10);
    const rx = new VirtioNetRx(s.ring, s.mem, { features: f, flows: s.flows });
    const frame = new Uint8Array(3000).fill(0x5a);
    // A small frame first, staged in the same batch: the rewind must not take it back.
    assert.equal(rx.deliver(new Uint8Array(60), 0, 60), NET_OK);
    s.drv.addInbuf(BUF + 0x1000, 1536, 11);
    assert.equal(rx.deliver(frame, 0, frame.length), NET_NO_BUFFER);
    assert.equal(rx.buffers, 0);
    rx.flush();
    assert.equal(s.drv.getUsed(), 10, "the small frame arrives");
    assert.equal(s.drv.lastLen, 72);
    assert.equal(s.drv.getUsed(), USED_NONE, "no truncated frame reaches the guest");
    // The guest refills: the same frame now takes buffer 11 and the new one.
    s.drv.addInbuf(BUF + 0x2000, 1536, 12);
    assert.equal(rx.deliver(frame, 0, frame.length), NET_OK);
    assert.equal(rx.buffers, 2);
    rx.flush();
    assert.equal(s.drv.getUsed(), 11);
    assert.equal(s.mem.getU16(BUF + 0x1000 + 10), 2, "num_buffers");
    assert.equal(s.drv.getUsed(), 12);
    assert.equal(s.drv.lastLen, 3012 - 1536);
  });

  Deno.test(`${layout} RX: no posted buffer consumes nothing`, () => {
    const s = setup(features, packed);
    const rx = new VirtioNetRx(s.ring, s.mem, { features, flows: s.flows });
    assert.equal(rx.hasBuffer(), false);
    assert.equal(rx.deliver(new Uint8Array(60), 0, 60), NET_NO_BUFFER);
    s.drv.addInbuf(BUF, 1530, 1);
    assert.equal(rx.hasBuffer(), true);
    assert.equal(rx.deliver(new Uint8Array(60), 0, 60), NET_OK);
  });
}
