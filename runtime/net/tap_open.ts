/**
 * How QEMU opens a tap (net/tap.c `net_init_tap` → net/tap-linux.c `tap_open`): one
 * `open("/dev/net/tun")` and one TUNSETIFF per queue, with IFF_TAP | IFF_NO_PI, IFF_VNET_HDR
 * when the vnet header is wanted and IFF_MULTI_QUEUE when `queues` > 1; then TUNSETVNETHDRSZ
 * and TUNSETOFFLOAD. The kernel's rules apply (drivers/net/tun.c `tun_set_iff`): an existing
 * device must be a tap, and its IFF_MULTI_QUEUE must match the request (-EINVAL otherwise —
 * a tap made with `ip tuntap add … multi_queue` cannot be opened by a single-queue QEMU); a
 * single-queue tap takes one file (-EBUSY). A name that does not exist is created (not
 * persistent); the default `/etc/qemu-ifup` script brings it up, `script=no` leaves it down.
 *
 * With `fd=`/`fds=` QEMU opens nothing: it inherits the fds of a tap a management tool made.
 * The lab plays that tool the way libvirt does: the next free `vnetN`, with IFF_VNET_HDR,
 * one queue per fd, up, in no bridge.
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import type { DevHandle } from "../host/devnodes.ts";
import type { Lab } from "../lab.ts";
import type { TapNetdevSpec, VmError } from "../qemu/vm_spec.ts";
import type { TapQueue } from "./tap.ts";

/** IFF_TAP | IFF_NO_PI. */
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
const IFF_VNET_HDR = 0x4000;
const IFF_MULTI_QUEUE = 0x0100;

/** The most queues a tap device takes (drivers/net/tun.c MAX_TAP_QUEUES). */
export const TUN_MAX_TAP_QUEUES = 256;

/** An opened tap: its name, one fd per queue, and the data-plane queues. */
export interface OpenTap {
  readonly ifname: string;
  readonly fds: readonly DevHandle[];
  /** Data-plane queues, owner unset (the backend takes them). */
  readonly queues: readonly TapQueue[];
  /** IFF_VNET_HDR was set. */
  readonly vnetHdr: boolean;
}

/** Opens the tap of `nd` for QEMU process `owner` (`qemu-vm1`), tracing the ioctls. */
export function openTap(lab: Lab, owner: string, nd: TapNetdevSpec): Result<OpenTap, VmError> {
  const host = lab.host;
  // fd=/fds=: a management tool opened the tap and QEMU inherits the fds (net/tap.c
  // net_tap_from_monitor_fd only probes IFF_VNET_HDR). The lab stands in for libvirt
  // (virNetDevTapCreate): the next free `vnetN`, IFF_VNET_HDR, IFF_MULTI_QUEUE for more than
  // one fd, brought up (VIR_NETDEV_TAP_CREATE_IFUP) and put in no bridge.
  const inherited = nd.fd !== undefined;
  const mq = nd.queues > 1;
  const vnetHdr = inherited ? true : nd.vnetHdr;
  let ifname = inherited ? host.net.allocName("vnet") : nd.ifname;
  if (ifname === undefined) {
    let n = 0;
    while (host.net.get(`tap${n}`) !== undefined) n++;
    ifname = `tap${n}`;
  }
  const at = {
    netdev: nd.index,
    prop: inherited ? "fd" : nd.ifname !== undefined ? "ifname" : "queues",
  } as const;
  const existing = host.net.get(ifname);
  if (existing !== undefined) {
    if (existing.kind !== "tap") {
      return err({
        kind: "tap-open",
        at,
        netdev: nd.id,
        ifname,
        errno: "EINVAL",
        hint: `${ifname} is not a tap device`,
      });
    }
    // tun_set_iff: IFF_MULTI_QUEUE of the request must match the device's.
    if (existing.multiQueue !== mq) {
      return err({
        kind: "tap-open",
        at,
        netdev: nd.id,
        ifname,
        errno: "EINVAL",
        hint: existing.multiQueue
          ? `${ifname} was created with multi_queue: use queues=N (N > 1), or recreate it without multi_queue`
          : `${ifname} was created without multi_queue: recreate it with \`ip tuntap add … multi_queue\` for queues=${nd.queues}`,
      });
    }
  }
  const fds: DevHandle[] = [];
  let attached = 0;
  // A failed start closes what it opened: each closed fd detaches its queue (tun_detach).
  const close = () => {
    for (; attached > 0; attached--) host.net.detachQueue(ifname, owner);
    for (const fd of fds) host.close(fd);
  };
  const flags = IFF_TAP | IFF_NO_PI | (vnetHdr ? IFF_VNET_HDR : 0) | (mq ? IFF_MULTI_QUEUE : 0);
  for (let q = 0; q < nd.queues; q++) {
    const fd = host.open("/dev/net/tun", owner);
    if (!fd.ok) {
      close();
      const errno = fd.error.kind === "fs" ? fd.error.errno : "ENODEV";
      return err({
        kind: "backend",
        at: { netdev: nd.index },
        message: `cannot open /dev/net/tun: the tun module is not available`,
        qemu: `qemu-system-x86_64: -netdev tap,id=${nd.id}: could not open /dev/net/tun: ${
          errno === "ENOENT" ? "No such file or directory" : "No such device"
        }`,
        help: "load the tun module (`modprobe tun`)",
      });
    }
    fds.push(fd.value);
    if (host.net.get(ifname) === undefined) {
      const r = host.tuntapAdd(ifname, { mode: "tap", multiQueue: mq, vnetHdr });
      if (!r.ok) {
        close();
        return err({ kind: "tap-open", at, netdev: nd.id, ifname, errno: "EINVAL" });
      }
    }
    // drivers/net/tun.c tun_attach: at MAX_TAP_QUEUES (256) queues a device takes no more.
    const a = q >= TUN_MAX_TAP_QUEUES
      ? err({ kind: "tuntap-ioctl", ioctl: "TUNSETIFF", errno: "E2BIG" } as const)
      : host.net.attachQueue(ifname, owner);
    if (a.ok) attached++;
    else {
      close();
      const errno = a.error.kind === "tuntap-ioctl" ? a.error.errno : "EINVAL";
      return err({
        kind: "tap-open",
        at: errno === "E2BIG" ? { netdev: nd.index, prop: "queues" } : at,
        netdev: nd.id,
        ifname,
        errno,
        ...(errno === "EBUSY"
          ? { hint: `another process holds the single queue of ${ifname}` }
          : errno === "E2BIG"
          ? { hint: `a tap takes at most ${TUN_MAX_TAP_QUEUES} queues (MAX_TAP_QUEUES)` }
          : {}),
      });
    }
    lab.control({
      comp: `qemu-${owner.replace(/^qemu:/, "")}`,
      action: "ioctl",
      details: {
        name: "TUNSETIFF",
        dev: ifname,
        fd: fd.value.fd,
        value: `0x${flags.toString(16)}`,
      },
    });
  }
  if (vnetHdr) {
    lab.control({
      comp: `qemu-${owner.replace(/^qemu:/, "")}`,
      action: "ioctl",
      details: { name: "TUNSETVNETHDRSZ", dev: ifname, value: 12 },
    });
  }
  // The default /etc/qemu-ifup brings the interface up (`ip link set "$1" up`); with
  // inherited fds the management tool did, and QEMU runs no script.
  if (inherited || (nd.script !== "no" && nd.script !== "")) host.linkSetUp(ifname, true);
  const plane = lab.net.tap(ifname);
  const queues = fds.map(() => plane.attach({ label: owner, readable: () => {} }));
  return ok({ ifname, fds, queues, vnetHdr });
}

/** Closes an opened tap: detaches the queues (frames still queued are dropped) and the fds. */
export function closeTap(lab: Lab, owner: string, tap: OpenTap, t: number): void {
  const plane = lab.net.tap(tap.ifname);
  const ctx = lab.context("softirq", "softirq:cpu0");
  for (const q of tap.queues) {
    for (const skb of plane.detach(q)) {
      lab.net.drop(skb, t, ctx, tap.ifname, "link_down", "tap closed");
    }
  }
  for (const fd of tap.fds) {
    lab.host.net.detachQueue(tap.ifname, owner);
    lab.host.close(fd);
  }
}
