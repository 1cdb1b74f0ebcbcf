/**
 * The host IOMMU (Intel VT-d model): groups of devices by requester id, domains (identity,
 * DMA, unmanaged for VFIO / vhost-vdpa), attach and detach of a group, `iommu_map` /
 * `iommu_unmap` on per-domain radix page tables, the hardware IOTLB, device IOTLBs (ATS),
 * and the DMA path of each device as a {@link Translator} that records faults instead of
 * throwing.
 *
 * Modes, from the kernel command line (see `cmdline.ts`):
 * - disabled (no `intel_iommu=on`): no groups, every DMA address is physical;
 * - translated: each group's default domain is a DMA domain with its own page table;
 * - pass-through (`iommu=pt`): default domains are one shared identity domain (no walks,
 *   no IOTLB), while VFIO / vhost-vdpa still attach translated unmanaged domains.
 *
 * Invalidation is strict: an unmap flushes the IOTLB page-selectively and sends Invalidate
 * Requests to the ATCs of devices attached to the domain before returning; a domain switch
 * flushes the old domain. A map flushes nothing (CM = 0 hardware caches no not-present
 * entries).
 *
 * @example A VFIO-style unmanaged domain, a hit and a fault
 * ```ts
 * import { Iommu } from "./iommu.ts";
 * import { newTranslateResult, VHOST_ACCESS_RO, VHOST_ACCESS_WO } from "../memory/translator.ts";
 * const mmu = new Iommu({ enabled: true, passthrough: false, addressWidth: 48, iotlbEntries: 64 });
 * mmu.addDevice("0000:3b:00.2");
 * const dom = mmu.allocDomain("unmanaged", { owner: "vfio" });
 * if (!dom.ok) throw new Error("alloc");
 * mmu.attachGroup(0, dom.value);
 * mmu.map(dom.value, 0x10000, 0x7f000, 0x1000, VHOST_ACCESS_RO);
 * const dma = mmu.translatorFor("0000:3b:00.2");
 * if (!dma.ok) throw new Error("translator");
 * const out = newTranslateResult();
 * if (!dma.value.translate(0x10010, 64, VHOST_ACCESS_RO, out) || out.addr !== 0x7f010) {
 *   throw new Error("translation");
 * }
 * if (dma.value.translate(0x10010, 64, VHOST_ACCESS_WO, out)) throw new Error("write must fault");
 * if (mmu.faults.total !== 1) throw new Error("fault not recorded");
 * ```
 *
 * @module
 */

import {
  type Access,
  type TranslateResult,
  type Translator,
  VHOST_ACCESS_RO,
  VHOST_ACCESS_WO,
} from "../memory/translator.ts";
import { err, ok, type Result } from "../result.ts";
import { type AtsCompletion, DeviceIotlb, type TranslationAgent } from "./ats.ts";
import type { DomainType, IommuEventSink } from "./event.ts";
import { type DmaFaultReason, FaultLog } from "./fault_log.ts";
import type { IommuError } from "./iommu_error.ts";
import { IotlbCache, psiRegion } from "./iotlb_cache.ts";
import {
  type AddressWidth,
  IoPageTable,
  type MappedRange,
  type MapSummary,
  newWalkResult,
} from "./page_table.ts";

/** Host IOMMU facts, from the kernel command line and the hardware. */
export interface IommuConfig {
  /** DMA remapping on (intel_iommu=on, or AMD-Vi present and not amd_iommu=off). */
  readonly enabled: boolean;
  /** iommu=pt: host-owned devices get the identity domain. */
  readonly passthrough: boolean;
  /** Second-level address width; sets the page-table depth. */
  readonly addressWidth: AddressWidth;
  /** Hardware IOTLB entries. */
  readonly iotlbEntries: number;
  /** 2 MiB / 1 GiB leaves allowed (false with intel_iommu=sp_off). Default true. */
  readonly largePages?: boolean;
}

/** What a translation did, for the datapath to charge the right cost. */
export type TranslateOutcome =
  /** No translation: IOMMU off or identity domain. */
  | "identity"
  /** IOMMU IOTLB hit (iotlb_hit_hw). */
  | "iotlb-hit"
  /** IOTLB miss and page walk (iotlb_miss_hw; levels in `lastWalk`). */
  | "iotlb-miss"
  /** Translated request from a device ATC hit. */
  | "atc-hit"
  /** ATC miss: translation request to the IOMMU, then the DMA. */
  | "ats-miss"
  /** Blocked; see the fault. */
  | "fault";

/** A group as `show iommu` lists it. */
export interface IommuGroupInfo {
  readonly id: number;
  readonly devices: readonly string[];
  readonly domain: number | undefined;
  readonly defaultDomain: number;
}

/** A domain as `show iommu` lists it. */
export interface IommuDomainInfo {
  readonly id: number;
  readonly type: DomainType;
  readonly owner: string | undefined;
  readonly groups: readonly number[];
  readonly mappedBytes: number;
  readonly tablePages: number;
  readonly ranges: readonly MappedRange[];
}

/** Translation counters since creation. */
export interface IommuStats {
  /** DMA translations requested (not counting ATC hits, which bypass the IOMMU). */
  readonly translations: number;
  readonly identity: number;
  /** Page walks after IOTLB misses (DMA and ATS requests). */
  readonly walks: number;
  /** Page-table levels read by those walks. */
  readonly walkLevels: number;
  /** ATS translation requests served. */
  readonly atsRequests: number;
  readonly faults: number;
}

class DomainState {
  readonly groups = new Set<GroupState>();
  constructor(
    readonly id: number,
    readonly type: DomainType,
    readonly owner: string | undefined,
    readonly table: IoPageTable | undefined,
  ) {}
}

class GroupState {
  readonly devices: DeviceState[] = [];
  domain: DomainState;
  constructor(readonly id: number, readonly defaultDomain: DomainState) {
    this.domain = defaultDomain;
  }
}

class DeviceState {
  atc: DeviceIotlb | undefined = undefined;
  translator: DeviceTranslator | undefined = undefined;
  constructor(readonly rid: string, readonly group: GroupState) {}
}

/** The host IOMMU. */
export class Iommu implements TranslationAgent {
  readonly #config: Required<IommuConfig>;
  readonly #sink: IommuEventSink | undefined;
  readonly #iotlb: IotlbCache;
  readonly #faults: FaultLog;
  readonly #groups = new Map<number, GroupState>();
  readonly #devices = new Map<string, DeviceState>();
  readonly #domains = new Map<number, DomainState>();
  readonly #walk = newWalkResult();
  #identity: DomainState | undefined;
  #scratch: DeviceTranslator | undefined;
  #offTranslators = new Map<string, DeviceTranslator>();
  #nextDomain = 1;
  #translations = 0;
  #identityCount = 0;
  #walks = 0;
  #walkLevels = 0;
  #atsRequests = 0;

  /**
   * @param config the host facts
   * @param options event `sink`; `faultLogSize` records kept (default 256)
   */
  constructor(
    config: IommuConfig,
    options: { sink?: IommuEventSink | undefined; faultLogSize?: number | undefined } = {},
  ) {
    this.#config = { largePages: true, ...config };
    this.#sink = options.sink;
    const sink = this.#sink;
    this.#iotlb = new IotlbCache(config.iotlbEntries, {
      onEvict: sink === undefined
        ? undefined
        : (e) => sink({ kind: "iotlb-evict", domain: e.domain, iova: e.iova, size: e.size }),
    });
    this.#faults = new FaultLog(options.faultLogSize);
  }

  /** The configuration in force. */
  get config(): Required<IommuConfig> {
    return this.#config;
  }

  /** "off", "translated" or "passthrough". */
  get mode(): "off" | "translated" | "passthrough" {
    return !this.#config.enabled ? "off" : this.#config.passthrough ? "passthrough" : "translated";
  }

  /** The hardware IOTLB. */
  get iotlb(): IotlbCache {
    return this.#iotlb;
  }

  /** Recorded DMA remapping faults. */
  get faults(): FaultLog {
    return this.#faults;
  }

  /**
   * Puts a device behind the IOMMU, in `group` (joined if it exists, e.g. functions without
   * ACS isolation) or in a new group with the next free id. A new group starts in its default
   * domain. Returns the group id.
   */
  addDevice(rid: string, options: { group?: number | undefined } = {}): Result<number, IommuError> {
    if (!this.#config.enabled) return err({ kind: "iommu-disabled", op: "add device" });
    const known = this.#devices.get(rid);
    if (known !== undefined) return err({ kind: "device-exists", rid, group: known.group.id });
    let group = options.group === undefined ? undefined : this.#groups.get(options.group);
    if (group === undefined) {
      let id = options.group ?? 0;
      if (options.group === undefined) { while (this.#groups.has(id)) id++; }
      const dflt = this.#config.passthrough
        ? this.#identityDomain()
        : this.#newDomain("dma", undefined);
      group = new GroupState(id, dflt);
      this.#groups.set(id, group);
      dflt.groups.add(group);
      this.#sink?.({ kind: "attach", group: id, domain: dflt.id, previous: undefined });
    }
    const dev = new DeviceState(rid, group);
    group.devices.push(dev);
    this.#devices.set(rid, dev);
    return ok(group.id);
  }

  /**
   * Takes a device away (hot-unplug, a VF disappearing with `sriov_numvfs` 0). A group left
   * empty goes too, with its default domain unless that is the shared identity domain. A
   * device whose group is attached to another domain (VFIO, vhost-vdpa) is busy.
   */
  removeDevice(rid: string): Result<void, IommuError> {
    const dev = this.#devices.get(rid);
    if (dev === undefined) return err({ kind: "unknown-device", rid });
    const g = dev.group;
    if (g.domain !== g.defaultDomain) {
      return err({ kind: "group-busy", group: g.id, domain: g.domain.id });
    }
    dev.atc?.invalidate();
    g.devices.splice(g.devices.indexOf(dev), 1);
    this.#devices.delete(rid);
    if (g.devices.length === 0) {
      this.#groups.delete(g.id);
      g.defaultDomain.groups.delete(g);
      if (g.defaultDomain !== this.#identity) {
        this.#flushDomain(g.defaultDomain);
        this.#domains.delete(g.defaultDomain.id);
        this.#sink?.({ kind: "domain-free", domain: g.defaultDomain.id });
      }
    }
    return ok(undefined);
  }

  /** The group of a device, if it is behind the IOMMU. */
  groupOf(rid: string): number | undefined {
    return this.#devices.get(rid)?.group.id;
  }

  /** The domain a device's DMA goes through now. */
  domainOf(rid: string): number | undefined {
    return this.#devices.get(rid)?.group.domain.id;
  }

  /** Allocates a paging domain (`dma` for a kernel driver, `unmanaged` for VFIO / vhost-vdpa). */
  allocDomain(
    type: "dma" | "unmanaged",
    options: { owner?: string | undefined } = {},
  ): Result<number, IommuError> {
    if (!this.#config.enabled) return err({ kind: "iommu-disabled", op: "allocate domain" });
    return ok(this.#newDomain(type, options.owner).id);
  }

  /** Frees a domain no group uses. */
  freeDomain(domainId: number): Result<void, IommuError> {
    const d = this.#domains.get(domainId);
    if (d === undefined) return err({ kind: "unknown-domain", domain: domainId });
    const users = [...this.#groups.values()].filter((g) => g.defaultDomain === d || g.domain === d);
    if (users.length > 0) {
      return err({ kind: "domain-busy", domain: domainId, groups: users.map((g) => g.id) });
    }
    this.#domains.delete(domainId);
    if (d === this.#identity) this.#identity = undefined;
    this.#flushDomain(d);
    this.#sink?.({ kind: "domain-free", domain: domainId });
    return ok(undefined);
  }

  /**
   * Attaches a group to a domain (iommu_attach_group). A group already owned by a domain other
   * than its default is busy until detached.
   */
  attachGroup(groupId: number, domainId: number): Result<void, IommuError> {
    const g = this.#groups.get(groupId);
    if (g === undefined) return err({ kind: "unknown-group", group: groupId });
    const d = this.#domains.get(domainId);
    if (d === undefined) return err({ kind: "unknown-domain", domain: domainId });
    if (g.domain === d) return ok(undefined);
    // Linux __iommu_attach_group(): -EBUSY unless the group sits in its default domain.
    if (g.domain !== g.defaultDomain) {
      return err({ kind: "group-busy", group: groupId, domain: g.domain.id });
    }
    this.#switch(g, d);
    return ok(undefined);
  }

  /** Returns a group to its default domain (iommu_detach_group). */
  detachGroup(groupId: number): Result<void, IommuError> {
    const g = this.#groups.get(groupId);
    if (g === undefined) return err({ kind: "unknown-group", group: groupId });
    if (g.domain === g.defaultDomain) return err({ kind: "not-attached", group: groupId });
    this.#switch(g, g.defaultDomain);
    return ok(undefined);
  }

  /**
   * Maps `[iova, iova + size)` to physical `[pa, pa + size)` in a paging domain (iommu_map):
   * 4 KiB alignment, R or W required, inside the aperture, no overlap (EEXIST).
   */
  map(
    domainId: number,
    iova: number,
    pa: number,
    size: number,
    perm: Access,
  ): Result<MapSummary, IommuError> {
    const d = this.#domains.get(domainId);
    if (d === undefined) return err({ kind: "unknown-domain", domain: domainId });
    if (d.table === undefined) return err({ kind: "not-paging", domain: domainId });
    const r = d.table.map(iova, pa, size, perm);
    if (r.ok) this.#sink?.({ kind: "map", domain: domainId, iova, pa, size, perm });
    return r;
  }

  /**
   * Unmaps from `iova` (iommu_unmap) up to `size` bytes, stopping at the first hole; a large
   * leaf goes whole. Flushes the IOTLB and the ATCs of attached devices. Returns the bytes
   * unmapped; nothing mapped at `iova` is `not-mapped`.
   */
  unmap(domainId: number, iova: number, size: number): Result<number, IommuError> {
    const d = this.#domains.get(domainId);
    if (d === undefined) return err({ kind: "unknown-domain", domain: domainId });
    if (d.table === undefined) return err({ kind: "not-paging", domain: domainId });
    const r = d.table.unmap(iova, size);
    if (!r.ok) return r;
    if (r.value.bytes === 0) return err({ kind: "not-mapped", domain: domainId, iova });
    const { start, bytes } = r.value;
    this.#sink?.({ kind: "unmap", domain: domainId, iova: start, size: bytes });
    // Strict mode: flush before the IOVA can be reused (intel iommu_flush_iotlb_psi).
    const dropped = this.#iotlb.invalidatePages(domainId, start, bytes);
    if (this.#sink !== undefined) {
      const psi = psiRegion(start, bytes);
      this.#sink({
        kind: "invalidate",
        scope: "page",
        domain: domainId,
        iova: psi.iova,
        size: psi.size,
        dropped,
      });
    }
    for (const g of d.groups) for (const dev of g.devices) dev.atc?.invalidate(start, bytes);
    return ok(bytes);
  }

  /** Invalidates the whole IOTLB (global), or one domain. Returns the entries dropped. */
  invalidateIotlb(domainId?: number): number {
    const dropped = domainId === undefined
      ? this.#iotlb.invalidateAll()
      : this.#iotlb.invalidateDomain(domainId);
    this.#sink?.({
      kind: "invalidate",
      scope: domainId === undefined ? "global" : "domain",
      domain: domainId,
      iova: undefined,
      size: undefined,
      dropped,
    });
    return dropped;
  }

  /**
   * The DMA path of a device as a {@link Translator}: the ATC when ATS is enabled, else the
   * IOMMU. With the IOMMU off, an identity translator for any device.
   */
  translatorFor(rid: string): Result<DeviceTranslator, IommuError> {
    if (!this.#config.enabled) {
      return ok(
        new DeviceTranslator(rid, (a, l, x, o, st) => this.#dma(undefined, rid, a, l, x, o, st)),
      );
    }
    const dev = this.#devices.get(rid);
    if (dev === undefined) return err({ kind: "unknown-device", rid });
    dev.translator ??= new DeviceTranslator(
      rid,
      (a, l, x, o, st) => this.#dma(dev, rid, a, l, x, o, st),
      () => dev.atc,
    );
    return ok(dev.translator);
  }

  /**
   * Translates a DMA from any requester id: a known device goes through its DMA path; an
   * unknown one has no context entry and faults ("Present bit in context entry is clear").
   */
  translate(rid: string, addr: number, len: number, access: Access, out: TranslateResult): boolean {
    const dev = this.#devices.get(rid);
    if (dev !== undefined || !this.#config.enabled) {
      const t = this.translatorFor(rid);
      if (t.ok) return t.value.translate(addr, len, access, out);
    }
    this.#scratch ??= new DeviceTranslator("", () => false);
    return this.#dma(undefined, rid, addr, len, access, out, this.#scratch);
  }

  /** Enables ATS on a device, giving it an ATC of `entries` (default 32). */
  enableAts(
    rid: string,
    options: { entries?: number | undefined } = {},
  ): Result<DeviceIotlb, IommuError> {
    if (!this.#config.enabled) return err({ kind: "iommu-disabled", op: "enable ATS" });
    const dev = this.#devices.get(rid);
    if (dev === undefined) return err({ kind: "unknown-device", rid });
    dev.atc ??= new DeviceIotlb(this, rid, { entries: options.entries, sink: this.#sink });
    return ok(dev.atc);
  }

  /** True when a device's DMA is translated (ATS only applies then). */
  atsActive(rid: string): boolean {
    return this.#devices.get(rid)?.group.domain.table !== undefined;
  }

  /** Serves an ATS Translation Request: IOTLB, else a walk; R = W = 0 when nothing maps it. */
  translationRequest(rid: string, iova: number, _write: boolean, out: AtsCompletion): void {
    this.#atsRequests++;
    out.walk = 0;
    out.perm = 0;
    out.iova = iova - (iova % 0x1000);
    out.size = 0x1000;
    out.pa = 0;
    const d = this.#devices.get(rid)?.group.domain;
    const table = d?.table;
    if (d === undefined || table === undefined || !(iova >= 0 && iova < table.limit)) return;
    const hit = this.#iotlb.lookup(d.id, iova);
    if (hit !== undefined) {
      out.iova = hit.iova;
      out.size = hit.size;
      out.pa = hit.pa;
      out.perm = hit.perm;
      return;
    }
    const w = this.#walk;
    const found = table.walk(iova, w);
    this.#walks++;
    this.#walkLevels += w.levels;
    out.walk = w.levels;
    if (!found) return;
    this.#iotlb.insert(d.id, w.pageIova, w.pageSize, w.pa, w.perm);
    out.iova = w.pageIova;
    out.size = w.pageSize;
    out.pa = w.pa;
    out.perm = w.perm;
  }

  /** Groups by id. */
  groups(): IommuGroupInfo[] {
    return [...this.#groups.values()].sort((a, b) => a.id - b.id).map((g) => ({
      id: g.id,
      devices: g.devices.map((d) => d.rid),
      domain: g.domain.id,
      defaultDomain: g.defaultDomain.id,
    }));
  }

  /** Domains by id, with their merged mappings. */
  domains(): IommuDomainInfo[] {
    return [...this.#domains.values()].sort((a, b) => a.id - b.id).map((d) => ({
      id: d.id,
      type: d.type,
      owner: d.owner,
      groups: [...d.groups].map((g) => g.id).sort((a, b) => a - b),
      mappedBytes: d.table?.mappedBytes ?? 0,
      tablePages: d.table?.tablePages ?? 0,
      ranges: d.table?.ranges() ?? [],
    }));
  }

  /** Device ATCs, by requester id. */
  atcs(): DeviceIotlb[] {
    return [...this.#devices.values()]
      .filter((d) => d.atc !== undefined)
      .sort((a, b) => (a.rid < b.rid ? -1 : a.rid > b.rid ? 1 : 0))
      .map((d) => d.atc as DeviceIotlb);
  }

  /** A snapshot of the translation counters. */
  stats(): IommuStats {
    return {
      translations: this.#translations,
      identity: this.#identityCount,
      walks: this.#walks,
      walkLevels: this.#walkLevels,
      atsRequests: this.#atsRequests,
      faults: this.#faults.total,
    };
  }

  /** The IOMMU's DMA remapping of one request; `dev` undefined = unknown requester. */
  #dma(
    dev: DeviceState | undefined,
    rid: string,
    iova: number,
    len: number,
    access: Access,
    out: TranslateResult,
    st: DeviceTranslator,
  ): boolean {
    out.fault = undefined;
    st.lastWalk = 0;
    this.#translations++;
    if (!this.#config.enabled) return this.#identityOut(iova, len, out, st);
    if (dev === undefined) {
      return this.#fault(rid, undefined, iova, access, "no-context", out, st, 0);
    }
    const d = dev.group.domain;
    const table = d.table;
    if (table === undefined) return this.#identityOut(iova, len, out, st);
    if (!(iova >= 0 && iova < table.limit)) {
      return this.#fault(rid, d.id, iova, access, "beyond-address-width", out, st, table.limit);
    }
    let pageIova: number;
    let size: number;
    let pa: number;
    let perm: Access;
    const hit = this.#iotlb.lookup(d.id, iova);
    if (hit !== undefined) {
      ({ iova: pageIova, size, pa, perm } = hit);
      st.lastOutcome = "iotlb-hit";
    } else {
      const w = this.#walk;
      const found = table.walk(iova, w);
      this.#walks++;
      this.#walkLevels += w.levels;
      st.lastWalk = w.levels;
      if (!found) return this.#fault(rid, d.id, iova, access, "not-present", out, st, 0);
      // VT-d caches the leaf even when this request's permission check then fails.
      this.#iotlb.insert(d.id, w.pageIova, w.pageSize, w.pa, w.perm);
      pageIova = w.pageIova;
      size = w.pageSize;
      pa = w.pa;
      perm = w.perm;
      st.lastOutcome = "iotlb-miss";
    }
    const missing = access & ~perm & 3;
    // VT-d §3.6: a write needs the W bit, a read the R bit; the request is aborted otherwise.
    if ((missing & VHOST_ACCESS_WO) !== 0) {
      return this.#fault(rid, d.id, iova, access, "write-to-read-only", out, st, perm);
    }
    if ((missing & VHOST_ACCESS_RO) !== 0) {
      return this.#fault(rid, d.id, iova, access, "read-from-write-only", out, st, perm);
    }
    out.addr = pa + (iova - pageIova);
    out.len = Math.min(len, pageIova + size - iova);
    if (this.#sink !== undefined) {
      this.#sink(
        hit !== undefined
          ? { kind: "translate-hit", rid, domain: d.id, iova, pa: out.addr, len: out.len }
          : {
            kind: "translate-miss",
            rid,
            domain: d.id,
            iova,
            pa: out.addr,
            len: out.len,
            walk: st.lastWalk,
          },
      );
    }
    return true;
  }

  #identityOut(iova: number, len: number, out: TranslateResult, st: DeviceTranslator): true {
    this.#identityCount++;
    st.lastOutcome = "identity";
    out.addr = iova;
    out.len = len;
    return true;
  }

  #fault(
    rid: string,
    domain: number | undefined,
    iova: number,
    access: Access,
    reason: DmaFaultReason,
    out: TranslateResult,
    st: DeviceTranslator,
    extra: number,
  ): false {
    const write = (access & VHOST_ACCESS_WO) !== 0 &&
      (reason !== "read-from-write-only");
    const f = this.#faults.record({ rid, domain, iova, write, reason });
    this.#sink?.({ kind: "fault", fault: f });
    st.lastOutcome = "fault";
    switch (reason) {
      case "beyond-address-width":
        out.fault = { kind: "out-of-range", iova, limit: extra };
        break;
      case "write-to-read-only":
      case "read-from-write-only":
        out.fault = { kind: "permission", iova, access, allowed: extra as Access };
        break;
      default:
        out.fault = { kind: "unmapped", iova, access };
    }
    return false;
  }

  #newDomain(type: DomainType, owner: string | undefined): DomainState {
    const id = this.#nextDomain++;
    const table = type === "identity" ? undefined : new IoPageTable(this.#config.addressWidth, {
      largePages: this.#config.largePages,
      domain: id,
    });
    const d = new DomainState(id, type, owner, table);
    this.#domains.set(id, d);
    this.#sink?.({ kind: "domain-alloc", domain: id, type });
    return d;
  }

  #identityDomain(): DomainState {
    // One static identity domain serves every pass-through group (intel si_domain).
    this.#identity ??= this.#newDomain("identity", undefined);
    return this.#identity;
  }

  #switch(g: GroupState, to: DomainState): void {
    const from = g.domain;
    from.groups.delete(g);
    g.domain = to;
    to.groups.add(g);
    this.#sink?.({ kind: "attach", group: g.id, domain: to.id, previous: from.id });
    // The old context may be cached with the old domain's translations: flush them.
    if (from.table !== undefined) this.#flushDomain(from);
    for (const dev of g.devices) dev.atc?.invalidate();
  }

  #flushDomain(d: DomainState): void {
    if (d.table === undefined) return;
    this.invalidateIotlb(d.id);
  }
}

/** The IOMMU side of one device's DMA path (see {@link DeviceTranslator}). */
export type DmaPath = (
  addr: number,
  len: number,
  access: Access,
  out: TranslateResult,
  st: DeviceTranslator,
) => boolean;

/**
 * One device's DMA path. `lastOutcome` and `lastWalk` tell the datapath which cost to charge
 * for the translation just done.
 */
export class DeviceTranslator implements Translator {
  readonly #rid: string;
  readonly #dma: DmaPath;
  readonly #atc: () => DeviceIotlb | undefined;
  /** What the last {@link translate} did. */
  lastOutcome: TranslateOutcome = "identity";
  /** Page-table levels read by the last translate (0 unless it walked). */
  lastWalk = 0;

  /** Built by {@link Iommu.translatorFor}. */
  constructor(rid: string, dma: DmaPath, atc: () => DeviceIotlb | undefined = () => undefined) {
    this.#rid = rid;
    this.#dma = dma;
    this.#atc = atc;
  }

  /** The device's requester id. */
  get rid(): string {
    return this.#rid;
  }

  /** Translates one contiguous run (at most to the end of the page) of a device DMA. */
  translate(addr: number, len: number, access: Access, out: TranslateResult): boolean {
    const atc = this.#atc();
    if (atc !== undefined) {
      const r = atc.translate(addr, len, access, out);
      this.lastOutcome = atc.lastOutcome;
      this.lastWalk = atc.lastWalk;
      return r;
    }
    return this.#dma(addr, len, access, out, this);
  }
}
