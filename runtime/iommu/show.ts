/**
 * The text of `show iommu`: the host IOMMU's mode, groups, domains with their mappings
 * (adjacent pages merged), IOTLB statistics, device ATCs and recorded faults; then, when
 * given, a guest vIOMMU and vhost device IOTLBs. Deterministic: the same state prints the
 * same bytes.
 *
 * @example
 * ```ts
 * import { Iommu } from "./iommu.ts";
 * import { showIommu } from "./show.ts";
 * const text = showIommu(new Iommu({ enabled: false, passthrough: false, addressWidth: 48, iotlbEntries: 64 }));
 * if (!text.startsWith("iommu: off")) throw new Error(text);
 * ```
 *
 * @module
 */

import { permName } from "./event.ts";
import { type DmaFault, formatDmaFault } from "./fault_log.ts";
import type { Iommu } from "./iommu.ts";
import { levelsFor, type MappedRange } from "./page_table.ts";
import type { VhostDevIotlb } from "./vhost_dev_iotlb.ts";
import type { Viommu } from "./viommu.ts";

/** What else `show iommu` may print besides the host IOMMU. */
export interface ShowIommuExtras {
  /** The guest vIOMMU of a VM, with a label such as the VM name. */
  readonly viommu?: { readonly name: string; readonly viommu: Viommu } | undefined;
  /** Kernel vhost device IOTLBs, by label (e.g. "vm1.net0"). */
  readonly vhost?: readonly { readonly name: string; readonly iotlb: VhostDevIotlb }[] | undefined;
  /** Fault lines to print at most (default 10, the most recent). */
  readonly maxFaults?: number | undefined;
}

function hex16(n: number): string {
  return `0x${n.toString(16).padStart(16, "0")}`;
}

/** Bytes in the largest binary unit that states them exactly: "4 KiB", "1536 KiB", "0 B". */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && v % 1024 === 0 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v} ${units[u]}`;
}

/** "1 entry", "2 entries". */
function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function rate(hits: number, misses: number): string {
  const total = hits + misses;
  return total === 0 ? "-" : `${((100 * hits) / total).toFixed(1)}%`;
}

function pages(r: MappedRange): string {
  const parts: string[] = [];
  if (r.pages1g > 0) parts.push(`${r.pages1g}x1G`);
  if (r.pages2m > 0) parts.push(`${r.pages2m}x2M`);
  if (r.pages4k > 0) parts.push(`${r.pages4k}x4K`);
  return parts.join(" ");
}

function rangeLine(r: MappedRange, to: string): string {
  return `    ${hex16(r.iova)}-${hex16(r.iova + r.size - 1)} -> ${to}${hex16(r.pa)} ${
    permName(r.perm)
  } ${formatBytes(r.size)} (${pages(r)})`;
}

/** The `show iommu` text, one line per item, ending without a newline. */
export function showIommu(iommu: Iommu, extras: ShowIommuExtras = {}): string {
  const out: string[] = [];
  const c = iommu.config;
  const maxFaults = extras.maxFaults ?? 10;
  if (iommu.mode === "off") {
    out.push("iommu: off (no intel_iommu=on): device DMA addresses are physical");
  } else {
    const mode = iommu.mode === "passthrough"
      ? "on, pass-through (iommu=pt): host-owned devices use the identity domain"
      : "on, translated";
    out.push(`iommu: ${mode}`);
    out.push(
      `  address width ${c.addressWidth} bits (${
        levelsFor(c.addressWidth)
      }-level tables), large pages ${c.largePages ? "2M 1G" : "off"}`,
    );
    const groups = iommu.groups();
    out.push(`groups: ${groups.length}`);
    for (const g of groups) {
      const dflt = g.domain === g.defaultDomain ? "" : ` (default ${g.defaultDomain})`;
      out.push(`  group ${g.id}: ${g.devices.join(" ")} -> domain ${g.domain}${dflt}`);
    }
    const domains = iommu.domains();
    out.push(`domains: ${domains.length}`);
    for (const d of domains) {
      const owner = d.owner === undefined ? "" : ` owner ${d.owner}`;
      const groupsText = d.groups.length === 0 ? "no groups" : `groups ${d.groups.join(",")}`;
      if (d.type === "identity") {
        out.push(`  domain ${d.id} identity${owner} ${groupsText}: DMA address = physical address`);
        continue;
      }
      out.push(
        `  domain ${d.id} ${d.type}${owner} ${groupsText}: ${
          formatBytes(d.mappedBytes)
        } mapped in ${count(d.ranges.length, "range", "ranges")}, ${
          count(d.tablePages, "table page", "table pages")
        }`,
      );
      for (const r of d.ranges) out.push(rangeLine(r, "pa "));
    }
    const s = iommu.iotlb.stats();
    const st = iommu.stats();
    out.push(
      `iotlb: ${s.entries}/${s.capacity} entries; hits ${s.hits} misses ${s.misses} (hit rate ${
        rate(s.hits, s.misses)
      }); evictions ${s.evictions}`,
    );
    out.push(
      `  invalidations: global ${s.invalidations.global}, domain ${s.invalidations.domain}, page ${s.invalidations.page} (${
        count(s.invalidatedEntries, "entry", "entries")
      } dropped)`,
    );
    out.push(
      `  page walks ${st.walks} (${st.walkLevels} table reads); ats requests ${st.atsRequests}`,
    );
    const atcs = iommu.atcs();
    if (atcs.length > 0) {
      out.push(`ats: ${count(atcs.length, "device", "devices")}`);
      for (const a of atcs) {
        const x = a.stats();
        out.push(
          `  ${a.rid}: atc ${x.entries}/${x.capacity}; hits ${x.hits} misses ${x.misses} (hit rate ${
            rate(x.hits, x.misses)
          }); requests ${x.requests} (${x.failedCompletions} without translation); invalidations ${x.invalidateRequests} requested ${x.invalidateCompletions} completed (${
            count(x.invalidatedEntries, "entry", "entries")
          })`,
        );
      }
    }
  }
  faultLines(out, "faults", iommu.faults, maxFaults);
  if (extras.viommu !== undefined) {
    const { name, viommu } = extras.viommu;
    const v = viommu.config;
    const props = v.model === "intel-iommu"
      ? ` caching-mode=${v.cachingMode ? "on" : "off"} device-iotlb=${v.deviceIotlb ? "on" : "off"}`
      : "";
    out.push(
      `viommu ${name}: ${v.model}${props} aw-bits=${v.awBits}${
        v.guestPassthrough ? " (guest iommu=pt)" : ""
      }`,
    );
    for (const rid of viommu.devices()) {
      const ranges = viommu.ranges(rid);
      const iotlb = viommu.deviceIotlbEnabled(rid) ? ", device IOTLB" : "";
      out.push(`  ${rid}: ${count(ranges.length, "range", "ranges")}${iotlb}`);
      for (const r of ranges) out.push(rangeLine(r, "gpa "));
    }
    faultLines(out, "  guest faults", viommu.faults, maxFaults);
  }
  for (const { name, iotlb } of extras.vhost ?? []) {
    const x = iotlb.stats();
    const limit = iotlb.iotlb?.limit ?? 0;
    out.push(
      `vhost iotlb ${name}: ${x.entries}/${limit} entries; hits ${x.hits} misses ${x.misses} denied ${x.denied}; updates ${x.updates} invalidates ${x.invalidates} resolved ${x.resolved} evictions ${x.evictions}; pending ${iotlb.pending().length}`,
    );
  }
  return out.join("\n");
}

function faultLines(
  out: string[],
  title: string,
  log: { total: number; dropped: number; records(): readonly DmaFault[] },
  max: number,
): void {
  const recs = log.records();
  const shown = recs.slice(Math.max(0, recs.length - max));
  const hidden = log.total - shown.length;
  out.push(`${title}: ${log.total}${hidden > 0 ? ` (${hidden} not shown)` : ""}`);
  const indent = title.startsWith(" ") ? "    " : "  ";
  for (const f of shown) out.push(`${indent}${formatDmaFault(f)}`);
}
