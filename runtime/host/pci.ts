/**
 * PCI functions of the NICs declared with `host nic`, their drivers and SR-IOV
 * (drivers/pci/iov.c, drivers/base/bus.c):
 *
 * - a physical function appears with the address given; udev loads the module whose PCI
 *   driver matches its model (an `autoload` event), and the driver binds;
 * - writing `sriov_numvfs` creates VFs at RID = PF + First VF Offset + n × Stride, each with
 *   its own IOMMU group when the IOMMU is on, probed by the model's VF driver unless
 *   `sriov_drivers_autoprobe` is 0. The kernel's refusals are kept: a value above
 *   `sriov_totalvfs` is -ERANGE, no PF driver is -ENOENT, a different non-zero count while
 *   VFs exist is -EBUSY ("Disable before enabling");
 * - `driver_override` + `drivers_probe`, or `bind`/`unbind`, move a function between
 *   drivers. vfio-pci needs an IOMMU group (-EINVAL without one) and creates
 *   /dev/vfio/<group>; a net driver creates the port's netdev; a vDPA parent registers the
 *   function's management device `pci/<bdf>`.
 *
 * Tearing down a function whose vhost-vdpa or VFIO group file is open would block in the
 * real kernel; the lab refuses with -EBUSY and names the file.
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import { errnoNumber } from "./errno.ts";
import { Ida } from "./ida.ts";
import type { KernelCtx } from "./kernel_ctx.ts";
import type { MacAddress } from "./mac.ts";
import { ZERO_MAC } from "./mac.ts";
import { type NicModel, vfRoutingId } from "./nic_model.ts";
import { parseOverride, sysfsName } from "./vdpa_bus.ts";
import type { FsWriteError } from "./vfs.ts";

/** A PCI function. */
export interface PciDevice {
  /** `0000:3b:00.0`. */
  readonly bdf: string;
  readonly domain: number;
  /** bus << 8 | devfn. */
  readonly rid: number;
  readonly modelName: string;
  readonly model: NicModel;
  /** The PF of a VF. */
  readonly pf?: string;
  readonly vfIndex?: number;
  /** Netdev name a PF's net driver gives its port (`ens1f0`). */
  readonly portName?: string;
  /** Burned-in address (PF) or the VF's administrative address (zero until set). */
  readonly mac: MacAddress;
  readonly speedMbps: number;
  /** Real sysfs path. */
  readonly path: string;
  driver: string | undefined;
  driverOverride: string | undefined;
  /** PF: VFs in index order. */
  readonly vfs: string[];
  /** PF: sriov_drivers_autoprobe. */
  sriovDriversAutoprobe: boolean;
  iommuGroup: number | undefined;
  netdev: string | undefined;
}

/** A PCI driver. */
export interface PciDriver {
  readonly name: string;
  readonly module: string;
  readonly role: "net" | "vfio" | "vdpa";
}

/** Formats a routing ID as a BDF. */
export function formatBdf(domain: number, rid: number): string {
  const bus = (rid >> 8) & 0xff;
  const dev = (rid >> 3) & 0x1f;
  const fn = rid & 0x7;
  return `${hex(domain, 4)}:${hex(bus, 2)}:${hex(dev, 2)}.${fn}`;
}

/** Parses `0000:3b:00.0` or `3b:00.0`; undefined when malformed. */
export function parseBdf(text: string): { domain: number; rid: number } | undefined {
  const m = /^(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/.exec(text);
  if (m === null) return undefined;
  const dev = parseInt(m[3] ?? "0", 16);
  if (dev > 0x1f) return undefined;
  const bus = parseInt(m[2] ?? "0", 16);
  return {
    domain: parseInt(m[1] ?? "0000", 16),
    rid: (bus << 8) | (dev << 3) | parseInt(m[4] ?? "0", 10),
  };
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/** The sysfs directory of a function: under a root port on the bus above it. */
function pciPath(domain: number, rid: number): string {
  const bus = (rid >> 8) & 0xff;
  const d = hex(domain, 4);
  const bdf = formatBdf(domain, rid);
  if (bus === 0) return `/sys/devices/pci${d}:00/${bdf}`;
  const root = hex(bus - 1, 2);
  return `/sys/devices/pci${d}:${root}/${d}:${root}:00.0/${bdf}`;
}

/** The VFIO group character device region name. */
export const VFIO_GROUP_REGION = "vfio";

/** The PCI bus. */
export class PciBus {
  #ctx: KernelCtx | undefined;
  /** /sys/bus/pci/drivers_autoprobe. */
  autoprobe = true;
  readonly #devices: PciDevice[] = [];
  readonly #drivers: PciDriver[] = [];
  readonly #groups = new Ida();
  readonly #vfioMinors = new Ida();
  readonly #vfioNodes = new Map<number, number>();

  /** Wires the bus to the kernel. */
  attach(ctx: KernelCtx): void {
    this.#ctx = ctx;
  }

  get #k(): KernelCtx {
    if (this.#ctx === undefined) throw new TypeError("PciBus used before attach()");
    return this.#ctx;
  }

  /** Functions in enumeration order. */
  get devices(): readonly PciDevice[] {
    return this.#devices;
  }

  /** Drivers in registration order. */
  get drivers(): readonly PciDriver[] {
    return this.#drivers;
  }

  /** A function by BDF. */
  device(bdf: string): PciDevice | undefined {
    return this.#devices.find((d) => d.bdf === bdf);
  }

  /** The functions of an IOMMU group. */
  groupMembers(group: number): PciDevice[] {
    return this.#devices.filter((d) => d.iommuGroup === group);
  }

  /** IOMMU groups in use, ascending. */
  get groups(): number[] {
    return [
      ...new Set(this.#devices.flatMap((d) => (d.iommuGroup === undefined ? [] : [d.iommuGroup]))),
    ].sort(
      (a, b) => a - b,
    );
  }

  /** Enumerates a physical function (`host nic`): device_add, IOMMU group, probe or autoload. */
  addPf(o: {
    readonly domain: number;
    readonly rid: number;
    readonly modelName: string;
    readonly model: NicModel;
    readonly portName: string;
    readonly mac: MacAddress;
    readonly speedMbps: number;
  }): PciDevice {
    const dev: PciDevice = {
      bdf: formatBdf(o.domain, o.rid),
      domain: o.domain,
      rid: o.rid,
      modelName: o.modelName,
      model: o.model,
      portName: o.portName,
      mac: o.mac,
      speedMbps: o.speedMbps,
      path: pciPath(o.domain, o.rid),
      driver: undefined,
      driverOverride: undefined,
      vfs: [],
      sriovDriversAutoprobe: true,
      iommuGroup: undefined,
      netdev: undefined,
    };
    this.#enumerate(dev, true);
    return dev;
  }

  #enumerate(dev: PciDevice, probe: boolean): void {
    const k = this.#k;
    this.#devices.push(dev);
    k.emit({
      kind: "device-add",
      bus: "pci",
      device: dev.bdf,
      ...(dev.pf !== undefined ? { parent: dev.pf } : {}),
    });
    if (k.iommu().enabled) {
      const g = this.#groups.alloc();
      if (g !== undefined) {
        dev.iommuGroup = g;
        // the IOMMU hardware gets the same group (iommu_probe_device → iommu_group_add_device)
        k.iommuHw().addDevice(dev.bdf, { group: g });
        k.emit({ kind: "iommu-group-add", group: g, device: dev.bdf });
        k.log("info", `pci ${dev.bdf}: Adding to iommu group ${g}`);
      }
    }
    if (probe && this.autoprobe) this.#attach(dev);
    if (dev.driver === undefined && probe) this.#queueModalias(dev);
  }

  /** udev: load the module whose PCI driver the model names, if it is not loaded. */
  #queueModalias(dev: PciDevice): void {
    const k = this.#k;
    const want = dev.pf === undefined ? dev.model.pfDriver : dev.model.vfDriver;
    for (const name of k.modules.names) {
      const regs = k.modules.spec(name)?.registers ?? [];
      if (
        regs.some((r) => r.kind === "pci-driver" && r.name === want) && !k.modules.isLoaded(name)
      ) {
        k.queueAutoload(name, dev.bdf);
        return;
      }
    }
  }

  #matches(dev: PciDevice, drv: PciDriver): boolean {
    // pci_match_device: an override names the only driver; without one the id tables decide
    if (dev.driverOverride !== undefined) return dev.driverOverride === drv.name;
    return drv.name === (dev.pf === undefined ? dev.model.pfDriver : dev.model.vfDriver);
  }

  #attach(dev: PciDevice): void {
    for (const drv of this.#drivers) {
      if (dev.driver !== undefined) return;
      if (this.#matches(dev, drv)) this.#probe(dev, drv);
    }
  }

  #probe(dev: PciDevice, drv: PciDriver): Result<void, FsWriteError> {
    const k = this.#k;
    if (drv.role === "vfio") {
      // vfio_pci_core_register_device → vfio_group_find_or_alloc: no IOMMU group, no VFIO
      if (dev.iommuGroup === undefined) {
        k.emit({
          kind: "probe-failed",
          bus: "pci",
          device: dev.bdf,
          driver: drv.name,
          errno: "EINVAL",
        });
        k.log(
          "warn",
          `${drv.name}: probe of ${dev.bdf} failed with error -${errnoNumber("EINVAL")}`,
        );
        return err({ errno: "EINVAL" });
      }
      this.#vfioGroupNode(dev.iommuGroup);
    }
    dev.driver = drv.name;
    if (drv.role === "net") this.#netProbe(dev);
    if (drv.role === "net" || drv.role === "vdpa") k.vdpa.attachHwParents(dev);
    k.emit({ kind: "driver-bind", bus: "pci", device: dev.bdf, driver: drv.name });
    return ok(undefined);
  }

  #netProbe(dev: PciDevice): void {
    const k = this.#k;
    const pf = dev.pf === undefined ? dev : this.device(dev.pf);
    const port = pf?.portName ?? "eth";
    const name = dev.pf === undefined ? port : `${port}v${dev.vfIndex ?? 0}`;
    k.net.createHw(k.net.get(name) === undefined ? name : k.net.allocName("eth"), {
      kind: dev.pf === undefined ? "phys" : "vf",
      // a VF with no administrative address draws a random one (mlx5e, ice)
      mac: dev.pf === undefined ? dev.mac : k.net.randomMac(),
      mtu: 1500,
      minMtu: dev.model.mtu.min,
      maxMtu: dev.model.mtu.max,
      txQueues: dev.model.txQueues,
      devicePath: dev.path,
      speedMbps: dev.speedMbps,
    });
    dev.netdev = k.net.get(name) !== undefined ? name : undefined;
  }

  #vfioGroupNode(group: number): void {
    if (this.#vfioNodes.has(group)) return;
    const k = this.#k;
    const minor = this.#vfioMinors.alloc() ?? 0;
    this.#vfioNodes.set(group, minor);
    k.dev.create({
      path: `/dev/vfio/${group}`,
      major: k.chrdevMajor(VFIO_GROUP_REGION) ?? 0,
      minor,
      mode: 0o600,
      group: "root",
      module: "vfio",
      exclusive: true,
      target: { kind: "vfio-group", group },
    });
  }

  /** The open file that would make removing the function's driver block. */
  blocker(dev: PciDevice): string | undefined {
    const k = this.#k;
    if (
      dev.driver !== undefined && this.#driver(dev.driver)?.role === "vfio" &&
      dev.iommuGroup !== undefined
    ) {
      const path = `/dev/vfio/${dev.iommuGroup}`;
      if (k.dev.isOpen(path)) return path;
    }
    const hw = k.vdpa.hwBlocker(dev.bdf);
    if (hw !== undefined) return hw;
    for (const vf of dev.vfs) {
      const v = this.device(vf);
      const b = v === undefined ? undefined : this.blocker(v);
      if (b !== undefined) return b;
    }
    return undefined;
  }

  #driver(name: string): PciDriver | undefined {
    return this.#drivers.find((d) => d.name === name);
  }

  #remove(dev: PciDevice): void {
    const k = this.#k;
    const drv = dev.driver === undefined ? undefined : this.#driver(dev.driver);
    if (drv === undefined) return;
    if (drv.role === "net" && dev.vfs.length > 0) this.#disableVfs(dev);
    if (drv.role === "net") k.devlink.functionGone(dev.bdf);
    if (drv.role === "net" || drv.role === "vdpa") k.vdpa.detachHwParents(dev.bdf);
    if (dev.netdev !== undefined) {
      k.net.remove(dev.netdev);
      dev.netdev = undefined;
    }
    dev.driver = undefined;
    if (drv.role === "vfio" && dev.iommuGroup !== undefined) {
      const g = dev.iommuGroup;
      const stillVfio = this.groupMembers(g).some((d) =>
        d.driver !== undefined && this.#driver(d.driver)?.role === "vfio"
      );
      const minor = this.#vfioNodes.get(g);
      if (!stillVfio && minor !== undefined) {
        k.dev.remove(`/dev/vfio/${g}`);
        this.#vfioNodes.delete(g);
        this.#vfioMinors.free(minor);
      }
    }
    k.emit({ kind: "driver-unbind", bus: "pci", device: dev.bdf, driver: drv.name });
  }

  /** pci_register_driver: binds matching unbound functions (with autoprobe). */
  registerDriver(drv: PciDriver): void {
    this.#drivers.push(drv);
    this.#k.emit({ kind: "driver-register", bus: "pci", driver: drv.name });
    if (!this.autoprobe) return;
    for (const dev of this.#devices) {
      if (dev.driver !== undefined || !this.#matches(dev, drv)) continue;
      // VFs probe only when their PF allows it (sriov_drivers_autoprobe)
      const pf = dev.pf === undefined ? undefined : this.device(dev.pf);
      if (pf !== undefined && !pf.sriovDriversAutoprobe) continue;
      this.#probe(dev, drv);
    }
  }

  /** What would block unregistering a driver. */
  driverBlocker(name: string): string | undefined {
    for (const dev of this.#devices) {
      if (dev.driver !== name) continue;
      const b = this.blocker(dev);
      if (b !== undefined) return b;
    }
    return undefined;
  }

  /** pci_unregister_driver: unbinds its functions (VFs of an unbound PF disappear). */
  unregisterDriver(name: string): void {
    for (const dev of [...this.#devices]) {
      if (dev.driver === name && this.#devices.includes(dev)) this.#remove(dev);
    }
    const i = this.#drivers.findIndex((d) => d.name === name);
    if (i >= 0) this.#drivers.splice(i, 1);
    this.#k.emit({ kind: "driver-unregister", bus: "pci", driver: name });
  }

  /** drivers/<drv>/bind store. */
  bind(driver: string, data: string): Result<void, FsWriteError> {
    const drv = this.#driver(driver);
    const dev = this.device(sysfsName(data));
    if (drv === undefined || dev === undefined || !this.#matches(dev, drv)) {
      return err({ errno: "ENODEV" });
    }
    if (dev.driver !== undefined) return err({ errno: "EBUSY" });
    return this.#probe(dev, drv);
  }

  /** drivers/<drv>/unbind store. */
  unbind(driver: string, data: string): Result<void, FsWriteError> {
    const dev = this.device(sysfsName(data));
    if (dev === undefined || dev.driver !== driver) return err({ errno: "ENODEV" });
    const b = this.blocker(dev);
    if (b !== undefined) return err({ errno: "EBUSY", waitingFor: b });
    this.#remove(dev);
    return ok(undefined);
  }

  /** /sys/bus/pci/drivers_probe store. */
  driversProbe(data: string): Result<void, FsWriteError> {
    const dev = this.device(sysfsName(data));
    if (dev === undefined) return err({ errno: "ENODEV" });
    if (dev.driver === undefined) this.#attach(dev);
    return ok(undefined);
  }

  /** drivers_autoprobe store. */
  setAutoprobe(data: string): void {
    this.autoprobe = !data.startsWith("0");
    this.#k.emit({ kind: "autoprobe", bus: "pci", enabled: this.autoprobe });
  }

  /** devices/<bdf>/driver_override store. */
  setOverride(bdf: string, data: string): Result<void, FsWriteError> {
    const dev = this.device(bdf);
    if (dev === undefined) return err({ errno: "ENODEV" });
    const v = parseOverride(data);
    if (!v.ok) return v;
    dev.driverOverride = v.value;
    this.#k.emit({ kind: "driver-override", bus: "pci", device: bdf, value: v.value ?? null });
    return ok(undefined);
  }

  /** sriov_drivers_autoprobe store (kstrtobool). */
  setSriovAutoprobe(bdf: string, data: string): Result<void, FsWriteError> {
    const dev = this.device(bdf);
    if (dev === undefined) return err({ errno: "ENODEV" });
    const s = data.trim().toLowerCase();
    if (/^(1|y|on)/.test(s)) dev.sriovDriversAutoprobe = true;
    else if (/^(0|n|off)/.test(s)) dev.sriovDriversAutoprobe = false;
    else return err({ errno: "EINVAL" });
    return ok(undefined);
  }

  /** sriov_numvfs store (drivers/pci/iov.c sriov_numvfs_store). */
  setNumVfs(bdf: string, data: string): Result<void, FsWriteError> {
    const k = this.#k;
    const pf = this.device(bdf);
    if (pf === undefined || pf.pf !== undefined) return err({ errno: "ENODEV" });
    const n = parseU16(data);
    if (n === undefined) return err({ errno: "EINVAL" });
    if (n > pf.model.totalVfs) return err({ errno: "ERANGE" });
    if (n === pf.vfs.length) return ok(undefined);
    const drv = pf.driver === undefined ? undefined : this.#driver(pf.driver);
    if (drv === undefined) {
      k.log("info", `pci ${bdf}: no driver bound to device; cannot configure SR-IOV`);
      return err({ errno: "ENOENT" });
    }
    if (drv.role !== "net") {
      k.log("info", `pci ${bdf}: driver does not support SR-IOV configuration via sysfs`);
      return err({ errno: "ENOENT" });
    }
    if (n === 0) {
      const b = this.blocker(pf);
      if (b !== undefined) return err({ errno: "EBUSY", waitingFor: b });
      this.#disableVfs(pf);
      k.devlink.vfsChanged(pf.bdf);
      return ok(undefined);
    }
    if (pf.vfs.length > 0) {
      k.log(
        "warn",
        `pci ${bdf}: ${pf.vfs.length} VFs already enabled. Disable before enabling ${n} VFs`,
      );
      return err({ errno: "EBUSY" });
    }
    const rids = Array.from({ length: n }, (_, i) => vfRoutingId(pf.rid, pf.model, i));
    if (rids.some((rid) => this.device(formatBdf(pf.domain, rid)) !== undefined)) {
      return err({ errno: "EBUSY" });
    }
    for (let i = 0; i < n; i++) this.#addVf(pf, i, rids[i] ?? 0);
    // mlx5 in switchdev mode: a representor and a devlink port per VF
    k.devlink.vfsChanged(pf.bdf);
    return ok(undefined);
  }

  #addVf(pf: PciDevice, index: number, rid: number): void {
    const k = this.#k;
    const vf: PciDevice = {
      bdf: formatBdf(pf.domain, rid),
      domain: pf.domain,
      rid,
      modelName: pf.modelName,
      model: pf.model,
      pf: pf.bdf,
      vfIndex: index,
      mac: ZERO_MAC,
      speedMbps: pf.speedMbps,
      path: pciPath(pf.domain, rid),
      driver: undefined,
      driverOverride: undefined,
      vfs: [],
      sriovDriversAutoprobe: true,
      iommuGroup: undefined,
      netdev: undefined,
    };
    pf.vfs.push(vf.bdf);
    // pci_iov_add_virtfn: the VF probes only when the PF's sriov_drivers_autoprobe allows
    this.#enumerate(vf, pf.sriovDriversAutoprobe);
    k.emit({ kind: "vf-create", pf: pf.bdf, vf: vf.bdf, index });
  }

  #disableVfs(pf: PciDevice): void {
    const k = this.#k;
    for (const bdf of [...pf.vfs].reverse()) {
      const vf = this.device(bdf);
      if (vf === undefined) continue;
      this.#remove(vf);
      this.#devices.splice(this.#devices.indexOf(vf), 1);
      if (vf.iommuGroup !== undefined) {
        k.iommuHw().removeDevice(vf.bdf);
        k.emit({ kind: "iommu-group-remove", group: vf.iommuGroup, device: vf.bdf });
        this.#groups.free(vf.iommuGroup);
      }
      k.emit({ kind: "device-del", bus: "pci", device: vf.bdf });
      k.emit({ kind: "vf-remove", pf: pf.bdf, vf: vf.bdf, index: vf.vfIndex ?? 0 });
    }
    pf.vfs.length = 0;
  }
}

/** kstrtou16(buf, 0): decimal, hex or octal, one trailing newline allowed. */
function parseU16(data: string): number | undefined {
  const s = data.endsWith("\n") ? data.slice(0, -1) : data;
  const m = /^\+?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (m === null) return undefined;
  const body = m[1] ?? "";
  const v = /^0[xX]/.test(body)
    ? parseInt(body.slice(2), 16)
    : body.length > 1 && body.startsWith("0")
    ? parseInt(body.slice(1), 8)
    : parseInt(body, 10);
  return v > 0xffff ? undefined : v;
}
