import assert from "node:assert/strict";
import { Session } from "../stdlib/session.ts";

const SETUP = `modprobe vdpa
modprobe vhost_vdpa
modprobe vdpa_sim_net
vdpa dev add name vdpa0 mgmtdev vdpasim_net mac 52:54:00:12:34:56
qemu-system-x86_64 -name vm1 -m 1G -netdev vhost-vdpa,vhostdev=/dev/vhost-vdpa-0,id=n0 \\
  -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56
traffic big_64 from vm1.eth0 to vm1.eth0 size=64 count=50 rate=1Mpps
traffic big_1500 from vm1.eth0 to vm1.eth0 size=1500 count=50 rate=1Mpps
traffic lat_64 from vm1.eth0 to vm1.eth0 size=64 count=10 rate=10Kpps
run > /dev/null
`;

Deno.test("show stats PATTERN prints a table of the traffic whose names match", async () => {
  const out: string[] = [];
  const s = new Session({ stdout: (t) => out.push(t) });
  const r = await s.runText(`${SETUP}show stats 'big_*'\n`, "a.vdpa");
  assert.equal(r.status, "ok", JSON.stringify(s.diagnostics.items.map((d) => d.message)));
  const table = out.join("");
  const rows = table.split("\n").filter((l) => /^(big|lat)_/.test(l)).map((l) => l.split(" ")[0]);
  assert.deepEqual(rows, ["big_64", "big_1500"]);
  assert.match(table, /p50 us +p99 us/);
});

Deno.test("show stats PATTERN that matches nothing is E0508 listing the traffic", async () => {
  const s = new Session({ stdout: () => {} });
  const r = await s.runText(`${SETUP}show stats 'tput_*'\n`, "a.vdpa");
  assert.equal(r.status, "failed");
  const d = s.diagnostics.items.find((x) => x.code === "E0508");
  assert.ok(d);
  assert.match(d.notes.join("\n"), /big_64, big_1500, lat_64/);
});
