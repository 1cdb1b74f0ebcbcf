/**
 * `-device vfio-pci,host=BDF` (virtio-vhost-vdpa.md §9.6): a VF bound to vfio-pci is given to
 * the guest. QEMU's part is the control plane only, in its order (hw/vfio/pci.c,
 * hw/vfio/container.c): the function's sysfs node and IOMMU group, `open(/dev/vfio/<group>)`
 * (exclusive), VFIO_GROUP_GET_STATUS (viable?), the container (`/dev/vfio/vfio`):
 * GET_API_VERSION, CHECK_EXTENSION(TYPE1v2), GROUP_SET_CONTAINER, SET_IOMMU, IOMMU_GET_INFO,
 * then the memory listener's VFIO_IOMMU_MAP_DMA of every guest RAM block (IOVA = GPA → the
 * pinned host pages, in the group's unmanaged IOMMU domain), VFIO_GROUP_GET_DEVICE_FD,
 * DEVICE_GET_INFO, the BAR regions, and at MSI-X enable VFIO_DEVICE_SET_IRQS with one eventfd
 * per vector (the KVM irqfds). Failures carry QEMU's words, at the `host=` property.
 *
 * **Datapath**: none of the host's software. The guest driver writes the VF's doorbell in its
 * BAR (mapped into the guest: no exit), the VF DMAs through the IOMMU domain straight into
 * guest memory (zero copies), frames leave by the PF port's wire and arrive through its
 * embedded switch, and the VF's MSI-X is posted to the vCPU.
 *
 * The lab has one NIC ring format, virtio's: the VF's queues are modelled as virtio rings and
 * the guest driver is the lab's virtio_net standing in for the vendor's VF driver (mlx5_core,
 * iavf). The DMA pattern — descriptor and buffer reads, completion writes, all through the
 * IOMMU — and the notification paths are the ones that matter here, and they are the VF's.
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { DevHandle } from "../host/devnodes.ts";
import { type Errno, strerror } from "../host/errno.ts";
import { composeTranslators } from "../memory/compose.ts";
import type { CpuContext } from "../sim/cpu_context.ts";
import type { PacketGroup } from "../datapath/hop.ts";
import type { DatapathPath } from "../datapath/path_table.ts";
import type { Lab } from "../lab.ts";
import type { BackendStart, NetBackend, NetFrontend } from "../qemu/net_backend.ts";
import { GuestVirtioNet } from "../qemu/guest/virtio_net.ts";
import { VirtioNetPci } from "../qemu/virtio_net_pci.ts";
import type { VmDevice, VmDeviceEnv, VmDeviceFactory } from "../qemu/vm.ts";
import type { VfioPciDeviceSpec, VirtioNetDeviceSpec, VmError } from "../qemu/vm_spec.ts";
import { featureMask, VIRTIO_F_ACCESS_PLATFORM, VIRTIO_F_VERSION_1 } from "../virtio/features.ts";
import { formatBdf, parseBdf, type PciDevice } from "../host/pci.ts";
import { formatMac } from "../host/mac.ts";
import { DmaCounter } from "../devices/dma_counter.ts";
import { HwNicEngine } from "../devices/hw_nic_engine.ts";
import { VfioContainer } from "./vfio/vfio_container.ts";
import { VfioGroup } from "./vfio/vfio_group.ts";
import type { VfioDevice } from "./vfio/vfio_device.ts";
import {
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_TYPE1v2_IOMMU,
} from "./vfio/vfio_ioctl.ts";
import { eswitchFor, labControlTrace, labIommu, portOf, uplinkOf } from "./vhost_vdpa/lab_glue.ts";
import { guestRamSections, postedInterrupt } from "./vhost_vdpa.ts";

/** VFIO passthrough of a VF, as data. */
export const VFIO_VF_PATH: DatapathPath = {
  name: "VFIO passthrough (SR-IOV VF)",
  qemuInPath: false,
  copies: { tx: 0, rx: 0 },
  kick: [
    {
      role: "vcpu",
      key: "hw_doorbell_mmio",
      what: "the guest driver writes the VF's doorbell in its BAR (no exit)",
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
      what: "MSI-X posted to the vCPU (VT-d posted interrupt)",
      perBatch: true,
    },
    { role: "vcpu", key: "guest_irq_to_napi", what: "interrupt → NAPI", perBatch: true },
  ],
};

/** `0000:3b:00.2` from `host=3b:00.2` or `host=0000:3b:00.2`; undefined when malformed. */
export function canonicalBdf(host: string): string | undefined {
  const a = parseBdf(host);
  return a === undefined ? undefined : formatBdf(a.domain, a.rid);
}

function vfioError(
  spec: VfioPciDeviceSpec,
  index: number,
  prop: string,
  message: string,
  qemu: string,
  help?: string,
): VmError {
  return {
    kind: "backend",
    at: { device: index, prop },
    message,
    qemu: `qemu-system-x86_64: -device vfio-pci,host=${spec.host ?? spec.sysfsdev ?? ""}: ${qemu}`,
    ...(help !== undefined ? { help } : {}),
  };
}

/** The VF as the guest driver sees it: a NetBackend whose work the NIC does. */
class VfBackend implements NetBackend {
  readonly type = "vfio-pci";
  readonly id: string;
  readonly label = "vfio-pci (VF)";
  readonly features: bigint;
  readonly maxQueuePairs: number;
  readonly hostNotifier = true;
  readonly path: DatapathPath = VFIO_VF_PATH;
  readonly engine: HwNicEngine;
  readonly #lab: Lab;
  readonly #counter: DmaCounter;
  readonly #dev: PciDevice;
  #frontend: NetFrontend | undefined;
  #started = false;

  constructor(lab: Lab, dev: PciDevice, engine: HwNicEngine, counter: DmaCounter) {
    this.#lab = lab;
    this.#dev = dev;
    this.id = dev.bdf;
    this.engine = engine;
    this.#counter = counter;
    const vdpa = dev.model.vdpa;
    // what the VF's hardware can do (the NIC model's feature list)
    this.features = featureMask(
      VIRTIO_F_VERSION_1,
      VIRTIO_F_ACCESS_PLATFORM,
      ...(vdpa?.deviceFeatures ?? []),
    );
    this.maxQueuePairs = Math.max(1, dev.model.txQueues);
  }

  attach(frontend: NetFrontend): Result<void, VmError> {
    this.#frontend = frontend;
    return ok(undefined);
  }

  start(s: BackendStart): Result<void, string> {
    const fe = this.#frontend;
    if (fe === undefined) return err("no frontend");
    const iommu = labIommu(this.#lab);
    const platform = iommu.translatorFor(this.#dev.bdf);
    if (!platform.ok) return err(`no DMA path for ${this.#dev.bdf}`);
    const counter = new DmaCounter(platform.value);
    const translator = composeTranslators(counter, this.#lab.host.ram.paToMem(fe.mem));
    const r = this.engine.setQueues(
      s.queues.map((q) => ({
        index: q.index,
        layout: q.layout,
        size: q.size,
        desc: q.desc,
        driver: q.driver,
        device: q.device,
      })),
      { mem: fe.mem, translator, counter, space: "iova-pa" },
      s.features,
    );
    if (!r.ok) return r;
    void this.#counter;
    this.#started = true;
    return ok(undefined);
  }

  stop(_t: number): void {
    this.#started = false;
    this.engine.clear();
  }

  /** The doorbell write reached the VF (the frontend charged it on the vCPU). */
  /** Where the VF is in queue `index` (its queue context): the chains it has taken end there. */
  lastAvail(index: number): number | { readonly slot: number; readonly wrap: number } | undefined {
    return this.#started ? this.engine.ring(index)?.nextAvail : undefined;
  }

  kick(index: number, t: number, group: PacketGroup): void {
    if (!this.#started) return;
    this.engine.kick(index, { t, ctx: this.engine.ctx, group });
  }

  /** The VF's MSI-X: posted to the vCPU. */
  msi(index: number, t: number, ctx: CpuContext, group: PacketGroup): void {
    const fe = this.#frontend;
    if (fe instanceof VirtioNetPci) postedInterrupt(this.#lab, fe, index, t, ctx, group);
  }

  /**
   * The VF hit a DMA fault (an IOVA the container does not map, or read-only): the function
   * stops its queue and the guest driver's TX queue never completes again.
   */
  broken(index: number, why: string, t: number): void {
    if (index % 2 === 1) this.#frontend?.queueError(index, `VF DMA fault: ${why}`, t);
  }

  describe(): readonly string[] {
    const e = this.engine;
    return [
      `vfio-pci ${this.#dev.bdf} (${this.#dev.model.description} VF)`,
      `  queue pairs ${e.pairs}, tx ${e.stats.tx}, rx ${e.stats.rx}, rx no buffer ${e.stats.rxNoBuffer}, faults ${e.stats.faults}`,
    ];
  }

  destroy(t: number): void {
    this.stop(t);
  }
}

/** A VF given to a guest (`-device vfio-pci`). */
export class VfioVf implements VmDevice {
  readonly kind = "vfio-pci";
  readonly id?: string;
  readonly ifname: string;
  readonly endpoint: GuestVirtioNet;
  readonly backend: VfBackend;
  readonly #lab: Lab;
  readonly #container: VfioContainer;
  readonly #group: VfioGroup;
  readonly #device: VfioDevice;
  readonly #handles: DevHandle[];
  readonly #dev: PciDevice;

  constructor(
    lab: Lab,
    o: {
      id?: string;
      ifname: string;
      endpoint: GuestVirtioNet;
      backend: VfBackend;
      container: VfioContainer;
      group: VfioGroup;
      device: VfioDevice;
      handles: DevHandle[];
      dev: PciDevice;
    },
  ) {
    this.#lab = lab;
    if (o.id !== undefined) this.id = o.id;
    this.ifname = o.ifname;
    this.endpoint = o.endpoint;
    this.backend = o.backend;
    this.#container = o.container;
    this.#group = o.group;
    this.#device = o.device;
    this.#handles = o.handles;
    this.#dev = o.dev;
  }

  /** The VFIO container: its IOMMU domain maps the VM's RAM for the VF's DMA. */
  get container(): VfioContainer {
    return this.#container;
  }

  describe(): readonly string[] {
    const c = this.#container;
    return [
      `vfio-pci host=${this.#dev.bdf} → guest ${this.ifname} (group ${this.#group.group}, ` +
      `container domain ${c.domain ?? "-"}, ${c.dmas.length} DMA mappings, ` +
      `${c.pinnedBytes} bytes pinned)`,
      ...this.backend.describe().map((l) => `  ${l}`),
    ];
  }

  /** QEMU exited: the guest's driver of the VF dies with what is in its rings. */
  shutdown(t: number, why: string): void {
    this.endpoint.shutdown(t, why);
  }

  destroy(t: number): void {
    this.backend.destroy(t);
    this.#device.close();
    this.#group.close();
    this.#container.close();
    for (const h of this.#handles) this.#lab.host.close(h);
  }
}

/** vfio_realize: see the module documentation. */
function createVfio(env: VmDeviceEnv): Result<VmDevice, VmError> {
  const { lab, vm } = env;
  const spec = env.device as VfioPciDeviceSpec;
  const index = env.index;
  const host = spec.host ?? spec.sysfsdev?.split("/").pop() ?? "";
  const bdf = canonicalBdf(host);
  const sysfs = `/sys/bus/pci/devices/${bdf ?? host}`;
  const dev = bdf === undefined ? undefined : lab.host.pci.device(bdf);
  if (dev === undefined) {
    return err(vfioError(
      spec,
      index,
      "host",
      `no PCI function ${host} on this host`,
      `vfio ${sysfs}: no such host device: ${strerror("ENOENT")}`,
      "`ls /sys/bus/pci/devices` lists the functions; VFs appear with `sriov_numvfs`",
    ));
  }
  // vfio_device_groupid: readlink …/iommu_group
  if (dev.iommuGroup === undefined) {
    return err(vfioError(
      spec,
      index,
      "host",
      `${dev.bdf} has no IOMMU group: the host IOMMU is off`,
      `vfio ${dev.bdf}: no iommu_group found: ${strerror("ENOENT")}`,
      'boot the host with the IOMMU on: `host cmdline "intel_iommu=on iommu=pt"`',
    ));
  }
  const group = dev.iommuGroup;
  const owner = `qemu:${vm.name}`;
  const trace = labControlTrace(lab);
  const ctx = vm.qemu.name;
  const gfd = lab.host.open(`/dev/vfio/${group}`, owner);
  if (!gfd.ok) {
    const e = gfd.error;
    const errno: Errno = e.kind === "fs" ? e.errno : "ENODEV";
    const held = e.kind === "fs" ? e.heldBy : undefined;
    return err(vfioError(
      spec,
      index,
      "host",
      errno === "EBUSY"
        ? `/dev/vfio/${group} is already open${held !== undefined ? ` by ${held}` : ""}`
        : `${dev.bdf} is bound to ${
          dev.driver ?? "no driver"
        }, not vfio-pci: /dev/vfio/${group} does not exist`,
      `vfio ${dev.bdf}: failed to open /dev/vfio/${group}: ${strerror(errno)}`,
      errno === "EBUSY"
        ? "a VFIO group belongs to one VM at a time"
        : `echo ${dev.bdf} > /sys/bus/pci/drivers/${dev.driver ?? "<driver>"}/unbind; ` +
          `echo vfio-pci > /sys/bus/pci/devices/${dev.bdf}/driver_override; ` +
          `echo ${dev.bdf} > /sys/bus/pci/drivers_probe`,
    ));
  }
  const handles: DevHandle[] = [gfd.value];
  const fail = (e: VmError, more: { close(): void }[] = []): Result<VmDevice, VmError> => {
    for (const m of more) m.close();
    for (const h of handles) lab.host.close(h);
    return err(e);
  };
  const g = new VfioGroup({ pci: lab.host.pci, group, fd: gfd.value.fd, owner, trace, ctx });
  if ((g.getStatus().flags & 1) === 0) {
    return fail(vfioError(
      spec,
      index,
      "host",
      `group ${group} is not viable: ${
        g.blockers().map((d) => `${d.bdf} (${d.driver})`).join(", ")
      }`,
      `vfio ${dev.bdf}: group ${group} is not viable`,
      "Please ensure all devices within the iommu_group are bound to their vfio bus driver.",
    ));
  }
  if (!lab.host.isLoaded("vfio_iommu_type1")) lab.host.modprobe("vfio_iommu_type1");
  const cfd = lab.host.open("/dev/vfio/vfio", owner);
  if (!cfd.ok) {
    return fail(
      vfioError(
        spec,
        index,
        "host",
        "cannot open /dev/vfio/vfio",
        `vfio: failed to open /dev/vfio/vfio: ${strerror("ENOENT")}`,
      ),
      [g],
    );
  }
  handles.push(cfd.value);
  const iommu = labIommu(lab);
  const container = new VfioContainer({
    iommu,
    fd: cfd.value.fd,
    owner,
    hvaToPa: lab.host.ram.hvaToPa(owner),
    type1: lab.host.isLoaded("vfio_iommu_type1"),
    trace,
    ctx,
  });
  container.getApiVersion();
  if (container.checkExtension(VFIO_TYPE1v2_IOMMU) !== 1) {
    return fail(
      vfioError(
        spec,
        index,
        "host",
        "no VFIO IOMMU backend",
        `vfio ${dev.bdf}: No available IOMMU models`,
      ),
      [g, container],
    );
  }
  const steps: [string, Result<unknown, { errno: Errno; reason: string }>][] = [];
  const sc = g.setContainer(container);
  steps.push(["Failed to set group container", sc]);
  if (sc.ok) {
    steps.push(["Failed to set iommu for container", container.setIommu(VFIO_TYPE1v2_IOMMU)]);
  }
  for (const [what, r] of steps) {
    if (!r.ok) {
      return fail(
        vfioError(
          spec,
          index,
          "host",
          r.error.reason,
          `vfio ${dev.bdf}: failed to setup container for group ${group}: ${what}: ${
            strerror(r.error.errno)
          }`,
        ),
        [g, container],
      );
    }
  }
  container.getInfo();
  // the memory listener: every RAM block, IOVA = GPA, pinned
  for (const r of guestRamSections(lab, vm)) {
    const m = container.mapDma({
      vaddr: r.hva,
      iova: r.gpa,
      size: r.size,
      flags: VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
    });
    if (!m.ok) {
      return fail(
        vfioError(
          spec,
          index,
          "host",
          m.error.reason,
          `vfio ${dev.bdf}: VFIO_MAP_DMA failed: ${strerror(m.error.errno)}`,
        ),
        [g, container],
      );
    }
  }
  const dfd = g.getDeviceFd(dev.bdf);
  if (!dfd.ok) {
    return fail(
      vfioError(
        spec,
        index,
        "host",
        dfd.error.reason,
        `vfio ${dev.bdf}: error getting device from group ${group}: ${strerror(dfd.error.errno)}`,
        `Verify all devices in group ${group} are bound to vfio-<bus> or pci-stub and not already in use`,
      ),
      [g, container],
    );
  }
  const vdev = dfd.value;
  vdev.getInfo();
  vdev.getBar0();
  // the guest sees the VF: one NIC in PCI order
  const port = portOf(lab, dev.bdf);
  const engineHolder: { backend?: VfBackend } = {};
  const engine = new HwNicEngine(lab, {
    bdf: dev.bdf,
    comp: "vf",
    uplink: uplinkOf(lab, port),
    msi: (i, at) => {
      if (at.group !== undefined) engineHolder.backend?.msi(i, at.t, at.ctx, at.group);
    },
    broken: (i, why, t) => engineHolder.backend?.broken(i, why, t),
  });
  const counter = new DmaCounter({ lastOutcome: "identity", translate: () => false });
  const backend = new VfBackend(lab, dev, engine, counter);
  engineHolder.backend = backend;
  const ifname = vm.allocIfname();
  const mac = lab.allocMac();
  const nicSpec: VirtioNetDeviceSpec = {
    kind: "virtio-net-pci",
    at: spec.at,
    mac: formatMac([mac[0] ?? 0, mac[1] ?? 0, mac[2] ?? 0, mac[3] ?? 0, mac[4] ?? 0, mac[5] ?? 0]),
    mq: true,
    vectors: 2 * backend.maxQueuePairs + 2,
    rxQueueSize: 1024,
    txQueueSize: 1024,
    hostMtu: 0,
    packed: false,
    eventIdx: false,
    indirectDesc: false,
    mrgRxbuf: false,
    ctrlVq: false,
    inOrder: false,
    iommuPlatform: false,
    ats: false,
    queueReset: false,
    ioeventfd: false,
    pagePerVq: true,
    disableLegacy: true,
    featureProps: {},
    tx: "bh",
    txBurst: 256,
  };
  const fe = new VirtioNetPci(lab, vm, {
    spec: nicSpec,
    backend,
    ifname,
    slot: vm.nics.length + vm.devices.length,
  });
  backend.attach(fe);
  // MSI-X enable: one eventfd per vector (the KVM irqfds), then the guest binds its driver
  const vectors = nicSpec.vectors;
  vdev.setMsixEventfds(0, Array.from({ length: vectors }, () => vm.kvm.eventfd()));
  if (port !== undefined) {
    eswitchFor(lab, port).add(
      mac,
      (frame, len, t, flow, seq) => engine.receive(frame, len, t, flow, seq),
    );
  }
  const guest = new GuestVirtioNet(lab, vm, fe, {
    ifname,
    driverFeatures: vm.spec.guest.netDriverFeatures,
  });
  guest.probe(lab.now);
  return ok(
    new VfioVf(lab, {
      ...(spec.id !== undefined ? { id: spec.id } : {}),
      ifname,
      endpoint: guest,
      backend,
      container,
      group: g,
      device: vdev,
      handles,
      dev,
    }),
  );
}

/** The registry entry. */
export const VFIO_PCI_DEVICE: VmDeviceFactory = {
  kind: "vfio-pci",
  create: createVfio,
};
