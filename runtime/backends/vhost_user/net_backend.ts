/**
 * `-netdev vhost-user,chardev=…` as a {@link NetBackend}: QEMU's vhost-user front-end
 * ({@link VhostUserFrontend}) between the VM's virtio-net-pci device and a back-end process
 * (dpdk-testpmd's vhost PMD, OVS-DPDK's dpdkvhostuser[client] ports) found through the host's
 * unix socket namespace ({@link socketsOf}).
 *
 * - At QEMU start ({@link VHOST_USER_BACKEND}.create, net_vhost_user_init): the chardev
 *   connects or listens and, once the back-end is there, the per-queue-pair handshake runs
 *   (GET_FEATURES … SET_VRING_CALL). Until then the netdev is not {@link NetBackend.ready}:
 *   QEMU blocks, and the VM realizes its NIC with the back-end's features and boots the guest
 *   when it connects. A client with nobody listening and no `reconnect=` fails
 *   QEMU's start (`Failed to connect to '…': No such file or directory`); guest RAM without any
 *   fd-backed block cannot be shared at all (QEMU's `Failed initializing vhost-user memory
 *   map`), which the lab reports at start instead of at the guest's DRIVER_OK, where QEMU
 *   would silently fall back to a netdev that carries nothing.
 * - At each of the guest's feature word writes ({@link VhostUserNetBackend.featuresWritten}):
 *   a SET_VRING_ENABLE round (virtio-net's peer_attach); at its MQ command
 *   ({@link VhostUserNetBackend.queuePairsChanged}) another, for the pairs it now uses.
 * - At DRIVER_OK ({@link VhostUserNetBackend.start}): vhost_net_start (SET_FEATURES,
 *   SET_MEM_TABLE with one fd per RAM block, per vring NUM/BASE/ADDR/KICK/CALL). The kick fd
 *   is the queue's KVM ioeventfd,
 *   the call fd its irqfd: a call eventfd written by the back-end raises the guest's
 *   interrupt ({@link NetFrontend.interrupt}, source `irqfd`) — QEMU is never in the path.
 * - Every message, both ways, is a control-plane trace event (`vhost-user-msg`).
 *
 * - The connection's state is the NIC's link (`qmp_set_link` in net_vhost_user_event): the
 *   back-end going away takes the guest's carrier down, its return brings it up.
 *
 * The back-end owns the rings: the netdev itself moves no packet. A guest kick reaches the
 * back-end as a write on its kick fd; a polling back-end that asked not to be kicked learns of
 * new buffers when the guest driver publishes them ({@link VhostUserNetBackend.published}),
 * as a hint on the same fd — no write, the PMD finds them on its next poll iteration.
 *
 * @example A QEMU client with no back-end listening fails to start
 * ```ts
 * import { Lab } from "../../lab.ts";
 * import { startVm } from "../../qemu/vm.ts";
 * import { describeVmError } from "../../qemu/vm_spec.ts";
 * const lab = new Lab({ hostCatalog: { modules: {}, nicModels: {} } });
 * const chardev = { id: "char0", backend: "socket", path: "/tmp/vu0", server: false, wait: true, reconnectMs: 0, at: { chardev: 0 } };
 * const r = startVm(lab, "vm1", {
 *   machine: "q35", accel: "kvm", kernelIrqchip: "on", ramSize: 1 << 30, cpus: 1,
 *   ram: [{ name: "mem0", size: 1 << 30, shared: true, hugepages: true, fd: true, backend: "mem0", at: { object: 0 } }],
 *   chardevs: [chardev],
 *   netdevs: [{ kind: "vhost-user", id: "net0", queues: 1, at: { netdev: 0 }, index: 0, chardev }],
 *   devices: [], guest: { netDriverFeatures: 0n },
 * });
 * if (r.ok || !describeVmError(r.error).qemu.includes("Failed to connect to '/tmp/vu0'")) {
 *   throw new Error("QEMU exits");
 * }
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../../result.ts";
import type { Lab } from "../../lab.ts";
import type { CpuContext } from "../../sim/cpu_context.ts";
import type { PacketGroup } from "../../datapath/hop.ts";
import type { DatapathPath } from "../../datapath/path_table.ts";
import type { Endpoint } from "../../datapath/endpoint.ts";
import type { MemRegion } from "../../memory/guest_memory.ts";
import { MemTable } from "../../memory/mem_table.ts";
import type {
  BackendEnv,
  BackendStart,
  NetBackend,
  NetBackendFactory,
  NetFrontend,
  VirtqueueConfig,
} from "../../qemu/net_backend.ts";
import { ALL_FEATURES } from "../../qemu/virtio_net_pci.ts";
import type { SpecPath, VhostUserNetdevSpec, VmError } from "../../qemu/vm_spec.ts";
import type { Vm } from "../../qemu/vm.ts";
import { hasFeature } from "../../virtio/features.ts";
import { EventFd, MemFd } from "./fd.ts";
import {
  type GuestRing,
  type RamSection,
  VHOST_USER_NET_FEATURE_BITS,
  type VhostUserDeviceSide,
  VhostUserFrontend,
} from "./frontend.ts";
import { describeFrontendError, type FrontendError } from "./frontend_error.ts";
import { announceGuest } from "./guest_announce.ts";
import { socketsOf } from "./host_sockets.ts";
import { formatMessageRecord, messageControlEvent, type MessageRecord } from "./message_log.ts";
import { protocolFeatureNames } from "./protocol.ts";

/** The vhost-user datapath with a polling DPDK back-end, as data (reference §9.3). */
export const VHOST_USER_PATH: DatapathPath = {
  name: "vhost-user + DPDK PMD",
  qemuInPath: false,
  copies: { tx: 1, rx: 1 },
  // The PMD disabled guest notifications: the driver does not kick, the PMD finds the
  // buffers on its next poll iteration.
  kick: [],
  tx: [
    { role: "pmd", key: "dpdk_vhost_dequeue", what: "rte_vhost_dequeue_burst, per packet" },
    { role: "pmd", key: "gpa_to_hva_translate", what: "guest page lookup per descriptor" },
    { role: "pmd", key: "memcpy", what: "copy #1: guest buffer → mbuf" },
  ],
  rx: [
    { role: "pmd", key: "dpdk_vhost_enqueue", what: "rte_vhost_enqueue_burst, per packet" },
    { role: "pmd", key: "gpa_to_hva_translate", what: "guest page lookup per descriptor" },
    { role: "pmd", key: "memcpy", what: "copy #1: mbuf → guest buffer" },
  ],
  interrupt: [
    {
      role: "pmd",
      key: "syscall",
      what: "eventfd_write(callfd) when used_event asks",
      perBatch: true,
    },
    { role: "pmd", key: "irq_inject_posted", what: "irqfd → posted interrupt", perBatch: true },
    { role: "vcpu", key: "guest_irq_to_napi", what: "vring_interrupt → NAPI", perBatch: true },
  ],
};

/** QEMU's process VA of guest RAM, like the other backends (one 256 GiB window per pid). */
function hvaBase(vm: Vm): number {
  return 0x7f0000000000 + (vm.pid % 1024) * 0x4000000000;
}

/** `vhost_user_get_features` masking: vhost-user bits the back-end lacks go. */
function maskByBackend(device: bigint, backend: bigint): bigint {
  let f = device;
  for (const b of VHOST_USER_NET_FEATURE_BITS) {
    if (!hasFeature(backend, b)) f &= ~(1n << BigInt(b));
  }
  return f;
}

/** The VM error of a front-end failure at QEMU start, located at the chardev. */
function startError(nd: VhostUserNetdevSpec, e: FrontendError): VmError {
  const at: SpecPath = "chardev" in nd.chardev.at
    ? { chardev: nd.chardev.at.chardev, prop: "path" }
    : nd.chardev.at;
  const lines = describeFrontendError(e);
  const prefix = `qemu-system-x86_64: -chardev socket,id=${nd.chardev.id}`;
  switch (e.kind) {
    case "connect":
      return {
        kind: "backend",
        at,
        message: `nothing listens on \`${nd.chardev.path}\` for netdev \`${nd.id}\``,
        qemu: `${prefix}: ${lines.join("; ")}`,
        help: "start the back-end first (testpmd `--vdev net_vhost0,iface=PATH`, an OVS " +
          "`dpdkvhostuser` port), or make QEMU the server (`server=on,wait=off`) or retry " +
          "(`reconnect=1`)",
      };
    case "bind":
      return {
        kind: "backend",
        at,
        message: `cannot listen on \`${nd.chardev.path}\``,
        qemu: `${prefix}: ${lines.join("; ")}`,
      };
    case "max-queues":
      return {
        kind: "backend",
        at: { netdev: nd.index, prop: "queues" },
        message: `the back-end on \`${nd.chardev.path}\` has at most ${e.max} queue pairs`,
        qemu: `qemu-system-x86_64: -netdev vhost-user,id=${nd.id}: ${lines.join("; ")}`,
        help: `use queues=${e.max} or fewer, or give the back-end more queues`,
      };
    default:
      return {
        kind: "backend",
        at: { netdev: nd.index },
        message: `the vhost-user handshake on \`${nd.chardev.path}\` failed`,
        qemu: `qemu-system-x86_64: -netdev vhost-user,id=${nd.id}: ${lines.join("; ")}`,
      };
  }
}

/** Per-queue notifiers and state the device side keeps. */
interface QueueSide {
  readonly config: VirtqueueConfig;
  lastAvail: number;
}

/** `-netdev vhost-user`; see the module documentation. */
export class VhostUserNetBackend implements NetBackend {
  readonly type = "vhost-user";
  readonly id: string;
  readonly label = "vhost-user";
  readonly maxQueuePairs: number;
  readonly hostNotifier = false;
  readonly path: DatapathPath = VHOST_USER_PATH;
  /** QEMU's front-end (the message log, the connection state). */
  readonly frontend: VhostUserFrontend;
  /** The guest's link as QEMU set it (`qmp_set_link` on connect and disconnect). */
  linkUp = false;
  readonly #lab: Lab;
  readonly #vm: Vm;
  readonly #nd: VhostUserNetdevSpec;
  #fe: NetFrontend | undefined = undefined;
  #queues = new Map<number, QueueSide>();
  #kick = new Map<number, EventFd>();
  #call = new Map<number, EventFd>();
  #memfds = new Map<string, MemFd>();
  #sections: RamSection[] | undefined = undefined;
  #started = false;
  #whenReady: (() => void)[] = [];

  private constructor(lab: Lab, vm: Vm, nd: VhostUserNetdevSpec) {
    this.#lab = lab;
    this.#vm = vm;
    this.#nd = nd;
    this.id = nd.id;
    this.maxQueuePairs = nd.queues;
    const comp = `qemu-${vm.name}`;
    const where = { ctx: vm.qemu.name, comp, socket: nd.chardev.path ?? "" };
    this.frontend = new VhostUserFrontend({
      netdev: nd.id,
      chardev: {
        id: nd.chardev.id,
        path: nd.chardev.path ?? "",
        server: nd.chardev.server,
        wait: nd.chardev.wait,
        reconnectMs: nd.chardev.reconnectMs,
      },
      queuePairs: nd.queues,
      owner: comp,
      ns: socketsOf(lab),
      clock: () => lab.now,
      onMessage: (r) => {
        const e = messageControlEvent(r, where);
        lab.control({ comp: e.comp, action: e.action, details: e.details, ctx: e.ctx });
      },
      onConnected: () => {
        for (const fn of this.#whenReady.splice(0)) fn();
        this.#announce();
      },
    });
    const side: VhostUserDeviceSide = {
      ramSections: () => this.ramSections(),
      ring: (i) => this.ring(i),
      lastAvailIdx: (i) => this.lastAvailIdx(i),
      setLastAvailIdx: (i, v) => this.setLastAvailIdx(i, v),
      restoreLastAvailIdx: (i) => this.restoreLastAvailIdx(i),
      hostNotifier: (i) => this.kickFd(i),
      guestNotifier: (i) => this.callFd(i),
      setLink: (up) => {
        this.linkUp = up;
        // net_vhost_user_event: qmp_set_link on the NIC (the guest sees its carrier follow).
        this.#fe?.setLink(up, lab.now);
      },
    };
    this.frontend.attach(side);
  }

  /** net_vhost_user_init; see the module documentation. */
  static create(env: BackendEnv): Result<NetBackend, VmError> {
    const { lab, vm, netdev } = env;
    if (netdev.kind !== "vhost-user") {
      return err({
        kind: "backend",
        at: netdev.at,
        message: `netdev \`${netdev.id}\` is not vhost-user`,
        qemu: "",
      });
    }
    const nd = netdev;
    const c = nd.chardev;
    if (c.backend !== "socket" || c.path === undefined) {
      // net/vhost-user.c net_vhost_check_net / net_vhost_claim_chardev.
      const missing = "netdev" in c.at;
      return err({
        kind: "backend",
        at: missing ? { netdev: nd.index, prop: "chardev" } : c.at,
        message: missing
          ? `chardev \`${c.id}\` is not defined`
          : `chardev \`${c.id}\` is not a unix socket`,
        qemu:
          `qemu-system-x86_64: -netdev vhost-user,id=${nd.id},chardev=${c.id}: chardev "${c.id}" ${
            missing ? "not found" : "is not a unix socket"
          }`,
      });
    }
    if (!vm.spec.ram.some((b) => b.fd)) {
      // hw/virtio/vhost-user.c vhost_user_fill_set_mem_table_msg: no section has an fd.
      const anon = vm.spec.ram.length === 0
        ? "`-m` alone is anonymous memory"
        : "memory-backend-ram has no fd";
      return err({
        kind: "backend",
        at: { netdev: nd.index },
        message: `vhost-user needs guest RAM the back-end can map: ${anon}`,
        qemu: describeFrontendError({ kind: "mem-no-fd" }).map((l) => `qemu-system-x86_64: ${l}`)
          .join("; "),
        help:
          "back the RAM with `-object memory-backend-file,id=mem0,size=…,mem-path=/dev/hugepages," +
          "share=on -numa node,memdev=mem0` (or memory-backend-memfd,share=on)",
      });
    }
    const b = new VhostUserNetBackend(lab, vm, nd);
    const r = b.frontend.open();
    if (!r.ok) {
      lab.control({
        comp: `qemu-${vm.name}`,
        action: "note",
        details: { name: "vhost-user", value: describeFrontendError(r.error).join("; ") },
      });
      b.frontend.close();
      return err(startError(nd, r.error));
    }
    return ok(b);
  }

  /**
   * Features QEMU offers the guest: the device's within what the back-end carries (its
   * GET_FEATURES; the VM reads them once the netdev is {@link ready}).
   */
  get features(): bigint {
    return maskByBackend(ALL_FEATURES, this.frontend.backendFeatures);
  }

  /** QEMU is past net_vhost_user_init: the back-end connected once. */
  get ready(): boolean {
    return this.frontend.connects > 0;
  }

  whenReady(fn: () => void): void {
    if (this.ready) fn();
    else this.#whenReady.push(fn);
  }

  attach(frontend: NetFrontend): Result<void, VmError> {
    this.#fe = frontend;
    return ok(undefined);
  }

  // -- what QEMU's device gives the front-end (VhostUserDeviceSide) ----------------------------------------------------------------------

  /** Guest RAM as QEMU registers it: one section per region, an fd per memory backend. */
  ramSections(): readonly RamSection[] {
    if (this.#sections !== undefined) return this.#sections;
    const fe = this.#fe;
    if (fe === undefined) return [];
    const table = MemTable.fromGuestMemory(fe.mem, { hvaBase: hvaBase(this.#vm) });
    const hva = new Map<number, number>();
    if (table.ok) {
      for (const r of table.value.regions()) {
        hva.set(r.guestPhysAddr, r.userspaceAddr);
      }
    }
    const out: RamSection[] = [];
    for (const r of fe.mem.regions()) {
      if (r.kind !== "ram") continue;
      // The lab's MemFd stands for one region (below or above 4G) of the backend's file, so
      // the offset into it is 0; QEMU's single fd would carry the region's offset in the file.
      const off = 0;
      out.push({
        name: r.name,
        gpa: r.gpa,
        size: r.size,
        hva: hva.get(r.gpa) ?? r.gpa,
        fd: this.#memfd(r),
        fdOffset: off,
      });
    }
    this.#sections = out;
    return out;
  }

  #memfd(r: MemRegion): MemFd | undefined {
    if (r.backend === undefined) return undefined;
    // memory_region_get_fd: only file and memfd backends have one.
    const spec = this.#vm.spec.ram.find((b) => b.backend === r.backend);
    if (spec === undefined || !spec.fd) return undefined;
    let fd = this.#memfds.get(r.name);
    if (fd === undefined) {
      fd = new MemFd(r.backend, this.#fe?.mem ?? this.#vm.mem, r, {
        shared: r.shared,
        hugepages: spec.hugepages,
      });
      this.#memfds.set(r.name, fd);
    }
    return fd;
  }

  /** Queue `index` as the guest programmed it (guest-physical addresses). */
  ring(index: number): GuestRing | undefined {
    const q = this.#queues.get(index)?.config;
    if (q === undefined) return undefined;
    return { size: q.size, desc: q.desc, avail: q.driver, used: q.device };
  }

  /** What SET_VRING_BASE sends for queue `index` (packed: index | wrap << 15). */
  lastAvailIdx(index: number): number {
    return this.#queues.get(index)?.lastAvail ?? 0;
  }

  /** The base GET_VRING_BASE returned when the back-end stopped queue `index`. */
  setLastAvailIdx(index: number, value: number): void {
    const q = this.#queues.get(index);
    if (q !== undefined) q.lastAvail = value;
  }

  /** The back-end is gone: resume queue `index` at the guest's used index. */
  restoreLastAvailIdx(index: number): void {
    const q = this.#queues.get(index);
    const fe = this.#fe;
    if (q === undefined || fe === undefined || q.config.layout !== "split") return;
    // virtio_queue_restore_last_avail_idx: the used index is where the back-end got to.
    const b = new Uint8Array(2);
    if (fe.mem.read(q.config.device + 2, b)) {
      q.lastAvail = (b[0] as number) | ((b[1] as number) << 8);
    }
  }

  /** The kick fd of queue `index` (QEMU passes the queue's KVM ioeventfd). */
  kickFd(index: number): EventFd {
    let fd = this.#kick.get(index);
    if (fd === undefined) {
      fd = new EventFd(`${this.#vm.name}:${this.#queueName(index)}:kick`);
      this.#kick.set(index, fd);
    }
    return fd;
  }

  /** The call fd of queue `index` (the irqfd of its MSI-X vector). */
  callFd(index: number): EventFd {
    let fd = this.#call.get(index);
    if (fd === undefined) {
      fd = new EventFd(`${this.#vm.name}:${this.#queueName(index)}:call`);
      // The irqfd: a write from the back-end injects the queue's MSI-X vector.
      fd.onTimed = (t, ctx, group) => this.#interrupt(index, t, ctx, group);
      this.#call.set(index, fd);
    }
    return fd;
  }

  #queueName(index: number): string {
    return this.#queues.get(index)?.config.name ??
      (index % 2 === 0 ? `rx${index >> 1}` : `tx${index >> 1}`);
  }

  #interrupt(
    index: number,
    t: number,
    ctx: CpuContext | undefined,
    group: PacketGroup | undefined,
  ) {
    const fe = this.#fe;
    if (fe === undefined || !this.#started) return;
    fe.interrupt(index, t, ctx ?? this.#vm.qemu, "irqfd", group ?? this.#lab.hops.group());
  }

  // -- NetBackend -------------------------------------------------------------------------------

  /**
   * The guest wrote a feature word: virtio_net_set_features → virtio_net_set_multiqueue →
   * peer_attach, a SET_VRING_ENABLE round for the pairs in use (one until the guest's MQ
   * command), each waiting for the back-end.
   */
  featuresWritten(features: bigint, _t: number): void {
    this.frontend.guestFeaturesWritten(features);
  }

  /**
   * The guest's VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET (virtio_net_handle_mq →
   * virtio_net_set_queue_pairs → peer_attach / peer_detach): SET_VRING_ENABLE for every pair,
   * 1 for the `pairs` in use, 0 for the others — every time, as QEMU does.
   */
  queuePairsChanged(pairs: number, _t: number): void {
    this.frontend.setActivePairs(pairs);
  }

  /** DRIVER_OK: vhost_net_start. After a disconnect it runs when the back-end is back. */
  start(s: BackendStart): Result<void, string> {
    const fe = this.#fe;
    if (fe === undefined) return err("no frontend");
    if (this.#vm.dmaTranslation(fe, s.features) !== undefined) {
      // The back-end would translate guest IOVAs through VHOST_USER_IOTLB_MSG misses and
      // updates on the back-end channel, which the lab does not run.
      return err(
        "vhost-user behind a translated guest vIOMMU (IOTLB messages) is not modelled by " +
          "the lab: boot the guest with iommu=pt",
      );
    }
    this.#queues.clear();
    this.#sections = undefined;
    for (const q of s.queues) {
      // virtio_queue_get_last_avail_idx: a packed ring's base carries the avail wrap counter
      // in bit 15, and a fresh ring starts with it at 1.
      const base = q.layout === "packed" && q.base === 0 ? 0x8000 : q.base;
      this.#queues.set(q.index, { config: q, lastAvail: base });
      // vhost_dev_enable_notifiers / set_guest_notifiers: ioeventfd and irqfd per queue.
      fe.ioeventfd(q.index);
      fe.irqfd(q.index);
    }
    this.#started = true;
    const r = this.frontend.start(s.features);
    if (!r.ok) return err(describeFrontendError(r.error).join("; "));
    this.#announce();
    return ok(undefined);
  }

  /** The guest's link-up traffic went out through the back-end (see guest_announce.ts). */
  #announce(): void {
    const fe = this.#fe;
    if (fe === undefined || !this.frontend.started) return;
    announceGuest(this.#lab, this.frontend.chardev.path, fe.mac);
  }

  stop(_t: number): void {
    if (!this.#started) return;
    this.#started = false;
    this.frontend.stop();
  }

  /** The guest's notify wrote the kick fd (the queue's KVM ioeventfd). */
  kick(index: number, t: number, group: PacketGroup): void {
    if (!this.#started) return;
    this.kickFd(index).signal(t, undefined, group);
  }

  /**
   * The guest published buffers on `index` at `t` (a kick may follow or, as the back-end
   * asked, not): a hint on the kick fd, no write — a polling back-end finds them on its next
   * poll iteration, as a PMD spinning on the avail index does.
   */
  published(index: number, t: number, group: PacketGroup): void {
    if (!this.#started) return;
    this.kickFd(index).hint(t, group);
  }

  /** Lines for `show vhost`. */
  describe(): string[] {
    const f = this.frontend;
    const c = this.#nd.chardev;
    const lines = [
      `netdev ${this.id}: vhost-user chardev ${c.id} ${c.path} (QEMU ${
        c.server ? "server" : "client"
      }${c.reconnectMs > 0 ? `, reconnect ${c.reconnectMs / 1000}s` : ""})`,
      `  state ${f.state}${f.peer ? `, peer ${f.peer}` : ""}${
        f.waited ? ", QEMU waited for the back-end" : ""
      }, connects ${f.connects}, link ${this.linkUp ? "up" : "down"}`,
    ];
    if (f.connects > 0) {
      lines.push(`  back-end features 0x${f.backendFeatures.toString(16)}`);
      const names = protocolFeatureNames(f.protocolFeatures);
      lines.push(
        `  protocol features 0x${f.protocolFeatures.toString(16)}${
          names.length > 0 ? ` (${names.join(" ")})` : ""
        }`,
      );
    } else {
      lines.push("  QEMU waits for the back-end: the guest has not booted");
    }
    if (f.started) {
      lines.push(
        `  acked features 0x${f.ackedFeatures.toString(16)}, queue pairs ${f.startedPairs}`,
      );
    }
    for (const s of this.ramSections()) {
      lines.push(
        `  mem ${s.name}: gpa 0x${s.gpa.toString(16)} size 0x${s.size.toString(16)} hva 0x${
          s.hva.toString(16)
        } ${
          s.fd === undefined
            ? "no fd (not sent)"
            : s.fd.shared
            ? "fd, share=on"
            : "fd, share=off: the back-end sees none of the guest's writes"
        }`,
      );
    }
    for (const l of f.log) lines.push(`  ${l}`);
    lines.push(`  messages ${f.messages.length}:`);
    for (const m of f.messages) lines.push(`    ${formatMessageRecord(m)}`);
    return lines;
  }

  /** The message log (for tests and `show vhost`). */
  get messages(): readonly MessageRecord[] {
    return this.frontend.messages;
  }

  destroy(_t: number): void {
    this.#started = false;
    this.#whenReady = [];
    this.frontend.close();
    for (const fd of this.#kick.values()) fd.close();
    for (const fd of this.#call.values()) fd.close();
  }
}

/**
 * The vhost-user socket a guest interface is reached through (simulation bookkeeping, like
 * an endpoint's attachment: a back-end that floods sends the copy that counts that way).
 */
export function vhostUserSocketOf(e: Endpoint | undefined): string | undefined {
  const b = (e as { readonly dev?: { readonly backend?: unknown } } | undefined)?.dev?.backend;
  return b instanceof VhostUserNetBackend ? b.frontend.chardev.path : undefined;
}

/** The factory registered for `-netdev vhost-user`. */
export const VHOST_USER_BACKEND: NetBackendFactory = {
  type: "vhost-user",
  create: (env) => VhostUserNetBackend.create(env),
};
