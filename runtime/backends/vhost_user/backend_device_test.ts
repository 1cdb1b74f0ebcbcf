import assert from "node:assert/strict";
import { type BackendDriver, VhostUserBackendDevice } from "./backend_device.ts";
import { EventFd, MemFd, type VhostUserFd } from "./fd.ts";
import {
  decodeMessage,
  encodeMessage,
  VHOST_USER_GET_FEATURES,
  VHOST_USER_GET_VRING_BASE,
  VHOST_USER_NEED_REPLY_MASK,
  VHOST_USER_SET_FEATURES,
  VHOST_USER_SET_MEM_TABLE,
  VHOST_USER_SET_OWNER,
  VHOST_USER_SET_VRING_ADDR,
  VHOST_USER_SET_VRING_BASE,
  VHOST_USER_SET_VRING_CALL,
  VHOST_USER_SET_VRING_ENABLE,
  VHOST_USER_SET_VRING_KICK,
  VHOST_USER_SET_VRING_NUM,
  VHOST_USER_VERSION,
  type VhostUserPayload,
} from "./protocol.ts";
import { rteVhostFeatures } from "./rte_vhost_features.ts";
import { TEST_HVA_BASE, TestGuest } from "./testdata/test_guest.ts";

const DPDK = rteVhostFeatures({ iommuSupport: false, postcopySupport: false, disable: 0n });

function device(): VhostUserBackendDevice {
  const driver: BackendDriver = {
    path: "/tmp/vu",
    features: DPDK.features,
    protocolFeatures: DPDK.protocolFeatures,
    maxQueuePairs: 1,
    ops: {},
  };
  return new VhostUserBackendDevice(driver, 7);
}

function send(
  dev: VhostUserBackendDevice,
  request: number,
  payload: VhostUserPayload,
  o: { fds?: VhostUserFd[]; needReply?: boolean } = {},
) {
  const out = dev.receive(
    encodeMessage({
      request,
      flags: VHOST_USER_VERSION | (o.needReply ? VHOST_USER_NEED_REPLY_MASK : 0),
      payload,
    }),
    o.fds ?? [],
  );
  return {
    close: out.close,
    replies: out.replies.map((r) => {
      const d = decodeMessage(r.bytes, "reply");
      assert.ok(d.ok);
      return d.value;
    }),
  };
}

Deno.test("rte_vhost answers only what needs an answer, with flags 0x5", () => {
  const dev = device();
  const f = send(dev, VHOST_USER_GET_FEATURES, { kind: "none" });
  assert.equal(f.replies.length, 1);
  assert.equal(f.replies[0]?.flags, 0x5);
  assert.equal(send(dev, VHOST_USER_SET_OWNER, { kind: "none" }).replies.length, 0);
  const acked = send(dev, VHOST_USER_SET_OWNER, { kind: "none" }, { needReply: true });
  assert.deepEqual(acked.replies.map((r) => r.payload), [{ kind: "u64", value: 0n }]);
});

Deno.test("A failed request is nacked when it asked, and closes the connection when it did not", async (t) => {
  await t.step("features the back-end never offered", () => {
    const dev = device();
    const nack = send(dev, VHOST_USER_SET_FEATURES, { kind: "u64", value: 1n << 5n }, {
      needReply: true,
    });
    assert.deepEqual(nack.replies.map((r) => r.payload), [{ kind: "u64", value: 1n }]);
    assert.equal(nack.close, false);
    assert.ok(dev.log.includes("received invalid negotiated features."));
    const closed = send(dev, VHOST_USER_SET_FEATURES, { kind: "u64", value: 1n << 5n });
    assert.equal(closed.close, true);
    assert.ok(dev.log.includes("vhost message handling failed."));
  });
  await t.step("a split ring size that is not a power of 2", () => {
    const dev = device();
    assert.equal(
      send(dev, VHOST_USER_SET_VRING_NUM, { kind: "state", index: 0, num: 300 }).close,
      true,
    );
    assert.ok(dev.log.includes("invalid virtqueue size 300"));
  });
  await t.step("a ring larger than 32768", () => {
    const dev = device();
    assert.equal(
      send(dev, VHOST_USER_SET_VRING_NUM, { kind: "state", index: 0, num: 65536 }).close,
      true,
    );
  });
  await t.step("a vring index rte_vhost cannot hold", () => {
    const dev = device();
    assert.equal(
      send(dev, VHOST_USER_SET_VRING_NUM, { kind: "state", index: 256, num: 256 }).close,
      true,
    );
    assert.ok(dev.log.includes("invalid vring index: 256"));
  });
  await t.step("ring addresses before any memory table", () => {
    const dev = device();
    const r = send(dev, VHOST_USER_SET_VRING_ADDR, {
      kind: "addr",
      index: 0,
      flags: 0,
      desc: 0,
      used: 0,
      avail: 0,
      log: 0,
    });
    assert.equal(r.close, true);
  });
  await t.step("a kick without its fd", () => {
    const dev = device();
    assert.equal(send(dev, VHOST_USER_SET_VRING_KICK, { kind: "u64", value: 0n }).close, true);
    assert.ok(dev.log.includes("expect 1 FDs for request VHOST_USER_SET_VRING_KICK, received 0"));
  });
  await t.step("an fd on a request that takes none", () => {
    const dev = device();
    assert.equal(
      send(dev, VHOST_USER_SET_OWNER, { kind: "none" }, { fds: [new EventFd("x")] }).close,
      true,
    );
  });
  await t.step("a memory table whose fd is an eventfd", () => {
    const dev = device();
    const r = send(dev, VHOST_USER_SET_MEM_TABLE, {
      kind: "memory",
      regions: [{
        guestPhysAddr: 0,
        memorySize: 4096,
        userspaceAddr: TEST_HVA_BASE,
        mmapOffset: 0,
      }],
    }, { fds: [new EventFd("not memory")] });
    assert.equal(r.close, true);
    assert.ok(dev.log.some((l) => l.startsWith("failed to mmap region 0")));
  });
  await t.step("a region beyond the end of its file", () => {
    const dev = device();
    const g = new TestGuest({ ramSize: 4 << 20 });
    const r = send(dev, VHOST_USER_SET_MEM_TABLE, {
      kind: "memory",
      regions: [{
        guestPhysAddr: 0,
        memorySize: 8 << 20,
        userspaceAddr: TEST_HVA_BASE,
        mmapOffset: 0,
      }],
    }, { fds: [g.memfd as MemFd] });
    assert.equal(r.close, true);
  });
  await t.step("bytes that are not a message", () => {
    const dev = device();
    assert.equal(dev.receive(new Uint8Array([1, 2, 3]), []).close, true);
  });
  await t.step("a request rte_vhost has no handler for", () => {
    const dev = device();
    const r = dev.receive(encodeMessage({ request: 99, flags: 1, payload: { kind: "none" } }), []);
    assert.equal(r.close, true);
    assert.ok(dev.log.includes("vhost message (req: 99) was not handled."));
  });
});

Deno.test("A ring becomes ready only with memory, addresses, both fds and enable", () => {
  const g = new TestGuest();
  const dev = device();
  const ring = g.ring(1);
  assert.ok(ring !== undefined);
  const steps: [number, VhostUserPayload, VhostUserFd[]][] = [
    [VHOST_USER_SET_FEATURES, { kind: "u64", value: (1n << 32n) | (1n << 30n) }, []],
    [VHOST_USER_SET_MEM_TABLE, {
      kind: "memory",
      regions: [{
        guestPhysAddr: 0,
        memorySize: g.region.size,
        userspaceAddr: TEST_HVA_BASE,
        mmapOffset: 0,
      }],
    }, [g.memfd as MemFd]],
    [VHOST_USER_SET_VRING_NUM, { kind: "state", index: 1, num: 256 }, []],
    [VHOST_USER_SET_VRING_BASE, { kind: "state", index: 1, num: 0 }, []],
    [VHOST_USER_SET_VRING_ADDR, {
      kind: "addr",
      index: 1,
      flags: 0,
      desc: TEST_HVA_BASE + ring.desc,
      used: TEST_HVA_BASE + ring.used,
      avail: TEST_HVA_BASE + ring.avail,
      log: 0,
    }, []],
    [VHOST_USER_SET_VRING_KICK, { kind: "u64", value: 1n }, [g.kicks[1] as EventFd]],
    [VHOST_USER_SET_VRING_CALL, { kind: "u64", value: 0x101n }, []],
  ];
  for (const [req, p, fds] of steps) {
    assert.equal(send(dev, req, p, { fds }).close, false, `request ${req}`);
    assert.equal(dev.vring(1)?.ready ?? false, false, "not enabled yet: not ready");
  }
  assert.ok(dev.vring(1)?.queue !== undefined, "the kick started the ring: addresses translated");
  send(dev, VHOST_USER_SET_VRING_ENABLE, { kind: "state", index: 1, num: 1 });
  assert.equal(dev.vring(1)?.ready, true, "a NOFD call fd counts: the ring is polled");
  const base = send(dev, VHOST_USER_GET_VRING_BASE, { kind: "state", index: 1, num: 0 });
  assert.deepEqual(base.replies[0]?.payload, { kind: "state", index: 1, num: 0 });
  assert.equal(dev.vring(1)?.ready, false);
  assert.equal(dev.vring(1)?.queue, undefined, "GET_VRING_BASE stops the ring");
});
