/**
 * QEMU's side of a vhost-user netdev (net/vhost-user.c, hw/net/vhost_net.c, hw/virtio/vhost.c,
 * hw/virtio/vhost-user.c): the chardev socket in its server or client role, and the exact
 * message sequence QEMU sends, request by request (reference §5.7):
 *
 * - on connect, per queue pair (one `vhost_dev` each, sharing the socket; per-device requests
 *   only from the first): GET_FEATURES; with bit 30: GET_PROTOCOL_FEATURES,
 *   SET_PROTOCOL_FEATURES, GET_QUEUE_NUM (MQ), GET_MAX_MEM_SLOTS (CONFIGURE_MEM_SLOTS);
 *   SET_BACKEND_REQ_FD (BACKEND_REQ); SET_OWNER; GET_FEATURES; SET_VRING_CALL for each vring
 *   with a masked-notifier eventfd;
 * - when the guest writes its feature words ({@link VhostUserFrontend.guestFeaturesWritten}):
 *   SET_VRING_ENABLE for each vring of the active pairs (virtio-net `peer_attach`), each
 *   waiting for the back-end: NEED_REPLY with REPLY_ACK, else a GET_FEATURES round trip;
 * - at DRIVER_OK ({@link VhostUserFrontend.start}, `vhost_net_start`): the enable state again,
 *   SET_FEATURES (acked | bit 30), SET_STATUS FEATURES_OK (STATUS), SET_MEM_TABLE with one fd
 *   per fd-backed RAM section (NEED_REPLY with REPLY_ACK), then per vring SET_VRING_NUM,
 *   SET_VRING_BASE, SET_VRING_ADDR (QEMU virtual addresses), SET_VRING_KICK (the KVM
 *   ioeventfd), SET_VRING_CALL (the irqfd: vhost-user does not use guest-notifier masking),
 *   and SET_STATUS DRIVER_OK (STATUS);
 * - at stop: GET_VRING_BASE per vring (the back-end stops the ring and reports its base).
 *
 * The connection state machine covers the lab's `inject disconnect` / `inject reconnect`:
 * a closed socket takes the link down (the guest sees carrier off), the rings stop (QEMU's
 * GET_VRING_BASE cannot be sent, so it restores each avail index from the used index), and a
 * new connection replays the whole handshake and, if the guest is running, the start
 * sequence from the saved bases.
 *
 * @example A QEMU client that finds nobody listening
 * ```ts
 * import { VhostUserFrontend } from "./frontend.ts";
 * import { describeFrontendError } from "./frontend_error.ts";
 * import { UnixSocketNamespace } from "./unix_socket.ts";
 * const fe = new VhostUserFrontend({
 *   netdev: "net0", owner: "qemu-vm1", queuePairs: 1, ns: new UnixSocketNamespace(),
 *   chardev: { id: "char0", path: "/tmp/vhost-user1", server: false, wait: true, reconnectMs: 0 },
 * });
 * const r = fe.open();
 * if (r.ok || describeFrontendError(r.error)[0] !== "Failed to connect to '/tmp/vhost-user1': No such file or directory") {
 *   throw new Error("QEMU fails at startup");
 * }
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../../result.ts";
import {
  hasFeature,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_RING_PACKED,
  VIRTIO_NET_F_MQ,
} from "../../virtio/features.ts";
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
} from "../../virtio/defs.ts";
import { EventFd, type MemFd, SocketFd, type VhostUserFd } from "./fd.ts";
import { describeFrontendError, type FrontendError } from "./frontend_error.ts";
import { type MessageDirection, type MessageRecord } from "./message_log.ts";
import {
  decodeMessage,
  encodeMessage,
  hasProtocolFeature,
  requestSpec,
  summarizePayload,
  VHOST_MEMORY_BASELINE_NREGIONS,
  VHOST_USER_F_PROTOCOL_FEATURES,
  VHOST_USER_GET_FEATURES,
  VHOST_USER_GET_MAX_MEM_SLOTS,
  VHOST_USER_GET_PROTOCOL_FEATURES,
  VHOST_USER_GET_QUEUE_NUM,
  VHOST_USER_GET_STATUS,
  VHOST_USER_GET_VRING_BASE,
  VHOST_USER_NEED_REPLY_MASK,
  VHOST_USER_PROTOCOL_F_BACKEND_REQ,
  VHOST_USER_PROTOCOL_F_CONFIG,
  VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS,
  VHOST_USER_PROTOCOL_F_MQ,
  VHOST_USER_PROTOCOL_F_REPLY_ACK,
  VHOST_USER_PROTOCOL_F_STATUS,
  VHOST_USER_PROTOCOL_FEATURE_MASK,
  VHOST_USER_REPLY_MASK,
  VHOST_USER_SET_BACKEND_REQ_FD,
  VHOST_USER_SET_FEATURES,
  VHOST_USER_SET_MEM_TABLE,
  VHOST_USER_SET_OWNER,
  VHOST_USER_SET_PROTOCOL_FEATURES,
  VHOST_USER_SET_STATUS,
  VHOST_USER_SET_VRING_ADDR,
  VHOST_USER_SET_VRING_BASE,
  VHOST_USER_SET_VRING_CALL,
  VHOST_USER_SET_VRING_ENABLE,
  VHOST_USER_SET_VRING_KICK,
  VHOST_USER_SET_VRING_NUM,
  VHOST_USER_VERSION,
  VHOST_USER_VRING_IDX_MASK,
  type VhostUserMemoryRegion,
  type VhostUserMessage,
  type VhostUserPayload,
} from "./protocol.ts";
import type { StreamEnd, UnixSocketNamespace } from "./unix_socket.ts";

/** The `-chardev socket` a vhost-user netdev uses. */
export interface ChardevSocket {
  readonly id: string;
  readonly path: string;
  /** `server=on`: QEMU listens, the back-end connects. */
  readonly server: boolean;
  /** `wait=on` (servers only): block start-up until a client connects. */
  readonly wait: boolean;
  /** `reconnect-ms` (clients only): retry interval; 0 means fail if nobody listens. */
  readonly reconnectMs: number;
}

/** A piece of guest RAM as QEMU's vhost memory listener sees it. */
export interface RamSection {
  /** The RAM block name (`mem0`, `pc.ram`). */
  readonly name: string;
  readonly gpa: number;
  readonly size: number;
  /** QEMU's virtual address of its first byte. */
  readonly hva: number;
  /** The block's fd (memory-backend-file/-memfd); undefined for anonymous RAM. */
  readonly fd: MemFd | undefined;
  /** Offset of the section in the fd. */
  readonly fdOffset: number;
}

/** A ring as the guest driver programmed it (guest-physical addresses). */
export interface GuestRing {
  readonly size: number;
  /** Descriptor table / packed descriptor ring. */
  readonly desc: number;
  /** Available ring / driver event suppression area. */
  readonly avail: number;
  /** Used ring / device event suppression area. */
  readonly used: number;
}

/**
 * What QEMU's virtio-net device and KVM give the vhost-user netdev (the VM implements it):
 * memory, the rings, the notifiers, the link, and the virtio core's avail index per queue.
 */
export interface VhostUserDeviceSide {
  /** Guest RAM sections. */
  ramSections(): readonly RamSection[];
  /** Queue `index` (rx = 2n, tx = 2n+1) as the guest programmed it. */
  ring(index: number): GuestRing | undefined;
  /** virtio_queue_get_last_avail_idx (packed: index | wrap << 15). */
  lastAvailIdx(index: number): number;
  /** virtio_queue_set_last_avail_idx after GET_VRING_BASE. */
  setLastAvailIdx(index: number, value: number): void;
  /** virtio_queue_restore_last_avail_idx: when the back-end cannot say, restart at used.idx. */
  restoreLastAvailIdx(index: number): void;
  /** The host notifier of queue `index` (the KVM ioeventfd of its notify address). */
  hostNotifier(index: number): EventFd;
  /** The guest notifier of queue `index` (the irqfd of its MSI-X vector). */
  guestNotifier(index: number): EventFd;
  /** qmp_set_link: the virtio-net link status bit and a config interrupt. */
  setLink(up: boolean): void;
}

/** Where the front-end is. */
export type FrontendState =
  /** Waiting for the back-end (server socket, or a client with reconnect). */
  | "waiting"
  /** Connected and initialised; the rings are not running. */
  | "connected"
  /** DRIVER_OK done: the back-end owns the rings. */
  | "started"
  /** The connection was lost; a reconnect replays the handshake. */
  | "disconnected"
  /** The netdev failed (QEMU exits at start-up, or falls back to userspace virtio later). */
  | "failed";

/** Options of {@link VhostUserFrontend}. */
export interface VhostUserFrontendOptions {
  /** The netdev id. */
  readonly netdev: string;
  readonly chardev: ChardevSocket;
  /** `queues=` of the netdev. */
  readonly queuePairs: number;
  /** The QEMU process name (`qemu-vm1`). */
  readonly owner: string;
  readonly ns: UnixSocketNamespace;
  /** Virtual time for the message records (default: always 0). */
  readonly clock?: () => number;
  /** Called for every message as it goes by. */
  readonly onMessage?: (r: MessageRecord) => void;
  /** Called when the handshake (and, with the guest running, the restart) completed. */
  readonly onConnected?: () => void;
  /** Called when the connection is lost. */
  readonly onDisconnected?: () => void;
}

/** QEMU's vhost-user virtio-net feature bits (hw/net/vhost_net.c `user_feature_bits`). */
export const VHOST_USER_NET_FEATURE_BITS: readonly number[] = [
  24, // VIRTIO_F_NOTIFY_ON_EMPTY
  28, // VIRTIO_RING_F_INDIRECT_DESC
  29, // VIRTIO_RING_F_EVENT_IDX
  27, // VIRTIO_F_ANY_LAYOUT
  32, // VIRTIO_F_VERSION_1
  0, // VIRTIO_NET_F_CSUM
  1, // VIRTIO_NET_F_GUEST_CSUM
  6, // VIRTIO_NET_F_GSO
  7, // VIRTIO_NET_F_GUEST_TSO4
  8, // VIRTIO_NET_F_GUEST_TSO6
  9, // VIRTIO_NET_F_GUEST_ECN
  10, // VIRTIO_NET_F_GUEST_UFO
  11, // VIRTIO_NET_F_HOST_TSO4
  12, // VIRTIO_NET_F_HOST_TSO6
  13, // VIRTIO_NET_F_HOST_ECN
  14, // VIRTIO_NET_F_HOST_UFO
  15, // VIRTIO_NET_F_MRG_RXBUF
  3, // VIRTIO_NET_F_MTU
  33, // VIRTIO_F_IOMMU_PLATFORM
  34, // VIRTIO_F_RING_PACKED
  40, // VIRTIO_F_RING_RESET
  35, // VIRTIO_F_IN_ORDER
  38, // VIRTIO_F_NOTIFICATION_DATA
  60, // VIRTIO_NET_F_RSS
  57, // VIRTIO_NET_F_HASH_REPORT
  54, // VIRTIO_NET_F_GUEST_USO4
  55, // VIRTIO_NET_F_GUEST_USO6
  56, // VIRTIO_NET_F_HOST_USO
  21, // VIRTIO_NET_F_GUEST_ANNOUNCE
  22, // VIRTIO_NET_F_MQ
];

const USER_FEATURE_MASK = VHOST_USER_NET_FEATURE_BITS.reduce((m, b) => m | (1n << BigInt(b)), 0n);

/** The QEMU side of one vhost-user netdev; see the module documentation. */
export class VhostUserFrontend {
  readonly netdev: string;
  readonly chardev: ChardevSocket;
  readonly queuePairs: number;
  readonly owner: string;
  /** Every message so far, in order. */
  readonly messages: MessageRecord[] = [];
  /** What QEMU printed (info and error lines, without the program prefix). */
  readonly log: string[] = [];
  /** GET_FEATURES of the last handshake (bit 30 included). */
  backendFeatures = 0n;
  /** The protocol features QEMU set (SET_PROTOCOL_FEATURES). */
  protocolFeatures = 0n;
  /** What the back-end offered (GET_PROTOCOL_FEATURES). */
  offeredProtocolFeatures = 0n;
  /** GET_QUEUE_NUM, or 1 without MQ. */
  maxQueuePairs = 1;
  /** GET_MAX_MEM_SLOTS, or 8 without CONFIGURE_MEM_SLOTS. */
  memorySlots = VHOST_MEMORY_BASELINE_NREGIONS;
  /** Features the guest acked (kept across reconnects, like QEMU's acked_features). */
  ackedFeatures = 0n;
  /** True when start-up had to wait for the back-end (the socket was not there yet). */
  waited = false;
  /** Handshakes completed (1 + reconnects). */
  connects = 0;
  /** Queue pairs the guest uses (virtio-net curr_queue_pairs). */
  activePairs = 1;
  #ns: UnixSocketNamespace;
  #options: VhostUserFrontendOptions;
  #state: FrontendState = "waiting";
  #end: StreamEnd | undefined = undefined;
  #inbox: { bytes: Uint8Array; fds: readonly VhostUserFd[] }[] = [];
  #device: VhostUserDeviceSide | undefined = undefined;
  #running = false;
  #backendChannel: SocketFd | undefined = undefined;
  #maskedNotifiers: EventFd[] = [];
  #cancelWait: (() => void) | undefined = undefined;
  #listener: { close(o?: { unlink?: boolean }): void } | undefined = undefined;
  #error: FrontendError | undefined = undefined;

  constructor(options: VhostUserFrontendOptions) {
    this.#options = options;
    this.#ns = options.ns;
    this.netdev = options.netdev;
    this.chardev = options.chardev;
    this.queuePairs = options.queuePairs;
    this.owner = options.owner;
  }

  /** Where the front-end is. */
  get state(): FrontendState {
    return this.#state;
  }

  /** The error that failed the netdev, if any. */
  get error(): FrontendError | undefined {
    return this.#error;
  }

  /** True when DRIVER_OK was reached and the rings belong to the back-end. */
  get started(): boolean {
    return this.#state === "started";
  }

  /** The process at the other end, while connected. */
  get peer(): string | undefined {
    return this.#end !== undefined && !this.#end.closed ? this.#end.peerOwner : undefined;
  }

  /** Features the back-end offers the guest: its features within QEMU's vhost-user bits. */
  guestFeatures(deviceFeatures: bigint): bigint {
    let f = deviceFeatures;
    for (const b of VHOST_USER_NET_FEATURE_BITS) {
      if (!hasFeature(this.backendFeatures, b)) f &= ~(1n << BigInt(b));
    }
    return f;
  }

  /**
   * Opens the chardev: a server binds and listens, a client connects. Fails like QEMU at
   * start-up (a client with no listener and no reconnect). Otherwise the netdev completes when
   * the back-end is there — now, or later when it appears (QEMU blocks until then).
   */
  open(): Result<void, FrontendError> {
    const c = this.chardev;
    if (c.server) {
      const l = this.#ns.listen(c.path, this.owner, (end) => this.#accepted(end), {
        unlinkFirst: true,
      });
      if (!l.ok) return this.#fail({ kind: "bind", path: c.path, errno: l.error.kind });
      this.#listener = l.value;
      if (this.#state === "waiting") {
        this.waited = true;
        // char-socket.c tcp_chr_wait_connected: the netdev waits for its back-end.
        this.log.push(
          `info: QEMU waiting for connection on: disconnected:unix:${c.path},server=on`,
        );
      }
      return ok(undefined);
    }
    const r = this.#ns.connect(c.path, this.owner, (end) => this.#attachEnd(end));
    if (r.ok) {
      return this.#state === "failed" && this.#error !== undefined
        ? err(this.#error)
        : ok(undefined);
    }
    if (c.reconnectMs === 0) {
      return this.#fail({ kind: "connect", path: c.path, errno: r.error.kind });
    }
    this.waited = true;
    this.#waitForServer();
    return ok(undefined);
  }

  /** Closes the chardev (the VM quits). */
  close(): void {
    this.#cancelWait?.();
    this.#listener?.close();
    this.#end?.close();
  }

  /** Attaches QEMU's virtio-net device (the VM does it when it realizes the NIC). */
  attach(device: VhostUserDeviceSide): void {
    this.#device = device;
  }

  #now(): number {
    return this.#options.clock?.() ?? 0;
  }

  #fail(e: FrontendError): Result<never, FrontendError> {
    this.#error = e;
    this.#state = "failed";
    return err(e);
  }

  #waitForServer(): void {
    this.#cancelWait = this.#ns.whenListening(this.chardev.path, () => {
      this.#cancelWait = undefined;
      const r = this.#ns.connect(this.chardev.path, this.owner, (end) => this.#attachEnd(end));
      if (!r.ok) this.#waitForServer();
    });
  }

  #accepted(end: StreamEnd): void {
    if (this.#end !== undefined && !this.#end.closed) {
      // char-socket accepts one client at a time; a second one is refused.
      end.close();
      return;
    }
    this.#attachEnd(end);
  }

  #attachEnd(end: StreamEnd): void {
    this.#end = end;
    this.#inbox = [];
    end.onMessage = (bytes, fds) => this.#inbox.push({ bytes, fds });
    end.onClose = () => this.#closed();
    end.onOpen = () => this.#connected(end);
  }

  /** CHR_EVENT_OPENED: vhost_user_start, then the link comes up. */
  #connected(end: StreamEnd): void {
    const init = this.#handshake();
    if (!init.ok) {
      this.#error = init.error;
      for (const line of this.#errorLines(init.error)) this.log.push(line);
      this.#state = "failed";
      // net_vhost_user_event: a failed vhost_user_start disconnects the chardev.
      end.onClose = undefined;
      end.close();
      return;
    }
    this.connects++;
    this.#state = "connected";
    this.#device?.setLink(true);
    if (this.#running && this.#device !== undefined) {
      // The guest is running (a reconnect): virtio_net_set_status restarts vhost from the
      // saved bases. A first connection finds no guest yet: QEMU was blocked until now.
      this.#startRings();
    }
    this.#options.onConnected?.();
  }

  /** CHR_EVENT_CLOSED: link down, rings stopped, wait for the back-end again. */
  #closed(): void {
    const wasStarted = this.#state === "started";
    this.#state = "disconnected";
    this.#device?.setLink(false);
    if (wasStarted && this.#device !== undefined) {
      // vhost_net_stop: GET_VRING_BASE cannot be written on a closed socket; QEMU restores
      // each avail index from the used index (virtio_queue_restore_last_avail_idx).
      for (let i = 0; i < 2 * this.startedPairs; i++) {
        this.log.push("Failed to set msg fds.");
        this.log.push(`vhost VQ ${i} ring restore failed: -22: Invalid argument (22)`);
        this.#device.restoreLastAvailIdx(i);
      }
    }
    this.#backendChannel = undefined;
    this.#options.onDisconnected?.();
    if (!this.chardev.server && this.chardev.reconnectMs > 0) {
      // The reconnect timer: connect again, or wait for the server to come back.
      const r = this.#ns.connect(this.chardev.path, this.owner, (end) => this.#attachEnd(end));
      if (!r.ok) this.#waitForServer();
    }
  }

  /** Simulates the peer going away (`inject disconnect`). */
  disconnect(): boolean {
    if (this.#end === undefined || this.#end.closed) return false;
    this.#end.close();
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Messages

  #record(dir: MessageDirection, msg: VhostUserMessage, size: number, fds: number): void {
    const spec = requestSpec(msg.request);
    const rec: MessageRecord = {
      t: this.#now(),
      dir,
      request: msg.request,
      name: spec?.name ?? `VHOST_USER_${msg.request}`,
      flags: msg.flags,
      size,
      fds,
      summary: summarizePayload(msg.request, msg.payload, { fds, reply: dir === "reply" }),
    };
    this.messages.push(rec);
    this.#options.onMessage?.(rec);
  }

  /**
   * vhost_user_write (+ read when a reply is due). Returns the reply payload, undefined when
   * none is due, or an error. `vq` is the vhost_dev's first vring (per-device requests are
   * sent only from vring 0's device).
   */
  #request(
    vq: number,
    request: number,
    payload: VhostUserPayload,
    options: { readonly fds?: readonly VhostUserFd[]; readonly needReply?: boolean } = {},
  ): Result<VhostUserPayload | undefined, FrontendError> {
    const spec = requestSpec(request);
    if (spec?.perDevice && vq !== 0) return ok(undefined);
    const end = this.#end;
    const flags = VHOST_USER_VERSION | (options.needReply ? VHOST_USER_NEED_REPLY_MASK : 0);
    const msg: VhostUserMessage = { request, flags, payload };
    const bytes = encodeMessage(msg);
    const fds = options.fds ?? [];
    this.#record("request", msg, bytes.length - 12, fds.length);
    if (end === undefined || !end.send(bytes, fds)) {
      return err({ kind: "write", request, size: bytes.length - 12 });
    }
    if (!spec?.alwaysReplies && !options.needReply) return ok(undefined);
    const reply = this.#inbox.shift();
    if (reply === undefined) return err({ kind: "read", request });
    const decoded = decodeMessage(reply.bytes, "reply");
    if (!decoded.ok) {
      return err(
        decoded.error.kind === "bad-version"
          ? { kind: "reply-flags", flags: decoded.error.flags }
          : { kind: "reply-size", request },
      );
    }
    const r = decoded.value;
    this.#record("reply", r, reply.bytes.length - 12, reply.fds.length);
    // vhost_user_read_header: replies carry exactly REPLY | VERSION.
    if (r.flags !== (VHOST_USER_REPLY_MASK | VHOST_USER_VERSION)) {
      return err({ kind: "reply-flags", flags: r.flags });
    }
    if (r.request !== request) {
      return err({ kind: "reply-type", expected: request, got: r.request });
    }
    if (options.needReply && !spec?.alwaysReplies) {
      // process_message_reply: a non-zero u64 is a failure.
      if (r.payload.kind !== "u64") return err({ kind: "reply-size", request });
      if (r.payload.value !== 0n) return err({ kind: "nack", request });
    }
    return ok(r.payload);
  }

  #u64(vq: number, request: number): Result<bigint | undefined, FrontendError> {
    const r = this.#request(vq, request, { kind: "none" });
    if (!r.ok) return r;
    if (r.value === undefined) return ok(undefined);
    if (r.value.kind !== "u64") return err({ kind: "reply-size", request });
    return ok(r.value.value);
  }

  /** vhost_user_write_sync: wait for the back-end with REPLY_ACK, else a GET_FEATURES. */
  #requestSync(
    vq: number,
    request: number,
    payload: VhostUserPayload,
  ): Result<void, FrontendError> {
    const ack = hasProtocolFeature(this.protocolFeatures, VHOST_USER_PROTOCOL_F_REPLY_ACK);
    const r = this.#request(vq, request, payload, { needReply: ack });
    if (!r.ok) return r;
    if (!ack) {
      const f = this.#u64(vq, VHOST_USER_GET_FEATURES);
      if (!f.ok) return f;
    }
    return ok(undefined);
  }

  // -------------------------------------------------------------------------------------------
  // Handshake (vhost_user_backend_init + vhost_dev_init, per queue pair)

  #handshake(): Result<void, FrontendError> {
    this.#maskedNotifiers = [];
    for (let qp = 0; qp < this.queuePairs; qp++) {
      const r = this.#vhostDevInit(qp);
      if (!r.ok) return r;
      if (qp === 0 && this.queuePairs > this.maxQueuePairs) {
        // net/vhost-user.c vhost_user_start.
        return err({ kind: "max-queues", max: this.maxQueuePairs, asked: this.queuePairs });
      }
    }
    return ok(undefined);
  }

  #vhostDevInit(qp: number): Result<void, FrontendError> {
    const vq = 2 * qp;
    const f = this.#u64(vq, VHOST_USER_GET_FEATURES);
    if (!f.ok) return err({ kind: "backend-init", errno: "EPROTO" });
    const features = f.value ?? 0n;
    if (qp === 0) {
      this.protocolFeatures = 0n;
      this.maxQueuePairs = 1;
      this.memorySlots = VHOST_MEMORY_BASELINE_NREGIONS;
    }
    if (hasFeature(features, VHOST_USER_F_PROTOCOL_FEATURES)) {
      const pf = this.#u64(vq, VHOST_USER_GET_PROTOCOL_FEATURES);
      if (!pf.ok) return err({ kind: "backend-init", errno: "EPROTO" });
      let protocol = (pf.value ?? 0n) & VHOST_USER_PROTOCOL_FEATURE_MASK;
      if (qp === 0) this.offeredProtocolFeatures = pf.value ?? 0n;
      if (hasProtocolFeature(protocol, VHOST_USER_PROTOCOL_F_CONFIG)) {
        // virtio-net has no config notifier: QEMU drops CONFIG.
        if (qp === 0) {
          this.log.push(
            "warning: vhost-user backend supports VHOST_USER_PROTOCOL_F_CONFIG but QEMU does not.",
          );
        }
        protocol &= ~(1n << BigInt(VHOST_USER_PROTOCOL_F_CONFIG));
      }
      this.protocolFeatures = protocol;
      const set = this.#request(vq, VHOST_USER_SET_PROTOCOL_FEATURES, {
        kind: "u64",
        value: protocol,
      });
      if (!set.ok) return err({ kind: "backend-init", errno: "EPROTO" });
      if (hasProtocolFeature(protocol, VHOST_USER_PROTOCOL_F_MQ)) {
        const q = this.#u64(vq, VHOST_USER_GET_QUEUE_NUM);
        if (!q.ok) return err({ kind: "backend-init", errno: "EPROTO" });
        if (q.value !== undefined) this.maxQueuePairs = Number(q.value);
      }
      if (
        hasFeature(features, VIRTIO_F_ACCESS_PLATFORM) &&
        !(hasProtocolFeature(protocol, VHOST_USER_PROTOCOL_F_BACKEND_REQ) &&
          hasProtocolFeature(protocol, VHOST_USER_PROTOCOL_F_REPLY_ACK))
      ) {
        return err({ kind: "iommu-protocol" });
      }
      if (hasProtocolFeature(protocol, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) {
        const s = this.#u64(vq, VHOST_USER_GET_MAX_MEM_SLOTS);
        if (!s.ok) return err({ kind: "backend-init", errno: "EPROTO" });
        this.memorySlots = Math.min(Number(s.value ?? 0n), 512);
      }
    }
    if (qp === 0 && hasProtocolFeature(this.protocolFeatures, VHOST_USER_PROTOCOL_F_BACKEND_REQ)) {
      // vhost_setup_backend_channel: a socketpair; the back-end gets one end.
      const [mine, theirs] = SocketFd.pair(`${this.owner}:backend-req`, "backend-req");
      mine.onMessage = (bytes) => this.#backendRequest(bytes);
      this.#backendChannel = mine;
      const ack = hasProtocolFeature(this.protocolFeatures, VHOST_USER_PROTOCOL_F_REPLY_ACK);
      const r = this.#request(vq, VHOST_USER_SET_BACKEND_REQ_FD, { kind: "none" }, {
        fds: [theirs],
        needReply: ack,
      });
      if (!r.ok) return err({ kind: "backend-init", errno: "EPROTO" });
    }
    const owner = this.#request(vq, VHOST_USER_SET_OWNER, { kind: "none" });
    if (!owner.ok) return err({ kind: "backend-init", errno: "EPROTO" });
    const f2 = this.#u64(vq, VHOST_USER_GET_FEATURES);
    if (!f2.ok) return err({ kind: "backend-init", errno: "EPROTO" });
    this.backendFeatures = f2.value ?? features;
    for (let i = 0; i < 2; i++) {
      // vhost_virtqueue_init: the call fd starts as a masked notifier.
      const masked = new EventFd(`${this.owner}:${this.netdev}:vq${vq + i}:masked`);
      this.#maskedNotifiers.push(masked);
      const r = this.#request(vq, VHOST_USER_SET_VRING_CALL, {
        kind: "u64",
        value: BigInt((vq + i) & VHOST_USER_VRING_IDX_MASK),
      }, { fds: [masked] });
      if (!r.ok) return err({ kind: "backend-init", errno: "EIO" });
    }
    // vhost_net_init: a back-end that lost features the guest already acked is refused.
    const lacks = this.ackedFeatures & USER_FEATURE_MASK & ~this.backendFeatures;
    if (lacks !== 0n) return err({ kind: "lacks-features", mask: lacks });
    return ok(undefined);
  }

  #backendRequest(bytes: Uint8Array): void {
    const d = decodeMessage(bytes, "backend-request");
    if (!d.ok) return;
    this.#record("backend-request", d.value, bytes.length - 12, 0);
  }

  // -------------------------------------------------------------------------------------------
  // Guest-driven steps

  /**
   * The guest wrote its driver features (virtio_net_set_features, once per feature word):
   * virtio-net (re)attaches its queue pairs (`virtio_net_set_queue_pairs`): SET_VRING_ENABLE 1
   * for the pairs in use (one until the guest asks for more on its control queue), 0 for the
   * others.
   */
  guestFeaturesWritten(features: bigint): Result<void, FrontendError> {
    this.ackedFeatures = features;
    this.activePairs = 1;
    return this.#setQueuePairs();
  }

  /** VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET from the guest: `pairs` queue pairs in use. */
  setActivePairs(pairs: number): Result<void, FrontendError> {
    this.activePairs = Math.max(1, Math.min(pairs, this.queuePairs));
    return this.#setQueuePairs();
  }

  #setQueuePairs(): Result<void, FrontendError> {
    if (this.#state !== "connected" && this.#state !== "started") return ok(undefined);
    for (let qp = 0; qp < this.queuePairs; qp++) {
      const r = this.#enablePair(qp, qp < this.activePairs);
      if (!r.ok) return r;
    }
    return ok(undefined);
  }

  /** vhost_user_set_vring_enable for one queue pair (both vrings, each waiting for the back-end). */
  #enablePair(qp: number, enable: boolean): Result<void, FrontendError> {
    // Without protocol features the rings are enabled by starting them (§5.5).
    if (!hasFeature(this.backendFeatures, VHOST_USER_F_PROTOCOL_FEATURES)) return ok(undefined);
    for (let i = 0; i < 2; i++) {
      const r = this.#requestSync(2 * qp, VHOST_USER_SET_VRING_ENABLE, {
        kind: "state",
        index: 2 * qp + i,
        num: enable ? 1 : 0,
      });
      if (!r.ok) return r;
    }
    return ok(undefined);
  }

  /**
   * DRIVER_OK: vhost_net_start with the guest's features. With MQ every queue pair is started
   * (the enable bits say which carry traffic), otherwise only the first. On failure QEMU falls
   * back to userspace virtio: the netdev then carries nothing.
   */
  start(acked: bigint): Result<void, FrontendError> {
    this.ackedFeatures = acked;
    this.#running = true;
    if (this.#state !== "connected") return ok(undefined); // replayed on (re)connect
    return this.#startRings();
  }

  /** Queue pairs vhost runs: all with MQ acked, else one. */
  get startedPairs(): number {
    return hasFeature(this.ackedFeatures, VIRTIO_NET_F_MQ) ? this.queuePairs : 1;
  }

  #startRings(): Result<void, FrontendError> {
    const dev = this.#device;
    if (dev === undefined) return ok(undefined);
    const r = this.#vhostNetStart(dev);
    if (!r.ok) {
      this.#error = r.error;
      for (const line of this.#errorLines(r.error)) this.log.push(line);
      this.#state = "failed";
      return r;
    }
    this.#state = "started";
    return ok(undefined);
  }

  #vhostNetStart(dev: VhostUserDeviceSide): Result<void, FrontendError> {
    const status = hasProtocolFeature(this.protocolFeatures, VHOST_USER_PROTOCOL_F_STATUS);
    const pairs = this.startedPairs;
    for (let qp = 0; qp < pairs; qp++) {
      const vq = 2 * qp;
      // vhost_net_start: restore the enable state first, then vhost_dev_start.
      if (qp < this.activePairs) {
        const en = this.#enablePair(qp, true);
        if (!en.ok) return en;
      }
      // vhost_net_ack_features: only QEMU's vhost-user bits, plus the back-end-only bit 30.
      const features = (this.ackedFeatures & USER_FEATURE_MASK) |
        (this.backendFeatures & (1n << BigInt(VHOST_USER_F_PROTOCOL_FEATURES)));
      const sf = this.#request(vq, VHOST_USER_SET_FEATURES, { kind: "u64", value: features });
      if (!sf.ok) return err({ kind: "start", step: "vhost_set_features", errno: "EIO" });
      if (status) {
        const s = this.#addStatus(vq, VIRTIO_CONFIG_S_FEATURES_OK);
        if (!s.ok) return s;
      }
      const mt = this.#setMemTable(vq, dev);
      if (!mt.ok) return mt;
      for (let i = 0; i < 2; i++) {
        const r = this.#startVring(vq + i, dev);
        if (!r.ok) return r;
      }
      // vhost_user_dev_start: the status goes with the last queue pair only.
      if (status && qp === pairs - 1) {
        const s = this.#addStatus(
          vq,
          VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK,
        );
        if (!s.ok) return s;
      }
    }
    return ok(undefined);
  }

  /** vhost_user_add_status: GET_STATUS, then SET_STATUS with the bits or'ed in. */
  #addStatus(vq: number, bits: number): Result<void, FrontendError> {
    const g = this.#u64(vq, VHOST_USER_GET_STATUS);
    if (!g.ok) return err({ kind: "start", step: "vhost_dev_start", errno: "EIO" });
    const cur = Number(g.value ?? 0n);
    if ((cur & bits) === bits) return ok(undefined);
    const s = this.#request(vq, VHOST_USER_SET_STATUS, { kind: "u64", value: BigInt(cur | bits) });
    return s.ok ? ok(undefined) : err({ kind: "start", step: "vhost_dev_start", errno: "EIO" });
  }

  /** vhost_user_set_mem_table: one region and one fd per fd-backed RAM section. */
  #setMemTable(vq: number, dev: VhostUserDeviceSide): Result<void, FrontendError> {
    if (vq !== 0) return ok(undefined); // per-device
    const regions: VhostUserMemoryRegion[] = [];
    const fds: VhostUserFd[] = [];
    for (const s of dev.ramSections()) {
      if (s.fd === undefined) continue; // vhost_user_mem_section_filter: no fd, not shareable
      if (regions.length === VHOST_MEMORY_BASELINE_NREGIONS) {
        return err({ kind: "mem-too-many", regions: regions.length + 1 });
      }
      regions.push({
        guestPhysAddr: s.gpa,
        memorySize: s.size,
        userspaceAddr: s.hva,
        mmapOffset: s.fdOffset,
      });
      fds.push(s.fd);
    }
    if (regions.length === 0) return err({ kind: "mem-no-fd" });
    const ack = hasProtocolFeature(this.protocolFeatures, VHOST_USER_PROTOCOL_F_REPLY_ACK);
    const r = this.#request(vq, VHOST_USER_SET_MEM_TABLE, { kind: "memory", regions }, {
      fds,
      needReply: ack,
    });
    if (!r.ok) {
      return err({
        kind: "start",
        step: "vhost_set_mem_table",
        errno: r.error.kind === "nack" ? "EIO" : "EINVAL",
      });
    }
    return ok(undefined);
  }

  /** QEMU's virtual address of a guest-physical address, or undefined. */
  #hva(dev: VhostUserDeviceSide, gpa: number): number | undefined {
    for (const s of dev.ramSections()) {
      if (gpa >= s.gpa && gpa < s.gpa + s.size) return s.hva + (gpa - s.gpa);
    }
    return undefined;
  }

  /** vhost_virtqueue_start. */
  #startVring(index: number, dev: VhostUserDeviceSide): Result<void, FrontendError> {
    const ring = dev.ring(index);
    if (ring === undefined) {
      return err({ kind: "start", step: "vhost_virtqueue_start", errno: "EINVAL" });
    }
    const vq = index - (index % 2);
    const num = this.#request(vq, VHOST_USER_SET_VRING_NUM, {
      kind: "state",
      index,
      num: ring.size,
    });
    if (!num.ok) return err({ kind: "start", step: "vhost_set_vring_num", errno: "EIO" });
    const base = this.#request(vq, VHOST_USER_SET_VRING_BASE, {
      kind: "state",
      index,
      num: dev.lastAvailIdx(index),
    });
    if (!base.ok) return err({ kind: "start", step: "vhost_set_vring_base", errno: "EIO" });
    const desc = this.#hva(dev, ring.desc);
    const avail = this.#hva(dev, ring.avail);
    const used = this.#hva(dev, ring.used);
    if (desc === undefined || avail === undefined || used === undefined) {
      // vhost_memory_map failed: the ring is not in guest RAM.
      return err({ kind: "start", step: "vhost_virtqueue_start", errno: "EINVAL" });
    }
    const addr = this.#request(vq, VHOST_USER_SET_VRING_ADDR, {
      kind: "addr",
      index,
      flags: 0,
      desc,
      used,
      avail,
      log: 0,
    });
    if (!addr.ok) return err({ kind: "start", step: "vhost_set_vring_addr", errno: "EIO" });
    const kick = this.#request(
      vq,
      VHOST_USER_SET_VRING_KICK,
      { kind: "u64", value: BigInt(index) },
      {
        fds: [dev.hostNotifier(index)],
      },
    );
    if (!kick.ok) return err({ kind: "start", step: "vhost_set_vring_kick", errno: "EIO" });
    // virtio-net over vhost-user does not use guest-notifier masking: the irqfd goes now.
    const call = this.#request(
      vq,
      VHOST_USER_SET_VRING_CALL,
      { kind: "u64", value: BigInt(index) },
      {
        fds: [dev.guestNotifier(index)],
      },
    );
    if (!call.ok) return err({ kind: "start", step: "vhost_set_vring_call", errno: "EIO" });
    return ok(undefined);
  }

  /** The guest reset the device or the VM stops: vhost_net_stop (GET_VRING_BASE per vring). */
  stop(): Result<void, FrontendError> {
    this.#running = false;
    if (this.#state !== "started") return ok(undefined);
    const dev = this.#device;
    this.#state = "connected";
    if (dev === undefined) return ok(undefined);
    for (let index = 0; index < 2 * this.startedPairs; index++) {
      const vq = index - (index % 2);
      const r = this.#request(vq, VHOST_USER_GET_VRING_BASE, { kind: "state", index, num: 0 });
      if (!r.ok || r.value?.kind !== "state") {
        this.log.push(`vhost VQ ${index} ring restore failed: -22: Invalid argument (22)`);
        dev.restoreLastAvailIdx(index);
        continue;
      }
      dev.setLastAvailIdx(index, r.value.num);
    }
    // vhost_user_reset_status: after the rings stopped, the status goes back to 0.
    if (hasProtocolFeature(this.protocolFeatures, VHOST_USER_PROTOCOL_F_STATUS)) {
      const s = this.#request(0, VHOST_USER_SET_STATUS, { kind: "u64", value: 0n });
      if (!s.ok) return s;
    }
    return ok(undefined);
  }

  #errorLines(e: FrontendError): string[] {
    return describeFrontendError(e);
  }

  /** True when packed rings are in use. */
  get packed(): boolean {
    return hasFeature(this.ackedFeatures, VIRTIO_F_RING_PACKED);
  }
}
