import assert from "node:assert/strict";
import fc from "fast-check";
import { describeMemoryFault, describeMemoryLayoutError, type MemoryFault } from "./faults.ts";
import { CHUNK_SIZE, GuestMemory } from "./guest_memory.ts";
import { MemWindow } from "./mem_window.ts";

const GiB = 2 ** 30;

/** Reads lastFault without TypeScript narrowing it from an earlier assertion. */
function faultOf(mem: GuestMemory): MemoryFault | undefined {
  return mem.lastFault;
}

function ram(size = 16 << 20, gpa = 0): GuestMemory {
  const mem = new GuestMemory();
  const r = mem.addRegion({ name: "ram", gpa, size });
  assert.ok(r.ok);
  return mem;
}

Deno.test("GuestMemory allocates nothing for a 64 GiB guest until a byte is written", () => {
  const mem = new GuestMemory();
  assert.ok(mem.addRegion({ name: "pc.ram", gpa: 0, size: 64 * GiB }).ok);
  assert.equal(mem.allocatedBytes, 0);
  assert.equal(mem.getU32(63 * GiB), 0, "untouched memory reads as zero");
  assert.equal(mem.getU8(64 * GiB - 1), 0);
  assert.equal(mem.allocatedBytes, 0, "reads do not allocate");
  assert.ok(mem.setU8(40 * GiB + 5, 0xaa));
  assert.equal(mem.allocatedBytes, CHUNK_SIZE);
  assert.equal(mem.getU8(40 * GiB + 5), 0xaa);
  assert.ok(mem.fill(10 * GiB, 1 << 20, 0), "filling with zero allocates nothing either");
  assert.equal(mem.allocatedBytes, CHUNK_SIZE);
});

Deno.test("GuestMemory stores every width little-endian", async (t) => {
  const mem = ram();
  await t.step("u16, u32 and u64 byte composition", () => {
    mem.setU16(0x100, 0xbeef);
    assert.deepEqual([mem.getU8(0x100), mem.getU8(0x101)], [0xef, 0xbe]);
    mem.setU32(0x200, 0x11223344);
    assert.deepEqual([0, 1, 2, 3].map((i) => mem.getU8(0x200 + i)), [0x44, 0x33, 0x22, 0x11]);
    mem.setU64(0x300, 0x0102030405060708n);
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) => mem.getU8(0x300 + i)),
      [8, 7, 6, 5, 4, 3, 2, 1],
    );
    assert.equal(mem.getU64(0x300), 0x0102030405060708n);
    assert.equal(mem.getU32(0x304), 0x01020304);
  });
  await t.step("u64 keeps values beyond 2^53 exactly", () => {
    mem.setU64(0x400, 0xffff_ffff_ffff_fffen);
    assert.equal(mem.getU64(0x400), 0xffff_ffff_ffff_fffen);
    mem.setU64(0x408, 2 ** 40 + 3);
    assert.equal(mem.getU64(0x408), 2n ** 40n + 3n);
  });
  await t.step("values straddling a chunk boundary", () => {
    const edge = CHUNK_SIZE - 1;
    mem.setU16(edge, 0x1234);
    assert.equal(mem.getU16(edge), 0x1234);
    assert.equal(mem.getU8(edge), 0x34);
    assert.equal(mem.getU8(edge + 1), 0x12);
    mem.setU32(CHUNK_SIZE - 2, 0xa1b2c3d4);
    assert.equal(mem.getU32(CHUNK_SIZE - 2), 0xa1b2c3d4);
    mem.setU64(2 * CHUNK_SIZE - 3, 0x8877665544332211n);
    assert.equal(mem.getU64(2 * CHUNK_SIZE - 3), 0x8877665544332211n);
  });
});

Deno.test("GuestMemory reports accesses outside every region as faults, never exceptions", async (t) => {
  const mem = new GuestMemory();
  mem.addRegion({ name: "low", gpa: 0, size: 0x10000 });
  mem.addRegion({ name: "high", gpa: 0x20000, size: 0x10000 });
  mem.addRegion({ name: "bios", gpa: 0x40000, size: 0x1000, kind: "rom" });
  await t.step("a hole between regions", () => {
    assert.equal(mem.getU32(0x18000), -1);
    assert.deepEqual(mem.lastFault, { kind: "unmapped", gpa: 0x18000, len: 4 });
    assert.equal(mem.setU16(0x18000, 1), false);
    assert.equal(mem.getU64(0x18000), -1n);
  });
  await t.step("an access running off the end of a region", () => {
    assert.equal(mem.getU32(0xfffe), -1);
    assert.equal(mem.lastFault?.kind, "unmapped");
    assert.equal(mem.read(0x2ff00, new Uint8Array(0x200)), false);
  });
  await t.step("addresses that are negative, fractional or beyond 2^53", () => {
    for (const gpa of [-1, 0.5, 2 ** 53, Number.NaN, Infinity]) {
      assert.equal(mem.getU8(gpa), -1, `gpa ${gpa}`);
      assert.equal(mem.lastFault?.kind, "out-of-range");
    }
    assert.equal(mem.check(2 ** 53 - 4, 8), false);
  });
  await t.step("a write to a ROM", () => {
    assert.equal(mem.getU8(0x40000), 0);
    assert.equal(mem.setU8(0x40000, 1), false);
    assert.deepEqual(mem.lastFault, { kind: "read-only", gpa: 0x40000, len: 1, region: "bios" });
    assert.equal(mem.view(0x40000, 4, true), undefined);
    const f = faultOf(mem);
    assert.ok(f);
    assert.match(describeMemoryFault(f), /read-only region bios/);
  });
  await t.step("a failed write leaves memory untouched", () => {
    mem.setU32(0xfff8, 0x01010101);
    assert.equal(mem.write(0xfffc, new Uint8Array(8).fill(9)), false);
    assert.equal(mem.getU32(0xfff8), 0x01010101);
    assert.equal(mem.getU8(0xfffc), 0);
  });
});

Deno.test("GuestMemory lets one access span two adjacent regions", () => {
  const mem = new GuestMemory();
  mem.addRegion({ name: "a", gpa: 0, size: 0x1000 });
  mem.addRegion({ name: "b", gpa: 0x1000, size: 0x1000 });
  assert.ok(mem.setU32(0xffe, 0xcafef00d));
  assert.equal(mem.getU32(0xffe), 0xcafef00d);
  assert.ok(mem.check(0x800, 0x1000));
  assert.equal(mem.check(0x800, 0x1801), false);
});

Deno.test("GuestMemory.addRegion() refuses bad layouts with a reason", () => {
  const mem = ram(0x10000, 0x10000);
  const cases = [
    [{ name: "x", gpa: 0x18000, size: 0x10000 }, "overlap"],
    [{ name: "ram", gpa: 0x80000, size: 0x1000 }, "duplicate-name"],
    [{ name: "y", gpa: 0x80000, size: 0 }, "empty"],
    [{ name: "z", gpa: 2 ** 53 - 0x1000, size: 0x2000 }, "out-of-range"],
    [{ name: "w", gpa: -4096, size: 0x1000 }, "out-of-range"],
  ] as const;
  for (const [opts, kind] of cases) {
    const r = mem.addRegion(opts);
    assert.ok(!r.ok && r.error.kind === kind, `${opts.name}: ${kind}`);
    assert.ok(describeMemoryLayoutError(r.error).includes(opts.name));
  }
  assert.equal(mem.regions().length, 1);
});

Deno.test("GuestMemory copies byte ranges across chunk boundaries", () => {
  const mem = ram();
  const src = Uint8Array.from({ length: 3 * CHUNK_SIZE + 17 }, (_, i) => (i * 7) & 0xff);
  const at = CHUNK_SIZE - 5;
  assert.ok(mem.write(at, src));
  const back = new Uint8Array(src.length);
  assert.ok(mem.read(at, back));
  assert.deepEqual(back, src);
  const part = new Uint8Array(10);
  assert.ok(mem.read(at + 3, part, 2, 5));
  assert.deepEqual(Array.from(part), [0, 0, ...src.subarray(3, 8), 0, 0, 0]);
  assert.ok(mem.copy(at + 1, at, 100), "overlapping copy moves like memmove");
  assert.equal(mem.getU8(at + 1), src[0]);
  assert.equal(mem.getU8(at + 100), src[99]);
});

Deno.test("GuestMemory.view() is zero-copy inside a chunk and declines across chunks", () => {
  const mem = ram();
  const v = mem.view(0x100, 16);
  assert.ok(v);
  v[3] = 0x5a;
  assert.equal(mem.getU8(0x103), 0x5a, "the view aliases guest memory");
  mem.setU8(0x104, 0x6b);
  assert.equal(v[4], 0x6b);
  assert.equal(mem.view(CHUNK_SIZE - 8, 16), undefined);
  assert.equal(mem.lastFault, undefined, "straddling is not a fault");
  assert.equal(mem.view(64 << 20, 4), undefined);
  assert.equal(faultOf(mem)?.kind, "unmapped");
});

Deno.test("GuestMemory.span() gives the backing bytes in place, never across chunks", () => {
  const mem = new GuestMemory();
  assert.ok(mem.addRegion({ name: "ram", gpa: 0, size: 4 * CHUNK_SIZE }).ok);
  assert.ok(mem.addRegion({ name: "rom", gpa: 8 * CHUNK_SIZE, size: CHUNK_SIZE, kind: "rom" }).ok);
  assert.equal(mem.span(0x300, 8), undefined, "never written: nothing to read in place");
  assert.equal(faultOf(mem), undefined);
  assert.equal(mem.allocatedBytes, 0, "a read span allocates nothing");
  const w = mem.span(CHUNK_SIZE + 0x300, 8, true);
  assert.ok(w);
  const o = mem.spanOffset;
  assert.equal(o, 0x300);
  w[o + 7] = 0x5a;
  assert.equal(mem.getU8(CHUNK_SIZE + 0x307), 0x5a, "the span aliases guest memory");
  mem.setU32(CHUNK_SIZE + 0x300, 0x11223344);
  const r = mem.span(CHUNK_SIZE + 0x300, 4);
  assert.equal(r, w, "the same chunk");
  assert.deepEqual([...(r as Uint8Array).subarray(o, o + 4)], [0x44, 0x33, 0x22, 0x11]);
  assert.equal(mem.span(2 * CHUNK_SIZE - 2, 4, true), undefined, "straddles two chunks");
  assert.equal(faultOf(mem), undefined, "straddling is not a fault");
  assert.equal(mem.span(4 * CHUNK_SIZE - 2, 4), undefined);
  assert.equal(faultOf(mem)?.kind, "unmapped", "past the region");
  assert.equal(mem.span(8 * CHUNK_SIZE, 4, true), undefined);
  assert.equal(faultOf(mem)?.kind, "read-only", "a ROM is not written in place");
  mem.spanOffset = -1;
  assert.equal(mem.spanChecked(CHUNK_SIZE + 0x10, 16), w, "checked by the caller");
  assert.equal(mem.spanOffset, 0x10);
});

Deno.test("GuestMemory.removeRegion() drops the bytes and invalidates windows", () => {
  const mem = new GuestMemory();
  mem.addRegion({ name: "a", gpa: 0, size: 0x8000 });
  mem.addRegion({ name: "b", gpa: 0x8000, size: 0x8000 });
  mem.setU32(0x100, 1);
  mem.setU32(0x8100, 2);
  const w = MemWindow.open(mem, 0x8100, 4, false);
  assert.ok(w.ok && w.value.fresh);
  assert.ok(mem.removeRegion("b"));
  assert.equal(w.value.fresh, false);
  assert.equal(mem.getU32(0x8100), -1);
  assert.equal(mem.getU32(0x100), 1, "the neighbour sharing the chunk keeps its bytes");
  mem.addRegion({ name: "b2", gpa: 0x8000, size: 0x8000 });
  assert.equal(mem.getU32(0x8100), 0, "a new region starts zeroed");
  assert.equal(mem.removeRegion("nope"), false);
});

Deno.test("MemWindow falls back to memory accessors when a range straddles chunks", () => {
  const mem = ram();
  const w = MemWindow.open(mem, CHUNK_SIZE - 2, 8, true);
  assert.ok(w.ok);
  w.value.setU32(0, 0xdeadbeef);
  assert.equal(mem.getU32(CHUNK_SIZE - 2), 0xdeadbeef);
  assert.equal(w.value.u16(2), 0xdead);
  const bad = MemWindow.open(mem, 16 << 20, 4, false);
  assert.ok(!bad.ok && bad.error.kind === "unmapped");
});

Deno.test("GuestMemory agrees with a byte-map model under random writes and reads", () => {
  const SIZE = 3 * CHUNK_SIZE;
  const op = fc.oneof(
    fc.record({
      k: fc.constant("w8"),
      a: fc.integer({ min: 0, max: SIZE + 8 }),
      v: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({
      k: fc.constant("w16"),
      a: fc.integer({ min: 0, max: SIZE + 8 }),
      v: fc.integer({ min: 0, max: 0xffff }),
    }),
    fc.record({ k: fc.constant("w32"), a: fc.integer({ min: 0, max: SIZE + 8 }), v: fc.nat() }),
    fc.record({
      k: fc.constant("wb"),
      a: fc.integer({ min: 0, max: SIZE + 8 }),
      v: fc.integer({ min: 0, max: 300 }),
    }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const mem = new GuestMemory();
      mem.addRegion({ name: "r", gpa: 0, size: SIZE });
      const model = new Map<number, number>();
      const put = (a: number, bytes: number[]) => {
        if (a + bytes.length > SIZE) return false;
        bytes.forEach((b, i) => model.set(a + i, b));
        return true;
      };
      for (const o of ops) {
        if (o.k === "w8") assert.equal(mem.setU8(o.a, o.v), put(o.a, [o.v]));
        else if (o.k === "w16") {
          assert.equal(mem.setU16(o.a, o.v), put(o.a, [o.v & 255, o.v >>> 8]));
        } else if (o.k === "w32") {
          const v = o.v >>> 0;
          assert.equal(
            mem.setU32(o.a, v),
            put(o.a, [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24]),
          );
        } else {
          const bytes = Array.from({ length: o.v }, (_, i) => (o.a + i * 31) & 255);
          assert.equal(mem.write(o.a, Uint8Array.from(bytes)), put(o.a, bytes));
        }
      }
      for (const [a, b] of model) assert.equal(mem.getU8(a), b);
      const probe = [0, CHUNK_SIZE - 1, CHUNK_SIZE, SIZE - 4];
      for (const a of probe) {
        const exp = [0, 1, 2, 3].reduce(
          (acc, i) => acc + (model.get(a + i) ?? 0) * 2 ** (8 * i),
          0,
        );
        assert.equal(mem.getU32(a), exp);
      }
    }),
    { numRuns: 150 },
  );
});

Deno.test("GuestMemory finds the right chunk among many that share a lookup slot", () => {
  const mem = new GuestMemory();
  assert.ok(mem.addRegion({ name: "low", gpa: 0, size: 512 * CHUNK_SIZE }).ok);
  assert.ok(mem.addRegion({ name: "high", gpa: 1024 * CHUNK_SIZE, size: 512 * CHUNK_SIZE }).ok);
  // chunk indices 64 apart collide in a 64-slot cache; interleave them and others
  const chunks: number[] = [];
  for (let k = 0; k < 8; k++) for (const base of [0, 1024]) chunks.push(base + 3 + 64 * k);
  for (const [i, c] of chunks.entries()) assert.ok(mem.setU32(c * CHUNK_SIZE + 100, 0x1000 + i));
  for (let round = 0; round < 3; round++) {
    for (const [i, c] of [...chunks.entries()].reverse()) {
      assert.equal(mem.getU32(c * CHUNK_SIZE + 100), 0x1000 + i, `chunk ${c}`);
      assert.equal(mem.getU8(c * CHUNK_SIZE + 99), 0, "never written");
    }
  }
  // a chunk read before it was ever written, then written: the read must not stick
  const fresh = 5 + 64 * 3;
  assert.equal(mem.getU32(fresh * CHUNK_SIZE), 0);
  assert.ok(mem.setU32(fresh * CHUNK_SIZE, 77));
  assert.equal(mem.getU32(3 * CHUNK_SIZE + 100), 0x1000, "another chunk in between");
  assert.equal(mem.getU32(fresh * CHUNK_SIZE), 77);
  // removing a region drops its chunks: what was cached must go with them
  const last = 1024 + 3 + 64 * 7;
  assert.equal(mem.getU32(last * CHUNK_SIZE + 100), 0x1000 + 15, "cached just before");
  assert.equal(mem.getU32(4 * CHUNK_SIZE + 100), 0, "another chunk, in another slot");
  assert.ok(mem.removeRegion("high"));
  assert.ok(mem.addRegion({ name: "high2", gpa: 1024 * CHUNK_SIZE, size: 512 * CHUNK_SIZE }).ok);
  assert.equal(mem.getU32(last * CHUNK_SIZE + 100), 0, "its bytes went with the region");
  for (const [i, c] of chunks.entries()) {
    assert.equal(mem.getU32(c * CHUNK_SIZE + 100), c < 1024 ? 0x1000 + i : 0, `chunk ${c}`);
  }
});
