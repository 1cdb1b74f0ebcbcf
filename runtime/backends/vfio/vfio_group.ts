/**
 * A VFIO group file (`/dev/vfio/<group>`, drivers/vfio/group.c): the unit of isolation the
 * IOMMU gives. A group is viable when every function in it is bound to a VFIO driver or to
 * no driver; it joins one container (VFIO_GROUP_SET_CONTAINER, -EINVAL when it already has
 * one), and hands out device fds (VFIO_GROUP_GET_DEVICE_FD) once the container has an IOMMU:
 * a name not in the group is -ENODEV, a group that is not viable or has no IOMMU is
 * -EINVAL, a device already open is -EBUSY.
 *
 * @example
 * ```ts
 * import { VFIO_GROUP_FLAGS_VIABLE } from "./vfio_ioctl.ts";
 * if (VFIO_GROUP_FLAGS_VIABLE !== 1) throw new Error("flag 0");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../../result.ts";
import type { Errno } from "../../host/errno.ts";
import type { PciBus, PciDevice } from "../../host/pci.ts";
import type { DetailValue } from "../../trace/event.ts";
import { type ControlTrace, NO_CONTROL_TRACE } from "../vhost_vdpa/control_trace.ts";
import type { VfioContainer } from "./vfio_container.ts";
import { VfioDevice } from "./vfio_device.ts";
import {
  VFIO_GROUP_FLAGS_CONTAINER_SET,
  VFIO_GROUP_FLAGS_VIABLE,
  type VfioError,
  type VfioIoctlName,
} from "./vfio_ioctl.ts";

/** Options of {@link VfioGroup}. */
export interface VfioGroupOptions {
  /** The host PCI bus (group members and their drivers). */
  readonly pci: PciBus;
  /** The IOMMU group number. */
  readonly group: number;
  /** The group file's fd. */
  readonly fd: number;
  readonly owner: string;
  readonly trace?: ControlTrace;
  readonly ctx?: string;
}

/** An open VFIO group; see the module documentation. */
export class VfioGroup {
  /** The IOMMU group number. */
  readonly group: number;
  /** The group file's fd. */
  readonly fd: number;
  readonly owner: string;
  readonly #pci: PciBus;
  readonly #trace: ControlTrace;
  readonly #ctx: string;
  readonly #devices = new Map<string, VfioDevice>();
  #container: VfioContainer | undefined;
  #nextFd: number;

  /** An open `/dev/vfio/<group>`. */
  constructor(o: VfioGroupOptions) {
    this.group = o.group;
    this.fd = o.fd;
    this.owner = o.owner;
    this.#pci = o.pci;
    this.#trace = o.trace ?? NO_CONTROL_TRACE;
    this.#ctx = o.ctx ?? "";
    this.#nextFd = o.fd + 100;
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

  /** The functions of the group. */
  members(): PciDevice[] {
    return this.#pci.groupMembers(this.group);
  }

  /** The members bound to something other than a VFIO driver (what makes it not viable). */
  blockers(): PciDevice[] {
    const vfioDrivers = new Set(
      this.#pci.drivers.filter((d) => d.role === "vfio").map((d) => d.name),
    );
    return this.members().filter((d) => d.driver !== undefined && !vfioDrivers.has(d.driver));
  }

  /** vfio_group_viable. */
  get viable(): boolean {
    return this.blockers().length === 0;
  }

  /** VFIO_GROUP_GET_STATUS. */
  getStatus(): { readonly flags: number } {
    const flags = (this.viable ? VFIO_GROUP_FLAGS_VIABLE : 0) |
      (this.#container !== undefined ? VFIO_GROUP_FLAGS_CONTAINER_SET : 0);
    this.#log("VFIO_GROUP_GET_STATUS", { group: this.group, flags });
    return { flags };
  }

  /** The container the group is in. */
  get container(): VfioContainer | undefined {
    return this.#container;
  }

  /** VFIO_GROUP_SET_CONTAINER. */
  setContainer(c: VfioContainer): Result<void, VfioError> {
    const op = "VFIO_GROUP_SET_CONTAINER";
    const details = { group: this.group, container: c.fd };
    if (this.#container !== undefined) {
      return this.#fail(op, "EINVAL", "the group already has a container", details);
    }
    const r = c.join(this);
    if (!r.ok) return this.#fail(op, r.error.errno, r.error.reason, details);
    this.#container = c;
    this.#log(op, details);
    return ok(undefined);
  }

  /** VFIO_GROUP_UNSET_CONTAINER. */
  unsetContainer(): Result<void, VfioError> {
    const op = "VFIO_GROUP_UNSET_CONTAINER";
    if (this.#container === undefined) return this.#fail(op, "EINVAL", "no container");
    if (this.#devices.size > 0) return this.#fail(op, "EBUSY", "device fds are open");
    this.#container.leave(this);
    this.#log(op, { group: this.group });
    this.#container = undefined;
    return ok(undefined);
  }

  /** VFIO_GROUP_GET_DEVICE_FD(name): see the module documentation. */
  getDeviceFd(name: string): Result<VfioDevice, VfioError> {
    const op = "VFIO_GROUP_GET_DEVICE_FD";
    const details = { group: this.group, dev: name };
    const dev = this.members().find((d) => d.bdf === name);
    if (dev === undefined) {
      return this.#fail(op, "ENODEV", `${name} is not in group ${this.group}`, details);
    }
    const vfio = this.#pci.drivers.find((d) => d.name === dev.driver)?.role === "vfio";
    if (!vfio) return this.#fail(op, "ENODEV", `${name} is not bound to a VFIO driver`, details);
    if (this.#container?.domain === undefined || !this.viable) {
      return this.#fail(op, "EINVAL", "the group has no IOMMU or is not viable", details);
    }
    if (this.#devices.has(name)) return this.#fail(op, "EBUSY", `${name} is already open`, details);
    const fd = this.#nextFd++;
    const d = new VfioDevice({
      dev,
      fd,
      trace: this.#trace,
      ctx: this.#ctx,
      onClose: () => this.#devices.delete(name),
    });
    this.#devices.set(name, d);
    this.#log(op, { ...details, num: fd });
    return ok(d);
  }

  /** close(2): device fds close, the group leaves its container. */
  close(): void {
    for (const d of [...this.#devices.values()]) d.close();
    if (this.#container !== undefined) this.#container.leave(this);
    this.#container = undefined;
  }
}
