/**
 * A vhost-user socket registered by a back-end application (rte_vhost_driver_register +
 * rte_vhost_driver_start, lib/vhost/socket.c): in server mode it binds and listens on the
 * path (one device per accepted connection); in client mode (RTE_VHOST_USER_CLIENT: testpmd
 * `client=1`, OVS `dpdkvhostuserclient`) it connects to the front-end's server socket and,
 * when nobody listens yet or the connection drops, retries until a server appears (rte_vhost's
 * reconnect thread).
 *
 * Each connection gets a {@link VhostUserBackendDevice} that answers the front-end's
 * messages; the application's callbacks (`newDevice`, `destroyDevice`, `vringStateChanged`)
 * come from it.
 *
 * @example A server socket that refuses a path already in use
 * ```ts
 * import { VhostUserBackendSocket } from "./backend_socket.ts";
 * import { UnixSocketNamespace } from "./unix_socket.ts";
 * const ns = new UnixSocketNamespace();
 * const opts = { path: "/tmp/vu", client: false, owner: "testpmd", features: 0n, protocolFeatures: 0n, maxQueuePairs: 1, ops: {} };
 * if (!new VhostUserBackendSocket(ns, opts).start().ok) throw new Error("first bind");
 * const again = new VhostUserBackendSocket(ns, { ...opts, owner: "ovs-vswitchd" }).start();
 * if (again.ok || again.error.kind !== "EADDRINUSE") throw new Error("EADDRINUSE expected");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../../result.ts";
import {
  type BackendDriver,
  type VhostDeviceOps,
  VhostUserBackendDevice,
} from "./backend_device.ts";
import type { SocketError, StreamEnd, UnixSocketNamespace } from "./unix_socket.ts";
import type { Listener } from "./unix_socket.ts";

/** Options of {@link VhostUserBackendSocket}. */
export interface BackendSocketOptions {
  readonly path: string;
  /** Connect instead of listening (QEMU's chardev is the server). */
  readonly client: boolean;
  /** The application (`testpmd`, `ovs-vswitchd`). */
  readonly owner: string;
  /** Virtio features offered (bit 30 included when protocol features are spoken). */
  readonly features: bigint;
  readonly protocolFeatures: bigint;
  /** GET_QUEUE_NUM answer. */
  readonly maxQueuePairs: number;
  readonly ops: VhostDeviceOps;
  /** Client mode: keep retrying (rte_vhost default, unless RTE_VHOST_USER_NO_RECONNECT). */
  readonly reconnect?: boolean;
  /** Hands out device ids (rte_vhost's global `vid`); default a counter of this socket. */
  readonly allocVid?: () => number;
}

/** One registered socket; see the module documentation. */
export class VhostUserBackendSocket {
  readonly path: string;
  readonly client: boolean;
  readonly owner: string;
  /** The driver description each device sees. */
  readonly driver: BackendDriver;
  /** Log lines of the socket layer (rte_vhost VHOST_CONFIG). */
  readonly log: string[] = [];
  #ns: UnixSocketNamespace;
  #options: BackendSocketOptions;
  #devices = new Map<VhostUserBackendDevice, StreamEnd>();
  #listener: Listener | undefined = undefined;
  #cancelWait: (() => void) | undefined = undefined;
  #nextVid = 0;
  #started = false;
  #connections = 0;

  constructor(ns: UnixSocketNamespace, options: BackendSocketOptions) {
    this.#ns = ns;
    this.#options = options;
    this.path = options.path;
    this.client = options.client;
    this.owner = options.owner;
    this.driver = {
      path: options.path,
      features: options.features,
      protocolFeatures: options.protocolFeatures,
      maxQueuePairs: options.maxQueuePairs,
      ops: options.ops,
    };
  }

  /** The connected devices (one in practice). */
  get devices(): readonly VhostUserBackendDevice[] {
    return [...this.#devices.keys()];
  }

  /** Connections made so far (reconnects included). */
  get connections(): number {
    return this.#connections;
  }

  /** True while a client socket waits for its server to appear. */
  get waiting(): boolean {
    return this.#cancelWait !== undefined;
  }

  /** rte_vhost_driver_start: listen, or connect (waiting for the server if it is not there). */
  start(): Result<void, SocketError> {
    if (this.#started) return ok(undefined);
    if (!this.client) {
      const l = this.#ns.listen(this.path, this.owner, (end) => this.#attach(end));
      if (!l.ok) {
        this.log.push(`failed to bind: Address already in use; remove it and try again`);
        return err(l.error);
      }
      this.#listener = l.value;
      this.log.push(`vhost-user server: socket created, fd: listening on ${this.path}`);
      this.#started = true;
      return ok(undefined);
    }
    this.#started = true;
    this.#tryConnect();
    return ok(undefined);
  }

  #tryConnect(): void {
    const r = this.#ns.connect(this.path, this.owner, (end) => this.#attach(end));
    if (r.ok) {
      this.log.push(`vhost-user client: socket created, connected to ${this.path}`);
      return;
    }
    this.log.push(
      `failed to connect to ${this.path}: ${
        r.error.kind === "ENOENT" ? "No such file or directory" : "Connection refused"
      }`,
    );
    if (this.#options.reconnect ?? true) {
      this.log.push(`reconnecting...`);
      this.#cancelWait = this.#ns.whenListening(this.path, () => {
        this.#cancelWait = undefined;
        this.#tryConnect();
      });
    }
  }

  #attach(end: StreamEnd): void {
    const vid = this.#options.allocVid?.() ?? this.#nextVid++;
    const dev = new VhostUserBackendDevice(this.driver, vid);
    this.#devices.set(dev, end);
    this.#connections++;
    this.log.push(`new device, handle is ${vid}, path is ${this.path}`);
    end.onMessage = (bytes, fds) => {
      const out = dev.receive(bytes, fds);
      for (const r of out.replies) end.send(r.bytes, r.fds);
      if (out.close) end.close();
    };
    end.onClose = () => {
      this.#devices.delete(dev);
      dev.disconnected();
      this.log.push(`vhost peer closed`);
      if (this.client && this.#started && (this.#options.reconnect ?? true)) {
        this.log.push(`reconnecting...`);
        this.#cancelWait = this.#ns.whenListening(this.path, () => {
          this.#cancelWait = undefined;
          this.#tryConnect();
        });
        // The server may still be listening: a client reconnects at once.
        if (this.#ns.listenerOf(this.path) !== undefined) {
          this.#cancelWait?.();
          this.#cancelWait = undefined;
          this.#tryConnect();
        }
      }
    };
  }

  /** Drops every connection (the application closes the socket; a client then retries). */
  disconnect(): number {
    const ends = [...this.#devices.values()];
    for (const e of ends) e.close();
    return ends.length;
  }

  /** rte_vhost_driver_unregister: stop listening or retrying, close connections. */
  unregister(): void {
    this.#started = false;
    this.#cancelWait?.();
    this.#cancelWait = undefined;
    // The socket file goes first: a peer that retries finds nothing to connect to.
    this.#listener?.close();
    this.#listener = undefined;
    for (const e of [...this.#devices.values()]) e.close();
  }
}
