/**
 * The QEMU userspace and vhost-net datapaths through the whole stack (script → session →
 * VM → guest driver → device model → backend → host network → wire): control-plane
 * sequences in QEMU's order, notification suppression and batching as the rings dictate,
 * NAPI's budget, vhost's weights, multiqueue, packed rings, ioeventfd=off, slirp, and the
 * real errors of wrong setups at the offending property.
 */

import assert from "node:assert/strict";
import { Session } from "../stdlib/session.ts";
import { formatControl } from "../runtime/trace/format.ts";
import type { Lab } from "../runtime/lab.ts";
import type { Diagnostic } from "../lang/diagnostic.ts";

interface Ran {
  readonly stdout: string;
  readonly session: Session;
  readonly lab: Lab;
  readonly errors: Diagnostic[];
  readonly files: Map<string, Uint8Array | string>;
}

async function run(script: string, mode: "run" | "check" = "run"): Promise<Ran> {
  let stdout = "";
  const files = new Map<string, Uint8Array | string>();
  const session = new Session({
    mode,
    stdout: (t) => (stdout += t),
    writeFile: (p, d) => {
      files.set(p, d);
      return Promise.resolve({ ok: true });
    },
  });
  await session.runText(script, "test.vdpa");
  const errors = session.diagnostics.items.filter((d) => d.severity === "error");
  return { stdout, session, lab: session.lab, errors, files };
}

/** A host with a 25G NIC bridged to `taps` taps. */
function host(taps: number, tapFlags = "vnet_hdr"): string {
  let s = "host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=25Gbps\n" +
    "modprobe tun\nmodprobe bridge\nmodprobe vhost_net\n" +
    "ip link add name br0 type bridge\nip link set dev ens1f0 master br0\n" +
    "ip link set dev br0 up\nip link set dev ens1f0 up\n";
  for (let i = 0; i < taps; i++) {
    s += `ip tuntap add dev tap${i} mode tap ${tapFlags}\nip link set dev tap${i} master br0\n` +
      `ip link set dev tap${i} up\n`;
  }
  return s;
}

function qemu(name: string, netdev: string, device = ""): string {
  return `qemu-system-x86_64 -name ${name} -enable-kvm -smp 2 -m 1G -netdev ${netdev} ` +
    `-device virtio-net-pci,netdev=n0${device}\n`;
}

function noErrors(r: Ran): void {
  assert.deepEqual(r.errors.map((d) => `${d.code} ${d.message}`), []);
}

/** The control events a component emitted since the VM start, one line each. */
function controlLines(lab: Lab, comps: RegExp): string {
  return lab.controlLog.filter((e) => comps.test(e.comp)).map((e) =>
    formatControl({ ...e, t: 0 }).trim()
  ).join("\n");
}

Deno.test("vhost-net bring-up follows QEMU's order: init, guest notifiers, per-vq setup, SET_BACKEND", async (t) => {
  const r = await run(host(1) + qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=on"));
  noErrors(r);
  const lines = controlLines(r.lab, /^(qemu-vm1|kvm|vm1\.eth0|kernel)$/);
  const names = r.lab.controlLog.filter((e) => e.action === "ioctl").map((e) =>
    String(e.details.name)
  );
  // §4.4: SET_OWNER before everything; the rings before the backend; the tap last.
  const at = (n: string) => names.indexOf(n);
  assert.ok(at("VHOST_SET_OWNER") < at("VHOST_GET_FEATURES"));
  assert.ok(at("VHOST_GET_FEATURES") < at("KVM_IRQFD"));
  assert.ok(at("KVM_IRQFD") < at("VHOST_SET_FEATURES"));
  assert.ok(at("VHOST_SET_FEATURES") < at("VHOST_SET_MEM_TABLE"));
  assert.ok(at("VHOST_SET_MEM_TABLE") < at("VHOST_SET_VRING_NUM"));
  assert.ok(names.lastIndexOf("VHOST_SET_VRING_CALL") < at("VHOST_NET_SET_BACKEND"));
  assert.equal(names.filter((n) => n === "VHOST_NET_SET_BACKEND").length, 2, "rx and tx");
  await t.assertSnapshot(lines, { serializer: String });
});

Deno.test("QEMU userspace bring-up: TUNSETIFF, guest status and features, ioeventfds after DRIVER_OK, no vhost", async (t) => {
  const r = await run(host(1) + qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=off"));
  noErrors(r);
  const names = r.lab.controlLog.map((e) => String(e.details.name ?? e.action));
  assert.equal(names.filter((n) => n.startsWith("VHOST_")).length, 0, "no vhost ioctl");
  const status = r.lab.controlLog.filter((e) => e.action === "status").map((e) => e.details.name);
  assert.deepEqual(status, [
    "reset",
    "ACKNOWLEDGE",
    "ACKNOWLEDGE DRIVER",
    "ACKNOWLEDGE DRIVER FEATURES_OK",
    "ACKNOWLEDGE DRIVER FEATURES_OK DRIVER_OK",
  ]);
  const driverOk = r.lab.controlLog.findIndex((e) =>
    e.action === "status" && String(e.details.name).includes("DRIVER_OK")
  );
  const firstIoeventfd = r.lab.controlLog.findIndex((e) => e.details.name === "KVM_IOEVENTFD");
  assert.ok(driverOk < firstIoeventfd, "virtio_pci_start_ioeventfd runs at DRIVER_OK");
  await t.assertSnapshot(controlLines(r.lab, /^(qemu-vm1|kvm|vm1\.eth0)$/), { serializer: String });
});

Deno.test("vhost-net masks packed rings: packed=on negotiates split, QEMU userspace keeps packed", async () => {
  const v = await run(
    host(1) + qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=on", ",packed=on"),
  );
  noErrors(v);
  const vn = v.lab.vm("vm1")?.guestNics[0];
  assert.equal(
    vn?.dev.status.negotiated !== undefined && (vn.dev.status.negotiated >> 34n) & 1n,
    0n,
  );
  const q = await run(
    host(1) + qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=off", ",packed=on"),
  );
  noErrors(q);
  const qn = q.lab.vm("vm1")?.guestNics[0];
  assert.equal(qn?.queue("tx0")?.layout, "packed");
  assert.equal(vn?.queue("tx0")?.layout, "split");
});

for (const backend of ["vhost=on", "vhost=off"]) {
  for (const packed of [false, true]) {
    Deno.test(`${backend}${packed ? " packed" : ""}: every frame crosses intact both ways`, async () => {
      const dev = packed ? ",packed=on" : "";
      const r = await run(
        host(1) + qemu("vm1", `tap,id=n0,ifname=tap0,script=no,${backend}`, dev) +
          "traffic t1 from vm1.eth0 to wire size=1500 count=3000 rate=line burst=16\n" +
          "traffic t2 from wire to vm1.eth0 size=128 count=3000 rate=100Kpps burst=8\nrun\n",
      );
      noErrors(r);
      for (const name of ["t1", "t2"]) {
        const s = r.lab.metrics.summary(name);
        assert.equal(s.delivered, 3000, `${name} delivered`);
        assert.equal(s.dropped, 0);
      }
    });
  }
}

for (const eventIdx of ["on", "off"]) {
  Deno.test(`event_idx=${eventIdx}: kicks and interrupts are what the rings decided`, async (t) => {
    const r = await run(
      host(1) + qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=on", `,event_idx=${eventIdx}`) +
        "traffic t1 from vm1.eth0 to wire size=64 count=2000 rate=1Mpps burst=8\n" +
        "traffic t2 from wire to vm1.eth0 size=64 count=2000 rate=300Kpps\nrun\n",
    );
    noErrors(r);
    const g = r.lab.vm("vm1")?.guestNics[0];
    assert.ok(g !== undefined);
    const tx = g.queue("tx0");
    const rx = g.queue("rx0");
    assert.ok(tx !== undefined && rx !== undefined);
    const t1 = r.lab.metrics.summary("t1");
    const t2 = r.lab.metrics.summary("t2");
    // The driver's own decisions on the TX ring are the traffic's kicks.
    assert.equal(t1.totals.kicks, tx.counters.kicks);
    assert.equal(t1.totals.kicks_suppressed, tx.counters.kicksSuppressed);
    // Every interrupt the device raised reached the guest (posted): TX completions and RX.
    assert.equal(
      t1.totals.interrupts + t2.totals.interrupts,
      tx.counters.interrupts + rx.counters.interrupts,
    );
    assert.equal(t1.totals.vmexits, t1.totals.kicks, "each kick is one light exit");
    await t.assertSnapshot(
      `t1 kicks ${t1.totals.kicks} suppressed ${t1.totals.kicks_suppressed} interrupts ${t1.totals.interrupts}\n` +
        `t2 interrupts ${t2.totals.interrupts} suppressed ${t2.totals.interrupts_suppressed} napi polls ${t2.totals.napi_polls}`,
      { serializer: String },
    );
  });
}

Deno.test("event_idx on asks for fewer TX completion interrupts (used_event at ¾ of the batch)", async () => {
  const counts: number[] = [];
  for (const e of ["on", "off"]) {
    const r = await run(
      host(1) + qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=on", `,event_idx=${e}`) +
        "traffic t1 from vm1.eth0 to wire size=64 count=4000 rate=1Mpps burst=32\nrun\n",
    );
    noErrors(r);
    counts.push(r.lab.metrics.summary("t1").totals.interrupts);
  }
  assert.ok((counts[0] as number) < (counts[1] as number), `on ${counts[0]} < off ${counts[1]}`);
});

Deno.test("NAPI takes at most 64 packets per poll and polls again while the budget is used up", async () => {
  const r = await run(
    host(1) + qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=on") +
      "traffic t2 from wire to vm1.eth0 size=64 count=200 rate=line burst=200\nrun --trace=full\n",
  );
  noErrors(r);
  const polls = r.lab.recorder.events().filter((e) => e.type === "hop" && e.action === "napi-poll");
  const works = new Map<number, number>();
  for (const e of polls) {
    if (e.type === "hop" && e.action === "napi-poll") works.set(e.t, e.details.work);
  }
  const w = [...works.values()];
  assert.ok(w.every((x) => x <= 64), `every poll within budget: ${w.join(",")}`);
  assert.ok(w.includes(64), "a full poll happened and was followed by another");
  assert.equal(w.reduce((a, b) => a + b, 0), 200, "every buffer taken exactly once");
  assert.equal(r.lab.metrics.summary("t2").delivered, 200);
});

Deno.test("vhost handle_tx yields after VHOST_NET_PKT_WEIGHT (256) packets and requeues itself", async () => {
  const r = await run(
    host(1) + qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=on") +
      "set cost vmexit_light=0 ioeventfd_signal=0 guest_xmit=10\n" +
      "traffic t1 from vm1.eth0 to wire size=64 count=2000 rate=line burst=2000\nrun --trace=full\n",
  );
  noErrors(r);
  const req = r.lab.recorder.events().filter((e) => e.type === "hop" && e.action === "requeue");
  assert.ok(req.length > 0, "the worker hit its weight");
  for (const e of req) {
    if (e.type === "hop" && e.action === "requeue") assert.equal(e.details.pkts, 256);
  }
  const s = r.lab.metrics.summary("t1");
  assert.equal(s.totals.requeues, new Set(req.map((e) => e.t)).size);
  assert.equal(s.delivered, 2000);
});

Deno.test("vhost handle_tx yields after VHOST_NET_WEIGHT (512 KiB) with jumbo frames", async () => {
  const r = await run(
    host(1) +
      "ip link set dev ens1f0 mtu 9000\nip link set dev tap0 mtu 9000\nip link set dev br0 mtu 9000\n" +
      qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=on", ",host_mtu=9000") +
      "set cost vmexit_light=0 ioeventfd_signal=0 guest_xmit=10\n" +
      "traffic t1 from vm1.eth0 to wire size=9018 count=600 rate=line burst=600\nrun --trace=full\n",
  );
  noErrors(r);
  const req = r.lab.recorder.events().filter((e) => e.type === "hop" && e.action === "requeue");
  assert.ok(req.length > 0);
  for (const e of req) {
    if (e.type !== "hop" || e.action !== "requeue") continue;
    // 0x80000 / 9014 bytes: the 59th frame crosses the byte weight.
    assert.equal(e.details.pkts, 59);
    assert.ok(e.details.bytes >= 0x80000);
  }
  assert.equal(r.lab.metrics.summary("t1").delivered, 600);
});

Deno.test("multiqueue: queues=2 with mq=on gives two vhost workers and spreads flows over both", async () => {
  const r = await run(
    host(1, "multi_queue vnet_hdr") +
      qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=on,queues=2", ",mq=on,vectors=6") +
      "traffic t1 from vm1.eth0 to wire size=64 count=4000 rate=1Mpps burst=16 flows=8\nrun\n",
  );
  noErrors(r);
  const g = r.lab.vm("vm1")?.guestNics[0];
  assert.equal(g?.pairs, 2);
  assert.ok(
    (g?.queue("tx0")?.counters.added ?? 0) > 0 && (g?.queue("tx1")?.counters.added ?? 0) > 0,
  );
  const ctx = r.lab.metrics.contexts.map((c) => c.name);
  assert.ok(ctx.includes("vhost-4100") && ctx.includes("vhost-4100:1"));
  assert.equal(r.lab.metrics.summary("t1").delivered, 4000);
});

Deno.test("ioeventfd=off: every kick is a heavyweight exit to QEMU", async () => {
  const r = await run(
    host(1) + qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=off", ",ioeventfd=off") +
      "traffic t1 from vm1.eth0 to wire size=64 count=500 rate=100Kpps\nrun\n",
  );
  noErrors(r);
  const s = r.lab.metrics.summary("t1");
  assert.ok(s.totals.vmexits > 0);
  assert.equal(s.totals.vmexits_userspace, s.totals.vmexits);
});

Deno.test("-netdev user: the guest pings slirp's gateway and sends it UDP", async () => {
  const r = await run(
    "qemu-system-x86_64 -name vm1 -m 512M -netdev user,id=n0 -device virtio-net-pci,netdev=n0\n" +
      "ping vm1.eth0 vm1.n0.host count=2\ntraffic t1 from vm1.eth0 to vm1.n0.host size=64 count=100\nrun\n",
  );
  noErrors(r);
  assert.match(r.stdout, /2 packets transmitted, 2 received, 0% packet loss/);
  assert.equal(r.lab.metrics.summary("t1").delivered, 100);
  assert.equal(r.lab.vm("vm1")?.guestNics[0]?.ip, 0x0a00020f, "slirp's DHCP gave 10.0.2.15");
});

Deno.test("a multi_queue tap refuses a single-queue QEMU with the kernel's EINVAL", async () => {
  const r = await run(
    host(1, "multi_queue vnet_hdr") + qemu("vm1", "tap,id=n0,ifname=tap0,vhost=on"),
  );
  const e = r.errors.find((d) => d.code === "E0402");
  assert.ok(e, r.errors.map((d) => d.code).join());
  assert.ok(
    e.notes.some((n) => n.includes("could not configure /dev/net/tun (tap0): Invalid argument")),
  );
  const span = e.labels[0]?.span;
  const script = host(1, "multi_queue vnet_hdr") + qemu("vm1", "tap,id=n0,ifname=tap0,vhost=on");
  assert.equal(script.slice(span?.start, span?.end), "tap0", "located at ifname=");
});

Deno.test("a single-queue tap held by one VM is busy for the next (EBUSY)", async () => {
  const r = await run(
    host(1) + qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=on") +
      qemu("vm2", "tap,id=n0,ifname=tap0,script=no,vhost=on"),
  );
  const e = r.errors.find((d) => d.code === "E0402");
  assert.ok(e);
  assert.ok(e.notes.some((n) => n.endsWith("Device or resource busy")));
});

Deno.test("a second VM with a name in use is refused, pointing at the first", async () => {
  const r = await run(
    "qemu-system-x86_64 -name vm1 -m 256M\nqemu-system-x86_64 -name vm1 -m 256M\n",
  );
  const e = r.errors.find((d) => d.code === "E0401");
  assert.ok(e);
  assert.equal(e.labels.length, 2, "the first VM's line is a secondary label");
});

Deno.test("traffic to an unknown endpoint suggests the closest one", async () => {
  const r = await run(
    host(1) + qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=on") +
      "traffic t1 from vm1.eht0 to wire count=1\n",
  );
  const e = r.errors.find((d) => d.code === "E0502");
  assert.ok(e);
  assert.ok(e.help.some((h) => h.includes("vm1.eth0")));
});

Deno.test("check mode builds the VM and its backend but sends nothing", async () => {
  const r = await run(
    host(1) + qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=on") +
      "traffic t1 from vm1.eth0 to wire count=10\nrun\nexpect t1.delivered == 10\n",
    "check",
  );
  noErrors(r);
  assert.equal(r.lab.vm("vm1")?.guestNics[0]?.up, true);
  assert.equal(r.lab.metrics.summary("t1").sent, 0);
});

Deno.test("a failed expect shows the actual value; an unknown metric suggests one", async () => {
  const base = host(1) + qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=on") +
    "traffic t1 from vm1.eth0 to wire count=10\nrun\n";
  const r = await run(base + "expect t1.per_packet.copies == 2\n");
  const failed = r.errors.find((d) => d.code === "E0506");
  assert.ok(failed);
  assert.equal(failed.labels[0]?.message, "actual 1");
  const u = await run(base + "expect t1.per_packet.copy == 1\n");
  const unknown = u.errors.find((d) => d.code === "E0507");
  assert.ok(unknown?.help.some((h) => h.includes("t1.per_packet.copies")));
});

Deno.test("set cost changes what a hop charges; a misspelt key is refused with a suggestion", async () => {
  const r = await run(
    host(1) + qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=on") +
      "set cost vmexit_light=900ns\ntraffic t1 from vm1.eth0 to wire count=1\nrun\n",
  );
  noErrors(r);
  const exit = r.lab.recorder.events().find((e) => e.type === "hop" && e.action === "vmexit");
  assert.equal(exit?.type === "hop" ? exit.dur : -1, 900);
  const bad = await run("set cost vmexit_lite=900ns\n");
  const e = bad.errors.find((d) => d.code === "E0512");
  assert.ok(e);
  assert.match(e.message, /vmexit_light/);
});

/**
 * Runs until the guest has published its first TX chain but the device has not popped it,
 * then zeroes that descriptor's length (a guest bug: QEMU "zero sized buffers are not
 * allowed", vhost "Unexpected descriptor format"), and runs to the end.
 */
async function corruptFirstTx(r: Ran): Promise<void> {
  await r.session.runText("traffic t1 from vm1.eth0 to wire count=4\nrun 1500ns\n", "a.vdpa");
  const g = r.lab.vm("vm1")?.guestNics[0];
  const q = g?.dev.queueConfigs().find((c) => c.name === "tx0");
  assert.ok(g !== undefined && q !== undefined);
  assert.ok((g.queue("tx0")?.counters.added ?? 0) >= 1, "the guest published its first chain");
  assert.equal(g.dev.backend?.deviceRing?.(1)?.counters.popped, 0, "the device has not popped it");
  r.lab.vm("vm1")?.mem.setU32(q.desc + 8, 0); // desc[0].len = 0
  await r.session.runText("run\n", "b.vdpa");
}

Deno.test("a malformed TX ring under QEMU userspace sets NEEDS_RESET and raises the config interrupt", async () => {
  const r = await run(host(1) + qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=off"));
  noErrors(r);
  await corruptFirstTx(r);
  const g = r.lab.vm("vm1")?.guestNics[0];
  assert.ok(g?.dev.needsReset, "virtio_error → DEVICE_NEEDS_RESET");
  assert.equal(g?.configInterrupts, 1);
  assert.ok(r.lab.controlLog.some((e) => e.action === "device-error"));
  const s = r.lab.metrics.summary("t1");
  assert.equal(s.in_flight, 0, "the books balance");
  assert.equal(s.dropped_by_reason.needs_reset, s.dropped, "lost to NEEDS_RESET");
});

Deno.test("a malformed TX ring under vhost-net stops that queue (vq_err), no NEEDS_RESET", async () => {
  const r = await run(host(1) + qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=on"));
  noErrors(r);
  await corruptFirstTx(r);
  const g = r.lab.vm("vm1")?.guestNics[0];
  assert.equal(g?.dev.needsReset, false);
  assert.ok(r.lab.controlLog.some((e) => e.comp === "vhost-net" && e.details.name === "vq_err"));
  assert.ok(g?.dev.backend?.deviceRing?.(1)?.broken, "the TX ring is stopped");
  const s = r.lab.metrics.summary("t1");
  assert.equal(s.in_flight, 0, "the books balance");
  assert.equal(s.delivered, 0);
  assert.equal(s.dropped_by_reason.device_not_ready, 4);
});

for (const [backend, label] of [["vhost=on", "vhost-net"], ["vhost=off", "qemu-tap"]] as const) {
  Deno.test(`the ${label} TX hops of a packet are its path table, step by step and cost by cost`, async () => {
    const r = await run(
      host(1) + qemu("vm1", `tap,id=n0,ifname=tap0,script=no,${backend}`) +
        "traffic t1 from vm1.eth0 to wire size=64 count=4\nrun\n",
    );
    noErrors(r);
    const b = r.lab.vm("vm1")?.guestNics[0]?.dev.backend;
    assert.equal(b?.label, label);
    const trace = r.lab.recorder.packetTrace("t1", 1);
    assert.ok(trace.ok);
    const hops = trace.value.hops;
    const start = hops.findIndex((h) => h.action === "pop");
    assert.ok(start >= 0);
    const steps = b.path.tx;
    const got = hops.slice(start, start + steps.length);
    steps.forEach((step, i) => {
      const h = got[i];
      assert.ok(h !== undefined, `a hop for ${step.key}`);
      const ctx = r.lab.metrics.context(h.ctx);
      assert.equal(ctx?.kind, step.role, `${step.key} runs on a ${step.role} context`);
      const bytes = h.action === "copy" ? h.details.bytes : 0;
      assert.equal(
        h.dur,
        r.lab.hops.cost(step.key, bytes),
        `${step.key} costs what the profile says`,
      );
    });
  });
}

Deno.test("a port that is down drops with link_down; a frame over the MTU with mtu_exceeded", async () => {
  const down = await run(
    host(1) + qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=on") +
      "ip link set dev ens1f0 down\ntraffic t1 from vm1.eth0 to wire size=64 count=10\nrun\n",
  );
  noErrors(down);
  assert.equal(down.lab.metrics.summary("t1").dropped_by_reason.link_down, 10);
  const big = await run(
    host(1) + qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=on") +
      "traffic t1 from vm1.eth0 to wire size=1600 count=10\nrun\n",
  );
  noErrors(big);
  const s = big.lab.metrics.summary("t1");
  assert.equal(s.dropped_by_reason.mtu_exceeded, 10, "the guest's MTU is 1500");
});

Deno.test("a flooded frame counts once: the copy towards the destination, the others are shadows", async () => {
  const r = await run(
    host(2) + qemu("vm1", "tap,id=n0,ifname=tap0,script=no,vhost=on") +
      qemu("vm2", "tap,id=n0,ifname=tap1,script=no,vhost=on") +
      "traffic t1 from vm1.eth0 to wire size=64 count=50 rate=100Kpps\n",
  );
  noErrors(r);
  // Forget everything the bridge learned: the first frames are flooded to tap1 as well.
  for (const p of ["tap0", "tap1", "ens1f0"]) r.lab.net.fdb("br0").flushPort(p);
  await r.session.runText("run\n", "more.vdpa");
  const s = r.lab.metrics.summary("t1");
  assert.equal(s.delivered, 50);
  assert.equal(s.dropped, 0);
  assert.ok(r.lab.net.fdb("br0").flooded > 0, "the bridge flooded");
  const vm2rx = r.lab.vm("vm2")?.guestNics[0]?.queue("rx0")?.counters.reclaimed ?? 0;
  assert.ok(vm2rx > 0, "vm2 received flooded copies (its stack drops them: not its MAC)");
});
