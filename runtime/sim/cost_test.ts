import assert from "node:assert/strict";
import {
  applyCostOverrides,
  copyNs,
  COST_KEYS,
  type CostEntry,
  type CostKey,
  type CostOverrideError,
  type CostProfile,
  describeCostOverrideError,
  parseCostOverrides,
  parseCostOverridesJson,
  resolveCosts,
  scaleForGhz,
} from "./cost.ts";

/** A small profile: every key 100 ns; vmexit_light cycle-bound; memcpy 10 + 0.1·n. */
function profile(): CostProfile {
  const entries = {} as Record<CostKey, CostEntry>;
  for (const k of COST_KEYS) {
    entries[k] = { ns: 100, cycles: false, charge: "cpu", basis: `test ${k}` };
  }
  entries.vmexit_light = { ns: 700, cycles: true, charge: "cpu", basis: "test" };
  entries.memcpy = { ns: 10, perByteNs: 0.1, cycles: true, charge: "cpu", basis: "test" };
  entries.wire_latency = { ns: 250, cycles: false, charge: "delay", basis: "test" };
  return { name: "test", referenceGhz: 3.0, entries };
}

function errorsOf(input: unknown): CostOverrideError[] {
  const r = parseCostOverrides(input, profile());
  if (r.ok) throw new Error("expected errors");
  return r.error;
}

Deno.test("COST_KEYS has no duplicates and covers every §4 event kind", () => {
  assert.deepEqual(new Set(COST_KEYS).size, COST_KEYS.length);
  for (const k of ["vmexit_light", "memcpy", "vhost_requeue_after_weight", "iotlb_miss_hw"]) {
    assert((COST_KEYS as readonly string[]).includes(k), k);
  }
});

Deno.test("scaleForGhz() scales cycle-bound entries only, not per-byte parts", () => {
  const p = scaleForGhz(profile(), 1.5);
  assert.deepEqual(p.referenceGhz, 1.5);
  assert.deepEqual(p.entries.vmexit_light.ns, 1400);
  assert.deepEqual(p.entries.memcpy.ns, 20);
  assert.deepEqual(p.entries.memcpy.perByteNs, 0.1);
  assert.deepEqual(p.entries.syscall.ns, 100); // not cycle-bound in this test profile
  assert.throws(() => scaleForGhz(profile(), 0), RangeError);
  assert.throws(() => scaleForGhz(profile(), Number.POSITIVE_INFINITY), RangeError);
});

Deno.test("resolveCosts() gives the flat table and copyNs() is a + b·n", () => {
  const c = resolveCosts(profile(), { ghz: 6.0 });
  assert.deepEqual(c.ghz, 6.0);
  assert.deepEqual(c.ns.vmexit_light, 350);
  assert.deepEqual(c.charge.wire_latency, "delay");
  assert.deepEqual(copyNs(c, 0), 5);
  assert.deepEqual(copyNs(c, 1000), 105);
  assert.deepEqual(c.of("memcpy", 1000), 105);
  assert.deepEqual(c.of("syscall"), 100);
  assert(Object.isFrozen(c.ns));
  const same = resolveCosts(profile());
  assert.deepEqual(same.ghz, 3.0);
  assert.deepEqual(same.ns.vmexit_light, 700);
});

Deno.test("parseCostOverrides() accepts numbers and entry objects", () => {
  const r = parseCostOverrides(
    { syscall: 400, memcpy: { ns: 8, per_byte_ns: 0.05 }, vmexit_light: { cycles: false } },
    profile(),
  );
  assert(r.ok);
  assert.deepEqual(r.value, {
    syscall: { ns: 400 },
    memcpy: { ns: 8, perByteNs: 0.05 },
    vmexit_light: { cycles: false },
  });
  const p = applyCostOverrides(profile(), r.value, { origin: "lab.json" });
  assert.deepEqual(p.entries.syscall.ns, 400);
  assert.deepEqual(p.entries.memcpy.perByteNs, 0.05);
  assert.deepEqual(p.entries.vmexit_light.cycles, false);
  assert.deepEqual(p.entries.vmexit_light.ns, 700);
  assert(p.entries.syscall.basis.startsWith("lab.json (was: test syscall"));
  assert.deepEqual(p.entries.context_switch, profile().entries.context_switch);
  // Pinned (cycles: false) entries no longer scale with the clock.
  assert.deepEqual(resolveCosts(p, { ghz: 1.5 }).ns.vmexit_light, 700);
});

Deno.test("parseCostOverrides() names an unknown key and suggests the closest one", () => {
  const [e] = errorsOf({ vmexit_lite: 500 });
  assert.deepEqual(e, { kind: "unknown-key", path: "vmexit_lite", suggestion: "vmexit_light" });
  assert.deepEqual(
    describeCostOverrideError(e as CostOverrideError),
    "unknown cost key `vmexit_lite`; did you mean `vmexit_light`?",
  );
  assert.deepEqual(errorsOf({ frobnicate: 1 }), [
    { kind: "unknown-key", path: "frobnicate", suggestion: undefined },
  ]);
});

Deno.test("parseCostOverrides() reports every bad field with its dotted path", () => {
  const errors = errorsOf({
    syscall: "fast",
    memcpy: { ns: -1, per_bytes_ns: 0.1, cycles: "yes" },
    context_switch: [1],
    tap_read_kernel: Number.NaN,
    vmexit_light: 1e13,
    sycsall: 3,
  });
  assert.deepEqual(errors.map((e) => "path" in e ? e.path : ""), [
    "syscall",
    "memcpy.ns",
    "memcpy.per_bytes_ns",
    "memcpy.cycles",
    "context_switch",
    "tap_read_kernel",
    "vmexit_light",
    "sycsall",
  ]);
  assert.deepEqual(errors.map(describeCostOverrideError), [
    '`syscall` must be a number or an object, got a string ("fast")',
    "`memcpy.ns` = -1 is out of range [0, 1000000000000]",
    "unknown cost key `memcpy.per_bytes_ns`; did you mean `per_byte_ns`?",
    '`memcpy.cycles` must be true or false, got a string ("yes")',
    "`context_switch` must be a number or an object, got an array",
    "`tap_read_kernel` must be a number of nanoseconds, got NaN",
    "`vmexit_light` = 10000000000000 is out of range [0, 1000000000000]",
    "unknown cost key `sycsall`; did you mean `syscall`?",
  ]);
});

Deno.test("parseCostOverrides() refuses a non-object and inherited keys", () => {
  assert.deepEqual(errorsOf([1, 2]), [{ kind: "not-an-object", path: "", got: "an array" }]);
  assert.deepEqual(errorsOf(null), [{ kind: "not-an-object", path: "", got: "null" }]);
  assert.deepEqual(errorsOf(JSON.parse('{"toString": 1}'))[0]?.kind, "unknown-key");
  assert.deepEqual(errorsOf(JSON.parse('{"__proto__": 1}'))[0]?.kind, "unknown-key");
});

Deno.test("parseCostOverridesJson() reports broken JSON as a value", () => {
  const r = parseCostOverridesJson('{"syscall": 400,', profile());
  assert(!r.ok);
  assert.deepEqual(r.error[0]?.kind, "invalid-json");
  assert(
    describeCostOverrideError(r.error[0] as CostOverrideError).startsWith(
      "cost profile is not valid JSON:",
    ),
  );
  const good = parseCostOverridesJson('{"syscall": 400}', profile());
  assert(good.ok);
});
