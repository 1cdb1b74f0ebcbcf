/**
 * Top-level options of `qemu-system-x86_64` (also `qemu-kvm`, `qemu`): what argument each
 * takes, which key a bare first item of a comma list stands for (QemuOpts
 * `implied_opt_name`: `tap` in `-netdev tap,id=n0` is `type=tap`, `4G` in `-m 4G` is
 * `size=4G`), and whether the option matters to I/O. Options the lab does not simulate
 * (displays, monitors, disks, firmware …) are accepted and reported as ignored.
 *
 * Sources: qemu-options.hx (option names and arguments), system/vl.c (the QemuOptsList
 * `implied_opt_name` of each option).
 *
 * @example
 * ```ts
 * import { findQemuOption } from "./qemu_options.ts";
 * if (findQemuOption("-netdev")?.head !== "type") throw new Error("netdev's head is type=");
 * if (findQemuOption("M")?.name !== "machine") throw new Error("-M is -machine");
 * if (findQemuOption("vnc")?.ioRelevant !== false) throw new Error("-vnc is ignored");
 * ```
 *
 * @module
 */

/** What follows an option on the command line. */
export type QemuOptionArg =
  /** Nothing (`-enable-kvm`). */
  | "none"
  /** One plain value (`-cpu host`, `-mem-path /dev/hugepages`). */
  | "value"
  /** A comma-separated property list (`-netdev tap,id=n0`). */
  | "props";

/** One top-level option. */
export interface QemuOptionSpec {
  /** Canonical name without the dash. */
  readonly name: string;
  readonly arg: QemuOptionArg;
  /** For `props`: the key a bare first item stands for (QemuOpts `implied_opt_name`). */
  readonly head?: string;
  /** False: accepted and reported as ignored. */
  readonly ioRelevant: boolean;
  readonly desc: string;
}

function props(name: string, head: string | undefined, ioRelevant: boolean, desc: string) {
  return { name, arg: "props", ...(head === undefined ? {} : { head }), ioRelevant, desc } as const;
}
function value(name: string, ioRelevant: boolean, desc: string) {
  return { name, arg: "value", ioRelevant, desc } as const;
}
function none(name: string, ioRelevant: boolean, desc: string) {
  return { name, arg: "none", ioRelevant, desc } as const;
}

const SPECS: readonly QemuOptionSpec[] = [
  props("name", "guest", true, "name the guest (the lab's VM name)"),
  props("m", "size", true, "guest RAM size (MiB without suffix)"),
  props("smp", "cpus", true, "vCPU count and topology"),
  props("machine", "type", true, "machine type and its properties"),
  props("accel", "accel", true, "accelerator and its properties"),
  none("enable-kvm", true, "use KVM (same as -accel kvm)"),
  props("object", "qom-type", true, "create an object (memory backends, iothreads …)"),
  props("numa", "type", true, "guest NUMA topology"),
  props("chardev", "backend", true, "character device (vhost-user sockets)"),
  props("netdev", "type", true, "network backend"),
  props("device", "driver", true, "add a device"),
  props("nic", "type", true, "shorthand: a netdev and its NIC in one option"),
  props("net", "type", true, "legacy: NICs and backends joined through hub 0"),
  props("global", undefined, true, "default for a property of every device of a driver"),
  value("mem-path", true, "back guest RAM with a file on this path (hugetlbfs)"),
  none("mem-prealloc", false, "preallocate guest RAM"),
  value("cpu", false, "CPU model"),
  none("nographic", false, "no graphical output"),
  props("display", "type", false, "display backend"),
  value("vnc", false, "VNC server"),
  props("spice", undefined, false, "SPICE server"),
  value("vga", false, "VGA card"),
  value("serial", false, "serial port backend"),
  value("parallel", false, "parallel port backend"),
  value("monitor", false, "HMP monitor backend"),
  props("mon", undefined, false, "monitor on a chardev"),
  value("qmp", false, "QMP monitor backend"),
  none("daemonize", false, "detach from the terminal"),
  value("pidfile", false, "write the PID here"),
  props("drive", "file", false, "block device (disks are not simulated)"),
  props("blockdev", undefined, false, "block node"),
  value("hda", false, "first IDE disk"),
  value("hdb", false, "second IDE disk"),
  value("cdrom", false, "CD-ROM image"),
  value("kernel", true, "kernel image (the guest boots it with -append)"),
  value("initrd", true, "initial ram disk (with -kernel)"),
  value("append", true, "guest kernel command line (intel_iommu=on, iommu=pt …)"),
  props("boot", "order", false, "boot order"),
  value("bios", false, "firmware image"),
  none("usb", false, "USB controller"),
  value("usbdevice", false, "USB device"),
  props("rtc", undefined, false, "real-time clock"),
  none("no-reboot", false, "exit instead of rebooting"),
  none("no-shutdown", false, "stop instead of exiting on shutdown"),
  none("snapshot", false, "write disk changes to temporary files"),
  none("S", false, "start with the CPU stopped"),
  none("s", false, "gdb server on tcp::1234"),
  value("gdb", false, "gdb server"),
  value("D", false, "log file"),
  value("d", false, "log items"),
  props("trace", "enable", false, "trace events"),
  props("msg", undefined, false, "message format"),
  props("sandbox", "enable", false, "seccomp sandbox"),
  props("fsdev", "fsdriver", false, "file system device"),
  props("virtfs", "fsdriver", false, "9p file system"),
  value("readconfig", false, "read a config file"),
  none("nodefaults", false, "no default devices"),
  none("no-user-config", false, "ignore user config files"),
  value("k", false, "keyboard layout"),
  value("L", false, "firmware directory"),
  value("runas", false, "drop privileges to this user"),
  props("overcommit", undefined, false, "memory and CPU overcommit hints"),
  value("uuid", false, "system UUID"),
  props("smbios", "type", false, "SMBIOS tables"),
  props("incoming", undefined, false, "migration source"),
  props("action", undefined, false, "actions on guest events"),
  props("compat", undefined, false, "deprecated-feature policy"),
  props("icount", "shift", false, "instruction counting"),
  props("plugin", "file", false, "TCG plugin"),
  props("audiodev", "driver", false, "audio backend"),
  props("iothread", undefined, false, "iothread (old syntax)"),
  props("tpmdev", "type", false, "TPM backend"),
  none("full-screen", false, "full-screen display"),
  none("no-hpet", false, "no HPET"),
  none("no-acpi", false, "no ACPI"),
];

const ALIASES: Readonly<Record<string, string>> = {
  M: "machine",
};

const BY_NAME: ReadonlyMap<string, QemuOptionSpec> = new Map(SPECS.map((s) => [s.name, s]));

/** Looks up an option by name, with or without leading dashes (`-M` → `machine`). */
export function findQemuOption(name: string): QemuOptionSpec | undefined {
  const bare = name.replace(/^--?/, "");
  return BY_NAME.get(ALIASES[bare] ?? bare);
}

/** Every option name the lab knows (without dashes). */
export function qemuOptionNames(): string[] {
  return [...BY_NAME.keys(), ...Object.keys(ALIASES)];
}

/** Program names that start QEMU (`qemu-kvm` defaults to the KVM accelerator). */
export const QEMU_PROGRAMS: readonly string[] = ["qemu-system-x86_64", "qemu-kvm", "qemu"];
