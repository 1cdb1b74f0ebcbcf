/**
 * The guest kernel's memory for its drivers: rings and packet buffers come from guest RAM,
 * handed out by a bump allocator above the first 16 MiB (where the kernel image and its early
 * allocations would sit). Nothing is ever freed: drivers allocate their rings and buffer
 * pools once at probe time and recycle buffers themselves, as Linux's page pools do.
 *
 * @example
 * ```ts
 * import { GuestMemory } from "../../memory/guest_memory.ts";
 * import { GuestAlloc } from "./guest_alloc.ts";
 * const mem = new GuestMemory();
 * mem.addRegion({ name: "pc.ram", gpa: 0, size: 64 << 20 });
 * const a = new GuestAlloc(mem);
 * const ring = a.alloc(4096, 4096);
 * if (!ring.ok || ring.value !== 0x1000000) throw new Error("first page above 16 MiB");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../../result.ts";
import type { GuestMemory } from "../../memory/guest_memory.ts";

/** Where the allocator starts (16 MiB). */
export const GUEST_ALLOC_BASE = 0x1000000;

/** Hands out guest-physical memory for driver rings and buffers. */
export class GuestAlloc {
  readonly #mem: GuestMemory;
  #next = GUEST_ALLOC_BASE;

  constructor(mem: GuestMemory) {
    this.#mem = mem;
  }

  /** Bytes handed out so far. */
  get used(): number {
    return this.#next - GUEST_ALLOC_BASE;
  }

  /**
   * `size` bytes aligned to `align` (a power of 2), inside one RAM region; an error when RAM
   * is exhausted (the guest would fail the probe with -ENOMEM).
   */
  alloc(size: number, align = 64): Result<number, string> {
    let at = Math.ceil(this.#next / align) * align;
    for (;;) {
      const r = this.#mem.findRegion(at);
      if (r === undefined) {
        // Skip to the next region (the PCI hole below 4 GiB).
        const next = this.#mem.regions().find((x) => x.gpa > at && x.kind === "ram");
        if (next === undefined) return err(`guest RAM exhausted allocating ${size} bytes`);
        at = Math.ceil(next.gpa / align) * align;
        continue;
      }
      if (at + size <= r.end) break;
      const next = this.#mem.regions().find((x) => x.gpa >= r.end && x.kind === "ram");
      if (next === undefined) return err(`guest RAM exhausted allocating ${size} bytes`);
      at = Math.ceil(next.gpa / align) * align;
    }
    this.#next = at + size;
    return ok(at);
  }
}
