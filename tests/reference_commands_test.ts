/**
 * Issue 2's acceptance: the commands quoted in shared/reference/real-systems.md (RS) and
 * shared/reference/virtio-vhost-vdpa.md (VVV) pass `check` when copied verbatim into a script.
 *
 * - lang/commands/testdata/reference_commands.vdpa is one coherent host session holding every
 *   quoted command verbatim; `check` on it reports no error.
 * - Each quoted command also runs in a fresh lab after only its minimal prerequisites (the
 *   table below), with no error: the command works on its own, not because of what a long
 *   script happened to leave behind. The table and the fixture hold the same commands.
 * - lang/commands/testdata/reference_pitfalls.vdpa yields exactly the codes its
 *   `# expect: CODE…` comments announce, on the line after each, and nothing elsewhere.
 */

import assert from "node:assert/strict";
import type { Diagnostic } from "../lang/diagnostic.ts";
import { Session } from "../stdlib/session.ts";

const DIR = new URL("../lang/commands/testdata/", import.meta.url);
const FIXTURE = "reference_commands.vdpa";
const PITFALLS = "reference_pitfalls.vdpa";
const fixtureText = await Deno.readTextFile(new URL(FIXTURE, DIR));
const pitfallsText = await Deno.readTextFile(new URL(PITFALLS, DIR));

async function check(text: string, source: string): Promise<readonly Diagnostic[]> {
  const s = new Session({ mode: "check", stdout: () => {} });
  await s.runText(text, source);
  return s.diagnostics.items;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === "\n") line++;
  return line;
}

function describe(diags: readonly Diagnostic[], text: string): string[] {
  return diags.map((d) => {
    const at = d.labels.find((l) => l.primary)?.span;
    return `${at ? lineOf(text, at.start) : "?"}: ${d.code} ${d.message}`;
  });
}

const errorsOf = (diags: readonly Diagnostic[]) => diags.filter((d) => d.severity === "error");

// --- minimal prerequisites -------------------------------------------------------------------

/** vdpa_sim_net loaded and vhost_vdpa ready to probe. */
const SIM = ["modprobe vdpa_sim_net", "modprobe vhost_vdpa"];
/** vdpa0 on vdpa_sim_net, bound to vhost_vdpa: /dev/vhost-vdpa-0. */
const VDPA0 = [...SIM, "vdpa dev add name vdpa0 mgmtdev vdpasim_net"];
/** vdpa0 bound to virtio_vdpa (the only vdpa bus driver loaded): the host's virtio_net runs it. */
const VIRTIO = [
  "modprobe vdpa_sim_net",
  "modprobe virtio_vdpa",
  "vdpa dev add name vdpa0 mgmtdev vdpasim_net",
];
/** vdpa0 created with autoprobe off: on the bus, bound to no driver. */
const UNBOUND = [
  ...SIM,
  "echo 0 > /sys/bus/vdpa/drivers_autoprobe",
  "vdpa dev add name vdpa0 mgmtdev vdpasim_net",
];
/** An mlx5 ConnectX-6 Dx with two VFs and mlx5_vdpa: mgmtdevs pci/0000:3b:00.2 and .3. */
const MLX5_VFS = [
  "host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=100Gbps",
  "modprobe mlx5_vdpa",
  "modprobe vhost_vdpa",
  "echo 2 > /sys/class/net/ens1f0/device/sriov_numvfs",
];
/** An mlx5 PF in switchdev mode with SF 88 active: auxiliary/mlx5_core.sf.1. */
const MLX5_SF = [
  "host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=100Gbps",
  "modprobe mlx5_vdpa",
  "modprobe vhost_vdpa",
  "devlink dev eswitch set pci/0000:3b:00.0 mode switchdev",
  "devlink port add pci/0000:3b:00.0 flavour pcisf pfnum 0 sfnum 88",
  "devlink port function set pci/0000:3b:00.0/32768 hw_addr 00:00:00:00:88:88 state active",
];
const SF_VDPA1 =
  "vdpa dev add name vdpa1 mgmtdev auxiliary/mlx5_core.sf.1 mac 00:11:22:33:44:66 max_vqp 4";
/** A dual-port E810 whose second port is 0000:03:00.1. */
const E810 = [
  "host nic ens3f0 model=e810 pci=0000:03:00.0 speed=100Gbps",
  "host nic ens3f1 model=e810 pci=0000:03:00.1 speed=100Gbps",
];
const OVS_BR = [
  "ovs-vsctl set Open_vSwitch . other_config:dpdk-init=true",
  "ovs-vsctl add-br ovsbr0 -- set bridge ovsbr0 datapath_type=netdev",
];

/** A quoted command, where the references quote it, and the least a host needs before it. */
interface Quoted {
  readonly ref: string;
  readonly prereq: readonly string[];
  readonly command: string;
}

const TABLE: readonly Quoted[] = [
  // iproute2 vdpa (RS §3, VVV §6.5)
  { ref: "RS §3", prereq: SIM, command: "vdpa mgmtdev show" },
  { ref: "RS §3", prereq: SIM, command: "vdpa mgmtdev show vdpasim_net" },
  { ref: "RS §3 alias", prereq: SIM, command: "vdpa mgmtdev list" },
  { ref: "RS §3", prereq: SIM, command: "vdpa dev add name vdpa0 mgmtdev vdpasim_net" },
  { ref: "RS §3", prereq: VDPA0, command: "vdpa dev show" },
  { ref: "RS §3 alias", prereq: VDPA0, command: "vdpa dev list" },
  { ref: "RS §3", prereq: VDPA0, command: "vdpa dev show vdpa0" },
  { ref: "RS §3", prereq: VDPA0, command: "vdpa dev config show" },
  { ref: "RS §3", prereq: VDPA0, command: "vdpa dev config show vdpa0" },
  {
    ref: "RS §3 (9fe68807)",
    prereq: VDPA0,
    command: "vdpa dev set name vdpa0 mac 00:11:22:33:44:77",
  },
  { ref: "RS §3 -j", prereq: SIM, command: "vdpa -j mgmtdev show" },
  { ref: "RS §3 -jp", prereq: VDPA0, command: "vdpa -jp dev show" },
  { ref: "VVV §6.5", prereq: VDPA0, command: "vdpa -j -p dev config show vdpa0" },
  { ref: "VVV §6.5 -V", prereq: [], command: "vdpa -V" },
  {
    ref: "RS §3 0x300020000",
    prereq: SIM,
    command: "vdpa dev add name vdpa2 mgmtdev vdpasim_net device_features 0x300020000",
  },
  {
    ref: "RS §3",
    prereq: [...SIM, "vdpa dev add name vdpa2 mgmtdev vdpasim_net device_features 0x300020000"],
    command: "vdpa dev config show vdpa2",
  },
  {
    ref: "RS §3",
    prereq: [...SIM, "vdpa dev add name vdpa2 mgmtdev vdpasim_net device_features 0x300020000"],
    command: "vdpa dev del vdpa2",
  },
  { ref: "RS §3 vstats", prereq: VIRTIO, command: "vdpa dev vstats show vdpa0 qidx 1" },
  {
    ref: "VVV §6.5",
    prereq: VIRTIO,
    command: "vdpa --json --pretty dev vstats show vdpa0 qidx 0",
  },
  // sysfs and /dev (RS §4 "Binding", VVV §6.3)
  { ref: "VVV §6.3", prereq: VDPA0, command: "ls -l /sys/bus/vdpa/devices/vdpa0/driver" },
  {
    ref: "VVV §6.3",
    prereq: VDPA0,
    command: "echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind",
  },
  {
    ref: "VVV §6.3",
    prereq: ["modprobe virtio_vdpa", ...UNBOUND],
    command: "echo vdpa0 > /sys/bus/vdpa/drivers/virtio_vdpa/bind",
  },
  { ref: "VVV §6.3", prereq: VIRTIO, command: "ls /sys/bus/virtio/devices/" },
  {
    ref: "VVV §6.3 rebind example",
    prereq: [...VIRTIO, "modprobe vhost_vdpa"],
    command:
      "echo vdpa0 > /sys/bus/vdpa/drivers/virtio_vdpa/unbind; echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/bind",
  },
  { ref: "VVV §6.3", prereq: VDPA0, command: "ls /sys/bus/vdpa/devices/" },
  { ref: "VVV §6.3", prereq: VDPA0, command: "ls /sys/bus/vdpa/devices/vdpa0/" },
  { ref: "RS §10", prereq: VDPA0, command: "ls /dev/vhost-vdpa-*" },
  {
    ref: "RS §10",
    prereq: [...VDPA0, "modprobe vhost_net"],
    command: "ls -l /dev/vhost-vdpa-0 /dev/vhost-net",
  },
  {
    ref: "VVV §6.3",
    prereq: VDPA0,
    command: "echo vhost_vdpa > /sys/bus/vdpa/devices/vdpa0/driver_override",
  },
  { ref: "VVV §6.3", prereq: VDPA0, command: "cat /sys/bus/vdpa/devices/vdpa0/driver_override" },
  {
    ref: "VVV §6.3",
    prereq: VDPA0,
    command: 'echo "" > /sys/bus/vdpa/devices/vdpa0/driver_override',
  },
  {
    ref: "VVV §6.3",
    prereq: ["modprobe vdpa"],
    command: "echo 0 > /sys/bus/vdpa/drivers_autoprobe",
  },
  { ref: "VVV §6.3", prereq: ["modprobe vdpa"], command: "cat /sys/bus/vdpa/drivers_autoprobe" },
  { ref: "VVV §6.3", prereq: UNBOUND, command: "echo vdpa0 > /sys/bus/vdpa/drivers_probe" },
  {
    ref: "VVV §6.3",
    prereq: ["modprobe vdpa"],
    command: "echo 1 > /sys/bus/vdpa/drivers_autoprobe",
  },
  {
    ref: "VVV §6.3",
    prereq: UNBOUND,
    command: "echo vdpa0 | sudo tee /sys/bus/vdpa/drivers/vhost_vdpa/bind",
  },
  // SR-IOV and VFIO sysfs writes (setup for VVV §6.1 `pci/0000:3b:00.2`, VVV §7.3 vfio-pci)
  {
    ref: "VVV §6.1 pci/…",
    prereq: ["host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=100Gbps"],
    command: "echo 2 > /sys/class/net/ens1f0/device/sriov_numvfs",
  },
  { ref: "VVV §6.1", prereq: MLX5_VFS, command: "vdpa mgmtdev show pci/0000:3b:00.2" },
  {
    ref: "VVV §6.1",
    prereq: MLX5_VFS,
    command: "vdpa dev add name vdpa3 mgmtdev pci/0000:3b:00.2 max_vqp 8 mtu 9000",
  },
  {
    ref: "RS §3 dev del",
    prereq: [...MLX5_VFS, "vdpa dev add name vdpa3 mgmtdev pci/0000:3b:00.2 max_vqp 8 mtu 9000"],
    command: "vdpa dev del vdpa3",
  },
  // mlx5 subfunctions (RS §3 `auxiliary/mlx5_core.sf.1`, VVV §6.1): the devlink sequence
  {
    ref: "mlx5 SF howto",
    prereq: ["host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=100Gbps"],
    command: "devlink dev eswitch set pci/0000:3b:00.0 mode switchdev",
  },
  {
    ref: "mlx5 SF howto",
    prereq: MLX5_SF.slice(0, 4),
    command: "devlink port add pci/0000:3b:00.0 flavour pcisf pfnum 0 sfnum 88",
  },
  {
    ref: "mlx5 SF howto",
    prereq: MLX5_SF.slice(0, 5),
    command:
      "devlink port function set pci/0000:3b:00.0/32768 hw_addr 00:00:00:00:88:88 state active",
  },
  { ref: "mlx5 SF howto", prereq: MLX5_SF, command: "devlink port show" },
  {
    ref: "RS §3, VVV §6.1",
    prereq: MLX5_SF,
    command: "vdpa mgmtdev show auxiliary/mlx5_core.sf.1",
  },
  { ref: "RS §3, VVV §6.1", prereq: MLX5_SF, command: SF_VDPA1 },
  { ref: "RS §3 dev del", prereq: [...MLX5_SF, SF_VDPA1], command: "vdpa dev del vdpa1" },
  {
    ref: "mlx5 SF howto",
    prereq: MLX5_SF,
    command: "devlink port function set pci/0000:3b:00.0/32768 state inactive",
  },
  { ref: "mlx5 SF howto", prereq: MLX5_SF, command: "devlink port del pci/0000:3b:00.0/32768" },
  { ref: "RS §3 dev del", prereq: VDPA0, command: "vdpa dev del vdpa0" },
  { ref: "VVV §7.3", prereq: E810, command: "echo 0000:03:00.1 > /sys/bus/pci/drivers/ice/unbind" },
  {
    ref: "VVV §7.3",
    prereq: [...E810, "echo 0000:03:00.1 > /sys/bus/pci/drivers/ice/unbind"],
    command: "echo vfio-pci > /sys/bus/pci/devices/0000:03:00.1/driver_override",
  },
  {
    ref: "VVV §7.3",
    prereq: [
      ...E810,
      "modprobe vfio-pci",
      "echo 0000:03:00.1 > /sys/bus/pci/drivers/ice/unbind",
      "echo vfio-pci > /sys/bus/pci/devices/0000:03:00.1/driver_override",
    ],
    command: "echo 0000:03:00.1 > /sys/bus/pci/drivers_probe",
  },
  // OVS-DPDK (RS §5)
  { ref: "RS §5 OVS", prereq: [], command: OVS_BR[0] as string },
  { ref: "RS §5 OVS", prereq: OVS_BR.slice(0, 1), command: OVS_BR[1] as string },
  {
    ref: "RS §5 type=dpdkvhostuser",
    prereq: OVS_BR,
    command:
      "ovs-vsctl add-port ovsbr0 vhost-user0 -- set Interface vhost-user0 type=dpdkvhostuser",
  },
  {
    ref: "RS §5 dpdkvhostuserclient",
    prereq: OVS_BR,
    command:
      "ovs-vsctl add-port ovsbr0 vhu-client0 -- set Interface vhu-client0 type=dpdkvhostuserclient options:vhost-server-path=/tmp/s",
  },
  { ref: "RS §5 OVS", prereq: OVS_BR, command: "ovs-vsctl show" },
  // DPDK testpmd and the vhost PMD (RS §2)
  {
    ref: "RS §2 dpdk-testpmd ... -- -i",
    prereq: [],
    command:
      "dpdk-testpmd -l 0-1 -n 4 --file-prefix tp0 --vdev 'net_vhost0,iface=/tmp/vhost-user0,queues=1' -- -i",
  },
  {
    ref: "RS §2 vhost PMD devargs",
    prereq: [],
    command:
      "dpdk-testpmd -l 2-4 --no-pci --file-prefix tp1 --vdev 'net_vhost0,iface=/tmp/vhost-user1,queues=2,client=1,iommu-support=0,postcopy-support=0,tso=0,linear-buffer=0,ext-buffer=0' -- -i --nb-cores=2 --rxq=2 --txq=2",
  },
  {
    ref: "DPDK vhost guide (not quoted)",
    prereq: [],
    command:
      "./build/app/dpdk-testpmd -l 5-8 -n 4 --socket-mem 1024 --file-prefix vhost --vdev 'net_vhost0,iface=/tmp/sock0,queues=1' -- -i --txq=1 --rxq=1 --forward-mode=io --auto-start",
  },
  {
    ref: "RS §2 virtio_user devargs",
    prereq: [
      "dpdk-testpmd -l 5-8 --file-prefix vhost --vdev 'net_vhost0,iface=/tmp/sock0,queues=1'",
    ],
    command:
      "dpdk-testpmd -l 9-10 --no-pci --file-prefix vu0 --vdev virtio_user0,path=/tmp/sock0,mac=00:01:02:03:04:05,cq=0,queue_size=256,queues=1,server=0,mrg_rxbuf=1,in_order=1,packed_vq=0 -- -i",
  },
  {
    ref: "RS §2 virtio_user on vhost-kernel",
    prereq: ["modprobe vhost_net"],
    command:
      "dpdk-testpmd -l 11-12 --no-pci --file-prefix vu1 --vdev virtio_user0,path=/dev/vhost-net,queues=1 -- -i",
  },
  {
    ref: "RS §2 virtio_user on vhost-vdpa",
    prereq: VDPA0,
    command:
      "dpdk-testpmd -l 13-14 --no-pci --file-prefix vu2 --vdev virtio_user0,path=/dev/vhost-vdpa-0,queues=1 -- -i --forward-mode=macswap",
  },
  // QEMU on tap (RS §5, VVV §7.1, §7.2, §7.3)
  {
    ref: "VVV §7.1 tap",
    prereq: ["ip tuntap add dev tap0 mode tap"],
    command:
      "qemu-system-x86_64 -name vm1 -m 2G -smp 2 -enable-kvm -netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56",
  },
  {
    ref: "VVV §7.1 tap",
    prereq: ["ip tuntap add tap1 mode tap multi_queue vnet_hdr"],
    command:
      "qemu-system-x86_64 -name vm2 -m 2G -netdev tap,id=n0,ifname=tap1,script=no,downscript=no,vnet_hdr=on,vhost=on,queues=2,poll-us=50 -device virtio-net-pci,netdev=n0,mq=on,vectors=6",
  },
  {
    ref: "VVV §7.1 fd=h, vhostfd=h",
    prereq: [],
    command:
      "qemu-system-x86_64 -name vm20 -m 1G -netdev tap,id=n0,fd=3,vhost=on,vhostfd=4 -device virtio-net-pci,netdev=n0",
  },
  {
    ref: "VVV §7.1 fds=x:y, vhostfds=x:y",
    prereq: [],
    command:
      "qemu-system-x86_64 -name vm21 -m 1G -netdev tap,id=n0,fds=3:5,vhostfds=4:6 -device virtio-net-pci,netdev=n0,mq=on",
  },
  {
    ref: "VVV §7.1 br=/helper=",
    prereq: ["ip link add br0 type bridge"],
    command:
      "qemu-system-x86_64 -name vm3 -m 1G -netdev tap,id=n0,br=br0,helper=/usr/libexec/qemu-bridge-helper,sndbuf=0,vhostforce=on -device virtio-net-pci,netdev=n0",
  },
  {
    ref: "VVV §7.2 table",
    prereq: [],
    command:
      "qemu-system-x86_64 -name vm4 -m 1G -netdev tap,id=n0,vhost=on -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:57,mq=off,vectors=3,ctrl_vq=on,host_mtu=1500,rx_queue_size=1024,tx_queue_size=256,page-per-vq=off,disable-legacy=on,disable-modern=off,iommu_platform=off,ats=off,packed=on,event_idx=on,indirect_desc=on,mrg_rxbuf=on,csum=on,gso=on,guest_tso4=on,in_order=off,notification_data=off,queue_reset=on,ioeventfd=on",
  },
  {
    ref: "VVV §7.3 Typical vIOMMU + vhost",
    prereq: [],
    command:
      "qemu-system-x86_64 -name vm5 -machine q35,kernel-irqchip=split -m 2G -device intel-iommu,intremap=on,device-iotlb=on -netdev tap,id=n0,vhost=on -device virtio-net-pci,netdev=n0,iommu_platform=on,ats=on,disable-legacy=on",
  },
  {
    ref: "VVV §7.3 virtio-iommu-pci",
    prereq: [],
    command:
      "qemu-system-x86_64 -name vm6 -machine q35 -m 2G -device virtio-iommu-pci,granule=4k,aw-bits=48 -netdev tap,id=n0 -device virtio-net-pci,netdev=n0,iommu_platform=on",
  },
  {
    ref: "RS §5 -trace, filter-dump",
    prereq: [],
    command:
      "qemu-system-x86_64 -name vm7 -m 1G -netdev tap,id=n0 -object filter-dump,id=f0,netdev=n0,file=dump.pcap -device virtio-net-pci,netdev=n0 -trace virtio_queue_notify -trace vhost_vdpa_dma_map",
  },
  {
    ref: "VVV §7.1 user",
    prereq: [],
    command:
      "qemu-system-x86_64 -name vm8 -m 1G -netdev user,id=n0,net=10.0.2.0/24,host=10.0.2.2,dhcpstart=10.0.2.15,dns=10.0.2.3,hostfwd=tcp::2222-:22,restrict=off,ipv6=on -device virtio-net-pci,netdev=n0",
  },
  {
    ref: "libvirt-style qemu-kvm",
    prereq: [],
    command:
      "sudo /usr/libexec/qemu-kvm -name guest=vm9,debug-threads=on -machine pc-q35-8.2,accel=kvm -cpu host -smp 4,sockets=1,cores=4,threads=1 -m size=4G -nographic -serial mon:stdio -drive file=vm9.qcow2,if=virtio -netdev tap,id=n0,vhost=on -device virtio-net-pci,netdev=n0",
  },
  {
    ref: "a QEMU build tree",
    prereq: [],
    command:
      "./qemu/build/qemu-system-x86_64 -name vm10 -M q35 -m 2G -display none -vnc :0 -S -daemonize -pidfile /tmp/vm10.pid -netdev user,id=n0 -device virtio-net-pci,netdev=n0",
  },
  // QEMU on vhost-user (RS §5, VVV §7.1, §7.3)
  {
    ref: "VVV §7.3 memory-backend-file",
    prereq: [
      "dpdk-testpmd -l 2-4 --no-pci --vdev 'net_vhost0,iface=/tmp/vhost-user1,queues=2,client=1' -- --nb-cores=2 --rxq=2 --txq=2",
    ],
    command:
      "qemu-system-x86_64 -name vm11 -m 4G -object memory-backend-file,id=mem0,size=4G,mem-path=/dev/hugepages,share=on,prealloc=on -numa node,memdev=mem0 -chardev socket,id=c0,path=/tmp/vhost-user1,server=on,wait=off -netdev vhost-user,id=n0,chardev=c0,queues=2 -device virtio-net-pci,netdev=n0,mq=on,vectors=6",
  },
  {
    ref: "RS §5 server,nowait; VVV §7.3 memfd",
    prereq: [
      ...OVS_BR,
      "ovs-vsctl add-port ovsbr0 vhu-client0 -- set Interface vhu-client0 type=dpdkvhostuserclient options:vhost-server-path=/tmp/s",
    ],
    command:
      "qemu-system-x86_64 -name vm12 -m 4G -object memory-backend-memfd,id=mem0,size=4G,share=on,hugetlb=on,hugetlbsize=2M,seal=on -machine q35,memory-backend=mem0 -chardev socket,id=c0,path=/tmp/s,server,nowait -netdev vhost-user,id=n0,chardev=c0,vhostforce -device virtio-net-pci,netdev=n0",
  },
  {
    ref: "VVV §7.1 reconnect-ms",
    prereq: [
      ...OVS_BR,
      "ovs-vsctl add-port ovsbr0 vhost-user0 -- set Interface vhost-user0 type=dpdkvhostuser",
    ],
    command:
      "qemu-system-x86_64 -name vm13 -m 1G -object memory-backend-memfd,id=mem0,size=1G,share=on -numa node,memdev=mem0 -chardev socket,id=c0,path=/var/run/openvswitch/vhost-user0,reconnect-ms=1000 -netdev vhost-user,id=n0,chardev=c0,vhostforce=on -device virtio-net-pci,netdev=n0",
  },
  {
    ref: "VVV §7.1 abstract=on",
    prereq: [],
    command:
      "qemu-system-x86_64 -name vm23 -m 1G -object memory-backend-memfd,id=mem0,size=1G,share=on -numa node,memdev=mem0 -chardev socket,id=c0,path=vhost0.sock,server=on,wait=off,abstract=on -netdev vhost-user,id=n0,chardev=c0 -device virtio-net-pci,netdev=n0",
  },
  {
    ref: "VVV §7.1 vhost-user client",
    prereq: ["dpdk-testpmd -l 0-1 --vdev 'net_vhost0,iface=/tmp/vhost-user0,queues=1'"],
    command:
      "qemu-system-x86_64 -name vm14 -m 1G -object memory-backend-memfd,id=mem0,size=1G,share=on -numa node,memdev=mem0 -chardev socket,id=c0,path=/tmp/vhost-user0 -netdev vhost-user,id=n0,chardev=c0 -device virtio-net-pci,netdev=n0",
  },
  // QEMU on vhost-vdpa (RS §5, VVV §7.1, §7.3)
  {
    ref: "VVV §7.1 vhost-vdpa",
    prereq: VDPA0,
    command:
      "qemu-system-x86_64 -name vm15 -m 2G -netdev vhost-vdpa,id=vdpa0,vhostdev=/dev/vhost-vdpa-0 -device virtio-net-pci,netdev=vdpa0",
  },
  {
    ref: "VVV §7.1 vhost-vdpa vhostfd=h",
    prereq: VDPA0,
    command:
      "qemu-system-x86_64 -name vm22 -m 2G -netdev vhost-vdpa,id=vdpa0,vhostfd=3,queues=1,x-svq=off -device virtio-net-pci,netdev=vdpa0",
  },
  {
    ref: "VVV §7.3 vIOMMU + vhost-vdpa",
    prereq: VDPA0,
    command:
      "qemu-system-x86_64 -name vm16 -machine q35,accel=kvm,kernel-irqchip=split -m 2G -device intel-iommu,intremap=on,caching-mode=on,device-iotlb=on,aw-bits=48 -netdev vhost-vdpa,id=vdpa0,vhostdev=/dev/vhost-vdpa-0 -device virtio-net-pci,netdev=vdpa0,iommu_platform=on,ats=on",
  },
  {
    ref: "RS §5 vhost-vdpa-device-pci",
    prereq: VDPA0,
    command:
      "qemu-system-x86_64 -name vm17 -m 2G -device vhost-vdpa-device-pci,vhostdev=/dev/vhost-vdpa-0",
  },
  {
    ref: "RS §5 SVQ invocation from qemu-devel",
    // two vDPA devices first, so that the VF's is /dev/vhost-vdpa-2 as in the fixture
    prereq: [
      ...VDPA0,
      ...MLX5_SF,
      SF_VDPA1,
      "echo 2 > /sys/class/net/ens1f0/device/sriov_numvfs",
      "vdpa dev add name vdpa3 mgmtdev pci/0000:3b:00.2 max_vqp 8 mtu 9000",
    ],
    command:
      "qemu-system-x86_64 -name vm18 -m 2G -netdev type=vhost-vdpa,vhostdev=/dev/vhost-vdpa-2,id=vhost-vdpa0,queues=8,x-svq=on -device virtio-net-pci,netdev=vhost-vdpa0,page-per-vq=on,mac=52:54:00:12:34:56,ctrl_vq=on,mq=on,ctrl_vlan=off,vectors=18,host_mtu=9000,disable-legacy=on,disable-modern=off",
  },
  // VFIO (VVV §7.3)
  {
    ref: "VVV §7.3 vfio-pci",
    prereq: [
      'host cmdline "intel_iommu=on iommu=pt"',
      ...E810,
      "modprobe vfio-pci",
      "echo 0000:03:00.1 > /sys/bus/pci/drivers/ice/unbind",
      "echo vfio-pci > /sys/bus/pci/devices/0000:03:00.1/driver_override",
      "echo 0000:03:00.1 > /sys/bus/pci/drivers_probe",
    ],
    command:
      "qemu-system-x86_64 -name vm19 -machine q35,accel=kvm,kernel-irqchip=split -m 4G -device intel-iommu,intremap=on,caching-mode=on -device vfio-pci,host=0000:03:00.1,id=hostdev0",
  },
];

/** The fixture lines that are quoted commands (not lab statements, module loads or teardown). */
const QUOTED_LINE =
  /^(sudo )?(\S*\/)?(vdpa|devlink|echo|cat|ls|ovs-vsctl|dpdk-testpmd|qemu-system-x86_64|qemu-kvm) /;

function fixtureLines(text: string): string[] {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
}

/** W0401: a guest whose NIC does not come up (QEMU started, vhost did not). */
const guestDown = (diags: readonly Diagnostic[]) => diags.filter((d) => d.code === "W0401");

Deno.test("check on the reference fixture reports no error, and every guest's NIC comes up", async () => {
  const diags = await check(fixtureText, FIXTURE);
  assert.deepEqual(describe(errorsOf(diags), fixtureText), []);
  // vm11 and vm12 have 4G guests: RAM in two regions (below and above 4G) of one backend
  assert.deepEqual(describe(guestDown(diags), fixtureText), []);
});

Deno.test("the table and the fixture hold the same quoted commands, verbatim", () => {
  const lines = fixtureLines(fixtureText);
  const quoted = lines.filter((l) => QUOTED_LINE.test(l));
  const table = TABLE.map((q) => q.command);
  assert.deepEqual(quoted.filter((l) => !table.includes(l)), [], "fixture lines not in the table");
  assert.deepEqual(
    table.filter((c) => !lines.includes(c)),
    [],
    "table commands not in the fixture",
  );
  assert.equal(new Set(table).size, table.length, "a command is in the table twice");
});

Deno.test("each quoted command passes check after only its prerequisites", async (t) => {
  for (const q of TABLE) {
    await t.step(`${q.ref}: ${q.command}`, async () => {
      const text = [...q.prereq, q.command].join("\n") + "\n";
      const diags = await check(text, "quoted.vdpa");
      const last = q.prereq.length + 1;
      const prereqErrors = describe(errorsOf(diags), text).filter((d) => !d.startsWith(`${last}:`));
      assert.deepEqual(prereqErrors, [], "a prerequisite fails");
      assert.deepEqual(describe(errorsOf(diags), text), []);
      assert.deepEqual(describe(guestDown(diags), text), []);
    });
  }
});

/** `# expect: CODE…` annotations: line of the statement after each → its codes. */
function expectations(text: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  const lines = text.split("\n");
  lines.forEach((l, i) => {
    const m = /^# expect: (.+)$/.exec(l.trim());
    if (m?.[1] !== undefined) out.set(i + 2, m[1].split(/\s+/));
  });
  return out;
}

Deno.test("each reference pitfall fails the real way, at its line, and nothing else does", async () => {
  const expected = expectations(pitfallsText);
  assert.ok(expected.size >= 12, `only ${expected.size} pitfalls`);
  const diags = await check(pitfallsText, PITFALLS);
  const got = new Map<number, string[]>();
  for (const d of diags) {
    const at = d.labels.find((l) => l.primary)?.span;
    assert.ok(at !== undefined, `${d.code} ${d.message} has no location`);
    const line = lineOf(pitfallsText, at.start);
    got.set(line, [...(got.get(line) ?? []), d.code]);
  }
  assert.deepEqual(
    [...got].sort((a, b) => a[0] - b[0]),
    [...expected].sort((a, b) => a[0] - b[0]),
    describe(diags, pitfallsText).join("\n"),
  );
  // Every pitfall is refused with an error, except the misspelt driver_override, which the
  // kernel accepts and which then matches no driver (a warning, like the lab's lint).
  const warningsOnly = [...expected].filter(([, codes]) => codes.every((c) => c.startsWith("W")));
  assert.deepEqual(warningsOnly.map(([, c]) => c.join(" ")), ["W0201", "W0224"]);
});
