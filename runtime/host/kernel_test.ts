import assert from "node:assert/strict";
import { HostKernel } from "./kernel.ts";
import type { ModuleSpec } from "./module_spec.ts";

const MODULES = {
  vdpa: {
    description: "vDPA bus",
    size: 36864,
    depends: [],
    registers: [{ kind: "bus", name: "vdpa" }, { kind: "genl-family", name: "vdpa" }],
  },
  vhost_vdpa: {
    description: "vhost-vdpa",
    size: 32768,
    depends: ["vdpa"],
    registers: [{ kind: "vdpa-driver", name: "vhost_vdpa" }],
  },
} satisfies Record<string, ModuleSpec>;

function kernel(): HostKernel {
  return new HostKernel({ catalog: { modules: MODULES, nicModels: {} } });
}

Deno.test("--first-time: loading a loaded module or removing an absent one fails", () => {
  const k = kernel();
  assert.deepEqual(k.modprobeRemove("vdpa", { firstTime: true }), {
    ok: false,
    error: { kind: "modprobe-not-in-kernel", module: "vdpa" },
  });
  assert.deepEqual(k.modprobeRemove("vdpa"), { ok: true, value: undefined });
  assert.ok(k.modprobe("vhost-vdpa").ok);
  assert.deepEqual(k.modprobe("vhost_vdpa", [], { firstTime: true }), {
    ok: false,
    error: { kind: "modprobe-already-loaded", module: "vhost_vdpa" },
  });
  assert.ok(k.modprobe("vhost_vdpa").ok, "without --first-time a loaded module is a no-op");
});

Deno.test("the kernel boots with the first module, and the command line is fixed then", () => {
  const k = kernel();
  assert.equal(k.booted, false);
  assert.ok(k.setCmdline("intel_iommu=on").ok);
  assert.equal(k.booted, false, "the command line itself does not boot");
  assert.ok(k.modprobe("vdpa").ok);
  assert.equal(k.booted, true);
  assert.deepEqual(k.setCmdline("iommu=pt"), {
    ok: false,
    error: { kind: "host-cmdline-after-boot" },
  });
});

Deno.test("ip link show of a missing device reports it the way the show filter does", () => {
  const k = kernel();
  assert.deepEqual(k.links("tap0"), {
    ok: false,
    error: { kind: "ip-no-device", name: "tap0", op: "show" },
  });
  assert.deepEqual(k.linkSetUp("tap0", true), {
    ok: false,
    error: { kind: "ip-no-device", name: "tap0" },
  });
});
