/**
 * Wrong host setups, each producing the real tool's error at the offending word: the code,
 * the line and column of the primary label, the real text as a note, and where relevant the
 * secondary label at the root cause and the help that fixes it. Every case runs in `check`
 * mode (all diagnostics collected) and in `run` mode (the run stops at the same place).
 */

import assert from "node:assert/strict";
import type { Diagnostic } from "../lang/diagnostic.ts";
import { Session } from "../stdlib/session.ts";

interface WrongSetup {
  readonly name: string;
  readonly script: string;
  readonly code: string;
  /** The primary label: one-based line and the text it starts at on that line. */
  readonly line: number;
  readonly at: string;
  /** Search for `at` after this text on the line (when `at` occurs earlier too). */
  readonly after?: string;
  /** What the primary label covers. */
  readonly covers?: string;
  /** Lines of the real tool's output, each a note. */
  readonly tool: readonly string[];
  /** Secondary labels: the lines they point at. */
  readonly secondary?: readonly number[];
  /** Text a help line must contain. */
  readonly help?: string;
}

const SIM = "modprobe vhost_vdpa\nmodprobe vdpa_sim_net\n";
const DEV0 = `${SIM}vdpa dev add name vdpa0 mgmtdev vdpasim_net\n`;
const NIC = 'host cmdline "intel_iommu=on iommu=pt"\nhost nic ens1f0 model=mlx5 pci=0000:3b:00.0\n';
const FATAL = "modprobe: FATAL: Module";

const CASES: readonly WrongSetup[] = [
  {
    name: "the management device's name given to modprobe",
    script: "modprobe vdpasim_net\n",
    code: "E0201",
    line: 1,
    at: "vdpasim_net",
    tool: [`${FATAL} vdpasim_net not found in directory /lib/modules/6.12.0-vdpa-lab`],
    help: "`vdpa_sim_net`",
  },
  {
    name: "a swapped letter in a module name",
    script: "modprobe vhost_vpda\n",
    code: "E0201",
    line: 1,
    at: "vhost_vpda",
    tool: [`${FATAL} vhost_vpda not found in directory /lib/modules/6.12.0-vdpa-lab`],
    help: "did you mean `vhost_vdpa`?",
  },
  {
    name: "rmmod of the bus while its users are loaded",
    script: "modprobe vdpa_sim_net\nrmmod vdpa\n",
    code: "E0301",
    line: 2,
    at: "vdpa",
    tool: ["rmmod: ERROR: Module vdpa is in use by: vdpa_sim vdpa_sim_net"],
    secondary: [1, 1],
    help: "`rmmod vdpa_sim_net vdpa_sim`, or `modprobe -r vdpa_sim_net`",
  },
  {
    name: "modprobe -r of a module in use",
    script: "modprobe vhost_vdpa\nmodprobe -r vhost\n",
    code: "E0301",
    line: 2,
    at: "vhost",
    tool: ["modprobe: FATAL: Module vhost is in use."],
    secondary: [1],
  },
  {
    name: "rmmod of a module that is not loaded",
    script: "rmmod vhost_net\n",
    code: "E0302",
    line: 1,
    at: "vhost_net",
    tool: ["rmmod: ERROR: Module vhost_net is not currently loaded"],
  },
  {
    name: "rmmod of a built-in module",
    script: "rmmod virtio\n",
    code: "E0303",
    line: 1,
    at: "virtio",
    tool: ["rmmod: ERROR: Module virtio is builtin."],
  },
  {
    name: "a module parameter value the kernel cannot parse",
    script: "modprobe vdpa_sim max_iotlb_entries=lots\n",
    code: "E0304",
    line: 1,
    at: "max_iotlb_entries",
    tool: ["modprobe: ERROR: could not insert 'vdpa_sim': Invalid argument"],
  },
  {
    name: "modprobe --first-time of a loaded module",
    script: "modprobe vdpa\nmodprobe --first-time vdpa\n",
    code: "E0304",
    line: 2,
    at: "vdpa",
    tool: ["modprobe: ERROR: could not insert 'vdpa': Module already in kernel"],
    secondary: [1],
  },
  {
    name: "vdpa before any vDPA module is loaded",
    script: "vdpa dev add name vdpa0 mgmtdev vdpasim_net\n",
    code: "E0300",
    line: 1,
    at: "vdpa",
    covers: "vdpa",
    tool: ["Failed to connect to vdpa Netlink"],
    help: "modprobe vdpa_sim_net",
  },
  {
    name: "the module's name given as the management device",
    script: `${SIM}vdpa dev add name vdpa0 mgmtdev vdpa_sim_net\n`,
    code: "E0202",
    line: 3,
    at: "vdpa_sim_net",
    tool: [
      "Error: vdpa: Fail to find the specified management device.",
      "kernel answers: No such device",
    ],
    help: "the management device is `vdpasim_net`",
  },
  {
    name: "a management device whose module is not loaded",
    script: "modprobe vdpa\nvdpa dev add name vdpa0 mgmtdev vdpasim_net\n",
    code: "E0202",
    line: 2,
    at: "vdpasim_net",
    tool: [
      "Error: vdpa: Fail to find the specified management device.",
      "kernel answers: No such device",
    ],
    help: "modprobe vdpa_sim_net",
  },
  {
    name: "an MTU below 68",
    script: `${SIM}vdpa dev add name vdpa0 mgmtdev vdpasim_net mtu 60\n`,
    code: "E0306",
    line: 3,
    at: "60",
    tool: ["Error: integer out of range.", "kernel answers: Invalid argument"],
  },
  {
    name: "max_vqp 0",
    script: `${SIM}vdpa dev add name vdpa0 mgmtdev vdpasim_net max_vqp 0\n`,
    code: "E0306",
    line: 3,
    at: "0",
    after: "max_vqp ",
    tool: [
      "Error: vdpa: At least one pair of VQs is required.",
      "kernel answers: Invalid argument",
    ],
  },
  {
    name: "max_vqp on a management device without multiqueue",
    script: `${SIM}vdpa dev add mgmtdev vdpasim_net name x max_vqp 2\n`,
    code: "E0305",
    line: 3,
    at: "max_vqp",
    covers: "max_vqp 2",
    tool: [
      "Error: vdpa: Some provided attributes are not supported: 0x1000.",
      "kernel answers: Operation not supported",
    ],
    help: "drop `max_vqp 2`",
  },
  {
    name: "a device name that is taken",
    script: `${DEV0}vdpa dev add name vdpa0 mgmtdev vdpasim_net\n`,
    code: "E0307",
    line: 4,
    at: "vdpa0",
    tool: ["kernel answers: File exists"],
    secondary: [3],
  },
  {
    name: "device_features without the MAC feature but a mac attribute",
    script:
      `${SIM}vdpa dev add name vdpa0 mgmtdev vdpasim_net device_features 0x300000000 mac 52:54:00:12:34:56\n`,
    code: "E0306",
    line: 3,
    at: "0x300000000",
    tool: [
      "Error: vdpa: Missing features 0x20 for provided attributes.",
      "kernel answers: Invalid argument",
    ],
    secondary: [3],
    help: "device_features 0x300000020",
  },
  {
    name: "deleting a device that does not exist",
    script: `${DEV0}vdpa dev del vdpa1\n`,
    code: "E0203",
    line: 4,
    at: "vdpa1",
    tool: ["Error: vdpa: device not found.", "kernel answers: No such device"],
    help: "did you mean `vdpa0`?",
  },
  {
    name: "vstats without a queue index",
    script: `${DEV0}vdpa dev vstats show vdpa0\n`,
    code: "E0309",
    line: 4,
    at: "vdpa0",
    tool: ["kernel answers: Invalid argument"],
    help: "qidx 0",
  },
  {
    name: "vstats before any driver negotiated features",
    script: `${DEV0}vdpa dev vstats show vdpa0 qidx 1\n`,
    code: "E0309",
    line: 4,
    at: "vdpa0",
    tool: [
      "Error: vdpa: feature negotiation not complete.",
      "kernel answers: Resource temporarily unavailable",
    ],
    secondary: [3],
  },
  {
    name: "the ABI document's driver name in a bind path",
    script: `${DEV0}echo vdpa0 > /sys/bus/vdpa/drivers/vhost-vdpa/bind\n`,
    code: "E0311",
    line: 4,
    at: "/sys/bus/vdpa/drivers/vhost-vdpa/bind",
    tool: ["bash: /sys/bus/vdpa/drivers/vhost-vdpa/bind: No such file or directory"],
    help: "did you mean `/sys/bus/vdpa/drivers/vhost_vdpa`?",
  },
  {
    name: "binding a device that is bound already",
    script: `${DEV0}echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/bind\n`,
    code: "E0308",
    line: 4,
    at: "vdpa0",
    tool: ["bash: echo: write error: Device or resource busy"],
    secondary: [3],
  },
  {
    name: "unbinding from a driver the device is not bound to",
    script: `${DEV0}echo vdpa0 > /sys/bus/vdpa/drivers/virtio_vdpa/unbind\n`,
    code: "E0311",
    line: 4,
    at: "/sys/bus/vdpa/drivers/virtio_vdpa/unbind",
    tool: ["bash: /sys/bus/vdpa/drivers/virtio_vdpa/unbind: No such file or directory"],
    help: "`modprobe virtio_vdpa`",
  },
  {
    name: "unbinding from the wrong, loaded driver",
    script: `modprobe virtio_vdpa\n${DEV0}echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind\n`,
    code: "E0313",
    line: 5,
    at: "vdpa0",
    tool: ["bash: echo: write error: No such device"],
    secondary: [4],
  },
  {
    name: "binding against a driver_override",
    script: `${DEV0}echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind\n` +
      "echo virtio_vdpa > /sys/bus/vdpa/devices/vdpa0/driver_override\n" +
      "echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/bind\n",
    code: "E0313",
    line: 6,
    at: "vdpa0",
    tool: ["bash: echo: write error: No such device"],
    secondary: [5],
    help: "clear the override",
  },
  {
    name: "the ABI document's `driver_probe`",
    script: `${DEV0}echo vdpa0 > /sys/bus/vdpa/driver_probe\n`,
    code: "E0312",
    line: 4,
    at: "/sys/bus/vdpa/driver_probe",
    tool: ["bash: /sys/bus/vdpa/driver_probe: Permission denied"],
    help: "`/sys/bus/vdpa/drivers_probe`",
  },
  {
    name: "the misspelt driver_override, then the missing /dev node",
    script: `${DEV0}echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind\n` +
      "echo vhost-vdpa > /sys/bus/vdpa/devices/vdpa0/driver_override\n" +
      "echo vdpa0 > /sys/bus/vdpa/drivers_probe\nls /dev/vhost-vdpa-0\n",
    code: "E0311",
    line: 7,
    at: "/dev/vhost-vdpa-0",
    tool: ["ls: cannot access '/dev/vhost-vdpa-0': No such file or directory"],
    secondary: [5],
    help: "`vhost_vdpa`",
  },
  {
    name: "reading a write-only attribute",
    script: `${SIM}cat /sys/bus/vdpa/drivers/vhost_vdpa/bind\n`,
    code: "E0312",
    line: 3,
    at: "/sys/bus/vdpa/drivers/vhost_vdpa/bind",
    tool: ["cat: /sys/bus/vdpa/drivers/vhost_vdpa/bind: Permission denied"],
  },
  {
    name: "more VFs than the PF has",
    script: `${NIC}echo 20 > /sys/class/net/ens1f0/device/sriov_numvfs\n`,
    code: "E0314",
    line: 3,
    at: "20",
    tool: ["bash: echo: write error: Numerical result out of range"],
    help: "from 0 to 16",
  },
  {
    name: "changing the VF count without going through 0",
    script: `${NIC}echo 2 > /sys/class/net/ens1f0/device/sriov_numvfs\n` +
      "echo 4 > /sys/class/net/ens1f0/device/sriov_numvfs\n",
    code: "E0308",
    line: 4,
    at: "4",
    tool: ["bash: echo: write error: Device or resource busy"],
    secondary: [3],
    help: "write 0 first",
  },
  {
    name: "a tee into a driver that refuses the device",
    script: `${DEV0}echo vdpa0 | sudo tee /sys/bus/vdpa/drivers/vhost_vdpa/bind\n`,
    code: "E0308",
    line: 4,
    at: "vdpa0",
    tool: ["tee: /sys/bus/vdpa/drivers/vhost_vdpa/bind: Device or resource busy"],
    secondary: [3],
  },
  {
    name: "vfio-pci without the IOMMU on",
    script: "host nic ens1f0 model=mlx5 pci=0000:3b:00.0\nmodprobe vfio-pci\n" +
      "echo 1 > /sys/class/net/ens1f0/device/sriov_numvfs\n" +
      "echo 0000:3b:00.2 > /sys/bus/pci/drivers/mlx5_core/unbind\n" +
      "echo vfio-pci > /sys/bus/pci/devices/0000:3b:00.2/driver_override\n" +
      "echo 0000:3b:00.2 > /sys/bus/pci/drivers/vfio-pci/bind\n",
    code: "E0313",
    line: 6,
    at: "0000:3b:00.2",
    tool: ["bash: echo: write error: Invalid argument"],
    help: 'host cmdline "intel_iommu=on iommu=pt"',
  },
  {
    name: "binding vfio-pci without driver_override",
    script: 'host cmdline "intel_iommu=on"\nhost nic ens1f0 model=mlx5 pci=0000:3b:00.0\n' +
      "modprobe vfio-pci\necho 1 > /sys/class/net/ens1f0/device/sriov_numvfs\n" +
      "echo 0000:3b:00.2 > /sys/bus/pci/drivers/mlx5_core/unbind\n" +
      "echo 0000:3b:00.2 > /sys/bus/pci/drivers/vfio-pci/bind\n",
    code: "E0313",
    line: 6,
    at: "0000:3b:00.2",
    tool: ["bash: echo: write error: No such device"],
    help: "echo vfio-pci > /sys/bus/pci/devices/0000:3b:00.2/driver_override",
  },
  {
    name: "a bridge port on a bridge that does not exist",
    script: "ip tuntap add dev tap0 mode tap\nip link set tap0 master br1\n",
    code: "E0205",
    line: 2,
    at: "br1",
    tool: ['Error: argument "br1" is wrong: Device does not exist'],
  },
  {
    name: "ip link set on a device that does not exist",
    script: "ip tuntap add dev tap0 mode tap\nip link set dev tap1 up\n",
    code: "E0205",
    line: 2,
    at: "tap1",
    tool: ['Cannot find device "tap1"'],
    help: "did you mean `tap0`?",
  },
  {
    name: "a tap name that is taken",
    script: "ip tuntap add dev tap0 mode tap\nip tuntap add dev tap0 mode tap\n",
    code: "E0307",
    line: 2,
    at: "tap0",
    tool: ["ioctl(TUNSETIFF): Device or resource busy"],
    secondary: [1],
  },
  {
    name: "a bridge name that is taken",
    script: "ip link add br0 type bridge\nip link add br0 type bridge\n",
    code: "E0307",
    line: 2,
    at: "br0",
    tool: ["RTNETLINK answers: File exists"],
    secondary: [1],
  },
  {
    name: "an MTU below the device minimum",
    script: "ip tuntap add dev tap0 mode tap\nip link set tap0 mtu 40\n",
    code: "E0316",
    line: 2,
    at: "40",
    tool: ["Error: mtu less than device minimum."],
  },
  {
    name: "the kernel command line after the kernel booted",
    script: 'modprobe vfio-pci\nhost cmdline "intel_iommu=on iommu=pt"\n',
    code: "E0318",
    line: 2,
    at: '"intel_iommu=on iommu=pt"',
    tool: [
      "host cmdline: the kernel command line is read at boot; set it before loading modules or adding hardware",
    ],
    secondary: [1],
  },
  {
    name: "an unknown NIC model",
    script: "host nic ens1f0 model=mlx6 pci=0000:3b:00.0\n",
    code: "E0206",
    line: 1,
    at: "mlx6",
    tool: [],
    help: "did you mean `mlx5`?",
  },
  {
    name: "a VF count above sriov_totalvfs in `host nic`",
    script: "host nic ens1f0 model=mlx5 pci=0000:3b:00.0 numvfs=64\n",
    code: "E0318",
    line: 1,
    at: "64",
    tool: ["bash: echo: write error: Numerical result out of range"],
  },
];

function position(text: string, line: number, at: string, after = ""): number {
  const l = text.split("\n")[line - 1] ?? "";
  const from = after === "" ? 0 : l.indexOf(after) + after.length;
  const i = l.indexOf(at, from);
  if (i < 0) throw new Error(`\`${at}\` is not on line ${line}: ${l}`);
  return i + 1;
}

async function collect(script: string, mode: "run" | "check"): Promise<Session> {
  const s = new Session({ mode, stdout: () => {} });
  await s.runText(script, "setup.vdpa");
  return s;
}

function where(s: Session, d: Diagnostic, primary: boolean): { line: number; column: number }[] {
  const file = s.sources.get("setup.vdpa");
  if (file === undefined) throw new Error("source not registered");
  return d.labels.filter((l) => l.primary === primary).map((l) => file.position(l.span.start));
}

Deno.test("wrong host setups give the real error at the offending word", async (t) => {
  assert.ok(CASES.length >= 25, `only ${CASES.length} cases`);
  for (const c of CASES) {
    await t.step(c.name, async () => {
      const s = await collect(c.script, "check");
      const errors = s.diagnostics.items.filter((d) => d.severity === "error");
      assert.deepEqual(
        errors.map((d) => d.code),
        [c.code],
        errors.map((d) => d.message).join("; "),
      );
      const d = errors[0] as Diagnostic;
      assert.deepEqual(where(s, d, true), [{
        line: c.line,
        column: position(c.script, c.line, c.at, c.after),
      }]);
      const primary = d.labels.find((l) => l.primary);
      if (c.covers !== undefined && primary !== undefined) {
        assert.equal(c.script.slice(primary.span.start, primary.span.end), c.covers);
      }
      for (const line of c.tool) {
        assert.ok(d.notes.includes(line), `${line}\n in ${d.notes.join("\n")}`);
      }
      assert.deepEqual(where(s, d, false).map((p) => p.line), c.secondary ?? []);
      if (c.help !== undefined) {
        assert.ok(d.help.some((h) => h.includes(c.help ?? "")), d.help.join("\n"));
      }
      assert.match(d.message, /^[a-z`0-9]/, "rustc style: lowercase message");
      assert.ok(!d.message.endsWith("."), "no final period");
      // run mode stops at the same error
      const r = await collect(c.script, "run");
      const first = r.diagnostics.items.find((x) => x.severity === "error");
      assert.equal(first?.code, c.code);
      assert.deepEqual(where(r, first as Diagnostic, true), where(s, d, true));
    });
  }
});

Deno.test("the misspelt driver_override is a warning where it is written", async () => {
  const s = await collect(
    `${DEV0}echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind\n` +
      "echo vhost-vdpa > /sys/bus/vdpa/devices/vdpa0/driver_override\n" +
      "echo vdpa0 > /sys/bus/vdpa/drivers_probe\n",
    "check",
  );
  const ds = s.diagnostics.items;
  assert.deepEqual(ds.map((d) => [d.severity, d.code]), [["warning", "W0201"], [
    "warning",
    "W0303",
  ]]);
  const [w0201, w0303] = ds as [Diagnostic, Diagnostic];
  assert.deepEqual(where(s, w0201, true), [{ line: 5, column: 6 }]);
  assert.ok(w0201.help.includes("did you mean `vhost_vdpa`?"));
  assert.deepEqual(where(s, w0303, true), [{ line: 6, column: 6 }]);
  assert.deepEqual(where(s, w0303, false).map((p) => p.line), [5]);
  // the kernel took the string as written: nothing bound
  assert.equal(s.lab.host.vdpa.device("vdpa0")?.driver, undefined);
  const o = s.lab.host.read("/sys/bus/vdpa/devices/vdpa0/driver_override");
  assert.ok(o.ok && o.value === "vhost-vdpa\n");
});

Deno.test("names kmod treats alike load, names the bus compares exactly do not", async () => {
  const s = await collect("modprobe vhost-vdpa\nmodprobe vdpa-sim-net\n", "check");
  assert.deepEqual(s.diagnostics.items, []);
  assert.ok(s.lab.host.isLoaded("vhost_vdpa") && s.lab.host.isLoaded("vdpa_sim_net"));
  const w = await collect(
    `${DEV0}echo vhost_vdpa > /sys/bus/vdpa/devices/vdpa0/driver_override\n`,
    "check",
  );
  assert.deepEqual(w.diagnostics.items, [], "the exact driver name raises nothing");
});

Deno.test("check collects every error of a file, not just the first", async () => {
  const script = "modprobe vdpasim_net\nmodprobe vhost_vpda\nrmmod tun\nvdpa dev show\n";
  const s = await collect(script, "check");
  assert.deepEqual(s.diagnostics.items.map((d) => d.code), ["E0201", "E0201", "E0302", "E0300"]);
  const r = await collect(script, "run");
  assert.deepEqual(r.diagnostics.items.map((d) => d.code), ["E0201"]);
});
