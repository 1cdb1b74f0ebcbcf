/**
 * The guest memory as a vhost-user back-end maps it from SET_MEM_TABLE (reference §5.6):
 * each region arrives with the fd of its RAM block; the back-end mmaps `mmap_offset + size`
 * bytes of it and then reaches guest bytes two ways:
 *
 * - ring addresses (SET_VRING_ADDR) are front-end virtual addresses: translated with
 *   `userspace_addr` (rte_vhost `qva_to_vva`);
 * - descriptor addresses are guest-physical: translated with `guest_phys_addr`
 *   (rte_vhost `gpa_to_vva`).
 *
 * Both translators end in the pages the fds map ({@link MemFd.mmap}): the guest's own pages
 * with `share=on`, a private copy of the file without it. An address outside every region
 * is a translation fault, never an exception.
 *
 * @example
 * ```ts
 * import { GuestMemory } from "../../memory/guest_memory.ts";
 * import { newTranslateResult, VHOST_ACCESS_RO } from "../../memory/translator.ts";
 * import { BackendMemory } from "./backend_memory.ts";
 * import { MemFd } from "./fd.ts";
 * const mem = new GuestMemory();
 * const r = mem.addRegion({ name: "mem0", gpa: 0, size: 1 << 30, shared: true });
 * if (!r.ok) throw new Error("layout");
 * const fd = new MemFd("mem0", mem, r.value, { shared: true });
 * const bm = BackendMemory.map(
 *   [{ guestPhysAddr: 0, memorySize: 1 << 30, userspaceAddr: 0x7f0000000000, mmapOffset: 0 }],
 *   [fd],
 * );
 * if (!bm.ok) throw new Error("map");
 * const out = newTranslateResult();
 * if (!bm.value.qva.translate(0x7f0000001000, 16, VHOST_ACCESS_RO, out) || out.addr !== 0x1000) {
 *   throw new Error("qva → guest page");
 * }
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../../result.ts";
import { GuestMemory } from "../../memory/guest_memory.ts";
import { MemTable } from "../../memory/mem_table.ts";
import type { Translator } from "../../memory/translator.ts";
import type { VhostUserFd } from "./fd.ts";
import { MemFd } from "./fd.ts";
import type { VhostUserMemoryRegion } from "./protocol.ts";

/** One mapped region (rte_vhost `struct rte_vhost_mem_region`). */
export interface MappedRegion extends VhostUserMemoryRegion {
  /** The file it maps. */
  readonly fd: MemFd;
  /** Where the file bytes of this region start in the mapped pages (a guest-physical address). */
  readonly fileAddr: number;
  /** The back-end's own virtual address of the region (rte_vhost `host_user_addr`). */
  readonly hostUserAddr: number;
}

/** Where the lab's back-ends mmap guest memory (a typical x86-64 mmap area). */
const BACKEND_MMAP_BASE = 0x7fa0_0000_0000;
const HUGE = 2 * 1024 * 1024;

/** Why SET_MEM_TABLE could not be applied. */
export type BackendMemoryError =
  /** rte_vhost `validate_msg_fds`: one fd per region. */
  | { readonly kind: "fd-count"; readonly regions: number; readonly fds: number }
  /** An fd that is not a memory file, or a region beyond the end of its file. */
  | { readonly kind: "mmap-failed"; readonly region: number; readonly why: string }
  /** Zero-sized, overflowing or overlapping regions. */
  | { readonly kind: "bad-table"; readonly why: string };

/** One line per error, in rte_vhost's log words (the only formatter). */
export function describeBackendMemoryError(e: BackendMemoryError): string {
  switch (e.kind) {
    case "fd-count":
      return `expect ${e.regions} FDs for request VHOST_USER_SET_MEM_TABLE, received ${e.fds}`;
    case "mmap-failed":
      return `failed to mmap region ${e.region}: ${e.why}`;
    case "bad-table":
      return `invalid memory table: ${e.why}`;
  }
}

/** The back-end's mapping of guest memory; see the module documentation. */
export class BackendMemory {
  /** The regions, in message order. */
  readonly regions: readonly MappedRegion[];
  /** The pages the back-end reads and writes. */
  readonly view: GuestMemory;
  /** Front-end virtual address → page address in {@link view} (ring addresses). */
  readonly qva: Translator;
  /** Guest-physical address → page address in {@link view} (descriptor addresses). */
  readonly gpa: Translator;
  /** True when every region maps the guest's own pages (`share=on`). */
  readonly shared: boolean;

  private constructor(
    regions: readonly MappedRegion[],
    view: GuestMemory,
    qva: Translator,
    gpa: Translator,
    shared: boolean,
  ) {
    this.regions = regions;
    this.view = view;
    this.qva = qva;
    this.gpa = gpa;
    this.shared = shared;
  }

  /** Maps the regions of a SET_MEM_TABLE with their fds (rte_vhost `vhost_user_set_mem_table`). */
  static map(
    regions: readonly VhostUserMemoryRegion[],
    fds: readonly VhostUserFd[],
  ): Result<BackendMemory, BackendMemoryError> {
    if (fds.length !== regions.length) {
      return err({ kind: "fd-count", regions: regions.length, fds: fds.length });
    }
    const mapped: MappedRegion[] = [];
    for (let i = 0; i < regions.length; i++) {
      const r = regions[i] as VhostUserMemoryRegion;
      const fd = fds[i];
      if (!(fd instanceof MemFd)) {
        return err({ kind: "mmap-failed", region: i, why: "not a memory file" });
      }
      if (r.memorySize === 0) return err({ kind: "bad-table", why: `region ${i} has size 0` });
      if (r.mmapOffset + r.memorySize > fd.region.size) {
        return err({
          kind: "mmap-failed",
          region: i,
          why: `offset 0x${r.mmapOffset.toString(16)} + size 0x${
            r.memorySize.toString(16)
          } is beyond the end of ${fd.name}`,
        });
      }
      // rte_vhost mmaps mmap_offset + size, aligned to the fd's block size.
      const prev = mapped[mapped.length - 1];
      const base = prev === undefined ? BACKEND_MMAP_BASE : prev.hostUserAddr - prev.mmapOffset +
        Math.ceil((prev.mmapOffset + prev.memorySize) / HUGE) * HUGE;
      mapped.push({
        ...r,
        fd,
        fileAddr: fd.region.gpa + r.mmapOffset,
        hostUserAddr: base + r.mmapOffset,
      });
    }
    const views = new Set(mapped.map((m) => m.fd.mmap()));
    const shared = mapped.every((m) => m.fd.shared);
    let view: GuestMemory;
    if (views.size === 1) {
      view = [...views][0] as GuestMemory;
    } else {
      // Regions of different files that do not all share: one private view of every file.
      view = new GuestMemory();
      for (const m of mapped) {
        if (view.findRegion(m.fd.region.gpa) !== undefined) continue;
        view.addRegion({ name: m.fd.name, gpa: m.fd.region.gpa, size: m.fd.region.size });
      }
    }
    // Two tables whose "userspace" side is the page address: GPA → page, QVA → page.
    const byGpa = MemTable.create(
      mapped.map((m) => ({
        guestPhysAddr: m.guestPhysAddr,
        memorySize: m.memorySize,
        userspaceAddr: m.fileAddr,
      })),
      { maxRegions: regions.length },
    );
    if (!byGpa.ok) return err({ kind: "bad-table", why: byGpa.error.kind });
    const byQva = MemTable.create(
      mapped.map((m) => ({
        guestPhysAddr: m.userspaceAddr,
        memorySize: m.memorySize,
        userspaceAddr: m.fileAddr,
      })),
      { maxRegions: regions.length },
    );
    if (!byQva.ok) return err({ kind: "bad-table", why: byQva.error.kind });
    return ok(new BackendMemory(mapped, view, byQva.value.gpaToHva, byGpa.value.gpaToHva, shared));
  }

  /** The back-end virtual address of a mapped page address, or undefined. */
  hostVa(pageAddr: number): number | undefined {
    for (const m of this.regions) {
      if (pageAddr >= m.fileAddr && pageAddr < m.fileAddr + m.memorySize) {
        return m.hostUserAddr + (pageAddr - m.fileAddr);
      }
    }
    return undefined;
  }

  /** The guest-physical address of a mapped page address (for traces), or undefined. */
  guestPhys(pageAddr: number): number | undefined {
    for (const m of this.regions) {
      if (pageAddr >= m.fileAddr && pageAddr < m.fileAddr + m.memorySize) {
        return m.guestPhysAddr + (pageAddr - m.fileAddr);
      }
    }
    return undefined;
  }

  /** True when the table describes the same regions (rte_vhost `vhost_memory_changed`). */
  sameAs(regions: readonly VhostUserMemoryRegion[]): boolean {
    if (regions.length !== this.regions.length) return false;
    return regions.every((r, i) => {
      const m = this.regions[i] as MappedRegion;
      return r.guestPhysAddr === m.guestPhysAddr && r.memorySize === m.memorySize &&
        r.userspaceAddr === m.userspaceAddr;
    });
  }
}
