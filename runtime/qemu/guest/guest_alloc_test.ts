import assert from "node:assert/strict";
import { GuestMemory } from "../../memory/guest_memory.ts";
import { GUEST_ALLOC_BASE, GuestAlloc } from "./guest_alloc.ts";

Deno.test("GuestAlloc aligns, skips the PCI hole into RAM above 4 GiB, and reports exhaustion", () => {
  const mem = new GuestMemory();
  mem.addRegion({ name: "low", gpa: 0, size: GUEST_ALLOC_BASE + 0x3000 });
  mem.addRegion({ name: "high", gpa: 2 ** 32, size: 0x2000 });
  const a = new GuestAlloc(mem);
  const x = a.alloc(100, 64);
  assert.ok(x.ok && x.value === GUEST_ALLOC_BASE);
  const y = a.alloc(16, 4096);
  assert.ok(y.ok && y.value === GUEST_ALLOC_BASE + 0x1000, "aligned up");
  const z = a.alloc(0x2000, 4096);
  assert.ok(z.ok && z.value === 2 ** 32, "does not fit below: the next RAM region");
  const w = a.alloc(16);
  assert.ok(!w.ok);
  assert.match(w.error, /exhausted/);
});
