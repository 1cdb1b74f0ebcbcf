import assert from "node:assert/strict";
import { HostKernel } from "../../runtime/host/kernel.ts";
import { formatHostError, type HostError } from "../../runtime/host/host_error.ts";
import type { Result } from "../../runtime/result.ts";
import { KERNEL_MODULES } from "../catalog/kernel_modules.ts";
import { NIC_MODELS } from "../catalog/nic_models.ts";
import { formatIpLinkShow } from "./ip.ts";

function host(): HostKernel {
  return new HostKernel({ catalog: { modules: KERNEL_MODULES, nicModels: NIC_MODELS } });
}

function text(r: Result<unknown, HostError>): string | undefined {
  return r.ok ? undefined : formatHostError(r.error);
}

function show(k: HostKernel, name?: string): string {
  const r = k.links(name);
  return r.ok ? formatIpLinkShow(r.value) : formatHostError(r.error);
}

function head(k: HostKernel, name: string): string {
  return show(k, name).split("\n")[0] ?? "";
}

Deno.test("ip link show follows a tap through its life", async (t) => {
  const k = host();
  const steps: [string, () => Result<void, HostError>, string][] = [
    [
      "ip tuntap add dev tap0 mode tap",
      () => k.tuntapAdd("tap0", { mode: "tap", vnetHdr: true }),
      "2: tap0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000",
    ],
    [
      "ip link set tap0 up (no process attached)",
      () => k.linkSetUp("tap0", true),
      "2: tap0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc fq_codel state DOWN mode DEFAULT group default qlen 1000",
    ],
    [
      "a VM attaches its queue",
      () => k.net.attachQueue("tap0", "qemu:vm1"),
      "2: tap0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UNKNOWN mode DEFAULT group default qlen 1000",
    ],
    [
      "ip link add br0 type bridge; ip link set tap0 master br0",
      () => {
        const r = k.linkAdd("br0", "bridge");
        return r.ok ? k.linkSetMaster("tap0", "br0") : r;
      },
      "2: tap0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel master br0 state UNKNOWN mode DEFAULT group default qlen 1000",
    ],
    [
      "ip link set tap0 mtu 9000",
      () => k.linkSetMtu("tap0", 9000),
      "2: tap0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 9000 qdisc fq_codel master br0 state UNKNOWN mode DEFAULT group default qlen 1000",
    ],
    [
      "ip link set tap0 down",
      () => k.linkSetUp("tap0", false),
      "2: tap0: <BROADCAST,MULTICAST> mtu 9000 qdisc fq_codel master br0 state DOWN mode DEFAULT group default qlen 1000",
    ],
  ];
  for (const [name, run, expected] of steps) {
    await t.step(name, () => {
      assert.equal(text(run()), undefined);
      assert.equal(head(k, "tap0"), expected);
    });
  }
  await t.step("the bridge followed its port's MTU and runs only while a port runs", () => {
    assert.equal(
      head(k, "br0"),
      "3: br0: <BROADCAST,MULTICAST> mtu 9000 qdisc noop state DOWN mode DEFAULT group default qlen 1000",
    );
    k.linkSetUp("br0", true);
    assert.equal(
      head(k, "br0"),
      "3: br0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 9000 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000",
    );
    k.linkSetUp("tap0", true);
    assert.equal(
      head(k, "br0"),
      "3: br0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 9000 qdisc noqueue state UP mode DEFAULT group default qlen 1000",
    );
    assert.deepEqual(k.readlink("/sys/class/net/tap0/master"), { ok: true, value: "../br0" });
    assert.deepEqual(k.readdir("/sys/class/net/br0/brif"), { ok: true, value: ["tap0"] });
    const brMac = k.read("/sys/class/net/br0/address");
    const tapMac = k.read("/sys/class/net/tap0/address");
    assert.ok(
      brMac.ok && tapMac.ok && brMac.value === tapMac.value,
      "a bridge takes its port's address",
    );
  });
});

Deno.test("ip errors: tuntap ioctls, rtnetlink answers and iproute2's own checks", async (t) => {
  const k = host();
  k.tuntapAdd("tap0", { mode: "tap" });
  k.linkAdd("br0", "bridge");
  const cases: [string, () => Result<void, HostError>, string | undefined][] = [
    [
      "ip tuntap add of an existing name",
      () => k.tuntapAdd("tap0", { mode: "tap" }),
      "ioctl(TUNSETIFF): Device or resource busy",
    ],
    [
      "ip tuntap add over a bridge's name",
      () => k.tuntapAdd("br0", { mode: "tap" }),
      "ioctl(TUNSETIFF): Device or resource busy",
    ],
    [
      "ip tuntap del of a bridge",
      () => k.tuntapDel("br0", { mode: "tap" }),
      "ioctl(TUNSETIFF): Invalid argument",
    ],
    [
      "ip tuntap del of a name that does not exist",
      () => k.tuntapDel("tap7", { mode: "tap" }),
      undefined,
    ],
    [
      "ip tuntap add with a 16-character name",
      () => k.tuntapAdd("tap0123456789abc", { mode: "tap" }),
      'Error: argument "tap0123456789abc" is wrong: "dev" not a valid ifname',
    ],
    [
      "ip link add of an existing bridge",
      () => k.linkAdd("br0", "bridge"),
      "RTNETLINK answers: File exists",
    ],
    [
      "ip link add of an unknown kind",
      () => k.linkAdd("v0", "vxlan2"),
      "Error: Unknown device type.",
    ],
    [
      "ip link set of a missing device",
      () => k.linkSetUp("eth9", true),
      'Cannot find device "eth9"',
    ],
    [
      "ip link set mtu below the minimum",
      () => k.linkSetMtu("tap0", 60),
      "Error: mtu less than device minimum.",
    ],
    [
      "ip link set master of a missing bridge",
      () => k.linkSetMaster("tap0", "br1"),
      'Error: argument "br1" is wrong: Device does not exist',
    ],
    ["ip link del lo", () => k.linkDel("lo"), "RTNETLINK answers: Operation not supported"],
    ["ip link del br0", () => k.linkDel("br0"), undefined],
  ];
  for (const [name, run, expected] of cases) {
    await t.step(name, () => assert.equal(text(run()), expected));
  }
  await t.step("tun and bridge were autoloaded by their first use", () => {
    assert.ok(k.isLoaded("tun") && k.isLoaded("bridge") && k.isLoaded("stp") && k.isLoaded("llc"));
  });
});

Deno.test("ip link show lists a PF with its VFs and the host virtio netdev", async (t) => {
  const k = new HostKernel({
    catalog: { modules: KERNEL_MODULES, nicModels: NIC_MODELS },
    seed: 1,
  });
  k.addNic({ name: "ens1f0", model: "mlx5", pci: "0000:3b:00.0", mac: "0c:42:a1:00:00:10" });
  k.linkSetUp("ens1f0", true);
  k.write("/sys/class/net/ens1f0/device/sriov_numvfs", "2\n");
  k.modprobe("virtio_vdpa");
  k.modprobe("vdpa_sim_net");
  k.vdpaNetlink.devNew({ name: "vdpa0", mgmtdev: { dev: "vdpasim_net" } });
  const out = show(k);
  assert.equal(
    out.split("\n").slice(2, 6).join("\n"),
    "2: ens1f0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP mode DEFAULT group default qlen 1000\n" +
      "    link/ether 0c:42:a1:00:00:10 brd ff:ff:ff:ff:ff:ff\n" +
      "    vf 0     link/ether 00:00:00:00:00:00 brd ff:ff:ff:ff:ff:ff, spoof checking off, link-state auto, trust off, query_rss off\n" +
      "    vf 1     link/ether 00:00:00:00:00:00 brd ff:ff:ff:ff:ff:ff, spoof checking off, link-state auto, trust off, query_rss off",
  );
  await t.assertSnapshot(out, { serializer: String });
});
