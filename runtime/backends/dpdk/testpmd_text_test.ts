import assert from "node:assert/strict";
import { fwdConfigSetup } from "./fwd_config.ts";
import { defaultPeerMac } from "./fwd_engine.ts";
import { formatFwdConfig, formatFwdStats, formatNicStats, newPortStats } from "./testpmd_text.ts";

Deno.test("testpmd's texts: start, show port stats, show fwd stats", async (t) => {
  const cfg = fwdConfigSetup({ ports: [0, 1], fwdLcores: [3], rxq: 1, txq: 1, topology: "paired" });
  const ports = [0, 1].map((id) => ({ id, rxq: 1, txq: 1, rxd: 0, txd: 0 }));
  const start = formatFwdConfig("io", cfg, ports, { burst: 32, peerMac: defaultPeerMac });
  assert.match(start, /^io packet forwarding - ports=2 - cores=1 - streams=2/);
  assert.match(
    start,
    /RX P=0\/Q=0 \(socket 0\) -> TX P=1\/Q=0 \(socket 0\) peer=02:00:00:00:00:01/,
  );
  const p0 = {
    ...newPortStats(),
    ipackets: 20000,
    ibytes: 1200000,
    opackets: 19990,
    obytes: 1199400,
  };
  const p1 = {
    ...newPortStats(),
    ipackets: 19990,
    ibytes: 1199400,
    opackets: 20000,
    obytes: 1200000,
  };
  const nic = formatNicStats(0, p0);
  assert.match(nic, /RX-packets: 20000/);
  const fwd = formatFwdStats(
    cfg,
    [{ rxPackets: 20000, txPackets: 19990, fwdDropped: 10 }, {
      rxPackets: 19990,
      txPackets: 20000,
      fwdDropped: 0,
    }],
    new Map([[0, p0], [1, p1]]),
  );
  assert.match(fwd, /TX-dropped: 10/);
  await t.assertSnapshot([start, nic, fwd].join("\n---\n"), { serializer: String });
});
