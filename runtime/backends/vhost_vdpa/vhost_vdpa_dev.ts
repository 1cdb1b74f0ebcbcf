/**
 * One open file of `/dev/vhost-vdpa-N`: the kernel's vhost-vdpa driver (drivers/vhost/vdpa.c
 * with the vhost core's ring ioctls) between a userspace owner (QEMU) and a vDPA device's
 * `vdpa_config_ops`. Every ioctl is checked the way the kernel checks it and returns the
 * kernel's errno as a value:
 *
 * - SET_OWNER first: ring ioctls and IOTLB writes without an owner are -EPERM
 *   (vhost_dev_check_owner), a second SET_OWNER is -EBUSY; SET_OWNER binds the owner's
 *   address space for use_va parents (vhost_vdpa_bind_mm);
 * - a ring index at or beyond the device's queues is -ENOBUFS;
 * - SET_VRING_NUM wants a non-zero power of two ≤ 0xffff, SET_VRING_BASE ≤ 0xffff, and
 *   SET_VRING_ADDR an avail ring aligned to 2 and a used ring aligned to 4 (-EINVAL) and no
 *   flag but LOG (-EOPNOTSUPP) (vhost_vring_ioctl);
 * - SET_FEATURES after FEATURES_OK is -EBUSY; a feature set the parent refuses is -EINVAL
 *   (vdpa_sim without ACCESS_PLATFORM);
 * - SET_STATUS may not clear bits except by writing 0, which resets the device;
 * - SET_BACKEND_FEATURES outside what GET_BACKEND_FEATURES offers is -EOPNOTSUPP;
 * - IOTLB messages (write(2) on the fd) go through {@link VhostVdpaIotlb}: UPDATE outside
 *   the IOVA range or overlapping is refused, a batch reaches a set_map parent once;
 *   a non-zero ASID without IOTLB_ASID is -EINVAL;
 * - mmap of the notify page: one page, write-only, shared, and only when the parent has a
 *   page-aligned doorbell (get_vq_notification), else -EINVAL / -ENOTSUPP.
 *
 * The eventfds are modelled by their numbers: a kick on a queue with a kick fd reaches
 * `kick_vq` through the vhost worker ({@link VhostVdpaDev.kick}); the parent's used-buffer
 * callback signals the call fd, which {@link VhostVdpaDev.onCall} forwards (KVM's irqfd). At
 * DRIVER_OK queues whose parent has get_vq_irq register an IRQ bypass producer.
 *
 * @example
 * ```ts
 * import { VhostVdpaDev } from "./vhost_vdpa_dev.ts";
 * import { vdpaSimNetParent } from "../../devices/vdpa_sim_net.ts";
 * const dev = vdpaSimNetParent().create("vdpa0", {});
 * if (!dev.ok) throw new Error("create");
 * const v = new VhostVdpaDev({ device: dev.value, fd: 3, owner: "qemu:vm1" });
 * const early = v.setVringNum(0, 256);
 * if (early.ok || early.error.errno !== "EPERM") throw new Error("owner first");
 * if (!v.setOwner().ok || v.setOwner().ok) throw new Error("one owner");
 * if (v.setVringNum(3, 256).ok) throw new Error("vdpa_sim_net has 3 queues: ENOBUFS");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../../result.ts";
import type { Errno } from "../../host/errno.ts";
import { errnoNumber, strerror } from "../../host/errno.ts";
import {
  hasFeature,
  type MemoryView,
  type NotifyAt,
  type VdpaDevice,
  vhostVdpaSetFeatures,
  vhostVdpaSetStatus,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_F_ACCESS_PLATFORM,
  type VqStatePacked,
  type VqStateSplit,
} from "../../devices/vdpa_device.ts";
import { type IommuEventSink } from "../../iommu/event.ts";
import { IOVA_MAX, type VdpaDmaParent, VhostVdpaIotlb } from "../../iommu/vhost_vdpa_iotlb.ts";
import { formatVhostIotlbError, vhostIotlbErrno } from "../../iommu/vhost_iotlb_error.ts";
import {
  formatVhostIotlbMsg,
  VHOST_IOTLB_BATCH_BEGIN,
  VHOST_IOTLB_BATCH_END,
  VHOST_IOTLB_INVALIDATE,
  VHOST_IOTLB_UPDATE,
  type VhostIotlbMsg,
} from "../../iommu/vhost_iotlb_msg.ts";
import type { DetailValue } from "../../trace/event.ts";
import { VIRTIO_F_RING_PACKED } from "../../virtio/features.ts";
import { type ControlTrace, NO_CONTROL_TRACE } from "./control_trace.ts";
import {
  backendFeatureNames,
  VHOST_BACKEND_F_DESC_ASID,
  VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK,
  VHOST_BACKEND_F_IOTLB_ASID,
  VHOST_BACKEND_F_IOTLB_BATCH,
  VHOST_BACKEND_F_IOTLB_MSG_V2,
  VHOST_BACKEND_F_RESUME,
  VHOST_BACKEND_F_SUSPEND,
  vhostIoctl,
  type VhostIoctlName,
} from "./ioctl.ts";

/** What the kernel refused: the ioctl (or `write`, `mmap`), its errno and why. */
export interface VhostVdpaError {
  readonly kind: "errno";
  readonly op: VhostIoctlName | "write" | "mmap" | "open";
  readonly errno: Errno;
  readonly reason: string;
}

/** `VHOST_SET_FEATURES: Invalid argument (-22): …` — the one text form. */
export function formatVhostVdpaError(e: VhostVdpaError): string {
  return `${e.op}: ${strerror(e.errno)} (-${errnoNumber(e.errno)}): ${e.reason}`;
}

/** `VHOST_FILE_UNBIND`: an fd of -1 detaches the eventfd. */
export const VHOST_FILE_UNBIND = -1;

/** `vhost_vring_addr` (addresses as the owner sees them: HVAs, or IOVAs with an IOMMU). */
export interface VringAddr {
  readonly flags?: number;
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
  readonly log?: number;
}

/** What the kernel keeps per queue (struct vhost_virtqueue, the parts vdpa uses). */
interface VqFiles {
  num: number;
  lastAvail: number;
  addr: VringAddr | undefined;
  kickFd: number | undefined;
  callFd: number | undefined;
  /** IRQ bypass producer registered (DRIVER_OK with get_vq_irq and a call fd). */
  bypass: boolean;
}

/** Options of {@link VhostVdpaDev}. */
export interface VhostVdpaDevOptions {
  /** The vDPA device behind the node. */
  readonly device: VdpaDevice;
  /** The file descriptor number (for traces). */
  readonly fd: number;
  /** Who opened it (`qemu:vm1`). */
  readonly owner: string;
  /** How the parent takes translations; default from the device (`dmaParent()`), else set_map-less identity. */
  readonly dma?: VdpaDmaParent;
  /**
   * PA mode (parents without use_va): pins the owner's pages; maps an owner address to the
   * physical address of its page. Absent: VA mode, the HVA is mapped as is.
   */
  readonly hvaToPa?: (hva: number) => number | undefined;
  /** The owner's address space, bound at SET_OWNER for use_va parents. */
  readonly mm?: MemoryView;
  /** Control-plane events. */
  readonly trace?: ControlTrace;
  /** Context the ioctls run on (the owner's thread). */
  readonly ctx?: string;
  /** IOMMU-family events (IOTLB updates, set_map, dma_map). */
  readonly iommuSink?: IommuEventSink;
}

/** A parent that knows how vhost-vdpa must program it. */
interface WithDmaParent {
  dmaParent(): VdpaDmaParent;
}

function hasDmaParent(d: unknown): d is WithDmaParent {
  return typeof (d as Partial<WithDmaParent>).dmaParent === "function";
}

/** The vhost-vdpa backend features the kernel offers for a device (GET_BACKEND_FEATURES). */
export function vhostVdpaBackendFeatures(device: VdpaDevice): bigint {
  // drivers/vhost/vdpa.c VHOST_VDPA_BACKEND_FEATURES, plus what the parent can do
  let f = (1n << BigInt(VHOST_BACKEND_F_IOTLB_MSG_V2)) |
    (1n << BigInt(VHOST_BACKEND_F_IOTLB_BATCH)) |
    (1n << BigInt(VHOST_BACKEND_F_IOTLB_ASID));
  if (device.spec.supportsSuspend) {
    f |= (1n << BigInt(VHOST_BACKEND_F_SUSPEND)) | (1n << BigInt(VHOST_BACKEND_F_RESUME));
  }
  // vdpa_sim and mlx5_vdpa report ENABLE_AFTER_DRIVER_OK through get_backend_features
  f |= 1n << BigInt(VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK);
  if (device.spec.ngroups > 1 && device.spec.nas > 1) {
    f |= 1n << BigInt(VHOST_BACKEND_F_DESC_ASID);
  }
  return f;
}

function hex(n: bigint | number): string {
  return `0x${n.toString(16)}`;
}

/** The kernel side of one open `/dev/vhost-vdpa-N`. */
export class VhostVdpaDev {
  /** The device behind the node. */
  readonly device: VdpaDevice;
  /** The file descriptor number. */
  readonly fd: number;
  /** Who holds the file. */
  readonly owner: string;
  /** The IOTLBs of the device's address spaces. */
  readonly iotlb: VhostVdpaIotlb;
  /** The call eventfd of a queue was signalled (KVM irqfd takes it from here). */
  onCall: ((vq: number, at: NotifyAt | undefined) => void) | undefined = undefined;
  /** The config eventfd was signalled (at `t`, when the parent knows it). */
  onConfigCall: ((t?: number) => void) | undefined = undefined;

  readonly #trace: ControlTrace;
  readonly #ctx: string;
  readonly #mm: MemoryView | undefined;
  readonly #vqs: VqFiles[];
  #hasOwner = false;
  #backendFeatures = 0n;
  #backendFeaturesSet = false;
  #configCallFd: number | undefined;
  #suspended = false;
  #closed = false;
  #kicks = 0;

  /** The open file; the node's open already reset the device. */
  constructor(o: VhostVdpaDevOptions) {
    this.device = o.device;
    this.fd = o.fd;
    this.owner = o.owner;
    this.#trace = o.trace ?? NO_CONTROL_TRACE;
    this.#ctx = o.ctx ?? "";
    this.#mm = o.mm;
    const range = o.device.getIovaRange();
    const dma: VdpaDmaParent = o.dma ??
      (hasDmaParent(o.device)
        ? o.device.dmaParent()
        : { kind: "set_map", setMap: () => undefined });
    this.iotlb = new VhostVdpaIotlb({
      parent: dma,
      range: {
        first: Math.min(Number(range.first), IOVA_MAX),
        last: Math.min(Number(range.last), IOVA_MAX),
      },
      nas: o.device.spec.nas,
      hvaToPa: o.hvaToPa,
      sink: o.iommuSink,
    });
    this.#vqs = Array.from({ length: o.device.spec.nvqs }, () => ({
      num: 0,
      lastAvail: 0,
      addr: undefined,
      kickFd: undefined,
      callFd: undefined,
      bypass: false,
    }));
  }

  // ---- tracing and checks --------------------------------------------------------------

  #log(
    op: VhostIoctlName,
    details: Readonly<Record<string, DetailValue | undefined>>,
    error?: VhostVdpaError,
  ): void {
    this.#trace.emit({
      type: "control",
      t: this.#trace.now(),
      dur: 0,
      ctx: this.#ctx,
      comp: "vhost-vdpa",
      action: "ioctl",
      details: {
        name: op,
        fd: this.fd,
        ...details,
        ...(error !== undefined ? { error: `-${error.errno}` } : {}),
      },
    });
  }

  #fail<T>(
    op: VhostIoctlName,
    errno: Errno,
    reason: string,
    details: Readonly<Record<string, DetailValue | undefined>> = {},
  ): Result<T, VhostVdpaError> {
    const e: VhostVdpaError = { kind: "errno", op, errno, reason };
    this.#log(op, details, e);
    return err(e);
  }

  #done<T>(
    op: VhostIoctlName,
    value: T,
    details: Readonly<Record<string, DetailValue | undefined>> = {},
  ): Result<T, VhostVdpaError> {
    this.#log(op, details);
    return ok(value);
  }

  /** vhost_dev_check_owner + the ring index check of vhost_vdpa_vring_ioctl. */
  #vring(
    op: VhostIoctlName,
    index: number,
    details: Readonly<Record<string, DetailValue | undefined>>,
  ): Result<VqFiles, VhostVdpaError> {
    if (this.#closed) return this.#fail(op, "EBADF", "the file is closed", details);
    if (!this.#hasOwner) {
      return this.#fail(op, "EPERM", "no owner: VHOST_SET_OWNER must come first", details);
    }
    const vq = this.#vqs[index];
    if (vq === undefined || !Number.isInteger(index) || index < 0) {
      return this.#fail(
        op,
        "ENOBUFS",
        `vring ${index} does not exist (${this.#vqs.length} queues)`,
        details,
      );
    }
    return ok(vq);
  }

  #open(op: VhostIoctlName): VhostVdpaError | undefined {
    return this.#closed
      ? { kind: "errno", op, errno: "EBADF", reason: "the file is closed" }
      : undefined;
  }

  // ---- device-wide ioctls --------------------------------------------------------------

  /** VHOST_GET_BACKEND_FEATURES. */
  getBackendFeatures(): Result<bigint, VhostVdpaError> {
    const f = vhostVdpaBackendFeatures(this.device);
    return this.#done("VHOST_GET_BACKEND_FEATURES", f, { features: backendFeatureNames(f) });
  }

  /** VHOST_SET_BACKEND_FEATURES: bits the kernel does not offer are -EOPNOTSUPP. */
  setBackendFeatures(features: bigint): Result<void, VhostVdpaError> {
    const op = "VHOST_SET_BACKEND_FEATURES";
    const details = { features: backendFeatureNames(features) };
    const closed = this.#open(op);
    if (closed) return this.#fail(op, closed.errno, closed.reason, details);
    const offered = vhostVdpaBackendFeatures(this.device);
    if ((features & ~offered) !== 0n) {
      return this.#fail(
        op,
        "EOPNOTSUPP",
        `backend features ${backendFeatureNames(features & ~offered)} not offered`,
        details,
      );
    }
    this.#backendFeatures = features;
    this.#backendFeaturesSet = true;
    return this.#done(op, undefined, details);
  }

  /** Acked backend features. */
  get backendFeatures(): bigint {
    return this.#backendFeatures;
  }

  #hasBackend(bit: number): boolean {
    return this.#backendFeaturesSet && ((this.#backendFeatures >> BigInt(bit)) & 1n) === 1n;
  }

  /** VHOST_SET_OWNER; binds the owner's mm for use_va parents (vhost_vdpa_bind_mm). */
  setOwner(): Result<void, VhostVdpaError> {
    const op = "VHOST_SET_OWNER";
    const closed = this.#open(op);
    if (closed) return this.#fail(op, closed.errno, closed.reason);
    // vhost_dev_set_owner: one owner per device
    if (this.#hasOwner) return this.#fail(op, "EBUSY", "the device already has an owner");
    this.#hasOwner = true;
    if (this.device.spec.useVa === true && this.#mm !== undefined) this.device.bindMm(this.#mm);
    return this.#done(op, undefined, { owner: this.owner });
  }

  /** Whether SET_OWNER succeeded. */
  get hasOwner(): boolean {
    return this.#hasOwner;
  }

  /** VHOST_VDPA_GET_DEVICE_ID. */
  getDeviceId(): Result<number, VhostVdpaError> {
    return this.#done("VHOST_VDPA_GET_DEVICE_ID", this.device.deviceId, {
      value: this.device.deviceId,
    });
  }

  /** VHOST_GET_FEATURES: the device features (get_device_features). */
  getFeatures(): Result<bigint, VhostVdpaError> {
    const f = this.device.getDeviceFeatures();
    return this.#done("VHOST_GET_FEATURES", f, { features: hex(f) });
  }

  /** VHOST_SET_FEATURES: -EBUSY after FEATURES_OK; the parent's refusal is -EINVAL. */
  setFeatures(features: bigint): Result<void, VhostVdpaError> {
    const op = "VHOST_SET_FEATURES";
    const details = { features: hex(features) };
    const closed = this.#open(op);
    if (closed) return this.#fail(op, closed.errno, closed.reason, details);
    const r = vhostVdpaSetFeatures(this.device, features);
    if (!r.ok) {
      // vhost_vdpa_set_features: vdpa_set_features failing is returned as -EINVAL
      return this.#fail(
        op,
        r.error.errno === "EBUSY" ? "EBUSY" : "EINVAL",
        r.error.reason,
        details,
      );
    }
    return this.#done(op, undefined, details);
  }

  /** VHOST_VDPA_GET_IOVA_RANGE. */
  getIovaRange(): Result<{ first: number; last: number }, VhostVdpaError> {
    const r = this.iotlb.range;
    // the trace shows the device's u64 range; the simulator's addresses stop at 2^53
    const dr = this.device.getIovaRange();
    return this.#done("VHOST_VDPA_GET_IOVA_RANGE", { first: r.first, last: r.last }, {
      first: hex(dr.first),
      last: hex(dr.last),
    });
  }

  /** VHOST_VDPA_GET_CONFIG_SIZE. */
  getConfigSize(): Result<number, VhostVdpaError> {
    const n = this.device.getConfigSize();
    return this.#done("VHOST_VDPA_GET_CONFIG_SIZE", n, { len: n });
  }

  /** VHOST_VDPA_GET_CONFIG: `len` 0 or beyond the config space is -EINVAL. */
  getConfig(offset: number, len: number): Result<Uint8Array, VhostVdpaError> {
    const op = "VHOST_VDPA_GET_CONFIG";
    const details = { off: offset, len };
    const bad = this.#configRange(offset, len);
    if (bad !== undefined) return this.#fail(op, "EINVAL", bad, details);
    return this.#done(op, this.device.getConfig(offset, len), details);
  }

  /** VHOST_VDPA_SET_CONFIG. */
  setConfig(offset: number, bytes: Uint8Array): Result<void, VhostVdpaError> {
    const op = "VHOST_VDPA_SET_CONFIG";
    const details = { off: offset, len: bytes.length };
    const bad = this.#configRange(offset, bytes.length);
    if (bad !== undefined) return this.#fail(op, "EINVAL", bad, details);
    this.device.setConfig(offset, bytes);
    return this.#done(op, undefined, details);
  }

  /** vhost_vdpa_config_validate. */
  #configRange(offset: number, len: number): string | undefined {
    const size = this.device.getConfigSize();
    if (len === 0 || offset > size || offset < 0) {
      return `config range ${offset}+${len} is empty or starts beyond ${size}`;
    }
    if (len > size - offset) return `config range ${offset}+${len} ends beyond ${size}`;
    return undefined;
  }

  /** VHOST_VDPA_GET_STATUS. */
  getStatus(): Result<number, VhostVdpaError> {
    const s = this.device.getStatus();
    return this.#done("VHOST_VDPA_GET_STATUS", s, { status: s });
  }

  /**
   * VHOST_VDPA_SET_STATUS: bits may not be cleared except by writing 0 (reset). DRIVER_OK
   * registers the IRQ bypass producers, leaving it unregisters them.
   */
  setStatus(status: number): Result<void, VhostVdpaError> {
    const op = "VHOST_VDPA_SET_STATUS";
    const details = { status };
    const closed = this.#open(op);
    if (closed) return this.#fail(op, closed.errno, closed.reason, details);
    const old = this.device.getStatus();
    const r = vhostVdpaSetStatus(this.device, status);
    if (!r.ok) return this.#fail(op, r.error.errno, r.error.reason, details);
    const was = (old & VIRTIO_CONFIG_S_DRIVER_OK) !== 0;
    const now = (status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0;
    if (was && !now) { for (const vq of this.#vqs) vq.bypass = false; }
    if (status === 0) {
      // the reset dropped the parent's callbacks; the files stay bound in vhost
      this.#suspended = false;
    }
    this.#log(op, details);
    if (!was && now) {
      for (let i = 0; i < this.#vqs.length; i++) this.#setupIrq(i);
    }
    return ok(undefined);
  }

  /** vhost_vdpa_setup_vq_irq: a queue with a call fd and a host IRQ bypasses the host. */
  #setupIrq(index: number): void {
    const vq = this.#vqs[index];
    if (vq === undefined || vq.callFd === undefined) return;
    const irq = this.device.getVqIrq(index);
    if (irq === undefined) return;
    vq.bypass = true;
    this.#trace.emit({
      type: "control",
      t: this.#trace.now(),
      dur: 0,
      ctx: "",
      comp: "vhost-vdpa",
      action: "note",
      details: { name: "irq_bypass_register_producer", index, irq },
    });
  }

  /** Whether a queue's interrupts take the IRQ bypass (posted straight to the vCPU). */
  irqBypass(index: number): boolean {
    return this.#vqs[index]?.bypass ?? false;
  }

  /** VHOST_VDPA_GET_VRING_NUM: the device's maximum queue size. */
  getVringNumMax(): Result<number, VhostVdpaError> {
    const n = this.device.getVqNumMax();
    return this.#done("VHOST_VDPA_GET_VRING_NUM", n, { num: n });
  }

  /** VHOST_VDPA_GET_VQS_COUNT. */
  getVqsCount(): Result<number, VhostVdpaError> {
    return this.#done("VHOST_VDPA_GET_VQS_COUNT", this.#vqs.length, { num: this.#vqs.length });
  }

  /** VHOST_VDPA_GET_GROUP_NUM. */
  getGroupNum(): Result<number, VhostVdpaError> {
    const n = this.device.spec.ngroups;
    return this.#done("VHOST_VDPA_GET_GROUP_NUM", n, { num: n });
  }

  /** VHOST_VDPA_GET_AS_NUM. */
  getAsNum(): Result<number, VhostVdpaError> {
    const n = this.device.spec.nas;
    return this.#done("VHOST_VDPA_GET_AS_NUM", n, { num: n });
  }

  /** VHOST_VDPA_GET_VRING_GROUP. */
  getVringGroup(index: number): Result<number, VhostVdpaError> {
    const op = "VHOST_VDPA_GET_VRING_GROUP";
    const v = this.#vring(op, index, { index });
    if (!v.ok) return v;
    const g = this.device.getVqGroup(index);
    if (!g.ok) return this.#fail(op, g.error.errno, g.error.reason, { index });
    return this.#done(op, g.value, { index, num: g.value });
  }

  /** VHOST_VDPA_SET_GROUP_ASID (index = group, num = asid). */
  setGroupAsid(group: number, asid: number): Result<void, VhostVdpaError> {
    const op = "VHOST_VDPA_SET_GROUP_ASID";
    const details = { index: group, num: asid };
    if (!this.#hasOwner) return this.#fail(op, "EPERM", "no owner", details);
    const r = this.device.setGroupAsid(group, asid);
    if (!r.ok) return this.#fail(op, r.error.errno, r.error.reason, details);
    return this.#done(op, undefined, details);
  }

  /** VHOST_VDPA_SET_CONFIG_CALL: the config-change eventfd (-1 removes it). */
  setConfigCall(fd: number): Result<void, VhostVdpaError> {
    const op = "VHOST_VDPA_SET_CONFIG_CALL";
    if (fd < VHOST_FILE_UNBIND) {
      return this.#fail(op, "EBADF", `fd ${fd} is not an eventfd`, { fd });
    }
    this.#configCallFd = fd === VHOST_FILE_UNBIND ? undefined : fd;
    // vhost_vdpa_set_config_call: the parent's config callback signals the eventfd
    this.device.setConfigCb(
      this.#configCallFd === undefined ? undefined : (t) => this.onConfigCall?.(t),
    );
    return this.#done(op, undefined, { eventfd: fd });
  }

  /** The config-change eventfd, if set. */
  get configCallFd(): number | undefined {
    return this.#configCallFd;
  }

  /** VHOST_VDPA_SUSPEND: -EOPNOTSUPP without the parent's suspend op. */
  suspend(): Result<void, VhostVdpaError> {
    const op = "VHOST_VDPA_SUSPEND";
    if (!this.device.spec.supportsSuspend) return this.#fail(op, "EOPNOTSUPP", "no suspend op");
    // vhost_vdpa_suspend: nothing to do before DRIVER_OK
    if ((this.device.getStatus() & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) {
      const r = this.device.suspend();
      if (!r.ok) return this.#fail(op, r.error.errno, r.error.reason);
      this.#suspended = true;
    }
    return this.#done(op, undefined);
  }

  /** VHOST_VDPA_RESUME. */
  resume(): Result<void, VhostVdpaError> {
    const op = "VHOST_VDPA_RESUME";
    if (!this.device.spec.supportsSuspend) return this.#fail(op, "EOPNOTSUPP", "no resume op");
    if (this.#suspended) {
      const r = this.device.resume();
      if (!r.ok) return this.#fail(op, r.error.errno, r.error.reason);
      this.#suspended = false;
    }
    return this.#done(op, undefined);
  }

  /** VHOST_SET_LOG_BASE / VHOST_SET_LOG_FD: vhost-vdpa has no dirty log (-ENOIOCTLCMD → ENOTTY). */
  setLogBase(): Result<void, VhostVdpaError> {
    return this.#fail("VHOST_SET_LOG_BASE", "ENOTTY", "vhost-vdpa does not log dirty pages");
  }

  // ---- ring ioctls ---------------------------------------------------------------------

  /** VHOST_SET_VRING_NUM → set_vq_num. */
  setVringNum(index: number, num: number): Result<void, VhostVdpaError> {
    const op = "VHOST_SET_VRING_NUM";
    const details = { index, num };
    const v = this.#vring(op, index, details);
    if (!v.ok) return v;
    // vhost_vring_set_num: a non-zero power of two that fits in u16
    if (!Number.isInteger(num) || num <= 0 || num > 0xffff || (num & (num - 1)) !== 0) {
      return this.#fail(op, "EINVAL", `ring size ${num} is not a power of 2 in 1..32768`, details);
    }
    v.value.num = num;
    this.device.setVqNum(index, num);
    return this.#done(op, undefined, details);
  }

  /** VHOST_SET_VRING_BASE → set_vq_state (split: last_avail_idx; packed: the wrap counters too). */
  setVringBase(index: number, num: number): Result<void, VhostVdpaError> {
    const op = "VHOST_SET_VRING_BASE";
    const details = { index, num };
    const v = this.#vring(op, index, details);
    if (!v.ok) return v;
    const packed = hasFeature(this.device.getDriverFeatures(), VIRTIO_F_RING_PACKED);
    if (!packed && (num > 0xffff || num < 0 || !Number.isInteger(num))) {
      return this.#fail(op, "EINVAL", `base ${num} does not fit in 16 bits`, details);
    }
    v.value.lastAvail = num;
    const state: VqStateSplit | VqStatePacked = packed
      ? {
        kind: "packed",
        lastAvailIdx: num & 0x7fff,
        lastAvailCounter: ((num >>> 15) & 1) as 0 | 1,
        lastUsedIdx: (num >>> 16) & 0x7fff,
        lastUsedCounter: ((num >>> 31) & 1) as 0 | 1,
      }
      : { kind: "split", availIndex: num };
    const r = this.device.setVqState(index, state);
    if (!r.ok) return this.#fail(op, "EINVAL", r.error.reason, details);
    return this.#done(op, undefined, details);
  }

  /** VHOST_GET_VRING_BASE ← get_vq_state. */
  getVringBase(index: number): Result<number, VhostVdpaError> {
    const op = "VHOST_GET_VRING_BASE";
    const v = this.#vring(op, index, { index });
    if (!v.ok) return v;
    const s = this.device.getVqState(index);
    if (!s.ok) return this.#fail(op, s.error.errno, s.error.reason, { index });
    const st = s.value;
    const num = st.kind === "split"
      ? st.availIndex
      : (st.lastAvailIdx | (st.lastAvailCounter << 15) |
        ((st.lastUsedIdx | (st.lastUsedCounter << 15)) << 16)) >>> 0;
    v.value.lastAvail = num;
    return this.#done(op, num, { index, num });
  }

  /** VHOST_SET_VRING_ADDR → set_vq_address (vhost_vring_set_addr's checks first). */
  setVringAddr(index: number, a: VringAddr): Result<void, VhostVdpaError> {
    const op = "VHOST_SET_VRING_ADDR";
    const details = {
      index,
      desc: `0x${a.desc.toString(16)}`,
      avail: `0x${a.avail.toString(16)}`,
      used: `0x${a.used.toString(16)}`,
      ...(a.flags ? { flags: a.flags } : {}),
    };
    const v = this.#vring(op, index, details);
    if (!v.ok) return v;
    if (((a.flags ?? 0) & ~1) !== 0) {
      return this.#fail(op, "EOPNOTSUPP", `flags 0x${(a.flags ?? 0).toString(16)}`, details);
    }
    // vhost_vring_set_addr: VRING_AVAIL_ALIGN_SIZE 2, VRING_USED_ALIGN_SIZE 4
    if (a.avail % 2 !== 0 || a.used % 4 !== 0 || (a.log ?? 0) % 4 !== 0) {
      return this.#fail(
        op,
        "EINVAL",
        "avail ring not 2-aligned or used ring not 4-aligned",
        details,
      );
    }
    v.value.addr = a;
    this.device.setVqAddress(index, {
      desc: BigInt(a.desc),
      driver: BigInt(a.avail),
      device: BigInt(a.used),
    });
    return this.#done(op, undefined, details);
  }

  /** VHOST_SET_VRING_KICK: the eventfd KVM signals on a guest notify (-1 unbinds). */
  setVringKick(index: number, fd: number): Result<void, VhostVdpaError> {
    const op = "VHOST_SET_VRING_KICK";
    const details = { index, eventfd: fd };
    const v = this.#vring(op, index, details);
    if (!v.ok) return v;
    if (fd < VHOST_FILE_UNBIND) {
      return this.#fail(op, "EBADF", `fd ${fd} is not an eventfd`, details);
    }
    v.value.kickFd = fd === VHOST_FILE_UNBIND ? undefined : fd;
    return this.#done(op, undefined, details);
  }

  /** VHOST_SET_VRING_CALL → set_vq_cb (the parent's callback signals the call eventfd). */
  setVringCall(index: number, fd: number): Result<void, VhostVdpaError> {
    const op = "VHOST_SET_VRING_CALL";
    const details = { index, eventfd: fd };
    const v = this.#vring(op, index, details);
    if (!v.ok) return v;
    if (fd < VHOST_FILE_UNBIND) {
      return this.#fail(op, "EBADF", `fd ${fd} is not an eventfd`, details);
    }
    v.value.callFd = fd === VHOST_FILE_UNBIND ? undefined : fd;
    this.device.setVqCb(
      index,
      fd === VHOST_FILE_UNBIND ? undefined : (at) => this.#call(index, at),
    );
    this.#log(op, details);
    // vhost_vdpa_vring_ioctl: a new call fd re-registers the bypass producer when running
    if ((this.device.getStatus() & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) {
      v.value.bypass = false;
      this.#setupIrq(index);
    }
    return ok(undefined);
  }

  /** VHOST_VDPA_SET_VRING_ENABLE → set_vq_ready. */
  setVringEnable(index: number, enable: boolean): Result<void, VhostVdpaError> {
    const op = "VHOST_VDPA_SET_VRING_ENABLE";
    const details = { index, num: enable ? 1 : 0 };
    const v = this.#vring(op, index, details);
    if (!v.ok) return v;
    this.device.setVqReady(index, enable);
    return this.#done(op, undefined, details);
  }

  /** Whether ENABLE_AFTER_DRIVER_OK was acked (QEMU then enables after DRIVER_OK). */
  get enableAfterDriverOk(): boolean {
    return this.#hasBackend(VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK);
  }

  // ---- write(2): IOTLB messages --------------------------------------------------------

  /**
   * One IOTLB message written to the fd (vhost_chr_write_iter → vhost_vdpa_process_iotlb_msg).
   * `asid` travels in the V2 envelope; without IOTLB_ASID only address space 0 exists.
   */
  writeIotlb(msg: VhostIotlbMsg, asid = 0): Result<void, VhostVdpaError> {
    const text = formatVhostIotlbMsg(msg);
    const event = (error?: string) => {
      this.#trace.emit({
        type: "control",
        t: this.#trace.now(),
        dur: 0,
        ctx: this.#ctx,
        comp: "vhost-vdpa",
        action: msg.type === VHOST_IOTLB_UPDATE
          ? "iotlb-update"
          : msg.type === VHOST_IOTLB_INVALIDATE
          ? "iotlb-invalidate"
          : "note",
        details: {
          name: text.split(" ")[0],
          fd: this.fd,
          ...(asid !== 0 ? { asid } : {}),
          ...(msg.type === VHOST_IOTLB_UPDATE || msg.type === VHOST_IOTLB_INVALIDATE
            ? { iova: msg.iova, size: msg.size }
            : {}),
          ...(msg.type === VHOST_IOTLB_UPDATE
            ? { uaddr: msg.uaddr, perm: ["none", "ro", "wo", "rw"][msg.perm] }
            : {}),
          ...(error !== undefined ? { error } : {}),
        },
      });
    };
    const fail = (errno: Errno, reason: string): Result<void, VhostVdpaError> => {
      event(`-${errno}`);
      return err({ kind: "errno", op: "write", errno, reason });
    };
    if (this.#closed) return fail("EBADF", "the file is closed");
    // vhost_vdpa_process_iotlb_msg: vhost_dev_check_owner
    if (!this.#hasOwner) return fail("EPERM", "no owner: VHOST_SET_OWNER must come first");
    if (asid !== 0 && !this.#hasBackend(VHOST_BACKEND_F_IOTLB_ASID)) {
      return fail("EINVAL", `asid ${asid} without VHOST_BACKEND_F_IOTLB_ASID`);
    }
    if (
      (msg.type === VHOST_IOTLB_BATCH_BEGIN || msg.type === VHOST_IOTLB_BATCH_END) &&
      !this.#hasBackend(VHOST_BACKEND_F_IOTLB_BATCH)
    ) {
      // without IOTLB_BATCH the kernel does not know the batch types
      return fail("EINVAL", "batch messages need VHOST_BACKEND_F_IOTLB_BATCH");
    }
    const r = this.iotlb.process(msg, asid);
    if (!r.ok) {
      return fail(vhostIotlbErrno(r.error) as Errno, formatVhostIotlbError(r.error));
    }
    event();
    return ok(undefined);
  }

  // ---- mmap: the host notifier ---------------------------------------------------------

  /**
   * mmap(NULL, PAGE_SIZE, PROT_WRITE, MAP_SHARED, fd, index × PAGE_SIZE): the queue's
   * doorbell page (vhost_vdpa_mmap + vhost_vdpa_fault). Returns the doorbell's physical
   * address.
   */
  mmapNotify(
    index: number,
    o: { readonly length?: number; readonly shared?: boolean; readonly read?: boolean } = {},
  ): Result<number, VhostVdpaError> {
    const fail = (errno: Errno, reason: string): Result<number, VhostVdpaError> => {
      this.#trace.emit({
        type: "control",
        t: this.#trace.now(),
        dur: 0,
        ctx: this.#ctx,
        comp: "vhost-vdpa",
        action: "note",
        details: { name: "mmap", fd: this.fd, index, error: `-${errno}` },
      });
      return err({ kind: "errno", op: "mmap", errno, reason });
    };
    const length = o.length ?? 4096;
    if (length !== 4096) return fail("EINVAL", "the notify mapping must be exactly one page");
    if (o.shared === false) return fail("EINVAL", "the notify mapping must be MAP_SHARED");
    if (o.read === true) return fail("EINVAL", "the notify page is write-only");
    if (index < 0 || index > 65535) return fail("EINVAL", `queue ${index} out of range`);
    const area = this.device.getVqNotification(index);
    if (area === undefined) return fail("ENOTSUPP", "the parent has no get_vq_notification");
    if (area.addr % 4096 !== 0) return fail("EINVAL", "the doorbell is not page aligned");
    if (area.size !== length) return fail("ENOTSUPP", "the doorbell is not alone in its page");
    this.#trace.emit({
      type: "control",
      t: this.#trace.now(),
      dur: 0,
      ctx: this.#ctx,
      comp: "vhost-vdpa",
      action: "note",
      details: { name: "mmap", fd: this.fd, index, pa: area.addr, len: area.size },
    });
    return ok(area.addr);
  }

  // ---- eventfds ------------------------------------------------------------------------

  /**
   * The kick eventfd of a queue was signalled: the vhost worker's handle_vq_kick calls
   * kick_vq. Returns false when no kick fd is bound (nothing listens).
   */
  kick(index: number, at?: NotifyAt): boolean {
    const vq = this.#vqs[index];
    if (vq === undefined || vq.kickFd === undefined || this.#closed) return false;
    this.#kicks++;
    this.device.kickVq(index, at);
    return true;
  }

  /** Kicks that reached kick_vq. */
  get kicks(): number {
    return this.#kicks;
  }

  /** vhost_vdpa_virtqueue_cb: the parent completed buffers; signal the call eventfd. */
  #call(index: number, at: NotifyAt | undefined): void {
    if (this.#vqs[index]?.callFd === undefined) return;
    this.onCall?.(index, at);
  }

  /** The kick / call eventfds of a queue. */
  eventfds(
    index: number,
  ): { readonly kick: number | undefined; readonly call: number | undefined } {
    const vq = this.#vqs[index];
    return { kick: vq?.kickFd, call: vq?.callFd };
  }

  /** Ring state the kernel holds for a queue (for `show vhost`). */
  vring(
    index: number,
  ): { num: number; lastAvail: number; addr: VringAddr | undefined } | undefined {
    const vq = this.#vqs[index];
    return vq === undefined ? undefined : { num: vq.num, lastAvail: vq.lastAvail, addr: vq.addr };
  }

  /** Whether ACCESS_PLATFORM was negotiated (the IOTLB is then the only translation). */
  get accessPlatform(): boolean {
    return hasFeature(this.device.getDriverFeatures(), VIRTIO_F_ACCESS_PLATFORM);
  }

  /**
   * close(2): vhost_vdpa_release — reset the device, drop every mapping, unbind the mm. The
   * caller closes the node handle in the host kernel.
   */
  close(): void {
    if (this.#closed) return;
    this.device.setStatus(0);
    this.iotlb.release();
    this.device.bindMm(undefined);
    for (let i = 0; i < this.#vqs.length; i++) this.device.setVqCb(i, undefined);
    this.device.setConfigCb(undefined);
    this.#closed = true;
    this.#trace.emit({
      type: "control",
      t: this.#trace.now(),
      dur: 0,
      ctx: this.#ctx,
      comp: "vhost-vdpa",
      action: "note",
      details: { name: "release", fd: this.fd },
    });
  }

  /** True after close. */
  get closed(): boolean {
    return this.#closed;
  }
}

/** The ioctl request number of a name (for `strace`-like traces). */
export function ioctlValue(name: VhostIoctlName): number {
  return vhostIoctl(name).value;
}

/** BATCH_BEGIN / BATCH_END messages (the other fields are ignored by the kernel). */
export const IOTLB_BATCH_BEGIN: VhostIotlbMsg = {
  type: VHOST_IOTLB_BATCH_BEGIN,
  iova: 0,
  size: 0,
  uaddr: 0,
  perm: 0,
};

/** See {@link IOTLB_BATCH_BEGIN}. */
export const IOTLB_BATCH_END: VhostIotlbMsg = {
  type: VHOST_IOTLB_BATCH_END,
  iova: 0,
  size: 0,
  uaddr: 0,
  perm: 0,
};
