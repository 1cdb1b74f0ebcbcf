/**
 * Shared by the split and packed device queues: translating ring parts, indirect tables and
 * buffers from device-visible addresses to guest memory, turning every failure into an
 * {@link AccessCause}. Private to runtime/virtio.
 *
 * @module
 */

import type { MemoryFault } from "../memory/faults.ts";
import type { GuestMemory } from "../memory/guest_memory.ts";
import { MemWindow } from "../memory/mem_window.ts";
import {
  type Access,
  IDENTITY,
  newTranslateResult,
  type TranslateFault,
  type TranslateResult,
  type Translator,
  VHOST_ACCESS_RO,
  VHOST_ACCESS_WO,
} from "../memory/translator.ts";
import type { Chain } from "./chain.ts";
import type { AccessCause, QueueFault, RingPart } from "./queue_fault.ts";

function translateFault(tr: TranslateResult, addr: number, access: Access): TranslateFault {
  return tr.fault ?? { kind: "unmapped", iova: addr, access };
}

function memoryFault(mem: GuestMemory, gpa: number, len: number): MemoryFault {
  return mem.lastFault ?? { kind: "unmapped", gpa, len };
}

/**
 * Most memory segments one chain may map to: QEMU pops into VIRTQUEUE_MAX_SIZE (1024) iovecs
 * ("virtio: too many write descriptors in indirect table"), vhost into UIO_MAXIOV (1024). A
 * buffer mapped page by page through an IOMMU splits into one segment per page, so without
 * the limit a guest could make one pop build a million segments.
 */
export const MAX_CHAIN_SEGMENTS = 1024;

/** Translates device addresses into guest memory for one queue. */
export class Mapper {
  readonly mem: GuestMemory;
  #translator: Translator;
  #ringTranslator: Translator;
  #identity: boolean;
  #tr: TranslateResult = newTranslateResult();
  /** True when buffers are not translated (no IOMMU, no memory table). */
  get identity(): boolean {
    return this.#identity;
  }

  /** Guest-physical address found by the last successful {@link mapTable}. */
  tableGpa = 0;

  constructor(
    mem: GuestMemory,
    translator: Translator | undefined,
    ringTranslator: Translator | undefined,
  ) {
    this.mem = mem;
    this.#translator = translator ?? IDENTITY;
    this.#ringTranslator = ringTranslator ?? this.#translator;
    this.#identity = this.#translator === IDENTITY;
  }

  /** Maps a ring part; it must be one contiguous mapping (QEMU: "Cannot map desc"). */
  mapPart(part: RingPart, addr: number, len: number, write: boolean): MemWindow | QueueFault {
    const tr = this.#tr;
    const access = write ? VHOST_ACCESS_WO : VHOST_ACCESS_RO;
    if (!this.#ringTranslator.translate(addr, len, access, tr)) {
      return {
        kind: "ring-unmapped",
        part,
        addr,
        len,
        cause: { via: "translate", fault: translateFault(tr, addr, access) },
      };
    }
    if (tr.len < len) {
      return {
        kind: "ring-unmapped",
        part,
        addr,
        len,
        cause: { via: "discontiguous", mapped: tr.len },
      };
    }
    const w = MemWindow.open(this.mem, tr.addr, len, write);
    if (!w.ok) {
      return { kind: "ring-unmapped", part, addr, len, cause: { via: "memory", fault: w.error } };
    }
    return w.value;
  }

  /**
   * Maps an indirect table (one contiguous mapping, QEMU "Cannot map indirect buffer");
   * sets {@link tableGpa} and returns undefined, or returns why it failed.
   */
  mapTable(addr: number, len: number): AccessCause | undefined {
    const tr = this.#tr;
    if (this.#identity) {
      tr.addr = addr;
      tr.len = len;
    } else if (!this.#translator.translate(addr, len, VHOST_ACCESS_RO, tr)) {
      return { via: "translate", fault: translateFault(tr, addr, VHOST_ACCESS_RO) };
    }
    if (tr.len < len) return { via: "discontiguous", mapped: tr.len };
    if (!this.mem.check(tr.addr, len)) {
      return { via: "memory", fault: memoryFault(this.mem, tr.addr, len) };
    }
    this.tableGpa = tr.addr;
    return undefined;
  }

  /** Maps a buffer into chain segments (split where the translation is); why it failed, if it did. */
  mapBuffer(chain: Chain, addr: number, len: number, write: boolean): AccessCause | undefined {
    const mem = this.mem;
    if (this.#identity) {
      if (!mem.check(addr, len, write)) {
        return { via: "memory", fault: memoryFault(mem, addr, len) };
      }
      if (chain.count >= MAX_CHAIN_SEGMENTS) return { via: "segments", max: MAX_CHAIN_SEGMENTS };
      chain.push(addr, len, write);
      return undefined;
    }
    const tr = this.#tr;
    const access = write ? VHOST_ACCESS_WO : VHOST_ACCESS_RO;
    let at = addr;
    let left = len;
    while (left > 0) {
      if (!this.#translator.translate(at, left, access, tr)) {
        return { via: "translate", fault: translateFault(tr, at, access) };
      }
      if (tr.len <= 0) return { via: "discontiguous", mapped: 0 };
      if (!mem.check(tr.addr, tr.len, write)) {
        return { via: "memory", fault: memoryFault(mem, tr.addr, tr.len) };
      }
      // QEMU virtqueue_map_desc: "virtio: too many write descriptors in indirect table".
      if (chain.count >= MAX_CHAIN_SEGMENTS) return { via: "segments", max: MAX_CHAIN_SEGMENTS };
      chain.push(tr.addr, tr.len, write);
      at += tr.len;
      left -= tr.len;
    }
    return undefined;
  }
}
