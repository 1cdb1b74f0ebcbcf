/**
 * /dev: device nodes created and removed by drivers (devtmpfs), and the open file handles
 * on them, each with an owner ("qemu:vm1", "dpdk-testpmd"). Opening pins the module that
 * provides the node (fops->owner), so `rmmod` sees it in use. Some nodes are exclusive:
 * vhost-vdpa allows one open at a time (drivers/vhost/vdpa.c `vhost_vdpa_open`: a second
 * open is -EBUSY) and resets the device on open; a VFIO group allows one user.
 *
 * @example
 * ```ts
 * import { DevNodes } from "./devnodes.ts";
 * const events: string[] = [];
 * const dev = new DevNodes((e) => events.push(e.kind), { pin: () => true, unpin: () => {} });
 * dev.create({ path: "/dev/vhost-vdpa-0", major: 511, minor: 0, mode: 0o600, group: "root",
 *   module: "vhost_vdpa", exclusive: true, target: { kind: "misc", name: "vhost-vdpa-0" } });
 * const a = dev.open("/dev/vhost-vdpa-0", "qemu:vm1");
 * const b = dev.open("/dev/vhost-vdpa-0", "qemu:vm2");
 * if (!a.ok || b.ok || b.error.kind !== "fs" || b.error.errno !== "EBUSY") throw new Error("exclusive");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { VdpaDevice } from "../devices/vdpa_device.ts";
import type { HostError } from "./host_error.ts";
import type { HostEventSink } from "./host_event.ts";

/** What an open handle reaches. */
export type DevTarget =
  | { readonly kind: "vhost-vdpa"; readonly vdpa: string; readonly device: VdpaDevice }
  | { readonly kind: "vhost-net" }
  | { readonly kind: "tun" }
  | { readonly kind: "kvm" }
  | { readonly kind: "vfio-container" }
  | { readonly kind: "vfio-group"; readonly group: number }
  | { readonly kind: "block"; readonly disk: string }
  | { readonly kind: "misc"; readonly name: string };

/** A device node. */
export interface DevNode {
  readonly path: string;
  readonly major: number;
  readonly minor: number;
  readonly mode: number;
  readonly group: string;
  /** Block device (`b` in `ls -l`). */
  readonly block?: boolean;
  /** The module whose fops own the node (pinned while open). */
  readonly module: string;
  /** One opener at a time. */
  readonly exclusive: boolean;
  readonly target: DevTarget;
  /** Side effect of open (vhost-vdpa resets the device). */
  readonly onOpen?: () => void;
}

/** An open file. */
export interface DevHandle {
  readonly fd: number;
  readonly path: string;
  readonly owner: string;
  readonly target: DevTarget;
}

/** Module reference counting the nodes need. */
export interface ModulePins {
  pin(module: string): boolean;
  unpin(module: string): void;
}

/** The device nodes and their open handles. */
export class DevNodes {
  readonly #nodes = new Map<string, DevNode>();
  readonly #open = new Map<string, DevHandle[]>();
  readonly #emit: HostEventSink;
  readonly #pins: ModulePins;
  #nextFd = 3;

  /** `pins` is the module table's reference counting. */
  constructor(emit: HostEventSink, pins: ModulePins) {
    this.#emit = emit;
    this.#pins = pins;
  }

  /** devtmpfs_create_node. */
  create(node: DevNode): void {
    if (this.#nodes.has(node.path)) throw new TypeError(`Device node ${node.path} already exists`);
    this.#nodes.set(node.path, node);
    this.#emit({ kind: "devnode-create", path: node.path, major: node.major, minor: node.minor });
  }

  /** devtmpfs_delete_node. Callers must have checked that nothing holds it open. */
  remove(path: string): void {
    if (!this.#nodes.delete(path)) throw new TypeError(`No device node ${path}`);
    this.#emit({ kind: "devnode-remove", path });
  }

  /** A node by path. */
  get(path: string): DevNode | undefined {
    return this.#nodes.get(path);
  }

  /** All nodes, by path. */
  list(): readonly DevNode[] {
    return [...this.#nodes.values()];
  }

  /** Open handles on a node. */
  openers(path: string): readonly DevHandle[] {
    return this.#open.get(path) ?? [];
  }

  /** Whether anything holds the node open. */
  isOpen(path: string): boolean {
    return this.openers(path).length > 0;
  }

  /** open(2) on a node. */
  open(path: string, owner: string): Result<DevHandle, HostError> {
    const node = this.#nodes.get(path);
    if (node === undefined) return err({ kind: "fs", op: "open", path, errno: "ENOENT" });
    const holders = this.#open.get(path) ?? [];
    const first = holders[0];
    if (node.exclusive && first !== undefined) {
      return err({ kind: "fs", op: "open", path, errno: "EBUSY", heldBy: first.owner });
    }
    if (!this.#pins.pin(node.module)) return err({ kind: "fs", op: "open", path, errno: "ENODEV" });
    const handle: DevHandle = { fd: this.#nextFd++, path, owner, target: node.target };
    this.#open.set(path, [...holders, handle]);
    node.onOpen?.();
    this.#emit({ kind: "devnode-open", path, owner });
    return ok(handle);
  }

  /** close(2). Closing a handle twice is our bug. */
  close(handle: DevHandle): void {
    const holders = this.#open.get(handle.path) ?? [];
    const i = holders.indexOf(handle);
    if (i < 0) throw new TypeError(`fd ${handle.fd} on ${handle.path} is not open`);
    holders.splice(i, 1);
    if (holders.length === 0) this.#open.delete(handle.path);
    const node = this.#nodes.get(handle.path);
    if (node !== undefined) this.#pins.unpin(node.module);
    this.#emit({ kind: "devnode-close", path: handle.path, owner: handle.owner });
  }
}
