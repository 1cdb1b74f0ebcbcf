import { checkSvqFeatures } from "./svq_features.ts";
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { vdpaSimNetParent } from "../../devices/vdpa_sim_net.ts";
import { hwVdpaNetParent } from "../../devices/hw_vdpa_net.ts";
import type { VdpaDevice } from "../../devices/vdpa_device.ts";
import { newTranslateResult, VHOST_ACCESS_RO } from "../../memory/translator.ts";
import { featureMask, VIRTIO_F_VERSION_1 } from "../../virtio/features.ts";
import { arrayControlTrace, formatControlStep } from "./control_trace.ts";
import {
  describeQemuVdpaError,
  qemuVdpaInit,
  qemuVdpaProbe,
  qemuVdpaStart,
  qemuVdpaStop,
  type VdpaQueueStart,
} from "./qemu_vhost_vdpa.ts";
import { VhostVdpaDev } from "./vhost_vdpa_dev.ts";
import { TEST_HOST_CATALOG } from "../testdata/host_catalog.ts";

function sim(config: { deviceFeatures?: bigint } = {}): VdpaDevice {
  const d = vdpaSimNetParent().create("vdpa0", config);
  if (!d.ok) throw new Error("create");
  return d.value;
}

function mlx5(pairs: number): VdpaDevice {
  const spec = TEST_HOST_CATALOG.nicModels.mlx5?.vdpa;
  if (spec === undefined) throw new Error("mlx5 model");
  const d = hwVdpaNetParent(spec, { mac: [0x0c, 0x42, 0xa1, 0, 0, 2], mtu: 1500, rid: 0x3b02 })
    .create("vdpa0", { maxVqp: pairs });
  if (!d.ok) throw new Error("create");
  return d.value;
}

const RAM = [{ gpa: 0, size: 0x8000_0000, hva: 0x7f00_0000_0000 }];

function queues(n: number): VdpaQueueStart[] {
  return Array.from({ length: n }, (_, i) => ({
    index: i,
    size: 256,
    desc: 0x10_0000 + i * 0x4000,
    driver: 0x10_1000 + i * 0x4000,
    device: 0x10_2000 + i * 0x4000,
    base: 0,
    kickFd: 40 + i,
    callFd: 50 + i,
  }));
}

const GUEST = featureMask(VIRTIO_F_VERSION_1, 5, 16, 17);

Deno.test("QEMU vhost-vdpa bring-up", async (t) => {
  await t.step("vdpa_sim: the control-plane sequence, message by message", async (t2) => {
    const { trace, events } = arrayControlTrace();
    const dev = new VhostVdpaDev({
      device: sim(),
      fd: 21,
      owner: "qemu:vm1",
      trace,
      ctx: "qemu-vm1:main",
    });
    const probe = qemuVdpaProbe(dev, { svq: false });
    assert(probe.ok);
    assertEquals(probe.value.queuePairs, 1);
    assert(probe.value.hasCvq);
    assert(qemuVdpaInit(dev, { ram: RAM }).ok);
    const started = qemuVdpaStart(dev, {
      features: GUEST,
      queues: queues(2),
      configCallFd: 60,
      hostNotifierAllowed: true,
    });
    assert(started.ok);
    assertEquals(started.value.hostNotifiers, [], "vdpa_sim has no doorbell page");
    await t2.assertSnapshot(events.map(formatControlStep).join("\n"), { serializer: String });
  });

  await t.step(
    "QEMU forces ACCESS_PLATFORM into SET_FEATURES even when the guest did not ask",
    () => {
      const device = sim();
      const dev = new VhostVdpaDev({ device, fd: 21, owner: "qemu:vm1" });
      qemuVdpaInit(dev, { ram: RAM });
      const r = qemuVdpaStart(dev, {
        features: GUEST,
        queues: queues(2),
        configCallFd: -1,
        hostNotifierAllowed: false,
      });
      assert(r.ok);
      assert((device.getDriverFeatures() & (1n << 33n)) !== 0n);
      assert((device.getStatus() & 4) !== 0, "DRIVER_OK");
    },
  );

  await t.step(
    "device_features without ACCESS_PLATFORM: vhost-vdpa still starts (QEMU forces the bit)",
    () => {
      // 0x100020000 = VERSION_1 | CTRL_VQ. vdpa_sim checks the *requested* features for bit
      // 33, and QEMU's vhost_force_iommu always requests it: SET_FEATURES succeeds, and the
      // device's features (masked by what it offers) end up without ACCESS_PLATFORM.
      const device = sim({ deviceFeatures: 0x1_0002_0000n });
      const dev = new VhostVdpaDev({ device, fd: 21, owner: "qemu:vm1" });
      qemuVdpaInit(dev, { ram: RAM });
      const r = qemuVdpaStart(dev, {
        features: featureMask(VIRTIO_F_VERSION_1, 17),
        queues: queues(2),
        configCallFd: -1,
        hostNotifierAllowed: false,
      });
      assert(r.ok);
      assertEquals(device.getDriverFeatures(), 0x1_0002_0000n);
    },
  );

  await t.step("a driver that does not request ACCESS_PLATFORM is refused by vdpa_sim", () => {
    const dev = new VhostVdpaDev({ device: sim(), fd: 21, owner: "qemu:vm1" });
    qemuVdpaInit(dev, { ram: RAM });
    const r = dev.setFeatures(GUEST);
    assert(!r.ok && r.error.errno === "EINVAL");
  });

  await t.step("x-svq on a device without ACCESS_PLATFORM: QEMU's SVQ error", () => {
    const dev = new VhostVdpaDev({
      device: sim({ deviceFeatures: 0x1_0002_0000n }),
      fd: 21,
      owner: "qemu:vm1",
    });
    const r = qemuVdpaProbe(dev, { svq: true });
    assert(!r.ok);
    assertEquals(
      describeQemuVdpaError(r.error),
      "SVQ Invalid device feature flags, offer: 0x100020000, ok: 0x300020000",
    );
  });

  await t.step("x-svq on mlx5: CTRL_VLAN is relayed since QEMU 8.2, the probe passes", () => {
    const dev = new VhostVdpaDev({ device: mlx5(1), fd: 21, owner: "qemu:vm1" });
    assert(qemuVdpaProbe(dev, { svq: true }).ok);
  });

  await t.step("x-svq on a device offering GUEST_ANNOUNCE: a bit SVQ cannot relay", () => {
    // VERSION_1 | ACCESS_PLATFORM | CTRL_VQ | GUEST_ANNOUNCE (bit 21)
    const r = checkSvqFeatures(0x3_0022_0000n);
    assertEquals(r?.text, "vdpa svq does not work with features 0x200000");
    assertEquals(checkSvqFeatures(0x3_0002_0000n), undefined);
  });

  await t.step(
    "mlx5 with max_vqp 4: four queue pairs from the config, a doorbell page per queue",
    () => {
      const dev = new VhostVdpaDev({ device: mlx5(4), fd: 21, owner: "qemu:vm1" });
      const probe = qemuVdpaProbe(dev, { svq: false });
      assert(probe.ok);
      assertEquals(probe.value.queuePairs, 4);
      qemuVdpaInit(dev, { ram: RAM });
      const r = qemuVdpaStart(dev, {
        features: featureMask(VIRTIO_F_VERSION_1, 5, 22, 17),
        queues: queues(8),
        configCallFd: -1,
        hostNotifierAllowed: true,
      });
      assert(r.ok);
      assertEquals(r.value.hostNotifiers, [0, 1, 2, 3, 4, 5, 6, 7]);
      // without page-per-vq QEMU cannot alias the doorbells: notifies exit
      const dev2 = new VhostVdpaDev({ device: mlx5(1), fd: 22, owner: "qemu:vm2" });
      qemuVdpaInit(dev2, { ram: RAM });
      const r2 = qemuVdpaStart(dev2, {
        features: featureMask(VIRTIO_F_VERSION_1),
        queues: queues(2),
        configCallFd: -1,
        hostNotifierAllowed: false,
      });
      assert(r2.ok && r2.value.hostNotifiers.length === 0);
    },
  );

  await t.step("guest RAM is mapped IOVA = GPA → HVA before the device runs", () => {
    const device = sim();
    const dev = new VhostVdpaDev({ device, fd: 21, owner: "qemu:vm1" });
    qemuVdpaInit(dev, { ram: RAM });
    const out = newTranslateResult();
    const tr = device.translatorFor(1);
    assert(tr !== undefined && tr.translate(0x1234, 8, VHOST_ACCESS_RO, out));
    assertEquals(out.addr, 0x7f00_0000_1234);
    assert(!tr.translate(0x8000_0000, 8, VHOST_ACCESS_RO, out), "nothing beyond guest RAM");
  });

  await t.step("stop reads back each queue's base and resets the device", () => {
    const device = sim();
    const dev = new VhostVdpaDev({ device, fd: 21, owner: "qemu:vm1" });
    qemuVdpaInit(dev, { ram: RAM });
    qemuVdpaStart(dev, {
      features: GUEST,
      queues: queues(2).map((q) => ({ ...q, base: 7 })),
      configCallFd: -1,
      hostNotifierAllowed: false,
    });
    const bases = qemuVdpaStop(dev, [0, 1]);
    assertEquals([...bases], [[0, 7], [1, 7]]);
    assertEquals(device.getStatus(), 3, "ACKNOWLEDGE | DRIVER after the reset");
  });
});
