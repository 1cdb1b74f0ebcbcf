/**
 * A run-mode fuzzing campaign: scripts that build a real topology (a Linux bridge with taps
 * and vhost-net or QEMU userspace guests, a NIC on the wire, testpmd over vhost-user, OVS-DPDK,
 * vdpa_sim behind vhost-vdpa or virtio_vdpa, an mlx5 VF behind vhost-vdpa or VFIO), under
 * names drawn from every legal spelling (`b.r`, `tap@x`, 15 characters, `vcpu0` …), then a
 * random sequence of traffics, pings, runs (whole or partial), link and MTU changes, faults
 * (`inject`) and `show`/`trace` statements, each fed to a run-mode `Session` as the REPL does
 * (so one error does not stop the rest).
 *
 * A broken promise is a problem: anything thrown (script input must only produce
 * diagnostics), a run whose books do not balance (E0509: a packet neither delivered nor
 * dropped with a reason), a diagnostic outside its source.
 *
 * @example
 * ```ts
 * import { runScript, runScriptOf } from "./run_campaign.ts";
 * const lines = runScriptOf(1, 0);
 * const problems = await runScript(lines);
 * if (problems.length !== 0) throw new Error(problems.join("\n"));
 * ```
 *
 * @module
 */

import { Session } from "../../stdlib/session.ts";
import { Prng } from "./prng.ts";

/** Legal Linux interface names (check_ifname: 1–15 bytes, no `/`, no blank). */
const IFNAMES = [
  "br0",
  "b.r",
  "br-0",
  "t@p",
  "123",
  "0",
  "abcdefghijklmno",
  "x+y",
  "eth0.100",
  "vcpu0",
  "app",
  "wire",
  "softirq",
  "tap_1",
  "A.B.C",
  "br..x",
];

/** VM names the lab takes (letters, digits, `_`, `-`), some of them other contexts' prefixes. */
const VM_NAMES = ["vm1", "vm-2", "x_y", "123", "VM", "vcpu0", "app", "qemu", "vdpa-sim", "wire"];

/** vDPA device names the lab takes, some of them other contexts' suffixes. */
const VDPA_NAMES = ["vdpa0", "vcpu0", "main", "x-1", "vdpa_9"];

/** A topology: its setup lines, the endpoints traffic may use, what may be poked. */
interface Topology {
  readonly setup: string[];
  readonly endpoints: string[];
  /** Guest interfaces (`inject reset`, `inject link-down`, `show vq`). */
  readonly guests: string[];
  /** Host netdevs whose link and MTU may change. */
  readonly netdevs: string[];
  /** vhost-user sockets a back-end serves (`inject disconnect`). */
  readonly sockets: string[];
}

function q(word: string): string {
  return `'${word}'`;
}

/** `n` distinct picks from `pool`. */
function distinct(rng: Prng, pool: readonly string[], n: number): string[] {
  const left = [...pool];
  const out: string[] = [];
  for (let i = 0; i < n && left.length > 0; i++) {
    out.push(left.splice(rng.int(left.length), 1)[0] ?? "");
  }
  return out;
}

const MACS = (i: number) => `52:54:00:00:00:${(i + 1).toString(16).padStart(2, "0")}`;

function qemuLine(name: string, netdev: string, device: string, mem = false): string {
  const backing = mem
    ? "-object memory-backend-memfd,id=mem0,size=1G,share=on -numa node,memdev=mem0 "
    : "";
  return `qemu-system-x86_64 -name ${name} -enable-kvm -smp 2 -m 1G ${backing}` +
    `${netdev} ${device}`;
}

function bridged(rng: Prng): Topology {
  const vms = distinct(rng, VM_NAMES, rng.range(1, 3));
  const [br = "br0", ...taps] = distinct(rng, IFNAMES, vms.length + 1);
  const nic = rng.chance(0.5);
  const setup = [
    "modprobe tun",
    "modprobe bridge",
    "modprobe vhost_net",
    ...(nic ? ["host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=25Gbps"] : []),
    `ip link add ${q(br)} type bridge`,
    `ip link set dev ${q(br)} up`,
    ...(nic ? [`ip link set dev ens1f0 master ${q(br)}`, "ip link set dev ens1f0 up"] : []),
  ];
  const guests: string[] = [];
  vms.forEach((vm, i) => {
    const tap = taps[i] ?? `tap${i}`;
    setup.push(
      `ip tuntap add dev ${q(tap)} mode tap${rng.chance(0.7) ? " vnet_hdr" : ""}`,
      `ip link set dev ${q(tap)} master ${q(br)}`,
      `ip link set dev ${q(tap)} up`,
    );
    const vhost = rng.pick(["on", "off"]);
    const props = rng.pick(["", ",packed=on", ",mrg_rxbuf=off", ",event_idx=off", ",mq=on"]);
    const queues = props === ",mq=on" ? ",queues=2" : "";
    setup.push(qemuLine(
      vm,
      `-netdev tap,id=n0,ifname=${q(tap)},script=no,downscript=no,vhost=${vhost}${queues}`,
      `-device virtio-net-pci,netdev=n0,mac=${MACS(i)}${props}`,
    ));
    guests.push(`${vm}.eth0`);
  });
  return {
    setup,
    endpoints: [...guests, br, ...taps.slice(0, vms.length), ...(nic ? ["wire"] : [])],
    guests,
    netdevs: [br, ...taps.slice(0, vms.length), ...(nic ? ["ens1f0"] : [])],
    sockets: [],
  };
}

function testpmd(rng: Prng): Topology {
  const [vm = "vm1"] = distinct(rng, VM_NAMES, 1);
  const mode = rng.pick(["io", "macswap", "mac", "5tswap", "rxonly"]);
  return {
    setup: [
      "dpdk-testpmd -l 2-3 --no-pci --vdev 'net_vhost0,iface=/tmp/vu0,queues=1' -- " +
      `--forward-mode=${mode} --auto-start`,
      qemuLine(
        vm,
        "-chardev socket,id=c0,path=/tmp/vu0 -netdev vhost-user,id=n0,chardev=c0",
        `-device virtio-net-pci,netdev=n0,mac=${MACS(0)}${rng.pick(["", ",packed=on"])}`,
        true,
      ),
    ],
    endpoints: [`${vm}.eth0`],
    guests: [`${vm}.eth0`],
    netdevs: [],
    sockets: ["/tmp/vu0"],
  };
}

function ovs(rng: Prng): Topology {
  const vms = distinct(rng, VM_NAMES, 2);
  const [br = "br0"] = distinct(rng, ["br0", "ovsbr", "b-1"], 1);
  const setup = [
    "ovs-vsctl set Open_vSwitch . other_config:dpdk-init=true",
    `ovs-vsctl add-br ${br} -- set bridge ${br} datapath_type=netdev`,
  ];
  vms.forEach((vm, i) => {
    setup.push(
      `ovs-vsctl add-port ${br} vhu${i} -- set Interface vhu${i} type=dpdkvhostuser`,
      qemuLine(
        vm,
        `-chardev socket,id=c0,path=/var/run/openvswitch/vhu${i} -netdev vhost-user,id=n0,chardev=c0`,
        `-device virtio-net-pci,netdev=n0,mac=${MACS(i)}`,
        true,
      ),
    );
  });
  const guests = vms.map((vm) => `${vm}.eth0`);
  return {
    setup,
    endpoints: guests,
    guests,
    netdevs: [],
    sockets: vms.map((_, i) => `/var/run/openvswitch/vhu${i}`),
  };
}

function vdpaSim(rng: Prng): Topology {
  const [vm = "vm1"] = distinct(rng, VM_NAMES, 1);
  const [dev = "vdpa0"] = distinct(rng, VDPA_NAMES, 1);
  const virtio = rng.chance(0.3);
  const setup = [
    "modprobe vdpa",
    "modprobe vdpa_sim_net",
    virtio ? "modprobe virtio_vdpa" : "modprobe vhost_vdpa",
    `vdpa dev add name ${dev} mgmtdev vdpasim_net mac ${MACS(4)}`,
  ];
  if (virtio) {
    setup.push("ip link set eth0 up");
    return { setup, endpoints: ["eth0"], guests: [], netdevs: ["eth0"], sockets: [] };
  }
  setup.push(qemuLine(
    vm,
    "-netdev vhost-vdpa,vhostdev=/dev/vhost-vdpa-0,id=n0",
    `-device virtio-net-pci,netdev=n0,mac=${MACS(4)},disable-legacy=on` +
      rng.pick(["", ",packed=on", ",iommu_platform=on"]),
    true,
  ));
  return { setup, endpoints: [`${vm}.eth0`], guests: [`${vm}.eth0`], netdevs: [], sockets: [] };
}

function hardware(rng: Prng): Topology {
  const [vm = "vm1"] = distinct(rng, VM_NAMES, 1);
  const vfio = rng.chance(0.5);
  const setup = [
    'host cmdline "intel_iommu=on iommu=pt"',
    "host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=100Gbps",
    "echo 2 > /sys/class/net/ens1f0/device/sriov_numvfs",
  ];
  if (vfio) {
    setup.push(
      "modprobe vfio-pci",
      "echo 0000:3b:00.2 > /sys/bus/pci/drivers/mlx5_core/unbind",
      "echo vfio-pci > /sys/bus/pci/devices/0000:3b:00.2/driver_override",
      "echo 0000:3b:00.2 > /sys/bus/pci/drivers_probe",
      `qemu-system-x86_64 -name ${vm} -machine q35,accel=kvm -smp 2 -m 1G ` +
        "-device vfio-pci,host=0000:3b:00.2",
    );
  } else {
    setup.push(
      "modprobe vdpa",
      "modprobe vhost_vdpa",
      "modprobe mlx5_vdpa",
      `vdpa dev add name vdpa0 mgmtdev pci/0000:3b:00.2 mac ${MACS(7)}`,
      qemuLine(
        vm,
        "-netdev vhost-vdpa,vhostdev=/dev/vhost-vdpa-0,id=n0",
        `-device virtio-net-pci,netdev=n0,mac=${MACS(7)},disable-legacy=on`,
        true,
      ),
    );
  }
  return {
    setup,
    endpoints: [`${vm}.eth0`, "wire"],
    guests: [`${vm}.eth0`],
    netdevs: ["ens1f0"],
    sockets: [],
  };
}

const TOPOLOGIES = [bridged, bridged, testpmd, ovs, vdpaSim, hardware];

/** One random action after the setup. */
function action(rng: Prng, t: Topology, flows: string[]): string {
  const ep = () => q(rng.pick(t.endpoints));
  return rng.weighted<() => string>([
    [6, () => {
      const name = `t${flows.length}`;
      flows.push(name);
      const size = rng.pick([60, 64, 128, 1500, 1514, 1518, 9000, rng.range(60, 9000)]);
      const rate = rng.pick(["line", "10Kpps", "1Mpps", "200kpps"]);
      const burst = rng.chance(0.5) ? ` burst=${rng.pick([1, 32, 64])}` : "";
      return `traffic ${name} from ${ep()} to ${ep()} size=${size} count=${rng.range(1, 300)} ` +
        `rate=${rate}${burst}`;
    }],
    [2, () => `ping ${ep()} ${ep()} count=${rng.range(1, 3)}`],
    [5, () => rng.pick(["run", "run", "run 20us", "run 1ms", "run 100ns"])],
    [t.netdevs.length > 0 ? 2 : 0, () => {
      const dev = q(rng.pick(t.netdevs));
      return rng.pick([
        `ip link set dev ${dev} down`,
        `ip link set dev ${dev} up`,
        `ip link set dev ${dev} mtu ${rng.pick([68, 576, 1500, 9000])}`,
      ]);
    }],
    [t.guests.length > 0 ? 2 : 0, () => {
      const g = q(rng.pick(t.guests));
      const at = rng.chance(0.5) ? ` at=${rng.pick(["1us", "50us", "1ms"])}` : "";
      return rng.pick([
        `inject link-down ${g}${at}`,
        `inject link-up ${g}${at}`,
        `inject reset ${g}${at}`,
        `inject bad-chain ${g} tx0 ${rng.pick(["cycle", "oversize", "write-only-tx"])}${at}`,
      ]);
    }],
    [t.sockets.length > 0 ? 1 : 0, () => {
      const s = rng.pick(t.sockets);
      return rng.pick([`inject disconnect ${s}`, `inject reconnect ${s}`]);
    }],
    [
      t.endpoints.includes("wire") ? 1 : 0,
      () => rng.pick(["inject link-down wire", "inject link-up wire"]),
    ],
    [2, () => {
      const f = flows.length > 0 ? rng.pick(flows) : "t0";
      return rng.pick([
        "show stats",
        `show stats ${f}`,
        "show topology",
        `trace ${f} packet ${rng.range(1, 3)}`,
        `expect ${f}.dropped >= 0`,
      ]);
    }],
  ])();
}

/** The script of input `index` in campaign `seed`, one statement per entry. */
export function runScriptOf(seed: number, index: number): string[] {
  const rng = new Prng(seed * 1_000_003 + index);
  const tops = [rng.pick(TOPOLOGIES)(rng)];
  // One lab in five has a second, unrelated datapath beside the first.
  if (rng.chance(0.2)) {
    const second = rng.pick([testpmd, vdpaSim])(rng);
    // Its names are the first one's: keep what does not collide.
    if (!second.endpoints.some((e) => tops[0]?.endpoints.includes(e))) tops.push(second);
  }
  const t: Topology = {
    setup: tops.flatMap((x) => x.setup),
    endpoints: tops.flatMap((x) => x.endpoints),
    guests: tops.flatMap((x) => x.guests),
    netdevs: tops.flatMap((x) => x.netdevs),
    sockets: tops.flatMap((x) => x.sockets),
  };
  const flows: string[] = [];
  const out = [...t.setup];
  const n = rng.range(2, 12);
  for (let i = 0; i < n; i++) out.push(action(rng, t, flows));
  out.push("run");
  return out;
}

/** Runs `lines` one by one in a run-mode session and lists the broken promises. */
export async function runScript(lines: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  const session = new Session({ mode: "run", stdout: () => {} });
  for (const [i, line] of lines.entries()) {
    try {
      await session.runText(line + "\n", `<fuzz:${i + 1}>`);
    } catch (e) {
      const msg = e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e);
      problems.push(`line ${i + 1} threw ${msg}`);
      return problems;
    }
  }
  for (const d of session.diagnostics.items) {
    if (d.code === "E0509") problems.push(`E0509 ${d.message}`);
    for (const l of d.labels) {
      const f = session.sources.get(l.span.source);
      if (!f || l.span.start < 0 || l.span.end < l.span.start || l.span.end > f.text.length) {
        problems.push(`${d.code} label outside its source`);
      }
    }
  }
  return problems;
}

/** One kind of failure and the first input that showed it. */
export interface RunFailure {
  readonly signature: string;
  readonly problem: string;
  readonly index: number;
  readonly lines: readonly string[];
  readonly hits: number;
}

/** Runs inputs `0 … count - 1` of campaign `seed`; failures grouped by signature. */
export async function runRunCampaign(
  seed: number,
  count: number,
): Promise<{ inputs: number; lines: number; failures: RunFailure[] }> {
  const failures = new Map<string, RunFailure>();
  let lines = 0;
  for (let i = 0; i < count; i++) {
    const script = runScriptOf(seed, i);
    lines += script.length;
    for (const problem of await runScript(script)) {
      const signature = problem.replace(/\d+/g, "N").replace(/`[^`]*`/g, "`…`").slice(0, 120);
      const known = failures.get(signature);
      failures.set(
        signature,
        known
          ? { ...known, hits: known.hits + 1 }
          : { signature, problem, index: i, lines: script, hits: 1 },
      );
    }
  }
  return { inputs: count, lines, failures: [...failures.values()] };
}
