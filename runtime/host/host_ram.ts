/**
 * Host physical memory behind processes' RAM: where the pages of a QEMU guest's RAM block
 * sit in host physical address space once the kernel has to know — when VFIO type1 or
 * vhost-vdpa in PA mode pins them (pin_user_pages), and when a device DMAs into them after
 * the IOMMU translated its address. Each block is backed by one physically contiguous run
 * (the lab's guests use huge pages or memfd; contiguity keeps IOMMU mappings in large
 * leaves), placed 1 GiB-aligned from 4 GiB up, in the order blocks are first backed.
 *
 * Three views connect the address spaces:
 * - {@link HostRam.hvaToPa}: an owner's virtual addresses → physical (what pinning yields);
 * - {@link HostRam.paToMem}: physical addresses of blocks whose bytes live in one
 *   {@link GuestMemory} → addresses of that memory (where a DMA lands);
 * - {@link HostRam.hvaToMem}: an owner's virtual addresses → that memory (use_va devices).
 *
 * @example
 * ```ts
 * import { HostRam } from "./host_ram.ts";
 * import { GuestMemory } from "../memory/guest_memory.ts";
 * import { newTranslateResult, VHOST_ACCESS_RW } from "../memory/translator.ts";
 * const mem = new GuestMemory();
 * mem.addRegion({ name: "pc.ram", gpa: 0, size: 1 << 30 });
 * const ram = new HostRam();
 * const b = ram.back({ owner: "qemu:vm1", name: "pc.ram", size: 1 << 30, mem, gpa: 0, hva: 0x7f00_0000_0000 });
 * const out = newTranslateResult();
 * if (!ram.hvaToPa("qemu:vm1").translate(0x7f00_0000_1000, 64, VHOST_ACCESS_RW, out)) throw new Error();
 * if (out.addr !== b.hpa + 0x1000) throw new Error("same offset in the block");
 * if (!ram.paToMem(mem).translate(b.hpa + 0x1000, 64, VHOST_ACCESS_RW, out) || out.addr !== 0x1000) throw new Error();
 * ```
 *
 * @module
 */

import type { GuestMemory } from "../memory/guest_memory.ts";
import type { Access, TranslateResult, Translator } from "../memory/translator.ts";

/** A RAM block of a process, backed by host pages. */
export interface RamBlock {
  /** The process (`qemu:vm1`). */
  readonly owner: string;
  /** The block (`pc.ram`, a memory backend id). */
  readonly name: string;
  /** Host physical address of its first byte. */
  readonly hpa: number;
  readonly size: number;
  /** Where its bytes live, and at which address of that memory it starts. */
  readonly mem: GuestMemory;
  readonly gpa: number;
  /** The owner's virtual address of its first byte. */
  readonly hva: number;
}

const GIB = 0x4000_0000;

/** A translator over a list of blocks, keyed by one of their address fields. */
class BlockTranslator implements Translator {
  /** A live list HostRam keeps up to date (no allocation per translation). */
  readonly #blocks: readonly RamBlock[];
  readonly #from: "hva" | "hpa";
  readonly #to: "hpa" | "gpa";

  constructor(blocks: readonly RamBlock[], from: "hva" | "hpa", to: "hpa" | "gpa") {
    this.#blocks = blocks;
    this.#from = from;
    this.#to = to;
  }

  translate(addr: number, len: number, access: Access, out: TranslateResult): boolean {
    out.fault = undefined;
    const blocks = this.#blocks;
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i] as RamBlock;
      const base = b[this.#from];
      if (addr >= base && addr < base + b.size) {
        out.addr = b[this.#to] + (addr - base);
        out.len = Math.min(len, base + b.size - addr);
        return true;
      }
    }
    out.fault = { kind: "unmapped", iova: addr, access };
    return false;
  }
}

/** Host physical memory behind process RAM. */
export class HostRam {
  readonly #blocks: RamBlock[] = [];
  readonly #byOwner = new Map<string, RamBlock[]>();
  readonly #byMem = new Map<GuestMemory, RamBlock[]>();
  #next = 4 * GIB;

  #list<K>(map: Map<K, RamBlock[]>, key: K): RamBlock[] {
    let l = map.get(key);
    if (l === undefined) {
      l = [];
      map.set(key, l);
    }
    return l;
  }

  /** Every backed block, in backing order. */
  get blocks(): readonly RamBlock[] {
    return this.#blocks;
  }

  /**
   * Backs a block with host pages (first pin or first touch); backing the same (owner,
   * name) again returns the existing block.
   */
  back(o: {
    readonly owner: string;
    readonly name: string;
    readonly size: number;
    readonly mem: GuestMemory;
    readonly gpa: number;
    readonly hva: number;
    /** A physical range {@link reserve} set aside (default: the next free one). */
    readonly hpa?: number;
  }): RamBlock {
    const known = this.#blocks.find((b) => b.owner === o.owner && b.name === o.name);
    if (known !== undefined) return known;
    const hpa = o.hpa ?? this.reserve(o.size);
    const b: RamBlock = {
      owner: o.owner,
      name: o.name,
      size: o.size,
      mem: o.mem,
      gpa: o.gpa,
      hva: o.hva,
      hpa,
    };
    this.#blocks.push(b);
    this.#list(this.#byOwner, o.owner).push(b);
    this.#list(this.#byMem, o.mem).push(b);
    return b;
  }

  /** Sets aside a physical range of `size` bytes (1 GiB-aligned) and returns its start. */
  reserve(size: number): number {
    const hpa = this.#next;
    this.#next += Math.ceil(size / GIB) * GIB;
    return hpa;
  }

  /** The owner exited: its pages go back (their physical range is not reused). */
  release(owner: string): void {
    for (let i = this.#blocks.length - 1; i >= 0; i--) {
      const b = this.#blocks[i] as RamBlock;
      if (b.owner !== owner) continue;
      this.#blocks.splice(i, 1);
      const byMem = this.#list(this.#byMem, b.mem);
      byMem.splice(byMem.indexOf(b), 1);
    }
    this.#list(this.#byOwner, owner).length = 0;
  }

  /** An owner's virtual addresses → host physical (pin_user_pages). */
  hvaToPa(owner: string): Translator {
    return new BlockTranslator(this.#list(this.#byOwner, owner), "hva", "hpa");
  }

  /** Host physical addresses of blocks in `mem` → addresses of `mem` (where a DMA lands). */
  paToMem(mem: GuestMemory): Translator {
    return new BlockTranslator(this.#list(this.#byMem, mem), "hpa", "gpa");
  }

  /** An owner's virtual addresses → addresses of its memory (a use_va device's view). */
  hvaToMem(owner: string): Translator {
    return new BlockTranslator(this.#list(this.#byOwner, owner), "hva", "gpa");
  }
}
