// Regressions found by the language fuzzer (tests/fuzz_lang_test.ts), replayed on the
// resolver and through a checking session.
import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Diagnostics } from "../lang/diagnostic.ts";
import { testQemu } from "./check/test_commands.ts";
import { resolveQemu } from "./qemu_config.ts";
import { Session } from "./session.ts";

const Q = "qemu-system-x86_64";

for (const name of ["e}", "ubuntu-22.04", "vm 1", "", "vm1.eth0", "日本"]) {
  Deno.test(`resolveQemu regression: a guest name the lab cannot use is E0241, not a crash (${JSON.stringify(name)})`, async () => {
    const line = `${Q} -name guest=${JSON.stringify(name)} -m 1G`;
    const diags = new Diagnostics();
    assertEquals(resolveQemu(testQemu(line), diags), undefined);
    const d = diags.items.find((x) => x.code === "E0241");
    assert(d, diags.items.map((x) => `${x.code} ${x.message}`).join("; "));
    const at = d.labels[0]?.span;
    assert(at !== undefined && line.slice(at.start, at.end).includes(name));
    // Before the check, the VM's CPU context threw a TypeError out of `check`.
    const s = new Session({ mode: "check", stdout: () => {} });
    const r = await s.runText(`${line}\n`, "lab.vdpa");
    assertEquals(r.status, "failed");
    assert(r.diagnostics.some((x) => x.code === "E0241"));
  });
}

Deno.test("resolveQemu regression: guest names of letters, digits, `_` and `-` still resolve", () => {
  for (const name of ["vm1", "web_server-2", "VM"]) {
    const diags = new Diagnostics();
    const config = resolveQemu(testQemu(`${Q} -name ${name} -m 1G`), diags);
    assertEquals(config?.name?.value, name);
    assertEquals(diags.items.filter((d) => d.severity === "error"), []);
  }
});

Deno.test("resolveQemu regression: an error already reported for the same words still refuses the command", () => {
  // A `for` loop runs one statement several times into one collector, which keeps identical
  // diagnostics once: counting errors before and after saw no new error the second time, and
  // the second iteration got a configuration (here a VM with 67,296 vCPUs: out of memory).
  const line = `${Q} -smp k,modules=67296 -m 1G`;
  const cmd = testQemu(line);
  const diags = new Diagnostics();
  assertEquals(resolveQemu(cmd, diags), undefined);
  const reported = diags.length;
  assertEquals(resolveQemu(cmd, diags), undefined);
  assertEquals(diags.length, reported, "the same diagnostics, kept once");
});

Deno.test("resolveQemu regression: a loop over a bad QEMU line checks without starting a VM", async () => {
  const s = new Session({ mode: "check", stdout: () => {} });
  const r = await s.runText(`for j in 1..6 {\n  ${Q} -smp k,modules=67296\n}\n`, "lab.vdpa");
  assertEquals(r.status, "failed");
  assertEquals(s.lab.vms.length, 0);
});
