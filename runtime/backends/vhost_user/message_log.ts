/**
 * The record of one vhost-user message as the front-end saw it go by, its one-line text form
 * (what `show vhost` prints and the golden tests pin) and its control-plane trace event.
 *
 * ```text
 * -> VHOST_USER_SET_VRING_ADDR idx=1 desc=0x7f0000104000 used=0x7f0000105000 avail=0x7f0000104800
 * <- VHOST_USER_GET_FEATURES flags=0x5 0x150000000
 * ```
 *
 * @example
 * ```ts
 * import { formatMessageRecord, messageControlEvent } from "./message_log.ts";
 * const rec = { t: 0, dir: "request", request: 3, name: "VHOST_USER_SET_OWNER", flags: 1, size: 0, fds: 0, summary: "" } as const;
 * if (formatMessageRecord(rec) !== "-> VHOST_USER_SET_OWNER") throw new Error(formatMessageRecord(rec));
 * const ev = messageControlEvent(rec, { ctx: "qemu-vm1:main", comp: "vhost-user", socket: "/tmp/vu" });
 * if (ev.action !== "vhost-user-msg" || ev.details.name !== "VHOST_USER_SET_OWNER") throw new Error("event");
 * ```
 *
 * @module
 */

import type { ControlEvent } from "../../trace/event.ts";

/** Which way a message went. */
export type MessageDirection =
  /** Front-end request. */
  | "request"
  /** Back-end reply (flags 0x5). */
  | "reply"
  /** Back-end request on the SET_BACKEND_REQ_FD channel. */
  | "backend-request"
  /** Front-end reply on that channel. */
  | "backend-reply";

/** One message as it went by. */
export interface MessageRecord {
  /** Virtual time (ns). */
  readonly t: number;
  readonly dir: MessageDirection;
  readonly request: number;
  /** `VHOST_USER_SET_VRING_ADDR`. */
  readonly name: string;
  /** Header flags (0x1, 0x5, 0x9 with NEED_REPLY). */
  readonly flags: number;
  /** Payload size from the header. */
  readonly size: number;
  /** File descriptors carried. */
  readonly fds: number;
  /** The payload in one line (`protocol.ts` summarizePayload). */
  readonly summary: string;
}

const ARROWS: Readonly<Record<MessageDirection, string>> = {
  "request": "->",
  "reply": "<-",
  "backend-request": "<=",
  "backend-reply": "=>",
};

/**
 * `-> NAME summary`: requests with flags other than 0x1 and replies other than 0x5 show
 * their flags (NEED_REPLY is 0x9).
 */
export function formatMessageRecord(r: MessageRecord): string {
  const normal = r.dir === "request" || r.dir === "backend-request" ? 0x1 : 0x5;
  const parts = [ARROWS[r.dir], r.name];
  if (r.flags !== normal) parts.push(`flags=0x${r.flags.toString(16)}`);
  if (r.summary !== "") parts.push(r.summary);
  return parts.join(" ");
}

/** The records as lines. */
export function formatMessageLog(records: readonly MessageRecord[]): string {
  return records.map(formatMessageRecord).join("\n");
}

/** The control-plane trace event of a record. */
export function messageControlEvent(
  r: MessageRecord,
  where: { readonly ctx: string; readonly comp: string; readonly socket: string },
): ControlEvent {
  return {
    type: "control",
    t: r.t,
    dur: 0,
    ctx: where.ctx,
    comp: where.comp,
    action: "vhost-user-msg",
    details: {
      name: r.name,
      dir: r.dir,
      value: r.summary === "" ? undefined : r.summary,
      flags: `0x${r.flags.toString(16)}`,
      size: r.size,
      fd: r.fds > 0 ? r.fds : undefined,
      socket: where.socket,
    },
  };
}
