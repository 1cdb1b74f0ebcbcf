/**
 * How the vDPA and VFIO engines reach the lab: one IOMMU for the host kernel and the lab
 * (the one `show iommu` prints, with the PCI functions' groups), the embedded switch of a
 * physical port (VFs claim their MACs on it), the port's wire as a function's uplink, the
 * PCI function's port, and the lab's control log as a {@link ControlTrace}.
 *
 * @module
 */

import type { Lab } from "../../lab.ts";
import type { Iommu } from "../../iommu/iommu.ts";
import { Skb } from "../../net/skb.ts";
import type { TrafficFlow } from "../../datapath/flow_table.ts";
import { Eswitch } from "../../devices/eswitch.ts";
import type { ControlTrace } from "./control_trace.ts";

/** The lab's IOMMU, shared with the host kernel (the PCI groups live there). */
export function labIommu(lab: Lab): Iommu {
  const iommu = lab.iommu;
  lab.host.adoptIommu(iommu);
  return iommu;
}

const SWITCHES = new WeakMap<Lab, Map<string, Eswitch>>();

/** The embedded switch of physical port `port`, installed as its steering on first use. */
export function eswitchFor(lab: Lab, port: string): Eswitch {
  let m = SWITCHES.get(lab);
  if (m === undefined) {
    m = new Map();
    SWITCHES.set(lab, m);
  }
  let sw = m.get(port);
  if (sw === undefined) {
    const s = new Eswitch(port);
    sw = s;
    m.set(port, s);
    lab.net.setSteering(port, (skb, t) => s.steer(skb.data, skb.len, t, skb.flow, skb.seq));
  }
  return sw;
}

/** The physical port (PF netdev) a PCI function's traffic leaves by. */
export function portOf(lab: Lab, bdf: string): string | undefined {
  const dev = lab.host.pci.device(bdf);
  if (dev === undefined) return undefined;
  const pf = dev.pf === undefined ? dev : lab.host.pci.device(dev.pf);
  return pf?.netdev ?? pf?.portName;
}

/** A function's frames out of `port` onto its wire. */
export function uplinkOf(
  lab: Lab,
  port: string | undefined,
): (frame: Uint8Array, len: number, t: number, flow: TrafficFlow | undefined, seq: number) => void {
  return (frame, len, t, flow, seq) => {
    const w = port === undefined ? undefined : lab.net.wire(port);
    const skb = Skb.copyOf(frame, 0, len, flow, seq);
    const mtu = port === undefined ? undefined : lab.host.net.get(port)?.mtu;
    if (mtu !== undefined && len - 14 > mtu) {
      // the e-switch's uplink vport does not carry a frame over the port's MTU
      const ctx = lab.context("device", "nic");
      lab.net.drop(
        skb,
        t,
        ctx,
        port ?? "nic",
        "mtu_exceeded",
        `${len - 14} > mtu ${mtu} of ${port}`,
      );
      return;
    }
    if (w === undefined) {
      const ctx = lab.context("device", "nic");
      lab.net.drop(skb, t, ctx, port ?? "nic", "no_route", "the function's port has no wire");
      return;
    }
    w.fromHost(skb, t);
  };
}

/** The lab's control log as a {@link ControlTrace}. */
export function labControlTrace(lab: Lab): ControlTrace {
  return {
    now: () => lab.now,
    emit: (e) => lab.control({ comp: e.comp, action: e.action, details: e.details, ctx: e.ctx }),
  };
}
