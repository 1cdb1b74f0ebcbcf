/**
 * Runtime edits while traffic runs, as a user pipes a session into the REPL: a link goes down
 * and up again, a NIC's driver is unbound and bound, a VM starts and sends, the vDPA bus and
 * SR-IOV change, a VM is killed — each between `run` slices, taking effect at that virtual
 * time. The golden file holds the counters after every slice and a trace of a packet dropped
 * after the kill; the test checks the books balance after every slice (sent = delivered +
 * dropped + in flight, nothing in flight at the end) and that a second run prints the same
 * bytes. A second session does the same for vDPA and VFIO: a vhost-vdpa VM killed so that its
 * device can move to virtio_vdpa, the host's traffic on it, the device deleted under that
 * traffic, and a VFIO VM killed so that SR-IOV can be turned off.
 */

import assert from "node:assert/strict";
import { pipeRepl, transcriptText } from "./repl_transcript.ts";

/** The piped session: host network edits. */
const SESSION =
  `# Runtime edits while traffic runs: each edit between \`run\` slices takes effect at that
# virtual time; counters and traces show the consequences.
host cpu ghz=3.0 cores=16
host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=25Gbps
modprobe tun; modprobe bridge; modprobe vhost_net
ip link add name br0 type bridge
ip link set dev ens1f0 master br0
ip link set dev br0 up
ip link set dev ens1f0 up
for i in 0..2 {
  ip tuntap add dev tap\${i} mode tap vnet_hdr
  ip link set dev tap\${i} master br0
  ip link set dev tap\${i} up
}
qemu-system-x86_64 -name vm1 -smp 2 -m 1G \\
  -netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=on \\
  -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01
qemu-system-x86_64 -name vm2 -smp 2 -m 1G \\
  -netdev tap,id=n0,ifname=tap1,script=no,downscript=no,vhost=off \\
  -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:02
traffic t1 from vm1.eth0 to vm2.eth0 size=256 count=9000 rate=500Kpps burst=32
traffic t2 from wire to vm1.eth0 size=64 count=6000 rate=500Kpps
run 2ms --trace=full

# 1. link down, then up again, while t1 runs
ip link set dev tap1 down
run 2ms
ip link set dev tap1 up
run 2ms

# 2. the NIC's driver unbound and bound again: ens1f0 goes away and comes back, out of br0
echo 0000:3b:00.0 > /sys/bus/pci/drivers/mlx5_core/unbind
run 1ms
echo 0000:3b:00.0 > /sys/bus/pci/drivers/mlx5_core/bind
ip link show ens1f0 | head -n 1
run 1ms
ip link set dev ens1f0 master br0
ip link set dev ens1f0 up
run 1ms

# 3. a VM starts mid-run and sends at once
qemu-system-x86_64 -name vm3 -smp 1 -m 512M \\
  -netdev tap,id=n0,ifname=tap2,script=no,downscript=no,vhost=on \\
  -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:03
traffic t3 from vm3.eth0 to vm1.eth0 size=128 count=2000 rate=500Kpps
run 2ms

# 4. the vDPA bus and SR-IOV change under the running lab
modprobe vdpa_sim_net; modprobe vhost_vdpa
vdpa dev add name vdpa0 mgmtdev vdpasim_net
echo 2 > /sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs
run 1ms
show topology | grep -E 'vDPA bus|VF'
echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind
ls /dev | grep -c vhost-vdpa
echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/bind
ls /dev | grep vhost-vdpa
vdpa dev del vdpa0
echo 0 > /sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs
run 1ms
show topology | grep -c -E 'vDPA bus|VF'

# 5. kill the receiving VM of t1 (QEMU pid from show topology)
show topology | grep '^vm2:'
kill -9 4107
show log | grep -E 'exit|op=close'
run
show stats
trace t1 packet 7000
show flows
expect t1.in_flight == 0
expect t2.in_flight == 0
expect t3.in_flight == 0
show graph

# 6. the pid is gone now
kill 4107
`;

/** The piped session: vDPA and VFIO edits. */
const VDPA_SESSION =
  `# vDPA edits while traffic runs: a vhost-vdpa VM holds /dev/vhost-vdpa-0, so the device can
# move to virtio_vdpa only once QEMU is gone; then the host's own virtio_net sends on it,
# and the device is deleted under its traffic. A VFIO VM holds its VF the same way.
host cmdline "intel_iommu=on iommu=pt"
host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=100Gbps
modprobe vdpa; modprobe vhost_vdpa; modprobe virtio_vdpa; modprobe vdpa_sim_net; modprobe vfio-pci
vdpa dev add name vdpa0 mgmtdev vdpasim_net mac 52:54:00:12:34:56
echo 2 > /sys/class/net/ens1f0/device/sriov_numvfs
echo 0000:3b:00.2 > /sys/bus/pci/drivers/mlx5_core/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:3b:00.2/driver_override
echo 0000:3b:00.2 > /sys/bus/pci/drivers_probe
qemu-system-x86_64 -name vm1 -machine q35,accel=kvm -smp 2 -m 1G \\
  -object memory-backend-memfd,id=mem0,size=1G,share=on -numa node,memdev=mem0 \\
  -netdev type=vhost-vdpa,vhostdev=/dev/vhost-vdpa-0,id=v0 \\
  -device virtio-net-pci,netdev=v0,mac=52:54:00:12:34:56,disable-legacy=on
qemu-system-x86_64 -name vm2 -machine q35,accel=kvm -smp 2 -m 1G \\
  -device vfio-pci,host=0000:3b:00.2
traffic t1 from vm1.eth0 to vm1.eth0 size=64 count=20000 rate=1Mpps burst=32
traffic t2 from vm2.eth0 to wire size=64 count=20000 rate=1Mpps burst=32
run 2ms --trace=full
show topology | grep -E '^vm|vDPA bus|VF'

# 1. QEMU goes: /dev/vhost-vdpa-0 is closed, and the device can leave vhost_vdpa
kill 4100
echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind
ls /dev | grep -c vhost-vdpa

# 2. the host takes the device: virtio_vdpa, its virtio_net, eth0, traffic on it
echo vdpa0 > /sys/bus/vdpa/drivers/virtio_vdpa/bind
ip link set dev eth0 up
traffic t3 from eth0 to eth0 size=64 count=20000 rate=1Mpps burst=32
run 2ms

# 3. the device is deleted under its traffic
vdpa dev del vdpa0
run 2ms

# 4. the VFIO VM goes; then its VF (and the other) can be disabled
kill -TERM 4107
echo 0 > /sys/class/net/ens1f0/device/sriov_numvfs
run
show stats
trace t3 packet 3000
show log | grep -E 'exit|op=close|vdpa0|virtio0' | grep -v -E 'vring|status|features'
show graph
`;

/** The counters `run` prints for one traffic. */
interface Counts {
  readonly sent: number;
  readonly delivered: number;
  readonly dropped: number;
  readonly inFlight: number;
}

/** Each `run` block: traffic name → counters. */
function runBlocks(stdout: string): Map<string, Counts>[] {
  const blocks: Map<string, Counts>[] = [];
  for (const line of stdout.split("\n")) {
    if (line.startsWith("run: ")) {
      blocks.push(new Map());
      continue;
    }
    const m =
      /^(t\d): .*: sent (\d+), delivered (\d+), dropped (\d+)(?: \([^)]*\))?(?:, in flight (\d+))?/
        .exec(line);
    if (m && blocks.length > 0) {
      (blocks.at(-1) as Map<string, Counts>).set(m[1] as string, {
        sent: Number(m[2]),
        delivered: Number(m[3]),
        dropped: Number(m[4]),
        inFlight: Number(m[5] ?? 0),
      });
    }
  }
  return blocks;
}

/** The drop reasons of traffic `t` in run block `i`. */
function reasons(stdout: string, i: number, t: string): string {
  const blocks = stdout.split(/^run: /m).slice(1);
  const line = (blocks[i] ?? "").split("\n").find((l) => l.startsWith(`${t}: `)) ?? "";
  return /dropped \d+ \(([^)]*)\)/.exec(line)?.[1] ?? "";
}

Deno.test("edits transcript: link, driver, VM and bus edits during traffic", async (t) => {
  const first = await pipeRepl(SESSION);

  await t.step("the session runs to the last line, where the killed pid is gone", () => {
    assert.equal(first.code, 1, first.stderr);
    assert.match(first.stderr, /^error\[E0530\]: kill: \(4107\) - No such process\n/);
    assert.match(first.stderr, /note: processes: 4100 qemu-system-x86_64 \(vm1\), 4114 /);
  });

  const blocks = runBlocks(first.stdout);
  await t.step("the books balance after every slice, and nothing is in flight at the end", () => {
    assert.equal(blocks.length, 10);
    for (const [i, b] of blocks.entries()) {
      for (const [name, c] of b) {
        assert.equal(c.sent, c.delivered + c.dropped + c.inFlight, `run ${i + 1}: ${name}`);
      }
    }
    for (const [name, c] of blocks.at(-1) as Map<string, Counts>) {
      assert.equal(c.inFlight, 0, name);
    }
  });

  await t.step("each edit shows in the counters of the slice after it", () => {
    // Link down: t1's frames to vm2 drop at the bridge; link up: they are delivered again.
    assert.equal(reasons(first.stdout, 0, "t1"), "");
    assert.match(reasons(first.stdout, 1, "t1"), /^link_down \d+$/);
    const delivered = (i: number) => blocks[i]?.get("t1")?.delivered ?? 0;
    assert.ok(delivered(2) > delivered(1) + 900, "t1 flows again after link up");
    // The NIC's driver unbound: the wire's frames find no port; bound again, but out of br0.
    assert.match(reasons(first.stdout, 3, "t2"), /no_route \d+/);
    assert.match(reasons(first.stdout, 4, "t2"), /link_down \d+/);
    // A VM started mid-run delivers its traffic.
    assert.ok((blocks[6]?.get("t3")?.delivered ?? 0) > 0);
    // vm2 killed: what was on its way to it is lost with a reason.
    assert.match(reasons(first.stdout, 9, "t1"), /link_down \d+, device_not_ready \d+/);
    assert.match(first.stdout, /name=exit value="vm2 exited: QEMU pid 4107 got SIGKILL"/);
    assert.match(first.stdout, /name=\/dev\/net\/tun by=qemu:vm2 op=close/);
    assert.match(first.stdout, /packet 7000 of t1: \d+ hops, .*, dropped \(link_down\)\n/);
    assert.match(first.stdout, /br0 +drop +reason=link_down detail="br0 port down: tap1"/);
  });

  await t.step("the topology follows: vm2 is gone, its tap has no carrier", () => {
    assert.doesNotMatch(first.stdout.slice(first.stdout.lastIndexOf("host: ")), /vm2/);
    assert.match(first.stdout, /╎ tap1 tap \(no carrier\) ╎/);
  });

  await t.step("golden stdout and stderr", async () => {
    await t.assertSnapshot(transcriptText(first), { serializer: String });
  });

  await t.step("the same session prints the same bytes again", async () => {
    const second = await pipeRepl(SESSION);
    assert.equal(second.stdout, first.stdout);
    assert.equal(second.stderr, first.stderr);
  });
});

Deno.test("edits transcript: vDPA rebinding and deletion, VFIO and SR-IOV during traffic", async (t) => {
  const first = await pipeRepl(VDPA_SESSION);

  await t.step("the session runs to its end", () => {
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stderr, "");
  });

  const blocks = runBlocks(first.stdout);
  await t.step("the books balance after every slice, and nothing is in flight at the end", () => {
    assert.equal(blocks.length, 4);
    for (const [i, b] of blocks.entries()) {
      for (const [name, c] of b) {
        assert.equal(c.sent, c.delivered + c.dropped + c.inFlight, `run ${i + 1}: ${name}`);
      }
    }
    for (const [name, c] of blocks.at(-1) as Map<string, Counts>) {
      assert.equal(c.inFlight, 0, name);
    }
  });

  await t.step("each edit shows in the counters and the log", () => {
    // vm1 killed: what was in its rings is lost; its fd closes; the device leaves vhost_vdpa.
    assert.match(reasons(first.stdout, 1, "t1"), /^device_not_ready \d+$/);
    assert.match(
      first.stdout,
      /name=\/dev\/vhost-vdpa-0 by=qemu:vm1 op=close\n.*vdpa +bind +name=vdpa0 to=vhost_vdpa op=unbind/,
    );
    assert.match(first.stdout, /\n0\n/, "no /dev/vhost-vdpa-* once unbound");
    // The host's virtio_net on virtio_vdpa delivers; deleting the device loses what it held.
    assert.ok((blocks[1]?.get("t3")?.delivered ?? 0) > 0);
    assert.match(
      reasons(first.stdout, 2, "t3"),
      /link_down \d+, device_not_ready \d+, no_route \d+/,
    );
    assert.match(first.stdout, /packet 3000 of t3: 3 hops, .*dropped \(no_route\)\n/);
    // vm2 killed: its VFIO group closes and SR-IOV can be turned off.
    assert.match(first.stdout, /name=\/dev\/vfio\/1 by=qemu:vm2 op=close/);
    const graph = first.stdout.slice(first.stdout.lastIndexOf("host: "));
    assert.doesNotMatch(graph, /VF|vDPA|vm[12]/);
  });

  await t.step("golden stdout", async () => {
    await t.assertSnapshot(transcriptText(first), { serializer: String });
  });

  await t.step("the same session prints the same bytes again", async () => {
    const second = await pipeRepl(VDPA_SESSION);
    assert.equal(second.stdout, first.stdout);
  });
});
