/**
 * The famous host mistakes, rendered rustc-style exactly as `vdpa-lab check` prints them:
 * golden text (accept an intended change with `deno test -A -u tests/host_golden_test.ts`).
 */

import { renderDiagnostics } from "../lang/render.ts";
import { Session } from "../stdlib/session.ts";

const MISTAKES: readonly [string, string][] = [
  ["modprobe with the management device's name", "modprobe vdpasim_net\n"],
  ["a swapped letter in vhost_vdpa", "modprobe vhost_vpda\n"],
  [
    "the man page's mgmtdev name",
    "modprobe vhost_vdpa\nmodprobe vdpa_sim_net\nvdpa dev add name vdpa0 mgmtdev vdpa_sim_net\n",
  ],
  [
    "max_vqp on the simulator",
    "modprobe vdpa_sim_net\nvdpa dev add mgmtdev vdpasim_net name x max_vqp 2\n",
  ],
  [
    "driver_override `vhost-vdpa`, then no /dev/vhost-vdpa-0",
    "modprobe vhost_vdpa\nmodprobe vdpa_sim_net\n" +
    "vdpa dev add name vdpa0 mgmtdev vdpasim_net\n" +
    "echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind\n" +
    "echo vhost-vdpa > /sys/bus/vdpa/devices/vdpa0/driver_override\n" +
    "echo vdpa0 > /sys/bus/vdpa/drivers_probe\n" +
    "ls /dev/vhost-vdpa-0\n",
  ],
  ["removing the bus under its users", "modprobe vhost_vdpa\nmodprobe vdpa_sim_net\nrmmod vdpa\n"],
  [
    "a tap on a bridge that does not exist",
    "ip tuntap add dev tap0 mode tap\nip link set dev tap0 master br1 up\n",
  ],
];

Deno.test("famous host mistakes render as check prints them", async (t) => {
  for (const [name, script] of MISTAKES) {
    await t.step(name, async (st) => {
      const s = new Session({ mode: "check", stdout: () => {} });
      await s.runText(script, "lab.vdpa");
      await st.assertSnapshot(renderDiagnostics(s.diagnostics.items, s.sources), {
        serializer: String,
      });
    });
  }
});
