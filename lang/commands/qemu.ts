/**
 * A QEMU command line (`qemu-system-x86_64`, `qemu-system-aarch64`, `qemu-kvm`, `qemu`, by any
 * path). QEMU's own rules: an option is `-name` or `--name`, its argument is always the next
 * word; a word that is no option is a disk image (`-hda`). Options that take a comma list become
 * a PropList (QEMU's implied keys: -netdev → `type`, -device → `driver`, -chardev → `backend`,
 * -object → `qom-type`, -machine/-numa/-nic/-net → `type`, -name → `guest`, -m → `size`,
 * -smp → `cpus`, -accel → `accel`; -cpu's model is stored as `model`). Options that do not
 * matter to I/O are accepted, kept, and warned about (W0010) at the option.
 *
 * @example
 * ```ts
 * import { Diagnostics } from "../diagnostic.ts";
 * import { parseCommand } from "./mod.ts";
 * import { testWords } from "./test_words.ts";
 * const line = "qemu-system-x86_64 -m 4G -netdev tap,id=n0,vhost=on -device virtio-net-pci,netdev=n0";
 * const cmd = parseCommand(testWords(line), new Diagnostics());
 * const netdev = cmd?.kind === "qemu" ? cmd.netdevs[0] : undefined;
 * if (netdev?.props?.items[0]?.key.value !== "type" || netdev.props.items[0].value?.value !== "tap") {
 *   throw new Error("implicit netdev type expected");
 * }
 * ```
 *
 * @module
 */

import { joinSpans } from "../span.ts";
import type { Span } from "../span.ts";
import type { ExpandedWord } from "../word.ts";
import type { QemuCommand, QemuOption, UsageCommand } from "./ast.ts";
import { type CommandContext, usage } from "./context.ts";
import { loc, own } from "./cursor.ts";
import { parseCommaList } from "./prop_list.ts";
import { report, suggestHelp } from "./report.ts";

/** `qemu-system-<target>` binaries the lab accepts. */
export const QEMU_TARGETS: Readonly<Record<string, "x86_64" | "aarch64">> = {
  x86_64: "x86_64",
  aarch64: "aarch64",
};

/** How one option is written and whether it matters to I/O. */
interface OptionRule {
  /** 0: a flag; 1: takes the next word. */
  readonly args: 0 | 1;
  /** Parse the argument as a comma list; the string is the implied key ("" for none). */
  readonly list?: string;
  /** Why the option does not matter to I/O (present ⇒ ignored with a warning). */
  readonly ignored?: string;
}

const DISPLAY = "the lab has no display";
const DISK = "block devices are not simulated";
const BOOT = "firmware and boot order do not change the simulated I/O path";
const MGMT = "the lab has no monitor or management socket";
const PROC = "process management does not matter to the simulated datapath";
const DEBUG = "QEMU debugging and tracing are not simulated";
const MISC = "does not change the simulated I/O path";

/** Every option the lab knows, by canonical name (without dashes). */
const OPTIONS: Readonly<Record<string, OptionRule>> = {
  // I/O relevant
  name: { args: 1, list: "guest" },
  m: { args: 1, list: "size" },
  smp: { args: 1, list: "cpus" },
  machine: { args: 1, list: "type" },
  cpu: { args: 1, list: "model" },
  "enable-kvm": { args: 0 },
  accel: { args: 1, list: "accel" },
  object: { args: 1, list: "qom-type" },
  numa: { args: 1, list: "type" },
  chardev: { args: 1, list: "backend" },
  netdev: { args: 1, list: "type" },
  device: { args: 1, list: "driver" },
  nic: { args: 1, list: "type" },
  net: { args: 1, list: "type" },
  "mem-prealloc": { args: 0 },
  "mem-path": { args: 1 },
  overcommit: { args: 1, list: "" },
  // the guest kernel QEMU boots and its command line (the guest's IOMMU mode)
  kernel: { args: 1 },
  initrd: { args: 1 },
  append: { args: 1 },
  // accepted, ignored for I/O
  vnc: { args: 1, ignored: DISPLAY },
  display: { args: 1, ignored: DISPLAY },
  nographic: { args: 0, ignored: DISPLAY },
  vga: { args: 1, ignored: DISPLAY },
  spice: { args: 1, ignored: DISPLAY },
  "full-screen": { args: 0, ignored: DISPLAY },
  "alt-grab": { args: 0, ignored: DISPLAY },
  "ctrl-grab": { args: 0, ignored: DISPLAY },
  "no-quit": { args: 0, ignored: DISPLAY },
  "show-cursor": { args: 0, ignored: DISPLAY },
  portrait: { args: 0, ignored: DISPLAY },
  rotate: { args: 1, ignored: DISPLAY },
  k: { args: 1, ignored: DISPLAY },
  serial: { args: 1, ignored: MGMT },
  parallel: { args: 1, ignored: MGMT },
  monitor: { args: 1, ignored: MGMT },
  mon: { args: 1, ignored: MGMT },
  qmp: { args: 1, ignored: MGMT },
  "qmp-pretty": { args: 1, ignored: MGMT },
  gdb: { args: 1, ignored: MGMT },
  s: { args: 0, ignored: MGMT },
  drive: { args: 1, ignored: DISK },
  blockdev: { args: 1, ignored: DISK },
  hda: { args: 1, ignored: DISK },
  hdb: { args: 1, ignored: DISK },
  hdc: { args: 1, ignored: DISK },
  hdd: { args: 1, ignored: DISK },
  fda: { args: 1, ignored: DISK },
  fdb: { args: 1, ignored: DISK },
  cdrom: { args: 1, ignored: DISK },
  pflash: { args: 1, ignored: DISK },
  sd: { args: 1, ignored: DISK },
  mtdblock: { args: 1, ignored: DISK },
  snapshot: { args: 0, ignored: DISK },
  fsdev: { args: 1, ignored: DISK },
  virtfs: { args: 1, ignored: DISK },
  iscsi: { args: 1, ignored: DISK },
  dtb: { args: 1, ignored: BOOT },
  bios: { args: 1, ignored: BOOT },
  L: { args: 1, ignored: BOOT },
  boot: { args: 1, ignored: BOOT },
  "option-rom": { args: 1, ignored: BOOT },
  "prom-env": { args: 1, ignored: BOOT },
  fw_cfg: { args: 1, ignored: BOOT },
  smbios: { args: 1, ignored: BOOT },
  acpitable: { args: 1, ignored: BOOT },
  "no-acpi": { args: 0, ignored: BOOT },
  "no-hpet": { args: 0, ignored: BOOT },
  loadvm: { args: 1, ignored: BOOT },
  S: { args: 0, ignored: PROC },
  daemonize: { args: 0, ignored: PROC },
  pidfile: { args: 1, ignored: PROC },
  runas: { args: 1, ignored: PROC },
  chroot: { args: 1, ignored: PROC },
  "run-with": { args: 1, ignored: PROC },
  sandbox: { args: 1, ignored: PROC },
  "no-reboot": { args: 0, ignored: PROC },
  "no-shutdown": { args: 0, ignored: PROC },
  "watchdog-action": { args: 1, ignored: PROC },
  action: { args: 1, ignored: PROC },
  "add-fd": { args: 1, ignored: PROC },
  preconfig: { args: 0, ignored: PROC },
  "async-teardown": { args: 0, ignored: PROC },
  D: { args: 1, ignored: DEBUG },
  d: { args: 1, ignored: DEBUG },
  trace: { args: 1, ignored: DEBUG },
  msg: { args: 1, ignored: DEBUG },
  plugin: { args: 1, ignored: DEBUG },
  icount: { args: 1, ignored: DEBUG },
  "enable-sync-profile": { args: 0, ignored: DEBUG },
  rtc: { args: 1, ignored: MISC },
  usb: { args: 0, ignored: MISC },
  usbdevice: { args: 1, ignored: MISC },
  uuid: { args: 1, ignored: MISC },
  audiodev: { args: 1, ignored: MISC },
  audio: { args: 1, ignored: MISC },
  tpmdev: { args: 1, ignored: MISC },
  nodefaults: { args: 0, ignored: MISC },
  "no-user-config": { args: 0, ignored: MISC },
  compat: { args: 1, ignored: MISC },
  echr: { args: 1, ignored: MISC },
  realtime: { args: 1, ignored: MISC },
  "semihosting": { args: 0, ignored: MISC },
  "semihosting-config": { args: 1, ignored: MISC },
  global: {
    args: 1,
    ignored: "`-global` defaults are not applied; write the property on the `-device` itself",
  },
  set: {
    args: 1,
    ignored: "`-set` edits are not applied; write the property on the option itself",
  },
  readconfig: {
    args: 1,
    ignored: "configuration files are not read; write the options on the command line",
  },
  writeconfig: { args: 1, ignored: MISC },
  incoming: { args: 1, ignored: "live migration is not modelled" },
};

/** Aliases (QEMU spells some options two ways). */
const ALIASES: Readonly<Record<string, string>> = { M: "machine" };

/** Options whose argument may be written as JSON (`{…}`) in newer QEMU. */
const JSON_CAPABLE = new Set([
  "netdev",
  "device",
  "object",
  "blockdev",
  "display",
  "audiodev",
  "compat",
  "machine",
]);

/** Parses a QEMU command line. */
export function parseQemu(ctx: CommandContext): QemuCommand | UsageCommand | undefined {
  const diags = ctx.diags;
  const program = ctx.name;
  let target: "x86_64" | "aarch64" = "x86_64";
  if (program.startsWith("qemu-system-")) {
    const t = own(QEMU_TARGETS, program.slice("qemu-system-".length));
    if (!t) {
      report(diags, "E0114", `unsupported QEMU target \`${program}\``, {
        span: ctx.base.program.span,
        label: "the lab models x86_64 and aarch64 hosts",
        help: ["use `qemu-system-x86_64` (or `qemu-kvm`)"],
      });
      return undefined;
    }
    target = t;
  }
  const options: QemuOption[] = [];
  let ok = true;
  const args = ctx.args;
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as ExpandedWord;
    if (w.quoted || !w.text.startsWith("-") || w.text === "-") {
      // vl.c: a non-option argument is the first hard disk image.
      options.push({ span: w.span, name: "hda", arg: loc(w), ignored: true });
      report(diags, "W0010", `disk image \`${w.text}\` is ignored`, {
        span: w.span,
        label: DISK,
        help: ["remove it to silence this warning"],
      });
      continue;
    }
    const raw = w.text.startsWith("--") ? w.text.slice(2) : w.text.slice(1);
    if (raw === "h" || raw === "help" || raw === "version") {
      return usage(ctx, "qemu", raw === "version" ? "version" : "usage");
    }
    const name = own(ALIASES, raw) ?? raw;
    const rule = own(OPTIONS, name);
    if (!rule) {
      ok = false;
      const candidates = Object.keys(OPTIONS).map((o) => `-${o}`);
      report(diags, "E0101", `unknown QEMU option \`${w.text}\``, {
        span: w.span,
        label: "not a QEMU option",
        notes: [`QEMU prints: ${program}: ${w.text}: invalid option`],
        help: [
          ...suggestHelp(`-${raw}`, candidates),
          "`help qemu` lists the options the lab knows",
        ],
      });
      // Most options take an argument: take the next word with it rather than call it a disk.
      const next = args[i + 1];
      if (next && (next.quoted || !next.text.startsWith("-"))) i++;
      continue;
    }
    const flag = loc(w);
    if (rule.args === 0) {
      options.push({ span: w.span, name, flag, ignored: rule.ignored !== undefined });
      if (rule.ignored) warnIgnored(ctx, w.text, w.span, rule.ignored);
      continue;
    }
    const a = args[i + 1];
    if (!a) {
      ok = false;
      report(diags, "E0102", `option \`${w.text}\` needs an argument`, {
        span: w.span,
        label: "argument expected after this",
        notes: [`QEMU prints: ${program}: ${w.text}: requires an argument`],
        help: [`write the argument after \`${w.text}\``],
      });
      continue;
    }
    i++;
    const span = joinSpans(w.span, a.span);
    if (rule.ignored) {
      options.push({ span, name, flag, arg: loc(a), ignored: true });
      warnIgnored(ctx, w.text, span, rule.ignored);
      continue;
    }
    if (a.text === "help" || a.text === "?") {
      ok = false;
      helpQuery(ctx, w.text, a);
      continue;
    }
    if (JSON_CAPABLE.has(name) && a.text.trimStart().startsWith("{")) {
      ok = false;
      report(diags, "E0116", `the JSON form of \`${w.text}\` is not supported`, {
        span: a.span,
        label: "JSON option",
        help: [`write the option as a comma list, e.g. \`${w.text} ${jsonExample(name)}\``],
      });
      continue;
    }
    if (rule.list === undefined) {
      options.push({ span, name, flag, arg: loc(a), ignored: false });
      continue;
    }
    const before = diags.length;
    const props = parseCommaList(a, diags, {
      dialect: "qemu",
      option: `-${name}`,
      warnFlags: name !== "cpu",
      ...(rule.list !== "" ? { impliedKey: rule.list } : {}),
    });
    if (diags.items.slice(before).some((d) => d.severity === "error")) ok = false;
    const helpItem = props.items.find((p) =>
      p.value === undefined && (p.key.value === "help" || p.key.value === "?")
    );
    if (helpItem) {
      ok = false;
      helpQuery(ctx, w.text, a);
      continue;
    }
    options.push({ span, name, flag, arg: loc(a), props, ignored: false });
  }
  if (!ok) return undefined;
  const named = (...n: string[]) => options.filter((o) => n.includes(o.name));
  return {
    ...ctx.base,
    kind: "qemu",
    target,
    options,
    netdevs: named("netdev"),
    devices: named("device"),
    chardevs: named("chardev"),
    objects: named("object"),
    numa: named("numa"),
    nics: named("nic", "net"),
  };
}

function warnIgnored(ctx: CommandContext, flag: string, span: Span, why: string): void {
  report(ctx.diags, "W0010", `\`${flag}\` is ignored`, {
    span,
    label: why,
    help: ["remove it to silence this warning"],
  });
}

function helpQuery(ctx: CommandContext, flag: string, a: ExpandedWord): void {
  report(ctx.diags, "E0115", `\`${flag} ${a.text}\` asks QEMU for help`, {
    span: a.span,
    label: "a help query, not a configuration",
    notes: ["QEMU would print the list and exit without starting a VM"],
    help: ["`help qemu` lists the options, types and properties the lab models"],
  });
}

function jsonExample(name: string): string {
  switch (name) {
    case "netdev":
      return "tap,id=n0";
    case "device":
      return "virtio-net-pci,netdev=n0";
    case "object":
      return "memory-backend-memfd,id=mem0,size=4G,share=on";
    default:
      return "key=value,…";
  }
}

/** Every QEMU option name the lab knows (for completion and help). */
export const QEMU_OPTION_NAMES: readonly string[] = Object.keys(OPTIONS);

/** True if the option `name` (without dashes) is accepted but ignored for I/O. */
export function qemuOptionIgnored(name: string): boolean {
  return own(OPTIONS, own(ALIASES, name) ?? name)?.ignored !== undefined;
}
