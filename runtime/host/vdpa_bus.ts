/**
 * The vDPA bus (drivers/vdpa/vdpa.c and drivers/base): management devices registered by
 * parent modules, vDPA devices created through them, and the two bus drivers.
 *
 * - A new device is matched against the bus drivers in registration order when
 *   `drivers_autoprobe` is 1; `driver_override` restricts matching to one driver name
 *   (`vdpa_dev_match`, exact `strcmp`: `vhost-vdpa` never matches `vhost_vdpa`).
 * - vhost_vdpa's probe takes the lowest free minor (IDA) and creates `vhost-vdpa-N` with
 *   /dev/vhost-vdpa-N; its remove deletes them.
 * - virtio_vdpa's probe registers a virtio device (`virtioM`), which the virtio bus hands
 *   to a host virtio driver.
 * - `bind`/`unbind`/`drivers_probe` follow drivers/base/bus.c: a device that does not
 *   exist or does not match is -ENODEV, one already bound is -EBUSY, a probe error is
 *   returned as is; unbinding from the wrong driver is -ENODEV.
 *
 * vhost_vdpa's real remove sleeps until the last open file of /dev/vhost-vdpa-N is closed;
 * the lab refuses with -EBUSY and names the file instead of hanging.
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { VdpaDevice, VdpaOpError } from "../devices/vdpa_device.ts";
import type { VdpaDevAddConfig, VdpaParent } from "../devices/vdpa_parent.ts";
import { hwVdpaNetParent } from "../devices/hw_vdpa_net.ts";
import type { PciDevice } from "./pci.ts";
import { errnoNumber } from "./errno.ts";
import { Ida } from "./ida.ts";
import type { KernelCtx } from "./kernel_ctx.ts";
import type { FsWriteError } from "./vfs.ts";

/** A management device. */
export interface VdpaMgmtdev {
  /** Bus of the parent device (`pci`, `auxiliary`); absent for simulators. */
  readonly bus?: string;
  /** Device name of the parent (`vdpasim_net`, `0000:3b:00.2`). */
  readonly name: string;
  /** The module whose registration created it. */
  readonly module: string;
  readonly parent: VdpaParent;
  /** Real sysfs directory new vDPA devices are created under. */
  readonly devicesPath: string;
  /** The PCI function behind a hardware management device. */
  readonly pciBdf?: string;
}

/** `bus/name` or `name`, as iproute2 prints a management device. */
export function mgmtdevHandle(m: { readonly bus?: string; readonly name: string }): string {
  return m.bus !== undefined ? `${m.bus}/${m.name}` : m.name;
}

/** A device on the vdpa bus. */
export interface VdpaBusDevice {
  readonly name: string;
  readonly device: VdpaDevice;
  readonly mgmtdev: VdpaMgmtdev;
  /** Real sysfs path (`/sys/devices/vdpa0`). */
  readonly path: string;
  driver: string | undefined;
  driverOverride: string | undefined;
  /** Minor of /dev/vhost-vdpa-N while bound to vhost_vdpa. */
  vhostMinor: number | undefined;
  /** The virtio device (`virtio0`) while bound to virtio_vdpa. */
  virtio: string | undefined;
}

/** A vdpa bus driver. */
export interface VdpaDriver {
  readonly name: "vhost_vdpa" | "virtio_vdpa";
  readonly module: string;
}

/** The `vhost-vdpa` character device region name. */
export const VHOST_VDPA_REGION = "vhost-vdpa";

/** The vdpa bus. */
export class VdpaBus {
  #ctx: KernelCtx | undefined;
  /** Whether the vdpa module registered the bus. */
  registered = false;
  /** /sys/bus/vdpa/drivers_autoprobe. */
  autoprobe = true;
  readonly #mgmtdevs: VdpaMgmtdev[] = [];
  readonly #devices: VdpaBusDevice[] = [];
  readonly #drivers: VdpaDriver[] = [];
  readonly #minors = new Ida({ max: (1 << 20) - 1 });

  /** Wires the bus to the kernel (called once by HostKernel). */
  attach(ctx: KernelCtx): void {
    this.#ctx = ctx;
  }

  get #k(): KernelCtx {
    if (this.#ctx === undefined) throw new TypeError("VdpaBus used before attach()");
    return this.#ctx;
  }

  /** Management devices in registration order. */
  get mgmtdevs(): readonly VdpaMgmtdev[] {
    return this.#mgmtdevs;
  }

  /** Devices in creation order. */
  get devices(): readonly VdpaBusDevice[] {
    return this.#devices;
  }

  /** Registered drivers in registration order. */
  get drivers(): readonly VdpaDriver[] {
    return this.#drivers;
  }

  /** A device by exact name. */
  device(name: string): VdpaBusDevice | undefined {
    return this.#devices.find((d) => d.name === name);
  }

  /**
   * `mgmtdev_handle_match`: with a bus name only devices on that bus match, without one
   * only bus-less (simulator) devices do.
   */
  findMgmtdev(bus: string | undefined, name: string): VdpaMgmtdev | undefined {
    return this.#mgmtdevs.find((m) => m.bus === bus && m.name === name);
  }

  /** vdpa_mgmtdev_register. */
  registerMgmtdev(m: VdpaMgmtdev): void {
    this.#mgmtdevs.push(m);
    this.#k.emit({ kind: "mgmtdev-register", mgmtdev: mgmtdevHandle(m) });
  }

  /** What would keep vdpa_mgmtdev_unregister from returning (an open vhost-vdpa file). */
  mgmtdevBlocker(m: VdpaMgmtdev): string | undefined {
    for (const d of this.#devices) {
      if (d.mgmtdev !== m) continue;
      const b = this.deviceBlocker(d);
      if (b !== undefined) return b;
    }
    return undefined;
  }

  /** vdpa_mgmtdev_unregister: deletes the management device's devices, then itself. */
  unregisterMgmtdev(m: VdpaMgmtdev): void {
    for (const d of [...this.#devices]) if (d.mgmtdev === m) this.#deleteDevice(d);
    this.#mgmtdevs.splice(this.#mgmtdevs.indexOf(m), 1);
    this.#k.emit({ kind: "mgmtdev-unregister", mgmtdev: mgmtdevHandle(m) });
  }

  /**
   * dev_add through a management device, then `_vdpa_register_device`: a name already on
   * the bus is -EEXIST (the parent's allocation is released), then device_add and, with
   * autoprobe, the first matching driver that probes successfully binds.
   */
  addDevice(
    m: VdpaMgmtdev,
    name: string,
    config: VdpaDevAddConfig,
  ): Result<VdpaBusDevice, VdpaOpError> {
    const created = m.parent.create(name, config);
    if (!created.ok) return created;
    if (this.device(name) !== undefined) {
      m.parent.release(created.value);
      return err({ errno: "EEXIST", reason: `a vdpa device named ${name} exists` });
    }
    const entry: VdpaBusDevice = {
      name,
      device: created.value,
      mgmtdev: m,
      path: `${m.devicesPath}/${name}`,
      driver: undefined,
      driverOverride: undefined,
      vhostMinor: undefined,
      virtio: undefined,
    };
    this.#devices.push(entry);
    this.#k.emit({ kind: "device-add", bus: "vdpa", device: name, parent: mgmtdevHandle(m) });
    if (this.autoprobe) this.#attach(entry);
    return ok(entry);
  }

  /** The open file that would block removing `d` from its driver, if any. */
  deviceBlocker(d: VdpaBusDevice): string | undefined {
    if (d.driver === "vhost_vdpa" && d.vhostMinor !== undefined) {
      const path = `/dev/vhost-vdpa-${d.vhostMinor}`;
      if (this.#k.dev.isOpen(path)) return path;
    }
    return undefined;
  }

  /** dev_del (`vdpa dev del`): -EBUSY with the blocking file when the driver cannot let go. */
  deleteDevice(
    name: string,
  ): Result<void, { readonly errno: "ENODEV" | "EBUSY"; readonly waitingFor?: string }> {
    const d = this.device(name);
    if (d === undefined) return err({ errno: "ENODEV" });
    const blocker = this.deviceBlocker(d);
    if (blocker !== undefined) return err({ errno: "EBUSY", waitingFor: blocker });
    this.#deleteDevice(d);
    return ok(undefined);
  }

  #deleteDevice(d: VdpaBusDevice): void {
    if (d.driver !== undefined) this.#remove(d);
    this.#devices.splice(this.#devices.indexOf(d), 1);
    this.#k.emit({ kind: "device-del", bus: "vdpa", device: d.name });
    d.mgmtdev.parent.release(d.device);
  }

  #matches(d: VdpaBusDevice, drv: VdpaDriver): boolean {
    // drivers/vdpa/vdpa.c vdpa_dev_match: an override names the only driver allowed
    return d.driverOverride === undefined || d.driverOverride === drv.name;
  }

  /** __device_attach: first matching driver whose probe succeeds. */
  #attach(d: VdpaBusDevice): void {
    for (const drv of this.#drivers) {
      if (d.driver !== undefined) return;
      if (!this.#matches(d, drv)) continue;
      this.#probe(d, drv);
    }
  }

  #probe(d: VdpaBusDevice, drv: VdpaDriver): Result<void, VdpaOpError> {
    const k = this.#k;
    const r = drv.name === "vhost_vdpa" ? this.#probeVhost(d) : this.#probeVirtio(d);
    if (!r.ok) {
      k.emit({
        kind: "probe-failed",
        bus: "vdpa",
        device: d.name,
        driver: drv.name,
        errno: r.error.errno,
      });
      k.log(
        "warn",
        `${drv.name}: probe of ${d.name} failed with error -${errnoNumber(r.error.errno)}`,
      );
      return r;
    }
    d.driver = drv.name;
    k.emit({ kind: "driver-bind", bus: "vdpa", device: d.name, driver: drv.name });
    return ok(undefined);
  }

  #probeVhost(d: VdpaBusDevice): Result<void, VdpaOpError> {
    const spec = d.device.spec;
    // drivers/vhost/vdpa.c vhost_vdpa_probe: several groups or address spaces need the
    // parent's own translation (set_map or dma_map)
    if (spec.dma === "platform" && (spec.ngroups > 1 || spec.nas > 1)) {
      return err({
        errno: "EOPNOTSUPP",
        reason: "multiple address spaces without set_map/dma_map",
      });
    }
    const minor = this.#minors.alloc();
    if (minor === undefined) return err({ errno: "ENOSPC", reason: "no vhost-vdpa minor left" });
    const major = this.#k.chrdevMajor(VHOST_VDPA_REGION) ?? 0;
    const child = `vhost-vdpa-${minor}`;
    this.#k.emit({ kind: "device-add", bus: "none", device: child, parent: d.name });
    const device = d.device;
    this.#k.dev.create({
      path: `/dev/${child}`,
      major,
      minor,
      mode: 0o600,
      group: "root",
      module: "vhost_vdpa",
      exclusive: true,
      target: { kind: "vhost-vdpa", vdpa: d.name, device },
      // vhost_vdpa_open resets the device before handing it out
      onOpen: () => device.reset(),
    });
    d.vhostMinor = minor;
    return ok(undefined);
  }

  #probeVirtio(d: VdpaBusDevice): Result<void, VdpaOpError> {
    d.virtio = this.#k.virtio.add(d);
    return ok(undefined);
  }

  /** The driver's remove, then the unbind uevent. */
  #remove(d: VdpaBusDevice): void {
    const k = this.#k;
    const drv = d.driver;
    if (drv === "vhost_vdpa" && d.vhostMinor !== undefined) {
      const child = `vhost-vdpa-${d.vhostMinor}`;
      k.dev.remove(`/dev/${child}`);
      k.emit({ kind: "device-del", bus: "none", device: child });
      this.#minors.free(d.vhostMinor);
      d.vhostMinor = undefined;
    } else if (drv === "virtio_vdpa" && d.virtio !== undefined) {
      k.virtio.remove(d.virtio);
      d.virtio = undefined;
    }
    d.driver = undefined;
    if (drv !== undefined) {
      k.emit({ kind: "driver-unbind", bus: "vdpa", device: d.name, driver: drv });
    }
  }

  /** __vdpa_register_driver: with autoprobe, binds every unbound matching device. */
  registerDriver(drv: VdpaDriver): void {
    this.#drivers.push(drv);
    this.#k.emit({ kind: "driver-register", bus: "vdpa", driver: drv.name });
    if (!this.autoprobe) return;
    for (const d of this.#devices) {
      if (d.driver === undefined && this.#matches(d, drv)) this.#probe(d, drv);
    }
  }

  /** What would block unregistering a driver (an open device of a bound device). */
  driverBlocker(name: string): string | undefined {
    for (const d of this.#devices) {
      if (d.driver !== name) continue;
      const b = this.deviceBlocker(d);
      if (b !== undefined) return b;
    }
    return undefined;
  }

  /** vdpa_unregister_driver: unbinds its devices. */
  unregisterDriver(name: string): void {
    for (const d of this.#devices) if (d.driver === name) this.#remove(d);
    const i = this.#drivers.findIndex((x) => x.name === name);
    if (i >= 0) this.#drivers.splice(i, 1);
    this.#k.emit({ kind: "driver-unregister", bus: "vdpa", driver: name });
  }

  /**
   * A PCI function's driver bound: every loaded module with a `vdpa-parent` registration
   * for that driver, named by the function's NIC model, registers `pci/<bdf>` (mlx5_core
   * creating its vnet auxiliary device that mlx5_vdpa probes; ifcvf probing directly).
   */
  attachHwParents(dev: PciDevice, onlyModule?: string): void {
    const k = this.#k;
    const spec = dev.model.vdpa;
    if (spec === undefined || dev.driver === undefined) return;
    const module = spec.parentModule;
    if (onlyModule !== undefined && module !== onlyModule) return;
    if (!k.modules.isLoaded(module)) return;
    const regs = k.modules.spec(module)?.registers ?? [];
    const isVf = dev.pf !== undefined;
    const wanted = regs.some((r) =>
      r.kind === "vdpa-parent" && r.pciDriver === dev.driver &&
      (r.functions === "any" || (r.functions === "vf") === isVf)
    );
    if (!wanted || this.findMgmtdev("pci", dev.bdf) !== undefined) return;
    const mtu = dev.netdev === undefined ? 1500 : k.net.get(dev.netdev)?.mtu ?? 1500;
    this.registerMgmtdev({
      bus: "pci",
      name: dev.bdf,
      module,
      parent: hwVdpaNetParent(spec, { mac: dev.mac, mtu, rid: dev.rid, bdf: dev.bdf }),
      devicesPath: dev.path,
      pciBdf: dev.bdf,
    });
  }

  /** The function's management device goes (its vDPA devices are deleted first). */
  detachHwParents(bdf: string, onlyModule?: string): void {
    for (const m of [...this.#mgmtdevs]) {
      if (m.pciBdf === bdf && (onlyModule === undefined || m.module === onlyModule)) {
        this.unregisterMgmtdev(m);
      }
    }
  }

  /** What would block removing a function's management device. */
  hwBlocker(bdf: string): string | undefined {
    for (const m of this.#mgmtdevs) {
      if (m.pciBdf !== bdf) continue;
      const b = this.mgmtdevBlocker(m);
      if (b !== undefined) return b;
    }
    return undefined;
  }

  /** drivers/<drv>/bind store. */
  bind(driver: string, data: string): Result<void, FsWriteError> {
    const drv = this.#drivers.find((x) => x.name === driver);
    const d = this.device(sysfsName(data));
    if (drv === undefined || d === undefined || !this.#matches(d, drv)) {
      return err({ errno: "ENODEV" });
    }
    if (d.driver !== undefined) return err({ errno: "EBUSY" });
    const r = this.#probe(d, drv);
    return r.ok ? ok(undefined) : err({ errno: r.error.errno });
  }

  /** drivers/<drv>/unbind store. */
  unbind(driver: string, data: string): Result<void, FsWriteError> {
    const d = this.device(sysfsName(data));
    if (d === undefined || d.driver !== driver) return err({ errno: "ENODEV" });
    const blocker = this.deviceBlocker(d);
    if (blocker !== undefined) return err({ errno: "EBUSY", waitingFor: blocker });
    this.#remove(d);
    return ok(undefined);
  }

  /** drivers_probe store: attach an unbound device; a device that matches nothing is fine. */
  driversProbe(data: string): Result<void, FsWriteError> {
    const d = this.device(sysfsName(data));
    if (d === undefined) return err({ errno: "ENODEV" });
    if (d.driver === undefined) this.#attach(d);
    return ok(undefined);
  }

  /** drivers_autoprobe store: "0…" disables, anything else enables (bus.c). */
  setAutoprobe(data: string): void {
    this.autoprobe = !data.startsWith("0");
    this.#k.emit({ kind: "autoprobe", bus: "vdpa", enabled: this.autoprobe });
  }

  /** devices/<dev>/driver_override store (driver_set_override); does not rebind. */
  setOverride(name: string, data: string): Result<void, FsWriteError> {
    const d = this.device(name);
    if (d === undefined) return err({ errno: "ENODEV" });
    const v = parseOverride(data);
    if (!v.ok) return v;
    d.driverOverride = v.value;
    this.#k.emit({ kind: "driver-override", bus: "vdpa", device: name, value: v.value ?? null });
    return ok(undefined);
  }
}

/**
 * driver_set_override (drivers/base/driver.c): at most PAGE_SIZE - 2 bytes; the value ends
 * at the first newline; empty clears.
 */
export function parseOverride(data: string): Result<string | undefined, FsWriteError> {
  if (data.length >= 4096 - 1) return err({ errno: "EINVAL" });
  const nl = data.indexOf("\n");
  const v = nl >= 0 ? data.slice(0, nl) : data;
  return ok(v === "" ? undefined : v);
}

/** sysfs_streq: a single trailing newline does not count. */
export function sysfsName(data: string): string {
  return data.endsWith("\n") ? data.slice(0, -1) : data;
}
