/**
 * A hand-built topology for the renderer tests: two guests on vhost-net behind taps in one
 * bridge with a NIC port to the wire, a third guest on vhost-vdpa over vdpa_sim (it skips the
 * switch and NIC layers), a tap that is down, and labels that need escaping.
 *
 * @module
 */

import type { TopoLayer, Topology, TopoNode } from "../topology.ts";

function node(
  id: string,
  layer: TopoLayer,
  label: string,
  group = "host",
  up = true,
): TopoNode {
  return { id, layer, kind: layer, label, details: [`${id} details`], group, up };
}

/** The sample; see the module documentation. */
export function sampleTopology(): Topology {
  const nodes: TopoNode[] = [
    node("vm1.eth0", "guest", "vm1.eth0 virtio_net", "vm1"),
    node("vm1.eth0/vqs", "virtqueue", "virtqueues rx0 tx0", "vm1"),
    node("vm1/n0", "backend", "vhost-net: worker vhost-4100"),
    node("tap0", "device", "tap0 tap"),
    node("vm2.eth0", "guest", "vm2.eth0 virtio_net", "vm2"),
    node("vm2.eth0/vqs", "virtqueue", "virtqueues rx0 tx0", "vm2"),
    node("vm2/n0", "backend", "vhost-net: worker vhost-4107"),
    node("tap1", "device", "tap1 tap (down)", "host", false),
    node("br0", "switch", 'br0 "lab" bridge \\ test'),
    node("ens1f0", "nic", "ens1f0 mlx5 25 Gbit/s"),
    node("wire", "wire", "wire 25 Gbit/s"),
    node("vm3.eth0", "guest", "vm3.eth0 virtio_net", "vm3"),
    node("vm3.eth0/vqs", "virtqueue", "virtqueues rx0 tx0", "vm3"),
    node("vm3/v0", "backend", "vhost-vdpa /dev/vhost-vdpa-0"),
    node("vdpa:vdpa0", "bus", "vDPA bus: vdpa0 → vhost_vdpa"),
    node("dev:vdpa0", "device", "vdpasim_net (3 vqs)"),
    node("iotlb:vdpa0", "iommu", "vdpa_sim IOTLB (software)"),
    node("loop:vdpa0", "wire", "loopback (tx → rx)"),
  ];
  return {
    groups: [
      { id: "vm1", kind: "vm", label: "vm1: qemu pid 4100", pid: 4100 },
      { id: "vm2", kind: "vm", label: "vm2: qemu pid 4107", pid: 4107 },
      { id: "vm3", kind: "vm", label: "vm3: qemu pid 4114", pid: 4114 },
      { id: "host", kind: "host", label: "host: 16 cores" },
    ],
    nodes,
    lanes: [
      {
        id: "vm1.eth0",
        group: "vm1",
        nodes: ["vm1.eth0", "vm1.eth0/vqs", "vm1/n0", "tap0", "br0"],
      },
      {
        id: "vm3.eth0",
        group: "vm3",
        nodes: [
          "vm3.eth0",
          "vm3.eth0/vqs",
          "vm3/v0",
          "vdpa:vdpa0",
          "dev:vdpa0",
          "iotlb:vdpa0",
          "loop:vdpa0",
        ],
      },
      {
        id: "vm2.eth0",
        group: "vm2",
        nodes: ["vm2.eth0", "vm2.eth0/vqs", "vm2/n0", "tap1", "br0"],
      },
      { id: "ens1f0", group: "host", nodes: ["br0", "ens1f0", "wire"] },
    ],
    edges: [
      { from: "vm1.eth0", to: "vm1.eth0/vqs" },
      { from: "vm1.eth0/vqs", to: "vm1/n0", label: "kick: ioeventfd, irq: irqfd → posted" },
      { from: "vm1/n0", to: "tap0", label: "tun_sendmsg / tun_recvmsg" },
      { from: "tap0", to: "br0" },
      { from: "vm3.eth0", to: "vm3.eth0/vqs" },
      { from: "vm3.eth0/vqs", to: "vm3/v0", label: "kick: ioeventfd, irq: irqfd → posted" },
      { from: "vm3/v0", to: "vdpa:vdpa0", label: 'vhost-vdpa "ioctls"' },
      { from: "vdpa:vdpa0", to: "dev:vdpa0" },
      { from: "dev:vdpa0", to: "iotlb:vdpa0" },
      { from: "iotlb:vdpa0", to: "loop:vdpa0" },
      { from: "vm2.eth0", to: "vm2.eth0/vqs" },
      { from: "vm2.eth0/vqs", to: "vm2/n0", label: "kick: ioeventfd, irq: irqfd → posted" },
      { from: "vm2/n0", to: "tap1" },
      { from: "tap1", to: "br0" },
      { from: "br0", to: "ens1f0" },
      { from: "ens1f0", to: "wire" },
    ],
    processes: [{ pid: 4100, command: "qemu-system-x86_64", name: "vm1" }],
  };
}
