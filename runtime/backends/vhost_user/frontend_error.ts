/**
 * Why QEMU's vhost-user netdev failed, with QEMU's own words. The formatter returns the lines
 * QEMU prints to stderr, without the `qemu-system-x86_64: ` prefix (and, for chardev errors,
 * without the `-chardev …:` option prefix, which the executor adds from the source).
 *
 * @example
 * ```ts
 * import { describeFrontendError } from "./frontend_error.ts";
 * const lines = describeFrontendError({ kind: "connect", path: "/tmp/x", errno: "ENOENT" });
 * if (lines[0] !== "Failed to connect to '/tmp/x': No such file or directory") throw new Error(lines[0]);
 * ```
 *
 * @module
 */

import { describeSocketError, type SocketError } from "./unix_socket.ts";
import { requestName, VHOST_USER_HDR_SIZE } from "./protocol.ts";

/** A failure of the front-end (closed union; one formatter below). */
export type FrontendError =
  /** The client chardev found nobody listening (and has no reconnect). */
  | { readonly kind: "connect"; readonly path: string; readonly errno: SocketError["kind"] }
  /** The server chardev could not bind. */
  | { readonly kind: "bind"; readonly path: string; readonly errno: SocketError["kind"] }
  /** A message could not be written (the back-end closed the socket). */
  | { readonly kind: "write"; readonly request: number; readonly size: number }
  /** No reply arrived (the back-end closed the socket). */
  | { readonly kind: "read"; readonly request: number }
  /** A reply with the wrong flags. */
  | { readonly kind: "reply-flags"; readonly flags: number }
  /** A reply to another request. */
  | { readonly kind: "reply-type"; readonly expected: number; readonly got: number }
  /** A reply of the wrong size. */
  | { readonly kind: "reply-size"; readonly request: number }
  /** A REPLY_ACK with a failure code. */
  | { readonly kind: "nack"; readonly request: number }
  /** vhost_dev_init failed while talking to the back-end (reason: the failing step). */
  | { readonly kind: "backend-init"; readonly errno: "EPROTO" | "EIO" }
  /** `queues=` above what GET_QUEUE_NUM allows. */
  | { readonly kind: "max-queues"; readonly max: number; readonly asked: number }
  /** A reconnected back-end lacks features the guest had acked. */
  | { readonly kind: "lacks-features"; readonly mask: bigint }
  /** iommu_platform=on without REPLY_ACK and BACKEND_REQ. */
  | { readonly kind: "iommu-protocol" }
  /** No RAM block has an fd (guest RAM not on memory-backend-file/memfd). */
  | { readonly kind: "mem-no-fd" }
  /** More fd-backed regions than SET_MEM_TABLE carries. */
  | { readonly kind: "mem-too-many"; readonly regions: number }
  /** The back-end refused the features (it closed the connection or nacked). */
  | { readonly kind: "start"; readonly step: string; readonly errno: "EINVAL" | "EIO" | "ENOBUFS" };

const STRERROR: Readonly<Record<string, [string, number]>> = {
  EINVAL: ["Invalid argument", 22],
  EIO: ["Input/output error", 5],
  ENOBUFS: ["No buffer space available", 105],
  EPROTO: ["Protocol error", 71],
};

/** QEMU's stderr lines for a failure (the only formatter of {@link FrontendError}). */
export function describeFrontendError(e: FrontendError): string[] {
  switch (e.kind) {
    case "connect":
      // util/qemu-sockets.c unix_connect_saddr.
      return [
        `Failed to connect to '${e.path}': ${
          describeSocketError({ kind: e.errno, op: "connect", path: e.path } as SocketError)
        }`,
      ];
    case "bind":
      return [
        `Failed to bind socket to ${e.path}: ${
          describeSocketError({ kind: e.errno, op: "bind", path: e.path } as SocketError)
        }`,
      ];
    case "write":
      return [`Failed to write msg. Wrote -1 instead of ${VHOST_USER_HDR_SIZE + e.size}.`];
    case "read":
      return [
        `Failed to read msg header. Read 0 instead of ${VHOST_USER_HDR_SIZE}. Original request ${e.request}.`,
      ];
    case "reply-flags":
      return [`Failed to read msg header. Flags 0x${e.flags.toString(16)} instead of 0x5.`];
    case "reply-type":
      return [`Received unexpected msg type. Expected ${e.expected} received ${e.got}`];
    case "reply-size":
      return ["Received bad msg size."];
    case "nack":
      return [`${requestName(e.request)} failed: the back-end answered with a failure`];
    case "backend-init": {
      const [text] = STRERROR[e.errno] as [string, number];
      return [`vhost_backend_init failed: ${text}`, "failed to init vhost_net for queue 0"];
    }
    case "max-queues":
      return [`you are asking more queues than supported: ${e.max}`];
    case "lacks-features":
      return [
        `vhost lacks feature mask 0x${e.mask.toString(16)} for backend`,
        "failed to init vhost_net for queue 0",
      ];
    case "iommu-protocol":
      return ["IOMMU support requires reply-ack and backend-req protocol features."];
    case "mem-no-fd":
      return [
        "Failed initializing vhost-user memory map, consider using -object memory-backend-file share=on",
        "vhost_set_mem_table failed: Invalid argument (22)",
        "unable to start vhost net: 22: falling back on userspace virtio",
      ];
    case "mem-too-many":
      return [
        "Failed preparing vhost-user memory table msg",
        "vhost_set_mem_table failed: No buffer space available (105)",
        "unable to start vhost net: 105: falling back on userspace virtio",
      ];
    case "start": {
      const [text, n] = STRERROR[e.errno] as [string, number];
      return [
        `${e.step} failed: ${text} (${n})`,
        `unable to start vhost net: ${n}: falling back on userspace virtio`,
      ];
    }
  }
}
