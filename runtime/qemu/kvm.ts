/**
 * The KVM pieces of one VM that decide how notifications travel (virtio-vhost-vdpa.md §9):
 *
 * - **ioeventfd** (KVM_IOEVENTFD): a guest write to a queue's notify address is matched in
 *   the kernel and signals an eventfd; the vCPU takes a light exit and resumes at once.
 *   Without one, the write exits to QEMU in userspace (a heavyweight exit).
 * - **irqfd** (KVM_IRQFD): an eventfd write injects an MSI into the guest; with posted
 *   interrupts (APICv, on by default) a running vCPU gets it without an exit.
 *
 * Registrations are traced as the ioctls QEMU issues.
 *
 * @example
 * ```ts
 * import { Kvm } from "./kvm.ts";
 * const steps: string[] = [];
 * const kvm = new Kvm("vm1", { posted: true, trace: (s) => steps.push(String(s.details.name)) });
 * const fd = kvm.addIoeventfd(0xfe003004, 1, "tx0");
 * if (kvm.ioeventfd(0xfe003004) !== fd || steps[0] !== "KVM_IOEVENTFD") throw new Error();
 * ```
 *
 * @module
 */

import type { ControlStep } from "../lab.ts";

/** A registered ioeventfd. */
export interface IoEventFd {
  /** The eventfd number. */
  readonly fd: number;
  /** Guest-physical notify address. */
  readonly addr: number;
  /** The value matched (the virtqueue index). */
  readonly datamatch: number;
  /** `tx0`, for traces. */
  readonly queue: string;
}

/** A registered irqfd. */
export interface IrqFd {
  readonly fd: number;
  /** The MSI route (GSI). */
  readonly gsi: number;
  /** The MSI-X vector it injects. */
  readonly vector: number;
}

/** Options of {@link Kvm}. */
export interface KvmOptions {
  /** Posted interrupts (APICv / VT-d PI): interrupts reach a running vCPU without an exit. */
  readonly posted: boolean;
  /** Where the ioctls are traced. */
  readonly trace: (step: ControlStep) => void;
}

/** One VM's KVM state. */
export class Kvm {
  /** The VM's name. */
  readonly vm: string;
  /** Posted interrupts are available. */
  readonly posted: boolean;
  readonly #trace: (step: ControlStep) => void;
  readonly #ioeventfds = new Map<number, IoEventFd>();
  readonly #irqfds: IrqFd[] = [];
  #nextFd = 30;
  #nextGsi = 24;

  constructor(vm: string, options: KvmOptions) {
    this.vm = vm;
    this.posted = options.posted;
    this.#trace = options.trace;
  }

  /** A new eventfd number in QEMU's fd table. */
  eventfd(): number {
    return this.#nextFd++;
  }

  /** KVM_IOEVENTFD: `addr` with datamatch `vq` now signals an eventfd. */
  addIoeventfd(addr: number, vq: number, queue: string): IoEventFd {
    const e: IoEventFd = { fd: this.eventfd(), addr, datamatch: vq, queue };
    this.#ioeventfds.set(addr, e);
    this.#trace({
      comp: "kvm",
      action: "ioctl",
      details: { name: "KVM_IOEVENTFD", addr, value: vq, fd: e.fd, q: queue },
    });
    return e;
  }

  /** KVM_IOEVENTFD with KVM_IOEVENTFD_FLAG_DEASSIGN. */
  removeIoeventfd(addr: number): void {
    const e = this.#ioeventfds.get(addr);
    if (e === undefined) return;
    this.#ioeventfds.delete(addr);
    this.#trace({
      comp: "kvm",
      action: "ioctl",
      details: { name: "KVM_IOEVENTFD", addr, op: "deassign", fd: e.fd, q: e.queue },
    });
  }

  /** The ioeventfd matching a notify write, if any. */
  ioeventfd(addr: number): IoEventFd | undefined {
    return this.#ioeventfds.get(addr);
  }

  /** KVM_IRQFD: an eventfd that injects MSI-X `vector` through a new route. */
  addIrqfd(vector: number): IrqFd {
    const e: IrqFd = { fd: this.eventfd(), gsi: this.#nextGsi++, vector };
    this.#irqfds.push(e);
    this.#trace({
      comp: "kvm",
      action: "ioctl",
      details: { name: "KVM_IRQFD", fd: e.fd, value: e.gsi, vector },
    });
    return e;
  }

  /** The irqfd of a vector, if any. */
  irqfd(vector: number): IrqFd | undefined {
    return this.#irqfds.find((e) => e.vector === vector);
  }

  /** Registered ioeventfds (for `show`). */
  get ioeventfds(): readonly IoEventFd[] {
    return [...this.#ioeventfds.values()];
  }

  /** Registered irqfds (for `show`). */
  get irqfds(): readonly IrqFd[] {
    return this.#irqfds;
  }
}
