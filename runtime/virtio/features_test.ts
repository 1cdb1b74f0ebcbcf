import assert from "node:assert/strict";
import {
  checkAcceptedFeatures,
  describeFeatureProblem,
  featureByBit,
  featureByName,
  featureMask,
  featureNames,
  FEATURES,
  hasFeature,
  missingDependencies,
  negotiateFeatures,
  parseFeatureNames,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_NOTIFICATION_DATA,
  VIRTIO_F_ORDER_PLATFORM,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_SR_IOV,
  VIRTIO_F_VERSION_1,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_HASH_TUNNEL,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_F_RSS,
  VIRTIO_NET_F_RSS_CONTEXT,
  VIRTIO_NET_F_SPEED_DUPLEX,
  VIRTIO_NET_F_STATUS,
} from "./features.ts";

Deno.test("feature names are the iproute2 vdpa spellings, by bit number", () => {
  const set = featureMask(
    VIRTIO_NET_F_CSUM,
    VIRTIO_NET_F_MAC,
    VIRTIO_NET_F_STATUS,
    VIRTIO_NET_F_CTRL_VQ,
    VIRTIO_NET_F_MQ,
    VIRTIO_F_INDIRECT_DESC,
    VIRTIO_F_EVENT_IDX,
    VIRTIO_F_VERSION_1,
    VIRTIO_F_ACCESS_PLATFORM,
    VIRTIO_F_RING_PACKED,
    VIRTIO_F_IN_ORDER,
    VIRTIO_F_ORDER_PLATFORM,
    VIRTIO_F_SR_IOV,
    VIRTIO_F_NOTIFICATION_DATA,
    VIRTIO_NET_F_SPEED_DUPLEX,
  );
  assert.equal(
    featureNames(set).join(" "),
    "CSUM MAC STATUS CTRL_VQ MQ RING_INDIRECT_DESC RING_EVENT_IDX VERSION_1 ACCESS_PLATFORM " +
      "RING_PACKED IN_ORDER ORDER_PLATFORM SR_IOV NOTIFICATION_DATA SPEED_DUPLEX",
  );
});

Deno.test("feature bits without a name print as bit_N", () => {
  assert.deepEqual(featureNames(featureMask(4, 25, 31, 44, 71)), [
    "bit_4",
    "bit_25",
    "bit_31",
    "bit_44",
    "bit_71",
  ]);
});

Deno.test("feature constants keep the spec bit numbers", () => {
  const expect: [string, number][] = [
    ["VIRTIO_NET_F_CSUM", 0],
    ["VIRTIO_NET_F_MTU", 3],
    ["VIRTIO_NET_F_MRG_RXBUF", 15],
    ["VIRTIO_NET_F_CTRL_MAC_ADDR", 23],
    ["VIRTIO_F_INDIRECT_DESC", 28],
    ["VIRTIO_F_EVENT_IDX", 29],
    ["VIRTIO_F_VERSION_1", 32],
    ["VIRTIO_F_RING_PACKED", 34],
    ["VIRTIO_F_NOTIFICATION_DATA", 38],
    ["VIRTIO_F_RING_RESET", 40],
    ["VIRTIO_NET_F_HASH_REPORT", 57],
    ["VIRTIO_NET_F_RSS", 60],
    ["VIRTIO_NET_F_SPEED_DUPLEX", 63],
    ["VIRTIO_NET_F_RSS_CONTEXT", 64],
    ["VIRTIO_NET_F_IPSEC", 70],
  ];
  for (const [spec, bit] of expect) assert.equal(featureByName(spec)?.bit, bit, spec);
  assert.equal(featureByName("virtio_ring_f_event_idx")?.bit, 29, "Linux alias, any case");
  assert.equal(featureByName("IOMMU_PLATFORM")?.bit, 33, "old name of ACCESS_PLATFORM");
  assert.equal(featureByBit(41)?.name, "ADMIN_VQ", "a shared bit prints its transport meaning");
  assert.equal(featureByName("GUEST_RSC4")?.bit, 41);
  const bits = FEATURES.filter((f) => !f.legacy && f.scope !== "vhost").map((f) => f.bit);
  assert.equal(new Set(bits).size, bits.length, "no two current features share a bit");
});

Deno.test("parseFeatureNames() accepts every spelling and bit_N, and names what it cannot parse", () => {
  const r = parseFeatureNames(["CSUM", "VIRTIO_F_VERSION_1", "ring_packed", "bit_44"]);
  assert.ok(r.ok);
  assert.equal(r.value, featureMask(0, 32, 34, 44));
  const bad = parseFeatureNames(["CSUM", "TURBO"]);
  assert.ok(!bad.ok);
  assert.equal(describeFeatureProblem(bad.error), "unknown feature TURBO");
});

Deno.test("missingDependencies() applies the §5.1.3.1 requirements, including alternatives", () => {
  const only = (set: bigint) => missingDependencies(set).map((p) => describeFeatureProblem(p));
  assert.deepEqual(only(featureMask(VIRTIO_NET_F_GUEST_TSO4)), ["GUEST_TSO4 requires GUEST_CSUM"]);
  assert.deepEqual(only(featureMask(VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_CSUM)), []);
  assert.deepEqual(only(featureMask(VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_GUEST_CSUM)), [
    "GUEST_ECN requires GUEST_TSO4 or GUEST_TSO6",
  ]);
  assert.deepEqual(
    only(featureMask(VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_CSUM)),
    [],
  );
  assert.deepEqual(only(featureMask(VIRTIO_NET_F_MQ, VIRTIO_NET_F_CTRL_RX)), [
    "CTRL_RX requires CTRL_VQ",
    "MQ requires CTRL_VQ",
  ]);
  assert.deepEqual(only(featureMask(VIRTIO_NET_F_HASH_TUNNEL, VIRTIO_NET_F_CTRL_VQ)), [
    "HASH_TUNNEL requires RSS or HASH_REPORT",
  ]);
  assert.deepEqual(only(featureMask(VIRTIO_NET_F_RSS_CONTEXT, VIRTIO_NET_F_RSS)), [
    "RSS requires CTRL_VQ",
    "RSS_CONTEXT requires CTRL_VQ",
  ]);
  assert.deepEqual(missingDependencies(featureMask(57), "should").map(describeFeatureProblem), [
    "HASH_REPORT requires CTRL_VQ",
  ]);
  assert.deepEqual(missingDependencies(featureMask(57)), [], "a SHOULD is not a hard requirement");
});

Deno.test("negotiateFeatures() drops bits whose dependencies did not survive, transitively", () => {
  const offered = featureMask(
    VIRTIO_F_VERSION_1,
    VIRTIO_NET_F_GUEST_CSUM,
    VIRTIO_NET_F_GUEST_TSO4,
    VIRTIO_NET_F_GUEST_ECN,
    VIRTIO_NET_F_CTRL_VQ,
    VIRTIO_NET_F_MQ,
  );
  const driver = offered & ~featureMask(VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_CTRL_VQ);
  const acked = negotiateFeatures(offered, driver);
  assert.equal(
    featureNames(acked).join(" "),
    "VERSION_1",
    "TSO4 falls with CSUM, ECN with TSO4, MQ with CTRL_VQ",
  );
  assert.equal(negotiateFeatures(offered, offered), offered);
  assert.equal(
    negotiateFeatures(featureMask(VIRTIO_NET_F_MAC), featureMask(VIRTIO_NET_F_MQ)),
    0n,
    "never unoffered bits",
  );
});

Deno.test("checkAcceptedFeatures() refuses unoffered bits, broken dependencies and missing required bits", () => {
  const offered = featureMask(
    VIRTIO_F_VERSION_1,
    VIRTIO_F_ACCESS_PLATFORM,
    VIRTIO_NET_F_CSUM,
    VIRTIO_NET_F_HOST_TSO4,
  );
  assert.equal(checkAcceptedFeatures(offered, offered), undefined);
  assert.deepEqual(checkAcceptedFeatures(offered, featureMask(VIRTIO_NET_F_MQ)), {
    kind: "not-offered",
    bits: featureMask(VIRTIO_NET_F_MQ),
  });
  assert.equal(
    checkAcceptedFeatures(offered, featureMask(VIRTIO_NET_F_HOST_TSO4))?.kind,
    "missing-dependency",
  );
  const noPlatform = offered & ~featureMask(VIRTIO_F_ACCESS_PLATFORM);
  const p = checkAcceptedFeatures(offered, noPlatform, featureMask(VIRTIO_F_ACCESS_PLATFORM));
  assert.ok(p);
  assert.equal(describeFeatureProblem(p), "the device requires ACCESS_PLATFORM");
  assert.ok(
    hasFeature(offered, VIRTIO_F_ACCESS_PLATFORM) &&
      !hasFeature(noPlatform, VIRTIO_F_ACCESS_PLATFORM),
  );
});
