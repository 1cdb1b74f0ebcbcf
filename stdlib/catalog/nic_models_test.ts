import assert from "node:assert/strict";
import { HostKernel } from "../../runtime/host/kernel.ts";
import { formatHostError, type HostError } from "../../runtime/host/host_error.ts";
import { describeHostEvent, type HostEvent } from "../../runtime/host/host_event.ts";
import { vfRoutingId } from "../../runtime/host/nic_model.ts";
import { formatBdf } from "../../runtime/host/pci.ts";
import { vdpaDevVstatsShow } from "../format/vdpa.ts";
import type { Result } from "../../runtime/result.ts";
import { KERNEL_MODULES } from "./kernel_modules.ts";
import { NIC_MODELS } from "./nic_models.ts";

function host(cmdline?: string): { k: HostKernel; events: HostEvent[]; take: () => string[] } {
  const events: HostEvent[] = [];
  const k = new HostKernel({
    catalog: { modules: KERNEL_MODULES, nicModels: NIC_MODELS },
    sink: (e) => events.push(e),
  });
  if (cmdline !== undefined) k.setCmdline(cmdline);
  const take = () => events.splice(0).map(describeHostEvent);
  take();
  return { k, events, take };
}

function text(r: Result<unknown, HostError>): string | undefined {
  return r.ok ? undefined : formatHostError(r.error);
}

function cat(k: HostKernel, path: string): string {
  const r = k.read(path);
  return r.ok ? r.value : formatHostError(r.error);
}

const NUMVFS = "/sys/class/net/ens1f0/device/sriov_numvfs";

Deno.test("VF routing IDs: PF + First VF Offset + n × stride, carrying into the device number", () => {
  const pf = 0x3b00; // 3b:00.0
  const mlx = NIC_MODELS.mlx5;
  assert.deepEqual(
    [0, 1, 5, 6, 13].map((i) => formatBdf(0, vfRoutingId(pf, mlx, i))),
    ["0000:3b:00.2", "0000:3b:00.3", "0000:3b:00.7", "0000:3b:01.0", "0000:3b:01.7"],
  );
  assert.equal(formatBdf(0, vfRoutingId(pf, NIC_MODELS.e810, 0)), "0000:3b:01.0");
});

Deno.test("host nic: the PF appears, udev loads its driver, the port netdev is created", () => {
  const { k, take } = host("intel_iommu=on");
  assert.equal(
    text(k.addNic({ name: "ens1f0", model: "mlx5", pci: "0000:3b:00.0", speedMbps: 100000 })),
    undefined,
  );
  assert.deepEqual(take(), [
    "device-add pci/0000:3b:00.0",
    "iommu-group-add 0 0000:3b:00.0",
    "kernel-log info: pci 0000:3b:00.0: Adding to iommu group 0",
    "module-load mlxfw (dependency by mlx5_core)",
    "module-load psample (dependency by mlx5_core)",
    "module-load tls (dependency by mlx5_core)",
    "module-load pci_hyperv_intf (dependency by mlx5_core)",
    "module-load mlx5_core (autoload by 0000:3b:00.0)",
    "driver-register pci/mlx5_core",
    "netdev-create ens1f0 ifindex 2 phys",
    "driver-bind pci/0000:3b:00.0 mlx5_core",
  ]);
  assert.equal(
    k.readlink("/sys/class/net/ens1f0").ok && cat(k, "/sys/class/net/ens1f0/device/vendor"),
    "0x15b3\n",
  );
  assert.equal(cat(k, "/sys/class/net/ens1f0/device/sriov_totalvfs"), "16\n");
  assert.equal(cat(k, "/sys/class/net/ens1f0/device/sriov_numvfs"), "0\n");
  assert.equal(
    cat(k, "/sys/class/net/ens1f0/speed"),
    "cat: /sys/class/net/ens1f0/speed: Invalid argument",
    "link down",
  );
  k.linkSetUp("ens1f0", true);
  assert.equal(cat(k, "/sys/class/net/ens1f0/speed"), "100000\n");
});

Deno.test("host nic refuses what a real host could not have", async (t) => {
  const { k } = host();
  k.addNic({ name: "ens1f0", model: "mlx5", pci: "0000:3b:00.0" });
  const cases: [Parameters<HostKernel["addNic"]>[0], string][] = [
    [
      { name: "x", model: "cx9", pci: "0000:5e:00.0" },
      "host nic x: unknown NIC model `cx9` (known: mlx5, e810)",
    ],
    [
      { name: "x", model: "mlx5", pci: "3b:00:0" },
      "host nic x: `3b:00:0` is not a PCI address (DDDD:BB:DD.F)",
    ],
    [{ name: "x", model: "mlx5", pci: "3b:00.0" }, "host nic x: 0000:3b:00.0 is already present"],
    [
      { name: "ens1f0", model: "mlx5", pci: "0000:5e:00.0" },
      "host nic ens1f0: a netdev named ens1f0 exists",
    ],
    [
      { name: "x", model: "mlx5", pci: "0000:5e:00.0", speedMbps: 1000 },
      "host nic x: Mellanox Technologies MT2892 Family [ConnectX-6 Dx] runs at 10Gbps, 25Gbps, 40Gbps, 50Gbps, 100Gbps",
    ],
  ];
  for (const [o, expected] of cases) {
    await t.step(expected, () => assert.equal(text(k.addNic(o)), expected));
  }
});

Deno.test("sriov_numvfs follows drivers/pci/iov.c, step by step", async (t) => {
  const { k } = host("intel_iommu=on");
  k.addNic({ name: "ens1f0", model: "mlx5", pci: "0000:3b:00.0" });
  const steps: [string, string | undefined, string[]][] = [
    ["4\n", undefined, ["0000:3b:00.2", "0000:3b:00.3", "0000:3b:00.4", "0000:3b:00.5"]],
    ["4\n", undefined, ["0000:3b:00.2", "0000:3b:00.3", "0000:3b:00.4", "0000:3b:00.5"]],
    ["2\n", "bash: echo: write error: Device or resource busy", [
      "0000:3b:00.2",
      "0000:3b:00.3",
      "0000:3b:00.4",
      "0000:3b:00.5",
    ]],
    ["17\n", "bash: echo: write error: Numerical result out of range", [
      "0000:3b:00.2",
      "0000:3b:00.3",
      "0000:3b:00.4",
      "0000:3b:00.5",
    ]],
    ["two\n", "bash: echo: write error: Invalid argument", [
      "0000:3b:00.2",
      "0000:3b:00.3",
      "0000:3b:00.4",
      "0000:3b:00.5",
    ]],
    ["0\n", undefined, []],
    ["0x2\n", undefined, ["0000:3b:00.2", "0000:3b:00.3"]],
  ];
  for (const [value, expected, vfs] of steps) {
    await t.step(`echo ${JSON.stringify(value)} > sriov_numvfs`, () => {
      assert.equal(text(k.write(NUMVFS, value)), expected);
      assert.deepEqual(
        k.glob("/sys/bus/pci/devices/0000:3b:00.0/virtfn*").map((p) => {
          const r = k.realpath(p);
          return r.ok ? r.value.split("/").pop() : "?";
        }),
        vfs,
      );
    });
  }
  await t.step("VFs: physfn, own IOMMU group, a VF netdev each", () => {
    assert.equal(k.readlink("/sys/bus/pci/devices/0000:3b:00.3/physfn").ok, true);
    assert.equal(cat(k, "/sys/bus/pci/devices/0000:3b:00.3/physfn/device"), "0x101d\n");
    assert.equal(cat(k, "/sys/bus/pci/devices/0000:3b:00.3/device"), "0x101e\n");
    const g = k.readlink("/sys/bus/pci/devices/0000:3b:00.3/iommu_group");
    assert.ok(
      g.ok && g.value.endsWith("kernel/iommu_groups/2"),
      "groups 0 (PF) and 1 (VF 0) are taken",
    );
    assert.deepEqual(k.readdir("/sys/kernel/iommu_groups/2/devices"), {
      ok: true,
      value: ["0000:3b:00.3"],
    });
    assert.deepEqual(k.readdir("/sys/bus/pci/devices/0000:3b:00.3/net"), {
      ok: true,
      value: ["ens1f0v1"],
    });
  });
});

Deno.test("SR-IOV needs a PF driver; sriov_drivers_autoprobe=0 leaves VFs unbound", () => {
  const { k } = host();
  k.addNic({ name: "ens1f0", model: "mlx5", pci: "0000:3b:00.0" });
  k.write("/sys/bus/pci/drivers/mlx5_core/unbind", "0000:3b:00.0\n");
  assert.equal(k.exists("/sys/class/net/ens1f0"), false, "the port netdev goes with the driver");
  assert.equal(
    text(k.write("/sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs", "2\n")),
    "bash: echo: write error: No such file or directory",
  );
  k.write("/sys/bus/pci/drivers/mlx5_core/bind", "0000:3b:00.0\n");
  k.write("/sys/bus/pci/devices/0000:3b:00.0/sriov_drivers_autoprobe", "0\n");
  k.write(NUMVFS, "2\n");
  assert.equal(k.exists("/sys/bus/pci/devices/0000:3b:00.2/driver"), false);
  assert.equal(text(k.write("/sys/bus/pci/drivers/mlx5_core/bind", "0000:3b:00.2\n")), undefined);
  assert.equal(k.exists("/sys/class/net/ens1f0v0"), true);
});

Deno.test("Moving a VF to vfio-pci: driver_override, unbind, drivers_probe", async (t) => {
  await t.step("without an IOMMU, vfio-pci's probe fails with -EINVAL", () => {
    const { k, events } = host();
    k.addNic({ name: "ens1f0", model: "mlx5", pci: "0000:3b:00.0" });
    k.write(NUMVFS, "1\n");
    k.modprobe("vfio-pci");
    k.write("/sys/bus/pci/devices/0000:3b:00.2/driver_override", "vfio-pci\n");
    k.write("/sys/bus/pci/drivers/mlx5_core/unbind", "0000:3b:00.2\n");
    assert.equal(
      text(k.write("/sys/bus/pci/drivers_probe", "0000:3b:00.2\n")),
      undefined,
      "drivers_probe itself succeeds",
    );
    assert.equal(k.exists("/sys/bus/pci/devices/0000:3b:00.2/driver"), false);
    assert.ok(
      events.some((e) =>
        e.kind === "kernel-log" &&
        e.text === "vfio-pci: probe of 0000:3b:00.2 failed with error -22"
      ),
    );
    assert.equal(
      text(k.write("/sys/bus/pci/drivers/vfio-pci/bind", "0000:3b:00.2\n")),
      "bash: echo: write error: Invalid argument",
    );
  });
  await t.step("with intel_iommu=on it binds and /dev/vfio/<group> appears, exclusive", () => {
    const { k } = host("intel_iommu=on iommu=pt");
    k.addNic({ name: "ens1f0", model: "mlx5", pci: "0000:3b:00.0" });
    k.write(NUMVFS, "1\n");
    k.modprobe("vfio-pci");
    assert.equal(
      text(k.write("/sys/bus/pci/drivers/vfio-pci/bind", "0000:3b:00.2\n")),
      "bash: echo: write error: No such device",
      "no id matches without an override",
    );
    k.write("/sys/bus/pci/devices/0000:3b:00.2/driver_override", "vfio-pci\n");
    assert.equal(
      text(k.write("/sys/bus/pci/drivers/vfio-pci/bind", "0000:3b:00.2\n")),
      "bash: echo: write error: Device or resource busy",
      "still bound to mlx5_core",
    );
    k.write("/sys/bus/pci/drivers/mlx5_core/unbind", "0000:3b:00.2\n");
    k.write("/sys/bus/pci/drivers_probe", "0000:3b:00.2\n");
    const drv = k.readlink("/sys/bus/pci/devices/0000:3b:00.2/driver");
    assert.ok(drv.ok && drv.value.endsWith("/drivers/vfio-pci"));
    assert.deepEqual(k.glob("/dev/vfio/*"), ["/dev/vfio/1", "/dev/vfio/vfio"]);
    assert.equal(cat(k, "/sys/kernel/iommu_groups/1/type"), "identity\n");
    const a = k.open("/dev/vfio/1", "qemu:vm1");
    assert.ok(a.ok);
    const b = k.open("/dev/vfio/1", "qemu:vm2");
    assert.equal(text(b), "/dev/vfio/1: Device or resource busy");
    assert.equal(
      text(k.write(NUMVFS, "0\n")),
      "bash: echo: write error: Device or resource busy",
      "VFIO would wait for its user",
    );
    k.close(a.value);
    assert.equal(text(k.write(NUMVFS, "0\n")), undefined);
    assert.deepEqual(k.glob("/dev/vfio/*"), ["/dev/vfio/vfio"]);
  });
});

Deno.test("mlx5_vdpa exposes a management device per VF bound to mlx5_core", async (t) => {
  const { k, take } = host("intel_iommu=on");
  k.addNic({ name: "ens1f0", model: "mlx5", pci: "0000:3b:00.0" });
  k.write(NUMVFS, "2\n");
  take();
  await t.step("loading mlx5_vdpa registers pci/<bdf> for each VF", () => {
    k.modprobe("mlx5_vdpa");
    assert.deepEqual(take().filter((l) => l.startsWith("mgmtdev")), [
      "mgmtdev-register pci/0000:3b:00.2",
      "mgmtdev-register pci/0000:3b:00.3",
    ]);
  });
  await t.step("vdpa dev add … max_vqp 4 on a VF, then a second device on it is ENOSPC", () => {
    const nl = k.vdpaNetlink;
    assert.equal(
      text(nl.devNew({ name: "vdpa0", mgmtdev: { bus: "pci", dev: "0000:3b:00.2" }, maxVqp: 4 })),
      undefined,
    );
    assert.equal(
      text(nl.devNew({ name: "vdpa1", mgmtdev: { bus: "pci", dev: "0000:3b:00.2" } })),
      "kernel answers: No space left on device",
    );
    assert.equal(
      text(nl.devNew({ name: "vdpa1", mgmtdev: { dev: "0000:3b:00.3" } })),
      "Error: vdpa: Fail to find the specified management device.\nkernel answers: No such device",
      "a PCI management device needs its bus name",
    );
    const dev = nl.devGet("vdpa0");
    assert.ok(dev.ok && dev.value[0]?.maxVqs === 9 && dev.value[0]?.vendorId === 0x15b3);
    const real = k.realpath("/sys/bus/vdpa/devices/vdpa0");
    assert.deepEqual(real, {
      ok: true,
      value: "/sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.2/vdpa0",
    });
  });
  await t.step(
    "vstats on the hardware device: names, control queue at 2 × max_vqp, unready queues",
    () => {
      const dev = k.vdpa.device("vdpa0")?.device;
      assert.ok(dev !== undefined);
      dev.setDriverFeatures(dev.getDeviceFeatures());
      dev.setStatus(0x0b);
      dev.setVqReady(1, true);
      const nl = k.vdpaNetlink;
      assert.equal(
        vdpaDevVstatsShow(nl.devVstatsGet("vdpa0", 1), {}).stdout,
        "vdpa0: queue_type tx received_desc 0 completed_desc 0 \n",
      );
      assert.equal(
        vdpaDevVstatsShow(nl.devVstatsGet("vdpa0", 8), {}).stdout,
        "vdpa0: queue_type control_vq received_desc 0 completed_desc 0 \n",
      );
      assert.equal(
        vdpaDevVstatsShow(nl.devVstatsGet("vdpa0", 0), {}).stderr,
        "Error: mlx5_vdpa: virtqueue not initialized.\nkernel answers: Resource temporarily unavailable\n",
      );
      assert.equal(
        vdpaDevVstatsShow(nl.devVstatsGet("vdpa0", 9), {}).stderr,
        "Error: mlx5_vdpa: virtqueue index is not valid.\nkernel answers: Invalid argument\n",
      );
    },
  );
  await t.step(
    "moving the VF away from mlx5_core takes its management device and vdpa device along",
    () => {
      take();
      k.write("/sys/bus/pci/drivers/mlx5_core/unbind", "0000:3b:00.2\n");
      const lines = take();
      assert.deepEqual(lines.slice(0, 3), [
        "device-del vdpa/vdpa0",
        "mgmtdev-unregister pci/0000:3b:00.2",
        "netdev-remove ens1f0v0",
      ]);
      assert.equal(k.vdpa.device("vdpa0"), undefined);
    },
  );
});
