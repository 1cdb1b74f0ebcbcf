import assert from "node:assert/strict";
import type { ModuleSpec } from "../../runtime/host/module_spec.ts";
import { KERNEL_MODULES } from "../catalog/kernel_modules.ts";
import { Session } from "../session.ts";
import { lineSessions } from "../testdata/line_session.ts";
import { MODULE_FILES } from "./modprobe.ts";

const { session, step } = lineSessions();

/** `lsmod` rows as `name:usedBy`. */
function modules(s: Session): string[] {
  return s.lab.host.lsmod().map((m) => `${m.name}:${m.usedBy}`);
}

Deno.test("modules load with their dependencies and leave with what became unused", async (t) => {
  const s = session();
  const table: [string, string[], string[], Record<string, boolean>][] = [
    ["modprobe vdpa_sim_net", [], [
      "vdpa_sim_net:0",
      "vdpa_sim:1",
      "vdpa:2",
      "vringh:2",
      "vhost_iotlb:2",
    ], { "/sys/bus/vdpa": true, "/sys/devices/vdpasim_net": true, "/dev/vhost-vdpa-0": false }],
    ["modprobe vhost-vdpa", [], [
      "vhost_vdpa:0",
      "irqbypass:1",
      "vhost:1",
      "vdpa_sim_net:0",
      "vdpa_sim:1",
      "vdpa:3",
      "vringh:2",
      "vhost_iotlb:4",
    ], { "/sys/bus/vdpa/drivers/vhost_vdpa": true, "/sys/module/vhost_vdpa/holders": true }],
    // loading again changes nothing (no --first-time)
    ["modprobe vhost_vdpa", [], [
      "vhost_vdpa:0",
      "irqbypass:1",
      "vhost:1",
      "vdpa_sim_net:0",
      "vdpa_sim:1",
      "vdpa:3",
      "vringh:2",
      "vhost_iotlb:4",
    ], {}],
    ["rmmod vdpa", ["E0301"], [
      "vhost_vdpa:0",
      "irqbypass:1",
      "vhost:1",
      "vdpa_sim_net:0",
      "vdpa_sim:1",
      "vdpa:3",
      "vringh:2",
      "vhost_iotlb:4",
    ], { "/sys/bus/vdpa": true }],
    // modprobe -r takes the dependencies that nothing else uses
    ["modprobe -r vdpa_sim_net", [], [
      "vhost_vdpa:0",
      "irqbypass:1",
      "vhost:1",
      "vdpa:1",
      "vhost_iotlb:2",
    ], { "/sys/devices/vdpasim_net": false, "/sys/module/vdpa_sim": false }],
    ["rmmod vhost_vdpa", [], ["irqbypass:0", "vhost:0", "vdpa:0", "vhost_iotlb:1"], {
      "/sys/bus/vdpa/drivers/vhost_vdpa": false,
    }],
    ["rmmod vhost_vdpa", ["E0302"], ["irqbypass:0", "vhost:0", "vdpa:0", "vhost_iotlb:1"], {}],
    ["modprobe -r vdpa vhost irqbypass", [], [], { "/sys/bus/vdpa": false }],
  ];
  for (const [line, codes, lsmod, paths] of table) {
    await t.step(line, async () => {
      const r = await step(s, line);
      assert.deepEqual(r.codes, codes);
      assert.deepEqual(modules(s), lsmod);
      for (const [p, exists] of Object.entries(paths)) {
        assert.equal(s.lab.host.exists(p), exists, p);
      }
    });
  }
});

Deno.test("lsmod prints kmod's table, most recent first", async () => {
  const s = session();
  await step(s, "modprobe vhost_vdpa");
  const r = await step(s, "lsmod");
  assert.equal(
    r.out,
    "Module                  Size  Used by\n" +
      "vhost_vdpa             32768  0\n" +
      "irqbypass              12288  1 vhost_vdpa\n" +
      "vdpa                   36864  1 vhost_vdpa\n" +
      "vhost                  65536  1 vhost_vdpa\n" +
      "vhost_iotlb            16384  2 vhost,vhost_vdpa\n",
  );
  const g = await step(s, "lsmod | grep vhost_iotlb");
  assert.equal(g.out, "vhost_iotlb            16384  2 vhost,vhost_vdpa\n");
});

Deno.test("modprobe -v, -n -v and -D print kmod's insmod lines", async (t) => {
  const base = "/lib/modules/6.12.0-vdpa-lab/kernel";
  await t.step("-v prints what it inserts, dependencies first", async () => {
    const s = session();
    await step(s, "modprobe vhost_iotlb");
    const r = await step(s, "modprobe -v vdpa_sim max_iotlb_entries=0");
    assert.equal(
      r.out,
      `insmod ${base}/drivers/vhost/vringh.ko \n` +
        `insmod ${base}/drivers/vdpa/vdpa.ko \n` +
        `insmod ${base}/drivers/vdpa/vdpa_sim/vdpa_sim.ko max_iotlb_entries=0\n`,
    );
    assert.equal(s.lab.host.read("/sys/module/vdpa_sim/parameters/max_iotlb_entries").ok, true);
  });
  await t.step("-n -v prints the same and loads nothing", async () => {
    const s = session();
    const r = await step(s, "modprobe -n -v vfio-pci");
    assert.equal(
      r.out,
      `insmod ${base}/drivers/iommu/iommufd/iommufd.ko \n` +
        `insmod ${base}/drivers/vfio/vfio.ko \n` +
        `insmod ${base}/virt/lib/irqbypass.ko \n` +
        `insmod ${base}/drivers/vfio/pci/vfio-pci-core.ko \n` +
        `insmod ${base}/drivers/vfio/pci/vfio-pci.ko \n`,
    );
    assert.deepEqual(modules(s), []);
  });
  await t.step("-n alone prints nothing", async () => {
    const s = session();
    assert.equal((await step(s, "modprobe -n vhost_vdpa")).out, "");
  });
  await t.step("-D prints the whole chain, loaded or not, and built-ins", async () => {
    const s = session();
    await step(s, "modprobe vdpa");
    const r = await step(s, "modprobe -D virtio_vdpa");
    assert.equal(
      r.out,
      `insmod ${base}/drivers/vdpa/vdpa.ko \ninsmod ${base}/drivers/virtio/virtio_vdpa.ko \n`,
    );
    assert.equal((await step(s, "modprobe -D virtio")).out, "builtin virtio\n");
    assert.deepEqual(modules(s), ["vdpa:0"]);
  });
  await t.step("-r -v prints each rmmod, users before what they use", async () => {
    const s = session();
    await step(s, "modprobe vdpa_sim_net");
    const r = await step(s, "modprobe -rv vdpa_sim_net");
    assert.equal(
      r.out,
      "rmmod vdpa_sim_net\nrmmod vdpa_sim\nrmmod vdpa\nrmmod vringh\nrmmod vhost_iotlb\n",
    );
  });
});

Deno.test("unknown parameters load with the kernel's warning, unparsable values refuse", async () => {
  const s = session();
  const r = await step(s, "modprobe vdpa_sim batch_maping=0");
  assert.deepEqual(r.codes, ["W0301"]);
  const w = s.diagnostics.items.at(-1);
  assert.ok(w?.help.includes("did you mean `batch_mapping`?"), w?.help.join());
  assert.ok(s.lab.host.isLoaded("vdpa_sim"));
  const bad = await step(s, "modprobe vhost_net experimental_zcopytx=maybe");
  assert.deepEqual(bad.codes, ["E0304"]);
  assert.equal(s.lab.host.isLoaded("vhost_net"), false);
  assert.ok(s.diagnostics.items.at(-1)?.notes.some((n) => n.startsWith("dmesg: vhost_net:")));
});

Deno.test("modprobe -a loads each name; a wrong one does not stop the others", async () => {
  const s = session();
  const r = await step(s, "modprobe -a vdpa vdpa_simnet vhost_vdpa");
  assert.deepEqual(r.codes, ["E0201"]);
  assert.ok(s.lab.host.isLoaded("vdpa") && s.lab.host.isLoaded("vhost_vdpa"));
});

Deno.test("--first-time turns no-ops into errors, as kmod does", async () => {
  const s = session();
  assert.deepEqual((await step(s, "modprobe -r --first-time vdpa")).codes, ["E0302"]);
  assert.ok(
    s.diagnostics.items.at(-1)?.notes.includes("modprobe: FATAL: Module vdpa is not in kernel."),
  );
  assert.deepEqual((await step(s, "modprobe -r vdpa")).codes, []);
});

Deno.test("every catalog module that is not built in has a file under /lib/modules", () => {
  const catalog: Readonly<Record<string, ModuleSpec>> = KERNEL_MODULES;
  for (const [name, spec] of Object.entries(catalog)) {
    if (spec.builtin === true) continue;
    const file = MODULE_FILES[name];
    assert.ok(file !== undefined, name);
    // kmod prints the file as named in the source tree: dashes stay dashes
    assert.equal(
      file.slice(file.lastIndexOf("/") + 1).replace(".ko", "").replaceAll("-", "_"),
      name,
    );
  }
});

Deno.test("modprobe -q fails just as quietly as kmod", async () => {
  const s = session();
  assert.deepEqual((await step(s, "modprobe -q vdpasim_net")).codes, ["E0201"]);
  assert.deepEqual(s.diagnostics.items.at(-1)?.notes, [
    "modprobe -q prints nothing and exits with status 1",
  ]);
});
