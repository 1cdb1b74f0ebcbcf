import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { didYouMean, editDistance, suggest } from "./suggest.ts";

const MODULES = [
  "vdpa",
  "vdpa_sim",
  "vdpa_sim_net",
  "vdpa_sim_blk",
  "vhost",
  "vhost_net",
  "vhost_vdpa",
  "vhost_iotlb",
  "virtio_vdpa",
  "mlx5_vdpa",
];
const DEVICES = ["virtio-net-pci", "virtio-blk-pci", "virtio-iommu-pci", "vfio-pci", "intel-iommu"];

Deno.test("editDistance() is the restricted Damerau–Levenshtein distance", async (t) => {
  const cases: [string, string, number][] = [
    ["", "", 0],
    ["", "abc", 3],
    ["abc", "", 3],
    ["vdpa", "vdpa", 0],
    ["vpda", "vdpa", 1], // one swap of adjacent characters
    ["vdpasim_net", "vdpa_sim_net", 1], // one insertion
    ["vhost_vpda", "vhost_vdpa", 1],
    ["vitrio", "virtio", 1],
    ["kitten", "sitting", 3],
    ["ca", "abc", 3], // restricted: a swapped pair is not edited again (unrestricted gives 2)
    ["ab", "ba", 1],
    ["abcd", "badc", 2],
  ];
  for (const [a, b, d] of cases) {
    await t.step(`${JSON.stringify(a)} ↔ ${JSON.stringify(b)} = ${d}`, () => {
      assertEquals(editDistance(a, b), d);
      assertEquals(editDistance(b, a), d);
    });
  }
});

Deno.test("suggest() fixes the project's real confusions", async (t) => {
  await t.step("vdpasim_net → vdpa_sim_net", () => {
    assertEquals(suggest("vdpasim_net", MODULES)[0], "vdpa_sim_net");
  });
  await t.step("vdpa_sim_net ← vdpasim_net, the other way round", () => {
    assertEquals(suggest("vdpa_sim_net", ["vdpasim_net", "vdpasim_blk"])[0], "vdpasim_net");
  });
  await t.step("vhost_vpda → vhost_vdpa", () => {
    assertEquals(suggest("vhost_vpda", MODULES)[0], "vhost_vdpa");
  });
  await t.step("vitrio-net-pci → virtio-net-pci", () => {
    assertEquals(suggest("vitrio-net-pci", DEVICES)[0], "virtio-net-pci");
  });
  await t.step("case does not matter", () => {
    assertEquals(suggest("VHOST_VDPA", MODULES)[0], "vhost_vdpa");
  });
  await t.step("vhost-vdpa → vhost_vdpa only when `-` and `_` are alike", () => {
    assertEquals(suggest("vhost-vdpa", MODULES, { dashUnderscore: true })[0], "vhost_vdpa");
    assertEquals(suggest("vhost-vdpa-net", MODULES), []);
    assertEquals(suggest("virtio_net_pci", DEVICES, { dashUnderscore: true })[0], "virtio-net-pci");
  });
});

Deno.test("suggest() ranks by distance and keeps only close candidates", async (t) => {
  await t.step("best first, ties in candidate order", () => {
    // distances 1, 3 and 4 (the most a 12-character name allows)
    assertEquals(suggest("vdpa_sim_nte", MODULES), ["vdpa_sim_net", "vdpa_sim_blk", "vdpa_sim"]);
    assertEquals(suggest("vhost_ne", MODULES), ["vhost_net"]);
  });
  await t.step("nothing close, nothing suggested", () => {
    assertEquals(suggest("e1000e", DEVICES), []);
    assertEquals(suggest("tap", MODULES), []);
  });
  await t.step("the threshold grows with the length", () => {
    assertEquals(suggest("x", ["y"]), ["y"]); // always one edit allowed
    assertEquals(suggest("ab", ["xy"]), []);
    assertEquals(suggest("vhost_iotbl", MODULES), ["vhost_iotlb"]);
  });
  await t.step("limit and duplicates", () => {
    assertEquals(suggest("vdpa_sim_x", MODULES, { limit: 1 }), ["vdpa_sim"]);
    assertEquals(suggest("vdpa", ["vdpa", "vdpa", "VDPA"]), ["vdpa", "VDPA"]);
  });
  await t.step("a stricter ratio suggests less", () => {
    assertEquals(suggest("vdpa_sim_nte", MODULES, { ratio: 0.1 }), ["vdpa_sim_net"]);
    assertEquals(suggest("vdpa_simnte", MODULES, { ratio: 0.1 }), []);
  });
  await t.step("didYouMean() words the best one", () => {
    assertEquals(didYouMean("vhost_vpda", MODULES), "did you mean `vhost_vdpa`?");
    assertEquals(didYouMean("zzz", MODULES), undefined);
  });
});
