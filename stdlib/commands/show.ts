/**
 * `show topology | graph | stats [T] | vq EP Q | vhost EP | features EP | log | flows |
 * modules | iommu [VM] [--json]`:
 *
 * - `topology`: the I/O graph as text, per VM: guest driver → virtio-net-pci and its queues
 *   → backend (where it runs, what it costs) → host netdevs → bridge → NIC → wire; then the
 *   host's bridges and ports.
 * - `graph`: the same graph in Graphviz DOT (`export graph to F.mmd` writes Mermaid).
 * - `stats`: with no traffic, one comparison table across every traffic; with one, its full
 *   summary (runtime/trace/stats_text.ts).
 * - `vq vm1.eth0 tx0`: the live state of a virtqueue, as the guest and the device see it.
 * - `vhost vm1.eth0`: the backend's state and its datapath table.
 * - `features vm1.eth0`: offered and negotiated feature bits, status.
 * - `log`: every control-plane event so far.
 *
 * @module
 */

import { error } from "../../lang/diagnostic.ts";
import type { DottedName, Show } from "../../lang/commands/mod.ts";
import type { Lab } from "../../runtime/lab.ts";
import type { GuestVirtioNet } from "../../runtime/qemu/guest/virtio_net.ts";
import { formatPath } from "../../runtime/datapath/path_table.ts";
import { formatEvents } from "../../runtime/trace/format.ts";
import { formatFlowSummary, renderSummaryTable } from "../../runtime/trace/stats_text.ts";
import { formatMac } from "../../runtime/traffic/address.ts";
import { formatIpv4 } from "../../runtime/traffic/address.ts";
import { showIommu } from "../../runtime/iommu/show.ts";
import { didYouMean } from "../../lang/suggest.ts";
import type { ExecContext, Executor, ExecutorTable } from "../exec.ts";
import { ensureCostProfile } from "./run.ts";

/** One node of the I/O graph. */
export interface GraphNode {
  readonly id: string;
  readonly label: string;
  /** `guest`, `device`, `backend`, `netdev`, `wire`. */
  readonly layer: string;
}

/** The I/O graph: guest drivers, devices, backends, host netdevs, wires. */
export interface IoGraph {
  readonly nodes: GraphNode[];
  readonly edges: { from: string; to: string; label?: string }[];
}

/** Builds the graph of everything the lab has now. */
export function ioGraph(lab: Lab): IoGraph {
  const nodes: GraphNode[] = [];
  const edges: { from: string; to: string; label?: string }[] = [];
  const have = new Set<string>();
  const node = (id: string, label: string, layer: string) => {
    if (have.has(id)) return;
    have.add(id);
    nodes.push({ id, label, layer });
  };
  for (const vm of lab.vms) {
    for (const g of vm.guestNics) {
      const dev = g.dev;
      node(g.name, `${g.name} virtio_net`, "guest");
      const devId = `${g.name}/virtio-net-pci`;
      node(devId, `virtio-net-pci ${g.pairs} pair${g.pairs === 1 ? "" : "s"}`, "device");
      edges.push({ from: g.name, to: devId, label: "virtqueues" });
      const b = dev.backend;
      if (b === undefined) continue;
      const bId = `${vm.name}/${b.id}`;
      node(bId, `${b.label} (netdev ${b.id})`, "backend");
      edges.push({ from: devId, to: bId, label: b.hostNotifier ? "doorbell" : "ioeventfd/irqfd" });
      if (b.hostNetdev !== undefined) {
        node(b.hostNetdev, b.hostNetdev, "netdev");
        edges.push({ from: bId, to: b.hostNetdev });
      }
    }
    for (const d of vm.devices) {
      const id = `${vm.name}/${d.kind}${d.id ? `:${d.id}` : ""}`;
      node(id, `${d.kind}${d.ifname ? ` (${vm.name}.${d.ifname})` : ""}`, "device");
    }
  }
  for (const d of lab.host.net.list()) {
    if (d.kind === "loopback") continue;
    node(d.name, `${d.name} (${d.kind})`, "netdev");
    if (d.master !== undefined) {
      node(d.master, `${d.master} (bridge)`, "netdev");
      edges.push({ from: d.name, to: d.master, label: "port" });
    }
    if (d.kind === "phys") {
      const w = lab.net.wire(d.name);
      if (w !== undefined) {
        node(w.name, `${w.name} (${(w.bps / 1e9).toString()} Gbit/s)`, "wire");
        edges.push({ from: d.name, to: w.name });
      }
    }
  }
  return { nodes, edges };
}

function dotId(s: string): string {
  return JSON.stringify(s);
}

/** The graph as Graphviz DOT. */
export function graphDot(g: IoGraph): string {
  const lines = ["digraph vdpa_lab {", "  rankdir=LR;", "  node [shape=box];"];
  for (const n of g.nodes) lines.push(`  ${dotId(n.id)} [label=${dotId(n.label)}];`);
  for (const e of g.edges) {
    lines.push(
      `  ${dotId(e.from)} -> ${dotId(e.to)}${e.label ? ` [label=${dotId(e.label)}]` : ""};`,
    );
  }
  lines.push("}");
  return lines.join("\n");
}

/** The graph as a Mermaid flowchart. */
export function graphMermaid(g: IoGraph): string {
  const ids = new Map(g.nodes.map((n, i) => [n.id, `n${i}`]));
  const lines = ["flowchart LR"];
  for (const n of g.nodes) lines.push(`  ${ids.get(n.id)}["${n.label.replace(/"/g, "'")}"]`);
  for (const e of g.edges) {
    const arrow = e.label ? `-->|${e.label}|` : "-->";
    lines.push(`  ${ids.get(e.from)} ${arrow} ${ids.get(e.to)}`);
  }
  return lines.join("\n");
}

/** `show topology`. */
export function topologyText(lab: Lab): string {
  const out: string[] = [];
  for (const vm of lab.vms) {
    const ram = vm.spec.ramSize;
    out.push(
      `${vm.name}: qemu pid ${vm.pid}, ${vm.vcpus.length} vCPU${
        vm.vcpus.length === 1 ? "" : "s"
      }, ${ram >= 2 ** 30 ? `${ram / 2 ** 30} GiB` : `${ram / 2 ** 20} MiB`} RAM${
        vm.mem.regions().some((r) => r.shared) ? " (shared)" : ""
      }`,
    );
    for (const g of vm.guestNics) {
      const dev = g.dev;
      const b = dev.backend;
      const packed = dev.status.negotiated & (1n << 34n) ? "packed" : "split";
      out.push(
        `  ${g.ifname}: virtio_net ${formatMac(g.mac)} ${formatIpv4(g.ip)}, ${g.pairs} queue pair${
          g.pairs === 1 ? "" : "s"
        }, ${packed} rings` + (g.probeError ? ` (probe failed: ${g.probeError})` : ""),
      );
      out.push(
        `    -> virtio-net-pci: ${dev.numQueues} virtqueues, status ${dev.status.describe()}`,
      );
      if (b === undefined) {
        out.push("    -> (no netdev: link down)");
        continue;
      }
      out.push(`    -> netdev ${b.id}: ${b.path.name} [${b.label}]`);
      for (const l of b.describe().slice(1)) out.push(`       ${l.trimStart()}`);
      let dev0 = b.hostNetdev;
      const chain: string[] = [];
      const seen = new Set<string>();
      while (dev0 !== undefined && !seen.has(dev0)) {
        seen.add(dev0);
        chain.push(dev0);
        dev0 = lab.host.net.get(dev0)?.master;
      }
      const last = chain[chain.length - 1];
      const bridge = last !== undefined ? lab.host.net.get(last) : undefined;
      if (bridge?.kind === "bridge") {
        const ports = lab.host.net.ports(bridge.name).map((p) => p.name).filter((p) =>
          !seen.has(p)
        );
        if (ports.length > 0) chain.push(`{${ports.join(", ")}}`);
        for (const p of ports) {
          const w = lab.net.wire(p);
          if (w !== undefined) chain.push(`${w.name} (${w.bps / 1e9} Gbit/s)`);
        }
      }
      if (chain.length > 0) out.push(`    -> ${chain.join(" -> ")}`);
    }
    for (const d of vm.devices) for (const l of d.describe()) out.push(`  ${l}`);
    if (vm.unmodelled.length > 0) out.push(`  not simulated: ${vm.unmodelled.join(", ")}`);
  }
  const bridges = lab.host.net.list().filter((d) => d.kind === "bridge");
  if (bridges.length > 0 || lab.vms.length === 0) out.push("host:");
  for (const br of bridges) {
    const ports = lab.host.net.ports(br.name).map((p) =>
      `${p.name}${lab.host.net.isRunning(p) ? "" : " (down)"}`
    );
    out.push(`  ${br.name}: bridge${br.up ? "" : " (down)"}, ports ${ports.join(", ") || "none"}`);
  }
  for (const d of lab.host.net.list()) {
    if (d.kind !== "phys") continue;
    out.push(
      `  ${d.name}: ${d.speedMbps !== undefined ? `${d.speedMbps / 1000} Gbit/s ` : ""}port${
        d.master ? `, in ${d.master}` : ""
      } -> wire`,
    );
  }
  return out.join("\n");
}

/** The guest interface an endpoint name names, or a diagnostic. */
function guestNic(cx: ExecContext, target: DottedName): GuestVirtioNet | undefined {
  const [vmName, ifname] = [target.parts[0]?.value ?? "", target.parts[1]?.value ?? ""];
  const vm = cx.lab.vm(vmName);
  const g = vm?.guestNic(ifname);
  if (g !== undefined) return g;
  const known = cx.lab.vms.flatMap((v) => v.guestNics.map((n) => n.name));
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
  const m = /^(rx|tx)(\d+)$/.exec(q);
  const index = m ? 2 * Number(m[2]) + (m[1] === "tx" ? 1 : 0) : -1;
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
  { header: "p50 ns", path: "latency.p50_ns" },
  { header: "exits/pkt", path: "per_packet.vmexits", decimals: 3 },
  { header: "kicks/pkt", path: "per_packet.kicks", decimals: 3 },
  { header: "irqs/pkt", path: "per_packet.interrupts", decimals: 3 },
  { header: "copies/pkt", path: "per_packet.copies", decimals: 2 },
  { header: "syscalls/pkt", path: "per_packet.syscalls", decimals: 2 },
  { header: "cpu ns/pkt", path: "cpu_ns_per_packet", decimals: 0 },
  { header: "bottleneck", path: "bottleneck" },
];

const show: Executor<Show> = (cmd, cx) => {
  const lab = cx.lab;
  const s = cmd.subject;
  if (cx.mode === "check" && (s.kind === "stats" || s.kind === "log")) return;
  switch (s.kind) {
    case "topology":
      if (cmd.json) cx.print(`${JSON.stringify(ioGraph(lab), null, 2)}\n`);
      else cx.print(`${topologyText(lab)}\n`);
      return;
    case "graph":
      cx.print(`${graphDot(ioGraph(lab))}\n`);
      return;
    case "log":
      cx.print(`${formatEvents(lab.controlLog)}\n`);
      return;
    case "flows":
      cx.print(
        lab.traffics.map((f) =>
          `${f.name}: ${f.kind} ${f.src.name} -> ${f.dst.name}, ${f.schedule.frameBytes} B × ${f.schedule.count}`
        ).join("\n") + "\n",
      );
      return;
    case "modules":
      cx.print(lab.host.lsmod().map((m) => m.name).join("\n") + "\n");
      return;
    case "stats": {
      ensureCostProfile(lab);
      const all = lab.metrics.summaries();
      if (s.target !== undefined) {
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
        cx.print(cmd.json ? `${JSON.stringify(one, null, 2)}\n` : `${formatFlowSummary(one)}\n`);
        return;
      }
      if (cmd.json) {
        cx.print(`${JSON.stringify(all, null, 2)}\n`);
        return;
      }
      const rows = lab.traffics.filter((f) => f.kind === "udp").map((f) => ({
        label: f.name,
        summary: all[f.name] as NonNullable<(typeof all)[string]>,
      }));
      cx.print(`${renderSummaryTable(rows, STATS_COLUMNS)}\n`);
      return;
    }
    case "vq": {
      const g = guestNic(cx, s.target);
      if (g === undefined) return;
      const text = vqText(g, s.queue.value);
      if (text === undefined) {
        cx.diagnostics.push(error("E0508", `\`${g.name}\` has no queue \`${s.queue.value}\``, {
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
      cx.print(`${text}\n`);
      return;
    }
    case "vhost": {
      const g = guestNic(cx, s.target);
      if (g === undefined) return;
      const b = g.dev.backend;
      if (b === undefined) {
        cx.print(`${g.name}: no netdev\n`);
        return;
      }
      cx.print(`${[...b.describe(), formatPath(b.path)].join("\n")}\n`);
      return;
    }
    case "features": {
      const g = guestNic(cx, s.target);
      if (g === undefined) return;
      cx.print(`${g.dev.describeFeatures().join("\n")}\n`);
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
      cx.print(
        `${showIommu(lab.iommu, viommu ? { viommu: { name: vm?.name ?? "", viommu } } : {})}\n`,
      );
      return;
    }
  }
};

/** The executors of this file. */
export const SHOW_EXECUTORS: ExecutorTable = { show };
