/**
 * The vhost PMD (drivers/net/vhost/rte_eth_vhost.c): a `--vdev net_vhostN,iface=PATH,…`
 * ethdev port on a vhost-user socket. It registers the socket with rte_vhost (server, or
 * client with `client=1`), offers rte_vhost's net features minus what its devargs turn off
 * (HOST_TSO4/6 without `tso=1`, IOMMU_PLATFORM without `iommu-support=1`), and:
 *
 * - `new_device`: the link comes up (an LSC event), guest notifications are disabled on
 *   every vring — the PMD polls, the guest need not kick (NO_NOTIFY, or avail_event left
 *   alone with EVENT_IDX);
 * - `destroy_device`: the link goes down; bursts return 0 and TX is refused;
 * - RX burst = rte_vhost_dequeue_burst on the guest's TX vring 2q+1; TX burst =
 *   rte_vhost_enqueue_burst on its RX vring 2q; the port frees what it sent.
 *
 * Its MAC is 56:48:4F:53:54:<port id> ("VHOST").
 *
 * @example A server port listens; its link is down until a guest connects
 * ```ts
 * import { Lab } from "../../lab.ts";
 * import { socketsOf } from "../vhost_user/host_sockets.ts";
 * import { VhostPmdPort } from "./vhost_pmd.ts";
 * const lab = new Lab({ hostCatalog: { modules: {}, nicModels: {} } });
 * const port = new VhostPmdPort(lab, socketsOf(lab), {
 *   id: 0, owner: "testpmd-1", rxq: 1, txq: 1,
 *   spec: { name: "net_vhost0", iface: "/tmp/vu0", queues: 1, client: false, iommuSupport: false, postcopySupport: false, tso: false },
 * });
 * if (!port.start().ok || socketsOf(lab).listenerOf("/tmp/vu0") !== "testpmd-1") throw new Error("listening");
 * if (port.linkUp) throw new Error("no guest yet");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../../result.ts";
import type { Lab } from "../../lab.ts";
import {
  featureMask,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_HOST_TSO6,
} from "../../virtio/features.ts";
import type { VhostUserBackendDevice } from "../vhost_user/backend_device.ts";
import { VhostUserBackendSocket } from "../vhost_user/backend_socket.ts";
import { EventFd } from "../vhost_user/fd.ts";
import { rteVhostFeatures } from "../vhost_user/rte_vhost_features.ts";
import { registerBackendSocket, unregisterBackendSocket } from "../vhost_user/socket_faults.ts";
import { describeSocketError, type UnixSocketNamespace } from "../vhost_user/unix_socket.ts";
import {
  rteVhostDequeueBurst,
  rteVhostEnqueueBurst,
  type VhostIoEnv,
} from "../vhost_user/vhost_datapath.ts";
import type { EthPort, TxResult } from "./ethdev.ts";
import type { Mbuf, MbufPool } from "./mbuf.ts";
import { newPortStats, type PortStats } from "./testpmd_text.ts";

/** A checked `--vdev net_vhostN,…`. */
export interface VhostPmdSpec {
  /** `net_vhost0`. */
  readonly name: string;
  readonly iface: string;
  /** Queue pairs (`queues=`). */
  readonly queues: number;
  readonly client: boolean;
  readonly iommuSupport: boolean;
  readonly postcopySupport: boolean;
  readonly tso: boolean;
}

/** One vhost port; see the module documentation. */
export class VhostPmdPort implements EthPort {
  readonly id: number;
  readonly name: string;
  readonly driver = "net_vhost";
  readonly mac: Uint8Array;
  readonly rxq: number;
  readonly txq: number;
  readonly stats: PortStats = newPortStats();
  readonly spec: VhostPmdSpec;
  onWork: ((t: number) => void) | undefined = undefined;
  /** Link state changes, as testpmd prints them. */
  readonly events: string[] = [];
  #socket: VhostUserBackendSocket;
  #dev: VhostUserBackendDevice | undefined = undefined;
  #lab: Lab;

  constructor(
    lab: Lab,
    ns: UnixSocketNamespace,
    o: {
      readonly id: number;
      readonly spec: VhostPmdSpec;
      readonly owner: string;
      readonly rxq: number;
      readonly txq: number;
      /** Features to turn off instead of the PMD's (OVS: `rte_vhost_driver_disable_features`). */
      readonly disable?: bigint;
    },
  ) {
    this.#lab = lab;
    this.id = o.id;
    this.spec = o.spec;
    this.name = o.spec.name;
    this.rxq = o.rxq;
    this.txq = o.txq;
    this.mac = new Uint8Array([0x56, 0x48, 0x4f, 0x53, 0x54, o.id & 0xff]);
    const f = rteVhostFeatures({
      iommuSupport: o.spec.iommuSupport,
      postcopySupport: o.spec.postcopySupport,
      disable: o.disable ??
        (o.spec.tso ? 0n : featureMask(VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6)),
    });
    this.#socket = new VhostUserBackendSocket(ns, {
      path: o.spec.iface,
      client: o.spec.client,
      owner: o.owner,
      features: f.features,
      protocolFeatures: f.protocolFeatures,
      maxQueuePairs: o.spec.queues,
      ops: {
        newDevice: (dev) => this.#newDevice(dev),
        destroyDevice: (dev) => this.#destroyDevice(dev),
        vringStateChanged: (dev, index, enable) => this.#vringState(dev, index, enable),
      },
    });
  }

  /** The rte_vhost socket of the port. */
  get socket(): VhostUserBackendSocket {
    return this.#socket;
  }

  /** The connected device, while the link is up. */
  get device(): VhostUserBackendDevice | undefined {
    return this.#dev;
  }

  rxQueueName(queue: number): string {
    return `tx${queue}`;
  }

  get linkUp(): boolean {
    return this.#dev !== undefined;
  }

  start(): Result<void, string> {
    const r = this.#socket.start();
    if (r.ok) registerBackendSocket(this.#lab, this.#socket);
    if (!r.ok) {
      return err(
        `vhost-user server: failed to bind to ${this.spec.iface}: ${
          describeSocketError(r.error)
        }; remove it and try again`,
      );
    }
    return ok(undefined);
  }

  #note(name: string, value: string): void {
    this.#lab.control({
      comp: this.#socket.owner,
      action: "note",
      details: { name, value, socket: this.spec.iface },
    });
  }

  #newDevice(dev: VhostUserBackendDevice): boolean {
    this.#dev = dev;
    // VHOST_CONFIG: virtio is now ready for processing; the port's link comes up.
    this.#note("new_device", `vid ${dev.vid}, port ${this.id} link up`);
    // eth_vhost new_device: the PMD polls, so the guest need not notify.
    for (const vq of dev.vrings) if (vq !== undefined) dev.enableGuestNotification(vq.index, false);
    for (const vq of dev.vrings) if (vq !== undefined) this.#hookKick(vq.index);
    this.events.push(`Port ${this.id}: link state change event`);
    // Buffers the guest posted before the link came up are found on the next poll.
    this.onWork?.(this.#lab.now);
    return true;
  }

  #destroyDevice(dev: VhostUserBackendDevice): void {
    if (this.#dev !== dev) return;
    this.#dev = undefined;
    this.#note("destroy_device", `vid ${dev.vid}, port ${this.id} link down`);
    this.events.push(`Port ${this.id}: link state change event`);
  }

  #vringState(dev: VhostUserBackendDevice, index: number, enable: boolean): void {
    if (enable) {
      // The PMD's choice applies to rings that become ready later too.
      dev.enableGuestNotification(index, false);
      this.#hookKick(index, dev);
    }
    this.events.push(`Port ${this.id}: queue state event`);
  }

  /**
   * The PMD never reads its kick fds; the lab still learns from them (a kick, or the driver's
   * hint when it published without one) that a TX ring has work, to schedule the next poll —
   * the moment the spinning PMD would have seen the avail index move.
   */
  #hookKick(index: number, dev: VhostUserBackendDevice | undefined = this.#dev): void {
    const vq = dev?.vring(index);
    if (vq === undefined || index % 2 === 0 || !(vq.kick instanceof EventFd)) return;
    const wake = (t: number) => this.onWork?.(t);
    vq.kick.onTimed = wake;
    vq.kick.onHint = wake;
  }

  rxBurst(
    queue: number,
    pool: MbufPool,
    out: Mbuf[],
    max: number,
    env: VhostIoEnv,
    now: number,
  ): { n: number; end: number } {
    const dev = this.#dev;
    if (dev === undefined || queue >= this.rxq) return { n: 0, end: now };
    const r = rteVhostDequeueBurst(dev, queue, pool, out, max, env, now);
    for (let i = 0; i < r.n; i++) {
      const m = out[i] as Mbuf;
      m.port = this.id;
      this.stats.ibytes += m.len;
    }
    this.stats.ipackets += r.n;
    return { n: r.n, end: r.end };
  }

  txBurst(
    queue: number,
    mbufs: readonly Mbuf[],
    n: number,
    env: VhostIoEnv,
    now: number,
  ): TxResult {
    const dev = this.#dev;
    if (dev === undefined) return { sent: 0, end: now, refused: "link_down" };
    if (queue >= this.txq) return { sent: 0, end: now, refused: "device_not_ready" };
    const r = rteVhostEnqueueBurst(dev, queue, mbufs, n, env, now);
    for (let i = 0; i < r.sent; i++) {
      const m = mbufs[i] as Mbuf;
      this.stats.obytes += m.len;
      m.free(); // eth_vhost_tx: the data was copied into the guest
    }
    this.stats.opackets += r.sent;
    const refused = r.sent === n
      ? undefined
      : r.blocked === "no-buffer"
      ? "no_rx_buffer"
      : r.blocked === "not-running"
      ? "link_down"
      : "device_not_ready";
    return { sent: r.sent, end: r.end, refused };
  }

  describe(): string[] {
    const d = this.#dev;
    const lines = [
      `port ${this.id}: ${this.name} (net_vhost) iface=${this.spec.iface} ${
        this.spec.client ? "client" : "server"
      } queues=${this.spec.queues} link ${d ? "up" : "down"}`,
    ];
    if (d !== undefined) {
      lines.push(
        `  vid ${d.vid}: features 0x${d.features.toString(16)} protocol 0x${
          d.protocolFeatures.toString(16)
        }`,
      );
      for (const vq of d.vrings) {
        if (vq === undefined) continue;
        const c = vq.counters;
        lines.push(
          `  vring ${vq.index} (${vq.name}): size ${vq.size} ${
            vq.enabled ? "enabled" : "disabled"
          } ${
            vq.ready ? "ready" : "not ready"
          } base ${vq.currentBase()} dequeued ${c.dequeued} enqueued ${c.enqueued} calls ${c.guestNotifications} suppressed ${c.guestNotificationsSuppressed}`,
        );
      }
    }
    return lines;
  }

  close(): void {
    unregisterBackendSocket(this.#lab, this.#socket);
    this.#socket.unregister();
    this.#dev = undefined;
  }
}
