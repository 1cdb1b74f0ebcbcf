/**
 * A guest's link-up traffic on a vhost-user interface, as simulation bookkeeping. When a
 * Linux guest brings its interface up it sends IPv6 DAD and router solicitations from its
 * MAC; the lab does not put those frames on the rings, it only lets their effect happen: a
 * switching back-end on the socket (an OVS port) learns the guest's address there, as the
 * lab's Linux bridges do for a guest behind a tap.
 *
 * @example
 * ```ts
 * import { announceGuest, onGuestAnnounce } from "./guest_announce.ts";
 * const lab = {};
 * const seen: string[] = [];
 * const stop = onGuestAnnounce(lab, "/tmp/vu0", (mac) => seen.push(mac.join(",")));
 * announceGuest(lab, "/tmp/vu0", new Uint8Array([0x52, 0x54, 0, 0, 0, 1]));
 * stop();
 * announceGuest(lab, "/tmp/vu0", new Uint8Array([0x52, 0x54, 0, 0, 0, 2]));
 * if (seen.join(";") !== "82,84,0,0,0,1") throw new Error("one announcement heard");
 * ```
 *
 * @module
 */

/** Hears the MAC of a guest whose interface came up behind a socket. */
export type GuestAnnounceListener = (mac: Readonly<Uint8Array>) => void;

const LISTENERS = new WeakMap<object, Map<string, GuestAnnounceListener>>();

/** Listens on socket `path` until the returned function is called. */
export function onGuestAnnounce(
  lab: object,
  path: string,
  listener: GuestAnnounceListener,
): () => void {
  let m = LISTENERS.get(lab);
  if (m === undefined) {
    m = new Map();
    LISTENERS.set(lab, m);
  }
  m.set(path, listener);
  return () => {
    if (m.get(path) === listener) m.delete(path);
  };
}

/** The guest behind socket `path` brought its interface up with address `mac`. */
export function announceGuest(lab: object, path: string, mac: Readonly<Uint8Array>): void {
  LISTENERS.get(lab)?.get(path)?.(mac);
}
