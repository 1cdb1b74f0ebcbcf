import assert from "node:assert/strict";
import { Session } from "../session.ts";
import { lineSessions } from "../testdata/line_session.ts";
import { formatMessageLog } from "../../runtime/backends/vhost_user/message_log.ts";
import type { VhostUserNetBackend } from "../../runtime/backends/vhost_user/net_backend.ts";
import { testpmdsOf } from "../../runtime/backends/dpdk/testpmd.ts";
import {
  describeSocketFaultError,
  injectDisconnect,
  injectReconnect,
} from "../../runtime/backends/vhost_user/socket_faults.ts";

const { session, step } = lineSessions();

const TESTPMD = "dpdk-testpmd -l 2-3 --no-pci --vdev net_vhost0,iface=/tmp/vu0";

/** A QEMU command line with shared hugepage RAM and one vhost-user NIC on `chardev`. */
function qemu(chardev: string, device = "", mem = "share=on"): string {
  return "qemu-system-x86_64 -name vm1 -enable-kvm -smp 2 -m 1G " +
    `-object memory-backend-file,id=mem0,size=1G,mem-path=/dev/hugepages,${mem} ` +
    "-numa node,memdev=mem0 " +
    `-chardev socket,id=char0,${chardev} -netdev vhost-user,id=net0,chardev=char0 ` +
    `-device virtio-net-pci,netdev=net0,mac=52:54:00:00:00:01${device}`;
}

function backendOf(s: Session): VhostUserNetBackend {
  const b = s.lab.vm("vm1")?.backends.get("net0");
  assert.ok(b !== undefined && b.type === "vhost-user", "vm1 has its vhost-user netdev");
  return b as VhostUserNetBackend;
}

const errorCodes = (codes: string[]) => codes.filter((c) => c.startsWith("E"));

Deno.test("QEMU client to a testpmd server: the §5.7 exchange, message by message", async (t) => {
  const s = session();
  assert.deepEqual(errorCodes((await step(s, `${TESTPMD} -- --forward-mode=macswap`)).codes), []);
  assert.deepEqual(errorCodes((await step(s, qemu("path=/tmp/vu0"))).codes), []);
  const b = backendOf(s);
  assert.equal(b.frontend.state, "started");
  assert.equal(b.frontend.peer?.startsWith("testpmd-"), true);
  await t.assertSnapshot(formatMessageLog(b.messages), { serializer: String });
  // Every message is a control-plane trace event, both ways, with its payload summary.
  const events = s.lab.controlLog.filter((e) => e.action === "vhost-user-msg");
  assert.equal(events.length, b.messages.length);
  assert.ok(
    events.some((e) => e.details.name === "VHOST_USER_SET_MEM_TABLE" && e.details.fd === 1),
  );
});

Deno.test("either role, either order: the back-end sees the same start sequence", async () => {
  const logs: string[] = [];
  for (
    const [first, second] of <[string, string][]> [
      [`${TESTPMD} -- -a`, qemu("path=/tmp/vu0")],
      [`${TESTPMD},client=1 -- -a`, qemu("path=/tmp/vu0,server=on,wait=off")],
      [qemu("path=/tmp/vu0,server=on,wait=off"), `${TESTPMD},client=1 -- -a`],
      [qemu("path=/tmp/vu0,reconnect=1"), `${TESTPMD} -- -a`],
    ]
  ) {
    const s = session();
    await step(s, first);
    await step(s, second);
    const b = backendOf(s);
    assert.equal(b.frontend.state, "started", `${first} / ${second}`);
    // Addresses are QEMU's (its pid differs with the order) and the feature values depend on
    // whether the guest probed before the back-end answered GET_FEATURES: compare the
    // requests, their vrings and fds.
    logs.push(
      b.messages.map((m) =>
        `${m.dir} ${m.name} ${m.summary.replace(/0x[0-9a-f]+/g, "ADDR")} fds=${m.fds}`
      ).join("\n"),
    );
  }
  for (const l of logs.slice(1)) assert.equal(l, logs[0]);
});

Deno.test("QEMU waits for its back-end, and `show vhost` says so", async () => {
  const s = session();
  await step(s, qemu("path=/tmp/vu0,server=on,wait=off"));
  const b = backendOf(s);
  assert.equal(b.frontend.state, "waiting");
  assert.equal(b.messages.length, 0);
  await step(s, `${TESTPMD},client=1 -- -a`);
  assert.equal(b.frontend.state, "started");
  const shown = (await step(s, "show vhost vm1.eth0")).out;
  assert.match(shown, /QEMU waited for the back-end/);
  assert.match(shown, /-> VHOST_USER_SET_VRING_KICK idx=1 fds=1/);
});

Deno.test("a QEMU client with nobody listening fails to start like QEMU", async () => {
  const s = session();
  await step(s, qemu("path=/tmp/nobody"));
  const d = s.diagnostics.items.find((d) => d.code === "E0410");
  assert.ok(d !== undefined);
  assert.ok(
    d.notes.some((n) =>
      n.includes("Failed to connect to '/tmp/nobody': No such file or directory")
    ),
    d.notes.join("\n"),
  );
});

Deno.test("a socket path on which testpmd listens but QEMU names another fails the same way", async () => {
  const s = session();
  await step(s, `${TESTPMD} -- -a`);
  await step(s, qemu("path=/tmp/vu1"));
  assert.ok(s.diagnostics.items.some((d) => d.code === "E0410"));
});

Deno.test("guest RAM without an fd cannot be shared: QEMU's memory-map error", async () => {
  const s = session();
  await step(s, `${TESTPMD} -- -a`);
  await step(
    s,
    "qemu-system-x86_64 -name vm1 -enable-kvm -m 1G -chardev socket,id=char0,path=/tmp/vu0 " +
      "-netdev vhost-user,id=net0,chardev=char0 -device virtio-net-pci,netdev=net0",
  );
  const codes = s.diagnostics.items.map((d) => d.code);
  assert.ok(codes.includes("W0225"), codes.join(","));
  const d = s.diagnostics.items.find((d) => d.code === "E0410");
  assert.ok(d !== undefined, codes.join(","));
  assert.ok(d.notes.some((n) => n.includes("Failed initializing vhost-user memory map")));
});

Deno.test("share=off: the back-end maps the file but sees none of the guest's packets", async () => {
  const s = session();
  await step(s, `${TESTPMD} -- -a`);
  await step(s, qemu("path=/tmp/vu0", "", "share=off"));
  await step(s, "traffic t1 from vm1.eth0 to vm1.eth0 size=64 count=64 rate=100Kpps");
  await step(s, "run");
  const sum = s.lab.metrics.summaries().t1;
  assert.ok(sum !== undefined);
  assert.equal(sum.delivered, 0);
  assert.equal(testpmdsOf(s.lab)[0]?.ports[0]?.stats.ipackets, 0);
});

/** Runs `count` frames from vm1 back to vm1 through testpmd; returns the summary. */
async function loop(mode: string, device = "", count = 2000, rate = "400Kpps") {
  const s = session();
  assert.deepEqual(
    errorCodes((await step(s, `${TESTPMD} -- --forward-mode=${mode} --auto-start`)).codes),
    [],
  );
  assert.deepEqual(errorCodes((await step(s, qemu("path=/tmp/vu0", device))).codes), []);
  await step(
    s,
    `traffic t1 from vm1.eth0 to vm1.eth0 size=64 count=${count} rate=${rate} burst=32`,
  );
  await step(s, "run");
  const sum = s.lab.metrics.summaries().t1;
  assert.ok(sum !== undefined);
  return { s, sum };
}

Deno.test("io and macswap forward every frame back: one copy each way, conservation", async () => {
  for (const mode of ["io", "macswap"]) {
    const { s, sum } = await loop(mode);
    assert.equal(sum.delivered, 2000, mode);
    assert.equal(sum.dropped + sum.in_flight, 0, mode);
    assert.equal(sum.totals.copies, 4000, mode);
    const app = testpmdsOf(s.lab)[0];
    assert.equal(app?.ports[0]?.stats.ipackets, 2000);
    assert.equal(app?.ports[0]?.stats.opackets, 2000);
  }
});

Deno.test("a polling PMD: one TX kick with EVENT_IDX, none with NO_NOTIFY", async () => {
  const withIdx = await loop("io");
  assert.equal(withIdx.sum.totals.kicks, 1, "avail_event stays 0: only the first burst kicks");
  assert.ok(withIdx.sum.totals.kicks_suppressed > 0);
  const noIdx = await loop("io", ",event_idx=off");
  assert.equal(noIdx.sum.totals.kicks, 0, "VRING_USED_F_NO_NOTIFY: the guest never kicks");
  assert.equal(noIdx.sum.totals.vmexits, 0);
  assert.equal(noIdx.sum.delivered, 2000);
});

Deno.test("bursts of 32: the PMD moves a guest burst in one pass", async () => {
  const { s, sum } = await loop("io");
  const pmd = testpmdsOf(s.lab)[0]?.pmds[0];
  assert.ok(pmd !== undefined);
  assert.ok(pmd.busyPasses >= Math.ceil(sum.delivered / 32), `${pmd.busyPasses} passes`);
  assert.ok(sum.poll_iterations[pmd.ctx.name] !== undefined);
});

Deno.test("the call fd is written only when the guest asks: used_event suppresses", async () => {
  // At 1 Mpps the guest's NAPI is still polling when the next burst lands.
  const { sum } = await loop("io", "", 4000, "1Mpps");
  assert.ok(sum.totals.interrupts_suppressed > 0);
  assert.ok(sum.totals.interrupts_posted > 0);
  // One eventfd_write system call per interrupt: the PMD's only system call.
  assert.equal(sum.totals.syscalls, sum.totals.interrupts_posted);
});

Deno.test("the first packet's path through testpmd, hop by hop", async (t) => {
  const { s } = await loop("macswap", "", 64);
  const r = await step(s, "trace t1 packet 1");
  assert.match(r.out, /testpmd\.macswap\s+forward/);
  await t.assertSnapshot(r.out, { serializer: String });
});

Deno.test("testpmd start-up errors point at the option", async (t) => {
  const cases: [string, string[]][] = [
    ["dpdk-testpmd -l 40-41 --no-pci --vdev net_vhost0,iface=/tmp/a -- -a", ["E0370"]],
    ["dpdk-testpmd -l 2 --no-pci --vdev net_vhost0,iface=/tmp/a -- -a", ["E0372"]],
    ["dpdk-testpmd -l 2-3 --no-pci --vdev net_vhost0,iface=/tmp/a -- --nb-cores=2 -a", [
      "E0372",
    ]],
    ["dpdk-testpmd -l 2-3 --no-pci --vdev net_vhost0,iface=/tmp/a -- --rxq=2 --txq=2 -a", [
      "E0374",
    ]],
    ["dpdk-testpmd -l 2-3 --no-pci --vdev net_vhost0,iface=/tmp/a -- --forward-mode=txonly -a", [
      "E0375",
    ]],
  ];
  for (const [line, want] of cases) {
    await t.step(line, async () => {
      const s = session();
      assert.deepEqual(errorCodes((await step(s, line)).codes), want);
    });
  }
});

Deno.test("two testpmds: the file prefix and the socket path are each taken once", async () => {
  const s = session();
  await step(s, `${TESTPMD} -- -a`);
  assert.deepEqual(errorCodes((await step(s, `${TESTPMD} -- -a`)).codes), ["E0371"]);
  const other =
    "dpdk-testpmd -l 4-5 --no-pci --file-prefix b --vdev net_vhost0,iface=/tmp/vu0 -- -a";
  assert.deepEqual(errorCodes((await step(s, other)).codes), ["E0373"]);
});

Deno.test("warnings: -i alone, a client port with nobody listening, an unsimulated vdev", async () => {
  const s = session();
  const r = await step(
    s,
    "dpdk-testpmd -l 2-3 --no-pci --vdev net_vhost0,iface=/tmp/x,client=1 " +
      "--vdev net_null0 -- -i",
  );
  for (const c of ["W0370", "W0372"]) assert.ok(r.codes.includes(c), `${c} in ${r.codes}`);
  assert.match(r.out, /testpmd> start/);
});

Deno.test("the back-end goes away and comes back: link down, then the handshake again from the saved bases", async () => {
  const s = session();
  await step(s, `${TESTPMD} -- -a`);
  await step(s, qemu("path=/tmp/vu0,reconnect=1"));
  await step(s, "traffic t1 from vm1.eth0 to vm1.eth0 size=64 count=2000 rate=400Kpps burst=32");
  const lab = s.lab;
  const b = backendOf(s);
  const faults: string[] = [];
  lab.sched.at(2_000_000, () => {
    const r = injectDisconnect(lab, "/tmp/vu0");
    faults.push(r.ok ? `closed ${r.value.closed}` : describeSocketFaultError(r.error));
    faults.push(`link ${b.linkUp ? "up" : "down"}, ${b.frontend.state}`);
  });
  lab.sched.at(2_500_000, () => {
    const r = injectReconnect(lab, "/tmp/vu0");
    faults.push(r.ok ? "reconnected" : describeSocketFaultError(r.error));
    faults.push(`link ${b.linkUp ? "up" : "down"}, ${b.frontend.state}`);
  });
  await step(s, "run");
  assert.deepEqual(faults, [
    "closed 1",
    "link down, disconnected",
    "reconnected",
    "link up, started",
  ]);
  assert.equal(b.frontend.connects, 2);
  assert.ok(b.frontend.log.includes("vhost VQ 1 ring restore failed: -22: Invalid argument (22)"));
  // The second start resumes the TX vring where the back-end had got to (its used index).
  const bases = b.messages.filter((m) =>
    m.name === "VHOST_USER_SET_VRING_BASE" && m.dir === "request"
  )
    .map((m) => m.summary);
  assert.equal(bases.length, 4);
  assert.notEqual(bases[3], "idx=1 base=0");
  const sum = lab.metrics.summaries().t1;
  assert.ok(sum !== undefined);
  assert.equal(sum.delivered + sum.dropped, sum.sent);
  assert.equal(sum.in_flight, 0);
  assert.ok(sum.delivered > 1000, `${sum.delivered} delivered`);
  // Injections are refused when there is nothing to do.
  const again = injectReconnect(lab, "/tmp/vu0");
  assert.equal(
    !again.ok && describeSocketFaultError(again.error),
    "the back-end on /tmp/vu0 was not disconnected",
  );
});

Deno.test("a NIC port (-a BDF): io forwarding from the guest to the wire, one copy", async () => {
  const s = session();
  for (
    const l of [
      "host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=100Gbps",
      "modprobe mlx5_core",
      "echo 2 > /sys/class/net/ens1f0/device/sriov_numvfs",
      "ip link set dev ens1f0 up",
    ]
  ) assert.deepEqual(errorCodes((await step(s, l)).codes), [], l);
  const r = await step(
    s,
    `dpdk-testpmd -l 2-3 -a 0000:3b:00.2 --vdev net_vhost0,iface=/tmp/vu0 -- -a`,
  );
  assert.deepEqual(r.codes.filter((c) => c.startsWith("E") || c === "W0373"), []);
  assert.match(r.out, /EAL: Probe PCI driver: mlx5_pci \(15b3:101e\) device: 0000:3b:00.2/);
  assert.match(r.out, /RX P=0\/Q=0 \(socket 0\) -> TX P=1\/Q=0/, "port 0 is the NIC, port 1 vhost");
  await step(s, qemu("path=/tmp/vu0"));
  await step(s, "traffic t1 from vm1.eth0 to wire size=64 count=1000 rate=1Mpps burst=32");
  await step(s, "run");
  const sum = s.lab.metrics.summaries().t1;
  assert.ok(sum !== undefined);
  assert.equal(sum.delivered, 1000);
  assert.equal(sum.totals.copies, 1000, "the NIC DMAs the mbuf: the only copy is the dequeue");
  // A device the EAL cannot use gets no port, with the EAL's words.
  const s2 = session();
  const w = await step(
    s2,
    "dpdk-testpmd -l 2-3 -a 0000:99:00.0 --vdev net_vhost0,iface=/tmp/vu0 -- -a",
  );
  assert.ok(w.codes.includes("W0373"), w.codes.join());
  assert.match(w.out, /EAL: Requested device 0000:99:00.0 cannot be used/);
});

Deno.test("packed rings: SET_VRING_BASE carries the wrap counter; no kick at all", async () => {
  const { s, sum } = await loop("macswap", ",packed=on");
  assert.equal(sum.delivered, 2000);
  assert.equal(sum.totals.kicks, 0, "the device event flags say DISABLE: the driver never kicks");
  assert.equal(sum.totals.copies, 4000);
  const bases = backendOf(s).messages.filter((m) => m.name === "VHOST_USER_SET_VRING_BASE")
    .map((m) => m.summary);
  assert.deepEqual(bases, ["idx=0 base=32768", "idx=1 base=32768"]);
});

Deno.test("multiqueue: the guest's MQ_VQ_PAIRS_SET enables the second pair; each lcore polls one", async () => {
  const s = session();
  await step(
    s,
    "dpdk-testpmd -l 2-4 --no-pci --vdev net_vhost0,iface=/tmp/vu0,queues=2 -- --rxq=2 --txq=2 --nb-cores=2 -a",
  );
  await step(
    s,
    qemu("path=/tmp/vu0", ",mq=on,vectors=6").replace("chardev=char0 ", "chardev=char0,queues=2 "),
  );
  await step(
    s,
    "traffic t1 from vm1.eth0 to vm1.eth0 size=64 count=2000 rate=400Kpps burst=32 flows=4",
  );
  await step(s, "run");
  const enables = backendOf(s).messages.filter((m) =>
    m.name === "VHOST_USER_SET_VRING_ENABLE" && m.dir === "request" && /idx=[23]/.test(m.summary)
  ).map((m) => m.summary);
  assert.deepEqual(enables.slice(0, 2), ["idx=2 enable=0", "idx=3 enable=0"]);
  assert.deepEqual(enables.slice(-2), ["idx=2 enable=1", "idx=3 enable=1"]);
  const app = testpmdsOf(s.lab)[0];
  assert.ok(app !== undefined);
  assert.ok(app.streamStats.every((st) => st.rxPackets > 0), "both streams forward");
  assert.equal(s.lab.metrics.summaries().t1?.delivered, 2000);
});

Deno.test("later runs on the same guest queue are forwarded too, without a kick", async (t) => {
  // The PMD finds every publication by polling. With EVENT_IDX rte_vhost never moves
  // avail_event from 0: only the burst whose avail index crosses it (the guest's first) kicks,
  // and nothing until the index wraps at 65536.
  for (const [device, first] of [[",event_idx=off", 0], ["", 1]] as const) {
    await t.step(device === "" ? "EVENT_IDX" : "NO_NOTIFY", async () => {
      const s = session();
      await step(s, `${TESTPMD} -- -a`);
      await step(s, qemu("path=/tmp/vu0", device));
      for (const name of ["t1", "t2", "t3"]) {
        await step(
          s,
          `traffic ${name} from vm1.eth0 to vm1.eth0 size=64 count=200 rate=400Kpps burst=32`,
        );
        await step(s, "run");
        const sum = s.lab.metrics.summaries()[name];
        assert.equal(sum?.delivered, 200, name);
        assert.equal(sum?.totals.kicks, name === "t1" ? first : 0, name);
      }
    });
  }
});
