/**
 * A small engine for device datapath tests: a scheduler, a recorder, metrics, the hop
 * helper with a cost profile written out here (runtime/ cannot import stdlib's), a traffic
 * table, and a guest-side driver queue pair over guest memory with a QEMU-style HVA
 * mapping. Test fixture only: the pieces are the real engine's.
 *
 * @module
 */

import { Scheduler } from "../../sim/scheduler.ts";
import { COST_KEYS, type CostEntry, type CostKey, resolveCosts } from "../../sim/cost.ts";
import type { CpuContext, CpuContextKind } from "../../sim/cpu_context.ts";
import { Metrics } from "../../trace/metrics.ts";
import { Recorder, type TraceLevel } from "../../trace/recorder.ts";
import { Hops } from "../../datapath/hop.ts";
import { FlowTable, type TrafficFlow } from "../../datapath/flow_table.ts";
import { GuestMemory } from "../../memory/guest_memory.ts";
import { HostRam } from "../../host/host_ram.ts";
import { FlowSink, planUdpFlow } from "../../traffic/flow.ts";
import type { DeviceEnv } from "../device_env.ts";
import type { MemoryView } from "../vdpa_device.ts";
import type { WorkerControl } from "../vdpa_sim_net_worker.ts";

/** A control-plane note as the workers emit it. */
export type ControlStep = Parameters<WorkerControl["control"]>[0];

/** cost-model.md §4 defaults for the keys the device tests touch; 100 ns for the rest. */
const NS: Partial<Record<CostKey, number>> = {
  thread_wakeup_remote: 3000,
  vdpa_sim_per_packet: 1200,
  memcpy: 10,
  ioeventfd_signal: 100,
  irq_inject_posted: 400,
  hw_doorbell_mmio: 150,
  vdpa_kick_via_vhost_vdpa: 1000,
  iotlb_hit_hw: 0,
  iotlb_miss_hw: 400,
  pcie_dma_latency: 500,
  wire_latency: 250,
};

/** The rig's costs. */
export function testCosts() {
  const entries = Object.fromEntries(COST_KEYS.map((k): [CostKey, CostEntry] => [k, {
    ns: NS[k] ?? 100,
    perByteNs: k === "memcpy" ? 0.1 : 0,
    cycles: false,
    charge: k === "pcie_dma_latency" || k === "wire_latency" ? "delay" : "cpu",
    basis: "test rig",
  }])) as Record<CostKey, CostEntry>;
  return resolveCosts({ name: "rig", referenceGhz: 3, entries });
}

/** The rig. */
export interface Rig extends DeviceEnv {
  readonly metrics: Metrics;
  readonly recorder: Recorder;
  readonly mem: GuestMemory;
  readonly ram: HostRam;
  /** QEMU's view of guest memory: HVA → guest memory address. */
  readonly qemuMm: MemoryView;
  /** Guest RAM as QEMU maps it for vhost-vdpa: GPA, size, HVA. */
  readonly ramSection: { readonly gpa: number; readonly size: number; readonly hva: number };
  readonly steps: ControlStep[];
  control(step: ControlStep): void;
  /** A traffic of `count` 64-byte frames from `src` to `dst` MAC, registered in the table. */
  traffic(name: string, src: readonly number[], dst: readonly number[], count: number): TrafficFlow;
}

/** Guest RAM size of the rig (64 MiB at GPA 0). */
export const RIG_RAM = 64 << 20;
/** Where QEMU maps it. */
export const RIG_HVA = 0x7f00_0000_0000;

/** A fresh rig. */
export function rig(level: TraceLevel = "sample"): Rig {
  const sched = new Scheduler();
  const metrics = new Metrics();
  const recorder = new Recorder({ level, samplePackets: 8 });
  const hops = new Hops(recorder, testCosts());
  const flows = new FlowTable();
  const mem = new GuestMemory();
  mem.addRegion({ name: "pc.ram", gpa: 0, size: RIG_RAM });
  const ram = new HostRam();
  ram.back({ owner: "qemu:vm1", name: "pc.ram", size: RIG_RAM, mem, gpa: 0, hva: RIG_HVA });
  const contexts = new Map<string, CpuContext>();
  const steps: ControlStep[] = [];
  return {
    sched,
    hops,
    flows,
    metrics,
    recorder,
    mem,
    ram,
    steps,
    qemuMm: { name: "qemu:vm1", mem, toMem: ram.hvaToMem("qemu:vm1") },
    ramSection: { gpa: 0, size: RIG_RAM, hva: RIG_HVA },
    control: (s) => steps.push(s),
    context(kind: CpuContextKind, name: string): CpuContext {
      let c = contexts.get(name);
      if (c === undefined) {
        c = metrics.addContext(kind, name);
        contexts.set(name, c);
      }
      return c;
    },
    traffic(name, src, dst, count) {
      const fm = metrics.addFlow(name);
      recorder.addFlow(name);
      const plan = planUdpFlow({
        flowId: flows.nextId,
        frameBytes: 64,
        count,
        rate: { kind: "pps", pps: 1e6 },
        srcMac: new Uint8Array(src),
        dstMac: new Uint8Array(dst),
        srcIp: 0x0a000001,
        dstIp: 0x0a000002,
      });
      if (!plan.ok) throw new Error("plan");
      const f: TrafficFlow = {
        name,
        id: flows.nextId,
        kind: "udp",
        metrics: fm,
        schedule: plan.value,
        sink: new FlowSink(fm, plan.value),
      };
      flows.add(f);
      return f;
    },
  };
}
