/**
 * Names a script may legally choose reach the runtime's CPU contexts (`app:IFNAME`,
 * `NAME:vcpuN`, `vdpa-sim:DEV`): a bridge called `b.r`, a tap called `tap@x`, a 15-character
 * ifname. None of them may throw; every packet is delivered or
 * dropped with a reason; names the lab refuses (a VM called `v.1`) get a located diagnostic.
 */

import assert from "node:assert/strict";
import { Session } from "../stdlib/session.ts";
import type { Lab } from "../runtime/lab.ts";

interface Ran {
  readonly stdout: string;
  readonly lab: Lab;
  readonly errors: string[];
}

async function run(script: string, mode: "run" | "check" = "run"): Promise<Ran> {
  let stdout = "";
  const session = new Session({ mode, stdout: (t) => (stdout += t) });
  await session.runText(script, "names.vdpa");
  const errors = session.diagnostics.items.filter((d) => d.severity === "error").map((d) =>
    `${d.code} ${d.message}`
  );
  return { stdout, lab: session.lab, errors };
}

/** Quotes a name as one word of the language. */
function q(name: string): string {
  return `'${name}'`;
}

/** A bridge `br` with tap `tap` in it, a vhost-net (or QEMU userspace) guest `vm1` behind it. */
function bridged(br: string, tap: string, vhost: "on" | "off", vm = "vm1"): string {
  return "modprobe tun\nmodprobe bridge\nmodprobe vhost_net\n" +
    `ip link add ${q(br)} type bridge\nip link set dev ${q(br)} up\n` +
    `ip tuntap add dev ${q(tap)} mode tap vnet_hdr\nip link set dev ${q(tap)} master ${q(br)}\n` +
    `ip link set dev ${q(tap)} up\n` +
    `qemu-system-x86_64 -name ${vm} -enable-kvm -smp 2 -m 1G ` +
    `-netdev tap,id=n0,ifname=${q(tap)},script=no,downscript=no,vhost=${vhost} ` +
    "-device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01\n";
}

/** Legal Linux interface names (check_ifname: 1–15 bytes, no `/`, no blank) a user types. */
const IFNAMES = ["b.r", "br-0", "br@x", "123", "abcdefghijklmno", "t.0.1", "x+y", "eth0.100"];

Deno.test("a bridge with a dot in its name carries a ping and traffic both ways", async () => {
  const r = await run(
    bridged("b.r", "t.0", "on") +
      "ping vm1.eth0 b.r count=3\n" +
      "traffic t1 from vm1.eth0 to b.r size=64 count=100\n" +
      "traffic t2 from b.r to vm1.eth0 size=64 count=100\n" +
      "run\nexpect ping1.delivered == 3\nexpect t1.delivered == 100\nexpect t2.delivered == 100\n",
  );
  assert.deepEqual(r.errors, []);
  // The host application sending from `b.r` runs on a context a metric path can name.
  assert.equal(r.lab.metrics.context("app:b_r")?.kind, "process");
  assert.match(r.stdout, /t2: b\.r -> vm1\.eth0 64 B: sent 100, delivered 100, dropped 0/);
});

Deno.test("every legal ifname works as a bridge and a tap, under vhost-net and QEMU", async (t) => {
  for (const name of IFNAMES) {
    for (const vhost of ["on", "off"] as const) {
      await t.step(`${name} vhost=${vhost}`, async () => {
        const tap = name.length < 15 ? `${name}t` : name.slice(1) + "t";
        const r = await run(
          bridged(name, tap, vhost) +
            `ping vm1.eth0 ${q(name)} count=2\n` +
            `traffic t1 from vm1.eth0 to ${q(name)} size=64 count=50\n` +
            `traffic t2 from ${q(name)} to vm1.eth0 size=64 count=50\n` +
            `traffic t3 from ${q(tap)} to vm1.eth0 size=64 count=50\n` +
            "run\nexpect ping1.delivered == 2\n" +
            "expect t1.delivered == 50\nexpect t2.delivered == 50\nexpect t3.delivered == 50\n",
        );
        assert.deepEqual(r.errors, []);
        for (const c of r.lab.metrics.contexts) assert.match(c.name, /^[A-Za-z0-9_:-]+$/);
      });
    }
  }
});

Deno.test("a Unicode ifname builds the topology; traffic names it only in ASCII", async () => {
  // ip(8) takes `bré` (check_ifname counts bytes, 4 of 15); the lab's endpoint words are ASCII.
  const r = await run(
    bridged("bré", "tapé", "on") + "traffic t1 from vm1.eth0 to bré count=10\nrun\n",
    "check",
  );
  assert.deepEqual(r.errors, ["E0117 malformed name `bré`"]);
});

Deno.test("names that join into another context's name get contexts of their own", async (t) => {
  await t.step("VM `vdpa-sim` and vDPA device `vcpu0`: vCPU and simulator worker", async () => {
    // vdpa_sim's worker is `vdpa-sim:DEV`, the VM's first vCPU `NAME:vcpu0`: the same text.
    const r = await run(
      "modprobe vdpa\nmodprobe vhost_vdpa\nmodprobe vdpa_sim_net\n" +
        "vdpa dev add name vcpu0 mgmtdev vdpasim_net\n" +
        "qemu-system-x86_64 -name vdpa-sim -enable-kvm -smp 2 -m 1G " +
        "-object memory-backend-memfd,id=mem0,size=1G,share=on -numa node,memdev=mem0 " +
        "-netdev vhost-vdpa,vhostdev=/dev/vhost-vdpa-0,id=v0 " +
        "-device virtio-net-pci,netdev=v0,disable-legacy=on\n" +
        "traffic t1 from vdpa-sim.eth0 to vdpa-sim.eth0 size=64 count=100\nrun\n" +
        "expect t1.delivered == 100\n",
    );
    assert.deepEqual(r.errors, []);
    const kinds = r.lab.metrics.contexts.filter((c) => c.name.startsWith("vdpa-sim:vcpu0"))
      .map((c) => `${c.name} ${c.kind}`);
    assert.deepEqual(kinds, ["vdpa-sim:vcpu0 vcpu", "vdpa-sim:vcpu0-2 kthread"]);
  });
  await t.step(
    "VM `app` and bridge `vcpu0`: vCPU and the bridge's sending application",
    async () => {
      const r = await run(
        bridged("vcpu0", "tap0", "on", "app") +
          "traffic t1 from vcpu0 to app.eth0 size=64 count=100\nrun\nexpect t1.delivered == 100\n",
      );
      assert.deepEqual(r.errors, []);
      assert.equal(r.lab.metrics.context("app:vcpu0")?.kind, "vcpu");
      assert.equal(r.lab.metrics.context("app:vcpu0-2")?.kind, "process");
    },
  );
});

Deno.test("names the lab refuses are diagnosed at the name, in run and check mode", async (t) => {
  const cases: [string, string, string][] = [
    ["VM name with a dot", "qemu-system-x86_64 -name v.1 -m 1G\n", "E0241"],
    ["VM name with a blank", "qemu-system-x86_64 -name 'my vm' -m 1G\n", "E0241"],
    ["VM name in Unicode", "qemu-system-x86_64 -name 'vm-é' -m 1G\n", "E0241"],
    [
      "vDPA device with a dot",
      "modprobe vdpa\nmodprobe vdpa_sim_net\nvdpa dev add name vd.0 mgmtdev vdpasim_net\n",
      "E0123",
    ],
    ["NIC with a dot", "host nic e.1 model=mlx5 pci=0000:3b:00.0\n", "E0121"],
  ];
  for (const [what, script, code] of cases) {
    for (const mode of ["run", "check"] as const) {
      await t.step(`${what} (${mode})`, async () => {
        const r = await run(script, mode);
        assert.deepEqual(r.errors.map((e) => e.slice(0, 5)), [code]);
      });
    }
  }
});
