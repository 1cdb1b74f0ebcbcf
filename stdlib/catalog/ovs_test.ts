import { deepEqual as assertEquals } from "node:assert/strict";
import { catalogProblems, findClass, schemaProblems } from "./schema.ts";
import { OVS_INTERFACE_TYPES, OVS_TABLE_COLUMNS, OVS_USERSPACE_TYPES } from "./ovs.ts";

Deno.test("the OVS catalogs are well-formed data", () => {
  assertEquals(catalogProblems(OVS_INTERFACE_TYPES), []);
  for (const [table, cols] of Object.entries(OVS_TABLE_COLUMNS)) {
    for (const [name, col] of Object.entries(cols)) {
      const keys = col.keys ?? {};
      const fake = {
        name,
        desc: col.desc,
        status: "modelled" as const,
        style: "ovsdb" as const,
        props: keys,
      };
      assertEquals([table, name, schemaProblems(fake)], [table, name, []]);
    }
  }
});

Deno.test("vhost-user client ports need vhost-server-path; dpdk ports need dpdk-devargs", () => {
  assertEquals(
    findClass(OVS_INTERFACE_TYPES, "dpdkvhostuserclient")?.props["vhost-server-path"]?.required,
    true,
  );
  assertEquals(findClass(OVS_INTERFACE_TYPES, "dpdk")?.props["dpdk-devargs"]?.required, true);
  assertEquals(findClass(OVS_INTERFACE_TYPES, "dpdk")?.props.n_rxq_desc?.default, 2048);
  assertEquals(
    findClass(OVS_INTERFACE_TYPES, "dpdkvhostuserclient")?.props["tx-retries-max"]?.default,
    8,
  );
  assertEquals(findClass(OVS_INTERFACE_TYPES, "")?.name, "system");
});

Deno.test("DPDK port types are exactly the ones that need the netdev datapath", () => {
  for (const t of OVS_USERSPACE_TYPES) {
    assertEquals([t, findClass(OVS_INTERFACE_TYPES, t) !== undefined], [t, true]);
  }
  assertEquals(OVS_USERSPACE_TYPES.includes("system"), false);
  assertEquals(OVS_TABLE_COLUMNS.Bridge?.datapath_type?.value?.values, ["", "system", "netdev"]);
});
