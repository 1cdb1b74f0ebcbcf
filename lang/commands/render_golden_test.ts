/**
 * Golden renders: how the command parsers' diagnostics look to a user, through lang/render.ts.
 * Update with `deno test -A -u lang/commands/render_golden_test.ts` and review the diff.
 */

import { Diagnostics } from "../diagnostic.ts";
import { renderDiagnostics } from "../render.ts";
import { SourceMap } from "../span.ts";
import { parseCommand } from "./mod.ts";
import { testStatements } from "./test_words.ts";

const SCRIPTS: Readonly<Record<string, string>> = {
  "vdpa unknown option with the real text": "vdpa dev add name vdpa0 mgmtdev vdpasim_net mt 1500\n",
  "vdpa vstats argument count": "vdpa dev vstats show vdpa0 qidx\n",
  "vdpa missing mgmtdev and name": "vdpa dev add mac 00:11:22:33:44:55\n",
  "ip garbage device name with a secondary label": "ip link set tap0 master br0 upp\n",
  "two tuntap modes": "ip tuntap add tap0 mode tap mode tun\n",
  "echo descriptor redirection": "echo 4>/sys/class/net/ens1f0/device/sriov_numvfs\n",
  "sudo does not reach the redirection":
    "sudo echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/bind\n",
  "echo redirected twice": "echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/bind > /tmp/x\n",
  "qemu line over several lines":
    "qemu-system-x86_64 -m 2G \\\n  -chardev socket,id=c0,path=/tmp/s,server,nowait \\\n" +
    "  -netdv vhost-user,id=n0,chardev=c0 \\\n  -vnc :0\n",
  "qemu help query and JSON": `qemu-system-x86_64 -device help -netdev '{"type":"tap"}'\n`,
  "testpmd app option before --": "dpdk-testpmd -l 0-1 --vdev 'net_vhost0,iface=/tmp/s' -i\n",
  "ovs unknown command and table": "ovs-vsctl addbr br0 -- set Interfaces p0 type=dpdk\n",
  "lab statement key typo and duplicate":
    "traffic t1 from vm1.eth0 to wire sise=64\ntraffic t2 from a to b size=64 size=128\n",
  "expect with a single =": "expect t1.delivered = 100000\n",
  "quantity of the wrong kind": "run 10\nhost nic ens1f0 speed=100G\n",
  "unknown command": "vdap dev show\nsudo run\n",
};

Deno.test("rendered command diagnostics", async (t) => {
  for (const [name, text] of Object.entries(SCRIPTS)) {
    await t.step(name, async (t) => {
      const sources = new SourceMap();
      sources.add("lab.vdpa", text);
      const diags = new Diagnostics();
      for (const words of testStatements(text, "lab.vdpa")) parseCommand(words, diags);
      await t.assertSnapshot(renderDiagnostics(diags.items, sources), { serializer: String });
    });
  }
});
