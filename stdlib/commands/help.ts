/**
 * `help [TOPIC…]`: the lab's own manual, one concise page per topic with examples. The REPL's
 * `.help [TOPIC]` prints the same pages. Topics: the REPL, the language, every command family
 * with its forms, each lab statement (`show` subjects, `expect` metrics …), and, generated from
 * the catalogs, any kernel module (`help vdpa_sim_net`), QEMU netdev type, device, chardev
 * backend or object type (`help virtio-net-pci`), and DPDK vdev driver (`help net_vhost`).
 *
 * Diagnostics: E0590 no help for a topic (with a did-you-mean).
 *
 * @example
 * ```ts
 * import { helpPage } from "./help.ts";
 * const page = helpPage(["vdpa"]);
 * if (!page.ok || !page.text.includes("vdpa dev add name NAME mgmtdev")) throw new Error("vdpa page");
 * const dev = helpPage(["virtio-net-pci"]);
 * if (!dev.ok || !dev.text.includes("mq=")) throw new Error("device page lists its properties");
 * ```
 *
 * @module
 */

import type { Help } from "../../lang/commands/ast.ts";
import { error } from "../../lang/diagnostic.ts";
import { suggest } from "../../lang/suggest.ts";
import { joinSpans } from "../../lang/span.ts";
import { COUNTERS } from "../../runtime/trace/metrics.ts";
import { FORWARD_MODES, VDEV_DRIVERS } from "../catalog/dpdk.ts";
import { KERNEL_MODULES } from "../catalog/kernel_modules.ts";
import { CHARDEV_BACKENDS } from "../catalog/qemu_chardev.ts";
import { DEVICE_DRIVERS } from "../catalog/qemu_device.ts";
import { NETDEV_TYPES } from "../catalog/qemu_netdev.ts";
import { OBJECT_TYPES } from "../catalog/qemu_object.ts";
import {
  type ClassCatalog,
  type ClassSchema,
  findClass,
  type PropSchema,
} from "../catalog/schema.ts";
import type { Executor, ExecutorTable } from "../exec.ts";

/** A page: its text, and examples that are real statements (the tests run them through the parser). */
interface Page {
  readonly text: string;
  readonly examples?: readonly string[];
}

const REPL: Page = {
  text: `The REPL (vdpa-lab repl [FILE])

Type any script statement at the \`vdpa> \` prompt; the lab keeps its state between entries.
An error prints its diagnostic and the session goes on.

  .help [TOPIC]   this manual (the same pages as the \`help\` statement)
  .load FILE      run a script in this session
  .save FILE      write the entries that succeeded as a script that rebuilds this state
  .vars           the variables defined now
  .reset          throw the lab away and start a fresh one
  .exit           leave (Ctrl-D on an empty line does too)

Keys: Tab completes commands, options, properties and the names that exist now (modules,
vDPA devices, netdevs, VMs, guest interfaces, traffic ids, pids, sysfs and /dev paths); Tab
twice lists the choices. Up and Down walk
the history, which is kept across sessions in $XDG_STATE_HOME/vdpa-lab/history (or
~/.local/state/vdpa-lab/history). A line ending in \`\\\` continues on the next one, as do
open quotes and \`{\` blocks. Ctrl-C abandons the line being typed, or stops a run (a run
that takes more than a second shows its progress on the terminal) and keeps the session.

Piped input runs as a script: \`vdpa-lab repl < lab.vdpa\` prints what \`vdpa-lab run\` prints.`,
};

const LANGUAGE: Page = {
  text: `The language

One statement per line; \`;\` separates statements on a line, \`\\\` at the end of a line
continues it, \`#\` starts a comment. Words are shell-like: bare, 'single quoted' (literal) or
"double quoted" (\${name} is expanded inside). Quantities take units: 64, 1.5us, 10ms, 2G,
1Mpps, 10Gbps. \`let\` binds a variable, \`\${name}\` expands it; \`for\` loops over an inclusive
range (counting down when A > B) or a list of words; \`include\` runs another script, its path
relative to the including file.

Real commands keep their real syntax and print what the real tools print: see \`help modprobe\`,
\`help vdpa\`, \`help sysfs\`, \`help ip\`, \`help qemu\`, \`help testpmd\`, \`help ovs\`. Lab
statements describe what the real world would do by itself: see \`help lab\`. Output can be
filtered with \`| grep\`, \`| head\`, \`| tail\` and \`| wc -l\`.`,
  examples: [
    "let n = 2",
    'let dev = "vdpa${n}"',
    "for i in 1..${n} {\n    vdpa dev add name vdpa${i} mgmtdev vdpasim_net\n  }",
    "for m in vdpa vhost_vdpa { modprobe ${m} }",
    'include "common.vdpa"',
    "lsmod | grep vdpa",
  ],
};

const MODPROBE: Page = {
  text: `Kernel modules

  modprobe [-r] [-a] [-v] [-n] [-q] [-f] MODULE [param=value…]
  rmmod [-f] MODULE…
  lsmod

modprobe loads a module with its dependencies (\`-v\` prints each insmod), \`-r\` unloads it and
the dependencies nothing else uses. Loading a vDPA parent (vdpa_sim_net, mlx5_vdpa) registers
its management device; loading vhost_vdpa or virtio_vdpa registers a vDPA bus driver.
\`help modules\` lists every module the lab knows; \`help MODULE\` shows one with its parameters.`,
  examples: [
    "modprobe vdpa_sim_net",
    "modprobe vhost_vdpa",
    "modprobe -r vdpa_sim_net",
    "lsmod | grep vdpa",
  ],
};

const VDPA: Page = {
  text: `The vdpa tool (iproute2)

  vdpa [-j] [-p] mgmtdev show [MGMTDEV]
  vdpa [-j] [-p] dev show [DEV]
  vdpa dev add name NAME mgmtdev MGMTDEV [mac MAC] [mtu MTU] [max_vqp N] [device_features HEX]
  vdpa dev del DEV
  vdpa dev config show [DEV]
  vdpa dev vstats show DEV qidx N
  vdpa dev set name DEV mac MAC

A management device (\`vdpasim_net\`, \`pci/0000:3b:00.2\`) exists once its parent module is
loaded; \`dev add\` creates a vDPA device on the bus, which the driver that is loaded binds
(vhost_vdpa: /dev/vhost-vdpa-N for QEMU; virtio_vdpa: a host virtio-net netdev).`,
  examples: [
    "vdpa mgmtdev show",
    "vdpa dev add name vdpa0 mgmtdev vdpasim_net mac 52:54:00:12:34:56",
    "vdpa -jp dev config show vdpa0",
    "vdpa dev vstats show vdpa0 qidx 0",
  ],
};

const SYSFS: Page = {
  text: `sysfs and /dev: echo, cat, ls

  echo [-n] VALUE > PATH          (also >>, and echo VALUE | sudo tee [-a] PATH)
  cat PATH…
  ls [-l] [-a] [-1] [-d] [PATH|GLOB…]

The lab has the sysfs and /dev of a real host: /sys/bus/vdpa/{devices,drivers}, /sys/module,
/sys/class/net, /sys/bus/pci/devices/…/sriov_numvfs, /dev/vhost-vdpa-N, /dev/vhost-net, /dev/net/tun.`,
  examples: [
    "ls /sys/bus/vdpa/devices",
    "echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind",
    "echo virtio_vdpa > /sys/bus/vdpa/devices/vdpa0/driver_override",
    "echo vdpa0 > /sys/bus/vdpa/drivers_probe",
    "echo 4 | sudo tee /sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs",
    "ls -l /dev/vhost-vdpa-*",
  ],
};

const IP: Page = {
  text: `The ip tool (iproute2)

  ip tuntap add [dev] NAME mode tap|tun [multi_queue] [vnet_hdr] [user U]
  ip tuntap del [dev] NAME mode tap|tun
  ip link add [name] NAME type bridge|…
  ip link set [dev] DEV up|down | master BRIDGE | nomaster | mtu N | address MAC
  ip link del [dev] DEV
  ip [-j] [-br] [-d] [-s] link show [[dev] DEV]
  ip addr show|add|del …`,
  examples: [
    "ip tuntap add tap0 mode tap multi_queue",
    "ip link add br0 type bridge",
    "ip link set tap0 master br0",
    "ip link set tap0 up",
    "ip -br link show",
  ],
};

const QEMU: Page = {
  text: `QEMU (qemu-system-x86_64, qemu-kvm, qemu)

A VM is one QEMU command line. What matters to I/O is modelled; other options are accepted
and reported as ignored. \`help NETDEV\` or \`help DEVICE\` (\`help tap\`, \`help virtio-net-pci\`)
lists the properties.

  -name NAME -m SIZE -smp N -machine q35[,kernel-irqchip=split] -enable-kvm
  -object memory-backend-file,id=mem0,size=4G,mem-path=/dev/hugepages,share=on
  -numa node,memdev=mem0
  -chardev socket,id=char0,path=/tmp/vhost-user0
  -netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=on|off[,queues=N]
  -netdev vhost-user,id=n0,chardev=char0[,queues=N]
  -netdev vhost-vdpa,id=n0,vhostdev=/dev/vhost-vdpa-0[,x-svq=on]
  -device virtio-net-pci,netdev=n0[,mq=on,vectors=N,packed=on,event_idx=on,iommu_platform=on,ats=on]
  -device intel-iommu,intremap=on,caching-mode=on,device-iotlb=on
  -device vfio-pci,host=0000:3b:00.2`,
  examples: [
    "qemu-system-x86_64 -name vm1 -m 4G -enable-kvm \\\n" +
    "    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=on \\\n" +
    "    -device virtio-net-pci,netdev=n0",
    "qemu-system-x86_64 -name vm2 -m 4G -enable-kvm \\\n" +
    "    -netdev vhost-vdpa,id=v0,vhostdev=/dev/vhost-vdpa-0 \\\n" +
    "    -device virtio-net-pci,netdev=v0,page-per-vq=on",
  ],
};

const OVS: Page = {
  text: `Open vSwitch (ovs-vsctl)

  ovs-vsctl [--may-exist] add-br BRIDGE [-- set Bridge BRIDGE datapath_type=netdev]
  ovs-vsctl add-port BRIDGE PORT [-- set Interface PORT type=TYPE options:KEY=VALUE…]
  ovs-vsctl del-port [BRIDGE] PORT | del-br BRIDGE | list-br | list-ports BRIDGE | show
  ovs-vsctl set|get|clear|remove TABLE RECORD COLUMN[:KEY]=VALUE…`,
  examples: [
    "ovs-vsctl add-br br0 -- set Bridge br0 datapath_type=netdev",
    "ovs-vsctl add-port br0 vhu0 -- set Interface vhu0 type=dpdkvhostuserclient \\\n" +
    "    options:vhost-server-path=/tmp/vhu0",
  ],
};

const DEVLINK: Page = {
  text: `devlink (iproute2): mlx5 e-switch mode and subfunctions

The subset that turns an mlx5 port into subfunctions (SFs) whose vDPA management device is
\`auxiliary/mlx5_core.sf.N\` once mlx5_vdpa is loaded.

  devlink dev [show [DEV]]
  devlink dev eswitch show DEV
  devlink dev eswitch set DEV mode legacy|switchdev
  devlink port [show [DEV/PORT_INDEX | NETDEV]]
  devlink port add DEV flavour pcisf pfnum N sfnum N
  devlink port del DEV/PORT_INDEX
  devlink port function set DEV/PORT_INDEX [hw_addr MAC] [state active|inactive]`,
  examples: [
    "devlink dev eswitch set pci/0000:3b:00.0 mode switchdev",
    "devlink port add pci/0000:3b:00.0 flavour pcisf pfnum 0 sfnum 88",
    "devlink port function set pci/0000:3b:00.0/32768 hw_addr 00:00:00:00:88:88 state active",
    "vdpa dev add name vdpa1 mgmtdev auxiliary/mlx5_core.sf.1",
  ],
};

function testpmdPage(): Page {
  const modes = FORWARD_MODES.map((m) => `  ${m.name.padEnd(14)} ${m.desc}`).join("\n");
  return {
    text: `DPDK testpmd (dpdk-testpmd)

  dpdk-testpmd [EAL options] --vdev 'net_vhost0,iface=PATH,queues=N[,client=1]' \\
    -- [-i] [--forward-mode=MODE] [--rxq=N] [--txq=N] [--nb-cores=N] [--burst=N]

The vhost PMD serves a vhost-user socket (QEMU's -netdev vhost-user); virtio_user is the
userspace virtio driver over vhost-user, vhost-net or vhost-vdpa. EAL options that do not change
the datapath (-n, --file-prefix, --huge-dir …) are accepted and reported as ignored.
\`help net_vhost\` or \`help net_virtio_user\` lists the devargs.

Forwarding modes:
${modes}`,
    examples: [
      "dpdk-testpmd -l 0-1 --vdev 'net_vhost0,iface=/tmp/vhost-user0,queues=1' -- -i",
      "dpdk-testpmd -l 0-2 --no-pci --vdev 'virtio_user0,path=/dev/vhost-vdpa-0' \\\n" +
      "    -- --forward-mode=macswap",
    ],
  };
}

const LAB: Page = {
  text: `Lab statements

  host cpu ghz=3.0 cores=16
  host cmdline "intel_iommu=on iommu=pt"
  host nic NAME model=mlx5 pci=0000:3b:00.0 speed=100Gbps [numvfs=N] [mac=…] [mtu=…]
  traffic NAME from EP to EP size=64 (count=N|duration=T) [rate=1Mpps|10Gbps|line] [burst=32]
  ping EP EP [count=3] [size=64] [interval=1ms]
  run [DURATION] [--json] [--trace=off|sample|full]
  trace T packet N [--json]
  show SUBJECT [--json]                  (help show)
  expect T.METRIC OP VALUE               (help expect)
  capture IFACE to FILE [count=N] [snaplen=N]
  export graph|trace to FILE [format=…]
  inject FAULT …                         (help inject)
  set cost KEY=VALUE… | set seed N | set profile NAME
  help [TOPIC]

Endpoints are named as a user sees them: vm1.eth0 (a guest interface; vm1.net0 by netdev id),
host netdevs (tap0, ens1f0) and wire (the peer beyond a physical port).`,
  examples: [
    'host cmdline "intel_iommu=on iommu=pt"',
    "host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=100Gbps numvfs=2",
    "capture tap0 to out.pcap count=100",
    "export trace to run.json",
  ],
};

const SHOW: Page = {
  text: `show: what the lab holds now

  show topology                  the I/O stack per VM and host, and the processes (their pids)
  show graph                     the same drawn in boxes: guest driver → virtqueues → backend
                                 → bus → device → switch → NIC → IOMMU → wire, the notify
                                 and interrupt paths on the lines (export graph to F.dot|F.mmd)
  show stats [T|PATTERN]         per-traffic results after a run (PATTERN: 'lat_*', ? and *)
  show vq EP QUEUE               one virtqueue: indices, flags, in-flight descriptors
  show vhost EP                  the vhost side of an interface: backend, memory table, vrings
  show features EP               offered, acked and negotiated feature bits
  show iommu [VM]                domains, mappings, IOTLB
  show log                       the kernel's messages (dmesg)
  show modules                   modules and who uses them
  show flows                     the traffic declared

Add --json for machine-readable output (every subject; \`vdpa-lab run --json\` turns it on).`,
  examples: ["show topology", "show vq vm1.eth0 tx0", "show features vm1.eth0 --json"],
};

/** Joins words with ", " into lines of at most `width` characters. */
function wrapList(words: readonly string[], width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const w of words) {
    const next = line === "" ? w : `${line}, ${w}`;
    if (next.length > width && line !== "") {
      lines.push(`${line},`);
      line = w;
    } else line = next;
  }
  if (line !== "") lines.push(line);
  return lines.join("\n");
}

function expectPage(): Page {
  const counters = wrapList([...COUNTERS, "interrupts"], 92);
  return {
    text: `expect: check a result

  expect T.METRIC OP VALUE       OP is one of == != < <= > >=

Metrics of a traffic T: sent, delivered, dropped, dropped.REASON, in_flight, duplicates,
reordered, mpps, gbps, wire_gbps, duration_ns, latency.{min_ns,mean_ns,p50_ns,p90_ns,p99_ns,max_ns},
bottleneck, cpu_ns_per_packet, totals.COUNTER and per_packet.COUNTER, where COUNTER is one of:
${counters}.`,
    examples: [
      "expect t1.delivered == 100000",
      "expect t1.dropped == 0",
      "expect t1.per_packet.vmexits == 0",
      "expect t1.latency.p99_ns < 20000",
    ],
  };
}

const INJECT: Page = {
  text: `inject: faults, as real hardware and software produce them

  inject link-down IFACE | link-up IFACE
  inject reset EP
  inject iotlb-invalidate EP [iova=N size=N]
  inject bad-chain EP QUEUE cycle|out-of-range|outside-memory|write-only-tx|oversize
  inject disconnect SOCKET | reconnect SOCKET
  inject unmap VM [iova=N size=N]

Each takes at=TIME to happen during a run.`,
  examples: ["inject bad-chain vm1.eth0 tx0 cycle at=1ms", "inject link-down tap0"],
};

const EDITS: Page = {
  text: `edits: changing the lab while traffic runs

Slice the run (\`run 1ms\`, an edit, \`run 1ms\` …): each edit takes effect at the virtual
time the last slice stopped at, and the counters and traces of the next slice show it.

  ip link set dev tap0 down|up           frames drop as link_down, then flow again
  echo BDF > /sys/bus/pci/drivers/D/unbind|bind    a NIC goes away and comes back
  echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind|bind, vdpa dev del vdpa0
  echo 0 > /sys/bus/pci/devices/BDF/sriov_numvfs
  qemu-system-x86_64 …                   a VM starts now; its traffic starts at the next run
  kill [-TERM|-KILL|-INT|-HUP|-9] PID…   a VM's QEMU (or testpmd) exits now
  pkill [-SIGNAL] [-f] PATTERN           the same, by program name (or by VM name with -f)

A killed VM takes what is in its rings with it (device_not_ready), its own traffic stops,
traffic towards it drops (link_down), its fds close and \`show topology\` no longer lists it;
its name is free for a new VM. \`show topology\` lists the pids.`,
  examples: ["kill -9 4100", "pkill -f vm2", "ip link set dev tap0 down", "run 1ms"],
};

const TRAFFIC: Page = {
  text: `traffic, ping, run, trace

  traffic NAME from EP to EP size=64 (count=N|duration=T) [rate=…] [burst=N] [flows=N] [proto=udp]
  ping EP EP [count=3] [size=64] [interval=1ms]
  run [DURATION] [--json] [--trace=off|sample|full]
  trace T packet N [--json]

A run can be sliced: \`run 1ms\` runs one millisecond of virtual time and stops; the next
\`run\` resumes exactly there. Between slices the lab can be changed (\`help edits\`) and the
change takes effect at that virtual time.`,
  examples: [
    "traffic t1 from vm1.eth0 to wire size=64 count=100000 rate=line burst=32",
    "ping vm1.eth0 tap0 count=3",
    "run --trace=full",
    "trace t1 packet 1",
  ],
};

/** Static pages by topic, in the order the overview lists them. */
const PAGES: Readonly<Record<string, Page | (() => Page)>> = {
  repl: REPL,
  language: LANGUAGE,
  modprobe: MODPROBE,
  vdpa: VDPA,
  sysfs: SYSFS,
  ip: IP,
  qemu: QEMU,
  testpmd: testpmdPage,
  ovs: OVS,
  devlink: DEVLINK,
  lab: LAB,
  traffic: TRAFFIC,
  show: SHOW,
  edits: EDITS,
  expect: expectPage,
  inject: INJECT,
  modules: () => ({ text: modulesPage() }),
};

function pageOf(topic: string): Page | undefined {
  if (!Object.hasOwn(PAGES, topic)) return undefined;
  const p = PAGES[topic] as Page | (() => Page);
  return typeof p === "function" ? p() : p;
}

/** The examples of every static page, by topic (each one a statement of the language). */
export function helpExamples(): ReadonlyMap<string, readonly string[]> {
  return new Map(Object.keys(PAGES).map((t) => [t, pageOf(t)?.examples ?? []]));
}

function render(page: Page): string {
  if (!page.examples || page.examples.length === 0) return page.text;
  return `${page.text}\n\nExamples:\n${page.examples.map((e) => `  ${e}`).join("\n")}`;
}

/** Other words that lead to a page. */
const ALIASES: Readonly<Record<string, string>> = {
  meta: "repl",
  syntax: "language",
  let: "language",
  for: "language",
  include: "language",
  variables: "language",
  rmmod: "modprobe",
  lsmod: "modprobe",
  echo: "sysfs",
  cat: "sysfs",
  ls: "sysfs",
  tee: "sysfs",
  "qemu-system-x86_64": "qemu",
  "qemu-kvm": "qemu",
  "dpdk-testpmd": "testpmd",
  "ovs-vsctl": "ovs",
  host: "lab",
  capture: "lab",
  export: "lab",
  set: "lab",
  ping: "traffic",
  run: "traffic",
  trace: "traffic",
  kill: "edits",
  pkill: "edits",
};

/** Every static topic name (catalog names are accepted too). */
export const HELP_TOPIC_NAMES: readonly string[] = [
  ...Object.keys(PAGES),
  ...Object.keys(ALIASES),
].sort();

const OVERVIEW = `vdpa-lab: virtio, vhost and vDPA I/O, simulated

Type real commands as on a host, plus a few lab statements; \`help TOPIC\` for more:

  repl        the prompt: .help .load .save .vars .reset .exit, keys, history
  language    statements, quoting, variables, loops, include, output filters
  modprobe    modprobe, rmmod, lsmod          modules   the kernel modules the lab knows
  vdpa        vdpa mgmtdev|dev …               sysfs     echo > /sys/…, cat, ls
  ip          ip tuntap, ip link, ip addr      qemu      qemu-system-x86_64 options
  testpmd     dpdk-testpmd, forwarding modes   ovs       ovs-vsctl
  devlink     mlx5 e-switch mode, subfunctions (auxiliary/mlx5_core.sf.N)
  lab         host, traffic, run, trace, show, expect, capture, export, inject, set
  show        what show can show               expect    the metrics expect can check
  inject      the faults the lab can inject
  edits       kill, pkill, link and driver changes between run slices

Any module, QEMU netdev/device/chardev/object type or DPDK vdev driver is a topic too:
\`help vdpa_sim_net\`, \`help virtio-net-pci\`, \`help vhost-vdpa\`, \`help net_vhost\`.`;

interface ModuleEntry {
  readonly description?: string;
  readonly depends?: readonly string[];
  readonly params?: Readonly<
    Record<string, { readonly type?: string; readonly description?: string }>
  >;
}

const MODULES = KERNEL_MODULES as unknown as Readonly<Record<string, ModuleEntry>>;

function modulesPage(): string {
  const names = Object.keys(MODULES).sort();
  const width = Math.max(...names.map((n) => n.length));
  const rows = names.map((n) => `  ${n.padEnd(width)}  ${MODULES[n]?.description ?? ""}`);
  return `Kernel modules the lab knows (modprobe NAME; help NAME for one)\n\n${rows.join("\n")}`;
}

function modulePage(name: string): string | undefined {
  const m = Object.hasOwn(MODULES, name) ? MODULES[name] : undefined;
  if (!m) return undefined;
  const lines = [`module ${name}: ${m.description ?? ""}`];
  const deps = m.depends ?? [];
  lines.push(`  depends: ${deps.length > 0 ? deps.join(", ") : "(none)"}`);
  const params = Object.entries(m.params ?? {});
  if (params.length > 0) {
    lines.push("  parameters:");
    for (const [k, p] of params) {
      lines.push(`    ${k}=${p.type ?? ""}  ${p.description ?? ""}`.trimEnd());
    }
  }
  lines.push("", `  modprobe ${name}`);
  return lines.join("\n");
}

function propType(p: PropSchema): string {
  if (p.type === "enum") return (p.values ?? []).join("|");
  if (p.type === "bool") return "on|off";
  if (p.type === "onoffauto") return "on|off|auto";
  return p.type;
}

function classPage(kind: string, schema: ClassSchema): string {
  // What matters to I/O first; what the lab ignores after it.
  const props = Object.entries(schema.props)
    .filter(([, p]) => p.removed === undefined)
    .sort(([, a], [, b]) => Number(b.ioRelevant) - Number(a.ioRelevant));
  const width = Math.min(
    28,
    Math.max(0, ...props.map(([k, p]) => k.length + propType(p).length + 1)),
  );
  const status = schema.status === "modelled"
    ? ""
    : schema.status === "ignored"
    ? " (accepted; no effect on the simulated I/O)"
    : " (accepted; not modelled by the lab)";
  const rows = props.map(([k, p]) => {
    const head = `${k}=${propType(p)}`.padEnd(width);
    const def = p.default !== undefined
      ? ` (default ${String(p.default === true ? "on" : p.default === false ? "off" : p.default)})`
      : p.defaultDesc
      ? ` (default ${p.defaultDesc})`
      : "";
    return `  ${head}  ${p.desc}${def}${p.ioRelevant ? "" : " [ignored]"}`;
  });
  return `${kind} ${schema.name}: ${schema.desc}${status}\n\n${rows.join("\n")}`.trimEnd();
}

const CLASS_CATALOGS: readonly ClassCatalog[] = [
  NETDEV_TYPES,
  DEVICE_DRIVERS,
  CHARDEV_BACKENDS,
  OBJECT_TYPES,
  VDEV_DRIVERS,
];

/** A page, or why there is none. */
export type HelpPage =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly topic: string; readonly suggestions: readonly string[] };

/**
 * The page for `topic` (the words after `help`; none: the overview). The text has no
 * trailing newline.
 */
export function helpPage(topic: readonly string[]): HelpPage {
  if (topic.length === 0) return { ok: true, text: OVERVIEW };
  const name = topic.join(" ");
  const key = Object.hasOwn(ALIASES, name) ? ALIASES[name] as string : name;
  const page = pageOf(key);
  if (page) return { ok: true, text: render(page) };
  const word = topic.length === 2 && (topic[0] === "module" || topic[0] === "qemu")
    ? topic[1] as string
    : name;
  // A name can be both (`tap` is a module and a netdev type): every page that fits.
  const found: string[] = [];
  const mod = topic[0] === "qemu" ? undefined : modulePage(word.replaceAll("-", "_"));
  if (mod !== undefined) found.push(mod);
  if (topic[0] !== "module") {
    for (const catalog of CLASS_CATALOGS) {
      const schema = findClass(catalog, word);
      if (schema) found.push(classPage(catalog.kind, schema));
    }
  }
  if (found.length > 0) return { ok: true, text: found.join("\n\n") };
  const candidates = [
    ...HELP_TOPIC_NAMES,
    ...Object.keys(MODULES),
    ...CLASS_CATALOGS.flatMap((c) => Object.keys(c.classes)),
  ];
  return {
    ok: false,
    topic: name,
    suggestions: suggest(name, candidates, { dashUnderscore: true }),
  };
}

/** `help [TOPIC…]`: prints the page, or reports E0590. */
export const executeHelp: Executor<Help> = (cmd, cx) => {
  const page = helpPage(cmd.topic.map((t) => t.value));
  if (page.ok) {
    cx.print(`${page.text}\n`);
    return;
  }
  const first = cmd.topic[0];
  const last = cmd.topic[cmd.topic.length - 1];
  cx.diagnostics.push(error("E0590", `no help for \`${page.topic}\``, {
    ...(first && last ? { span: joinSpans(first.span, last.span) } : {}),
    label: "not a help topic",
    help: [
      ...(page.suggestions[0] !== undefined ? [`did you mean \`${page.suggestions[0]}\`?`] : []),
      "`help` lists the topics",
    ],
  }));
};

/** The `help` executor, for the session's executor table. */
export const HELP_EXECUTORS: ExecutorTable = { help: executeHelp };
