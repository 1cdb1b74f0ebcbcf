/**
 * The vhost-user protocol as data (QEMU docs/interop/vhost-user.rst; reference §5.1–5.4): the
 * header and its flags, every front-end request with its payload shape, reply rule and file
 * descriptors, the back-end requests, the protocol feature bits, and the byte encoding of a
 * message (12-byte header, then the payload, native = little-endian byte order on the hosts
 * the lab models).
 *
 * Messages really go through bytes: the front-end encodes, the back-end decodes and validates
 * the size the way rte_vhost does, so a malformed message is a {@link ProtocolError} value,
 * never an exception. File descriptors travel beside the bytes (SCM_RIGHTS), as objects.
 *
 * @example Encoding SET_VRING_ADDR and reading it back
 * ```ts
 * import {
 *   decodeMessage, encodeMessage, requestSpec, VHOST_USER_SET_VRING_ADDR, VHOST_USER_VERSION,
 * } from "./protocol.ts";
 * const payload = { kind: "addr", index: 1, flags: 0, desc: 0x7f0000010000, used: 0x7f0000012000,
 *   avail: 0x7f0000011000, log: 0 } as const;
 * const bytes = encodeMessage({ request: VHOST_USER_SET_VRING_ADDR, flags: VHOST_USER_VERSION, payload });
 * if (bytes.length !== 12 + 40) throw new Error("header + vhost_vring_addr");
 * const back = decodeMessage(bytes, "request");
 * if (!back.ok || back.value.payload.kind !== "addr" || back.value.payload.used !== 0x7f0000012000) {
 *   throw new Error("round trip");
 * }
 * if (requestSpec(VHOST_USER_SET_VRING_ADDR)?.name !== "VHOST_USER_SET_VRING_ADDR") throw new Error();
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../../result.ts";
import type { VhostMemoryRegion } from "../../memory/mem_table.ts";
import type { Access } from "../../memory/translator.ts";
import type { VhostIotlbMsg, VhostIotlbMsgType } from "../../iommu/vhost_iotlb_msg.ts";

// ---------------------------------------------------------------------------------------------
// Header (§5.1)

/** Size of the header: u32 request, u32 flags, u32 size. */
export const VHOST_USER_HDR_SIZE = 12;
/** flags bits 0-1: the protocol version, always 1. */
export const VHOST_USER_VERSION = 0x1;
/** flags bits 0-1 mask. */
export const VHOST_USER_VERSION_MASK = 0x3;
/** flags bit 2: set by the back-end on every reply. */
export const VHOST_USER_REPLY_MASK = 0x4;
/** flags bit 3: the front-end wants an ack (only with REPLY_ACK negotiated). */
export const VHOST_USER_NEED_REPLY_MASK = 0x8;
/** Kick/call/err payload: bits 0-7 are the vring index. */
export const VHOST_USER_VRING_IDX_MASK = 0xff;
/** Kick/call/err payload: bit 8 says no fd is attached (the ring is polled). */
export const VHOST_USER_VRING_NOFD_MASK = 0x100;
/** Virtio feature bit 30: the back-end speaks protocol features. */
export const VHOST_USER_F_PROTOCOL_FEATURES = 30;
/** Regions SET_MEM_TABLE carries at most (QEMU VHOST_MEMORY_BASELINE_NREGIONS). */
export const VHOST_MEMORY_BASELINE_NREGIONS = 8;
/** QEMU's cap on RAM slots with CONFIGURE_MEM_SLOTS (x86, VHOST_USER_MAX_RAM_SLOTS). */
export const VHOST_USER_MAX_RAM_SLOTS = 512;
/** Largest payload QEMU accepts (sizeof(VhostUserPayload), the memory table dominates). */
export const VHOST_USER_PAYLOAD_MAX = 8 + 32 * VHOST_MEMORY_BASELINE_NREGIONS;

// ---------------------------------------------------------------------------------------------
// Requests (§5.3)

/** Front-end → back-end request ids (hw/virtio/vhost-user.c `VhostUserRequest`). */
export const VHOST_USER_GET_FEATURES = 1;
/** Front-end request 2. */
export const VHOST_USER_SET_FEATURES = 2;
/** Front-end request 3. */
export const VHOST_USER_SET_OWNER = 3;
/** Front-end request 4. */
export const VHOST_USER_RESET_OWNER = 4;
/** Front-end request 5. */
export const VHOST_USER_SET_MEM_TABLE = 5;
/** Front-end request 6. */
export const VHOST_USER_SET_LOG_BASE = 6;
/** Front-end request 7. */
export const VHOST_USER_SET_LOG_FD = 7;
/** Front-end request 8. */
export const VHOST_USER_SET_VRING_NUM = 8;
/** Front-end request 9. */
export const VHOST_USER_SET_VRING_ADDR = 9;
/** Front-end request 10. */
export const VHOST_USER_SET_VRING_BASE = 10;
/** Front-end request 11. */
export const VHOST_USER_GET_VRING_BASE = 11;
/** Front-end request 12. */
export const VHOST_USER_SET_VRING_KICK = 12;
/** Front-end request 13. */
export const VHOST_USER_SET_VRING_CALL = 13;
/** Front-end request 14. */
export const VHOST_USER_SET_VRING_ERR = 14;
/** Front-end request 15. */
export const VHOST_USER_GET_PROTOCOL_FEATURES = 15;
/** Front-end request 16. */
export const VHOST_USER_SET_PROTOCOL_FEATURES = 16;
/** Front-end request 17. */
export const VHOST_USER_GET_QUEUE_NUM = 17;
/** Front-end request 18. */
export const VHOST_USER_SET_VRING_ENABLE = 18;
/** Front-end request 19. */
export const VHOST_USER_SEND_RARP = 19;
/** Front-end request 20. */
export const VHOST_USER_NET_SET_MTU = 20;
/** Front-end request 21. */
export const VHOST_USER_SET_BACKEND_REQ_FD = 21;
/** Front-end request 22. */
export const VHOST_USER_IOTLB_MSG = 22;
/** Front-end request 23. */
export const VHOST_USER_SET_VRING_ENDIAN = 23;
/** Front-end request 24. */
export const VHOST_USER_GET_CONFIG = 24;
/** Front-end request 25. */
export const VHOST_USER_SET_CONFIG = 25;
/** Front-end request 26. */
export const VHOST_USER_CREATE_CRYPTO_SESSION = 26;
/** Front-end request 27. */
export const VHOST_USER_CLOSE_CRYPTO_SESSION = 27;
/** Front-end request 28. */
export const VHOST_USER_POSTCOPY_ADVISE = 28;
/** Front-end request 29. */
export const VHOST_USER_POSTCOPY_LISTEN = 29;
/** Front-end request 30. */
export const VHOST_USER_POSTCOPY_END = 30;
/** Front-end request 31. */
export const VHOST_USER_GET_INFLIGHT_FD = 31;
/** Front-end request 32. */
export const VHOST_USER_SET_INFLIGHT_FD = 32;
/** Front-end request 33. */
export const VHOST_USER_GPU_SET_SOCKET = 33;
/** Front-end request 34. */
export const VHOST_USER_RESET_DEVICE = 34;
/** Front-end request 35. */
export const VHOST_USER_VRING_KICK = 35;
/** Front-end request 36. */
export const VHOST_USER_GET_MAX_MEM_SLOTS = 36;
/** Front-end request 37. */
export const VHOST_USER_ADD_MEM_REG = 37;
/** Front-end request 38. */
export const VHOST_USER_REM_MEM_REG = 38;
/** Front-end request 39. */
export const VHOST_USER_SET_STATUS = 39;
/** Front-end request 40. */
export const VHOST_USER_GET_STATUS = 40;
/** Front-end request 41. */
export const VHOST_USER_GET_SHARED_OBJECT = 41;
/** Front-end request 42. */
export const VHOST_USER_SET_DEVICE_STATE_FD = 42;
/** Front-end request 43. */
export const VHOST_USER_CHECK_DEVICE_STATE = 43;

/** Back-end → front-end request ids (on the SET_BACKEND_REQ_FD channel). */
export const VHOST_USER_BACKEND_IOTLB_MSG = 1;
/** Back-end request 2. */
export const VHOST_USER_BACKEND_CONFIG_CHANGE_MSG = 2;
/** Back-end request 3. */
export const VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG = 3;
/** Back-end request 4. */
export const VHOST_USER_BACKEND_VRING_CALL = 4;
/** Back-end request 5. */
export const VHOST_USER_BACKEND_VRING_ERR = 5;
/** Back-end request 6. */
export const VHOST_USER_BACKEND_SHARED_OBJECT_ADD = 6;
/** Back-end request 7. */
export const VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE = 7;
/** Back-end request 8. */
export const VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP = 8;

/** The shape of a payload (§5.2). */
export type PayloadKind =
  | "none"
  | "u64"
  | "state"
  | "addr"
  | "memory"
  | "mem-reg"
  | "log"
  | "iotlb"
  | "opaque";

/** Which file descriptors ride with a request. */
export type FdRule =
  /** None. */
  | "none"
  /** One per memory region, in order (SET_MEM_TABLE). */
  | "regions"
  /** One, unless the payload has VHOST_USER_VRING_NOFD_MASK (kick/call/err). */
  | "vring"
  /** Exactly one. */
  | "one"
  /** One when the corresponding protocol feature says so (SET_LOG_BASE with LOG_SHMFD). */
  | "optional";

/** One request of the protocol table. */
export interface RequestSpec {
  readonly id: number;
  /** `VHOST_USER_GET_FEATURES`. */
  readonly name: string;
  /** What the front-end sends. */
  readonly payload: PayloadKind;
  /** What a reply carries (`none`: the request never has a reply of its own). */
  readonly reply: PayloadKind;
  /** The back-end always replies (GET_* and friends), REPLY_ACK or not. */
  readonly alwaysReplies: boolean;
  readonly fds: FdRule;
  /**
   * QEMU sends it once per device, from the first queue pair's vhost_dev only
   * (hw/virtio/vhost-user.c `vhost_user_per_device_request`).
   */
  readonly perDevice: boolean;
}

function req(
  id: number,
  name: string,
  payload: PayloadKind,
  reply: PayloadKind,
  options: { always?: boolean; fds?: FdRule; perDevice?: boolean } = {},
): RequestSpec {
  return {
    id,
    name: `VHOST_USER_${name}`,
    payload,
    reply,
    alwaysReplies: options.always ?? false,
    fds: options.fds ?? "none",
    perDevice: options.perDevice ?? false,
  };
}

/** Every front-end request, by id (§5.3). */
export const VHOST_USER_REQUESTS: readonly RequestSpec[] = [
  req(1, "GET_FEATURES", "none", "u64", { always: true }),
  req(2, "SET_FEATURES", "u64", "none"),
  req(3, "SET_OWNER", "none", "none", { perDevice: true }),
  req(4, "RESET_OWNER", "none", "none", { perDevice: true }),
  req(5, "SET_MEM_TABLE", "memory", "none", { fds: "regions", perDevice: true }),
  req(6, "SET_LOG_BASE", "log", "none", { fds: "optional", perDevice: true }),
  req(7, "SET_LOG_FD", "none", "none", { fds: "one" }),
  req(8, "SET_VRING_NUM", "state", "none"),
  req(9, "SET_VRING_ADDR", "addr", "none"),
  req(10, "SET_VRING_BASE", "state", "none"),
  req(11, "GET_VRING_BASE", "state", "state", { always: true }),
  req(12, "SET_VRING_KICK", "u64", "none", { fds: "vring" }),
  req(13, "SET_VRING_CALL", "u64", "none", { fds: "vring" }),
  req(14, "SET_VRING_ERR", "u64", "none", { fds: "vring" }),
  req(15, "GET_PROTOCOL_FEATURES", "none", "u64", { always: true }),
  req(16, "SET_PROTOCOL_FEATURES", "u64", "none"),
  req(17, "GET_QUEUE_NUM", "none", "u64", { always: true, perDevice: true }),
  req(18, "SET_VRING_ENABLE", "state", "none"),
  req(19, "SEND_RARP", "u64", "none"),
  req(20, "NET_SET_MTU", "u64", "none", { perDevice: true }),
  req(21, "SET_BACKEND_REQ_FD", "none", "none", { fds: "one" }),
  req(22, "IOTLB_MSG", "iotlb", "none"),
  req(23, "SET_VRING_ENDIAN", "state", "none"),
  req(24, "GET_CONFIG", "opaque", "opaque", { always: true }),
  req(25, "SET_CONFIG", "opaque", "none"),
  req(26, "CREATE_CRYPTO_SESSION", "opaque", "opaque", { always: true }),
  req(27, "CLOSE_CRYPTO_SESSION", "u64", "none"),
  req(28, "POSTCOPY_ADVISE", "none", "none", { always: true }),
  req(29, "POSTCOPY_LISTEN", "none", "none"),
  req(30, "POSTCOPY_END", "none", "u64", { always: true }),
  req(31, "GET_INFLIGHT_FD", "opaque", "opaque", { always: true }),
  req(32, "SET_INFLIGHT_FD", "opaque", "none", { fds: "one" }),
  req(33, "GPU_SET_SOCKET", "none", "none", { fds: "one" }),
  req(34, "RESET_DEVICE", "none", "none", { perDevice: true }),
  req(35, "VRING_KICK", "state", "none"),
  req(36, "GET_MAX_MEM_SLOTS", "none", "u64", { always: true }),
  req(37, "ADD_MEM_REG", "mem-reg", "none", { fds: "one", perDevice: true }),
  req(38, "REM_MEM_REG", "mem-reg", "none", { perDevice: true }),
  req(39, "SET_STATUS", "u64", "none"),
  req(40, "GET_STATUS", "none", "u64", { always: true }),
  req(41, "GET_SHARED_OBJECT", "opaque", "opaque", { always: true }),
  req(42, "SET_DEVICE_STATE_FD", "opaque", "u64", { always: true, fds: "one" }),
  req(43, "CHECK_DEVICE_STATE", "none", "u64", { always: true }),
];

/** Every back-end request, by id. */
export const VHOST_USER_BACKEND_REQUESTS: readonly RequestSpec[] = [
  { ...req(1, "IOTLB_MSG", "iotlb", "none"), name: "VHOST_USER_BACKEND_IOTLB_MSG" },
  { ...req(2, "CONFIG_CHANGE_MSG", "none", "none"), name: "VHOST_USER_BACKEND_CONFIG_CHANGE_MSG" },
  {
    ...req(3, "VRING_HOST_NOTIFIER_MSG", "opaque", "none", { fds: "optional" }),
    name: "VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG",
  },
  { ...req(4, "VRING_CALL", "state", "none"), name: "VHOST_USER_BACKEND_VRING_CALL" },
  { ...req(5, "VRING_ERR", "state", "none"), name: "VHOST_USER_BACKEND_VRING_ERR" },
];

const BY_ID = new Map(VHOST_USER_REQUESTS.map((r) => [r.id, r]));
const BACKEND_BY_ID = new Map(VHOST_USER_BACKEND_REQUESTS.map((r) => [r.id, r]));

/** The spec of front-end request `id`, if the protocol defines it. */
export function requestSpec(id: number): RequestSpec | undefined {
  return BY_ID.get(id);
}

/** The spec of back-end request `id`, if the protocol defines it. */
export function backendRequestSpec(id: number): RequestSpec | undefined {
  return BACKEND_BY_ID.get(id);
}

/** `VHOST_USER_SET_MEM_TABLE` for a front-end request id; `VHOST_USER_<id>` when unknown. */
export function requestName(id: number): string {
  return BY_ID.get(id)?.name ?? `VHOST_USER_${id}`;
}

// ---------------------------------------------------------------------------------------------
// Protocol features (§5.4)

/** Protocol feature bit 0: MQ. */
export const VHOST_USER_PROTOCOL_F_MQ = 0;
/** Protocol feature bit 1: LOG_SHMFD. */
export const VHOST_USER_PROTOCOL_F_LOG_SHMFD = 1;
/** Protocol feature bit 2: RARP. */
export const VHOST_USER_PROTOCOL_F_RARP = 2;
/** Protocol feature bit 3: REPLY_ACK. */
export const VHOST_USER_PROTOCOL_F_REPLY_ACK = 3;
/** Protocol feature bit 4: NET_MTU. */
export const VHOST_USER_PROTOCOL_F_NET_MTU = 4;
/** Protocol feature bit 5: BACKEND_REQ. */
export const VHOST_USER_PROTOCOL_F_BACKEND_REQ = 5;
/** Protocol feature bit 6: CROSS_ENDIAN. */
export const VHOST_USER_PROTOCOL_F_CROSS_ENDIAN = 6;
/** Protocol feature bit 7: CRYPTO_SESSION. */
export const VHOST_USER_PROTOCOL_F_CRYPTO_SESSION = 7;
/** Protocol feature bit 8: PAGEFAULT. */
export const VHOST_USER_PROTOCOL_F_PAGEFAULT = 8;
/** Protocol feature bit 9: CONFIG. */
export const VHOST_USER_PROTOCOL_F_CONFIG = 9;
/** Protocol feature bit 10: BACKEND_SEND_FD. */
export const VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD = 10;
/** Protocol feature bit 11: HOST_NOTIFIER. */
export const VHOST_USER_PROTOCOL_F_HOST_NOTIFIER = 11;
/** Protocol feature bit 12: INFLIGHT_SHMFD. */
export const VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD = 12;
/** Protocol feature bit 13: RESET_DEVICE. */
export const VHOST_USER_PROTOCOL_F_RESET_DEVICE = 13;
/** Protocol feature bit 14: INBAND_NOTIFICATIONS. */
export const VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS = 14;
/** Protocol feature bit 15: CONFIGURE_MEM_SLOTS. */
export const VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15;
/** Protocol feature bit 16: STATUS. */
export const VHOST_USER_PROTOCOL_F_STATUS = 16;
/** Protocol feature bit 17: XEN_MMAP. */
export const VHOST_USER_PROTOCOL_F_XEN_MMAP = 17;
/** Protocol feature bit 18: SHARED_OBJECT. */
export const VHOST_USER_PROTOCOL_F_SHARED_OBJECT = 18;
/** Protocol feature bit 19: DEVICE_STATE. */
export const VHOST_USER_PROTOCOL_F_DEVICE_STATE = 19;
/** One past the last bit QEMU knows (VHOST_USER_PROTOCOL_F_MAX). */
export const VHOST_USER_PROTOCOL_F_MAX = 20;

/** Protocol feature names by bit, as vhost-user.rst spells them. */
export const PROTOCOL_FEATURE_NAMES: readonly string[] = [
  "MQ",
  "LOG_SHMFD",
  "RARP",
  "REPLY_ACK",
  "NET_MTU",
  "BACKEND_REQ",
  "CROSS_ENDIAN",
  "CRYPTO_SESSION",
  "PAGEFAULT",
  "CONFIG",
  "BACKEND_SEND_FD",
  "HOST_NOTIFIER",
  "INFLIGHT_SHMFD",
  "RESET_DEVICE",
  "INBAND_NOTIFICATIONS",
  "CONFIGURE_MEM_SLOTS",
  "STATUS",
  "XEN_MMAP",
  "SHARED_OBJECT",
  "DEVICE_STATE",
];

/** A protocol feature set from bit numbers. */
export function protocolMask(...bits: number[]): bigint {
  let m = 0n;
  for (const b of bits) m |= 1n << BigInt(b);
  return m;
}

/** True when `bit` is set in `features`. */
export function hasProtocolFeature(features: bigint, bit: number): boolean {
  return ((features >> BigInt(bit)) & 1n) === 1n;
}

/** The names of the set bits, lowest first; unknown bits print as `bit_N`. */
export function protocolFeatureNames(features: bigint): string[] {
  const out: string[] = [];
  for (let b = 0; b < 64; b++) {
    if (hasProtocolFeature(features, b)) out.push(PROTOCOL_FEATURE_NAMES[b] ?? `bit_${b}`);
  }
  return out;
}

/** Every bit QEMU knows: `(1 << VHOST_USER_PROTOCOL_F_MAX) - 1`. */
export const VHOST_USER_PROTOCOL_FEATURE_MASK = (1n << BigInt(VHOST_USER_PROTOCOL_F_MAX)) - 1n;

// ---------------------------------------------------------------------------------------------
// Payloads (§5.2)

/** A memory region as the protocol carries it (32 bytes). */
export type VhostUserMemoryRegion = Required<VhostMemoryRegion>;

/** A decoded payload. Addresses are numbers (every address the lab uses is below 2^53). */
export type VhostUserPayload =
  | { readonly kind: "none" }
  | { readonly kind: "u64"; readonly value: bigint }
  | { readonly kind: "state"; readonly index: number; readonly num: number }
  | {
    readonly kind: "addr";
    readonly index: number;
    /** VHOST_VRING_F_LOG (bit 0). */
    readonly flags: number;
    readonly desc: number;
    readonly used: number;
    readonly avail: number;
    readonly log: number;
  }
  | { readonly kind: "memory"; readonly regions: readonly VhostUserMemoryRegion[] }
  | { readonly kind: "mem-reg"; readonly region: VhostUserMemoryRegion }
  | { readonly kind: "log"; readonly mmapSize: number; readonly mmapOffset: number }
  | { readonly kind: "iotlb"; readonly msg: VhostIotlbMsg }
  /** A payload the lab carries but does not interpret (config space, inflight, crypto). */
  | { readonly kind: "opaque"; readonly bytes: Uint8Array };

/** A message without its file descriptors. */
export interface VhostUserMessage {
  readonly request: number;
  readonly flags: number;
  readonly payload: VhostUserPayload;
}

/** Why bytes are not a valid message. */
export type ProtocolError =
  | { readonly kind: "short-header"; readonly bytes: number }
  | { readonly kind: "bad-version"; readonly request: number; readonly flags: number }
  | {
    readonly kind: "bad-size";
    readonly request: number;
    readonly size: number;
    readonly expected: number;
  }
  | {
    readonly kind: "truncated";
    readonly request: number;
    readonly size: number;
    readonly got: number;
  }
  | { readonly kind: "too-many-regions"; readonly request: number; readonly regions: number }
  | { readonly kind: "unknown-request"; readonly request: number };

/** One lowercase line per protocol error (the only formatter of {@link ProtocolError}). */
export function describeProtocolError(
  e: ProtocolError,
  side: "request" | "reply" = "request",
): string {
  switch (e.kind) {
    case "short-header":
      return `message header is ${e.bytes} bytes, expected ${VHOST_USER_HDR_SIZE}`;
    case "bad-version":
      return side === "reply"
        ? `reply flags 0x${e.flags.toString(16)} instead of 0x${
          (VHOST_USER_REPLY_MASK | VHOST_USER_VERSION).toString(16)
        }`
        : `${requestName(e.request)} has version ${e.flags & VHOST_USER_VERSION_MASK}, expected 1`;
    case "bad-size":
      return `${requestName(e.request)} payload is ${e.size} bytes, expected ${e.expected}`;
    case "truncated":
      return `${requestName(e.request)} announces ${e.size} payload bytes but ${e.got} arrived`;
    case "too-many-regions":
      return `${
        requestName(e.request)
      } carries ${e.regions} regions, at most ${VHOST_MEMORY_BASELINE_NREGIONS}`;
    case "unknown-request":
      return `unknown request ${e.request}`;
  }
}

/** Payload size in bytes of a fixed-size kind (memory and opaque vary). */
function fixedSize(kind: PayloadKind): number | undefined {
  switch (kind) {
    case "none":
      return 0;
    case "u64":
      return 8;
    case "state":
      return 8;
    case "addr":
      return 40;
    case "mem-reg":
      return 40;
    case "log":
      return 16;
    case "iotlb":
      // struct vhost_iotlb_msg: 3 × u64, u8 perm, u8 type, padded to 8.
      return 32;
    case "memory":
    case "opaque":
      return undefined;
  }
}

function payloadSize(p: VhostUserPayload): number {
  if (p.kind === "memory") return 8 + 32 * p.regions.length;
  if (p.kind === "opaque") return p.bytes.length;
  return fixedSize(p.kind) as number;
}

function putU64(dv: DataView, at: number, v: number | bigint): void {
  dv.setBigUint64(at, typeof v === "bigint" ? v : BigInt(v), true);
}

function getU64(dv: DataView, at: number): number {
  return Number(dv.getBigUint64(at, true));
}

function putRegion(dv: DataView, at: number, r: VhostUserMemoryRegion): void {
  putU64(dv, at, r.guestPhysAddr);
  putU64(dv, at + 8, r.memorySize);
  putU64(dv, at + 16, r.userspaceAddr);
  putU64(dv, at + 24, r.mmapOffset);
}

function getRegion(dv: DataView, at: number): VhostUserMemoryRegion {
  return {
    guestPhysAddr: getU64(dv, at),
    memorySize: getU64(dv, at + 8),
    userspaceAddr: getU64(dv, at + 16),
    mmapOffset: getU64(dv, at + 24),
  };
}

/** The bytes of a message: header then payload, little-endian. */
export function encodeMessage(msg: VhostUserMessage): Uint8Array {
  const size = payloadSize(msg.payload);
  const out = new Uint8Array(VHOST_USER_HDR_SIZE + size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, msg.request, true);
  dv.setUint32(4, msg.flags, true);
  dv.setUint32(8, size, true);
  const p = msg.payload;
  const at = VHOST_USER_HDR_SIZE;
  switch (p.kind) {
    case "none":
      break;
    case "u64":
      putU64(dv, at, BigInt.asUintN(64, p.value));
      break;
    case "state":
      dv.setUint32(at, p.index, true);
      dv.setUint32(at + 4, p.num, true);
      break;
    case "addr":
      dv.setUint32(at, p.index, true);
      dv.setUint32(at + 4, p.flags, true);
      putU64(dv, at + 8, p.desc);
      putU64(dv, at + 16, p.used);
      putU64(dv, at + 24, p.avail);
      putU64(dv, at + 32, p.log);
      break;
    case "memory":
      dv.setUint32(at, p.regions.length, true);
      p.regions.forEach((r, i) => putRegion(dv, at + 8 + 32 * i, r));
      break;
    case "mem-reg":
      putRegion(dv, at + 8, p.region);
      break;
    case "log":
      putU64(dv, at, p.mmapSize);
      putU64(dv, at + 8, p.mmapOffset);
      break;
    case "iotlb":
      putU64(dv, at, p.msg.iova);
      putU64(dv, at + 8, p.msg.size);
      putU64(dv, at + 16, p.msg.uaddr);
      dv.setUint8(at + 24, p.msg.perm);
      dv.setUint8(at + 25, p.msg.type);
      break;
    case "opaque":
      out.set(p.bytes, at);
      break;
  }
  return out;
}

/** Reads the header only (request, flags, size), or why it cannot. */
export function decodeHeader(
  bytes: Uint8Array,
): Result<{ request: number; flags: number; size: number }, ProtocolError> {
  if (bytes.length < VHOST_USER_HDR_SIZE) return err({ kind: "short-header", bytes: bytes.length });
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return ok({
    request: dv.getUint32(0, true),
    flags: dv.getUint32(4, true),
    size: dv.getUint32(8, true),
  });
}

/**
 * Decodes `bytes` as a request (`side: "request"`, the payload shape of the request) or as
 * a reply to one (`side: "reply"`: the reply shape, or a u64 ack). Sizes are checked like
 * rte_vhost and QEMU check them; an unknown request id decodes with an opaque payload (the
 * receiver decides what to do with it).
 */
export function decodeMessage(
  bytes: Uint8Array,
  side: "request" | "reply" | "backend-request",
): Result<VhostUserMessage, ProtocolError> {
  const h = decodeHeader(bytes);
  if (!h.ok) return h;
  const { request, flags, size } = h.value;
  if ((flags & VHOST_USER_VERSION_MASK) !== VHOST_USER_VERSION) {
    return err({ kind: "bad-version", request, flags });
  }
  if (size > VHOST_USER_PAYLOAD_MAX) {
    return err({ kind: "bad-size", request, size, expected: VHOST_USER_PAYLOAD_MAX });
  }
  const got = bytes.length - VHOST_USER_HDR_SIZE;
  if (got < size) return err({ kind: "truncated", request, size, got });
  const spec = side === "backend-request" ? backendRequestSpec(request) : requestSpec(request);
  const body = bytes.subarray(VHOST_USER_HDR_SIZE, VHOST_USER_HDR_SIZE + size);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let kind: PayloadKind = spec === undefined
    ? "opaque"
    : side === "reply"
    ? spec.reply
    : spec.payload;
  // A reply to a request that has none of its own is a REPLY_ACK: a u64 (§5.1 NEED_REPLY).
  if (side === "reply" && kind === "none" && size === 8) kind = "u64";
  const want = fixedSize(kind);
  if (want !== undefined && size !== want) {
    return err({ kind: "bad-size", request, size, expected: want });
  }
  let payload: VhostUserPayload;
  switch (kind) {
    case "none":
      payload = { kind: "none" };
      break;
    case "u64":
      payload = { kind: "u64", value: dv.getBigUint64(0, true) };
      break;
    case "state":
      payload = { kind: "state", index: dv.getUint32(0, true), num: dv.getUint32(4, true) };
      break;
    case "addr":
      payload = {
        kind: "addr",
        index: dv.getUint32(0, true),
        flags: dv.getUint32(4, true),
        desc: getU64(dv, 8),
        used: getU64(dv, 16),
        avail: getU64(dv, 24),
        log: getU64(dv, 32),
      };
      break;
    case "memory": {
      if (size < 8) return err({ kind: "bad-size", request, size, expected: 8 });
      const n = dv.getUint32(0, true);
      if (n > VHOST_MEMORY_BASELINE_NREGIONS) {
        return err({ kind: "too-many-regions", request, regions: n });
      }
      if (size !== 8 + 32 * n) {
        return err({ kind: "bad-size", request, size, expected: 8 + 32 * n });
      }
      const regions: VhostUserMemoryRegion[] = [];
      for (let i = 0; i < n; i++) regions.push(getRegion(dv, 8 + 32 * i));
      payload = { kind: "memory", regions };
      break;
    }
    case "mem-reg":
      payload = { kind: "mem-reg", region: getRegion(dv, 8) };
      break;
    case "log":
      payload = { kind: "log", mmapSize: getU64(dv, 0), mmapOffset: getU64(dv, 8) };
      break;
    case "iotlb":
      payload = {
        kind: "iotlb",
        msg: {
          iova: getU64(dv, 0),
          size: getU64(dv, 8),
          uaddr: getU64(dv, 16),
          perm: (dv.getUint8(24) & 3) as Access,
          type: dv.getUint8(25) as VhostIotlbMsgType,
        },
      };
      break;
    case "opaque":
      payload = { kind: "opaque", bytes: body.slice() };
      break;
  }
  return ok({ request, flags, payload });
}

// ---------------------------------------------------------------------------------------------
// Summaries

function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

/** `idx=1 fd` / `idx=0 nofd` for a kick/call/err payload. */
export function vringFileText(u64: bigint): string {
  const idx = Number(u64 & BigInt(VHOST_USER_VRING_IDX_MASK));
  return (u64 & BigInt(VHOST_USER_VRING_NOFD_MASK)) !== 0n ? `idx=${idx} nofd` : `idx=${idx}`;
}

/**
 * The payload in one line, in the order the protocol lists its fields:
 * `idx=1 desc=0x7f… used=0x7f… avail=0x7f…`, `regions=1 fds=1`, `0x140000000` for a u64.
 * `request` picks the reading of a u64 (features, vring file, MTU, status).
 */
export function summarizePayload(
  request: number,
  payload: VhostUserPayload,
  options: { readonly fds?: number; readonly reply?: boolean } = {},
): string {
  const p = payload;
  switch (p.kind) {
    case "none":
      return "";
    case "u64":
      return summarizeU64(request, p.value, options);
    case "state":
      return summarizeState(request, p.index, p.num, options.reply ?? false);
    case "addr":
      return `idx=${p.index} desc=${hex(p.desc)} used=${hex(p.used)} avail=${hex(p.avail)}` +
        (p.flags !== 0 ? ` flags=${hex(p.flags)} log=${hex(p.log)}` : "");
    case "memory":
      return `regions=${p.regions.length} fds=${options.fds ?? 0}`;
    case "mem-reg":
      return `gpa=${hex(p.region.guestPhysAddr)} size=${hex(p.region.memorySize)} uaddr=${
        hex(p.region.userspaceAddr)
      }`;
    case "log":
      return `size=${hex(p.mmapSize)} offset=${hex(p.mmapOffset)}`;
    case "iotlb":
      return `type=${p.msg.type} iova=${hex(p.msg.iova)} size=${hex(p.msg.size)}`;
    case "opaque":
      return `${p.bytes.length} bytes`;
  }
}

/** `SET_VRING_ADDR` for `VHOST_USER_SET_VRING_ADDR` (the name without its prefix). */
export function shortName(name: string): string {
  return name.replace(/^VHOST_USER_/, "");
}

function summarizeU64(
  request: number,
  value: bigint,
  options: { readonly fds?: number; readonly reply?: boolean },
): string {
  if (options.reply && requestSpec(request)?.reply === "none") {
    return value === 0n ? "ack=0" : `ack=${value} (failure)`;
  }
  switch (request) {
    case VHOST_USER_SET_VRING_KICK:
    case VHOST_USER_SET_VRING_CALL:
    case VHOST_USER_SET_VRING_ERR:
      return vringFileText(value) + ((options.fds ?? 0) > 0 ? " fds=1" : "");
    case VHOST_USER_GET_FEATURES:
    case VHOST_USER_SET_FEATURES:
    case VHOST_USER_GET_PROTOCOL_FEATURES:
    case VHOST_USER_SET_PROTOCOL_FEATURES:
      return hex(value);
    case VHOST_USER_SET_STATUS:
    case VHOST_USER_GET_STATUS:
      return `status=${hex(value)}`;
    case VHOST_USER_NET_SET_MTU:
      return `mtu=${value}`;
    default:
      return `${value}`;
  }
}

function summarizeState(request: number, index: number, num: number, reply: boolean): string {
  switch (request) {
    case VHOST_USER_SET_VRING_BASE:
      return `idx=${index} base=${num}`;
    case VHOST_USER_GET_VRING_BASE:
      return reply ? `idx=${index} base=${num}` : `idx=${index}`;
    case VHOST_USER_SET_VRING_ENABLE:
      return `idx=${index} enable=${num}`;
    default:
      return `idx=${index} num=${num}`;
  }
}
