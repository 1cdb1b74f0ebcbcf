import assert from "node:assert/strict";
import { DataqCounters, RxDataqCounters } from "./vdpa_sim_net.ts";

Deno.test("DataqCounters: a work run's packets and bytes add up and read back as u64 bigints", () => {
  const tx = new DataqCounters();
  tx.add(5, 5 * 72);
  tx.add(0, 0);
  tx.add(3, 3 * 1526);
  assert.equal(tx.packets, 8n);
  assert.equal(tx.bytes, BigInt(5 * 72 + 3 * 1526));
  // the bigint view stays writable, as the plain fields were
  tx.packets += 2n;
  tx.errors++;
  assert.deepEqual([tx.packets, tx.errors, tx.drops], [10n, 1n, 0n]);
  const rx = new RxDataqCounters();
  rx.overruns++;
  rx.add(2, 120);
  assert.deepEqual([rx.packets, rx.bytes, rx.overruns], [2n, 120n, 1n]);
});
