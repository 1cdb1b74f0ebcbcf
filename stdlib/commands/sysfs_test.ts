import assert from "node:assert/strict";
import { Session } from "../session.ts";
import { lineSessions } from "../testdata/line_session.ts";

const { session, step } = lineSessions({ mode: "run" });

/** What a user would look at after each step. */
function state(s: Session, dev: string): {
  driver: string | null;
  override: string;
  nodes: string[];
  vhostBound: string[];
} {
  const h = s.lab.host;
  const link = h.readlink(`/sys/bus/vdpa/devices/${dev}/driver`);
  const override = h.read(`/sys/bus/vdpa/devices/${dev}/driver_override`);
  const bound = h.readdir("/sys/bus/vdpa/drivers/vhost_vdpa");
  return {
    driver: link.ok ? link.value.slice(link.value.lastIndexOf("/") + 1) : null,
    override: override.ok ? override.value : `error: ${override.error.kind}`,
    nodes: h.glob("/dev/vhost-vdpa-*"),
    vhostBound: bound.ok ? bound.value.filter((n) => n.startsWith("vdpa")) : [],
  };
}

Deno.test("sysfs and /dev follow each step of a rebind through driver_override", async (t) => {
  const s = session();
  for (
    const l of [
      "modprobe vhost_vdpa",
      "modprobe virtio_vdpa",
      "modprobe vdpa_sim_net",
    ]
  ) await step(s, l);
  const table: [string, string[], ReturnType<typeof state>][] = [
    // vhost_vdpa registered first, so autoprobe hands the new device to it
    ["vdpa dev add name vdpa0 mgmtdev vdpasim_net", [], {
      driver: "vhost_vdpa",
      override: "(null)\n",
      nodes: ["/dev/vhost-vdpa-0"],
      vhostBound: ["vdpa0"],
    }],
    // driver_override restricts matching but does not unbind
    ["echo virtio_vdpa > /sys/bus/vdpa/devices/vdpa0/driver_override", [], {
      driver: "vhost_vdpa",
      override: "virtio_vdpa\n",
      nodes: ["/dev/vhost-vdpa-0"],
      vhostBound: ["vdpa0"],
    }],
    ["echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind", [], {
      driver: null,
      override: "virtio_vdpa\n",
      nodes: [],
      vhostBound: [],
    }],
    // vhost_vdpa may not take it back while the override names virtio_vdpa
    ["echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/bind", ["E0313"], {
      driver: null,
      override: "virtio_vdpa\n",
      nodes: [],
      vhostBound: [],
    }],
    ["echo vdpa0 > /sys/bus/vdpa/drivers_probe", [], {
      driver: "virtio_vdpa",
      override: "virtio_vdpa\n",
      nodes: [],
      vhostBound: [],
    }],
    ["echo vdpa0 > /sys/bus/vdpa/drivers/virtio_vdpa/unbind", [], {
      driver: null,
      override: "virtio_vdpa\n",
      nodes: [],
      vhostBound: [],
    }],
    // an empty string clears the override (driver_set_override)
    ['echo "" > /sys/bus/vdpa/devices/vdpa0/driver_override', [], {
      driver: null,
      override: "(null)\n",
      nodes: [],
      vhostBound: [],
    }],
    ["echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/bind", [], {
      driver: "vhost_vdpa",
      override: "(null)\n",
      nodes: ["/dev/vhost-vdpa-0"],
      vhostBound: ["vdpa0"],
    }],
    // a second device takes the next minor
    ["vdpa dev add name vdpa1 mgmtdev vdpasim_net", [], {
      driver: "vhost_vdpa",
      override: "(null)\n",
      nodes: ["/dev/vhost-vdpa-0", "/dev/vhost-vdpa-1"],
      vhostBound: ["vdpa0", "vdpa1"],
    }],
    // the freed minor 0 is reused by the next probe (IDA, lowest free)
    ["vdpa dev del vdpa0", [], {
      driver: null,
      override: "error: fs",
      nodes: ["/dev/vhost-vdpa-1"],
      vhostBound: ["vdpa1"],
    }],
    ["vdpa dev add name vdpa0 mgmtdev vdpasim_net", [], {
      driver: "vhost_vdpa",
      override: "(null)\n",
      nodes: ["/dev/vhost-vdpa-0", "/dev/vhost-vdpa-1"],
      vhostBound: ["vdpa0", "vdpa1"],
    }],
  ];
  for (const [line, codes, want] of table) {
    await t.step(line, async () => {
      const r = await step(s, line);
      assert.deepEqual(r.codes, codes);
      assert.deepEqual(state(s, "vdpa0"), want);
    });
  }
});

Deno.test("drivers_autoprobe 0 leaves new devices unbound until drivers_probe", async () => {
  const s = session();
  for (const l of ["modprobe vhost_vdpa", "modprobe vdpa_sim_net"]) await step(s, l);
  assert.deepEqual((await step(s, "echo 0 > /sys/bus/vdpa/drivers_autoprobe")).codes, []);
  assert.deepEqual((await step(s, "cat /sys/bus/vdpa/drivers_autoprobe")).out, "0\n");
  await step(s, "vdpa dev add name vdpa0 mgmtdev vdpasim_net");
  assert.equal(state(s, "vdpa0").driver, null);
  const ls = await step(s, "ls /dev/vhost-vdpa-*");
  assert.deepEqual(ls.codes, ["E0311"]);
  const d = s.diagnostics.items.at(-1);
  assert.ok(d?.labels.some((l) => !l.primary && l.message.includes("bound to no driver")));
  assert.deepEqual((await step(s, "echo vdpa0 > /sys/bus/vdpa/drivers_probe")).codes, []);
  assert.deepEqual(state(s, "vdpa0").nodes, ["/dev/vhost-vdpa-0"]);
});

Deno.test("ls, cat and tee print what the real tools print", async (t) => {
  const s = session();
  for (
    const l of [
      "modprobe vhost_vdpa",
      "modprobe vdpa_sim_net",
      "vdpa dev add name vdpa0 mgmtdev vdpasim_net",
      "vdpa dev add name vdpa1 mgmtdev vdpasim_net",
    ]
  ) await step(s, l);
  const cases: [string, string][] = [
    ["ls /sys/bus/vdpa/devices/", "vdpa0\nvdpa1\n"],
    ["ls /dev/vhost-vdpa-*", "/dev/vhost-vdpa-0\n/dev/vhost-vdpa-1\n"],
    [
      "ls -l /sys/bus/vdpa/devices/vdpa0/driver",
      "lrwxrwxrwx 1 root root 0 Jan  1 00:00 /sys/bus/vdpa/devices/vdpa0/driver -> ../../bus/vdpa/drivers/vhost_vdpa\n",
    ],
    ["cat /sys/bus/vdpa/devices/vdpa0/driver_override", "(null)\n"],
    [
      "cat /sys/bus/vdpa/drivers_autoprobe /sys/bus/vdpa/devices/vdpa1/driver_override",
      "1\n(null)\n",
    ],
    // tee copies its input to stdout; `> /dev/null` silences that copy
    ["echo vdpa1 | sudo tee /sys/bus/vdpa/drivers/vhost_vdpa/unbind", "vdpa1\n"],
    ["echo vdpa1 | sudo tee /sys/bus/vdpa/drivers/vhost_vdpa/bind > /dev/null", ""],
    ["echo -n hello", "hello"],
    ["ls /sys/bus/vdpa/drivers/vhost_vdpa/", "bind\nmodule\nuevent\nunbind\nvdpa0\nvdpa1\n"],
  ];
  for (const [line, out] of cases) {
    await t.step(line, async () => {
      const r = await step(s, line);
      assert.deepEqual(r.codes, []);
      assert.equal(r.out, out);
    });
  }
});

Deno.test("a failing ls still lists the arguments that exist, and reports the others", async () => {
  const s = session();
  await step(s, "modprobe vdpa");
  const r = await step(s, "ls /sys/bus/vdpa/drivers_probe /dev/vhost-vdpa-0");
  assert.deepEqual(r.codes, ["E0311"]);
  assert.equal(r.out, "/sys/bus/vdpa/drivers_probe\n");
  const d = s.diagnostics.items.at(-1);
  assert.ok(
    d?.notes.includes("`vhost_vdpa` is not loaded, and it is what creates /dev/vhost-vdpa-0"),
  );
  assert.ok(d?.help.includes("load it: `modprobe vhost_vdpa`"));
});

Deno.test("paths outside /sys, /dev and /proc are refused, not invented", async () => {
  const s = session();
  for (const line of ["echo hi > /tmp/x", "cat /etc/hostname", "ls /tmp"]) {
    assert.deepEqual((await step(s, line)).codes, ["E0319"], line);
  }
  assert.deepEqual((await step(s, "echo quiet > /dev/null")).codes, []);
});

Deno.test("a glob redirect that matches several files is ambiguous", async () => {
  const s = session();
  for (
    const l of [
      "modprobe vhost_vdpa",
      "modprobe vdpa_sim_net",
      "vdpa dev add name vdpa0 mgmtdev vdpasim_net",
      "vdpa dev add name vdpa1 mgmtdev vdpasim_net",
    ]
  ) await step(s, l);
  const r = await step(s, "echo x > /sys/bus/vdpa/devices/*/driver_override");
  assert.deepEqual(r.codes, ["E0320"]);
  assert.ok(
    s.diagnostics.items.at(-1)?.notes.includes(
      "bash: /sys/bus/vdpa/devices/*/driver_override: ambiguous redirect",
    ),
  );
  // nothing was written
  assert.equal(state(s, "vdpa0").override, "(null)\n");
});

Deno.test("SR-IOV: VFs appear in sysfs, their count changes only through 0", async () => {
  const s = session();
  await step(s, "host nic ens1f0 model=mlx5 pci=0000:3b:00.0");
  const path = "/sys/class/net/ens1f0/device/sriov_numvfs";
  assert.equal((await step(s, `cat ${path}`)).out, "0\n");
  assert.deepEqual((await step(s, `echo 2 > ${path}`)).codes, []);
  assert.equal(
    (await step(s, "ls /sys/bus/pci/devices/")).out,
    "0000:3b:00.0\n0000:3b:00.2\n0000:3b:00.3\n",
  );
  assert.deepEqual((await step(s, `echo 3 > ${path}`)).codes, ["E0308"]);
  assert.deepEqual((await step(s, `echo 0 > ${path}`)).codes, []);
  assert.deepEqual((await step(s, `echo 3 > ${path}`)).codes, []);
  assert.equal((await step(s, `cat ${path}`)).out, "3\n");
});

Deno.test("binding a VF to vfio-pci through driver_override and drivers_probe", async () => {
  const s = session();
  for (
    const l of [
      'host cmdline "intel_iommu=on iommu=pt"',
      "host nic ens1f0 model=mlx5 pci=0000:3b:00.0",
      "modprobe vfio-pci",
      "echo 2 > /sys/class/net/ens1f0/device/sriov_numvfs",
      "echo 0000:3b:00.2 > /sys/bus/pci/drivers/mlx5_core/unbind",
      "echo vfio-pci > /sys/bus/pci/devices/0000:3b:00.2/driver_override",
      "echo 0000:3b:00.2 > /sys/bus/pci/drivers_probe",
    ]
  ) assert.deepEqual((await step(s, l)).codes, [], l);
  const link = s.lab.host.readlink("/sys/bus/pci/devices/0000:3b:00.2/driver");
  assert.ok(link.ok && link.value.endsWith("/vfio-pci"));
  const w = await step(s, "echo vfio_pci > /sys/bus/pci/devices/0000:3b:00.3/driver_override");
  assert.deepEqual(w.codes, ["W0201"], "the PCI driver is `vfio-pci`, with a dash");
  assert.ok(s.diagnostics.items.at(-1)?.help.includes("did you mean `vfio-pci`?"));
});
