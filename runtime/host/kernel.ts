/**
 * The host kernel: one aggregate for modules, /sys + /dev + /proc, netdevs, PCI and SR-IOV,
 * the vDPA bus and its netlink family, the host virtio bus, the command line and the CPU.
 * It is built from injected catalogs (module specs, NIC models) and reports every state
 * change to an injected sink, in the kernel's order. Operations return `Result` values
 * whose errors format into the real tools' text (`formatHostError`).
 *
 * Kernel pairing: Linux 6.12 with kmod 33 and iproute2 6.12 (`vdpa dev set` exists; the
 * release string defaults to `6.12.0-vdpa-lab`).
 *
 * udev is modelled as a queue: device uevents that need a module (a PCI function's driver,
 * a virtio device's driver) are loaded when the current operation completes, as udev
 * would run `modprobe` right after the kernel returns. Device nodes that kmod's
 * static-nodes create at boot (/dev/net/tun, /dev/vhost-net, /dev/vfio/vfio, /dev/kvm)
 * exist before their module, and opening one loads it.
 *
 * @example The classic vdpa_sim walkthrough
 * ```ts
 * import { HostKernel } from "./kernel.ts";
 * import type { ModuleSpec } from "./module_spec.ts";
 * const modules = {
 *   vdpa: { description: "vDPA bus", size: 36864, depends: [],
 *     registers: [{ kind: "bus", name: "vdpa" }, { kind: "genl-family", name: "vdpa" }] },
 *   vhost_vdpa: { description: "vhost-vdpa", size: 32768, depends: ["vdpa"],
 *     registers: [{ kind: "vdpa-driver", name: "vhost_vdpa" }] },
 *   vdpa_sim_net: { description: "vdpa_sim_net", size: 16384, depends: ["vdpa"],
 *     registers: [{ kind: "vdpa-mgmtdev", name: "vdpasim_net", model: "vdpa_sim_net" }] },
 * } satisfies Record<string, ModuleSpec>;
 * const k = new HostKernel({ catalog: { modules, nicModels: {} } });
 * k.modprobe("vhost_vdpa");
 * k.modprobe("vdpa_sim_net");
 * k.vdpaNetlink.devNew({ name: "vdpa0", mgmtdev: { dev: "vdpasim_net" } });
 * if (k.glob("/dev/vhost-vdpa-*").join() !== "/dev/vhost-vdpa-0") throw new Error("node expected");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import { Devlink } from "./devlink.ts";
import { featureMask } from "../devices/vdpa_device.ts";
import { vdpaSimNetParent, type VdpaSimParams } from "../devices/vdpa_sim_net.ts";
import { vdpaSimBlkParent } from "../devices/vdpa_sim_blk.ts";
import { type DevHandle, DevNodes, type DevTarget } from "./devnodes.ts";
import type { HostError } from "./host_error.ts";
import type { HostEvent, HostEventSink, LoadReason } from "./host_event.ts";
import type { HostCatalog, IommuState, KernelCtx } from "./kernel_ctx.ts";
import { formatMac, MacGenerator, parseMac } from "./mac.ts";
import type { Registration } from "./module_spec.ts";
import { normalizeModuleName } from "./module_spec.ts";
import { ModuleTable } from "./modules.ts";
import { type Netdev, NetdevTable } from "./netdev.ts";
import { formatBdf, parseBdf, PciBus, VFIO_GROUP_REGION } from "./pci.ts";
import { buildRoot, type SysfsSource } from "./sysfs.ts";
import { VdpaBus, VHOST_VDPA_REGION } from "./vdpa_bus.ts";
import { VdpaNetlink } from "./vdpa_netlink.ts";
import { VirtioBus } from "./virtio_bus.ts";
import { HostRam } from "./host_ram.ts";
import { KernelMem } from "./kmem.ts";
import { Iommu } from "../iommu/iommu.ts";
import { iommuConfigFromCmdline } from "../iommu/cmdline.ts";
import type { IommuEventSink } from "../iommu/event.ts";
import { type DirNode, type Stat, Vfs } from "./vfs.ts";

/** The default `uname -r`. */
export const DEFAULT_RELEASE = "6.12.0-vdpa-lab";

/** Options of {@link HostKernel}. */
export interface HostKernelOptions {
  readonly catalog: HostCatalog;
  /** Where events go (default: dropped). */
  readonly sink?: HostEventSink;
  /** `uname -r`, used in kmod's messages. */
  readonly release?: string;
  /** Events of the IOMMU hardware model (domains, maps, faults). */
  readonly iommuSink?: IommuEventSink;
  /** Seed of the MAC address sequence. */
  readonly seed?: number;
}

/** One `lsmod` row. */
export interface LsmodEntry {
  readonly name: string;
  readonly size: number;
  readonly usedBy: number;
  readonly holders: readonly string[];
}

/** What `ip link show` needs about one device. */
export interface LinkInfo {
  readonly ifindex: number;
  readonly name: string;
  readonly kind: Netdev["kind"];
  readonly up: boolean;
  /** Carrier while up (LOWER_UP). */
  readonly lowerUp: boolean;
  readonly mtu: number;
  readonly qdisc: "noop" | "noqueue" | "mq" | "fq_codel";
  readonly master?: string;
  readonly operstate: "UP" | "DOWN" | "UNKNOWN";
  readonly mac: string;
  readonly qlen: number;
  /** A PF's VFs: administrative address and link state. */
  readonly vfs: readonly { readonly index: number; readonly mac: string }[];
}

/** `ip tuntap` options. */
export interface TuntapOptions {
  readonly mode: "tap" | "tun";
  readonly multiQueue?: boolean;
  readonly vnetHdr?: boolean;
}

/** `host nic` options. */
export interface NicOptions {
  readonly name: string;
  readonly model: string;
  readonly pci: string;
  /** Link speed in Mb/s (default: the model's fastest). */
  readonly speedMbps?: number;
  readonly mac?: string;
}

/** The static nodes kmod creates at boot for modules with a `devname:` alias. */
interface StaticNode {
  readonly module: string;
  readonly reg: Extract<Registration, { kind: "misc-device" }>;
}

const BASE_CMDLINE = "root=/dev/sda1 ro";

/** The host kernel. */
export class HostKernel implements KernelCtx, SysfsSource {
  readonly release: string;
  readonly catalog: HostCatalog;
  readonly modules: ModuleTable;
  readonly dev: DevNodes;
  readonly net: NetdevTable;
  readonly pci = new PciBus();
  readonly vdpa = new VdpaBus();
  /** devlink instances of mlx5 functions: e-switch modes and subfunction ports. */
  readonly devlink = new Devlink();
  readonly virtio = new VirtioBus();
  /** Host physical memory behind processes' RAM (pinning, DMA targets). */
  readonly ram = new HostRam();
  #kmem: KernelMem | undefined;
  readonly #sink: HostEventSink;
  readonly #vfs: Vfs;
  readonly #netlink: VdpaNetlink;
  readonly #genl = new Set<string>();
  readonly #linkKinds = new Set<string>();
  readonly #majors = new Map<string, number>();
  readonly #freeMajors: number[] = [];
  #nextMajor = 239;
  readonly #autoload: { module: string; by: string }[] = [];
  #depth = 0;
  #booted = false;
  #cmdline = "";
  #cmdlineParams = new Map<string, string[]>();
  #iommu: IommuState = { enabled: false, passthrough: false };
  #iommuHw: Iommu | undefined;
  readonly #iommuSink: IommuEventSink | undefined;
  #cpu = { ghz: 3.0, cores: 16 };
  readonly #macs: MacGenerator;

  /** Boots an empty host: only `lo` and the built-in modules. */
  constructor(options: HostKernelOptions) {
    this.release = options.release ?? DEFAULT_RELEASE;
    this.catalog = options.catalog;
    this.#sink = options.sink ?? (() => {});
    this.#iommuSink = options.iommuSink;
    this.#macs = new MacGenerator(options.seed ?? 0x5eed);
    this.modules = new ModuleTable(options.catalog.modules);
    this.dev = new DevNodes((e) => this.emit(e), this.modules);
    this.net = new NetdevTable((e) => this.emit(e), this.#macs);
    this.pci.attach(this);
    this.vdpa.attach(this);
    this.devlink.attach(this);
    this.virtio.attach(this);
    this.#vfs = new Vfs(() => buildRoot(this) as DirNode);
    this.#netlink = new VdpaNetlink(this.vdpa, () => this.#genl.has("vdpa"));
    // built-in modules are initialised at boot, silently
    for (const name of this.modules.names) {
      if (this.modules.spec(name)?.builtin === true) this.#init(name);
    }
  }

  // ---- KernelCtx -------------------------------------------------------------------------

  /** Emits an event to the sink. */
  emit(e: HostEvent): void {
    this.#sink(e);
  }

  /** IOMMU state from the command line. */
  iommu(): IommuState {
    return this.#iommu;
  }

  /**
   * The IOMMU hardware (VT-d model) as the command line configured it; built on first use,
   * after which the command line is frozen (it is only read at boot).
   */
  iommuHw(): Iommu {
    this.#booted = true;
    // one reading of the command line: the enabled / pass-through decision is the kernel's
    this.#iommuHw ??= new Iommu(
      { ...iommuConfigFromCmdline(this.#cmdline), ...this.#iommu },
      { sink: this.#iommuSink },
    );
    return this.#iommuHw;
  }

  /**
   * Uses `iommu` as the IOMMU hardware from now on (the lab's instance, whose events it
   * traces): the PCI functions' groups are added to it as they were to the old one.
   */
  adoptIommu(iommu: Iommu): void {
    if (this.#iommuHw === iommu) return;
    this.#booted = true;
    this.#iommuHw = iommu;
    for (const d of this.pci.devices) {
      if (d.iommuGroup !== undefined && iommu.groupOf(d.bdf) === undefined) {
        iommu.addDevice(d.bdf, { group: d.iommuGroup });
      }
    }
  }

  /** The kernel's DMA-able memory, made on first use. */
  kmem(): KernelMem {
    this.#kmem ??= new KernelMem(this.ram);
    return this.#kmem;
  }

  /** The major a region got. */
  chrdevMajor(region: string): number | undefined {
    return this.#majors.get(region);
  }

  /** Queues a udev modalias load. */
  queueAutoload(module: string, by: string): void {
    if (!this.#autoload.some((a) => a.module === module)) this.#autoload.push({ module, by });
  }

  /** dmesg. */
  log(level: "info" | "warn" | "err", text: string): void {
    this.emit({ kind: "kernel-log", level, text });
  }

  /** /proc/cmdline. */
  procCmdline(): string {
    const user = this.#cmdline === "" ? "" : ` ${this.#cmdline}`;
    return `BOOT_IMAGE=/boot/vmlinuz-${this.release} ${BASE_CMDLINE}${user}`;
  }

  /** Online CPUs. */
  cpuCount(): number {
    return this.#cpu.cores;
  }

  // ---- transactions ----------------------------------------------------------------------

  #tx<T>(fn: () => T): T {
    this.#depth++;
    try {
      return fn();
    } finally {
      this.#depth--;
      if (this.#depth === 0) this.#flushAutoload();
    }
  }

  #flushAutoload(): void {
    this.#depth++;
    try {
      while (this.#autoload.length > 0) {
        const next = this.#autoload.shift();
        if (next === undefined || this.modules.isLoaded(next.module)) continue;
        const r = this.#load(next.module, [], "autoload", next.by);
        if (!r.ok) this.log("err", `udev: modprobe ${next.module} failed`);
      }
    } finally {
      this.#depth--;
    }
  }

  #boot(): void {
    this.#booted = true;
  }

  // ---- command line and CPU --------------------------------------------------------------

  /**
   * `host cmdline "…"`: parsed at boot. `intel_iommu=on`/`amd_iommu=on` turn the IOMMU
   * on, `iommu=pt` gives host devices identity domains, `module.param=value` presets module
   * parameters. Refused once modules are loaded or hardware is present.
   */
  setCmdline(text: string): Result<void, HostError> {
    if (this.#booted) return err({ kind: "host-cmdline-after-boot" });
    const tokens = text.split(/\s+/).filter((t) => t !== "");
    let enabled = false;
    let passthrough = false;
    const params = new Map<string, string[]>();
    for (const t of tokens) {
      const [key = "", value = ""] = t.split("=", 2);
      if ((key === "intel_iommu" || key === "amd_iommu") && value.split(",").includes("on")) {
        enabled = true;
      }
      if ((key === "intel_iommu" || key === "amd_iommu") && value === "off") enabled = false;
      if (key === "iommu" && value === "pt") passthrough = true;
      if (key === "iommu" && value === "off") enabled = false;
      const dot = key.indexOf(".");
      if (dot > 0) {
        const mod = normalizeModuleName(key.slice(0, dot));
        params.set(mod, [
          ...(params.get(mod) ?? []),
          `${key.slice(dot + 1)}${t.includes("=") ? `=${value}` : ""}`,
        ]);
      }
    }
    this.#cmdline = tokens.join(" ");
    this.#cmdlineParams = params;
    this.#iommu = { enabled, passthrough: enabled && passthrough };
    this.emit({ kind: "cmdline", text: this.#cmdline });
    return ok(undefined);
  }

  /** Whether the kernel has booted (a module was loaded or hardware or a netdev added). */
  get booted(): boolean {
    return this.#booted;
  }

  /** The user part of the command line. */
  get cmdline(): string {
    return this.#cmdline;
  }

  /** `host cpu ghz=… cores=…`. */
  setCpu(o: { readonly ghz?: number; readonly cores?: number }): Result<void, HostError> {
    const ghz = o.ghz ?? this.#cpu.ghz;
    const cores = o.cores ?? this.#cpu.cores;
    if (!(ghz > 0 && ghz <= 10)) {
      return err({ kind: "host-cpu", detail: `ghz must be in (0, 10], not ${ghz}` });
    }
    if (!Number.isInteger(cores) || cores < 1 || cores > 4096) {
      return err({
        kind: "host-cpu",
        detail: `cores must be an integer from 1 to 4096, not ${cores}`,
      });
    }
    this.#cpu = { ghz, cores };
    this.emit({ kind: "cpu", ghz, cores });
    return ok(undefined);
  }

  /** The CPU. */
  get cpu(): { readonly ghz: number; readonly cores: number } {
    return this.#cpu;
  }

  // ---- modules ---------------------------------------------------------------------------

  /**
   * `modprobe NAME [param=value…]`: loads dependencies first, then the module. A module
   * already loaded is left alone (its parameters unchanged), as modprobe does, unless
   * `firstTime` asks for an error (`--first-time`).
   */
  modprobe(
    name: string,
    params: readonly string[] = [],
    options: { readonly firstTime?: boolean } = {},
  ): Result<void, HostError> {
    this.#boot();
    return this.#tx(() => {
      const r = this.modules.resolve(name);
      if (r === undefined) {
        return err({ kind: "modprobe-not-found", module: name, release: this.release });
      }
      if (this.modules.isLoaded(r)) {
        return options.firstTime === true
          ? err({ kind: "modprobe-already-loaded", module: r })
          : ok(undefined);
      }
      return this.#load(r, params, "modprobe", undefined);
    });
  }

  #load(
    name: string,
    params: readonly string[],
    reason: LoadReason,
    by: string | undefined,
  ): Result<void, HostError> {
    for (const m of this.modules.loadPlan(name)) {
      const isTarget = m === name;
      const given = [...(this.#cmdlineParams.get(m) ?? []), ...(isTarget ? params : [])];
      const parsed = this.modules.parseParams(m, given);
      if (!parsed.ok) {
        this.log(
          "err",
          `${m}: \`${parsed.error.value}' invalid for parameter \`${parsed.error.param}'`,
        );
        return err({ kind: "modprobe-insert-failed", module: m, errno: "EINVAL" });
      }
      for (const u of parsed.value.unknown) {
        this.log("warn", `${m}: unknown parameter '${u}' ignored`);
      }
      this.modules.insert(m, new Map(parsed.value.values));
      const shown: Record<string, string> = {};
      for (const item of given) {
        const eq = item.indexOf("=");
        const key = eq < 0 ? item : item.slice(0, eq);
        if (!parsed.value.unknown.includes(normalizeModuleName(key))) {
          shown[key] = eq < 0 ? "" : item.slice(eq + 1);
        }
      }
      const ev: HostEvent = {
        kind: "module-load",
        module: m,
        reason: isTarget ? reason : "dependency",
        ...(isTarget ? (by !== undefined ? { by } : {}) : { by: name }),
        params: shown,
      };
      this.emit(ev);
      this.#init(m);
    }
    return ok(undefined);
  }

  #simParams(): VdpaSimParams {
    const p = this.modules.get("vdpa_sim")?.params;
    return {
      batchMapping: (p?.get("batch_mapping") ?? "1") !== "0",
      useVa: (p?.get("use_va") ?? "Y") === "Y",
      maxIotlbEntries: Number(p?.get("max_iotlb_entries") ?? "2048"),
    };
  }

  #allocMajor(region: string): void {
    const major = this.#freeMajors.shift() ?? this.#nextMajor--;
    this.#majors.set(region, major);
  }

  #freeMajor(region: string): void {
    const m = this.#majors.get(region);
    if (m === undefined) return;
    this.#majors.delete(region);
    this.#freeMajors.push(m);
    this.#freeMajors.sort((a, b) => b - a);
  }

  /** The module's init: its registrations, in order. */
  #init(m: string): void {
    for (const reg of this.modules.spec(m)?.registers ?? []) {
      switch (reg.kind) {
        case "bus":
          if (reg.name === "vdpa") {
            this.vdpa.registered = true;
            this.emit({ kind: "bus-register", bus: "vdpa" });
          }
          break;
        case "genl-family":
          this.#genl.add(reg.name);
          this.emit({ kind: "genl-register", family: reg.name });
          break;
        case "vdpa-driver":
          if (reg.name === "vhost_vdpa") this.#allocMajor(VHOST_VDPA_REGION);
          this.vdpa.registerDriver({ name: reg.name, module: m });
          break;
        case "vdpa-mgmtdev": {
          const params = this.#simParams();
          const parent = reg.model === "vdpa_sim_net"
            ? vdpaSimNetParent(params)
            : vdpaSimBlkParent(params);
          // device_register of the root device the management device hangs off
          this.emit({ kind: "device-add", bus: "none", device: reg.name });
          this.vdpa.registerMgmtdev({
            name: reg.name,
            module: m,
            parent,
            devicesPath: "/sys/devices",
          });
          break;
        }
        case "vdpa-parent":
          for (const dev of this.pci.devices) this.vdpa.attachHwParents(dev, m);
          this.devlink.attachSfParents(m);
          break;
        case "pci-driver":
          this.pci.registerDriver({ name: reg.name, module: m, role: reg.role });
          break;
        case "virtio-driver":
          this.virtio.registerDriver({
            name: reg.name,
            module: m,
            deviceId: reg.deviceId,
            features: featureMask(reg.features),
          });
          break;
        case "misc-device":
          this.dev.create({
            path: reg.path,
            major: 10,
            minor: reg.minor,
            mode: reg.mode,
            group: reg.group ?? "root",
            module: m,
            exclusive: false,
            target: miscTarget(reg.path),
          });
          break;
        case "netdev-kind":
          this.#linkKinds.add(reg.name);
          break;
        case "vfio":
          this.#allocMajor(VFIO_GROUP_REGION);
          break;
      }
    }
  }

  /** What would make the module's exit block (an open file of a device it tears down). */
  #exitBlocker(m: string): string | undefined {
    for (const reg of this.modules.spec(m)?.registers ?? []) {
      let b: string | undefined;
      if (reg.kind === "vdpa-driver") b = this.vdpa.driverBlocker(reg.name);
      else if (reg.kind === "vdpa-mgmtdev") {
        const md = this.vdpa.findMgmtdev(undefined, reg.name);
        b = md === undefined ? undefined : this.vdpa.mgmtdevBlocker(md);
      } else if (reg.kind === "vdpa-parent") {
        for (const md of this.vdpa.mgmtdevs) {
          if (md.module === m) b ??= this.vdpa.mgmtdevBlocker(md);
        }
      } else if (reg.kind === "pci-driver") b = this.pci.driverBlocker(reg.name);
      if (b !== undefined) return b;
    }
    return undefined;
  }

  /** The module's exit: registrations undone in reverse, then it is gone. */
  #unload(m: string): void {
    const regs = [...(this.modules.spec(m)?.registers ?? [])].reverse();
    for (const reg of regs) {
      switch (reg.kind) {
        case "bus":
          if (reg.name === "vdpa") {
            this.vdpa.registered = false;
            this.emit({ kind: "bus-unregister", bus: "vdpa" });
          }
          break;
        case "genl-family":
          this.#genl.delete(reg.name);
          this.emit({ kind: "genl-unregister", family: reg.name });
          break;
        case "vdpa-driver":
          this.vdpa.unregisterDriver(reg.name);
          if (reg.name === "vhost_vdpa") this.#freeMajor(VHOST_VDPA_REGION);
          break;
        case "vdpa-mgmtdev": {
          const md = this.vdpa.findMgmtdev(undefined, reg.name);
          if (md !== undefined) this.vdpa.unregisterMgmtdev(md);
          this.emit({ kind: "device-del", bus: "none", device: reg.name });
          break;
        }
        case "vdpa-parent":
          for (const md of [...this.vdpa.mgmtdevs]) {
            if (md.module === m) this.vdpa.unregisterMgmtdev(md);
          }
          break;
        case "pci-driver":
          this.pci.unregisterDriver(reg.name);
          break;
        case "virtio-driver":
          this.virtio.unregisterDriver(reg.name);
          break;
        case "misc-device":
          if (this.dev.get(reg.path) !== undefined) this.dev.remove(reg.path);
          break;
        case "netdev-kind":
          // rtnl_link_unregister deletes every link of the kind
          for (const d of this.net.list()) {
            if (
              (reg.name === "bridge" && d.kind === "bridge") ||
              (reg.name === "tun" && (d.kind === "tap" || d.kind === "tun"))
            ) this.net.remove(d.name);
          }
          this.#linkKinds.delete(reg.name);
          break;
        case "vfio":
          this.#freeMajor(VFIO_GROUP_REGION);
          break;
      }
    }
    this.modules.delete(m);
    this.emit({ kind: "module-unload", module: m });
  }

  /**
   * `modprobe -r NAME`: refuses a module in use; removes it, then every dependency that
   * became unused (users before the modules they use). A module that is not loaded is not
   * an error (no `--first-time`).
   */
  modprobeRemove(
    name: string,
    options: { readonly firstTime?: boolean } = {},
  ): Result<void, HostError> {
    return this.#tx(() => {
      const r = this.modules.resolve(name);
      if (r === undefined) return err({ kind: "modprobe-remove-not-found", module: name });
      if (this.modules.spec(r)?.builtin === true) {
        return err({ kind: "module-builtin", tool: "modprobe", module: r });
      }
      if (this.modules.get(r) === undefined) {
        return options.firstTime === true
          ? err({ kind: "modprobe-not-in-kernel", module: r })
          : ok(undefined);
      }
      if (this.modules.refcnt(r) > 0) return err({ kind: "modprobe-in-use", module: r });
      const blocker = this.#exitBlocker(r);
      if (blocker !== undefined) {
        return err({ kind: "remove-blocked", tool: "modprobe", module: r, waitingFor: blocker });
      }
      this.#unload(r);
      for (const dep of this.modules.dependencyClosure(r)) {
        if (this.modules.get(dep) === undefined || this.modules.refcnt(dep) > 0) continue;
        if (this.#exitBlocker(dep) !== undefined) continue;
        this.#unload(dep);
      }
      return ok(undefined);
    });
  }

  /** `rmmod NAME`: removes one module, refusing with kmod's messages when in use. */
  rmmod(name: string): Result<void, HostError> {
    return this.#tx(() => {
      const n = normalizeModuleName(name);
      if (this.modules.spec(n)?.builtin === true) {
        return err({ kind: "module-builtin", tool: "rmmod", module: n });
      }
      const m = this.modules.get(n);
      if (m === undefined) return err({ kind: "rmmod-not-loaded", module: n });
      if (m.holders.length > 0) {
        return err({ kind: "rmmod-in-use-by", module: n, holders: [...m.holders] });
      }
      if (m.refs > 0) return err({ kind: "rmmod-in-use", module: n });
      const blocker = this.#exitBlocker(n);
      if (blocker !== undefined) {
        return err({ kind: "remove-blocked", tool: "rmmod", module: n, waitingFor: blocker });
      }
      this.#unload(n);
      return ok(undefined);
    });
  }

  /** `lsmod` rows, most recently loaded first. */
  lsmod(): LsmodEntry[] {
    return this.modules.list().map((m) => ({
      name: m.name,
      size: m.spec.size,
      usedBy: this.modules.refcnt(m.name),
      holders: [...m.holders],
    }));
  }

  /** Whether a module is present (loaded or built in). */
  isLoaded(name: string): boolean {
    return this.modules.isLoaded(normalizeModuleName(name));
  }

  // ---- files -----------------------------------------------------------------------------

  /** `cat PATH`. */
  read(path: string): Result<string, HostError> {
    return this.#vfs.read(path);
  }

  /** `echo DATA > PATH` (pass echo's trailing newline in `data`). */
  write(path: string, data: string): Result<void, HostError> {
    return this.#tx(() => this.#vfs.write(path, data));
  }

  /** Sorted directory entries. */
  readdir(path: string): Result<string[], HostError> {
    return this.#vfs.readdir(path);
  }

  /** stat(2). */
  stat(path: string): Result<Stat, HostError> {
    return this.#vfs.stat(path);
  }

  /** lstat(2). */
  lstat(path: string): Result<Stat, HostError> {
    return this.#vfs.lstat(path);
  }

  /** readlink(2). */
  readlink(path: string): Result<string, HostError> {
    return this.#vfs.readlink(path);
  }

  /** realpath(3). */
  realpath(path: string): Result<string, HostError> {
    return this.#vfs.realpath(path);
  }

  /** bash pathname expansion; empty when nothing matches. */
  glob(pattern: string): string[] {
    return this.#vfs.glob(pattern);
  }

  /** Whether a path exists. */
  exists(path: string): boolean {
    return this.#vfs.exists(path);
  }

  /** The file system view (for formatters). */
  get vfs(): Vfs {
    return this.#vfs;
  }

  /** Static nodes kmod creates for modules not loaded yet. */
  staticNodes(): readonly StaticNode[] {
    const out: StaticNode[] = [];
    for (const name of this.modules.names) {
      for (const reg of this.modules.spec(name)?.registers ?? []) {
        if (reg.kind === "misc-device" && this.dev.get(reg.path) === undefined) {
          out.push({ module: name, reg });
        }
      }
    }
    return out;
  }

  /**
   * open(2) on a device node. Opening a static node loads its module first (the devname
   * alias), as the real char-major autoload does.
   */
  open(path: string, owner: string): Result<DevHandle, HostError> {
    return this.#tx(() => {
      if (this.dev.get(path) === undefined) {
        const s = this.staticNodes().find((n) => n.reg.path === path);
        if (s !== undefined) {
          const r = this.#load(s.module, [], "autoload", path);
          if (!r.ok) return err({ kind: "fs", op: "open", path, errno: "ENODEV" });
        }
      }
      return this.dev.open(path, owner);
    });
  }

  /** close(2). */
  close(handle: DevHandle): void {
    this.dev.close(handle);
  }

  // ---- network ---------------------------------------------------------------------------

  #needKind(kind: "bridge" | "tun", by: string): boolean {
    if (this.#linkKinds.has(kind)) return true;
    for (const name of this.modules.names) {
      const regs = this.modules.spec(name)?.registers ?? [];
      if (regs.some((r) => r.kind === "netdev-kind" && r.name === kind)) {
        return this.#load(name, [], "autoload", by).ok && this.#linkKinds.has(kind);
      }
    }
    return false;
  }

  /** `ip tuntap add dev NAME mode tap|tun [multi_queue] [vnet_hdr]`. */
  tuntapAdd(name: string, o: TuntapOptions): Result<void, HostError> {
    this.#boot();
    return this.#tx(() => {
      if (name.length === 0 || name.length > 15 || /[\s/:]/.test(name)) {
        return err({
          kind: "ip-bad-argument",
          argument: name,
          message: '"dev" not a valid ifname',
        });
      }
      if (!this.#needKind("tun", "/dev/net/tun")) {
        return err({ kind: "fs", op: "open", path: "/dev/net/tun", errno: "ENODEV" });
      }
      // iproute2 sets IFF_TUN_EXCL: any existing device of that name is -EBUSY
      if (this.net.get(name) !== undefined) {
        return err({ kind: "tuntap-ioctl", ioctl: "TUNSETIFF", errno: "EBUSY" });
      }
      this.net.createTap(name, {
        multiQueue: o.multiQueue === true,
        vnetHdr: o.vnetHdr === true,
        ...(o.mode === "tun" ? { tun: true } : {}),
      });
      return ok(undefined);
    });
  }

  /**
   * `ip tuntap del dev NAME mode tap|tun`: a device of another kind is -EINVAL, one in use
   * is -EBUSY; a name that does not exist is silently fine (TUNSETIFF creates it and
   * TUNSETPERSIST 0 destroys it again).
   */
  tuntapDel(name: string, o: { readonly mode: "tap" | "tun" }): Result<void, HostError> {
    return this.#tx(() => {
      if (!this.#needKind("tun", "/dev/net/tun")) {
        return err({ kind: "fs", op: "open", path: "/dev/net/tun", errno: "ENODEV" });
      }
      const d = this.net.get(name);
      if (d === undefined) return ok(undefined);
      if (d.kind !== o.mode) {
        return err({ kind: "tuntap-ioctl", ioctl: "TUNSETIFF", errno: "EINVAL" });
      }
      if (d.queues.length > 0 && !d.multiQueue) {
        return err({ kind: "tuntap-ioctl", ioctl: "TUNSETIFF", errno: "EBUSY" });
      }
      this.net.remove(name);
      return ok(undefined);
    });
  }

  /** `ip link add NAME type KIND` (bridge; the module autoloads via rtnl-link-<kind>). */
  linkAdd(name: string, kind: string): Result<void, HostError> {
    this.#boot();
    return this.#tx(() => {
      if (kind !== "bridge" || !this.#needKind("bridge", `rtnl-link-${kind}`)) {
        return err({ kind: "rtnetlink", errno: "EOPNOTSUPP", extack: "Unknown device type" });
      }
      if (this.net.get(name) !== undefined) return err({ kind: "rtnetlink", errno: "EEXIST" });
      this.net.createBridge(name);
      return ok(undefined);
    });
  }

  /** `ip link del NAME`: only software links can be deleted. */
  linkDel(name: string): Result<void, HostError> {
    return this.#tx(() => {
      const d = this.net.get(name);
      if (d === undefined) return err({ kind: "ip-no-device", name });
      if (d.kind !== "bridge" && d.kind !== "tap" && d.kind !== "tun") {
        return err({ kind: "rtnetlink", errno: "EOPNOTSUPP" });
      }
      if ((d.kind === "tap" || d.kind === "tun") && d.queues.length > 0) {
        // the attached process keeps the device; unregistering it detaches and deletes
        d.queues.length = 0;
      }
      this.net.remove(name);
      return ok(undefined);
    });
  }

  /** `ip link set dev NAME up|down`. */
  linkSetUp(name: string, up: boolean): Result<void, HostError> {
    return this.#tx(() => this.net.setUp(name, up));
  }

  /** `ip link set dev NAME mtu N`. */
  linkSetMtu(name: string, mtu: number): Result<void, HostError> {
    return this.#tx(() => this.net.setMtu(name, mtu));
  }

  /** `ip link set dev NAME master BR` / `nomaster`. */
  linkSetMaster(name: string, master: string | null): Result<void, HostError> {
    return this.#tx(
      () => (master === null ? this.net.setNoMaster(name) : this.net.setMaster(name, master)),
    );
  }

  /** What `ip link show [dev NAME]` prints about each device. */
  links(name?: string): Result<LinkInfo[], HostError> {
    const devs = name === undefined
      ? this.net.list()
      : this.net.list().filter((d) => d.name === name);
    if (name !== undefined && devs.length === 0) {
      return err({ kind: "ip-no-device", name, op: "show" });
    }
    return ok(devs.map((d) => this.#linkInfo(d)));
  }

  #linkInfo(d: Netdev): LinkInfo {
    const pf = d.kind === "phys" ? this.pci.devices.find((p) => p.netdev === d.name) : undefined;
    const vfs = pf === undefined ? [] : pf.vfs.map((bdf, index) => ({
      index,
      mac: formatMac(this.pci.device(bdf)?.mac ?? [0, 0, 0, 0, 0, 0]),
    }));
    const state = this.net.operstate(d);
    return {
      ifindex: d.ifindex,
      name: d.name,
      kind: d.kind,
      up: d.up,
      lowerUp: this.net.isRunning(d),
      mtu: d.mtu,
      qdisc: !d.everUp
        ? "noop"
        : d.kind === "loopback" || d.kind === "bridge"
        ? "noqueue"
        : d.txQueues > 1 || d.multiQueue
        ? "mq"
        : "fq_codel",
      ...(d.master !== undefined ? { master: d.master } : {}),
      operstate: state === "up" ? "UP" : state === "down" ? "DOWN" : "UNKNOWN",
      mac: formatMac(this.net.mac(d)),
      qlen: 1000,
      vfs,
    };
  }

  // ---- hardware --------------------------------------------------------------------------

  /** `host nic NAME model=M pci=BDF [speed=…] [mac=…]`: a physical function appears. */
  addNic(o: NicOptions): Result<void, HostError> {
    this.#boot();
    return this.#tx(() => {
      const model = this.catalog.nicModels[o.model];
      if (model === undefined) {
        const known = Object.keys(this.catalog.nicModels).join(", ");
        return err({
          kind: "host-nic",
          reason: "unknown-model",
          name: o.name,
          detail: `unknown NIC model \`${o.model}\` (known: ${known})`,
        });
      }
      const addr = parseBdf(o.pci);
      if (addr === undefined) {
        return err({
          kind: "host-nic",
          reason: "bad-pci-address",
          name: o.name,
          detail: `\`${o.pci}\` is not a PCI address (DDDD:BB:DD.F)`,
        });
      }
      const bdf = formatBdf(addr.domain, addr.rid);
      if (this.pci.device(bdf) !== undefined) {
        return err({
          kind: "host-nic",
          reason: "duplicate-pci",
          name: o.name,
          detail: `${bdf} is already present`,
        });
      }
      if (
        this.net.get(o.name) !== undefined || this.pci.devices.some((d) => d.portName === o.name)
      ) {
        return err({
          kind: "host-nic",
          reason: "duplicate-name",
          name: o.name,
          detail: `a netdev named ${o.name} exists`,
        });
      }
      const speed = o.speedMbps ?? Math.max(...model.speedsMbps);
      if (!model.speedsMbps.includes(speed)) {
        return err({
          kind: "host-nic",
          reason: "bad-speed",
          name: o.name,
          detail: `${model.description} runs at ${
            model.speedsMbps.map((s) => `${s / 1000}Gbps`).join(", ")
          }`,
        });
      }
      const mac = o.mac !== undefined ? parseMac(o.mac) : this.#macs.nextWithOui(model.macOui);
      if (mac === undefined) {
        return err({
          kind: "host-nic",
          reason: "bad-pci-address",
          name: o.name,
          detail: `\`${o.mac}\` is not a MAC address`,
        });
      }
      this.pci.addPf({
        domain: addr.domain,
        rid: addr.rid,
        modelName: o.model,
        model,
        portName: o.name,
        mac,
        speedMbps: speed,
      });
      return ok(undefined);
    });
  }

  // ---- vDPA ------------------------------------------------------------------------------

  /** The `vdpa` genl family, each request run as one kernel operation. */
  get vdpaNetlink(): VdpaNetlinkApi {
    const nl = this.#netlink;
    const tx = <T>(fn: () => T): T => this.#tx(fn);
    return {
      mgmtdevGet: (h) => nl.mgmtdevGet(h),
      devNew: (req) => tx(() => nl.devNew(req)),
      devDel: (name) => tx(() => nl.devDel(name)),
      devGet: (name) => nl.devGet(name),
      devConfigGet: (name) => nl.devConfigGet(name),
      devVstatsGet: (name, qidx) => nl.devVstatsGet(name, qidx),
      devAttrSet: (name, attrs) => tx(() => nl.devAttrSet(name, attrs)),
    };
  }
}

/** The netlink operations as HostKernel exposes them. */
export type VdpaNetlinkApi = Pick<
  VdpaNetlink,
  "mgmtdevGet" | "devNew" | "devDel" | "devGet" | "devConfigGet" | "devVstatsGet" | "devAttrSet"
>;

function miscTarget(path: string): DevTarget {
  if (path === "/dev/vhost-net") return { kind: "vhost-net" };
  if (path === "/dev/net/tun") return { kind: "tun" };
  if (path === "/dev/kvm") return { kind: "kvm" };
  if (path === "/dev/vfio/vfio") return { kind: "vfio-container" };
  return { kind: "misc", name: path.slice("/dev/".length) };
}
