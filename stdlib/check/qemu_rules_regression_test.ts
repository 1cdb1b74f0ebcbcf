// Regressions found by the language fuzzer (tests/fuzz_lang_test.ts) in the cross-option
// rules of a QEMU command line.
import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Diagnostics } from "../../lang/diagnostic.ts";
import { resolveQemu } from "../qemu_config.ts";
import { Session } from "../session.ts";
import { testQemu } from "./test_commands.ts";

const Q = "qemu-system-x86_64";

function check(line: string): Diagnostics {
  const diags = new Diagnostics();
  resolveQemu(testQemu(line), diags);
  return diags;
}

Deno.test("checkQemuRules regression: more vCPUs than the machine supports is E0238 with QEMU's text", async () => {
  // Before the rule, `-smp 4294967296` started a VM with four billion vCPU contexts: the
  // checking session ran out of memory.
  const line = `${Q} -smp 4294967296 -m 1G`;
  const d = check(line).items.find((x) => x.code === "E0238");
  assert(d, "E0238 expected");
  assert(
    d.notes.some((n) =>
      /^QEMU says: Invalid SMP CPUs 4294967296\. The max CPUs supported by machine '.+' is \d+$/
        .test(n)
    ),
    d.notes.join("; "),
  );
  const s = new Session({ mode: "check", stdout: () => {} });
  const r = await s.runText(`${line}\n`, "lab.vdpa");
  assertEquals(r.status, "failed");
});

Deno.test("checkQemuRules regression: each machine type has QEMU's vCPU limit", () => {
  const cases: [string, number][] = [
    ["q35", 4096],
    ["pc-q35-8.2", 1024],
    ["pc-q35-8.1", 1024],
    ["pc-q35-8.0", 288],
    ["pc-q35-6.2", 288],
    ["pc", 255],
    ["pc-i440fx-9.0", 255],
    ["microvm", 288],
    ["isapc", 1],
    ["none", 1],
  ];
  for (const [machine, max] of cases) {
    const ok = check(`${Q} -M ${machine} -smp ${max} -m 1G`);
    assertEquals(ok.items.filter((d) => d.code === "E0238").map((d) => d.message), [], machine);
    const over = check(`${Q} -M ${machine} -smp ${max + 1} -m 1G`);
    const d = over.items.find((x) => x.code === "E0238");
    assert(d, `${machine}: ${max + 1} vCPUs must be refused`);
    assert(d.notes.some((n) => n.endsWith(`is ${max}`)), d.notes.join("; "));
  }
});

Deno.test("checkQemuRules regression: maxcpus counts against the limit too (hot-pluggable vCPUs)", () => {
  const d = check(`${Q} -M pc -smp 2,maxcpus=300 -m 1G`).items.find((x) => x.code === "E0238");
  assert(d?.notes.some((n) => n.includes("Invalid SMP CPUs 300")), JSON.stringify(d));
});
