/**
 * Every state change of the host kernel, as a closed union of typed events, emitted through
 * an injected sink in the order the kernel does things: dependencies load before the module
 * that needs them; `device_add` comes before the bus probe, the probe's device node before
 * the bind uevent; removal runs in reverse. The trace layer adapts these later.
 *
 * @example
 * ```ts
 * import { describeHostEvent } from "./host_event.ts";
 * const line = describeHostEvent({ kind: "devnode-create", path: "/dev/vhost-vdpa-0", major: 511, minor: 0 });
 * if (line !== "devnode-create /dev/vhost-vdpa-0 (511:0)") throw new Error(line);
 * ```
 *
 * @module
 */

import type { Errno } from "./errno.ts";

/** Why a module was loaded. */
export type LoadReason =
  /** Named on the modprobe command line. */
  | "modprobe"
  /** A dependency of a module being loaded. */
  | "dependency"
  /** Requested by the kernel or udev (device modalias, rtnl link kind, /dev open). */
  | "autoload";

/** The buses the host model has. */
export type BusName = "vdpa" | "virtio" | "pci" | "auxiliary";

/** A host-kernel state change. */
export type HostEvent =
  | {
    readonly kind: "module-load";
    readonly module: string;
    readonly reason: LoadReason;
    /** Who asked: the module depending on it, or the device/kind that triggered autoload. */
    readonly by?: string;
    readonly params: Readonly<Record<string, string>>;
  }
  | { readonly kind: "module-unload"; readonly module: string }
  /** A line the kernel would print to dmesg. */
  | { readonly kind: "kernel-log"; readonly level: "info" | "warn" | "err"; readonly text: string }
  | { readonly kind: "bus-register"; readonly bus: BusName }
  | { readonly kind: "bus-unregister"; readonly bus: BusName }
  | { readonly kind: "genl-register"; readonly family: string }
  | { readonly kind: "genl-unregister"; readonly family: string }
  | { readonly kind: "driver-register"; readonly bus: BusName; readonly driver: string }
  | { readonly kind: "driver-unregister"; readonly bus: BusName; readonly driver: string }
  | { readonly kind: "mgmtdev-register"; readonly mgmtdev: string }
  /** `devlink dev eswitch set … mode M`. */
  | { readonly kind: "eswitch-mode"; readonly device: string; readonly mode: string }
  /** A devlink port created (`devlink port add`) or deleted. */
  | { readonly kind: "devlink-port-add"; readonly port: string; readonly sfnum: number }
  | { readonly kind: "devlink-port-del"; readonly port: string }
  | { readonly kind: "mgmtdev-unregister"; readonly mgmtdev: string }
  | {
    readonly kind: "device-add";
    readonly bus: BusName | "none";
    readonly device: string;
    readonly parent?: string;
  }
  | { readonly kind: "device-del"; readonly bus: BusName | "none"; readonly device: string }
  | {
    readonly kind: "driver-bind";
    readonly bus: BusName;
    readonly device: string;
    readonly driver: string;
  }
  | {
    readonly kind: "driver-unbind";
    readonly bus: BusName;
    readonly device: string;
    readonly driver: string;
  }
  | {
    readonly kind: "probe-failed";
    readonly bus: BusName;
    readonly device: string;
    readonly driver: string;
    readonly errno: Errno;
  }
  | {
    readonly kind: "driver-override";
    readonly bus: BusName;
    readonly device: string;
    readonly value: string | null;
  }
  | { readonly kind: "autoprobe"; readonly bus: BusName; readonly enabled: boolean }
  | {
    readonly kind: "devnode-create";
    readonly path: string;
    readonly major: number;
    readonly minor: number;
  }
  | { readonly kind: "devnode-remove"; readonly path: string }
  | { readonly kind: "devnode-open"; readonly path: string; readonly owner: string }
  | { readonly kind: "devnode-close"; readonly path: string; readonly owner: string }
  | {
    readonly kind: "netdev-create";
    readonly ifname: string;
    readonly ifindex: number;
    readonly type: string;
  }
  | { readonly kind: "netdev-remove"; readonly ifname: string }
  | { readonly kind: "link-up"; readonly ifname: string }
  | { readonly kind: "link-down"; readonly ifname: string }
  | { readonly kind: "carrier"; readonly ifname: string; readonly on: boolean }
  | { readonly kind: "mtu-change"; readonly ifname: string; readonly mtu: number }
  | { readonly kind: "master-change"; readonly ifname: string; readonly master: string | null }
  | {
    readonly kind: "vf-create";
    readonly pf: string;
    readonly vf: string;
    readonly index: number;
  }
  | {
    readonly kind: "vf-remove";
    readonly pf: string;
    readonly vf: string;
    readonly index: number;
  }
  | { readonly kind: "iommu-group-add"; readonly group: number; readonly device: string }
  | { readonly kind: "iommu-group-remove"; readonly group: number; readonly device: string }
  /** A virtio device status written by the host virtio core (virtio_vdpa consumers). */
  | { readonly kind: "virtio-status"; readonly device: string; readonly status: number }
  /** Driver features accepted by a host virtio driver. */
  | { readonly kind: "virtio-features"; readonly device: string; readonly features: bigint }
  | {
    readonly kind: "vdpa-attr-set";
    readonly device: string;
    readonly attr: "mac";
    readonly value: string;
  }
  | { readonly kind: "cmdline"; readonly text: string }
  | { readonly kind: "cpu"; readonly ghz: number; readonly cores: number };

/** Where events go. */
export type HostEventSink = (e: HostEvent) => void;

/** One stable line per event, for logs and golden tests. */
export function describeHostEvent(e: HostEvent): string {
  switch (e.kind) {
    case "module-load": {
      const params = Object.entries(e.params).map(([k, v]) => ` ${k}=${v}`).join("");
      const by = e.by !== undefined ? ` by ${e.by}` : "";
      return `module-load ${e.module} (${e.reason}${by})${params}`;
    }
    case "module-unload":
      return `module-unload ${e.module}`;
    case "kernel-log":
      return `kernel-log ${e.level}: ${e.text}`;
    case "bus-register":
    case "bus-unregister":
      return `${e.kind} ${e.bus}`;
    case "genl-register":
    case "genl-unregister":
      return `${e.kind} ${e.family}`;
    case "driver-register":
    case "driver-unregister":
      return `${e.kind} ${e.bus}/${e.driver}`;
    case "mgmtdev-register":
    case "mgmtdev-unregister":
      return `${e.kind} ${e.mgmtdev}`;
    case "eswitch-mode":
      return `eswitch-mode pci/${e.device} ${e.mode}`;
    case "devlink-port-add":
      return `devlink-port-add ${e.port} sfnum ${e.sfnum}`;
    case "devlink-port-del":
      return `devlink-port-del ${e.port}`;
    case "device-add":
      return `device-add ${e.bus}/${e.device}${
        e.parent !== undefined ? ` parent ${e.parent}` : ""
      }`;
    case "device-del":
      return `device-del ${e.bus}/${e.device}`;
    case "driver-bind":
    case "driver-unbind":
      return `${e.kind} ${e.bus}/${e.device} ${e.driver}`;
    case "probe-failed":
      return `probe-failed ${e.bus}/${e.device} ${e.driver} ${e.errno}`;
    case "driver-override":
      return `driver-override ${e.bus}/${e.device} ${e.value ?? "(null)"}`;
    case "autoprobe":
      return `autoprobe ${e.bus} ${e.enabled ? 1 : 0}`;
    case "devnode-create":
      return `devnode-create ${e.path} (${e.major}:${e.minor})`;
    case "devnode-remove":
      return `devnode-remove ${e.path}`;
    case "devnode-open":
    case "devnode-close":
      return `${e.kind} ${e.path} by ${e.owner}`;
    case "netdev-create":
      return `netdev-create ${e.ifname} ifindex ${e.ifindex} ${e.type}`;
    case "netdev-remove":
      return `netdev-remove ${e.ifname}`;
    case "link-up":
    case "link-down":
      return `${e.kind} ${e.ifname}`;
    case "carrier":
      return `carrier ${e.ifname} ${e.on ? "on" : "off"}`;
    case "mtu-change":
      return `mtu-change ${e.ifname} ${e.mtu}`;
    case "master-change":
      return `master-change ${e.ifname} ${e.master ?? "nomaster"}`;
    case "vf-create":
    case "vf-remove":
      return `${e.kind} ${e.pf} vf ${e.index} ${e.vf}`;
    case "iommu-group-add":
    case "iommu-group-remove":
      return `${e.kind} ${e.group} ${e.device}`;
    case "virtio-status":
      return `virtio-status ${e.device} 0x${e.status.toString(16).padStart(2, "0")}`;
    case "virtio-features":
      return `virtio-features ${e.device} 0x${e.features.toString(16)}`;
    case "vdpa-attr-set":
      return `vdpa-attr-set ${e.device} ${e.attr} ${e.value}`;
    case "cmdline":
      return `cmdline ${e.text}`;
    case "cpu":
      return `cpu ghz=${e.ghz} cores=${e.cores}`;
  }
}
