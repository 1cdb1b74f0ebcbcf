/**
 * `-netdev vhost-vdpa,vhostdev=/dev/vhost-vdpa-N[,x-svq=on]` (virtio-vhost-vdpa.md §4.5,
 * §9.4): QEMU opens the vhost-vdpa node of a vDPA device and hands the guest's virtqueues to
 * the device itself; QEMU keeps only the control plane.
 *
 * **Control plane**, in QEMU's order (vhost_vdpa/qemu_vhost_vdpa.ts): at QEMU start the open
 * (exclusive: a node another process holds is EBUSY), the probe (features, max_vqp, IOVA
 * range, the SVQ gate), the init (backend features, SET_OWNER, status ACK|DRIVER, the IOTLB
 * batch that maps all guest RAM IOVA = GPA → HVA); at the guest's DRIVER_OK the start
 * (SET_FEATURES with ACCESS_PLATFORM forced, FEATURES_OK, vrings with the KVM ioeventfd as kick
 * fd and the irqfd as call fd, SET_CONFIG_CALL, host notifiers, DRIVER_OK, enable).
 *
 * **Datapath**: the parent's own — vdpa_sim's worker (loopback) or a hardware NIC (DMA to the
 * wire). Kicks: with a host notifier the guest's notify write is the doorbell (no exit; the
 * frontend charges `hw_doorbell_mmio`); without one the write exits to KVM and the ioeventfd's
 * wake-up runs vhost-vdpa's handle_vq_kick → kick_vq right there, on the vCPU's exit path:
 * vhost-vdpa has no worker thread (vhost_dev_init with use_worker = false, so
 * vhost_poll_wakeup calls the work function directly). Interrupts: the parent's callback
 * signals the call eventfd and KVM's irqfd wake-up injects (posted) in the signaller's
 * context; hardware with get_vq_irq has its MSI remapped by the IRQ bypass straight to the
 * vCPU.
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { DevHandle } from "../host/devnodes.ts";
import { type Errno, strerror } from "../host/errno.ts";
import { MemTable } from "../memory/mem_table.ts";
import {
  IDENTITY,
  newTranslateResult,
  VHOST_ACCESS_RO,
  VHOST_ACCESS_RW,
} from "../memory/translator.ts";
import type { CpuContext } from "../sim/cpu_context.ts";
import { Counter } from "../trace/metrics.ts";
import type { PacketGroup } from "../datapath/hop.ts";
import type { DatapathPath } from "../datapath/path_table.ts";
import type { Lab } from "../lab.ts";
import type {
  BackendEnv,
  BackendStart,
  NetBackend,
  NetBackendFactory,
  NetFrontend,
} from "../qemu/net_backend.ts";
import { ALL_FEATURES, VirtioNetPci } from "../qemu/virtio_net_pci.ts";
import type { VhostVdpaNetdevSpec, VmError } from "../qemu/vm_spec.ts";
import type { Vm } from "../qemu/vm.ts";
import { hasFeature, VIRTIO_F_VERSION_1 } from "../virtio/features.ts";
import { VdpaSimNet } from "../devices/vdpa_sim_net.ts";
import { VdpaSimNetWorker } from "../devices/vdpa_sim_net_worker.ts";
import {
  type MemoryView,
  type NotifyAt,
  type VdpaDevice,
  VIRTIO_CONFIG_S_NEEDS_RESET,
} from "../devices/vdpa_device.ts";
import { VhostVdpaDev } from "./vhost_vdpa/vhost_vdpa_dev.ts";
import { VHOST_BACKEND_F_IOTLB_PERSIST } from "./vhost_vdpa/ioctl.ts";
import { VHOST_IOTLB_INVALIDATE } from "../iommu/vhost_iotlb_msg.ts";
import {
  describeQemuVdpaError,
  qemuVdpaInit,
  qemuVdpaMapRam,
  qemuVdpaProbe,
  qemuVdpaStart,
  qemuVdpaStop,
  qemuVdpaUnmapRam,
  type RamSection,
  VDPA_FEATURE_BITS,
  type VdpaProbe,
  type VdpaQueueStart,
} from "./vhost_vdpa/qemu_vhost_vdpa.ts";

export { VDPA_FEATURE_BITS };
import { IovaTree, shadowRingBytes, ShadowVirtqueue, type SvqRamMap } from "./vhost_vdpa/svq.ts";
import { relayViommu } from "./vhost_vdpa/viommu_glue.ts";
import { guestRid } from "./viommu.ts";
import { eswitchFor, labControlTrace, labIommu, portOf, uplinkOf } from "./vhost_vdpa/lab_glue.ts";
import { HwVdpaNet } from "../devices/hw_vdpa_net.ts";
import { HwVdpaNetDatapath } from "../devices/hw_vdpa_net_datapath.ts";

/** The guest-visible feature mask a vDPA device with `features` allows (vhost_get_features). */
export function vdpaFeatureMask(features: bigint): bigint {
  let mask = ALL_FEATURES;
  for (const b of VDPA_FEATURE_BITS) {
    if (!hasFeature(features, b)) mask &= ~(1n << BigInt(b));
  }
  return mask;
}

/** vhost-vdpa + vdpa_sim, as data. */
export const VHOST_VDPA_SIM_PATH: DatapathPath = {
  name: "vhost-vdpa + vdpa_sim",
  qemuInPath: false,
  copies: { tx: 1, rx: 1 },
  kick: [
    {
      role: "vcpu",
      key: "vmexit_light",
      what: "notify write exits; KVM matches the ioeventfd",
      perBatch: true,
    },
    {
      role: "vcpu",
      key: "ioeventfd_signal",
      what: "eventfd wake-up → handle_vq_kick → kick_vq (no vhost worker)",
      perBatch: true,
    },
    {
      role: "kthread",
      key: "thread_wakeup_remote",
      what: "vdpa_sim work item scheduled",
      perBatch: true,
    },
  ],
  tx: [
    {
      role: "kthread",
      key: "vdpa_sim_per_packet",
      what: "vringh walk, software IOTLB, MAC filter",
    },
    { role: "kthread", key: "memcpy", what: "copy #1: TX buffer → bounce buffer" },
  ],
  rx: [{ role: "kthread", key: "memcpy", what: "copy #2: bounce buffer → RX buffer" }],
  interrupt: [
    { role: "kthread", key: "ioeventfd_signal", what: "vq callback → eventfd_signal(call)" },
    { role: "kthread", key: "irq_inject_posted", what: "irqfd → posted interrupt" },
    { role: "vcpu", key: "guest_irq_to_napi", what: "vring_interrupt → NAPI" },
  ],
};

/** vhost-vdpa with shadow virtqueues (`x-svq=on`), as data. */
export const VHOST_VDPA_SVQ_PATH: DatapathPath = {
  name: "vhost-vdpa + shadow virtqueues (x-svq)",
  qemuInPath: true,
  copies: { tx: 1, rx: 1 },
  kick: [
    {
      role: "vcpu",
      key: "vmexit_light",
      what: "notify write exits (no host notifier with SVQ)",
      perBatch: true,
    },
    { role: "vcpu", key: "ioeventfd_signal", what: "QEMU's ioeventfd", perBatch: true },
    {
      role: "qemu",
      key: "thread_wakeup_remote",
      what: "QEMU main loop: vhost_handle_guest_kick",
      perBatch: true,
    },
    { role: "qemu", key: "syscall", what: "read the guest's eventfd", perBatch: true },
    { role: "qemu", key: "syscall", what: "write the device's kick eventfd → kick_vq" },
  ],
  tx: [
    { role: "qemu", key: "svq_relay_per_packet", what: "guest chain → shadow ring (GPA → IOVA)" },
    { role: "kthread", key: "vdpa_sim_per_packet", what: "the device's own work (vdpa_sim)" },
  ],
  rx: [{ role: "qemu", key: "svq_relay_per_packet", what: "guest RX buffers → shadow ring" }],
  interrupt: [
    { role: "kthread", key: "ioeventfd_signal", what: "call eventfd → QEMU" },
    { role: "qemu", key: "thread_wakeup_remote", what: "vhost_svq_handle_call", perBatch: true },
    { role: "qemu", key: "syscall", what: "read the call eventfd", perBatch: true },
    { role: "qemu", key: "syscall", what: "virtio_notify → KVM_SIGNAL_MSI", perBatch: true },
    { role: "qemu", key: "irq_inject_posted", what: "posted to the vCPU", perBatch: true },
  ],
};

/** Where SVQ's rings sit in the lab's copy of QEMU's memory (far above guest RAM). */
export const SVQ_REGION_GPA = 0x100_0000_0000;
/** …and in QEMU's address space, from the base of its guest RAM mapping. */
export const SVQ_REGION_HVA_OFFSET = 0x3f_0000_0000;
/** The eventfd of the virtio device's config notifier that QEMU hands vhost-vdpa. */
export const QEMU_CONFIG_NOTIFIER_FD = 199;
/** QEMU's eventfds for the shadow rings' kick and call (2 per queue from here). */
export const SVQ_FD_BASE = 200;

/** QEMU's address for guest-physical `gpa` in a VM (the same layout vhost-net uses). */
export function qemuHvaBase(vm: Vm): number {
  return 0x7f0000000000 + (vm.pid % 1024) * 0x4000000000;
}

/** Guest RAM as QEMU's memory listener sees it, and backed by host pages for the device. */
export function guestRamSections(lab: Lab, vm: Vm): RamSection[] {
  const table = MemTable.fromGuestMemory(vm.mem, { hvaBase: qemuHvaBase(vm) });
  if (!table.ok) return [];
  const owner = `qemu:${vm.name}`;
  return table.value.regions().map((r) => {
    lab.host.ram.back({
      owner,
      name: `${r.guestPhysAddr.toString(16)}`,
      size: r.memorySize,
      mem: vm.mem,
      gpa: r.guestPhysAddr,
      hva: r.userspaceAddr,
    });
    return { gpa: r.guestPhysAddr, size: r.memorySize, hva: r.userspaceAddr };
  });
}

/** The datapath engine of a vDPA device, made or found for a lab. */
export function ensureVdpaEngine(lab: Lab, device: VdpaDevice): void {
  const dp = device.datapath;
  if (device instanceof VdpaSimNet) {
    if (dp instanceof VdpaSimNetWorker && dp.env === lab) return;
    new VdpaSimNetWorker(device, lab, { control: lab, driverView: IDENTITY });
  } else if (device instanceof HwVdpaNet) {
    if (dp instanceof HwVdpaNetDatapath && dp.env === lab) return;
    const port = device.bdf === undefined ? undefined : portOf(lab, device.bdf);
    new HwVdpaNetDatapath(device, lab, {
      iommu: labIommu(lab),
      ram: lab.host.ram,
      eswitch: port === undefined ? undefined : eswitchFor(lab, port),
      uplink: uplinkOf(lab, port),
    });
  }
}

/** vhost-vdpa + hardware (mlx5-class), as data. */
export const VHOST_VDPA_HW_PATH: DatapathPath = {
  name: "vhost-vdpa + hardware",
  qemuInPath: false,
  copies: { tx: 0, rx: 0 },
  kick: [
    {
      role: "vcpu",
      key: "hw_doorbell_mmio",
      what: "host notifier: the notify write is the NIC's doorbell (no exit)",
      perBatch: true,
    },
  ],
  tx: [
    { role: "device", key: "iotlb_miss_hw", what: "IOMMU page walk when the IOTLB misses" },
    { role: "device", key: "pcie_dma_latency", what: "DMA read of the buffer in place" },
    { role: "device", key: "hw_nic_per_packet", what: "NIC pipeline, then the wire" },
  ],
  rx: [
    { role: "device", key: "pcie_dma_latency", what: "DMA write into the guest buffer" },
    { role: "device", key: "hw_nic_per_packet", what: "NIC pipeline" },
  ],
  interrupt: [
    {
      role: "device",
      key: "irq_inject_posted",
      what: "MSI remapped by the IRQ bypass: posted to the vCPU",
      perBatch: true,
    },
    { role: "vcpu", key: "guest_irq_to_napi", what: "vring_interrupt → NAPI", perBatch: true },
  ],
};

/** vhost-vdpa + hardware without a host notifier: the kick goes through vhost-vdpa. */
export const VHOST_VDPA_HW_NO_NOTIFIER_PATH: DatapathPath = {
  ...VHOST_VDPA_HW_PATH,
  name: "vhost-vdpa + hardware (no host notifier)",
  kick: [
    {
      role: "vcpu",
      key: "vmexit_light",
      what: "notify write exits; KVM matches the ioeventfd",
      perBatch: true,
    },
    {
      role: "vcpu",
      key: "ioeventfd_signal",
      what: "eventfd wake-up → handle_vq_kick → kick_vq (no vhost worker)",
      perBatch: true,
    },
    {
      role: "vcpu",
      key: "hw_doorbell_mmio",
      what: "kick_vq: the kernel writes the doorbell",
      perBatch: true,
    },
  ],
};

function openError(
  lab: Lab,
  nd: VhostVdpaNetdevSpec,
  path: string,
  errno: Errno,
  heldBy: string | undefined,
): VmError {
  const qemu = `qemu-system-x86_64: -netdev type=vhost-vdpa,vhostdev=${path},id=${nd.id}: ` +
    `Could not open '${path}': ${strerror(errno)}`;
  if (errno === "EBUSY") {
    return {
      kind: "backend",
      at: { netdev: nd.index, prop: "vhostdev" },
      message: `${path} is already open${heldBy !== undefined ? ` by ${heldBy}` : ""}`,
      qemu,
      help: "vhost-vdpa allows one opener at a time: give each VM its own vDPA device",
    };
  }
  // A device bound to virtio_vdpa has no /dev node: say so.
  const onVirtio = lab.host.vdpa.devices.find((d) => d.driver === "virtio_vdpa");
  return {
    kind: "backend",
    at: { netdev: nd.index, prop: "vhostdev" },
    message: `cannot open ${path}: ${strerror(errno)}`,
    qemu,
    ...(onVirtio !== undefined
      ? {
        help: `${onVirtio.name} is bound to virtio_vdpa (a host netdev), not to vhost_vdpa: ` +
          `echo ${onVirtio.name} > /sys/bus/vdpa/drivers/virtio_vdpa/unbind; ` +
          `echo ${onVirtio.name} > /sys/bus/vdpa/drivers/vhost_vdpa/bind`,
      }
      : {
        help: "create a vDPA device (`vdpa dev add`) with vhost_vdpa loaded; " +
          "`ls /dev/vhost-vdpa-*` lists the nodes",
      }),
  };
}

/** `-netdev vhost-vdpa`. */
export class VhostVdpaBackend implements NetBackend {
  readonly type = "vhost-vdpa";
  readonly id: string;
  readonly label: string;
  readonly features: bigint;
  readonly maxQueuePairs: number;
  /** The kernel file. */
  readonly dev: VhostVdpaDev;
  /** The vDPA device. */
  readonly device: VdpaDevice;
  /** What the probe found. */
  readonly probe: VdpaProbe;
  readonly #lab: Lab;
  readonly #vm: Vm;
  readonly #handle: DevHandle;
  #frontend: NetFrontend | undefined;
  #started = false;
  #hostNotifiers: readonly number[] = [];
  #queues: readonly number[] = [];
  /** `x-svq=on`: QEMU's IOVA tree and where guest RAM sits in it. */
  readonly #svq: { readonly tree: IovaTree; readonly ram: readonly SvqRamMap[] } | undefined;
  /** Unregisters the vIOMMU notifier (translated guests only). */
  #unrelay: (() => void) | undefined;
  /** What QEMU's memory listener maps (guest RAM; nothing behind a translating vIOMMU). */
  readonly #premap: readonly RamSection[];
  /** A stop reset the device, which dropped the maps (no IOTLB_PERSIST negotiated). */
  #mapsCleared = false;
  /** The shadow virtqueues, by queue index, while started with SVQ. */
  readonly svqs = new Map<number, ShadowVirtqueue>();

  private constructor(
    lab: Lab,
    vm: Vm,
    nd: VhostVdpaNetdevSpec,
    handle: DevHandle,
    dev: VhostVdpaDev,
    probe: VdpaProbe,
    svq: { readonly tree: IovaTree; readonly ram: readonly SvqRamMap[] } | undefined,
    premap: readonly RamSection[],
  ) {
    this.#lab = lab;
    this.#premap = premap;
    this.#vm = vm;
    this.id = nd.id;
    this.#handle = handle;
    this.dev = dev;
    this.device = dev.device;
    this.probe = probe;
    this.label = `vhost-vdpa (${dev.device.name})`;
    this.features = vdpaFeatureMask(probe.features);
    this.maxQueuePairs = probe.queuePairs;
    this.#svq = svq;
  }

  /** Opens the node, probes and initialises the device (net_init_vhost_vdpa). */
  static create(env: BackendEnv): Result<NetBackend, VmError> {
    const { lab, vm } = env;
    const nd = env.netdev as VhostVdpaNetdevSpec;
    const path = nd.vhostdev;
    const owner = `qemu:${vm.name}`;
    const opened = lab.host.open(path, owner);
    if (!opened.ok) {
      const e = opened.error;
      const errno: Errno = e.kind === "fs" ? e.errno : "ENODEV";
      const heldBy = e.kind === "fs" ? e.heldBy : undefined;
      return err(openError(lab, nd, path, errno, heldBy));
    }
    const handle = opened.value;
    const target = handle.target;
    if (target.kind !== "vhost-vdpa") {
      lab.host.close(handle);
      return err({
        kind: "backend",
        at: { netdev: nd.index, prop: "vhostdev" },
        message: `${path} is not a vhost-vdpa device`,
        qemu: `qemu-system-x86_64: -netdev type=vhost-vdpa,vhostdev=${path},id=${nd.id}: ` +
          `Fail to query features from vhost-vDPA device: ${strerror("ENOTTY")}`,
      });
    }
    const device = target.device;
    ensureVdpaEngine(lab, device);
    const ram = guestRamSections(lab, vm);
    const mm: MemoryView = { name: owner, mem: vm.mem, toMem: lab.host.ram.hvaToMem(owner) };
    const dev = new VhostVdpaDev({
      device,
      fd: handle.fd,
      owner,
      mm,
      ...(device.spec.useVa === true ? {} : { hvaToPa: paOf(lab, owner) }),
      trace: labControlTrace(lab),
      ctx: vm.qemu.name,
    });
    const fail = (message: string, prop: string, qemuText: string): Result<NetBackend, VmError> => {
      dev.close();
      lab.host.close(handle);
      return err({
        kind: "backend",
        at: { netdev: nd.index, prop },
        message,
        qemu: `qemu-system-x86_64: -netdev type=vhost-vdpa,vhostdev=${path},id=${nd.id}` +
          `${nd.svq ? ",x-svq=on" : ""}: ${qemuText}`,
      });
    };
    const probe = qemuVdpaProbe(dev, { svq: nd.svq });
    if (!probe.ok) {
      const text = describeQemuVdpaError(probe.error);
      if (probe.error.kind === "svq") {
        return fail(
          `x-svq=on: the shadow virtqueue cannot relay the features of ${device.name}`,
          "x-svq",
          text,
        );
      }
      return fail(text, "vhostdev", text);
    }
    // With a vIOMMU the listener maps nothing up front: guest maps arrive one by one.
    const viommu = vm.spec.devices.some((d) =>
      d.kind === "intel-iommu" || d.kind === "virtio-iommu-pci"
    );
    // …unless the guest keeps its devices in pass-through domains (iommu=pt: the lab's guest)
    const behindViommu = viommu && vm.guestIommu.mode === "dma" &&
      vm.spec.devices.some((d) =>
        d.kind === "virtio-net-pci" && d.netdev === nd.index && d.iommuPlatform
      );
    // With shadow virtqueues guest RAM goes to IOVAs from QEMU's IOVA tree, not IOVA = GPA.
    let svq: { tree: IovaTree; ram: SvqRamMap[] } | undefined;
    let premap: RamSection[] = behindViommu ? [] : ram;
    if (nd.svq) {
      const tree = new IovaTree(probe.value.iovaRange.first, probe.value.iovaRange.last);
      const maps: SvqRamMap[] = [];
      premap = [];
      for (const r of ram) {
        const iova = tree.alloc(r.size);
        if (iova === undefined) return fail("the device's IOVA range is too small", "x-svq", "");
        maps.push({ gpa: r.gpa, size: r.size, iova });
        premap.push({ ...r, iova });
      }
      svq = { tree, ram: maps };
    }
    const init = qemuVdpaInit(dev, { ram: premap });
    if (!init.ok) {
      return fail(describeQemuVdpaError(init.error), "vhostdev", describeQemuVdpaError(init.error));
    }
    return ok(new VhostVdpaBackend(lab, vm, nd, handle, dev, probe.value, svq, premap));
  }

  /** True once the start mapped every queue's doorbell page into the guest. */
  get hostNotifier(): boolean {
    return this.#started && this.#hostNotifiers.length > 0;
  }

  get path(): DatapathPath {
    if (this.#svq !== undefined) return VHOST_VDPA_SVQ_PATH;
    if (this.device instanceof VdpaSimNet) return VHOST_VDPA_SIM_PATH;
    return this.hostNotifier ? VHOST_VDPA_HW_PATH : VHOST_VDPA_HW_NO_NOTIFIER_PATH;
  }

  /**
   * virtio_net_device_realize with a vhost-vdpa peer: QEMU writes its MAC (mac=, or its
   * default 52:54:00:12:34:56+n) into the device's config space (VHOST_VDPA_SET_CONFIG,
   * offset 0, 6 bytes). vdpa_sim stores it — its receive filter then passes the guest's
   * frames; mlx5_vdpa ignores config writes.
   */
  attach(frontend: NetFrontend): Result<void, VmError> {
    this.#frontend = frontend;
    this.dev.setConfig(0, new Uint8Array(frontend.mac));
    return ok(undefined);
  }

  start(s: BackendStart): Result<void, string> {
    const fe = this.#frontend;
    if (fe === undefined) return err("no frontend");
    const spec = fe instanceof VirtioNetPci ? fe.spec : undefined;
    const queues = s.queues.map((q) => ({
      index: q.index,
      size: q.size,
      desc: q.desc,
      driver: q.driver,
      device: q.device,
      base: q.base,
      kickFd: fe.ioeventfd(q.index).fd,
      callFd: fe.irqfd(q.index)?.fd ?? -1,
    }));
    if (this.#mapsCleared) {
      // The reset cleaned the device's maps (VDPA_RESET_F_CLEAN_MAP without IOTLB_PERSIST);
      // QEMU unregistered its memory listener then and registers it again for this start,
      // which maps guest RAM once more.
      const remap = qemuVdpaMapRam(this.dev, this.#premap);
      if (!remap.ok) return err(describeQemuVdpaError(remap.error));
      this.#mapsCleared = false;
    }
    const shadow = this.#svq === undefined ? undefined : this.#startSvq(fe, s, queues);
    if (typeof shadow === "string") return err(shadow);
    const started = qemuVdpaStart(this.dev, {
      features: s.features,
      queues: shadow ?? queues,
      // vhost_start_config_intr: the virtio device's config notifier
      configCallFd: QEMU_CONFIG_NOTIFIER_FD,
      // virtio_pci_set_host_notifier_mr: a modern device whose notify multiplier is a page;
      // with shadow virtqueues the guest's notifies must reach QEMU
      hostNotifierAllowed: shadow === undefined && spec !== undefined && spec.pagePerVq &&
        spec.disableLegacy,
    });
    if (!started.ok) return err(describeQemuVdpaError(started.error));
    const dp = this.device.datapath;
    if (dp instanceof HwVdpaNetDatapath) dp.setMemory(fe.mem);
    this.#hostNotifiers = started.value.hostNotifiers;
    this.#queues = queues.map((q) => q.index);
    const relay = this.#relayViommu(fe);
    if (relay !== undefined) return err(relay);
    this.dev.onCall = (vq, at) => this.#call(vq, at);
    this.dev.onConfigCall = (t) => this.#configChanged(t);
    // The lab's books: a queue the device cannot reach any more loses what waits in it.
    this.device.setQueueUnreachableCb((i, why, t) => fe.queueError(i, why, t ?? this.#lab.now));
    this.#started = true;
    // vhost_svq_start: what the guest already made available is relayed at once
    for (const q of this.svqs.values()) {
      if (q.guest.availCount() > 0) q.guestKick(s.t, this.#lab.hops.group());
    }
    return ok(undefined);
  }

  /**
   * vhost_vdpa_svqs_start: a shadow ring per queue in QEMU's memory, mapped into the device's
   * IOTLB (driver area read-only, device area writable) at IOVAs from the tree; the device
   * gets those rings and QEMU's own kick and call eventfds.
   */
  #startSvq(
    fe: NetFrontend,
    s: BackendStart,
    queues: readonly VdpaQueueStart[],
  ): VdpaQueueStart[] | string {
    const svq = this.#svq as { readonly tree: IovaTree; readonly ram: readonly SvqRamMap[] };
    const lab = this.#lab;
    const vm = this.#vm;
    const owner = `qemu:${vm.name}`;
    const total = queues.reduce((n, q) => n + shadowRingBytes(q.size), 0);
    const gpa = SVQ_REGION_GPA;
    if (vm.mem.regions().every((r) => r.name !== "qemu.svq")) {
      const added = vm.mem.addRegion({ name: "qemu.svq", gpa, size: Math.max(total, 4096) });
      if (!added.ok) return "shadow virtqueues: no room for the rings";
    }
    const hvaBase = qemuHvaBase(vm) + SVQ_REGION_HVA_OFFSET;
    lab.host.ram.back({ owner, name: "qemu.svq", size: total, mem: vm.mem, gpa, hva: hvaBase });
    const out: VdpaQueueStart[] = [];
    const hdrLen = hasFeature(s.features, VIRTIO_F_VERSION_1) ? 12 : 10;
    const maps: { iova: number; size: number; uaddr: number; perm: number }[] = [];
    let off = 0;
    for (const q of queues) {
      const bytes = shadowRingBytes(q.size);
      const iova = svq.tree.alloc(bytes);
      if (iova === undefined) return "shadow virtqueues: the device's IOVA range is full";
      const made = ShadowVirtqueue.create({
        env: lab,
        mem: vm.mem,
        ram: svq.ram,
        hooks: {
          kickDevice: (index, t, ctx, group) => this.#svqKickDevice(index, t, ctx, group),
          notifyGuest: (index, t, ctx, group) => fe.interrupt(index, t, ctx, "qemu", group),
        },
        qemu: vm.qemu,
        features: s.features,
        hdrLen,
        q,
        at: { base: gpa + off, iova },
      });
      if (typeof made === "string") return `shadow virtqueues: ${made}`;
      this.svqs.set(q.index, made);
      const usedAt = made.iova.device - iova;
      maps.push({ iova, size: usedAt, uaddr: hvaBase + off, perm: VHOST_ACCESS_RO });
      maps.push({
        iova: made.iova.device,
        size: bytes - usedAt,
        uaddr: hvaBase + off + usedAt,
        perm: VHOST_ACCESS_RW,
      });
      out.push({
        ...q,
        desc: made.iova.desc,
        driver: made.iova.driver,
        device: made.iova.device,
        kickFd: SVQ_FD_BASE + 2 * q.index,
        callFd: SVQ_FD_BASE + 2 * q.index + 1,
      });
      off += bytes;
    }
    const batched = qemuVdpaMapRam(
      this.dev,
      maps.map((m) => ({ gpa: m.iova, iova: m.iova, size: m.size, hva: m.uaddr, perm: m.perm })),
    );
    if (!batched.ok) return describeQemuVdpaError(batched.error);
    return out;
  }

  /**
   * A device behind a vIOMMU whose guest translates: QEMU's IOMMU notifier turns the guest's
   * maps into IOTLB updates (the listener premapped nothing). Returns QEMU's error, if any.
   */
  #relayViommu(fe: NetFrontend): string | undefined {
    const vm = this.#vm;
    const viommu = vm.viommu;
    if (viommu === undefined || viommu.config.guestPassthrough) return undefined;
    const nic = vm.nics.findIndex((n) => n === fe);
    const rid = guestRid(nic < 0 ? vm.nics.length : nic);
    if (!viommu.devices().includes(rid)) return undefined;
    const sections = guestRamSections(this.#lab, vm);
    const r = relayViommu({
      writeIotlb: (msg, asid) => this.dev.writeIotlb(msg, asid),
      viommu,
      rid,
      gpaToHva: (gpa) => {
        const s = sections.find((x) => gpa >= x.gpa && gpa < x.gpa + x.size);
        return s === undefined ? undefined : s.hva + (gpa - s.gpa);
      },
    });
    if (!r.ok) return r.error.qemu;
    this.#unrelay = r.value;
    return undefined;
  }

  /**
   * The device's config interrupt. A device that set DEVICE_NEEDS_RESET (a DMA fault) stops
   * using its queues; QEMU does not mirror the vDPA device's status into the guest's, so the
   * guest's TX queues simply never complete again — the lab counts what waits in them as
   * lost (`device_not_ready`), as the TX watchdog would find it.
   */
  #configChanged(t: number | undefined): void {
    const fe = this.#frontend;
    if (fe === undefined) return;
    if ((this.device.getStatus() & VIRTIO_CONFIG_S_NEEDS_RESET) === 0) return;
    const now = t ?? this.#lab.now;
    const dp = this.device.datapath;
    const fault = dp instanceof HwVdpaNetDatapath ? dp.engine.lastFault : undefined;
    const why = `${this.device.name} set DEVICE_NEEDS_RESET${fault ? ` (${fault})` : ""}`;
    for (const i of this.#queues) if (i % 2 === 1) fe.queueError(i, why, now);
  }

  /** SVQ wrote the device's kick eventfd: kick_vq runs in QEMU's write (a syscall). */
  #svqKickDevice(index: number, t: number, ctx: CpuContext, group: PacketGroup): void {
    const end = this.#lab.hops.charge(ctx, t, "syscall", 0, group.flow);
    group.count(Counter.syscalls);
    if (group.sampled) group.record("qemu.svq", "kick", { q: queueName(index) });
    this.dev.kick(index, { t: end, ctx, group });
  }

  /**
   * The parent completed buffers of `vq`: eventfd_signal(call) → KVM irqfd → guest; with the
   * IRQ bypass the device's MSI is posted to the vCPU with no host software at all.
   */
  #call(vq: number, at: NotifyAt | undefined): void {
    const fe = this.#frontend;
    if (fe === undefined || at === undefined) return;
    const shadow = this.svqs.get(vq);
    if (shadow !== undefined) {
      // the call eventfd is QEMU's: eventfd_signal, then QEMU's main loop forwards
      this.#lab.hops.charge(at.ctx, at.t, "ioeventfd_signal", 0, at.group?.flow);
      shadow.deviceCall(at.t);
      return;
    }
    const group = at.group ?? this.#lab.hops.group();
    if (this.dev.irqBypass(vq) && fe instanceof VirtioNetPci) {
      postedInterrupt(this.#lab, fe, vq, at.t, at.ctx, group);
      return;
    }
    fe.interrupt(vq, at.t, at.ctx, "irqfd", group);
  }

  stop(_t: number): void {
    if (!this.#started) return;
    this.#started = false;
    this.dev.onCall = undefined;
    this.device.setQueueUnreachableCb(undefined);
    this.svqs.clear();
    this.#unrelay?.();
    this.#unrelay = undefined;
    qemuVdpaStop(this.dev, this.#queues);
    // vhost_vdpa_reset_status: without IOTLB_PERSIST the reset cleaned the parent's maps and
    // QEMU unregisters its memory listener (an INVALIDATE per section); the next start
    // registers it again.
    if ((this.dev.backendFeatures & (1n << BigInt(VHOST_BACKEND_F_IOTLB_PERSIST))) === 0n) {
      qemuVdpaUnmapRam(this.dev, this.#premap);
      this.#mapsCleared = true;
    }
  }

  /**
   * VHOST_IOTLB_INVALIDATE of `[iova, iova + size)` — of every section QEMU mapped when no
   * range is given — written to the device file behind QEMU's back (`inject
   * iotlb-invalidate`): the device's next access there has no translation. A vDPA device has
   * no miss path (no IOTLB miss round trip as vhost-net's device IOTLB has): its DMA faults.
   * Returns the bytes invalidated, or the kernel's error.
   */
  invalidateIotlb(iova?: number, size?: number): Result<number, string> {
    const ranges = iova !== undefined && size !== undefined
      ? [{ iova, size }]
      : this.#premap.map((r) => ({ iova: r.iova ?? r.gpa, size: r.size }));
    if (ranges.length === 0) return err("QEMU mapped nothing (the guest maps through a vIOMMU)");
    let bytes = 0;
    for (const r of ranges) {
      const w = this.dev.writeIotlb({
        type: VHOST_IOTLB_INVALIDATE,
        iova: r.iova,
        size: r.size,
        uaddr: 0,
        perm: 0,
      });
      if (!w.ok) return err(`VHOST_IOTLB_INVALIDATE: ${strerror(w.error.errno)}`);
      bytes += r.size;
    }
    return ok(bytes);
  }

  /**
   * Where the device is in queue `index` (get_vq_state; with shadow virtqueues QEMU's position
   * in the guest's ring).
   */
  lastAvail(index: number): number | { readonly slot: number; readonly wrap: number } | undefined {
    if (!this.#started) return undefined;
    const shadow = this.svqs.get(index);
    if (shadow !== undefined) return shadow.guest.nextAvail;
    const st = this.device.getVqState(index);
    if (!st.ok) return undefined;
    return st.value.kind === "split"
      ? st.value.availIndex
      : { slot: st.value.lastAvailIdx, wrap: st.value.lastAvailCounter };
  }

  /**
   * A guest notify reached the backend at `t`. With a host notifier it already rang the
   * device's doorbell. Without one KVM signalled the kick eventfd, whose wake-up runs
   * handle_vq_kick → ops->kick_vq synchronously on the notifying vCPU (vhost-vdpa has no
   * worker); on hardware kick_vq is the kernel's doorbell write.
   */
  kick(index: number, t: number, group: PacketGroup): void {
    if (!this.#started) return;
    const shadow = this.svqs.get(index);
    if (shadow !== undefined) {
      // the ioeventfd is QEMU's (vhost_handle_guest_kick), not the device's
      shadow.guestKick(t, group);
      return;
    }
    const vcpu = this.#vcpuOf(index);
    if (this.hostNotifier) {
      // the doorbell write itself reached the device (the frontend charged it)
      this.dev.device.kickVq(index, { t, ctx: vcpu, group });
      return;
    }
    let end = t;
    if (this.device instanceof HwVdpaNet) {
      // kick_vq on hardware: the kernel writes the doorbell (an uncached MMIO write)
      end = this.#lab.hops.charge(vcpu, t, "hw_doorbell_mmio", 0, group.flow);
      group.count(Counter.doorbells);
      if (group.sampled) {
        group.record("vhost-vdpa", "doorbell", { q: queueName(index), value: index });
      }
    } else if (group.sampled) {
      this.#lab.hops.at(vcpu, t);
      group.record("vhost-vdpa", "kick", { q: queueName(index) });
    }
    this.dev.kick(index, { t: end, ctx: vcpu, group });
  }

  /** The vCPU whose notify write carries queue `index` (the guest driver's placement). */
  #vcpuOf(index: number): CpuContext {
    const vcpus = this.#vm.vcpus;
    return vcpus[(index >> 1) % vcpus.length] as CpuContext;
  }

  describe(): readonly string[] {
    const d = this.device;
    const lines = [
      `vhost-vdpa ${this.dev.fd === this.#handle.fd ? this.#handle.path : ""} → ${d.name} (${
        d.constructor.name === "VdpaSimNet" ? "vdpasim_net" : "hardware"
      })`,
      `  device features  0x${this.probe.features.toString(16)}`,
      `  driver features  0x${d.getDriverFeatures().toString(16)}`,
      `  status           0x${d.getStatus().toString(16)}`,
      `  queue pairs      ${this.probe.queuePairs}${this.probe.hasCvq ? " + cvq" : ""}`,
      `  host notifiers   ${this.hostNotifier ? this.#hostNotifiers.join(",") : "none"}`,
      `  kicks            ${this.dev.kicks}`,
    ];
    for (const i of this.#queues) {
      const v = this.dev.vring(i);
      if (v !== undefined) lines.push(`  vring ${i}: num ${v.num} base ${v.lastAvail}`);
    }
    return lines;
  }

  destroy(t: number): void {
    this.stop(t);
    this.dev.close();
    this.#lab.host.close(this.#handle);
  }
}

/** virtio-net's name for data queue `index` (rx0 = 0, tx0 = 1, …). */
function queueName(index: number): string {
  return `${index % 2 === 0 ? "rx" : "tx"}${index >> 1}`;
}

/** The owner's HVA → host physical (pinning) for PA-mode parents. */
function paOf(lab: Lab, owner: string): (hva: number) => number | undefined {
  const tr = lab.host.ram.hvaToPa(owner);
  const out = newTranslateResult();
  return (hva) => (tr.translate(hva, 1, VHOST_ACCESS_RO, out) ? out.addr : undefined);
}

/** The registry entry. */
export const VHOST_VDPA_BACKEND: NetBackendFactory = {
  type: "vhost-vdpa",
  create: (env) => VhostVdpaBackend.create(env),
};

/**
 * A device MSI posted straight to the vCPU (VT-d posted interrupts through the IRQ bypass, or
 * a VF's MSI-X given to the guest): no eventfd, no host thread, no exit.
 */
export function postedInterrupt(
  lab: Lab,
  fe: VirtioNetPci,
  index: number,
  t: number,
  ctx: CpuContext,
  group: PacketGroup,
): void {
  const guest = fe.guest;
  if (guest === undefined) return;
  const hops = lab.hops;
  const end = hops.charge(ctx, t, "irq_inject_posted", 0, group.flow);
  group.count(Counter.interrupts_posted);
  if (group.sampled) {
    group.record("iommu", "irq", {
      q: fe.queueName(index),
      via: "posted",
      ...(group.size > 1 ? { batch: group.size } : {}),
    });
  }
  const g = hops.group();
  g.addGroup(group);
  const vcpu = guest.vcpuFor(index);
  lab.sched.at(end, (now) => guest.irq(index, now, vcpu, g));
}
