import { deepEqual as assertEquals } from "node:assert/strict";
import { catalogProblems, findClass } from "./schema.ts";
import { DEVICE_DRIVERS, VIRTIO_NET_DRIVERS } from "./qemu_device.ts";

function prop(driver: string, key: string) {
  const cls = findClass(DEVICE_DRIVERS, driver);
  if (!cls) throw new Error(`${driver} is not catalogued`);
  const p = cls.props[key];
  if (!p) throw new Error(`${driver}.${key} is not catalogued`);
  return p;
}

Deno.test("the device catalog is well-formed data", () => {
  assertEquals(catalogProblems(DEVICE_DRIVERS), []);
});

Deno.test("virtio-net-pci defaults match hw/net/virtio-net.c virtio_net_properties", () => {
  // DEFINE_PROP_BIT64(..., true) feature bits.
  for (
    const on of [
      "csum",
      "guest_csum",
      "gso",
      "guest_tso4",
      "guest_tso6",
      "guest_ecn",
      "guest_ufo",
      "guest_announce",
      "host_tso4",
      "host_tso6",
      "host_ecn",
      "host_ufo",
      "mrg_rxbuf",
      "status",
      "ctrl_vq",
      "ctrl_rx",
      "ctrl_vlan",
      "ctrl_rx_extra",
      "ctrl_mac_addr",
      "ctrl_guest_offloads",
    ]
  ) {
    assertEquals([on, prop("virtio-net-pci", on).default], [on, true]);
    assertEquals([on, prop("virtio-net-pci", on).type], [on, "bool"]);
  }
  for (const off of ["mq", "rss", "hash", "guest_rsc_ext", "failover"]) {
    assertEquals([off, prop("virtio-net-pci", off).default], [off, false]);
  }
  // DEFINE_PROP_UINT16 rx/tx_queue_size (VIRTIO_NET_*_QUEUE_DEFAULT_SIZE 256), host_mtu 0.
  assertEquals(prop("virtio-net-pci", "rx_queue_size"), {
    ...prop("virtio-net-pci", "rx_queue_size"),
    type: "uint",
    width: 16,
    default: 256,
  });
  assertEquals(prop("virtio-net-pci", "tx_queue_size").default, 256);
  assertEquals(prop("virtio-net-pci", "tx_queue_size").width, 16);
  assertEquals(prop("virtio-net-pci", "host_mtu").default, 0);
  // TX_TIMER_INTERVAL 150000, TX_BURST 256, VIRTIO_NET_RSC_DEFAULT_INTERVAL 300000, SPEED_UNKNOWN.
  assertEquals(prop("virtio-net-pci", "x-txtimer").default, 150000);
  assertEquals(prop("virtio-net-pci", "x-txburst").default, 256);
  assertEquals(prop("virtio-net-pci", "rsc_interval").default, 300000);
  assertEquals(prop("virtio-net-pci", "speed").default, -1);
  assertEquals(prop("virtio-net-pci", "x-mtu-bypass-backend").default, true);
  assertEquals(prop("virtio-net-pci", "netdev").refKind, "netdev");
});

Deno.test("virtio common features match DEFINE_VIRTIO_COMMON_FEATURES", () => {
  const expected: Record<string, boolean> = {
    indirect_desc: true,
    event_idx: true,
    notify_on_empty: true,
    any_layout: true,
    iommu_platform: false,
    packed: false,
    queue_reset: true,
    in_order: false,
    notification_data: false,
  };
  for (const driver of VIRTIO_NET_DRIVERS) {
    for (const [key, dflt] of Object.entries(expected)) {
      assertEquals([driver, key, prop(driver, key).default], [driver, key, dflt]);
    }
  }
});

Deno.test("virtio-pci transport defaults match hw/virtio/virtio-pci.c", () => {
  assertEquals(prop("virtio-net-pci", "disable-legacy").default, "auto");
  assertEquals(prop("virtio-net-pci", "disable-legacy").type, "onoffauto");
  assertEquals(prop("virtio-net-pci", "disable-modern").default, false);
  assertEquals(prop("virtio-net-pci", "page-per-vq").default, false);
  assertEquals(prop("virtio-net-pci", "ats").default, false);
  assertEquals(prop("virtio-net-pci", "migrate-extra").default, true);
  assertEquals(prop("virtio-net-pci", "x-ats-page-aligned").default, true);
  // hw/virtio/virtio-net-pci.c: ioeventfd on; vectors computed (no static default).
  assertEquals(prop("virtio-net-pci", "ioeventfd").default, true);
  assertEquals(prop("virtio-net-pci", "vectors").default, undefined);
  assertEquals(prop("virtio-net-pci", "vectors").width, 32);
});

Deno.test("intel-iommu defaults match x86-iommu.c and intel_iommu.c", () => {
  assertEquals(prop("intel-iommu", "intremap").default, "auto");
  assertEquals(prop("intel-iommu", "device-iotlb").default, false);
  assertEquals(prop("intel-iommu", "pt").default, true);
  assertEquals(prop("intel-iommu", "caching-mode").default, false);
  assertEquals(prop("intel-iommu", "aw-bits").default, 39);
  assertEquals(prop("intel-iommu", "dma-drain").default, true);
  assertEquals(prop("intel-iommu", "dma-translation").default, true);
  assertEquals(prop("intel-iommu", "eim").default, "auto");
});

Deno.test("I/O relevance: feature bits and queues matter, PCI slots and ROMs do not", () => {
  for (
    const key of [
      "mq",
      "packed",
      "event_idx",
      "iommu_platform",
      "tx_queue_size",
      "vectors",
      "netdev",
    ]
  ) {
    assertEquals([key, prop("virtio-net-pci", key).ioRelevant], [key, true]);
  }
  for (const key of ["addr", "romfile", "bootindex", "rsc_interval", "speed", "multifunction"]) {
    assertEquals([key, prop("virtio-net-pci", key).ioRelevant], [key, false]);
  }
});

Deno.test("aliases and variants resolve like qdev_alias_table", () => {
  assertEquals(findClass(DEVICE_DRIVERS, "virtio-net")?.name, "virtio-net-pci");
  assertEquals(findClass(DEVICE_DRIVERS, "virtio-iommu")?.name, "virtio-iommu-pci");
  assertEquals(findClass(DEVICE_DRIVERS, "virtio-net-pci-non-transitional")?.status, "modelled");
  assertEquals(findClass(DEVICE_DRIVERS, "e1000e")?.status, "unmodelled");
  assertEquals(findClass(DEVICE_DRIVERS, "VGA")?.status, "ignored");
  assertEquals(findClass(DEVICE_DRIVERS, "vga"), undefined);
  assertEquals(findClass(DEVICE_DRIVERS, "toString"), undefined);
});
