/**
 * A vDPA device's control plane: the state behind `struct vdpa_config_ops`
 * (include/linux/vdpa.h) — device and driver features, the status byte, config space
 * bytes, per-virtqueue size/addresses/ready/state, virtqueue groups and their address
 * spaces (ASIDs), the IOVA range and vendor statistics counters. Bus drivers (vhost_vdpa,
 * virtio_vdpa) and, later, the datapath drive it through these methods; parents
 * (vdpa_sim_net, vdpa_sim_blk, hardware) subclass it with their rules.
 *
 * The datapath is not here: a later layer walks the rings and increments `stats`.
 *
 * @example A driver bring-up against a device
 * ```ts
 * import { VdpaDevice, VIRTIO_CONFIG_S_ACKNOWLEDGE, VIRTIO_CONFIG_S_DRIVER } from "./vdpa_device.ts";
 * const dev = new VdpaDevice("vdpa0", {
 *   deviceId: 1, vendorId: 0, nvqs: 3, ngroups: 1, nas: 1, maxVqSize: 256,
 *   deviceFeatures: (1n << 32n) | (1n << 33n), configSize: 24,
 * });
 * dev.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
 * const r = dev.setDriverFeatures(1n << 32n);
 * if (!r.ok || dev.getDriverFeatures() !== 1n << 32n) throw new Error("features");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import { IDENTITY, type Translator } from "../memory/translator.ts";
import type { GuestMemory } from "../memory/guest_memory.ts";
import type { CpuContext } from "../sim/cpu_context.ts";
import type { PacketGroup } from "../datapath/hop.ts";
import type { Errno } from "../host/errno.ts";

/** Virtio device ids (virtio 1.2 §5). */
export const VIRTIO_ID_NET = 1;
export const VIRTIO_ID_BLOCK = 2;

/** Device status bits (virtio 1.2 §2.1). */
export const VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
export const VIRTIO_CONFIG_S_DRIVER = 2;
export const VIRTIO_CONFIG_S_DRIVER_OK = 4;
export const VIRTIO_CONFIG_S_FEATURES_OK = 8;
export const VIRTIO_CONFIG_S_NEEDS_RESET = 0x40;
export const VIRTIO_CONFIG_S_FAILED = 0x80;

/** Feature bit numbers the device models use (virtio 1.2 §6, §5.1.3, §5.2.3). */
export const VIRTIO_NET_F_CSUM = 0;
export const VIRTIO_NET_F_MTU = 3;
export const VIRTIO_NET_F_MAC = 5;
export const VIRTIO_NET_F_MRG_RXBUF = 15;
export const VIRTIO_NET_F_STATUS = 16;
export const VIRTIO_NET_F_CTRL_VQ = 17;
export const VIRTIO_NET_F_MQ = 22;
export const VIRTIO_NET_F_CTRL_MAC_ADDR = 23;
export const VIRTIO_NET_F_RSS = 60;
export const VIRTIO_F_ANY_LAYOUT = 27;
export const VIRTIO_F_VERSION_1 = 32;
export const VIRTIO_F_ACCESS_PLATFORM = 33;
export const VIRTIO_BLK_F_SIZE_MAX = 1;
export const VIRTIO_BLK_F_SEG_MAX = 2;
export const VIRTIO_BLK_F_BLK_SIZE = 6;
export const VIRTIO_BLK_F_FLUSH = 9;
export const VIRTIO_BLK_F_TOPOLOGY = 10;
export const VIRTIO_BLK_F_MQ = 12;
export const VIRTIO_BLK_F_DISCARD = 13;
export const VIRTIO_BLK_F_WRITE_ZEROES = 14;

/** `virtio_net_config.status` bit (virtio 1.2 §5.1.4). */
export const VIRTIO_NET_S_LINK_UP = 1;

/** A 64-bit feature mask from bit numbers. */
export function featureMask(bits: readonly number[]): bigint {
  let m = 0n;
  for (const b of bits) m |= 1n << BigInt(b);
  return m;
}

/** Whether `features` has bit `bit`. */
export function hasFeature(features: bigint, bit: number): boolean {
  return (features & (1n << BigInt(bit))) !== 0n;
}

/** Split-ring state saved by SET_VRING_BASE / GET_VRING_BASE (`vdpa_vq_state_split`). */
export interface VqStateSplit {
  readonly kind: "split";
  readonly availIndex: number;
}

/** Packed-ring state (`vdpa_vq_state_packed`). */
export interface VqStatePacked {
  readonly kind: "packed";
  readonly lastAvailCounter: 0 | 1;
  readonly lastAvailIdx: number;
  readonly lastUsedCounter: 0 | 1;
  readonly lastUsedIdx: number;
}

/** One virtqueue as the device holds it (plain data; the datapath reads it). */
export interface VqConfig {
  num: number;
  descArea: bigint;
  driverArea: bigint;
  deviceArea: bigint;
  ready: boolean;
  state: VqStateSplit | VqStatePacked;
  /** Whether a used-buffer callback is installed (set_vq_cb). */
  hasCallback: boolean;
}

/** Why a config op was refused: the errno the kernel returns, and why (for traces). */
export interface VdpaOpError {
  readonly errno: Errno;
  readonly reason: string;
  /** The netlink extack text the kernel would attach, when it sets one. */
  readonly extack?: string;
}

/**
 * When a notification travels and which packets it is about, for the datapath's hops: a
 * kick reaching kick_vq, or a used-buffer callback leaving the parent. Control-plane use
 * passes nothing.
 */
export interface NotifyAt {
  /** Virtual time (ns). */
  readonly t: number;
  /** The context that raised it. */
  readonly ctx: CpuContext;
  /** The packets it is about, when known. */
  readonly group: PacketGroup | undefined;
}

/** A used-buffer callback installed with set_vq_cb (`struct vdpa_callback`). */
export type VqCallback = (at?: NotifyAt) => void;

/**
 * A process address space a device can be bound to (`bind_mm` for use_va parents) or the
 * physical memory it reaches: the bytes live in `mem`, and `toMem` maps the addresses the
 * device's IOTLB produces (HVAs of the bound mm, or physical addresses) to addresses of
 * `mem`.
 */
export interface MemoryView {
  /** For traces: `qemu:vm1`, `host`. */
  readonly name: string;
  readonly mem: GuestMemory;
  readonly toMem: Translator;
}

/**
 * The datapath half of a parent: what the control plane drives. kick_vq, status changes
 * (DRIVER_OK starts processing) and reset reach it through the device.
 */
export interface VdpaDatapath {
  /** kick_vq(idx): an available-buffer notification reached the device. */
  kick(index: number, at?: NotifyAt): void;
  /** set_status wrote a new status byte (not a reset). */
  statusChanged(old: number, status: number): void;
  /** The device was reset. */
  reset(): void;
  /**
   * Where the datapath is in queue `index` now (vringh's last_avail_idx, the NIC's queue
   * context): what get_vq_state reports while the rings run; undefined before they do.
   */
  vqState?(index: number): VqStateSplit | VqStatePacked | undefined;
}

/** A doorbell the parent exposes (get_vq_notification: `struct vdpa_notification_area`). */
export interface VdpaNotificationArea {
  /** Physical address of the doorbell. */
  readonly addr: number;
  readonly size: number;
}

/** Static properties of a device, fixed at creation by its parent. */
export interface VdpaDeviceSpec {
  /** Virtio device id (1 net, 2 block). */
  readonly deviceId: number;
  readonly vendorId: number;
  /** Number of virtqueues (`max_vqs` in `vdpa dev show`). */
  readonly nvqs: number;
  readonly ngroups: number;
  readonly nas: number;
  readonly maxVqSize: number;
  readonly minVqSize?: number;
  /** get_vq_align (bytes). */
  readonly vqAlign?: number;
  /** Features offered after `device_features` provisioning. */
  readonly deviceFeatures: bigint;
  readonly configSize: number;
  /** The parent refuses driver features without ACCESS_PLATFORM (vdpa_sim). */
  readonly requireAccessPlatform?: boolean;
  /** Virtqueue index → group (default: all in group 0). */
  readonly vqGroup?: (index: number) => number;
  /** get_iova_range (inclusive). */
  readonly iovaRange?: { readonly first: bigint; readonly last: bigint };
  readonly supportsSuspend?: boolean;
  /** How the parent programs translations: whole-table set_map, incremental dma_map, or the platform IOMMU. */
  readonly dma?: "set_map" | "dma_map" | "platform";
  /** Virtual-address mode (use_va). */
  readonly useVa?: boolean;
  /** get_vq_notification (hardware doorbells); absent for vdpa_sim. */
  readonly notification?: (index: number) => VdpaNotificationArea;
  /** get_vq_irq: the host IRQ of a queue's MSI-X vector (irq bypass); absent when none. */
  readonly vqIrq?: (index: number) => number;
}

const FULL_IOVA = { first: 0n, last: 0xffff_ffff_ffff_ffffn } as const;

/** The control plane of one vDPA device. */
export class VdpaDevice {
  /** The vdpa device name (`vdpa0`). */
  readonly name: string;
  readonly spec: VdpaDeviceSpec;
  #deviceFeatures: bigint;
  #driverFeatures = 0n;
  #featuresValid = false;
  #status = 0;
  #suspended = false;
  readonly #config: Uint8Array;
  readonly #vqs: VqConfig[];
  readonly #groupAsid: number[];
  readonly #maps: (Translator | undefined)[];
  #configCb: ((t?: number) => void) | undefined;
  #unreachableCb: ((index: number, why: string, t?: number) => void) | undefined;
  readonly #callbacks: (VqCallback | undefined)[];
  #datapath: VdpaDatapath | undefined;
  #mm: MemoryView | undefined;
  #kicks = 0;
  #resets = 0;

  /** Creates the device with zeroed config space of `spec.configSize` bytes. */
  constructor(name: string, spec: VdpaDeviceSpec) {
    this.name = name;
    this.spec = spec;
    this.#deviceFeatures = spec.deviceFeatures;
    this.#config = new Uint8Array(spec.configSize);
    this.#vqs = Array.from({ length: spec.nvqs }, () => freshVq());
    this.#callbacks = Array.from({ length: spec.nvqs }, () => undefined);
    this.#groupAsid = Array.from({ length: spec.ngroups }, () => 0);
    // vdpa_sim starts every address space as an identity map until set_map replaces it.
    this.#maps = Array.from({ length: spec.nas }, () => IDENTITY);
  }

  /** get_device_id. */
  get deviceId(): number {
    return this.spec.deviceId;
  }

  /** get_vendor_id. */
  get vendorId(): number {
    return this.spec.vendorId;
  }

  /** get_device_features. */
  getDeviceFeatures(): bigint {
    return this.#deviceFeatures;
  }

  /** get_driver_features (0 until the driver writes them). */
  getDriverFeatures(): bigint {
    return this.#driverFeatures;
  }

  /** Whether the driver has written features since the last reset (vdev->features_valid). */
  get featuresValid(): boolean {
    return this.#featuresValid;
  }

  /**
   * set_driver_features. The accepted set is masked to what the device offers; parents
   * that need ACCESS_PLATFORM refuse without it (vdpa_sim: "DMA mapping must be done by
   * driver").
   */
  setDriverFeatures(features: bigint): Result<void, VdpaOpError> {
    if (this.spec.requireAccessPlatform && !hasFeature(features, VIRTIO_F_ACCESS_PLATFORM)) {
      // drivers/vdpa/vdpa_sim/vdpa_sim.c vdpasim_set_driver_features
      return err({
        errno: "EINVAL",
        reason: "DMA mapping must be done by driver (ACCESS_PLATFORM)",
      });
    }
    this.#driverFeatures = features & this.#deviceFeatures;
    this.#featuresValid = true;
    return ok(undefined);
  }

  /** get_status. */
  getStatus(): number {
    return this.#status;
  }

  /** set_status; writing 0 resets the device (virtio 1.2 §2.1.2). */
  setStatus(status: number): void {
    if ((status & 0xff) === 0) {
      this.reset();
      return;
    }
    const old = this.#status;
    this.#status = status & 0xff;
    if (old !== this.#status) this.#datapath?.statusChanged(old, this.#status);
  }

  /**
   * Sets DEVICE_NEEDS_RESET on behalf of the device itself (virtio 1.2 §2.1.2: a device that
   * hit an unrecoverable error); the driver learns it on its next status read.
   */
  raiseNeedsReset(t?: number): void {
    const old = this.#status;
    this.#status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    if (old === this.#status) return;
    this.#datapath?.statusChanged(old, this.#status);
    // a device that needs a reset says so with a configuration change
    this.#configCb?.(t);
  }

  /** set_config_cb: the bus driver's config-change callback (vhost-vdpa: the config eventfd). */
  setConfigCb(cb: ((t?: number) => void) | undefined): void {
    this.#configCb = cb;
  }

  /**
   * Not a kernel interface — the lab's books: the device can no longer reach queue `index`
   * (its rings are unmapped). A real device just stays stuck (vdpa_sim retries on every kick,
   * the guest's TX watchdog fires); the bus driver hears it here so the driver's side books
   * what waits in that queue as lost.
   */
  queueUnreachable(index: number, why: string, t?: number): void {
    this.#unreachableCb?.(index, why, t);
  }

  /** Who hears {@link queueUnreachable} (the bus driver while the device runs). */
  setQueueUnreachableCb(cb: ((index: number, why: string, t?: number) => void) | undefined): void {
    this.#unreachableCb = cb;
  }

  /** reset: status, features, queues and address-space bindings back to creation state. */
  reset(): void {
    this.#status = 0;
    this.#driverFeatures = 0n;
    this.#featuresValid = false;
    this.#suspended = false;
    for (let i = 0; i < this.#vqs.length; i++) this.#vqs[i] = freshVq();
    this.#callbacks.fill(undefined);
    this.#groupAsid.fill(0);
    this.#resets++;
    this.onReset();
    this.#datapath?.reset();
  }

  /** How many resets the device has seen (open of /dev/vhost-vdpa-N resets it). */
  get resetCount(): number {
    return this.#resets;
  }

  /** Hook for parents (config refresh, counters); the base does nothing. */
  protected onReset(): void {}

  /** suspend (VHOST_VDPA_SUSPEND); -EOPNOTSUPP when the parent lacks it. */
  suspend(): Result<void, VdpaOpError> {
    if (!this.spec.supportsSuspend) return err({ errno: "EOPNOTSUPP", reason: "no suspend op" });
    this.#suspended = true;
    return ok(undefined);
  }

  /** resume. */
  resume(): Result<void, VdpaOpError> {
    if (!this.spec.supportsSuspend) return err({ errno: "EOPNOTSUPP", reason: "no resume op" });
    this.#suspended = false;
    return ok(undefined);
  }

  /** Whether the device is suspended. */
  get suspended(): boolean {
    return this.#suspended;
  }

  /** get_config_size. */
  getConfigSize(): number {
    return this.#config.length;
  }

  /**
   * get_config: a copy of `len` bytes at `offset`. Out-of-range reads return nothing, as
   * vdpa_sim's `if (offset + len > config_size) return;` leaves the buffer untouched.
   */
  getConfig(offset: number, len: number): Uint8Array {
    this.refreshConfig(this.#config);
    if (offset < 0 || len < 0 || offset + len > this.#config.length) return new Uint8Array(len);
    return this.#config.slice(offset, offset + len);
  }

  /** set_config: writes bytes; out-of-range writes are ignored (vdpa_sim). */
  setConfig(offset: number, bytes: Uint8Array): void {
    if (offset < 0 || offset + bytes.length > this.#config.length) return;
    this.#config.set(bytes, offset);
  }

  /** Parents refresh volatile fields before a read (vdpa_sim_net sets LINK_UP). */
  protected refreshConfig(_config: Uint8Array): void {}

  /** Direct access for parents and the datapath (e.g. the CVQ's MAC_ADDR_SET). */
  protected get configBytes(): Uint8Array {
    return this.#config;
  }

  /** get_vq_num_max. */
  getVqNumMax(): number {
    return this.spec.maxVqSize;
  }

  /** get_vq_num_min (1 unless the parent says otherwise). */
  getVqNumMin(): number {
    return this.spec.minVqSize ?? 1;
  }

  /** get_vq_align. */
  getVqAlign(): number {
    return this.spec.vqAlign ?? 4096;
  }

  /** The queue, or an error for an index the device does not have. */
  #vq(index: number): Result<VqConfig, VdpaOpError> {
    const vq = this.#vqs[index];
    return vq === undefined
      ? err({
        errno: "EINVAL",
        reason: `virtqueue ${index} does not exist (${this.#vqs.length} vqs)`,
      })
      : ok(vq);
  }

  /** set_vq_num. */
  setVqNum(index: number, num: number): Result<void, VdpaOpError> {
    const r = this.#vq(index);
    if (!r.ok) return r;
    r.value.num = num;
    return ok(undefined);
  }

  /** set_vq_address: descriptor, driver and device areas. */
  setVqAddress(
    index: number,
    areas: { readonly desc: bigint; readonly driver: bigint; readonly device: bigint },
  ): Result<void, VdpaOpError> {
    const r = this.#vq(index);
    if (!r.ok) return r;
    r.value.descArea = areas.desc;
    r.value.driverArea = areas.driver;
    r.value.deviceArea = areas.device;
    return ok(undefined);
  }

  /** set_vq_ready. */
  setVqReady(index: number, ready: boolean): Result<void, VdpaOpError> {
    const r = this.#vq(index);
    if (!r.ok) return r;
    r.value.ready = ready;
    return ok(undefined);
  }

  /** get_vq_ready. */
  getVqReady(index: number): Result<boolean, VdpaOpError> {
    const r = this.#vq(index);
    return r.ok ? ok(r.value.ready) : r;
  }

  /** set_vq_state (VHOST_SET_VRING_BASE). */
  setVqState(index: number, state: VqStateSplit | VqStatePacked): Result<void, VdpaOpError> {
    const r = this.#vq(index);
    if (!r.ok) return r;
    r.value.state = { ...state };
    return ok(undefined);
  }

  /** get_vq_state (VHOST_GET_VRING_BASE). */
  getVqState(index: number): Result<VqStateSplit | VqStatePacked, VdpaOpError> {
    const r = this.#vq(index);
    if (!r.ok) return r;
    // the running datapath knows how far it got; before that, what SET_VRING_BASE set
    const live = this.#datapath?.vqState?.(index);
    return ok(live !== undefined ? { ...live } : { ...r.value.state });
  }

  /** set_vq_cb: install or remove the used-buffer callback (presence only). */
  setVqCallback(index: number, installed: boolean): Result<void, VdpaOpError> {
    const r = this.#vq(index);
    if (!r.ok) return r;
    r.value.hasCallback = installed;
    return ok(undefined);
  }

  /** set_vq_cb with the callback itself; `undefined` removes it. */
  setVqCb(index: number, cb: VqCallback | undefined): Result<void, VdpaOpError> {
    const r = this.#vq(index);
    if (!r.ok) return r;
    r.value.hasCallback = cb !== undefined;
    this.#callbacks[index] = cb;
    return ok(undefined);
  }

  /** The used-buffer callback of a queue (what the parent calls to notify the driver). */
  vqCallback(index: number): VqCallback | undefined {
    return this.#callbacks[index];
  }

  /**
   * kick_vq: an available-buffer notification for queue `index`. Unknown indices are
   * ignored (the kernel drops them); the attached datapath decides what a kick does.
   */
  kickVq(index: number, at?: NotifyAt): void {
    if (index < 0 || index >= this.#vqs.length || !Number.isInteger(index)) return;
    this.#kicks++;
    this.#datapath?.kick(index, at);
  }

  /** kick_vq calls so far. */
  get kickCount(): number {
    return this.#kicks;
  }

  /** Connects the parent's datapath (the control plane calls into it from then on). */
  attachDatapath(dp: VdpaDatapath | undefined): void {
    this.#datapath = dp;
  }

  /** The attached datapath, if any. */
  get datapath(): VdpaDatapath | undefined {
    return this.#datapath;
  }

  /** get_vq_notification: the queue's doorbell, when the parent exposes one. */
  getVqNotification(index: number): VdpaNotificationArea | undefined {
    if (index < 0 || index >= this.#vqs.length) return undefined;
    return this.spec.notification?.(index);
  }

  /** get_vq_irq: the host IRQ of the queue, or undefined (-EOPNOTSUPP / no vector). */
  getVqIrq(index: number): number | undefined {
    if (index < 0 || index >= this.#vqs.length) return undefined;
    return this.spec.vqIrq?.(index);
  }

  /**
   * bind_mm (use_va parents): the device reaches memory through this address space from now
   * on; `undefined` unbinds (unbind_mm). Parents without use_va ignore it.
   */
  bindMm(mm: MemoryView | undefined): void {
    this.#mm = mm;
  }

  /** The bound address space, if any. */
  get boundMm(): MemoryView | undefined {
    return this.#mm;
  }

  /** A snapshot of a queue's configuration (plain object). */
  vqConfig(index: number): VqConfig | undefined {
    const vq = this.#vqs[index];
    return vq === undefined ? undefined : { ...vq, state: { ...vq.state } };
  }

  /** get_vq_group. */
  getVqGroup(index: number): Result<number, VdpaOpError> {
    const r = this.#vq(index);
    if (!r.ok) return r;
    return ok(this.spec.vqGroup?.(index) ?? 0);
  }

  /** set_group_asid: bind a virtqueue group to an address space. */
  setGroupAsid(group: number, asid: number): Result<void, VdpaOpError> {
    if (group < 0 || group >= this.spec.ngroups) {
      return err({
        errno: "EINVAL",
        reason: `group ${group} out of range (${this.spec.ngroups} groups)`,
      });
    }
    if (asid < 0 || asid >= this.spec.nas) {
      return err({
        errno: "EINVAL",
        reason: `asid ${asid} out of range (${this.spec.nas} address spaces)`,
      });
    }
    this.#groupAsid[group] = asid;
    return ok(undefined);
  }

  /** The ASID a group is bound to. */
  groupAsid(group: number): number | undefined {
    return this.#groupAsid[group];
  }

  /** get_iova_range. */
  getIovaRange(): { readonly first: bigint; readonly last: bigint } {
    return this.spec.iovaRange ?? FULL_IOVA;
  }

  /** set_map / dma_map results: the translator for an address space. */
  setMap(asid: number, translator: Translator): Result<void, VdpaOpError> {
    if (asid < 0 || asid >= this.spec.nas) {
      return err({
        errno: "EINVAL",
        reason: `asid ${asid} out of range (${this.spec.nas} address spaces)`,
      });
    }
    this.#maps[asid] = translator;
    return ok(undefined);
  }

  /** The translator a virtqueue's DMA goes through (vq → group → ASID → map). */
  translatorFor(index: number): Translator | undefined {
    const group = this.spec.vqGroup?.(index) ?? 0;
    const asid = this.#groupAsid[group];
    return asid === undefined ? undefined : this.#maps[asid];
  }

  /**
   * get_vendor_vq_stats: `[name, value]` pairs for one queue, or the kernel's refusal.
   * The base device has none (-EOPNOTSUPP: vdpa core finds no op).
   */
  vendorStats(_qidx: number): Result<readonly (readonly [string, bigint])[], VdpaOpError> {
    return err({ errno: "EOPNOTSUPP", reason: "no get_vendor_vq_stats op" });
  }

  /** Whether the parent implements get_vendor_vq_stats. */
  get hasVendorStats(): boolean {
    return false;
  }

  /**
   * Replaces the offered features (provisioning at creation time only); parents call it
   * from their constructor.
   */
  protected provisionFeatures(features: bigint): void {
    this.#deviceFeatures = features;
  }
}

function freshVq(): VqConfig {
  return {
    num: 0,
    descArea: 0n,
    driverArea: 0n,
    deviceArea: 0n,
    ready: false,
    state: { kind: "split", availIndex: 0 },
    hasCallback: false,
  };
}

/**
 * vhost-vdpa's VHOST_VDPA_SET_STATUS rules (drivers/vhost/vdpa.c `vhost_vdpa_set_status`):
 * a non-zero status may not clear bits that are set ("Userspace shouldn't remove status
 * bits unless reset the status to 0") → -EINVAL; 0 resets the device.
 */
export function vhostVdpaSetStatus(dev: VdpaDevice, status: number): Result<void, VdpaOpError> {
  const old = dev.getStatus();
  if (status !== 0 && (old & ~status) !== 0) {
    return err({
      errno: "EINVAL",
      reason: `status 0x${status.toString(16)} would clear bits 0x${(old & ~status).toString(16)}`,
    });
  }
  dev.setStatus(status);
  return ok(undefined);
}

/**
 * vhost-vdpa's VHOST_SET_FEATURES rule: -EBUSY once FEATURES_OK is set (drivers/vhost/vdpa.c
 * `vhost_vdpa_set_features`; virtio 1.2 §3.1.1 step 5 freezes the set), then the device op.
 */
export function vhostVdpaSetFeatures(dev: VdpaDevice, features: bigint): Result<void, VdpaOpError> {
  if (dev.getStatus() & VIRTIO_CONFIG_S_FEATURES_OK) {
    return err({ errno: "EBUSY", reason: "features are frozen after FEATURES_OK" });
  }
  return dev.setDriverFeatures(features);
}

/** Little-endian u16 into config bytes (VERSION_1 config is little-endian, virtio 1.2 §2.5). */
export function putLe16(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value & 0xff;
  buf[offset + 1] = (value >>> 8) & 0xff;
}

/** Little-endian u16 from config bytes. */
export function getLe16(buf: Uint8Array, offset: number): number {
  return (buf[offset] ?? 0) | ((buf[offset + 1] ?? 0) << 8);
}

/** Little-endian u32 into config bytes. */
export function putLe32(buf: Uint8Array, offset: number, value: number): void {
  for (let i = 0; i < 4; i++) buf[offset + i] = (value >>> (8 * i)) & 0xff;
}

/** Little-endian u64 into config bytes. */
export function putLe64(buf: Uint8Array, offset: number, value: bigint): void {
  for (let i = 0; i < 8; i++) buf[offset + i] = Number((value >> BigInt(8 * i)) & 0xffn);
}
