/**
 * devlink on mlx5 functions: the e-switch mode and PCI subfunctions (SFs), the real way to
 * get an `auxiliary/mlx5_core.sf.N` vDPA management device
 * (drivers/net/ethernet/mellanox/mlx5/core/sf/devlink.c, net/devlink/port.c,
 * Documentation/networking/device_drivers/ethernet/mellanox/mlx5):
 *
 * ```text
 * devlink dev eswitch set pci/0000:3b:00.0 mode switchdev      # SF ports need switchdev
 * devlink port add pci/0000:3b:00.0 flavour pcisf pfnum 0 sfnum 88
 *   → port pci/0000:3b:00.0/32768, function inactive, opstate detached
 * devlink port function set pci/0000:3b:00.0/32768 hw_addr 00:00:00:00:88:88 state active
 *   → auxiliary device mlx5_core.sf.N; with mlx5_vdpa, mgmtdev auxiliary/mlx5_core.sf.N
 * ```
 *
 * Every mlx5 core device (PF, VF or SF) takes an auxiliary index from one IDA
 * (`mlx5_adev_idx_alloc`), so with one PF the first SF is `mlx5_core.sf.1`. SF port indices
 * are the SF vport numbers, from 0x8000 (`mlx5_esw_vport_to_devlink_port_index` with vhca_id
 * 0); the uplink is 65535. The kernel's refusals keep their extack text.
 *
 * Simplifications, said here once: an SF's vDPA device reaches the wire through the port's
 * e-switch by its MAC, as VFs do (the lab installs no representor rules; switchdev mode
 * changes what devlink allows, not how frames are steered), and DMA uses the PF's routing
 * ID, as real SFs do. No SF netdev or RDMA device is created; the representor netdev is
 * (named as udev names it, `<pf>npf0sf88`), without a datapath of its own.
 *
 * @example
 * ```ts
 * import { sfPortIndex } from "./devlink.ts";
 * if (sfPortIndex(0) !== 32768) throw new Error("SF vports start at 0x8000");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { Errno } from "./errno.ts";
import type { HostError } from "./host_error.ts";
import { Ida } from "./ida.ts";
import type { KernelCtx } from "./kernel_ctx.ts";
import { type MacAddress, ZERO_MAC } from "./mac.ts";
import type { PciDevice } from "./pci.ts";
import { hwVdpaNetParent } from "../devices/hw_vdpa_net.ts";

/** The uplink port's index (MLX5_VPORT_UPLINK). */
export const UPLINK_PORT_INDEX = 0xffff;
/** The first SF vport number of PF 0 (the SF base id). */
const SF_VPORT_BASE = 0x8000;
/** SFs one PF can hold in the lab (max_num_sf of a ConnectX-6 Dx's default profile). */
const MAX_SFS = 256;

/** The devlink port index of the SF with software id `id`. */
export function sfPortIndex(id: number): number {
  return SF_VPORT_BASE + id;
}

/** E-switch modes (`devlink dev eswitch set … mode`). */
export type EswitchMode = "legacy" | "switchdev";

/** A subfunction's devlink port. */
export interface SfPort {
  /** The PF (`0000:3b:00.0`). */
  readonly pf: string;
  readonly index: number;
  readonly pfnum: number;
  readonly sfnum: number;
  /** The representor netdev. */
  readonly rep: string;
  hwAddr: MacAddress;
  state: "active" | "inactive";
  /** `mlx5_core.sf.N` while active. */
  aux: number | undefined;
}

/** A VF's devlink port in switchdev mode. */
export interface VfPort {
  readonly pf: string;
  readonly index: number;
  readonly pfnum: number;
  readonly vfnum: number;
  /** The representor netdev (`ens1f0pf0vf0`). */
  readonly rep: string;
  /** The VF's administrative address. */
  readonly hwAddr: MacAddress;
}

/** mlx5_get_dev_index: the PF's PCI function number. */
function pfnumOf(bdf: string): number {
  return Number(bdf.slice(-1));
}

/** What `devlink port add` asks for. */
export interface PortAddRequest {
  readonly flavour: string;
  readonly pfnum: number | undefined;
  readonly sfnum: number | undefined;
  readonly controller: number | undefined;
}

function mlx5(message: string): string {
  return `mlx5_core: ${message}`;
}

function refuse(errno: Errno, extack?: string): Result<never, HostError> {
  return err<HostError>({
    kind: "devlink",
    errno,
    ...(extack !== undefined ? { extack: mlx5(extack) } : {}),
  });
}

/** devlink instances, e-switch modes and SF ports of the host's mlx5 functions. */
export class Devlink {
  #k: KernelCtx | undefined;
  readonly #modes = new Map<string, EswitchMode>();
  readonly #ports: SfPort[] = [];
  readonly #adev = new Ida({ min: 0 });
  readonly #adevOf = new Map<string, number>();
  readonly #sfIds = new Map<string, Ida>();
  /** PF → its VFs' representor netdevs (switchdev mode), by VF index. */
  readonly #vfReps = new Map<string, string[]>();

  /** Joins the kernel (called once by it). */
  attach(k: KernelCtx): void {
    this.#k = k;
  }

  get #kernel(): KernelCtx {
    if (this.#k === undefined) throw new Error("Devlink used before attach");
    return this.#k;
  }

  /** PCI functions with a devlink instance: mlx5 functions bound to mlx5_core. */
  pciInstances(): PciDevice[] {
    return this.#kernel.pci.devices.filter((d) =>
      d.model.vdpa?.parentModule === "mlx5_vdpa" && d.driver === "mlx5_core"
    );
  }

  /** The PF behind `pci/<bdf>`, or the kernel's answer for a handle with no instance. */
  #pf(bdf: string): Result<PciDevice, HostError> {
    const d = this.pciInstances().find((x) => x.bdf === bdf);
    return d === undefined ? err({ kind: "devlink", errno: "ENODEV" }) : ok(d);
  }

  /**
   * Every devlink handle, as `devlink dev show` lists them: in registration order (the
   * devlinks xarray), which for mlx5 follows the core devices' auxiliary indices.
   */
  instances(): string[] {
    this.#indexPciFunctions();
    const pcis = this.pciInstances();
    const all: [number, string][] = pcis.map((d) => [this.#adevOf.get(d.bdf) ?? 0, `pci/${d.bdf}`]);
    for (const p of this.#ports) {
      if (p.aux !== undefined && pcis.some((d) => d.bdf === p.pf)) {
        all.push([p.aux, `auxiliary/mlx5_core.sf.${p.aux}`]);
      }
    }
    return all.sort((a, b) => a[0] - b[0]).map(([, h]) => h);
  }

  /** The e-switch mode of a PF (VFs have no e-switch: -EOPNOTSUPP). */
  mode(bdf: string): Result<EswitchMode, HostError> {
    const pf = this.#pf(bdf);
    if (!pf.ok) return pf;
    if (pf.value.pf !== undefined) return refuse("EOPNOTSUPP");
    return ok(this.#modes.get(bdf) ?? "legacy");
  }

  /**
   * `devlink dev eswitch set DEV mode M`. Back to legacy, the SF table is disabled and every
   * SF goes (`mlx5_sf_table_disable` → `mlx5_sf_deactivate_all`), unless one of their vDPA
   * devices is open: the real kernel would wait for it, the lab refuses.
   */
  setMode(bdf: string, mode: EswitchMode): Result<void, HostError> {
    const cur = this.mode(bdf);
    if (!cur.ok) return cur;
    if (cur.value === mode) return ok(undefined);
    if (mode === "legacy") {
      for (const p of this.#ports.filter((x) => x.pf === bdf)) {
        const b = this.#blocker(p);
        if (b !== undefined) return err({ kind: "devlink", errno: "EBUSY", waitingFor: b });
      }
      for (const p of [...this.#ports].filter((x) => x.pf === bdf)) this.#remove(p);
    }
    this.#modes.set(bdf, mode);
    this.#kernel.emit({ kind: "eswitch-mode", device: bdf, mode });
    this.vfsChanged(bdf);
    return ok(undefined);
  }

  /**
   * The PF's VFs changed (sriov_numvfs) or its mode did: in switchdev mode every VF has a
   * representor netdev and a `pcivf` devlink port (vport VF index + 1); in legacy none.
   */
  vfsChanged(bdf: string): void {
    const k = this.#kernel;
    const pf = k.pci.device(bdf);
    const have = this.#vfReps.get(bdf) ?? [];
    const want = pf !== undefined && (this.#modes.get(bdf) ?? "legacy") === "switchdev"
      ? pf.vfs.map((_, i) => `${pf.netdev ?? pf.portName ?? "eth"}pf${pfnumOf(bdf)}vf${i}`)
      : [];
    for (const name of have.filter((n) => !want.includes(n))) {
      if (k.net.get(name) !== undefined) k.net.remove(name);
    }
    for (const name of want.filter((n) => !have.includes(n))) {
      if (pf === undefined || k.net.get(name) !== undefined) continue;
      k.net.createHw(name, {
        kind: "vf",
        mac: k.net.randomMac(),
        mtu: 1500,
        minMtu: pf.model.mtu.min,
        maxMtu: pf.model.mtu.max,
        txQueues: 1,
        devicePath: pf.path,
      });
    }
    if (want.length > 0) this.#vfReps.set(bdf, want);
    else this.#vfReps.delete(bdf);
  }

  /** The `pcivf` ports of a PF in switchdev mode, in index order. */
  vfPorts(bdf: string): readonly VfPort[] {
    const pf = this.#kernel.pci.device(bdf);
    const reps = this.#vfReps.get(bdf) ?? [];
    return reps.map((rep, i) => ({
      pf: bdf,
      index: i + 1,
      pfnum: pfnumOf(bdf),
      vfnum: i,
      rep,
      hwAddr: this.#kernel.pci.device(pf?.vfs[i] ?? "")?.mac ?? ZERO_MAC,
    }));
  }

  /** SF ports, in port-index order per PF. */
  ports(pf?: string): readonly SfPort[] {
    return this.#ports.filter((p) => pf === undefined || p.pf === pf)
      .sort((a, b) => a.pf.localeCompare(b.pf) || a.index - b.index);
  }

  /** The SF port `index` of `pf`. */
  port(pf: string, index: number): SfPort | undefined {
    return this.#ports.find((p) => p.pf === pf && p.index === index);
  }

  /** `devlink port add DEV flavour pcisf pfnum N sfnum M` (mlx5_devlink_sf_port_new). */
  portAdd(bdf: string, req: PortAddRequest): Result<SfPort, HostError> {
    const pf = this.#pf(bdf);
    if (!pf.ok) return pf;
    // mlx5_sf_new_check_attr, in its order
    if (req.flavour !== "pcisf") {
      return refuse("EOPNOTSUPP", "Driver supports only SF port addition");
    }
    if (req.sfnum === undefined) {
      return refuse(
        "EOPNOTSUPP",
        "User must provide unique sfnum. Driver does not support auto assignment",
      );
    }
    if (req.controller !== undefined && req.controller !== 0) {
      return refuse("EOPNOTSUPP", "External controller is unsupported");
    }
    const pfnum = pfnumOf(bdf);
    if (req.pfnum !== pfnum) return refuse("EOPNOTSUPP", "Invalid pfnum supplied");
    if (pf.value.pf !== undefined || (this.#modes.get(bdf) ?? "legacy") !== "switchdev") {
      return refuse(
        "EOPNOTSUPP",
        "Port add is only supported in eswitch switchdev mode or SF ports are disabled.",
      );
    }
    if (this.#ports.some((p) => p.pf === bdf && p.sfnum === req.sfnum)) {
      return refuse("EEXIST", "SF already exist. Choose different sfnum");
    }
    let ids = this.#sfIds.get(bdf);
    if (ids === undefined) {
      ids = new Ida({ min: 0, max: MAX_SFS - 1 });
      this.#sfIds.set(bdf, ids);
    }
    const id = ids.alloc();
    if (id === undefined) return refuse("ENOSPC");
    const k = this.#kernel;
    const base = pf.value.netdev ?? pf.value.portName ?? "eth";
    const rep = `${base}npf${pfnum}sf${req.sfnum}`;
    k.net.createHw(k.net.get(rep) === undefined ? rep : k.net.allocName("eth"), {
      kind: "vf",
      mac: k.net.randomMac(),
      mtu: 1500,
      minMtu: pf.value.model.mtu.min,
      maxMtu: pf.value.model.mtu.max,
      txQueues: 1,
      devicePath: pf.value.path,
    });
    const port: SfPort = {
      pf: bdf,
      index: sfPortIndex(id),
      pfnum,
      sfnum: req.sfnum,
      rep,
      hwAddr: ZERO_MAC,
      state: "inactive",
      aux: undefined,
    };
    this.#ports.push(port);
    k.emit({ kind: "devlink-port-add", port: `pci/${bdf}/${port.index}`, sfnum: req.sfnum });
    return ok(port);
  }

  /** `devlink port del DEV/INDEX` (mlx5_devlink_sf_port_del): deactivates, then frees. */
  portDel(bdf: string, index: number): Result<void, HostError> {
    const pf = this.#pf(bdf);
    if (!pf.ok) return pf;
    if ((this.#modes.get(bdf) ?? "legacy") !== "switchdev") {
      return refuse(
        "EOPNOTSUPP",
        "Port del is only supported in eswitch switchdev mode or SF ports are disabled.",
      );
    }
    const p = this.port(bdf, index);
    if (p === undefined) return refuse("ENODEV");
    const b = this.#blocker(p);
    if (b !== undefined) return err({ kind: "devlink", errno: "EBUSY", waitingFor: b });
    this.#remove(p);
    return ok(undefined);
  }

  /**
   * `devlink port function set DEV/INDEX [hw_addr MAC] [state active|inactive]`: activation
   * enables the SF's HCA and adds its auxiliary device, which mlx5_core probes
   * and, with mlx5_vdpa loaded, registers as a vDPA management device.
   */
  functionSet(
    bdf: string,
    index: number,
    set: { readonly hwAddr?: MacAddress; readonly state?: "active" | "inactive" },
  ): Result<SfPort, HostError> {
    const pf = this.#pf(bdf);
    if (!pf.ok) return pf;
    const p = this.port(bdf, index);
    if (p === undefined) {
      // devlink core: a port index the instance does not have
      return err({ kind: "devlink", errno: "ENODEV" });
    }
    // the vport's address; an active SF's driver reads it at its next load
    if (set.hwAddr !== undefined) p.hwAddr = set.hwAddr;
    if (set.state === "active" && p.state === "inactive") {
      this.#indexPciFunctions();
      p.aux = this.#adev.alloc();
      p.state = "active";
      this.#kernel.emit({
        kind: "device-add",
        bus: "auxiliary",
        device: `mlx5_core.sf.${p.aux}`,
      });
      this.#attachParent(p);
    } else if (set.state === "inactive" && p.state === "active") {
      const b = this.#blocker(p);
      if (b !== undefined) return err({ kind: "devlink", errno: "EBUSY", waitingFor: b });
      this.#deactivate(p);
    }
    return ok(p);
  }

  /**
   * mlx5_core leaves a PCI function (unbind, VF removal): its devlink instance goes, and
   * with a PF its SFs (mlx5_sf_table_cleanup) and e-switch mode; its auxiliary index is free.
   */
  functionGone(bdf: string): void {
    for (const p of [...this.#ports].filter((x) => x.pf === bdf)) this.#remove(p);
    this.#modes.delete(bdf);
    this.vfsChanged(bdf);
    this.#sfIds.delete(bdf);
    const i = this.#adevOf.get(bdf);
    if (i !== undefined) {
      this.#adev.free(i);
      this.#adevOf.delete(bdf);
    }
  }

  /** mlx5_vdpa loaded: every active SF gets its management device. */
  attachSfParents(module: string): void {
    for (const p of this.#ports) if (p.aux !== undefined) this.#attachParent(p, module);
  }

  /** The management device name of an active SF (`mlx5_core.sf.1`). */
  static auxName(p: SfPort): string | undefined {
    return p.aux === undefined ? undefined : `mlx5_core.sf.${p.aux}`;
  }

  #attachParent(p: SfPort, onlyModule?: string): void {
    const k = this.#kernel;
    const name = Devlink.auxName(p);
    const pf = k.pci.device(p.pf);
    const spec = pf?.model.vdpa;
    if (name === undefined || pf === undefined || spec === undefined) return;
    const module = spec.parentModule;
    if (onlyModule !== undefined && module !== onlyModule) return;
    if (!k.modules.isLoaded(module) || k.vdpa.findMgmtdev("auxiliary", name) !== undefined) return;
    // the SF's address: hw_addr, or the zero address mlx5_vdpa then replaces at dev add
    k.vdpa.registerMgmtdev({
      bus: "auxiliary",
      name,
      module,
      parent: hwVdpaNetParent(spec, {
        mac: p.hwAddr,
        mtu: 1500,
        rid: pf.rid,
        bdf: pf.bdf,
      }),
      devicesPath: `${pf.path}/${name}`,
      // the SF is a slice of the PF: same PCI chain, same teardown when the PF goes
      pciBdf: pf.bdf,
    });
  }

  #blocker(p: SfPort): string | undefined {
    const name = Devlink.auxName(p);
    const md = name === undefined ? undefined : this.#kernel.vdpa.findMgmtdev("auxiliary", name);
    return md === undefined ? undefined : this.#kernel.vdpa.mgmtdevBlocker(md);
  }

  #deactivate(p: SfPort): void {
    const k = this.#kernel;
    const name = Devlink.auxName(p);
    if (name === undefined) return;
    const md = k.vdpa.findMgmtdev("auxiliary", name);
    if (md !== undefined) k.vdpa.unregisterMgmtdev(md);
    k.emit({ kind: "device-del", bus: "auxiliary", device: name });
    this.#adev.free(p.aux as number);
    p.aux = undefined;
    p.state = "inactive";
  }

  #remove(p: SfPort): void {
    this.#deactivate(p);
    const k = this.#kernel;
    if (k.net.get(p.rep) !== undefined) k.net.remove(p.rep);
    this.#sfIds.get(p.pf)?.free(p.index - SF_VPORT_BASE);
    this.#ports.splice(this.#ports.indexOf(p), 1);
    k.emit({ kind: "devlink-port-del", port: `pci/${p.pf}/${p.index}` });
  }

  /** mlx5 core devices bound to PCI functions hold the lower auxiliary indices. */
  #indexPciFunctions(): void {
    for (const d of this.pciInstances()) {
      if (this.#adevOf.has(d.bdf)) continue;
      const i = this.#adev.alloc();
      if (i !== undefined) this.#adevOf.set(d.bdf, i);
    }
  }
}
