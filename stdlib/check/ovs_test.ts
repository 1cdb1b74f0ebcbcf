import { deepEqual as assertEquals } from "node:assert/strict";
import { type Diagnostic, Diagnostics, primarySpan } from "../../lang/diagnostic.ts";
import { checkOvs, OvsCheckState, ovsColumns } from "./ovs.ts";
import { testOvs } from "./test_commands.ts";

function check(lines: string[], state = new OvsCheckState()) {
  const diags = new Diagnostics();
  for (const line of lines) checkOvs(testOvs(line), diags, state);
  const last = lines[lines.length - 1] ?? "";
  return {
    state,
    codes: diags.items.map((d) => d.code),
    find(code: string): Diagnostic {
      const d = diags.items.find((x) => x.code === code);
      if (!d) throw new Error(`no ${code} in ${diags.items.map((x) => x.code).join(" ")}`);
      return d;
    },
    /** Text under the primary label, assuming it is in the last line. */
    at(d: Diagnostic): string {
      const s = primarySpan(d);
      return s ? last.slice(s.start, s.end) : "";
    },
  };
}

const BR = "ovs-vsctl add-br br0 -- set bridge br0 datapath_type=netdev";

Deno.test("a vhost-user client port on a netdev bridge is clean", () => {
  const r = check([
    "ovs-vsctl set Open_vSwitch . other_config:dpdk-init=true",
    BR,
    "ovs-vsctl add-port br0 vhu0 -- set Interface vhu0 type=dpdkvhostuserclient options:vhost-server-path=/tmp/vhu0",
  ]);
  assertEquals(r.codes, []);
  assertEquals(r.state.types.get("vhu0")?.value, "dpdkvhostuserclient");
  assertEquals(r.state.ports.get("vhu0")?.value, "br0");
  assertEquals(r.state.bridges.get("br0")?.value, "netdev");
});

Deno.test("E0242: unknown columns quote ovs-vsctl; unknown types quote vswitchd", () => {
  const col = check(["ovs-vsctl set Interface vhu0 optons:n_rxq=2"]);
  const d = col.find("E0242");
  assertEquals(col.at(d), "optons");
  assertEquals(d.notes, [
    'ovs-vsctl says: Interface does not contain a column whose name matches "optons"',
  ]);
  assertEquals(d.help, ["did you mean `options`?"]);
  const type = check(["ovs-vsctl set Interface vhu0 type=dpdkvhostuserclent"]);
  assertEquals(type.find("E0242").help, ["did you mean `dpdkvhostuserclient`?"]);
  const key = check(["ovs-vsctl set Open_vSwitch . other_config:pmd-cpu-msk=0x6"]);
  assertEquals(key.codes, []); // other_config is open: OVS integrations add their own keys
});

Deno.test("E0225/E0227: interface options are checked against the type set in the same command", () => {
  const typo = check([
    `${BR} -- add-port br0 vhu0 -- set Interface vhu0 type=dpdkvhostuserclient options:vhost-server-pth=/tmp/s`,
  ]);
  assertEquals(typo.codes, ["E0225", "E0227"]);
  assertEquals(typo.find("E0225").help, ["did you mean `vhost-server-path`?"]);
  assertEquals(
    typo.find("E0227").message,
    "OVS interface `dpdkvhostuserclient` needs `options:vhost-server-path=`",
  );
  const dpdk = check([`${BR} -- add-port br0 dpdk0 -- set Interface dpdk0 type=dpdk`]);
  assertEquals(dpdk.find("E0227").notes, [
    "OVS says: 'dpdk0' is missing 'options:dpdk-devargs'. The old 'dpdk<port_id>' names are not supported",
  ]);
  // Options set later, for a type set earlier, are checked against that type.
  const later = check([
    `${BR} -- add-port br0 dpdk0 -- set Interface dpdk0 type=dpdk options:dpdk-devargs=0000:3b:00.0`,
    "ovs-vsctl set Interface dpdk0 options:n_rxq=two",
  ]);
  assertEquals(later.codes, ["E0226"]);
});

Deno.test("E0243: DPDK ports need the netdev datapath, wherever in the transaction it is set", () => {
  const bad = check([
    "ovs-vsctl add-br br0 -- add-port br0 vhu0 -- set Interface vhu0 type=dpdkvhostuserclient options:vhost-server-path=/tmp/s",
  ]);
  const d = bad.find("E0243");
  assertEquals(d.notes, [
    "OVS logs: could not open network device vhu0 (Address family not supported by protocol)",
  ]);
  // The bridge's datapath set after the port, in the same invocation, still counts.
  const ok = check([
    "ovs-vsctl add-br br0 -- add-port br0 vhu0 -- set Interface vhu0 type=dpdkvhostuserclient options:vhost-server-path=/tmp/s -- set bridge br0 datapath_type=netdev",
  ]);
  assertEquals(ok.codes, []);
});

Deno.test("warnings: deprecated dpdkvhostuser, unmodelled tunnels, ignored settings, removed options", () => {
  assertEquals(check([`${BR} -- add-port br0 vu -- set Interface vu type=dpdkvhostuser`]).codes, [
    "W0222",
  ]);
  assertEquals(
    check([
      "ovs-vsctl add-br br1 -- add-port br1 vx -- set Interface vx type=vxlan options:remote_ip=10.0.0.2",
    ]).codes,
    ["W0221"],
  );
  assertEquals(
    check(["ovs-vsctl set Interface vhu0 ofport_request=5 mac=00:11:22:33:44:55"]).codes,
    ["W0220"],
  );
  assertEquals(
    check([
      `${BR} -- add-port br0 vhu0 -- set Interface vhu0 type=dpdkvhostuserclient options:vhost-server-path=/s options:dq-zero-copy=true`,
    ]).codes,
    ["E0237"],
  );
});

Deno.test("ovsColumns() lists a table's columns for completion", () => {
  assertEquals(ovsColumns("Bridge").includes("datapath_type"), true);
  assertEquals(ovsColumns("QoS"), []);
});

Deno.test("rendered OVS and testpmd diagnostics (golden)", async (t) => {
  const { renderDiagnostics } = await import("../../lang/render.ts");
  const { SourceMap } = await import("../../lang/span.ts");
  const { checkTestpmd } = await import("./testpmd.ts");
  const { testTestpmd } = await import("./test_commands.ts");
  const ovs =
    "ovs-vsctl add-br br0 -- add-port br0 vhu0 -- set Interface vhu0 type=dpdkvhostuserclient options:vhost-server-pth=/tmp/vhu0";
  const pmd = "dpdk-testpmd -l 0-1 --vdev 'net_vhost0,iface=/tmp/vhu0,client=yes,queues=0' -- -i";
  const sources = new SourceMap();
  sources.add("ovs.vdpa", ovs + "\n");
  sources.add("pmd.vdpa", pmd + "\n");
  const diags = new Diagnostics();
  checkOvs(testOvs(ovs, "ovs.vdpa"), diags, new OvsCheckState());
  checkTestpmd(testTestpmd(pmd, "pmd.vdpa"), diags);
  await t.assertSnapshot(renderDiagnostics(diags.items, sources), { serializer: String });
});
