/**
 * Every way a host-kernel operation can fail, as a closed union, and the one formatter that
 * turns each into the text the real tool prints (kmod's `modprobe`/`rmmod`, bash's
 * redirection and `echo` errors, `cat`, `ls`, iproute2's `vdpa` and `ip`). Callers test on
 * `kind` and on `errno`; the stdlib adds locations and help.
 *
 * @example
 * ```ts
 * import { formatHostError } from "./host_error.ts";
 * const text = formatHostError({ kind: "rmmod-in-use-by", module: "vdpa", holders: ["vhost_vdpa", "vdpa_sim"] });
 * if (text !== "rmmod: ERROR: Module vdpa is in use by: vhost_vdpa vdpa_sim") throw new Error(text);
 * ```
 *
 * @module
 */

import { type Errno, strerror } from "./errno.ts";

/**
 * The file operation that failed, which decides which tool's message applies: reads are
 * `cat`, writes are bash's redirection (`open-write`) or its `echo` builtin (`write`), and
 * lookups are `ls`.
 */
export type FsOp =
  | "open-read"
  | "read"
  | "open-write"
  | "write"
  | "stat"
  | "readdir"
  | "readlink"
  | "open";

/** A host-kernel failure. */
export type HostError =
  /** modprobe: the name is neither a module nor an alias. */
  | { readonly kind: "modprobe-not-found"; readonly module: string; readonly release: string }
  /** modprobe -r of a name kmod cannot resolve. */
  | { readonly kind: "modprobe-remove-not-found"; readonly module: string }
  /** modprobe --first-time of a module that is already loaded (kmod's -EEXIST). */
  | { readonly kind: "modprobe-already-loaded"; readonly module: string }
  /** modprobe -r --first-time of a module that is not loaded. */
  | { readonly kind: "modprobe-not-in-kernel"; readonly module: string }
  /** modprobe -r of a module with a non-zero reference count. */
  | { readonly kind: "modprobe-in-use"; readonly module: string }
  /** modprobe -r or rmmod of a built-in module. */
  | {
    readonly kind: "module-builtin";
    readonly tool: "modprobe" | "rmmod";
    readonly module: string;
  }
  /** init_module failed (a parameter value the kernel refused). */
  | { readonly kind: "modprobe-insert-failed"; readonly module: string; readonly errno: Errno }
  | { readonly kind: "rmmod-not-loaded"; readonly module: string }
  | {
    readonly kind: "rmmod-in-use-by";
    readonly module: string;
    readonly holders: readonly string[];
  }
  /** Reference count held by something other than a module (an open /dev node). */
  | { readonly kind: "rmmod-in-use"; readonly module: string }
  /**
   * The real kernel would block here until `waitingFor` is closed (vhost_vdpa's remove
   * waits for the last fd; vfio waits for the group's user). The lab refuses instead.
   */
  | {
    readonly kind: "remove-blocked";
    readonly tool: "rmmod" | "modprobe";
    readonly module: string;
    readonly waitingFor: string;
  }
  /** A file operation under /sys, /dev or /proc. `waitingFor` as for remove-blocked. */
  | {
    readonly kind: "fs";
    readonly op: FsOp;
    readonly path: string;
    readonly errno: Errno;
    readonly waitingFor?: string;
    readonly heldBy?: string;
    /** The write went through `tee` (which names the file in its message), not bash's `echo`. */
    readonly tool?: "tee";
  }
  /** `vdpa …` while the `vdpa` genl family is not registered (module not loaded). */
  | { readonly kind: "vdpa-netlink-unavailable" }
  /** A vdpa genl request the kernel refused, with its extack message if it set one. */
  | {
    readonly kind: "vdpa-netlink";
    readonly errno: Errno;
    readonly extack?: string;
    readonly waitingFor?: string;
  }
  /** A devlink request refused (`devlink port add …`), with the driver's extack. */
  | {
    readonly kind: "devlink";
    readonly errno: Errno;
    readonly extack?: string;
    readonly waitingFor?: string;
  }
  /** An rtnetlink request refused (`ip link …`). */
  | { readonly kind: "rtnetlink"; readonly errno: Errno; readonly extack?: string }
  /**
   * `ip link set|del dev X` with no such device (`nodev()`); `show` for `ip link show dev X`,
   * whose filter reports it in other words.
   */
  | { readonly kind: "ip-no-device"; readonly name: string; readonly op?: "show" }
  /** iproute2's invarg(): an argument naming a device that does not exist. */
  | { readonly kind: "ip-bad-argument"; readonly argument: string; readonly message: string }
  /** `ip tuntap` ioctl failure. */
  | {
    readonly kind: "tuntap-ioctl";
    readonly ioctl: "TUNSETIFF" | "TUNSETPERSIST";
    readonly errno: Errno;
  }
  /** `host nic …` refused (lab statement, not a real tool). */
  | {
    readonly kind: "host-nic";
    readonly reason:
      | "unknown-model"
      | "bad-pci-address"
      | "duplicate-pci"
      | "duplicate-name"
      | "bad-speed";
    readonly name: string;
    readonly detail: string;
  }
  /** `host cmdline` after the kernel has booted (modules loaded or hardware present). */
  | { readonly kind: "host-cmdline-after-boot" }
  /** `host cpu` with an impossible value. */
  | { readonly kind: "host-cpu"; readonly detail: string };

/** The exact text the real tool prints for `e` (no trailing newline; may span lines). */
export function formatHostError(e: HostError): string {
  switch (e.kind) {
    case "modprobe-not-found":
      return `modprobe: FATAL: Module ${e.module} not found in directory /lib/modules/${e.release}`;
    case "modprobe-remove-not-found":
      return `modprobe: FATAL: Module ${e.module} not found.`;
    case "modprobe-already-loaded":
      return `modprobe: ERROR: could not insert '${e.module}': Module already in kernel`;
    case "modprobe-not-in-kernel":
      return `modprobe: FATAL: Module ${e.module} is not in kernel.`;
    case "modprobe-in-use":
      return `modprobe: FATAL: Module ${e.module} is in use.`;
    case "module-builtin":
      return e.tool === "rmmod"
        ? `rmmod: ERROR: Module ${e.module} is builtin.`
        : `modprobe: FATAL: Module ${e.module} is builtin.`;
    case "modprobe-insert-failed":
      return `modprobe: ERROR: could not insert '${e.module}': ${strerror(e.errno)}`;
    case "rmmod-not-loaded":
      return `rmmod: ERROR: Module ${e.module} is not currently loaded`;
    case "rmmod-in-use-by":
      return `rmmod: ERROR: Module ${e.module} is in use by: ${e.holders.join(" ")}`;
    case "rmmod-in-use":
      return `rmmod: ERROR: Module ${e.module} is in use`;
    case "remove-blocked":
      // kmod's wording for a failed delete_module(); the real call would sleep instead.
      return e.tool === "rmmod"
        ? `rmmod: ERROR: could not remove module ${e.module}: ${strerror("EBUSY")}`
        : `modprobe: ERROR: could not remove '${e.module}': ${strerror("EBUSY")}`;
    case "fs":
      // tee(1) reports both open and write failures as "tee: FILE: MSG"
      return e.tool === "tee" && (e.op === "open-write" || e.op === "write")
        ? `tee: ${e.path}: ${strerror(e.errno)}`
        : formatFs(e.op, e.path, e.errno);
    case "vdpa-netlink-unavailable":
      return "Failed to connect to vdpa Netlink";
    case "vdpa-netlink":
    case "devlink":
      return formatNetlink("kernel answers", e.errno, e.extack);
    case "rtnetlink":
      // iproute2 prints the extack instead of the errno line when there is one.
      return e.extack !== undefined
        ? extackLine(e.extack)
        : `RTNETLINK answers: ${strerror(e.errno)}`;
    case "ip-no-device":
      return e.op === "show"
        ? `Device "${e.name}" does not exist.`
        : `Cannot find device "${e.name}"`;
    case "ip-bad-argument":
      return `Error: argument "${e.argument}" is wrong: ${e.message}`;
    case "tuntap-ioctl":
      return `ioctl(${e.ioctl}): ${strerror(e.errno)}`;
    case "host-nic":
      return `host nic ${e.name}: ${e.detail}`;
    case "host-cmdline-after-boot":
      return "host cmdline: the kernel command line is read at boot; set it before loading modules or adding hardware";
    case "host-cpu":
      return `host cpu: ${e.detail}`;
  }
}

function formatFs(op: FsOp, path: string, errno: Errno): string {
  const msg = strerror(errno);
  switch (op) {
    case "open-read":
    case "read":
      return `cat: ${path}: ${msg}`;
    case "open-write":
      return `bash: ${path}: ${msg}`;
    case "write":
      return `bash: echo: write error: ${msg}`;
    case "stat":
    case "readdir":
      return `ls: cannot access '${path}': ${msg}`;
    case "readlink":
      return `readlink: ${path}: ${msg}`;
    case "open":
      return `${path}: ${msg}`;
  }
}

/** iproute2 `nl_dump_ext_ack`: "Error: <msg>." with the period added when missing. */
function extackLine(msg: string): string {
  return `Error: ${msg}${msg.endsWith(".") ? "" : "."}`;
}

function formatNetlink(prefix: string, errno: Errno, extack: string | undefined): string {
  const answer = `${prefix}: ${strerror(errno)}`;
  return extack !== undefined && extack !== "" ? `${extackLine(extack)}\n${answer}` : answer;
}
