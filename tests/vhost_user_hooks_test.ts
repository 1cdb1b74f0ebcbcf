/**
 * The VM ↔ backend hooks as a vhost-user netdev with a polling back-end sees them, through
 * whole scripts: which RAM blocks have an fd, the guest's feature write, QEMU waiting for its
 * back-end before the guest boots, the control queue's MQ command, buffers published without
 * a kick, and the link going down and up with the connection.
 */

import assert from "node:assert/strict";
import { Session } from "../stdlib/session.ts";
import { lineSessions } from "../stdlib/testdata/line_session.ts";
import type { VhostUserNetBackend } from "../runtime/backends/vhost_user/net_backend.ts";

const { session, step } = lineSessions();

const errors = (codes: string[]) => codes.filter((c) => c.startsWith("E"));

const TESTPMD = "dpdk-testpmd -l 2-3 --no-pci --vdev net_vhost0,iface=/tmp/vu0";

/** QEMU with one vhost-user NIC on `chardev`, its RAM from `mem` (an -object and -numa). */
function qemu(chardev: string, o: { mem?: string; device?: string } = {}): string {
  const mem = o.mem ??
    "-object memory-backend-file,id=mem0,size=1G,mem-path=/dev/hugepages,share=on " +
      "-numa node,memdev=mem0";
  return `qemu-system-x86_64 -name vm1 -enable-kvm -smp 2 -m 1G ${mem} ` +
    `-chardev socket,id=char0,${chardev} -netdev vhost-user,id=net0,chardev=char0 ` +
    `-device virtio-net-pci,netdev=net0,mac=52:54:00:00:00:01${o.device ?? ""}`;
}

function backendOf(s: Session): VhostUserNetBackend {
  const b = s.lab.vm("vm1")?.backends.get("net0");
  assert.ok(b !== undefined && b.type === "vhost-user", "vm1 has its vhost-user netdev");
  return b as VhostUserNetBackend;
}

Deno.test("RAM blocks: memory-backend-ram has no fd to send, file and memfd have one", async (t) => {
  await t.step("memory-backend-ram,share=on: QEMU's memory-map error at start", async () => {
    const s = session();
    await step(s, `${TESTPMD} -- -a`);
    const r = await step(
      s,
      qemu("path=/tmp/vu0", {
        mem: "-object memory-backend-ram,id=mem0,size=1G,share=on -numa node,memdev=mem0",
      }),
    );
    const d = s.diagnostics.items.find((x) => x.code === "E0410");
    assert.ok(d !== undefined, r.codes.join(","));
    assert.match(d.message, /memory-backend-ram has no fd/);
    assert.ok(d.notes.some((n) => n.includes("Failed initializing vhost-user memory map")));
  });
  for (
    const mem of [
      "-object memory-backend-memfd,id=mem0,size=1G,share=on -numa node,memdev=mem0",
      "-object memory-backend-file,id=mem0,size=1G,mem-path=/dev/shm/vm1,share=on " +
      "-numa node,memdev=mem0",
    ]
  ) {
    await t.step(mem.split(",")[0] as string, async () => {
      const s = session();
      await step(s, `${TESTPMD} -- -a`);
      assert.deepEqual(errors((await step(s, qemu("path=/tmp/vu0", { mem }))).codes), []);
      const table = backendOf(s).messages.find((m) =>
        m.name === "VHOST_USER_SET_MEM_TABLE" && m.dir === "request"
      );
      assert.equal(table?.fds, 1, "one region, one fd");
    });
  }
  await t.step("a ram block beside a file block: only the file block is sent", async () => {
    const s = session();
    await step(s, `${TESTPMD} -- -a`);
    const mem = "-object memory-backend-ram,id=m0,size=512M -numa node,memdev=m0 " +
      "-object memory-backend-memfd,id=m1,size=512M,share=on -numa node,memdev=m1";
    assert.deepEqual(errors((await step(s, qemu("path=/tmp/vu0", { mem }))).codes), []);
    const table = backendOf(s).messages.find((m) =>
      m.name === "VHOST_USER_SET_MEM_TABLE" && m.dir === "request"
    );
    assert.equal(table?.fds, 1);
    const shown = (await step(s, "show vhost vm1.eth0")).out;
    assert.match(shown, /mem m0: .* no fd \(not sent\)/);
    assert.match(shown, /mem m1: .* fd, share=on/);
  });
});

/** The control log as `comp action name` lines, for order checks. */
function controlLines(s: Session): string[] {
  return s.lab.controlLog.map((e) => `${e.comp} ${e.action} ${e.details.name ?? ""}`);
}

Deno.test("QEMU waits for its back-end: no guest until it connects, then the back-end's features", async () => {
  // QEMU first on a server socket: net_vhost_user_init blocks until testpmd connects.
  const s = session();
  assert.deepEqual(errors((await step(s, qemu("path=/tmp/vu0,server=on,wait=off"))).codes), []);
  const vm = s.lab.vm("vm1");
  assert.ok(vm !== undefined);
  assert.deepEqual(vm.waitingFor, ["net0"]);
  assert.equal(vm.booted, false);
  assert.equal(vm.guestNics.length, 0, "the guest has not booted");
  assert.equal(vm.nics[0]?.realized, false, "the NIC is not realized without the back-end");
  assert.ok(
    !controlLines(s).some((l) => l.startsWith("vm1.eth0 status")),
    "no driver touched the device",
  );
  const r = await step(s, "traffic t1 from vm1.eth0 to vm1.eth0 size=64 count=10");
  assert.ok(r.codes.some((c) => c.startsWith("E")), "no interface to send from yet");
  await step(s, `${TESTPMD},client=1,tso=1 -- -a`);
  assert.deepEqual(vm.waitingFor, []);
  assert.equal(vm.booted, true);
  assert.equal(vm.guestNics[0]?.up, true);
  // The offer is the back-end's: tso=1 lets HOST_TSO4/6 through, CSUM was never turned off.
  const g = vm.guestNics[0];
  assert.ok(g !== undefined);
  for (const bit of [0, 11, 12]) {
    assert.ok((g.features >> BigInt(bit)) & 1n, `feature bit ${bit} negotiated`);
  }
  // The same features as with the back-end first.
  const s2 = session();
  await step(s2, `${TESTPMD},client=1,tso=1 -- -a`);
  await step(s2, qemu("path=/tmp/vu0,server=on,wait=off"));
  assert.equal(s2.lab.vm("vm1")?.guestNics[0]?.features, g.features);
  // Traffic now flows.
  await step(s, "traffic t1 from vm1.eth0 to vm1.eth0 size=64 count=64 rate=100Kpps");
  await step(s, "run");
  assert.equal(s.lab.metrics.summaries().t1?.delivered, 64);
});

Deno.test("the guest's feature write sends its SET_VRING_ENABLE rounds before FEATURES_OK", async () => {
  const s = session();
  await step(s, `${TESTPMD} -- -a`);
  await step(s, qemu("path=/tmp/vu0"));
  const log = s.lab.controlLog;
  const at = (re: RegExp) =>
    log.findIndex((e) =>
      e.comp === "vm1.eth0" && e.action === "status" && re.test(`${e.details.name}`)
    );
  const featuresOk = at(/FEATURES_OK/);
  const driverOk = at(/DRIVER_OK/);
  assert.ok(featuresOk > 0 && driverOk > featuresOk);
  const enables = (from: number, to: number) =>
    log.slice(from, to).filter((e) =>
      e.action === "vhost-user-msg" && e.details.name === "VHOST_USER_SET_VRING_ENABLE" &&
      e.details.dir === "request"
    ).map((e) => `${e.details.value}`);
  // vp_modern_set_features writes two words; QEMU applies each (virtio_net_set_features →
  // peer_attach): a round for both vrings of the pair each time.
  assert.deepEqual(enables(0, featuresOk), [
    "idx=0 enable=1",
    "idx=1 enable=1",
    "idx=0 enable=1",
    "idx=1 enable=1",
  ]);
  assert.deepEqual(enables(featuresOk, driverOk), []);
  // vhost_net_start restores the enable state at DRIVER_OK.
  assert.deepEqual(enables(driverOk, log.length), ["idx=0 enable=1", "idx=1 enable=1"]);
});

Deno.test("the guest's MQ command enables the second pair at once, before any traffic", async () => {
  const s = session();
  await step(
    s,
    "dpdk-testpmd -l 2-4 --no-pci --vdev net_vhost0,iface=/tmp/vu0,queues=2 -- --rxq=2 --txq=2 --nb-cores=2 -a",
  );
  await step(
    s,
    qemu("path=/tmp/vu0", { device: ",mq=on,vectors=6" }).replace(
      "chardev=char0 ",
      "chardev=char0,queues=2 ",
    ),
  );
  // No run yet: the enables came with the control queue command at boot.
  const enables = backendOf(s).messages.filter((m) =>
    m.name === "VHOST_USER_SET_VRING_ENABLE" && m.dir === "request"
  ).map((m) => m.summary);
  assert.deepEqual(enables.slice(-4), [
    "idx=0 enable=1",
    "idx=1 enable=1",
    "idx=2 enable=1",
    "idx=3 enable=1",
  ]);
  assert.equal(s.lab.vm("vm1")?.guestNics[0]?.pairs, 2);
});

Deno.test("EVENT_IDX with a polling PMD: a kick when the avail index crosses avail_event (0), never else", async () => {
  // rte_vhost never writes avail_event while notifications are off: the guest's first burst
  // crosses 0 and kicks; the next crossing is when the 16-bit index wraps to 0 and past it.
  const s = session();
  await step(s, `${TESTPMD} -- -a`);
  await step(s, qemu("path=/tmp/vu0", { device: ",tx_queue_size=1024" }));
  await step(s, "traffic t1 from vm1.eth0 to vm1.eth0 size=64 count=65000 rate=500Kpps burst=32");
  await step(s, "run");
  assert.equal(s.lab.metrics.summaries().t1?.totals.kicks, 1, "below the wrap: one kick");
  await step(s, "traffic t2 from vm1.eth0 to vm1.eth0 size=64 count=1000 rate=500Kpps burst=32");
  await step(s, "run");
  assert.equal(s.lab.metrics.summaries().t2?.totals.kicks, 1, "the index wrapped past 0");
  await step(s, "traffic t3 from vm1.eth0 to vm1.eth0 size=64 count=1000 rate=500Kpps burst=32");
  await step(s, "run");
  assert.equal(s.lab.metrics.summaries().t3?.totals.kicks, 0);
});

Deno.test("a QEMU killed while it waits for its back-end never boots a guest", async () => {
  const s = session();
  await step(s, qemu("path=/tmp/vu0,server=on,wait=off"));
  const vm = s.lab.vm("vm1");
  assert.ok(vm !== undefined && !vm.booted);
  assert.deepEqual(errors((await step(s, `kill ${vm.pid}`)).codes), []);
  assert.ok(vm.exitReason !== undefined);
  // The back-end comes later and finds nobody listening: the socket went with QEMU.
  const r = await step(s, `${TESTPMD},client=1 -- -a`);
  assert.deepEqual(errors(r.codes), []);
  assert.equal(vm.booted, false);
  assert.equal(vm.guestNics.length, 0);
});
