/**
 * The `--json` forms of `show`: plain objects with stable snake_case field names, for a
 * program to consume (`vdpa-lab run --json`, `show vq vm1.eth0 tx0 --json`). Each function
 * reads live state and returns data; `show` prints it with `JSON.stringify(…, null, 2)`.
 *
 * | subject | shape |
 * |---|---|
 * | `topology`, `graph` | the topology model (runtime/graph/topology.ts): `groups`, `lanes`, `nodes`, `edges`, `processes` |
 * | `stats [T]` | flow summaries (runtime/trace/metrics.ts) |
 * | `vq EP Q` | {@link vqJson} |
 * | `vhost EP` | {@link vhostJson} |
 * | `features EP` | {@link featuresJson} |
 * | `iommu [VM]` | {@link iommuJson} |
 * | `log` | control-plane events as recorded (`t`, `dur`, `ctx`, `comp`, `action`, `details`) |
 * | `modules` | {@link modulesJson} |
 * | `flows` | {@link flowsJson} |
 *
 * @example
 * ```ts
 * import { snakeKeys } from "./show_json.ts";
 * const o = snakeKeys({ kicksSuppressed: 2, availIdx: 7 });
 * if (JSON.stringify(o) !== '{"kicks_suppressed":2,"avail_idx":7}') throw new Error(JSON.stringify(o));
 * ```
 *
 * @module
 */

import type { LabFlow } from "../../runtime/lab.ts";
import type { LsmodEntry } from "../../runtime/host/kernel.ts";
import type { GuestVirtioNet } from "../../runtime/qemu/guest/virtio_net.ts";
import type { Iommu } from "../../runtime/iommu/iommu.ts";
import type { Viommu } from "../../runtime/iommu/viommu.ts";
import { interruptPath, kickPath } from "../../runtime/graph/topology.ts";
import { featureNames } from "../../runtime/virtio/features.ts";

/** A copy of `o` with camelCase keys in snake_case (one level). */
export function snakeKeys(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  }
  return out;
}

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

/** The queue index of `rx0`/`tx0`/… (virtio-net numbering), or -1. */
export function queueIndex(q: string): number {
  const m = /^(rx|tx)(\d+)$/.exec(q);
  return m ? 2 * Number(m[2]) + (m[1] === "tx" ? 1 : 0) : -1;
}

/** `show vq EP Q --json`: both sides of one virtqueue; undefined when there is no such queue. */
export function vqJson(g: GuestVirtioNet, q: string): Record<string, unknown> | undefined {
  const drv = g.queue(q);
  if (drv === undefined) return undefined;
  const index = queueIndex(q);
  const ring = index >= 0 ? g.dev.backend?.deviceRing?.(index) : undefined;
  const pos = (x: number | { slot: number; wrap: number }) =>
    typeof x === "number" ? x : { slot: x.slot, wrap: x.wrap };
  return {
    endpoint: g.name,
    queue: q,
    layout: drv.layout,
    size: drv.size,
    free: drv.numFree,
    driver: {
      ...snakeKeys(drv.inspect()),
      counters: snakeKeys(drv.counters),
      broken: drv.fault ?? null,
    },
    device: ring === undefined ? null : {
      backend: g.dev.backend?.label ?? null,
      next_avail: pos(ring.nextAvail),
      next_used: pos(ring.nextUsed),
      in_flight: ring.inFlight,
      counters: snakeKeys(ring.counters),
      stopped: ring.fault ?? null,
    },
  };
}

/** `show vhost EP --json`: the backend, its notify paths and its datapath table. */
export function vhostJson(g: GuestVirtioNet): Record<string, unknown> {
  const b = g.dev.backend;
  if (b === undefined) return { endpoint: g.name, netdev: null };
  const steps = (s: readonly { role: string; key: string; what: string; perBatch?: boolean }[]) =>
    s.map((x) => ({ role: x.role, key: x.key, what: x.what, per_batch: x.perBatch ?? false }));
  return {
    endpoint: g.name,
    netdev: b.id,
    type: b.type,
    backend: b.label,
    host_netdev: b.hostNetdev ?? null,
    host_notifier: b.hostNotifier,
    max_queue_pairs: b.maxQueuePairs,
    features: hex(b.features),
    notify: { kick: kickPath(b.path, b.hostNotifier), interrupt: interruptPath(b.path) },
    state: b.describe().map((l) => l.trim()),
    datapath: {
      name: b.path.name,
      qemu_in_path: b.path.qemuInPath,
      copies: b.path.copies,
      kick: steps(b.path.kick),
      tx: steps(b.path.tx),
      rx: steps(b.path.rx),
      interrupt: steps(b.path.interrupt),
    },
  };
}

/** `show features EP --json`: offered, driver-accepted and negotiated bits, and the status. */
export function featuresJson(g: GuestVirtioNet): Record<string, unknown> {
  const dev = g.dev;
  const neg = dev.status.negotiated;
  return {
    endpoint: g.name,
    netdev: dev.backend?.id ?? null,
    backend: dev.backend?.label ?? null,
    status: dev.status.value,
    status_names: dev.status.describe().split(" ").filter((s) => s !== ""),
    offered: hex(dev.features),
    offered_names: featureNames(dev.features),
    driver: hex(g.features),
    negotiated: hex(neg),
    negotiated_names: featureNames(neg),
  };
}

/** `show iommu [VM] --json`: mode, groups, domains with mappings, IOTLB and fault counters. */
export function iommuJson(
  iommu: Iommu,
  viommu?: { readonly name: string; readonly viommu: Viommu },
): Record<string, unknown> {
  const faults = (log: { total: number; records(): readonly object[] }) => ({
    total: log.total,
    records: log.records().map((f) => snakeKeys(f)),
  });
  return {
    mode: iommu.mode,
    address_width: iommu.config.addressWidth,
    groups: iommu.groups().map((g) => snakeKeys(g)),
    domains: iommu.domains().map((d) => ({
      ...snakeKeys(d),
      ranges: d.ranges.map((r) => snakeKeys(r)),
    })),
    iotlb: snakeKeys(iommu.iotlb.stats()),
    stats: snakeKeys(iommu.stats()),
    faults: faults(iommu.faults),
    viommu: viommu === undefined ? null : {
      vm: viommu.name,
      model: viommu.viommu.config.model,
      devices: viommu.viommu.devices().map((rid) => ({
        rid,
        ranges: viommu.viommu.ranges(rid).map((r) => snakeKeys(r)),
      })),
      faults: faults(viommu.viommu.faults),
    },
  };
}

/** `show modules --json`: lsmod's columns. */
export function modulesJson(mods: readonly LsmodEntry[]): Record<string, unknown>[] {
  return mods.map((m) => ({ name: m.name, size: m.size, used_by: m.usedBy, holders: m.holders }));
}

/** `show flows --json`: each traffic and ping as declared, and how far it got. */
export function flowsJson(flows: readonly LabFlow[]): Record<string, unknown>[] {
  return flows.map((f) => ({
    name: f.name,
    kind: f.kind,
    from: f.src.name,
    to: f.dst.name,
    frame_bytes: f.schedule.frameBytes,
    count: f.schedule.count,
    sent: f.metrics.sent,
    delivered: f.metrics.delivered,
    dropped: f.metrics.dropped,
    done: f.source.done,
    stopped: f.source.stopped,
  }));
}
