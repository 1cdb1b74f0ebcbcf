/**
 * The default cost profile: one figure per event kind, each citing the row of
 * `reference/cost-model.md` it comes from (§4 "Default per-event cost table", and the §2
 * rows behind it) with the row's evidence tag: [V] read in the source, [D] derived, [R]
 * recalled, [E] engineering estimate. Figures are ns at 3.0 GHz (cost-model.md converts
 * cycles at 3.0 GHz); entries marked `cycles: true` scale with `host cpu ghz=`.
 *
 * Entries after `vhost_requeue_after_weight` are not in §4: they are the hops the datapaths
 * of `reference/virtio-vhost-vdpa.md` §9 need, all [E] until someone measures them.
 *
 * Users change figures with a JSON file (`--profile FILE`) or from a script; both go
 * through {@link loadCostProfile}, which returns errors as values naming the bad key.
 *
 * @example Scaling for a slower host and overriding one figure
 * ```ts
 * import { DEFAULT_COST_PROFILE, loadCostProfile } from "./cost_profile.ts";
 * const r = loadCostProfile('{ "syscall": 400 }', { ghz: 2.0 });
 * if (!r.ok) throw new Error("valid profile");
 * // vmexit_light is cycle-bound: 700 ns at 3 GHz is 1050 ns at 2 GHz.
 * if (r.value.ns.vmexit_light !== 1050) throw new Error(String(r.value.ns.vmexit_light));
 * if (r.value.ns.syscall !== 600) throw new Error("the override scales too");
 * if (DEFAULT_COST_PROFILE.entries.syscall.ns !== 150) throw new Error("defaults untouched");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../runtime/result.ts";
import {
  applyCostOverrides,
  type CostEntry,
  type CostKey,
  type CostOverrideError,
  type CostProfile,
  type Costs,
  parseCostOverrides,
  parseCostOverridesJson,
  resolveCosts,
} from "../runtime/sim/cost.ts";

const CM = "cost-model.md";

/** The figures, in COST_KEYS order. */
const ENTRIES = {
  vmexit_light: {
    ns: 700,
    cycles: true,
    charge: "cpu",
    range: [300, 1500],
    basis: `${CM} §4 vmexit_light; §2.1 SplitX (WIOV 2011) ~2,000 cycles direct on Nehalem [V]`,
  },
  vmexit_indirect_penalty: {
    ns: 300,
    cycles: true,
    charge: "cpu",
    range: [0, 5000],
    basis: `${CM} §4 vmexit_indirect_penalty; §2.1 SplitX "order of magnitude" indirect [V]`,
  },
  vmexit_to_userspace: {
    ns: 2000,
    cycles: true,
    charge: "cpu",
    range: [1500, 3000],
    basis: `${CM} §4 vmexit_to_userspace; §2.1 inl_from_qemu 5,809-5,826 cycles [V]`,
  },
  ioeventfd_signal: {
    ns: 100,
    cycles: true,
    charge: "cpu",
    range: [50, 300],
    basis: `${CM} §4 ioeventfd_signal; §2.2 eventfd_signal, no sleeper [E]`,
  },
  thread_wakeup_remote: {
    ns: 3000,
    cycles: false,
    charge: "cpu",
    range: [1000, 10000],
    basis: `${CM} §4 thread_wakeup_remote; §2.2 cross-core wake-up, 3 us default [E]`,
  },
  poll_iteration_empty: {
    ns: 50,
    cycles: true,
    charge: "cpu",
    range: [20, 200],
    basis: `${CM} §4 poll_iteration_empty (busy-poll PMD, vhost busyloop) [E]`,
  },
  irq_inject_posted: {
    ns: 400,
    cycles: true,
    charge: "cpu",
    range: [200, 1000],
    basis: `${CM} §4 irq_inject_posted (irqfd -> posted interrupt, no exit) [E]`,
  },
  irq_inject_exit_based: {
    ns: 1500,
    cycles: true,
    charge: "cpu",
    range: [1000, 3000],
    basis: `${CM} §4 irq_inject_exit_based; 2x vmexit_light + IPI [D]`,
  },
  vcpu_wake_from_halt: {
    ns: 5000,
    cycles: false,
    charge: "delay",
    range: [1000, 50000],
    basis: `${CM} §4 vcpu_wake_from_halt; §2.1 halt_poll_ns 200 us [V] + [E]`,
  },
  guest_irq_to_napi: {
    ns: 500,
    cycles: true,
    charge: "cpu",
    range: [300, 1000],
    basis: `${CM} §4 guest_irq_to_napi (guest ISR + NAPI schedule + softirq entry) [E]`,
  },
  syscall: {
    ns: 150,
    cycles: true,
    charge: "cpu",
    range: [50, 500],
    basis: `${CM} §4 syscall; §2.2 null syscall, KPTI range [R]/[E]`,
  },
  context_switch: {
    ns: 1500,
    cycles: true,
    charge: "cpu",
    range: [1000, 3000],
    basis: `${CM} §4 context_switch; §2.2 lmbench lat_ctx class [R]/[E]`,
  },
  memcpy: {
    ns: 10,
    perByteNs: 0.1,
    cycles: true,
    charge: "cpu",
    basis: `${CM} §4 memcpy(n) = 10 + 0.1*n; §2.3 ~0.1 ns/B cache-cold [D]/[E]`,
  },
  vring_desc_fetch_and_used_update: {
    ns: 60,
    cycles: true,
    charge: "cpu",
    range: [30, 150],
    basis: `${CM} §4 vring_desc_fetch_and_used_update (per desc, vhost / QEMU) [E]`,
  },
  gpa_to_hva_translate: {
    ns: 20,
    cycles: true,
    charge: "cpu",
    range: [10, 50],
    basis: `${CM} §4 gpa_to_hva_translate (vhost mem table / DPDK guest pages) [E]`,
  },
  qemu_virtqueue_pop_push: {
    ns: 600,
    cycles: true,
    charge: "cpu",
    range: [400, 1000],
    basis: `${CM} §4 qemu_virtqueue_pop_push (per packet, userspace) [E]`,
  },
  tap_write_kernel: {
    ns: 700,
    cycles: true,
    charge: "cpu",
    range: [350, 1100],
    basis: `${CM} §4 tap_write_kernel; §2.4 vhost-net + tap 0.9-1.5 Mpps [D] (copy charged apart)`,
  },
  tap_read_kernel: {
    ns: 700,
    cycles: true,
    charge: "cpu",
    range: [500, 1100],
    basis: `${CM} §4 tap_read_kernel; §2.4 vhost-net + tap small-packet rates [D]`,
  },
  tap_syscall_user: {
    ns: 400,
    cycles: true,
    charge: "cpu",
    range: [150, 700],
    basis: `${CM} §4 tap_syscall_user (QEMU readv/writev on top of the kernel part) [E]`,
  },
  xdp_tap_fastpath: {
    ns: 350,
    cycles: true,
    charge: "cpu",
    range: [300, 450],
    basis: `${CM} §4 xdp_tap_fastpath; §2.4 XDP-batched 2.3-3.05 Mpps [D]`,
  },
  dpdk_pmd_rxtx: {
    ns: 25,
    cycles: true,
    charge: "cpu",
    range: [15, 35],
    basis: `${CM} §4 dpdk_pmd_rxtx; §2.6 NIC PMD rx+tx <= 100 cycles, CSIT bound [D]`,
  },
  dpdk_vhost_enqueue: {
    ns: 55,
    cycles: true,
    charge: "cpu",
    range: [40, 90],
    basis: `${CM} §4 dpdk_vhost_enqueue; §2.6 ~167 cycles at 64 B (e7ef688562) [D]`,
  },
  dpdk_vhost_dequeue: {
    ns: 65,
    cycles: true,
    charge: "cpu",
    range: [45, 100],
    basis: `${CM} §4 dpdk_vhost_dequeue; §2.6 150-250 cycles incl. mbuf alloc [D]/[E]`,
  },
  ovs_dpdk_pipeline: {
    ns: 120,
    cycles: true,
    charge: "cpu",
    range: [80, 170],
    basis: `${CM} §4 ovs_dpdk_pipeline; §2.6 EMC hit 250-500 cycles [R]`,
  },
  hw_doorbell_mmio: {
    ns: 150,
    cycles: false,
    charge: "cpu",
    range: [100, 300],
    basis: `${CM} §4 hw_doorbell_mmio (guest write to a mapped notify page) [E]`,
  },
  vdpa_kick_via_vhost_vdpa: {
    ns: 1000,
    cycles: true,
    charge: "cpu",
    range: [700, 2000],
    basis: `${CM} §4 vdpa_kick_via_vhost_vdpa (light exit + eventfd + kernel MMIO) [E]`,
  },
  hw_nic_per_packet: {
    ns: 0,
    cycles: false,
    charge: "cpu",
    basis: `${CM} §4 hw_nic_per_packet: line-rate limited, 0 host CPU [R]`,
  },
  iotlb_hit_hw: {
    ns: 0,
    cycles: false,
    charge: "delay",
    range: [0, 10],
    basis: `${CM} §4 iotlb_hit_hw: overlapped [E]`,
  },
  iotlb_miss_hw: {
    ns: 400,
    cycles: false,
    charge: "delay",
    range: [300, 600],
    basis: `${CM} §4 iotlb_miss_hw; §2.5 page walk 300-500 ns [R]/[E]`,
  },
  vhost_iotlb_miss_roundtrip: {
    ns: 20000,
    cycles: false,
    charge: "delay",
    range: [10000, 50000],
    basis: `${CM} §4 vhost_iotlb_miss_roundtrip; §2.5 vhost -> QEMU vIOMMU -> update, 20 us [E]`,
  },
  vdpa_sim_per_packet: {
    ns: 1200,
    cycles: true,
    charge: "cpu",
    range: [800, 3000],
    basis: `${CM} §4 vdpa_sim_per_packet (kernel worker copy + vringh IOTLB) [E]`,
  },
  svq_relay_per_packet: {
    ns: 1500,
    cycles: true,
    charge: "cpu",
    range: [800, 3000],
    basis: `${CM} §4 svq_relay_per_packet (QEMU shadow virtqueue, migration only) [E]`,
  },
  vhost_requeue_after_weight: {
    ns: 300,
    cycles: true,
    charge: "cpu",
    range: [100, 1000],
    basis: `${CM} §4 vhost_requeue_after_weight; §2.7 256 pkts / 512 KiB [V], cost [E]`,
  },
  guest_xmit: {
    ns: 300,
    cycles: true,
    charge: "cpu",
    range: [150, 800],
    basis: `virtio-vhost-vdpa.md §9 guest TX (start_xmit, add_outbuf, kick_prepare) [E]`,
  },
  guest_rx_per_packet: {
    ns: 300,
    cycles: true,
    charge: "cpu",
    range: [150, 800],
    basis: `virtio-vhost-vdpa.md §9 guest RX (get_buf, build skb, refill) per packet [E]`,
  },
  napi_poll: {
    ns: 200,
    cycles: true,
    charge: "cpu",
    range: [100, 500],
    basis: `${CM} §2.7 NAPI_POLL_WEIGHT 64 [V]; per-poll overhead [E]`,
  },
  qemu_tx_flush: {
    ns: 500,
    cycles: true,
    charge: "cpu",
    range: [200, 1500],
    basis: `${CM} §2.7 QEMU TX_BURST 256 per flush [V]; bh scheduling + flush overhead [E]`,
  },
  bridge_forward: {
    ns: 300,
    cycles: true,
    charge: "cpu",
    range: [150, 600],
    basis: `virtio-vhost-vdpa.md §9.1-9.2 tun -> bridge hop, per packet [E]`,
  },
  host_nic_xmit: {
    ns: 200,
    cycles: true,
    charge: "cpu",
    range: [100, 500],
    basis: `virtio-vhost-vdpa.md §9.1-9.2 host NIC driver ndo_start_xmit, per packet [E]`,
  },
  host_stack_rx: {
    ns: 500,
    cycles: true,
    charge: "cpu",
    range: [250, 1500],
    basis: `sink / ping responder: ip_rcv + udp/icmp in a kernel stack, per packet [E]`,
  },
  pcie_dma_latency: {
    ns: 500,
    cycles: false,
    charge: "delay",
    range: [300, 1000],
    basis: `${CM} §2.5 pcie-bench (SIGCOMM 2018) DMA round trip [R]/[E]`,
  },
  wire_latency: {
    ns: 250,
    cycles: false,
    charge: "delay",
    range: [10, 1000],
    basis: `PHY + cable propagation of a short link, added to serialization [E]`,
  },
} as const satisfies { readonly [K in CostKey]: CostEntry };

/** The default profile (cost-model.md §4 defaults at 3.0 GHz). */
export const DEFAULT_COST_PROFILE: CostProfile = {
  name: "default",
  referenceGhz: 3.0,
  entries: ENTRIES,
};

/**
 * A profile as override JSON (what `--profile FILE` reads): every key with `ns`,
 * `per_byte_ns` when it has one, `cycles` and `basis`, in key order. Edit and read back.
 */
export function costProfileJson(profile: CostProfile = DEFAULT_COST_PROFILE): string {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [k, e] of Object.entries(profile.entries) as [CostKey, CostEntry][]) {
    out[k] = {
      ns: e.ns,
      ...(e.perByteNs !== undefined ? { per_byte_ns: e.perByteNs } : {}),
      cycles: e.cycles,
      basis: e.basis,
    };
  }
  return JSON.stringify(out, null, 2) + "\n";
}

/**
 * Script overrides (`cost vmexit_light=500 memcpy.per_byte_ns=0.05`) as the object
 * {@link loadCostProfile} validates: `key=value` sets the ns, `key.field=value` one field.
 * A key with more dots is kept as written so validation reports it.
 */
export function costOverridesFromPairs(
  pairs: Iterable<readonly [string, number | boolean | string]>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, value] of pairs) {
    const dot = path.indexOf(".");
    if (dot < 0 || path.indexOf(".", dot + 1) >= 0) {
      out[path] = value;
      continue;
    }
    const key = path.slice(0, dot);
    const field = path.slice(dot + 1);
    const prev = out[key];
    const entry: Record<string, unknown> = typeof prev === "object" && prev !== null
      ? prev as Record<string, unknown>
      : typeof prev === "number"
      ? { ns: prev }
      : {};
    entry[field] = value;
    out[key] = entry;
  }
  return out;
}

/** Options of {@link loadCostProfile}. */
export interface LoadCostProfileOptions {
  /** The host clock (`host cpu ghz=`), default 3.0. */
  ghz?: number;
  /** The profile to start from, default {@link DEFAULT_COST_PROFILE}. */
  base?: CostProfile;
  /** Named in the changed entries' basis, e.g. the file name. */
  origin?: string;
}

/**
 * Resolves the costs for a run: `overrides` is the JSON text of a `--profile` file, a
 * parsed object (key=value pairs from a script), or undefined for the defaults.
 */
export function loadCostProfile(
  overrides: string | Record<string, unknown> | undefined,
  options: LoadCostProfileOptions = {},
): Result<Costs, CostOverrideError[]> {
  const base = options.base ?? DEFAULT_COST_PROFILE;
  let profile = base;
  if (overrides !== undefined) {
    const parsed = typeof overrides === "string"
      ? parseCostOverridesJson(overrides, base)
      : parseCostOverrides(overrides, base);
    if (!parsed.ok) return err(parsed.error);
    profile = applyCostOverrides(base, parsed.value, { origin: options.origin ?? "override" });
  }
  return ok(resolveCosts(profile, { ghz: options.ghz ?? base.referenceGhz }));
}
