/**
 * Every example script runs end to end: its full output (the first packet's per-hop trace
 * and the summaries included) is pinned as golden text, its `expect` lines hold, the books
 * of every traffic balance (sent = delivered + dropped, nothing left in flight), every frame
 * arrived byte for byte (no checksum or payload failures, no duplicates), and two runs
 * produce the same output and the same trace, byte for byte.
 *
 * An example that uses a command or netdev type whose engine has not landed yet (the lab
 * answers E0599 or E0405) is registered as ignored, named after what it waits for, and
 * runs as soon as the engine is there.
 */

import assert from "node:assert/strict";
import { Session } from "../stdlib/session.ts";
import { formatEvents } from "../runtime/trace/format.ts";
import { checkConservation } from "../runtime/traffic/flow.ts";

const dir = new URL("../examples/", import.meta.url);

interface Outcome {
  readonly stdout: string;
  readonly status: string;
  readonly session: Session;
  readonly files: Map<string, Uint8Array | string>;
}

async function runExample(name: string, mode: "run" | "check" = "run"): Promise<Outcome> {
  const text = await Deno.readTextFile(new URL(name, dir));
  let stdout = "";
  const files = new Map<string, Uint8Array | string>();
  const session = new Session({
    mode,
    stdout: (t) => (stdout += t),
    readFile: async (p) => ({ text: await Deno.readTextFile(new URL(p, dir)) }),
    writeFile: (path, data) => {
      files.set(path, data);
      return Promise.resolve({ ok: true });
    },
  });
  const r = await session.runText(text, `examples/${name}`);
  return { stdout, status: r.status, session, files };
}

/** What an example waits for, when an engine it needs is not there yet. */
function missingEngine(o: Outcome): string | undefined {
  const d = o.session.diagnostics.items.find((x) => x.code === "E0599" || x.code === "E0405");
  return d?.message;
}

const names = [...Deno.readDirSync(dir)]
  .filter((e) => e.isFile && e.name.endsWith(".vdpa"))
  .map((e) => e.name)
  .sort();

for (const name of names) {
  const probe = await runExample(name, "check");
  const waits = missingEngine(probe);
  Deno.test({
    name: `example ${name} runs, balances its books and is deterministic` +
      (waits ? ` (waits for: ${waits})` : ""),
    ignore: waits !== undefined,
    fn: async (t) => {
      const a = await runExample(name);
      const errors = a.session.diagnostics.items.filter((d) => d.severity === "error");
      assert.deepEqual(
        errors.map((d) => `${d.code} ${d.message}`),
        [],
        "no errors, every expect holds",
      );
      assert.equal(a.status, "ok");
      const lab = a.session.lab;
      assert.ok(lab.traffics.length > 0, "the example sends traffic");
      for (const f of lab.traffics) {
        const m = f.metrics;
        assert.equal(checkConservation(m, { finished: true }), undefined, `${f.name} balances`);
        assert.equal(m.inFlight, 0, `${f.name}: nothing left in flight`);
        assert.equal(m.droppedFor("bad_checksum"), 0, `${f.name}: every checksum verified`);
        assert.equal(m.droppedFor("corrupt_payload"), 0, `${f.name}: every payload byte verified`);
        assert.equal(m.duplicates, 0, `${f.name}: no packet arrived twice`);
        assert.equal(m.delivered + m.dropped, m.sent);
      }
      await t.assertSnapshot(a.stdout, { serializer: String });
      const b = await runExample(name);
      assert.equal(b.stdout, a.stdout, "two runs print the same bytes");
      assert.equal(
        formatEvents(b.session.lab.recorder.events()),
        formatEvents(a.session.lab.recorder.events()),
        "two runs record the same trace",
      );
    },
  });
}
