import { deepEqual as assertEquals } from "node:assert/strict";
import { findQemuOption, qemuOptionNames } from "./qemu_options.ts";

Deno.test("implied keys match system/vl.c QemuOptsList implied_opt_name", () => {
  const heads: Record<string, string> = {
    netdev: "type",
    device: "driver",
    chardev: "backend",
    object: "qom-type",
    machine: "type",
    numa: "type",
    nic: "type",
    net: "type",
    name: "guest",
    m: "size",
    smp: "cpus",
    accel: "accel",
  };
  for (const [opt, head] of Object.entries(heads)) {
    assertEquals([opt, findQemuOption(opt)?.head], [opt, head]);
  }
});

Deno.test("findQemuOption() takes one or two dashes and -M for -machine", () => {
  assertEquals(findQemuOption("-netdev")?.name, "netdev");
  assertEquals(findQemuOption("--netdev")?.name, "netdev");
  assertEquals(findQemuOption("-M")?.name, "machine");
  assertEquals(findQemuOption("-nosuch"), undefined);
});

Deno.test("options without I/O effect are marked, the datapath ones are not", () => {
  for (const o of ["vnc", "display", "serial", "drive", "daemonize", "cpu"]) {
    assertEquals([o, findQemuOption(o)?.ioRelevant], [o, false]);
  }
  for (const o of ["netdev", "device", "chardev", "object", "machine", "m", "mem-path"]) {
    assertEquals([o, findQemuOption(o)?.ioRelevant], [o, true]);
  }
  assertEquals(new Set(qemuOptionNames()).size, qemuOptionNames().length);
});
