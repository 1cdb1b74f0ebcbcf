import assert from "node:assert/strict";
import { explainMissingPath, HOST_CODES, hostErrorNotes } from "./host_errors.ts";
import { NAME_CODES } from "./names.ts";
import { Session } from "./session.ts";

const SIM = "modprobe vhost_vdpa\nmodprobe vdpa_sim_net\n";
const DEV0 = `${SIM}vdpa dev add name vdpa0 mgmtdev vdpasim_net\n`;
const NIC = "host nic ens1f0 model=mlx5 pci=0000:3b:00.0\n";

/** One script per code: the last diagnostic it produces has that code. */
const TRIGGERS: Readonly<Record<keyof typeof HOST_CODES | keyof typeof NAME_CODES, string>> = {
  E0201: "modprobe vdpasim_net\n",
  E0202: `${SIM}vdpa mgmtdev show vdpa_sim_net\n`,
  E0203: `${SIM}vdpa dev show vdpa0\n`,
  E0204: `${NIC}echo 0000:99:00.0 > /sys/bus/pci/drivers/mlx5_core/bind\n`,
  E0205: "ip link set dev eth9 up\n",
  E0206: "host nic ens1f0 model=cx7 pci=0000:3b:00.0\n",
  W0201: `${DEV0}echo vhost-vdpa > /sys/bus/vdpa/devices/vdpa0/driver_override\n`,
  E0300: "vdpa mgmtdev show\n",
  E0301: "modprobe vhost_vdpa\nrmmod vhost\n",
  E0302: "rmmod vdpa\n",
  E0303: "modprobe -r virtio_ring\n",
  E0304: "modprobe vhost max_mem_regions=x\n",
  E0305: `${SIM}vdpa dev add name v mgmtdev vdpasim_net max_vqp 4\n`,
  E0306: `${SIM}vdpa dev add name v mgmtdev vdpasim_net mtu 1\n`,
  E0307: `${DEV0}vdpa dev add name vdpa0 mgmtdev vdpasim_net\n`,
  E0308: `${DEV0}echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/bind\n`,
  E0309: `${DEV0}vdpa dev vstats show vdpa0 qidx 0\n`,
  E0311: "cat /sys/bus/vdpa/drivers_autoprobe\n",
  E0312: "modprobe vdpa\necho 1 > /sys/bus/vdpa\n",
  E0313: `modprobe virtio_vdpa\n${DEV0}echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind\n`,
  E0314: `${NIC}echo many > /sys/class/net/ens1f0/device/sriov_numvfs\n`,
  E0315: `${NIC}echo 0000:3b:00.0 > /sys/bus/pci/drivers/mlx5_core/unbind\n` +
    "echo 2 > /sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs\n",
  E0316: "ip tuntap add dev tap0 mode tap\nip link set tap0 mtu 70000\n",
  E0317: "ip tuntap add dev tap0 mode tap\nip tuntap del dev tap0 mode tun\n",
  E0318: "host cpu cores=0\n",
  E0319: "ls /home\n",
  E0320: `${DEV0}vdpa dev add name vdpa1 mgmtdev vdpasim_net\necho 1 > /dev/vhost-vdpa-*\n`,
  E0321: "ovs-vsctl --help\n",
  E0322: "ip addr show\n",
  E0323: `${NIC}devlink port add pci/0000:3b:00.0 flavour pcisf pfnum 0 sfnum 88\n`,
  E0324: `${NIC}devlink dev eswitch show pci/0000:3b:00.7\n`,
  W0301: "modprobe vhost_vdpa verbose=1\n",
  W0302: "ip tuntap add dev tap0 mode tap\nip link set tap0 alias uplink\n",
  W0303: `${DEV0}echo 0 > /sys/bus/vdpa/drivers_autoprobe\n` +
    "echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind\nrmmod vhost_vdpa\n" +
    "echo vdpa0 > /sys/bus/vdpa/drivers_probe\n",
  W0304: 'host cmdline "isolcpus=2-3"\n',
};

Deno.test("every host and name code is produced by the situation it names", async (t) => {
  const all = { ...HOST_CODES, ...NAME_CODES };
  assert.deepEqual(Object.keys(TRIGGERS).sort(), Object.keys(all).sort());
  for (const [code, script] of Object.entries(TRIGGERS)) {
    await t.step(`${code}: ${all[code as keyof typeof all].summary}`, async () => {
      const s = new Session({ mode: "check", stdout: () => {} });
      await s.runText(script, "code.vdpa");
      const last = s.diagnostics.items.at(-1);
      assert.equal(
        last?.code,
        code,
        s.diagnostics.items.map((d) => `${d.code} ${d.message}`).join("; "),
      );
      assert.equal(last.severity, all[code as keyof typeof all].severity);
      // a host diagnostic always points somewhere
      assert.ok(last.labels.some((l) => l.primary));
    });
  }
});

Deno.test("hostErrorNotes: the tool's lines, then what the kernel would wait for", () => {
  assert.deepEqual(
    hostErrorNotes({
      kind: "vdpa-netlink",
      errno: "EBUSY",
      waitingFor: "/dev/vhost-vdpa-0",
    }),
    [
      "kernel answers: Device or resource busy",
      "the real kernel would wait here until `/dev/vhost-vdpa-0` is closed; the lab refuses instead",
    ],
  );
  assert.deepEqual(
    hostErrorNotes({ kind: "vdpa-netlink", errno: "EINVAL", extack: "vdpa: x" }),
    ["Error: vdpa: x.", "kernel answers: Invalid argument"],
  );
});

async function explain(script: string, path: string) {
  const s = new Session({ mode: "check", stdout: () => {} });
  await s.runText(script, "why.vdpa");
  const why = explainMissingPath(path, { lab: s.lab, provenance: s.provenance });
  const lines = why.secondary.map((l) => s.sources.get("why.vdpa")?.position(l.span.start).line);
  return { ...why, lines };
}

Deno.test("explainMissingPath names the cause of a missing /dev/vhost-vdpa-N", async (t) => {
  await t.step("vhost_vdpa never loaded", async () => {
    const w = await explain("modprobe vdpa_sim_net\n", "/dev/vhost-vdpa-0");
    assert.deepEqual(w.help, ["load it: `modprobe vhost_vdpa`"]);
  });
  await t.step("vhost_vdpa unloaded", async () => {
    const w = await explain(`${DEV0}rmmod vhost_vdpa\n`, "/dev/vhost-vdpa-0");
    assert.deepEqual(w.lines, [4]);
    assert.equal(w.secondary[0]?.message, "`vhost_vdpa` unloaded here");
  });
  await t.step("no device added", async () => {
    const w = await explain(SIM, "/dev/vhost-vdpa-0");
    assert.ok(w.notes.includes("no vdpa device exists, so vhost_vdpa has nothing to bind"));
    assert.deepEqual(w.help, ["add a device: `vdpa dev add name vdpa0 mgmtdev vdpasim_net`"]);
  });
  await t.step("the device was deleted", async () => {
    const w = await explain(`${DEV0}vdpa dev del vdpa0\n`, "/dev/vhost-vdpa-*");
    assert.deepEqual(w.lines, [4]);
    assert.equal(w.secondary[0]?.message, "`vdpa0` deleted here");
  });
  await t.step("the device went to virtio_vdpa", async () => {
    const w = await explain(
      `modprobe virtio_vdpa\n${SIM}vdpa dev add name vdpa0 mgmtdev vdpasim_net\n`,
      "/dev/vhost-vdpa-0",
    );
    // virtio_vdpa registered first, so it probed first: the cause is the add itself
    assert.deepEqual(w.lines, [4]);
    assert.match(w.secondary[0]?.message ?? "", /bound to `virtio_vdpa` here/);
  });
  await t.step("a misspelt driver_override", async () => {
    const w = await explain(
      `${DEV0}echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind\n` +
        "echo vhost-vdpa > /sys/bus/vdpa/devices/vdpa0/driver_override\n" +
        "echo vdpa0 > /sys/bus/vdpa/drivers_probe\n",
      "/dev/vhost-vdpa-0",
    );
    assert.deepEqual(w.lines, [5]);
    assert.equal(
      w.secondary[0]?.message,
      "`vdpa0` has driver_override `vhost-vdpa`, written here, which no driver matches",
    );
    assert.ok(w.help.includes("driver_override: did you mean `vhost_vdpa`?"));
  });
  await t.step("minor 1 asked for, only minor 0 exists", async () => {
    const w = await explain(DEV0, "/dev/vhost-vdpa-1");
    assert.deepEqual(w.secondary, []);
    assert.ok(w.notes.some((n) => n.startsWith("what exists: /dev/vhost-vdpa-0 (vdpa0)")));
  });
  await t.step("a path that exists needs no explanation", async () => {
    const w = await explain(DEV0, "/dev/vhost-vdpa-0");
    assert.deepEqual([w.secondary, w.notes, w.help], [[], [], []]);
  });
});

Deno.test("explainMissingPath: other paths get the nearest directory's entries", async () => {
  const w = await explain("modprobe vdpa\n", "/sys/bus/vdpa/drivers/vhost_vdpa/bind");
  assert.deepEqual(w.help, [
    "`/sys/bus/vdpa/drivers/vhost_vdpa` appears when `vhost_vdpa` is loaded: `modprobe vhost_vdpa`",
  ]);
  const v = await explain("", "/sys/bus/vdpa/devices");
  assert.deepEqual(v.help, ["`/sys/bus/vdpa` appears when `vdpa` is loaded: `modprobe vdpa`"]);
});

Deno.test("explainMissingPath names the cause of a missing /dev/vfio/N", async (t) => {
  const NIC1 = `${NIC}modprobe vfio-pci\necho 1 > /sys/class/net/ens1f0/device/sriov_numvfs\n`;
  await t.step("the IOMMU is off", async () => {
    const w = await explain(NIC1, "/dev/vfio/0");
    assert.ok(w.notes[0]?.startsWith("the IOMMU is off"));
    assert.deepEqual(w.help, [
      'turn it on before anything else in the script: `host cmdline "intel_iommu=on iommu=pt"`',
    ]);
  });
  await t.step("the IOMMU is on, the VF is still on its net driver", async () => {
    const w = await explain(`host cmdline "intel_iommu=on"\n${NIC1}`, "/dev/vfio/*");
    // the PF and the VF each sit in a group, both bound to mlx5_core
    assert.deepEqual(w.lines, [2, 4]);
    assert.equal(w.secondary[1]?.message, "0000:3b:00.2 (group 1) is bound to `mlx5_core` here");
    // the help hands over the VF, not the PF that carries the port
    assert.ok(w.help[0]?.includes("echo 0000:3b:00.2 > /sys/bus/pci/drivers/mlx5_core/unbind"));
  });
  await t.step("a group that does not exist", async () => {
    const w = await explain(`host cmdline "intel_iommu=on"\n${NIC1}`, "/dev/vfio/42");
    assert.ok(w.notes[0]?.startsWith("IOMMU group 42 does not exist; the groups are "));
  });
});
