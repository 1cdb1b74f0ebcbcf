import { deepEqual as assertEquals } from "node:assert/strict";
import { catalogProblems, findClass } from "./schema.ts";
import { DEFAULT_FORWARD_MODE, FORWARD_MODES, VDEV_DRIVERS } from "./dpdk.ts";

Deno.test("the vdev catalog is well-formed data", () => {
  assertEquals(catalogProblems(VDEV_DRIVERS), []);
});

Deno.test("vhost PMD devargs match rte_eth_vhost.c valid_arguments", () => {
  const v = findClass(VDEV_DRIVERS, "net_vhost");
  assertEquals(
    Object.keys(v?.props ?? {}).filter((k) => v?.props[k]?.removed === undefined).sort(),
    [
      "client",
      "ext-buffer",
      "iface",
      "iommu-support",
      "legacy-ol-flags",
      "linear-buffer",
      "postcopy-support",
      "queues",
      "tso",
    ],
  );
  assertEquals(v?.props.iface?.required, true);
  assertEquals(v?.props.queues?.default, 1);
  assertEquals(v?.props.client?.default, 0);
  assertEquals(v?.props["dequeue-zero-copy"]?.removed !== undefined, true);
});

Deno.test("virtio_user devargs and defaults match virtio_user_ethdev.c", () => {
  const u = findClass(VDEV_DRIVERS, "virtio_user");
  assertEquals(u?.name, "net_virtio_user");
  assertEquals(u?.props.path?.required, true);
  assertEquals(u?.props.queue_size?.default, 256);
  assertEquals(u?.props.queues?.default, 1);
  assertEquals(u?.props.mrg_rxbuf?.default, 1);
  assertEquals(u?.props.in_order?.default, 1);
  assertEquals(u?.props.packed_vq?.default, 0);
  assertEquals(u?.props.server?.default, 0);
  assertEquals(u?.props.cq?.default, 0);
});

Deno.test("forwarding engines: io is the default, rxonly never transmits, generators generate", () => {
  assertEquals(DEFAULT_FORWARD_MODE, "io");
  assertEquals(FORWARD_MODES.find((m) => m.name === "rxonly")?.transmits, false);
  assertEquals(FORWARD_MODES.filter((m) => m.generates).map((m) => m.name), ["flowgen", "txonly"]);
  assertEquals(new Set(FORWARD_MODES.map((m) => m.name)).size, FORWARD_MODES.length);
});
