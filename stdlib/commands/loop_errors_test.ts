/**
 * Executors that check a command and stop at its errors must see this line's errors, not a
 * count of the session's: `Diagnostics` keeps one copy of an identical diagnostic, so the
 * second pass of a `for` loop over a bad line adds nothing to the count. These tests run the
 * bad lines in loops in check mode (which collects every error and goes on) and ask the lab
 * what was created.
 */

import assert from "node:assert/strict";
import { Session } from "../session.ts";
import { testpmdsOf } from "../../runtime/backends/dpdk/testpmd.ts";
import { OvsVswitchd } from "../../runtime/backends/ovs/vswitchd.ts";

async function check(script: string): Promise<{ s: Session; codes: string[] }> {
  const s = new Session({ mode: "check", stdout: () => {} });
  await s.runText(script, "loop.vdpa");
  return { s, codes: s.diagnostics.items.map((d) => d.code) };
}

const TWO_PORTS_ONE_SOCKET =
  "--vdev 'net_vhost0,iface=/tmp/vu0' --vdev 'net_vhost1,iface=/tmp/vu0'";

Deno.test("testpmd with two ports on one socket, three times in a loop: no testpmd starts", async () => {
  const { s, codes } = await check(
    "for i in 0..2 {\n" +
      `  dpdk-testpmd -l 2-3 --no-pci --file-prefix p\${i} ${TWO_PORTS_ONE_SOCKET} -- -a\n` +
      "}\n",
  );
  // One E0230 (the same line, the same span each pass); no start-up error after it.
  assert.deepEqual(codes.filter((c) => c.startsWith("E")), ["E0230"]);
  assert.equal(testpmdsOf(s.lab).length, 0);
});

Deno.test("testpmd in a loop: the passes that check cleanly start, the bad ones do not", async () => {
  // Passes 0 and 2 name net_vhost0 twice (E0228 at the same span and text both times).
  const { s, codes } = await check(
    "for v in net_vhost0 net_vhost1 net_vhost0 net_vhost2 {\n" +
      "  dpdk-testpmd -l 2-3 --no-pci --file-prefix ${v} --vdev ${v},iface=/tmp/a-${v} " +
      "--vdev net_vhost0,iface=/tmp/b-${v} -- -a\n" +
      "}\n",
  );
  assert.deepEqual(codes.filter((c) => c.startsWith("E")), ["E0228"]);
  assert.deepEqual(testpmdsOf(s.lab).map((a) => a.spec.filePrefix), ["net_vhost1", "net_vhost2"]);
});

Deno.test("ovs-vsctl with an unknown column, three times in a loop: no bridge is added", async () => {
  const { s, codes } = await check(
    "ovs-vsctl set Open_vSwitch . other_config:dpdk-init=true\n" +
      "for i in 0..2 {\n" +
      "  ovs-vsctl add-br br${i} -- set bridge br${i} datapath_type=netdev -- set bridge br${i} bogus=1\n" +
      "}\n",
  );
  assert.deepEqual(codes.filter((c) => c.startsWith("E")), ["E0242"]);
  assert.deepEqual(OvsVswitchd.find(s.lab)?.db.bridges().map((b) => b.name) ?? [], []);
});
