import { deepEqual as assertEquals } from "node:assert/strict";
import { catalogProblems, findClass } from "./schema.ts";
import { MODELLED_NETDEVS, NETDEV_TYPES } from "./qemu_netdev.ts";

function prop(type: string, key: string) {
  const p = findClass(NETDEV_TYPES, type)?.props[key];
  if (!p) throw new Error(`${type}.${key} is not catalogued`);
  return p;
}

Deno.test("the netdev catalog is well-formed data", () => {
  assertEquals(catalogProblems(NETDEV_TYPES), []);
});

Deno.test("tap defaults match qapi/net.json and net/tap.c", () => {
  assertEquals(prop("tap", "vhost").default, false);
  assertEquals(prop("tap", "queues").default, 1);
  assertEquals(prop("tap", "queues").width, 32);
  assertEquals(prop("tap", "script").default, "/etc/qemu-ifup");
  assertEquals(prop("tap", "downscript").default, "/etc/qemu-ifdown");
  assertEquals(prop("tap", "br").default, "br0");
  assertEquals(prop("tap", "poll-us").default, 0);
  assertEquals(prop("tap", "vhostforce").deprecated !== undefined, true);
  assertEquals(prop("tap", "id").required, true);
});

Deno.test("vhost-user needs a chardev; vhost-vdpa has no default device", () => {
  assertEquals(prop("vhost-user", "chardev").required, true);
  assertEquals(prop("vhost-user", "chardev").refKind, "chardev");
  assertEquals(prop("vhost-user", "queues").default, 1);
  // net/vhost-vdpa.c: neither is required alone (one of the two is), and neither has a default.
  assertEquals(prop("vhost-vdpa", "vhostdev").default, undefined);
  assertEquals(prop("vhost-vdpa", "vhostdev").required, undefined);
  assertEquals(prop("vhost-vdpa", "x-svq").default, false);
});

Deno.test("the four modelled backends are modelled; the rest of QEMU's are not", () => {
  for (const name of MODELLED_NETDEVS) {
    assertEquals(findClass(NETDEV_TYPES, name)?.status, "modelled");
  }
  for (const name of ["socket", "stream", "dgram", "l2tpv3", "vde", "bridge", "hubport"]) {
    assertEquals([name, findClass(NETDEV_TYPES, name)?.status], [name, "unmodelled"]);
  }
});
