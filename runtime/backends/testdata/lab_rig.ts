/**
 * Whole-lab fixtures for backend tests: a {@link Lab} booted with the test host catalog and
 * a cost profile written out here (runtime/ cannot import stdlib's), and VM specs shaped like
 * what stdlib/vm_spec.ts makes of a QEMU line. Test data only.
 *
 * @module
 */

import { Lab } from "../../lab.ts";
import { COST_KEYS, type CostEntry, type CostKey, type CostProfile } from "../../sim/cost.ts";
import type { TraceLevel } from "../../trace/recorder.ts";
import type { DeviceSpec, NetdevSpec, VirtioNetDeviceSpec, VmSpec } from "../../qemu/vm_spec.ts";
import { featureMask } from "../../virtio/features.ts";
import { TEST_HOST_CATALOG } from "./host_catalog.ts";

/** cost-model.md §4 defaults (the keys the datapaths charge), 100 ns for the rest. */
const NS: Partial<Record<CostKey, number>> = {
  vmexit_light: 700,
  vmexit_to_userspace: 2000,
  ioeventfd_signal: 100,
  thread_wakeup_remote: 3000,
  irq_inject_posted: 400,
  irq_inject_exit_based: 1500,
  guest_irq_to_napi: 500,
  syscall: 150,
  memcpy: 10,
  vring_desc_fetch_and_used_update: 60,
  hw_doorbell_mmio: 150,
  vdpa_kick_via_vhost_vdpa: 1000,
  iotlb_hit_hw: 0,
  iotlb_miss_hw: 400,
  vdpa_sim_per_packet: 1200,
  svq_relay_per_packet: 1500,
  guest_xmit: 300,
  guest_rx_per_packet: 300,
  napi_poll: 200,
  pcie_dma_latency: 500,
  wire_latency: 250,
};

/** The profile the backend tests run with. */
export function testProfile(): CostProfile {
  const entries = Object.fromEntries(COST_KEYS.map((k): [CostKey, CostEntry] => [k, {
    ns: NS[k] ?? 100,
    perByteNs: k === "memcpy" ? 0.1 : 0,
    cycles: true,
    charge: k === "pcie_dma_latency" || k === "wire_latency" ? "delay" : "cpu",
    basis: "backend test profile",
  }])) as Record<CostKey, CostEntry>;
  return { name: "test", referenceGhz: 3, entries };
}

/** A lab with the vDPA/VFIO/mlx5 modules available. */
export function testLab(level: TraceLevel = "sample"): Lab {
  return new Lab({
    hostCatalog: TEST_HOST_CATALOG,
    costProfile: testProfile(),
    trace: { level, samplePackets: 4 },
  });
}

/** Linux virtio_net's feature table (stdlib/catalog/kernel_modules.ts). */
export const GUEST_NET_FEATURES: bigint = featureMask(
  0,
  1,
  2,
  3,
  5,
  7,
  8,
  9,
  10,
  11,
  12,
  13,
  14,
  15,
  16,
  17,
  18,
  19,
  21,
  22,
  23,
  28,
  29,
  32,
  33,
  34,
  36,
  38,
  40,
  52,
  53,
  54,
  55,
  56,
  57,
  59,
  60,
  62,
  63,
);

/** A virtio-net-pci with QEMU's defaults, on netdev 0. */
export function virtioNet(o: Partial<VirtioNetDeviceSpec> = {}): VirtioNetDeviceSpec {
  return {
    kind: "virtio-net-pci",
    at: { device: 0 },
    netdev: 0,
    mac: "52:54:00:12:34:56",
    mq: false,
    vectors: 3,
    rxQueueSize: 256,
    txQueueSize: 256,
    hostMtu: 0,
    packed: false,
    eventIdx: true,
    indirectDesc: true,
    mrgRxbuf: true,
    ctrlVq: true,
    inOrder: false,
    iommuPlatform: false,
    ats: false,
    queueReset: true,
    ioeventfd: true,
    pagePerVq: false,
    disableLegacy: true,
    featureProps: {},
    tx: "bh",
    txBurst: 256,
    ...o,
  };
}

/** `-netdev type=vhost-vdpa,vhostdev=PATH,id=ID`. */
export function vhostVdpaNetdev(
  path = "/dev/vhost-vdpa-0",
  o: { svq?: boolean; queues?: number } = {},
): NetdevSpec {
  return {
    kind: "vhost-vdpa",
    id: "vdpa0",
    queues: o.queues ?? 1,
    at: { netdev: 0 },
    index: 0,
    vhostdev: path,
    svq: o.svq ?? false,
  };
}

/** A q35 KVM guest with 2 GiB, one vCPU, the given netdevs and devices. */
export function vmSpec(
  name: string,
  netdevs: readonly NetdevSpec[],
  devices: readonly DeviceSpec[],
): VmSpec {
  return {
    name,
    machine: "q35",
    accel: "kvm",
    kernelIrqchip: "split",
    ramSize: 2 * 2 ** 30,
    ram: [{
      name: "mem0",
      size: 2 * 2 ** 30,
      shared: true,
      hugepages: false,
      fd: true,
      at: { object: 0 },
    }],
    cpus: 2,
    chardevs: [],
    netdevs,
    devices,
    guest: { netDriverFeatures: GUEST_NET_FEATURES },
  };
}
