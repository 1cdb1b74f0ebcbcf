import assert from "node:assert/strict";
import { HostKernel } from "../../runtime/host/kernel.ts";
import { KERNEL_MODULES } from "../catalog/kernel_modules.ts";
import { NIC_MODELS } from "../catalog/nic_models.ts";
import { formatLs, humanSize } from "./ls.ts";
import { formatLsmod } from "./lsmod.ts";

function walkthrough(): HostKernel {
  const k = new HostKernel({ catalog: { modules: KERNEL_MODULES, nicModels: NIC_MODELS } });
  k.modprobe("vdpa");
  k.modprobe("vhost_vdpa");
  k.modprobe("vdpa_sim_net");
  k.vdpaNetlink.devNew({ name: "vdpa0", mgmtdev: { dev: "vdpasim_net" } });
  return k;
}

Deno.test("ls -l of a device's driver link shows the link, not its target", () => {
  const k = walkthrough();
  const out = formatLs(k, ["/sys/bus/vdpa/devices/vdpa0/driver"], { long: true });
  assert.deepEqual(out, {
    stdout:
      "lrwxrwxrwx 1 root root 0 Jan  1 00:00 /sys/bus/vdpa/devices/vdpa0/driver -> ../../bus/vdpa/drivers/vhost_vdpa\n",
    stderr: "",
    status: 0,
  });
});

Deno.test("ls of the glob /dev/vhost-vdpa-*, before and after the device exists", () => {
  const k = new HostKernel({ catalog: { modules: KERNEL_MODULES, nicModels: NIC_MODELS } });
  // bash passes an unmatched pattern through literally
  const before = k.glob("/dev/vhost-vdpa-*");
  assert.deepEqual(before, []);
  assert.deepEqual(formatLs(k, ["/dev/vhost-vdpa-*"], {}), {
    stdout: "",
    stderr: "ls: cannot access '/dev/vhost-vdpa-*': No such file or directory\n",
    status: 2,
  });
  const after = walkthrough();
  assert.equal(
    formatLs(after, after.glob("/dev/vhost-vdpa-*"), { long: true }).stdout,
    "crw------- 1 root root 239, 0 Jan  1 00:00 /dev/vhost-vdpa-0\n",
  );
});

Deno.test("ls -l of a sysfs device directory", async (t) => {
  const k = walkthrough();
  const out = formatLs(k, ["/sys/bus/vdpa/devices/vdpa0/"], { long: true });
  assert.equal(out.stdout.split("\n")[0], "total 0");
  assert.ok(out.stdout.includes("-rw-r--r-- 1 root root 4096 Jan  1 00:00 driver_override\n"));
  assert.ok(out.stdout.includes("drwxr-xr-x 2 root root    0 Jan  1 00:00 vhost-vdpa-0\n"));
  await t.assertSnapshot(out.stdout, { serializer: String });
});

Deno.test("plain ls follows a link to a directory and lays names out in columns", () => {
  const k = walkthrough();
  assert.equal(
    formatLs(k, ["/sys/bus/vdpa/devices/vdpa0/driver"], {}).stdout,
    "bind\nmodule\nuevent\nunbind\nvdpa0\n",
  );
  assert.equal(
    formatLs(k, ["/sys/bus/vdpa"], { columns: 80 }).stdout,
    "devices  drivers  drivers_autoprobe  drivers_probe  uevent\n",
  );
  assert.equal(
    formatLs(k, ["/sys/bus/vdpa"], { columns: 40 }).stdout,
    "devices  drivers_autoprobe  uevent\ndrivers  drivers_probe\n",
    "filled down the columns",
  );
  assert.equal(
    formatLs(k, ["/sys/bus/vdpa"], { columns: 30 }).stdout,
    "devices\ndrivers\ndrivers_autoprobe\ndrivers_probe\nuevent\n",
    "too narrow for two columns",
  );
});

Deno.test("ls with several arguments prints files first, then headed directories", () => {
  const k = walkthrough();
  const out = formatLs(
    k,
    ["/sys/bus/vdpa/drivers", "/sys/bus/vdpa/drivers_autoprobe", "/nope"],
    {},
  );
  assert.equal(
    out.stdout,
    "/sys/bus/vdpa/drivers_autoprobe\n\n/sys/bus/vdpa/drivers:\nvhost_vdpa\n",
  );
  assert.equal(out.stderr, "ls: cannot access '/nope': No such file or directory\n");
  assert.equal(out.status, 2);
});

Deno.test("lsmod prints kmod's table", () => {
  const k = walkthrough();
  assert.equal(
    formatLsmod(k.lsmod()),
    "Module                  Size  Used by\n" +
      "vdpa_sim_net           16384  0\n" +
      "vdpa_sim               24576  1 vdpa_sim_net\n" +
      "vringh                 45056  2 vdpa_sim,vdpa_sim_net\n" +
      "vhost_vdpa             32768  0\n" +
      "irqbypass              12288  1 vhost_vdpa\n" +
      "vhost                  65536  1 vhost_vdpa\n" +
      "vhost_iotlb            16384  4 vhost,vhost_vdpa,vringh,vdpa_sim\n" +
      "vdpa                   36864  3 vhost_vdpa,vdpa_sim,vdpa_sim_net\n",
  );
  const open = k.open("/dev/vhost-vdpa-0", "qemu:vm1");
  assert.ok(open.ok);
  assert.ok(
    formatLsmod(k.lsmod()).includes("vhost_vdpa             32768  1\n"),
    "an open node counts",
  );
});

Deno.test("ls -d lists a directory itself, -a adds . and .., -h prints sizes as ls does", () => {
  const k = walkthrough();
  assert.equal(
    formatLs(k, ["/sys/bus/vdpa/devices/vdpa0/"], { directory: true }).stdout,
    "/sys/bus/vdpa/devices/vdpa0/\n",
  );
  assert.equal(
    formatLs(k, ["/sys/bus/vdpa/drivers/vhost_vdpa"], { all: true }).stdout,
    ".\n..\nbind\nmodule\nuevent\nunbind\nvdpa0\n",
  );
  const long = formatLs(k, ["/sys/bus/vdpa/drivers_autoprobe"], { long: true, human: true });
  assert.equal(
    long.stdout,
    "-rw-r--r-- 1 root root 4.0K Jan  1 00:00 /sys/bus/vdpa/drivers_autoprobe\n",
  );
  assert.deepEqual(
    [0, 512, 1023, 1024, 1536, 4096, 10240, 12289, 1048576].map(humanSize),
    ["0", "512", "1023", "1.0K", "1.5K", "4.0K", "10K", "13K", "1.0M"],
  );
});
