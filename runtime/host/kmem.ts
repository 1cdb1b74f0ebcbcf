/**
 * The host kernel's own memory for DMA (the pages `dma_alloc_coherent` and `kmalloc` give a
 * driver): one physically contiguous block, backed in {@link HostRam} under the owner
 * `kernel`, whose bytes live in a {@link GuestMemory} placed at its physical address — so an
 * address in that memory *is* the physical (and, without an IOMMU translation, the DMA)
 * address. A host driver (virtio_net over virtio_vdpa) allocates its rings and buffers here
 * with a bump allocator; nothing is freed (the lab's runs are short).
 *
 * @example
 * ```ts
 * import { HostRam } from "./host_ram.ts";
 * import { KernelMem } from "./kmem.ts";
 * const ram = new HostRam();
 * const k = new KernelMem(ram, 16 << 20);
 * const a = k.alloc(4096, 4096);
 * if (a === undefined || a % 4096 !== 0 || k.mem.view(a, 64) === undefined) throw new Error();
 * if (ram.blocks[0]?.hpa !== k.base) throw new Error("backed at its own physical address");
 * ```
 *
 * @module
 */

import { GuestMemory } from "../memory/guest_memory.ts";
import type { HostRam } from "./host_ram.ts";

/** Default size of the kernel's DMA block (chunks are materialised on first touch). */
export const KMEM_SIZE = 256 << 20;

/** The kernel's DMA-able memory; see the module documentation. */
export class KernelMem {
  /** The bytes, addressed by physical address. */
  readonly mem = new GuestMemory();
  /** Physical address of the first byte. */
  readonly base: number;
  readonly size: number;
  #next: number;

  constructor(ram: HostRam, size = KMEM_SIZE) {
    this.base = ram.reserve(size);
    this.size = size;
    this.mem.addRegion({ name: "kmem", gpa: this.base, size });
    ram.back({
      owner: "kernel",
      name: "kmem",
      size,
      mem: this.mem,
      gpa: this.base,
      // the direct map's 0xffff888… addresses exceed 2^53: the lab keys it by physical address
      hva: this.base,
      hpa: this.base,
    });
    this.#next = this.base;
  }

  /** `size` bytes aligned to `align`; undefined when the block is exhausted. */
  alloc(size: number, align = 64): number | undefined {
    const at = Math.ceil(this.#next / align) * align;
    if (at + size > this.base + this.size) return undefined;
    this.#next = at + size;
    return at;
  }

  /** Bytes handed out so far. */
  get used(): number {
    return this.#next - this.base;
  }
}
