/**
 * QEMU machine-level options: `-machine` (types and properties), `-accel`, `-m`, `-smp`,
 * `-numa` and `-name`.
 *
 * Machine types follow hw/i386/pc_q35.c and pc_piix.c as of QEMU 10.2: `q35` and `pc` are
 * aliases of the newest `pc-q35-10.2` / `pc-i440fx-10.2`; versioned types older than six years
 * are removed (`pc-q35-5.0` is gone in 10.2) and those older than three are deprecated. Only
 * q35 accepts `intel-iommu` (`machine_class_allow_dynamic_sysbus_dev`), and its
 * `default_kernel_irqchip_split` is false, so under KVM `kernel-irqchip` is `on` unless set.
 * Compat properties that change a device default by machine version are listed in
 * {@link MACHINE_COMPAT}. `-machine` properties are QOM properties (`style: "keyval"`); `-m`,
 * `-smp`, `-numa` and `-name` are QemuOpts lists (`style: "qemu-opts"`).
 *
 * @example
 * ```ts
 * import { parseMachineType } from "./qemu_machine.ts";
 * const m = parseMachineType("q35");
 * if (m?.family !== "q35" || m.canonical !== "pc-q35-10.2") throw new Error("q35 is pc-q35-10.2");
 * if (parseMachineType("pc-q35-5.0") !== undefined) throw new Error("5.0 was removed in 10.2");
 * ```
 *
 * @module
 */

import type { ClassSchema, PropSchema } from "./schema.ts";

/** Machine families the x86_64 lab knows. */
export type MachineFamily = "q35" | "pc" | "microvm" | "isapc" | "none";

/** A machine type, resolved. */
export interface MachineType {
  readonly family: MachineFamily;
  /** The QOM machine name (`pc-q35-10.2`; `microvm`). */
  readonly canonical: string;
  /** `[major, minor]` of a versioned type. */
  readonly version?: readonly [number, number];
  /** True when QEMU prints a deprecation warning for it. */
  readonly deprecated: boolean;
}

/** Versioned pc/q35 machine types QEMU 10.2 still builds, oldest first. */
export const MACHINE_VERSIONS: readonly (readonly [number, number])[] = [
  [5, 1],
  [5, 2],
  [6, 0],
  [6, 1],
  [6, 2],
  [7, 0],
  [7, 1],
  [7, 2],
  [8, 0],
  [8, 1],
  [8, 2],
  [9, 0],
  [9, 1],
  [9, 2],
  [10, 0],
  [10, 1],
  [10, 2],
];

const LATEST = MACHINE_VERSIONS[MACHINE_VERSIONS.length - 1] ?? [10, 2];

/** Versions older than this are deprecated ("machines more than 3 years old …"). */
const DEPRECATED_BEFORE: readonly [number, number] = [8, 0];

function older(a: readonly [number, number], b: readonly [number, number]): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

/** Resolves a `-machine` type name; undefined when QEMU 10.2 has no such machine. */
export function parseMachineType(name: string): MachineType | undefined {
  const simple: Record<string, MachineType> = {
    q35: {
      family: "q35",
      canonical: `pc-q35-${LATEST[0]}.${LATEST[1]}`,
      version: LATEST,
      deprecated: false,
    },
    pc: {
      family: "pc",
      canonical: `pc-i440fx-${LATEST[0]}.${LATEST[1]}`,
      version: LATEST,
      deprecated: false,
    },
    microvm: { family: "microvm", canonical: "microvm", deprecated: false },
    isapc: { family: "isapc", canonical: "isapc", deprecated: false },
    none: { family: "none", canonical: "none", deprecated: false },
  };
  if (Object.hasOwn(simple, name)) return simple[name];
  const m = /^pc-(q35|i440fx)-(\d+)\.(\d+)$/.exec(name);
  if (!m) return undefined;
  const version: [number, number] = [Number(m[2]), Number(m[3])];
  if (!MACHINE_VERSIONS.some((v) => v[0] === version[0] && v[1] === version[1])) return undefined;
  return {
    family: m[1] === "q35" ? "q35" : "pc",
    canonical: name,
    version,
    deprecated: older(version, DEPRECATED_BEFORE),
  };
}

/** Every machine name the lab accepts, for suggestions and completion. */
export function machineTypeNames(): string[] {
  const names = ["q35", "pc", "microvm", "isapc", "none"];
  for (const [a, b] of MACHINE_VERSIONS) names.push(`pc-q35-${a}.${b}`, `pc-i440fx-${a}.${b}`);
  return names;
}

/**
 * Device defaults that depend on the machine version (hw/core/machine.c hw_compat_* arrays):
 * `until` is the last version that still gets the old value.
 */
export const MACHINE_COMPAT: readonly {
  readonly driver: "virtio-device" | "virtio-net-pci";
  readonly prop: string;
  readonly until: readonly [number, number];
  readonly value: boolean | number;
}[] = [
  // hw_compat_7_1: { "virtio-device", "queue_reset", "false" }.
  { driver: "virtio-device", prop: "queue_reset", until: [7, 1], value: false },
  // hw_compat_5_2 keeps the old fixed MSI-X table of 3 vectors for virtio-net-pci.
  { driver: "virtio-net-pci", prop: "vectors", until: [5, 2], value: 3 },
];

/** True when a machine of `version` still gets the compat value of `entry`. */
export function compatApplies(
  entry: { readonly until: readonly [number, number] },
  version: readonly [number, number] | undefined,
): boolean {
  return version !== undefined && !older(entry.until, version);
}

// hw/core/machine.c machine_class_init, hw/i386/x86.c, hw/i386/pc.c pc_machine_class_init.
const MACHINE_PROPS = {
  accel: {
    type: "string",
    default: "tcg",
    ioRelevant: true,
    desc: "accelerator list, e.g. `kvm` or `kvm:tcg`",
  },
  "kernel-irqchip": {
    type: "enum",
    values: ["on", "off", "split"],
    defaultDesc: "on under KVM (q35 and pc keep the irqchip in the kernel)",
    ioRelevant: true,
    desc: "where the interrupt controllers live; `split` keeps the IOAPIC in QEMU",
  },
  kernel_irqchip: {
    type: "enum",
    values: ["on", "off", "split"],
    ioRelevant: true,
    desc: "old spelling of kernel-irqchip",
  },
  "memory-backend": {
    type: "ref",
    refKind: "memdev",
    ioRelevant: true,
    desc: "memory backend object that provides guest RAM",
  },
  "default-bus-bypass-iommu": {
    type: "bool",
    default: false,
    ioRelevant: true,
    desc: "devices on the root bus bypass the vIOMMU",
  },
  smm: { type: "onoffauto", default: "auto", ioRelevant: false, desc: "System Management Mode" },
  vmport: { type: "onoffauto", default: "auto", ioRelevant: false, desc: "VMware I/O port" },
  usb: { type: "bool", default: false, ioRelevant: false, desc: "default USB controller" },
  graphics: { type: "bool", default: true, ioRelevant: false, desc: "graphics card" },
  "mem-merge": { type: "bool", default: true, ioRelevant: false, desc: "KSM merging" },
  "dump-guest-core": { type: "bool", default: true, ioRelevant: false, desc: "RAM in dumps" },
  sata: { type: "bool", default: true, ioRelevant: false, desc: "built-in AHCI (q35)" },
  pit: { type: "bool", default: true, ioRelevant: false, desc: "i8254 PIT" },
  hpet: { type: "bool", default: true, ioRelevant: false, desc: "HPET" },
  smbus: { type: "bool", default: true, ioRelevant: false, desc: "SMBus" },
  acpi: { type: "onoffauto", default: "auto", ioRelevant: false, desc: "ACPI tables" },
  pic: { type: "onoffauto", default: "auto", ioRelevant: false, desc: "i8259 PIC" },
  "max-ram-below-4g": { type: "size", ioRelevant: false, desc: "RAM below 4 GiB" },
  nvdimm: { type: "bool", default: false, ioRelevant: false, desc: "NVDIMM support" },
  hmat: { type: "bool", default: false, ioRelevant: false, desc: "ACPI HMAT" },
  "confidential-guest-support": { type: "string", ioRelevant: false, desc: "SEV/TDX object" },
  "memory-encryption": { type: "string", ioRelevant: false, desc: "old name of the above" },
  firmware: { type: "path", ioRelevant: false, desc: "firmware image" },
  pflash0: { type: "string", ioRelevant: false, desc: "flash block node 0" },
  pflash1: { type: "string", ioRelevant: false, desc: "flash block node 1" },
  kernel: { type: "path", ioRelevant: false, desc: "kernel image" },
  initrd: { type: "path", ioRelevant: false, desc: "initial ram disk" },
  append: { type: "string", ioRelevant: false, desc: "kernel command line" },
  dtb: { type: "path", ioRelevant: false, desc: "device tree blob" },
  "suppress-vmdesc": { type: "bool", default: false, ioRelevant: false, desc: "migration" },
  "fd-bootchk": { type: "bool", default: true, ioRelevant: false, desc: "floppy boot check" },
  boot: { type: "string", ioRelevant: false, desc: "boot order" },
  "sgx-epc": { type: "string", ioRelevant: false, desc: "SGX EPC sections" },
} as const satisfies Record<string, PropSchema>;

/** The properties of the pc/q35 machines (and the subset microvm shares). */
export const MACHINE_SCHEMA: ClassSchema = {
  name: "machine",
  desc: "the emulated board",
  status: "modelled",
  style: "keyval",
  props: MACHINE_PROPS,
};

/** Accelerators `accel=`/`-accel` accept (accel/*, one binary has a subset). */
export const ACCELERATORS: readonly string[] = [
  "kvm",
  "tcg",
  "xen",
  "hvf",
  "whpx",
  "nvmm",
  "qtest",
];

// accel/kvm/kvm-all.c kvm_accel_class_init and accel/tcg/tcg-all.c.
/** `-accel NAME,…` properties. */
export const ACCEL_SCHEMA: ClassSchema = {
  name: "accel",
  desc: "the accelerator",
  status: "modelled",
  style: "keyval",
  props: {
    "kernel-irqchip": MACHINE_PROPS["kernel-irqchip"],
    "kvm-shadow-mem": { type: "size", ioRelevant: false, desc: "KVM MMU shadow cache" },
    "dirty-ring-size": { type: "uint", width: 32, ioRelevant: false, desc: "KVM dirty ring" },
    "notify-vmexit": {
      type: "enum",
      values: ["run", "internal-error", "disable"],
      ioRelevant: false,
      desc: "KVM notify VM exit",
    },
    thread: { type: "enum", values: ["single", "multi"], ioRelevant: false, desc: "TCG threads" },
    "tb-size": { type: "uint", ioRelevant: false, desc: "TCG translation cache (MiB)" },
    "split-wx": { type: "bool", ioRelevant: false, desc: "TCG split W^X mapping" },
  },
};

/** Default guest RAM of pc/q35 (hw/i386/pc.c `mc->default_ram_size = 128 * MiB`). */
export const DEFAULT_RAM_SIZE = 128 * 1024 * 1024;

// system/vl.c qemu_mem_opts: size (MiB when no suffix), slots, maxmem.
/** `-m [size=]N[,slots=n,maxmem=size]`. */
export const MEMORY_SCHEMA: ClassSchema = {
  name: "memory",
  desc: "guest RAM size",
  status: "modelled",
  style: "qemu-opts",
  props: {
    size: {
      type: "size",
      default: DEFAULT_RAM_SIZE,
      defaultDesc: "128M; a number without suffix is in MiB",
      ioRelevant: true,
      desc: "initial RAM",
    },
    slots: { type: "uint", width: 64, ioRelevant: false, desc: "hot-plug memory slots" },
    maxmem: { type: "size", ioRelevant: false, desc: "maximum RAM with hot-plug" },
  },
};

// hw/core/machine-smp.c / qapi/machine.json SMPConfiguration.
/** `-smp [cpus=]n[,maxcpus=,sockets=,dies=,clusters=,modules=,cores=,threads=]`. */
export const SMP_SCHEMA: ClassSchema = {
  name: "smp-opts",
  desc: "virtual CPU topology",
  status: "modelled",
  style: "qemu-opts",
  props: {
    cpus: { type: "uint", width: 64, default: 1, ioRelevant: true, desc: "vCPUs at start" },
    maxcpus: { type: "uint", width: 64, ioRelevant: false, desc: "vCPUs including hot-plug" },
    sockets: { type: "uint", width: 64, ioRelevant: false, desc: "sockets" },
    dies: { type: "uint", width: 64, ioRelevant: false, desc: "dies per socket" },
    clusters: { type: "uint", width: 64, ioRelevant: false, desc: "clusters per die" },
    modules: { type: "uint", width: 64, ioRelevant: false, desc: "modules per die" },
    cores: { type: "uint", width: 64, ioRelevant: false, desc: "cores per module" },
    threads: { type: "uint", width: 64, ioRelevant: false, desc: "threads per core" },
  },
};

// qapi/machine.json NumaOptions (node, dist, cpu); system/numa.c.
/** `-numa node,…` properties. */
export const NUMA_NODE_SCHEMA: ClassSchema = {
  name: "node",
  desc: "a guest NUMA node",
  status: "modelled",
  style: "qemu-opts",
  props: {
    nodeid: { type: "uint", width: 16, ioRelevant: true, desc: "node number" },
    cpus: { type: "list", ioRelevant: true, desc: "vCPU ranges, e.g. 0-3" },
    memdev: {
      type: "ref",
      refKind: "memdev",
      ioRelevant: true,
      desc: "memory backend object for this node's RAM",
    },
    mem: {
      type: "size",
      ioRelevant: true,
      removed: "`-numa node,mem=` is not supported by machine types from 5.1; use `memdev=`",
      desc: "node RAM without a backend (removed)",
    },
    initiator: { type: "uint", width: 16, ioRelevant: false, desc: "HMAT initiator node" },
  },
};

/** `-numa dist,src=,dst=,val=`. */
export const NUMA_DIST_SCHEMA: ClassSchema = {
  name: "dist",
  desc: "distance between two NUMA nodes",
  status: "ignored",
  style: "qemu-opts",
  props: {
    src: { type: "uint", width: 16, required: true, ioRelevant: false, desc: "source node" },
    dst: { type: "uint", width: 16, required: true, ioRelevant: false, desc: "destination" },
    val: { type: "uint", width: 8, required: true, ioRelevant: false, desc: "distance" },
  },
};

// system/vl.c qemu_name_opts.
/** `-name [guest=]NAME[,process=,debug-threads=]`. */
export const NAME_SCHEMA: ClassSchema = {
  name: "name",
  desc: "the guest's name",
  status: "modelled",
  style: "qemu-opts",
  props: {
    guest: { type: "string", ioRelevant: true, desc: "guest name (the lab's VM name)" },
    process: { type: "string", ioRelevant: false, desc: "process name" },
    "debug-threads": { type: "bool", default: false, ioRelevant: false, desc: "name threads" },
  },
};
