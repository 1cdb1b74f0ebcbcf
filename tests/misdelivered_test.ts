/**
 * A frame that a forwarding element hands to a guest that is not its destination is
 * discarded there (Linux: eth_type_trans marks it PACKET_OTHERHOST, or ip_rcv finds another
 * host's address) and counted as dropped, unless a switch flooded the traffic (then it may be
 * one of the flood's copies, whose fate is not the packet's). Found by the run-mode fuzzer:
 * testpmd's single-port forwarding sent a traffic for another VM back into its source, where
 * it vanished uncounted (E0509).
 */

import assert from "node:assert/strict";
import { runScript } from "../stdlib/testdata/line_session.ts";

const run = (script: string) => runScript(script, "misdelivered.vdpa");

/** vm1 on testpmd's only port (`mode` forwarding), vm2 on OVS-DPDK: no path between them. */
function twoIslands(mode: string): string {
  return "ovs-vsctl set Open_vSwitch . other_config:dpdk-init=true\n" +
    "ovs-vsctl add-br br0 -- set bridge br0 datapath_type=netdev\n" +
    "ovs-vsctl add-port br0 vhu1 -- set Interface vhu1 type=dpdkvhostuserclient " +
    "options:vhost-server-path=/tmp/vhu1\n" +
    "qemu-system-x86_64 -name vm2 -enable-kvm -smp 2 -m 1G " +
    "-object memory-backend-memfd,id=mem0,size=1G,share=on -numa node,memdev=mem0 " +
    "-chardev socket,id=c0,path=/tmp/vhu1,server=on,wait=off " +
    "-netdev vhost-user,id=n0,chardev=c0 -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:02\n" +
    `dpdk-testpmd -l 2-3 --no-pci --vdev 'net_vhost0,iface=/tmp/vu0' -- --forward-mode=${mode} ` +
    "--auto-start\n" +
    "qemu-system-x86_64 -name vm1 -enable-kvm -smp 2 -m 1G " +
    "-object memory-backend-memfd,id=mem0,size=1G,share=on -numa node,memdev=mem0 " +
    "-chardev socket,id=c0,path=/tmp/vu0 -netdev vhost-user,id=n0,chardev=c0 " +
    "-device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01\n";
}

for (const [mode, reason] of [["io", "mac_filter"], ["macswap", "no_route"]] as const) {
  Deno.test(`testpmd ${mode} on one port: a traffic for another VM comes back and is dropped (${reason})`, async () => {
    // io returns the frame unchanged: vm1's stack sees another host's MAC. macswap makes it
    // vm1's own MAC, and vm1's stack finds another host's IP address in it.
    const r = await run(
      twoIslands(mode) + "traffic t1 from vm1.eth0 to vm2.eth0 size=64 count=100\nrun\n" +
        `expect t1.delivered == 0\nexpect t1.dropped.${reason} == 100\n`,
    );
    assert.deepEqual(r.errors, []);
  });
}

Deno.test("a bridge's flood copies that reach other guests are still not counted", async () => {
  // Three guests on one bridge; before the FDB learns vm3, frames to it flood to vm2 too.
  let s = "modprobe tun\nmodprobe bridge\nmodprobe vhost_net\nip link add br0 type bridge\n" +
    "ip link set dev br0 up\n";
  for (let i = 1; i <= 3; i++) {
    s += `ip tuntap add dev tap${i} mode tap vnet_hdr\nip link set dev tap${i} master br0\n` +
      `ip link set dev tap${i} up\nqemu-system-x86_64 -name vm${i} -enable-kvm -smp 2 -m 1G ` +
      `-netdev tap,id=n0,ifname=tap${i},script=no,downscript=no,vhost=on ` +
      `-device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:0${i}\n`;
  }
  const r = await run(
    s + "traffic t1 from vm1.eth0 to vm3.eth0 size=64 count=100\nrun\n" +
      "expect t1.delivered == 100\nexpect t1.dropped == 0\n",
  );
  assert.deepEqual(r.errors, []);
});

Deno.test("a flood's copy reaching a guest that shares the destination's MAC is not counted again", async () => {
  // vm1 on a bridge and the testpmd guest have the same MAC; a ping from the bridge to the
  // testpmd guest is dropped once at the bridge (no_route), not again in vm1's stack.
  const r = await run(
    "modprobe tun\nmodprobe bridge\nip link add br0 type bridge\nip link set dev br0 up\n" +
      "ip tuntap add dev tap0 mode tap\nip link set dev tap0 master br0\nip link set dev tap0 up\n" +
      "qemu-system-x86_64 -name vm1 -enable-kvm -smp 2 -m 1G " +
      "-netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off " +
      "-device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01\n" +
      "dpdk-testpmd -l 2-3 --no-pci --vdev 'net_vhost0,iface=/tmp/vu0' -- --forward-mode=macswap " +
      "--auto-start\n" +
      "qemu-system-x86_64 -name vm2 -enable-kvm -smp 2 -m 1G " +
      "-object memory-backend-memfd,id=mem0,size=1G,share=on -numa node,memdev=mem0 " +
      "-chardev socket,id=c0,path=/tmp/vu0 -netdev vhost-user,id=n0,chardev=c0 " +
      "-device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01\n" +
      "ping br0 vm2.eth0 count=3\nrun\nexpect ping1.dropped == 3\nexpect ping1.dropped.no_route == 3\n",
  );
  assert.deepEqual(r.errors, []);
});
