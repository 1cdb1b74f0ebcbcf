/**
 * THE virtio-net datapath: the one device-side TX and RX routine every backend runs — QEMU's
 * userspace virtio-net, the vhost-net worker, a vhost-user PMD, vdpa_sim's worker, a
 * hardware NIC's DMA engine, QEMU's shadow virtqueues. Backends differ only in where it runs,
 * how it is notified and what it costs (their hops); the ring work is here, once.
 *
 * **TX** ({@link VirtioNetTx}): pop a chain from the split or packed ring through the
 * backend's translation (vhost: its memory table; vDPA: the IOTLB; QEMU: none), check the
 * chain has the shape a TX chain must have (device-readable only, at least a virtio-net
 * header — virtio 1.2 §5.1.6.2), read the header, identify the packet from its payload
 * header, and yield the frame: copied into a caller buffer (the copy the backend charges,
 * `copyFrame`) or as a zero-copy view for DMA devices (`frameView`). Completion writes used
 * len 0: the device wrote nothing into a TX buffer (vhost `vhost_add_used(vq, head, 0)`,
 * QEMU `virtqueue_push(vq, elem, 0)`).
 *
 * **RX** ({@link VirtioNetRx}): take a frame, pop one chain — or, with MRG_RXBUF, as many as
 * the frame needs, setting `num_buffers` (§5.1.6.4) — write the header and the frame,
 * complete each buffer with the bytes written, and flush once.
 *
 * Outcomes are numbers ({@link NET_OK} …), so the per-packet path allocates nothing; a
 * malformed ring is a {@link NET_FAULT} with the ring's `fault` set (the device model turns it
 * into NEEDS_RESET, vhost stops the queue), bad guest input that is not a ring fault is
 * described by `problem`.
 *
 * @example A guest TX chain through the shared routine
 * ```ts
 * import { GuestMemory } from "../memory/guest_memory.ts";
 * import { SplitDriver } from "../virtio/split_driver.ts";
 * import { featureMask, VIRTIO_F_VERSION_1 } from "../virtio/features.ts";
 * import { FlowTable } from "./flow_table.ts";
 * import { createDeviceRing, NET_OK, VirtioNetTx } from "./net_datapath.ts";
 * const mem = new GuestMemory();
 * mem.addRegion({ name: "ram", gpa: 0, size: 1 << 20 });
 * const features = featureMask(VIRTIO_F_VERSION_1);
 * const q = { size: 8, descTable: 0x1000, availRing: 0x2000, usedRing: 0x3000, features };
 * const drv = SplitDriver.create(mem, q);
 * const ring = createDeviceRing(mem, { layout: "split", size: 8, desc: 0x1000, driver: 0x2000,
 *   device: 0x3000, features });
 * if (!drv.ok || !ring.ok) throw new Error("setup");
 * mem.fill(0x8000, 12, 0);                  // virtio-net header
 * mem.write(0x800c, new Uint8Array(60).fill(0xab)); // the frame
 * drv.value.addOutbuf(0x8000, 72);
 * const tx = new VirtioNetTx(ring.value, { features, flows: new FlowTable() });
 * if (tx.pop() !== NET_OK || tx.frameLen !== 60) throw new Error("one 60-byte frame");
 * const buf = new Uint8Array(60);
 * tx.copyFrame(buf);
 * tx.complete();
 * tx.flush();
 * if (buf[59] !== 0xab || drv.value.getUsed() < 0 || drv.value.lastLen !== 0) throw new Error();
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { GuestMemory } from "../memory/guest_memory.ts";
import type { Translator } from "../memory/translator.ts";
import { type Chain } from "../virtio/chain.ts";
import {
  hasFeature,
  VIRTIO_F_RING_PACKED,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_MRG_RXBUF,
} from "../virtio/features.ts";
import { netHdrSize, VIRTIO_NET_HDR_F_NEEDS_CSUM } from "../virtio/net_hdr.ts";
import { PackedDevice } from "../virtio/packed_device.ts";
import type { QueueFault } from "../virtio/queue_fault.ts";
import { POP_EMPTY, POP_FAULT, SplitDevice } from "../virtio/split_device.ts";
import { type FlowTable, newPacketId, type PacketId, PAYLOAD_HEADER_OFFSET } from "./flow_table.ts";

/** The device side of one virtqueue, split or packed. */
export type DeviceRing = SplitDevice | PackedDevice;

/** Where a virtqueue is and how the device reaches it (what SET_VRING_ADDR carries). */
export interface DeviceRingSpec {
  readonly layout: "split" | "packed";
  readonly size: number;
  /** Descriptor area (device-visible address). */
  readonly desc: number;
  /** Driver area: avail ring, or the driver event suppression structure. */
  readonly driver: number;
  /** Device area: used ring, or the device event suppression structure. */
  readonly device: number;
  /** Negotiated features. */
  readonly features: bigint;
  /** Descriptor addresses → guest-physical (memory table, IOTLB); default identity. */
  readonly translator?: Translator;
  /** Ring addresses → guest-physical (vhost: HVA → GPA); default `translator`. */
  readonly ringTranslator?: Translator;
}

/** Builds the device side of a queue from its addresses; a layout or mapping fault as a value. */
export function createDeviceRing(
  mem: GuestMemory,
  spec: DeviceRingSpec,
): Result<DeviceRing, QueueFault> {
  const tr = {
    ...(spec.translator ? { translator: spec.translator } : {}),
    ...(spec.ringTranslator ? { ringTranslator: spec.ringTranslator } : {}),
  };
  if (spec.layout === "packed" || hasFeature(spec.features, VIRTIO_F_RING_PACKED)) {
    const r = PackedDevice.create(mem, {
      size: spec.size,
      descRing: spec.desc,
      driverEvent: spec.driver,
      deviceEvent: spec.device,
      features: spec.features,
      ...tr,
    });
    return r.ok ? ok(r.value) : err(r.error);
  }
  const r = SplitDevice.create(mem, {
    size: spec.size,
    descTable: spec.desc,
    availRing: spec.driver,
    usedRing: spec.device,
    features: spec.features,
    ...tr,
  });
  return r.ok ? ok(r.value) : err(r.error);
}

/** The operation worked. */
export const NET_OK = 0;
/** TX: nothing to pop. */
export const NET_EMPTY = 1;
/** The ring is malformed; the ring's `fault` says how (the queue is stopped). */
export const NET_FAULT = 2;
/** RX: the driver has posted no (or not enough) receive buffers. */
export const NET_NO_BUFFER = 3;
/** RX: the frame does not fit the posted buffer and MRG_RXBUF is off. */
export const NET_TOO_BIG = 4;
/**
 * TX: a chain the device cannot use (no room for the header, a device-writable descriptor,
 * an offload that was not negotiated): `problem` says what. The chain was consumed.
 */
export const NET_BAD_CHAIN = 5;

/** What both directions share. */
interface NetQueueOptions {
  /** Negotiated features (header size, MRG_RXBUF, offloads). */
  readonly features: bigint;
  /** The lab's traffics, to identify packets. */
  readonly flows: FlowTable;
}

/** Device-side TX of one virtio-net transmit queue; see the module documentation. */
export class VirtioNetTx {
  /** The ring. */
  readonly ring: DeviceRing;
  /** The virtio-net header size in force (virtio 1.2 §5.1.6.1). */
  readonly hdrLen: number;
  /** Identity of the last popped packet (flow undefined: not one of the lab's). */
  readonly id: PacketId = newPacketId();
  /** Head (split) or buffer id (packed) of the last popped chain. */
  head = -1;
  /** Descriptors the last chain used. */
  descs = 0;
  /** Device-readable bytes of the last chain (header included). */
  chainBytes = 0;
  /** Frame bytes of the last chain (header excluded). */
  frameLen = 0;
  /** Header flags of the last chain. */
  hdrFlags = 0;
  /** What was wrong with the last chain after {@link NET_BAD_CHAIN}. */
  problem = "";
  readonly #csum: boolean;
  readonly #flows: FlowTable;
  readonly #scratch = new Uint8Array(16);
  readonly #hdr = new Uint8Array(32);

  /** TX on `ring` with the negotiated `features`. */
  constructor(ring: DeviceRing, options: NetQueueOptions) {
    this.ring = ring;
    this.hdrLen = netHdrSize(options.features);
    this.#csum = hasFeature(options.features, VIRTIO_NET_F_CSUM);
    this.#flows = options.flows;
  }

  /** The chain of the last pop. */
  get chain(): Chain {
    return this.ring.chain;
  }

  /**
   * Pops the next TX chain: {@link NET_OK}, {@link NET_EMPTY}, {@link NET_FAULT} or
   * {@link NET_BAD_CHAIN} (already completed with len 0: the device dropped it).
   */
  pop(): number {
    const head = this.ring.pop();
    if (head === POP_EMPTY) return NET_EMPTY;
    if (head === POP_FAULT) return NET_FAULT;
    const c = this.ring.chain;
    this.head = head;
    this.descs = c.descriptors;
    this.chainBytes = c.readableBytes;
    this.frameLen = c.readableBytes - this.hdrLen;
    this.hdrFlags = 0;
    this.id.flow = undefined;
    this.id.seq = 0;
    // vhost handle_tx: "Unexpected descriptor format for TX: out %d, int %d".
    if (c.writableBytes > 0) return this.#bad("device-writable descriptor in a TX chain");
    // QEMU virtio_net_flush_tx: "virtio-net header not in first element"; §5.1.6.2.
    if (this.frameLen < 0) {
      return this.#bad(`TX chain of ${c.readableBytes} bytes is shorter than the header`);
    }
    c.copyOut(this.#hdr, 0, 0);
    this.hdrFlags = this.#hdr[0] as number;
    // §5.1.6.2.1: NEEDS_CSUM only when CSUM was negotiated (tun: virtio_net_hdr_to_skb -EINVAL).
    if ((this.hdrFlags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0 && !this.#csum) {
      return this.#bad("NEEDS_CSUM set but CSUM was not negotiated");
    }
    if (c.copyOut(this.#scratch, 0, this.hdrLen + PAYLOAD_HEADER_OFFSET) === 16) {
      this.#flows.identifyHeader(this.#scratch, 0, this.id);
    }
    return NET_OK;
  }

  #bad(problem: string): number {
    this.problem = problem;
    this.ring.fillUsed(this.head, 0);
    return NET_BAD_CHAIN;
  }

  /**
   * Copies the frame of the last chain (header stripped; `keepHeader` copies it too, as
   * QEMU does for a tap with vnet_hdr) into `dst` at `off`. Returns the bytes copied.
   */
  copyFrame(dst: Uint8Array, off = 0, keepHeader = false): number {
    const skip = keepHeader ? 0 : this.hdrLen;
    return this.ring.chain.copyOut(dst, off, skip);
  }

  /**
   * A zero-copy view of the frame when it lies in one segment of one guest-memory chunk
   * (what a DMA engine reads in place), else undefined: use {@link copyFrame}.
   */
  frameView(mem: GuestMemory): Uint8Array | undefined {
    const c = this.ring.chain;
    let skip = this.hdrLen;
    for (let i = 0; i < c.readable; i++) {
      const len = c.len[i] as number;
      if (skip >= len) {
        skip -= len;
        continue;
      }
      if (len - skip < this.frameLen) return undefined;
      return mem.view((c.addr[i] as number) + skip, this.frameLen);
    }
    return undefined;
  }

  /** Stages the used element of the last chain (TX used len is 0). */
  complete(): void {
    this.ring.fillUsed(this.head, 0);
  }

  /** Publishes the staged used elements with one index store. */
  flush(): void {
    this.ring.flushUsed();
  }

  /** After a flush: does the driver want an interrupt now? */
  needsInterrupt(): boolean {
    return this.ring.needsInterrupt();
  }
}

/** Options of {@link VirtioNetRx}. */
export interface VirtioNetRxOptions extends NetQueueOptions {
  /** Header bytes the frame arrives with (`tap` vnet_hdr), copied as the guest header. */
  readonly hostHdr?: boolean;
}

/** Device-side RX of one virtio-net receive queue; see the module documentation. */
export class VirtioNetRx {
  /** The ring. */
  readonly ring: DeviceRing;
  /** The virtio-net header size in force. */
  readonly hdrLen: number;
  /** MRG_RXBUF negotiated: a frame may span several buffers. */
  readonly mergeable: boolean;
  /** Buffers the last delivered frame used (`num_buffers`). */
  buffers = 0;
  /** Bytes written by the last delivery (header included). */
  written = 0;
  /** Head/id of the first buffer of the last delivery. */
  head = -1;
  /** Descriptors of the last delivery's buffers. */
  descs = 0;
  readonly #hdr = new Uint8Array(32);
  readonly #mem: GuestMemory;

  /** RX on `ring` (whose bytes are in `mem`) with the negotiated features. */
  constructor(ring: DeviceRing, mem: GuestMemory, options: NetQueueOptions) {
    this.ring = ring;
    this.#mem = mem;
    this.hdrLen = netHdrSize(options.features);
    this.mergeable = hasFeature(options.features, VIRTIO_NET_F_MRG_RXBUF);
  }

  /** True when the driver has posted at least one receive buffer (may pop). */
  hasBuffer(): boolean {
    const r = this.ring;
    return r instanceof SplitDevice ? r.availCount() > 0 : r.hasAvail();
  }

  /**
   * Writes a header (zeroed; `num_buffers` set) and `frame[off, off+len)` into the guest's
   * receive buffers and stages their used elements. {@link NET_OK}, {@link NET_NO_BUFFER}
   * (nothing was consumed — with MRG_RXBUF also when the buffers ran out mid-frame: they were
   * given back; the frame should wait for the guest's refill), {@link NET_TOO_BIG} (the chain
   * was returned with len 0 — the frame is dropped) or {@link NET_FAULT}.
   */
  deliver(frame: Uint8Array, off: number, len: number): number {
    const ring = this.ring;
    const need = this.hdrLen + len;
    // QEMU virtio_net_has_buffers / vhost get_rx_bufs: check before consuming anything.
    if (ring instanceof SplitDevice) {
      const n = ring.availCount();
      if (n < 0) return NET_FAULT;
      if (n === 0) return NET_NO_BUFFER;
    } else if (!ring.hasAvail()) {
      return ring.broken ? NET_FAULT : NET_NO_BUFFER;
    }
    const hdr = this.#hdr;
    hdr.fill(0, 0, this.hdrLen);
    let head = ring.pop();
    if (head === POP_FAULT) return NET_FAULT;
    if (head === POP_EMPTY) return NET_NO_BUFFER;
    let c = ring.chain;
    this.head = head;
    this.descs = c.descriptors;
    if (!this.mergeable) {
      // §5.1.6.3.1: without MRG_RXBUF one chain must hold the whole packet.
      if (c.writableBytes < need) {
        ring.fillUsed(head, 0);
        this.buffers = 0;
        this.written = 0;
        return NET_TOO_BIG;
      }
      hdr[10] = 1; // num_buffers (always present for VERSION_1 headers)
      c.copyIn(hdr, 0, this.hdrLen);
      c.copyIn(frame, off, len, this.hdrLen);
      ring.fillUsed(head, need);
      this.buffers = 1;
      this.written = need;
      return NET_OK;
    }
    // MRG_RXBUF: the header sits in the first buffer; num_buffers is patched in at the end.
    const firstWritable = c.readable;
    const hdrGpa = c.addr[firstWritable] as number;
    if ((c.len[firstWritable] as number) < this.hdrLen) {
      ring.fillUsed(head, 0);
      this.buffers = 0;
      this.written = 0;
      return NET_TOO_BIG;
    }
    c.copyIn(hdr, 0, this.hdrLen);
    let done = 0;
    let buffers = 0;
    let skip = this.hdrLen;
    for (;;) {
      const room = c.writableBytes - skip;
      const n = room < len - done ? room : len - done;
      if (n > 0) c.copyIn(frame, off + done, n, skip);
      done += n;
      ring.fillUsed(head, skip + n);
      buffers++;
      if (done >= len) break;
      head = ring.pop();
      if (head === POP_FAULT) return NET_FAULT;
      if (head === POP_EMPTY) {
        // Out of buffers mid-frame: never a partial frame. The buffers go back (vhost
        // get_rx_bufs → vhost_discard_vq_desc; QEMU checks virtio_net_has_buffers first).
        ring.rewind(buffers);
        this.buffers = 0;
        this.written = 0;
        return NET_NO_BUFFER;
      }
      c = ring.chain;
      this.descs += c.descriptors;
      skip = 0;
    }
    this.#mem.setU16(hdrGpa + 10, buffers);
    this.buffers = buffers;
    this.written = this.hdrLen + done;
    return NET_OK;
  }

  /** Publishes the staged used elements with one index store. */
  flush(): void {
    this.ring.flushUsed();
  }

  /** After a flush: does the driver want an interrupt now? */
  needsInterrupt(): boolean {
    return this.ring.needsInterrupt();
  }
}
