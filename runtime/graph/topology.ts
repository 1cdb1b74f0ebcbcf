/**
 * The lab's I/O topology as plain data, computed from the live {@link Lab}: the one model that
 * `show topology` (text), `show graph` (a terminal drawing), `export graph` (Graphviz DOT and
 * Mermaid) and their `--json` forms all render, so the views cannot disagree.
 *
 * The model is a set of **lanes**: one per consumer of a virtio device (a VM's guest interface,
 * a host `virtio_net` on `virtio_vdpa`) or per host component nothing above uses (a NIC port
 * of a bridge, an unused vDPA device). A lane lists its nodes top to bottom through the
 * {@link TOPO_LAYERS}: guest driver → virtqueues → device model or backend (QEMU userspace,
 * the vhost-net worker, a vhost-user PMD, vhost-vdpa, virtio_vdpa) → bus (vDPA bus, PCI) →
 * device (tap, vdpa_sim, NIC function) → switch (Linux bridge, OVS, testpmd: nodes shared by
 * the lanes they join) → NIC port → IOMMU → wire. Edges join consecutive nodes of a lane; the
 * one from the virtqueues to the backend names the notify and interrupt paths (`ioeventfd`,
 * `doorbell`, `polling`; `irqfd → posted`, `KVM_SIGNAL_MSI`), read off the backend's datapath
 * table so that the picture and the cost model cannot drift apart.
 *
 * Building the model reads the lab and changes nothing (no lazily created wire, IOMMU or
 * context), so `show` in a script never changes what the script does.
 *
 * @example An empty lab is just the host
 * ```ts
 * import { Lab } from "../lab.ts";
 * import { buildTopology } from "./topology.ts";
 * const lab = new Lab({ hostCatalog: { modules: {}, nicModels: {} } });
 * const t = buildTopology(lab);
 * if (t.lanes.length !== 0 || t.groups[0]?.id !== "host") throw new Error("just the host");
 * ```
 *
 * @module
 */

import type { Lab } from "../lab.ts";
import type { DatapathPath } from "../datapath/path_table.ts";
import type { NetBackend } from "../qemu/net_backend.ts";
import type { Vm } from "../qemu/vm.ts";
import type { NetdevSpec } from "../qemu/vm_spec.ts";
import type { GuestVirtioNet } from "../qemu/guest/virtio_net.ts";
import type { VdpaBusDevice } from "../host/vdpa_bus.ts";
import type { Netdev } from "../host/netdev.ts";
import { testpmdsOf } from "../backends/dpdk/testpmd.ts";
import { VhostPmdPort } from "../backends/dpdk/vhost_pmd.ts";
import { OVS_RUNDIR, OvsVswitchd } from "../backends/ovs/vswitchd.ts";
import { formatIpv4, formatMac } from "../traffic/address.ts";
import { VIRTIO_F_RING_PACKED } from "../virtio/features.ts";

/** The layers of the I/O stack, top (the guest) to bottom (the wire). */
export const TOPO_LAYERS = [
  "guest",
  "virtqueue",
  "backend",
  "bus",
  "device",
  "switch",
  "nic",
  "iommu",
  "wire",
] as const;

/** One layer of {@link TOPO_LAYERS}. */
export type TopoLayer = typeof TOPO_LAYERS[number];

/** A component of the I/O stack. */
export interface TopoNode {
  /** Stable id: `vm1.eth0`, `vm1.eth0/vqs`, `vm1/net0`, `tap0`, `br0`, `vdpa:vdpa0`, `wire`. */
  readonly id: string;
  readonly layer: TopoLayer;
  /** What it is: `virtio_net`, `vhost-net`, `tap`, `bridge`, `ovs-bridge`, `testpmd`, `nic` … */
  readonly kind: string;
  /** One line, as drawn in a box. */
  readonly label: string;
  /** More lines for `show topology`. */
  readonly details: readonly string[];
  /** The group it lives in: a VM's name, or `host`. */
  readonly group: string;
  /** False when it is down, closed, stopped or broken. */
  readonly up: boolean;
}

/** A connection between two nodes, upper to lower. */
export interface TopoEdge {
  readonly from: string;
  readonly to: string;
  /** How they talk (`kick: ioeventfd, irq: irqfd → posted`, `vhost-user /tmp/vu0`). */
  readonly label?: string;
}

/** A column of the drawing: one consumer's path down the stack. */
export interface TopoLane {
  readonly id: string;
  /** The group of its top node. */
  readonly group: string;
  /** Node ids, top to bottom (layers strictly increasing). */
  readonly nodes: readonly string[];
}

/** A VM or the host. */
export interface TopoGroup {
  /** The VM name, or `host`. */
  readonly id: string;
  readonly kind: "vm" | "host";
  /** One line: `vm1: qemu pid 4100, 2 vCPUs, 2 GiB RAM`. */
  readonly label: string;
  /** QEMU's pid. */
  readonly pid?: number;
}

/** A host process of the lab (what `kill` and `ps` see). */
export interface TopoProcess {
  readonly pid: number;
  /** The program (`qemu-system-x86_64`, `dpdk-testpmd`, `ovs-vswitchd`). */
  readonly command: string;
  /** What it is in the lab (`vm1`, `testpmd-4100`). */
  readonly name: string;
}

/** The whole model. */
export interface Topology {
  readonly groups: readonly TopoGroup[];
  readonly lanes: readonly TopoLane[];
  readonly nodes: readonly TopoNode[];
  readonly edges: readonly TopoEdge[];
  readonly processes: readonly TopoProcess[];
}

/** How a guest notify reaches a backend, read off its datapath table. */
export function kickPath(path: DatapathPath, hostNotifier: boolean): string {
  if (path.kick.length === 0) return "polling";
  if (hostNotifier || path.kick.some((s) => s.key === "hw_doorbell_mmio")) return "doorbell";
  if (path.kick.some((s) => s.key === "ioeventfd_signal")) {
    return path.kick.some((s) => s.role === "qemu") ? "ioeventfd → QEMU" : "ioeventfd";
  }
  return "vmexit";
}

/** How a used-buffer interrupt reaches the guest, read off its datapath table. */
export function interruptPath(path: DatapathPath): string {
  const steps = path.interrupt;
  if (steps.length === 0) return "polling";
  const posted = steps.some((s) => s.key === "irq_inject_posted");
  // The IRQ bypass: the device's MSI is remapped straight to the vCPU, no software hop.
  if (steps[0]?.role === "device") return posted ? "MSI → posted" : "MSI";
  // QEMU's own virtio_notify → msix_notify → KVM_SIGNAL_MSI ioctl.
  if (steps.some((s) => s.role === "qemu")) {
    return posted ? "KVM_SIGNAL_MSI → posted" : "KVM_SIGNAL_MSI";
  }
  return posted ? "irqfd → posted" : "irqfd";
}

/** Both paths, as the label of the virtqueue → backend edge. */
export function notifyLabel(b: Pick<NetBackend, "path" | "hostNotifier">): string {
  return `kick: ${kickPath(b.path, b.hostNotifier)}, irq: ${interruptPath(b.path)}`;
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

function ramText(bytes: number): string {
  return bytes >= 2 ** 30 && bytes % 2 ** 30 === 0
    ? `${bytes / 2 ** 30} GiB`
    : `${Math.round(bytes / 2 ** 20)} MiB`;
}

function gbps(mbps: number | undefined): string {
  return mbps === undefined ? "" : ` ${mbps / 1000} Gbit/s`;
}

const ROOT_LAYER: Readonly<Record<TopoLayer, number>> = Object.fromEntries(
  TOPO_LAYERS.map((l, i) => [l, i]),
) as Record<TopoLayer, number>;

/** The index of `layer` in {@link TOPO_LAYERS}. */
export function layerIndex(layer: TopoLayer): number {
  return ROOT_LAYER[layer];
}

/** Reads the lab into a {@link Topology}; see the module documentation. */
export function buildTopology(lab: Lab): Topology {
  return new Builder(lab).build();
}

type NodeInit = Omit<TopoNode, "details" | "up" | "group"> & {
  readonly details?: readonly string[];
  readonly up?: boolean;
  readonly group?: string;
};

class Builder {
  readonly #lab: Lab;
  readonly #nodes = new Map<string, TopoNode>();
  readonly #lanes: TopoLane[] = [];
  readonly #edgeLabels = new Map<string, string>();
  /** Nodes already in some lane. */
  readonly #placed = new Set<string>();
  /** vhost-user socket paths a guest lane reaches. */
  readonly #connectedSockets = new Set<string>();

  constructor(lab: Lab) {
    this.#lab = lab;
  }

  build(): Topology {
    const lab = this.#lab;
    const groups: TopoGroup[] = [];
    for (const vm of lab.vms) {
      const shared = vm.mem.regions().some((r) => r.shared) ? " (shared)" : "";
      groups.push({
        id: vm.name,
        kind: "vm",
        label: `${vm.name}: qemu pid ${vm.pid}, ${plural(vm.vcpus.length, "vCPU")}, ${
          ramText(vm.spec.ramSize)
        } RAM${shared}${vm.viommu !== undefined ? `, vIOMMU ${vm.viommu.config.model}` : ""}`,
        pid: vm.pid,
      });
    }
    const cpu = lab.host.cpu;
    const iommu = lab.host.iommu();
    groups.push({
      id: "host",
      kind: "host",
      label: `host: ${plural(cpu.cores, "core")} at ${cpu.ghz} GHz, IOMMU ${
        iommu.enabled ? (iommu.passthrough ? "on (passthrough)" : "on") : "off"
      }`,
    });
    for (const vm of lab.vms) this.#vmLanes(vm);
    this.#hostConsumerLanes();
    this.#switchLanes();
    this.#leftovers();
    const edges: TopoEdge[] = [];
    const seen = new Set<string>();
    for (const lane of this.#lanes) {
      for (let i = 0; i + 1 < lane.nodes.length; i++) {
        const from = lane.nodes[i] as string;
        const to = lane.nodes[i + 1] as string;
        const key = `${from}\u0000${to}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const label = this.#edgeLabels.get(key);
        edges.push({ from, to, ...(label !== undefined ? { label } : {}) });
      }
    }
    return {
      groups,
      lanes: this.#lanes,
      nodes: [...this.#nodes.values()],
      edges,
      processes: this.#processes(),
    };
  }

  // -- helpers --------------------------------------------------------------------------------

  #node(n: NodeInit): string {
    if (!this.#nodes.has(n.id)) {
      this.#nodes.set(n.id, {
        id: n.id,
        layer: n.layer,
        kind: n.kind,
        label: n.label,
        details: n.details ?? [],
        group: n.group ?? "host",
        up: n.up ?? true,
      });
    }
    return n.id;
  }

  #label(from: string, to: string, label: string): void {
    this.#edgeLabels.set(`${from}\u0000${to}`, label);
  }

  #lane(id: string, group: string, nodes: readonly string[]): void {
    // Layers must go down the stack; a lane that would climb is cut where it turns.
    const kept: string[] = [];
    let last = -1;
    for (const n of nodes) {
      const layer = ROOT_LAYER[(this.#nodes.get(n) as TopoNode).layer];
      if (layer <= last) break;
      kept.push(n);
      last = layer;
    }
    if (kept.length === 0) return;
    for (const n of kept) this.#placed.add(n);
    this.#lanes.push({ id, group, nodes: kept });
  }

  // -- VMs ------------------------------------------------------------------------------------

  #vmLanes(vm: Vm): void {
    for (const g of vm.guestNics) this.#guestLane(vm, g);
    // Passthrough devices were realized in command-line order: the n-th is the n-th spec.
    const vfioSpecs = vm.spec.devices.filter((s) => s.kind === "vfio-pci");
    let vfio = 0;
    for (const d of vm.devices) {
      const spec = d.kind === "vfio-pci" ? vfioSpecs[vfio++] : undefined;
      if (d.ifname === undefined) continue;
      const id = `${vm.name}.${d.ifname}`;
      const guest = this.#node({
        id,
        layer: "guest",
        kind: d.kind,
        label: `${id} (${d.kind})`,
        details: d.describe(),
        group: vm.name,
      });
      const host = spec?.kind === "vfio-pci" ? spec.host : undefined;
      // `host=3b:00.2` names domain 0000, as QEMU reads it.
      const bdf = host !== undefined && /^[0-9a-f]{2}:/i.test(host) ? `0000:${host}` : host;
      const rest = bdf !== undefined ? this.#pciChain(bdf, "vfio-pci") : [];
      // Passthrough: the guest's driver writes the VF's doorbell in its BAR (mapped, no exit)
      // and the VF's MSI-X is posted to the vCPU through the IRQ bypass.
      if (rest[0] !== undefined) {
        this.#label(guest, rest[0], "kick: doorbell (BAR), irq: MSI → posted");
      }
      this.#lane(id, vm.name, [guest, ...rest]);
    }
  }

  #guestLane(vm: Vm, g: GuestVirtioNet): void {
    const dev = g.dev;
    const packed = (dev.status.negotiated & (1n << BigInt(VIRTIO_F_RING_PACKED))) !== 0n;
    const guest = this.#node({
      id: g.name,
      layer: "guest",
      kind: "virtio_net",
      label: `${g.name} virtio_net`,
      details: [
        `${formatMac(g.mac)} ${formatIpv4(g.ip)} mtu ${g.mtu}, ${plural(g.pairs, "queue pair")}, ${
          packed ? "packed" : "split"
        } rings${g.up ? "" : ", down"}`,
        ...(g.probeError !== undefined ? [`probe failed: ${g.probeError}`] : []),
      ],
      group: vm.name,
      up: g.up,
    });
    const names: string[] = [];
    for (let k = 0; k < g.pairs; k++) names.push(`rx${k}`, `tx${k}`);
    if (g.queue("ctrl") !== undefined) names.push("ctrl");
    const sizes = [...new Set(names.map((n) => g.queue(n)?.size).filter((s) => s !== undefined))];
    const vqs = this.#node({
      id: `${g.name}/vqs`,
      layer: "virtqueue",
      kind: "virtqueues",
      label: names.length > 0
        ? `virtqueues ${names.join(" ")} (${packed ? "packed" : "split"}, ${sizes.join("/")})`
        : "virtqueues (none)",
      details: [`virtio-net-pci status ${dev.status.describe()}`],
      group: vm.name,
      up: !dev.needsReset,
    });
    const b = dev.backend;
    if (b === undefined) {
      const none = this.#node({
        id: `${g.name}/nolink`,
        layer: "backend",
        kind: "none",
        label: "no netdev (no link)",
        group: vm.name,
        up: false,
      });
      this.#lane(g.name, vm.name, [guest, vqs, none]);
      return;
    }
    const nd = vm.spec.netdevs.find((n) => n.id === b.id);
    const backend = this.#node({
      id: `${vm.name}/${b.id}`,
      layer: "backend",
      kind: b.label,
      label: this.#backendLabel(vm, b, nd),
      details: [
        (b.describe()[0] ?? "").trim(),
        `datapath ${b.path.name}: copies tx ${b.path.copies.tx} rx ${b.path.copies.rx}, QEMU in path: ${
          b.path.qemuInPath ? "yes" : "no"
        }`,
      ],
      group: b.path.qemuInPath || b.type === "user" ? vm.name : "host",
    });
    this.#label(vqs, backend, notifyLabel(b));
    const below = this.#backendChain(b, nd, backend);
    this.#lane(g.name, vm.name, [guest, vqs, backend, ...below]);
  }

  #backendLabel(vm: Vm, b: NetBackend, nd: NetdevSpec | undefined): string {
    switch (b.label) {
      case "vhost-net":
        return `vhost-net: worker vhost-${vm.pid}`;
      case "qemu-tap":
        return `QEMU userspace on ${vm.qemu.name}`;
      case "slirp":
        return `QEMU slirp on ${vm.qemu.name}`;
    }
    if (nd?.kind === "vhost-user") {
      const peer = this.#vhostUserPeer(nd.chardev.path ?? "");
      return peer ? `vhost-user → ${peer.port} PMD` : "vhost-user (no back-end)";
    }
    if (nd?.kind === "vhost-vdpa") return `vhost-vdpa ${nd.vhostdev}`;
    return b.label;
  }

  /** The nodes below a guest's backend, down to the first shared node or the wire. */
  #backendChain(b: NetBackend, nd: NetdevSpec | undefined, backend: string): string[] {
    if (b.hostNetdev !== undefined) {
      const chain = this.#netdevChain(b.hostNetdev);
      const first = chain[0];
      if (first !== undefined) {
        this.#label(
          backend,
          first,
          b.label === "vhost-net" ? "tun_sendmsg / tun_recvmsg" : "writev / read on the tap fd",
        );
      }
      return chain;
    }
    if (nd?.kind === "vhost-user") {
      const path = nd.chardev.path ?? "";
      this.#connectedSockets.add(path);
      const peer = this.#vhostUserPeer(path);
      if (peer === undefined) {
        const lone = this.#node({
          id: `sock:${path}`,
          layer: "switch",
          kind: "socket",
          label: `${path} (no back-end listening)`,
          up: false,
        });
        this.#label(backend, lone, "vhost-user socket");
        return [lone];
      }
      this.#label(backend, peer.node, path);
      return [peer.node];
    }
    if (nd?.kind === "vhost-vdpa") {
      const d = this.#lab.host.vdpa.devices.find((x) =>
        x.vhostMinor !== undefined && `/dev/vhost-vdpa-${x.vhostMinor}` === nd.vhostdev
      );
      if (d === undefined) return [];
      const chain = this.#vdpaChain(d);
      const first = chain[0];
      if (first !== undefined) this.#label(backend, first, "vhost-vdpa ioctls → vdpa_config_ops");
      return chain;
    }
    return [];
  }

  // -- host network ---------------------------------------------------------------------------

  #netdevNode(d: Netdev): string {
    const net = this.#lab.host.net;
    const running = net.isRunning(d);
    const state = d.up ? (running ? "" : " (no carrier)") : " (down)";
    switch (d.kind) {
      case "bridge":
        return this.#node({
          id: d.name,
          layer: "switch",
          kind: "bridge",
          label: `${d.name} Linux bridge${d.up ? "" : " (down)"}`,
          details: [
            `ports ${
              net.ports(d.name).map((p) => `${p.name}${net.isRunning(p) ? "" : " (down)"}`)
                .join(", ") || "none"
            }`,
          ],
          up: d.up,
        });
      case "phys":
      case "vf": {
        const pci = this.#lab.host.pci.devices.find((p) => p.netdev === d.name);
        const vf = pci?.pf !== undefined ? ` VF ${pci.vfIndex ?? "?"}` : "";
        return this.#node({
          id: d.name,
          layer: "nic",
          kind: d.kind === "vf" ? "vf" : "nic",
          label: `${d.name}${pci ? ` ${pci.modelName}${vf}` : ""}${gbps(d.speedMbps)}${state}`,
          details: pci ? [`PCI ${pci.bdf} (${pci.driver ?? "no driver"})`] : [],
          up: running,
        });
      }
      default:
        return this.#node({
          id: d.name,
          layer: "device",
          kind: d.kind,
          label: `${d.name} ${d.kind}${state}`,
          details: [
            `mtu ${d.mtu}${d.vnetHdr ? ", vnet_hdr" : ""}${d.multiQueue ? ", multi_queue" : ""}${
              d.queues.length > 0 ? `, open by ${[...new Set(d.queues)].join(", ")}` : ""
            }`,
          ],
          up: running,
        });
    }
  }

  /** A netdev, then its bridge (where lanes meet); a physical port goes on to its wire. */
  #netdevChain(name: string): string[] {
    const net = this.#lab.host.net;
    const d = net.get(name);
    if (d === undefined) return [];
    const out = [this.#netdevNode(d)];
    if (d.kind === "phys") {
      const w = this.#wireNode(d);
      if (w !== undefined) out.push(w);
      return out;
    }
    const master = d.master !== undefined ? net.get(d.master) : undefined;
    if (master !== undefined) out.push(this.#netdevNode(master));
    return out;
  }

  #wireNode(port: Netdev): string | undefined {
    const name = this.#lab.net.wireName(port.name);
    if (name === undefined) return undefined;
    return this.#node({
      id: name,
      layer: "wire",
      kind: "wire",
      label: `${name}${gbps(port.speedMbps)} (peer of ${port.name})`,
    });
  }

  // -- vDPA and PCI ---------------------------------------------------------------------------

  #vdpaChain(d: VdpaBusDevice): string[] {
    const to = d.driver === "vhost_vdpa" && d.vhostMinor !== undefined
      ? `vhost_vdpa → /dev/vhost-vdpa-${d.vhostMinor}`
      : d.driver === "virtio_vdpa" && d.virtio !== undefined
      ? `virtio_vdpa → ${d.virtio}`
      : d.driver ?? "no driver";
    const bus = this.#node({
      id: `vdpa:${d.name}`,
      layer: "bus",
      kind: "vdpa-bus",
      label: `vDPA bus: ${d.name} → ${to}`,
      details: [`mgmtdev ${d.mgmtdev.bus ? `${d.mgmtdev.bus}/` : ""}${d.mgmtdev.name}`],
      up: d.driver !== undefined,
    });
    const bdf = d.mgmtdev.pciBdf;
    if (bdf !== undefined) {
      const rest = this.#pciChain(bdf, undefined);
      return [bus, ...rest];
    }
    const isNet = d.mgmtdev.name.includes("net");
    const dev = this.#node({
      id: `dev:${d.name}`,
      layer: "device",
      kind: d.mgmtdev.name,
      label: `${d.mgmtdev.name} (${d.device.spec.nvqs} vqs)`,
      details: [`module ${d.mgmtdev.module}`],
    });
    // vdpa_sim reaches guest memory through its own software IOTLB, not the platform IOMMU.
    const iotlb = this.#node({
      id: `iotlb:${d.name}`,
      layer: "iommu",
      kind: "iotlb",
      label: "vdpa_sim IOTLB (software)",
    });
    if (!isNet) return [bus, dev, iotlb];
    const loop = this.#node({
      id: `loop:${d.name}`,
      layer: "wire",
      kind: "loopback",
      label: "loopback (tx → rx, MAC filter)",
    });
    return [bus, dev, iotlb, loop];
  }

  /** A PCI function, the platform IOMMU its DMA goes through, and its port's wire. */
  #pciChain(bdf: string, via: string | undefined): string[] {
    const host = this.#lab.host;
    const dev = host.pci.device(bdf);
    const out: string[] = [];
    if (via !== undefined) {
      out.push(this.#node({
        id: `pcibus:${bdf}`,
        layer: "bus",
        kind: "pci",
        label: `PCI ${bdf} → ${dev?.driver ?? via}`,
      }));
    }
    if (dev === undefined) return out;
    const isVf = dev.pf !== undefined;
    out.push(this.#node({
      id: `pci:${bdf}`,
      layer: "device",
      kind: isVf ? "vf" : "pf",
      label: `${dev.modelName} ${isVf ? `VF ${dev.vfIndex ?? "?"}` : "PF"} ${bdf}`,
      details: [
        `driver ${dev.driver ?? "none"}${
          dev.iommuGroup !== undefined ? `, IOMMU group ${dev.iommuGroup}` : ""
        }`,
      ],
    }));
    const st = host.iommu();
    out.push(this.#node({
      id: "iommu",
      layer: "iommu",
      kind: "iommu",
      label: st.enabled ? `IOMMU${st.passthrough ? " (passthrough)" : ""}` : "no IOMMU (DMA to PA)",
      up: st.enabled,
    }));
    const pf = isVf ? host.pci.device(dev.pf as string) : dev;
    const port = pf?.netdev !== undefined ? host.net.get(pf.netdev) : undefined;
    if (port !== undefined) {
      const w = this.#wireNode(port);
      if (w !== undefined) out.push(w);
    }
    return out;
  }

  // -- host consumers, switches, leftovers ----------------------------------------------------

  /** A host `virtio_net` on `virtio_vdpa`: a consumer like a guest. */
  #hostConsumerLanes(): void {
    const host = this.#lab.host;
    for (const d of host.vdpa.devices) {
      if (d.driver !== "virtio_vdpa" || d.virtio === undefined) continue;
      const vdev = host.virtio.devices.find((v) => v.name === d.virtio);
      const netdev = vdev?.netdev;
      const top = this.#node({
        id: `host.${netdev ?? d.virtio}`,
        layer: "guest",
        kind: "virtio_net",
        label: netdev !== undefined
          ? `host ${netdev} virtio_net`
          : `host ${d.virtio} (${vdev?.driver ?? "no driver"})`,
      });
      // The host's virtio_net keeps its rings in kernel memory: pairs and a control queue.
      const nvqs = d.device.spec.nvqs;
      const names: string[] = [];
      for (let k = 0; k < Math.floor(nvqs / 2); k++) names.push(`rx${k}`, `tx${k}`);
      if (nvqs % 2 === 1) names.push("ctrl");
      const vqs = this.#node({
        id: `${top}/vqs`,
        layer: "virtqueue",
        kind: "virtqueues",
        label: `virtqueues ${names.join(" ")} (host memory)`,
      });
      const backend = this.#node({
        id: `virtio_vdpa:${d.name}`,
        layer: "backend",
        kind: "virtio_vdpa",
        label: `virtio_vdpa ${d.virtio}`,
      });
      this.#label(vqs, backend, "kick: kick_vq call, irq: vq callback");
      this.#lane(top, "host", [top, vqs, backend, ...this.#vdpaChain(d)]);
    }
    for (const d of host.vdpa.devices) {
      if (this.#placed.has(`vdpa:${d.name}`)) continue;
      this.#lane(`vdpa:${d.name}`, "host", this.#vdpaChain(d));
    }
  }

  #vhostUserPeer(path: string): { node: string; port: string } | undefined {
    for (const app of testpmdsOf(this.#lab)) {
      const port = app.ports.find((p) => p instanceof VhostPmdPort && p.spec.iface === path);
      if (port !== undefined) return { node: this.#testpmdNode(app), port: port.name };
    }
    const ovs = OvsVswitchd.find(this.#lab);
    if (ovs !== undefined) {
      for (const br of ovs.db.bridges()) {
        for (const pn of br.ports) {
          for (const iname of ovs.db.port(pn)?.interfaces ?? []) {
            const i = ovs.db.iface(iname);
            if (i !== undefined && ovsSocket(i) === path) {
              return { node: this.#ovsNode(ovs, br.name), port: iname };
            }
          }
        }
      }
    }
    return undefined;
  }

  #testpmdNode(app: ReturnType<typeof testpmdsOf>[number]): string {
    return this.#node({
      id: app.name,
      layer: "switch",
      kind: "testpmd",
      label: `${app.name} ${app.mode} forwarding`,
      details: [
        `lcores ${app.lcores.main},${app.lcores.workers.join(",")}; ports ${
          app.ports.map((p) => `${p.id} ${p.name}${p.linkUp ? "" : " (link down)"}`).join(", ")
        }`,
      ],
      up: app.forwarding,
    });
  }

  #ovsNode(ovs: OvsVswitchd, bridge: string): string {
    const br = ovs.db.bridge(bridge);
    return this.#node({
      id: `ovs:${bridge}`,
      layer: "switch",
      kind: "ovs-bridge",
      label: `OVS ${bridge} (${
        br?.datapathType === "netdev" ? "userspace datapath" : "kernel datapath"
      })`,
      details: [`ports ${br?.ports.join(", ") || "none"}; ${ovs.name}`],
    });
  }

  #switchLanes(): void {
    const lab = this.#lab;
    const net = lab.host.net;
    for (const br of net.list()) {
      if (br.kind !== "bridge") continue;
      const brNode = this.#netdevNode(br);
      for (const p of net.ports(br.name)) {
        if (this.#placed.has(p.name)) continue;
        if (p.kind === "phys") {
          const nic = this.#netdevNode(p);
          const w = this.#wireNode(p);
          this.#lane(p.name, "host", [brNode, nic, ...(w !== undefined ? [w] : [])]);
        } else {
          this.#lane(p.name, "host", [this.#netdevNode(p), brNode]);
        }
      }
      if (!this.#placed.has(brNode)) this.#lane(br.name, "host", [brNode]);
    }
    for (const app of testpmdsOf(lab)) {
      const sw = this.#testpmdNode(app);
      for (const p of app.ports) {
        if (p instanceof VhostPmdPort) {
          if (this.#connectedSockets.has(p.spec.iface)) continue;
          const port = this.#node({
            id: `sock:${p.spec.iface}`,
            layer: "backend",
            kind: "vhost-user-port",
            label: `${p.name} ${p.spec.iface} (no front-end)`,
            up: false,
          });
          this.#lane(`${app.name}/${p.name}`, "host", [port, sw]);
          continue;
        }
        const dev = lab.host.pci.device(p.name);
        const nic = dev?.netdev !== undefined ? net.get(dev.netdev) : undefined;
        const nicNode = nic !== undefined ? this.#netdevNode(nic) : this.#node({
          id: `pci:${p.name}`,
          layer: "nic",
          kind: "nic",
          label: `${dev?.modelName ?? "NIC"} ${p.name} (${p.driver})`,
        });
        const pf = dev?.pf !== undefined ? lab.host.pci.device(dev.pf) : dev;
        const port = pf?.netdev !== undefined ? net.get(pf.netdev) : undefined;
        const w = port !== undefined ? this.#wireNode(port) : undefined;
        this.#lane(`${app.name}/${p.name}`, "host", [sw, nicNode, ...(w !== undefined ? [w] : [])]);
      }
      if (!this.#placed.has(sw)) this.#lane(app.name, "host", [sw]);
    }
    const ovs = OvsVswitchd.find(lab);
    if (ovs === undefined) return;
    for (const br of ovs.db.bridges()) {
      const sw = this.#ovsNode(ovs, br.name);
      for (const pn of br.ports) {
        for (const iname of ovs.db.port(pn)?.interfaces ?? []) {
          const i = ovs.db.iface(iname);
          if (i === undefined || (i.type === "internal" && iname === br.name)) continue;
          const sock = ovsSocket(i);
          if (sock !== undefined) {
            if (this.#connectedSockets.has(sock)) continue;
            const port = this.#node({
              id: `sock:${sock}`,
              layer: "backend",
              kind: "vhost-user-port",
              label: `${iname} ${sock} (no front-end)`,
              up: false,
            });
            this.#lane(`ovs:${iname}`, "host", [port, sw]);
            continue;
          }
          const bdf = i.type === "dpdk" ? i.options.get("dpdk-devargs") : undefined;
          const dev = bdf !== undefined ? lab.host.pci.device(bdf) : undefined;
          const nd = net.get(dev?.netdev ?? iname);
          if (nd === undefined) continue;
          const nic = this.#netdevNode(nd);
          const w = nd.kind === "phys" ? this.#wireNode(nd) : undefined;
          this.#lane(`ovs:${iname}`, "host", [sw, nic, ...(w !== undefined ? [w] : [])]);
        }
      }
      if (!this.#placed.has(sw)) this.#lane(`ovs:${br.name}`, "host", [sw]);
    }
  }

  /**
   * What nothing above uses: physical ports, taps on their own, and SR-IOV VFs (by their
   * netdev, or by PCI address when a driver such as vfio-pci holds them).
   */
  #leftovers(): void {
    const host = this.#lab.host;
    for (const d of host.net.list()) {
      if (this.#placed.has(d.name)) continue;
      if (d.kind === "phys") {
        const w = this.#wireNode(d);
        this.#lane(d.name, "host", [this.#netdevNode(d), ...(w !== undefined ? [w] : [])]);
      } else if (d.kind === "tap" || d.kind === "tun") {
        this.#lane(d.name, "host", [this.#netdevNode(d)]);
      }
    }
    for (const vf of host.pci.devices) {
      if (vf.pf === undefined) continue;
      const nd = vf.netdev !== undefined ? host.net.get(vf.netdev) : undefined;
      const id = nd?.name ?? `pci:${vf.bdf}`;
      if (this.#placed.has(id)) continue;
      const node = nd !== undefined ? this.#netdevNode(nd) : this.#node({
        id,
        layer: "nic",
        kind: "vf",
        label: `${vf.modelName} VF ${vf.vfIndex ?? "?"} ${vf.bdf} (${vf.driver ?? "no driver"})`,
        up: vf.driver !== undefined,
      });
      const pf = host.pci.device(vf.pf);
      const port = pf?.netdev !== undefined ? host.net.get(pf.netdev) : undefined;
      const w = port !== undefined ? this.#wireNode(port) : undefined;
      this.#lane(id, "host", [node, ...(w !== undefined ? [w] : [])]);
    }
  }

  #processes(): TopoProcess[] {
    const out: TopoProcess[] = [];
    for (const p of this.#lab.processes) out.push({ pid: p.pid, command: p.command, name: p.name });
    return out.sort((a, b) => a.pid - b.pid);
  }
}

/** The socket a vhost-user OVS interface listens or connects on. */
function ovsSocket(
  i: {
    readonly name: string;
    readonly type: string;
    readonly options: ReadonlyMap<string, string>;
  },
): string | undefined {
  if (i.type === "dpdkvhostuser") return `${OVS_RUNDIR}/${i.name}`;
  if (i.type === "dpdkvhostuserclient") return i.options.get("vhost-server-path");
  return undefined;
}
