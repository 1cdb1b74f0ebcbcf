/**
 * What a kernel module is, as data: the type that `stdlib/catalog/kernel_modules.ts`
 * satisfies. A spec names the module's dependencies (modules.dep), its size (`lsmod`), its
 * parameters (`/sys/module/<m>/parameters`) and what its init function registers with the
 * kernel (a bus, a bus driver, a management device, a genl family, a misc device …). The
 * host kernel turns registrations into state and events; the module itself has no code.
 *
 * @example
 * ```ts
 * import { type ModuleSpec, normalizeModuleName } from "./module_spec.ts";
 * const spec = {
 *   description: "vDPA-based vhost backend for virtio",
 *   size: 32768,
 *   depends: ["vhost", "vdpa"],
 *   registers: [{ kind: "vdpa-driver", name: "vhost_vdpa" }],
 * } satisfies ModuleSpec;
 * if (normalizeModuleName("vhost-vdpa") !== "vhost_vdpa") throw new Error("kmod rule");
 * if (spec.depends.length !== 2) throw new Error();
 * ```
 *
 * @module
 */

/** Parameter types (module_param): how values parse and how sysfs prints them. */
export type ParamType = "bool" | "int" | "uint" | "ushort" | "charp";

/** One module parameter. */
export interface ParamSpec {
  readonly type: ParamType;
  /** Default value; bools as true/false, numbers as numbers, charp as a string. */
  readonly default: boolean | number | string;
  /** sysfs permission bits (0o444 read-only, 0o644 writable by root, 0 hidden). */
  readonly perm: number;
  /** MODULE_PARM_DESC text. */
  readonly description: string;
}

/**
 * What a module's init registers. The kernel knows the behaviour behind each kind; names
 * must be ones the runtime implements (a vdpa bus driver named `vhost_vdpa` or
 * `virtio_vdpa`, a simulator parent named after a device model in runtime/devices).
 */
export type Registration =
  /** A bus type (`/sys/bus/<name>`). */
  | { readonly kind: "bus"; readonly name: "vdpa" | "virtio" }
  /** A generic netlink family (`vdpa`). */
  | { readonly kind: "genl-family"; readonly name: string }
  /** A vdpa bus driver (`vhost_vdpa` creates /dev/vhost-vdpa-N, `virtio_vdpa` a virtio device). */
  | { readonly kind: "vdpa-driver"; readonly name: "vhost_vdpa" | "virtio_vdpa" }
  /** A simulator management device (`vdpasim_net`) whose devices come from a device model. */
  | {
    readonly kind: "vdpa-mgmtdev";
    readonly name: string;
    readonly model: "vdpa_sim_net" | "vdpa_sim_blk";
  }
  /**
   * A hardware vDPA parent: every PCI function of a NIC model that names this module as its
   * vDPA parent, bound to `pciDriver`, gets a management device `pci/<bdf>`.
   */
  | {
    readonly kind: "vdpa-parent";
    readonly pciDriver: string;
    readonly functions: "pf" | "vf" | "any";
  }
  /**
   * A PCI driver (`mlx5_core`, `vfio-pci`); it matches NIC models that name it. `role`
   * says what its probe builds: a netdev (and SR-IOV control), a VFIO group device, or
   * only a vDPA management device (ifcvf, vp_vdpa).
   */
  | { readonly kind: "pci-driver"; readonly name: string; readonly role: "net" | "vfio" | "vdpa" }
  /** A virtio driver (`virtio_net`) and the feature bits its feature table accepts. */
  | {
    readonly kind: "virtio-driver";
    readonly name: string;
    readonly deviceId: number;
    readonly features: readonly number[];
  }
  /** A misc character device (major 10) such as /dev/vhost-net or /dev/net/tun. */
  | {
    readonly kind: "misc-device";
    readonly path: string;
    readonly minor: number;
    readonly mode: number;
    readonly group?: string;
  }
  /** An rtnetlink link kind (`ip link add … type bridge`, tun/tap devices). */
  | { readonly kind: "netdev-kind"; readonly name: "bridge" | "tun" }
  /** A VFIO container and group character devices (/dev/vfio/vfio, /dev/vfio/<group>). */
  | { readonly kind: "vfio" };

/** A kernel module as data. */
export interface ModuleSpec {
  /** One line; the real MODULE_DESCRIPTION where one exists. */
  readonly description: string;
  /** Bytes, as the second column of `lsmod` prints them. */
  readonly size: number;
  /** Direct dependencies (modules whose symbols it uses), in modules.dep order. */
  readonly depends: readonly string[];
  /** Built into the kernel image: always present, never in `lsmod`, cannot be removed. */
  readonly builtin?: boolean;
  readonly params?: Readonly<Record<string, ParamSpec>>;
  readonly registers?: readonly Registration[];
}

/**
 * kmod treats `-` and `_` in module names alike (`modprobe vhost-vdpa` loads vhost_vdpa);
 * this is the canonical form (libkmod `modname_normalize`).
 */
export function normalizeModuleName(name: string): string {
  return name.replaceAll("-", "_");
}
