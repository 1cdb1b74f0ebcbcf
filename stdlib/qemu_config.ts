/**
 * Resolution of a QEMU command line into a typed, defaults-applied configuration: what the VM
 * model consumes. Every resolved value is a {@link Setting}: the value, the span it was
 * written at (or the span of the option it defaults for) and whether it was written, so a
 * runtime error can point at the offending property.
 *
 * {@link resolveQemu} types every option against the catalogs (stdlib/catalog/qemu_*.ts),
 * builds the configuration in command-line order, runs the cross-option rules of
 * stdlib/check/qemu_rules.ts, and returns the configuration when no error was found.
 *
 * @example Resolving a vhost-net VM
 * ```ts
 * import { Diagnostics } from "../lang/diagnostic.ts";
 * import { testQemu } from "./check/test_commands.ts";
 * import { resolveQemu } from "./qemu_config.ts";
 * const cmd = testQemu(
 *   "qemu-system-x86_64 -name vm1 -m 2G -netdev tap,id=n0,vhost=on -device virtio-net-pci,netdev=n0",
 * );
 * const config = resolveQemu(cmd, new Diagnostics());
 * const nic = config?.devices[0];
 * if (nic?.kind !== "virtio-net" || nic.txQueueSize.value !== 256) throw new Error("default 256");
 * if (config?.netdevs[0]?.kind !== "tap" || config.netdevs[0].vhost.value !== true) {
 *   throw new Error("vhost=on");
 * }
 * ```
 *
 * @module
 */

import { Diagnostics, error, warning } from "../lang/diagnostic.ts";
import type { QemuCommand, QemuOption } from "../lang/commands/ast.ts";
import type { Prop, PropList } from "../lang/props.ts";
import type { Span } from "../lang/span.ts";
import type { Located } from "../lang/word.ts";
import { didYouMean } from "../lang/suggest.ts";
import {
  type ClassCatalog,
  classNames,
  type ClassSchema,
  findClass,
  parseSize,
  type PropSchema,
  type PropValue,
} from "./catalog/schema.ts";
import { CHARDEV_BACKENDS } from "./catalog/qemu_chardev.ts";
import {
  DEVICE_DRIVERS,
  NIC_MODEL_ALIASES,
  PCI_BRIDGE_DRIVERS,
  PCIE_PORT_DRIVERS,
  VIRTIO_NET_DRIVERS,
} from "./catalog/qemu_device.ts";
import {
  ACCEL_SCHEMA,
  ACCELERATORS,
  compatApplies,
  DEFAULT_RAM_SIZE,
  MACHINE_COMPAT,
  MACHINE_SCHEMA,
  type MachineFamily,
  machineTypeNames,
  MEMORY_SCHEMA,
  NAME_SCHEMA,
  NUMA_DIST_SCHEMA,
  NUMA_NODE_SCHEMA,
  parseMachineType,
  SMP_SCHEMA,
} from "./catalog/qemu_machine.ts";
import { NETDEV_TYPES } from "./catalog/qemu_netdev.ts";
import { MEMORY_BACKEND_TYPES, OBJECT_TYPES } from "./catalog/qemu_object.ts";
import { TypedProps, typeProps } from "./check/class_props.ts";
import { checkQemuRules } from "./check/qemu_rules.ts";

/** A resolved value: written on the command line (`explicit`) or a default. */
export interface Setting<T> extends Located<T> {
  /** True when the user wrote it; false for a default (then `span` is the option's). */
  readonly explicit: boolean;
}

/** The machine: type, accelerator and interrupt-controller placement. */
export interface MachineConfig {
  /** The `-machine` option, or the program word when there is none. */
  readonly span: Span;
  /** The canonical QOM machine name (`pc-q35-10.2`). */
  readonly type: Setting<string>;
  readonly family: MachineFamily;
  readonly version?: readonly [number, number];
  /** The first accelerator of the list (`kvm` in `kvm:tcg`). */
  readonly accel: Setting<string>;
  /** `on`, `off` or `split`; `on` under KVM by default, `off` without KVM. */
  readonly kernelIrqchip: Setting<"on" | "off" | "split">;
  /** `-machine memory-backend=ID`. */
  readonly memoryBackend?: Located<string>;
  readonly defaultBusBypassIommu: Setting<boolean>;
}

/** Guest RAM. */
export interface MemoryConfig {
  readonly span: Span;
  /** Bytes. */
  readonly size: Setting<number>;
  /** `-mem-path DIR` (legacy file-backed RAM, private mapping). */
  readonly memPath?: Located<string>;
}

/** vCPUs and their topology. */
export interface SmpConfig {
  readonly span: Span;
  readonly cpus: Setting<number>;
  readonly maxcpus: Setting<number>;
  readonly sockets: Setting<number>;
  readonly cores: Setting<number>;
  readonly threads: Setting<number>;
}

/** `-object memory-backend-*`. */
export interface MemoryBackendConfig {
  readonly span: Span;
  readonly id: Located<string>;
  readonly type: Located<string>;
  /** Bytes. */
  readonly size: Setting<number>;
  readonly share: Setting<boolean>;
  readonly prealloc: Setting<boolean>;
  /** memory-backend-file only. */
  readonly memPath?: Setting<string>;
  /** memfd `hugetlb=on`, or a file backend on a hugetlbfs path. */
  readonly hugepages: Setting<boolean>;
  /** memfd `hugetlbsize` in bytes (0: the default huge page size). */
  readonly hugetlbsize: Setting<number>;
}

/** `-object iothread` and the objects the lab ignores (kept for references and ids). */
export interface OtherObjectConfig {
  readonly span: Span;
  readonly id?: Located<string>;
  readonly type: Located<string>;
  /** `netdev=` of filter objects. */
  readonly netdev?: Located<string>;
  /** `chardev=` of rng-egd. */
  readonly chardev?: Located<string>;
}

/** `-numa node`. */
export interface NumaNodeConfig {
  readonly span: Span;
  readonly nodeid: Setting<number>;
  readonly memdev?: Located<string>;
  readonly cpus?: Located<string>;
}

/** A unix or TCP socket chardev. */
export interface SocketChardevConfig {
  readonly path?: Setting<string>;
  readonly host?: Setting<string>;
  readonly port?: Setting<string>;
  readonly fd?: Setting<string>;
  readonly server: Setting<boolean>;
  /** Only meaningful for a server: block start-up until a client connects. */
  readonly wait: Setting<boolean>;
  /** Client reconnect interval in ms (0: never); `reconnect=` seconds are converted. */
  readonly reconnectMs: Setting<number>;
  readonly abstract: Setting<boolean>;
}

/** `-chardev`. */
export interface ChardevConfig {
  readonly span: Span;
  readonly id?: Located<string>;
  readonly backend: Located<string>;
  /** Present for the `socket` backend. */
  readonly socket?: SocketChardevConfig;
}

/** Where a netdev was declared. */
export type NetdevOrigin = "netdev" | "nic" | "net";

interface NetdevBase {
  readonly span: Span;
  /** The netdev id (generated for `-nic`: `__org.qemu.nic0`, and legacy `-net`: `tap.0`). */
  readonly id: Located<string>;
  /** The type as written. */
  readonly type: Located<string>;
  readonly origin: NetdevOrigin;
  /** Queue pairs. */
  readonly queues: Setting<number>;
}

/** `-netdev tap`. */
export interface TapNetdevConfig extends NetdevBase {
  readonly kind: "tap";
  readonly ifname?: Setting<string>;
  readonly fd?: Setting<string>;
  readonly fds?: Setting<string>;
  readonly script: Setting<string>;
  readonly downscript: Setting<string>;
  readonly br: Setting<string>;
  readonly vnetHdr: Setting<boolean>;
  /** vhost-net in the kernel. */
  readonly vhost: Setting<boolean>;
  readonly vhostfd?: Setting<string>;
  readonly vhostfds?: Setting<string>;
  readonly pollUs: Setting<number>;
}

/** `-netdev user` (slirp). */
export interface UserNetdevConfig extends NetdevBase {
  readonly kind: "user";
  readonly net: Setting<string>;
  readonly host: Setting<string>;
  readonly dhcpstart: Setting<string>;
  readonly dns: Setting<string>;
  readonly restrict: Setting<boolean>;
  readonly hostfwd: readonly Located<string>[];
}

/** `-netdev vhost-user`. */
export interface VhostUserNetdevConfig extends NetdevBase {
  readonly kind: "vhost-user";
  readonly chardev: Located<string>;
}

/** `-netdev vhost-vdpa`. */
export interface VhostVdpaNetdevConfig extends NetdevBase {
  readonly kind: "vhost-vdpa";
  readonly vhostdev?: Setting<string>;
  readonly vhostfd?: Setting<string>;
  /** Shadow virtqueues (`x-svq=on`). */
  readonly svq: Setting<boolean>;
}

/** A netdev type QEMU has and the lab does not simulate (no link: frames are dropped). */
export interface UnmodelledNetdevConfig extends NetdevBase {
  readonly kind: "unmodelled";
}

/** A network backend. */
export type NetdevConfig =
  | TapNetdevConfig
  | UserNetdevConfig
  | VhostUserNetdevConfig
  | VhostVdpaNetdevConfig
  | UnmodelledNetdevConfig;

interface DeviceBase {
  readonly span: Span;
  /** The driver as written (`virtio-net`, `-nic model=virtio`). */
  readonly driver: Located<string>;
  /** The canonical QOM type (`virtio-net-pci`). */
  readonly type: string;
  readonly id?: Located<string>;
  readonly bus?: Located<string>;
  /** Where the device came from (`-nic`/`-net` create NICs too). */
  readonly origin: "device" | "nic" | "net";
  /**
   * Every I/O-relevant property with its value: written, `-global`, machine compat or the
   * catalog default (computed defaults are in the typed fields).
   */
  readonly props: Readonly<Record<string, Setting<PropValue>>>;
}

/** The virtio-net family (`virtio-net-pci`, its transitional variants, `virtio-net-device`). */
export interface VirtioNetDeviceConfig extends DeviceBase {
  readonly kind: "virtio-net";
  readonly transport: "pci" | "mmio";
  readonly netdev?: Located<string>;
  readonly mac: Setting<string>;
  readonly mq: Setting<boolean>;
  /** MSI-X vectors (0: no MSI-X, INTx). */
  readonly vectors: Setting<number>;
  readonly rxQueueSize: Setting<number>;
  /** As configured; {@link txQueueSizeEffective} is what the device uses. */
  readonly txQueueSize: Setting<number>;
  /** After QEMU's clamp to 256 for backends other than vhost-user and vhost-vdpa. */
  readonly txQueueSizeEffective: Setting<number>;
  readonly hostMtu: Setting<number>;
  readonly packed: Setting<boolean>;
  readonly eventIdx: Setting<boolean>;
  readonly indirectDesc: Setting<boolean>;
  readonly mrgRxbuf: Setting<boolean>;
  readonly ctrlVq: Setting<boolean>;
  readonly inOrder: Setting<boolean>;
  readonly iommuPlatform: Setting<boolean>;
  readonly ats: Setting<boolean>;
  readonly queueReset: Setting<boolean>;
  readonly ioeventfd: Setting<boolean>;
  readonly pagePerVq: Setting<boolean>;
  /** Legacy interface hidden (auto resolved from the bus). */
  readonly disableLegacy: Setting<boolean>;
  readonly disableModern: Setting<boolean>;
  readonly tx: Setting<string>;
}

/** `-device vfio-pci`. */
export interface VfioPciDeviceConfig extends DeviceBase {
  readonly kind: "vfio-pci";
  readonly host?: Setting<string>;
  readonly sysfsdev?: Setting<string>;
}

/** `-device intel-iommu`. */
export interface IntelIommuDeviceConfig extends DeviceBase {
  readonly kind: "intel-iommu";
  /** Resolved: `auto` becomes on unless the irqchip is fully in the kernel. */
  readonly intremap: Setting<boolean>;
  /** Extended interrupt mode, `on`/`off`/`auto` as written. */
  readonly eim: Setting<string>;
  readonly cachingMode: Setting<boolean>;
  readonly deviceIotlb: Setting<boolean>;
  readonly awBits: Setting<number>;
  readonly pt: Setting<boolean>;
  readonly dmaTranslation: Setting<boolean>;
}

/** `-device virtio-iommu-pci`. */
export interface VirtioIommuDeviceConfig extends DeviceBase {
  readonly kind: "virtio-iommu";
  readonly granule: Setting<string>;
  readonly bootBypass: Setting<boolean>;
}

/**
 * Devices that provide a bus and only decide where other devices sit: `pcie-root-port` for
 * PCIe slots (pcie-root-port, ioh3420, X3130 switch ports), `pci-bridge` for conventional or
 * extra root buses (pci-bridge, pcie-pci-bridge, i82801b11-bridge, pxb, pxb-pcie).
 */
export interface BridgeDeviceConfig extends DeviceBase {
  readonly kind: "pcie-root-port" | "pci-bridge";
}

/** A NIC the lab does not simulate (e1000 …) or `vhost-vdpa-device-pci`. */
export interface UnmodelledDeviceConfig extends DeviceBase {
  readonly kind: "unmodelled";
  readonly netdev?: Located<string>;
}

/** A device without I/O effect in the lab (displays, disks, serial …). */
export interface IgnoredDeviceConfig extends DeviceBase {
  readonly kind: "ignored";
  readonly chardev?: Located<string>;
}

/** A device. */
export type DeviceConfig =
  | VirtioNetDeviceConfig
  | VfioPciDeviceConfig
  | IntelIommuDeviceConfig
  | VirtioIommuDeviceConfig
  | BridgeDeviceConfig
  | UnmodelledDeviceConfig
  | IgnoredDeviceConfig;

/** One QEMU command line, resolved. */
export interface QemuConfig {
  readonly span: Span;
  readonly program: Located<string>;
  /** `-name`; undefined when absent (the lab then names the VM vm1, vm2 …). */
  readonly name?: Located<string>;
  readonly machine: MachineConfig;
  readonly memory: MemoryConfig;
  readonly smp: SmpConfig;
  readonly memoryBackends: readonly MemoryBackendConfig[];
  readonly otherObjects: readonly OtherObjectConfig[];
  readonly numaNodes: readonly NumaNodeConfig[];
  readonly chardevs: readonly ChardevConfig[];
  /** In command-line order (`-netdev`, then the backends `-nic`/`-net` create, in place). */
  readonly netdevs: readonly NetdevConfig[];
  /** In command-line order. */
  readonly devices: readonly DeviceConfig[];
  /** Guest RAM can be mapped by another process (what vhost-user needs). */
  readonly sharedMemory: Setting<boolean>;
  /** Guest RAM sits on huge pages. */
  readonly hugepages: Setting<boolean>;
  /** `-kernel FILE`: QEMU boots this kernel directly. */
  readonly kernel?: Located<string>;
  /** `-initrd FILE` (only with `-kernel`). */
  readonly initrd?: Located<string>;
  /** `-append CMDLINE`: the guest kernel's command line (only with `-kernel`). */
  readonly append?: Located<string>;
}

// ---------------------------------------------------------------------------------------------
// Helpers

const MiB = 1024 * 1024;

function fixed<T>(value: T, span: Span): Setting<T> {
  return { value, span, explicit: false };
}

function written<T>(value: T, span: Span): Setting<T> {
  return { value, span, explicit: true };
}

/** A property's setting: written, else the schema default. */
function settingOf<T extends PropValue>(
  typed: TypedProps,
  schema: ClassSchema,
  key: string,
  at: Span,
  fallback: T,
): Setting<T> {
  const p = typed.get(key);
  if (p !== undefined) return written(p.value as T, p.span);
  const d = schema.props[key]?.default;
  return fixed((d ?? fallback) as T, at);
}

function optSetting(typed: TypedProps, key: string): Setting<string> | undefined {
  const p = typed.get(key);
  return p !== undefined && typeof p.value === "string" ? written(p.value, p.span) : undefined;
}

function optLocated(typed: TypedProps, key: string): Located<string> | undefined {
  const p = typed.get(key);
  return p !== undefined && typeof p.value === "string"
    ? { value: p.value, span: p.span }
    : undefined;
}

/** A guest name the lab can use: one word of letters, digits, `_` and `-`. */
const LAB_VM_NAME_RE = /^[A-Za-z0-9_-]+$/;

/** The head of a list (`tap` in `tap,id=n0`, or `type=tap`): the last item with that key. */
function headOf(list: PropList | undefined, key: string): Located<string> | undefined {
  if (!list) return undefined;
  for (let i = list.items.length - 1; i >= 0; i--) {
    const item = list.items[i];
    if (item?.key.value === key && item.value !== undefined) return item.value;
  }
  return undefined;
}

/** The option's comma list; an option given a plain argument gets a one-item list. */
function listOf(opt: QemuOption, head: string): PropList {
  if (opt.props) return opt.props;
  const arg = opt.arg;
  if (!arg) return { span: opt.span, items: [] };
  return {
    span: arg.span,
    items: [{ span: arg.span, key: { value: head, span: arg.span }, value: arg, implicit: true }],
  };
}

function idOf(typed: TypedProps): Located<string> | undefined {
  return optLocated(typed, "id");
}

/** Pushes an "unknown class" error with did-you-mean and the real text. */
function unknownClass(
  diags: Diagnostics,
  code: string,
  catalog: ClassCatalog,
  name: Located<string>,
  realText: string,
  extraNames: readonly string[] = [],
): void {
  const help = didYouMean(name.value, [...classNames(catalog), ...extraNames]);
  diags.push(
    error(code, `unknown ${catalog.kind} \`${name.value}\``, {
      span: name.span,
      label: `not a ${catalog.kind} QEMU knows`,
      notes: [`QEMU says: ${realText}`],
      ...(help === undefined ? {} : { help: [help] }),
    }),
  );
}

function unmodelledClass(diags: Diagnostics, kind: string, name: Located<string>, why: string) {
  diags.push(
    warning("W0221", `${kind} \`${name.value}\` is accepted but not modelled by the lab`, {
      span: name.span,
      label: "not simulated",
      notes: [why],
    }),
  );
}

/** A virtio-net device typed but not yet resolved (its defaults depend on the netdev). */
interface NicDraft {
  readonly device: DeviceBase;
  readonly typed: TypedProps;
  readonly schema: ClassSchema;
  readonly globals: TypedProps[];
  /** The netdev a `-nic` or `-net nic` wires it to. */
  readonly netdev?: Located<string>;
}

// ---------------------------------------------------------------------------------------------
// Resolution

/** Options of {@link resolveQemu}. */
export interface ResolveQemuOptions {
  /** Stop at the first error? No: the checker always reports everything it can. */
  readonly _reserved?: never;
}

/**
 * Types and resolves a QEMU command line. Diagnostics for everything wrong (and warnings for
 * what is ignored or not modelled) are pushed to `diags`; the configuration is returned when
 * this command produced no error.
 */
export function resolveQemu(cmd: QemuCommand, diags: Diagnostics): QemuConfig | undefined {
  // Its own collector: `diags` keeps identical diagnostics once (a statement run again in a
  // loop reports nothing new), so counting its errors cannot tell whether this command has one.
  const local = new Diagnostics();
  const config = new Resolver(cmd, local).run();
  diags.pushAll(local.items);
  return local.hasErrors ? undefined : config;
}

class Resolver {
  readonly #cmd: QemuCommand;
  readonly #diags: Diagnostics;
  readonly #ignored: Prop[] = [];
  readonly #ignoredClasses: Located<string>[] = [];

  #name: Located<string> | undefined;
  #machineSpan: Span;
  #machineType: Located<string> | undefined;
  #machineTyped: TypedProps[] = [];
  #accel: Setting<string> | undefined;
  #accelIrqchip: Setting<"on" | "off" | "split"> | undefined;
  #memSpan: Span;
  #memSize: Setting<number> | undefined;
  #memPath: Located<string> | undefined;
  #kernel: Located<string> | undefined;
  #initrd: Located<string> | undefined;
  #append: Located<string> | undefined;
  #smp: TypedProps | undefined;
  #smpSpan: Span;
  readonly #backends: MemoryBackendConfig[] = [];
  readonly #others: OtherObjectConfig[] = [];
  readonly #numa: NumaNodeConfig[] = [];
  readonly #chardevs: ChardevConfig[] = [];
  readonly #netdevs: NetdevConfig[] = [];
  readonly #devices: (DeviceConfig | NicDraft)[] = [];
  readonly #globals = new Map<string, TypedProps[]>();
  #nicIndex = 0;
  #legacyNet = { nics: [] as NicDraftLegacy[], backends: [] as NetdevConfig[] };

  constructor(cmd: QemuCommand, diags: Diagnostics) {
    this.#cmd = cmd;
    this.#diags = diags;
    this.#machineSpan = cmd.program.span;
    this.#memSpan = cmd.program.span;
    this.#smpSpan = cmd.program.span;
  }

  run(): QemuConfig {
    const programName = this.#cmd.program.value.split("/").pop() ?? "";
    for (const opt of this.#cmd.options) this.#option(opt);
    this.#finishLegacyNet();
    const machine = this.#machine(programName);
    const devices = this.#devices.map((d) => ("typed" in d ? this.#virtioNet(d, machine) : d));
    const memory = this.#memory();
    const smp = this.#smpConfig();
    const { shared, hugepages } = this.#ramBacking(machine, memory);
    const config: QemuConfig = {
      span: this.#cmd.span,
      program: this.#cmd.program,
      ...(this.#name === undefined ? {} : { name: this.#name }),
      machine,
      memory,
      smp,
      memoryBackends: this.#backends,
      otherObjects: this.#others,
      numaNodes: this.#numa,
      chardevs: this.#chardevs,
      netdevs: this.#netdevs,
      devices: this.#adjustIntremap(devices, machine),
      sharedMemory: shared,
      hugepages,
      ...(this.#kernel === undefined ? {} : { kernel: this.#kernel }),
      ...(this.#initrd === undefined ? {} : { initrd: this.#initrd }),
      ...(this.#append === undefined ? {} : { append: this.#append }),
    };
    this.#reportIgnored();
    return checkQemuRules(config, this.#diags);
  }

  // -- dispatch ------------------------------------------------------------------------------

  #option(opt: QemuOption): void {
    switch (opt.name) {
      case "name":
        return this.#nameOption(opt);
      case "m":
        return this.#mOption(opt);
      case "smp":
        return this.#smpOption(opt);
      case "machine":
        return this.#machineOption(opt);
      case "accel":
        return this.#accelOption(opt);
      case "enable-kvm":
        this.#accel = written("kvm", opt.span);
        return;
      case "object":
        return this.#objectOption(opt);
      case "numa":
        return this.#numaOption(opt);
      case "chardev":
        return this.#chardevOption(opt);
      case "netdev":
        return this.#netdevOption(opt);
      case "device":
        return this.#deviceOption(opt);
      case "nic":
        return this.#nicOption(opt);
      case "net":
        return this.#netOption(opt);
      case "global":
        return this.#globalOption(opt);
      case "mem-path":
        if (opt.arg) this.#memPath = opt.arg;
        return;
      // The last one counts, as QEMU's qemu_opt_get of a repeated option.
      case "kernel":
        if (opt.arg) this.#kernel = opt.arg;
        return;
      case "initrd":
        if (opt.arg) this.#initrd = opt.arg;
        return;
      case "append":
        if (opt.arg) this.#append = opt.arg;
        return;
      default:
        // Everything else is either ignored (the command parser warns) or has no I/O effect.
        return;
    }
  }

  #type(list: PropList, schema: ClassSchema, owner: string, what: string, skip: string[] = []) {
    return typeProps(list, this.#diags, {
      schema,
      owner,
      what,
      skip,
      ignoredSink: this.#ignored,
    });
  }

  #nameOption(opt: QemuOption): void {
    const typed = this.#type(listOf(opt, "guest"), NAME_SCHEMA, "name", "option");
    const guest = optLocated(typed, "guest");
    if (!guest) return;
    // QEMU takes any guest name; the lab writes a VM's endpoints NAME.IFACE (`vm1.eth0`) and
    // its CPU contexts NAME:vcpuN, so the name must be one such word.
    if (!LAB_VM_NAME_RE.test(guest.value)) {
      this.#diags.push(
        error("E0241", `the lab cannot use \`${guest.value}\` as a VM name`, {
          span: guest.span,
          label: guest.value === "" ? "empty name" : "not letters, digits, `_` and `-`",
          notes: [
            "the lab names a VM's interfaces `NAME.IFACE` (as in `traffic t1 from vm1.eth0 …`) " +
            "and its vCPU threads `NAME:vcpuN`",
          ],
          help: ["name the guest with letters, digits, `_` and `-`, e.g. `-name vm1`"],
        }),
      );
      return;
    }
    this.#name = guest;
  }

  #mOption(opt: QemuOption): void {
    const list = listOf(opt, "size");
    this.#memSpan = opt.span;
    // -m reads a bare number as MiB (system/vl.c parse_memory_options), so `size` is read here.
    this.#type(list, MEMORY_SCHEMA, "memory", "option", ["size"]);
    const item = [...list.items].reverse().find((i) => i.key.value === "size");
    const text = item?.value;
    if (!item || !text) return;
    const bytes = parseSize(text.value, BigInt(MiB));
    if (bytes === undefined) {
      this.#diags.push(
        error("E0226", `invalid memory size \`${text.value}\``, {
          span: text.span,
          label: "expected a size like `4G` or `2048` (MiB)",
          notes: ["QEMU says: Parameter 'size' expects a non-negative number below 2^64"],
        }),
      );
      return;
    }
    // parse_memory_options: "-m 0" falls back to the default size, for backward compatibility.
    this.#memSize = written(bytes === 0n ? DEFAULT_RAM_SIZE : Number(bytes), text.span);
  }

  #smpOption(opt: QemuOption): void {
    this.#smpSpan = opt.span;
    this.#smp = this.#type(listOf(opt, "cpus"), SMP_SCHEMA, "smp", "option");
  }

  #machineOption(opt: QemuOption): void {
    this.#machineSpan = opt.span;
    const list = listOf(opt, "type");
    const head = headOf(list, "type");
    if (head) this.#machineType = head;
    const mt = head ? parseMachineType(head.value) : undefined;
    const owner = `${mt?.canonical ?? head?.value ?? "pc-q35-10.2"}-machine`;
    const typed = typeProps(list, this.#diags, {
      schema: { ...MACHINE_SCHEMA, typeName: owner },
      owner: "machine",
      what: "option",
      skip: ["type"],
      ignoredSink: this.#ignored,
    });
    this.#machineTyped.push(typed);
  }

  #accelOption(opt: QemuOption): void {
    const list = listOf(opt, "accel");
    const head = headOf(list, "accel");
    if (head) {
      if (this.#checkAccel(head)) this.#accel = written(head.value, head.span);
    }
    const typed = this.#type(list, ACCEL_SCHEMA, "accel", "option", ["accel"]);
    const irq = typed.get("kernel-irqchip");
    if (irq) this.#accelIrqchip = written(irq.value as "on" | "off" | "split", irq.span);
  }

  #checkAccel(name: Located<string>): boolean {
    for (const a of name.value.split(":")) {
      if (ACCELERATORS.includes(a)) continue;
      const help = didYouMean(a, ACCELERATORS);
      this.#diags.push(
        error("E0224", `unknown accelerator \`${a}\``, {
          span: name.span,
          label: "not an accelerator",
          notes: [`QEMU says: invalid accelerator ${a}`],
          ...(help === undefined ? {} : { help: [help] }),
        }),
      );
      return false;
    }
    return true;
  }

  #objectOption(opt: QemuOption): void {
    const list = listOf(opt, "qom-type");
    const head = headOf(list, "qom-type");
    if (!head) return;
    const schema = findClass(OBJECT_TYPES, head.value);
    if (!schema) {
      unknownClass(this.#diags, "E0223", OBJECT_TYPES, head, `invalid object type: ${head.value}`);
      return;
    }
    const typed = typeProps(list, this.#diags, {
      schema,
      owner: schema.name,
      what: "object",
      skip: ["qom-type"],
      ignoredSink: this.#ignored,
      missingTexts: {
        size: "can't create backend with size 0",
        "mem-path": "mem-path property not set",
      },
    });
    if (schema.status === "ignored") this.#ignoredClasses.push(head);
    const id = idOf(typed);
    if (MEMORY_BACKEND_TYPES.includes(schema.name)) {
      if (!id) return;
      const memPath = optSetting(typed, "mem-path");
      const hugetlb = settingOf(typed, schema, "hugetlb", opt.span, false);
      const onHugetlbfs = memPath !== undefined && /huge/i.test(memPath.value);
      this.#backends.push({
        span: opt.span,
        id,
        type: head,
        size: settingOf(typed, schema, "size", opt.span, 0),
        share: settingOf(typed, schema, "share", opt.span, false),
        prealloc: settingOf(typed, schema, "prealloc", opt.span, false),
        ...(memPath === undefined ? {} : { memPath }),
        hugepages: hugetlb.value || !onHugetlbfs || memPath === undefined
          ? hugetlb
          : written(true, memPath.span),
        hugetlbsize: settingOf(typed, schema, "hugetlbsize", opt.span, 0),
      });
      return;
    }
    const netdev = optLocated(typed, "netdev");
    const chardev = optLocated(typed, "chardev");
    this.#others.push({
      span: opt.span,
      type: head,
      ...(id === undefined ? {} : { id }),
      ...(netdev === undefined ? {} : { netdev }),
      ...(chardev === undefined ? {} : { chardev }),
    });
  }

  #numaOption(opt: QemuOption): void {
    const list = listOf(opt, "type");
    const head = headOf(list, "type");
    const kind = head?.value ?? "node";
    if (kind === "dist") {
      this.#type(list, NUMA_DIST_SCHEMA, "dist", "-numa", ["type"]);
      return;
    }
    if (kind === "cpu" || kind === "hmat-lb" || kind === "hmat-cache") return;
    if (kind !== "node") {
      const help = didYouMean(kind, ["node", "dist", "cpu", "hmat-lb", "hmat-cache"]);
      this.#diags.push(
        error("E0224", `unknown -numa kind \`${kind}\``, {
          span: head?.span ?? opt.span,
          label: "expected `node`, `dist`, `cpu`, `hmat-lb` or `hmat-cache`",
          notes: [`QEMU says: Parameter 'type' does not accept value '${kind}'`],
          ...(help === undefined ? {} : { help: [help] }),
        }),
      );
      return;
    }
    const typed = this.#type(list, NUMA_NODE_SCHEMA, "node", "-numa", ["type"]);
    const memdev = optLocated(typed, "memdev");
    const cpus = optLocated(typed, "cpus");
    this.#numa.push({
      span: opt.span,
      nodeid: settingOf(typed, NUMA_NODE_SCHEMA, "nodeid", opt.span, this.#numa.length),
      ...(memdev === undefined ? {} : { memdev }),
      ...(cpus === undefined ? {} : { cpus }),
    });
  }

  #chardevOption(opt: QemuOption): void {
    const list = listOf(opt, "backend");
    const head = headOf(list, "backend");
    if (!head) return;
    const schema = findClass(CHARDEV_BACKENDS, head.value);
    if (!schema) {
      unknownClass(
        this.#diags,
        "E0222",
        CHARDEV_BACKENDS,
        head,
        `'${head.value}' is not a valid char driver name`,
      );
      return;
    }
    const typed = typeProps(list, this.#diags, {
      schema,
      owner: schema.name,
      what: "chardev",
      skip: ["backend"],
      ignoredSink: this.#ignored,
      missingTexts: { id: "chardev: no id specified" },
    });
    const id = idOf(typed);
    if (schema.status === "ignored") {
      this.#ignoredClasses.push(head);
      this.#chardevs.push({ span: opt.span, backend: head, ...(id === undefined ? {} : { id }) });
      return;
    }
    this.#chardevs.push({
      span: opt.span,
      backend: head,
      ...(id === undefined ? {} : { id }),
      socket: this.#socket(typed, schema, opt, list),
    });
  }

  #socket(
    typed: TypedProps,
    schema: ClassSchema,
    opt: QemuOption,
    list: PropList,
  ): SocketChardevConfig {
    const d = this.#diags;
    const path = optSetting(typed, "path");
    const host = optSetting(typed, "host");
    const port = optSetting(typed, "port");
    const fd = optSetting(typed, "fd");
    const server = settingOf(typed, schema, "server", opt.span, false);
    // chardev/char-socket.c qemu_chr_parse_socket: a unix path, else host and port, else an fd.
    if (!path && !fd) {
      if (!host) {
        d.push(
          error("E0227", "socket chardev needs `path=` (or `host=` and `port=`)", {
            span: list.span,
            label: "no address given",
            notes: ["QEMU says: chardev: socket: no host given"],
            help: ["add `path=/tmp/vhost-user.sock` for a vhost-user socket"],
          }),
        );
      } else if (!port) {
        d.push(
          error("E0227", "TCP socket chardev needs `port=`", {
            span: host.span,
            label: "no port given",
            notes: ["QEMU says: chardev: socket: no port given"],
          }),
        );
      }
    }
    // qmp_chardev_validate_socket: client-only and server-only options.
    const waitP = typed.get("wait");
    if (!server.value && waitP) {
      d.push(
        error("E0235", "`wait` only applies to a server socket", {
          span: waitP.item.span,
          label: "this socket is a client",
          secondary: server.explicit ? [{ span: server.span, message: "server=off" }] : [],
          notes: ["QEMU says: 'wait' option is incompatible with socket in client connect mode"],
          help: ["remove `wait`, or add `server=on`"],
        }),
      );
    }
    for (const key of ["reconnect", "reconnect-ms"]) {
      const p = typed.get(key);
      if (server.value && p) {
        d.push(
          error("E0235", `\`${key}\` only applies to a client socket`, {
            span: p.item.span,
            label: "this socket is a server",
            secondary: [{ span: server.span, message: "server=on" }],
            notes: [`QEMU says: '${key}' option is incompatible with socket in server listen mode`],
            help: [`remove \`${key}\`, or make it a client (server=off)`],
          }),
        );
      }
    }
    const reconnect = typed.get("reconnect");
    const reconnectMs = typed.get("reconnect-ms");
    return {
      ...(path === undefined ? {} : { path }),
      ...(host === undefined ? {} : { host }),
      ...(port === undefined ? {} : { port }),
      ...(fd === undefined ? {} : { fd }),
      server,
      wait: waitP ? written(waitP.value as boolean, waitP.span) : fixed(server.value, opt.span),
      reconnectMs: reconnectMs
        ? written(reconnectMs.value as number, reconnectMs.span)
        : reconnect
        ? written((reconnect.value as number) * 1000, reconnect.span)
        : fixed(0, opt.span),
      abstract: settingOf(typed, schema, "abstract", opt.span, false),
    };
  }

  #netdevOption(opt: QemuOption): void {
    const list = listOf(opt, "type");
    const head = headOf(list, "type");
    if (!head) return;
    const nd = this.#netdev(opt, list, head, "netdev", []);
    if (nd) this.#netdevs.push(nd);
  }

  /** Types a netdev list and builds its config (also for -nic and -net backends). */
  #netdev(
    opt: QemuOption,
    list: PropList,
    head: Located<string>,
    origin: NetdevOrigin,
    skip: string[],
    generatedId?: Located<string>,
  ): NetdevConfig | undefined {
    const d = this.#diags;
    const schema = findClass(NETDEV_TYPES, head.value);
    if (!schema) {
      unknownClass(
        d,
        "E0221",
        NETDEV_TYPES,
        head,
        `Parameter 'type' does not accept value '${head.value}'`,
      );
      return undefined;
    }
    const typed = typeProps(list, d, {
      schema,
      owner: schema.name,
      what: "netdev",
      skip: ["type", ...skip],
      ignoredSink: this.#ignored,
      checkRequired: generatedId === undefined,
    });
    const id = idOf(typed) ?? generatedId;
    if (!id) return undefined;
    const queues = settingOf(typed, schema, "queues", opt.span, 1);
    const base = { span: opt.span, id, type: head, origin, queues };
    switch (schema.name) {
      case "tap":
        return this.#tap(typed, schema, base);
      case "user":
        return {
          ...base,
          kind: "user",
          net: settingOf(typed, schema, "net", opt.span, ""),
          host: settingOf(typed, schema, "host", opt.span, ""),
          dhcpstart: settingOf(typed, schema, "dhcpstart", opt.span, ""),
          dns: settingOf(typed, schema, "dns", opt.span, ""),
          restrict: settingOf(typed, schema, "restrict", opt.span, false),
          hostfwd: typed.items.filter((p) => p.key === "hostfwd").map((p) => ({
            value: String(p.value),
            span: p.span,
          })),
        };
      case "vhost-user": {
        const chardev = optLocated(typed, "chardev");
        if (!chardev) return undefined;
        return { ...base, kind: "vhost-user", chardev };
      }
      case "vhost-vdpa":
        return this.#vhostVdpa(typed, schema, base, list);
      default:
        unmodelledClass(
          d,
          "netdev type",
          head,
          "the lab treats it as a backend without a link: frames sent to it are dropped",
        );
        return { ...base, kind: "unmodelled" };
    }
  }

  #tap(
    typed: TypedProps,
    schema: ClassSchema,
    base: NetdevBase,
  ): TapNetdevConfig {
    const d = this.#diags;
    const at = base.span;
    const vhost = settingOf(typed, schema, "vhost", at, false);
    const fd = optSetting(typed, "fd");
    // net/tap.c net_init_tap: fd= excludes everything that would open or configure a tap.
    if (fd) {
      const clash = ["ifname", "script", "downscript", "vnet_hdr", "helper", "queues", "fds"]
        .map((k) => typed.get(k))
        .filter((p) => p !== undefined);
      if (clash.length > 0 || typed.has("vhostfds")) {
        const first = clash[0] ?? typed.get("vhostfds");
        d.push(
          error("E0235", "`fd=` cannot be combined with options that open or set up a tap", {
            span: first?.item.span ?? fd.span,
            label: "conflicts with `fd=`",
            secondary: [{ span: fd.span, message: "fd given here" }],
            notes: [
              "QEMU says: ifname=, script=, downscript=, vnet_hdr=, helper=, queues=, fds=, and vhostfds= are invalid with fd=",
            ],
          }),
        );
      }
    }
    // net/tap.c net_init_tap: fds= takes neither the bridge helper nor a single vhostfd, and
    // wants one vhost-net fd per tap fd. (Before QEMU's 2025 tap clean-up it also refused
    // ifname=, script=, downscript=, vnet_hdr= and queues=; the lab holds only the rules
    // every version has.)
    const fdsProp = typed.get("fds");
    if (fdsProp && typeof fdsProp.value === "string") {
      const clash = ["helper", "vhostfd"].map((k) => typed.get(k)).find((p) => p !== undefined);
      if (clash !== undefined) {
        d.push(
          error("E0235", `\`${clash.key}\` cannot be combined with \`fds=\``, {
            span: clash.item.span,
            label: "conflicts with `fds=`",
            secondary: [{ span: fdsProp.item.span, message: "fds given here" }],
            notes: ["QEMU says: helper= and vhostfd= are invalid with fds="],
          }),
        );
      }
      const vfds = typed.get("vhostfds");
      if (vfds && typeof vfds.value === "string") {
        const n = fdsProp.value.split(":").length;
        const m = vfds.value.split(":").length;
        if (n !== m) {
          d.push(
            error("E0235", `${n} tap fds but ${m} vhost-net fds`, {
              span: vfds.item.span,
              label: `${m} vhost-net fd${m === 1 ? "" : "s"}`,
              secondary: [{ span: fdsProp.item.span, message: `${n} tap fd${n === 1 ? "" : "s"}` }],
              notes: [
                "QEMU says: The number of fds passed does not match the number of vhostfds passed",
              ],
            }),
          );
        }
      }
    }
    const vfd = typed.get("vhostfd") ?? typed.get("vhostfds");
    if (vfd && !vhost.value && vhost.explicit) {
      d.push(
        error("E0235", `\`${vfd.key}\` needs \`vhost=on\``, {
          span: vfd.item.span,
          label: "vhost-net fd without vhost",
          secondary: [{ span: vhost.span, message: "vhost is off" }],
          notes: ["QEMU says: vhostfd(s)= is not valid without vhost"],
        }),
      );
    }
    const ifname = optSetting(typed, "ifname");
    const fds = optSetting(typed, "fds");
    const vhostfd = optSetting(typed, "vhostfd");
    const vhostfds = optSetting(typed, "vhostfds");
    return {
      ...base,
      kind: "tap",
      ...(ifname === undefined ? {} : { ifname }),
      ...(fd === undefined ? {} : { fd }),
      ...(fds === undefined ? {} : { fds }),
      script: settingOf(typed, schema, "script", at, ""),
      downscript: settingOf(typed, schema, "downscript", at, ""),
      br: settingOf(typed, schema, "br", at, ""),
      vnetHdr: settingOf(typed, schema, "vnet_hdr", at, true),
      // vhostfd= implies vhost (net/tap.c: vhost = has_vhost ? vhost : vhostfd || vhostfds).
      vhost: !vhost.explicit && vfd ? written(true, vfd.span) : vhost,
      ...(vhostfd === undefined ? {} : { vhostfd }),
      ...(vhostfds === undefined ? {} : { vhostfds }),
      pollUs: settingOf(typed, schema, "poll-us", at, 0),
    };
  }

  #vhostVdpa(
    typed: TypedProps,
    schema: ClassSchema,
    base: NetdevBase,
    list: PropList,
  ): VhostVdpaNetdevConfig | undefined {
    const vhostdev = optSetting(typed, "vhostdev");
    const vhostfd = optSetting(typed, "vhostfd");
    // net/vhost-vdpa.c net_init_vhost_vdpa: exactly one of them, no default device.
    if (!vhostdev && !vhostfd) {
      this.#diags.push(
        error("E0227", "vhost-vdpa netdev needs `vhostdev=` (or `vhostfd=`)", {
          span: list.span,
          label: "no vDPA device given",
          notes: [
            "QEMU says: vhost-vdpa: neither vhostdev= nor vhostfd= was specified",
            "there is no default device: /dev/vhost-vdpa-0 must be named",
          ],
          help: ["add `vhostdev=/dev/vhost-vdpa-0`"],
        }),
      );
      return undefined;
    }
    if (vhostdev && vhostfd) {
      this.#diags.push(
        error("E0235", "`vhostdev=` and `vhostfd=` are mutually exclusive", {
          span: vhostfd.span,
          label: "second way to name the device",
          secondary: [{ span: vhostdev.span, message: "vhostdev given here" }],
          notes: ["QEMU says: vhost-vdpa: vhostdev= and vhostfd= are mutually exclusive"],
        }),
      );
      return undefined;
    }
    return {
      ...base,
      kind: "vhost-vdpa",
      ...(vhostdev === undefined ? {} : { vhostdev }),
      ...(vhostfd === undefined ? {} : { vhostfd }),
      svq: settingOf(typed, schema, "x-svq", base.span, false),
    };
  }

  #deviceOption(opt: QemuOption): void {
    const list = listOf(opt, "driver");
    const head = headOf(list, "driver");
    if (!head) return;
    const dev = this.#device(opt, list, head, "device", []);
    if (dev) this.#devices.push(dev);
  }

  #device(
    opt: QemuOption,
    list: PropList,
    driver: Located<string>,
    origin: "device" | "nic" | "net",
    skip: string[],
    extra: { netdev?: Located<string> } = {},
  ): DeviceConfig | NicDraft | undefined {
    const d = this.#diags;
    const schema = findClass(DEVICE_DRIVERS, driver.value);
    if (!schema) {
      unknownClass(
        d,
        "E0220",
        DEVICE_DRIVERS,
        driver,
        `'${driver.value}' is not a valid device model name`,
      );
      return undefined;
    }
    const typed = typeProps(list, d, {
      schema,
      owner: schema.name,
      what: "device",
      skip: ["driver", ...skip],
      ignoredSink: this.#ignored,
    });
    const id = idOf(typed);
    const bus = optLocated(typed, "bus");
    const globals = this.#globals.get(schema.name) ?? [];
    const base: DeviceBase = {
      span: opt.span,
      driver,
      type: schema.name,
      origin,
      ...(id === undefined ? {} : { id }),
      ...(bus === undefined ? {} : { bus }),
      props: relevantProps(schema, [...globals, typed], opt.span),
    };
    if (VIRTIO_NET_DRIVERS.includes(schema.name)) {
      return {
        device: base,
        typed,
        schema,
        globals,
        ...(extra.netdev ? { netdev: extra.netdev } : {}),
      };
    }
    switch (schema.name) {
      case "vfio-pci": {
        const host = optSetting(typed, "host");
        const sysfsdev = optSetting(typed, "sysfsdev");
        if (!host && !sysfsdev && !typed.has("fd")) {
          d.push(
            error("E0227", "vfio-pci needs `host=` (the host PCI address of the device)", {
              span: list.span,
              label: "no host device given",
              notes: [
                "QEMU says: No provided host device",
                "Use -device vfio-pci,host=DDDD:BB:DD.F or -device vfio-pci,sysfsdev=PATH_TO_DEVICE",
              ],
            }),
          );
        }
        return {
          ...base,
          kind: "vfio-pci",
          ...(host === undefined ? {} : { host }),
          ...(sysfsdev === undefined ? {} : { sysfsdev }),
        };
      }
      case "intel-iommu": {
        const intremap = typed.get("intremap");
        return {
          ...base,
          kind: "intel-iommu",
          // "auto" is decided once the irqchip is known (#adjustIntremap).
          intremap: intremap
            ? written(intremap.value === "on", intremap.span)
            : fixed(true, opt.span),
          eim: settingOf(typed, schema, "eim", opt.span, "auto"),
          cachingMode: settingOf(typed, schema, "caching-mode", opt.span, false),
          deviceIotlb: settingOf(typed, schema, "device-iotlb", opt.span, false),
          awBits: settingOf(typed, schema, "aw-bits", opt.span, 39),
          pt: settingOf(typed, schema, "pt", opt.span, true),
          dmaTranslation: settingOf(typed, schema, "dma-translation", opt.span, true),
        };
      }
      case "virtio-iommu-pci":
        return {
          ...base,
          kind: "virtio-iommu",
          granule: settingOf(typed, schema, "granule", opt.span, "host"),
          bootBypass: settingOf(typed, schema, "boot-bypass", opt.span, true),
        };
      default:
        break;
    }
    if (PCIE_PORT_DRIVERS.includes(schema.name)) return { ...base, kind: "pcie-root-port" };
    if (PCI_BRIDGE_DRIVERS.includes(schema.name)) return { ...base, kind: "pci-bridge" };
    if (schema.status === "ignored") {
      this.#ignoredClasses.push(driver);
      const chardev = optLocated(typed, "chardev");
      return { ...base, kind: "ignored", ...(chardev === undefined ? {} : { chardev }) };
    }
    unmodelledClass(
      d,
      "device",
      driver,
      schema.name === "vhost-vdpa-device-pci"
        ? "the lab simulates vDPA through `-netdev vhost-vdpa` with a virtio-net-pci frontend"
        : "the lab simulates virtio-net NICs only: this NIC's frames are dropped",
    );
    const netdev = extra.netdev ?? optLocated(typed, "netdev");
    return { ...base, kind: "unmodelled", ...(netdev === undefined ? {} : { netdev }) };
  }

  /** `-nic TYPE[,model=M][,mac=…][,backend props]`: a netdev and its NIC in one option. */
  #nicOption(opt: QemuOption): void {
    const list = listOf(opt, "type");
    const head = headOf(list, "type");
    if (!head || head.value === "none") return;
    const idx = this.#nicIndex++;
    const explicitId = list.items.find((i) => i.key.value === "id")?.value;
    // net/net.c net_param_nic: the netdev is named __org.qemu.nicN unless id= is given.
    const id = explicitId ?? { value: `__org.qemu.nic${idx}`, span: head.span };
    const nd = this.#netdev(opt, list, head, "nic", ["model", "mac"], id);
    if (!nd) return;
    this.#netdevs.push(nd);
    const model = list.items.find((i) => i.key.value === "model")?.value;
    const macItem = list.items.find((i) => i.key.value === "mac")?.value;
    const driver = this.#nicModel(model, opt);
    if (!driver) return;
    const nicList: PropList = {
      span: list.span,
      items: macItem
        ? [{ span: macItem.span, key: { value: "mac", span: macItem.span }, value: macItem }]
        : [],
    };
    const dev = this.#device(opt, nicList, driver, "nic", [], { netdev: nd.id });
    if (dev) this.#devices.push(dev);
  }

  /** Resolves `model=` of -nic/-net nic; the default follows the machine (q35: e1000e). */
  #nicModel(model: Located<string> | undefined, opt: QemuOption): Located<string> | undefined {
    if (!model) {
      const mt = this.#machineType ? parseMachineType(this.#machineType.value) : undefined;
      return { value: mt?.family === "pc" ? "e1000" : "e1000e", span: opt.span };
    }
    const canonical = NIC_MODEL_ALIASES[model.value] ?? model.value;
    return { value: canonical, span: model.span };
  }

  /** Legacy `-net nic,…` and `-net BACKEND,…`: everything on hub 0. */
  #netOption(opt: QemuOption): void {
    const list = listOf(opt, "type");
    const head = headOf(list, "type");
    if (!head) return;
    if (head.value === "nic") {
      this.#legacyNet.nics.push({ opt, list });
      return;
    }
    if (head.value === "none") return;
    const name = list.items.find((i) => i.key.value === "name" || i.key.value === "id")?.value;
    const n = this.#legacyNet.backends.filter((b) => b.type.value === head.value).length;
    const id = name ?? { value: `${head.value}.${n}`, span: head.span };
    const nd = this.#netdev(opt, list, head, "net", ["name", "vlan"], id);
    if (!nd) return;
    this.#legacyNet.backends.push(nd);
    this.#netdevs.push(nd);
  }

  #finishLegacyNet(): void {
    const { nics, backends } = this.#legacyNet;
    if (nics.length === 0 && backends.length === 0) return;
    const backend = backends[0];
    if (backends.length > 1 || nics.length > 1) {
      const span = (backends[1] ?? backends[0])?.span ?? nics[0]?.opt.span ?? this.#cmd.span;
      this.#diags.push(
        warning(
          "W0221",
          "several legacy `-net` options share hub 0, which the lab does not model",
          {
            span,
            label: "joined through QEMU's hub",
            notes: [
              "every `-net` option is a port of hub 0: all NICs and backends see each other's frames",
              "the lab connects each NIC to the first `-net` backend only",
            ],
            help: ["use `-netdev … -device …` pairs (or `-nic`) to wire NICs one to one"],
          },
        ),
      );
    }
    for (const { opt, list } of nics) {
      const model = list.items.find((i) => i.key.value === "model")?.value;
      const driver = this.#nicModel(model, opt);
      if (!driver) continue;
      const explicitNetdev = list.items.find((i) => i.key.value === "netdev")?.value;
      const macItem = list.items.find((i) => i.key.value === "macaddr")?.value;
      const nicList: PropList = {
        span: list.span,
        items: macItem
          ? [{ span: macItem.span, key: { value: "mac", span: macItem.span }, value: macItem }]
          : [],
      };
      if (!explicitNetdev && !backend) {
        this.#diags.push(
          warning("W0223", "legacy `-net nic` has no backend on hub 0", {
            span: opt.span,
            label: "nothing to exchange frames with",
            notes: ["QEMU says: warning: hub 0 is not connected to host network"],
          }),
        );
      }
      const netdev = explicitNetdev ?? backend?.id;
      const dev = this.#device(opt, nicList, driver, "net", [], netdev ? { netdev } : {});
      if (dev) this.#devices.push(dev);
    }
  }

  /** `-global DRIVER.PROP=VALUE`: a default for every device of DRIVER. */
  #globalOption(opt: QemuOption): void {
    const arg = opt.arg;
    if (!arg) return;
    const m = /^([^.=]+)\.([^=]+)=(.*)$/.exec(arg.value);
    if (!m) {
      this.#diags.push(
        error("E0226", `invalid -global \`${arg.value}\``, {
          span: arg.span,
          label: "expected `driver.property=value`",
          notes: ["QEMU says: Invalid parameter 'driver'"],
        }),
      );
      return;
    }
    const [, drv = "", prop = "", val = ""] = m;
    const at = (from: number, len: number): Span =>
      arg.span.end - arg.span.start === arg.value.length
        ? {
          source: arg.span.source,
          start: arg.span.start + from,
          end: arg.span.start + from + len,
        }
        : arg.span;
    const driver = { value: drv, span: at(0, drv.length) };
    const schema = findClass(DEVICE_DRIVERS, drv);
    if (!schema) {
      // Globals for drivers that are never created are harmless in QEMU (only warned).
      return;
    }
    const keySpan = at(drv.length + 1, prop.length);
    const valSpan = at(drv.length + prop.length + 2, val.length);
    const list: PropList = {
      span: arg.span,
      items: [{
        span: arg.span,
        key: { value: prop, span: keySpan },
        value: { value: val, span: valSpan },
      }],
    };
    const typed = typeProps(list, this.#diags, {
      schema,
      owner: schema.name,
      what: "device",
      ignoredSink: this.#ignored,
      checkRequired: false,
    });
    void driver;
    const all = this.#globals.get(schema.name) ?? [];
    all.push(typed);
    this.#globals.set(schema.name, all);
  }

  // -- machine-wide ----------------------------------------------------------------------------

  #machine(programName: string): MachineConfig {
    const d = this.#diags;
    const typeName = this.#machineType;
    let mt = parseMachineType("q35");
    if (typeName) {
      const parsed = parseMachineType(typeName.value);
      if (!parsed) {
        const help = didYouMean(typeName.value, machineTypeNames());
        d.push(
          error("E0224", `unknown machine type \`${typeName.value}\``, {
            span: typeName.span,
            label: "not a machine of QEMU 10.2",
            notes: [
              `QEMU says: unsupported machine type: "${typeName.value}"`,
              "Use -machine help to list supported machines",
            ],
            ...(help === undefined ? {} : { help: [help] }),
          }),
        );
      } else {
        mt = parsed;
        if (parsed.deprecated) {
          d.push(
            warning("W0222", `machine type \`${typeName.value}\` is deprecated`, {
              span: typeName.span,
              label: "deprecated",
              notes: [
                `QEMU says: Machine type '${parsed.canonical}' is deprecated: machines more than 3 years old are subject to deletion after 6 years`,
              ],
              help: ["use `q35`"],
            }),
          );
        }
      }
    }
    const machine = mt ?? { family: "q35" as const, canonical: "pc-q35-10.2", deprecated: false };
    // The last -machine wins for every property (QemuOpts merge_lists).
    const find = (key: string) => {
      for (let i = this.#machineTyped.length - 1; i >= 0; i--) {
        const p = this.#machineTyped[i]?.get(key);
        if (p) return p;
      }
      return undefined;
    };
    const accelProp = find("accel");
    let accel: Setting<string>;
    if (accelProp && this.#checkAccel({ value: String(accelProp.value), span: accelProp.span })) {
      accel = written(String(accelProp.value).split(":")[0] ?? "tcg", accelProp.span);
    } else if (this.#accel) {
      accel = { ...this.#accel, value: this.#accel.value.split(":")[0] ?? "tcg" };
    } else {
      accel = fixed(programName === "qemu-kvm" ? "kvm" : "tcg", this.#cmd.program.span);
    }
    const irqProp = find("kernel-irqchip") ?? find("kernel_irqchip");
    const kernelIrqchip: Setting<"on" | "off" | "split"> = irqProp
      ? written(irqProp.value as "on" | "off" | "split", irqProp.span)
      : this.#accelIrqchip ?? fixed(accel.value === "kvm" ? "on" : "off", this.#machineSpan);
    const memBackend = find("memory-backend");
    const bypass = find("default-bus-bypass-iommu");
    return {
      span: this.#machineSpan,
      type: typeName && mt
        ? written(machine.canonical, typeName.span)
        : fixed(machine.canonical, this.#machineSpan),
      family: machine.family,
      ...(machine.version === undefined ? {} : { version: machine.version }),
      accel,
      kernelIrqchip,
      ...(memBackend === undefined
        ? {}
        : { memoryBackend: { value: String(memBackend.value), span: memBackend.span } }),
      defaultBusBypassIommu: bypass
        ? written(bypass.value as boolean, bypass.span)
        : fixed(false, this.#machineSpan),
    };
  }

  #memory(): MemoryConfig {
    return {
      span: this.#memSpan,
      size: this.#memSize ?? fixed(DEFAULT_RAM_SIZE, this.#memSpan),
      ...(this.#memPath === undefined ? {} : { memPath: this.#memPath }),
    };
  }

  #smpConfig(): SmpConfig {
    const t = this.#smp;
    const at = this.#smpSpan;
    const get = (k: string): Setting<number> | undefined => {
      const p = t?.get(k);
      return p ? written(p.value as number, p.span) : undefined;
    };
    // machine_parse_smp_config: a topology parameter given as 0 is rejected (QEMU 9.0 on).
    const zero = t?.items.find((p) => p.value === 0 && p.key !== "cpus" && p.key !== "maxcpus");
    if (zero) {
      this.#diags.push(
        error("E0238", `\`${zero.key}=0\` is not a CPU topology`, {
          span: zero.span,
          label: "must be at least 1",
          notes: ["CPU topology parameters must be greater than zero"],
        }),
      );
      const one = fixed(1, at);
      return { span: at, cpus: one, maxcpus: one, sockets: one, cores: one, threads: one };
    }
    const cpus0 = get("cpus");
    const sockets0 = get("sockets");
    const cores0 = get("cores");
    const threads0 = get("threads");
    const maxcpus0 = get("maxcpus");
    // hw/core/machine-smp.c machine_parse_smp_config: missing values are computed, preferring
    // sockets over cores over threads; cpus defaults to the product.
    const threads = threads0 ?? fixed(1, at);
    const dies = get("dies")?.value ?? 1;
    const modules = get("modules")?.value ?? 1;
    const clusters = get("clusters")?.value ?? 1;
    const per = dies * modules * clusters;
    const target = maxcpus0?.value ?? cpus0?.value ?? 0;
    let cores = cores0 ?? fixed(1, at);
    let sockets = sockets0;
    if (!sockets) {
      const n = Math.max(1, Math.ceil(target / (per * cores.value * threads.value)));
      sockets = fixed(target === 0 ? 1 : n, at);
    } else if (!cores0 && target > 0) {
      cores = fixed(Math.max(1, Math.ceil(target / (per * sockets.value * threads.value))), at);
    }
    const product = sockets.value * per * cores.value * threads.value;
    const maxcpus = maxcpus0 ?? fixed(product, at);
    const cpus = cpus0 ?? fixed(maxcpus.value, at);
    if (t && product !== maxcpus.value) {
      const parts = [
        `sockets (${sockets.value})`,
        `dies (${dies})`,
        `modules (${modules})`,
        `cores (${cores.value})`,
        `threads (${threads.value})`,
      ].join(" * ");
      this.#diags.push(
        error("E0238", "the CPU topology does not multiply out to maxcpus", {
          span: maxcpus0?.span ?? cpus0?.span ?? at,
          label: `${product} ≠ ${maxcpus.value}`,
          notes: [
            `QEMU says: Invalid CPU topology: product of the hierarchy must match maxcpus: ${parts} != maxcpus (${maxcpus.value})`,
          ],
        }),
      );
    } else if (cpus.value > maxcpus.value) {
      this.#diags.push(
        error("E0238", "more vCPUs than maxcpus", {
          span: cpus.span,
          label: `${cpus.value} > ${maxcpus.value}`,
          notes: [
            `QEMU says: maxcpus (${maxcpus.value}) must be equal to or greater than smp (${cpus.value})`,
          ],
        }),
      );
    } else if (cpus.value === 0) {
      this.#diags.push(
        error("E0238", "zero vCPUs", {
          span: cpus.span,
          label: "at least one vCPU",
          notes: ["QEMU says: Invalid SMP CPUs 0"],
        }),
      );
    }
    return { span: at, cpus, maxcpus, sockets, cores, threads };
  }

  /** Whether guest RAM is shared and on huge pages, and where that is decided. */
  #ramBacking(machine: MachineConfig, memory: MemoryConfig) {
    const byId = new Map(this.#backends.map((b) => [b.id.value, b]));
    const used: MemoryBackendConfig[] = [];
    if (machine.memoryBackend) {
      const b = byId.get(machine.memoryBackend.value);
      if (b) used.push(b);
    } else {
      for (const n of this.#numa) {
        const b = n.memdev ? byId.get(n.memdev.value) : undefined;
        if (b) used.push(b);
      }
    }
    if (used.length > 0) {
      const unshared = used.find((b) => !b.share.value);
      const notHuge = used.find((b) => !b.hugepages.value);
      const first = used[0] as MemoryBackendConfig;
      return {
        shared: unshared ? { ...unshared.share } : { ...first.share },
        hugepages: notHuge ? { ...notHuge.hugepages } : { ...first.hugepages },
      };
    }
    if (memory.memPath) {
      // -mem-path maps the file MAP_PRIVATE: huge pages, but nothing another process can map.
      return {
        shared: fixed(false, memory.memPath.span),
        hugepages: written(/huge/i.test(memory.memPath.value), memory.memPath.span),
      };
    }
    return { shared: fixed(false, memory.span), hugepages: fixed(false, memory.span) };
  }

  // -- virtio-net ------------------------------------------------------------------------------

  #virtioNet(draft: NicDraft, machine: MachineConfig): VirtioNetDeviceConfig {
    const { device, typed, schema, globals } = draft;
    const at = device.span;
    const sources = [...globals, typed];
    const pick = <T extends PropValue>(key: string, dflt: T): Setting<T> => {
      for (let i = sources.length - 1; i >= 0; i--) {
        const p = sources[i]?.get(key);
        if (p) return written(p.value as T, p.span);
      }
      for (const c of MACHINE_COMPAT) {
        const applies = c.driver === "virtio-device" || c.driver === schema.name ||
          (c.driver === "virtio-net-pci" && schema.name.startsWith("virtio-net-pci"));
        if (applies && c.prop === key && compatApplies(c, machine.version)) {
          return fixed(c.value as T, at);
        }
      }
      const d = schema.props[key]?.default;
      return fixed((d ?? dflt) as T, at);
    };
    const netdevRef = draft.netdev ?? optLocated(typed, "netdev");
    const nd = netdevRef ? this.#netdevs.find((n) => n.id.value === netdevRef.value) : undefined;
    const queues = nd?.queues.value ?? 1;
    const pci = schema.name !== "virtio-net-device";
    const vectorsP = pick<number>("vectors", -1);
    const vectors = vectorsP.explicit || vectorsP.value >= 0
      ? vectorsP
      : fixed(2 * Math.max(queues, 1) + 2, at);
    const tx = pick<number>("tx_queue_size", 256);
    const bigTx = nd?.kind === "vhost-user" || nd?.kind === "vhost-vdpa";
    const mac = pick<string>("mac", "");
    const props: Record<string, Setting<PropValue>> = {};
    for (const [key, prop] of Object.entries(schema.props) as [string, PropSchema][]) {
      if (!prop.ioRelevant) continue;
      const s = pick<PropValue>(key, prop.default ?? "");
      if (s.explicit || prop.default !== undefined || s.value !== "") props[key] = s;
    }
    props.vectors = vectors;
    return {
      ...device,
      props,
      kind: "virtio-net",
      transport: pci ? "pci" : "mmio",
      ...(netdevRef === undefined ? {} : { netdev: netdevRef }),
      mac: mac.value === "" ? fixed(this.#nextMac(), at) : mac,
      mq: pick("mq", false),
      vectors,
      rxQueueSize: pick("rx_queue_size", 256),
      txQueueSize: tx,
      // hw/net/virtio-net.c: tx_queue_size = MIN(virtio_net_max_tx_queue_size(n), ...).
      txQueueSizeEffective: bigTx || tx.value <= 256 ? tx : { ...tx, value: 256 },
      hostMtu: pick("host_mtu", 0),
      packed: pick("packed", false),
      eventIdx: pick("event_idx", true),
      indirectDesc: pick("indirect_desc", true),
      mrgRxbuf: pick("mrg_rxbuf", true),
      ctrlVq: pick("ctrl_vq", true),
      inOrder: pick("in_order", false),
      iommuPlatform: pick("iommu_platform", false),
      ats: pick("ats", false),
      queueReset: pick("queue_reset", true),
      ioeventfd: pick("ioeventfd", true),
      pagePerVq: pick("page-per-vq", false),
      disableLegacy: this.#disableLegacy(
        schema.name,
        pick<string>("disable-legacy", "auto"),
        device,
      ),
      disableModern: pick("disable-modern", false),
      tx: pick("tx", "bh"),
    };
  }

  /** QEMU's default MACs: 52:54:00:12:34:56, 57 … skipping ones already written. */
  #nextMac(): string {
    const taken = new Set<string>();
    for (const d of this.#devices) {
      const typed = "typed" in d ? d.typed : undefined;
      const m = typed?.str("mac");
      if (m) taken.add(m);
    }
    for (;;) {
      const mac = `52:54:00:12:34:${(0x56 + this.#macIndex++).toString(16).padStart(2, "0")}`;
      if (!taken.has(mac)) return mac;
    }
  }
  #macIndex = 0;

  /** disable-legacy=auto: modern-only behind a PCIe root port (hw/virtio/virtio-pci.c). */
  #disableLegacy(type: string, s: Setting<string>, device: DeviceBase): Setting<boolean> {
    if (type === "virtio-net-pci-non-transitional") return fixed(true, device.span);
    if (type === "virtio-net-pci-transitional") return fixed(false, device.span);
    if (s.value !== "auto") return { ...s, value: s.value === "on" };
    const parent = device.bus
      ? this.#devices.find((d) => !("typed" in d) && d.id?.value === device.bus?.value)
      : undefined;
    const behindPort = parent !== undefined && !("typed" in parent) &&
      parent.kind === "pcie-root-port";
    return { ...s, value: behindPort };
  }

  #adjustIntremap(devices: DeviceConfig[], machine: MachineConfig): DeviceConfig[] {
    // hw/i386/x86-iommu.c: intremap=auto is off when the whole irqchip is in KVM, else on.
    const allKernel = machine.accel.value === "kvm" && machine.kernelIrqchip.value === "on";
    return devices.map((d) =>
      d.kind === "intel-iommu" && !d.intremap.explicit
        ? { ...d, intremap: fixed(!allKernel, d.span) }
        : d
    );
  }

  #reportIgnored(): void {
    const items = [
      ...this.#ignoredClasses.map((c) => ({ span: c.span, name: c.value })),
      ...this.#ignored.map((p) => ({ span: p.key.span, name: p.key.value })),
    ];
    if (items.length === 0) return;
    items.sort((a, b) => a.span.start - b.span.start);
    const names = [...new Set(items.map((i) => `\`${i.name}\``))];
    const first = items[0] as { span: Span; name: string };
    this.#diags.push(
      warning(
        "W0220",
        `${
          names.length === 1 ? names[0] : `${names.length} settings`
        } accepted but ignored: no effect on simulated I/O`,
        {
          span: first.span,
          label: "ignored",
          secondary: items.slice(1).map((i) => ({ span: i.span, message: "ignored" })),
          notes: names.length > 1 ? [`ignored: ${names.join(", ")}`] : [],
        },
      ),
    );
  }
}

interface NicDraftLegacy {
  readonly opt: QemuOption;
  readonly list: PropList;
}

/** Every I/O-relevant property of `schema`: written (last source wins) or its static default. */
function relevantProps(
  schema: ClassSchema,
  sources: readonly TypedProps[],
  at: Span,
): Record<string, Setting<PropValue>> {
  const out: Record<string, Setting<PropValue>> = {};
  for (const [key, prop] of Object.entries(schema.props) as [string, PropSchema][]) {
    if (!prop.ioRelevant) continue;
    let s: Setting<PropValue> | undefined;
    for (let i = sources.length - 1; i >= 0 && !s; i--) {
      const p = sources[i]?.get(key);
      if (p) s = written(p.value, p.span);
    }
    if (!s && prop.default !== undefined) s = fixed(prop.default, at);
    if (s) out[key] = s;
  }
  return out;
}
