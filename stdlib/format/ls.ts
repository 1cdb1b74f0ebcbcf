/**
 * `ls` and `ls -l` (GNU coreutils, C locale) over the host's /sys, /dev and /proc: names
 * sorted by byte value; file arguments before directory listings, with `dir:` headers when
 * there is more than one argument; `-l` with a `total` line, columns aligned the way ls
 * aligns them (device numbers as `major, minor`), a fixed date so output is deterministic,
 * and symlinks given on the command line shown as links (`-l` does not dereference them)
 * but listed through when plain `ls` is given a link to a directory.
 *
 * @example
 * ```ts
 * import { dir, file, Vfs } from "../../runtime/host/vfs.ts";
 * import { ok } from "../../runtime/result.ts";
 * import { formatLs } from "./ls.ts";
 * const vfs = new Vfs(() => dir(0o755, () => [["a", file(0o644, () => ok(""))], ["b", dir(0o755, () => [])]]));
 * const out = formatLs(vfs, ["/"], {});
 * if (out.stdout !== "a\nb\n") throw new Error(out.stdout);
 * ```
 *
 * @module
 */

import type { Result } from "../../runtime/result.ts";
import { formatHostError, type HostError } from "../../runtime/host/host_error.ts";
import type { Stat } from "../../runtime/host/vfs.ts";
import type { ToolOutput } from "./iproute2_print.ts";

/** What ls reads. */
export interface LsSource {
  stat(path: string): Result<Stat, HostError>;
  lstat(path: string): Result<Stat, HostError>;
  readdir(path: string): Result<string[], HostError>;
}

/** Options. */
export interface LsOptions {
  /** `-l`. */
  readonly long?: boolean;
  /** `-a`: `.` and `..` (and dot files) too. */
  readonly all?: boolean;
  /** `-d`: directories themselves, not their contents. */
  readonly directory?: boolean;
  /** `-h`: sizes of `-l` as 4.0K. */
  readonly human?: boolean;
  /** Terminal width for the column layout; one name per line when absent (not a tty). */
  readonly columns?: number;
  /** The date column of `-l`. */
  readonly date?: string;
}

/** The fixed modification time shown by `-l`. */
export const LS_DATE = "Jan  1 00:00";

function modeString(st: Stat): string {
  const type = st.type === "dir"
    ? "d"
    : st.type === "link"
    ? "l"
    : st.type === "chr"
    ? "c"
    : st.type === "blk"
    ? "b"
    : "-";
  const bits = st.type === "link" ? 0o777 : st.mode;
  let s = type;
  for (const shift of [6, 3, 0]) {
    const v = (bits >> shift) & 7;
    s += (v & 4 ? "r" : "-") + (v & 2 ? "w" : "-") + (v & 1 ? "x" : "-");
  }
  return s;
}

interface Row {
  readonly name: string;
  readonly st: Stat;
}

/** GNU ls -h (human_readable with ceiling rounding): 4096 → 4.0K, 0 → 0, 512 → 512. */
export function humanSize(n: number): string {
  const units = ["K", "M", "G", "T", "P"];
  if (n < 1024) return String(n);
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  // one decimal below 10, rounded up as coreutils does
  const shown = v < 10 ? (Math.ceil(v * 10) / 10).toFixed(1) : String(Math.ceil(v));
  return `${shown}${units[u]}`;
}

function longLines(rows: readonly Row[], date: string, human = false): string[] {
  const majW = Math.max(
    0,
    ...rows.map((r) => (r.st.major !== undefined ? String(r.st.major).length : 0)),
  );
  const minW = Math.max(
    0,
    ...rows.map((r) => (r.st.minor !== undefined ? String(r.st.minor).length : 0)),
  );
  const sizeOf = (r: Row): string =>
    r.st.type === "chr" || r.st.type === "blk"
      ? `${String(r.st.major ?? 0).padStart(majW)}, ${String(r.st.minor ?? 0).padStart(minW)}`
      : human
      ? humanSize(r.st.size)
      : String(r.st.size);
  const nW = Math.max(...rows.map((r) => String(r.st.nlink).length));
  const oW = Math.max(...rows.map((r) => r.st.owner.length));
  const gW = Math.max(...rows.map((r) => r.st.group.length));
  const sW = Math.max(...rows.map((r) => sizeOf(r).length));
  return rows.map((r) => {
    const target = r.st.type === "link" && r.st.target !== undefined ? ` -> ${r.st.target}` : "";
    return `${modeString(r.st)} ${String(r.st.nlink).padStart(nW)} ${r.st.owner.padEnd(oW)} ${
      r.st.group.padEnd(gW)
    } ` +
      `${sizeOf(r).padStart(sW)} ${date} ${r.name}${target}`;
  });
}

/** GNU ls's vertical column layout for a terminal `width` wide. */
function columnsLayout(names: readonly string[], width: number): string[] {
  if (names.length === 0) return [];
  for (let cols = names.length; cols >= 1; cols--) {
    const rows = Math.ceil(names.length / cols);
    const used = Math.ceil(names.length / rows);
    if (used !== cols) continue;
    const widths: number[] = [];
    for (let c = 0; c < cols; c++) {
      const col = names.slice(c * rows, (c + 1) * rows);
      widths.push(Math.max(...col.map((n) => n.length)) + (c === cols - 1 ? 0 : 2));
    }
    if (widths.reduce((a, b) => a + b, 0) < width || cols === 1) {
      const lines: string[] = [];
      for (let r = 0; r < rows; r++) {
        let line = "";
        for (let c = 0; c < cols; c++) {
          const name = names[c * rows + r];
          if (name === undefined) continue;
          const last = c === cols - 1 || names[(c + 1) * rows + r] === undefined;
          line += last ? name : name.padEnd(widths[c] ?? 0);
        }
        lines.push(line);
      }
      return lines;
    }
  }
  return [...names];
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Runs `ls [-l] ARGS…`. */
export function formatLs(src: LsSource, args: readonly string[], o: LsOptions): ToolOutput {
  const long = o.long === true;
  const date = o.date ?? LS_DATE;
  const paths = args.length === 0 ? ["."] : args;
  const files: Row[] = [];
  const dirs: string[] = [];
  let stderr = "";
  let status = 0;
  for (const p of paths) {
    const path = p === "." ? "/" : p;
    const l = src.lstat(path);
    if (!l.ok) {
      stderr += formatHostError({ ...l.error, kind: "fs", op: "stat", path: p } as HostError) +
        "\n";
      status = 2;
      continue;
    }
    // -l shows a command-line symlink itself; plain ls follows a link to a directory
    let st = l.value;
    if (st.type === "link" && !long) {
      const s = src.stat(path);
      if (s.ok) st = s.value;
    }
    if (st.type === "dir" && o.directory !== true) dirs.push(p);
    else files.push({ name: p, st });
  }
  const blocks: string[] = [];
  files.sort((a, b) => byteOrder(a.name, b.name));
  if (files.length > 0) {
    const lines = long
      ? longLines(files, date, o.human === true)
      : o.columns !== undefined
      ? columnsLayout(files.map((f) => f.name), o.columns)
      : files.map((f) => f.name);
    blocks.push(lines.map((x) => x + "\n").join(""));
  }
  const header = paths.length > 1;
  for (const d of [...dirs].sort(byteOrder)) {
    const path = d === "." ? "/" : d;
    const entries = src.readdir(path);
    if (!entries.ok) {
      stderr += formatHostError(entries.error) + "\n";
      status = 2;
      continue;
    }
    let text = header ? `${d}:\n` : "";
    const names = o.all === true ? [".", "..", ...entries.value] : entries.value;
    if (long) {
      const rows: Row[] = [];
      for (const name of names) {
        const full = name === "."
          ? path
          : name === ".."
          ? `${path.replace(/\/$/, "")}/..`
          : `${path.replace(/\/$/, "")}/${name}`;
        const st = name === "." || name === ".." ? src.stat(full) : src.lstat(full);
        if (st.ok) rows.push({ name, st: st.value });
      }
      text += "total 0\n";
      if (rows.length > 0) {
        text += longLines(rows, date, o.human === true).map((x) => x + "\n").join("");
      }
    } else {
      const lines = o.columns !== undefined ? columnsLayout(names, o.columns) : names;
      text += lines.map((x) => x + "\n").join("");
    }
    blocks.push(text);
  }
  return { stdout: blocks.join("\n"), stderr, status };
}
