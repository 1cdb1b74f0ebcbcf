/**
 * The host virtio bus as virtio_vdpa uses it (drivers/virtio/virtio.c): `virtioM` devices
 * (index from an IDA, lowest free) backed by vDPA devices, and host virtio drivers
 * (virtio_net, virtio_blk) that bind them. Registration resets the device and sets
 * ACKNOWLEDGE; a driver probe then sets DRIVER, writes the features both sides accept
 * (the driver's feature table, transport bits included), sets FEATURES_OK, builds its
 * netdev or disk and sets DRIVER_OK — the bring-up order of virtio 1.2 §3.1.1. A device no
 * loaded driver takes queues a udev modalias load (`virtio:d00000001v…` → virtio_net).
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import {
  featureMask,
  getLe16,
  hasFeature,
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FAILED,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_ID_BLOCK,
  VIRTIO_ID_NET,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_S_LINK_UP,
} from "../devices/vdpa_device.ts";
import type { NotifyAt, VdpaDevice } from "../devices/vdpa_device.ts";
import { Ida } from "./ida.ts";
import type { KernelCtx } from "./kernel_ctx.ts";
import { formatMac, type MacAddress } from "./mac.ts";
import type { VdpaBusDevice } from "./vdpa_bus.ts";
import { sysfsName } from "./vdpa_bus.ts";
import type { FsWriteError } from "./vfs.ts";

/** A virtio device. */
export interface VirtioDevice {
  readonly index: number;
  readonly name: string;
  /** The vDPA device underneath. */
  readonly vdpa: string;
  readonly device: VdpaDevice;
  readonly path: string;
  driver: string | undefined;
  /** virtio_net's netdev. */
  netdev: string | undefined;
  /** virtio_blk's disk (`vda`). */
  disk: string | undefined;
  /** The virtqueues find_vqs set up (empty while no driver is bound). */
  vqs: VirtioVq[];
  /**
   * Where the vq callbacks go (`vring_interrupt` → the driver's callback): the engine that
   * runs the driver's data plane installs it; none → the notification is lost.
   */
  onVq: ((index: number, at: NotifyAt | undefined) => void) | undefined;
}

/** One virtqueue as virtio_vdpa created it (vring_create_virtqueue in kernel memory). */
export interface VirtioVq {
  readonly index: number;
  readonly num: number;
  /** DMA addresses of the descriptor table, the available and the used ring. */
  readonly desc: number;
  readonly driver: number;
  readonly device: number;
}

/** A host virtio driver. */
export interface VirtioDriver {
  readonly name: string;
  readonly module: string;
  readonly deviceId: number;
  /** Its feature table as a mask. */
  readonly features: bigint;
}

/** virtio_blk's dynamic block major (register_blkdev(0, "virtblk")). */
export const VIRTBLK_MAJOR = 252;

/** The virtio bus. */
export class VirtioBus {
  #ctx: KernelCtx | undefined;
  readonly #devices: VirtioDevice[] = [];
  readonly #drivers: VirtioDriver[] = [];
  readonly #index = new Ida();
  readonly #disks = new Ida({ max: 25 });

  /** Wires the bus to the kernel. */
  attach(ctx: KernelCtx): void {
    this.#ctx = ctx;
  }

  get #k(): KernelCtx {
    if (this.#ctx === undefined) throw new TypeError("VirtioBus used before attach()");
    return this.#ctx;
  }

  /** Devices in registration order. */
  get devices(): readonly VirtioDevice[] {
    return this.#devices;
  }

  /** Drivers in registration order. */
  get drivers(): readonly VirtioDriver[] {
    return this.#drivers;
  }

  /** A device by name. */
  device(name: string): VirtioDevice | undefined {
    return this.#devices.find((d) => d.name === name);
  }

  #status(v: VirtioDevice, bits: number): void {
    const s = bits === 0 ? 0 : v.device.getStatus() | bits;
    v.device.setStatus(s);
    this.#k.emit({ kind: "virtio-status", device: v.name, status: s });
  }

  /** register_virtio_device for a vDPA device bound to virtio_vdpa; returns `virtioM`. */
  add(d: VdpaBusDevice): string {
    const index = this.#index.alloc();
    if (index === undefined) throw new RangeError("virtio index space exhausted");
    const name = `virtio${index}`;
    const v: VirtioDevice = {
      index,
      name,
      vdpa: d.name,
      device: d.device,
      path: `${d.path}/${name}`,
      driver: undefined,
      netdev: undefined,
      disk: undefined,
      vqs: [],
      onVq: undefined,
    };
    this.#devices.push(v);
    // virtio.c register_virtio_device: reset, then ACKNOWLEDGE (virtio 1.2 §3.1.1 steps 1-2)
    this.#status(v, 0);
    this.#status(v, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    this.#k.emit({ kind: "device-add", bus: "virtio", device: name, parent: d.name });
    const drv = this.#drivers.find((x) => x.deviceId === v.device.deviceId);
    if (drv !== undefined) this.#probe(v, drv);
    else this.#queueModalias(v);
    return name;
  }

  #queueModalias(v: VirtioDevice): void {
    for (const name of this.#k.modules.names) {
      const spec = this.#k.modules.spec(name);
      const provides = spec?.registers?.some((r) =>
        r.kind === "virtio-driver" && r.deviceId === v.device.deviceId
      );
      if (provides === true && !this.#k.modules.isLoaded(name)) {
        this.#k.queueAutoload(name, v.name);
        return;
      }
    }
  }

  /** unregister_virtio_device. */
  remove(name: string): void {
    const v = this.device(name);
    if (v === undefined) throw new TypeError(`No virtio device ${name}`);
    if (v.driver !== undefined) this.#remove(v);
    this.#status(v, 0);
    this.#devices.splice(this.#devices.indexOf(v), 1);
    this.#index.free(v.index);
    this.#k.emit({ kind: "device-del", bus: "virtio", device: name });
  }

  #probe(v: VirtioDevice, drv: VirtioDriver): Result<void, FsWriteError> {
    const k = this.#k;
    const dev = v.device;
    this.#status(v, VIRTIO_CONFIG_S_DRIVER);
    const features = dev.getDeviceFeatures() & drv.features;
    const set = dev.setDriverFeatures(features);
    if (!set.ok) {
      this.#status(v, VIRTIO_CONFIG_S_FAILED);
      k.emit({
        kind: "probe-failed",
        bus: "virtio",
        device: v.name,
        driver: drv.name,
        errno: set.error.errno,
      });
      k.log("err", `${drv.name} ${v.name}: ${set.error.reason}`);
      return err({ errno: set.error.errno });
    }
    k.emit({ kind: "virtio-features", device: v.name, features: dev.getDriverFeatures() });
    this.#status(v, VIRTIO_CONFIG_S_FEATURES_OK);
    if (drv.deviceId === VIRTIO_ID_NET && !this.#netProbe(v)) {
      // virtnet_probe failed in find_vqs: the core sets FAILED and the driver stays unbound
      v.vqs = [];
      this.#status(v, VIRTIO_CONFIG_S_FAILED);
      k.emit({
        kind: "probe-failed",
        bus: "virtio",
        device: v.name,
        driver: drv.name,
        errno: "ENOMEM",
      });
      k.log("err", `${drv.name} ${v.name}: probe failed: -ENOMEM`);
      return err({ errno: "ENOMEM" });
    }
    if (drv.deviceId === VIRTIO_ID_BLOCK) this.#blkProbe(v);
    this.#status(v, VIRTIO_CONFIG_S_DRIVER_OK);
    v.driver = drv.name;
    k.emit({ kind: "driver-bind", bus: "virtio", device: v.name, driver: drv.name });
    return ok(undefined);
  }

  /**
   * virtio_vdpa_find_vqs → virtio_vdpa_setup_vq for each queue: a split ring of the device's
   * maximum size (get_vq_num_max) in DMA-coherent kernel memory, laid out by vring_init with
   * the parent's alignment (get_vq_align), then set_vq_num, set_vq_address, set_vq_cb,
   * set_vq_ready. False when the kernel memory or the device refuses (-ENOMEM / -EINVAL).
   */
  #findVqs(v: VirtioDevice, nvqs: number): boolean {
    const k = this.#k;
    const dev = v.device;
    const kmem = k.kmem();
    v.vqs = [];
    for (let i = 0; i < nvqs; i++) {
      const num = dev.getVqNumMax();
      const align = dev.getVqAlign();
      const descBytes = 16 * num;
      const availEnd = descBytes + 6 + 2 * num;
      const usedOff = Math.ceil(availEnd / align) * align;
      const total = usedOff + 6 + 8 * num;
      const base = kmem.alloc(total, 4096);
      if (base === undefined) return false;
      const vq: VirtioVq = {
        index: i,
        num,
        desc: base,
        driver: base + descBytes,
        device: base + usedOff,
      };
      const steps = [
        dev.setVqNum(i, num),
        dev.setVqAddress(i, {
          desc: BigInt(vq.desc),
          driver: BigInt(vq.driver),
          device: BigInt(vq.device),
        }),
        dev.setVqCb(i, (at) => v.onVq?.(i, at)),
        dev.setVqReady(i, true),
      ];
      if (steps.some((r) => !r.ok)) return false;
      v.vqs.push(vq);
    }
    return true;
  }

  /** virtnet_probe: MAC and MTU from config space when negotiated, carrier from status. */
  #netProbe(v: VirtioDevice): boolean {
    const k = this.#k;
    const dev = v.device;
    const f = dev.getDriverFeatures();
    const cfg = dev.getConfig(0, 12);
    let mac: MacAddress;
    if (hasFeature(f, VIRTIO_NET_F_MAC)) {
      mac = [cfg[0] ?? 0, cfg[1] ?? 0, cfg[2] ?? 0, cfg[3] ?? 0, cfg[4] ?? 0, cfg[5] ?? 0];
    } else {
      mac = k.net.randomMac();
      k.log("info", `virtio_net ${v.name}: Assigning random MAC address: ${formatMac(mac)}`);
    }
    const mtuCfg = getLe16(cfg, 10);
    const hasMtu = hasFeature(f, VIRTIO_NET_F_MTU);
    const pairs = hasFeature(f, VIRTIO_NET_F_MQ) ? Math.max(1, getLe16(cfg, 8)) : 1;
    // virtnet_find_vqs: every data queue pair the device has, plus the control queue
    const nvqs = 2 * pairs + (hasFeature(f, VIRTIO_NET_F_CTRL_VQ) ? 1 : 0);
    if (!this.#findVqs(v, nvqs)) return false;
    const name = k.net.allocName("eth");
    k.net.createHw(name, {
      kind: "virtio",
      mac,
      mtu: hasMtu ? mtuCfg : 1500,
      minMtu: 68,
      maxMtu: hasMtu ? mtuCfg : 65535,
      txQueues: pairs,
      devicePath: v.path,
      carrier: hasFeature(f, VIRTIO_NET_F_STATUS)
        ? () => (getLe16(dev.getConfig(6, 2), 0) & VIRTIO_NET_S_LINK_UP) !== 0
        : () => true,
    });
    v.netdev = name;
    return true;
  }

  #blkProbe(v: VirtioDevice): void {
    const index = this.#disks.alloc() ?? 0;
    const disk = `vd${String.fromCharCode(0x61 + index)}`;
    this.#k.dev.create({
      path: `/dev/${disk}`,
      major: VIRTBLK_MAJOR,
      minor: index * 16,
      mode: 0o660,
      group: "disk",
      block: true,
      module: "virtio_blk",
      exclusive: false,
      target: { kind: "block", disk },
    });
    v.disk = disk;
  }

  #remove(v: VirtioDevice): void {
    const k = this.#k;
    const drv = v.driver;
    if (v.netdev !== undefined) {
      k.net.remove(v.netdev);
      v.netdev = undefined;
    }
    if (v.disk !== undefined) {
      k.dev.remove(`/dev/${v.disk}`);
      this.#disks.free(v.disk.charCodeAt(2) - 0x61);
      v.disk = undefined;
    }
    // virtio.c virtio_dev_remove: the driver resets the device, the core re-acknowledges it
    v.onVq = undefined;
    v.vqs = [];
    this.#status(v, 0);
    this.#status(v, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    v.driver = undefined;
    if (drv !== undefined) {
      k.emit({ kind: "driver-unbind", bus: "virtio", device: v.name, driver: drv });
    }
  }

  /** register_virtio_driver: binds unbound devices of its id. */
  registerDriver(drv: VirtioDriver): void {
    this.#drivers.push(drv);
    this.#k.emit({ kind: "driver-register", bus: "virtio", driver: drv.name });
    for (const v of this.#devices) {
      if (v.driver === undefined && v.device.deviceId === drv.deviceId) this.#probe(v, drv);
    }
  }

  /** unregister_virtio_driver. */
  unregisterDriver(name: string): void {
    for (const v of this.#devices) if (v.driver === name) this.#remove(v);
    const i = this.#drivers.findIndex((d) => d.name === name);
    if (i >= 0) this.#drivers.splice(i, 1);
    this.#k.emit({ kind: "driver-unregister", bus: "virtio", driver: name });
  }

  /** drivers/<drv>/bind store. */
  bind(driver: string, data: string): Result<void, FsWriteError> {
    const drv = this.#drivers.find((d) => d.name === driver);
    const v = this.device(sysfsName(data));
    if (drv === undefined || v === undefined || v.device.deviceId !== drv.deviceId) {
      return err({ errno: "ENODEV" });
    }
    if (v.driver !== undefined) return err({ errno: "EBUSY" });
    return this.#probe(v, drv);
  }

  /** drivers/<drv>/unbind store. */
  unbind(driver: string, data: string): Result<void, FsWriteError> {
    const v = this.device(sysfsName(data));
    if (v === undefined || v.driver !== driver) return err({ errno: "ENODEV" });
    this.#remove(v);
    return ok(undefined);
  }
}

/** A driver's feature table from bit numbers. */
export function virtioDriverFeatures(bits: readonly number[]): bigint {
  return featureMask(bits);
}
