/**
 * `inject` through the whole stack: each fault, scripted as a user writes it, ends the way the
 * real stack ends it — status bits, the guest's carrier, QEMU's and vhost's reactions, drop
 * reasons, control-log entries — and every packet sent is still delivered or dropped with a
 * reason (sent = delivered + dropped, nothing in flight, no E0509).
 */

import assert from "node:assert/strict";
import { Session } from "../stdlib/session.ts";
import type { Lab } from "../runtime/lab.ts";
import type { Diagnostic } from "../lang/diagnostic.ts";
import type { GuestVirtioNet } from "../runtime/qemu/guest/virtio_net.ts";
import type { AnyHopEvent, ControlEvent, DropReason } from "../runtime/trace/event.ts";
import { VIRTIO_NET_S_LINK_UP } from "../runtime/virtio/net_config.ts";
import { decodeNetConfig } from "../runtime/virtio/net_config.ts";
import { VhostVdpaBackend } from "../runtime/backends/vhost_vdpa.ts";

interface Ran {
  readonly out: string;
  readonly session: Session;
  readonly lab: Lab;
  readonly diags: Diagnostic[];
}

async function run(script: string, mode: "run" | "check" = "run"): Promise<Ran> {
  let out = "";
  const session = new Session({ mode, stdout: (t) => (out += t) });
  await session.runText(script, "inject.vdpa");
  return { out, session, lab: session.lab, diags: [...session.diagnostics.items] };
}

function errors(r: Ran): string[] {
  return r.diags.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.message}`);
}

/** A host with a 25G NIC bridged with tap0. */
const HOST = "host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=25Gbps\n" +
  "modprobe tun\nmodprobe bridge\nmodprobe vhost_net\n" +
  "ip link add name br0 type bridge\nip link set dev ens1f0 master br0\n" +
  "ip link set dev br0 up\nip link set dev ens1f0 up\n" +
  "ip tuntap add dev tap0 mode tap vnet_hdr\nip link set dev tap0 master br0\n" +
  "ip link set dev tap0 up\n";

type Backend = "vhost=on" | "vhost=off";
const BACKENDS: readonly Backend[] = ["vhost=on", "vhost=off"];

function vm(backend: Backend, device = ""): string {
  return "qemu-system-x86_64 -name vm1 -enable-kvm -smp 2 -m 1G " +
    `-netdev tap,id=n0,ifname=tap0,script=no,${backend} ` +
    `-device virtio-net-pci,netdev=n0${device}\n`;
}

function guest(r: Ran): GuestVirtioNet {
  const g = r.lab.vm("vm1")?.guestNics[0];
  assert.ok(g !== undefined, "vm1.eth0 exists");
  return g;
}

/** Every traffic's books balance and the run reported no violation. */
function balanced(r: Ran): void {
  assert.deepEqual(errors(r), [], "no errors (E0509 would say the books do not balance)");
  for (const f of r.lab.traffics) {
    const s = r.lab.metrics.summary(f.name);
    assert.equal(s.in_flight, 0, `${f.name}: nothing in flight`);
    assert.equal(s.delivered + s.dropped, s.sent, `${f.name}: sent = delivered + dropped`);
  }
}

function drops(r: Ran, flow: string): Partial<Record<DropReason, number>> {
  const by = r.lab.metrics.summary(flow).dropped_by_reason;
  return Object.fromEntries(Object.entries(by).filter(([, n]) => n > 0));
}

function control(r: Ran, pred: (e: ControlEvent) => boolean): ControlEvent[] {
  return r.lab.controlLog.filter(pred);
}

function named(r: Ran, name: string): ControlEvent[] {
  return control(r, (e) => e.details.name === name);
}

/** The sampled drop hops of `flow` with `reason`. */
function dropHops(r: Ran, flow: string, reason: DropReason): AnyHopEvent[] {
  return r.lab.recorder.events().filter((e): e is AnyHopEvent =>
    e.type === "hop" && e.action === "drop" && e.flow === flow && e.details.reason === reason
  );
}

function linkStatus(g: GuestVirtioNet): number {
  return decodeNetConfig(g.dev.config()).status & VIRTIO_NET_S_LINK_UP;
}

// -- link --------------------------------------------------------------------------------------

for (const backend of BACKENDS) {
  Deno.test(`link-down vm1.eth0 (${backend}): LINK_UP clears, the guest's carrier goes off, both ways drop link_down until link-up`, async () => {
    const r = await run(
      HOST + vm(backend) +
        "traffic t1 from vm1.eth0 to wire size=64 count=1000 rate=100Kpps\n" +
        "traffic t2 from wire to vm1.eth0 size=64 count=1000 rate=100Kpps\n" +
        "inject link-down vm1.eth0 at=3ms\ninject link-up vm1.eth0 at=6ms\nrun 4ms\n",
    );
    const g = guest(r);
    assert.equal(linkStatus(g), 0, "VIRTIO_NET_S_LINK_UP is clear while the link is down");
    assert.equal(g.carrier, false, "netif_carrier_off (VIRTIO_NET_F_STATUS negotiated)");
    assert.equal(g.configInterrupts, 1, "virtio_notify_config raised one configuration interrupt");
    assert.equal(named(r, "netif_carrier_off").length, 1);
    await r.session.runText("run\n", "more.vdpa");
    const after: Ran = { ...r, diags: [...r.session.diagnostics.items] };
    assert.equal(linkStatus(g), VIRTIO_NET_S_LINK_UP);
    assert.equal(g.carrier, true);
    assert.equal(g.configInterrupts, 2);
    balanced(after);
    // 3 ms of the 10 ms each traffic lasts fall in the outage: about 300 packets each way.
    for (const t of ["t1", "t2"]) {
      const d = drops(after, t);
      assert.deepEqual(Object.keys(d), ["link_down"], `${t} loses packets only to the link`);
      assert.ok((d.link_down ?? 0) >= 250 && (d.link_down ?? 0) <= 350, `${t}: ${d.link_down}`);
    }
    // The guest's own sends die in its stack (no carrier); frames for it in QEMU.
    assert.ok(dropHops(after, "t1", "link_down").some((h) => h.comp === "guest.stack"));
    assert.ok(dropHops(after, "t2", "link_down").every((h) => h.comp === "qemu.virtio-net"));
    // Packets sent after link-up are delivered again.
    assert.ok(after.lab.metrics.summary("t1").delivered >= 650);
  });
}

Deno.test("link-down without VIRTIO_NET_F_STATUS: the guest keeps its carrier, QEMU drops what it queues", async () => {
  const r = await run(
    HOST + vm("vhost=on", ",status=off") +
      "traffic t1 from vm1.eth0 to wire size=64 count=500 rate=100Kpps\n" +
      "inject link-down vm1.eth0 at=2ms\nrun\n",
  );
  const g = guest(r);
  assert.equal(g.carrier, true, "without STATUS the driver never reads a link status");
  assert.equal(g.configInterrupts, 1, "QEMU still raises the configuration interrupt");
  balanced(r);
  const d = drops(r, "t1");
  assert.deepEqual(Object.keys(d), ["link_down"]);
  assert.ok((d.link_down ?? 0) >= 250, `${d.link_down} dropped after 2 ms of 5`);
  // virtio_net_drop_tx_queue_data: QEMU pops what the guest queued and returns it unused.
  assert.ok(dropHops(r, "t1", "link_down").every((h) => h.comp === "qemu.virtio-net"));
  assert.equal(g.backlog(), 0, "the guest got every buffer back");
});

Deno.test("link-down wire: NO-CARRIER on the port and its bridge, frames either way drop link_down", async () => {
  const r = await run(
    HOST + vm("vhost=on") +
      "traffic t1 from vm1.eth0 to wire size=64 count=500 rate=100Kpps\n" +
      "traffic t2 from wire to vm1.eth0 size=64 count=500 rate=100Kpps\n" +
      "inject link-down wire at=1ms\ninject link-up ens1f0 at=3ms\nrun\n" +
      "inject link-down wire\nip link show dev ens1f0\n",
  );
  balanced(r);
  assert.match(r.out, /ens1f0: <NO-CARRIER,BROADCAST,MULTICAST,UP> .* state DOWN/);
  const port = r.lab.host.net.get("ens1f0");
  assert.ok(port !== undefined);
  assert.equal(r.lab.host.net.isRunning(port), false);
  for (const t of ["t1", "t2"]) {
    const d = drops(r, t);
    assert.deepEqual(Object.keys(d), ["link_down"], `${t}: only the cable`);
    assert.ok((d.link_down ?? 0) >= 180 && (d.link_down ?? 0) <= 220, `${t}: ${d.link_down}`);
  }
  // Towards the wire the bridge has no running port; from the wire the peer has no link.
  assert.ok(dropHops(r, "t1", "link_down").every((h) => h.comp === "br0"));
  assert.ok(dropHops(r, "t2", "link_down").every((h) => h.comp === "wire"));
});

// -- reset -------------------------------------------------------------------------------------

for (const backend of BACKENDS) {
  Deno.test(`reset vm1.eth0 (${backend}): status 0, the probe again, lost chains booked device_not_ready, traffic resumes`, async () => {
    const r = await run(
      HOST + vm(backend) +
        "traffic t1 from vm1.eth0 to wire size=64 count=2000 rate=line burst=32\n" +
        "traffic t2 from wire to vm1.eth0 size=64 count=1000 rate=200Kpps\n" +
        "inject reset vm1.eth0 at=1ms\nrun\n",
    );
    balanced(r);
    const g = guest(r);
    const statuses = control(
      r,
      (e) => e.comp === "vm1.eth0" && e.action === "status" && e.t === 1e6,
    )
      .map((e) => e.details.name);
    // remove_vq_common resets; virtnet_restore_up goes through the whole status sequence.
    assert.deepEqual(statuses, [
      "reset",
      "ACKNOWLEDGE",
      "ACKNOWLEDGE DRIVER",
      "ACKNOWLEDGE DRIVER FEATURES_OK",
      "ACKNOWLEDGE DRIVER FEATURES_OK DRIVER_OK",
    ]);
    assert.equal(g.dev.status.resets, 2, "the probe's reset and this one");
    assert.equal(g.up, true);
    // What the device had not taken from tx0 at the reset is gone; the rest arrives.
    const d1 = drops(r, "t1");
    assert.deepEqual(Object.keys(d1), ["device_not_ready"]);
    assert.ok((d1.device_not_ready ?? 0) > 0 && (d1.device_not_ready ?? 0) <= 256);
    assert.ok(r.lab.metrics.summary("t1").delivered >= 2000 - 256);
    assert.ok(r.lab.metrics.summary("t2").delivered >= 990, "receive resumes after the refill");
    assert.match(
      String(named(r, "reset vm1.eth0")[0]?.details.value),
      new RegExp(`${(d1.device_not_ready ?? 0) + (drops(r, "t2").device_not_ready ?? 0)} packets`),
    );
  });
}

Deno.test("reset is the way out of NEEDS_RESET: Linux leaves the device broken until the driver resets it", async () => {
  const r = await run(
    HOST + vm("vhost=off") +
      "traffic t1 from vm1.eth0 to wire size=64 count=600 rate=100Kpps\n" +
      "inject bad-chain vm1.eth0 tx0 cycle at=1ms\ninject reset vm1.eth0 at=3ms\nrun\n",
  );
  balanced(r);
  const g = guest(r);
  assert.equal(g.dev.needsReset, false, "the reset cleared DEVICE_NEEDS_RESET");
  const d = drops(r, "t1");
  assert.equal(d.bad_descriptor, 1, "the packet in the broken chain");
  // Between the fault and the reset the guest's packets die with the device: 2 ms ≈ 200.
  assert.ok((d.needs_reset ?? 0) >= 150 && (d.needs_reset ?? 0) <= 210, `${d.needs_reset}`);
  // After the reset, the last 3 ms of the traffic go through.
  assert.ok(r.lab.metrics.summary("t1").delivered >= 295);
  assert.equal(named(r, "virtnet_restore").length, 1);
});

// -- bad chains --------------------------------------------------------------------------------

const RING_FAULTS = [
  ["cycle", /loops \(more than 256 descriptors\)/],
  ["out-of-range", /has next 263, beyond 256 entries/],
  ["outside-memory", /cannot map the device-readable buffer of descriptor \d+ at 0x80000000/],
] as const;

for (const [variant, text] of RING_FAULTS) {
  Deno.test(`bad-chain tx0 ${variant} under QEMU userspace: virtio_error → NEEDS_RESET and a config interrupt; the guest stays broken`, async () => {
    const r = await run(
      HOST + vm("vhost=off") +
        "traffic t1 from vm1.eth0 to wire size=64 count=500 rate=100Kpps\n" +
        `inject bad-chain vm1.eth0 tx0 ${variant} at=2ms\nrun\n`,
    );
    balanced(r);
    const g = guest(r);
    assert.ok(g.dev.needsReset, "DEVICE_NEEDS_RESET");
    assert.equal(g.configInterrupts, 1);
    const err = control(r, (e) => e.comp === "vm1.eth0" && e.action === "device-error");
    assert.equal(err.length, 1);
    assert.match(String(err[0]?.details.name), text);
    assert.ok((g.dev.backend?.deviceRing?.(1)?.counters.faults ?? 0) === 1, "one ring fault");
    const d = drops(r, "t1");
    assert.deepEqual(Object.keys(d).sort(), ["bad_descriptor", "needs_reset"]);
    assert.equal(d.bad_descriptor, 1);
    assert.equal(r.lab.metrics.summary("t1").delivered, 200, "what left before the fault");
    // Linux has no handler for NEEDS_RESET: nothing after the fault gets through.
    assert.equal(named(r, "virtnet_freeze").length, 0);
  });

  Deno.test(`bad-chain tx0 ${variant} under vhost-net: vq_err stops tx0, no NEEDS_RESET`, async () => {
    const r = await run(
      HOST + vm("vhost=on") +
        "traffic t1 from vm1.eth0 to wire size=64 count=500 rate=100Kpps\n" +
        "traffic t2 from wire to vm1.eth0 size=64 count=500 rate=100Kpps\n" +
        `inject bad-chain vm1.eth0 tx0 ${variant} at=2ms\nrun\n`,
    );
    balanced(r);
    const g = guest(r);
    assert.equal(g.dev.needsReset, false, "vhost has no NEEDS_RESET: only the queue stops");
    const vqErr = control(r, (e) => e.comp === "vhost-net" && e.details.name === "vq_err");
    assert.equal(vqErr.length, 1);
    assert.equal(vqErr[0]?.details.q, "tx0");
    assert.match(String(vqErr[0]?.details.detail), text);
    assert.ok(g.dev.backend?.deviceRing?.(1)?.broken, "tx0 is stopped");
    const d = drops(r, "t1");
    assert.deepEqual(Object.keys(d).sort(), ["bad_descriptor", "device_not_ready"]);
    // The receive queue never noticed.
    assert.equal(r.lab.metrics.summary("t2").delivered, 500);
  });
}

Deno.test("bad-chain on a packed ring: QEMU finds the broken descriptor there too", async () => {
  for (
    const [variant, text] of [
      ["cycle", /packed descriptor \d+ in the middle of a chain is not available/],
      ["out-of-range", /packed ring offers buffer id 263, queue size is 256/],
    ] as const
  ) {
    const r = await run(
      HOST + vm("vhost=off", ",packed=on") +
        "traffic t1 from vm1.eth0 to wire size=64 count=300 rate=100Kpps\n" +
        `inject bad-chain vm1.eth0 tx0 ${variant} at=1ms\nrun\n`,
    );
    balanced(r);
    const g = guest(r);
    assert.ok(g.dev.needsReset, `${variant}: NEEDS_RESET`);
    const err = control(r, (e) => e.comp === "vm1.eth0" && e.action === "device-error");
    assert.match(String(err[0]?.details.name), text);
  }
});

Deno.test("bad-chain tx0 write-only-tx: QEMU's virtio_error 'header not in first element'; vhost's vq_err stops tx0", async () => {
  const qemu = await run(
    HOST + vm("vhost=off") +
      "traffic t1 from vm1.eth0 to wire size=64 count=300 rate=100Kpps\n" +
      "inject bad-chain vm1.eth0 tx0 write-only-tx at=1ms\nrun\n",
  );
  balanced(qemu);
  assert.ok(guest(qemu).dev.needsReset);
  assert.equal(named(qemu, "virtio-net header not in first element").length, 1);
  const vhost = await run(
    HOST + vm("vhost=on") +
      "traffic t1 from vm1.eth0 to wire size=64 count=300 rate=100Kpps\n" +
      "inject bad-chain vm1.eth0 tx0 write-only-tx at=1ms\nrun\n",
  );
  balanced(vhost);
  assert.equal(guest(vhost).dev.needsReset, false);
  const e = control(vhost, (x) => x.comp === "vhost-net" && x.details.name === "vq_err");
  assert.equal(e[0]?.details.detail, "Unexpected descriptor format for TX: out 0, in 1");
  assert.deepEqual(Object.keys(drops(vhost, "t1")).sort(), ["bad_descriptor", "device_not_ready"]);
});

for (const backend of BACKENDS) {
  Deno.test(`bad-chain tx0 oversize (${backend}): the 65,550-byte frame meets the bridge port's MTU, the device goes on`, async () => {
    const r = await run(
      HOST + vm(backend) +
        "traffic t1 from vm1.eth0 to wire size=64 count=300 rate=100Kpps\n" +
        "inject bad-chain vm1.eth0 tx0 oversize at=1ms\nrun\n",
    );
    balanced(r);
    assert.equal(guest(r).dev.needsReset, false);
    assert.deepEqual(drops(r, "t1"), { mtu_exceeded: 1 });
    const hop = dropHops(r, "t1", "mtu_exceeded")[0];
    assert.equal(hop?.comp, "ens1f0", "is_skb_forwardable at the egress port");
    assert.match(String(hop?.action === "drop" ? hop.details.detail : ""), /^65536 > mtu 1500/);
    assert.equal(r.lab.metrics.summary("t1").delivered, 299);
  });
}

Deno.test("bad-chain rx0 cycle: QEMU's receive path sets NEEDS_RESET; vhost stops rx0; what waits in the tap dies with it", async () => {
  for (
    const [backend, reason] of [["vhost=off", "needs_reset"], [
      "vhost=on",
      "device_not_ready",
    ]] as const
  ) {
    const r = await run(
      HOST + vm(backend) +
        "traffic t2 from wire to vm1.eth0 size=64 count=2000 rate=200Kpps\n" +
        "inject bad-chain vm1.eth0 rx0 cycle at=500us\nrun\n",
    );
    balanced(r);
    const g = guest(r);
    assert.equal(g.dev.needsReset, backend === "vhost=off", backend);
    assert.equal(g.dev.backend?.deviceRing?.(0)?.broken, true, `${backend}: rx0 stopped`);
    const d = drops(r, "t2");
    assert.deepEqual(Object.keys(d), [reason], `${backend}: ${JSON.stringify(d)}`);
    assert.ok(r.lab.metrics.summary("t2").delivered > 0);
  }
});

// -- vhost-user --------------------------------------------------------------------------------

Deno.test("disconnect and reconnect SOCKET: the testpmd back-end goes away and comes back; QEMU's link follows", async () => {
  const r = await run(
    "dpdk-testpmd -l 2-3 --no-pci --vdev net_vhost0,iface=/tmp/vu0 -- -a\n" +
      "qemu-system-x86_64 -name vm1 -enable-kvm -smp 2 -m 1G " +
      "-object memory-backend-file,id=mem0,size=1G,mem-path=/dev/hugepages,share=on " +
      "-numa node,memdev=mem0 -chardev socket,id=char0,path=/tmp/vu0,reconnect=1 " +
      "-netdev vhost-user,id=net0,chardev=char0 " +
      "-device virtio-net-pci,netdev=net0,mac=52:54:00:00:00:01\n" +
      "traffic t1 from vm1.eth0 to vm1.eth0 size=64 count=2000 rate=400Kpps burst=32\n" +
      "inject disconnect /tmp/vu0 at=2ms\ninject reconnect /tmp/vu0 at=2500us\nrun\n",
  );
  balanced(r);
  const notes = named(r, "disconnect /tmp/vu0").concat(named(r, "reconnect /tmp/vu0"));
  assert.deepEqual(notes.map((e) => [e.t, e.details.value]), [
    [2e6, "/tmp/vu0: the back-end is gone (1 connection closed)"],
    [2.5e6, "/tmp/vu0: the back-end listens again"],
  ]);
  assert.ok(r.lab.metrics.summary("t1").delivered > 1000);
  // Once more: nothing is disconnected now.
  await r.session.runText("inject reconnect /tmp/vu0\n", "again.vdpa");
  const last = r.session.diagnostics.items.at(-1);
  assert.equal(last?.code, "E0522");
  assert.match(last?.message ?? "", /was not disconnected/);
});

// -- what cannot be injected -------------------------------------------------------------------

Deno.test("iotlb-invalidate and unmap without an IOMMU in the path are refused at the operand, with the reason", async () => {
  const r = await run(
    HOST + vm("vhost=on") +
      "inject iotlb-invalidate vm1.eth0\ninject unmap vm1 iova=0x1000 size=4096\n",
    "check",
  );
  const e = r.diags.filter((d) => d.code === "E0521");
  assert.equal(e.length, 2);
  assert.match(e[0]?.message ?? "", /`vm1\.eth0` has no IOTLB/);
  assert.match(e[1]?.message ?? "", /no device DMAs into `vm1`'s memory through the host IOMMU/);
  assert.ok(e.every((d) => (d.help ?? []).length > 0));
});

Deno.test("inject errors are located: an unknown interface, a tap's cable, a receive queue with write-only-tx, a missing queue", async () => {
  const r = await run(
    HOST + vm("vhost=on") +
      "inject link-down vm1.eth1\ninject link-down tap0\ninject bad-chain vm1.eth0 rx0 write-only-tx\n" +
      "inject bad-chain vm1.eth0 tx3 cycle\ninject reset br0\ninject disconnect /tmp/none\n",
    "check",
  );
  const got = r.diags.filter((d) => d.severity === "error").map((d) => [
    d.code,
    d.labels[0]?.span.start,
  ]);
  const text = r.session.sources.get("inject.vdpa")?.text ?? "";
  const at = (needle: string) => text.indexOf(needle);
  assert.deepEqual(got, [
    ["E0520", at("vm1.eth1")],
    ["E0521", at("tap0\ninject bad")],
    ["E0521", at("write-only-tx")],
    ["E0520", at("tx3")],
    ["E0521", at("br0\ninject disconnect")],
  ]);
  assert.deepEqual(r.diags.find((d) => d.code === "E0520")?.help, ["did you mean `vm1.eth0`?"]);
  // check mode: the socket is not looked up, and nothing was applied.
  assert.equal(r.lab.controlLog.filter((e) => e.comp === "inject").length, 0);
});

Deno.test("at=TIME fires at that virtual time within the next run; the same script prints the same bytes twice", async () => {
  const script = HOST + vm("vhost=on") +
    "traffic t1 from vm1.eth0 to wire size=64 count=300 rate=100Kpps\n" +
    "inject link-down vm1.eth0 at=1250us\ninject link-up vm1.eth0 at=2ms\nrun\nshow stats\n";
  const a = await run(script);
  const b = await run(script);
  balanced(a);
  assert.equal(a.out, b.out);
  assert.deepEqual(named(a, "set_link").map((e) => [e.t, e.details.value]), [
    [1_250_000, "off"],
    [2_000_000, "on"],
  ]);
  assert.match(a.out, /inject link-down vm1\.eth0: at 1250000 ns/);
});

// -- vDPA and VFIO ------------------------------------------------------------------------------

const VDPA_SIM = "modprobe vdpa\nmodprobe vhost_vdpa\nmodprobe vdpa_sim_net\n" +
  "vdpa dev add name vdpa0 mgmtdev vdpasim_net mac 52:54:00:12:34:56\n" +
  "qemu-system-x86_64 -name vm1 -machine q35,accel=kvm -cpu host -smp 2 -m 4G " +
  "-object memory-backend-memfd,id=mem0,size=4G,share=on -numa node,memdev=mem0 " +
  "-netdev type=vhost-vdpa,vhostdev=/dev/vhost-vdpa-0,id=vdpa0 " +
  "-device virtio-net-pci,netdev=vdpa0,mac=52:54:00:12:34:56,disable-legacy=on\n" +
  "traffic t1 from vm1.eth0 to vm1.eth0 size=64 count=2000 rate=200Kpps burst=32\n";

const MLX5_VF = 'host cmdline "intel_iommu=on iommu=pt"\n' +
  "host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=100Gbps\n" +
  "echo 2 > /sys/class/net/ens1f0/device/sriov_numvfs\n";

const VDPA_MLX5 = MLX5_VF + "modprobe vdpa\nmodprobe vhost_vdpa\nmodprobe mlx5_vdpa\n" +
  "vdpa dev add name vdpa0 mgmtdev pci/0000:3b:00.2 mac 52:54:00:00:00:01\n" +
  "qemu-system-x86_64 -name vm1 -machine q35,accel=kvm -cpu host -smp 2 -m 4G " +
  "-object memory-backend-file,id=mem0,size=4G,mem-path=/dev/hugepages,share=on " +
  "-numa node,memdev=mem0 -netdev type=vhost-vdpa,vhostdev=/dev/vhost-vdpa-0,id=vdpa0 " +
  "-device virtio-net-pci,netdev=vdpa0,mac=52:54:00:00:00:01,page-per-vq=on,disable-legacy=on\n" +
  "traffic t1 from vm1.eth0 to wire size=64 count=2000 rate=200Kpps burst=32\n" +
  "traffic t2 from wire to vm1.eth0 size=64 count=2000 rate=200Kpps\n";

const VFIO_VF = MLX5_VF + "modprobe vfio-pci\n" +
  "echo 0000:3b:00.2 > /sys/bus/pci/drivers/mlx5_core/unbind\n" +
  "echo vfio-pci > /sys/bus/pci/devices/0000:3b:00.2/driver_override\n" +
  "echo 0000:3b:00.2 > /sys/bus/pci/drivers_probe\n" +
  "qemu-system-x86_64 -name vm1 -machine q35,accel=kvm -cpu host -smp 2 -m 4G " +
  "-device vfio-pci,host=0000:3b:00.2\n" +
  "traffic t1 from vm1.eth0 to wire size=64 count=2000 rate=200Kpps burst=32\n" +
  "traffic t2 from wire to vm1.eth0 size=64 count=2000 rate=200Kpps\n";

for (const [name, script] of [["vdpa_sim", VDPA_SIM], ["mlx5 vDPA", VDPA_MLX5]] as const) {
  Deno.test(`reset vm1.eth0 on vhost-vdpa (${name}): QEMU maps guest RAM again after the reset and traffic goes on`, async () => {
    const r = await run(script + "inject reset vm1.eth0 at=3ms\nrun\n");
    balanced(r);
    for (const f of r.lab.traffics) {
      assert.equal(r.lab.metrics.summary(f.name).delivered, 2000, `${f.name} all delivered`);
    }
    // vhost_vdpa_reset_status: the listener unmaps (INVALIDATE), the next start maps again.
    const iotlb = control(
      r,
      (e) => e.t === 3e6 && e.comp === "vhost-vdpa" && e.action.startsWith("iotlb"),
    )
      .map((e) => e.details.name);
    assert.deepEqual(iotlb, ["INVALIDATE", "INVALIDATE", "UPDATE", "UPDATE"]);
  });
}

Deno.test("iotlb-invalidate on vdpa_sim: the TX walk faults (iommu_fault), the unreachable ring loses the queue; no NEEDS_RESET", async () => {
  const r = await run(VDPA_SIM + "inject iotlb-invalidate vm1.eth0 at=3ms\nrun\n");
  balanced(r);
  const g = guest(r);
  assert.equal(g.dev.needsReset, false, "vdpa_sim never sets NEEDS_RESET");
  assert.deepEqual(drops(r, "t1"), { iommu_fault: 1, device_not_ready: 1391 });
  const hop = dropHops(r, "t1", "iommu_fault")[0];
  assert.equal(hop?.comp, "vringh", "vringh's walk is where the packet dies");
  const inv = control(r, (e) => e.action === "iotlb-invalidate" && e.t === 3e6);
  assert.equal(inv.length, 2, "both RAM sections (below and above 4 GiB)");
  assert.equal(r.lab.metrics.summary("t1").delivered, 608, "what went before 3 ms");
});

Deno.test("iotlb-invalidate on mlx5 vDPA: the NIC's DMA faults, the device sets NEEDS_RESET; a sub-range drops the whole map as vhost does", async () => {
  for (const range of ["", " iova=0x1070000 size=64K"]) {
    const r = await run(VDPA_MLX5 + `inject iotlb-invalidate vm1.eth0${range} at=3ms\nrun\n`);
    balanced(r);
    const b = guest(r).dev.backend;
    assert.ok(b instanceof VhostVdpaBackend);
    assert.ok((b.device.getStatus() & 0x40) !== 0, `DEVICE_NEEDS_RESET (${range || "all"})`);
    assert.deepEqual(drops(r, "t1"), { device_not_ready: 1392 });
    assert.deepEqual(drops(r, "t2"), { iommu_fault: 1400 });
  }
});

Deno.test("unmap vm1 with a VFIO VF: DMAR faults in the IOMMU's log, iommu_fault drops, the VF's TX queue lost", async () => {
  const r = await run(VFIO_VF + "inject unmap vm1 at=3ms\nrun\nshow iommu\n");
  balanced(r);
  const faults = r.lab.iommu.faults;
  assert.ok(faults.total >= 2, `${faults.total} faults logged`);
  assert.match(
    r.out,
    /DMAR: \[DMA Write NO_PASID\] Request device \[3b:00\.2\] fault addr 0x[0-9a-f]+ \[fault reason 0x05\] PTE Write access is not set/,
  );
  assert.match(
    r.out,
    /DMAR: \[DMA Read NO_PASID\] Request device \[3b:00\.2\] fault addr 0x[0-9a-f]+ \[fault reason 0x06\] PTE Read access is not set/,
  );
  assert.deepEqual(drops(r, "t2"), { iommu_fault: 1400 });
  assert.deepEqual(drops(r, "t1"), { device_not_ready: 1392 });
  assert.match(
    String(named(r, "unmap vm1")[0]?.details.value),
    /^vm1: 4294967296 bytes unmapped from IOMMU domain \d+ \(the next DMA there is a DMAR fault\)$/,
  );
});

Deno.test("bad-chain on vDPA and VFIO: vdpa_sim skips the head and goes on; hardware sets NEEDS_RESET; an oversize frame meets the uplink's MTU", async () => {
  const sim = await run(VDPA_SIM + "inject bad-chain vm1.eth0 rx0 out-of-range at=3ms\nrun\n");
  balanced(sim);
  assert.deepEqual(drops(sim, "t1"), { bad_descriptor: 1 }, "vringh dropped one frame");
  assert.equal(dropHops(sim, "t1", "bad_descriptor")[0]?.comp, "vringh");
  assert.equal(sim.lab.metrics.summary("t1").delivered, 1999, "the queue carries on");
  const hw = await run(VDPA_MLX5 + "inject bad-chain vm1.eth0 tx0 cycle at=3ms\nrun\n");
  balanced(hw);
  const b = guest(hw).dev.backend;
  assert.ok(b instanceof VhostVdpaBackend && (b.device.getStatus() & 0x40) !== 0, "NEEDS_RESET");
  assert.deepEqual(drops(hw, "t1"), { bad_descriptor: 1, device_not_ready: 1391 });
  for (const script of [VDPA_MLX5, VFIO_VF]) {
    const big = await run(script + "inject bad-chain vm1.eth0 tx0 oversize at=3ms\nrun\n");
    balanced(big);
    assert.deepEqual(drops(big, "t1"), { mtu_exceeded: 1 });
    const hop = dropHops(big, "t1", "mtu_exceeded")[0];
    assert.equal(hop?.action === "drop" ? hop.details.detail : "", "65536 > mtu 1500 of ens1f0");
  }
});

Deno.test("bad-chain on a vhost-user ring: rte_vhost stops dequeuing and tells no one; run reports the packets in flight (E0509)", async () => {
  const r = await run(
    "dpdk-testpmd -l 2-3 --no-pci --vdev net_vhost0,iface=/tmp/vu0 -- -a\n" +
      "qemu-system-x86_64 -name vm1 -enable-kvm -smp 2 -m 1G " +
      "-object memory-backend-file,id=mem0,size=1G,mem-path=/dev/hugepages,share=on " +
      "-numa node,memdev=mem0 -chardev socket,id=char0,path=/tmp/vu0 " +
      "-netdev vhost-user,id=net0,chardev=char0 " +
      "-device virtio-net-pci,netdev=net0,mac=52:54:00:00:00:01\n" +
      "traffic t1 from vm1.eth0 to vm1.eth0 size=64 count=4000 rate=400Kpps burst=32\n" +
      "inject bad-chain vm1.eth0 tx0 cycle at=3ms\nrun\n",
  );
  const s = r.lab.metrics.summary("t1");
  assert.equal(s.delivered + s.dropped + s.in_flight, s.sent);
  assert.equal(s.dropped_by_reason.bad_descriptor, 1);
  assert.ok(s.in_flight > 0, "left in the ring");
  assert.deepEqual(errors(r).map((e) => e.slice(0, 5)), ["E0509"]);
  assert.equal(guest(r).dev.needsReset, false, "QEMU does not know");
});
