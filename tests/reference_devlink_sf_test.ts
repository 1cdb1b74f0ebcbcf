/**
 * `auxiliary/mlx5_core.sf.1` (RS §3, §10; VVV §6.1) the real way: an mlx5 PF in switchdev
 * mode, `devlink port add … flavour pcisf`, `devlink port function set … state active`, and
 * with mlx5_vdpa loaded the SF's vDPA management device, which then carries a guest's
 * traffic to the wire. The driver's refusals keep their text.
 */

import assert from "node:assert/strict";
import type { Diagnostic } from "../lang/diagnostic.ts";
import { Session } from "../stdlib/session.ts";

const PF = 'host cmdline "intel_iommu=on iommu=pt"\n' +
  "host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=100Gbps\n";
const SWITCHDEV = "devlink dev eswitch set pci/0000:3b:00.0 mode switchdev\n";
const ADD = "devlink port add pci/0000:3b:00.0 flavour pcisf pfnum 0 sfnum 88\n";
const ACTIVATE =
  "devlink port function set pci/0000:3b:00.0/32768 hw_addr 00:00:00:00:88:88 state active\n";

async function lab(
  text: string,
  mode: "run" | "check" = "run",
): Promise<{ s: Session; diags: readonly Diagnostic[]; out: string }> {
  let out = "";
  const s = new Session({ mode, stdout: (t) => (out += t) });
  await s.runText(text, "sf.vdpa");
  return { s, diags: s.diagnostics.items, out };
}

const codes = (d: readonly Diagnostic[]) => d.map((x) => x.code);

Deno.test("port add prints the new SF port, inactive and detached, with its representor", async () => {
  const { diags, out, s } = await lab(PF + SWITCHDEV + ADD);
  assert.deepEqual(codes(diags), []);
  assert.equal(
    out,
    "pci/0000:3b:00.0/32768: type eth netdev ens1f0npf0sf88 flavour pcisf controller 0 pfnum 0 sfnum 88 external false splittable false\n" +
      "  function:\n    hw_addr 00:00:00:00:00:00 state inactive opstate detached\n",
  );
  assert.ok(s.lab.host.net.get("ens1f0npf0sf88") !== undefined, "the representor netdev");
});

Deno.test("port show lists an instance's ports in index order: the SF before the uplink", async () => {
  const { diags, out } = await lab(
    PF + SWITCHDEV + ADD.trim() + " > /dev/null\ndevlink port show\n",
  );
  assert.deepEqual(codes(diags), []);
  assert.deepEqual(
    out.split("\n").filter((l) => l.startsWith("pci/")).map((l) => l.split(":")[2]),
    [
      "00.0/32768",
      "00.0/65535",
    ],
  );
});

Deno.test("activation adds mlx5_core.sf.1; mlx5_vdpa makes it a vDPA management device", async () => {
  const { diags, out } = await lab(
    PF + SWITCHDEV + ADD + ACTIVATE +
      "devlink dev show\ndevlink port show pci/0000:3b:00.0/32768\n" +
      "modprobe mlx5_vdpa\nvdpa mgmtdev show\n",
  );
  assert.deepEqual(codes(diags), []);
  assert.match(out, /^pci\/0000:3b:00\.0\nauxiliary\/mlx5_core\.sf\.1\n/m);
  assert.match(out, /hw_addr 00:00:00:00:88:88 state active opstate attached\n/);
  assert.ok(out.includes("auxiliary/mlx5_core.sf.1: \n  supported_classes net\n"), out);
});

Deno.test("devlink dev show lists instances in registration order: VFs made after the SF come last", async () => {
  const { diags, out } = await lab(
    PF + SWITCHDEV + ADD.trim() + " > /dev/null\n" + ACTIVATE +
      "echo 2 > /sys/class/net/ens1f0/device/sriov_numvfs\ndevlink dev show\n",
  );
  assert.deepEqual(codes(diags), []);
  assert.equal(
    out,
    "pci/0000:3b:00.0\nauxiliary/mlx5_core.sf.1\npci/0000:3b:00.2\npci/0000:3b:00.3\n",
  );
});

Deno.test("an SF activated after mlx5_vdpa loaded registers at once; VFs take aux indices first", async () => {
  const { diags, out } = await lab(
    PF + "modprobe mlx5_vdpa\n" + SWITCHDEV +
      "echo 2 > /sys/class/net/ens1f0/device/sriov_numvfs\n" +
      ADD + ACTIVATE + "vdpa mgmtdev show | grep auxiliary\n",
  );
  assert.deepEqual(codes(diags), []);
  // PF 0, VF .2 → 1, VF .3 → 2: the SF's mlx5 core device is the fourth
  assert.equal(out.trim().split("\n").pop(), "auxiliary/mlx5_core.sf.3:");
});

Deno.test("a guest on an SF's vDPA device reaches the wire", async () => {
  const { diags } = await lab(
    PF + SWITCHDEV + ADD + ACTIVATE + "modprobe mlx5_vdpa\nmodprobe vhost_vdpa\n" +
      "vdpa dev add name vdpa1 mgmtdev auxiliary/mlx5_core.sf.1 mac 00:11:22:33:44:66 max_vqp 4\n" +
      "qemu-system-x86_64 -name vm1 -m 2G -netdev vhost-vdpa,id=n0,vhostdev=/dev/vhost-vdpa-0,queues=4 -device virtio-net-pci,netdev=n0,mq=on\n" +
      "traffic t1 from vm1.eth0 to wire size=64 count=200 rate=1Mpps\nrun\nexpect t1.delivered == 200\n",
    "run",
  );
  assert.deepEqual(codes(diags), []);
});

Deno.test("the driver's refusals, with mlx5_core's extack", async (t) => {
  const cases: [string, string, string][] = [
    [
      PF + ADD,
      "E0323",
      "Error: mlx5_core: Port add is only supported in eswitch switchdev mode or SF ports are disabled.",
    ],
    [
      PF + SWITCHDEV + ADD + ADD,
      "E0323",
      "Error: mlx5_core: SF already exist. Choose different sfnum.",
    ],
    [
      PF + SWITCHDEV + "devlink port add pci/0000:3b:00.0 flavour pcisf pfnum 1 sfnum 88\n",
      "E0323",
      "Error: mlx5_core: Invalid pfnum supplied.",
    ],
    [
      PF + SWITCHDEV + "devlink port add pci/0000:3b:00.0 flavour pcisf pfnum 0\n",
      "E0323",
      "Error: mlx5_core: User must provide unique sfnum. Driver does not support auto assignment.",
    ],
    [
      PF + SWITCHDEV + "devlink port add pci/0000:3b:00.0 flavour pcivf pfnum 0 sfnum 1\n",
      "E0323",
      "Error: mlx5_core: Driver supports only SF port addition.",
    ],
    [
      PF + SWITCHDEV + "devlink port del pci/0000:3b:00.0/32769\n",
      "E0324",
      "kernel answers: No such device",
    ],
    [PF + "devlink dev eswitch show pci/0000:3b:00.7\n", "E0324", "kernel answers: No such device"],
  ];
  for (const [text, code, note] of cases) {
    await t.step(text.trim().split("\n").pop() ?? "", async () => {
      const { diags } = await lab(text);
      assert.deepEqual(codes(diags), [code]);
      assert.ok(diags[0]?.notes.includes(note), diags[0]?.notes.join("\n"));
    });
  }
});

Deno.test("an SF whose vDPA device a VM holds cannot be deactivated or deleted", async () => {
  const held = PF + SWITCHDEV + ADD + ACTIVATE + "modprobe mlx5_vdpa\nmodprobe vhost_vdpa\n" +
    "vdpa dev add name vdpa1 mgmtdev auxiliary/mlx5_core.sf.1\n" +
    "qemu-system-x86_64 -name vm1 -m 1G -netdev vhost-vdpa,id=n0,vhostdev=/dev/vhost-vdpa-0 -device virtio-net-pci,netdev=n0\n";
  for (
    const cmd of [
      "devlink port function set pci/0000:3b:00.0/32768 state inactive",
      "devlink port del pci/0000:3b:00.0/32768",
      "devlink dev eswitch set pci/0000:3b:00.0 mode legacy",
    ]
  ) {
    const { diags } = await lab(held + cmd + "\n");
    assert.deepEqual(codes(diags), ["E0323"], cmd);
    assert.ok(
      diags[0]?.notes.some((n) => n.includes("/dev/vhost-vdpa-0")),
      diags[0]?.notes.join("\n"),
    );
  }
  // once QEMU is gone, deactivation removes the management device and its vDPA device
  const { diags, out } = await lab(
    held + "pkill -f vm1\ndevlink port function set pci/0000:3b:00.0/32768 state inactive\n" +
      "vdpa dev show\ndevlink dev show\ndevlink port del pci/0000:3b:00.0/32768\ndevlink port show\n",
  );
  assert.deepEqual(codes(diags), []);
  assert.ok(
    out.endsWith(
      "opstate detached\n" + // the output of `port add`, then no vdpa device:
        "pci/0000:3b:00.0\npci/0000:3b:00.0/65535: type eth netdev ens1f0 flavour physical port 0 splittable false\n",
    ),
    out,
  );
});

Deno.test("back to legacy mode, the SFs go with their management devices", async () => {
  const { diags, out } = await lab(
    PF + SWITCHDEV + ADD + ACTIVATE + "modprobe mlx5_vdpa\n" +
      "devlink dev eswitch set pci/0000:3b:00.0 mode legacy\n" +
      "devlink dev eswitch show pci/0000:3b:00.0\ndevlink port show\nvdpa mgmtdev show\n",
  );
  assert.deepEqual(codes(diags), []);
  // the PF itself is no vDPA parent (mlx5_vdpa serves VFs and SFs): no management device left
  assert.ok(
    out.endsWith(
      "opstate detached\n" +
        "pci/0000:3b:00.0: mode legacy inline-mode none encap-mode basic\n" +
        "pci/0000:3b:00.0/65535: type eth netdev ens1f0 flavour physical port 0 splittable false\n",
    ),
    out,
  );
});

Deno.test("unbinding mlx5_core from the PF takes its SFs, their representors and the SF's aux index", async () => {
  const { diags, out, s } = await lab(
    PF + SWITCHDEV + ADD.trim() + " > /dev/null\n" + ACTIVATE + "modprobe mlx5_vdpa\n" +
      "echo 0000:3b:00.0 > /sys/bus/pci/drivers/mlx5_core/unbind\n" +
      "devlink dev show\nvdpa mgmtdev show\n" +
      "echo 0000:3b:00.0 > /sys/bus/pci/drivers/mlx5_core/bind\n" +
      "devlink dev eswitch show pci/0000:3b:00.0\ndevlink port show\n",
  );
  assert.deepEqual(codes(diags), []);
  assert.equal(s.lab.host.net.get("ens1f0npf0sf88"), undefined);
  // nothing while unbound; rebound, the PF is back in legacy mode with its uplink only
  assert.equal(
    out,
    "pci/0000:3b:00.0: mode legacy inline-mode none encap-mode basic\n" +
      "pci/0000:3b:00.0/65535: type eth netdev ens1f0 flavour physical port 0 splittable false\n",
  );
});

Deno.test("in switchdev mode each VF has a representor and a pcivf port, listed first", async () => {
  const { diags, out, s } = await lab(
    PF + "echo 2 > /sys/class/net/ens1f0/device/sriov_numvfs\n" + SWITCHDEV +
      ADD.trim() + " > /dev/null\ndevlink port show\ndevlink port show ens1f0pf0vf1\n" +
      "devlink dev eswitch set pci/0000:3b:00.0 mode legacy\n",
  );
  assert.deepEqual(codes(diags), []);
  const ports = out.split("\n").filter((l) => l.startsWith("pci/")).map((l) => l.split(": ")[0]);
  assert.deepEqual(ports, [
    "pci/0000:3b:00.0/1",
    "pci/0000:3b:00.0/2",
    "pci/0000:3b:00.0/32768",
    "pci/0000:3b:00.0/65535",
    "pci/0000:3b:00.0/2",
  ]);
  assert.ok(
    out.includes(
      "pci/0000:3b:00.0/2: type eth netdev ens1f0pf0vf1 flavour pcivf controller 0 pfnum 0 vfnum 1 external false splittable false\n" +
        "  function:\n    hw_addr 00:00:00:00:00:00\n",
    ),
    out,
  );
  // back in legacy mode the representors are gone
  assert.equal(s.lab.host.net.get("ens1f0pf0vf0"), undefined);
  // VFs made while in switchdev mode get theirs at once; removing the VFs removes them
  const later = await lab(
    PF + SWITCHDEV + "echo 1 > /sys/class/net/ens1f0/device/sriov_numvfs\n",
  );
  assert.ok(later.s.lab.host.net.get("ens1f0pf0vf0") !== undefined);
  const gone = await lab(
    PF + SWITCHDEV + "echo 1 > /sys/class/net/ens1f0/device/sriov_numvfs\n" +
      "echo 0 > /sys/class/net/ens1f0/device/sriov_numvfs\n",
  );
  assert.equal(gone.s.lab.host.net.get("ens1f0pf0vf0"), undefined);
});
