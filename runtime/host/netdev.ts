/**
 * Host network devices: loopback, tap/tun (`ip tuntap`), bridges and their ports, the
 * physical ports of `host nic`, VF netdevs and the host virtio netdev virtio_vdpa brings
 * up. Each has an ifindex (allocated increasing, never reused), a MAC, an MTU with the
 * driver's range (`dev_validate_mtu` messages), admin state, carrier as the driver would
 * report it, and a master. State changes emit events; carrier changes are derived (a tap
 * has carrier when a queue is attached, a bridge when a port is running).
 *
 * @example
 * ```ts
 * import { NetdevTable } from "./netdev.ts";
 * import { MacGenerator } from "./mac.ts";
 * const net = new NetdevTable(() => {}, new MacGenerator(7));
 * net.createTap("tap0", { multiQueue: false, vnetHdr: true });
 * const r = net.setMtu("tap0", 40);
 * if (r.ok || r.error.kind !== "rtnetlink" || r.error.extack !== "mtu less than device minimum") {
 *   throw new Error("range check");
 * }
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { HostError } from "./host_error.ts";
import type { HostEventSink } from "./host_event.ts";
import { isValidEtherAddr, type MacAddress, MacGenerator, sameMac, ZERO_MAC } from "./mac.ts";

/** What kind of device a netdev is. */
export type NetdevKind = "loopback" | "tap" | "tun" | "bridge" | "phys" | "vf" | "virtio";

/** A network device. */
export interface Netdev {
  readonly ifindex: number;
  readonly name: string;
  readonly kind: NetdevKind;
  /** The address it was created with (a bridge's own address when it has no ports). */
  ownMac: MacAddress;
  mtu: number;
  readonly minMtu: number;
  readonly maxMtu: number;
  up: boolean;
  /** Whether it was ever up (the qdisc stays attached after the first up). */
  everUp: boolean;
  master: string | undefined;
  readonly txQueues: number;
  /** tap/tun: queue file owners attached (carrier when non-empty). */
  readonly queues: string[];
  readonly multiQueue: boolean;
  readonly vnetHdr: boolean;
  /** Bridge: MTU set explicitly (stops auto-adjusting to the smallest port). */
  mtuSetByUser: boolean;
  /** phys/vf: link speed in Mb/s. */
  readonly speedMbps?: number;
  /** Real sysfs path of the device that owns `net/<name>` (absent for virtual devices). */
  readonly devicePath?: string;
  /** Driver-reported carrier for phys, vf and virtio devices. */
  carrierFn?: () => boolean;
}

/** Options for hardware-backed netdevs. */
export interface HwNetdevOptions {
  readonly kind: "phys" | "vf" | "virtio";
  readonly mac: MacAddress;
  readonly mtu: number;
  readonly minMtu: number;
  readonly maxMtu: number;
  readonly txQueues: number;
  readonly devicePath: string;
  readonly speedMbps?: number;
  readonly carrier?: () => boolean;
}

/** Devices a bridge may not take, with the kernel's answer (net/bridge/br_if.c br_add_if). */
function bridgeRefusal(port: Netdev, self: Netdev): HostError | undefined {
  if (port.kind === "bridge") {
    return { kind: "rtnetlink", errno: "ELOOP", extack: "Can not enslave a bridge to a bridge" };
  }
  if (
    port === self || port.kind === "loopback" || port.kind === "tun" ||
    !isValidEtherAddr(port.ownMac)
  ) {
    return { kind: "rtnetlink", errno: "EINVAL" };
  }
  return undefined;
}

/** The netdev table. */
export class NetdevTable {
  readonly #devs = new Map<string, Netdev>();
  readonly #emit: HostEventSink;
  readonly #macs: MacGenerator;
  #nextIfindex = 1;
  readonly #running = new Map<string, boolean>();

  /** Starts with `lo` (ifindex 1), as every network namespace does. */
  constructor(emit: HostEventSink, macs: MacGenerator) {
    this.#emit = emit;
    this.#macs = macs;
    this.#add({
      name: "lo",
      kind: "loopback",
      mac: ZERO_MAC,
      mtu: 65536,
      minMtu: 0,
      maxMtu: 0x7fffffff,
      txQueues: 1,
    });
  }

  #add(o: {
    name: string;
    kind: NetdevKind;
    mac: MacAddress;
    mtu: number;
    minMtu: number;
    maxMtu: number;
    txQueues: number;
    multiQueue?: boolean;
    vnetHdr?: boolean;
    speedMbps?: number;
    devicePath?: string;
    carrier?: () => boolean;
  }): Netdev {
    const dev: Netdev = {
      ifindex: this.#nextIfindex++,
      name: o.name,
      kind: o.kind,
      ownMac: o.mac,
      mtu: o.mtu,
      minMtu: o.minMtu,
      maxMtu: o.maxMtu,
      up: false,
      everUp: false,
      master: undefined,
      txQueues: o.txQueues,
      queues: [],
      multiQueue: o.multiQueue ?? false,
      vnetHdr: o.vnetHdr ?? false,
      mtuSetByUser: false,
      ...(o.speedMbps !== undefined ? { speedMbps: o.speedMbps } : {}),
      ...(o.devicePath !== undefined ? { devicePath: o.devicePath } : {}),
      ...(o.carrier !== undefined ? { carrierFn: o.carrier } : {}),
    };
    this.#devs.set(o.name, dev);
    this.#emit({ kind: "netdev-create", ifname: o.name, ifindex: dev.ifindex, type: o.kind });
    // lo comes up at boot
    if (o.kind === "loopback") {
      dev.up = true;
      dev.everUp = true;
    }
    this.#running.set(o.name, this.isRunning(dev));
    return dev;
  }

  /** A device by name. */
  get(name: string): Netdev | undefined {
    return this.#devs.get(name);
  }

  /** All devices in ifindex order. */
  list(): readonly Netdev[] {
    return [...this.#devs.values()].sort((a, b) => a.ifindex - b.ifindex);
  }

  /** The lowest free `prefix%d` name (dev_alloc_name). */
  allocName(prefix: string): string {
    for (let i = 0;; i++) {
      if (!this.#devs.has(`${prefix}${i}`)) return `${prefix}${i}`;
    }
  }

  /** A persistent tap or tun device (TUNSETIFF + TUNSETPERSIST), no queue attached. */
  createTap(
    name: string,
    o: { readonly multiQueue: boolean; readonly vnetHdr: boolean; readonly tun?: boolean },
  ): Netdev {
    return this.#add({
      name,
      kind: o.tun === true ? "tun" : "tap",
      mac: o.tun === true ? ZERO_MAC : this.#macs.next(),
      mtu: 1500,
      minMtu: 68,
      maxMtu: 65535,
      txQueues: 1,
      multiQueue: o.multiQueue,
      vnetHdr: o.vnetHdr,
    });
  }

  /** A bridge (`ip link add … type bridge`): random address, MTU 1500, no ports. */
  createBridge(name: string): Netdev {
    return this.#add({
      name,
      kind: "bridge",
      mac: this.#macs.next(),
      mtu: 1500,
      minMtu: 68,
      maxMtu: 65535,
      txQueues: 1,
    });
  }

  /** A hardware-backed netdev (PF, VF, host virtio_net). */
  createHw(name: string, o: HwNetdevOptions): Netdev {
    return this.#add({
      name,
      kind: o.kind,
      mac: o.mac,
      mtu: o.mtu,
      minMtu: o.minMtu,
      maxMtu: o.maxMtu,
      txQueues: o.txQueues,
      devicePath: o.devicePath,
      ...(o.speedMbps !== undefined ? { speedMbps: o.speedMbps } : {}),
      ...(o.carrier !== undefined ? { carrier: o.carrier } : {}),
    });
  }

  /** A random address for drivers that draw one (eth_hw_addr_random). */
  randomMac(): MacAddress {
    return this.#macs.next();
  }

  /** unregister_netdev: ports leave their bridge first; a bridge releases its ports. */
  remove(name: string): void {
    const dev = this.#devs.get(name);
    if (dev === undefined) throw new TypeError(`No netdev ${name}`);
    if (dev.kind === "bridge") {
      for (const p of this.ports(name)) this.#detach(p);
    }
    if (dev.master !== undefined) this.#detach(dev);
    if (dev.up) {
      dev.up = false;
      this.#emit({ kind: "link-down", ifname: name });
    }
    this.#devs.delete(name);
    this.#running.delete(name);
    this.#emit({ kind: "netdev-remove", ifname: name });
    this.sync();
  }

  /** The ports of a bridge, by ifindex. */
  ports(bridge: string): Netdev[] {
    return this.list().filter((d) => d.master === bridge);
  }

  /** The address a device reports: a bridge takes its lowest port address. */
  mac(dev: Netdev): MacAddress {
    if (dev.kind !== "bridge") return dev.ownMac;
    let best: MacAddress | undefined;
    for (const p of this.ports(dev.name)) {
      if (best === undefined || compareMac(p.ownMac, best) < 0) best = p.ownMac;
    }
    return best ?? dev.ownMac;
  }

  /** Driver carrier (netif_carrier_ok), regardless of admin state. */
  carrier(dev: Netdev): boolean {
    switch (dev.kind) {
      case "loopback":
        return true;
      case "tap":
      case "tun":
        return dev.queues.length > 0;
      case "bridge":
        return this.ports(dev.name).some((p) => this.isRunning(p));
      case "phys":
      case "vf":
      case "virtio":
        return dev.carrierFn?.() ?? true;
    }
  }

  /** IFF_UP and carrier: what `LOWER_UP` means in `ip link`. */
  isRunning(dev: Netdev): boolean {
    return dev.up && this.carrier(dev);
  }

  /** RFC 2863 operstate as the kernel reports it (`unknown` for drivers without link state). */
  operstate(dev: Netdev): "up" | "down" | "unknown" {
    if (!dev.up || !this.carrier(dev)) return "down";
    return dev.kind === "tap" || dev.kind === "tun" || dev.kind === "loopback" ? "unknown" : "up";
  }

  /** Emits carrier events for devices whose running state changed. */
  sync(): void {
    for (const dev of this.list()) {
      const now = this.isRunning(dev);
      const before = this.#running.get(dev.name);
      if (before !== now) {
        this.#running.set(dev.name, now);
        if (dev.up) this.#emit({ kind: "carrier", ifname: dev.name, on: now });
      }
    }
  }

  /** `ip link set dev X up|down`. */
  setUp(name: string, up: boolean): Result<void, HostError> {
    const dev = this.#devs.get(name);
    if (dev === undefined) return err({ kind: "ip-no-device", name });
    if (dev.up === up) return ok(undefined);
    dev.up = up;
    if (up) dev.everUp = true;
    this.#emit({ kind: up ? "link-up" : "link-down", ifname: name });
    this.#running.set(name, this.isRunning(dev));
    this.sync();
    return ok(undefined);
  }

  /** `ip link set dev X mtu N` (net/core/dev.c dev_validate_mtu). */
  setMtu(name: string, mtu: number): Result<void, HostError> {
    const dev = this.#devs.get(name);
    if (dev === undefined) return err({ kind: "ip-no-device", name });
    if (mtu < dev.minMtu) {
      return err({ kind: "rtnetlink", errno: "EINVAL", extack: "mtu less than device minimum" });
    }
    if (mtu > dev.maxMtu) {
      return err({ kind: "rtnetlink", errno: "EINVAL", extack: "mtu greater than device maximum" });
    }
    if (dev.kind === "bridge") dev.mtuSetByUser = true;
    this.#setMtu(dev, mtu);
    if (dev.master !== undefined) this.#autoMtu(dev.master);
    return ok(undefined);
  }

  #setMtu(dev: Netdev, mtu: number): void {
    if (dev.mtu === mtu) return;
    dev.mtu = mtu;
    this.#emit({ kind: "mtu-change", ifname: dev.name, mtu });
  }

  /** br_mtu_auto_adjust: a bridge follows its smallest port unless set by the user. */
  #autoMtu(bridge: string): void {
    const br = this.#devs.get(bridge);
    if (br === undefined || br.mtuSetByUser) return;
    const ports = this.ports(bridge);
    if (ports.length === 0) return;
    this.#setMtu(br, Math.min(...ports.map((p) => p.mtu)));
  }

  /** `ip link set dev X master BR` (do_set_master: leave the old master first). */
  setMaster(name: string, master: string): Result<void, HostError> {
    const dev = this.#devs.get(name);
    if (dev === undefined) return err({ kind: "ip-no-device", name });
    const br = this.#devs.get(master);
    if (br === undefined) {
      return err({ kind: "ip-bad-argument", argument: master, message: "Device does not exist" });
    }
    if (dev.master === master) return ok(undefined);
    // Only bridges implement ndo_add_slave here.
    if (br.kind !== "bridge") return err({ kind: "rtnetlink", errno: "EOPNOTSUPP" });
    const refusal = bridgeRefusal(dev, br);
    if (refusal !== undefined) return err(refusal);
    if (dev.master !== undefined) this.#detach(dev);
    dev.master = master;
    this.#emit({ kind: "master-change", ifname: name, master });
    this.#autoMtu(master);
    this.sync();
    return ok(undefined);
  }

  /** `ip link set dev X nomaster`. */
  setNoMaster(name: string): Result<void, HostError> {
    const dev = this.#devs.get(name);
    if (dev === undefined) return err({ kind: "ip-no-device", name });
    if (dev.master !== undefined) this.#detach(dev);
    this.sync();
    return ok(undefined);
  }

  #detach(dev: Netdev): void {
    const master = dev.master;
    dev.master = undefined;
    this.#emit({ kind: "master-change", ifname: dev.name, master: null });
    if (master !== undefined) this.#autoMtu(master);
  }

  /** A process attaches a queue to a tap (TUNSETIFF on an existing device): carrier on. */
  attachQueue(name: string, owner: string): Result<void, HostError> {
    const dev = this.#devs.get(name);
    if (dev === undefined || (dev.kind !== "tap" && dev.kind !== "tun")) {
      return err({ kind: "tuntap-ioctl", ioctl: "TUNSETIFF", errno: "EINVAL" });
    }
    // drivers/net/tun.c tun_attach: a single-queue device takes one file
    if (!dev.multiQueue && dev.queues.length > 0) {
      return err({ kind: "tuntap-ioctl", ioctl: "TUNSETIFF", errno: "EBUSY" });
    }
    dev.queues.push(owner);
    this.sync();
    return ok(undefined);
  }

  /** The queue's file closes. */
  detachQueue(name: string, owner: string): void {
    const dev = this.#devs.get(name);
    const i = dev?.queues.indexOf(owner) ?? -1;
    if (dev === undefined || i < 0) return;
    dev.queues.splice(i, 1);
    this.sync();
  }
}

function compareMac(a: MacAddress, b: MacAddress): number {
  for (let i = 0; i < 6; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Whether `mac` is in use by another device (for tests and lints). */
export function macInUse(table: NetdevTable, mac: MacAddress, except?: string): boolean {
  return table.list().some((d) => d.name !== except && sameMac(d.ownMac, mac));
}
