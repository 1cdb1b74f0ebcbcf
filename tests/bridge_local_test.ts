/**
 * A Linux bridge's local addresses and its dead ends, found by the run-mode fuzzer
 * (tests/fuzz_run_test.ts): every packet is delivered or dropped with a reason, never left
 * "in flight" after the run. The bridge's address and each port's own are local FDB entries
 * (br_handle_frame_finish → br_pass_frame_up); what the host sends from a port's address goes
 * down through the bridge; a destination behind no host netdev cannot be reached by flooding.
 */

import assert from "node:assert/strict";
import { runScript } from "../stdlib/testdata/line_session.ts";

const run = (script: string) => runScript(script, "bridge.vdpa");

/** Bridge `br0` with taps tap0 and tap1; guest vm1 on tap0 (QEMU), vm2 on tap1 (vhost-net). */
const TWO_GUESTS = "modprobe tun\nmodprobe bridge\nmodprobe vhost_net\n" +
  "ip link add br0 type bridge\nip link set dev br0 up\n" +
  "ip tuntap add dev tap0 mode tap\nip link set dev tap0 master br0\nip link set dev tap0 up\n" +
  "ip tuntap add dev tap1 mode tap vnet_hdr\nip link set dev tap1 master br0\n" +
  "ip link set dev tap1 up\n" +
  "qemu-system-x86_64 -name vm1 -enable-kvm -smp 2 -m 1G " +
  "-netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off " +
  "-device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01\n" +
  "qemu-system-x86_64 -name vm2 -enable-kvm -smp 2 -m 1G " +
  "-netdev tap,id=n0,ifname=tap1,script=no,downscript=no,vhost=on " +
  "-device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:02\n";

Deno.test("a guest pings a bridge port's address: the host answers through the bridge", async () => {
  // The request is for tap0's MAC: the bridge passes it up; the reply goes back via the
  // bridge to vm2's port, not out of tap0 into vm1 (which would discard it).
  const r = await run(
    TWO_GUESTS + "ping vm2.eth0 tap0 count=3\nrun\nexpect ping1.delivered == 3\n",
  );
  assert.deepEqual(r.errors, []);
  assert.match(r.stdout, /3 packets transmitted, 3 received, 0% packet loss/);
});

Deno.test("the host sends from a bridge port's address to a guest on another port", async () => {
  const r = await run(
    TWO_GUESTS + "traffic t1 from tap0 to vm2.eth0 size=64 count=100\n" +
      "traffic t2 from tap1 to vm1.eth0 size=64 count=100\nrun\n" +
      "expect t1.delivered == 100\nexpect t2.delivered == 100\n",
  );
  assert.deepEqual(r.errors, []);
});

Deno.test("a bridged guest's traffic to a vDPA guest is dropped at the bridge, no_route", async () => {
  // The vDPA guest is behind no host netdev: the flood reaches the wire and the other taps,
  // never it. Before, the copy sent to the wire was lost uncounted (E0509).
  const r = await run(
    "host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=25Gbps\n" + TWO_GUESTS +
      "ip link set dev ens1f0 master br0\nip link set dev ens1f0 up\n" +
      "modprobe vdpa_sim_net\nmodprobe vhost_vdpa\n" +
      "vdpa dev add name vdpa0 mgmtdev vdpasim_net mac 52:54:00:00:00:05\n" +
      "qemu-system-x86_64 -name vm3 -enable-kvm -smp 2 -m 1G " +
      "-object memory-backend-memfd,id=mem0,size=1G,share=on -numa node,memdev=mem0 " +
      "-netdev vhost-vdpa,vhostdev=/dev/vhost-vdpa-0,id=n0 " +
      "-device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:05,disable-legacy=on\n" +
      "traffic t1 from vm2.eth0 to vm3.eth0 size=64 count=50\nrun\n" +
      "expect t1.dropped == 50\nexpect t1.dropped.no_route == 50\n",
  );
  assert.deepEqual(r.errors, []);
});
