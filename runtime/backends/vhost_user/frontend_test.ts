import assert from "node:assert/strict";
import { VhostUserBackendSocket } from "./backend_socket.ts";
import type { VhostUserBackendDevice } from "./backend_device.ts";
import { VhostUserFrontend } from "./frontend.ts";
import { describeFrontendError } from "./frontend_error.ts";
import { formatMessageLog } from "./message_log.ts";
import {
  protocolMask,
  VHOST_USER_PROTOCOL_F_MQ,
  VHOST_USER_PROTOCOL_F_REPLY_ACK,
} from "./protocol.ts";
import { rteVhostFeatures } from "./rte_vhost_features.ts";
import { TestGuest } from "./testdata/test_guest.ts";
import { UnixSocketNamespace } from "./unix_socket.ts";
import {
  featureMask,
  VIRTIO_F_VERSION_1,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_STATUS,
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
} from "../../virtio/features.ts";

const PATH = "/tmp/vhost-user1";
const DPDK = rteVhostFeatures({ iommuSupport: false, postcopySupport: false, disable: 0n });
/** What a Linux guest acks of a default virtio-net-pci in front of DPDK (MAC and STATUS are QEMU's). */
const ACKED = featureMask(
  VIRTIO_F_VERSION_1,
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_STATUS,
);

interface Rig {
  ns: UnixSocketNamespace;
  guest: TestGuest;
  fe: VhostUserFrontend;
  be: VhostUserBackendSocket;
  events: string[];
}

function rig(o: {
  qemuServer?: boolean;
  reconnectMs?: number;
  features?: bigint;
  protocol?: bigint;
  maxQueuePairs?: number;
  queuePairs?: number;
  guest?: TestGuest;
} = {}): Rig {
  const ns = new UnixSocketNamespace();
  const events: string[] = [];
  const guest = o.guest ?? new TestGuest({ features: ACKED, pairs: o.queuePairs ?? 1 });
  const fe = new VhostUserFrontend({
    netdev: "net0",
    owner: "qemu-vm1",
    queuePairs: o.queuePairs ?? 1,
    ns,
    chardev: {
      id: "char0",
      path: PATH,
      server: o.qemuServer ?? false,
      wait: true,
      reconnectMs: o.reconnectMs ?? 0,
    },
  });
  fe.attach(guest);
  const be = new VhostUserBackendSocket(ns, {
    path: PATH,
    client: o.qemuServer ?? false,
    owner: "testpmd",
    features: o.features ?? DPDK.features,
    protocolFeatures: o.protocol ?? DPDK.protocolFeatures,
    maxQueuePairs: o.maxQueuePairs ?? 1,
    ops: {
      newDevice: (d: VhostUserBackendDevice) => {
        events.push(`new_device vid=${d.vid}`);
        return true;
      },
      destroyDevice: (d: VhostUserBackendDevice) => void events.push(`destroy_device vid=${d.vid}`),
      vringStateChanged: (_d, i, on) => void events.push(`vring_state_changed ${i}=${on ? 1 : 0}`),
    },
  });
  return { ns, guest, fe, be, events };
}

/** The guest driver's probe as QEMU sees it: two feature-word writes, then DRIVER_OK. */
function probe(r: Rig, acked = ACKED): void {
  assert.ok(r.fe.guestFeaturesWritten(acked & 0xffff_ffffn).ok);
  assert.ok(r.fe.guestFeaturesWritten(acked).ok);
  const s = r.fe.start(acked);
  assert.ok(s.ok, s.ok ? "" : describeFrontendError(s.error).join("\n"));
}

Deno.test("QEMU client to an rte_vhost server: the handshake, probe and start sequence", async (t) => {
  const r = rig();
  assert.ok(r.be.start().ok);
  assert.ok(r.fe.open().ok);
  assert.equal(r.fe.state, "connected");
  assert.equal(r.fe.waited, false);
  probe(r);
  assert.equal(r.fe.state, "started");
  const dev = r.be.devices[0];
  assert.ok(dev !== undefined);
  assert.ok(dev.running, "both vrings ready with DRIVER_OK: new_device");
  // rte_vhost re-evaluates readiness after every message: the init-time call fd makes a
  // ring ready at its kick; the real call fd then takes it down and up again.
  assert.deepEqual(r.events, [
    "vring_state_changed 0=1",
    "vring_state_changed 0=0",
    "vring_state_changed 0=1",
    "vring_state_changed 1=1",
    "vring_state_changed 1=0",
    "vring_state_changed 1=1",
    "new_device vid=0",
  ]);
  await t.assertSnapshot(formatMessageLog(r.fe.messages), { serializer: String });
});

Deno.test("QEMU server, back-end client: the same sequence in either declaration order", async (t) => {
  await t.step("back-end first: it waits for QEMU's socket, QEMU does not wait", () => {
    const r = rig({ qemuServer: true });
    assert.ok(r.be.start().ok);
    assert.ok(r.be.waiting, "rte_vhost client retries until the server appears");
    assert.ok(r.fe.open().ok);
    assert.equal(r.fe.state, "connected");
    assert.equal(r.fe.waited, false);
    probe(r);
    assert.ok(r.be.devices[0]?.running);
  });
  await t.step("QEMU first: it waits for the back-end and says so", async () => {
    const r = rig({ qemuServer: true });
    assert.ok(r.fe.open().ok);
    assert.equal(r.fe.state, "waiting");
    assert.equal(r.fe.waited, true);
    assert.deepEqual(r.fe.log, [
      "info: QEMU waiting for connection on: disconnected:unix:/tmp/vhost-user1,server=on",
    ]);
    assert.ok(r.be.start().ok);
    assert.equal(r.fe.state, "connected");
    probe(r);
    assert.ok(r.be.devices[0]?.running);
    const other = rig();
    assert.ok(other.be.start().ok);
    assert.ok(other.fe.open().ok);
    probe(other);
    assert.equal(
      formatMessageLog(r.fe.messages),
      formatMessageLog(other.fe.messages),
      "the roles of the socket do not change the messages",
    );
    await t.assertSnapshot(r.fe.waited, { serializer: String });
  });
});

Deno.test("A QEMU client with nobody listening fails at start-up unless it may reconnect", async (t) => {
  await t.step("no reconnect: Failed to connect", () => {
    const r = rig();
    const o = r.fe.open();
    assert.ok(!o.ok);
    assert.deepEqual(describeFrontendError(o.error), [
      "Failed to connect to '/tmp/vhost-user1': No such file or directory",
    ]);
    assert.equal(r.fe.state, "failed");
  });
  await t.step("a stale socket file: Connection refused", () => {
    const r = rig();
    assert.ok(r.be.start().ok);
    r.be.unregister();
    const stale = r.ns.listen(PATH, "dead", () => {});
    assert.ok(stale.ok);
    stale.value.close({ unlink: false });
    const o = r.fe.open();
    assert.ok(!o.ok);
    assert.match(describeFrontendError(o.error)[0] ?? "", /Connection refused$/);
  });
  await t.step("reconnect-ms: waits, connects when the back-end listens", () => {
    const r = rig({ reconnectMs: 1000 });
    assert.ok(r.fe.open().ok);
    assert.equal(r.fe.state, "waiting");
    assert.ok(r.be.start().ok);
    assert.equal(r.fe.state, "connected");
    probe(r);
    assert.ok(r.be.devices[0]?.running);
  });
});

Deno.test("Both sides as servers: QEMU takes the path over and nobody connects", () => {
  const r = rig({ qemuServer: true });
  // testpmd in server mode (no client=1) and QEMU server=on on the same path.
  const testpmd = new VhostUserBackendSocket(r.ns, {
    path: PATH,
    client: false,
    owner: "testpmd",
    features: DPDK.features,
    protocolFeatures: DPDK.protocolFeatures,
    maxQueuePairs: 1,
    ops: {},
  });
  assert.ok(testpmd.start().ok);
  assert.ok(r.fe.open().ok, "QEMU unlinks the path and binds its own socket");
  assert.equal(r.fe.state, "waiting");
  assert.equal(testpmd.devices.length, 0);
  assert.equal(r.ns.listenerOf(PATH), "qemu-vm1");
});

Deno.test("Protocol feature subsets change the sequence exactly", async (t) => {
  await t.step("no protocol features: no enables, rings enabled by their kick", async () => {
    const r = rig({ features: DPDK.features & ~(1n << 30n) });
    assert.ok(r.be.start().ok);
    assert.ok(r.fe.open().ok);
    probe(r);
    const log = formatMessageLog(r.fe.messages);
    assert.doesNotMatch(log, /PROTOCOL_FEATURES|SET_VRING_ENABLE/);
    assert.ok(
      r.be.devices[0]?.running,
      "§5.5: without protocol features a started ring is enabled",
    );
    assert.equal(r.be.devices[0]?.vring(0)?.enabled, true);
    await t.assertSnapshot(log, { serializer: String });
  });
  await t.step("no REPLY_ACK: every SET_VRING_ENABLE is followed by GET_FEATURES", async () => {
    const r = rig({ protocol: protocolMask(VHOST_USER_PROTOCOL_F_MQ) });
    assert.ok(r.be.start().ok);
    assert.ok(r.fe.open().ok);
    probe(r);
    const lines = formatMessageLog(r.fe.messages).split("\n");
    const enables = lines.flatMap((l, i) =>
      l.startsWith("-> VHOST_USER_SET_VRING_ENABLE") ? [i] : []
    );
    assert.equal(
      enables.length,
      6,
      "two feature-word writes and the restore at start, 2 vrings each",
    );
    for (const i of enables) {
      assert.equal(lines[i + 1], "-> VHOST_USER_GET_FEATURES");
      assert.match(lines[i + 2] ?? "", /^<- VHOST_USER_GET_FEATURES 0x/);
    }
    assert.doesNotMatch(lines.join("\n"), /flags=0x9/);
    assert.ok(r.be.devices[0]?.running);
    await t.assertSnapshot(lines.join("\n"), { serializer: String });
  });
  await t.step("REPLY_ACK only: NEED_REPLY on enables and the memory table, acks of 0", () => {
    const r = rig({ protocol: protocolMask(VHOST_USER_PROTOCOL_F_REPLY_ACK) });
    assert.ok(r.be.start().ok);
    assert.ok(r.fe.open().ok);
    probe(r);
    const lines = formatMessageLog(r.fe.messages).split("\n");
    const needReply = lines.filter((l) => l.includes("flags=0x9"));
    assert.deepEqual(
      [...new Set(needReply.map((l) => l.split(" ")[1]))],
      ["VHOST_USER_SET_VRING_ENABLE", "VHOST_USER_SET_MEM_TABLE"],
    );
    for (let i = 0; i < lines.length; i++) {
      if ((lines[i] ?? "").includes("flags=0x9")) {
        assert.match(lines[i + 1] ?? "", /^<- VHOST_USER_\w+ ack=0$/);
      }
    }
    assert.doesNotMatch(lines.join("\n"), /GET_QUEUE_NUM|SET_BACKEND_REQ_FD|STATUS/);
  });
});

Deno.test("queues= above what the back-end allows fails the netdev", () => {
  const r = rig({ queuePairs: 2, maxQueuePairs: 1 });
  assert.ok(r.be.start().ok);
  const o = r.fe.open();
  assert.ok(!o.ok);
  assert.deepEqual(describeFrontendError(o.error), [
    "you are asking more queues than supported: 1",
  ]);
});

Deno.test("Two queue pairs without MQ acked: pair 1 is disabled and never started", () => {
  const r = rig({ queuePairs: 2, maxQueuePairs: 2 });
  assert.ok(r.be.start().ok);
  assert.ok(r.fe.open().ok);
  probe(r);
  const log = formatMessageLog(r.fe.messages);
  assert.match(log, /-> VHOST_USER_SET_VRING_ENABLE flags=0x9 idx=2 enable=0/);
  assert.doesNotMatch(log, /SET_VRING_ADDR idx=2/);
  assert.equal((log.match(/-> VHOST_USER_GET_QUEUE_NUM/g) ?? []).length, 1, "per-device: once");
  assert.equal((log.match(/-> VHOST_USER_SET_OWNER/g) ?? []).length, 1, "per-device: once");
  assert.equal(
    (log.match(/-> VHOST_USER_GET_PROTOCOL_FEATURES/g) ?? []).length,
    2,
    "per vhost_dev",
  );
});

Deno.test("Guest RAM without an fd: QEMU cannot build SET_MEM_TABLE", () => {
  const r = rig({ guest: new TestGuest({ features: ACKED, fd: false, shared: false }) });
  assert.ok(r.be.start().ok);
  assert.ok(r.fe.open().ok);
  assert.ok(r.fe.guestFeaturesWritten(ACKED).ok);
  const s = r.fe.start(ACKED);
  assert.ok(!s.ok);
  assert.deepEqual(describeFrontendError(s.error), [
    "Failed initializing vhost-user memory map, consider using -object memory-backend-file share=on",
    "vhost_set_mem_table failed: Invalid argument (22)",
    "unable to start vhost net: 22: falling back on userspace virtio",
  ]);
  assert.equal(r.fe.state, "failed");
  assert.doesNotMatch(formatMessageLog(r.fe.messages), /SET_MEM_TABLE/);
  assert.ok(!r.be.devices[0]?.running);
});

Deno.test("share=off: the back-end maps the file and never sees the guest's writes", () => {
  const r = rig({ guest: new TestGuest({ features: ACKED, shared: false }) });
  assert.ok(r.be.start().ok);
  assert.ok(r.fe.open().ok);
  probe(r);
  const dev = r.be.devices[0];
  assert.ok(dev?.running, "the handshake itself succeeds");
  assert.equal(dev.mem?.shared, false);
  // The guest publishes a TX buffer; the back-end's view of the ring stays empty.
  r.guest.mem.write(0x200000, new Uint8Array(64).fill(0xab));
  r.guest.split(1).addOutbuf(0x200000, 64, 1);
  assert.equal(r.guest.split(1).availIdx, 1);
  const tx = dev.vring(1)?.queue;
  assert.ok(tx !== undefined && tx.layout === "split");
  assert.equal(tx.availCount(), 0);
});

function consumeTx(r: Rig, n: number): void {
  const tx = r.guest.split(1);
  for (let i = 0; i < n; i++) tx.addOutbuf(0x200000 + 64 * i, 64, i + 1);
  const q = r.be.devices[0]?.vring(1)?.queue;
  assert.ok(q !== undefined && q.layout === "split");
  for (let i = 0; i < n; i++) {
    const head = q.pop();
    assert.ok(head >= 0);
    q.addUsed(head, 0);
  }
}

Deno.test("A back-end that dies stops the rings and takes the link down; its return replays everything", async (t) => {
  const r = rig({ qemuServer: false, reconnectMs: 1000 });
  assert.ok(r.be.start().ok);
  assert.ok(r.fe.open().ok);
  probe(r);
  consumeTx(r, 3);
  const before = r.fe.messages.length;
  r.be.unregister(); // the back-end process goes away
  assert.equal(r.fe.state, "disconnected");
  assert.deepEqual(r.guest.linkChanges, [true, false], "carrier on at connect, off at disconnect");
  assert.equal(r.guest.lastAvailIdx(1), 3, "QEMU restores the avail index from used.idx");
  assert.deepEqual(r.fe.log.slice(0, 2), [
    "Failed to set msg fds.",
    "vhost VQ 0 ring restore failed: -22: Invalid argument (22)",
  ]);
  assert.equal(r.fe.messages.length, before, "nothing can be sent on a closed socket");
  assert.ok(r.be.start().ok); // it comes back: QEMU's reconnect timer connects
  assert.equal(r.fe.state, "started", "QEMU replays the handshake and restarts the running guest");
  assert.equal(r.fe.connects, 2);
  assert.deepEqual(r.guest.linkChanges, [true, false, true]);
  const replay = formatMessageLog(r.fe.messages.slice(before));
  assert.match(replay, /-> VHOST_USER_SET_VRING_BASE idx=1 base=3/);
  assert.ok(r.be.devices[0]?.running);
  assert.equal(r.be.connections, 2, "the first connection and the one after its return");
  await t.assertSnapshot(replay, { serializer: String });
});

Deno.test("A QEMU client without reconnect stays down after its back-end died", () => {
  const r = rig();
  assert.ok(r.be.start().ok);
  assert.ok(r.fe.open().ok);
  probe(r);
  r.be.unregister();
  assert.ok(r.be.start().ok);
  assert.equal(r.fe.state, "disconnected");
  assert.equal(r.be.devices.length, 0);
});

Deno.test("A back-end client that drops the connection reconnects to QEMU's socket at once", () => {
  const r = rig({ qemuServer: true });
  assert.ok(r.fe.open().ok);
  assert.ok(r.be.start().ok);
  probe(r);
  consumeTx(r, 2);
  assert.equal(r.be.disconnect(), 1);
  assert.equal(r.fe.state, "started");
  assert.equal(r.be.connections, 2);
  assert.deepEqual(r.guest.linkChanges, [true, false, true]);
  assert.ok(r.be.devices[0]?.running);
  assert.equal(r.be.devices[0]?.vring(1)?.currentBase(), 2);
});

Deno.test("A stopped device reports its bases and the next start resumes from them", () => {
  const r = rig();
  assert.ok(r.be.start().ok);
  assert.ok(r.fe.open().ok);
  probe(r);
  const tx = r.guest.split(1);
  tx.addOutbuf(0x200000, 64, 1);
  tx.addOutbuf(0x200040, 64, 2);
  const q = r.be.devices[0]?.vring(1)?.queue;
  assert.ok(q !== undefined);
  assert.ok(q.pop() >= 0 && q.pop() >= 0, "two chains popped, not yet used");
  assert.ok(r.fe.stop().ok);
  assert.equal(r.guest.lastAvailIdx(1), 2, "GET_VRING_BASE reports last_avail_idx, not used.idx");
  assert.ok(!r.be.devices[0]?.running);
  assert.deepEqual(r.events.slice(-3), [
    "destroy_device vid=0",
    "vring_state_changed 0=0",
    "vring_state_changed 1=0",
  ]);
  assert.ok(r.fe.start(ACKED).ok);
  assert.match(formatMessageLog(r.fe.messages), /SET_VRING_BASE idx=1 base=2/);
});
