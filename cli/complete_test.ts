import assert from "node:assert/strict";
import { Diagnostics } from "../lang/diagnostic.ts";
import { parseCommand } from "../lang/commands/mod.ts";
import { testWords } from "../lang/commands/test_words.ts";
import { checkOvs } from "../stdlib/check/ovs.ts";
import { checkQemu } from "../stdlib/check/qemu.ts";
import { checkTestpmd } from "../stdlib/check/testpmd.ts";
import { Session } from "../stdlib/session.ts";
import { complete, type CompletionSources, emptySources, metricPaths } from "./complete.ts";
import { sessionSources } from "./complete_sources.ts";

/** A lab with vdpa_sim_net and vhost_vdpa loaded, vdpa0 on the bus, tap0 enslaved to br0. */
function liveLab(): { session: Session; src: CompletionSources } {
  const session = new Session({ stdout: () => {} });
  const h = session.lab.host;
  for (const m of ["vdpa_sim_net", "vhost_vdpa"]) assert(h.modprobe(m).ok, m);
  assert(h.vdpaNetlink.devNew({ name: "vdpa0", mgmtdev: { dev: "vdpasim_net" } }).ok, "vdpa0");
  assert(h.tuntapAdd("tap0", { mode: "tap" }).ok, "tap0");
  assert(h.linkAdd("br0", "bridge").ok, "br0");
  const files = ["lab.vdpa", "labs/", ".hidden.vdpa"];
  const src = sessionSources(session, {
    localDir: (dir) => (dir === "." ? files : dir === "labs/" ? ["a.vdpa", "b.vdpa"] : []),
  });
  return { session, src };
}

function cands(text: string, src: CompletionSources = emptySources()): string[] {
  return [...complete(text, src).candidates];
}

Deno.test("complete: statement starts", async (t) => {
  await t.step("a program name completes with a space after it", () => {
    assert.deepEqual(cands("modpr"), ["modprobe "]);
    assert.deepEqual(complete("modpr", emptySources()).from, 0);
  });
  await t.step("lab statements and language keywords start statements too", () => {
    assert.deepEqual(cands("tra"), ["trace ", "traffic "]);
    assert.deepEqual(cands("inc"), ["include "]);
  });
  await t.step("after `;`, a newline or a block's `{` a new statement starts", () => {
    assert.deepEqual(cands("let n = 1; lsm"), ["lsmod "]);
    assert.deepEqual(cands("for i in 1..3 {\n  vdp"), ["vdpa "]);
    assert.deepEqual(cands("for i in a b { ip"), ["ip "]);
  });
  await t.step("after sudo (and its options) programs, but not lab statements", () => {
    assert.deepEqual(cands("sudo modp"), ["modprobe "]);
    assert.deepEqual(cands("sudo -E -u root modp"), ["modprobe "]);
    assert.deepEqual(cands("sudo tra"), []);
  });
  await t.step("meta commands only at the start of a REPL entry", () => {
    const repl = { ...emptySources(), meta: true };
    assert.deepEqual(cands(".sa", repl), [".save "]);
    assert.deepEqual(cands(".", repl).length, 6);
    assert.deepEqual(cands("lsmod\n.sa", repl), []);
    assert.deepEqual(cands(".sa"), []);
  });
  await t.step("nothing inside a comment", () => {
    assert.deepEqual(cands("# modpr"), []);
    assert.deepEqual(cands("lsmod # modpr"), []);
  });
  await t.step("an unknown program completes nothing", () => {
    assert.deepEqual(cands("frobnicate -"), []);
  });
});

Deno.test("complete: live names", async (t) => {
  const { session, src } = liveLab();
  await t.step("modprobe offers the catalog, rmmod and modprobe -r what is loaded", () => {
    assert.deepEqual(cands("modprobe vdpa_s", src), [
      "vdpa_sim ",
      "vdpa_sim_blk ",
      "vdpa_sim_net ",
    ]);
    assert.deepEqual(cands("rmmod vdpa_s", src), ["vdpa_sim ", "vdpa_sim_net "]);
    assert.deepEqual(cands("sudo modprobe -r vhost_v", src), ["vhost_vdpa "]);
    assert.deepEqual(cands("modprobe -rv vdpa_sim_b", src), []);
  });
  await t.step("module parameters after the module name", () => {
    assert.deepEqual(cands("modprobe vhost max_m", src), ["max_mem_regions="]);
  });
  await t.step("management devices and vDPA devices from the bus", () => {
    assert.deepEqual(cands("vdpa dev add name vdpa1 mgmtdev ", src), ["vdpasim_net "]);
    assert.deepEqual(cands("vdpa dev del ", src), ["vdpa0 "]);
    assert.deepEqual(cands("vdpa dev vstats show vdpa0 ", src), ["qidx "]);
    assert.deepEqual(cands("vdpa -j mgmtdev show ", src), ["vdpasim_net "]);
  });
  await t.step("vdpa dev add offers the keywords not used yet", () => {
    assert.deepEqual(
      cands("vdpa dev add name vdpa1 ", src),
      ["device_features ", "mac ", "max_vqp ", "mgmtdev ", "mtu "],
    );
    assert.deepEqual(cands("vdpa dev add name ", src), []);
  });
  await t.step("netdevs and bridges for ip link", () => {
    assert.deepEqual(cands("ip link set dev t", src), ["tap0 "]);
    assert.deepEqual(cands("ip link set tap0 master ", src), ["br0 "]);
    assert.deepEqual(cands("ip link set tap0 m", src), ["master ", "mtu ", "multicast "]);
  });
  await t.step("sysfs paths that exist now, directories without a space", () => {
    assert.deepEqual(cands("ls /sys/bus/vdpa/devices/", src), ["vdpa0/"]);
    assert.deepEqual(cands("echo vdpa0 > /sys/bus/vdpa/drivers/vh", src), ["vhost_vdpa/"]);
    assert.deepEqual(cands("echo vdpa0 >/sys/bus/vdpa/drivers/vh", src), ["vhost_vdpa/"]);
    assert.deepEqual(cands("cat /sys/bus/vdpa/drivers_p", src), ["drivers_probe "]);
    assert.deepEqual(cands("echo 2 | sudo tee /sys/bus/vdpa/drivers_a", src), [
      "drivers_autoprobe ",
    ]);
    assert.deepEqual(cands("ls -l /dev/vhost-vd", src), ["vhost-vdpa-0 "]);
  });
  await t.step("what echo writes: device names and vDPA bus drivers", () => {
    assert.deepEqual(cands("echo vd", src), ["vdpa0 "]);
    assert.deepEqual(cands("echo v", src), ["vdpa0 ", "vhost_vdpa ", "virtio_vdpa "]);
  });
  await t.step("a QEMU path property completes from the host: vhostdev=/dev/vhost-vdpa-0", () => {
    const line = "qemu-system-x86_64 -netdev vhost-vdpa,id=v0,vhostdev=/dev/vhost-v";
    assert.deepEqual(cands(line, src), ["vhost-vdpa-0"]);
    assert.equal(complete(line, src).from, line.length - "vhost-v".length);
  });
  await t.step("a path completion replaces only the last component", () => {
    const c = complete("cat /sys/bus/vdpa/drivers_p", src);
    assert.deepEqual(c.from, "cat /sys/bus/vdpa/".length);
  });
  await t.step("a quoted path closes its quote", () => {
    assert.deepEqual(cands("cat '/sys/bus/vdpa/drivers_p", src), ["drivers_probe' "]);
  });
  await t.step("what changed in the lab shows at once", () => {
    assert(session.lab.host.vdpaNetlink.devDel("vdpa0").ok, "del");
    assert.deepEqual(cands("vdpa dev del ", src), []);
    assert.deepEqual(cands("ls /sys/bus/vdpa/devices/", src), []);
  });
  await t.step("variables after ${, closed by the completion", async () => {
    await session.runText("let n = 1\nlet name = x", "<repl:1>");
    assert.deepEqual(cands("echo ${na", src), ["name}"]);
    assert.deepEqual(cands('echo "vdpa${n', src), ["name}", "n}"]);
  });
  await t.step("local files for include, .load and .save; hidden ones only when asked", () => {
    assert.deepEqual(cands("include ", src), ["lab.vdpa ", "labs/"]);
    assert.deepEqual(cands(".load labs/", src), ["a.vdpa ", "b.vdpa "]);
    assert.deepEqual(cands(".save .h", src), [".hidden.vdpa "]);
  });
  await t.step("help topics", () => {
    assert.deepEqual(cands("help vd", src), ["vdpa "]);
    assert.deepEqual(cands(".help exp", src), ["expect ", "export "]);
  });
});

Deno.test("complete: VMs, guest interfaces, traffic, OVS bridges and pids as they come and go", async (t) => {
  const session = new Session({ stdout: () => {} });
  const src = sessionSources(session, { localDir: () => [] });
  const r = await session.runText(
    "modprobe tun\nip tuntap add dev tap0 mode tap\nip tuntap add dev tap1 mode tap\n" +
      "qemu-system-x86_64 -name vm1 -m 1G -netdev tap,id=n0,ifname=tap0,script=no " +
      "-device virtio-net-pci,netdev=n0\n" +
      "qemu-system-x86_64 -name web -m 1G -netdev tap,id=n0,ifname=tap1,script=no " +
      "-device virtio-net-pci,netdev=n0 -netdev user,id=u0 -device virtio-net-pci,netdev=u0\n" +
      "traffic t1 from vm1.eth0 to web.eth0 size=64 count=10\n" +
      "traffic bulk from web.eth1 to vm1.eth0 size=64 count=10\n" +
      "ovs-vsctl add-br ovsbr0\n",
    "lab.vdpa",
  );
  assert.equal(r.status, "ok", session.diagnostics.items.map((d) => d.message).join("\n"));
  await t.step("guest interfaces wherever an endpoint goes", () => {
    assert.deepEqual(cands("show vq w", src), ["web.eth0 ", "web.eth1 "]);
    assert.deepEqual(cands("show features vm", src), ["vm1.eth0 "]);
    assert.deepEqual(cands("traffic t2 from ", src).filter((c) => c.includes(".")), [
      "vm1.eth0 ",
      "web.eth0 ",
      "web.eth1 ",
    ]);
  });
  await t.step("VMs for show iommu, traffic ids for trace and show stats", () => {
    assert.deepEqual(cands("show iommu ", src), ["vm1 ", "web "]);
    assert.deepEqual(cands("trace ", src), ["bulk ", "t1 "]);
    assert.deepEqual(cands("show stats b", src), ["bulk "]);
  });
  await t.step("OVS bridges for ovs-vsctl", () => {
    assert.deepEqual(cands("ovs-vsctl del-br ", src), ["ovsbr0 "]);
  });
  await t.step("kill offers signals and the pids of QEMU; pkill the programs", () => {
    const pids = session.lab.processes.map((p) => `${p.pid} `);
    assert.equal(pids.length, 3, "two QEMUs and ovs-vswitchd");
    assert.deepEqual(cands("kill 4", src), pids.filter((p) => p.startsWith("4")));
    assert.deepEqual(cands("kill -9 ", src), pids);
    assert.deepEqual(cands("kill -K", src), ["-KILL "]);
    assert.deepEqual(cands("pkill -f q", src), ["qemu-system-x86_64 "]);
  });
  await t.step("a killed VM leaves every list at once", async () => {
    const web = session.lab.vm("web");
    assert(web !== undefined);
    assert.equal((await session.runText(`kill ${web.pid}`, "<repl:2>")).status, "ok");
    assert.deepEqual(cands("show vq w", src), []);
    assert.deepEqual(cands("show iommu ", src), ["vm1 "]);
    assert(!cands("kill ", src).includes(`${web.pid} `));
  });
});

Deno.test("complete: property lists", async (t) => {
  await t.step("-netdev: types, then the type's properties, then values", () => {
    assert(cands("qemu-system-x86_64 -netdev vhost-").includes("vhost-vdpa"), "types");
    assert.deepEqual(cands("qemu-system-x86_64 -netdev tap,id=n0,vhost="), ["off", "on"]);
    assert(!cands("qemu-system-x86_64 -netdev tap,id=n0,").includes("id="), "id is used");
    assert.deepEqual(cands("qemu-kvm -netdev vhost-vdpa,id=v0,x-"), ["x-svq="]);
  });
  await t.step("type= in place of a bare type", () => {
    assert.deepEqual(cands("qemu -netdev type=tap,id=n0,vhost"), [
      "vhost=",
      "vhostfd=",
      "vhostfds=",
      "vhostforce=",
    ]);
  });
  await t.step("netdev= offers the ids of the -netdev options on the line", () => {
    const line =
      "qemu-system-x86_64 -netdev tap,id=n0 -netdev user,id=u1 -device virtio-net-pci,netdev=";
    assert.deepEqual(cands(line), ["n0", "u1"]);
  });
  await t.step("options, and nothing for an option's plain value", () => {
    assert.deepEqual(cands("qemu-system-x86_64 -enable-k"), ["-enable-kvm "]);
    assert.deepEqual(cands("qemu-system-x86_64 -cpu "), []);
    assert.deepEqual(cands("qemu-system-x86_64 -enable-kvm -dev"), ["-device "]);
    assert.deepEqual(cands("qemu-system-x86_64 -m 4G -sm"), ["-smbios ", "-smp "]);
  });
  await t.step("--vdev devargs and --forward-mode= for testpmd", () => {
    assert(cands("dpdk-testpmd --vdev 'net_vh").includes("net_vhost0"), "driver");
    assert(cands("dpdk-testpmd --vdev 'net_vhost0,").includes("iface="), "devargs");
    assert.deepEqual(cands("dpdk-testpmd -l 0-1 -- --forward-mode=mac"), ["mac ", "macswap "]);
    assert(!cands("dpdk-testpmd -- --").includes("--vdev="), "EAL options stop at --");
  });
  await t.step("ovs-vsctl set columns, interface types and options keys", () => {
    const base = "ovs-vsctl add-port br0 vhu0 -- set Interface vhu0 ";
    assert(cands(base).includes("options:"), "map column");
    assert(cands(`${base}type=dpdkvhost`).includes("dpdkvhostuserclient "), "type");
    assert.deepEqual(
      cands(`${base}type=dpdkvhostuserclient options:vh`),
      ["vhost-server-path="],
    );
  });
});

Deno.test("complete: lab statements", async (t) => {
  await t.step("show subjects and their --json", () => {
    assert(cands("show ").includes("topology "), "topology");
    assert.deepEqual(cands("show --"), ["--json "]);
  });
  await t.step("expect: metric paths segment by segment", () => {
    const src = { ...emptySources(), names: (k: string) => (k === "traffic" ? ["t1"] : []) };
    assert.deepEqual(cands("expect ", src), ["t1."]);
    assert.deepEqual(cands("expect t1.per_packet.vmex", src), [
      "vmexits ",
      "vmexits_userspace ",
    ]);
    assert(cands("expect t1.", src).includes("per_packet."), "a group goes on");
    assert(cands("expect t1.", src).includes("delivered "), "a leaf ends");
    assert.deepEqual(cands("expect t1.delivered ", src), ["!= ", "< ", "<= ", "== ", "> ", ">= "]);
  });
  await t.step("every metric path is one expect accepts", () => {
    assert(metricPaths().includes("per_packet.vmexits"), "per_packet.vmexits");
    assert(metricPaths().includes("dropped.ring_full"), "drop reasons");
  });
  await t.step("key=value words of traffic, and values that are names", () => {
    const keys = cands("traffic t1 from tap0 to wire s");
    assert.deepEqual(keys, ["size="]);
    assert.deepEqual(cands("traffic t1 from tap0 to wire size=64 rate=l"), ["line "]);
    assert(!cands("traffic t1 from tap0 to wire size=64 ").includes("size="), "size is used");
    assert.deepEqual(cands("host nic ens1 model=ml"), ["mlx5 "]);
  });
  await t.step("output filters after |, tee after echo's |", () => {
    assert.deepEqual(cands("lsmod | g"), ["grep "]);
    assert(cands("echo 1 | ").includes("tee "), "tee");
    assert(!cands("lsmod | ").includes("tee "), "only echo pipes into tee");
    assert.deepEqual(cands("echo 1 | sudo t"), ["tee "]);
  });
});

Deno.test("complete: never replaces text it cannot see as literal", () => {
  // The completion would have to rewrite the quote or the variable: nothing is offered.
  assert.deepEqual(cands('ls "/sys/"bu'), []);
  assert.deepEqual(cands("ls ${d}/sys"), []);
  assert.deepEqual(cands("modprobe vdpa\\_s"), []);
});

// ---- every candidate is accepted by the parser (and checker) it completes for -------------

/** Codes that mean "this word is not known here": a completion must never cause one. */
const UNKNOWN = new Set([
  "E0100",
  "E0101",
  "E0105",
  "E0109",
  "E0114",
  "E0120",
  "E0220",
  "E0221",
  "E0222",
  "E0223",
  "E0224",
  "E0225",
  "E0240",
  "E0242",
]);

function unknownCodes(line: string, check: boolean): string[] {
  const diags = new Diagnostics();
  const cmd = parseCommand(testWords(line), diags);
  if (!check) {
    return diags.items.filter((d) => d.code !== undefined && UNKNOWN.has(d.code)).map((d) =>
      `${d.code} ${d.message}`
    );
  }
  if (cmd?.kind === "qemu") checkQemu(cmd, diags);
  if (cmd?.kind === "testpmd") checkTestpmd(cmd, diags);
  if (cmd?.kind === "ovs-vsctl") checkOvs(cmd, diags);
  return diags.items.filter((d) => d.code !== undefined && UNKNOWN.has(d.code)).map((d) =>
    `${d.code} ${d.message}`
  );
}

/**
 * [prefix, what to add after the candidate to make a whole command, whether the catalog checks
 * run too (not for QEMU options, whose made-up arguments the checker would reject)].
 */
const CROSS_CHECK: readonly (readonly [string, (c: string) => string, boolean?])[] = [
  ["", () => ""],
  ["vdpa ", () => ""],
  ["vdpa dev ", () => ""],
  ["vdpa mgmtdev ", () => ""],
  ["vdpa -", () => " dev show"],
  ["vdpa dev add name vdpa0 ", (c) => {
    const value = { "mgmtdev ": "", "mac ": "52:54:00:00:00:01 ", "device_features ": "0x1 " }[c];
    return `${value ?? "1 "}${c === "mgmtdev " ? "vdpasim_net" : "mgmtdev vdpasim_net"}`;
  }],
  ["modprobe -", () => " vhost_vdpa"],
  ["rmmod -", () => " vhost_vdpa"],
  ["ls -", () => ""],
  ["ip ", () => ""],
  ["ip -", (c) => (c === "-f " ? "inet link show" : "link show")],
  ["ip link ", () => ""],
  ["ip addr ", () => ""],
  ["ip tuntap ", () => ""],
  [
    "ip tuntap add tap0 ",
    (c) => (c === "mode " ? "tap" : c === "dev " ? "tap1 mode tap" : " mode tap"),
  ],
  [
    "ip link set tap0 ",
    (
      c,
    ) => (/^(master|mtu|address|name|txqueuelen|alias|vf) $/.test(c)
      ? "1"
      : /^(promisc|multicast|allmulticast|arp|carrier) $/.test(c)
      ? "on"
      : ""),
  ],
  ["ip link add br9 type ", () => ""],
  [
    "host ",
    (c) => (c === "cmdline " ? "x" : c === "nic " ? "ens1 model=mlx5 pci=0000:3b:00.0" : ""),
  ],
  [
    "show ",
    (c) => (c === "vq " ? "vm1.eth0 tx0" : c === "vhost " || c === "features " ? "vm1.eth0" : ""),
  ],
  [
    "inject ",
    (c) => (c === "bad-chain " ? "vm1.eth0 tx0 cycle" : c === "unmap " ? "vm1" : "vm1.eth0"),
  ],
  ["inject bad-chain vm1.eth0 tx0 ", () => ""],
  ["set ", (c) => (c === "cost " ? "vmexit=1" : c === "seed " ? "1" : "default")],
  ["set cost ", () => "1"],
  [
    "traffic t1 from vm1.eth0 to wire ",
    (
      c,
    ) => (c === "size="
      ? "64 count=1"
      : c === "proto="
      ? "udp size=64 count=1"
      : c === "rate="
      ? "line size=64 count=1"
      : c === "duration="
      ? "1ms size=64"
      : c === "count="
      ? "1 size=64"
      : "1 size=64 count=1"),
  ],
  ["ping vm1.eth0 tap0 ", () => "1"],
  ["run -", (c) => (c === "--trace=" ? "full" : "")],
  ["run --trace=", () => ""],
  ["capture tap0 to x.pcap ", () => "1"],
  ["export graph to x.dot ", () => "dot"],
  ["lsmod | ", (c) => (c.startsWith("grep") ? "x" : c.startsWith("wc") ? "-l" : "")],
  ["qemu-system-x86_64 -", () => " x", false],
  ["qemu-system-x86_64 -netdev ", () => ",id=n0"],
  ["qemu-system-x86_64 -device ", () => ""],
  ["qemu-system-x86_64 -chardev ", () => ",id=c0"],
  ["qemu-system-x86_64 -object ", () => ",id=o0"],
  ["qemu-system-x86_64 -netdev tap,id=n0,vhost=", () => ""],
  ["qemu-system-x86_64 -netdev tap,", (c) => (c === "id=" ? "n0" : "1,id=n0")],
  ["qemu-system-x86_64 -netdev tap,id=n0 -device virtio-net-pci,netdev=n0,", () => "on"],
  ["dpdk-testpmd --vdev net_vhost0,iface=/tmp/s,", () => "1"],
  ["dpdk-testpmd -- --forward-mode=", () => ""],
  ["ovs-vsctl ", () => ""],
  ["ovs-vsctl set Interface p type=", () => ""],
];

Deno.test("complete: every candidate is a word the parser and the checker accept", async (t) => {
  for (const [prefix, fill, check] of CROSS_CHECK) {
    await t.step(JSON.stringify(prefix), () => {
      const c = complete(prefix, emptySources());
      const candidates = c.candidates.filter((x) =>
        !["let ", "for ", "include ", "sudo "].includes(x)
      );
      assert(candidates.length > 0, `no candidates for ${JSON.stringify(prefix)}`);
      for (const x of candidates) {
        const line = `${prefix.slice(0, c.from)}${x}${fill(x)}`;
        assert.deepEqual(unknownCodes(line, check ?? true), [], line);
      }
    });
  }
});
