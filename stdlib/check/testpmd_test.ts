import { deepEqual as assertEquals } from "node:assert/strict";
import { type Diagnostic, Diagnostics, primarySpan } from "../../lang/diagnostic.ts";
import { checkTestpmd } from "./testpmd.ts";
import { testTestpmd } from "./test_commands.ts";

const T = "dpdk-testpmd -l 0-1 --no-pci";

function check(line: string) {
  const diags = new Diagnostics();
  const vdevs = checkTestpmd(testTestpmd(line), diags);
  return {
    vdevs,
    codes: diags.items.map((d) => d.code),
    find(code: string): Diagnostic {
      const d = diags.items.find((x) => x.code === code);
      if (!d) throw new Error(`no ${code} in ${diags.items.map((x) => x.code).join(" ")}`);
      return d;
    },
    at(d: Diagnostic): string {
      const s = primarySpan(d);
      return s ? line.slice(s.start, s.end) : "";
    },
  };
}

Deno.test("a vhost PMD port resolves with the PMD's defaults", () => {
  const r = check(`${T} --vdev 'net_vhost0,iface=/tmp/vu0' -- -i`);
  assertEquals(r.codes, []);
  const v = r.vdevs[0];
  if (v?.kind !== "vhost") throw new Error("vhost vdev expected");
  assertEquals([v.iface.value, v.queues.value, v.queues.explicit, v.client.value], [
    "/tmp/vu0",
    1,
    false,
    false,
  ]);
  assertEquals([v.iommuSupport.value, v.tso.value, v.linearBuffer.value, v.extBuffer.value], [
    false,
    false,
    false,
    false,
  ]);
});

Deno.test("virtio_user's path decides its backend", () => {
  const kinds = ["/tmp/vhost-user0", "/dev/vhost-net", "/dev/vhost-vdpa-3"].map((p) => {
    const v = check(`${T} --vdev virtio_user0,path=${p} -- -i`).vdevs[0];
    return v?.kind === "virtio-user" ? v.backend : undefined;
  });
  assertEquals(kinds, ["vhost-user", "vhost-net", "vhost-vdpa"]);
  const v = check(`${T} --vdev virtio_user0,path=/tmp/s -- -i`).vdevs[0];
  if (v?.kind !== "virtio-user") throw new Error("virtio-user expected");
  assertEquals([v.queueSize.value, v.mrgRxbuf.value, v.inOrder.value, v.packedVq.value], [
    256,
    true,
    true,
    false,
  ]);
});

Deno.test("E0240: an unknown vdev driver suggests the real one with the instance number", () => {
  const r = check(`${T} --vdev net_vhsot0,iface=/tmp/s -- -i`);
  const d = r.find("E0240");
  assertEquals(r.at(d), "net_vhsot0");
  assertEquals(d.help, ["did you mean `net_vhost0`?"]);
  assertEquals(r.vdevs, []);
});

Deno.test("E0225/E0237: unknown and removed devargs make the port fail", () => {
  const typo = check(`${T} --vdev net_vhost0,ifcae=/tmp/s -- -i`);
  assertEquals(typo.find("E0225").help, ["did you mean `iface`?"]);
  // iface is then missing as well: the PMD refuses the device.
  assertEquals(typo.codes, ["E0225", "E0227"]);
  assertEquals(typo.vdevs, []);
  const zc = check(`${T} --vdev net_vhost0,iface=/tmp/s,dequeue-zero-copy=1 -- -i`);
  assertEquals(zc.codes, ["E0237"]);
});

Deno.test("E0226: queue counts outside 1..1024 and MACs that are not MACs", () => {
  assertEquals(check(`${T} --vdev net_vhost0,iface=/tmp/s,queues=0 -- -i`).codes, ["E0226"]);
  assertEquals(check(`${T} --vdev net_vhost0,iface=/tmp/s,queues=1025 -- -i`).codes, ["E0226"]);
  assertEquals(check(`${T} --vdev virtio_user0,path=/tmp/s,mac=00:01 -- -i`).codes, ["E0226"]);
});

Deno.test("W0228: strtoul reads client=yes as 0, and the port really is a server", () => {
  const r = check(`${T} --vdev net_vhost0,iface=/tmp/s,client=yes -- -i`);
  const d = r.find("W0228");
  assertEquals(r.at(d), "yes");
  assertEquals(d.message, "DPDK reads `client=yes` as `0`");
  const v = r.vdevs[0];
  assertEquals(v?.kind === "vhost" ? v.client.value : undefined, false);
  // A number with trailing junk keeps its leading digits, as strtoul does.
  const q = check(`${T} --vdev net_vhost0,iface=/tmp/s,queues=2x -- -i`);
  assertEquals(q.codes, ["W0228"]);
  assertEquals(q.vdevs[0]?.kind === "vhost" ? q.vdevs[0].queues.value : 0, 2);
});

Deno.test("E0228/E0230: one device per name, one port per socket", () => {
  assertEquals(check(`${T} --vdev net_vhost0,iface=/a --vdev net_vhost0,iface=/b -- -i`).codes, [
    "E0228",
  ]);
  assertEquals(check(`${T} --vdev net_vhost0,iface=/a --vdev net_vhost1,iface=/a -- -i`).codes, [
    "E0230",
  ]);
});

Deno.test("W0221: vdev drivers the lab does not simulate are kept but warned", () => {
  const r = check(`${T} --vdev net_null0 --vdev eth_ring0 -- -i`);
  assertEquals(r.codes, ["W0221", "W0221"]);
  assertEquals(r.vdevs.map((v) => v.kind === "unmodelled" ? v.driver : v.kind), [
    "net_null",
    "net_ring",
  ]);
});
