import assert from "node:assert/strict";
import { GuestMemory } from "../memory/guest_memory.ts";
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE as ACK,
  VIRTIO_CONFIG_S_DRIVER as DRV,
  VIRTIO_CONFIG_S_DRIVER_OK as DOK,
  VIRTIO_CONFIG_S_FAILED as FAILED,
  VIRTIO_CONFIG_S_FEATURES_OK as FOK,
  VIRTIO_CONFIG_S_NEEDS_RESET as NEEDS_RESET,
} from "./defs.ts";
import {
  featureMask,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_VERSION_1,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_MAC,
} from "./features.ts";
import { POP_EMPTY, POP_FAULT, SplitDevice } from "./split_device.ts";
import { SplitDriver } from "./split_driver.ts";
import { describeStatus, describeStatusFault, DeviceStatus } from "./status.ts";

const OFFERED = featureMask(
  VIRTIO_F_VERSION_1,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_HOST_TSO4,
);

function probe(st: DeviceStatus, features: bigint): void {
  assert.ok(st.write(0).ok);
  assert.ok(st.write(ACK).ok);
  assert.ok(st.write(ACK | DRV).ok);
  assert.ok(st.setDriverFeatures(features).ok);
}

Deno.test("DeviceStatus walks the driver init sequence of §3.1.1 and goes live at DRIVER_OK", () => {
  const st = new DeviceStatus({ deviceFeatures: OFFERED });
  probe(st, featureMask(VIRTIO_F_VERSION_1, VIRTIO_NET_F_MAC));
  assert.equal(st.negotiated, 0n, "nothing is negotiated before FEATURES_OK");
  const r = st.write(ACK | DRV | FOK);
  assert.ok(r.ok && r.value === (ACK | DRV | FOK));
  assert.equal(st.negotiated, featureMask(VIRTIO_F_VERSION_1, VIRTIO_NET_F_MAC));
  assert.equal(st.live, false);
  assert.ok(st.write(ACK | DRV | FOK | DOK).ok);
  assert.equal(st.live, true);
  assert.equal(describeStatus(st.value), "ACKNOWLEDGE DRIVER FEATURES_OK DRIVER_OK");
});

Deno.test("DeviceStatus refuses FEATURES_OK for features it did not offer or that break a dependency", async (t) => {
  await t.step("not offered", () => {
    const st = new DeviceStatus({ deviceFeatures: OFFERED });
    probe(st, featureMask(VIRTIO_F_VERSION_1, 22));
    const r = st.write(ACK | DRV | FOK);
    assert.ok(!r.ok && r.error.kind === "features-refused");
    assert.equal(st.value, ACK | DRV, "the driver reads back FEATURES_OK clear");
    assert.match(
      describeStatusFault(r.error),
      /^FEATURES_OK refused: features not offered by the device: MQ$/,
    );
  });
  await t.step("HOST_TSO4 without CSUM", () => {
    const st = new DeviceStatus({ deviceFeatures: OFFERED });
    probe(st, featureMask(VIRTIO_F_VERSION_1, VIRTIO_NET_F_HOST_TSO4));
    const r = st.write(ACK | DRV | FOK);
    assert.ok(
      !r.ok && r.error.kind === "features-refused" && r.error.problem.kind === "missing-dependency",
    );
  });
  await t.step("a required bit left out (ACCESS_PLATFORM, as vdpa_sim)", () => {
    const st = new DeviceStatus({
      deviceFeatures: OFFERED | featureMask(VIRTIO_F_ACCESS_PLATFORM),
      requiredFeatures: featureMask(VIRTIO_F_ACCESS_PLATFORM),
    });
    probe(st, featureMask(VIRTIO_F_VERSION_1));
    assert.ok(!st.write(ACK | DRV | FOK).ok);
    assert.ok(st.setDriverFeatures(featureMask(VIRTIO_F_VERSION_1, VIRTIO_F_ACCESS_PLATFORM)).ok);
    assert.ok(st.write(ACK | DRV | FOK).ok, "the driver may retry before FEATURES_OK sticks");
  });
});

Deno.test("DeviceStatus locks features after FEATURES_OK", () => {
  const st = new DeviceStatus({ deviceFeatures: OFFERED });
  probe(st, featureMask(VIRTIO_F_VERSION_1));
  st.write(ACK | DRV | FOK);
  const r = st.setDriverFeatures(OFFERED);
  assert.ok(!r.ok && r.error.kind === "features-locked");
  assert.equal(st.negotiated, featureMask(VIRTIO_F_VERSION_1));
});

Deno.test("DeviceStatus refuses a write that clears bits, as vhost-vdpa does", () => {
  const st = new DeviceStatus({ deviceFeatures: OFFERED });
  probe(st, featureMask(VIRTIO_F_VERSION_1));
  st.write(ACK | DRV | FOK | DOK);
  const r = st.write(ACK | DRV);
  assert.ok(!r.ok && r.error.kind === "bits-cleared");
  assert.equal(st.value, ACK | DRV | FOK | DOK, "nothing changed");
});

Deno.test("DeviceStatus does not go live on DRIVER_OK without FEATURES_OK (modern device)", () => {
  const st = new DeviceStatus({ deviceFeatures: OFFERED });
  probe(st, featureMask(VIRTIO_F_VERSION_1));
  const r = st.write(ACK | DRV | DOK);
  assert.ok(!r.ok && r.error.kind === "driver-ok-without-features-ok");
  assert.equal(st.live, false);
  const legacy = new DeviceStatus({ deviceFeatures: featureMask(VIRTIO_NET_F_MAC), legacy: true });
  probe(legacy, featureMask(VIRTIO_NET_F_MAC));
  assert.ok(legacy.write(ACK | DRV | DOK).ok, "legacy drivers skip FEATURES_OK");
  assert.equal(legacy.negotiated, featureMask(VIRTIO_NET_F_MAC));
});

Deno.test("DeviceStatus stops the device when the driver sets FAILED", () => {
  const st = new DeviceStatus({ deviceFeatures: OFFERED });
  probe(st, featureMask(VIRTIO_F_VERSION_1));
  st.write(ACK | DRV | FOK | DOK);
  st.write(ACK | DRV | FOK | DOK | FAILED);
  assert.equal(st.live, false);
});

function ringsFor(mem: GuestMemory) {
  mem.addRegion({ name: "ram", gpa: 0, size: 1 << 20 });
  const rings = { size: 8, descTable: 0x1000, availRing: 0x2000, usedRing: 0x3000 };
  const drv = SplitDriver.create(mem, rings);
  const dev = SplitDevice.create(mem, rings);
  assert.ok(drv.ok && dev.ok);
  return { drv: drv.value, dev: dev.value };
}

Deno.test("an attached queue consumes nothing before DRIVER_OK", () => {
  const mem = new GuestMemory();
  const { drv, dev } = ringsFor(mem);
  const st = new DeviceStatus({ deviceFeatures: OFFERED });
  st.attachQueue(dev);
  drv.addOutbuf(0x8000, 64);
  assert.equal(drv.kickPrepare(), true, "the driver kicks early");
  dev.notified();
  assert.equal(dev.pop(), POP_EMPTY);
  assert.equal(dev.needsInterrupt(), false);
  assert.equal(dev.counters.notReady, 1);
  assert.equal(dev.nextAvail, 0, "the buffer is still available");
  probe(st, featureMask(VIRTIO_F_VERSION_1));
  st.write(ACK | DRV | FOK | DOK);
  assert.equal(dev.pop(), 0, "after DRIVER_OK the same buffer is consumed");
});

Deno.test("a queue fault sets NEEDS_RESET and raises a config change; reset clears queue and status", () => {
  const mem = new GuestMemory();
  const { drv, dev } = ringsFor(mem);
  const st = new DeviceStatus({ deviceFeatures: OFFERED });
  let changes = 0;
  st.onConfigChange = () => changes++;
  st.attachQueue(dev);
  probe(st, featureMask(VIRTIO_F_VERSION_1));
  st.write(ACK | DRV | FOK | DOK);
  drv.addOutbuf(0x8000, 64);
  mem.setU16(0x2004, 200); // avail.ring[0] = 200: out of range
  assert.equal(dev.pop(), POP_FAULT);
  assert.equal(st.value & NEEDS_RESET, NEEDS_RESET);
  assert.equal(st.live, false);
  assert.equal(changes, 1);
  assert.match(st.describe(), /NEEDS_RESET \(avail ring offers head 200, queue size is 8\)/);
  assert.ok(st.write(st.value | DOK).ok, "the driver's read-modify-write keeps NEEDS_RESET");
  assert.equal(st.value & NEEDS_RESET, NEEDS_RESET);
  st.write(0);
  assert.equal(st.value, 0);
  assert.equal(dev.broken, false);
  assert.equal(dev.nextAvail, 0);
  assert.equal(st.driverFeatures, 0n);
});

Deno.test("with the vhost policy a fault stops only the queue", () => {
  const mem = new GuestMemory();
  const { drv, dev } = ringsFor(mem);
  const st = new DeviceStatus({ deviceFeatures: OFFERED });
  st.attachQueue(dev, "stop-queue");
  probe(st, featureMask(VIRTIO_F_VERSION_1));
  st.write(ACK | DRV | FOK | DOK);
  drv.addOutbuf(0x8000, 64);
  mem.setU16(0x2004, 200);
  assert.equal(dev.pop(), POP_FAULT);
  assert.equal(st.value & NEEDS_RESET, 0);
  assert.equal(dev.pop(), POP_FAULT, "the queue stays stopped");
});
