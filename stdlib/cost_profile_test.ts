import assert from "node:assert/strict";
import { COST_KEYS } from "../runtime/sim/cost.ts";
import {
  costOverridesFromPairs,
  costProfileJson,
  DEFAULT_COST_PROFILE,
  loadCostProfile,
} from "./cost_profile.ts";

/** The shared reference sits beside the checkouts (/work/shared next to /work/main or /work/wt/X). */
const REFERENCE =
  ["../../shared/reference/cost-model.md", "../../../shared/reference/cost-model.md"]
    .map((p) => new URL(p, import.meta.url))
    .find(existsSync) ?? new URL("file:///nonexistent/cost-model.md");

Deno.test("DEFAULT_COST_PROFILE has exactly one entry per cost key, in key order", () => {
  assert.deepEqual(Object.keys(DEFAULT_COST_PROFILE.entries), [...COST_KEYS]);
});

Deno.test("DEFAULT_COST_PROFILE figures match the cost-model.md §4 table defaults", () => {
  // The §4 defaults, as the table states them (ns).
  const table: Record<string, number> = {
    vmexit_light: 700,
    vmexit_indirect_penalty: 300,
    vmexit_to_userspace: 2000,
    ioeventfd_signal: 100,
    thread_wakeup_remote: 3000,
    poll_iteration_empty: 50,
    irq_inject_posted: 400,
    irq_inject_exit_based: 1500,
    vcpu_wake_from_halt: 5000,
    guest_irq_to_napi: 500,
    syscall: 150,
    context_switch: 1500,
    memcpy: 10,
    vring_desc_fetch_and_used_update: 60,
    gpa_to_hva_translate: 20,
    qemu_virtqueue_pop_push: 600,
    tap_write_kernel: 700,
    tap_read_kernel: 700,
    tap_syscall_user: 400,
    xdp_tap_fastpath: 350,
    dpdk_pmd_rxtx: 25,
    dpdk_vhost_enqueue: 55,
    dpdk_vhost_dequeue: 65,
    ovs_dpdk_pipeline: 120,
    hw_doorbell_mmio: 150,
    vdpa_kick_via_vhost_vdpa: 1000,
    hw_nic_per_packet: 0,
    iotlb_hit_hw: 0,
    iotlb_miss_hw: 400,
    vhost_iotlb_miss_roundtrip: 20000,
    vdpa_sim_per_packet: 1200,
    svq_relay_per_packet: 1500,
    vhost_requeue_after_weight: 300,
  };
  for (const [k, ns] of Object.entries(table)) {
    const e = DEFAULT_COST_PROFILE.entries[k as keyof typeof DEFAULT_COST_PROFILE.entries];
    assert.deepEqual(e.ns, ns, k);
    assert(e.basis.includes(`§4 ${k}`) || (k === "memcpy" && e.basis.includes("§4 memcpy")), k);
    if (e.range) assert(e.range[0] <= e.ns && e.ns <= e.range[1], `${k} default inside range`);
  }
  assert.deepEqual(DEFAULT_COST_PROFILE.entries.memcpy.perByteNs, 0.1);
});

Deno.test(
  "every §4 event kind of cost-model.md has an entry",
  { ignore: !existsSync(REFERENCE) },
  async () => {
    const text = await Deno.readTextFile(REFERENCE);
    const section = text.slice(text.indexOf("## 4. Default per-event cost table"));
    const kinds = [...section.matchAll(/^\| `([a-z_]+)(?:\(n\))?`/gm)].map((m) => m[1]);
    assert(kinds.length >= 30, `found ${kinds.length} rows`);
    for (const k of kinds) assert((COST_KEYS as readonly string[]).includes(k as string), k);
  },
);

Deno.test("every entry cites its basis with an evidence tag", () => {
  for (const [k, e] of Object.entries(DEFAULT_COST_PROFILE.entries)) {
    assert(/\[(V|D|R|E)\]/.test(e.basis), `${k}: ${e.basis}`);
    assert(e.ns >= 0 && Number.isFinite(e.ns), k);
  }
});

Deno.test("loadCostProfile() scales cycle-bound costs for the host clock", () => {
  const r = loadCostProfile(undefined, { ghz: 1.5 });
  assert(r.ok);
  assert.deepEqual(r.value.ghz, 1.5);
  assert.deepEqual(r.value.ns.vmexit_to_userspace, 4000);
  assert.deepEqual(r.value.ns.thread_wakeup_remote, 3000); // latency-bound: not scaled
  assert.deepEqual(r.value.perByteNs.memcpy, 0.1);
});

Deno.test("loadCostProfile() takes a --profile JSON file or script pairs", () => {
  const file = loadCostProfile('{"vhost_iotlb_miss_roundtrip": 35000}', { origin: "lab.json" });
  assert(file.ok);
  assert.deepEqual(file.value.ns.vhost_iotlb_miss_roundtrip, 35000);
  const pairs = loadCostProfile({ memcpy: { per_byte_ns: 0.04 } });
  assert(pairs.ok);
  assert.deepEqual(pairs.value.perByteNs.memcpy, 0.04);
  assert.deepEqual(pairs.value.ns.memcpy, 10);
});

Deno.test("loadCostProfile() returns every bad key with a suggestion", () => {
  const r = loadCostProfile('{"vmexit_lite": 1, "tap_write": 2, "syscall": -5}');
  assert(!r.ok);
  assert.deepEqual(r.error, [
    { kind: "unknown-key", path: "vmexit_lite", suggestion: "vmexit_light" },
    { kind: "unknown-key", path: "tap_write", suggestion: undefined },
    { kind: "out-of-range", path: "syscall", value: -5, min: 0, max: 1e12 },
  ]);
});

Deno.test("a dumped profile reads back to the same costs, and edits take effect", () => {
  const json = costProfileJson();
  const same = loadCostProfile(json, { ghz: 2.5 });
  const base = loadCostProfile(undefined, { ghz: 2.5 });
  assert.ok(same.ok && base.ok);
  assert.deepEqual(same.value.ns, base.value.ns);
  assert.deepEqual(same.value.perByteNs, base.value.perByteNs);
  const edited = JSON.parse(json);
  edited.syscall.ns = 480;
  const r = loadCostProfile(JSON.stringify(edited));
  assert.ok(r.ok);
  assert.equal(r.value.ns.syscall, 480);
  const bad = loadCostProfile(JSON.stringify({ syscall: { basis: 5 } }));
  assert.ok(!bad.ok);
  assert.equal(bad.error[0]?.kind, "wrong-type");
});

Deno.test("script pairs become overrides, dotted keys set one field", () => {
  const o = costOverridesFromPairs([
    ["vmexit_light", 500],
    ["memcpy.per_byte_ns", 0.05],
    ["memcpy.ns", 8],
    ["vmexit_light.cycles", false],
    ["a.b.c", 1],
  ]);
  assert.deepEqual(o, {
    vmexit_light: { ns: 500, cycles: false },
    memcpy: { per_byte_ns: 0.05, ns: 8 },
    "a.b.c": 1,
  });
  const r = loadCostProfile(o);
  assert.ok(!r.ok);
  assert.deepEqual(r.error, [{ kind: "unknown-key", path: "a.b.c", suggestion: undefined }]);
  const good = loadCostProfile(costOverridesFromPairs([["memcpy.ns", 8], ["syscall", 1]]), {
    ghz: 3,
  });
  assert.ok(good.ok);
  assert.equal(good.value.ns.memcpy, 8);
  assert.equal(good.value.perByteNs.memcpy, 0.1);
});

function existsSync(url: URL): boolean {
  try {
    Deno.statSync(url);
    return true;
  } catch {
    return false;
  }
}
