import assert from "node:assert/strict";
import { Session } from "../session.ts";
import { lineSessions } from "../testdata/line_session.ts";
import { OvsVswitchd } from "../../runtime/backends/ovs/vswitchd.ts";
import { formatMessageLog } from "../../runtime/backends/vhost_user/message_log.ts";
import type { VhostUserNetBackend } from "../../runtime/backends/vhost_user/net_backend.ts";

const { session, step } = lineSessions();

const errorCodes = (codes: string[]) => codes.filter((c) => c.startsWith("E"));

const SETUP = [
  "ovs-vsctl set Open_vSwitch . other_config:dpdk-init=true",
  "ovs-vsctl add-br br0 -- set bridge br0 datapath_type=netdev",
  "ovs-vsctl add-port br0 vhu1 -- set Interface vhu1 type=dpdkvhostuser",
  "ovs-vsctl add-port br0 vhc2 -- set Interface vhc2 type=dpdkvhostuserclient " +
  "options:vhost-server-path=/tmp/vhc2",
];

function vm(name: string, mac: number, chardev: string): string {
  return `qemu-system-x86_64 -name ${name} -enable-kvm -smp 2 -m 1G ` +
    "-object memory-backend-memfd,id=mem0,size=1G,share=on -numa node,memdev=mem0 " +
    `-chardev socket,id=c0,${chardev} -netdev vhost-user,id=n0,chardev=c0 ` +
    `-device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:0${mac}`;
}

const VM1 = vm("vm1", 1, "path=/var/run/openvswitch/vhu1");
const VM2 = vm("vm2", 2, "path=/tmp/vhc2,server=on,wait=off");

function backend(s: Session, name: string): VhostUserNetBackend {
  const b = s.lab.vm(name)?.backends.get("n0");
  assert.ok(b !== undefined && b.type === "vhost-user");
  return b as VhostUserNetBackend;
}

async function twoVms(order: "ovs-first" | "vms-first" = "ovs-first"): Promise<Session> {
  const s = session();
  const lines = order === "ovs-first" ? [...SETUP, VM1, VM2] : [VM2, ...SETUP, VM1];
  for (const l of lines) assert.deepEqual(errorCodes((await step(s, l)).codes), [], l);
  return s;
}

Deno.test("ovs-vsctl show prints the database like ovs-vsctl", async (t) => {
  const s = session();
  for (const l of SETUP) await step(s, l);
  const r = await step(s, "ovs-vsctl show");
  assert.deepEqual(r.codes, []);
  await t.assertSnapshot(r.out, { serializer: String });
  assert.equal((await step(s, "ovs-vsctl list-br")).out, "br0\n");
  assert.equal((await step(s, "ovs-vsctl list-ports br0")).out, "vhc2\nvhu1\n");
});

Deno.test("a failing command aborts the whole transaction (E0380)", async () => {
  const s = session();
  await step(s, "ovs-vsctl add-br br0");
  const r = await step(s, "ovs-vsctl add-br br1 -- add-port br9 p0");
  assert.deepEqual(errorCodes(r.codes), ["E0380"]);
  const d = s.diagnostics.items.find((d) => d.code === "E0380");
  assert.ok(d?.notes.some((n) => n === "ovs-vsctl says: ovs-vsctl: no bridge named br9"));
  assert.equal((await step(s, "ovs-vsctl list-br")).out, "br0\n", "br1 was not created");
  assert.deepEqual(errorCodes((await step(s, "ovs-vsctl add-br br0")).codes), ["E0380"]);
  assert.deepEqual(errorCodes((await step(s, "ovs-vsctl br-exists br7")).codes), ["E0381"]);
});

Deno.test("a DPDK port before dpdk-init: the Interface error ovs-vsctl reports (W0380)", async () => {
  const s = session();
  await step(s, "ovs-vsctl add-br br0 -- set bridge br0 datapath_type=netdev");
  const r = await step(s, "ovs-vsctl add-port br0 vhu1 -- set Interface vhu1 type=dpdkvhostuser");
  assert.deepEqual(r.codes.filter((c) => c === "W0380"), ["W0380"]);
  const d = s.diagnostics.items.find((d) => d.code === "W0380");
  assert.ok(
    d?.notes.some((n) =>
      n ===
        "ovs-vsctl says: Error detected while setting up 'vhu1': could not open network device vhu1 (Address family not supported by protocol).  See ovs-vswitchd log for details."
    ),
  );
  const shown = (await step(s, "ovs-vsctl show")).out;
  assert.match(shown, /error: "could not open network device vhu1/);
  // Initialising DPDK later fixes the port: vswitchd reconfigures and the error goes.
  await step(s, "ovs-vsctl set Open_vSwitch . other_config:dpdk-init=true");
  assert.doesNotMatch((await step(s, "ovs-vsctl show")).out, /error:/);
  assert.ok(OvsVswitchd.find(s.lab)?.vhostPort("vhu1") !== undefined);
});

Deno.test("dpdkvhostuser (OVS serves) and dpdkvhostuserclient (QEMU serves), either order", async (t) => {
  for (const order of ["ovs-first", "vms-first"] as const) {
    const s = await twoVms(order);
    assert.equal(backend(s, "vm1").frontend.peer?.startsWith("ovs-vswitchd-"), true);
    assert.equal(backend(s, "vm2").frontend.peer?.startsWith("ovs-vswitchd-"), true);
    assert.equal(backend(s, "vm1").frontend.state, "started");
    assert.equal(backend(s, "vm2").frontend.state, "started", order);
    if (order === "ovs-first") {
      await t.assertSnapshot(
        `vm1 (QEMU client):\n${formatMessageLog(backend(s, "vm1").messages)}\n\n` +
          `vm2 (QEMU server):\n${formatMessageLog(backend(s, "vm2").messages)}`,
        { serializer: String },
      );
    }
  }
});

Deno.test("VM to VM over OVS-DPDK: two copies, no kicks after the first, conservation", async (t) => {
  const s = await twoVms();
  await step(s, "traffic t1 from vm1.eth0 to vm2.eth0 size=64 count=3000 rate=1Mpps burst=32");
  await step(s, "run");
  const sum = s.lab.metrics.summaries().t1;
  assert.ok(sum !== undefined);
  assert.equal(sum.delivered, 3000);
  assert.equal(sum.dropped + sum.in_flight, 0);
  assert.equal(sum.totals.copies, 6000);
  assert.equal(sum.totals.kicks, 1);
  const ovs = OvsVswitchd.find(s.lab);
  assert.ok(ovs !== undefined);
  // Both guests' link-up traffic taught the bridge where they are.
  const fdb = ovs.dp.fdb("br0").entries();
  assert.deepEqual(fdb.map((e) => e.mac).sort(), ["52:54:00:00:00:01", "52:54:00:00:00:02"]);
  const trace = (await step(s, "trace t1 packet 1")).out;
  assert.match(trace, /dpif-netdev\.upcall\s+forward\s+from=vhu1 to="vhc2 \(NORMAL: learned\)"/);
  assert.match((await step(s, "trace t1 packet 2")).out, /dpif-netdev\.emc\s+forward/);
  await t.assertSnapshot(trace, { serializer: String });
});

Deno.test("MAC learning: a guest is learned where its link came up, and where it sends", async () => {
  const s = await twoVms("vms-first");
  const fdb = OvsVswitchd.find(s.lab)?.dp.fdb("br0");
  assert.ok(fdb !== undefined);
  const ports = Object.fromEntries(fdb.entries().map((e) => [e.mac, e.port]));
  const ofport = (name: string) =>
    OvsVswitchd.find(s.lab)?.dp.ports.find((p) => p.name === name)?.ofport;
  assert.equal(ports["52:54:00:00:00:01"], ofport("vhu1"));
  assert.equal(ports["52:54:00:00:00:02"], ofport("vhc2"));
  await step(s, "traffic t0 from vm2.eth0 to vm1.eth0 size=64 count=32 rate=100Kpps burst=32");
  await step(s, "run");
  assert.equal(s.lab.metrics.summaries().t0?.delivered, 32);
  assert.match((await step(s, "trace t0 packet 1")).out, /to="vhu1 \(NORMAL: learned\)"/);
});

Deno.test("a type=dpdk port: the VM's frames flood out of the NIC onto the wire", async () => {
  const s = session();
  for (
    const l of [
      "host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=100Gbps",
      "modprobe mlx5_core",
      "echo 2 > /sys/class/net/ens1f0/device/sriov_numvfs",
      "ip link set dev ens1f0 up",
      SETUP[0] as string,
      SETUP[1] as string,
      SETUP[2] as string,
      "ovs-vsctl add-port br0 dpdk0 -- set Interface dpdk0 type=dpdk options:dpdk-devargs=0000:3b:00.2",
      VM1,
    ]
  ) assert.deepEqual(errorCodes((await step(s, l)).codes), [], l);
  await step(s, "traffic t1 from vm1.eth0 to wire size=64 count=1000 rate=1Mpps burst=32");
  await step(s, "run");
  const sum = s.lab.metrics.summaries().t1;
  assert.equal(sum?.delivered, 1000);
  assert.equal(sum?.totals.copies, 1000, "the dequeue copy; the NIC DMAs");
  const bad = await step(
    s,
    "ovs-vsctl add-port br0 dpdk1 -- set Interface dpdk1 type=dpdk options:dpdk-devargs=0000:99:00.0",
  );
  assert.ok(bad.codes.includes("W0380"));
  const d = s.diagnostics.items.findLast((d) => d.code === "W0380");
  assert.match(d?.message ?? "", /Error attaching device '0000:99:00.0' to DPDK/);
});

Deno.test("three guests on one bridge: each traffic reaches its own guest", async () => {
  const s = session();
  for (const l of [SETUP[0] as string, SETUP[1] as string, SETUP[2] as string]) await step(s, l);
  await step(s, "ovs-vsctl add-port br0 vhu3 -- set Interface vhu3 type=dpdkvhostuser");
  await step(s, VM1);
  await step(s, vm("vm3", 3, "path=/var/run/openvswitch/vhu3"));
  await step(
    s,
    VM2.replace("path=/tmp/vhc2,server=on,wait=off", "path=/tmp/vhc2,server=on,wait=off"),
  );
  await step(
    s,
    "ovs-vsctl add-port br0 vhc2 -- set Interface vhc2 type=dpdkvhostuserclient options:vhost-server-path=/tmp/vhc2",
  );
  for (const dst of ["vm2", "vm3"]) {
    await step(
      s,
      `traffic to_${dst} from vm1.eth0 to ${dst}.eth0 size=64 count=256 rate=500Kpps burst=32`,
    );
  }
  await step(s, "run");
  const all = s.lab.metrics.summaries();
  for (const name of ["to_vm2", "to_vm3"]) {
    assert.equal(all[name]?.delivered, 256, name);
    assert.equal(all[name]?.dropped, 0, name);
  }
});
