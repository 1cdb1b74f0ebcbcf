/**
 * A physical NIC port of a DPDK application (`-a 0000:3b:00.4`): the PCI device the EAL
 * probes, driven from userspace by its PMD. NVIDIA ConnectX (mlx5, vendor 0x15b3) is
 * *bifurcated*: its PMD runs beside the kernel driver (mlx5_core stays bound); every other
 * NIC needs vfio-pci bound first, or the EAL refuses it ("Requested device … cannot be
 * used").
 *
 * TX burst: per packet one `dpdk_pmd_rxtx` on the PMD (the descriptor write; the NIC DMAs the
 * mbuf — no CPU copy), the DMA (`pcie_dma_latency`), then out of the physical port the device
 * belongs to (a VF through its PF's embedded switch) onto the wire, serialized at the port's
 * speed. Receiving from the wire is not modelled yet: an RX burst finds nothing.
 *
 * @example
 * ```ts
 * import { nicProbeError } from "./nic_pmd.ts";
 * if (nicProbeError(undefined, "0000:3b:00.4") !== "EAL: Requested device 0000:3b:00.4 cannot be used") {
 *   throw new Error("no such device");
 * }
 * ```
 *
 * @module
 */

import { ok, type Result } from "../../result.ts";
import type { Lab } from "../../lab.ts";
import type { PciDevice } from "../../host/pci.ts";
import { Skb } from "../../net/skb.ts";
import type { VhostIoEnv } from "../vhost_user/vhost_datapath.ts";
import type { EthPort, TxResult } from "./ethdev.ts";
import type { Mbuf, MbufPool } from "./mbuf.ts";
import { newPortStats, type PortStats } from "./testpmd_text.ts";

/** NVIDIA/Mellanox: the mlx5 PMD is bifurcated (no vfio-pci needed). */
const MELLANOX = 0x15b3;

/** Why the EAL cannot use `bdf` (undefined: it can), in the EAL's words. */
export function nicProbeError(dev: PciDevice | undefined, bdf: string): string | undefined {
  if (dev === undefined) return `EAL: Requested device ${bdf} cannot be used`;
  if (dev.model.vendorId === MELLANOX) {
    // mlx5 needs its kernel driver (and the netdev) beside the PMD.
    return dev.driver === "mlx5_core" ? undefined : `EAL: Requested device ${bdf} cannot be used`;
  }
  return dev.driver === "vfio-pci" ? undefined : `EAL: Requested device ${bdf} cannot be used`;
}

/** The physical port (netdev) frames from `dev` leave by: its own, or its PF's. */
function uplink(lab: Lab, dev: PciDevice): string | undefined {
  const pf = dev.pf !== undefined ? lab.host.pci.device(dev.pf) : dev;
  return pf?.netdev ?? pf?.portName;
}

/** A NIC port; see the module documentation. */
export class NicPmdPort implements EthPort {
  readonly id: number;
  readonly name: string;
  readonly driver: string;
  readonly mac: Uint8Array;
  readonly rxq: number;
  readonly txq: number;
  readonly stats: PortStats = newPortStats();
  onWork: ((t: number) => void) | undefined = undefined;
  readonly #lab: Lab;
  readonly #dev: PciDevice;

  constructor(lab: Lab, dev: PciDevice, o: { readonly id: number; rxq: number; txq: number }) {
    this.#lab = lab;
    this.#dev = dev;
    this.id = o.id;
    this.name = dev.bdf;
    this.driver = dev.model.vendorId === MELLANOX ? "mlx5_pci" : "net_pci";
    this.rxq = o.rxq;
    this.txq = o.txq;
    const m = [...dev.mac];
    // A VF without an administrative address: the PMD uses a locally administered one.
    this.mac = m.every((b) => b === 0)
      ? new Uint8Array([0x02, 0, 0, (dev.rid >> 8) & 0xff, dev.rid & 0xff, 0x01])
      : new Uint8Array(m);
  }

  /** The physical port the frames leave by. */
  get uplink(): string | undefined {
    return uplink(this.#lab, this.#dev);
  }

  get linkUp(): boolean {
    return this.uplink !== undefined;
  }

  rxQueueName(queue: number): string {
    return `rx${queue}`;
  }

  start(): Result<void, string> {
    return ok(undefined);
  }

  rxBurst(
    _queue: number,
    _pool: MbufPool,
    _out: Mbuf[],
    _max: number,
    _env: VhostIoEnv,
    now: number,
  ): { n: number; end: number } {
    return { n: 0, end: now };
  }

  txBurst(
    queue: number,
    mbufs: readonly Mbuf[],
    n: number,
    env: VhostIoEnv,
    now: number,
  ): TxResult {
    const lab = this.#lab;
    const port = this.uplink;
    const wire = port === undefined ? undefined : lab.net.wire(port);
    if (wire === undefined) return { sent: 0, end: now, refused: "link_down" };
    if (queue >= this.txq) return { sent: 0, end: now, refused: "device_not_ready" };
    const hops = lab.hops;
    let t = now;
    for (let i = 0; i < n; i++) {
      const m = mbufs[i] as Mbuf;
      const flow = m.flow;
      t = hops.charge(env.ctx, t, "dpdk_pmd_rxtx", 0, flow);
      if (flow !== undefined && hops.wants(flow, m.seq)) {
        hops.record(flow, m.seq, env.comp, "forward", { from: `port ${this.id}`, to: this.name });
      }
      // The NIC reads the mbuf by DMA and sends it out of the physical port.
      const dma = hops.charge(env.ctx, t, "pcie_dma_latency", 0, flow);
      if (flow !== undefined && hops.wants(flow, m.seq)) {
        hops.record(flow, m.seq, this.name, "dma", { dir: "read", addr: 0, bytes: m.len });
      }
      wire.fromHost(Skb.copyOf(m.buf, 0, m.len, flow, m.seq), dma);
      this.stats.obytes += m.len;
      m.free();
    }
    this.stats.opackets += n;
    return { sent: n, end: t, refused: undefined };
  }

  describe(): string[] {
    return [
      `port ${this.id}: ${this.name} (${this.driver}) uplink ${this.uplink ?? "-"} link ${
        this.linkUp ? "up" : "down"
      }`,
    ];
  }

  close(): void {}
}
