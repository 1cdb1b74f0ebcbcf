/**
 * The back-end side of one vhost-user connection, as DPDK's rte_vhost implements it
 * (lib/vhost/vhost_user.c): every front-end request is decoded from bytes, validated, applied
 * to the device state, and answered by the rules of reference §5.8 — a reply with flags 0x5
 * to requests that always have one, a u64 ack (0 ok, 1 failure) to any request that asked
 * for one with NEED_REPLY, and, for a failed request that did not ask, the connection is
 * closed ("vhost message handling failed").
 *
 * After each message the vrings' readiness is re-evaluated (rings translated, kick and call
 * fds set, enabled; reference §5.5) and reported through the application's callbacks:
 * `vringStateChanged` per ring and `newDevice` once the first queue pair is ready (and, with
 * the STATUS protocol feature, the front-end has set DRIVER_OK). GET_VRING_BASE stops the
 * ring and calls `destroyDevice`.
 *
 * @example GET_FEATURES answered with the driver's features
 * ```ts
 * import { VhostUserBackendDevice } from "./backend_device.ts";
 * import { decodeMessage, encodeMessage, VHOST_USER_GET_FEATURES, VHOST_USER_VERSION } from "./protocol.ts";
 * const dev = new VhostUserBackendDevice({
 *   path: "/tmp/vu", features: 0x140000000n, protocolFeatures: 0n, maxQueuePairs: 1, ops: {},
 * }, 0);
 * const out = dev.receive(encodeMessage({ request: VHOST_USER_GET_FEATURES, flags: VHOST_USER_VERSION, payload: { kind: "none" } }), []);
 * const reply = decodeMessage(out.replies[0]?.bytes ?? new Uint8Array(), "reply");
 * if (!reply.ok || reply.value.flags !== 0x5 || reply.value.payload.kind !== "u64" || reply.value.payload.value !== 0x140000000n) {
 *   throw new Error("GET_FEATURES reply");
 * }
 * ```
 *
 * @module
 */

import { PackedDevice } from "../../virtio/packed_device.ts";
import { SplitDevice } from "../../virtio/split_device.ts";
import { describeQueueFault } from "../../virtio/queue_fault.ts";
import {
  hasFeature,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_VERSION_1,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_F_MRG_RXBUF,
} from "../../virtio/features.ts";
import { VIRTIO_CONFIG_S_DRIVER_OK } from "../../virtio/defs.ts";
import { BackendMemory, describeBackendMemoryError } from "./backend_memory.ts";
import { BackendVring, type VringFile } from "./backend_vring.ts";
import { EventFd, SocketFd, type VhostUserFd } from "./fd.ts";
import {
  decodeMessage,
  describeProtocolError,
  encodeMessage,
  hasProtocolFeature,
  requestName,
  requestSpec,
  VHOST_USER_F_PROTOCOL_FEATURES,
  VHOST_USER_GET_FEATURES,
  VHOST_USER_GET_PROTOCOL_FEATURES,
  VHOST_USER_GET_QUEUE_NUM,
  VHOST_USER_GET_STATUS,
  VHOST_USER_GET_VRING_BASE,
  VHOST_USER_NEED_REPLY_MASK,
  VHOST_USER_NET_SET_MTU,
  VHOST_USER_PROTOCOL_F_STATUS,
  VHOST_USER_REPLY_MASK,
  VHOST_USER_RESET_OWNER,
  VHOST_USER_SEND_RARP,
  VHOST_USER_SET_BACKEND_REQ_FD,
  VHOST_USER_SET_FEATURES,
  VHOST_USER_SET_LOG_BASE,
  VHOST_USER_SET_LOG_FD,
  VHOST_USER_SET_MEM_TABLE,
  VHOST_USER_SET_OWNER,
  VHOST_USER_SET_PROTOCOL_FEATURES,
  VHOST_USER_SET_STATUS,
  VHOST_USER_SET_VRING_ADDR,
  VHOST_USER_SET_VRING_BASE,
  VHOST_USER_SET_VRING_CALL,
  VHOST_USER_SET_VRING_ENABLE,
  VHOST_USER_SET_VRING_ERR,
  VHOST_USER_SET_VRING_KICK,
  VHOST_USER_SET_VRING_NUM,
  VHOST_USER_VERSION,
  VHOST_USER_VRING_IDX_MASK,
  VHOST_USER_VRING_NOFD_MASK,
  type VhostUserMessage,
  type VhostUserPayload,
} from "./protocol.ts";

/** rte_vhost's limit on vrings per device (VHOST_MAX_VRING). */
export const VHOST_MAX_VRING = 0x100;
/** rte_vhost's default queue-pair limit (VHOST_MAX_QUEUE_PAIRS). */
export const VHOST_MAX_QUEUE_PAIRS = 0x80;
/** Vrings that must be ready before a net device runs (VIRTIO_BUILTIN_NUM_VQS_TO_BE_READY). */
const NUM_VQS_TO_BE_READY = 2;
const VIRTIO_MIN_MTU = 68;
const VIRTIO_MAX_MTU = 65535;

/** The application's callbacks (rte_vhost `struct rte_vhost_device_ops`). */
export interface VhostDeviceOps {
  /** The device can run: its first queue pair is ready. Return false to refuse it. */
  newDevice?(dev: VhostUserBackendDevice): boolean;
  /** The device stops (GET_VRING_BASE, disconnect). */
  destroyDevice?(dev: VhostUserBackendDevice): void;
  /** A vring became ready or stopped being ready. */
  vringStateChanged?(dev: VhostUserBackendDevice, index: number, enable: boolean): void;
}

/** What the socket was registered with (rte_vhost_driver_register and its setters). */
export interface BackendDriver {
  /** The socket path (rte_vhost's `ifname`). */
  readonly path: string;
  /** Virtio features offered (after rte_vhost_driver_disable_features). */
  readonly features: bigint;
  /** Protocol features offered. */
  readonly protocolFeatures: bigint;
  /** GET_QUEUE_NUM answer. */
  readonly maxQueuePairs: number;
  readonly ops: VhostDeviceOps;
}

/** What the back-end sends back for one incoming message. */
export interface BackendOutput {
  /** Replies, in order. */
  readonly replies: readonly { readonly bytes: Uint8Array; readonly fds: readonly VhostUserFd[] }[];
  /** True when the back-end closes the connection after this message. */
  readonly close: boolean;
}

type HandlerResult =
  | { readonly r: "ok" }
  | { readonly r: "reply"; readonly payload: VhostUserPayload }
  | { readonly r: "err"; readonly why: string };

const OK: HandlerResult = { r: "ok" };

function fail(why: string): HandlerResult {
  return { r: "err", why };
}

/** One connected device (rte_vhost `struct virtio_net`); see the module documentation. */
export class VhostUserBackendDevice {
  /** rte_vhost's device id. */
  readonly vid: number;
  readonly driver: BackendDriver;
  /** Negotiated virtio features (SET_FEATURES). */
  features = 0n;
  /** Negotiated protocol features (SET_PROTOCOL_FEATURES). */
  protocolFeatures = 0n;
  /** Device status from SET_STATUS (STATUS protocol feature). */
  status = 0;
  /** NET_SET_MTU. */
  mtu = 0;
  /** MAC from SEND_RARP, if any. */
  rarpMac: string | undefined = undefined;
  /** The vrings, by index (allocated as messages name them). */
  readonly vrings: (BackendVring | undefined)[] = [];
  /** SET_MEM_TABLE, mapped. */
  mem: BackendMemory | undefined = undefined;
  /** SET_BACKEND_REQ_FD. */
  backendReq: SocketFd | undefined = undefined;
  /** Header length of a packet in guest buffers (12 with MRG_RXBUF, VERSION_1 or packed). */
  vhostHlen = 10;
  /** rte_vhost VHOST_CONFIG log lines, oldest first. */
  readonly log: string[] = [];
  #running = false;
  #ready = false;
  #closed = false;

  constructor(driver: BackendDriver, vid: number) {
    this.driver = driver;
    this.vid = vid;
  }

  /** True once `newDevice` accepted the device and until it is destroyed. */
  get running(): boolean {
    return this.#running;
  }

  /** Vrings allocated so far (rte_vhost `nr_vring`). */
  get nrVring(): number {
    return this.vrings.length;
  }

  /** True when packed rings were negotiated. */
  get packed(): boolean {
    return hasFeature(this.features, VIRTIO_F_RING_PACKED);
  }

  /** Vring `index`, if allocated. */
  vring(index: number): BackendVring | undefined {
    return this.vrings[index];
  }

  #log(line: string): void {
    this.log.push(line);
  }

  /**
   * Handles one message from the front-end (rte_vhost `vhost_user_msg_handler`): returns the
   * replies to send and whether to close the connection. Never throws on bad input.
   */
  receive(bytes: Uint8Array, fds: readonly VhostUserFd[]): BackendOutput {
    if (this.#closed) return { replies: [], close: true };
    const decoded = decodeMessage(bytes, "request");
    if (!decoded.ok) {
      this.#log(`vhost read message failed: ${describeProtocolError(decoded.error)}`);
      return { replies: [], close: true };
    }
    const msg = decoded.value;
    const spec = requestSpec(msg.request);
    if (spec !== undefined) this.#log(`read message ${spec.name}`);
    const alloc = this.#allocVring(msg);
    if (alloc !== undefined) {
      this.#log(alloc);
      return { replies: [], close: true };
    }
    let result: HandlerResult;
    if (spec === undefined || !this.#handles(msg.request)) {
      this.#log(`vhost message (req: ${msg.request}) was not handled.`);
      result = fail("not handled");
    } else if (spec.fds === "none" && fds.length > 0) {
      this.#log(`expect 0 FDs for request ${spec.name}, received ${fds.length}`);
      result = fail("unexpected fds");
    } else {
      result = this.#dispatch(msg, fds);
      if (result.r === "err") this.#log(`processing ${spec.name} failed.`);
    }
    const replies: { bytes: Uint8Array; fds: VhostUserFd[] }[] = [];
    let needReply = (msg.flags & VHOST_USER_NEED_REPLY_MASK) !== 0;
    if (result.r === "reply") {
      replies.push({ bytes: this.#reply(msg.request, result.payload), fds: [] });
      needReply = false; // send_vhost_reply clears NEED_REPLY: no second ack
    }
    let close = false;
    if (needReply) {
      // vhost-user.rst REPLY_ACK: u64 0 on success, non-zero on failure.
      replies.push({
        bytes: this.#reply(msg.request, { kind: "u64", value: result.r === "err" ? 1n : 0n }),
        fds: [],
      });
    } else if (result.r === "err") {
      this.#log("vhost message handling failed.");
      close = true;
    }
    if (!close) this.#updateReadiness();
    return { replies, close };
  }

  /** The connection went away: stop the device (rte_vhost `vhost_destroy_device`). */
  disconnected(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#log("vhost peer closed");
    this.#destroyNotify();
    for (const vq of this.vrings) {
      if (vq === undefined) continue;
      vq.invalidate();
      if (vq.ready) {
        vq.ready = false;
        this.driver.ops.vringStateChanged?.(this, vq.index, false);
      }
    }
  }

  #reply(request: number, payload: VhostUserPayload): Uint8Array {
    return encodeMessage({
      request,
      flags: VHOST_USER_VERSION | VHOST_USER_REPLY_MASK,
      payload,
    });
  }

  #handles(request: number): boolean {
    return HANDLED.has(request);
  }

  /** rte_vhost `vhost_user_check_and_alloc_queue_pair`; a message for a failure. */
  #allocVring(msg: VhostUserMessage): string | undefined {
    let idx: number;
    const p = msg.payload;
    switch (msg.request) {
      case VHOST_USER_SET_VRING_KICK:
      case VHOST_USER_SET_VRING_CALL:
      case VHOST_USER_SET_VRING_ERR:
        if (p.kind !== "u64") return undefined;
        idx = Number(p.value & BigInt(VHOST_USER_VRING_IDX_MASK));
        break;
      case VHOST_USER_SET_VRING_NUM:
      case VHOST_USER_SET_VRING_BASE:
      case VHOST_USER_GET_VRING_BASE:
      case VHOST_USER_SET_VRING_ENABLE:
        if (p.kind !== "state") return undefined;
        idx = p.index;
        break;
      case VHOST_USER_SET_VRING_ADDR:
        if (p.kind !== "addr") return undefined;
        idx = p.index;
        break;
      default:
        return undefined;
    }
    if (idx >= VHOST_MAX_VRING) return `invalid vring index: ${idx}`;
    while (this.vrings.length <= idx) this.vrings.push(new BackendVring(this.vrings.length));
    return undefined;
  }

  #dispatch(msg: VhostUserMessage, fds: readonly VhostUserFd[]): HandlerResult {
    const p = msg.payload;
    switch (msg.request) {
      case VHOST_USER_GET_FEATURES:
        return { r: "reply", payload: { kind: "u64", value: this.driver.features } };
      case VHOST_USER_SET_FEATURES:
        return p.kind === "u64" ? this.#setFeatures(p.value) : fail("payload");
      case VHOST_USER_SET_OWNER:
        return OK;
      case VHOST_USER_RESET_OWNER:
        this.#destroyNotify();
        return OK;
      case VHOST_USER_GET_PROTOCOL_FEATURES:
        return { r: "reply", payload: { kind: "u64", value: this.driver.protocolFeatures } };
      case VHOST_USER_SET_PROTOCOL_FEATURES:
        return p.kind === "u64" ? this.#setProtocolFeatures(p.value) : fail("payload");
      case VHOST_USER_GET_QUEUE_NUM:
        return { r: "reply", payload: { kind: "u64", value: BigInt(this.driver.maxQueuePairs) } };
      case VHOST_USER_SET_MEM_TABLE:
        return p.kind === "memory" ? this.#setMemTable(p.regions, fds) : fail("payload");
      case VHOST_USER_SET_VRING_NUM:
        return p.kind === "state" ? this.#setVringNum(p.index, p.num) : fail("payload");
      case VHOST_USER_SET_VRING_ADDR:
        return p.kind === "addr" ? this.#setVringAddr(p) : fail("payload");
      case VHOST_USER_SET_VRING_BASE:
        return p.kind === "state" ? this.#setVringBase(p.index, p.num) : fail("payload");
      case VHOST_USER_GET_VRING_BASE:
        return p.kind === "state" ? this.#getVringBase(p.index) : fail("payload");
      case VHOST_USER_SET_VRING_KICK:
      case VHOST_USER_SET_VRING_CALL:
      case VHOST_USER_SET_VRING_ERR:
        return p.kind === "u64" ? this.#setVringFile(msg.request, p.value, fds) : fail("payload");
      case VHOST_USER_SET_VRING_ENABLE:
        return p.kind === "state" ? this.#setVringEnable(p.index, p.num !== 0) : fail("payload");
      case VHOST_USER_SEND_RARP:
        if (p.kind !== "u64") return fail("payload");
        this.rarpMac = macOf(p.value);
        return OK;
      case VHOST_USER_NET_SET_MTU:
        if (p.kind !== "u64") return fail("payload");
        if (p.value < BigInt(VIRTIO_MIN_MTU) || p.value > BigInt(VIRTIO_MAX_MTU)) {
          this.#log(`invalid MTU size (${p.value})`);
          return fail("mtu");
        }
        this.mtu = Number(p.value);
        return OK;
      case VHOST_USER_SET_BACKEND_REQ_FD: {
        const fd = fds[0];
        if (fds.length !== 1) return this.#fdCount(msg.request, 1, fds.length);
        if (!(fd instanceof SocketFd)) {
          this.#log("invalid file descriptor for backend channel");
          return fail("fd");
        }
        this.backendReq = fd;
        return OK;
      }
      case VHOST_USER_SET_LOG_BASE:
      case VHOST_USER_SET_LOG_FD:
        // Dirty logging is a live-migration feature the lab does not run.
        this.#log("not implemented.");
        return fds.length === 1 ? OK : this.#fdCount(msg.request, 1, fds.length);
      case VHOST_USER_SET_STATUS:
        if (p.kind !== "u64") return fail("payload");
        this.status = Number(p.value & 0xffn);
        return OK;
      case VHOST_USER_GET_STATUS:
        return { r: "reply", payload: { kind: "u64", value: BigInt(this.status) } };
      default:
        return fail("not handled");
    }
  }

  #fdCount(request: number, want: number, got: number): HandlerResult {
    this.#log(`expect ${want} FDs for request ${requestName(request)}, received ${got}`);
    return fail("fd count");
  }

  #setFeatures(features: bigint): HandlerResult {
    if ((features & ~this.driver.features) !== 0n) {
      this.#log("received invalid negotiated features.");
      return fail("features");
    }
    if (this.#running && features !== this.features) {
      // Only LOG_ALL may change while running (live migration start).
      if (((this.features ^ features) & ~(1n << 26n)) !== 0n) {
        this.#log("features changed while device is running.");
        return fail("features");
      }
    }
    this.features = features;
    this.vhostHlen = hasFeature(features, VIRTIO_NET_F_MRG_RXBUF) ||
        hasFeature(features, VIRTIO_F_VERSION_1) || hasFeature(features, VIRTIO_F_RING_PACKED)
      ? 12
      : 10;
    this.#log(`negotiated Virtio features: 0x${features.toString(16)}`);
    if (!hasFeature(features, VIRTIO_NET_F_MQ)) {
      // Without MQ only the first queue pair exists.
      while (this.vrings.length > 2) this.vrings.pop();
    }
    return OK;
  }

  #setProtocolFeatures(features: bigint): HandlerResult {
    if ((features & ~this.driver.protocolFeatures) !== 0n) {
      this.#log("received invalid protocol features.");
      return fail("protocol features");
    }
    this.protocolFeatures = features;
    this.#log(`negotiated Vhost-user protocol features: 0x${features.toString(16)}`);
    return OK;
  }

  #setMemTable(
    regions: readonly {
      guestPhysAddr: number;
      memorySize: number;
      userspaceAddr: number;
      mmapOffset: number;
    }[],
    fds: readonly VhostUserFd[],
  ): HandlerResult {
    if (fds.length !== regions.length) {
      return this.#fdCount(VHOST_USER_SET_MEM_TABLE, regions.length, fds.length);
    }
    if (this.mem?.sameAs(regions)) {
      this.#log("memory regions not changed");
      return OK;
    }
    const mapped = BackendMemory.map(regions, fds);
    if (!mapped.ok) {
      this.#log(describeBackendMemoryError(mapped.error));
      this.mem = undefined;
      return fail("mmap");
    }
    for (const vq of this.vrings) vq?.invalidate();
    this.mem = mapped.value;
    for (const m of mapped.value.regions) {
      this.#log(
        `guest memory region size: 0x${m.memorySize.toString(16)} guest physical addr: 0x${
          m.guestPhysAddr.toString(16)
        } guest virtual addr: 0x${m.userspaceAddr.toString(16)}`,
      );
    }
    // New addresses: rings that were translated must be translated again.
    for (const vq of this.vrings) {
      if (vq?.addrs !== undefined && vq.kick !== undefined) this.#translate(vq);
    }
    return OK;
  }

  #setVringNum(index: number, num: number): HandlerResult {
    const vq = this.vrings[index] as BackendVring;
    // virtio 1.2 §2.6: at most 32768; split rings need a power of 2, packed rings do not.
    if (num > 32768 || (!this.packed && (num & (num - 1)) !== 0)) {
      this.#log(`invalid virtqueue size ${num}`);
      return fail("size");
    }
    vq.size = num;
    return OK;
  }

  #setVringAddr(p: Extract<VhostUserPayload, { kind: "addr" }>): HandlerResult {
    if (this.mem === undefined) return fail("no memory table");
    const vq = this.vrings[p.index] as BackendVring;
    const accessOk = vq.queue !== undefined;
    vq.invalidate();
    vq.addrs = { desc: p.desc, used: p.used, avail: p.avail, log: p.log, flags: p.flags };
    // Ring addresses are only interpreted once the ring is started and enabled (§5.5).
    if ((vq.enabled && hasFeature(this.features, VHOST_USER_F_PROTOCOL_FEATURES)) || accessOk) {
      this.#translate(vq);
    }
    return OK;
  }

  #setVringBase(index: number, num: number): HandlerResult {
    const vq = this.vrings[index] as BackendVring;
    if (this.packed) {
      vq.lastAvailIdx = num & 0x7fff;
      vq.availWrap = (num >> 15) & 1;
      vq.lastUsedIdx = vq.lastAvailIdx;
      vq.usedWrap = vq.availWrap;
    } else {
      vq.lastAvailIdx = num & 0xffff;
      vq.lastUsedIdx = num & 0xffff;
    }
    this.#log(
      `vring base idx:${index} last_used_idx:${vq.lastUsedIdx} last_avail_idx:${vq.lastAvailIdx}.`,
    );
    return OK;
  }

  #getVringBase(index: number): HandlerResult {
    const vq = this.vrings[index] as BackendVring;
    // The ring stops: the application must stop using the device first.
    this.#destroyNotify();
    this.#ready = false;
    const base = vq.currentBase();
    vq.invalidate();
    this.#log(`vring base idx:${index} file:${base}`);
    // The back-end drops its copies of the fds (QEMU keeps its own).
    vq.kick = undefined;
    vq.call = undefined;
    vq.addrs = undefined;
    return { r: "reply", payload: { kind: "state", index, num: base } };
  }

  #setVringFile(request: number, u64: bigint, fds: readonly VhostUserFd[]): HandlerResult {
    const nofd = (u64 & BigInt(VHOST_USER_VRING_NOFD_MASK)) !== 0n;
    if (fds.length !== (nofd ? 0 : 1)) return this.#fdCount(request, nofd ? 0 : 1, fds.length);
    const index = Number(u64 & BigInt(VHOST_USER_VRING_IDX_MASK));
    const vq = this.vrings[index] as BackendVring;
    let file: VringFile = "nofd";
    if (!nofd) {
      const fd = fds[0];
      if (!(fd instanceof EventFd)) {
        this.#log(`vring file idx:${index} is not an eventfd`);
        return fail("fd");
      }
      file = fd;
    }
    if (request === VHOST_USER_SET_VRING_ERR) return OK; // rte_vhost: not implemented
    if (request === VHOST_USER_SET_VRING_KICK) {
      this.#log(`vring kick idx:${index} file:${nofd ? "-1" : "eventfd"}`);
      // Interpret ring addresses only when the ring is started (first kick fd).
      this.#translate(vq);
      if (!hasFeature(this.features, VHOST_USER_F_PROTOCOL_FEATURES)) {
        // §5.5: without protocol features a ring is enabled as soon as it starts.
        vq.enabled = true;
      }
    } else {
      this.#log(`vring call idx:${index} file:${nofd ? "-1" : "eventfd"}`);
    }
    if (vq.ready) {
      vq.ready = false;
      this.driver.ops.vringStateChanged?.(this, vq.index, false);
    }
    if (request === VHOST_USER_SET_VRING_KICK) vq.kick = file;
    else vq.call = file;
    return OK;
  }

  #setVringEnable(index: number, enable: boolean): HandlerResult {
    const vq = this.vrings[index] as BackendVring;
    this.#log(`set queue enable: ${enable ? 1 : 0} to qp idx: ${index}`);
    vq.enabled = enable;
    return OK;
  }

  /** rte_vhost `translate_ring_addresses`: build the device side of the ring if possible. */
  #translate(vq: BackendVring): void {
    const mem = this.mem;
    const a = vq.addrs;
    if (mem === undefined || a === undefined || vq.queue !== undefined || vq.size === 0) return;
    const common = { features: this.features, translator: mem.gpa, ringTranslator: mem.qva };
    if (this.packed) {
      const q = PackedDevice.fromState(mem.view, {
        layout: "packed",
        size: vq.size,
        descRing: a.desc,
        driverEvent: a.avail,
        deviceEvent: a.used,
        nextAvail: vq.lastAvailIdx,
        availWrap: vq.availWrap,
        nextUsed: vq.lastUsedIdx,
        usedWrap: vq.usedWrap,
        signalledUsed: 0,
        signalledUsedValid: false,
        notifications: true,
        inFlight: [],
      }, common);
      if (!q.ok) {
        this.#log(`failed to map desc_packed ring: ${describeQueueFault(q.error)}`);
        return;
      }
      vq.queue = q.value;
    } else {
      const q = SplitDevice.fromState(mem.view, {
        layout: "split",
        size: vq.size,
        descTable: a.desc,
        availRing: a.avail,
        usedRing: a.used,
        nextAvail: vq.lastAvailIdx,
        nextUsed: vq.lastUsedIdx,
        signalledUsed: 0,
        signalledUsedValid: false,
        notifications: true,
        inFlight: [],
      }, common);
      if (!q.ok) {
        this.#log(`failed to map ring: ${describeQueueFault(q.error)}`);
        return;
      }
      // rte_vhost: a used index that moved on while we were away wins (reconnect).
      const usedIdx = mem.view.getU16(q.value.ringGpas().usedRing + 2);
      if (usedIdx >= 0 && usedIdx !== vq.lastUsedIdx) {
        this.#log(
          `last_used_idx (${vq.lastUsedIdx}) and vq->used->idx (${usedIdx}) mismatches; some packets maybe resent for Tx and dropped for Rx`,
        );
        vq.lastUsedIdx = usedIdx;
        vq.lastAvailIdx = usedIdx;
        const again = SplitDevice.fromState(mem.view, {
          ...q.value.toState(),
          nextAvail: usedIdx,
          nextUsed: usedIdx,
        }, common);
        if (!again.ok) return;
        vq.queue = again.value;
      } else {
        vq.queue = q.value;
      }
    }
  }

  /** Recomputes readiness after a message; calls the application's callbacks. */
  #updateReadiness(): void {
    for (const vq of this.vrings) {
      if (vq === undefined) continue;
      const cur = vqIsReady(vq);
      if (cur !== vq.ready) {
        vq.ready = cur;
        if (cur && vq.notifEnable !== undefined) {
          this.enableGuestNotification(vq.index, vq.notifEnable);
        }
        this.driver.ops.vringStateChanged?.(this, vq.index, cur);
      }
    }
    if (!this.#isReady()) return;
    if (!this.#running) {
      const accepted = this.driver.ops.newDevice?.(this) ?? true;
      if (accepted) this.#running = true;
    }
  }

  /** rte_vhost `virtio_is_ready`. */
  #isReady(): boolean {
    if (this.#ready) return true;
    if (this.vrings.length < NUM_VQS_TO_BE_READY) return false;
    for (let i = 0; i < NUM_VQS_TO_BE_READY; i++) {
      const vq = this.vrings[i];
      if (vq === undefined || !vqIsReady(vq)) return false;
    }
    // With STATUS the front-end says when it is done configuring.
    if (
      hasProtocolFeature(this.protocolFeatures, VHOST_USER_PROTOCOL_F_STATUS) &&
      (this.status & VIRTIO_CONFIG_S_DRIVER_OK) === 0
    ) {
      return false;
    }
    this.#ready = true;
    if (!this.#running) this.#log("virtio is now ready for processing.");
    return true;
  }

  #destroyNotify(): void {
    if (!this.#running) return;
    this.#running = false;
    this.driver.ops.destroyDevice?.(this);
  }

  /**
   * rte_vhost_enable_guest_notification: ask the guest to kick (true) or not (false). Split
   * rings without EVENT_IDX set or clear VRING_USED_F_NO_NOTIFY; with EVENT_IDX only enabling
   * writes avail_event (rte_vhost never advances it while disabled); packed rings write the
   * device event suppression flags.
   */
  enableGuestNotification(index: number, enable: boolean): boolean {
    const vq = this.vrings[index];
    if (vq === undefined) return false;
    vq.notifEnable = enable;
    const q = vq.queue;
    if (q === undefined || !vq.ready) return true; // applied when the ring becomes ready
    if (enable) q.enableNotifications();
    else q.disableNotifications();
    return true;
  }
}

/** The requests rte_vhost has a handler for (the others are "not handled"). */
const HANDLED = new Set<number>([
  VHOST_USER_GET_FEATURES,
  VHOST_USER_SET_FEATURES,
  VHOST_USER_SET_OWNER,
  VHOST_USER_RESET_OWNER,
  VHOST_USER_SET_MEM_TABLE,
  VHOST_USER_SET_LOG_BASE,
  VHOST_USER_SET_LOG_FD,
  VHOST_USER_SET_VRING_NUM,
  VHOST_USER_SET_VRING_ADDR,
  VHOST_USER_SET_VRING_BASE,
  VHOST_USER_GET_VRING_BASE,
  VHOST_USER_SET_VRING_KICK,
  VHOST_USER_SET_VRING_CALL,
  VHOST_USER_SET_VRING_ERR,
  VHOST_USER_GET_PROTOCOL_FEATURES,
  VHOST_USER_SET_PROTOCOL_FEATURES,
  VHOST_USER_GET_QUEUE_NUM,
  VHOST_USER_SET_VRING_ENABLE,
  VHOST_USER_SEND_RARP,
  VHOST_USER_NET_SET_MTU,
  VHOST_USER_SET_BACKEND_REQ_FD,
  VHOST_USER_SET_STATUS,
  VHOST_USER_GET_STATUS,
]);

/** rte_vhost `vq_is_ready`: rings translated, both fds set (NOFD counts), enabled. */
function vqIsReady(vq: BackendVring): boolean {
  return vq.queue !== undefined && vq.kick !== undefined && vq.call !== undefined && vq.enabled;
}

function macOf(u64: bigint): string {
  const b: string[] = [];
  for (let i = 0; i < 6; i++) {
    b.push(Number((u64 >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, "0"));
  }
  return b.join(":");
}
