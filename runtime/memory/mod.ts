/**
 * Guest memory and the address spaces devices reach it through.
 *
 * - {@link GuestMemory}: sparse guest-physical memory (64 KiB chunks allocated on first
 *   write), regions (RAM, ROM, `share=on` memory backends), little-endian accessors, zero-copy
 *   views, faults as values.
 * - {@link MemWindow}: a checked window on a fixed range (ring parts).
 * - {@link MemTable}: the vhost memory table; GPA → HVA and HVA → GPA translators.
 * - {@link Translator} (identity when absent) and {@link composeTranslators}.
 *
 * @example
 * ```ts
 * import { GuestMemory, MemTable, VHOST_ACCESS_RO, newTranslateResult } from "./mod.ts";
 * const mem = new GuestMemory();
 * mem.addRegion({ name: "pc.ram", gpa: 0, size: 2 ** 30, shared: true, backend: "mem0" });
 * const table = MemTable.fromGuestMemory(mem, { hvaBase: 0x7f00_0000_0000 });
 * if (!table.ok) throw new Error("table");
 * const out = newTranslateResult();
 * table.value.gpaToHva.translate(0x1000, 8, VHOST_ACCESS_RO, out);
 * if (out.addr !== 0x7f00_0000_1000) throw new Error("hva");
 * ```
 *
 * @module
 */

export * from "./translator.ts";
export * from "./faults.ts";
export * from "./guest_memory.ts";
export * from "./mem_window.ts";
export * from "./mem_table.ts";
export * from "./compose.ts";
export type { Result } from "../result.ts";
