/**
 * A VFIO container (`/dev/vfio/vfio`) with the type1 IOMMU backend
 * (drivers/vfio/container.c, drivers/vfio/vfio_iommu_type1.c): groups join it, SET_IOMMU
 * gives it an unmanaged IOMMU domain that every joined group is attached to, and
 * MAP_DMA / UNMAP_DMA pin the owner's pages and program that domain (IOVA → host physical).
 * The kernel's refusals are values:
 *
 * - SET_IOMMU with no group, or twice, is -EINVAL; an IOMMU type the kernel lacks is -ENODEV
 *   (CHECK_EXTENSION answers 0 for it);
 * - DMA ioctls before SET_IOMMU are -EINVAL;
 * - MAP_DMA: no R/W flag, size 0, or an iova/vaddr/size not aligned to the smallest IOMMU
 *   page is -EINVAL; an overlap with an existing mapping is -EEXIST; more than
 *   `dma_entry_limit` mappings is -ENOSPC; pinning beyond the owner's RLIMIT_MEMLOCK is
 *   -ENOMEM; an address the owner has not mapped is -EFAULT.
 *
 * @example
 * ```ts
 * import { VfioContainer } from "./vfio_container.ts";
 * import { Iommu } from "../../iommu/iommu.ts";
 * import { IDENTITY } from "../../memory/translator.ts";
 * const iommu = new Iommu({ enabled: true, passthrough: true, addressWidth: 48, iotlbEntries: 64 });
 * const c = new VfioContainer({ iommu, fd: 4, owner: "qemu:vm1", hvaToPa: IDENTITY });
 * const r = c.setIommu(3);
 * if (r.ok || r.error.errno !== "EINVAL") throw new Error("a group must join first");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../../result.ts";
import type { Errno } from "../../host/errno.ts";
import type { Iommu } from "../../iommu/iommu.ts";
import { formatIommuError } from "../../iommu/iommu_error.ts";
import {
  type Access,
  newTranslateResult,
  type Translator,
  VHOST_ACCESS_RO,
  VHOST_ACCESS_WO,
} from "../../memory/translator.ts";
import type { DetailValue } from "../../trace/event.ts";
import { type ControlTrace, NO_CONTROL_TRACE } from "../vhost_vdpa/control_trace.ts";
import {
  VFIO_API_VERSION,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
  type VfioError,
  type VfioIoctlName,
} from "./vfio_ioctl.ts";

/** `struct vfio_iommu_type1_dma_map`. */
export interface VfioDmaMap {
  /** The owner's virtual address. */
  readonly vaddr: number;
  readonly iova: number;
  readonly size: number;
  /** READ (1) | WRITE (2). */
  readonly flags: number;
}

/** One mapping the container holds (`struct vfio_dma`). */
export interface VfioDma {
  readonly iova: number;
  readonly size: number;
  readonly vaddr: number;
  readonly perm: Access;
}

/** What joins a container: an IOMMU group (see vfio_group.ts). */
export interface VfioContainerMember {
  readonly group: number;
}

/** Options of {@link VfioContainer}. */
export interface VfioContainerOptions {
  /** The host IOMMU. */
  readonly iommu: Iommu;
  /** The container's file descriptor (for traces). */
  readonly fd: number;
  /** The owner process (`qemu:vm1`). */
  readonly owner: string;
  /** The owner's virtual → host physical addresses (what pin_user_pages finds). */
  readonly hvaToPa: Translator;
  /** vfio_iommu_type1 is loaded (otherwise no IOMMU model answers CHECK_EXTENSION). */
  readonly type1?: boolean;
  /** vfio_iommu_type1 `dma_entry_limit` (default 65535). */
  readonly dmaEntryLimit?: number;
  /** RLIMIT_MEMLOCK of the owner in bytes (default unlimited: QEMU under libvirt raises it). */
  readonly memlockLimit?: number;
  readonly trace?: ControlTrace;
  /** The context the owner's ioctls run on. */
  readonly ctx?: string;
}

/** The type1 IOMMU's smallest page (the host IOMMU's 4 KiB). */
const PAGE = 0x1000;

/** A VFIO container; see the module documentation. */
export class VfioContainer {
  /** The container's fd. */
  readonly fd: number;
  /** Who opened it. */
  readonly owner: string;
  readonly #iommu: Iommu;
  readonly #hvaToPa: Translator;
  readonly #type1: boolean;
  readonly #limit: number;
  readonly #memlock: number;
  readonly #trace: ControlTrace;
  readonly #ctx: string;
  readonly #members: VfioContainerMember[] = [];
  readonly #dmas: VfioDma[] = [];
  #type: number | undefined;
  #domain: number | undefined;
  #pinned = 0;
  #closed = false;

  /** An open `/dev/vfio/vfio`. */
  constructor(o: VfioContainerOptions) {
    this.fd = o.fd;
    this.owner = o.owner;
    this.#iommu = o.iommu;
    this.#hvaToPa = o.hvaToPa;
    this.#type1 = o.type1 ?? true;
    this.#limit = o.dmaEntryLimit ?? 65535;
    this.#memlock = o.memlockLimit ?? Number.POSITIVE_INFINITY;
    this.#trace = o.trace ?? NO_CONTROL_TRACE;
    this.#ctx = o.ctx ?? "";
  }

  #log(
    name: VfioIoctlName,
    details: Readonly<Record<string, DetailValue | undefined>>,
    errno?: Errno,
  ): void {
    this.#trace.emit({
      type: "control",
      t: this.#trace.now(),
      dur: 0,
      ctx: this.#ctx,
      comp: "vfio",
      action: "ioctl",
      details: { name, fd: this.fd, ...details, ...(errno ? { error: `-${errno}` } : {}) },
    });
  }

  #fail<T>(
    name: VfioIoctlName,
    errno: Errno,
    reason: string,
    details: Readonly<Record<string, DetailValue | undefined>> = {},
  ): Result<T, VfioError> {
    this.#log(name, details, errno);
    return err({ kind: "errno", op: name, errno, reason });
  }

  /** VFIO_GET_API_VERSION. */
  getApiVersion(): number {
    this.#log("VFIO_GET_API_VERSION", { value: VFIO_API_VERSION });
    return VFIO_API_VERSION;
  }

  /** VFIO_CHECK_EXTENSION: 1 when an IOMMU backend of that type is registered. */
  checkExtension(type: number): number {
    const yes = this.#type1 && (type === VFIO_TYPE1_IOMMU || type === VFIO_TYPE1v2_IOMMU) ? 1 : 0;
    this.#log("VFIO_CHECK_EXTENSION", { value: type, num: yes });
    return yes;
  }

  /** The IOMMU type set, if any. */
  get iommuType(): number | undefined {
    return this.#type;
  }

  /** The unmanaged IOMMU domain the container's groups are attached to. */
  get domain(): number | undefined {
    return this.#domain;
  }

  /** Groups in the container. */
  get groups(): readonly number[] {
    return this.#members.map((m) => m.group);
  }

  /** Mappings, by IOVA. */
  get dmas(): readonly VfioDma[] {
    return [...this.#dmas].sort((a, b) => a.iova - b.iova);
  }

  /** Bytes pinned (what counts against RLIMIT_MEMLOCK). */
  get pinnedBytes(): number {
    return this.#pinned;
  }

  /**
   * A group joins (VFIO_GROUP_SET_CONTAINER on the group's fd); when the IOMMU is already
   * set, the group is attached to the container's domain at once.
   */
  join(member: VfioContainerMember): Result<void, VfioError> {
    if (this.#closed) {
      return err({
        kind: "errno",
        op: "VFIO_GROUP_SET_CONTAINER",
        errno: "EBADF",
        reason: "closed",
      });
    }
    if (this.#domain !== undefined) {
      const r = this.#iommu.attachGroup(member.group, this.#domain);
      if (!r.ok) {
        return err({
          kind: "errno",
          op: "VFIO_GROUP_SET_CONTAINER",
          errno: "EBUSY",
          reason: formatIommuError(r.error),
        });
      }
    }
    this.#members.push(member);
    return ok(undefined);
  }

  /** A group leaves (VFIO_GROUP_UNSET_CONTAINER or close of the group fd). */
  leave(member: VfioContainerMember): void {
    const i = this.#members.indexOf(member);
    if (i < 0) return;
    this.#members.splice(i, 1);
    if (this.#domain !== undefined) this.#iommu.detachGroup(member.group);
    // vfio_iommu_type1_detach_group: the last group out takes the mappings with it
    if (this.#members.length === 0) this.#teardown();
  }

  /**
   * VFIO_SET_IOMMU: needs a group in the container (-EINVAL) and a type the kernel offers
   * (-ENODEV); allocates the unmanaged domain and attaches every group to it.
   */
  setIommu(type: number): Result<void, VfioError> {
    const op = "VFIO_SET_IOMMU";
    // vfio_ioctl_set_iommu: a group first, and only once
    if (this.#members.length === 0) {
      return this.#fail(op, "EINVAL", "no group in the container", { value: type });
    }
    if (this.#type !== undefined) {
      return this.#fail(op, "EINVAL", "the IOMMU is already set", { value: type });
    }
    if (!this.#offers(type)) {
      return this.#fail(op, "ENODEV", `no IOMMU backend of type ${type}`, { value: type });
    }
    const dom = this.#iommu.allocDomain("unmanaged", { owner: `vfio:${this.owner}` });
    if (!dom.ok) return this.#fail(op, "ENODEV", formatIommuError(dom.error), { value: type });
    for (const m of this.#members) {
      const r = this.#iommu.attachGroup(m.group, dom.value);
      if (!r.ok) {
        for (const n of this.#members) if (n !== m) this.#iommu.detachGroup(n.group);
        this.#iommu.freeDomain(dom.value);
        return this.#fail(op, "EBUSY", formatIommuError(r.error), { value: type });
      }
    }
    this.#type = type;
    this.#domain = dom.value;
    this.#log(op, { value: type, domain: dom.value });
    return ok(undefined);
  }

  #offers(type: number): boolean {
    return this.#type1 && (type === VFIO_TYPE1_IOMMU || type === VFIO_TYPE1v2_IOMMU);
  }

  /** VFIO_IOMMU_GET_INFO: page sizes and the usable IOVA range. */
  getInfo(): Result<{ pgsizes: number; first: number; last: number }, VfioError> {
    if (this.#type === undefined) {
      return this.#fail("VFIO_IOMMU_GET_INFO", "EINVAL", "no IOMMU set");
    }
    const width = this.#iommu.config.addressWidth;
    const info = { pgsizes: PAGE | 0x20_0000 | 0x4000_0000, first: 0, last: 2 ** width - 1 };
    this.#log("VFIO_IOMMU_GET_INFO", { first: info.first, last: info.last });
    return ok(info);
  }

  /** VFIO_IOMMU_MAP_DMA (vfio_dma_do_map); see the module documentation. */
  mapDma(m: VfioDmaMap): Result<void, VfioError> {
    const op = "VFIO_IOMMU_MAP_DMA";
    const details = {
      iova: m.iova,
      size: m.size,
      vaddr: `0x${m.vaddr.toString(16)}`,
      flags: m.flags,
    };
    if (this.#domain === undefined) return this.#fail(op, "EINVAL", "no IOMMU set", details);
    let perm = 0;
    if (m.flags & VFIO_DMA_MAP_FLAG_READ) perm |= VHOST_ACCESS_RO;
    if (m.flags & VFIO_DMA_MAP_FLAG_WRITE) perm |= VHOST_ACCESS_WO;
    if (perm === 0 || m.size <= 0 || (m.iova | m.size | m.vaddr) % PAGE !== 0) {
      return this.#fail(op, "EINVAL", "no permission, no size, or not page aligned", details);
    }
    const last = m.iova + m.size - 1;
    if (this.#dmas.some((d) => d.iova <= last && m.iova <= d.iova + d.size - 1)) {
      return this.#fail(op, "EEXIST", "overlaps an existing mapping", details);
    }
    if (this.#dmas.length >= this.#limit) {
      return this.#fail(op, "ENOSPC", `dma_entry_limit ${this.#limit} reached`, details);
    }
    if (this.#pinned + m.size > this.#memlock) {
      return this.#fail(op, "ENOMEM", "RLIMIT_MEMLOCK exceeded", details);
    }
    // vfio_pin_map_dma: pin physically contiguous runs and map each of them
    const out = newTranslateResult();
    const done: [number, number][] = [];
    let off = 0;
    while (off < m.size) {
      if (!this.#hvaToPa.translate(m.vaddr + off, m.size - off, perm as Access, out)) {
        for (const [iova, size] of done) this.#iommu.unmap(this.#domain, iova, size);
        return this.#fail(op, "EFAULT", `cannot pin ${hexOf(m.vaddr + off)}`, details);
      }
      const r = this.#iommu.map(this.#domain, m.iova + off, out.addr, out.len, perm as Access);
      if (!r.ok) {
        for (const [iova, size] of done) this.#iommu.unmap(this.#domain, iova, size);
        return this.#fail(op, "EINVAL", formatIommuError(r.error), details);
      }
      done.push([m.iova + off, out.len]);
      off += out.len;
    }
    this.#dmas.push({ iova: m.iova, size: m.size, vaddr: m.vaddr, perm: perm as Access });
    this.#pinned += m.size;
    this.#log(op, details);
    return ok(undefined);
  }

  /** VFIO_IOMMU_UNMAP_DMA: removes whole mappings inside the range; returns bytes unmapped. */
  unmapDma(iova: number, size: number): Result<number, VfioError> {
    const op = "VFIO_IOMMU_UNMAP_DMA";
    const details = { iova, size };
    if (this.#domain === undefined) return this.#fail(op, "EINVAL", "no IOMMU set", details);
    if (size <= 0 || (iova | size) % PAGE !== 0) {
      return this.#fail(op, "EINVAL", "not page aligned", details);
    }
    const last = iova + size - 1;
    // type1 v2: a range that cuts a mapping in two is refused
    for (const d of this.#dmas) {
      const dl = d.iova + d.size - 1;
      const overlaps = d.iova <= last && iova <= dl;
      if (overlaps && (d.iova < iova || dl > last)) {
        return this.#fail(op, "EINVAL", "the range splits a mapping", details);
      }
    }
    let bytes = 0;
    for (let i = this.#dmas.length - 1; i >= 0; i--) {
      const d = this.#dmas[i] as VfioDma;
      if (d.iova < iova || d.iova + d.size - 1 > last) continue;
      this.#iommu.unmap(this.#domain, d.iova, d.size);
      this.#dmas.splice(i, 1);
      this.#pinned -= d.size;
      bytes += d.size;
    }
    this.#log(op, { ...details, len: bytes });
    return ok(bytes);
  }

  #teardown(): void {
    const dom = this.#domain;
    if (dom !== undefined) {
      for (const d of this.#dmas) this.#iommu.unmap(dom, d.iova, d.size);
      this.#iommu.freeDomain(dom);
    }
    this.#dmas.length = 0;
    this.#pinned = 0;
    this.#domain = undefined;
    this.#type = undefined;
  }

  /** close(2): groups leave, mappings are unpinned, the domain goes. */
  close(): void {
    if (this.#closed) return;
    for (const m of [...this.#members]) this.leave(m);
    this.#teardown();
    this.#closed = true;
  }
}

function hexOf(n: number): string {
  return `0x${n.toString(16)}`;
}
