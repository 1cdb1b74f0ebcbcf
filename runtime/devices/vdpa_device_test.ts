import assert from "node:assert/strict";
import {
  featureMask,
  vhostVdpaSetFeatures,
  vhostVdpaSetStatus,
  VIRTIO_CONFIG_S_ACKNOWLEDGE as ACK,
  VIRTIO_CONFIG_S_DRIVER as DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK as DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK as FEATURES_OK,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_VERSION_1,
  VIRTIO_NET_F_MAC,
} from "./vdpa_device.ts";
import { VDPASIM_NET_FEATURES, VdpaSimNet, vdpaSimNetParent } from "./vdpa_sim_net.ts";
import { VDPASIM_BLK_FEATURES, vdpaSimBlkParent } from "./vdpa_sim_blk.ts";
import { hwVdpaNetParent } from "./hw_vdpa_net.ts";
import { configAttrMask } from "./vdpa_parent.ts";
import type { NicVdpaSpec } from "../host/nic_model.ts";

function simNet(): VdpaSimNet {
  const r = vdpaSimNetParent().create("vdpa0", { mac: [0, 0x11, 0x22, 0x33, 0x44, 0x55] });
  assert.ok(r.ok && r.value instanceof VdpaSimNet);
  return r.value;
}

Deno.test("vdpa_sim refuses driver features without ACCESS_PLATFORM", () => {
  const dev = simNet();
  const without = dev.setDriverFeatures(featureMask([VIRTIO_F_VERSION_1, VIRTIO_NET_F_MAC]));
  assert.equal(without.ok, false);
  if (!without.ok) assert.equal(without.error.errno, "EINVAL");
  assert.equal(dev.getDriverFeatures(), 0n, "nothing recorded on refusal");
  const withAp = dev.setDriverFeatures(
    featureMask([VIRTIO_F_VERSION_1, VIRTIO_F_ACCESS_PLATFORM, 40]),
  );
  assert.ok(withAp.ok);
  assert.equal(
    dev.getDriverFeatures(),
    featureMask([VIRTIO_F_VERSION_1, VIRTIO_F_ACCESS_PLATFORM]),
    "masked to the offer",
  );
});

Deno.test("vhost-vdpa's SET_STATUS may only add bits; 0 resets the device", async (t) => {
  const dev = simNet();
  const steps: [number, boolean, number][] = [
    [ACK, true, ACK],
    [ACK | DRIVER, true, ACK | DRIVER],
    [ACK, false, ACK | DRIVER],
    [ACK | DRIVER | FEATURES_OK, true, ACK | DRIVER | FEATURES_OK],
    [ACK | DRIVER | DRIVER_OK, false, ACK | DRIVER | FEATURES_OK],
    [ACK | DRIVER | FEATURES_OK | DRIVER_OK, true, 0x0f],
    [0, true, 0],
  ];
  for (const [status, accepted, after] of steps) {
    await t.step(`status 0x${status.toString(16)}`, () => {
      const r = vhostVdpaSetStatus(dev, status);
      assert.equal(r.ok, accepted);
      if (!r.ok) assert.equal(r.error.errno, "EINVAL");
      assert.equal(dev.getStatus(), after);
    });
  }
});

Deno.test("Features are frozen after FEATURES_OK for vhost-vdpa (-EBUSY)", () => {
  const dev = simNet();
  const f = featureMask([VIRTIO_F_VERSION_1, VIRTIO_F_ACCESS_PLATFORM]);
  assert.ok(vhostVdpaSetFeatures(dev, f).ok);
  dev.setStatus(ACK | DRIVER | FEATURES_OK);
  const again = vhostVdpaSetFeatures(dev, f | featureMask([VIRTIO_NET_F_MAC]));
  assert.ok(!again.ok && again.error.errno === "EBUSY");
});

Deno.test("Reset clears status, features, queue state and group bindings", () => {
  const dev = simNet();
  dev.setDriverFeatures(featureMask([VIRTIO_F_VERSION_1, VIRTIO_F_ACCESS_PLATFORM]));
  dev.setStatus(ACK | DRIVER | FEATURES_OK);
  dev.setVqNum(0, 256);
  dev.setVqAddress(0, { desc: 0x1000n, driver: 0x2000n, device: 0x3000n });
  dev.setVqReady(0, true);
  dev.setVqState(0, { kind: "split", availIndex: 7 });
  dev.setGroupAsid(1, 1);
  dev.setStatus(0);
  assert.equal(dev.getStatus(), 0);
  assert.equal(dev.getDriverFeatures(), 0n);
  assert.deepEqual(dev.vqConfig(0), {
    num: 0,
    descArea: 0n,
    driverArea: 0n,
    deviceArea: 0n,
    ready: false,
    state: { kind: "split", availIndex: 0 },
    hasCallback: false,
  });
  assert.equal(dev.groupAsid(1), 0);
  assert.equal(dev.resetCount, 1);
});

Deno.test("vdpa_sim_net puts the CVQ alone in group 1 and bounds ASIDs", () => {
  const dev = simNet();
  assert.deepEqual([0, 1, 2].map((i) => dev.getVqGroup(i)), [
    { ok: true, value: 0 },
    { ok: true, value: 0 },
    { ok: true, value: 1 },
  ]);
  assert.equal(dev.getVqGroup(3).ok, false, "only three queues");
  assert.equal(dev.setGroupAsid(2, 0).ok, false, "two groups");
  assert.equal(dev.setGroupAsid(1, 2).ok, false, "two address spaces");
  assert.ok(dev.setGroupAsid(1, 1).ok);
  assert.equal(dev.getVqNumMax(), 256);
  assert.deepEqual(dev.getIovaRange(), { first: 0n, last: 0xffff_ffff_ffff_ffffn });
});

Deno.test("vdpa_sim_net config space: provisioned MAC, MTU 1500 by default, link always up", () => {
  const dev = simNet();
  const cfg = dev.getConfig(0, 12);
  assert.deepEqual([...cfg.slice(0, 6)], [0, 0x11, 0x22, 0x33, 0x44, 0x55]);
  assert.equal(cfg[6], 1, "VIRTIO_NET_S_LINK_UP");
  assert.equal((cfg[10] ?? 0) | ((cfg[11] ?? 0) << 8), 1500);
  assert.deepEqual(
    [...dev.getConfig(20, 8)],
    [0, 0, 0, 0, 0, 0, 0, 0],
    "out of range reads leave the buffer zeroed",
  );
  const jumbo = vdpaSimNetParent().create("j", { mtu: 9000 });
  assert.ok(jumbo.ok && jumbo.value.getConfig(10, 2)[0] === (9000 & 0xff));
});

Deno.test("vdpa_sim vendor statistics use the kernel's names per queue", () => {
  const dev = simNet();
  dev.stats.tx.packets = 5n;
  const tx = dev.vendorStats(1);
  assert.ok(tx.ok);
  assert.deepEqual(tx.value.map(([n]) => n), ["tx packets", "tx bytes", "tx errors", "tx drops"]);
  assert.equal(tx.value[0]?.[1], 5n);
  const bad = dev.vendorStats(3);
  assert.ok(!bad.ok && bad.error.errno === "EINVAL" && bad.error.extack === undefined);
});

Deno.test("Simulator parents accept only subsets of their features", async (t) => {
  const cases: [string, ReturnType<typeof vdpaSimNetParent>, bigint, boolean][] = [
    ["net, exact", vdpaSimNetParent(), VDPASIM_NET_FEATURES, true],
    ["net, subset", vdpaSimNetParent(), featureMask([32, 33]), true],
    ["net, MQ added", vdpaSimNetParent(), VDPASIM_NET_FEATURES | featureMask([22]), false],
    ["blk, exact", vdpaSimBlkParent(), VDPASIM_BLK_FEATURES, true],
    ["blk, net bit", vdpaSimBlkParent(), featureMask([5, 32, 33]), false],
  ];
  for (const [name, parent, features, accepted] of cases) {
    await t.step(name, () => {
      const r = parent.create("x", { deviceFeatures: features });
      assert.equal(r.ok, accepted);
      if (r.ok) assert.equal(r.value.getDeviceFeatures(), features);
      else assert.equal(r.error.errno, "EINVAL");
    });
  }
  assert.equal(
    configAttrMask(vdpaSimNetParent().configAttrs),
    0x102400n,
    "mac, mtu, device_features",
  );
});

const MLX: NicVdpaSpec = {
  parentModule: "mlx5_vdpa",
  vendorId: 0x15b3,
  maxSupportedVqs: 17,
  maxVqSize: 32768,
  deviceFeatures: [5, 16, 17, 22, 32, 33],
  configAttrs: ["mac", "max_vqp", "mtu", "device_features"],
  maxDevicesPerFunction: 1,
  vstats: ["received_desc", "completed_desc"],
  ngroups: 2,
  nas: 2,
};

Deno.test("A hardware parent: one device per function, pairs bounded by its queues", () => {
  const parent = hwVdpaNetParent(MLX, { mac: [0, 0, 0, 0, 0, 0], mtu: 1500 });
  const tooMany = parent.create("v", { maxVqp: 9 });
  assert.ok(!tooMany.ok && tooMany.error.errno === "EINVAL", "16 data queues give 8 pairs");
  const dev = parent.create("v", { maxVqp: 8 });
  assert.ok(dev.ok && dev.value.spec.nvqs === 17);
  const second = parent.create("w", {});
  assert.ok(!second.ok && second.error.errno === "ENOSPC");
  parent.release(dev.value);
  assert.ok(parent.create("w", {}).ok, "the slot is free again after dev del");
});

Deno.test("A hardware device's statistics: invalid index, queue not ready, then counters", () => {
  const parent = hwVdpaNetParent(MLX, { mac: [0, 0, 0, 0, 0, 0], mtu: 1500 });
  const r = parent.create("v", {});
  assert.ok(r.ok);
  const dev = r.value;
  const bad = dev.vendorStats(3);
  assert.ok(
    !bad.ok && bad.error.errno === "EINVAL" &&
      bad.error.extack === "mlx5_vdpa: virtqueue index is not valid",
  );
  const notReady = dev.vendorStats(0);
  assert.ok(!notReady.ok && notReady.error.errno === "EAGAIN");
  dev.setVqReady(0, true);
  const ready = dev.vendorStats(0);
  assert.ok(ready.ok);
  assert.deepEqual(ready.value, [["received_desc", 0n], ["completed_desc", 0n]]);
  assert.ok(dev.vendorStats(2).ok, "the control queue always answers");
});
