/**
 * `-netdev tap,fd=h` / `fds=x:y` / `vhostfd(s)=` and `-netdev vhost-vdpa,vhostfd=h` (VVV §7.1,
 * RS §5): QEMU inherits files a management tool opened. The lab plays libvirt: it creates the
 * tap as the next free `vnetN` (IFF_VNET_HDR, one queue per fd, up, in no bridge), opens
 * /dev/vhost-net for vhost, and says so in a W0402 warning. QEMU's own rules on these options
 * stay errors.
 */

import assert from "node:assert/strict";
import type { Diagnostic } from "../lang/diagnostic.ts";
import { Session } from "../stdlib/session.ts";

async function lab(
  text: string,
): Promise<{ s: Session; diags: readonly Diagnostic[]; out: string }> {
  let out = "";
  const s = new Session({ mode: "run", stdout: (t) => (out += t) });
  await s.runText(text, "fds.vdpa");
  return { s, diags: s.diagnostics.items, out };
}

const codes = (d: readonly Diagnostic[]) => d.map((x) => x.code);

Deno.test("fd=3 with vhostfd=4: the lab opens vnet0 and vhost-net for QEMU, and says so", async () => {
  const { s, diags } = await lab(`modprobe tun
modprobe vhost_net
qemu-system-x86_64 -name a -m 1G -netdev tap,id=n0,fd=3,vhost=on,vhostfd=4 -device virtio-net-pci,netdev=n0
`);
  assert.deepEqual(codes(diags), ["W0402"]);
  const w = diags[0] as Diagnostic;
  assert.equal(w.labels[0]?.message, "`vnet0`");
  assert.deepEqual(w.notes, [
    "opened /dev/net/tun as `vnet0` (IFF_TAP | IFF_VNET_HDR, up, in no bridge) for fd 3; and /dev/vhost-net for vhostfd 4",
  ]);
  const tap = s.lab.host.net.get("vnet0");
  assert.ok(tap !== undefined && tap.kind === "tap");
  assert.equal(s.lab.host.net.operstate(tap) !== "down", true, "libvirt brings the tap up");
  assert.equal(tap.master, undefined, "in no bridge");
  assert.equal(tap.multiQueue, false);
});

Deno.test("fds=3:5 opens one multi-queue tap with two queues; vhost-net runs both pairs", async () => {
  const { s, diags, out } = await lab(`modprobe tun
modprobe vhost_net
qemu-system-x86_64 -name b -m 1G -netdev tap,id=n0,fds=3:5,vhostfds=4:6 -device virtio-net-pci,netdev=n0,mq=on
show vhost b.eth0
`);
  assert.deepEqual(codes(diags), ["W0402"]);
  assert.match(
    diags[0]?.notes[0] ?? "",
    /IFF_MULTI_QUEUE, up, in no bridge\) for fds 3, 5; and \/dev\/vhost-net for vhostfds 4, 6/,
  );
  const tap = s.lab.host.net.get("vnet0");
  assert.ok(tap !== undefined && tap.kind === "tap" && tap.multiQueue);
  assert.match(out, /netdev n0: tap vnet0 vhost=on \(vhost-net, 2 queue pairs\)/);
});

Deno.test("the next free vnetN is taken, around taps that exist", async () => {
  const { diags } = await lab(`modprobe tun
ip tuntap add dev vnet0 mode tap
qemu-system-x86_64 -name a -m 1G -netdev tap,id=n0,fd=3 -device virtio-net-pci,netdev=n0
qemu-system-x86_64 -name b -m 1G -netdev tap,id=n0,fd=3 -device virtio-net-pci,netdev=n0
`);
  assert.deepEqual(diags.map((d) => d.labels[0]?.message), ["`vnet1`", "`vnet2`"]);
});

Deno.test("frames from the guest reach the inherited tap", async () => {
  const { diags } = await lab(`modprobe tun
modprobe vhost_net
qemu-system-x86_64 -name a -m 1G -netdev tap,id=n0,fd=3,vhost=on,vhostfd=4 -device virtio-net-pci,netdev=n0
traffic t1 from a.eth0 to vnet0 size=64 count=100 rate=1Mpps
run
expect t1.delivered == 100
`);
  assert.deepEqual(codes(diags), ["W0402"]);
});

Deno.test("QEMU's rules on inherited fds stay errors", async (t) => {
  const cases: [string, string, string][] = [
    [
      "fds=3:5,vhostfds=4",
      "E0235",
      "QEMU says: The number of fds passed does not match the number of vhostfds passed",
    ],
    ["fds=3:5,vhostfd=4", "E0235", "QEMU says: helper= and vhostfd= are invalid with fds="],
    [
      "fd=3,ifname=tap0",
      "E0235",
      "QEMU says: ifname=, script=, downscript=, vnet_hdr=, helper=, queues=, fds=, and vhostfds= are invalid with fd=",
    ],
  ];
  for (const [props, code, note] of cases) {
    await t.step(props, async () => {
      const { diags } = await lab(
        `modprobe tun\nqemu-system-x86_64 -name a -m 1G -netdev tap,id=n0,${props} -device virtio-net-pci,netdev=n0\n`,
      );
      assert.deepEqual(codes(diags), [code]);
      assert.deepEqual(diags[0]?.notes, [note]);
    });
  }
});

Deno.test("vhost-vdpa vhostfd=3: the lab opens QEMU's default /dev/vhost-vdpa-0 and says so", async () => {
  const { diags } = await lab(`modprobe vdpa_sim_net
modprobe vhost_vdpa
vdpa dev add name vdpa0 mgmtdev vdpasim_net
qemu-system-x86_64 -name a -m 2G -netdev vhost-vdpa,id=vdpa0,vhostfd=3,queues=1,x-svq=off -device virtio-net-pci,netdev=vdpa0
`);
  assert.deepEqual(codes(diags), ["W0402"]);
  assert.equal(diags[0]?.labels[0]?.message, "`/dev/vhost-vdpa-0`");
  // without the device there is nothing to open: the same error as QEMU opening it itself
  const none = await lab(
    "qemu-system-x86_64 -name a -m 2G -netdev vhost-vdpa,id=vdpa0,vhostfd=3 -device virtio-net-pci,netdev=vdpa0\n",
  );
  assert.deepEqual(codes(none.diags), ["E0410"]);
});
