import assert from "node:assert/strict";
import { HostKernel } from "../runtime/host/kernel.ts";
import { KERNEL_MODULES } from "./catalog/kernel_modules.ts";
import { NIC_MODELS } from "./catalog/nic_models.ts";
import {
  driverOverrideHelp,
  loadedModuleHelp,
  mgmtdevHelp,
  moduleHelp,
  netdevHelp,
  nicModelHelp,
  pathHelp,
  vdpaDeviceHelp,
} from "./names.ts";

function host(): HostKernel {
  return new HostKernel({ catalog: { modules: KERNEL_MODULES, nicModels: NIC_MODELS } });
}

Deno.test("module names: kmod's `-`/`_` rule and the management-device confusion", async (t) => {
  const h = host();
  const cases: [string, string[]][] = [
    ["vdpasim_net", [
      "`vdpasim_net` is the management device that the module `vdpa_sim_net` registers; load `vdpa_sim_net`",
    ]],
    ["vdpasim-blk", [
      "`vdpasim-blk` is the management device that the module `vdpa_sim_blk` registers; load `vdpa_sim_blk`",
    ]],
    ["vhost_vpda", ["did you mean `vhost_vdpa`?"]],
    ["vfio_pic", ["did you mean `vfio_pci`?"]],
    ["vhost-net", []],
    ["e1000e", []],
  ];
  for (const [name, help] of cases) {
    await t.step(name, () => assert.deepEqual(moduleHelp(name, h), help));
  }
});

Deno.test("a module that is not loaded: the loaded ones first", () => {
  const h = host();
  h.modprobe("vhost_vdpa");
  assert.deepEqual(loadedModuleHelp("vhost_vpda", h), ["did you mean `vhost_vdpa`?"]);
  assert.deepEqual(loadedModuleHelp("vdpa_sim", h), [
    "`vdpa_sim` is not loaded now; `lsmod` lists what is",
  ]);
});

Deno.test("management devices: the module name is not the device name", () => {
  const h = host();
  assert.deepEqual(mgmtdevHelp({ name: "vdpasim_net" }, h), [
    "`vdpasim_net` appears when its module is loaded: `modprobe vdpa_sim_net`",
  ]);
  h.modprobe("vdpa_sim_net");
  assert.deepEqual(mgmtdevHelp({ name: "vdpa_sim_net" }, h), [
    "the management device is `vdpasim_net`; `vdpa_sim_net` is the module that registers it",
  ]);
  assert.deepEqual(mgmtdevHelp({ name: "vdpasim_nt" }, h), ["did you mean `vdpasim_net`?"]);
  assert.deepEqual(mgmtdevHelp({ bus: "pci", name: "0000:3b:00.2" }, h), [
    "the management devices are `vdpasim_net`",
  ]);
});

Deno.test("driver_override compares names exactly, suggests with `-`/`_` alike", () => {
  const h = host();
  assert.deepEqual(driverOverrideHelp("vdpa", "vhost_vdpa", h), { matches: true, help: [] });
  assert.deepEqual(driverOverrideHelp("vdpa", "vhost-vdpa", h), {
    matches: false,
    help: ["did you mean `vhost_vdpa`?"],
  });
  assert.deepEqual(driverOverrideHelp("pci", "vfio_pci", h), {
    matches: false,
    help: ["did you mean `vfio-pci`?"],
  });
  assert.deepEqual(driverOverrideHelp("vdpa", "VHOST_VDPA", h).matches, false);
});

Deno.test("devices, netdevs and NIC models suggest from what exists", () => {
  const h = host();
  assert.deepEqual(vdpaDeviceHelp("vdpa0", h), [
    "no vdpa device exists; create one: `vdpa dev add name vdpa0 mgmtdev vdpasim_net`",
  ]);
  h.modprobe("vdpa_sim_net");
  h.vdpaNetlink.devNew({ name: "vdpa0", mgmtdev: { dev: "vdpasim_net" } });
  assert.deepEqual(vdpaDeviceHelp("vdpa1", h), ["did you mean `vdpa0`?"]);
  assert.deepEqual(vdpaDeviceHelp("x", h), ["the vdpa devices are `vdpa0`"]);
  assert.deepEqual(netdevHelp("l0", h), ["did you mean `lo`?"]);
  assert.deepEqual(nicModelHelp("mlx", h), [
    "did you mean `mlx5`?",
    "the NIC models are `mlx5`, `e810`",
  ]);
});

Deno.test("paths: the nearest existing directory decides the suggestion", () => {
  const h = host();
  assert.deepEqual(pathHelp("/sys/bus/vdpa/devices/vdpa0", h), [
    "`/sys/bus/vdpa` appears when `vdpa` is loaded: `modprobe vdpa`",
  ]);
  h.modprobe("vhost_vdpa");
  assert.deepEqual(pathHelp("/sys/bus/vdpa/drivers/vhost-vdpa/bind", h), [
    "did you mean `/sys/bus/vdpa/drivers/vhost_vdpa`?",
  ]);
  assert.deepEqual(pathHelp("/sys/bus/vdpa/drivers/virtio_vdpa/bind", h), [
    "`/sys/bus/vdpa/drivers/virtio_vdpa` appears when `virtio_vdpa` is loaded: `modprobe virtio_vdpa`",
  ]);
  assert.deepEqual(pathHelp("/sys/bus/vdpa/driver_probe", h), [
    "did you mean `/sys/bus/vdpa/drivers_probe`?",
  ]);
  assert.deepEqual(pathHelp("/sys/bus/vdpa/drivers_probe", h), [], "it exists");
  assert.deepEqual(pathHelp("relative/path", h), []);
});
