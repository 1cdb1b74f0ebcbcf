/**
 * The hooks behind `inject disconnect SOCKET` and `inject reconnect SOCKET`: the back-end
 * process on a vhost-user socket goes away and comes back.
 *
 * - {@link injectDisconnect}: the back-end (testpmd's vhost port, an OVS vhost-user port)
 *   closes the socket the way a crashing or restarting process does — a server stops
 *   listening, a client stops retrying — and every connection on it closes. QEMU sees
 *   CHR_EVENT_CLOSED: the link goes down, the rings stop (GET_VRING_BASE cannot be sent, so
 *   QEMU restores each avail index from the used index), and the back-end's device is
 *   destroyed (its port's link goes down).
 * - {@link injectReconnect}: the back-end registers the socket again. A QEMU client with
 *   `reconnect=` connects (one without it stays disconnected, as in QEMU), a back-end client
 *   connects to QEMU's listener; QEMU then replays the whole handshake and, as the guest is
 *   running, the start sequence with SET_VRING_BASE from the saved avail indices.
 *
 * Faults are values: {@link SocketFaultError} with one formatter.
 *
 * @example
 * ```ts
 * import { injectDisconnect, describeSocketFaultError } from "./socket_faults.ts";
 * const r = injectDisconnect({}, "/tmp/nobody");
 * if (r.ok || describeSocketFaultError(r.error) !== "no vhost-user back-end is registered on /tmp/nobody") {
 *   throw new Error("nothing to disconnect");
 * }
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../../result.ts";
import type { VhostUserBackendSocket } from "./backend_socket.ts";

/** Why an injection did nothing. */
export type SocketFaultError =
  | { readonly kind: "no-backend"; readonly path: string }
  | { readonly kind: "already-down"; readonly path: string }
  | { readonly kind: "not-down"; readonly path: string }
  | { readonly kind: "bind"; readonly path: string };

/** The lab's text of a {@link SocketFaultError} (its only formatter). */
export function describeSocketFaultError(e: SocketFaultError): string {
  switch (e.kind) {
    case "no-backend":
      return `no vhost-user back-end is registered on ${e.path}`;
    case "already-down":
      return `the back-end on ${e.path} is already disconnected`;
    case "not-down":
      return `the back-end on ${e.path} was not disconnected`;
    case "bind":
      return `the back-end cannot listen on ${e.path} again: the path is taken`;
  }
}

/** A back-end socket and whether an injection took it down. */
interface Entry {
  readonly socket: VhostUserBackendSocket;
  down: boolean;
}

const REGISTRY = new WeakMap<object, Map<string, Entry>>();

function registry(lab: object): Map<string, Entry> {
  let m = REGISTRY.get(lab);
  if (m === undefined) {
    m = new Map();
    REGISTRY.set(lab, m);
  }
  return m;
}

/** Registers `socket` as the back-end on its path (a vhost port does it when it starts). */
export function registerBackendSocket(lab: object, socket: VhostUserBackendSocket): void {
  registry(lab).set(socket.path, { socket, down: false });
}

/** Forgets the back-end on `socket`'s path (its port was closed for good). */
export function unregisterBackendSocket(lab: object, socket: VhostUserBackendSocket): void {
  const m = registry(lab);
  if (m.get(socket.path)?.socket === socket) m.delete(socket.path);
}

/** The back-end registered on `path`, if any. */
export function backendSocketAt(lab: object, path: string): VhostUserBackendSocket | undefined {
  return registry(lab).get(path)?.socket;
}

/** `inject disconnect PATH`; returns how many connections closed. */
export function injectDisconnect(
  lab: object,
  path: string,
): Result<{ readonly closed: number }, SocketFaultError> {
  const e = registry(lab).get(path);
  if (e === undefined) return err({ kind: "no-backend", path });
  if (e.down) return err({ kind: "already-down", path });
  const before = e.socket.devices.length;
  e.socket.unregister();
  e.down = true;
  e.socket.log.push(`injected: back-end gone (${before} connection${before === 1 ? "" : "s"})`);
  return ok({ closed: before });
}

/** `inject reconnect PATH`: the back-end registers its socket again. */
export function injectReconnect(lab: object, path: string): Result<void, SocketFaultError> {
  const e = registry(lab).get(path);
  if (e === undefined) return err({ kind: "no-backend", path });
  if (!e.down) return err({ kind: "not-down", path });
  const r = e.socket.start();
  if (!r.ok) return err({ kind: "bind", path });
  e.down = false;
  return ok(undefined);
}
