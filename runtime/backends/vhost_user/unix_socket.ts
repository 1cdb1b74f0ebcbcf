/**
 * Unix domain sockets by path: the part of the host's filesystem namespace vhost-user needs.
 * A server binds and listens on a path; a client connects to it; each connection is a pair
 * of {@link StreamEnd}s that deliver whole messages (with their file descriptors, like
 * SCM_RIGHTS) synchronously to the other end's handler.
 *
 * The errno rules are the kernel's: connecting to a path nobody bound is ENOENT; to a path
 * whose socket file is left over from a closed listener, ECONNREFUSED; binding a path that
 * exists is EADDRINUSE — QEMU unlinks the path first (util/qemu-sockets.c), rte_vhost does
 * not. Clients that retry (QEMU `reconnect-ms`, rte_vhost client mode) subscribe with
 * {@link UnixSocketNamespace.whenListening} and connect when a server appears.
 *
 * @example A server, a client, one message each way
 * ```ts
 * import { UnixSocketNamespace } from "./unix_socket.ts";
 * const ns = new UnixSocketNamespace();
 * const got: string[] = [];
 * const l = ns.listen("/tmp/vhost-user1", "testpmd", (server) => {
 *   server.onMessage = (b) => { got.push(`server:${b[0]}`); server.send(new Uint8Array([2])); };
 * });
 * if (!l.ok) throw new Error("bind");
 * const c = ns.connect("/tmp/vhost-user1", "qemu-vm1");
 * if (!c.ok) throw new Error("connect");
 * c.value.onMessage = (b) => got.push(`client:${b[0]}`);
 * c.value.send(new Uint8Array([1]));
 * if (got.join() !== "server:1,client:2") throw new Error(got.join());
 * const miss = ns.connect("/tmp/nothing", "qemu-vm2");
 * if (miss.ok || miss.error.kind !== "ENOENT") throw new Error("ENOENT expected");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../../result.ts";
import type { VhostUserFd } from "./fd.ts";

/** Why a bind or connect failed (errno). */
export type SocketError =
  | { readonly kind: "ENOENT"; readonly op: "connect"; readonly path: string }
  | { readonly kind: "ECONNREFUSED"; readonly op: "connect"; readonly path: string }
  | { readonly kind: "EADDRINUSE"; readonly op: "bind"; readonly path: string };

/** strerror() of the errno (the only formatter of {@link SocketError}). */
export function describeSocketError(e: SocketError): string {
  switch (e.kind) {
    case "ENOENT":
      return "No such file or directory";
    case "ECONNREFUSED":
      return "Connection refused";
    case "EADDRINUSE":
      return "Address already in use";
  }
}

/** One end of a connected stream socket. */
export class StreamEnd {
  /** The socket path. */
  readonly path: string;
  /** The process holding this end (`qemu-vm1`, `testpmd`, `ovs-vswitchd`). */
  readonly owner: string;
  /** Receives each message the other end sends. */
  onMessage: ((bytes: Uint8Array, fds: readonly VhostUserFd[]) => void) | undefined = undefined;
  /** Called once when the connection goes away (either end closed it). */
  onClose: (() => void) | undefined = undefined;
  /** Called once both ends have attached their handlers (CHR_EVENT_OPENED). */
  onOpen: (() => void) | undefined = undefined;
  #peer: StreamEnd | undefined = undefined;
  #closed = false;
  #ns: UnixSocketNamespace;

  constructor(ns: UnixSocketNamespace, path: string, owner: string) {
    this.#ns = ns;
    this.path = path;
    this.owner = owner;
  }

  /** Links two ends (used by the namespace). */
  static link(a: StreamEnd, b: StreamEnd): void {
    a.#peer = b;
    b.#peer = a;
  }

  /** The process at the other end. */
  get peerOwner(): string {
    return this.#peer?.owner ?? "";
  }

  /** True once the connection is gone. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one message; false when the connection is gone (EPIPE). */
  send(bytes: Uint8Array, fds: readonly VhostUserFd[] = []): boolean {
    const p = this.#peer;
    if (this.#closed || p === undefined || p.#closed) return false;
    p.onMessage?.(bytes, fds);
    return true;
  }

  /** Closes the connection: both ends see `onClose` (the peer reads EOF). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const p = this.#peer;
    this.#ns.forget(this);
    if (p !== undefined && !p.#closed) {
      p.#closed = true;
      this.#ns.forget(p);
      p.onClose?.();
    }
    this.onClose?.();
  }
}

/** A bound, listening socket. */
export interface Listener {
  readonly path: string;
  readonly owner: string;
  /** Stops listening; `unlink: false` leaves the socket file behind (a crashed server). */
  close(options?: { readonly unlink?: boolean }): void;
}

interface Bound {
  readonly owner: string;
  readonly accept: (end: StreamEnd) => void;
  live: boolean;
}

/** The socket paths of one host; see the module documentation. */
export class UnixSocketNamespace {
  /** Path → the socket file there (`live` while its listener is open). */
  #files = new Map<string, Bound>();
  #waiters = new Map<string, Set<() => void>>();
  #ends = new Set<StreamEnd>();

  /**
   * bind + listen. `unlinkFirst` removes whatever is at the path first (QEMU does; the
   * previous listener keeps its socket but can no longer be reached by path).
   */
  listen(
    path: string,
    owner: string,
    accept: (end: StreamEnd) => void,
    options: { readonly unlinkFirst?: boolean } = {},
  ): Result<Listener, SocketError> {
    const there = this.#files.get(path);
    if (there !== undefined && !options.unlinkFirst) {
      return err({ kind: "EADDRINUSE", op: "bind", path });
    }
    const bound: Bound = { owner, accept, live: true };
    this.#files.set(path, bound);
    const waiters = this.#waiters.get(path);
    if (waiters !== undefined) {
      this.#waiters.delete(path);
      for (const w of [...waiters]) w();
    }
    return ok({
      path,
      owner,
      close: (o = {}) => {
        bound.live = false;
        if ((o.unlink ?? true) && this.#files.get(path) === bound) this.#files.delete(path);
      },
    });
  }

  /**
   * connect(2): the client end, or ENOENT / ECONNREFUSED. `setup` attaches the client's
   * handlers before the server accepts; once both sides are attached each end's `onOpen`
   * runs (client first), so whichever side talks first is heard.
   */
  connect(
    path: string,
    owner: string,
    setup?: (end: StreamEnd) => void,
  ): Result<StreamEnd, SocketError> {
    const bound = this.#files.get(path);
    if (bound === undefined) return err({ kind: "ENOENT", op: "connect", path });
    if (!bound.live) return err({ kind: "ECONNREFUSED", op: "connect", path });
    const client = new StreamEnd(this, path, owner);
    const server = new StreamEnd(this, path, bound.owner);
    StreamEnd.link(client, server);
    this.#ends.add(client);
    this.#ends.add(server);
    setup?.(client);
    bound.accept(server);
    if (!client.closed) client.onOpen?.();
    if (!server.closed) server.onOpen?.();
    return ok(client);
  }

  /** Calls `cb` once, the next time someone listens on `path`. Returns a cancel function. */
  whenListening(path: string, cb: () => void): () => void {
    let set = this.#waiters.get(path);
    if (set === undefined) {
      set = new Set();
      this.#waiters.set(path, set);
    }
    set.add(cb);
    return () => {
      set.delete(cb);
    };
  }

  /** Who listens on `path` (undefined when nobody can be reached there). */
  listenerOf(path: string): string | undefined {
    const b = this.#files.get(path);
    return b?.live ? b.owner : undefined;
  }

  /** True when a socket file exists at `path` (live or stale). */
  exists(path: string): boolean {
    return this.#files.has(path);
  }

  /** The open connection ends on `path`. */
  endsOn(path: string): StreamEnd[] {
    return [...this.#ends].filter((e) => e.path === path);
  }

  /** Used by {@link StreamEnd.close}. */
  forget(end: StreamEnd): void {
    this.#ends.delete(end);
  }
}
