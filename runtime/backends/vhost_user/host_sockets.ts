/**
 * The unix socket namespace of a lab's host: QEMU chardevs, testpmd's vhost PMD and
 * OVS-DPDK bind and connect by path in the same namespace, so a QEMU client finds the
 * socket a back-end listens on — whichever statement came first. One per lab, created on
 * first use (kept beside the lab, not in the host kernel model).
 *
 * @example
 * ```ts
 * import { socketsOf } from "./host_sockets.ts";
 * const lab = {};
 * if (socketsOf(lab) !== socketsOf(lab)) throw new Error("one namespace per lab");
 * ```
 *
 * @module
 */

import { UnixSocketNamespace } from "./unix_socket.ts";

const NAMESPACES = new WeakMap<object, UnixSocketNamespace>();

/** The socket namespace of `lab`'s host. */
export function socketsOf(lab: object): UnixSocketNamespace {
  let ns = NAMESPACES.get(lab);
  if (ns === undefined) {
    ns = new UnixSocketNamespace();
    NAMESPACES.set(lab, ns);
  }
  return ns;
}
