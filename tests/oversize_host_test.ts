/**
 * A guest's oversize transmit chain (`inject bad-chain … oversize`: the frame, then junk up to
 * 65,550 bytes) written by QEMU to a tap that is in no bridge reaches the host stack, which
 * trims it to the IPv4 total length as ip_rcv does (pskb_trim_rcsum). Found by the run-mode
 * fuzzer: the echo reply buffer overflowed and the run threw a RangeError.
 */

import assert from "node:assert/strict";
import { Session } from "../stdlib/session.ts";

const LAB = "modprobe tun\nip tuntap add dev tap0 mode tap vnet_hdr\nip link set dev tap0 up\n" +
  "qemu-system-x86_64 -name vm1 -enable-kvm -smp 2 -m 1G " +
  "-netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off " +
  "-device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01,packed=on\n";

for (
  const [what, lines] of [
    ["a ping", "ping vm1.eth0 tap0 count=3\nrun\nexpect ping1.delivered == 3\n"],
    [
      "a traffic",
      "traffic t1 from vm1.eth0 to tap0 size=64 count=10\nrun\nexpect t1.delivered == 10\n",
    ],
  ] as const
) {
  Deno.test(`an oversize chain from a guest to the tap's host stack: ${what} is trimmed and answered`, async () => {
    const s = new Session({ mode: "run", stdout: () => {} });
    await s.runText(LAB + "inject bad-chain vm1.eth0 tx0 oversize\n" + lines, "oversize.vdpa");
    const errors = s.diagnostics.items.filter((d) => d.severity === "error");
    assert.deepEqual(errors.map((d) => `${d.code} ${d.message}`), []);
  });
}
