/**
 * From a resolved QEMU command line ({@link QemuConfig}, every value located) to the plain
 * runtime {@link VmSpec} the VM model starts from, plus the way back: {@link VmSpecMap.locate}
 * turns a runtime {@link SpecPath} (`{ netdev: 0, prop: "ifname" }`) into the span of that
 * property in the script, so a runtime error is reported where the user wrote the value.
 *
 * @example
 * ```ts
 * import { Diagnostics } from "../lang/diagnostic.ts";
 * import { testQemu } from "./check/test_commands.ts";
 * import { resolveQemu } from "./qemu_config.ts";
 * import { vmSpecOf } from "./vm_spec.ts";
 * const cmd = testQemu("qemu-system-x86_64 -name vm1 -m 1G -netdev tap,id=n0,ifname=tap0,vhost=on -device virtio-net-pci,netdev=n0");
 * const config = resolveQemu(cmd, new Diagnostics());
 * if (config === undefined) throw new Error("valid");
 * const map = vmSpecOf(config, 0n);
 * const nd = map.spec.netdevs[0];
 * if (nd?.kind !== "tap" || !nd.vhost || nd.ifname !== "tap0") throw new Error("tap vhost=on");
 * const span = map.locate({ netdev: 0, prop: "ifname" });
 * if (cmd.span.source !== span.source || span.start <= cmd.span.start) throw new Error("located");
 * ```
 *
 * @module
 */

import type { Span } from "../lang/span.ts";
import type {
  ChardevSpec,
  DeviceSpec,
  NetdevSpec,
  RamSpec,
  SpecPath,
  VirtioNetDeviceSpec,
  VmSpec,
} from "../runtime/qemu/vm_spec.ts";
import type {
  ChardevConfig,
  DeviceConfig,
  MemoryBackendConfig,
  NetdevConfig,
  QemuConfig,
  VirtioNetDeviceConfig,
} from "./qemu_config.ts";

/** A VM spec and the way from its paths back to the script. */
export interface VmSpecMap {
  readonly spec: VmSpec;
  /** The span a runtime error at `at` should point to. */
  locate(at: SpecPath): Span;
}

/** `x-svq` → `svq`, `poll-us` → `pollUs`. */
function fieldOf(prop: string): string {
  if (prop === "x-svq") return "svq";
  return prop.replace(/[-_]([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function spanOf(obj: object, prop: string | undefined, fallback: Span): Span {
  if (prop === undefined) return fallback;
  const field = (obj as Record<string, unknown>)[fieldOf(prop)] ??
    (obj as Record<string, unknown>)[prop];
  if (typeof field === "object" && field !== null && "span" in field) {
    return (field as { span: Span }).span;
  }
  const props = (obj as { props?: Record<string, { span: Span }> }).props;
  return props?.[prop]?.span ?? fallback;
}

function chardevSpec(c: ChardevConfig, index: number): ChardevSpec {
  const s = c.socket;
  return {
    id: c.id?.value ?? `chardev${index}`,
    backend: c.backend.value,
    ...(s?.path ? { path: s.path.value } : {}),
    server: s?.server.value ?? false,
    wait: s?.wait.value ?? true,
    reconnectMs: s?.reconnectMs.value ?? 0,
    at: { chardev: index },
  };
}

function netdevSpec(nd: NetdevConfig, index: number, chardevs: readonly ChardevSpec[]): NetdevSpec {
  const base = { id: nd.id.value, queues: nd.queues.value, at: { netdev: index }, index };
  switch (nd.kind) {
    case "tap":
      return {
        ...base,
        // net/tap.c net_init_tap: with fds= QEMU opens one queue per fd (queues= is not read).
        ...(nd.fds ? { queues: nd.fds.value.split(":").length } : {}),
        kind: "tap",
        ...(nd.ifname ? { ifname: nd.ifname.value } : {}),
        vhost: nd.vhost.value,
        vnetHdr: nd.vnetHdr.value,
        vhostforce: false,
        pollUs: nd.pollUs.value,
        ...(nd.fd ? { fd: nd.fd.value } : nd.fds ? { fd: nd.fds.value } : {}),
        ...(nd.vhostfd
          ? { vhostfd: nd.vhostfd.value }
          : nd.vhostfds
          ? { vhostfd: nd.vhostfds.value }
          : {}),
        script: nd.script.value,
        ...(nd.br.explicit ? { br: nd.br.value } : {}),
      };
    case "user":
      return {
        ...base,
        kind: "user",
        net: nd.net.value,
        host: nd.host.value,
        dhcpstart: nd.dhcpstart.value,
        restrict: nd.restrict.value,
      };
    case "vhost-user": {
      const chardev = chardevs.find((c) => c.id === nd.chardev.value) ?? {
        id: nd.chardev.value,
        backend: "socket",
        server: false,
        wait: true,
        reconnectMs: 0,
        at: { netdev: index, prop: "chardev" },
      };
      return { ...base, kind: "vhost-user", chardev };
    }
    case "vhost-vdpa":
      return {
        ...base,
        kind: "vhost-vdpa",
        vhostdev: nd.vhostdev?.value ?? "/dev/vhost-vdpa-0",
        ...(nd.vhostfd ? { vhostfd: nd.vhostfd.value } : {}),
        svq: nd.svq.value,
      };
    case "unmodelled":
      return { ...base, kind: "other", type: nd.type.value };
  }
}

function virtioNetSpec(
  d: VirtioNetDeviceConfig,
  index: number,
  netdevs: readonly NetdevConfig[],
): VirtioNetDeviceSpec {
  const nd = d.netdev === undefined
    ? -1
    : netdevs.findIndex((n) => n.id.value === (d.netdev as { value: string }).value);
  const featureProps: Record<string, boolean> = {};
  for (const [k, s] of Object.entries(d.props)) {
    if (typeof s.value === "boolean") featureProps[k] = s.value;
  }
  const burst = d.props["x-txburst"]?.value;
  return {
    kind: "virtio-net-pci",
    at: { device: index },
    ...(d.id ? { id: d.id.value } : {}),
    ...(nd >= 0 ? { netdev: nd } : {}),
    mac: d.mac.value,
    mq: d.mq.value,
    vectors: d.vectors.value,
    rxQueueSize: d.rxQueueSize.value,
    txQueueSize: d.txQueueSizeEffective.value,
    hostMtu: d.hostMtu.value,
    packed: d.packed.value,
    eventIdx: d.eventIdx.value,
    indirectDesc: d.indirectDesc.value,
    mrgRxbuf: d.mrgRxbuf.value,
    ctrlVq: d.ctrlVq.value,
    inOrder: d.inOrder.value,
    iommuPlatform: d.iommuPlatform.value,
    ats: d.ats.value,
    queueReset: d.queueReset.value,
    ioeventfd: d.ioeventfd.value,
    pagePerVq: d.pagePerVq.value,
    disableLegacy: d.disableLegacy.value,
    featureProps,
    tx: d.tx.value,
    txBurst: typeof burst === "number" && burst > 0 ? burst : 256,
  };
}

function deviceSpec(d: DeviceConfig, index: number, netdevs: readonly NetdevConfig[]): DeviceSpec {
  const at = { device: index };
  const id = d.id ? { id: d.id.value } : {};
  switch (d.kind) {
    case "virtio-net":
      return virtioNetSpec(d, index, netdevs);
    case "vfio-pci":
      return {
        kind: "vfio-pci",
        at,
        ...id,
        ...(d.host ? { host: d.host.value } : {}),
        ...(d.sysfsdev ? { sysfsdev: d.sysfsdev.value } : {}),
      };
    case "intel-iommu":
      return {
        kind: "intel-iommu",
        at,
        ...id,
        intremap: d.intremap.value,
        cachingMode: d.cachingMode.value,
        deviceIotlb: d.deviceIotlb.value,
        awBits: d.awBits.value,
      };
    case "virtio-iommu":
      return {
        kind: "virtio-iommu-pci",
        at,
        ...id,
        intremap: false,
        cachingMode: false,
        deviceIotlb: false,
        awBits: 48,
      };
    default: {
      const nd = "netdev" in d && d.netdev !== undefined
        ? netdevs.findIndex((n) => n.id.value === d.netdev?.value)
        : -1;
      return { kind: "other", at, type: d.type, ...id, ...(nd >= 0 ? { netdev: nd } : {}) };
    }
  }
}

function ramSpecs(config: QemuConfig): RamSpec[] {
  const byId = new Map(config.memoryBackends.map((b, i) => [b.id.value, [b, i] as const]));
  const block = (b: MemoryBackendConfig, i: number): RamSpec => ({
    name: b.id.value,
    size: b.size.value,
    shared: b.share.value,
    hugepages: b.hugepages.value,
    // memory-backend-file and -memfd have an fd another process can map; -ram has none.
    fd: b.type.value !== "memory-backend-ram",
    backend: b.id.value,
    at: { object: i, prop: "size" },
  });
  const mb = config.machine.memoryBackend;
  if (mb !== undefined) {
    const e = byId.get(mb.value);
    return e ? [block(e[0], e[1])] : [];
  }
  const out: RamSpec[] = [];
  for (const n of config.numaNodes) {
    const e = n.memdev ? byId.get(n.memdev.value) : undefined;
    if (e) out.push(block(e[0], e[1]));
  }
  return out;
}

/** Maps a resolved command line onto a VM spec; `netDriverFeatures` is the guest's table. */
export function vmSpecOf(config: QemuConfig, netDriverFeatures: bigint): VmSpecMap {
  const chardevs = config.chardevs.map(chardevSpec);
  const family = config.machine.family;
  const spec: VmSpec = {
    ...(config.name ? { name: config.name.value } : {}),
    machine: family === "q35" || family === "pc" || family === "microvm" ? family : "other",
    accel: config.machine.accel.value,
    kernelIrqchip: config.machine.kernelIrqchip.value,
    ramSize: config.memory.size.value,
    ram: ramSpecs(config),
    cpus: config.smp.cpus.value,
    chardevs,
    netdevs: config.netdevs.map((nd, i) => netdevSpec(nd, i, chardevs)),
    devices: config.devices.map((d, i) => deviceSpec(d, i, config.netdevs)),
    guest: {
      netDriverFeatures,
      ...(config.kernel !== undefined && config.append !== undefined
        ? { cmdline: config.append.value }
        : {}),
    },
  };
  const locate = (at: SpecPath): Span => {
    if ("vm" in at) {
      switch (at.vm) {
        case "name":
          return config.name?.span ?? config.program.span;
        case "memory":
          return config.memory.span;
        case "smp":
          return config.smp.span;
        case "machine":
          return config.machine.span;
      }
    }
    if ("netdev" in at) {
      const nd = config.netdevs[at.netdev];
      return nd ? spanOf(nd, at.prop, nd.span) : config.span;
    }
    if ("device" in at) {
      const d = config.devices[at.device];
      return d ? spanOf(d, at.prop, d.span) : config.span;
    }
    if ("chardev" in at) {
      const c = config.chardevs[at.chardev];
      if (c === undefined) return config.span;
      return c.socket ? spanOf(c.socket, at.prop, c.span) : c.span;
    }
    const o = config.memoryBackends[at.object];
    return o ? spanOf(o, at.prop, o.span) : config.span;
  };
  return { spec, locate };
}
