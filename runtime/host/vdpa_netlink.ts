/**
 * The `vdpa` generic netlink family (drivers/vdpa/vdpa.c, Linux 6.12): MGMTDEV_GET,
 * DEV_NEW, DEV_DEL, DEV_GET, DEV_CONFIG_GET, DEV_VSTATS_GET and DEV_ATTR_SET, with the
 * kernel's validation order and extack messages (module-prefixed as NL_SET_ERR_MSG_MOD
 * prints them: "vdpa: device not found"). Replies are attribute objects named as iproute2
 * prints them; `stdlib/format/vdpa.ts` renders them. A request to a kernel without the
 * family fails as iproute2 reports it ("Failed to connect to vdpa Netlink").
 *
 * Validation of DEV_NEW, in order: the netlink policy (MTU of at least 68: "integer out
 * of range"), the device name, `max_vqp` ≥ 1, provisioned features covering the
 * attributes given, the management device, its config_attr_mask ("Some provided
 * attributes are not supported: 0x…"), network attributes on a non-network parent, then
 * the parent's own dev_add (-EINVAL for features it does not offer) and -EEXIST for a
 * duplicate name.
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import {
  featureMask,
  getLe16,
  hasFeature,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_ID_NET,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_RSS,
  VIRTIO_NET_F_STATUS,
} from "../devices/vdpa_device.ts";
import {
  configAttrMask,
  type VdpaConfigAttr,
  type VdpaDevAddConfig,
} from "../devices/vdpa_parent.ts";
import type { Errno } from "./errno.ts";
import type { HostError } from "./host_error.ts";
import { isValidEtherAddr, type MacAddress } from "./mac.ts";
import type { VdpaBus, VdpaBusDevice, VdpaMgmtdev } from "./vdpa_bus.ts";

/** `bus/name` or `name` as given to `mgmtdev`. */
export interface MgmtdevHandle {
  readonly bus?: string;
  readonly dev: string;
}

/** A MGMTDEV_GET reply. */
export interface MgmtdevAttrs {
  readonly busName?: string;
  readonly devName: string;
  /** Bit per virtio device id (VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES). */
  readonly supportedClasses: bigint;
  readonly maxSupportedVqs: number;
  readonly supportedFeatures: bigint;
}

/** A DEV_GET reply. */
export interface DevAttrs {
  readonly name: string;
  readonly busName?: string;
  readonly mgmtdevName: string;
  readonly deviceId: number;
  readonly vendorId: number;
  readonly maxVqs: number;
  readonly maxVqSize: number;
  readonly minVqSize: number;
}

/** A DEV_CONFIG_GET reply (network devices). */
export interface ConfigAttrs {
  readonly name: string;
  readonly deviceId: number;
  /** Only after FEATURES_OK. */
  readonly negotiatedFeatures?: bigint;
  /** The device's offered features (VDPA_ATTR_VDPA_DEV_SUPPORTED_FEATURES). */
  readonly devFeatures: bigint;
  /** Present when the device offers the field's feature. */
  readonly mac?: MacAddress;
  readonly status?: number;
  readonly mtu?: number;
  readonly maxVqp?: number;
}

/** A DEV_VSTATS_GET reply. */
export interface VstatsAttrs {
  readonly name: string;
  readonly deviceId: number;
  readonly maxVqp: number;
  readonly negotiatedFeatures: bigint;
  readonly queueIndex: number;
  /** Vendor name/value pairs in the order the parent put them. */
  readonly vendor: readonly (readonly [string, bigint])[];
}

/** A DEV_NEW request. */
export interface DevNewRequest {
  readonly name?: string;
  readonly mgmtdev?: MgmtdevHandle;
  readonly mac?: MacAddress;
  readonly mtu?: number;
  readonly maxVqp?: number;
  readonly deviceFeatures?: bigint;
}

/** VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX: the largest queue index vstats accepts. */
const VQ_PAIRS_MAX = 0x8000;

function nlErr<T>(errno: Errno, extack?: string, waitingFor?: string): Result<T, HostError> {
  return err({
    kind: "vdpa-netlink",
    errno,
    ...(extack !== undefined ? { extack } : {}),
    ...(waitingFor !== undefined ? { waitingFor } : {}),
  });
}

function mod(msg: string): string {
  return `vdpa: ${msg}`;
}

/** The family's operations against the vdpa bus. */
export class VdpaNetlink {
  readonly #bus: VdpaBus;
  readonly #registered: () => boolean;

  /** `registered` says whether the vdpa module has registered the family. */
  constructor(bus: VdpaBus, registered: () => boolean) {
    this.#bus = bus;
    this.#registered = registered;
  }

  #family<T>(): Result<T, HostError> | undefined {
    return this.#registered() ? undefined : err({ kind: "vdpa-netlink-unavailable" });
  }

  /** MGMTDEV_GET: one management device, or all (dump) when `handle` is absent. */
  mgmtdevGet(handle?: MgmtdevHandle): Result<MgmtdevAttrs[], HostError> {
    const unavailable = this.#family<MgmtdevAttrs[]>();
    if (unavailable !== undefined) return unavailable;
    if (handle === undefined) return ok(this.#bus.mgmtdevs.map(mgmtdevAttrs));
    const m = this.#bus.findMgmtdev(handle.bus, handle.dev);
    if (m === undefined) return nlErr("ENODEV", mod("Fail to find the specified mgmt device"));
    return ok([mgmtdevAttrs(m)]);
  }

  /** DEV_NEW (`vdpa dev add`). */
  devNew(req: DevNewRequest): Result<{ readonly name: string }, HostError> {
    const unavailable = this.#family<{ readonly name: string }>();
    if (unavailable !== undefined) return unavailable;
    // nla_policy: VDPA_ATTR_DEV_NET_CFG_MTU = NLA_POLICY_MIN(NLA_U16, 68) (virtio 1.1 §5.1.4.1)
    if (req.mtu !== undefined && req.mtu < 68) return nlErr("EINVAL", "integer out of range");
    if (req.name === undefined) return nlErr("EINVAL");
    const attrs: VdpaConfigAttr[] = [];
    if (req.mac !== undefined) attrs.push("mac");
    if (req.mtu !== undefined) attrs.push("mtu");
    if (req.maxVqp !== undefined) {
      if (req.maxVqp === 0) return nlErr("EINVAL", mod("At least one pair of VQs is required"));
      attrs.push("max_vqp");
    }
    if (req.deviceFeatures !== undefined) {
      let missing = 0n;
      if (req.mac !== undefined && !hasFeature(req.deviceFeatures, VIRTIO_NET_F_MAC)) {
        missing |= featureMask([VIRTIO_NET_F_MAC]);
      }
      if (req.mtu !== undefined && !hasFeature(req.deviceFeatures, VIRTIO_NET_F_MTU)) {
        missing |= featureMask([VIRTIO_NET_F_MTU]);
      }
      if (
        req.maxVqp !== undefined && req.maxVqp > 1 &&
        !hasFeature(req.deviceFeatures, VIRTIO_NET_F_MQ)
      ) {
        missing |= featureMask([VIRTIO_NET_F_MQ]);
      }
      if (missing !== 0n) {
        return nlErr(
          "EINVAL",
          mod(`Missing features 0x${missing.toString(16)} for provided attributes`),
        );
      }
      attrs.push("device_features");
    }
    const handle = req.mgmtdev;
    const m = handle === undefined ? undefined : this.#bus.findMgmtdev(handle.bus, handle.dev);
    if (m === undefined) {
      return nlErr(
        handle === undefined ? "EINVAL" : "ENODEV",
        mod("Fail to find the specified management device"),
      );
    }
    const mask = configAttrMask(attrs);
    const unsupported = mask & ~configAttrMask(m.parent.configAttrs);
    if (unsupported !== 0n) {
      return nlErr(
        "EOPNOTSUPP",
        mod(`Some provided attributes are not supported: 0x${unsupported.toString(16)}`),
      );
    }
    const netAttrs = attrs.some((a) => a === "mac" || a === "mtu" || a === "max_vqp");
    if (netAttrs && !m.parent.supportedClasses.includes(VIRTIO_ID_NET)) {
      return nlErr(
        "EINVAL",
        mod("Network class attributes provided on unsupported management device"),
      );
    }
    const config: VdpaDevAddConfig = {
      ...(req.mac !== undefined ? { mac: req.mac } : {}),
      ...(req.mtu !== undefined ? { mtu: req.mtu } : {}),
      ...(req.maxVqp !== undefined ? { maxVqp: req.maxVqp } : {}),
      ...(req.deviceFeatures !== undefined ? { deviceFeatures: req.deviceFeatures } : {}),
    };
    const r = this.#bus.addDevice(m, req.name, config);
    if (!r.ok) return nlErr(r.error.errno, r.error.extack);
    return ok({ name: req.name });
  }

  /** DEV_DEL (`vdpa dev del`). */
  devDel(name: string | undefined): Result<void, HostError> {
    const unavailable = this.#family<void>();
    if (unavailable !== undefined) return unavailable;
    if (name === undefined) return nlErr("EINVAL");
    const r = this.#bus.deleteDevice(name);
    if (r.ok) return ok(undefined);
    return r.error.errno === "ENODEV"
      ? nlErr("ENODEV", mod("device not found"))
      : nlErr("EBUSY", undefined, r.error.waitingFor);
  }

  /** DEV_GET: one device, or all (dump). */
  devGet(name?: string): Result<DevAttrs[], HostError> {
    const unavailable = this.#family<DevAttrs[]>();
    if (unavailable !== undefined) return unavailable;
    if (name === undefined) return ok(this.#bus.devices.map(devAttrs));
    const d = this.#bus.device(name);
    if (d === undefined) return nlErr("ENODEV", mod("device not found"));
    return ok([devAttrs(d)]);
  }

  /**
   * DEV_CONFIG_GET: one device, or all. A dump stops at the first device the kernel
   * cannot describe (a block device: -EOPNOTSUPP), as vdpa_nl_cmd_dev_config_get_dumpit
   * does.
   */
  devConfigGet(name?: string): Result<ConfigAttrs[], HostError> {
    const unavailable = this.#family<ConfigAttrs[]>();
    if (unavailable !== undefined) return unavailable;
    if (name === undefined) {
      const out: ConfigAttrs[] = [];
      for (const d of this.#bus.devices) {
        const c = configAttrs(d);
        if (c === undefined) break;
        out.push(c);
      }
      return ok(out);
    }
    const d = this.#bus.device(name);
    if (d === undefined) return nlErr("ENODEV", mod("device not found"));
    const c = configAttrs(d);
    return c === undefined ? nlErr("EOPNOTSUPP") : ok([c]);
  }

  /** DEV_VSTATS_GET (`vdpa dev vstats show DEV qidx N`). */
  devVstatsGet(name: string | undefined, qidx: number | undefined): Result<VstatsAttrs, HostError> {
    const unavailable = this.#family<VstatsAttrs>();
    if (unavailable !== undefined) return unavailable;
    if (name === undefined || qidx === undefined) return nlErr("EINVAL");
    const d = this.#bus.device(name);
    if (d === undefined) return nlErr("ENODEV", mod("device not found"));
    const dev = d.device;
    if (dev.deviceId !== VIRTIO_ID_NET) return nlErr("EOPNOTSUPP");
    if (qidx > VQ_PAIRS_MAX) return nlErr("ERANGE", mod("queue index excceeds max value"));
    if (!dev.hasVendorStats) return nlErr("EOPNOTSUPP");
    if ((dev.getStatus() & VIRTIO_CONFIG_S_FEATURES_OK) === 0) {
      return nlErr("EAGAIN", mod("feature negotiation not complete"));
    }
    const stats = dev.vendorStats(qidx);
    if (!stats.ok) return nlErr(stats.error.errno, stats.error.extack);
    return ok({
      name: d.name,
      deviceId: dev.deviceId,
      maxVqp: getLe16(dev.getConfig(8, 2), 0),
      negotiatedFeatures: dev.getDriverFeatures(),
      queueIndex: qidx,
      vendor: stats.value,
    });
  }

  /** DEV_ATTR_SET (`vdpa dev set name DEV mac MAC`). */
  devAttrSet(
    name: string | undefined,
    attrs: { readonly mac?: MacAddress },
  ): Result<void, HostError> {
    const unavailable = this.#family<void>();
    if (unavailable !== undefined) return unavailable;
    if (name === undefined) return nlErr("EINVAL");
    const d = this.#bus.device(name);
    if (d === undefined) return nlErr("ENODEV", mod("device not found"));
    if (!d.mgmtdev.parent.supportedClasses.includes(VIRTIO_ID_NET)) {
      return nlErr("EOPNOTSUPP", mod(`${name} device not supported`));
    }
    if (attrs.mac === undefined) return nlErr("EOPNOTSUPP");
    if (!isValidEtherAddr(attrs.mac)) return nlErr("EINVAL", mod("Invalid MAC address"));
    const setAttr = d.mgmtdev.parent.setAttr;
    if (setAttr === undefined) {
      return nlErr("EOPNOTSUPP", mod("device does not support changing the MAC address"));
    }
    const r = setAttr(d.device, { mac: attrs.mac });
    return r.ok ? ok(undefined) : nlErr(r.error.errno, r.error.extack);
  }
}

function mgmtdevAttrs(m: VdpaMgmtdev): MgmtdevAttrs {
  let classes = 0n;
  for (const id of m.parent.supportedClasses) if (id <= 63) classes |= 1n << BigInt(id);
  return {
    ...(m.bus !== undefined ? { busName: m.bus } : {}),
    devName: m.name,
    supportedClasses: classes,
    maxSupportedVqs: m.parent.maxSupportedVqs,
    supportedFeatures: m.parent.supportedFeatures,
  };
}

function devAttrs(d: VdpaBusDevice): DevAttrs {
  const dev = d.device;
  return {
    name: d.name,
    ...(d.mgmtdev.bus !== undefined ? { busName: d.mgmtdev.bus } : {}),
    mgmtdevName: d.mgmtdev.name,
    deviceId: dev.deviceId,
    vendorId: dev.vendorId,
    maxVqs: dev.spec.nvqs,
    maxVqSize: dev.getVqNumMax(),
    minVqSize: dev.getVqNumMin(),
  };
}

/** vdpa_dev_config_fill + vdpa_dev_net_config_fill; undefined for non-network devices. */
function configAttrs(d: VdpaBusDevice): ConfigAttrs | undefined {
  const dev = d.device;
  if (dev.deviceId !== VIRTIO_ID_NET) return undefined;
  const cfg = dev.getConfig(0, 12);
  const f = dev.getDeviceFeatures();
  // negotiated features are reported only after feature negotiation is done
  const negotiated = (dev.getStatus() & VIRTIO_CONFIG_S_FEATURES_OK) !== 0
    ? dev.getDriverFeatures()
    : undefined;
  return {
    name: d.name,
    deviceId: dev.deviceId,
    ...(negotiated !== undefined ? { negotiatedFeatures: negotiated } : {}),
    devFeatures: f,
    ...(hasFeature(f, VIRTIO_NET_F_MAC)
      ? {
        mac: [
          cfg[0] ?? 0,
          cfg[1] ?? 0,
          cfg[2] ?? 0,
          cfg[3] ?? 0,
          cfg[4] ?? 0,
          cfg[5] ?? 0,
        ] as MacAddress,
      }
      : {}),
    ...(hasFeature(f, VIRTIO_NET_F_STATUS) ? { status: getLe16(cfg, 6) } : {}),
    ...(hasFeature(f, VIRTIO_NET_F_MTU) ? { mtu: getLe16(cfg, 10) } : {}),
    ...(hasFeature(f, VIRTIO_NET_F_MQ) || hasFeature(f, VIRTIO_NET_F_RSS)
      ? { maxVqp: getLe16(cfg, 8) }
      : {}),
  };
}
