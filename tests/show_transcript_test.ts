/**
 * Every `show` form, as a user pipes a session into the REPL: one lab with a guest on each
 * kind of backend (vhost-net, QEMU userspace + tap, slirp, vhost-user to testpmd, vhost-vdpa
 * behind a vIOMMU, a VFIO VF), some traffic, then every subject of `show` in text and in `--json`,
 * and finally a mistake that ends the piped session with its diagnostic. The golden file holds
 * stdout and stderr; a second run must print the same bytes.
 */

import assert from "node:assert/strict";
import { SHOW_SUBJECT_KINDS } from "../lang/commands/mod.ts";
import { pipeRepl, transcriptText } from "./repl_transcript.ts";

/** The piped session. */
const SESSION = `host cpu ghz=3.0 cores=16
host cmdline "intel_iommu=on iommu=pt"
host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=25Gbps
modprobe tun; modprobe bridge; modprobe vhost_net
ip link add name br0 type bridge
ip link set dev ens1f0 master br0
ip link set dev br0 up
ip link set dev ens1f0 up
for i in 0..1 {
  ip tuntap add dev tap\${i} mode tap vnet_hdr
  ip link set dev tap\${i} master br0
  ip link set dev tap\${i} up
}
qemu-system-x86_64 -name vm1 -smp 2 -m 1G \\
  -netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=on \\
  -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01
qemu-system-x86_64 -name vm2 -smp 1 -m 512M \\
  -netdev tap,id=n0,ifname=tap1,script=no,downscript=no,vhost=off \\
  -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:02 \\
  -netdev user,id=u0 -device virtio-net-pci,netdev=u0
dpdk-testpmd -l 2-3 --no-pci --vdev 'net_vhost0,iface=/tmp/vu0,queues=1' -- -i --forward-mode=macswap --auto-start | tail -n 1
qemu-system-x86_64 -name vm3 -smp 2 -m 1G \\
  -object memory-backend-memfd,id=mem0,size=1G,share=on -numa node,memdev=mem0 \\
  -chardev socket,id=c0,path=/tmp/vu0 -netdev vhost-user,id=v0,chardev=c0 \\
  -device virtio-net-pci,netdev=v0
modprobe vdpa_sim_net; modprobe vhost_vdpa; modprobe vfio-pci
vdpa dev add name vdpa0 mgmtdev vdpasim_net mac 52:54:00:00:00:04
qemu-system-x86_64 -name vm4 -machine q35,accel=kvm,kernel-irqchip=split -smp 2 -m 1G \\
  -object memory-backend-memfd,id=mem1,size=1G,share=on -numa node,memdev=mem1 \\
  -device intel-iommu,caching-mode=on,device-iotlb=on \\
  -netdev type=vhost-vdpa,vhostdev=/dev/vhost-vdpa-0,id=v0 \\
  -device virtio-net-pci,netdev=v0,mac=52:54:00:00:00:04,disable-legacy=on,iommu_platform=on,ats=on
echo 1 > /sys/class/net/ens1f0/device/sriov_numvfs
echo 0000:3b:00.2 > /sys/bus/pci/drivers/mlx5_core/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:3b:00.2/driver_override
echo 0000:3b:00.2 > /sys/bus/pci/drivers_probe
qemu-system-x86_64 -name vm5 -machine q35,accel=kvm -smp 1 -m 1G -device vfio-pci,host=0000:3b:00.2
traffic t1 from vm1.eth0 to wire size=64 count=2000 rate=1Mpps burst=32
traffic t2 from wire to vm2.eth0 size=128 count=1000 rate=200Kpps
traffic t3 from vm3.eth0 to vm3.eth0 size=64 count=1000 rate=500Kpps
traffic t4 from vm4.eth0 to vm4.eth0 size=64 count=500 rate=200Kpps
traffic t5 from vm5.eth0 to wire size=64 count=1000 rate=1Mpps
run
show topology
show graph
show stats
show stats t1
show vq vm1.eth0 rx0
show vq vm1.eth0 tx0
show vq vm1.eth0 ctrl
show vhost vm1.eth0
show vhost vm2.eth0
show vhost vm2.eth1
show vhost vm3.eth0 | head -n 8
show vhost vm4.eth0
show vhost vm5.eth0
show vq vm4.eth0 rx0
show features vm1.eth0
show iommu
show iommu vm1
show iommu vm4
show log | grep -c .
show log | grep qemu-vm2 | head -n 5
show flows
show modules
show topology --json | grep -c '"id"'
show graph --json | head -n 5
show stats t2 --json | head -n 6
show vq vm1.eth0 tx0 --json
show vhost vm2.eth1 --json
show features vm3.eth0 --json
show iommu --json
show log --json | head -n 12
show flows --json
show modules --json | head -n 8
show vq vm1.eth0 tx7
`;

Deno.test("show transcript: every subject, text and --json, through the piped REPL", async (t) => {
  await t.step("the script shows every subject both ways", () => {
    const shows = SESSION.split("\n").filter((l) => l.startsWith("show "));
    for (const kind of SHOW_SUBJECT_KINDS) {
      const forms = shows.filter((l) => l.split(" ")[1] === kind);
      assert.ok(forms.some((l) => !l.includes("--json")), `show ${kind} as text`);
      assert.ok(forms.some((l) => l.includes("--json")), `show ${kind} --json`);
    }
    for (const q of ["rx0", "tx0", "ctrl"]) {
      assert.ok(shows.includes(`show vq vm1.eth0 ${q}`), `show vq … ${q}`);
    }
  });

  const first = await pipeRepl(SESSION);
  await t.step("the piped session ends at the mistake, with status 1", () => {
    assert.equal(first.code, 1, first.stderr);
    assert.match(
      first.stderr,
      /^error\[E0508\]: `vm1\.eth0` has no queue `tx7`\n {2}--> <stdin>:\d+:18\n/,
    );
  });

  await t.step("show vhost for each kind of backend", () => {
    for (
      const head of [
        "netdev n0: tap tap0 vhost=on (vhost-net, 1 queue pair)",
        "netdev n0: tap tap1 vhost=off (QEMU userspace datapath on qemu-vm2:main)",
        "netdev u0: user (slirp in QEMU; gateway vm2.u0.host)",
        "netdev v0: vhost-user chardev c0 /tmp/vu0 (QEMU client)",
        "vhost-vdpa /dev/vhost-vdpa-0 → vdpa0 (vdpasim_net)",
        "vfio-pci 0000:3b:00.2 (Mellanox Technologies MT2892 Family [ConnectX-6 Dx] VF)",
      ]
    ) assert.ok(first.stdout.includes(`\n${head}\n`), head);
  });

  await t.step("golden stdout and stderr", async () => {
    await t.assertSnapshot(transcriptText(first), { serializer: String });
  });

  await t.step("the same session prints the same bytes again", async () => {
    const second = await pipeRepl(SESSION);
    assert.equal(second.stdout, first.stdout);
    assert.equal(second.stderr, first.stderr);
    assert.equal(second.code, first.code);
  });
});
