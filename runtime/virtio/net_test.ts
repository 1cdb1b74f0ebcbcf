import assert from "node:assert/strict";
import {
  featureMask,
  VIRTIO_F_VERSION_1,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO,
  VIRTIO_NET_F_HASH_REPORT,
  VIRTIO_NET_F_HASH_TUNNEL,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO,
  VIRTIO_NET_F_IPSEC,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_OUT_NET_HEADER,
  VIRTIO_NET_F_RSS,
  VIRTIO_NET_F_SPEED_DUPLEX,
  VIRTIO_NET_F_STATUS,
} from "./features.ts";
import {
  checkNetConfig,
  decodeNetConfig,
  DUPLEX_FULL,
  encodeNetConfig,
  formatMac,
  netConfigSize,
  parseMac,
  VIRTIO_NET_S_LINK_UP,
} from "./net_config.ts";
import {
  checkTxNetHdr,
  decodeNetHdr,
  describeNetHdrProblem,
  encodeNetHdr,
  netHdrSize,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_UDP_L4,
} from "./net_hdr.ts";
import {
  netQueueCount,
  netQueueIndex,
  netQueueLayout,
  netQueueName,
  netQueueType,
} from "./net_queues.ts";

const V1 = featureMask(VIRTIO_F_VERSION_1);

Deno.test("virtio-net header size follows the negotiated features", () => {
  assert.equal(netHdrSize(0n), 10, "legacy");
  assert.equal(netHdrSize(featureMask(VIRTIO_NET_F_MRG_RXBUF)), 12, "legacy + MRG_RXBUF");
  assert.equal(netHdrSize(V1), 12, "VERSION_1 always has num_buffers");
  assert.equal(netHdrSize(V1 | featureMask(VIRTIO_NET_F_MRG_RXBUF)), 12);
  assert.equal(netHdrSize(V1 | featureMask(VIRTIO_NET_F_HASH_REPORT)), 20);
  assert.equal(netHdrSize(V1 | featureMask(VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO)), 24);
  assert.equal(
    netHdrSize(V1 | featureMask(VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO, VIRTIO_NET_F_HASH_REPORT)),
    24,
  );
  assert.equal(netHdrSize(V1 | featureMask(VIRTIO_NET_F_OUT_NET_HEADER)), 32);
  assert.equal(netHdrSize(V1 | featureMask(VIRTIO_NET_F_IPSEC)), 32);
});

Deno.test("virtio-net header fields sit at their spec offsets, little-endian", () => {
  const buf = new Uint8Array(40).fill(0xee);
  assert.ok(
    encodeNetHdr(
      {
        flags: 1,
        gsoType: VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
        hdrLen: 0x0102,
        gsoSize: 0x0304,
        csumStart: 0x0506,
        csumOffset: 0x0708,
        numBuffers: 0x090a,
        hashValue: 0x0b0c0d0e,
        hashReport: 0x0f10,
        outerThOffset: 0x1112,
        innerNhOffset: 0x1314,
        outerNhOffset: 0x1516,
      },
      buf,
      4,
      32,
    ),
  );
  assert.deepEqual(
    Array.from(buf.subarray(0, 4)),
    [0xee, 0xee, 0xee, 0xee],
    "bytes before the offset untouched",
  );
  assert.deepEqual(Array.from(buf.subarray(4, 30)), [
    0x01,
    0x81,
    0x02,
    0x01,
    0x04,
    0x03,
    0x06,
    0x05,
    0x08,
    0x07,
    0x0a,
    0x09,
    0x0e,
    0x0d,
    0x0c,
    0x0b,
    0x10,
    0x0f,
    0x00,
    0x00,
    0x12,
    0x11,
    0x14,
    0x13,
    0x16,
    0x15,
  ]);
  assert.deepEqual(Array.from(buf.subarray(30, 36)), [0, 0, 0, 0, 0, 0], "reserved bytes are zero");
  assert.equal(buf[36], 0xee, "nothing past the header");
});

Deno.test("virtio-net header round-trips in every size and reads absent fields as 0", () => {
  const h = {
    flags: 1,
    gsoType: 1,
    hdrLen: 54,
    gsoSize: 1448,
    csumStart: 34,
    csumOffset: 16,
    numBuffers: 3,
  };
  for (const size of [10, 12, 20, 24, 32]) {
    const buf = new Uint8Array(size);
    assert.ok(encodeNetHdr({ ...h, hashValue: 7, outerNhOffset: 9 }, buf, 0, size));
    const d = decodeNetHdr(buf, 0, size);
    assert.ok(d.ok);
    assert.equal(d.value.csumOffset, 16);
    assert.equal(d.value.numBuffers, size >= 12 ? 3 : 0, `num_buffers in a ${size}-byte header`);
    assert.equal(d.value.hashValue, size >= 20 ? 7 : 0);
    assert.equal(d.value.outerNhOffset, size >= 32 ? 9 : 0);
  }
  assert.equal(encodeNetHdr(h, new Uint8Array(11), 0, 12), false);
  const short = decodeNetHdr(new Uint8Array(8), 0, 12);
  assert.ok(!short.ok);
  assert.equal(
    describeNetHdrProblem(short.error),
    "virtio-net header needs 12 bytes, buffer has 8",
  );
  assert.ok(!decodeNetHdr(new Uint8Array(16), 0, 14).ok, "14 is not a header size");
});

Deno.test("checkTxNetHdr() refuses offloads that were not negotiated and checksums outside the frame", () => {
  const base = decodeNetHdr(new Uint8Array(12), 0, 12);
  assert.ok(base.ok);
  const plain = base.value;
  assert.equal(checkTxNetHdr(plain, V1, 60), undefined);
  const csum = { ...plain, flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 34, csumOffset: 16 };
  assert.deepEqual(checkTxNetHdr(csum, V1, 60), { kind: "offload-not-negotiated", what: "CSUM" });
  const withCsum = V1 | featureMask(VIRTIO_NET_F_CSUM);
  assert.equal(checkTxNetHdr(csum, withCsum, 52), undefined, "34 + 16 + 2 = 52 fits exactly");
  assert.equal(checkTxNetHdr(csum, withCsum, 51)?.kind, "csum-out-of-frame");
  const tso = { ...csum, gsoType: VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: 1448 };
  assert.deepEqual(checkTxNetHdr(tso, withCsum, 9000), {
    kind: "offload-not-negotiated",
    what: "HOST_TSO4",
  });
  assert.equal(checkTxNetHdr(tso, withCsum | featureMask(VIRTIO_NET_F_HOST_TSO4), 9000), undefined);
  assert.equal(
    checkTxNetHdr({ ...tso, gsoSize: 0 }, withCsum | featureMask(VIRTIO_NET_F_HOST_TSO4), 9000)
      ?.kind,
    "zero-gso-size",
  );
  assert.equal(
    checkTxNetHdr(
      { ...tso, gsoType: VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN },
      withCsum | featureMask(VIRTIO_NET_F_HOST_TSO4),
      9000,
    )?.kind,
    "offload-not-negotiated",
  );
  assert.deepEqual(checkTxNetHdr({ ...tso, gsoType: VIRTIO_NET_HDR_GSO_UDP_L4 }, withCsum, 9000), {
    kind: "offload-not-negotiated",
    what: "HOST_USO",
  });
  assert.equal(checkTxNetHdr({ ...plain, gsoType: 2 }, withCsum, 60)?.kind, "bad-gso-type");
});

Deno.test("virtio-net config space: offsets, size by offered features, round trip", () => {
  const f = featureMask(
    VIRTIO_NET_F_MAC,
    VIRTIO_NET_F_STATUS,
    VIRTIO_NET_F_MQ,
    VIRTIO_NET_F_CTRL_VQ,
    VIRTIO_NET_F_MTU,
    VIRTIO_NET_F_SPEED_DUPLEX,
  );
  const cfg = {
    mac: "52:54:00:ab:cd:ef",
    status: VIRTIO_NET_S_LINK_UP,
    maxVirtqueuePairs: 4,
    mtu: 9000,
    speed: 100000,
    duplex: DUPLEX_FULL,
  };
  const bytes = encodeNetConfig(cfg, f);
  assert.equal(bytes.length, 17, "ends after duplex");
  assert.deepEqual(Array.from(bytes), [
    0x52,
    0x54,
    0x00,
    0xab,
    0xcd,
    0xef, // mac
    0x01,
    0x00, // status
    0x04,
    0x00, // max_virtqueue_pairs
    0x28,
    0x23, // mtu 9000
    0xa0,
    0x86,
    0x01,
    0x00, // speed 100000
    0x01, // duplex
  ]);
  const back = decodeNetConfig(bytes);
  assert.equal(back.mac, cfg.mac);
  assert.equal(back.mtu, 9000);
  assert.equal(back.rssMaxKeySize, 0);
  assert.equal(netConfigSize(0n), 6, "the MAC field always exists");
  assert.equal(netConfigSize(featureMask(VIRTIO_NET_F_STATUS)), 8);
  assert.equal(netConfigSize(featureMask(VIRTIO_NET_F_RSS)), 24);
  assert.equal(netConfigSize(featureMask(VIRTIO_NET_F_HASH_TUNNEL)), 28);
  assert.throws(() => encodeNetConfig({ mac: "nope" }, f), TypeError);
  assert.equal(parseMac("52:54:00:AB:CD:EF")?.[3], 0xab);
  assert.equal(parseMac("52:54:00:ab:cd"), undefined);
  assert.equal(formatMac(new Uint8Array([1, 2, 3, 4, 5, 0xff])), "01:02:03:04:05:ff");
});

Deno.test("checkNetConfig() enforces the device rules of §5.1.4.1", () => {
  const f = featureMask(VIRTIO_NET_F_MQ, VIRTIO_NET_F_MTU, VIRTIO_NET_F_RSS);
  const problems = checkNetConfig({
    mac: "52:54:00:00:00:01",
    maxVirtqueuePairs: 0,
    mtu: 60,
    rssMaxKeySize: 39,
  }, f);
  assert.deepEqual(problems.map((p) => p.field), [
    "maxVirtqueuePairs",
    "mtu",
    "rssMaxKeySize",
    "rssMaxIndirectionTableLength",
  ]);
  assert.deepEqual(
    checkNetConfig({
      mac: "52:54:00:00:00:01",
      maxVirtqueuePairs: 0x8000,
      mtu: 68,
      rssMaxKeySize: 40,
      rssMaxIndirectionTableLength: 128,
    }, f),
    [],
  );
  assert.deepEqual(
    checkNetConfig({ mac: "52:54:00:00:00:01", mtu: 0 }, 0n),
    [],
    "mtu only matters with MTU",
  );
});

Deno.test("virtio-net queue numbering: rx0 tx0 … ctrl", () => {
  const single = netQueueLayout(featureMask(VIRTIO_NET_F_CTRL_VQ), 8);
  assert.deepEqual(single, { pairs: 1, ctrl: true }, "max_virtqueue_pairs ignored without MQ/RSS");
  assert.deepEqual([0, 1, 2, 3].map((i) => netQueueName(i, single)), [
    "rx0",
    "tx0",
    "ctrl",
    undefined,
  ]);
  const mq = netQueueLayout(featureMask(VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_MQ), 4);
  assert.equal(netQueueCount(mq), 9);
  assert.equal(netQueueName(7, mq), "tx3");
  assert.equal(netQueueName(8, mq), "ctrl");
  assert.equal(netQueueIndex("rx2", mq), 4);
  assert.equal(netQueueIndex("tx3", mq), 7);
  assert.equal(netQueueIndex("cvq", mq), 8);
  assert.equal(netQueueIndex("tx4", mq), undefined);
  assert.equal(netQueueIndex("ctrl", netQueueLayout(0n, 1)), undefined);
  assert.deepEqual([0, 1, 8].map((i) => netQueueType(i, mq)), ["rx", "tx", "control_vq"]);
  const rss = netQueueLayout(
    featureMask(
      VIRTIO_NET_F_RSS,
      VIRTIO_NET_F_CTRL_VQ,
      VIRTIO_NET_F_GUEST_CSUM,
      VIRTIO_NET_F_GUEST_TSO4,
    ),
    2,
  );
  assert.equal(rss.pairs, 2, "RSS alone also enables multiple pairs");
});
