/**
 * A small virtual file system for /sys, /dev and /proc: directories whose entries are
 * computed from kernel state on every lookup (like kernfs), attribute files with show/store
 * callbacks, symlinks with relative targets, and character device nodes. Lookups follow the
 * kernel's path walk: relative link targets resolve against the link's real directory, `..`
 * is physical, 40 link hops give ELOOP, a non-directory in the middle gives ENOTDIR.
 * Failures come back as `fs` HostErrors tagged with the operation, so the one formatter can
 * print what `cat`, `ls` or bash would.
 *
 * @example
 * ```ts
 * import { dir, file, link, Vfs } from "./vfs.ts";
 * import { ok } from "../result.ts";
 * const vfs = new Vfs(() =>
 *   dir(0o755, () => [
 *     ["devices", dir(0o755, () => [["vdpa0", dir(0o755, () => [["uevent", file(0o644, () => ok("x\n"))]])]])],
 *     ["bus", dir(0o755, () => [["vdpa0", link("../devices/vdpa0")]])],
 *   ])
 * );
 * const r = vfs.read("/bus/vdpa0/uevent");
 * if (!r.ok || r.value !== "x\n") throw new Error("link followed");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { Errno } from "./errno.ts";
import type { FsOp, HostError } from "./host_error.ts";

/** A directory: entries are computed on demand. */
export interface DirNode {
  readonly type: "dir";
  readonly mode: number;
  children(): ReadonlyMap<string, FsNode>;
}

/** An attribute file: `read` is show(), `write` is store(). */
export interface FileNode {
  readonly type: "file";
  readonly mode: number;
  /** What stat reports (sysfs attributes report 4096, /proc files 0). */
  readonly size: number;
  readonly read?: () => Result<string, Errno>;
  readonly write?: (data: string) => Result<void, FsWriteError>;
}

/** A store() refusal: the errno, and what the real kernel would be waiting for, if anything. */
export interface FsWriteError {
  readonly errno: Errno;
  readonly waitingFor?: string;
  readonly heldBy?: string;
}

/** A symbolic link. */
export interface LinkNode {
  readonly type: "link";
  readonly target: string;
}

/** A character (or, with `block`, block) device node. */
export interface CharNode {
  readonly type: "chr";
  readonly block?: boolean;
  readonly mode: number;
  readonly major: number;
  readonly minor: number;
  readonly group: string;
}

/** Any node. */
export type FsNode = DirNode | FileNode | LinkNode | CharNode;

/** A directory from an entry builder (called on every lookup). */
export function dir(mode: number, build: () => Iterable<readonly [string, FsNode]>): DirNode {
  return {
    type: "dir",
    mode,
    children: () => {
      const m = new Map<string, FsNode>();
      for (const [k, v] of build()) m.set(k, v);
      return m;
    },
  };
}

/** An attribute file (sysfs size 4096). */
export function file(
  mode: number,
  read?: () => Result<string, Errno>,
  write?: (data: string) => Result<void, FsWriteError>,
  size = 4096,
): FileNode {
  return {
    type: "file",
    mode,
    size,
    ...(read !== undefined ? { read } : {}),
    ...(write !== undefined ? { write } : {}),
  };
}

/** A symlink. */
export function link(target: string): LinkNode {
  return { type: "link", target };
}

/** What `stat`/`lstat` report. */
export interface Stat {
  readonly type: "dir" | "file" | "link" | "chr" | "blk";
  /** Permission bits. */
  readonly mode: number;
  readonly nlink: number;
  readonly size: number;
  readonly owner: string;
  readonly group: string;
  readonly major?: number;
  readonly minor?: number;
  /** Link target (lstat of a link). */
  readonly target?: string;
}

const MAX_LINK_HOPS = 40;

interface Walked {
  readonly node: FsNode;
  /** Canonical components. */
  readonly real: readonly string[];
}

function split(path: string): string[] {
  return path.split("/").filter((c) => c !== "");
}

/** The tree, rebuilt from state for every operation. */
export class Vfs {
  readonly #root: () => DirNode;

  /** `root` builds the top directory; entries below are computed lazily. */
  constructor(root: () => DirNode) {
    this.#root = root;
  }

  #walk(
    root: DirNode,
    comps: readonly string[],
    follow: boolean,
    hops: number,
  ): Result<Walked, Errno> {
    let cur: FsNode = root;
    let real: string[] = [];
    for (let i = 0; i < comps.length; i++) {
      const name = comps[i] ?? "";
      const last = i === comps.length - 1;
      if (cur.type !== "dir") return err("ENOTDIR");
      if (name === ".") continue;
      if (name === "..") {
        real = real.slice(0, -1);
        const back = this.#walk(root, real, true, hops);
        if (!back.ok) return back;
        cur = back.value.node;
        continue;
      }
      const child: FsNode | undefined = cur.children().get(name);
      if (child === undefined) return err("ENOENT");
      if (child.type === "link" && (!last || follow)) {
        if (hops >= MAX_LINK_HOPS) return err("ELOOP");
        const target = child.target.startsWith("/")
          ? split(child.target)
          : [...real, ...split(child.target)];
        const r = this.#walk(root, target, true, hops + 1);
        if (!r.ok) return r;
        cur = r.value.node;
        real = [...r.value.real];
      } else {
        cur = child;
        real.push(name);
      }
    }
    return ok({ node: cur, real });
  }

  #lookup(path: string, follow: boolean): Result<Walked, Errno> {
    const comps = split(path);
    // a trailing slash resolves the final component as a directory, following a link
    const r = this.#walk(this.#root(), comps, follow || (path.endsWith("/") && path !== "/"), 0);
    // "x/" names a directory: a trailing slash on a non-directory is ENOTDIR.
    if (r.ok && path.endsWith("/") && path !== "/" && r.value.node.type !== "dir") {
      return err("ENOTDIR");
    }
    return r;
  }

  /** The canonical path (`realpath`). */
  realpath(path: string): Result<string, HostError> {
    const r = this.#lookup(path, true);
    return r.ok ? ok("/" + r.value.real.join("/")) : fail("stat", path, r.error);
  }

  /** stat(2): follows links. */
  stat(path: string): Result<Stat, HostError> {
    const r = this.#lookup(path, true);
    return r.ok ? ok(statOf(r.value.node)) : fail("stat", path, r.error);
  }

  /** lstat(2): a final link is reported as a link. */
  lstat(path: string): Result<Stat, HostError> {
    const r = this.#lookup(path, false);
    return r.ok ? ok(statOf(r.value.node)) : fail("stat", path, r.error);
  }

  /** readlink(2). */
  readlink(path: string): Result<string, HostError> {
    const r = this.#lookup(path, false);
    if (!r.ok) return fail("readlink", path, r.error);
    return r.value.node.type === "link"
      ? ok(r.value.node.target)
      : fail("readlink", path, "EINVAL");
  }

  /** Directory entries, sorted (C locale). */
  readdir(path: string): Result<string[], HostError> {
    const r = this.#lookup(path, true);
    if (!r.ok) return fail("readdir", path, r.error);
    if (r.value.node.type !== "dir") return fail("readdir", path, "ENOTDIR");
    return ok([...r.value.node.children().keys()].sort(byCodePoint));
  }

  /** Reads a whole file (what `cat` prints). */
  read(path: string): Result<string, HostError> {
    const r = this.#lookup(path, true);
    if (!r.ok) return fail("open-read", path, r.error);
    const n = r.value.node;
    if (n.type === "dir") return fail("read", path, "EISDIR");
    if (n.type === "chr") return fail("read", path, "EINVAL");
    if (n.type === "link") return fail("open-read", path, "ENOENT");
    // kernfs refuses to open for reading when the attribute has no show()
    if (n.read === undefined) return fail("open-read", path, "EACCES");
    const v = n.read();
    return v.ok ? v : fail("read", path, v.error);
  }

  /**
   * Writes a value as `echo value > path` does (the caller includes echo's newline).
   * Opening fails first (missing file: EACCES in an existing sysfs directory, because
   * kernfs cannot create files; no store(): EACCES), then the store() decides.
   */
  write(path: string, data: string): Result<void, HostError> {
    const r = this.#lookup(path, true);
    if (!r.ok) {
      if (r.error === "ENOENT") {
        const parent = this.#lookup(split(path).slice(0, -1).join("/"), true);
        if (parent.ok && parent.value.node.type === "dir") {
          return fail("open-write", path, "EACCES");
        }
      }
      return fail("open-write", path, r.error);
    }
    const n = r.value.node;
    if (n.type === "dir") return fail("open-write", path, "EISDIR");
    if (n.type !== "file" || n.write === undefined) return fail("open-write", path, "EACCES");
    const w = n.write(data);
    if (w.ok) return w;
    return err({
      kind: "fs",
      op: "write",
      path,
      errno: w.error.errno,
      ...(w.error.waitingFor !== undefined ? { waitingFor: w.error.waitingFor } : {}),
      ...(w.error.heldBy !== undefined ? { heldBy: w.error.heldBy } : {}),
    });
  }

  /** Whether a path exists (following links). */
  exists(path: string): boolean {
    return this.#lookup(path, true).ok;
  }

  /**
   * Pathname expansion as bash does it: `*`, `?` and `[…]` per component, sorted; hidden
   * names only match a pattern that starts with a dot. No match gives an empty list (bash
   * then passes the pattern through literally).
   */
  glob(pattern: string): string[] {
    const absolute = pattern.startsWith("/");
    const comps = split(pattern);
    let acc: string[] = [absolute ? "" : "."];
    for (let i = 0; i < comps.length; i++) {
      const comp = comps[i] ?? "";
      const next: string[] = [];
      const lastComp = i === comps.length - 1;
      for (const base of acc) {
        const baseDir = base === "" ? "/" : base;
        if (!hasGlob(comp)) {
          const p = joinPath(base, comp);
          if (lastComp ? this.#lookup(p, false).ok : this.#lookup(p, true).ok) next.push(p);
          continue;
        }
        const entries = this.readdir(baseDir);
        if (!entries.ok) continue;
        const re = globToRegExp(comp);
        for (const name of entries.value) {
          if (name.startsWith(".") && !comp.startsWith(".")) continue;
          if (re.test(name)) next.push(joinPath(base, name));
        }
      }
      acc = next;
    }
    return acc.map((p) => (absolute ? p : p.replace(/^\.\//, ""))).sort(byCodePoint);
  }
}

function joinPath(base: string, name: string): string {
  return base === "" ? `/${name}` : `${base}/${name}`;
}

function hasGlob(s: string): boolean {
  return /[*?[]/.test(s);
}

function globToRegExp(glob: string): RegExp {
  let re = "^";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? "";
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close < 0) {
        re += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, close);
      if (body.startsWith("!")) body = "^" + body.slice(1);
      re += `[${body.replace(/\\/g, "\\\\")}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(re + "$");
}

/** Code-point order (C locale). */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function statOf(n: FsNode): Stat {
  switch (n.type) {
    case "dir": {
      let subdirs = 0;
      for (const c of n.children().values()) if (c.type === "dir") subdirs++;
      // kernfs: a directory's link count is 2 plus its subdirectories
      return {
        type: "dir",
        mode: n.mode,
        nlink: 2 + subdirs,
        size: 0,
        owner: "root",
        group: "root",
      };
    }
    case "file":
      return { type: "file", mode: n.mode, nlink: 1, size: n.size, owner: "root", group: "root" };
    case "link":
      return {
        type: "link",
        mode: 0o777,
        nlink: 1,
        size: 0,
        owner: "root",
        group: "root",
        target: n.target,
      };
    case "chr":
      return {
        type: n.block === true ? "blk" : "chr",
        mode: n.mode,
        nlink: 1,
        size: 0,
        owner: "root",
        group: n.group,
        major: n.major,
        minor: n.minor,
      };
  }
}

function fail<T>(op: FsOp, path: string, errno: Errno): Result<T, HostError> {
  return err({ kind: "fs", op, path, errno });
}
