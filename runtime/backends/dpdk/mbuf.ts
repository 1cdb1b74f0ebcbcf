/**
 * DPDK packet buffers (lib/mbuf): an {@link Mbuf} holds one frame in its own memory (the
 * host-userspace copy a vhost dequeue makes) plus the identity of the lab packet it carries;
 * an {@link MbufPool} is the fixed-size mempool testpmd and OVS allocate them from. An empty
 * pool is what `RX-nombuf` counts.
 *
 * testpmd sizes its pool as (RX_DESC_MAX 2048 + lcores × cache 250 + TX_DESC_MAX 2048 +
 * MAX_PKT_BURST 512) × RTE_MAX_ETHPORTS 32 mbufs of 2176 bytes (2048 data + 128 headroom).
 *
 * @example
 * ```ts
 * import { MbufPool, testpmdPoolSize } from "./mbuf.ts";
 * if (testpmdPoolSize(1) !== 155456) throw new Error("one forwarding lcore");
 * const pool = new MbufPool("mb_pool_0", 2);
 * const a = pool.alloc(), b = pool.alloc();
 * if (a === undefined || b === undefined || pool.alloc() !== undefined) throw new Error("2 mbufs");
 * pool.free(a);
 * if (pool.available !== 1) throw new Error("one back");
 * ```
 *
 * @module
 */

import type { TrafficFlow } from "../../datapath/flow_table.ts";

/** RTE_MBUF_DEFAULT_DATAROOM. */
export const MBUF_DATAROOM = 2048;
/** RTE_PKTMBUF_HEADROOM. */
export const MBUF_HEADROOM = 128;

/** One packet buffer. */
export class Mbuf {
  /** The frame bytes (grown for jumbo frames, as an external buffer would be). */
  buf: Uint8Array = new Uint8Array(MBUF_DATAROOM);
  /** Frame length. */
  len = 0;
  /** Port it was received on. */
  port = 0;
  /** The lab traffic it belongs to, if any. */
  flow: TrafficFlow | undefined = undefined;
  /** The packet's sequence number in its traffic. */
  seq = 0;
  /** The pool it came from. */
  pool: MbufPool | undefined = undefined;

  /** rte_pktmbuf_free: back to its pool. */
  free(): void {
    this.pool?.free(this);
  }

  /** Room for `len` bytes (an external buffer beyond the data room). */
  ensure(len: number): Uint8Array {
    if (this.buf.length < len) this.buf = new Uint8Array(len);
    return this.buf;
  }
}

/** testpmd's mbufs per pool for `lcores` forwarding lcores (`nb_mbuf_per_pool`). */
export function testpmdPoolSize(lcores: number): number {
  return (2048 + lcores * 250 + 2048 + 512) * 32;
}

/** A fixed-size mempool. */
export class MbufPool {
  readonly name: string;
  readonly size: number;
  readonly #free: Mbuf[] = [];
  #created = 0;

  constructor(name: string, size: number) {
    this.name = name;
    this.size = size;
  }

  /** An mbuf, or undefined when the pool is empty. */
  alloc(): Mbuf | undefined {
    const m = this.#free.pop();
    if (m !== undefined) return m;
    if (this.#created >= this.size) return undefined;
    this.#created++;
    const n = new Mbuf();
    n.pool = this;
    return n;
  }

  /** Gives `m` back. */
  free(m: Mbuf): void {
    m.flow = undefined;
    m.len = 0;
    this.#free.push(m);
  }

  /** Mbufs that can still be allocated. */
  get available(): number {
    return this.size - this.#created + this.#free.length;
  }
}
