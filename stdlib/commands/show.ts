/**
 * `show topology | graph | stats [T] | vq EP Q | vhost EP | features EP | log | flows |
 * modules | iommu [VM] [--json]`:
 *
 * - `topology`: the I/O stack as text, per VM then the host, and the processes (`kill` takes
 *   their pids) — rendered from the one topology model (runtime/graph/topology.ts);
 * - `graph`: the same model drawn in the terminal with box-drawing characters, one column per
 *   guest interface or host consumer (runtime/graph/draw.ts); `export graph to F.dot|F.mmd`
 *   writes it for Graphviz or Mermaid;
 * - `stats`: with no traffic, one comparison table across every traffic; with one, its full
 *   summary (runtime/trace/stats_text.ts);
 * - `vq vm1.eth0 tx0`: the live state of a virtqueue, as the guest and the device see it;
 * - `vhost vm1.eth0`: the backend's state and its datapath table;
 * - `features vm1.eth0`: offered and negotiated feature bits, status;
 * - `log`: every control-plane event so far; `flows`: the traffics; `modules`: lsmod's names.
 *
 * Every subject takes `--json` (shapes in show_json.ts).
 *
 * @module
 */

import { error } from "../../lang/diagnostic.ts";
import type { DottedName, Show } from "../../lang/commands/mod.ts";
import { GuestVirtioNet } from "../../runtime/qemu/guest/virtio_net.ts";
import type { Vm } from "../../runtime/qemu/vm.ts";
import { formatPath } from "../../runtime/datapath/path_table.ts";
import { formatEvents } from "../../runtime/trace/format.ts";
import { formatFlowSummary, renderSummaryTable } from "../../runtime/trace/stats_text.ts";
import { showIommu } from "../../runtime/iommu/show.ts";
import { buildTopology } from "../../runtime/graph/topology.ts";
import { drawTopology } from "../../runtime/graph/draw.ts";
import { topologyText } from "../../runtime/graph/text.ts";
import {
  featuresJson,
  flowsJson,
  iommuJson,
  modulesJson,
  queueIndex,
  vhostJson,
  vqJson,
} from "./show_json.ts";
import { didYouMean } from "../../lang/suggest.ts";
import type { ExecContext, Executor, ExecutorTable } from "../exec.ts";
import { ensureCostProfile } from "./run.ts";

/** A passthrough VF's guest interface (its driver is the lab's virtio_net, see vfio.ts). */
function passthroughNic(vm: Vm | undefined, ifname: string): GuestVirtioNet | undefined {
  const e = vm?.devices.find((d) => d.ifname === ifname)?.endpoint;
  return e instanceof GuestVirtioNet ? e : undefined;
}

/** The guest interface an endpoint name names, or a diagnostic. */
function guestNic(cx: ExecContext, target: DottedName): GuestVirtioNet | undefined {
  const [vmName, ifname] = [target.parts[0]?.value ?? "", target.parts[1]?.value ?? ""];
  const vm = cx.lab.vm(vmName);
  const g = vm?.guestNic(ifname) ?? passthroughNic(vm, ifname);
  if (g !== undefined) return g;
  const known = cx.lab.vms.flatMap((v) => [
    ...v.guestNics.map((n) => n.name),
    ...v.devices.filter((d) => d.endpoint instanceof GuestVirtioNet).map((d) =>
      `${v.name}.${d.ifname}`
    ),
  ]);
  const help = didYouMean(target.text, known);
  cx.diagnostics.push(error("E0508", `no virtio-net interface \`${target.text}\``, {
    span: target.span,
    label: vm === undefined ? `no VM \`${vmName}\`` : `\`${vmName}\` has no such interface`,
    ...(known.length > 0 ? { notes: [`interfaces: ${known.join(", ")}`] } : {}),
    ...(help ? { help: [help] } : {}),
  }));
  return undefined;
}

function vqText(g: GuestVirtioNet, q: string): string | undefined {
  const drv = g.queue(q);
  if (drv === undefined) return undefined;
  const c = drv.counters;
  const i = drv.inspect() as unknown as Record<string, number>;
  const lines = [
    `${g.name} ${q}: ${drv.layout} ring, size ${drv.size}, ${drv.numFree} descriptors free`,
    `  driver: ${Object.entries(i).map(([k, v]) => `${k}=${v}`).join(" ")}`,
    `  driver counters: added ${c.added} kicks ${c.kicks} kicks_suppressed ${c.kicksSuppressed} ` +
    `reclaimed ${c.reclaimed} interrupts ${c.interrupts} spurious ${c.spuriousInterrupts} ` +
    `full ${c.full} faults ${c.faults}`,
  ];
  if (drv.fault !== undefined) lines.push(`  broken: ${JSON.stringify(drv.fault)}`);
  const index = queueIndex(q);
  const ring = index >= 0 ? g.dev.backend?.deviceRing?.(index) : undefined;
  if (ring !== undefined) {
    const d = ring.counters;
    const pos = (x: number | { slot: number; wrap: number }) =>
      typeof x === "number" ? `${x}` : `${x.slot} wrap ${x.wrap}`;
    lines.push(
      `  device (${g.dev.backend?.label}): next_avail ${pos(ring.nextAvail)} next_used ${
        pos(ring.nextUsed)
      } in flight ${ring.inFlight}`,
      `  device counters: notifications ${d.notifications} popped ${d.popped} used ${d.used} ` +
        `flushes ${d.usedFlushes} interrupts ${d.interrupts} suppressed ${d.interruptsSuppressed} ` +
        `not_ready ${d.notReady} faults ${d.faults}`,
    );
    if (ring.fault !== undefined) lines.push(`  device stopped: ${JSON.stringify(ring.fault)}`);
  }
  return lines.join("\n");
}

const STATS_COLUMNS = [
  { header: "Mpps", path: "mpps", decimals: 3 },
  { header: "Gbit/s", path: "gbps", decimals: 2 },
  { header: "p50 us", path: "latency.p50_ns", decimals: 1, scale: 1e-3 },
  { header: "p99 us", path: "latency.p99_ns", decimals: 1, scale: 1e-3 },
  { header: "exits/pkt", path: "per_packet.vmexits", decimals: 3 },
  { header: "kicks/pkt", path: "per_packet.kicks", decimals: 3 },
  { header: "irqs/pkt", path: "per_packet.interrupts", decimals: 3 },
  { header: "copies/pkt", path: "per_packet.copies", decimals: 2 },
  { header: "u/k sw/pkt", path: "per_packet.user_kernel_switches", decimals: 2 },
  { header: "syscalls/pkt", path: "per_packet.syscalls", decimals: 2 },
  { header: "cpu ns/pkt", path: "cpu_ns_per_packet", decimals: 0 },
  { header: "bottleneck", path: "bottleneck" },
];

/** `show stats 'lat_*'`: a shell-style pattern (`*`, `?`) over traffic names. */
function namePattern(text: string): RegExp | undefined {
  if (!/[*?]/.test(text)) return undefined;
  const src = text.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${src}$`);
}

/** Prints `value` as JSON (2-space indent) or `text`, as the command asked. */
function out(cx: ExecContext, json: boolean, value: () => unknown, text: () => string): void {
  cx.print(json ? `${JSON.stringify(value(), null, 2)}\n` : `${text()}\n`);
}

const show: Executor<Show> = (cmd, cx) => {
  const lab = cx.lab;
  const s = cmd.subject;
  const json = cmd.json || cx.settings.json;
  if (cx.mode === "check" && (s.kind === "stats" || s.kind === "log")) return;
  switch (s.kind) {
    case "topology":
      out(cx, json, () => buildTopology(lab), () => topologyText(buildTopology(lab)));
      return;
    case "graph":
      out(cx, json, () => buildTopology(lab), () => drawTopology(buildTopology(lab)));
      return;
    case "log":
      out(cx, json, () => lab.controlLog, () => formatEvents(lab.controlLog));
      return;
    case "flows":
      out(
        cx,
        json,
        () => flowsJson(lab.traffics),
        () =>
          lab.traffics.map((f) =>
            `${f.name}: ${f.kind} ${f.src.name} -> ${f.dst.name}, ${f.schedule.frameBytes} B × ${f.schedule.count}${
              f.source.stopped ? ` (stopped after ${f.metrics.sent})` : ""
            }`
          ).join("\n"),
      );
      return;
    case "modules":
      out(
        cx,
        json,
        () => modulesJson(lab.host.lsmod()),
        () => lab.host.lsmod().map((m) => m.name).join("\n"),
      );
      return;
    case "stats": {
      ensureCostProfile(lab);
      const all = lab.metrics.summaries();
      const pattern = s.target === undefined ? undefined : namePattern(s.target.text);
      if (s.target !== undefined && pattern === undefined) {
        const name = s.target.text;
        const one = all[name];
        if (one === undefined) {
          const help = didYouMean(name, Object.keys(all));
          cx.diagnostics.push(error("E0508", `no traffic named \`${name}\``, {
            span: s.target.span,
            label: "no such traffic",
            ...(help ? { help: [help] } : {}),
          }));
          return;
        }
        out(cx, json, () => one, () => formatFlowSummary(one));
        return;
      }
      const chosen = lab.traffics.filter((f) =>
        f.kind === "udp" && (pattern === undefined || pattern.test(f.name))
      );
      if (pattern !== undefined && chosen.length === 0 && s.target !== undefined) {
        cx.diagnostics.push(error("E0508", `no traffic matches \`${s.target.text}\``, {
          span: s.target.span,
          label: "matches nothing",
          notes: [`traffic: ${lab.traffics.map((f) => f.name).join(", ") || "none yet"}`],
        }));
        return;
      }
      const rows = chosen.map((f) => ({
        label: f.name,
        summary: all[f.name] as NonNullable<(typeof all)[string]>,
      }));
      const picked = Object.fromEntries(chosen.map((f) => [f.name, all[f.name]]));
      out(cx, json, () => picked, () => renderSummaryTable(rows, STATS_COLUMNS));
      return;
    }
    case "vq": {
      const g = guestNic(cx, s.target);
      if (g === undefined) return;
      const q = s.queue.value;
      const text = vqText(g, q);
      if (text === undefined) {
        cx.diagnostics.push(error("E0508", `\`${g.name}\` has no queue \`${q}\``, {
          span: s.queue.span,
          label: "no such queue",
          notes: [
            `queues: ${[...Array(g.pairs).keys()].flatMap((k) => [`rx${k}`, `tx${k}`]).join(", ")}${
              g.queue("ctrl") ? ", ctrl" : ""
            }`,
          ],
        }));
        return;
      }
      out(cx, json, () => vqJson(g, q), () => text);
      return;
    }
    case "vhost": {
      const g = guestNic(cx, s.target);
      if (g === undefined) return;
      const b = g.dev.backend;
      out(
        cx,
        json,
        () => vhostJson(g),
        () =>
          b === undefined
            ? `${g.name}: no netdev`
            : [...b.describe(), formatPath(b.path)].join("\n"),
      );
      return;
    }
    case "features": {
      const g = guestNic(cx, s.target);
      if (g === undefined) return;
      out(cx, json, () => featuresJson(g), () => g.dev.describeFeatures().join("\n"));
      return;
    }
    case "iommu": {
      const vm = s.target !== undefined ? lab.vm(s.target.text) : undefined;
      if (s.target !== undefined && vm === undefined) {
        const help = didYouMean(s.target.text, lab.vms.map((v) => v.name));
        cx.diagnostics.push(error("E0508", `no VM named \`${s.target.text}\``, {
          span: s.target.span,
          label: "no such VM",
          ...(help ? { help: [help] } : {}),
        }));
        return;
      }
      const viommu = vm?.viommu;
      const extra = viommu ? { name: vm?.name ?? "", viommu } : undefined;
      out(
        cx,
        json,
        () => iommuJson(lab.iommu, extra),
        () => showIommu(lab.iommu, extra ? { viommu: extra } : {}),
      );
      return;
    }
  }
};

/** The executors of this file. */
export const SHOW_EXECUTORS: ExecutorTable = { show };
