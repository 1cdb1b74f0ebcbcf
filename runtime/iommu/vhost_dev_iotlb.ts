/**
 * A kernel vhost device's IOTLB and the miss protocol (drivers/vhost/vhost.c), used when
 * VIRTIO_F_ACCESS_PLATFORM is negotiated (a guest vIOMMU): ring and buffer addresses are
 * guest IOVAs, translated through a software IOTLB that userspace (QEMU) fills on demand.
 *
 * 1. A worker translation that finds no range queues a VHOST_IOTLB_MISS {iova, perm} on the
 *    read list (the fd turns readable) and fails with EAGAIN: the vq stalls.
 * 2. QEMU `read()`s the message; a MISS moves to the pending list.
 * 3. QEMU writes VHOST_IOTLB_UPDATE; after inserting it, every pending MISS whose iova lies in
 *    the update is resolved and its vq's poll re-queued (vhost_iotlb_notify_vq).
 *
 * A range with the wrong permission fails with EPERM. The kernel sends no message for it;
 * with `accessFail: true` (the vhost-user back-end flavour) a VHOST_IOTLB_ACCESS_FAIL is
 * queued for the front-end instead. The IOTLB holds at most `max_iotlb_entries` ranges
 * (default 2048) and retires the oldest beyond that.
 *
 * @example Miss, read, update, resolved
 * ```ts
 * import { VhostDevIotlb } from "./vhost_dev_iotlb.ts";
 * import { newTranslateResult, VHOST_ACCESS_RO } from "../memory/translator.ts";
 * import { VHOST_IOTLB_UPDATE } from "./vhost_iotlb_msg.ts";
 * const dev = new VhostDevIotlb();
 * const rx = dev.translatorFor(0);
 * const out = newTranslateResult();
 * if (rx.translate(0x1000, 16, VHOST_ACCESS_RO, out) || rx.lastOutcome !== "miss") throw new Error("miss");
 * const miss = dev.read(); // QEMU reads the MISS
 * const r = dev.process({ type: VHOST_IOTLB_UPDATE, iova: 0x1000, size: 0x1000, uaddr: 0x7f0000, perm: 3 });
 * if (!r.ok || r.value.requeue[0] !== 0 || miss?.iova !== 0x1000) throw new Error("round trip");
 * if (!rx.translate(0x1000, 16, VHOST_ACCESS_RO, out) || out.addr !== 0x7f0000) throw new Error("hit");
 * ```
 *
 * @module
 */

import type { Access, TranslateResult, Translator } from "../memory/translator.ts";
import { err, ok, type Result } from "../result.ts";
import type { IommuEventSink } from "./event.ts";
import { MAX_IOTLB_ENTRIES, VhostIotlb } from "./vhost_iotlb.ts";
import type { VhostIotlbError } from "./vhost_iotlb_error.ts";
import {
  VHOST_IOTLB_ACCESS_FAIL,
  VHOST_IOTLB_INVALIDATE,
  VHOST_IOTLB_MISS,
  VHOST_IOTLB_UPDATE,
  type VhostIotlbMsg,
} from "./vhost_iotlb_msg.ts";

/** A MISS QEMU has read and not yet answered. */
export interface PendingMiss {
  readonly vq: number;
  readonly iova: number;
  readonly perm: Access;
}

/** What an accepted message did. */
export interface VhostIotlbProcessed {
  /** Pending misses the update answered, in the order they were read. */
  readonly resolved: readonly PendingMiss[];
  /** Virtqueues whose poll is re-queued (each once, in first-resolved order). */
  readonly requeue: readonly number[];
  /** Ranges an INVALIDATE removed. */
  readonly removed: number;
}

/** What a vq translation did. */
export type VhostTranslateOutcome =
  /** Translated through the IOTLB. */
  | "hit"
  /** No range: a MISS was queued, the vq must wait (EAGAIN). */
  | "miss"
  /** A range without the needed permission (EPERM). */
  | "denied";

/** Counters since creation. */
export interface VhostDevIotlbStats {
  readonly entries: number;
  readonly hits: number;
  readonly misses: number;
  readonly denied: number;
  readonly updates: number;
  readonly invalidates: number;
  readonly resolved: number;
  readonly evictions: number;
}

interface QueuedMsg {
  readonly vq: number;
  readonly msg: VhostIotlbMsg;
}

/** One vhost device's IOTLB state. */
export class VhostDevIotlb {
  readonly #sink: IommuEventSink | undefined;
  readonly #accessFail: boolean;
  readonly #maxEntries: number;
  #iotlb: VhostIotlb | undefined;
  #read: QueuedMsg[] = [];
  #pending: PendingMiss[] = [];
  #hits = 0;
  #misses = 0;
  #denied = 0;
  #updates = 0;
  #invalidates = 0;
  #resolved = 0;
  #evictions = 0;

  /**
   * @param options `maxEntries` (module param max_iotlb_entries, default 2048); `accessFail`
   *   queues ACCESS_FAIL on EPERM (vhost-user flavour); `enabled: false` models a device that
   *   has not negotiated ACCESS_PLATFORM; event `sink`
   */
  constructor(
    options: {
      maxEntries?: number | undefined;
      accessFail?: boolean | undefined;
      enabled?: boolean | undefined;
      sink?: IommuEventSink | undefined;
    } = {},
  ) {
    this.#sink = options.sink;
    this.#accessFail = options.accessFail ?? false;
    this.#maxEntries = options.maxEntries ?? MAX_IOTLB_ENTRIES;
    if (options.enabled ?? true) this.init();
  }

  /**
   * Starts a fresh, empty IOTLB (vhost_init_device_iotlb, on SET_FEATURES with
   * ACCESS_PLATFORM). Queued and pending messages are dropped.
   */
  init(): void {
    const sink = this.#sink;
    this.#iotlb = new VhostIotlb({
      limit: this.#maxEntries,
      retire: true,
      onEvict: (m) => {
        this.#evictions++;
        sink?.({ kind: "vhost-iotlb-evict", start: m.start, last: m.last });
      },
    });
    this.#read = [];
    this.#pending = [];
  }

  /** The IOTLB, when the device has one. */
  get iotlb(): VhostIotlb | undefined {
    return this.#iotlb;
  }

  /** True when a message waits to be read (POLLIN on the vhost fd). */
  get readable(): boolean {
    return this.#read.length > 0;
  }

  /** Misses read by userspace and not yet answered. */
  pending(): readonly PendingMiss[] {
    return [...this.#pending];
  }

  /**
   * Userspace reads one message (vhost_chr_read_iter). A MISS moves to the pending list.
   * Returns undefined when nothing is queued.
   */
  read(): VhostIotlbMsg | undefined {
    const q = this.#read.shift();
    if (q === undefined) return undefined;
    const { msg, vq } = q;
    this.#sink?.({
      kind: "vhost-iotlb-read",
      type: msg.type === VHOST_IOTLB_MISS ? "miss" : "access-fail",
      iova: msg.iova,
      perm: msg.perm,
    });
    if (msg.type === VHOST_IOTLB_MISS) this.#pending.push({ vq, iova: msg.iova, perm: msg.perm });
    return msg;
  }

  /**
   * Userspace writes a message (vhost_process_iotlb_msg): UPDATE inserts a range and resolves
   * the pending misses it covers; INVALIDATE removes every range overlapping its span.
   */
  process(msg: VhostIotlbMsg, asid = 0): Result<VhostIotlbProcessed, VhostIotlbError> {
    // vhost_chr_write_iter(): plain vhost devices have one address space.
    if (asid !== 0) return err({ kind: "bad-asid", asid });
    if (msg.type !== VHOST_IOTLB_UPDATE && msg.type !== VHOST_IOTLB_INVALIDATE) {
      return err({ kind: "bad-type", type: msg.type });
    }
    // vhost_chr_write_iter(): a zero-sized UPDATE or INVALIDATE is -EINVAL.
    if (msg.size === 0) return err({ kind: "zero-size", iova: msg.iova });
    const tlb = this.#iotlb;
    if (tlb === undefined) return err({ kind: "no-iotlb" });
    const last = msg.iova + msg.size - 1;
    if (msg.type === VHOST_IOTLB_INVALIDATE) {
      const removed = tlb.delRange(msg.iova, last).length;
      this.#invalidates++;
      this.#sink?.({
        kind: "vhost-iotlb-invalidate",
        asid,
        iova: msg.iova,
        size: msg.size,
        removed,
      });
      return ok({ resolved: [], requeue: [], removed });
    }
    const added = tlb.addRange(msg.iova, last, msg.uaddr, msg.perm);
    if (!added.ok) return added;
    this.#updates++;
    this.#sink?.({
      kind: "vhost-iotlb-update",
      asid,
      iova: msg.iova,
      size: msg.size,
      uaddr: msg.uaddr,
      perm: msg.perm,
    });
    const resolved: PendingMiss[] = [];
    const requeue: number[] = [];
    const still: PendingMiss[] = [];
    for (const p of this.#pending) {
      // vhost_iotlb_notify_vq(): the miss address must lie inside the update.
      if (msg.iova <= p.iova && last >= p.iova) {
        resolved.push(p);
        if (!requeue.includes(p.vq)) requeue.push(p.vq);
        this.#sink?.({ kind: "vhost-iotlb-resolved", vq: p.vq, iova: p.iova });
      } else {
        still.push(p);
      }
    }
    this.#pending = still;
    this.#resolved += resolved.length;
    return ok({ resolved, requeue, removed: 0 });
  }

  /**
   * Checks that `[addr, addr + len)` is fully mapped with `access` (iotlb_access_ok, the ring
   * prefetch before each processing round). A hole queues a MISS for its first byte.
   */
  accessOk(vq: number, addr: number, len: number, access: Access): boolean {
    const tlb = this.#iotlb;
    if (tlb === undefined) return false;
    const last = addr + len - 1;
    let at = addr;
    while (at <= last) {
      const m = tlb.first(at, last);
      if (m === undefined || m.start > at) {
        this.#miss(vq, at, access);
        return false;
      }
      if ((m.perm & access) === 0) return false;
      at = m.last + 1;
    }
    return true;
  }

  /** The translator a vq's worker uses (translate_desc). */
  translatorFor(vq: number): VhostVqTranslator {
    return new VhostVqTranslator(this, vq);
  }

  /** A snapshot of the counters. */
  stats(): VhostDevIotlbStats {
    return {
      entries: this.#iotlb?.size ?? 0,
      hits: this.#hits,
      misses: this.#misses,
      denied: this.#denied,
      updates: this.#updates,
      invalidates: this.#invalidates,
      resolved: this.#resolved,
      evictions: this.#evictions,
    };
  }

  /** translate_desc() for one contiguous run; see {@link VhostVqTranslator}. */
  translateFor(
    vq: number,
    addr: number,
    len: number,
    access: Access,
    out: TranslateResult,
    st: VhostVqTranslator,
  ): boolean {
    out.fault = undefined;
    const tlb = this.#iotlb;
    // translate_desc() loops while len > translated: nothing to translate, nothing to miss.
    if (len <= 0) {
      out.addr = addr;
      out.len = 0;
      st.lastOutcome = "hit";
      return true;
    }
    const m = tlb?.first(addr, addr + len - 1);
    if (m === undefined || m.start > addr) {
      if (tlb !== undefined) this.#miss(vq, addr, access);
      st.lastOutcome = "miss";
      out.fault = { kind: "unmapped", iova: addr, access };
      return false;
    }
    // translate_desc(): any overlap of the needed and granted bits passes (map->perm & access).
    if ((m.perm & access) === 0) {
      this.#denied++;
      st.lastOutcome = "denied";
      out.fault = { kind: "permission", iova: addr, access, allowed: m.perm };
      if (this.#accessFail) {
        this.#sink?.({ kind: "vhost-iotlb-access-fail", vq, iova: addr, perm: access });
        this.#read.push({
          vq,
          msg: { type: VHOST_IOTLB_ACCESS_FAIL, iova: addr, size: 0, uaddr: 0, perm: access },
        });
      }
      return false;
    }
    this.#hits++;
    st.lastOutcome = "hit";
    out.addr = m.addr + (addr - m.start);
    out.len = Math.min(len, m.last - addr + 1);
    return true;
  }

  #miss(vq: number, iova: number, perm: Access): void {
    this.#misses++;
    this.#sink?.({ kind: "vhost-iotlb-miss", vq, iova, perm });
    this.#read.push({ vq, msg: { type: VHOST_IOTLB_MISS, iova, size: 0, uaddr: 0, perm } });
  }
}

/**
 * The address translation of one vhost virtqueue's worker. A miss fails with `lastOutcome`
 * "miss" (wait for the update; the vq is re-queued when it comes), a permission failure with
 * "denied".
 */
export class VhostVqTranslator implements Translator {
  readonly #dev: VhostDevIotlb;
  readonly #vq: number;
  /** What the last {@link translate} did. */
  lastOutcome: VhostTranslateOutcome = "hit";

  /** Built by {@link VhostDevIotlb.translatorFor}. */
  constructor(dev: VhostDevIotlb, vq: number) {
    this.#dev = dev;
    this.#vq = vq;
  }

  /** The virtqueue index. */
  get vq(): number {
    return this.#vq;
  }

  /** Translates one contiguous run (at most to the end of the range that maps `addr`). */
  translate(addr: number, len: number, access: Access, out: TranslateResult): boolean {
    return this.#dev.translateFor(this.#vq, addr, len, access, out, this);
  }
}
