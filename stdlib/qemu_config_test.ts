import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Diagnostics } from "../lang/diagnostic.ts";
import type { Span } from "../lang/span.ts";
import { testQemu } from "./check/test_commands.ts";
import {
  type DeviceConfig,
  type NetdevConfig,
  type QemuConfig,
  resolveQemu,
  type Setting,
} from "./qemu_config.ts";

const Q = "qemu-system-x86_64";
const G = 1024 ** 3;

function resolve(line: string): { config: QemuConfig; text: (s: Span) => string } {
  const diags = new Diagnostics();
  const config = resolveQemu(testQemu(line), diags);
  if (!config) {
    throw new Error(
      `does not resolve: ${diags.items.map((d) => `${d.code} ${d.message}`).join("; ")}`,
    );
  }
  return { config, text: (s) => line.slice(s.start, s.end) };
}

function nic(config: QemuConfig, i = 0) {
  const d = config.devices.filter((x) => x.kind === "virtio-net")[i];
  if (d?.kind !== "virtio-net") throw new Error("no virtio-net device");
  return d;
}

function netdev<K extends NetdevConfig["kind"]>(config: QemuConfig, kind: K, i = 0) {
  const n = config.netdevs.filter((x) => x.kind === kind)[i];
  if (!n || n.kind !== kind) throw new Error(`no ${kind} netdev`);
  return n as Extract<NetdevConfig, { kind: K }>;
}

function device<K extends DeviceConfig["kind"]>(config: QemuConfig, kind: K) {
  const d = config.devices.find((x) => x.kind === kind);
  if (!d) throw new Error(`no ${kind} device`);
  return d as Extract<DeviceConfig, { kind: K }>;
}

function value<T>(s: Setting<T>): [T, boolean] {
  return [s.value, s.explicit];
}

Deno.test("resolveQemu() returns undefined when the line has an error", () => {
  const diags = new Diagnostics();
  assertEquals(resolveQemu(testQemu(`${Q} -netdev tap,id=n0,vhost=maybe`), diags), undefined);
  assert(diags.hasErrors);
});

Deno.test("a bare virtio-net-pci gets every QEMU default, located at its option", () => {
  const line = `${Q} -netdev tap,id=n0 -device virtio-net-pci,netdev=n0`;
  const { config, text } = resolve(line);
  const d = nic(config);
  assertEquals(text(d.span), "-device virtio-net-pci,netdev=n0");
  for (
    const [s, v] of [
      [d.mq, false],
      [d.packed, false],
      [d.eventIdx, true],
      [d.indirectDesc, true],
      [d.mrgRxbuf, true],
      [d.ctrlVq, true],
      [d.inOrder, false],
      [d.iommuPlatform, false],
      [d.ats, false],
      [d.queueReset, true],
      [d.ioeventfd, true],
      [d.pagePerVq, false],
      [d.disableModern, false],
    ] as const
  ) {
    assertEquals(value(s), [v, false]);
    assertEquals(text(s.span), "-device virtio-net-pci,netdev=n0");
  }
  assertEquals(value(d.rxQueueSize), [256, false]);
  assertEquals(value(d.txQueueSize), [256, false]);
  assertEquals(value(d.hostMtu), [0, false]);
  assertEquals(value(d.tx), ["bh", false]);
  // hw/virtio/virtio-net-pci.c: 2 * max(queues, 1) + 2 for one queue pair.
  assertEquals(value(d.vectors), [4, false]);
  // On q35's root bus disable-legacy=auto keeps the legacy interface.
  assertEquals(value(d.disableLegacy), [false, false]);
  assertEquals(d.mac.value, "52:54:00:12:34:56");
  assertEquals(d.transport, "pci");
  assertEquals(d.netdev?.value, "n0");
  // The props map holds every I/O-relevant property, including the feature bits.
  assertEquals(value(d.props.csum as Setting<unknown>), [true, false]);
  assertEquals(value(d.props.guest_uso4 as Setting<unknown>), [true, false]);
  assertEquals(d.props.addr, undefined);
  assertEquals(d.props.bootindex, undefined);
});

Deno.test("written values keep the span of the value", () => {
  const line =
    `${Q} -netdev tap,id=n0,queues=4,vhost=on -device virtio-net-pci,netdev=n0,mq=on,vectors=10,packed=on,rx_queue_size=1024`;
  const { config, text } = resolve(line);
  const d = nic(config);
  assertEquals(value(d.mq), [true, true]);
  assertEquals(text(d.mq.span), "on");
  assertEquals(value(d.vectors), [10, true]);
  assertEquals(text(d.vectors.span), "10");
  assertEquals(value(d.rxQueueSize), [1024, true]);
  assertEquals(value(d.packed), [true, true]);
  const tap = netdev(config, "tap");
  assertEquals(value(tap.queues), [4, true]);
  assertEquals(text(tap.queues.span), "4");
  assertEquals(value(tap.vhost), [true, true]);
  assertEquals(text(tap.id.span), "n0");
});

Deno.test("vectors follow the netdev's queue count when not given", () => {
  const { config } = resolve(
    `${Q} -netdev tap,id=n0,queues=8 -device virtio-net-pci,netdev=n0,mq=on`,
  );
  assertEquals(value(nic(config).vectors), [18, false]);
});

Deno.test("machine compat: old machine types keep old device defaults", async (t) => {
  await t.step("pc-q35-7.1 has no queue_reset", () => {
    const { config } = resolve(
      `${Q} -M pc-q35-7.1 -netdev tap,id=n -device virtio-net-pci,netdev=n`,
    );
    assertEquals(value(nic(config).queueReset), [false, false]);
  });
  await t.step("pc-q35-5.2 has the old 3 vectors", () => {
    const { config } = resolve(
      `${Q} -M pc-q35-5.2 -netdev tap,id=n,queues=4 -device virtio-net-pci,netdev=n,mq=on`,
    );
    assertEquals(value(nic(config).vectors), [3, false]);
  });
  await t.step("a written value beats compat", () => {
    const { config } = resolve(
      `${Q} -M pc-q35-7.1 -netdev tap,id=n -device virtio-net-pci,netdev=n,queue_reset=on`,
    );
    assertEquals(value(nic(config).queueReset), [true, true]);
  });
});

Deno.test("tx_queue_size above 256 is kept for vhost-user and vhost-vdpa, clamped for tap", () => {
  const tap =
    resolve(`${Q} -netdev tap,id=n -device virtio-net-pci,netdev=n,tx_queue_size=1024`).config;
  assertEquals(nic(tap).txQueueSize.value, 1024);
  assertEquals(nic(tap).txQueueSizeEffective.value, 256);
  const vdpa = resolve(
    `${Q} -netdev vhost-vdpa,id=v,vhostdev=/dev/vhost-vdpa-0 -device virtio-net-pci,netdev=v,tx_queue_size=1024`,
  ).config;
  assertEquals(nic(vdpa).txQueueSizeEffective.value, 1024);
});

Deno.test("disable-legacy=auto resolves from the bus; variants force it", () => {
  const behind = resolve(
    `${Q} -device pcie-root-port,id=rp1 -netdev tap,id=n -device virtio-net-pci,bus=rp1,netdev=n`,
  ).config;
  assertEquals(value(nic(behind).disableLegacy), [true, false]);
  const ioh = resolve(
    `${Q} -device ioh3420,id=rp2 -netdev tap,id=n -device virtio-net-pci,bus=rp2,netdev=n`,
  ).config;
  assertEquals(value(nic(ioh).disableLegacy), [true, false]);
  const bridge = resolve(
    `${Q} -device pcie-pci-bridge,id=br1 -netdev tap,id=n -device virtio-net-pci,bus=br1,netdev=n`,
  ).config;
  assertEquals(value(nic(bridge).disableLegacy), [false, false]);
  const modern =
    resolve(`${Q} -netdev tap,id=n -device virtio-net-pci-non-transitional,netdev=n`).config;
  assertEquals(nic(modern).disableLegacy.value, true);
  const trans =
    resolve(`${Q} -netdev tap,id=n -device virtio-net-pci-transitional,netdev=n`).config;
  assertEquals(nic(trans).disableLegacy.value, false);
  const written =
    resolve(`${Q} -netdev tap,id=n -device virtio-net-pci,netdev=n,disable-legacy=on`).config;
  assertEquals(value(nic(written).disableLegacy), [true, true]);
});

Deno.test("default MACs count up and skip ones written on the line", () => {
  const { config } = resolve(
    `${Q} -netdev tap,id=a -netdev tap,id=b -netdev tap,id=c ` +
      `-device virtio-net-pci,netdev=a -device virtio-net-pci,netdev=b,mac=52:54:00:12:34:57 -device virtio-net-pci,netdev=c`,
  );
  assertEquals([0, 1, 2].map((i) => nic(config, i).mac.value), [
    "52:54:00:12:34:56",
    "52:54:00:12:34:57",
    "52:54:00:12:34:58",
  ]);
});

Deno.test("netdevs resolve with their backend-specific defaults", async (t) => {
  await t.step("tap", () => {
    const t0 = netdev(
      resolve(`${Q} -netdev tap,id=n -device virtio-net-pci,netdev=n`).config,
      "tap",
    );
    assertEquals(value(t0.vhost), [false, false]);
    assertEquals(value(t0.queues), [1, false]);
    assertEquals(value(t0.script), ["/etc/qemu-ifup", false]);
    assertEquals(value(t0.vnetHdr), [true, false]);
    assertEquals(t0.ifname, undefined);
  });
  await t.step("tap with vhostfd= implies vhost", () => {
    const t1 = netdev(
      resolve(`${Q} -netdev tap,id=n,fd=3,vhostfd=4 -device virtio-net-pci,netdev=n`).config,
      "tap",
    );
    assertEquals(value(t1.vhost), [true, true]);
  });
  await t.step("vhost-vdpa keeps vhostdev and x-svq", () => {
    const v = netdev(
      resolve(
        `${Q} -netdev type=vhost-vdpa,vhostdev=/dev/vhost-vdpa-1,id=v,x-svq=on -device virtio-net-pci,netdev=v`,
      ).config,
      "vhost-vdpa",
    );
    assertEquals(v.vhostdev?.value, "/dev/vhost-vdpa-1");
    assertEquals(value(v.svq), [true, true]);
  });
  await t.step("user networking", () => {
    const u = netdev(
      resolve(
        `${Q} -netdev user,id=u,hostfwd=tcp::2222-:22,hostfwd=tcp::8080-:80 -device virtio-net-pci,netdev=u`,
      ).config,
      "user",
    );
    assertEquals(value(u.net), ["10.0.2.0/24", false]);
    assertEquals(u.hostfwd.map((h) => h.value), ["tcp::2222-:22", "tcp::8080-:80"]);
  });
});

Deno.test("a vhost-user VM: socket chardev, shared hugepage memory, RAM from the backend", () => {
  const line =
    `${Q} -object memory-backend-memfd,id=mem0,size=4G,share=on,hugetlb=on,hugetlbsize=2M ` +
    `-machine q35,memory-backend=mem0 -chardev socket,id=c0,path=/tmp/vu0,server=on,wait=off ` +
    `-netdev vhost-user,id=n0,chardev=c0,queues=2 -device virtio-net-pci,netdev=n0,mq=on`;
  const { config, text } = resolve(line);
  const vu = netdev(config, "vhost-user");
  assertEquals(vu.chardev.value, "c0");
  assertEquals(value(vu.queues), [2, true]);
  const c = config.chardevs[0]?.socket;
  assertEquals(c?.path?.value, "/tmp/vu0");
  assertEquals(value(c?.server as Setting<boolean>), [true, true]);
  assertEquals(value(c?.wait as Setting<boolean>), [false, true]);
  assertEquals(value(config.sharedMemory), [true, true]);
  assertEquals(text(config.sharedMemory.span), "on");
  assertEquals(value(config.hugepages), [true, true]);
  // -m was not given: RAM is the backend's size.
  assertEquals(config.memory.size.value, 4 * G);
  assertEquals(config.memoryBackends[0]?.hugetlbsize.value, 2 * 1024 * 1024);
  assertEquals(value(nic(config).vectors), [6, false]);
});

Deno.test("a client socket does not wait; reconnect= seconds become milliseconds", () => {
  const { config } = resolve(`${Q} -chardev socket,id=c,path=/s,reconnect=2`);
  const s = config.chardevs[0]?.socket;
  assertEquals(value(s?.wait as Setting<boolean>), [false, false]);
  assertEquals(s?.reconnectMs.value, 2000);
});

Deno.test("memory: -m in MiB or with a suffix; -mem-path is private; the default is 128M", () => {
  assertEquals(resolve(`${Q} -m 2048`).config.memory.size.value, 2 * G);
  assertEquals(resolve(`${Q} -m size=1.5G`).config.memory.size.value, 1.5 * G);
  assertEquals(value(resolve(Q).config.memory.size), [128 * 1024 * 1024, false]);
  const hp = resolve(`${Q} -m 1G -mem-path /dev/hugepages`).config;
  assertEquals(value(hp.sharedMemory), [false, false]);
  assertEquals(hp.hugepages.value, true);
});

Deno.test("machine: q35 by default, accel tcg unless KVM is asked for, irqchip follows", () => {
  const plain = resolve(Q).config.machine;
  assertEquals([plain.type.value, plain.family, plain.accel.value, plain.kernelIrqchip.value], [
    "pc-q35-10.2",
    "q35",
    "tcg",
    "off",
  ]);
  const kvm = resolve(`${Q} -enable-kvm`).config.machine;
  assertEquals([kvm.accel.value, kvm.kernelIrqchip.value], ["kvm", "on"]);
  const split = resolve(`${Q} -machine q35,accel=kvm:tcg,kernel-irqchip=split`).config.machine;
  assertEquals([split.accel.value, split.kernelIrqchip.value], ["kvm", "split"]);
  const accelOpt = resolve(`${Q} -accel kvm,kernel-irqchip=split`).config.machine;
  assertEquals([accelOpt.accel.value, accelOpt.kernelIrqchip.value], ["kvm", "split"]);
  assertEquals(resolve(`/usr/libexec/qemu-kvm`).config.machine.accel.value, "kvm");
  assertEquals(resolve(`${Q} -M pc-i440fx-9.0`).config.machine.version, [9, 0]);
});

Deno.test("intel-iommu: intremap=auto is on unless the irqchip is all in KVM", () => {
  const tcg = device(resolve(`${Q} -M q35 -device intel-iommu`).config, "intel-iommu");
  assertEquals(value(tcg.intremap), [true, false]);
  const kvm = device(resolve(`${Q} -M q35,accel=kvm -device intel-iommu`).config, "intel-iommu");
  assertEquals(value(kvm.intremap), [false, false]);
  const split = device(
    resolve(
      `${Q} -M q35,accel=kvm,kernel-irqchip=split -device intel-iommu,caching-mode=on,device-iotlb=on,aw-bits=48`,
    )
      .config,
    "intel-iommu",
  );
  assertEquals([
    split.intremap.value,
    split.cachingMode.value,
    split.deviceIotlb.value,
    split.awBits.value,
  ], [
    true,
    true,
    true,
    48,
  ]);
});

Deno.test("vfio-pci resolves its host address canonically", () => {
  const v = device(
    resolve(
      `${Q} -M q35 -device intel-iommu,caching-mode=on -device vfio-pci,host=3b:00.1,id=hostdev0`,
    ).config,
    "vfio-pci",
  );
  assertEquals(v.host?.value, "0000:3b:00.1");
  assertEquals(v.id?.value, "hostdev0");
});

Deno.test("-nic makes a netdev and a NIC; -net wires NICs to hub 0's backend", async (t) => {
  await t.step("-nic", () => {
    const { config } = resolve(`${Q} -nic tap,model=virtio-net-pci,vhost=on,mac=52:54:00:aa:bb:cc`);
    const tap = netdev(config, "tap");
    assertEquals([tap.id.value, tap.origin, tap.vhost.value], ["__org.qemu.nic0", "nic", true]);
    const d = nic(config);
    assertEquals([d.origin, d.netdev?.value, d.mac.value], [
      "nic",
      "__org.qemu.nic0",
      "52:54:00:aa:bb:cc",
    ]);
  });
  await t.step("-nic model=virtio is virtio-net-pci; the default model is the machine's", () => {
    assertEquals(nic(resolve(`${Q} -nic user,model=virtio`).config).type, "virtio-net-pci");
    const dflt = resolve(`${Q} -nic user`).config.devices[0];
    assertEquals([dflt?.kind, dflt?.type], ["unmodelled", "e1000e"]);
  });
  await t.step("-net", () => {
    const { config } = resolve(`${Q} -net nic,model=virtio -net tap,ifname=tap0`);
    assertEquals(netdev(config, "tap").id.value, "tap.0");
    assertEquals(nic(config).netdev?.value, "tap.0");
  });
});

Deno.test("-global sets a default that the device's own property overrides", () => {
  const { config } = resolve(
    `${Q} -global virtio-net-pci.packed=on -netdev tap,id=a -netdev tap,id=b ` +
      `-device virtio-net-pci,netdev=a -device virtio-net-pci,netdev=b,packed=off`,
  );
  assertEquals(value(nic(config, 0).packed), [true, true]);
  assertEquals(value(nic(config, 1).packed), [false, true]);
});

Deno.test("name, smp and NUMA nodes", () => {
  const { config } = resolve(
    `${Q} -name guest=vm7,debug-threads=on -smp 4,sockets=2,cores=2 -m 2G ` +
      `-object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=1G ` +
      `-numa node,nodeid=0,memdev=m0,cpus=0-1 -numa node,nodeid=1,memdev=m1,cpus=2-3`,
  );
  assertEquals(config.name?.value, "vm7");
  assertEquals([
    config.smp.cpus.value,
    config.smp.sockets.value,
    config.smp.cores.value,
    config.smp.threads.value,
  ], [
    4,
    2,
    2,
    1,
  ]);
  assertEquals(config.numaNodes.map((n) => [n.nodeid.value, n.memdev?.value, n.cpus?.value]), [
    [0, "m0", "0-1"],
    [1, "m1", "2-3"],
  ]);
  assertEquals(resolve(`${Q} -name vm2`).config.name?.value, "vm2");
  assertEquals(resolve(Q).config.name, undefined);
});

Deno.test("devices and netdevs keep command-line order", () => {
  const { config } = resolve(
    `${Q} -M q35 -device pcie-root-port,id=rp -device intel-iommu -netdev user,id=u -netdev tap,id=t ` +
      `-device virtio-net-pci,netdev=t,iommu_platform=on -device virtio-net-pci,netdev=u,iommu_platform=on -device VGA`,
  );
  assertEquals(config.devices.map((d) => d.kind), [
    "pcie-root-port",
    "intel-iommu",
    "virtio-net",
    "virtio-net",
    "ignored",
  ]);
  assertEquals(config.netdevs.map((n) => n.id.value), ["u", "t"]);
});
