/**
 * QEMU character device backends (`-chardev BACKEND,id=…`).
 *
 * Only `socket` matters to the lab: a unix socket chardev carries the vhost-user protocol.
 * Its options and defaults follow chardev/char-socket.c `qemu_chr_parse_socket` and
 * qapi/char.json `ChardevSocket` (server off, wait on, tight on, abstract off; `reconnect`
 * in seconds is deprecated since QEMU 9.2 in favour of `reconnect-ms`). The legacy short
 * forms `server` and `nowait` are QemuOpts booleans (`server=on`, `wait=off`). `-chardev` is
 * read by QemuOpts (`style: "qemu-opts"`: `Invalid parameter 'pth'`). Other backends are
 * accepted and ignored for I/O.
 *
 * @example
 * ```ts
 * import { findClass } from "./schema.ts";
 * import { CHARDEV_BACKENDS } from "./qemu_chardev.ts";
 * const sock = findClass(CHARDEV_BACKENDS, "socket");
 * if (sock?.props.wait?.default !== true) throw new Error("a server waits for a client");
 * ```
 *
 * @module
 */

import type { ClassCatalog, ClassSchema, PropSchema } from "./schema.ts";

/** Options every chardev takes (chardev/char.c qemu_chardev_opts). */
export const CHARDEV_COMMON_PROPS = {
  id: { type: "id", required: true, ioRelevant: true, desc: "name frontends refer to" },
  mux: { type: "bool", default: false, ioRelevant: false, desc: "share between frontends" },
  logfile: { type: "path", ioRelevant: false, desc: "copy output to a file" },
  logappend: { type: "bool", default: false, ioRelevant: false, desc: "append to logfile" },
} as const satisfies Record<string, PropSchema>;

// chardev/char-socket.c qemu_chr_parse_socket; qapi/char.json ChardevSocket.
const SOCKET_PROPS = {
  ...CHARDEV_COMMON_PROPS,
  path: { type: "path", ioRelevant: true, desc: "unix socket path" },
  host: { type: "string", ioRelevant: false, desc: "TCP host" },
  port: { type: "string", ioRelevant: false, desc: "TCP port" },
  to: { type: "uint", width: 16, ioRelevant: false, desc: "last port to try when listening" },
  ipv4: { type: "bool", ioRelevant: false, desc: "IPv4 only" },
  ipv6: { type: "bool", ioRelevant: false, desc: "IPv6 only" },
  fd: { type: "string", ioRelevant: true, desc: "an already opened socket fd" },
  server: {
    type: "bool",
    default: false,
    ioRelevant: true,
    desc: "listen (QEMU is the server; the back-end connects)",
  },
  wait: {
    type: "bool",
    default: true,
    defaultDesc: "on for a server (block start-up until a client connects)",
    ioRelevant: true,
    desc: "wait for the first client before starting the guest",
  },
  reconnect: {
    type: "uint",
    width: 64,
    ioRelevant: true,
    deprecated: "`reconnect` (seconds) is deprecated since QEMU 9.2; use `reconnect-ms`",
    desc: "client: retry the connection every N seconds",
  },
  "reconnect-ms": {
    type: "uint",
    width: 64,
    default: 0,
    ioRelevant: true,
    desc: "client: retry the connection every N milliseconds (0: never)",
  },
  abstract: {
    type: "bool",
    default: false,
    ioRelevant: true,
    desc: "use the Linux abstract socket namespace",
  },
  tight: {
    type: "bool",
    default: true,
    ioRelevant: false,
    desc: "abstract address length without padding",
  },
  nodelay: { type: "bool", default: false, ioRelevant: false, desc: "TCP_NODELAY" },
  telnet: { type: "bool", default: false, ioRelevant: false, desc: "telnet protocol" },
  tn3270: { type: "bool", default: false, ioRelevant: false, desc: "tn3270 protocol" },
  websocket: { type: "bool", default: false, ioRelevant: false, desc: "websocket protocol" },
  "tls-creds": { type: "string", ioRelevant: false, desc: "TLS credentials object" },
  "tls-authz": { type: "string", ioRelevant: false, desc: "TLS authorization object" },
} as const satisfies Record<string, PropSchema>;

function ignored(name: string, desc: string): ClassSchema {
  return {
    name,
    desc,
    status: "ignored",
    style: "qemu-opts",
    props: { ...CHARDEV_COMMON_PROPS },
    openProps: true,
  };
}

/** Chardev backends by name (chardev/char*.c TYPE_CHARDEV_* registrations). */
export const CHARDEV_BACKENDS: ClassCatalog = {
  kind: "chardev backend",
  classes: {
    socket: {
      name: "socket",
      desc: "unix or TCP socket (vhost-user runs over a unix one)",
      status: "modelled",
      style: "qemu-opts",
      props: SOCKET_PROPS,
    },
    stdio: ignored("stdio", "QEMU's standard input/output"),
    pty: ignored("pty", "a new pseudo terminal"),
    file: ignored("file", "output to a file"),
    null: ignored("null", "discard output"),
    pipe: ignored("pipe", "a named pipe pair"),
    udp: ignored("udp", "UDP socket"),
    serial: ignored("serial", "host serial port"),
    parallel: ignored("parallel", "host parallel port"),
    ringbuf: ignored("ringbuf", "in-memory ring buffer"),
    memory: ignored("memory", "alias of ringbuf"),
    vc: ignored("vc", "virtual console"),
    msmouse: ignored("msmouse", "serial mouse"),
    wctablet: ignored("wctablet", "serial tablet"),
    braille: ignored("braille", "braille device"),
    testdev: ignored("testdev", "test device"),
    spicevmc: ignored("spicevmc", "SPICE channel"),
    spiceport: ignored("spiceport", "SPICE port"),
    "qemu-vdagent": ignored("qemu-vdagent", "clipboard/mouse agent"),
    dbus: ignored("dbus", "D-Bus channel"),
  },
  // chardev/char.c chardev_alias_table.
  aliases: { tty: "serial", parport: "parallel" },
};
