import assert from "node:assert/strict";
import { Session } from "../session.ts";

async function run(script: string): Promise<Session> {
  const s = new Session({ mode: "check", stdout: () => {} });
  await s.runText(script, "host.vdpa");
  return s;
}

function codes(s: Session): string[] {
  return s.diagnostics.items.map((d) => d.code);
}

Deno.test("host cpu sets the CPU the sysfs shows", async () => {
  const s = await run("host cpu ghz=2.4 cores=8\n");
  assert.deepEqual(codes(s), []);
  assert.deepEqual(s.lab.host.cpu, { ghz: 2.4, cores: 8 });
  const online = s.lab.host.read("/sys/devices/system/cpu/online");
  assert.ok(online.ok && online.value === "0-7\n");
});

Deno.test("host cpu refuses implausible values at the offending property", async (t) => {
  for (
    const [script, at] of [
      ["host cpu ghz=0\n", "0"],
      ["host cpu ghz=3 cores=0\n", "0"],
      ["host cpu cores=5000\n", "5000"],
    ] as const
  ) {
    await t.step(script.trim(), async () => {
      const s = await run(script);
      assert.deepEqual(codes(s), ["E0318"]);
      const l = s.diagnostics.items[0]?.labels[0];
      assert.equal(script.slice(l?.span.start, l?.span.end), at);
      assert.deepEqual(s.lab.host.cpu, { ghz: 3, cores: 16 }, "nothing changed");
    });
  }
});

Deno.test("host cmdline turns the IOMMU on and presets module parameters", async () => {
  const s = await run(
    'host cmdline "intel_iommu=on iommu=pt vdpa_sim.max_iotlb_entries=0"\nmodprobe vdpa_sim\n',
  );
  assert.deepEqual(codes(s), []);
  assert.deepEqual(s.lab.host.iommu(), { enabled: true, passthrough: true });
  const p = s.lab.host.read("/sys/module/vdpa_sim/parameters/max_iotlb_entries");
  assert.ok(p.ok && p.value === "0\n", "the command line preset reaches the module");
  const c = s.lab.host.read("/proc/cmdline");
  assert.ok(c.ok && c.value.endsWith(" intel_iommu=on iommu=pt vdpa_sim.max_iotlb_entries=0\n"));
});

Deno.test("host cmdline warns about what has no effect, and iommu=pt alone", async () => {
  const s = await run('host cmdline "iommu=pt hugepages=1024"\n');
  assert.deepEqual(codes(s), ["W0304", "W0304"]);
  const [hp, pt] = s.diagnostics.items;
  assert.equal(hp?.message, "`hugepages` has no effect in the lab");
  assert.ok(pt?.help.includes('write `host cmdline "intel_iommu=on iommu=pt"`'));
  assert.deepEqual(s.lab.host.iommu(), { enabled: false, passthrough: false });
});

Deno.test("host nic adds a PF whose driver loads, with VFs and MTU from its properties", async () => {
  const s = await run(
    "host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=25Gbps numvfs=2 mtu=9000 mac=0c:42:a1:00:00:01\n",
  );
  assert.deepEqual(codes(s), []);
  const h = s.lab.host;
  assert.ok(h.isLoaded("mlx5_core"), "udev loads the PF's driver");
  assert.deepEqual(h.pci.devices.map((d) => d.bdf), [
    "0000:3b:00.0",
    "0000:3b:00.2",
    "0000:3b:00.3",
  ]);
  assert.equal(h.net.get("ens1f0")?.mtu, 9000);
  const mac = h.read("/sys/class/net/ens1f0/address");
  assert.ok(mac.ok && mac.value === "0c:42:a1:00:00:01\n");
  const origin = s.provenance.get("nic:ens1f0");
  assert.equal(origin?.message, "`ens1f0` declared here");
  assert.equal(s.provenance.get("boot")?.message, "the kernel booted here");
});

Deno.test("host nic refusals point at the property at fault", async (t) => {
  const cases: [string, string, string][] = [
    ["host nic ens1f0 pci=0000:3b:00.0\n", "E0318", "ens1f0"],
    ["host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=1Gbps\n", "E0318", "1Gbps"],
    [
      "host nic ens1f0 model=mlx5 pci=0000:3b:00.0\nhost nic ens2f0 model=e810 pci=0000:3b:00.0\n",
      "E0318",
      "0000:3b:00.0",
    ],
    [
      "host nic ens1f0 model=mlx5 pci=0000:3b:00.0\nhost nic ens1f0 model=e810 pci=0000:5e:00.0\n",
      "E0318",
      "ens1f0",
    ],
  ];
  for (const [script, code, at] of cases) {
    await t.step(script.trim().split("\n").at(-1) ?? "", async () => {
      const s = await run(script);
      assert.deepEqual(codes(s), [code]);
      const d = s.diagnostics.items[0];
      const l = d?.labels.find((x) => x.primary);
      assert.equal(script.slice(l?.span.start, l?.span.end), at);
      // the second statement's label is on its own line
      const line = script.slice(0, l?.span.start).split("\n").length;
      assert.equal(line, script.trim().split("\n").length);
    });
  }
});
