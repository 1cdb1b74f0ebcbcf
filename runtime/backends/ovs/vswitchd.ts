/**
 * `ovs-vswitchd` with DPDK (vswitchd/bridge.c, lib/dpdk.c, lib/netdev-dpdk.c) as a process of
 * the lab's host: it owns the OVSDB ({@link OvsDb}) that `ovs-vsctl` edits and, after every
 * committed transaction, reconfigures (bridge_reconfigure) — the way `ovs-vsctl` waits for it
 * unless `--no-wait`:
 *
 * - `other_config:dpdk-init=true` initialises DPDK once (EAL, then the PMD threads on
 *   `pmd-cpu-mask`, default: the lowest core);
 * - a bridge with `datapath_type=netdev` lives in the userspace datapath ({@link DpifNetdev});
 *   its own internal port is a tap the lab keeps down;
 * - an Interface of `type=dpdkvhostuser` is a vhost-user **server** socket at
 *   `<vhost-sock-dir>/<name>` (default /var/run/openvswitch); `type=dpdkvhostuserclient`
 *   **connects** to `options:vhost-server-path` and keeps retrying until QEMU listens there
 *   (rte_vhost's reconnect). Both run on rte_vhost with OVS's feature choices (no checksum or
 *   TSO offload unless `userspace-tso-enable`);
 * - what it cannot set up goes into the Interface's `error` column (what `ovs-vsctl show` and
 *   ovs-vsctl's "Error detected while setting up" print): a DPDK type without dpdk-init
 *   (`could not open network device X (Address family not supported by protocol)`), a DPDK
 *   type on a kernel bridge, a socket path already in use, a `type=dpdk` port whose
 *   `options:dpdk-devargs` device the PMD cannot use (`Error attaching device '…' to DPDK`).
 *   A `type=dpdk` port that attaches sends out of its physical port onto the wire.
 *
 * @example
 * ```ts
 * import { Lab } from "../../lab.ts";
 * import { OvsVswitchd } from "./vswitchd.ts";
 * const lab = new Lab({ hostCatalog: { modules: {}, nicModels: {} } });
 * const ovs = OvsVswitchd.of(lab);
 * const r = ovs.transact((tx) => {
 *   const b = tx.addBridge("br0", false);
 *   if (!b.ok) return b;
 *   tx.set("Bridge", "br0", "datapath_type", undefined, "netdev");
 *   const p = tx.addPort("br0", "vhu0", false);
 *   if (!p.ok) return p;
 *   return tx.set("Interface", "vhu0", "type", undefined, "dpdkvhostuser");
 * });
 * if (!r.ok || r.value[0]?.error !== "could not open network device vhu0 (Address family not supported by protocol)") {
 *   throw new Error("DPDK is not initialised");
 * }
 * ```
 *
 * @module
 */

import { ok, type Result } from "../../result.ts";
import type { Lab } from "../../lab.ts";
import {
  featureMask,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_HOST_ECN,
  VIRTIO_NET_F_HOST_UFO,
} from "../../virtio/features.ts";
import { NicPmdPort, nicProbeError } from "../dpdk/nic_pmd.ts";
import { VhostPmdPort } from "../dpdk/vhost_pmd.ts";
import { onGuestAnnounce } from "../vhost_user/guest_announce.ts";
import { socketsOf } from "../vhost_user/host_sockets.ts";
import type { EthPort } from "../dpdk/ethdev.ts";
import { DpifNetdev, type DpPort, OFPP_LOCAL } from "./dpif_netdev.ts";
import { OvsDb, type OvsdbError, type OvsInterface, type OvsTransaction } from "./ovsdb.ts";

/** The default `other_config:vhost-sock-dir` (OVS's rundir). */
export const OVS_RUNDIR = "/var/run/openvswitch";

/** OVS's vhost-user queue limit per port (OVS_VHOST_MAX_QUEUE_NUM). */
export const OVS_VHOST_MAX_QUEUE_NUM = 1024;

/** Interface types that need DPDK. */
const DPDK_TYPES = ["dpdk", "dpdkvhostuser", "dpdkvhostuserclient"];

/** An Interface whose `error` column changed in a reconfiguration. */
export interface InterfaceError {
  readonly iface: string;
  /** The new error, or undefined when it went away. */
  readonly error: string | undefined;
}

/** One netdev vswitchd opened. */
interface OpenNetdev {
  readonly key: string;
  readonly port: DpPort;
  readonly vhost: VhostPmdPort | undefined;
  /** Stops hearing the guest's announcements on the port's socket. */
  readonly unlisten?: () => void;
}

const DAEMONS = new WeakMap<object, OvsVswitchd>();

/** A version-4-shaped UUID from `seed` and `pid` (splitmix32 steps; no randomness). */
function seededUuid(seed: number, pid: number): string {
  let x = (seed ^ Math.imul(pid, 0x9e3779b9)) >>> 0;
  let hex = "";
  while (hex.length < 32) {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    hex += ((z ^ (z >>> 16)) >>> 0).toString(16).padStart(8, "0");
  }
  const v = ((parseInt(hex[16] as string, 16) & 3) | 8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${v}${hex.slice(17, 20)}-${
    hex.slice(20, 32)
  }`;
}

/** The lab's ovs-vswitchd; see the module documentation. */
export class OvsVswitchd {
  readonly db: OvsDb;
  readonly dp: DpifNetdev;
  /** ovs-vswitchd.log lines. */
  readonly log: string[] = [];
  /** The process name (owner of its sockets). */
  readonly name: string;
  #lab: Lab;
  #dpdk = false;
  #netdevs = new Map<string, OpenNetdev>();
  #ofports = new Map<string, number>();

  private constructor(lab: Lab) {
    this.#lab = lab;
    const pid = lab.allocPid();
    this.name = `ovs-vswitchd-${pid}`;
    // Listed for `show topology` and `kill`; its exit is not modelled (no terminate).
    lab.addProcess({ pid, command: "ovs-vswitchd", name: this.name });
    // The Open_vSwitch row's UUID, from the lab's seed and the pid (deterministic).
    this.db = new OvsDb({ uuid: seededUuid(lab.seed, pid) });
    this.dp = new DpifNetdev(lab);
  }

  /** The vswitchd of `lab` (started on first use, as `systemctl start openvswitch` would). */
  static of(lab: Lab): OvsVswitchd {
    let d = DAEMONS.get(lab);
    if (d === undefined) {
      d = new OvsVswitchd(lab);
      DAEMONS.set(lab, d);
    }
    return d;
  }

  /** The vswitchd of `lab` if one was started. */
  static find(lab: Lab): OvsVswitchd | undefined {
    return DAEMONS.get(lab);
  }

  /** True once DPDK is initialised. */
  get dpdkInitialized(): boolean {
    return this.#dpdk;
  }

  /**
   * Commits one ovs-vsctl transaction and reconfigures; returns the Interface errors that
   * changed (what ovs-vsctl reports after waiting for vswitchd).
   */
  transact(
    body: (tx: OvsTransaction) => Result<void, OvsdbError>,
  ): Result<InterfaceError[], OvsdbError> {
    const r = this.db.transact(body);
    if (!r.ok) return r;
    return ok(this.reconfigure());
  }

  /** bridge_reconfigure: makes the running state match the database. */
  reconfigure(): InterfaceError[] {
    const db = this.db;
    const before = new Map<string, string | undefined>();
    for (const b of db.bridges()) {
      for (const pn of b.ports) {
        for (const i of db.port(pn)?.interfaces ?? []) {
          before.set(i, this.#errors.get(i));
        }
      }
    }
    if (!this.#dpdk && db.otherConfig.get("dpdk-init") === "true") {
      this.#dpdk = true;
      this.log.push("dpdk|INFO|Using DPDK", "dpdk|INFO|DPDK Enabled - initialized");
    }
    if (this.#dpdk) this.dp.setPmdCores(this.#pmdCores());
    const wanted = new Set<string>();
    for (const b of db.bridges()) {
      for (const pn of b.ports) {
        for (const iname of db.port(pn)?.interfaces ?? []) {
          const i = db.iface(iname);
          if (i === undefined) continue;
          wanted.add(iname);
          this.#configure(b.name, b.datapathType, i);
        }
      }
    }
    for (const [name, nd] of [...this.#netdevs]) {
      if (wanted.has(name)) continue;
      this.#close(nd);
      this.#netdevs.delete(name);
      this.#errors.delete(name);
      this.#ofports.delete(name);
    }
    // Write back the status columns.
    for (const name of wanted) {
      const i = db.iface(name);
      if (i === undefined) continue;
      i.error = this.#errors.get(name);
      i.ofport = i.error === undefined ? this.#ofports.get(name) : -1;
    }
    const changed: InterfaceError[] = [];
    for (const name of wanted) {
      const now = this.#errors.get(name);
      if (before.get(name) !== now && now !== undefined) changed.push({ iface: name, error: now });
    }
    return changed;
  }

  #errors = new Map<string, string | undefined>();

  #pmdCores(): number[] {
    const mask = this.db.otherConfig.get("pmd-cpu-mask");
    const cores: number[] = [];
    if (mask !== undefined) {
      const v = BigInt(mask.startsWith("0x") ? mask : `0x${mask}`);
      for (let c = 0; c < 1024; c++) if ((v >> BigInt(c)) & 1n) cores.push(c);
    }
    const n = this.#lab.host.cpu.cores;
    const valid = cores.filter((c) => c < n);
    return valid.length > 0 ? valid : [0];
  }

  #ofport(bridge: string, name: string, type: string): number {
    let p = this.#ofports.get(name);
    if (p !== undefined) return p;
    if (type === "internal" && name === bridge) p = OFPP_LOCAL;
    else {
      const used = new Set(this.#ofports.values());
      p = 1;
      while (used.has(p)) p++;
    }
    this.#ofports.set(name, p);
    return p;
  }

  #configure(bridge: string, datapathType: string, i: OvsInterface): void {
    const name = i.name;
    const key = `${bridge}|${datapathType}|${i.type}|${[...i.options].sort().join(",")}`;
    const cur = this.#netdevs.get(name);
    if (cur !== undefined && cur.key === key) return;
    if (cur !== undefined) {
      this.#close(cur);
      this.#netdevs.delete(name);
    }
    this.#errors.delete(name);
    const dpdkType = DPDK_TYPES.includes(i.type);
    if (datapathType !== "netdev") {
      if (dpdkType) {
        // A DPDK netdev cannot go into the kernel datapath (dpif-netlink).
        this.#errors.set(
          name,
          `could not add network device ${name} to ofproto (Invalid argument)`,
        );
      } else {
        this.#ofport(bridge, name, i.type);
      }
      return;
    }
    if (dpdkType && !this.#dpdk) {
      // netdev_dpdk_construct without rte_eal_init: the netdev class is not registered.
      this.#errors.set(
        name,
        `could not open network device ${name} (Address family not supported by protocol)`,
      );
      return;
    }
    const ofport = this.#ofport(bridge, name, i.type);
    if (i.type === "dpdkvhostuser" || i.type === "dpdkvhostuserclient") {
      const client = i.type === "dpdkvhostuserclient";
      const dir = this.db.otherConfig.get("vhost-sock-dir");
      const path = client
        ? i.options.get("vhost-server-path")
        : `${dir === undefined ? OVS_RUNDIR : `${OVS_RUNDIR}/${dir}`}/${name}`;
      if (path === undefined) {
        // netdev_dpdk_vhost_client_reconfigure: nothing to connect to yet.
        this.log.push(`netdev_dpdk|INFO|${name}: vhost-server-path is not set: not connecting`);
        this.#netdevs.set(name, {
          key,
          port: this.#dpPort(name, bridge, ofport, i.type, undefined),
          vhost: undefined,
        });
        return;
      }
      const tso = this.db.otherConfig.get("userspace-tso-enable") === "true";
      const vhost = new VhostPmdPort(this.#lab, socketsOf(this.#lab), {
        id: ofport,
        spec: {
          name,
          iface: path,
          queues: OVS_VHOST_MAX_QUEUE_NUM,
          client,
          iommuSupport: this.db.otherConfig.get("vhost-iommu-support") === "true",
          postcopySupport: this.db.otherConfig.get("vhost-postcopy-support") === "true",
          tso,
        },
        owner: this.name,
        rxq: 1,
        txq: 1,
        // netdev_dpdk_vhost_client_reconfigure: without userspace TSO, no checksum offload
        // (and so none of the offloads that depend on it).
        disable: tso
          ? featureMask(VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_HOST_UFO)
          : featureMask(VIRTIO_NET_F_CSUM),
      });
      // The guest's link-up traffic through this port teaches the bridge its address (a
      // client port may connect, and the guest come up, as soon as it starts).
      const unlisten = onGuestAnnounce(this.#lab, path, (mac) => {
        this.dp.fdb(bridge).learn(mac as Uint8Array, 0, ofport);
      });
      const r = vhost.start();
      if (!r.ok) {
        unlisten();
        this.#errors.set(name, `could not open network device ${name} (Address already in use)`);
        return;
      }
      this.log.push(
        client
          ? `netdev_dpdk|INFO|vHost User device '${name}' created in 'client' mode, using client socket '${path}'`
          : `netdev_dpdk|INFO|Socket ${path} created for vhost-user port ${name}`,
      );
      this.#lab.control({
        comp: this.name,
        action: "note",
        details: { name: i.type, value: `${name} ofport ${ofport}`, socket: path },
      });
      const port = this.#dpPort(name, bridge, ofport, i.type, vhost);
      this.#netdevs.set(name, { key, port, vhost, unlisten });
      this.dp.addPort(port);
      return;
    }
    if (i.type === "dpdk") {
      // netdev_dpdk_process_devargs: the PCI device behind options:dpdk-devargs.
      const devargs = i.options.get("dpdk-devargs");
      if (devargs === undefined) {
        this.#errors.set(
          name,
          `'${name}' is missing 'options:dpdk-devargs'. The old 'dpdk<port_id>' names are not supported`,
        );
        return;
      }
      const bdf = devargs.split(",")[0] ?? devargs;
      const dev = this.#lab.host.pci.device(bdf);
      if (nicProbeError(dev, bdf) !== undefined || dev === undefined) {
        this.#errors.set(name, `Error attaching device '${devargs}' to DPDK`);
        return;
      }
      const nic = new NicPmdPort(this.#lab, dev, { id: ofport, rxq: 1, txq: 1 });
      this.log.push(`netdev_dpdk|INFO|Device '${devargs}' attached to DPDK`);
      const port = this.#dpPort(name, bridge, ofport, i.type, nic);
      this.#netdevs.set(name, { key, port, vhost: undefined });
      this.dp.addPort(port);
      return;
    }
    // internal (the bridge's tap, kept down) and system interfaces carry no simulated traffic.
    const port = this.#dpPort(name, bridge, ofport, i.type, undefined);
    this.#netdevs.set(name, { key, port, vhost: undefined });
    this.dp.addPort(port);
  }

  #dpPort(
    name: string,
    bridge: string,
    ofport: number,
    type: string,
    eth: EthPort | undefined,
  ): DpPort {
    return { name, bridge, ofport, type, eth, txDropped: 0 };
  }

  #close(nd: OpenNetdev): void {
    nd.unlisten?.();
    this.dp.delPort(nd.port.name);
    nd.vhost?.close();
  }

  /** The vhost-user port of Interface `name`, if it has one. */
  vhostPort(name: string): VhostPmdPort | undefined {
    return this.#netdevs.get(name)?.vhost;
  }

  /** Lines for `show`: DPDK state, ports, PMD threads, MAC tables. */
  describe(): string[] {
    const out = [`${this.name}: DPDK ${this.#dpdk ? "initialized" : "not initialized"}`];
    for (const [name, nd] of this.#netdevs) {
      const p = nd.port;
      out.push(
        `  ${p.bridge} ofport ${p.ofport}: ${name} (${p.type || "system"})${
          p.txDropped > 0 ? ` tx_dropped ${p.txDropped}` : ""
        }`,
      );
      if (nd.vhost !== undefined) { for (const l of nd.vhost.describe()) out.push(`    ${l}`); }
    }
    for (const l of this.dp.describe()) out.push(`  ${l}`);
    return out;
  }
}
