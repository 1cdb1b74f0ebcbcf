/**
 * A small guest for the vhost-user tests: real guest memory (one RAM block, `share=on` or
 * not, with or without an fd), real split or packed rings laid out by the virtio core's
 * driver side, real eventfds for the KVM ioeventfd/irqfd pair of each queue, and QEMU's
 * per-queue avail index. It implements what QEMU's virtio-net gives a vhost-user netdev
 * ({@link VhostUserDeviceSide}); the VM of runtime/qemu is the production implementation.
 *
 * @module
 */

import { GuestMemory, type MemRegion } from "../../../memory/guest_memory.ts";
import { PackedDriver } from "../../../virtio/packed_driver.ts";
import { SplitDriver } from "../../../virtio/split_driver.ts";
import { EventFd, MemFd } from "../fd.ts";
import type { GuestRing, RamSection, VhostUserDeviceSide } from "../frontend.ts";

/** Options of {@link TestGuest}. */
export interface TestGuestOptions {
  /** Queue pairs (vrings = 2 × pairs). Default 1. */
  readonly pairs?: number;
  /** Ring size. Default 256. */
  readonly size?: number;
  /** Negotiated features for the rings (EVENT_IDX, INDIRECT …). Default 0. */
  readonly features?: bigint;
  /** Packed rings. Default false. */
  readonly packed?: boolean;
  /** `share=on`. Default true. */
  readonly shared?: boolean;
  /** The RAM block has an fd (memory-backend-file/-memfd). Default true. */
  readonly fd?: boolean;
  /** RAM size. Default 64 MiB. */
  readonly ramSize?: number;
}

/** QEMU's virtual address of guest RAM in the tests. */
export const TEST_HVA_BASE = 0x7f00_0000_0000;
const RING_BASE = 0x10_0000;
const RING_STRIDE = 0x1_0000;

/** A guest with rings and notifiers; see the module documentation. */
export class TestGuest implements VhostUserDeviceSide {
  readonly mem = new GuestMemory();
  readonly region: MemRegion;
  readonly memfd: MemFd | undefined;
  readonly pairs: number;
  readonly size: number;
  readonly packed: boolean;
  readonly drivers: (SplitDriver | PackedDriver)[] = [];
  readonly kicks: EventFd[] = [];
  readonly calls: EventFd[] = [];
  /** Interrupts injected per vring (irqfd writes). */
  readonly interrupts: number[] = [];
  /** Link status changes, in order. */
  readonly linkChanges: boolean[] = [];
  readonly #lastAvail: number[] = [];

  constructor(options: TestGuestOptions = {}) {
    this.pairs = options.pairs ?? 1;
    this.size = options.size ?? 256;
    this.packed = options.packed ?? false;
    const r = this.mem.addRegion({
      name: "mem0",
      gpa: 0,
      size: options.ramSize ?? 64 * 1024 * 1024,
      shared: options.shared ?? true,
      backend: "mem0",
    });
    if (!r.ok) throw new Error(`layout: ${r.error.kind}`);
    this.region = r.value;
    this.memfd = (options.fd ?? true)
      ? new MemFd("mem0", this.mem, r.value, { shared: options.shared ?? true, hugepages: true })
      : undefined;
    for (let i = 0; i < 2 * this.pairs; i++) {
      const base = RING_BASE + i * RING_STRIDE;
      const f = options.features ?? 0n;
      const drv = this.packed
        ? PackedDriver.create(this.mem, {
          size: this.size,
          descRing: base,
          driverEvent: base + 0x8000,
          deviceEvent: base + 0x8100,
          features: f,
        })
        : SplitDriver.create(this.mem, {
          size: this.size,
          descTable: base,
          availRing: base + 0x4000,
          usedRing: base + 0x8000,
          features: f,
        });
      if (!drv.ok) throw new Error(`ring ${i}: ${drv.error.kind}`);
      this.drivers.push(drv.value);
      this.kicks.push(new EventFd(`guest:vq${i}:kick`));
      const call = new EventFd(`guest:vq${i}:call`);
      this.interrupts.push(0);
      call.onSignal = () => {
        this.interrupts[i] = (this.interrupts[i] ?? 0) + 1;
      };
      this.calls.push(call);
      this.#lastAvail.push(this.packed ? 1 << 15 : 0);
    }
  }

  ramSections(): readonly RamSection[] {
    return [{
      name: "mem0",
      gpa: 0,
      size: this.region.size,
      hva: TEST_HVA_BASE,
      fd: this.memfd,
      fdOffset: 0,
    }];
  }

  ring(index: number): GuestRing | undefined {
    const d = this.drivers[index];
    if (d === undefined) return undefined;
    const a = d.addrs;
    return "descTable" in a
      ? { size: this.size, desc: a.descTable, avail: a.availRing, used: a.usedRing }
      : { size: this.size, desc: a.descRing, avail: a.driverEvent, used: a.deviceEvent };
  }

  lastAvailIdx(index: number): number {
    return this.#lastAvail[index] ?? 0;
  }

  setLastAvailIdx(index: number, value: number): void {
    this.#lastAvail[index] = value;
  }

  restoreLastAvailIdx(index: number): void {
    const r = this.ring(index);
    if (r === undefined || this.packed) return;
    this.#lastAvail[index] = this.mem.getU16(r.used + 2);
  }

  hostNotifier(index: number): EventFd {
    return this.kicks[index] as EventFd;
  }

  guestNotifier(index: number): EventFd {
    return this.calls[index] as EventFd;
  }

  setLink(up: boolean): void {
    this.linkChanges.push(up);
  }

  /** The split driver of vring `index` (tests of split rings). */
  split(index: number): SplitDriver {
    const d = this.drivers[index];
    if (!(d instanceof SplitDriver)) throw new Error(`vring ${index} is not split`);
    return d;
  }
}
