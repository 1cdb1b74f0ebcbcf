/**
 * QEMU's side of `-netdev vhost-vdpa` (net/vhost-vdpa.c, hw/virtio/vhost-vdpa.c,
 * hw/virtio/vhost.c), as the ioctls it issues on an open {@link VhostVdpaDev}, in QEMU's
 * order:
 *
 * 1. **probe** (`net_init_vhost_vdpa`): GET_FEATURES, GET_CONFIG for max_virtqueue_pairs when
 *    the device offers MQ, GET_IOVA_RANGE, and with `x-svq=on` the SVQ feature gate.
 * 2. **init** (`vhost_vdpa_init` per vhost device): GET/SET_BACKEND_FEATURES (IOTLB_MSG_V2,
 *    IOTLB_BATCH, IOTLB_ASID, SUSPEND — what the kernel offers of them), SET_OWNER,
 *    GET_FEATURES, status ACKNOWLEDGE|DRIVER, and the memory listener's IOTLB batch mapping
 *    guest RAM (BATCH_BEGIN, UPDATE{iova = GPA, size, uaddr = HVA, perm RW}…, BATCH_END).
 *    This is QEMU 10's order (backend capabilities and the guest-memory premap moved to
 *    init); older releases mapped memory at start. With a vIOMMU (`iommu_platform=on`
 *    behind intel-iommu / virtio-iommu) nothing is premapped: guest maps arrive one by one
 *    through the IOMMU notifier (see vdpa_viommu_relay.ts).
 * 3. **start** (guest DRIVER_OK → `vhost_dev_start`): SET_FEATURES with the guest's features
 *    plus ACCESS_PLATFORM (QEMU's `vhost_force_iommu` is always true for vhost-vdpa), then
 *    FEATURES_OK (re-read: a device that drops it fails the start), per queue SET_VRING_NUM,
 *    BASE, ADDR, KICK, CALL, SET_CONFIG_CALL, the host notifiers (mmap of each queue's notify
 *    page; a refusal only means the guest's notify exits), DRIVER_OK (re-read), then
 *    SET_VRING_ENABLE for each queue.
 * 4. **stop**: SUSPEND when negotiated, GET_VRING_BASE per queue, reset, ACKNOWLEDGE|DRIVER.
 *
 * Failures carry QEMU's own words ({@link QemuVdpaError}, {@link describeQemuVdpaError}).
 *
 * @example
 * ```ts
 * import { VhostVdpaDev } from "./vhost_vdpa_dev.ts";
 * import { qemuVdpaProbe } from "./qemu_vhost_vdpa.ts";
 * import { vdpaSimNetParent } from "../../devices/vdpa_sim_net.ts";
 * const d = vdpaSimNetParent().create("vdpa0", { deviceFeatures: 0x1_0002_0000n });
 * if (!d.ok) throw new Error("create");
 * const probe = qemuVdpaProbe(new VhostVdpaDev({ device: d.value, fd: 3, owner: "qemu:vm1" }), { svq: true });
 * if (probe.ok || probe.error.kind !== "svq") throw new Error("no ACCESS_PLATFORM: SVQ refuses");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../../result.ts";
import { type Errno, errnoNumber, strerror } from "../../host/errno.ts";
import {
  getLe16,
  hasFeature,
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_MQ,
} from "../../devices/vdpa_device.ts";
import { VHOST_IOTLB_INVALIDATE, VHOST_IOTLB_UPDATE } from "../../iommu/vhost_iotlb_msg.ts";
import { VHOST_ACCESS_RW } from "../../memory/translator.ts";
import {
  VHOST_BACKEND_F_IOTLB_ASID,
  VHOST_BACKEND_F_IOTLB_BATCH,
  VHOST_BACKEND_F_IOTLB_MSG_V2,
  VHOST_BACKEND_F_SUSPEND,
} from "./ioctl.ts";
import { checkSvqFeatures, type SvqFeatureError } from "./svq_features.ts";
import {
  IOTLB_BATCH_BEGIN,
  IOTLB_BATCH_END,
  type VhostVdpaDev,
  type VhostVdpaError,
} from "./vhost_vdpa_dev.ts";

/** Why QEMU gave up on a vhost-vdpa netdev. */
export type QemuVdpaError =
  /** qemu_open() failed (ENOENT: no such node; EBUSY: another process holds it). */
  | { readonly kind: "open"; readonly path: string; readonly errno: Errno }
  /** An ioctl QEMU cannot do without failed (GET_FEATURES, GET_CONFIG, SET_OWNER …). */
  | { readonly kind: "ioctl"; readonly error: VhostVdpaError; readonly what: string }
  /** `x-svq=on` on a device whose features SVQ cannot relay. */
  | { readonly kind: "svq"; readonly error: SvqFeatureError }
  /** The IOTLB refused guest memory (vhost_vdpa_dma_map → "failed to write"). */
  | {
    readonly kind: "dma-map";
    readonly error: VhostVdpaError;
    readonly gpa: number;
    readonly fd: number;
  }
  /**
   * The start failed (SET_FEATURES refused, FEATURES_OK or DRIVER_OK not kept): QEMU logs
   * it and falls back to userspace virtio, which for vhost-vdpa carries no traffic.
   */
  | {
    readonly kind: "start";
    readonly errno: Errno;
    readonly step: string;
    readonly error?: VhostVdpaError;
  };

/** QEMU's text for a {@link QemuVdpaError} (its only formatter). */
export function describeQemuVdpaError(e: QemuVdpaError): string {
  switch (e.kind) {
    case "open":
      return `Could not open '${e.path}': ${strerror(e.errno)}`;
    case "ioctl":
      return `${e.what}: ${strerror(e.error.errno)}`;
    case "svq":
      return e.error.text;
    case "dma-map":
      return `failed to write, fd=${e.fd}, errno=${errnoNumber(e.error.errno)} (${
        strerror(e.error.errno)
      })`;
    case "start":
      return `unable to start vhost net: ${errnoNumber(e.errno)}: falling back on userspace virtio`;
  }
}

/** What the probe learnt from the device. */
export interface VdpaProbe {
  /** Device features (VHOST_GET_FEATURES). */
  readonly features: bigint;
  /** Queue pairs: the config's max_virtqueue_pairs with MQ, else 1. */
  readonly queuePairs: number;
  /** The device has a control queue (CTRL_VQ offered). */
  readonly hasCvq: boolean;
  readonly iovaRange: { readonly first: number; readonly last: number };
}

/** `net_init_vhost_vdpa`'s queries before any vhost device exists. */
export function qemuVdpaProbe(
  dev: VhostVdpaDev,
  o: { readonly svq: boolean },
): Result<VdpaProbe, QemuVdpaError> {
  const f = dev.getFeatures();
  if (!f.ok) {
    return err({
      kind: "ioctl",
      error: f.error,
      what: "Fail to query features from vhost-vDPA device",
    });
  }
  const features = f.value;
  let queuePairs = 1;
  if (hasFeature(features, VIRTIO_NET_F_MQ)) {
    // vhost_vdpa_get_max_queue_pairs: offsetof(virtio_net_config, max_virtqueue_pairs) = 8
    const c = dev.getConfig(8, 2);
    if (!c.ok) {
      return err({
        kind: "ioctl",
        error: c.error,
        what: "Fail to get config from vhost-vDPA device",
      });
    }
    queuePairs = getLe16(c.value, 0);
  }
  const range = dev.getIovaRange();
  if (!range.ok) {
    return err({ kind: "ioctl", error: range.error, what: "vhost-vdpa: get iova range failed" });
  }
  if (o.svq) {
    const bad = checkSvqFeatures(features);
    if (bad !== undefined) return err({ kind: "svq", error: bad });
  }
  return ok({
    features,
    queuePairs,
    hasCvq: hasFeature(features, VIRTIO_NET_F_CTRL_VQ),
    iovaRange: range.value,
  });
}

/**
 * net/vhost-vdpa.c `vdpa_feature_bits`: the bits QEMU takes from the vDPA device; a bit in
 * this list the device does not offer is not offered to the guest either. Bits outside it
 * (MAC, GUEST_ANNOUNCE …) are QEMU's own.
 */
export const VDPA_FEATURE_BITS: readonly number[] = [
  27, // ANY_LAYOUT
  33, // IOMMU_PLATFORM
  24, // NOTIFY_ON_EMPTY
  34, // RING_PACKED
  40, // RING_RESET
  32, // VERSION_1
  35, // IN_ORDER
  38, // NOTIFICATION_DATA
  0, // CSUM
  2, // CTRL_GUEST_OFFLOADS
  23, // CTRL_MAC_ADDR
  18, // CTRL_RX
  20, // CTRL_RX_EXTRA
  19, // CTRL_VLAN
  17, // CTRL_VQ
  6, // GSO
  1, // GUEST_CSUM
  9, // GUEST_ECN
  7, // GUEST_TSO4
  8, // GUEST_TSO6
  10, // GUEST_UFO
  54, // GUEST_USO4
  55, // GUEST_USO6
  57, // HASH_REPORT
  13, // HOST_ECN
  11, // HOST_TSO4
  12, // HOST_TSO6
  14, // HOST_UFO
  56, // HOST_USO
  22, // MQ
  15, // MRG_RXBUF
  3, // MTU
  61, // RSC_EXT
  60, // RSS
  16, // STATUS
  29, // EVENT_IDX
  28, // INDIRECT_DESC
];

/** The guest's features as vhost_net_ack_features passes them on: only the listed bits. */
export function vdpaAckedFeatures(features: bigint): bigint {
  let acked = 0n;
  for (const b of VDPA_FEATURE_BITS) acked |= features & (1n << BigInt(b));
  return acked;
}

/** A guest RAM block as QEMU's memory listener sees it. */
export interface RamSection {
  /** Guest-physical address (the IOVA without a vIOMMU). */
  readonly gpa: number;
  readonly size: number;
  /** QEMU's virtual address of its first byte. */
  readonly hva: number;
  /** The IOVA QEMU maps it at when that is not the GPA (shadow virtqueues' IOVA tree). */
  readonly iova?: number;
  /** Access (default read-write; a shadow ring's driver area is read-only). */
  readonly perm?: number;
}

/** Options of {@link qemuVdpaInit}. */
export interface QemuVdpaInitOptions {
  /** Guest RAM to premap (empty with a vIOMMU: maps come from the guest). */
  readonly ram: readonly RamSection[];
}

/** The backend capabilities QEMU asks for (vhost_vdpa_set_backend_cap). */
export const QEMU_VDPA_BACKEND_CAPS: bigint = (1n << BigInt(VHOST_BACKEND_F_IOTLB_MSG_V2)) |
  (1n << BigInt(VHOST_BACKEND_F_IOTLB_BATCH)) |
  (1n << BigInt(VHOST_BACKEND_F_IOTLB_ASID)) |
  (1n << BigInt(VHOST_BACKEND_F_SUSPEND));

/** vhost_vdpa_add_status: GET_STATUS, SET_STATUS(old | bits), GET_STATUS; true if the bits stuck. */
function addStatus(dev: VhostVdpaDev, bits: number): Result<boolean, VhostVdpaError> {
  const s = dev.getStatus();
  if (!s.ok) return s;
  const w = dev.setStatus(s.value | bits);
  if (!w.ok) return w;
  const r = dev.getStatus();
  if (!r.ok) return r;
  return ok((r.value & bits) === bits);
}

/** `vhost_dev_init` + `vhost_vdpa_init` + the memory listener; see the module documentation. */
export function qemuVdpaInit(
  dev: VhostVdpaDev,
  o: QemuVdpaInitOptions,
): Result<void, QemuVdpaError> {
  const offered = dev.getBackendFeatures();
  if (!offered.ok) {
    return err({ kind: "ioctl", error: offered.error, what: "vhost_vdpa_set_backend_cap" });
  }
  const caps = dev.setBackendFeatures(offered.value & QEMU_VDPA_BACKEND_CAPS);
  if (!caps.ok) {
    return err({ kind: "ioctl", error: caps.error, what: "vhost_vdpa_set_backend_cap" });
  }
  const owner = dev.setOwner();
  if (!owner.ok) return err({ kind: "ioctl", error: owner.error, what: "vhost_set_owner failed" });
  const f = dev.getFeatures();
  if (!f.ok) return err({ kind: "ioctl", error: f.error, what: "vhost_get_features failed" });
  const st = addStatus(dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
  if (!st.ok) return err({ kind: "ioctl", error: st.error, what: "vhost_vdpa_add_status" });
  return qemuVdpaMapRam(dev, o.ram);
}

/** The memory listener's commit: one batch of UPDATEs (IOVA = GPA, uaddr = HVA, RW). */
export function qemuVdpaMapRam(
  dev: VhostVdpaDev,
  ram: readonly RamSection[],
  asid = 0,
): Result<void, QemuVdpaError> {
  if (ram.length === 0) return ok(undefined);
  const batch = (dev.backendFeatures & (1n << BigInt(VHOST_BACKEND_F_IOTLB_BATCH))) !== 0n;
  if (batch) {
    const b = dev.writeIotlb(IOTLB_BATCH_BEGIN, asid);
    if (!b.ok) return err({ kind: "dma-map", error: b.error, gpa: 0, fd: dev.fd });
  }
  for (const r of ram) {
    const u = dev.writeIotlb(
      {
        type: VHOST_IOTLB_UPDATE,
        iova: r.iova ?? r.gpa,
        size: r.size,
        uaddr: r.hva,
        perm: (r.perm ?? VHOST_ACCESS_RW) as typeof VHOST_ACCESS_RW,
      },
      asid,
    );
    if (!u.ok) return err({ kind: "dma-map", error: u.error, gpa: r.gpa, fd: dev.fd });
  }
  if (batch) {
    const e = dev.writeIotlb(IOTLB_BATCH_END, asid);
    if (!e.ok) return err({ kind: "dma-map", error: e.error, gpa: 0, fd: dev.fd });
  }
  return ok(undefined);
}

/** The listener's region_del for every section (stop or unplug). */
export function qemuVdpaUnmapRam(dev: VhostVdpaDev, ram: readonly RamSection[], asid = 0): void {
  if (ram.length === 0) return;
  const batch = (dev.backendFeatures & (1n << BigInt(VHOST_BACKEND_F_IOTLB_BATCH))) !== 0n;
  if (batch) dev.writeIotlb(IOTLB_BATCH_BEGIN, asid);
  for (const r of ram) {
    dev.writeIotlb(
      { type: VHOST_IOTLB_INVALIDATE, iova: r.iova ?? r.gpa, size: r.size, uaddr: 0, perm: 0 },
      asid,
    );
  }
  if (batch) dev.writeIotlb(IOTLB_BATCH_END, asid);
}

/** One queue as QEMU hands it to vhost at start. */
export interface VdpaQueueStart {
  /** vhost queue index (virtio-net numbering). */
  readonly index: number;
  readonly size: number;
  /** Ring addresses as the device sees them (GPA, or guest IOVA with a vIOMMU). */
  readonly desc: number;
  readonly driver: number;
  readonly device: number;
  /** last_avail_idx to resume from. */
  readonly base: number;
  /** The KVM ioeventfd of the queue's notify address. */
  readonly kickFd: number;
  /** The KVM irqfd of the queue's vector (-1: no vector). */
  readonly callFd: number;
}

/** Options of {@link qemuVdpaStart}. */
export interface QemuVdpaStartOptions {
  /** The guest's accepted features. */
  readonly features: bigint;
  readonly queues: readonly VdpaQueueStart[];
  /** The config-change eventfd (-1: none). */
  readonly configCallFd: number;
  /**
   * QEMU may alias the device's doorbells into the guest's notify area
   * (virtio_pci_set_host_notifier_mr: a modern device with page-per-vq=on).
   */
  readonly hostNotifierAllowed: boolean;
}

/** What the start set up. */
export interface VdpaStarted {
  /** Features written with SET_FEATURES (guest's + ACCESS_PLATFORM). */
  readonly features: bigint;
  /** Queues whose notify page is the device doorbell (guest notifies without an exit). */
  readonly hostNotifiers: readonly number[];
}

/** `vhost_dev_start` for vhost-vdpa; see the module documentation. */
export function qemuVdpaStart(
  dev: VhostVdpaDev,
  o: QemuVdpaStartOptions,
): Result<VdpaStarted, QemuVdpaError> {
  // vhost_net_ack_features keeps the bits vdpa_feature_bits lists (MAC, GUEST_ANNOUNCE … are
  // QEMU's own); vhost_dev_set_features adds ACCESS_PLATFORM: vhost_vdpa_force_iommu()
  const features = vdpaAckedFeatures(o.features) | (1n << BigInt(VIRTIO_F_ACCESS_PLATFORM));
  const sf = dev.setFeatures(features);
  if (!sf.ok) {
    return err({
      kind: "start",
      errno: sf.error.errno,
      step: "VHOST_SET_FEATURES",
      error: sf.error,
    });
  }
  const fok = addStatus(dev, VIRTIO_CONFIG_S_FEATURES_OK);
  if (!fok.ok) {
    return err({ kind: "start", errno: fok.error.errno, step: "FEATURES_OK", error: fok.error });
  }
  if (!fok.value) return err({ kind: "start", errno: "EIO", step: "FEATURES_OK" });
  for (const q of o.queues) {
    const steps = [
      () => dev.setVringNum(q.index, q.size),
      () => dev.setVringBase(q.index, q.base),
      () => dev.setVringAddr(q.index, { desc: q.desc, avail: q.driver, used: q.device }),
      () => dev.setVringKick(q.index, q.kickFd),
      () => dev.setVringCall(q.index, q.callFd),
    ];
    for (const s of steps) {
      const r = s();
      if (!r.ok) {
        return err({ kind: "start", errno: r.error.errno, step: r.error.op, error: r.error });
      }
    }
  }
  const cc = dev.setConfigCall(o.configCallFd);
  if (!cc.ok) {
    return err({ kind: "start", errno: cc.error.errno, step: cc.error.op, error: cc.error });
  }
  const hostNotifiers: number[] = [];
  if (o.hostNotifierAllowed) {
    // vhost_vdpa_host_notifiers_init: stop at the first queue the device cannot map
    for (const q of o.queues) {
      if (!dev.mmapNotify(q.index).ok) {
        hostNotifiers.length = 0;
        break;
      }
      hostNotifiers.push(q.index);
    }
  }
  const dok = addStatus(dev, VIRTIO_CONFIG_S_DRIVER_OK);
  if (!dok.ok) {
    return err({ kind: "start", errno: dok.error.errno, step: "DRIVER_OK", error: dok.error });
  }
  if (!dok.value) return err({ kind: "start", errno: "EIO", step: "DRIVER_OK" });
  // the net layer enables the data queues once the device runs (vhost_vdpa_net_data_load)
  for (const q of o.queues) {
    const r = dev.setVringEnable(q.index, true);
    if (!r.ok) {
      return err({ kind: "start", errno: r.error.errno, step: r.error.op, error: r.error });
    }
  }
  return ok({ features, hostNotifiers });
}

/** `vhost_dev_stop`: suspend (or not), read each queue's base back, reset. */
export function qemuVdpaStop(dev: VhostVdpaDev, queues: readonly number[]): Map<number, number> {
  const bases = new Map<number, number>();
  if ((dev.backendFeatures & (1n << BigInt(VHOST_BACKEND_F_SUSPEND))) !== 0n) dev.suspend();
  for (const q of queues) {
    const b = dev.getVringBase(q);
    if (b.ok) bases.set(q, b.value);
  }
  dev.setStatus(0);
  addStatus(dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
  return bases;
}
