/**
 * The data plane of a tap device: one queue per attached file (QEMU's tap fd, or the socket
 * vhost-net took over with VHOST_NET_SET_BACKEND; several with IFF_MULTI_QUEUE). Frames the
 * host sends out through the tap (`tun_net_xmit`) are queued on the socket of the queue the
 * flow hashes to, up to the device's txqueuelen, and the queue's owner is told the fd became
 * readable (QEMU's fd handler, vhost's `sk_data_ready` poll). Frames the owner writes
 * (`writev`, `tun_sendmsg`) enter the host stack as if received on the tap.
 *
 * @example
 * ```ts
 * import { Skb } from "./skb.ts";
 * import { TapQueue } from "./tap.ts";
 * const seen: number[] = [];
 * const q = new TapQueue("tap0", 0, 2);
 * q.owner = { label: "qemu", readable: (_q, t) => seen.push(t) };
 * q.push(new Skb(new Uint8Array(60), undefined, 0), 10);
 * q.push(new Skb(new Uint8Array(60), undefined, 0), 11);
 * if (q.push(new Skb(new Uint8Array(60), undefined, 0), 12)) throw new Error("txqueuelen 2");
 * if (q.length !== 2 || seen.join() !== "10") throw new Error("one wake-up while non-empty");
 * ```
 *
 * @module
 */

import type { Skb } from "./skb.ts";

/** Whoever holds a tap queue's file. */
export interface TapQueueOwner {
  /** `qemu-vm1`, `vhost-4100`. */
  readonly label: string;
  /** The queue went from empty to non-empty at `t` (the fd became readable). */
  readable(queue: TapQueue, t: number): void;
}

/** One tap queue: the socket receive queue of one attached file. */
export class TapQueue {
  /** The tap's name. */
  readonly dev: string;
  /** Queue index. */
  readonly index: number;
  /** Frames that fit before `tun_net_xmit` drops (the device's txqueuelen). */
  readonly limit: number;
  /** Who reads it; undefined while nothing is attached. */
  owner: TapQueueOwner | undefined = undefined;
  /** Frames dropped because the queue was full. */
  drops = 0;
  /** Frames queued so far. */
  queued = 0;
  #ring: (Skb | undefined)[];
  #head = 0;
  #count = 0;

  constructor(dev: string, index: number, limit: number) {
    this.dev = dev;
    this.index = index;
    this.limit = limit;
    this.#ring = new Array(Math.min(limit, 64));
  }

  /** Frames waiting. */
  get length(): number {
    return this.#count;
  }

  /** Queues a frame at `t`; false (dropped) when the queue is full. */
  push(skb: Skb, t: number): boolean {
    if (this.#count >= this.limit) {
      this.drops++;
      return false;
    }
    if (this.#count === this.#ring.length) this.#grow();
    this.#ring[(this.#head + this.#count) % this.#ring.length] = skb;
    this.#count++;
    this.queued++;
    if (this.#count === 1) this.owner?.readable(this, t);
    return true;
  }

  /** The oldest frame, without taking it. */
  peek(): Skb | undefined {
    return this.#count === 0 ? undefined : this.#ring[this.#head];
  }

  /** Takes the oldest frame. */
  shift(): Skb | undefined {
    if (this.#count === 0) return undefined;
    const skb = this.#ring[this.#head];
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#ring.length;
    this.#count--;
    return skb;
  }

  /** Drops everything queued (the file was closed); returns the frames for accounting. */
  drain(): Skb[] {
    const out: Skb[] = [];
    for (let s = this.shift(); s !== undefined; s = this.shift()) out.push(s);
    return out;
  }

  #grow(): void {
    const n = this.#ring.length;
    const next = new Array<Skb | undefined>(Math.min(this.limit, n * 2));
    for (let i = 0; i < this.#count; i++) next[i] = this.#ring[(this.#head + i) % n];
    this.#ring = next;
    this.#head = 0;
  }
}

/** The tap's queues (one per attached file). */
export class TapPlane {
  /** The tap's name. */
  readonly name: string;
  /** Attached queues in attach order. */
  readonly queues: TapQueue[] = [];
  /** Per-queue frame limit (txqueuelen). */
  readonly limit: number;

  constructor(name: string, limit = 1000) {
    this.name = name;
    this.limit = limit;
  }

  /** Attaches a new queue for `owner` (TUNSETIFF on an open /dev/net/tun). */
  attach(owner: TapQueueOwner): TapQueue {
    const q = new TapQueue(this.name, this.queues.length, this.limit);
    q.owner = owner;
    this.queues.push(q);
    return q;
  }

  /** Detaches a queue (its file closed); returns what was still queued. */
  detach(q: TapQueue): Skb[] {
    const i = this.queues.indexOf(q);
    if (i < 0) return [];
    this.queues.splice(i, 1);
    q.owner = undefined;
    return q.drain();
  }

  /** The queue a frame goes to (`tun_select_queue`: the flow hash modulo the queues). */
  select(skb: Skb): TapQueue | undefined {
    const n = this.queues.length;
    if (n === 0) return undefined;
    return this.queues[skb.hash % n];
  }
}
