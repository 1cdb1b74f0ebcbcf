/**
 * Mergeable receive buffers when the guest falls behind: a jumbo frame needs several 1536-byte
 * buffers, and a device that finds too few never hands the guest part of a frame. QEMU's
 * virtio-net checks `virtio_net_has_buffers` and keeps the frame queued until the guest's
 * refill kick; what cannot wait is dropped before the device (the tap's queue), with the books
 * balanced and every delivered byte verified.
 */

import assert from "node:assert/strict";
import { Session } from "../stdlib/session.ts";
import { checkConservation } from "../runtime/traffic/flow.ts";

/** Two guests on one bridge, jumbo MTU everywhere; vm1's NIC has no guest TSO (mergeable). */
function script(vhost: "on" | "off"): string {
  let s = "modprobe tun\nmodprobe bridge\nmodprobe vhost_net\n" +
    "ip link add name br0 type bridge\nip link set dev br0 mtu 9000\nip link set dev br0 up\n";
  for (const tap of ["tap0", "tap1"]) {
    s += `ip tuntap add dev ${tap} mode tap vnet_hdr\nip link set dev ${tap} mtu 9000\n` +
      `ip link set dev ${tap} master br0\nip link set dev ${tap} up\n`;
  }
  const nic = (vm: string, tap: string, mac: string) =>
    `qemu-system-x86_64 -name ${vm} -enable-kvm -smp 2 -m 1G ` +
    `-netdev tap,id=n0,ifname=${tap},script=no,vhost=${vhost} ` +
    `-device virtio-net-pci,netdev=n0,host_mtu=9000,mac=${mac},` +
    "guest_tso4=off,guest_tso6=off,guest_ecn=off,guest_ufo=off\n";
  return s + nic("vm1", "tap0", "52:54:00:00:00:01") + nic("vm2", "tap1", "52:54:00:00:00:02") +
    // vm1's stack is slow: its receive ring runs short while frames keep coming.
    "set cost guest_rx_per_packet=20us\n" +
    "traffic t1 from vm2.eth0 to vm1.eth0 size=9000 count=3000 rate=2Mpps burst=64\nrun\n";
}

for (
  const [vhost, who, where] of [
    ["off", "QEMU userspace", "waits in QEMU (virtio_net_has_buffers)"],
    ["on", "vhost-net", "stays in the tap's socket (vhost_discard_vq_desc)"],
  ] as const
) {
  Deno.test(`${who}: a jumbo frame that finds too few buffers ${where}, never arrives cut`, async () => {
    const s = new Session({ stdout: () => {} });
    await s.runText(script(vhost), "mrg.vdpa");
    assert.deepEqual(
      s.diagnostics.items.filter((d) => d.severity === "error").map((d) => d.message),
      [],
    );
    const f = s.lab.traffics.find((x) => x.name === "t1");
    assert.ok(f !== undefined);
    const m = f.metrics;
    assert.equal(checkConservation(m, { finished: true }), undefined, "sent = delivered + dropped");
    assert.equal(m.droppedFor("corrupt_payload"), 0, "no frame reached the guest truncated");
    assert.equal(m.droppedFor("no_rx_buffer"), 0, "the frame waited for the refill");
    assert.ok(m.droppedFor("queue_full") > 0, "the guest was the bottleneck: the tap overflowed");
    assert.ok(m.delivered > 1000, `${m.delivered} delivered`);
    assert.equal(s.lab.vm("vm1")?.guestNics[0]?.mergeable, true);
  });
}
