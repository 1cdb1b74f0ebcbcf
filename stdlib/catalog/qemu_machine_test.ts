import { deepEqual as assertEquals } from "node:assert/strict";
import { schemaProblems } from "./schema.ts";
import {
  ACCEL_SCHEMA,
  compatApplies,
  DEFAULT_RAM_SIZE,
  MACHINE_COMPAT,
  MACHINE_SCHEMA,
  machineTypeNames,
  MEMORY_SCHEMA,
  NAME_SCHEMA,
  NUMA_DIST_SCHEMA,
  NUMA_NODE_SCHEMA,
  parseMachineType,
  SMP_SCHEMA,
} from "./qemu_machine.ts";

Deno.test("the machine-level schemas are well-formed data", () => {
  for (
    const s of [
      MACHINE_SCHEMA,
      ACCEL_SCHEMA,
      MEMORY_SCHEMA,
      SMP_SCHEMA,
      NUMA_NODE_SCHEMA,
      NUMA_DIST_SCHEMA,
      NAME_SCHEMA,
    ]
  ) {
    assertEquals([s.name, schemaProblems(s)], [s.name, []]);
  }
});

Deno.test("parseMachineType() knows QEMU 10.2's machines and nothing removed", async (t) => {
  await t.step("unversioned names are the newest versions", () => {
    assertEquals(parseMachineType("q35")?.canonical, "pc-q35-10.2");
    assertEquals(parseMachineType("pc")?.canonical, "pc-i440fx-10.2");
    assertEquals(parseMachineType("pc")?.family, "pc");
  });
  await t.step("versioned names parse with their version", () => {
    assertEquals(parseMachineType("pc-q35-8.2")?.version, [8, 2]);
    assertEquals(parseMachineType("pc-i440fx-9.1")?.family, "pc");
  });
  await t.step("old versions are deprecated, removed ones and made-up ones are unknown", () => {
    assertEquals(parseMachineType("pc-q35-5.1")?.deprecated, true);
    assertEquals(parseMachineType("pc-q35-9.2")?.deprecated, false);
    assertEquals(parseMachineType("pc-q35-5.0"), undefined);
    assertEquals(parseMachineType("pc-q35-8.3"), undefined);
    assertEquals(parseMachineType("pc-q35-10.3"), undefined);
    assertEquals(parseMachineType("q36"), undefined);
    assertEquals(parseMachineType("virt"), undefined);
  });
  await t.step("every listed name parses", () => {
    for (const n of machineTypeNames()) {
      assertEquals([n, parseMachineType(n) !== undefined], [n, true]);
    }
  });
});

Deno.test("machine compat: queue_reset off up to 7.1, vectors=3 up to 5.2", () => {
  const qr = MACHINE_COMPAT.find((c) => c.prop === "queue_reset");
  const vec = MACHINE_COMPAT.find((c) => c.prop === "vectors");
  if (!qr || !vec) throw new Error("compat entries missing");
  assertEquals(compatApplies(qr, [7, 1]), true);
  assertEquals(compatApplies(qr, [7, 2]), false);
  assertEquals(compatApplies(vec, [5, 2]), true);
  assertEquals(compatApplies(vec, [6, 0]), false);
  assertEquals(compatApplies(vec, undefined), false);
});

Deno.test("-m defaults to 128 MiB and -smp to one vCPU (hw/i386/pc.c, machine-smp.c)", () => {
  assertEquals(DEFAULT_RAM_SIZE, 128 * 1024 * 1024);
  assertEquals(MEMORY_SCHEMA.props.size?.default, DEFAULT_RAM_SIZE);
  assertEquals(SMP_SCHEMA.props.cpus?.default, 1);
  assertEquals(MACHINE_SCHEMA.props["kernel-irqchip"]?.values, ["on", "off", "split"]);
  assertEquals(NUMA_NODE_SCHEMA.props.mem?.removed !== undefined, true);
});
