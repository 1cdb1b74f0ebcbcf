import assert from "node:assert/strict";
import { Session } from "../session.ts";
import { lineSessions } from "../testdata/line_session.ts";

const { session, step } = lineSessions();

/** The first line `ip link show dev NAME` prints. */
async function head(s: Session, name: string): Promise<string> {
  return (await step(s, `ip link show dev ${name}`)).out.split("\n")[0] ?? "";
}

Deno.test("a tap and a bridge through ip, as ip link show reports them", async (t) => {
  const s = session();
  const table: [string, string, string][] = [
    [
      "ip tuntap add dev tap0 mode tap",
      "tap0",
      "2: tap0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000",
    ],
    [
      "ip link add name br0 type bridge",
      "br0",
      "3: br0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000",
    ],
    [
      "ip link set dev tap0 master br0",
      "tap0",
      "2: tap0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop master br0 state DOWN mode DEFAULT group default qlen 1000",
    ],
    // a tap with no process attached has no carrier
    [
      "ip link set dev tap0 up",
      "tap0",
      "2: tap0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc fq_codel master br0 state DOWN mode DEFAULT group default qlen 1000",
    ],
    // mtu, then up, then master in one line (do_setlink's order)
    [
      "ip link set br0 mtu 1400 up",
      "br0",
      "3: br0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1400 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000",
    ],
    [
      "ip link set tap0 nomaster",
      "tap0",
      "2: tap0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc fq_codel state DOWN mode DEFAULT group default qlen 1000",
    ],
  ];
  for (const [line, dev, want] of table) {
    await t.step(line, async () => {
      assert.deepEqual((await step(s, line)).codes, []);
      assert.equal(await head(s, dev), want);
    });
  }
  await t.step("ip link del removes the tap and its sysfs entry", async () => {
    assert.deepEqual((await step(s, "ip link del tap0")).codes, []);
    assert.equal(s.lab.host.exists("/sys/class/net/tap0"), false);
    assert.deepEqual((await step(s, "ip link show dev tap0")).codes, ["E0205"]);
    const d = s.diagnostics.items.at(-1);
    assert.ok(d?.notes.includes('Device "tap0" does not exist.'));
    assert.deepEqual(d?.labels.filter((l) => !l.primary).map((l) => l.message), [
      "`tap0` deleted here",
    ]);
  });
});

Deno.test("ip tuntap show prints the flags the way iproute2 6.12 does", async () => {
  const s = session();
  await step(s, "ip tuntap add dev tap0 mode tap");
  await step(s, "ip tuntap add tap1 mode tap multi_queue vnet_hdr");
  await step(s, "ip tuntap add mode tun");
  assert.equal(
    (await step(s, "ip tuntap show")).out,
    "tap0: tap persist\ntap1: tap vnet_hdr persist0x100\ntun0: tun persist\n",
  );
  assert.deepEqual(JSON.parse((await step(s, "ip -j tuntap show")).out)[1], {
    ifname: "tap1",
    flags: ["tap", "vnet_hdr", "persist", "0x100"],
  });
});

Deno.test("ip -br link show and filters by type, master and up", async () => {
  const s = session();
  for (
    const l of [
      "ip tuntap add dev tap0 mode tap",
      "ip tuntap add dev tap1 mode tap",
      "ip link add br0 type bridge",
      "ip link set tap0 master br0",
      "ip link set br0 up",
    ]
  ) await step(s, l);
  const br = (await step(s, "ip -br link show type bridge")).out;
  assert.match(br, /^br0 {13} DOWN {11}[0-9a-f:]{17} <NO-CARRIER,BROADCAST,MULTICAST,UP> \n$/);
  const ports = (await step(s, "ip link show master br0")).out;
  assert.equal(ports.split("\n").filter((l) => /^\d+:/.test(l)).length, 1);
  assert.ok(ports.startsWith("2: tap0: "));
  const up = (await step(s, "ip -br link show up")).out.split("\n").filter((l) => l !== "");
  assert.deepEqual(up.map((l) => l.split(" ")[0]), ["lo", "br0"]);
  const json = JSON.parse((await step(s, "ip -j link show dev tap0")).out);
  assert.deepEqual(Object.keys(json[0]), [
    "ifindex",
    "ifname",
    "flags",
    "mtu",
    "qdisc",
    "master",
    "operstate",
    "linkmode",
    "group",
    "txqlen",
    "link_type",
    "address",
    "broadcast",
  ]);
});

Deno.test("attributes ip accepts but the lab does not model are reported, not dropped", async () => {
  const s = session();
  await step(s, "ip tuntap add dev tap0 mode tap user qemu");
  assert.deepEqual(s.diagnostics.items.map((d) => d.code), ["W0302"]);
  const r = await step(s, "ip link set tap0 up txqueuelen 5000 promisc on");
  assert.deepEqual(r.codes, ["W0302", "W0302"]);
  // the modelled part still applies
  assert.ok(s.lab.host.net.get("tap0")?.up);
});

Deno.test("ip refuses what the lab does not model with its own error", async () => {
  const s = session();
  assert.deepEqual((await step(s, "ip link add veth0 type veth peer name veth1")).codes, ["E0322"]);
  assert.deepEqual((await step(s, "ip addr add 10.0.0.1/24 dev lo")).codes, ["E0322"]);
  assert.deepEqual((await step(s, "ip tuntap del dev tap9 mode tap")).codes, []);
});

Deno.test("ip tuntap del of a tun with mode tap is refused at the mode", async () => {
  const s = session();
  await step(s, "ip tuntap add dev tun0 mode tun");
  const r = await step(s, "ip tuntap del dev tun0 mode tap");
  assert.deepEqual(r.codes, ["E0317"]);
  const d = s.diagnostics.items.at(-1);
  assert.ok(d?.notes.includes("ioctl(TUNSETIFF): Invalid argument"));
  assert.ok(d?.help.includes("write `mode tun`"));
});
