import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeMessage,
  describeProtocolError,
  encodeMessage,
  protocolFeatureNames,
  requestSpec,
  summarizePayload,
  VHOST_USER_GET_FEATURES,
  VHOST_USER_GET_VRING_BASE,
  VHOST_USER_REQUESTS,
  VHOST_USER_SET_MEM_TABLE,
  VHOST_USER_SET_VRING_ADDR,
  VHOST_USER_SET_VRING_CALL,
  VHOST_USER_SET_VRING_ENABLE,
  VHOST_USER_SET_VRING_NUM,
  VHOST_USER_VERSION,
  type VhostUserPayload,
} from "./protocol.ts";

Deno.test("The request table follows vhost-user.rst: ids 1..43 in order, names, reply rules", () => {
  assert.deepEqual(
    VHOST_USER_REQUESTS.map((r) => r.id),
    Array.from({ length: 43 }, (_, i) => i + 1),
  );
  assert.equal(requestSpec(5)?.name, "VHOST_USER_SET_MEM_TABLE");
  assert.equal(requestSpec(21)?.name, "VHOST_USER_SET_BACKEND_REQ_FD");
  const always = VHOST_USER_REQUESTS.filter((r) => r.alwaysReplies).map((r) => r.id);
  for (const id of [1, 11, 15, 17, 36, 40]) {
    assert.ok(always.includes(id), `request ${id} always replies`);
  }
  for (const id of [2, 3, 5, 8, 9, 10, 12, 13, 16, 18]) {
    assert.ok(!always.includes(id), `request ${id}`);
  }
  assert.equal(requestSpec(VHOST_USER_SET_MEM_TABLE)?.fds, "regions");
  assert.equal(requestSpec(VHOST_USER_SET_VRING_CALL)?.fds, "vring");
});

Deno.test("Payload sizes are the protocol's: state 8, addr 40, region 32 each, iotlb 32", () => {
  const hdr = 12;
  const sizes: [number, VhostUserPayload, number][] = [
    [VHOST_USER_GET_FEATURES, { kind: "none" }, 0],
    [VHOST_USER_SET_VRING_NUM, { kind: "state", index: 1, num: 256 }, 8],
    [VHOST_USER_SET_VRING_ADDR, {
      kind: "addr",
      index: 0,
      flags: 0,
      desc: 1,
      used: 2,
      avail: 3,
      log: 0,
    }, 40],
    [VHOST_USER_SET_MEM_TABLE, {
      kind: "memory",
      regions: [{ guestPhysAddr: 0, memorySize: 4096, userspaceAddr: 8192, mmapOffset: 0 }],
    }, 8 + 32],
    [
      22,
      { kind: "iotlb", msg: { type: 2, iova: 0x1000, size: 0x1000, uaddr: 0x7f00, perm: 3 } },
      32,
    ],
  ];
  for (const [request, payload, size] of sizes) {
    const b = encodeMessage({ request, flags: VHOST_USER_VERSION, payload });
    assert.equal(b.length, hdr + size, `request ${request}`);
    assert.equal(new DataView(b.buffer).getUint32(8, true), size, "the header says the size");
  }
});

const addr = fc.integer({ min: 0, max: 2 ** 53 - 1 });
const region = fc.record({
  guestPhysAddr: addr,
  memorySize: addr,
  userspaceAddr: addr,
  mmapOffset: addr,
});

Deno.test("Every request payload survives encode → decode (property)", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.record({ kind: fc.constant("u64" as const), value: fc.bigUintN(64) })
          .map((p): [number, VhostUserPayload] => [VHOST_USER_SET_VRING_CALL, p]),
        fc.record({
          kind: fc.constant("state" as const),
          index: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
          num: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        }).map((p): [number, VhostUserPayload] => [VHOST_USER_SET_VRING_ENABLE, p]),
        fc.record({
          kind: fc.constant("addr" as const),
          index: fc.integer({ min: 0, max: 255 }),
          flags: fc.integer({ min: 0, max: 1 }),
          desc: addr,
          used: addr,
          avail: addr,
          log: addr,
        }).map((p): [number, VhostUserPayload] => [VHOST_USER_SET_VRING_ADDR, p]),
        fc.array(region, { maxLength: 8 }).map((regions): [number, VhostUserPayload] => [
          VHOST_USER_SET_MEM_TABLE,
          { kind: "memory", regions },
        ]),
      ),
      ([request, payload]) => {
        const d = decodeMessage(
          encodeMessage({ request, flags: VHOST_USER_VERSION, payload }),
          "request",
        );
        assert.ok(d.ok);
        assert.deepEqual(d.value.payload, payload);
      },
    ),
  );
});

Deno.test("Decoding never throws on arbitrary bytes (property)", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 400 }),
      fc.constantFrom("request", "reply", "backend-request" as const),
      (b, side) => {
        const r = decodeMessage(b, side as "request" | "reply" | "backend-request");
        if (!r.ok) assert.equal(typeof describeProtocolError(r.error), "string");
      },
    ),
  );
});

Deno.test("Malformed messages are protocol errors naming what is wrong", async (t) => {
  const good = encodeMessage({
    request: VHOST_USER_SET_VRING_NUM,
    flags: 1,
    payload: { kind: "state", index: 0, num: 256 },
  });
  await t.step("a header cut short", () => {
    const r = decodeMessage(good.subarray(0, 7), "request");
    assert.ok(!r.ok && r.error.kind === "short-header");
  });
  await t.step("version 2", () => {
    const b = good.slice();
    new DataView(b.buffer).setUint32(4, 2, true);
    const r = decodeMessage(b, "request");
    assert.ok(!r.ok && r.error.kind === "bad-version");
    assert.equal(
      describeProtocolError(r.error),
      "VHOST_USER_SET_VRING_NUM has version 2, expected 1",
    );
  });
  await t.step("a size that lies about the payload", () => {
    const b = good.slice();
    new DataView(b.buffer).setUint32(8, 4, true);
    const r = decodeMessage(b, "request");
    assert.ok(!r.ok && r.error.kind === "bad-size");
    assert.equal(
      describeProtocolError(r.error),
      "VHOST_USER_SET_VRING_NUM payload is 4 bytes, expected 8",
    );
  });
  await t.step("a payload that did not all arrive", () => {
    const r = decodeMessage(good.subarray(0, 16), "request");
    assert.ok(!r.ok && r.error.kind === "truncated");
  });
  await t.step("nine memory regions", () => {
    const regions = Array.from(
      { length: 8 },
      (_, i) => ({
        guestPhysAddr: i << 20,
        memorySize: 4096,
        userspaceAddr: i << 21,
        mmapOffset: 0,
      }),
    );
    const b = encodeMessage({
      request: VHOST_USER_SET_MEM_TABLE,
      flags: 1,
      payload: { kind: "memory", regions },
    });
    new DataView(b.buffer).setUint32(12, 9, true);
    const r = decodeMessage(b, "request");
    assert.ok(!r.ok && r.error.kind === "too-many-regions");
  });
  await t.step("a reply to a request without one is a u64 ack", () => {
    const ack = encodeMessage({
      request: VHOST_USER_SET_VRING_NUM,
      flags: 5,
      payload: { kind: "u64", value: 0n },
    });
    const r = decodeMessage(ack, "reply");
    assert.ok(r.ok && r.value.payload.kind === "u64");
  });
});

Deno.test("Summaries print what a reader of the trace needs", () => {
  assert.equal(
    summarizePayload(VHOST_USER_SET_VRING_ADDR, {
      kind: "addr",
      index: 1,
      flags: 0,
      desc: 0x7f0000010000,
      used: 0x7f0000012000,
      avail: 0x7f0000011000,
      log: 0,
    }),
    "idx=1 desc=0x7f0000010000 used=0x7f0000012000 avail=0x7f0000011000",
  );
  assert.equal(
    summarizePayload(VHOST_USER_SET_VRING_CALL, { kind: "u64", value: 0x101n }),
    "idx=1 nofd",
  );
  assert.equal(
    summarizePayload(VHOST_USER_GET_VRING_BASE, { kind: "state", index: 1, num: 7 }, {
      reply: true,
    }),
    "idx=1 base=7",
  );
  assert.equal(
    summarizePayload(VHOST_USER_SET_VRING_NUM, { kind: "u64", value: 1n }, { reply: true }),
    "ack=1 (failure)",
  );
  assert.deepEqual(protocolFeatureNames(0x10cbfn), [
    "MQ",
    "LOG_SHMFD",
    "RARP",
    "REPLY_ACK",
    "NET_MTU",
    "BACKEND_REQ",
    "CRYPTO_SESSION",
    "BACKEND_SEND_FD",
    "HOST_NOTIFIER",
    "STATUS",
  ]);
});
