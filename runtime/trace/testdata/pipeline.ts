/**
 * A small but complete TX pipeline for the tests of the engine, the recorder, the metrics and
 * the exports: guest xmit on a vCPU → kick (light VM exit + ioeventfd) → vhost-style worker
 * (wake-up, pop, translate, copy, tap write) → 10G wire → sink that verifies every byte.
 * Real frames, real scheduler, real contexts and real accounting; costs are the cost-model
 * §4 defaults written out, so the fixture does not depend on stdlib.
 *
 * This is a test fixture for the infrastructure, not a datapath model: the datapaths are
 * built elsewhere on the same pieces.
 *
 * @module
 */

import { Scheduler } from "../../sim/scheduler.ts";
import type { CpuContext } from "../../sim/cpu_context.ts";
import { qemuMac } from "../../traffic/address.ts";
import { FlowSchedule, FlowSink, planUdpFlow, type RateSpec } from "../../traffic/flow.ts";
import { serializationNs } from "../../traffic/line_rate.ts";
import { TrafficSource } from "../../traffic/source.ts";
import { Counter, type FlowMetrics, Metrics } from "../metrics.ts";
import { Recorder, type TraceLevel } from "../recorder.ts";

/** Options of {@link runPipeline}. */
export interface PipelineOptions {
  count: number;
  frameBytes?: number;
  rate?: RateSpec;
  burst?: number;
  level?: TraceLevel;
  /** TX ring slots (default 256). */
  ringSize?: number;
  /** Extra per-packet worker cost, to move the bottleneck (default 0). */
  workerExtraNs?: number;
  linkBps?: number;
  samplePackets?: number;
  maxEvents?: number;
}

/** What a run leaves behind. */
export interface PipelineRun {
  readonly sched: Scheduler;
  readonly metrics: Metrics;
  readonly recorder: Recorder;
  readonly flow: FlowMetrics;
  readonly schedule: FlowSchedule;
  readonly sink: FlowSink;
}

const COST = {
  guest_xmit: 300,
  vmexit_light: 700,
  ioeventfd_signal: 100,
  thread_wakeup_remote: 3000,
  vring_desc_fetch_and_used_update: 60,
  gpa_to_hva_translate: 20,
  memcpy: 10,
  memcpy_per_byte: 0.1,
  tap_write_kernel: 700,
  irq_inject_posted: 400,
  wire_latency: 250,
};

/** Runs the pipeline to completion. */
export function runPipeline(o: PipelineOptions): PipelineRun {
  const sched = new Scheduler();
  const metrics = new Metrics();
  const recorder = new Recorder({
    level: o.level ?? "sample",
    samplePackets: o.samplePackets ?? 8,
    ...(o.maxEvents !== undefined ? { maxEvents: o.maxEvents } : {}),
  });
  const vcpu = metrics.addContext("vcpu", "vcpu0");
  const worker = metrics.addContext("vhost", "vhost-4242");
  const wire = metrics.addContext("wire", "wire-eth0");
  const linkBps = o.linkBps ?? 10e9;
  const flow = metrics.addFlow("t1");
  recorder.addFlow("t1");
  const plan = planUdpFlow({
    flowId: flow.index + 1,
    frameBytes: o.frameBytes ?? 64,
    count: o.count,
    rate: o.rate ?? { kind: "line", linkBps },
    burst: o.burst ?? 1,
    srcMac: qemuMac(0),
    dstMac: qemuMac(1),
    srcIp: 0x0a000001,
    dstIp: 0x0a000002,
  });
  if (!plan.ok) throw new Error(`bad fixture spec: ${JSON.stringify(plan.error)}`);
  const schedule = plan.value;
  const sink = new FlowSink(flow, schedule);
  const ringSize = o.ringSize ?? 256;
  const slots = Array.from({ length: ringSize }, () => new Uint8Array(schedule.frameLength));
  const slotSeq = new Float64Array(ringSize);
  const slotSent = new Float64Array(ringSize);
  let availIdx = 0; // next slot the guest fills
  let usedIdx = 0; // next slot the worker takes
  let workerScheduled = false;
  const f = flow.index;
  const name = flow.name;

  /** Records a hop that started at `at` (default: the context's last job). */
  function hop(
    ctx: CpuContext,
    comp: string,
    seq: number,
    dur: number,
    action: Parameters<typeof recorder.hop>[0]["action"],
    details: Record<string, unknown>,
    at = ctx.lastStart,
  ): void {
    if (recorder.wants(name, seq) || action === "drop") {
      recorder.hop({
        type: "hop",
        t: at,
        dur,
        ctx: ctx.name,
        comp,
        action,
        flow: name,
        pkt: seq,
        details: details as never,
      });
    }
  }

  function onBurst(now: number, first: number): void {
    const last = Math.min(first + schedule.burst - 1, schedule.count);
    let t = now;
    let queued = 0;
    for (let seq = first; seq <= last; seq++) {
      flow.onSend(now, schedule.frameBytes);
      t = vcpu.exec(t, COST.guest_xmit, f);
      hop(vcpu, "guest.virtio-net", seq, COST.guest_xmit, "xmit", {
        dev: "eth0",
        bytes: schedule.frameLength,
        q: "tx0",
      });
      if (availIdx - usedIdx >= ringSize) {
        flow.onDrop(t, "ring_full");
        if (recorder.wantsDrop(name, seq, "ring_full")) {
          hop(vcpu, "guest.virtio-net", seq, 0, "drop", { reason: "ring_full", detail: "tx0" }, t);
        }
        continue;
      }
      const slot = availIdx % ringSize;
      schedule.buildFrame(slots[slot] as Uint8Array, seq);
      slotSeq[slot] = seq;
      slotSent[slot] = now;
      availIdx++;
      queued++;
      hop(vcpu, "guest.virtio-net", seq, 0, "add-avail", {
        q: "tx0",
        head: slot,
        descs: 1,
        bytes: schedule.frameLength + 12,
        avail: availIdx & 0xffff,
      }, t);
    }
    if (queued === 0) return;
    // One kick per burst: a light exit, KVM signals the ioeventfd.
    const lastSeq = last;
    t = vcpu.exec(t, COST.vmexit_light, f);
    flow.add(Counter.kicks);
    flow.add(Counter.vmexits);
    hop(vcpu, "kvm", lastSeq, COST.vmexit_light, "vmexit", {
      reason: "ept-misconfig",
      exit: "light",
      q: "tx0",
    });
    t = vcpu.exec(t, COST.ioeventfd_signal, f);
    hop(vcpu, "kvm", lastSeq, COST.ioeventfd_signal, "ioeventfd", { q: "tx0" });
    if (!workerScheduled) {
      workerScheduled = true;
      sched.at(t, runWorker);
    }
  }

  function runWorker(now: number): void {
    workerScheduled = false;
    let t = now;
    if (worker.isIdleAt(now)) {
      t = worker.exec(now, COST.thread_wakeup_remote, f);
      flow.add(Counter.wakeups);
      const seq = slotSeq[usedIdx % ringSize] as number;
      hop(worker, "vhost-net", seq, COST.thread_wakeup_remote, "wakeup", { thread: "vhost-4242" });
    }
    let done = 0;
    while (usedIdx < availIdx && done < 256) {
      const slot = usedIdx % ringSize;
      const seq = slotSeq[slot] as number;
      const sentAt = slotSent[slot] as number;
      const frame = slots[slot] as Uint8Array;
      const extra = o.workerExtraNs ?? 0;
      t = worker.exec(t, COST.vring_desc_fetch_and_used_update + extra, f);
      flow.add(Counter.descriptors);
      hop(worker, "vhost-net", seq, COST.vring_desc_fetch_and_used_update + extra, "pop", {
        q: "tx0",
        head: slot,
        descs: 1,
        bytes: frame.length + 12,
      });
      t = worker.exec(t, COST.gpa_to_hva_translate, f);
      flow.add(Counter.translations);
      hop(worker, "vhost-net", seq, COST.gpa_to_hva_translate, "translate", {
        space: "gpa-hva",
        addr: 0x100000 + slot * 2048,
        to: 0x7f0000100000 + slot * 2048,
        len: frame.length + 12,
      });
      const copy = COST.memcpy + COST.memcpy_per_byte * frame.length;
      t = worker.exec(t, copy, f);
      flow.add(Counter.copies);
      flow.add(Counter.bytes_copied, frame.length);
      hop(worker, "tun", seq, copy, "copy", { bytes: frame.length, from: "guest", to: "skb" });
      t = worker.exec(t, COST.tap_write_kernel, f);
      hop(worker, "tap0", seq, COST.tap_write_kernel, "xmit", { dev: "tap0", bytes: frame.length });
      const ser = serializationNs(schedule.frameBytes, linkBps);
      const wireEnd = wire.exec(t, ser, f);
      hop(wire, "eth0", seq, ser, "serialize", {
        link: "eth0",
        bytes: schedule.frameBytes,
        bps: linkBps,
      });
      const copyOut = frame.slice();
      sched.at(wireEnd + COST.wire_latency, (at) => {
        const outcome = sink.receiveUdp(at, copyOut, sentAt);
        if (outcome === "delivered") {
          if (recorder.wants(name, seq)) {
            recorder.hop({
              type: "hop",
              t: at,
              dur: 0,
              ctx: "wire-eth0",
              comp: "sink",
              action: "deliver",
              flow: name,
              pkt: seq,
              details: { dev: "peer", bytes: schedule.frameBytes, latency: at - sentAt },
            });
          }
        }
      });
      usedIdx++;
      done++;
    }
    // One interrupt for the batch: posted, no exit.
    if (done > 0) {
      t = worker.exec(t, COST.irq_inject_posted, f);
      flow.add(Counter.interrupts_posted);
      const seq = slotSeq[(usedIdx - 1) % ringSize] as number;
      hop(worker, "kvm", seq, COST.irq_inject_posted, "irq", {
        q: "tx0",
        via: "posted",
        vector: 2,
      });
    }
    if (usedIdx < availIdx && !workerScheduled) {
      workerScheduled = true;
      sched.at(t, runWorker);
    }
  }

  new TrafficSource(schedule, { sched, onBurst: (now, first) => onBurst(now, first) }).start();
  sched.run();
  return { sched, metrics, recorder, flow, schedule, sink };
}
