import assert from "node:assert/strict";
import { HostKernel } from "../../runtime/host/kernel.ts";
import { formatHostError, type HostError } from "../../runtime/host/host_error.ts";
import { describeHostEvent, type HostEvent } from "../../runtime/host/host_event.ts";
import type { Result } from "../../runtime/result.ts";
import { KERNEL_MODULES } from "./kernel_modules.ts";
import { NIC_MODELS } from "./nic_models.ts";

function host(): { k: HostKernel; events: HostEvent[]; take: () => string[] } {
  const events: HostEvent[] = [];
  const k = new HostKernel({
    catalog: { modules: KERNEL_MODULES, nicModels: NIC_MODELS },
    sink: (e) => events.push(e),
  });
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

function link(k: HostKernel, path: string): string {
  const r = k.readlink(path);
  return r.ok ? r.value : "(none)";
}

Deno.test("The catalog is consistent: dependencies exist and parameter defaults match their types", () => {
  for (const [name, spec] of Object.entries(KERNEL_MODULES)) {
    for (const d of spec.depends) assert.ok(d in KERNEL_MODULES, `${name} depends on ${d}`);
    for (const [p, def] of Object.entries("params" in spec ? spec.params : {})) {
      const t = typeof def.default;
      assert.ok(
        def.type === "bool"
          ? t === "boolean"
          : def.type === "charp"
          ? t === "string"
          : t === "number",
        `${name}.${p}`,
      );
    }
    assert.ok(spec.size > 0 && spec.size % 4096 === 0, `${name} size is whole pages`);
    assert.ok(
      spec.description.length > 0 && !spec.description.includes("\n"),
      `${name} has a one-line description`,
    );
  }
});

Deno.test("The classic walkthrough: vdpa0 on vhost_vdpa, then moved to virtio_vdpa", async (t) => {
  const { k, take } = host();
  await t.step("modprobe vdpa, vhost_vdpa and vdpa_sim_net", () => {
    assert.equal(text(k.modprobe("vdpa")), undefined);
    assert.equal(text(k.modprobe("vhost_vdpa")), undefined);
    assert.equal(text(k.modprobe("vdpa_sim_net")), undefined);
    assert.deepEqual(take(), [
      "module-load vdpa (modprobe)",
      "bus-register vdpa",
      "genl-register vdpa",
      "module-load vhost_iotlb (dependency by vhost_vdpa)",
      "module-load vhost (dependency by vhost_vdpa)",
      "module-load irqbypass (dependency by vhost_vdpa)",
      "module-load vhost_vdpa (modprobe)",
      "driver-register vdpa/vhost_vdpa",
      "module-load vringh (dependency by vdpa_sim_net)",
      "module-load vdpa_sim (dependency by vdpa_sim_net)",
      "module-load vdpa_sim_net (modprobe)",
      "device-add none/vdpasim_net",
      "mgmtdev-register vdpasim_net",
    ]);
    assert.deepEqual(k.readdir("/sys/bus/vdpa/devices"), { ok: true, value: [] });
    assert.deepEqual(k.glob("/dev/vhost-vdpa-*"), []);
  });
  await t.step("vdpa dev add name vdpa0 mgmtdev vdpasim_net: device_add, probe, node, bind", () => {
    assert.equal(
      text(k.vdpaNetlink.devNew({ name: "vdpa0", mgmtdev: { dev: "vdpasim_net" } })),
      undefined,
    );
    assert.deepEqual(take(), [
      "device-add vdpa/vdpa0 parent vdpasim_net",
      "device-add none/vhost-vdpa-0 parent vdpa0",
      "devnode-create /dev/vhost-vdpa-0 (239:0)",
      "driver-bind vdpa/vdpa0 vhost_vdpa",
    ]);
    assert.deepEqual(k.glob("/dev/vhost-vdpa-*"), ["/dev/vhost-vdpa-0"]);
    assert.equal(link(k, "/sys/bus/vdpa/devices/vdpa0"), "../../../devices/vdpa0");
    assert.equal(
      link(k, "/sys/bus/vdpa/devices/vdpa0/driver"),
      "../../bus/vdpa/drivers/vhost_vdpa",
    );
    assert.equal(link(k, "/sys/bus/vdpa/drivers/vhost_vdpa/vdpa0"), "../../../../devices/vdpa0");
    assert.equal(cat(k, "/sys/bus/vdpa/devices/vdpa0/driver_override"), "(null)\n");
    assert.equal(cat(k, "/sys/bus/vdpa/devices/vdpa0/vhost-vdpa-0/dev"), "239:0\n");
  });
  await t.step("echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind", () => {
    assert.equal(text(k.write("/sys/bus/vdpa/drivers/vhost_vdpa/unbind", "vdpa0\n")), undefined);
    assert.deepEqual(take(), [
      "devnode-remove /dev/vhost-vdpa-0",
      "device-del none/vhost-vdpa-0",
      "driver-unbind vdpa/vdpa0 vhost_vdpa",
    ]);
    assert.deepEqual(k.glob("/dev/vhost-vdpa-*"), []);
    assert.equal(link(k, "/sys/bus/vdpa/devices/vdpa0/driver"), "(none)");
  });
  await t.step("binding to virtio_vdpa before its module is loaded fails like bash", () => {
    assert.equal(
      text(k.write("/sys/bus/vdpa/drivers/virtio_vdpa/bind", "vdpa0\n")),
      "bash: /sys/bus/vdpa/drivers/virtio_vdpa/bind: No such file or directory",
    );
  });
  await t.step(
    "modprobe virtio_vdpa binds the unbound vdpa0 by itself; udev loads virtio_net",
    () => {
      assert.equal(text(k.modprobe("virtio_vdpa")), undefined);
      assert.deepEqual(take(), [
        "module-load virtio_vdpa (modprobe)",
        "driver-register vdpa/virtio_vdpa",
        "virtio-status virtio0 0x00",
        "virtio-status virtio0 0x01",
        "device-add virtio/virtio0 parent vdpa0",
        "driver-bind vdpa/vdpa0 virtio_vdpa",
        "module-load failover (dependency by virtio_net)",
        "module-load net_failover (dependency by virtio_net)",
        "module-load virtio_net (autoload by virtio0)",
        "driver-register virtio/virtio_net",
        "virtio-status virtio0 0x03",
        "virtio-features virtio0 0x300830028",
        "virtio-status virtio0 0x0b",
        "netdev-create eth0 ifindex 2 virtio",
        "virtio-status virtio0 0x0f",
        "driver-bind virtio/virtio0 virtio_net",
      ]);
      assert.equal(
        text(k.write("/sys/bus/vdpa/drivers/virtio_vdpa/bind", "vdpa0\n")),
        "bash: echo: write error: Device or resource busy",
        "already bound",
      );
    },
  );
  await t.step("the host virtio device and netdev are in sysfs", () => {
    assert.deepEqual(k.glob("/dev/vhost-vdpa-*"), []);
    assert.equal(
      link(k, "/sys/bus/vdpa/devices/vdpa0/driver"),
      "../../bus/vdpa/drivers/virtio_vdpa",
    );
    assert.deepEqual(k.readdir("/sys/bus/virtio/devices/virtio0/net"), {
      ok: true,
      value: ["eth0"],
    });
    assert.equal(link(k, "/sys/class/net/eth0"), "../../devices/vdpa0/virtio0/net/eth0");
    assert.equal(cat(k, "/sys/bus/virtio/devices/virtio0/status"), "0x0000000f\n");
    assert.equal(cat(k, "/sys/bus/virtio/devices/virtio0/device"), "0x0001\n");
    assert.equal(
      cat(k, "/sys/bus/virtio/devices/virtio0/features"),
      "0001010000000000110000010000000011000000000000000000000000000000\n",
    );
    assert.equal(
      cat(k, "/sys/class/net/eth0/address"),
      "00:00:00:00:00:00\n",
      "vdpasim_net without mac",
    );
    assert.equal(cat(k, "/sys/class/net/eth0/mtu"), "1500\n");
  });
});

Deno.test("Module refusals and removals use kmod's words", async (t) => {
  const { k } = host();
  k.modprobe("vhost_vdpa");
  k.modprobe("vdpa_sim_net");
  const cases: [string, () => Result<void, HostError>, string | undefined][] = [
    [
      "rmmod a module others use",
      () => k.rmmod("vdpa"),
      "rmmod: ERROR: Module vdpa is in use by: vhost_vdpa vdpa_sim vdpa_sim_net",
    ],
    [
      "rmmod a module that is not loaded",
      () => k.rmmod("virtio_vdpa"),
      "rmmod: ERROR: Module virtio_vdpa is not currently loaded",
    ],
    [
      "rmmod a name kmod has never heard of",
      () => k.rmmod("vdpasim_net"),
      "rmmod: ERROR: Module vdpasim_net is not currently loaded",
    ],
    ["rmmod a built-in", () => k.rmmod("virtio"), "rmmod: ERROR: Module virtio is builtin."],
    [
      "modprobe the management device name",
      () => k.modprobe("vdpasim_net"),
      "modprobe: FATAL: Module vdpasim_net not found in directory /lib/modules/6.12.0-vdpa-lab",
    ],
    [
      "modprobe -r a module in use",
      () => k.modprobeRemove("vdpa"),
      "modprobe: FATAL: Module vdpa is in use.",
    ],
    [
      "modprobe -r an unknown name",
      () => k.modprobeRemove("nosuch"),
      "modprobe: FATAL: Module nosuch not found.",
    ],
    ["modprobe -r a module that is not loaded", () => k.modprobeRemove("vhost_net"), undefined],
    ["modprobe a loaded module again", () => k.modprobe("vdpa_sim_net"), undefined],
    ["modprobe with dashes", () => k.modprobe("vdpa-sim-blk"), undefined],
    [
      "modprobe with a value the kernel refuses",
      () => k.modprobe("vhost_net", ["experimental_zcopytx=yes"]),
      "modprobe: ERROR: could not insert 'vhost_net': Invalid argument",
    ],
  ];
  for (const [name, run, expected] of cases) {
    await t.step(name, () => assert.equal(text(run()), expected));
  }
  await t.step("the refused insert left its dependencies loaded", () => {
    assert.ok(k.isLoaded("tun") && k.isLoaded("tap") && !k.isLoaded("vhost_net"));
  });
});

Deno.test("modprobe -r removes the module, then the dependencies it left unused", () => {
  const { k, take } = host();
  k.modprobe("vhost_vdpa");
  k.modprobe("vdpa_sim_net");
  k.vdpaNetlink.devNew({ name: "vdpa0", mgmtdev: { dev: "vdpasim_net" } });
  take();
  assert.equal(text(k.modprobeRemove("vdpa_sim_net")), undefined);
  assert.deepEqual(take(), [
    "devnode-remove /dev/vhost-vdpa-0",
    "device-del none/vhost-vdpa-0",
    "driver-unbind vdpa/vdpa0 vhost_vdpa",
    "device-del vdpa/vdpa0",
    "mgmtdev-unregister vdpasim_net",
    "device-del none/vdpasim_net",
    "module-unload vdpa_sim_net",
    "module-unload vdpa_sim",
    "module-unload vringh",
  ]);
  assert.ok(k.isLoaded("vdpa") && k.isLoaded("vhost_iotlb"), "still used by vhost_vdpa");
});

Deno.test("lsmod and /proc/modules list the most recent module first with its holders", () => {
  const { k } = host();
  k.modprobe("vhost_vdpa");
  k.modprobe("vdpa_sim_net");
  assert.deepEqual(k.lsmod().map((m) => [m.name, m.usedBy, m.holders.join(",")]), [
    ["vdpa_sim_net", 0, ""],
    ["vdpa_sim", 1, "vdpa_sim_net"],
    ["vringh", 2, "vdpa_sim,vdpa_sim_net"],
    ["vhost_vdpa", 0, ""],
    ["irqbypass", 1, "vhost_vdpa"],
    ["vdpa", 3, "vhost_vdpa,vdpa_sim,vdpa_sim_net"],
    ["vhost", 1, "vhost_vdpa"],
    ["vhost_iotlb", 4, "vhost,vhost_vdpa,vringh,vdpa_sim"],
  ]);
  const proc = cat(k, "/proc/modules").split("\n");
  assert.equal(proc[0], "vdpa_sim_net 16384 0 - Live 0x0000000000000000");
  assert.equal(proc[5], "vdpa 36864 3 vhost_vdpa,vdpa_sim,vdpa_sim_net, Live 0x0000000000000000");
  assert.deepEqual(k.readdir("/sys/module/vdpa/holders"), {
    ok: true,
    value: ["vdpa_sim", "vdpa_sim_net", "vhost_vdpa"],
  });
  assert.equal(cat(k, "/sys/module/vdpa/refcnt"), "3\n");
});

Deno.test("Module parameters show in /sys/module with their permissions", async (t) => {
  const { k, events } = host();
  k.modprobe("vdpa_sim", ["batch_mapping=0", "bogus=1"]);
  k.modprobe("vfio_iommu_type1");
  await t.step("values and defaults", () => {
    assert.equal(cat(k, "/sys/module/vdpa_sim/parameters/batch_mapping"), "0\n");
    assert.equal(cat(k, "/sys/module/vdpa_sim/parameters/use_va"), "Y\n");
    assert.equal(cat(k, "/sys/module/vdpa_sim/parameters/max_iotlb_entries"), "2048\n");
  });
  await t.step("an unknown parameter is ignored with a warning", () => {
    assert.ok(
      events.some((e) =>
        e.kind === "kernel-log" && e.text === "vdpa_sim: unknown parameter 'bogus' ignored"
      ),
    );
  });
  await t.step("0444 parameters refuse writes; 0644 ones accept valid values", () => {
    assert.equal(
      text(k.write("/sys/module/vdpa_sim/parameters/use_va", "N\n")),
      "bash: /sys/module/vdpa_sim/parameters/use_va: Permission denied",
    );
    assert.equal(
      text(k.write("/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "1\n")),
      undefined,
    );
    assert.equal(cat(k, "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"), "Y\n");
    assert.equal(
      text(k.write("/sys/module/vfio_iommu_type1/parameters/dma_entry_limit", "lots\n")),
      "bash: echo: write error: Invalid argument",
    );
  });
});

Deno.test("bind, unbind, driver_override and autoprobe, step by step", async (t) => {
  const { k } = host();
  k.modprobe("vhost_vdpa");
  k.modprobe("virtio_vdpa");
  k.modprobe("vdpa_sim_net");
  // [command, path, value, expected error, driver link of vdpa0 after, vhost nodes after, override after]
  const steps: [string, string, string | undefined, string, string[], string][] = [
    ["vdpa dev add vdpa0 (first registered driver wins)", "", undefined, "vhost_vdpa", [
      "/dev/vhost-vdpa-0",
    ], "(null)"],
    [
      "echo vhost-vdpa > driver_override (the ABI doc's spelling)",
      "/sys/bus/vdpa/devices/vdpa0/driver_override",
      undefined,
      "vhost_vdpa",
      ["/dev/vhost-vdpa-0"],
      "vhost-vdpa",
    ],
    [
      "unbind from the wrong driver",
      "/sys/bus/vdpa/drivers/virtio_vdpa/unbind",
      "bash: echo: write error: No such device",
      "vhost_vdpa",
      ["/dev/vhost-vdpa-0"],
      "vhost-vdpa",
    ],
    [
      "unbind from vhost_vdpa",
      "/sys/bus/vdpa/drivers/vhost_vdpa/unbind",
      undefined,
      "(none)",
      [],
      "vhost-vdpa",
    ],
    [
      "drivers_probe: the override names no driver, nothing binds",
      "/sys/bus/vdpa/drivers_probe",
      undefined,
      "(none)",
      [],
      "vhost-vdpa",
    ],
    [
      "bind to vhost_vdpa while the override says otherwise",
      "/sys/bus/vdpa/drivers/vhost_vdpa/bind",
      "bash: echo: write error: No such device",
      "(none)",
      [],
      "vhost-vdpa",
    ],
    [
      "echo virtio_vdpa > driver_override",
      "/sys/bus/vdpa/devices/vdpa0/driver_override",
      undefined,
      "(none)",
      [],
      "virtio_vdpa",
    ],
    [
      "drivers_probe binds the overriding driver",
      "/sys/bus/vdpa/drivers_probe",
      undefined,
      "virtio_vdpa",
      [],
      "virtio_vdpa",
    ],
    [
      "unbind from virtio_vdpa",
      "/sys/bus/vdpa/drivers/virtio_vdpa/unbind",
      undefined,
      "(none)",
      [],
      "virtio_vdpa",
    ],
    [
      "echo > driver_override clears it",
      "/sys/bus/vdpa/devices/vdpa0/driver_override",
      undefined,
      "(none)",
      [],
      "(null)",
    ],
    [
      "bind a device that does not exist",
      "/sys/bus/vdpa/drivers/vhost_vdpa/bind",
      "bash: echo: write error: No such device",
      "(none)",
      [],
      "(null)",
    ],
    ["bind to vhost_vdpa", "/sys/bus/vdpa/drivers/vhost_vdpa/bind", undefined, "vhost_vdpa", [
      "/dev/vhost-vdpa-0",
    ], "(null)"],
    [
      "cat bind (write-only)",
      "/sys/bus/vdpa/drivers/vhost_vdpa/bind",
      "cat: /sys/bus/vdpa/drivers/vhost_vdpa/bind: Permission denied",
      "vhost_vdpa",
      ["/dev/vhost-vdpa-0"],
      "(null)",
    ],
  ];
  const values: Record<number, string> = {
    1: "vhost-vdpa\n",
    2: "vdpa0\n",
    3: "vdpa0\n",
    4: "vdpa0\n",
    5: "vdpa0\n",
    6: "virtio_vdpa\n",
    7: "vdpa0\n",
    8: "vdpa0\n",
    9: "\n",
    10: "vdpa9\n",
    11: "vdpa0\n",
  };
  for (const [i, [name, path, expected, driver, nodes, override]] of steps.entries()) {
    await t.step(name, () => {
      let r: Result<unknown, HostError>;
      if (i === 0) r = k.vdpaNetlink.devNew({ name: "vdpa0", mgmtdev: { dev: "vdpasim_net" } });
      else if (i === 12) r = k.read(path);
      else r = k.write(path, values[i] ?? "");
      assert.equal(text(r), expected);
      const d = link(k, "/sys/bus/vdpa/devices/vdpa0/driver");
      assert.equal(d === "(none)" ? d : d.split("/").pop(), driver);
      assert.deepEqual(k.glob("/dev/vhost-vdpa-*"), nodes);
      assert.equal(cat(k, "/sys/bus/vdpa/devices/vdpa0/driver_override"), `${override}\n`);
    });
  }
});

Deno.test("drivers_autoprobe=0 leaves new devices unbound until drivers_probe", () => {
  const { k } = host();
  k.modprobe("vhost_vdpa");
  k.modprobe("vdpa_sim_net");
  assert.equal(cat(k, "/sys/bus/vdpa/drivers_autoprobe"), "1\n");
  k.write("/sys/bus/vdpa/drivers_autoprobe", "0\n");
  assert.equal(cat(k, "/sys/bus/vdpa/drivers_autoprobe"), "0\n");
  k.vdpaNetlink.devNew({ name: "vdpa0", mgmtdev: { dev: "vdpasim_net" } });
  assert.deepEqual(k.glob("/dev/vhost-vdpa-*"), []);
  assert.equal(text(k.write("/sys/bus/vdpa/drivers_probe", "vdpa0\n")), undefined);
  assert.deepEqual(k.glob("/dev/vhost-vdpa-*"), ["/dev/vhost-vdpa-0"]);
  assert.equal(
    text(k.write("/sys/bus/vdpa/drivers_probe", "vdpa7\n")),
    "bash: echo: write error: No such device",
  );
});

Deno.test("vhost-vdpa minors come from an IDA: the lowest free minor is reused", () => {
  const { k } = host();
  k.modprobe("vhost_vdpa");
  k.modprobe("vdpa_sim_net");
  for (const n of ["a", "b", "c"]) {
    k.vdpaNetlink.devNew({ name: n, mgmtdev: { dev: "vdpasim_net" } });
  }
  assert.deepEqual(k.glob("/dev/vhost-vdpa-*"), [
    "/dev/vhost-vdpa-0",
    "/dev/vhost-vdpa-1",
    "/dev/vhost-vdpa-2",
  ]);
  k.vdpaNetlink.devDel("a");
  k.write("/sys/bus/vdpa/drivers/vhost_vdpa/unbind", "c\n");
  k.vdpaNetlink.devNew({ name: "d", mgmtdev: { dev: "vdpasim_net" } });
  assert.deepEqual(k.glob("/sys/bus/vdpa/devices/d/vhost-vdpa-*"), [
    "/sys/bus/vdpa/devices/d/vhost-vdpa-0",
  ]);
  k.write("/sys/bus/vdpa/drivers/vhost_vdpa/bind", "c\n");
  assert.deepEqual(k.glob("/sys/bus/vdpa/devices/c/vhost-vdpa-*"), [
    "/sys/bus/vdpa/devices/c/vhost-vdpa-2",
  ]);
});

Deno.test("/dev/vhost-vdpa-N is exclusive, resets the device on open, and pins vhost_vdpa", async (t) => {
  const { k } = host();
  k.modprobe("vhost_vdpa");
  k.modprobe("vdpa_sim_net");
  k.vdpaNetlink.devNew({ name: "vdpa0", mgmtdev: { dev: "vdpasim_net" } });
  const dev = k.vdpa.device("vdpa0")?.device;
  assert.ok(dev !== undefined);
  dev.setStatus(1);
  const first = k.open("/dev/vhost-vdpa-0", "qemu:vm1");
  assert.ok(first.ok);
  await t.step("open resets the device", () => assert.equal(dev.getStatus(), 0));
  await t.step("a second open is EBUSY and names the holder", () => {
    const second = k.open("/dev/vhost-vdpa-0", "qemu:vm2");
    assert.ok(!second.ok && second.error.kind === "fs" && second.error.heldBy === "qemu:vm1");
    assert.equal(text(second), "/dev/vhost-vdpa-0: Device or resource busy");
  });
  await t.step("what the real kernel would block on, the lab refuses", () => {
    const unbind = k.write("/sys/bus/vdpa/drivers/vhost_vdpa/unbind", "vdpa0\n");
    assert.ok(
      !unbind.ok && unbind.error.kind === "fs" && unbind.error.waitingFor === "/dev/vhost-vdpa-0",
    );
    assert.equal(text(unbind), "bash: echo: write error: Device or resource busy");
    assert.equal(text(k.vdpaNetlink.devDel("vdpa0")), "kernel answers: Device or resource busy");
    assert.equal(text(k.rmmod("vhost_vdpa")), "rmmod: ERROR: Module vhost_vdpa is in use");
    assert.equal(
      text(k.rmmod("vdpa_sim_net")),
      "rmmod: ERROR: could not remove module vdpa_sim_net: Device or resource busy",
    );
    assert.deepEqual(k.glob("/dev/vhost-vdpa-*"), ["/dev/vhost-vdpa-0"], "nothing changed");
  });
  await t.step("after close everything goes through", () => {
    k.close(first.value);
    assert.equal(text(k.write("/sys/bus/vdpa/drivers/vhost_vdpa/unbind", "vdpa0\n")), undefined);
    assert.equal(text(k.rmmod("vhost_vdpa")), undefined);
  });
});

Deno.test("Static nodes exist before their module; opening one loads it", () => {
  const { k, take } = host();
  const st = k.stat("/dev/vhost-net");
  assert.ok(st.ok && st.value.type === "chr" && st.value.major === 10 && st.value.minor === 238);
  assert.equal(k.isLoaded("vhost_net"), false);
  const h = k.open("/dev/vhost-net", "qemu:vm1");
  assert.ok(h.ok);
  assert.deepEqual(take().slice(-2), [
    "devnode-create /dev/vhost-net (10:238)",
    "devnode-open /dev/vhost-net by qemu:vm1",
  ]);
  assert.equal(text(k.rmmod("vhost_net")), "rmmod: ERROR: Module vhost_net is in use");
  const again = k.open("/dev/vhost-net", "qemu:vm2");
  assert.ok(again.ok, "vhost-net opens are not exclusive");
});

Deno.test("The command line: IOMMU on/off and module parameters, fixed at boot", () => {
  const { k } = host();
  assert.equal(text(k.setCmdline("intel_iommu=on iommu=pt vdpa_sim.batch_mapping=0")), undefined);
  assert.deepEqual(k.iommu(), { enabled: true, passthrough: true });
  assert.equal(
    cat(k, "/proc/cmdline"),
    "BOOT_IMAGE=/boot/vmlinuz-6.12.0-vdpa-lab root=/dev/sda1 ro intel_iommu=on iommu=pt vdpa_sim.batch_mapping=0\n",
  );
  k.modprobe("vdpa_sim");
  assert.equal(cat(k, "/sys/module/vdpa_sim/parameters/batch_mapping"), "0\n");
  assert.equal(
    text(k.setCmdline("intel_iommu=off")),
    "host cmdline: the kernel command line is read at boot; set it before loading modules or adding hardware",
  );
  const plain = host().k;
  assert.deepEqual(plain.iommu(), { enabled: false, passthrough: false });
  plain.setCmdline("iommu=pt");
  assert.deepEqual(
    plain.iommu(),
    { enabled: false, passthrough: false },
    "pt without an IOMMU means nothing",
  );
});

Deno.test("host cpu sets the online CPUs and refuses nonsense", () => {
  const { k } = host();
  assert.equal(cat(k, "/sys/devices/system/cpu/online"), "0-15\n");
  assert.equal(text(k.setCpu({ ghz: 2.4, cores: 4 })), undefined);
  assert.equal(cat(k, "/sys/devices/system/cpu/online"), "0-3\n");
  assert.equal(
    text(k.setCpu({ cores: 0 })),
    "host cpu: cores must be an integer from 1 to 4096, not 0",
  );
  assert.equal(text(k.setCpu({ ghz: -1 })), "host cpu: ghz must be in (0, 10], not -1");
});

Deno.test("A vdpasim_blk device on virtio_vdpa becomes /dev/vda", () => {
  const { k } = host();
  k.modprobe("virtio_vdpa");
  k.modprobe("vdpa_sim_blk");
  k.vdpaNetlink.devNew({ name: "blk0", mgmtdev: { dev: "vdpasim_blk" } });
  const st = k.stat("/dev/vda");
  assert.ok(st.ok && st.value.type === "blk");
  assert.equal(k.vdpa.device("blk0")?.virtio, "virtio0");
  k.vdpaNetlink.devDel("blk0");
  assert.equal(k.exists("/dev/vda"), false);
});
