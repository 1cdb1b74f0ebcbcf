/**
 * The /sys, /dev and /proc trees, computed from kernel state on every lookup, as the real
 * sysfs is a view of kobjects. Devices live under /sys/devices at their real paths; the
 * bus and class directories hold relative symlinks to them (`vdpa0 ->
 * ../../../devices/vdpa0`), and `driver`, `module`, `physfn`, `virtfnN`, `iommu_group`,
 * `master` and `device` links are relative too, computed from the link's real directory
 * the way sysfs_create_link does. Attribute files call into the buses for their show and
 * store methods.
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { Errno } from "./errno.ts";
import type { KernelCtx } from "./kernel_ctx.ts";
import { formatMac } from "./mac.ts";
import { ModuleTable } from "./modules.ts";
import type { Netdev } from "./netdev.ts";
import type { PciDevice } from "./pci.ts";
import { dir, file, type FsNode, type FsWriteError, link } from "./vfs.ts";

/** What the tree needs beyond the bus context. */
export interface SysfsSource extends KernelCtx {
  readonly release: string;
  /** The full kernel command line (/proc/cmdline). */
  procCmdline(): string;
  /** Online CPUs. */
  cpuCount(): number;
  /** Nodes kmod's static-nodes created at boot for modules not loaded yet. */
  staticNodes(): readonly {
    readonly reg: {
      readonly path: string;
      readonly minor: number;
      readonly mode: number;
      readonly group?: string;
    };
  }[];
}

type Entries = Map<string, Map<string, FsNode>>;

/** A relative link from directory `fromDir` to absolute `to`. */
export function relativeLink(fromDir: string, to: string): string {
  const a = fromDir.split("/").filter((c) => c !== "");
  const b = to.split("/").filter((c) => c !== "");
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...a.slice(i).map(() => ".."), ...b.slice(i)].join("/");
}

function put(entries: Entries, dirPath: string, name: string, node: FsNode): void {
  let m = entries.get(dirPath);
  if (m === undefined) {
    m = new Map();
    entries.set(dirPath, m);
  }
  m.set(name, node);
}

/** Makes sure every ancestor of `dirPath` exists as a directory entry. */
function ensureDir(entries: Entries, dirPath: string): void {
  if (!entries.has(dirPath)) entries.set(dirPath, new Map());
}

function ro(text: () => string): FsNode {
  return file(0o444, () => ok(text()));
}

function rw(text: () => string, store: (d: string) => Result<void, FsWriteError>): FsNode {
  return file(0o644, () => ok(text()), store);
}

function wo(store: (d: string) => Result<void, FsWriteError>): FsNode {
  return file(0o200, undefined, store);
}

function roErr(read: () => Result<string, Errno>): FsNode {
  return file(0o444, read);
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/** Turns a path → entries map into nested directories. */
function materialize(entries: Entries, path: string): FsNode {
  return dir(0o755, () => {
    const own = entries.get(path) ?? new Map<string, FsNode>();
    const out = new Map<string, FsNode>(own);
    const prefix = path === "/" ? "/" : `${path}/`;
    for (const p of entries.keys()) {
      if (!p.startsWith(prefix) || p === path) continue;
      const child = p.slice(prefix.length).split("/")[0] ?? "";
      if (child !== "" && !out.has(child)) {
        out.set(child, materialize(entries, `${prefix}${child}`));
      }
    }
    return out;
  });
}

/** Builds the root directory ("/" with sys, dev and proc). */
export function buildRoot(k: SysfsSource): FsNode {
  const e: Entries = new Map();
  ensureDir(e, "/sys/devices/virtual/net");
  ensureDir(e, "/sys/class/net");
  ensureDir(e, "/sys/kernel/iommu_groups");
  ensureDir(e, "/sys/module");
  ensureDir(e, "/sys/bus");
  ensureDir(e, "/dev");
  addCpu(e, k);
  addModules(e, k);
  addVdpa(e, k);
  addVirtio(e, k);
  addPci(e, k);
  addNet(e, k);
  addIommu(e, k);
  addDev(e, k);
  addProc(e, k);
  return materialize(e, "/");
}

function addCpu(e: Entries, k: SysfsSource): void {
  const n = k.cpuCount();
  const range = n === 1 ? "0\n" : `0-${n - 1}\n`;
  for (const f of ["online", "possible", "present"]) {
    put(
      e,
      "/sys/devices/system/cpu",
      f,
      ro(() => range),
    );
  }
}

function addModules(e: Entries, k: SysfsSource): void {
  for (const name of k.modules.names) {
    const spec = k.modules.spec(name);
    if (spec === undefined) continue;
    const loaded = k.modules.get(name);
    if (loaded === undefined && spec.builtin !== true) continue;
    const base = `/sys/module/${name}`;
    ensureDir(e, base);
    if (loaded !== undefined) {
      put(e, base, "refcnt", ro(() => `${k.modules.refcnt(name)}\n`));
      put(e, base, "initstate", ro(() => "live\n"));
      put(e, base, "uevent", wo(() => ok(undefined)));
      ensureDir(e, `${base}/holders`);
      for (const h of loaded.holders) put(e, `${base}/holders`, h, link(`../../${h}`));
    }
    const params = Object.entries(spec.params ?? {}).filter(([, p]) => p.perm !== 0);
    if (params.length > 0) ensureDir(e, `${base}/parameters`);
    for (const [p, def] of params) {
      const read = () => `${loaded?.params.get(p) ?? String(def.default)}\n`;
      if ((def.perm & 0o200) !== 0 && loaded !== undefined) {
        put(
          e,
          `${base}/parameters`,
          p,
          file(def.perm, () => ok(read()), (d) => {
            const v = ModuleTable.parseParamValue(def, d);
            if (v === undefined) return err({ errno: "EINVAL" });
            loaded.params.set(p, v);
            return ok(undefined);
          }),
        );
      } else put(e, `${base}/parameters`, p, file(def.perm & 0o444, () => ok(read())));
    }
  }
}

function busSkeleton(
  e: Entries,
  bus: string,
  autoprobe: () => boolean,
  setAutoprobe: (d: string) => void,
  probe: (d: string) => Result<void, FsWriteError>,
): void {
  const base = `/sys/bus/${bus}`;
  ensureDir(e, `${base}/devices`);
  ensureDir(e, `${base}/drivers`);
  put(
    e,
    base,
    "drivers_autoprobe",
    rw(() => `${autoprobe() ? 1 : 0}\n`, (d) => {
      setAutoprobe(d);
      return ok(undefined);
    }),
  );
  put(e, base, "drivers_probe", wo(probe));
  put(e, base, "uevent", wo(() => ok(undefined)));
}

function driverDir(
  e: Entries,
  bus: string,
  driver: string,
  module: string,
  bind: (d: string) => Result<void, FsWriteError>,
  unbind: (d: string) => Result<void, FsWriteError>,
  bound: readonly { readonly name: string; readonly path: string }[],
): void {
  const base = `/sys/bus/${bus}/drivers/${driver}`;
  put(e, base, "bind", wo(bind));
  put(e, base, "unbind", wo(unbind));
  put(e, base, "uevent", wo(() => ok(undefined)));
  put(e, base, "module", link(relativeLink(base, `/sys/module/${module}`)));
  for (const b of bound) put(e, base, b.name, link(relativeLink(base, b.path)));
}

function deviceCommon(
  e: Entries,
  path: string,
  bus: string,
  driver: string | undefined,
  override: { get: () => string | undefined; set: (d: string) => Result<void, FsWriteError> },
  uevent: () => string,
): void {
  put(e, path, "subsystem", link(relativeLink(path, `/sys/bus/${bus}`)));
  if (driver !== undefined) {
    put(e, path, "driver", link(relativeLink(path, `/sys/bus/${bus}/drivers/${driver}`)));
  }
  // driver_override_show prints "%s\n" of a NULL pointer as "(null)"
  put(e, path, "driver_override", rw(() => `${override.get() ?? "(null)"}\n`, override.set));
  put(e, path, "uevent", rw(() => uevent(), () => ok(undefined)));
}

function addVdpa(e: Entries, k: SysfsSource): void {
  const bus = k.vdpa;
  if (!bus.registered) return;
  busSkeleton(
    e,
    "vdpa",
    () => bus.autoprobe,
    (d) => bus.setAutoprobe(d),
    (d) => bus.driversProbe(d),
  );
  for (const drv of bus.drivers) {
    const bound = bus.devices.filter((d) => d.driver === drv.name).map((d) => ({
      name: d.name,
      path: d.path,
    }));
    driverDir(
      e,
      "vdpa",
      drv.name,
      drv.module,
      (d) => bus.bind(drv.name, d),
      (d) => bus.unbind(drv.name, d),
      bound,
    );
  }
  for (const m of bus.mgmtdevs) {
    // simulator management devices are root devices: /sys/devices/vdpasim_net
    if (m.bus === undefined) {
      put(
        e,
        `/sys/devices/${m.name}`,
        "uevent",
        rw(() => "", () => ok(undefined)),
      );
    }
  }
  for (const d of bus.devices) {
    put(e, "/sys/bus/vdpa/devices", d.name, link(relativeLink("/sys/bus/vdpa/devices", d.path)));
    deviceCommon(e, d.path, "vdpa", d.driver, {
      get: () => d.driverOverride,
      set: (v) => bus.setOverride(d.name, v),
    }, () => (d.driver !== undefined ? `DRIVER=${d.driver}\n` : ""));
    if (d.vhostMinor !== undefined) {
      const minor = d.vhostMinor;
      const child = `${d.path}/vhost-vdpa-${minor}`;
      const node = k.dev.get(`/dev/vhost-vdpa-${minor}`);
      put(e, child, "dev", ro(() => `${node?.major ?? 0}:${minor}\n`));
      put(
        e,
        child,
        "uevent",
        rw(
          () => `MAJOR=${node?.major ?? 0}\nMINOR=${minor}\nDEVNAME=vhost-vdpa-${minor}\n`,
          () => ok(undefined),
        ),
      );
    }
  }
}

function addVirtio(e: Entries, k: SysfsSource): void {
  const bus = k.virtio;
  busSkeleton(e, "virtio", () => true, () => {}, () => ok(undefined));
  for (const drv of bus.drivers) {
    const bound = bus.devices.filter((v) => v.driver === drv.name).map((v) => ({
      name: v.name,
      path: v.path,
    }));
    driverDir(
      e,
      "virtio",
      drv.name,
      drv.module,
      (d) => bus.bind(drv.name, d),
      (d) => bus.unbind(drv.name, d),
      bound,
    );
  }
  for (const v of bus.devices) {
    put(
      e,
      "/sys/bus/virtio/devices",
      v.name,
      link(relativeLink("/sys/bus/virtio/devices", v.path)),
    );
    put(e, v.path, "subsystem", link(relativeLink(v.path, "/sys/bus/virtio")));
    if (v.driver !== undefined) {
      put(e, v.path, "driver", link(relativeLink(v.path, `/sys/bus/virtio/drivers/${v.driver}`)));
    }
    const dev = v.device;
    put(e, v.path, "device", ro(() => `0x${hex(dev.deviceId, 4)}\n`));
    put(e, v.path, "vendor", ro(() => `0x${hex(dev.vendorId, 4)}\n`));
    put(e, v.path, "status", ro(() => `0x${hex(dev.getStatus(), 8)}\n`));
    // virtio.c features_show: one character per bit of the driver features, bit 0 first
    put(
      e,
      v.path,
      "features",
      ro(() => {
        const f = dev.getDriverFeatures();
        let s = "";
        for (let i = 0n; i < 64n; i++) s += (f >> i) & 1n ? "1" : "0";
        return `${s}\n`;
      }),
    );
    put(
      e,
      v.path,
      "modalias",
      ro(() => `virtio:d${hex(dev.deviceId, 8)}v${hex(dev.vendorId, 8)}\n`),
    );
    put(
      e,
      v.path,
      "uevent",
      rw(() => (v.driver !== undefined ? `DRIVER=${v.driver}\n` : ""), () => ok(undefined)),
    );
  }
}

function addPci(e: Entries, k: SysfsSource): void {
  const bus = k.pci;
  busSkeleton(
    e,
    "pci",
    () => bus.autoprobe,
    (d) => bus.setAutoprobe(d),
    (d) => bus.driversProbe(d),
  );
  put(e, "/sys/bus/pci", "rescan", wo(() => ok(undefined)));
  for (const drv of bus.drivers) {
    const bound = bus.devices.filter((d) => d.driver === drv.name).map((d) => ({
      name: d.bdf,
      path: d.path,
    }));
    driverDir(
      e,
      "pci",
      drv.name,
      drv.module,
      (d) => bus.bind(drv.name, d),
      (d) => bus.unbind(drv.name, d),
      bound,
    );
    const base = `/sys/bus/pci/drivers/${drv.name}`;
    put(e, base, "new_id", wo(() => err({ errno: "EINVAL" })));
    put(e, base, "remove_id", wo(() => err({ errno: "ENODEV" })));
  }
  for (const d of bus.devices) {
    put(e, "/sys/bus/pci/devices", d.bdf, link(relativeLink("/sys/bus/pci/devices", d.path)));
    pciDevice(e, k, d);
  }
}

function pciDevice(e: Entries, k: SysfsSource, d: PciDevice): void {
  const bus = k.pci;
  const isVf = d.pf !== undefined;
  const devId = isVf ? d.model.vfDeviceId : d.model.deviceId;
  deviceCommon(e, d.path, "pci", d.driver, {
    get: () => d.driverOverride,
    set: (v) => bus.setOverride(d.bdf, v),
  }, () => {
    const lines = [];
    if (d.driver !== undefined) lines.push(`DRIVER=${d.driver}`);
    lines.push(
      `PCI_CLASS=20000`,
      `PCI_ID=${hex(d.model.vendorId, 4).toUpperCase()}:${hex(devId, 4).toUpperCase()}`,
    );
    lines.push(`PCI_SLOT_NAME=${d.bdf}`);
    return lines.join("\n") + "\n";
  });
  put(e, d.path, "vendor", ro(() => `0x${hex(d.model.vendorId, 4)}\n`));
  put(e, d.path, "device", ro(() => `0x${hex(devId, 4)}\n`));
  put(e, d.path, "class", ro(() => "0x020000\n"));
  put(e, d.path, "numa_node", ro(() => "0\n"));
  put(
    e,
    d.path,
    "modalias",
    ro(() =>
      `pci:v0000${hex(d.model.vendorId, 4).toUpperCase()}d0000${
        hex(devId, 4).toUpperCase()
      }sv*sd*bc02sc00i00\n`
    ),
  );
  if (d.iommuGroup !== undefined) {
    put(
      e,
      d.path,
      "iommu_group",
      link(relativeLink(d.path, `/sys/kernel/iommu_groups/${d.iommuGroup}`)),
    );
  }
  if (isVf) {
    const pf = bus.device(d.pf ?? "");
    if (pf !== undefined) put(e, d.path, "physfn", link(relativeLink(d.path, pf.path)));
  } else {
    put(e, d.path, "sriov_totalvfs", ro(() => `${d.model.totalVfs}\n`));
    put(e, d.path, "sriov_numvfs", rw(() => `${d.vfs.length}\n`, (v) => bus.setNumVfs(d.bdf, v)));
    put(e, d.path, "sriov_offset", ro(() => `${d.model.firstVfOffset}\n`));
    put(e, d.path, "sriov_stride", ro(() => `${d.model.vfStride}\n`));
    put(e, d.path, "sriov_vf_device", ro(() => `${hex(d.model.vfDeviceId, 4)}\n`));
    put(
      e,
      d.path,
      "sriov_drivers_autoprobe",
      rw(() => `${d.sriovDriversAutoprobe ? 1 : 0}\n`, (v) => bus.setSriovAutoprobe(d.bdf, v)),
    );
    d.vfs.forEach((vfBdf, i) => {
      const vf = bus.device(vfBdf);
      if (vf !== undefined) put(e, d.path, `virtfn${i}`, link(relativeLink(d.path, vf.path)));
    });
  }
}

function netdevPath(dev: Netdev): string {
  return dev.devicePath !== undefined
    ? `${dev.devicePath}/net/${dev.name}`
    : `/sys/devices/virtual/net/${dev.name}`;
}

function addNet(e: Entries, k: SysfsSource): void {
  const net = k.net;
  for (const dev of net.list()) {
    const p = netdevPath(dev);
    put(e, "/sys/class/net", dev.name, link(relativeLink("/sys/class/net", p)));
    put(e, p, "subsystem", link(relativeLink(p, "/sys/class/net")));
    if (dev.devicePath !== undefined) put(e, p, "device", link(relativeLink(p, dev.devicePath)));
    put(e, p, "address", ro(() => `${formatMac(net.mac(dev))}\n`));
    put(
      e,
      p,
      "broadcast",
      ro(() => (dev.kind === "loopback" ? "00:00:00:00:00:00\n" : "ff:ff:ff:ff:ff:ff\n")),
    );
    put(e, p, "ifindex", ro(() => `${dev.ifindex}\n`));
    put(e, p, "iflink", ro(() => `${dev.ifindex}\n`));
    put(
      e,
      p,
      "type",
      ro(() => (dev.kind === "loopback" ? "772\n" : dev.kind === "tun" ? "65534\n" : "1\n")),
    );
    put(e, p, "tx_queue_len", ro(() => "1000\n"));
    put(e, p, "operstate", ro(() => `${net.operstate(dev)}\n`));
    put(e, p, "flags", ro(() => `0x${netFlags(dev, net.isRunning(dev)).toString(16)}\n`));
    // carrier_show: -EINVAL while the device is down
    put(
      e,
      p,
      "carrier",
      roErr(() => (dev.up ? ok(`${net.carrier(dev) ? 1 : 0}\n`) : err("EINVAL"))),
    );
    put(
      e,
      p,
      "mtu",
      rw(() => `${dev.mtu}\n`, (v) => {
        const n = Number.parseInt(v, 10);
        if (!/^\s*\d+\s*$/.test(v) || Number.isNaN(n)) return err({ errno: "EINVAL" });
        const r = net.setMtu(dev.name, n);
        return r.ok ? ok(undefined) : err({ errno: "EINVAL" });
      }),
    );
    if (dev.speedMbps !== undefined) {
      const speed = dev.speedMbps;
      put(e, p, "speed", roErr(() => (dev.up ? ok(`${speed}\n`) : err("EINVAL"))));
    }
    if (dev.kind === "tap" || dev.kind === "tun") {
      // drivers/net/tun.c tun_flags_show: IFF_TAP 0x2 / IFF_TUN 0x1, IFF_NO_PI 0x1000,
      // IFF_MULTI_QUEUE 0x100, IFF_VNET_HDR 0x4000
      const flags = (dev.kind === "tap" ? 0x2 : 0x1) | 0x1000 | (dev.multiQueue ? 0x100 : 0) |
        (dev.vnetHdr ? 0x4000 : 0);
      put(e, p, "tun_flags", ro(() => `0x${flags.toString(16)}\n`));
      put(e, p, "owner", ro(() => "-1\n"));
      put(e, p, "group", ro(() => "-1\n"));
    }
    if (dev.master !== undefined) {
      const master = net.get(dev.master);
      if (master !== undefined) {
        put(e, p, "master", link(relativeLink(p, netdevPath(master))));
        put(e, p, `upper_${master.name}`, link(relativeLink(p, netdevPath(master))));
        put(e, `${p}/brport`, "state", ro(() => (net.isRunning(dev) ? "3\n" : "0\n")));
      }
    }
    if (dev.kind === "bridge") {
      put(e, `${p}/bridge`, "stp_state", ro(() => "0\n"));
      ensureDir(e, `${p}/brif`);
      for (const port of net.ports(dev.name)) {
        put(
          e,
          `${p}/brif`,
          port.name,
          link(relativeLink(`${p}/brif`, `${netdevPath(port)}/brport`)),
        );
        put(e, p, `lower_${port.name}`, link(relativeLink(p, netdevPath(port))));
      }
    }
  }
}

/** dev_get_flags: IFF_UP 0x1, BROADCAST 0x2, LOOPBACK 0x8, RUNNING 0x40, MULTICAST 0x1000. */
export function netFlags(dev: Netdev, running: boolean): number {
  let f = dev.kind === "loopback" ? 0x8 : dev.kind === "tun" ? 0x10 | 0x80 : 0x2 | 0x1000;
  if (dev.up) f |= 0x1;
  if (running) f |= 0x40;
  return f;
}

function addIommu(e: Entries, k: SysfsSource): void {
  const iommu = k.iommu();
  if (!iommu.enabled) return;
  for (const g of k.pci.groups) {
    const base = `/sys/kernel/iommu_groups/${g}`;
    ensureDir(e, `${base}/devices`);
    put(e, base, "type", ro(() => (iommu.passthrough ? "identity\n" : "DMA-FQ\n")));
    put(e, base, "reserved_regions", ro(() => "0x00000000fee00000 0x00000000feefffff msi\n"));
    for (const d of k.pci.groupMembers(g)) {
      put(e, `${base}/devices`, d.bdf, link(relativeLink(`${base}/devices`, d.path)));
    }
  }
}

function addDev(e: Entries, k: SysfsSource): void {
  for (const { reg } of k.staticNodes()) {
    const slash = reg.path.lastIndexOf("/");
    put(e, reg.path.slice(0, slash), reg.path.slice(slash + 1), {
      type: "chr",
      mode: reg.mode,
      major: 10,
      minor: reg.minor,
      group: reg.group ?? "root",
    });
  }
  for (const n of k.dev.list()) {
    const slash = n.path.lastIndexOf("/");
    const parent = n.path.slice(0, slash);
    put(e, parent, n.path.slice(slash + 1), {
      type: "chr",
      mode: n.mode,
      major: n.major,
      minor: n.minor,
      group: n.group,
      ...(n.block === true ? { block: true } : {}),
    });
  }
}

function addProc(e: Entries, k: SysfsSource): void {
  put(e, "/proc", "cmdline", file(0o444, () => ok(`${k.procCmdline()}\n`), undefined, 0));
  put(e, "/proc", "modules", file(0o444, () => ok(procModules(k)), undefined, 0));
}

/** /proc/modules: name size refcnt holders, state, address (zeroed without CAP_SYSLOG). */
function procModules(k: SysfsSource): string {
  return k.modules.list().map((m) => {
    const holders = m.holders.length === 0 ? "-" : `${m.holders.join(",")},`;
    return `${m.name} ${m.spec.size} ${
      k.modules.refcnt(m.name)
    } ${holders} Live 0x0000000000000000\n`;
  }).join("");
}
