/**
 * DMA remapping faults as the IOMMU records them: like VT-d's fault recording registers,
 * each record carries the source id (requester id), the faulting address, whether the
 * request was a read or a write, and the reason. Faults are values, kept in a bounded log
 * (oldest dropped, counted) and counted by reason; nothing throws.
 *
 * {@link formatDmaFault} prints the line the Linux DMAR driver logs for a fault.
 *
 * @example
 * ```ts
 * import { FaultLog, formatDmaFault } from "./fault_log.ts";
 * const log = new FaultLog();
 * const f = log.record({ rid: "0000:3b:00.2", domain: 2, iova: 0x5000, write: true, reason: "not-present" });
 * const line = formatDmaFault(f);
 * if (!line.includes("[fault reason 0x05] PTE Write access is not set")) throw new Error(line);
 * ```
 *
 * @module
 */

/** Why a DMA was blocked. */
export type DmaFaultReason =
  /** The device has no context entry (not attached to any domain). */
  | "no-context"
  /** The address is beyond the domain's address width. */
  | "beyond-address-width"
  /** No leaf maps the page. */
  | "not-present"
  /** A write hit a page mapped without W. */
  | "write-to-read-only"
  /** A read hit a page mapped without R. */
  | "read-from-write-only";

/** One recorded fault. */
export interface DmaFault {
  /** Position in the stream of all faults, from 1. */
  readonly seq: number;
  /** Requester id of the device, e.g. "0000:3b:00.2". */
  readonly rid: string;
  /** The domain the device was in, if any. */
  readonly domain: number | undefined;
  readonly iova: number;
  readonly write: boolean;
  readonly reason: DmaFaultReason;
}

/** The VT-d fault reason code (VT-d §7.1.3, Linux `dma_remap_fault_reasons`). */
export function vtdFaultReason(f: Pick<DmaFault, "reason" | "write">): number {
  switch (f.reason) {
    case "no-context":
      return 0x02;
    case "beyond-address-width":
      return 0x04;
    // A not-present second-level PTE has R = W = 0, so hardware reports the access bit.
    case "not-present":
      return f.write ? 0x05 : 0x06;
    case "write-to-read-only":
      return 0x05;
    case "read-from-write-only":
      return 0x06;
  }
}

const REASON_TEXT: Readonly<Record<number, string>> = {
  0x02: "Present bit in context entry is clear",
  0x04: "Access beyond MGAW",
  0x05: "PTE Write access is not set",
  0x06: "PTE Read access is not set",
};

/** "0000:3b:00.2" → "3b:00.2" (the DMAR log prints bus:dev.fn). */
function shortRid(rid: string): string {
  const m = /^[0-9a-f]{4}:(.+)$/i.exec(rid);
  return m?.[1] ?? rid;
}

/**
 * The Linux DMAR log line for a fault, e.g.
 * `DMAR: [DMA Write NO_PASID] Request device [3b:00.2] fault addr 0x5000 [fault reason 0x05]
 * PTE Write access is not set`.
 */
export function formatDmaFault(f: DmaFault): string {
  const code = vtdFaultReason(f);
  const hex2 = code.toString(16).padStart(2, "0");
  return `DMAR: [DMA ${f.write ? "Write" : "Read"} NO_PASID] Request device [${
    shortRid(f.rid)
  }] fault addr 0x${f.iova.toString(16)} [fault reason 0x${hex2}] ${
    REASON_TEXT[code] ?? "Unknown"
  }`;
}

/** A bounded log of DMA faults with totals by reason. */
export class FaultLog {
  readonly #capacity: number;
  readonly #records: DmaFault[] = [];
  readonly #byReason = new Map<DmaFaultReason, number>();
  #total = 0;

  /** @param capacity records kept; older ones are dropped but still counted */
  constructor(capacity = 256) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Fault log capacity must be a positive integer, got ${capacity}`);
    }
    this.#capacity = capacity;
  }

  /** Records a fault and returns the record. */
  record(f: Omit<DmaFault, "seq">): DmaFault {
    this.#total++;
    const rec: DmaFault = { seq: this.#total, ...f };
    this.#records.push(rec);
    if (this.#records.length > this.#capacity) this.#records.shift();
    this.#byReason.set(f.reason, (this.#byReason.get(f.reason) ?? 0) + 1);
    return rec;
  }

  /** Faults seen since creation. */
  get total(): number {
    return this.#total;
  }

  /** Faults no longer in the log. */
  get dropped(): number {
    return this.#total - this.#records.length;
  }

  /** Faults seen for one reason. */
  count(reason: DmaFaultReason): number {
    return this.#byReason.get(reason) ?? 0;
  }

  /** The kept records, oldest first. */
  records(): readonly DmaFault[] {
    return [...this.#records];
  }
}
