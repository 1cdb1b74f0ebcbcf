/**
 * A VM: one `qemu-system-x86_64` process. {@link startVm} does what QEMU's start-up and the
 * guest's boot do, synchronously at the current virtual time (so `show` works on the next
 * line):
 *
 * 1. guest RAM from `-m`, memory backends and `-numa` (split below and above 4 GiB as the
 *    pc/q35 machines split it), `share=on` kept per block;
 * 2. vCPU contexts (`vm1:vcpu0` …), QEMU's main loop (`qemu-vm1:main`), the KVM state
 *    (ioeventfds, irqfds; posted interrupts on);
 * 3. netdevs in command-line order, each by its backend factory (runtime/backends/registry.ts):
 *    opening /dev/net/tun, /dev/vhost-net … — an error stops the start with QEMU's text;
 * 4. devices in order: virtio-net-pci frontends wired to their netdevs; other kinds through
 *    the VM device factories (vfio-pci, vIOMMUs); devices the lab does not model are kept
 *    for `show` only;
 * 5. the guest boots: the virtio_net driver probes each virtio-net device in order, naming
 *    the interfaces eth0, eth1 … (a passthrough NIC takes its name in the same order).
 *
 * A backend that is not {@link NetBackend.ready} (a vhost-user netdev whose back-end is not on
 * the socket yet) holds QEMU in `net_vhost_user_init`: the command returns (so the lab can
 * start the back-end on a later line), but the NICs are realized with the back-end's features
 * and the guest boots only when every backend is ready ({@link Vm.waitingFor}).
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import { GuestMemory } from "../memory/guest_memory.ts";
import type { CpuContext } from "../sim/cpu_context.ts";
import type { Endpoint } from "../datapath/endpoint.ts";
import type { Viommu } from "../iommu/viommu.ts";
import type { Lab } from "../lab.ts";
import { NET_BACKEND_FACTORIES, VM_DEVICE_FACTORIES } from "../backends/registry.ts";
import { guestRid } from "../backends/viommu.ts";
import { hasFeature, VIRTIO_F_ACCESS_PLATFORM } from "../virtio/features.ts";
import { GuestAlloc } from "./guest/guest_alloc.ts";
import { type GuestIommuMode, guestIommuMode } from "./guest/guest_iommu.ts";
import { GuestVirtioNet } from "./guest/virtio_net.ts";
import { Kvm } from "./kvm.ts";
import type { NetBackend, NetFrontend } from "./net_backend.ts";
import { VirtioNetPci } from "./virtio_net_pci.ts";
import type { DeviceSpec, RamSpec, VmError, VmSpec } from "./vm_spec.ts";

/** A device of a VM other than virtio-net (vfio-pci, a vIOMMU …), made by a factory. */
export interface VmDevice {
  /** `vfio-pci`, `intel-iommu`. */
  readonly kind: string;
  /** `-device …,id=`. */
  readonly id?: string;
  /** The guest interface it brings (`eth1`), if it is a NIC. */
  readonly ifname?: string;
  /** The traffic endpoint of that interface. */
  readonly endpoint?: Endpoint;
  /** Lines for `show topology`. */
  describe(): readonly string[];
  /** QEMU exits: the guest side dies with what is in its rings (called before destroy). */
  shutdown?(t: number, why: string): void;
  /** QEMU exits. */
  destroy?(t: number): void;
}

/** What a device factory gets. */
export interface VmDeviceEnv {
  readonly lab: Lab;
  readonly vm: Vm;
  readonly device: DeviceSpec;
  /** Index in {@link VmSpec.devices}. */
  readonly index: number;
}

/** Creates devices of one kind (`vfio-pci`, `intel-iommu`, `virtio-iommu-pci`). */
export interface VmDeviceFactory {
  readonly kind: DeviceSpec["kind"];
  create(env: VmDeviceEnv): Result<VmDevice, VmError>;
}

/** The guest's DMA view, replaced by a vIOMMU's guest driver (identity without one). */
export interface GuestDma {
  /** The device address a driver programs for guest-physical `gpa` (an IOVA under a vIOMMU). */
  map(gpa: number, len: number): number;
}

const IDENTITY_DMA: GuestDma = { map: (gpa) => gpa };

/** A running VM. */
export class Vm {
  readonly name: string;
  /** QEMU's process id. */
  readonly pid: number;
  readonly spec: VmSpec;
  /** Guest RAM. */
  readonly mem: GuestMemory = new GuestMemory();
  /** The guest kernel's allocator for rings and buffers. */
  readonly alloc: GuestAlloc;
  /** vCPU threads. */
  readonly vcpus: readonly CpuContext[];
  /** QEMU's main loop thread. */
  readonly qemu: CpuContext;
  readonly kvm: Kvm;
  /** virtio-net frontends, in device order. */
  readonly nics: VirtioNetPci[] = [];
  /** The guest's virtio_net interfaces, in device order. */
  readonly guestNics: GuestVirtioNet[] = [];
  /** Other devices (vfio-pci, vIOMMU). */
  readonly devices: VmDevice[] = [];
  /** Backends by netdev id. */
  readonly backends = new Map<string, NetBackend>();
  /** Devices accepted but not simulated (`-device e1000`), for `show`. */
  readonly unmodelled: string[] = [];
  /** The guest's DMA mapping (identity unless a vIOMMU replaced it). */
  dma: GuestDma = IDENTITY_DMA;
  /** The VM's vIOMMU (intel-iommu, virtio-iommu-pci), set by its device factory. */
  viommu: Viommu | undefined = undefined;
  /** What the guest kernel makes of the vIOMMU (from its command line). */
  readonly guestIommu: GuestIommuMode;
  /** Netdevs QEMU still waits for (their back-ends are not connected); the guest boots after. */
  waitingFor: readonly string[] = [];
  /** The guest booted (its drivers probed). */
  booted = false;
  /** Why QEMU exited, once it did (see {@link exit}). */
  exitReason: string | undefined = undefined;
  readonly #lab: Lab;
  #ifIndex = 0;

  constructor(lab: Lab, name: string, spec: VmSpec) {
    this.#lab = lab;
    this.name = name;
    this.pid = lab.allocPid();
    this.spec = spec;
    this.guestIommu = guestIommuMode(spec.devices, spec.guest.cmdline);
    this.alloc = new GuestAlloc(this.mem);
    const vcpus: CpuContext[] = [];
    for (let i = 0; i < Math.max(1, spec.cpus); i++) {
      vcpus.push(lab.context("vcpu", `${name}:vcpu${i}`));
    }
    this.vcpus = vcpus;
    this.qemu = lab.context("qemu", `qemu-${name}:main`);
    this.kvm = new Kvm(name, { posted: true, trace: (s) => lab.control(s) });
  }

  /**
   * QEMU exits at `t` (killed, or shut down): the guest dies with what is in its rings (each
   * interface's {@link GuestVirtioNet.shutdown}, while the backends can still tell what they
   * took), then every backend and device is destroyed as QEMU's exit path and the kernel's
   * fd release do it — vhost-net and tap fds close, vhost-user sockets disconnect, a
   * passthrough device is released. An `abrupt` exit (SIGKILL) runs none of QEMU's own stop
   * sequence: only the kernel's side of it is traced.
   */
  exit(t: number, why: string, options: { readonly abrupt?: boolean } = {}): void {
    if (this.exitReason !== undefined) return;
    this.exitReason = why;
    const comp = `qemu-${this.name}`;
    this.#lab.control({ comp, action: "note", details: { name: "exit", value: why } });
    for (const g of this.guestNics) g.shutdown(t, why);
    for (const d of this.devices) d.shutdown?.(t, why);
    const release = () => {
      for (const b of this.backends.values()) b.destroy(t);
      for (const d of this.devices) d.destroy?.(t);
    };
    if (options.abrupt === true) this.#lab.withoutControlOf(comp, release);
    else release();
  }

  /**
   * The vIOMMU and the guest requester id through which `nic`'s DMA is translated when
   * `features` were negotiated, or undefined when the device sees guest-physical addresses:
   * no vIOMMU, `iommu_platform` off, a pass-through or disabled guest IOMMU, or
   * ACCESS_PLATFORM not negotiated (without it Linux's virtio ring bypasses the DMA API:
   * vring_use_dma_api).
   */
  dmaTranslation(
    nic: NetFrontend,
    features: bigint,
  ): { readonly viommu: Viommu; readonly rid: string } | undefined {
    const viommu = this.viommu;
    if (viommu === undefined || this.guestIommu.mode !== "dma") return undefined;
    if (!hasFeature(features, VIRTIO_F_ACCESS_PLATFORM)) return undefined;
    const k = this.nics.findIndex((n) => n === nic);
    if (k < 0) return undefined;
    const rid = guestRid(k);
    return viommu.devices().includes(rid) ? { viommu, rid } : undefined;
  }

  /** The next guest interface name (eth0, eth1 … in device order). */
  allocIfname(): string {
    return `eth${this.#ifIndex++}`;
  }

  /** An interface by guest name (`eth0`) or netdev id (`net0`). */
  endpoint(name: string): Endpoint | undefined {
    for (const [id, b] of this.backends) {
      if (name === `${id}.host` && b.peerEndpoint !== undefined) return b.peerEndpoint;
    }
    const g = this.guestNics.find((n) => n.ifname === name);
    if (g !== undefined) return g;
    const byNetdev = this.guestNics.find((n) => n.dev.backend?.id === name);
    if (byNetdev !== undefined) return byNetdev;
    return this.devices.find((d) => d.ifname === name)?.endpoint;
  }

  /** `vm1.eth0` … for every interface. */
  endpointNames(): string[] {
    const out = this.guestNics.map((g) => g.name);
    for (const b of this.backends.values()) if (b.peerEndpoint) out.push(b.peerEndpoint.name);
    for (const d of this.devices) if (d.ifname !== undefined) out.push(`${this.name}.${d.ifname}`);
    return out;
  }

  /** The guest interface of a virtio-net device by interface or netdev name. */
  guestNic(name: string): GuestVirtioNet | undefined {
    return this.guestNics.find((n) => n.ifname === name || n.dev.backend?.id === name);
  }
}

/** Virtqueues a virtio device may have (include/hw/virtio/virtio.h VIRTIO_QUEUE_MAX). */
export const VIRTIO_QUEUE_MAX = 1024;

/** QEMU's below-4G RAM limit for the machine (pc_q35_init / pc_init1). */
function lowmemLimit(machine: VmSpec["machine"], size: number): number {
  if (machine === "q35") return size >= 0xb0000000 ? 0x80000000 : 0xb0000000;
  return size >= 0xe0000000 ? 0xc0000000 : 0xe0000000;
}

/**
 * The guest's physical address width. The lab's vCPUs take the host's (`-cpu host` with
 * host-phys-bits, what a KVM guest of the lab's examples runs): 46 bits, a Xeon's.
 */
export const GUEST_PHYS_BITS = 46;

/** The 64-bit PCI hole above RAM (q35: 32 GiB, i440fx: 2 GiB; hw/pci-host/q35.c, piix.c). */
function pciHole64(machine: VmSpec["machine"]): number {
  return machine === "q35" ? 2 ** 35 : 2 ** 31;
}

/**
 * pc_memory_init: the highest guest-physical address the machine uses — the end of the 64-bit
 * PCI hole after the RAM above 4 GiB (pc_max_used_gpa) — must fit the CPU's phys-bits, else
 * QEMU exits with "Address space limit … phys-bits too low".
 */
function checkPhysBits(machine: VmSpec["machine"], total: number, low: number): string | undefined {
  const above = Math.max(0, total - low);
  const hole64Start = Math.ceil((2 ** 32 + above) / 2 ** 30) * 2 ** 30;
  const maxUsed = hole64Start + pciHole64(machine) - 1;
  const maxPhys = 2 ** GUEST_PHYS_BITS - 1;
  if (maxUsed <= maxPhys) return undefined;
  return `Address space limit 0x${maxPhys.toString(16)} < 0x${maxUsed.toString(16)} ` +
    `phys-bits too low (${GUEST_PHYS_BITS})`;
}

function layoutRam(vm: Vm, spec: VmSpec): Result<void, VmError> {
  const blocks: RamSpec[] = spec.ram.length > 0 ? [...spec.ram] : [{
    name: "pc.ram",
    size: spec.ramSize,
    shared: false,
    hugepages: false,
    fd: false, // anonymous memory
    at: { vm: "memory" },
  }];
  const total = blocks.reduce((a, b) => a + b.size, 0);
  const x86 = spec.machine === "q35" || spec.machine === "pc" || spec.machine === "other";
  const low = x86 ? lowmemLimit(spec.machine, total) : Infinity;
  if (x86) {
    const tooHigh = checkPhysBits(spec.machine, total, Math.min(low, total));
    if (tooHigh !== undefined) {
      return err({ kind: "memory", at: blocks[0]?.at ?? { vm: "memory" }, detail: tooHigh });
    }
  }
  let gpa = 0;
  for (const b of blocks) {
    let left = b.size;
    let part = 0;
    while (left > 0) {
      if (gpa >= low && gpa < 0x100000000) gpa = 0x100000000;
      const room = gpa < low ? low - gpa : Infinity;
      const n = Math.min(left, room);
      const r = vm.mem.addRegion({
        name: part === 0 ? b.name : `${b.name}@4g`,
        gpa,
        size: n,
        shared: b.shared,
        ...(b.backend !== undefined ? { backend: b.backend } : {}),
      });
      if (!r.ok) return err({ kind: "memory", at: b.at, detail: `${b.name}: ${r.error.kind}` });
      gpa += n;
      left -= n;
      part++;
    }
  }
  return ok(undefined);
}

/** Starts a VM named `name` from `spec`; see the module documentation. */
export function startVm(lab: Lab, name: string, spec: VmSpec): Result<Vm, VmError> {
  const vm = new Vm(lab, name, spec);
  const t = lab.now;
  lab.control({
    comp: `qemu-${name}`,
    action: "note",
    details: { name: "start", value: `pid ${vm.pid}`, detail: `${spec.cpus} vCPUs` },
  });
  const mem = layoutRam(vm, spec);
  if (!mem.ok) return mem;
  const backends: NetBackend[] = [];
  const fail = (e: VmError): Result<Vm, VmError> => {
    for (const b of backends) b.destroy(t);
    lab.control({ comp: `qemu-${name}`, action: "note", details: { name: "exit", value: 1 } });
    return err(e);
  };
  for (const nd of spec.netdevs) {
    const type = nd.kind === "other" ? nd.type : nd.kind;
    const factory = NET_BACKEND_FACTORIES.find((f) => f.type === type);
    if (factory === undefined) {
      if (nd.kind === "other") continue; // accepted, not simulated: its NIC has no link
      return fail({ kind: "backend-unavailable", at: nd.at, type });
    }
    const r = factory.create({ lab, vm, netdev: nd });
    if (!r.ok) return fail(r.error);
    backends.push(r.value);
    vm.backends.set(nd.id, r.value);
  }
  for (let i = 0; i < spec.devices.length; i++) {
    const d = spec.devices[i] as DeviceSpec;
    if (d.kind === "virtio-net-pci") {
      const nd = d.netdev === undefined ? undefined : spec.netdevs[d.netdev];
      const backend = nd === undefined ? undefined : vm.backends.get(nd.id);
      // virtio_net_device_realize: 2 queues per pair plus the control queue must fit
      // VIRTIO_QUEUE_MAX (1024).
      if (nd !== undefined && nd.queues * 2 + 1 > VIRTIO_QUEUE_MAX) {
        const most = (VIRTIO_QUEUE_MAX - 1) >> 1;
        return fail({
          kind: "backend",
          at: d.at,
          message: `virtio-net-pci cannot have ${nd.queues} queue pairs (netdev \`${nd.id}\`): ` +
            `at most ${most - 1}`,
          qemu: `qemu-system-x86_64: -device virtio-net-pci,netdev=${nd.id}: Invalid number of ` +
            `queue pairs (= ${nd.queues}), must be a positive integer less than ${most}.`,
          help: `give the netdev at most ${most - 1} queues`,
        });
      }
      if (nd !== undefined && backend !== undefined && nd.queues > backend.maxQueuePairs) {
        return fail({
          kind: "queues-exceed",
          at: nd.at,
          netdev: nd.id,
          requested: nd.queues,
          max: backend.maxQueuePairs,
        });
      }
      const nic = new VirtioNetPci(lab, vm, {
        spec: d,
        backend,
        ifname: vm.allocIfname(),
        slot: vm.nics.length + vm.devices.length,
      });
      if (backend !== undefined) {
        const a = backend.attach(nic);
        if (!a.ok) return fail(a.error);
      }
      vm.nics.push(nic);
      continue;
    }
    const factory = VM_DEVICE_FACTORIES.find((f) => f.kind === d.kind);
    if (factory === undefined) {
      if (d.kind !== "other") return fail({ kind: "device-unavailable", at: d.at, type: d.kind });
      vm.unmodelled.push(d.type);
      continue;
    }
    const r = factory.create({ lab, vm, device: d, index: i });
    if (!r.ok) return fail(r.error);
    vm.devices.push(r.value);
  }
  const waiting = [...vm.backends].filter(([, b]) => b.ready === false);
  if (waiting.length === 0) {
    boot(lab, vm, t);
    return ok(vm);
  }
  vm.waitingFor = waiting.map(([id]) => id);
  lab.control({
    comp: `qemu-${name}`,
    action: "note",
    details: { name: "waiting", value: `for netdev ${vm.waitingFor.join(", ")}` },
  });
  for (const [id, b] of waiting) {
    b.whenReady?.(() => {
      vm.waitingFor = vm.waitingFor.filter((x) => x !== id);
      if (vm.waitingFor.length === 0 && !vm.booted && vm.exitReason === undefined) {
        boot(lab, vm, lab.now);
      }
    });
  }
  return ok(vm);
}

/** The NICs get their backends' features and the guest boots: virtio_net binds in PCI order. */
function boot(lab: Lab, vm: Vm, t: number): void {
  vm.booted = true;
  for (const nic of vm.nics) nic.realize();
  for (const nic of vm.nics) {
    const g = new GuestVirtioNet(lab, vm, nic, {
      ifname: nic.ifname,
      driverFeatures: vm.spec.guest.netDriverFeatures,
    });
    g.probe(t);
    vm.guestNics.push(g);
  }
}
