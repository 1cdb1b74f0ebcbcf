import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { VhostVdpaDev } from "./vhost_vdpa_dev.ts";
import { vdpaSimNetParent } from "../../devices/vdpa_sim_net.ts";
import {
  featureMask,
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_VERSION_1,
} from "../../devices/vdpa_device.ts";
import { VHOST_IOTLB_INVALIDATE, VHOST_IOTLB_UPDATE } from "../../iommu/vhost_iotlb_msg.ts";
import { newTranslateResult, VHOST_ACCESS_RO } from "../../memory/translator.ts";
import { arrayControlTrace, formatControlStep } from "./control_trace.ts";
import {
  VHOST_BACKEND_F_IOTLB_ASID,
  VHOST_BACKEND_F_IOTLB_BATCH,
  VHOST_BACKEND_F_IOTLB_MSG_V2,
} from "./ioctl.ts";
import { IOTLB_BATCH_BEGIN, IOTLB_BATCH_END } from "./vhost_vdpa_dev.ts";
import { hwVdpaNetParent } from "../../devices/hw_vdpa_net.ts";

function simDev(features?: bigint) {
  const d = vdpaSimNetParent().create(
    "vdpa0",
    features === undefined ? {} : { deviceFeatures: features },
  );
  if (!d.ok) throw new Error("create");
  return d.value;
}

const V2_BATCH = (1n << BigInt(VHOST_BACKEND_F_IOTLB_MSG_V2)) |
  (1n << BigInt(VHOST_BACKEND_F_IOTLB_BATCH));

Deno.test("vhost-vdpa ioctls", async (t) => {
  await t.step("ring ioctls and IOTLB writes before SET_OWNER are EPERM", () => {
    const v = new VhostVdpaDev({ device: simDev(), fd: 5, owner: "qemu:vm1" });
    for (
      const r of [
        v.setVringNum(0, 256),
        v.setVringBase(0, 0),
        v.setVringAddr(0, { desc: 0, avail: 0x1000, used: 0x2000 }),
        v.setVringKick(0, 7),
        v.setVringCall(0, 8),
        v.setVringEnable(0, true),
        v.writeIotlb({
          type: VHOST_IOTLB_UPDATE,
          iova: 0,
          size: 0x1000,
          uaddr: 0x7f00_0000_0000,
          perm: 3,
        }),
      ]
    ) {
      assert(!r.ok);
      assertEquals(r.error.errno, "EPERM");
    }
    // device-wide queries work without an owner (they are not in vhost_dev_ioctl)
    assert(v.getFeatures().ok && v.getStatus().ok && v.getIovaRange().ok);
  });

  await t.step("a second SET_OWNER is EBUSY", () => {
    const v = new VhostVdpaDev({ device: simDev(), fd: 5, owner: "qemu:vm1" });
    assert(v.setOwner().ok);
    const again = v.setOwner();
    assert(!again.ok);
    assertEquals(again.error.errno, "EBUSY");
  });

  await t.step("ring sizes: non-zero powers of two only; index past the queues is ENOBUFS", () => {
    const v = new VhostVdpaDev({ device: simDev(), fd: 5, owner: "qemu:vm1" });
    v.setOwner();
    for (const bad of [0, 3, 255, 0x10000, 1.5]) {
      const r = v.setVringNum(0, bad);
      assert(!r.ok, `size ${bad}`);
      assertEquals(r.error.errno, "EINVAL");
    }
    assert(v.setVringNum(1, 256).ok);
    assertEquals(v.device.vqConfig(1)?.num, 256);
    const past = v.setVringNum(3, 256);
    assert(!past.ok);
    assertEquals(past.error.errno, "ENOBUFS");
  });

  await t.step("SET_VRING_ADDR checks avail 2-alignment, used 4-alignment and flags", () => {
    const v = new VhostVdpaDev({ device: simDev(), fd: 5, owner: "qemu:vm1" });
    v.setOwner();
    const odd = v.setVringAddr(0, { desc: 0x1000, avail: 0x2001, used: 0x3000 });
    assert(!odd.ok && odd.error.errno === "EINVAL");
    const used2 = v.setVringAddr(0, { desc: 0x1000, avail: 0x2000, used: 0x3002 });
    assert(!used2.ok && used2.error.errno === "EINVAL");
    const flags = v.setVringAddr(0, { desc: 0x1000, avail: 0x2000, used: 0x3000, flags: 2 });
    assert(!flags.ok && flags.error.errno === "EOPNOTSUPP");
    // the descriptor table is not checked by vhost (only by the device)
    assert(v.setVringAddr(0, { desc: 0x1008, avail: 0x2000, used: 0x3000 }).ok);
    assertEquals(v.device.vqConfig(0)?.descArea, 0x1008n);
  });

  await t.step("SET_FEATURES without ACCESS_PLATFORM: vdpa_sim refuses with EINVAL", () => {
    const v = new VhostVdpaDev({ device: simDev(), fd: 5, owner: "qemu:vm1" });
    v.setOwner();
    v.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    const r = v.setFeatures(featureMask([VIRTIO_F_VERSION_1]));
    assert(!r.ok);
    assertEquals(r.error.errno, "EINVAL");
    assert(r.error.reason.includes("ACCESS_PLATFORM"));
    assert(v.setFeatures(featureMask([VIRTIO_F_VERSION_1, VIRTIO_F_ACCESS_PLATFORM])).ok);
  });

  await t.step("SET_FEATURES after FEATURES_OK is EBUSY; status bits cannot be cleared", () => {
    const v = new VhostVdpaDev({ device: simDev(), fd: 5, owner: "qemu:vm1" });
    v.setOwner();
    const ok = featureMask([VIRTIO_F_VERSION_1, VIRTIO_F_ACCESS_PLATFORM]);
    v.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    assert(v.setFeatures(ok).ok);
    assert(v.setStatus(0xb).ok);
    const late = v.setFeatures(ok);
    assert(!late.ok && late.error.errno === "EBUSY");
    const clear = v.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_FEATURES_OK);
    assert(!clear.ok && clear.error.errno === "EINVAL");
    assert(v.setStatus(0).ok);
    assertEquals(v.device.getStatus(), 0);
    assertEquals(v.device.getDriverFeatures(), 0n);
  });

  await t.step("GET_CONFIG: empty or out-of-range windows are EINVAL", () => {
    const v = new VhostVdpaDev({ device: simDev(), fd: 5, owner: "qemu:vm1" });
    assert(!v.getConfig(0, 0).ok);
    assert(!v.getConfig(20, 8).ok);
    assert(!v.getConfig(25, 1).ok);
    const mtu = v.getConfig(10, 2);
    assert(mtu.ok);
    assertEquals([...mtu.value], [1500 & 0xff, 1500 >> 8]);
  });

  await t.step("backend features outside the offer are EOPNOTSUPP", () => {
    const v = new VhostVdpaDev({ device: simDev(), fd: 5, owner: "qemu:vm1" });
    const offer = v.getBackendFeatures();
    assert(offer.ok);
    assert((offer.value & (1n << BigInt(VHOST_BACKEND_F_IOTLB_ASID))) !== 0n);
    const r = v.setBackendFeatures(offer.value | (1n << 8n));
    assert(!r.ok && r.error.errno === "EOPNOTSUPP");
    assert(v.setBackendFeatures(V2_BATCH).ok);
  });

  await t.step("an IOTLB batch reaches vdpa_sim as one set_map; ASID 1 needs IOTLB_ASID", () => {
    const dev = simDev();
    const v = new VhostVdpaDev({ device: dev, fd: 5, owner: "qemu:vm1" });
    v.setOwner();
    v.setBackendFeatures(V2_BATCH);
    const tx = dev.translatorFor(1);
    assert(tx !== undefined);
    const out = newTranslateResult();
    // identity pass-through before the first map
    assert(tx.translate(0x5000, 4, VHOST_ACCESS_RO, out) && out.addr === 0x5000);
    assert(v.writeIotlb(IOTLB_BATCH_BEGIN).ok);
    assert(
      v.writeIotlb({
        type: VHOST_IOTLB_UPDATE,
        iova: 0,
        size: 0x10000,
        uaddr: 0x7f00_0000_0000,
        perm: 3,
      }).ok,
    );
    // inside a batch the parent still has the old (identity) map
    assert(tx.translate(0x5000, 4, VHOST_ACCESS_RO, out) && out.addr === 0x5000);
    assert(v.writeIotlb(IOTLB_BATCH_END).ok);
    assert(tx.translate(0x5000, 4, VHOST_ACCESS_RO, out));
    assertEquals(out.addr, 0x7f00_0000_5000);
    // beyond the map: no translation any more (vringh -EINVAL)
    assert(!tx.translate(0x10000, 4, VHOST_ACCESS_RO, out));
    const overlap = v.writeIotlb({
      type: VHOST_IOTLB_UPDATE,
      iova: 0x8000,
      size: 0x1000,
      uaddr: 0x1000,
      perm: 3,
    });
    assert(!overlap.ok && overlap.error.errno === "EEXIST");
    const asid1 = v.writeIotlb({
      type: VHOST_IOTLB_UPDATE,
      iova: 0,
      size: 0x1000,
      uaddr: 0,
      perm: 3,
    }, 1);
    assert(!asid1.ok && asid1.error.errno === "EINVAL");
    assert(
      v.writeIotlb({ type: VHOST_IOTLB_INVALIDATE, iova: 0, size: 0x10000, uaddr: 0, perm: 0 }).ok,
    );
    assert(!tx.translate(0x5000, 4, VHOST_ACCESS_RO, out));
  });

  await t.step("the host notifier: vdpa_sim has no doorbell, mlx5 has one page per queue", () => {
    const sim = new VhostVdpaDev({ device: simDev(), fd: 5, owner: "qemu:vm1" });
    const none = sim.mmapNotify(1);
    assert(!none.ok);
    assertEquals(none.error.errno, "ENOTSUPP");
    const hw = hwVdpaNetParent({
      parentModule: "mlx5_vdpa",
      vendorId: 0x15b3,
      maxSupportedVqs: 17,
      maxVqSize: 32768,
      deviceFeatures: [5, 16, 17, 22, 32, 33],
      configAttrs: ["mac", "max_vqp"],
      maxDevicesPerFunction: 1,
      vstats: ["received_desc", "completed_desc"],
      ngroups: 2,
      nas: 2,
    }, { mac: [0x0c, 0x42, 0xa1, 0, 0, 2], mtu: 1500 }).create("vdpa0", {});
    assert(hw.ok);
    const v = new VhostVdpaDev({ device: hw.value, fd: 6, owner: "qemu:vm1" });
    const page = v.mmapNotify(1);
    assert(page.ok, JSON.stringify(page));
    assertEquals(page.value % 4096, 0);
    const two = v.mmapNotify(1, { length: 8192 });
    assert(!two.ok && two.error.errno === "EINVAL");
    const readable = v.mmapNotify(1, { read: true });
    assert(!readable.ok && readable.error.errno === "EINVAL");
  });

  await t.step("kick reaches kick_vq only through a bound kick fd; call needs a call fd", () => {
    const dev = simDev();
    const v = new VhostVdpaDev({ device: dev, fd: 5, owner: "qemu:vm1" });
    v.setOwner();
    assert(!v.kick(1));
    v.setVringKick(1, 20);
    assert(v.kick(1));
    assertEquals(dev.kickCount, 1);
    v.setVringKick(1, -1);
    assert(!v.kick(1));
    const calls: number[] = [];
    v.onCall = (q) => calls.push(q);
    v.setVringCall(0, 21);
    dev.vqCallback(0)?.();
    v.setVringCall(0, -1);
    assertEquals(dev.vqCallback(0), undefined);
    assertEquals(calls, [0]);
  });

  await t.step("every ioctl is a control event with its name and fd", () => {
    const { trace, events } = arrayControlTrace();
    const v = new VhostVdpaDev({
      device: simDev(),
      fd: 9,
      owner: "qemu:vm1",
      trace,
      ctx: "qemu-vm1:main",
    });
    v.setOwner();
    v.setVringNum(5, 256);
    assertEquals(events.map(formatControlStep), [
      "vhost-vdpa: ioctl VHOST_SET_OWNER fd=9 owner=qemu:vm1",
      "vhost-vdpa: ioctl VHOST_SET_VRING_NUM fd=9 index=5 num=256 error=-ENOBUFS",
    ]);
    assertEquals(events[0]?.ctx, "qemu-vm1:main");
  });

  await t.step("close resets the device and drops every mapping", () => {
    const dev = simDev();
    const v = new VhostVdpaDev({ device: dev, fd: 5, owner: "qemu:vm1" });
    v.setOwner();
    v.writeIotlb({
      type: VHOST_IOTLB_UPDATE,
      iova: 0,
      size: 0x1000,
      uaddr: 0x7f00_0000_0000,
      perm: 3,
    });
    v.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK);
    v.close();
    assertEquals(dev.getStatus(), 0);
    assertEquals(v.iotlb.iotlb(0), undefined);
    assert(!v.setOwner().ok);
  });
});
