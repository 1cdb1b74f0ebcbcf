/**
 * The Linux errno values the host model returns, by name, with their x86-64 numbers and the
 * glibc `strerror()` text that tools print (`bash: echo: write error: No such device`,
 * `kernel answers: Operation not supported`).
 *
 * @example
 * ```ts
 * import { errnoNumber, strerror } from "./errno.ts";
 * if (strerror("ENODEV") !== "No such device") throw new Error("glibc text expected");
 * if (errnoNumber("EOPNOTSUPP") !== 95) throw new Error("x86-64 number expected");
 * ```
 *
 * @module
 */

/** An errno name (asm-generic/errno-base.h, asm-generic/errno.h). */
export type Errno =
  | "EPERM"
  | "ENOENT"
  | "EIO"
  | "ENXIO"
  | "E2BIG"
  | "EBADF"
  | "EAGAIN"
  | "ENOMEM"
  | "EACCES"
  | "EFAULT"
  | "EBUSY"
  | "EEXIST"
  | "ENODEV"
  | "ENOTDIR"
  | "EISDIR"
  | "EINVAL"
  | "ENOTTY"
  | "ENOSPC"
  | "ERANGE"
  | "ENAMETOOLONG"
  | "ENOTEMPTY"
  | "ELOOP"
  | "EMSGSIZE"
  | "EOPNOTSUPP"
  | "EADDRNOTAVAIL"
  | "ENOBUFS"
  /** Kernel-internal (include/linux/errno.h); reaches userspace as "Unknown error 524". */
  | "ENOTSUPP";

const TABLE: Readonly<Record<Errno, readonly [number, string]>> = {
  EPERM: [1, "Operation not permitted"],
  ENOENT: [2, "No such file or directory"],
  EIO: [5, "Input/output error"],
  ENXIO: [6, "No such device or address"],
  E2BIG: [7, "Argument list too long"],
  EBADF: [9, "Bad file descriptor"],
  EAGAIN: [11, "Resource temporarily unavailable"],
  ENOMEM: [12, "Cannot allocate memory"],
  EACCES: [13, "Permission denied"],
  EFAULT: [14, "Bad address"],
  EBUSY: [16, "Device or resource busy"],
  EEXIST: [17, "File exists"],
  ENODEV: [19, "No such device"],
  ENOTDIR: [20, "Not a directory"],
  EISDIR: [21, "Is a directory"],
  EINVAL: [22, "Invalid argument"],
  ENOTTY: [25, "Inappropriate ioctl for device"],
  ENOSPC: [28, "No space left on device"],
  ERANGE: [34, "Numerical result out of range"],
  ENAMETOOLONG: [36, "File name too long"],
  ENOTEMPTY: [39, "Directory not empty"],
  ELOOP: [40, "Too many levels of symbolic links"],
  EMSGSIZE: [90, "Message too long"],
  EOPNOTSUPP: [95, "Operation not supported"],
  EADDRNOTAVAIL: [99, "Cannot assign requested address"],
  ENOBUFS: [105, "No buffer space available"],
  ENOTSUPP: [524, "Unknown error 524"],
};

/** The glibc message for an errno (what `strerror(3)` and `perror(3)` print). */
export function strerror(errno: Errno): string {
  return TABLE[errno][1];
}

/** The x86-64 number of an errno (the kernel returns its negation). */
export function errnoNumber(errno: Errno): number {
  return TABLE[errno][0];
}
