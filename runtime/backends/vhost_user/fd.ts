/**
 * The file descriptors a vhost-user connection passes (SCM_RIGHTS), as objects:
 *
 * - {@link EventFd}: a counter with a waiter. The kick fd of a queue is the KVM ioeventfd
 *   of its notify address (the guest's notify write increments it in the kernel); the call
 *   fd is the KVM irqfd of its MSI-X vector (a write injects the interrupt). A polling
 *   back-end never reads its kick fd: the counter just grows.
 * - {@link MemFd}: the file behind a guest RAM block (memory-backend-file / -memfd). Mapping
 *   it with {@link MemFd.mmap} gives the pages the back-end sees: the guest's own pages when
 *   QEMU mapped them `share=on`, a separate copy of the file (zeros: QEMU's private pages never
 *   reach it) when it did not.
 * - {@link SocketFd}: one end of a socket pair (SET_BACKEND_REQ_FD).
 *
 * @example An irqfd-like call fd
 * ```ts
 * import { EventFd } from "./fd.ts";
 * const call = new EventFd("vm1:rx0:call");
 * let injected = 0;
 * call.onSignal = () => injected++;
 * call.write();
 * call.write();
 * if (injected !== 2 || call.read() !== 2 || call.read() !== 0) throw new Error("eventfd");
 * ```
 *
 * @module
 */

import { GuestMemory, type MemRegion } from "../../memory/guest_memory.ts";
import type { CpuContext } from "../../sim/cpu_context.ts";
import type { PacketGroup } from "../../datapath/hop.ts";

/**
 * The simulation's view of an eventfd write: when (`t`), from which CPU context (undefined:
 * from the guest through KVM) and for which packets (the burst a kick announces, the used
 * buffers a call reports).
 */
export type TimedSignal = (
  t: number,
  ctx: CpuContext | undefined,
  group: PacketGroup | undefined,
) => void;

/** An eventfd: a 64-bit counter; `write` adds one, `read` returns and clears it. */
export class EventFd {
  readonly kind = "eventfd" as const;
  /** Who made it and what for (`vm1:tx0:kick`). */
  readonly name: string;
  /** Called on every write (KVM's irqfd injects, a sleeping reader wakes). */
  onSignal: (() => void) | undefined = undefined;
  /** Called on every {@link signal} with its time, context and packets. */
  onTimed: TimedSignal | undefined = undefined;
  /**
   * Simulation only, not a write: the ring this kick fd belongs to got new buffers while the
   * driver was asked not to kick. A polling reader notices them on its next poll iteration.
   */
  onHint: ((t: number, group: PacketGroup | undefined) => void) | undefined = undefined;
  #count = 0;
  #writes = 0;
  #closed = false;

  constructor(name: string) {
    this.name = name;
  }

  /** eventfd_write(fd, 1). Ignored once closed (the writer holds a stale fd). */
  write(): void {
    if (this.#closed) return;
    this.#count++;
    this.#writes++;
    this.onSignal?.();
  }

  /** A write at virtual time `t` from `ctx` for `group` (the timed form of {@link write}). */
  signal(t: number, ctx?: CpuContext, group?: PacketGroup): void {
    if (this.#closed) return;
    this.#count++;
    this.#writes++;
    this.onSignal?.();
    this.onTimed?.(t, ctx, group);
  }

  /** Passes a {@link onHint} (no write, no count). */
  hint(t: number, group?: PacketGroup): void {
    if (!this.#closed) this.onHint?.(t, group);
  }

  /** eventfd_read: the count since the last read; 0 when nothing was written. */
  read(): number {
    const c = this.#count;
    this.#count = 0;
    return c;
  }

  /** Writes since creation (a polled kick fd only ever accumulates). */
  get writes(): number {
    return this.#writes;
  }

  /** True once closed by its owner. */
  get closed(): boolean {
    return this.#closed;
  }

  /** close(fd): later writes are lost. */
  close(): void {
    this.#closed = true;
    this.onSignal = undefined;
    this.onTimed = undefined;
    this.onHint = undefined;
  }
}

/** A memory file: a RAM block with an fd (memory-backend-file or -memfd). */
export class MemFd {
  readonly kind = "memfd" as const;
  /** The backend id (`mem0`). */
  readonly name: string;
  /** The guest memory the block belongs to. */
  readonly memory: GuestMemory;
  /** The guest-physical region it backs. */
  readonly region: MemRegion;
  /** QEMU mapped it `share=on` (MAP_SHARED): another process sees the guest's writes. */
  readonly shared: boolean;
  /** Backed by huge pages (hugetlbfs file or memfd hugetlb=on): 2 MiB mmap alignment. */
  readonly hugepages: boolean;
  #private: GuestMemory | undefined = undefined;

  constructor(
    name: string,
    memory: GuestMemory,
    region: MemRegion,
    options: { readonly shared: boolean; readonly hugepages?: boolean },
  ) {
    this.name = name;
    this.memory = memory;
    this.region = region;
    this.shared = options.shared;
    this.hugepages = options.hugepages ?? false;
  }

  /** Block size fstat reports (rte_vhost aligns its mmap to it). */
  get blockSize(): number {
    return this.hugepages ? 2 * 1024 * 1024 : 4096;
  }

  /**
   * What another process sees when it maps this file MAP_SHARED: the guest's pages when QEMU
   * shares them, otherwise the file's own contents, which QEMU's private (copy-on-write)
   * mapping never updates — zeros, laid out at the same guest-physical addresses.
   */
  mmap(): GuestMemory {
    if (this.shared) return this.memory;
    if (this.#private === undefined) {
      const view = new GuestMemory();
      const r = view.addRegion({
        name: this.region.name,
        gpa: this.region.gpa,
        size: this.region.size,
      });
      if (!r.ok) throw new Error(`Cannot mirror region ${this.region.name}: ${r.error.kind}`);
      this.#private = view;
    }
    return this.#private;
  }
}

/** One end of a socket pair: messages written here are read by `peer`'s handler. */
export class SocketFd {
  readonly kind = "socket" as const;
  readonly name: string;
  /** Receives what the other end sends. */
  onMessage: ((bytes: Uint8Array, fds: readonly VhostUserFd[]) => void) | undefined = undefined;
  #peer: SocketFd | undefined = undefined;
  #closed = false;

  constructor(name: string) {
    this.name = name;
  }

  /** A connected pair (socketpair(2)). */
  static pair(a: string, b: string): [SocketFd, SocketFd] {
    const x = new SocketFd(a);
    const y = new SocketFd(b);
    x.#peer = y;
    y.#peer = x;
    return [x, y];
  }

  /** Sends to the peer; false when either end is closed. */
  send(bytes: Uint8Array, fds: readonly VhostUserFd[] = []): boolean {
    const p = this.#peer;
    if (this.#closed || p === undefined || p.#closed) return false;
    p.onMessage?.(bytes, fds);
    return true;
  }

  /** Closes this end. */
  close(): void {
    this.#closed = true;
  }
}

/** Any descriptor a vhost-user message can carry. */
export type VhostUserFd = EventFd | MemFd | SocketFd;
