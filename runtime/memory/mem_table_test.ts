import assert from "node:assert/strict";
import { composeTranslators } from "./compose.ts";
import { GuestMemory } from "./guest_memory.ts";
import { describeMemTableError, MemTable, VHOST_MAX_MEM_REGIONS } from "./mem_table.ts";
import {
  IDENTITY,
  newTranslateResult,
  type Translator,
  VHOST_ACCESS_RO,
  VHOST_ACCESS_WO,
} from "./translator.ts";

const out = newTranslateResult();

// QEMU's typical x86 layout: RAM below 3 GiB and above 4 GiB, mapped from one HVA block.
function pcTable(): MemTable {
  const t = MemTable.create([
    { guestPhysAddr: 0, memorySize: 0xc000_0000, userspaceAddr: 0x7f00_0000_0000 },
    { guestPhysAddr: 0x1_0000_0000, memorySize: 0x4000_0000, userspaceAddr: 0x7f00_c000_0000 },
  ]);
  assert.ok(t.ok);
  return t.value;
}

Deno.test("MemTable translates GPAs to HVAs region by region", () => {
  const t = pcTable();
  assert.ok(t.gpaToHva.translate(0x1000, 0x100, VHOST_ACCESS_RO, out));
  assert.equal(out.addr, 0x7f00_0000_1000);
  assert.equal(out.len, 0x100);
  assert.ok(t.gpaToHva.translate(0x1_0000_2000, 8, VHOST_ACCESS_WO, out));
  assert.equal(out.addr, 0x7f00_c000_2000);
});

Deno.test("MemTable clips a translation at the end of its region", () => {
  const t = pcTable();
  assert.ok(t.gpaToHva.translate(0xbfff_fff0, 0x100, VHOST_ACCESS_RO, out));
  assert.equal(out.len, 0x10, "the caller loops for the rest (and faults in the PCI hole)");
  assert.equal(t.gpaToHva.translate(0xc000_0000, 1, VHOST_ACCESS_RO, out), false);
  assert.deepEqual(out.fault, { kind: "unmapped", iova: 0xc000_0000, access: VHOST_ACCESS_RO });
});

Deno.test("MemTable translates HVAs back to GPAs", () => {
  const t = pcTable();
  assert.ok(t.hvaToGpa.translate(0x7f00_c000_0010, 4, VHOST_ACCESS_RO, out));
  assert.equal(out.addr, 0x1_0000_0010);
  assert.equal(t.hvaToGpa.translate(0x7f00_0000_0000 - 1, 1, VHOST_ACCESS_RO, out), false);
});

Deno.test("MemTable.gpaToGuestMemory() is the identity inside the table and a fault outside", () => {
  const t = pcTable();
  assert.ok(t.gpaToGuestMemory.translate(0x1234, 16, VHOST_ACCESS_RO, out));
  assert.equal(out.addr, 0x1234);
  assert.equal(t.gpaToGuestMemory.translate(0xd000_0000, 16, VHOST_ACCESS_RO, out), false);
  assert.equal(out.fault?.kind, "unmapped");
});

Deno.test("MemTable.create() refuses tables vhost refuses", () => {
  const r = (i: number) => ({
    guestPhysAddr: i * 0x1000,
    memorySize: 0x1000,
    userspaceAddr: 0x10_0000 + i * 0x1000,
  });
  const tooMany = MemTable.create(
    Array.from({ length: VHOST_MAX_MEM_REGIONS + 1 }, (_, i) => r(i)),
  );
  assert.ok(!tooMany.ok && tooMany.error.kind === "too-many-regions");
  assert.equal(
    describeMemTableError(tooMany.error),
    "memory table has 65 regions, the limit is 64",
  );
  const empty = MemTable.create([{ guestPhysAddr: 0, memorySize: 0, userspaceAddr: 0 }]);
  assert.ok(!empty.ok && empty.error.kind === "empty-region");
  const gpaOverlap = MemTable.create([r(0), { ...r(1), guestPhysAddr: 0x800 }]);
  assert.ok(
    !gpaOverlap.ok && gpaOverlap.error.kind === "region-overlap" &&
      gpaOverlap.error.space === "gpa",
  );
  const hvaOverlap = MemTable.create([r(0), { ...r(1), userspaceAddr: 0x10_0800 }]);
  assert.ok(
    !hvaOverlap.ok && hvaOverlap.error.kind === "region-overlap" &&
      hvaOverlap.error.space === "hva",
  );
  const overflow = MemTable.create([{
    guestPhysAddr: 2 ** 53 - 0x100,
    memorySize: 0x1000,
    userspaceAddr: 0,
  }]);
  assert.ok(!overflow.ok && overflow.error.kind === "region-overflow");
  assert.ok(MemTable.create(Array.from({ length: 64 }, (_, i) => r(i))).ok);
});

Deno.test("MemTable.fromGuestMemory() lists RAM regions and skips ROMs", () => {
  const mem = new GuestMemory();
  mem.addRegion({ name: "pc.ram", gpa: 0, size: 0x8000_0000 });
  mem.addRegion({ name: "pc.bios", gpa: 0xfffc_0000, size: 0x4_0000, kind: "rom" });
  mem.addRegion({
    name: "mem1",
    gpa: 0x1_0000_0000,
    size: 0x10_0000,
    shared: true,
    backend: "mem1",
  });
  const t = MemTable.fromGuestMemory(mem, { hvaBase: 0x7000_0000_0000 });
  assert.ok(t.ok);
  assert.deepEqual(t.value.regions().map((r) => [r.guestPhysAddr, r.userspaceAddr]), [
    [0, 0x7000_0000_0000],
    [0x1_0000_0000, 0x7000_8000_0000],
  ]);
});

Deno.test("composeTranslators() passes faults of either step through", () => {
  const t = pcTable();
  // An IOMMU-like first step that maps IOVA 0x10_0000 → GPA 0x1_0000_0000.
  const iommu: Translator = {
    translate(addr, len, access, o) {
      if (addr < 0x10_0000 || addr >= 0x20_0000) {
        o.fault = { kind: "unmapped", iova: addr, access };
        return false;
      }
      o.addr = addr - 0x10_0000 + 0x1_0000_0000;
      o.len = Math.min(len, 0x20_0000 - addr);
      o.fault = undefined;
      return true;
    },
  };
  const both = composeTranslators(iommu, t.gpaToHva);
  assert.ok(both.translate(0x10_0010, 64, VHOST_ACCESS_RO, out));
  assert.equal(out.addr, 0x7f00_c000_0010);
  assert.equal(both.translate(0x5000, 64, VHOST_ACCESS_RO, out), false);
  assert.deepEqual(out.fault, { kind: "unmapped", iova: 0x5000, access: VHOST_ACCESS_RO });
  const broken = composeTranslators(IDENTITY, t.gpaToHva);
  assert.equal(broken.translate(0xd000_0000, 4, VHOST_ACCESS_RO, out), false);
  assert.equal(out.fault?.kind, "unmapped");
});
