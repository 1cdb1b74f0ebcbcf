/**
 * Cross-option rules of one QEMU command line, checked on its resolved configuration: ids
 * unique per namespace, references that resolve, a netdev used by one NIC only, frontends that
 * fit their backends, virtqueue sizes, MSI-X vectors, multiqueue, the vIOMMU's machine and
 * irqchip requirements, and memory sizes and sharing. Each error quotes the text QEMU prints
 * for the same mistake (sources cited on the line that enforces the rule).
 *
 * @example A NIC pointing at a netdev that does not exist
 * ```ts
 * import { Diagnostics } from "../../lang/diagnostic.ts";
 * import { resolveQemu } from "../qemu_config.ts";
 * import { testQemu } from "./test_commands.ts";
 * const diags = new Diagnostics();
 * resolveQemu(testQemu("qemu-system-x86_64 -device virtio-net-pci,netdev=n9"), diags);
 * if (!diags.items.some((d) => d.code === "E0229")) throw new Error("dangling netdev=");
 * ```
 *
 * @module
 */

import { type Diagnostics, error, warning } from "../../lang/diagnostic.ts";
import type { Span } from "../../lang/span.ts";
import type { Located } from "../../lang/word.ts";
import { didYouMean } from "../../lang/suggest.ts";
import {
  MSIX_MAX_VECTORS,
  VIRTIO_NET_QUEUE_MIN_SIZE,
  VIRTQUEUE_MAX_SIZE,
} from "../catalog/qemu_device.ts";
import { MAX_QUEUE_NUM } from "../catalog/qemu_netdev.ts";
import type { DeviceConfig, QemuConfig, VirtioNetDeviceConfig } from "../qemu_config.ts";

/**
 * Checks the rules that span several options and returns the configuration with what QEMU
 * would adjust silently applied (RAM size taken from `memory-backend=`, MSI-X off when the
 * table cannot be set up).
 */
export function checkQemuRules(config: QemuConfig, diags: Diagnostics): QemuConfig {
  checkDuplicateIds(config, diags);
  checkReferences(config, diags);
  checkNetdevUse(config, diags);
  const devices = config.devices.map((d) =>
    d.kind === "virtio-net" ? checkVirtioNet(d, config, diags) : d
  );
  checkNetdevs(config, diags);
  checkViommu({ ...config, devices }, diags);
  checkKernel(config, diags);
  checkCpuLimit(config, diags);
  const memory = checkMemory(config, diags);
  return { ...config, devices, memory };
}

// ---------------------------------------------------------------------------------------------

/** The most vCPUs (maxcpus) a machine type takes: QEMU's `MachineClass.max_cpus`. */
function machineMaxCpus(machine: QemuConfig["machine"]): number {
  const v = machine.version;
  switch (machine.family) {
    case "q35":
      // hw/i386/pc_q35.c: 288 up to pc-q35-8.0, 1024 in 8.1 and 8.2, 4096 since 9.0.
      if (v === undefined || v[0] > 8) return 4096;
      return v[0] < 8 || v[1] === 0 ? 288 : 1024;
    case "pc":
      return 255; // hw/i386/pc.c pc_machine_class_init
    case "microvm":
      return 288; // hw/i386/microvm.c microvm_class_init
    case "isapc":
    case "none":
      return 1; // hw/i386/pc_piix.c isapc_machine_options; hw/core/null-machine.c
  }
}

function checkCpuLimit(config: QemuConfig, diags: Diagnostics): void {
  const max = machineMaxCpus(config.machine);
  const want = config.smp.maxcpus;
  // hw/core/machine-smp.c machine_parse_smp_config: maxcpus above the machine's max_cpus.
  if (want.value <= max) return;
  diags.push(
    error("E0238", `more vCPUs than machine \`${config.machine.type.value}\` supports`, {
      span: want.explicit ? want.span : config.smp.cpus.span,
      label: `${want.value} > ${max}`,
      notes: [
        `QEMU says: Invalid SMP CPUs ${want.value}. The max CPUs supported by machine '${config.machine.type.value}' is ${max}`,
      ],
      help: [`use at most ${max} vCPUs (\`-smp ${Math.min(max, 4)}\` is plenty for a lab)`],
    }),
  );
}

interface Named {
  readonly id: Located<string>;
  readonly span: Span;
}

function duplicates(
  diags: Diagnostics,
  entries: readonly Named[],
  what: string,
  realText: (id: string) => string,
): void {
  const seen = new Map<string, Named>();
  for (const e of entries) {
    const first = seen.get(e.id.value);
    if (!first) {
      seen.set(e.id.value, e);
      continue;
    }
    diags.push(
      error("E0228", `${what} id \`${e.id.value}\` is defined twice`, {
        span: e.id.span,
        label: "second definition",
        secondary: [{ span: first.id.span, message: "first defined here" }],
        notes: [`QEMU says: ${realText(e.id.value)}`],
        help: ["give each one its own id"],
      }),
    );
  }
}

/** Ids are unique per QEMU namespace: netdevs, chardevs, objects and devices each have theirs. */
function checkDuplicateIds(config: QemuConfig, diags: Diagnostics): void {
  // util/qemu-option.c qemu_opts_create: "Duplicate ID '%s' for %s".
  duplicates(diags, config.netdevs, "netdev", (id) => `Duplicate ID '${id}' for netdev`);
  duplicates(
    diags,
    config.chardevs.filter((c): c is typeof c & Named => c.id !== undefined),
    "chardev",
    (id) => `Duplicate ID '${id}' for chardev`,
  );
  // qom/object.c object_property_try_add: objects are children of /objects.
  const objects: Named[] = [
    ...config.memoryBackends,
    ...config.otherObjects.filter((o): o is typeof o & Named => o.id !== undefined),
  ].sort((a, b) => a.span.start - b.span.start);
  duplicates(
    diags,
    objects,
    "object",
    (id) => `attempt to add duplicate property '${id}' to object (type 'container')`,
  );
  // system/qdev-monitor.c qdev_set_id.
  duplicates(
    diags,
    config.devices.filter((d): d is DeviceConfig & Named => d.id !== undefined),
    "device",
    (id) => `Duplicate device ID '${id}'`,
  );
}

function dangling(
  diags: Diagnostics,
  ref: Located<string>,
  what: string,
  known: readonly string[],
  realText: string | undefined,
  extraNote?: string,
): void {
  const help = didYouMean(ref.value, known);
  const notes = [
    ...(realText === undefined ? [] : [`QEMU says: ${realText}`]),
    ...(extraNote === undefined ? [] : [extraNote]),
  ];
  diags.push(
    error("E0229", `no ${what} with id \`${ref.value}\``, {
      span: ref.span,
      label: `no such ${what}`,
      notes,
      help: help === undefined
        ? known.length > 0 ? [`defined ${what}s: ${known.map((k) => `\`${k}\``).join(", ")}`] : []
        : [help],
    }),
  );
}

/** Every `netdev=`, `chardev=`, `memdev=`, `memory-backend=` and `bus=` names something. */
function checkReferences(config: QemuConfig, diags: Diagnostics): void {
  const netdevIds = config.netdevs.map((n) => n.id.value);
  const chardevIds = config.chardevs.flatMap((c) => c.id ? [c.id.value] : []);
  const memdevIds = config.memoryBackends.map((b) => b.id.value);
  for (const dev of config.devices) {
    const netdev = dev.kind === "virtio-net" || dev.kind === "unmodelled" ? dev.netdev : undefined;
    if (netdev && !netdevIds.includes(netdev.value)) {
      // hw/core/qdev-properties-system.c set_netdev: -ENOENT.
      dangling(
        diags,
        netdev,
        "netdev",
        netdevIds,
        `Property '${dev.type}.netdev' can't find value '${netdev.value}'`,
      );
    }
    if (dev.kind === "ignored" && dev.chardev && !chardevIds.includes(dev.chardev.value)) {
      dangling(
        diags,
        dev.chardev,
        "chardev",
        chardevIds,
        `Property '${dev.type}.chardev' can't find value '${dev.chardev.value}'`,
      );
    }
  }
  for (const nd of config.netdevs) {
    if (nd.kind === "vhost-user" && !chardevIds.includes(nd.chardev.value)) {
      // net/vhost-user.c net_vhost_claim_chardev.
      dangling(diags, nd.chardev, "chardev", chardevIds, `chardev "${nd.chardev.value}" not found`);
    }
  }
  for (const o of config.otherObjects) {
    if (o.netdev && !netdevIds.includes(o.netdev.value)) {
      dangling(diags, o.netdev, "netdev", netdevIds, undefined);
    }
    if (o.chardev && !chardevIds.includes(o.chardev.value)) {
      dangling(diags, o.chardev, "chardev", chardevIds, undefined);
    }
  }
  for (const n of config.numaNodes) {
    if (n.memdev && !memdevIds.includes(n.memdev.value)) {
      // system/numa.c parse_numa_node.
      dangling(
        diags,
        n.memdev,
        "memory backend",
        memdevIds,
        `memdev=${n.memdev.value} is ambiguous`,
      );
    }
  }
  const mb = config.machine.memoryBackend;
  if (mb && !memdevIds.includes(mb.value)) {
    // system/vl.c qemu_resolve_machine_memdev.
    dangling(diags, mb, "memory backend", memdevIds, `Memory backend '${mb.value}' not found`);
  }
  checkBuses(config, diags);
}

/** `bus=` must name the root bus or a bridge created earlier (devices are created in order). */
function checkBuses(config: QemuConfig, diags: Diagnostics): void {
  const root = config.machine.family === "q35" ? "pcie.0" : "pci.0";
  const buses: string[] = [root];
  for (const dev of config.devices) {
    const bus = dev.bus;
    if (bus && !buses.includes(bus.value)) {
      const later = config.devices.find((d) =>
        d.id?.value === bus.value && (d.kind === "pcie-root-port" || d.kind === "pci-bridge")
      );
      // system/qdev-monitor.c qbus_find.
      dangling(
        diags,
        bus,
        "bus",
        buses,
        `Bus '${bus.value}' not found`,
        later
          ? "the bridge is defined later: QEMU creates devices in command-line order"
          : undefined,
      );
    }
    if ((dev.kind === "pcie-root-port" || dev.kind === "pci-bridge") && dev.id) {
      buses.push(dev.id.value);
    }
  }
}

function nicName(dev: DeviceConfig, index: number): string {
  return dev.id?.value ?? `${dev.type}.${index}`;
}

/** One NIC per netdev; vhost-user and vhost-vdpa want a virtio-net frontend; nothing unused. */
function checkNetdevUse(config: QemuConfig, diags: Diagnostics): void {
  const users = new Map<string, { dev: DeviceConfig; ref: Located<string> }>();
  const counters = new Map<string, number>();
  for (const dev of config.devices) {
    const ref = dev.kind === "virtio-net" || dev.kind === "unmodelled" ? dev.netdev : undefined;
    const n = counters.get(dev.type) ?? 0;
    counters.set(dev.type, n + 1);
    if (dev.kind === "virtio-net" && !ref) {
      diags.push(
        warning("W0223", `\`${dev.type}\` has no netdev`, {
          span: dev.driver.span,
          label: "not wired to a backend",
          notes: [`QEMU says: warning: nic ${nicName(dev, n)} has no peer`],
          help: ["add `netdev=ID` naming a -netdev"],
        }),
      );
    }
    if (!ref) continue;
    const nd = config.netdevs.find((x) => x.id.value === ref.value);
    const first = users.get(ref.value);
    if (first) {
      // hw/core/qdev-properties-system.c set_netdev: the peer is taken (-EEXIST).
      diags.push(
        error("E0230", `netdev \`${ref.value}\` is already used by another NIC`, {
          span: ref.span,
          label: "second NIC on the same backend",
          secondary: [{ span: first.ref.span, message: "first used here" }],
          notes: [
            `QEMU says: Property '${dev.type}.netdev' can't take value '${ref.value}', it's in use`,
          ],
          help: ["give each NIC its own -netdev"],
        }),
      );
    } else {
      users.set(ref.value, { dev, ref });
    }
    if (nd && (nd.kind === "vhost-user" || nd.kind === "vhost-vdpa") && dev.kind !== "virtio-net") {
      // net/vhost-user.c net_vhost_check_net; net/vhost-vdpa.c likewise.
      diags.push(
        error("E0234", `${nd.kind} needs a virtio-net frontend, not \`${dev.type}\``, {
          span: dev.driver.span,
          label: "not a virtio-net device",
          secondary: [{ span: nd.type.span, message: `${nd.kind} backend` }],
          notes: [`QEMU says: ${nd.kind} requires frontend driver virtio-net-*`],
          help: ["use `-device virtio-net-pci,netdev=…`"],
        }),
      );
    }
  }
  for (const nd of config.netdevs) {
    if (nd.origin === "net" || users.has(nd.id.value)) continue;
    const filtered = config.otherObjects.some((o) => o.netdev?.value === nd.id.value);
    if (filtered) continue;
    // net/net.c net_check_clients.
    diags.push(
      warning("W0223", `netdev \`${nd.id.value}\` is not used by any NIC`, {
        span: nd.id.span,
        label: "no peer",
        notes: [`QEMU says: warning: netdev ${nd.id.value} has no peer`],
        help: [`add \`-device virtio-net-pci,netdev=${nd.id.value}\``],
      }),
    );
  }
  const chardevUsers = new Map<string, Located<string>>();
  const claims: Located<string>[] = [
    ...config.netdevs.flatMap((n) => n.kind === "vhost-user" ? [n.chardev] : []),
    ...config.devices.flatMap((d) => d.kind === "ignored" && d.chardev ? [d.chardev] : []),
  ].sort((a, b) => a.span.start - b.span.start);
  for (const ref of claims) {
    const first = chardevUsers.get(ref.value);
    if (first) {
      diags.push(
        error("E0230", `chardev \`${ref.value}\` is already used by another frontend`, {
          span: ref.span,
          label: "second user of the same chardev",
          secondary: [{ span: first.span, message: "first used here" }],
          help: ["give each vhost-user netdev its own socket chardev"],
        }),
      );
    } else {
      chardevUsers.set(ref.value, ref);
    }
  }
}

/** Backend-specific rules: vhost-user queue range and socket kind. */
function checkNetdevs(config: QemuConfig, diags: Diagnostics): void {
  for (const nd of config.netdevs) {
    if (nd.kind === "vhost-user" || nd.kind === "vhost-vdpa") {
      const q = nd.queues.value;
      if (q < 1 || q > MAX_QUEUE_NUM) {
        // net/vhost-user.c net_init_vhost_user.
        diags.push(
          error("E0232", `${nd.kind} queues must be from 1 to ${MAX_QUEUE_NUM}`, {
            span: nd.queues.span,
            label: `${q} queues`,
            notes: nd.kind === "vhost-user"
              ? [`QEMU says: vhost-user number of queues must be in range [1, ${MAX_QUEUE_NUM}]`]
              : [],
          }),
        );
      }
    }
    if (nd.kind !== "vhost-user") continue;
    const chr = config.chardevs.find((c) => c.id?.value === nd.chardev.value);
    if (!chr) continue;
    // net/vhost-user.c net_vhost_claim_chardev: only sockets reconnect, only unix ones pass fds.
    if (!chr.socket) {
      diags.push(
        error("E0234", `vhost-user needs a socket chardev, not \`${chr.backend.value}\``, {
          span: nd.chardev.span,
          label: "not a socket",
          secondary: [{
            span: chr.backend.span,
            message: `\`${chr.id?.value}\` is a ${chr.backend.value}`,
          }],
          notes: [`QEMU says: chardev "${nd.chardev.value}" is not reconnectable`],
          help: ["use `-chardev socket,id=…,path=/tmp/vhost-user.sock`"],
        }),
      );
    } else if (!chr.socket.path && !chr.socket.fd && chr.socket.host) {
      diags.push(
        error("E0234", "vhost-user needs a unix socket (it passes file descriptors)", {
          span: nd.chardev.span,
          label: "a TCP socket cannot pass fds",
          secondary: [{ span: chr.socket.host.span, message: "TCP address" }],
          notes: [`QEMU says: chardev "${nd.chardev.value}" does not support FD passing`],
          help: ["use `path=/tmp/vhost-user.sock` instead of `host=`/`port=`"],
        }),
      );
    }
  }
}

function isPow2(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** Queue sizes, MSI-X vectors, multiqueue and transport of one virtio-net device. */
function checkVirtioNet(
  dev: VirtioNetDeviceConfig,
  config: QemuConfig,
  diags: Diagnostics,
): VirtioNetDeviceConfig {
  const nd = dev.netdev ? config.netdevs.find((n) => n.id.value === dev.netdev?.value) : undefined;
  for (
    const [key, s, period] of [
      ["rx_queue_size", dev.rxQueueSize, "."],
      ["tx_queue_size", dev.txQueueSize, ""],
    ] as const
  ) {
    const v = s.value;
    if (v < VIRTIO_NET_QUEUE_MIN_SIZE || v > VIRTQUEUE_MAX_SIZE || !isPow2(v)) {
      // hw/net/virtio-net.c virtio_net_device_realize.
      diags.push(
        error("E0231", `\`${key}\` must be a power of 2 from 256 to 1024`, {
          span: s.span,
          label: `${v} is not allowed`,
          notes: [
            `QEMU says: Invalid ${key} (= ${v}), must be a power of 2 between ${VIRTIO_NET_QUEUE_MIN_SIZE} and ${VIRTQUEUE_MAX_SIZE}${period}`,
          ],
        }),
      );
    }
  }
  const tx = dev.txQueueSize;
  if (tx.explicit && tx.value > 256 && dev.txQueueSizeEffective.value === 256 && isPow2(tx.value)) {
    // hw/net/virtio-net.c virtio_net_max_tx_queue_size: only vhost-user and vhost-vdpa peers.
    diags.push(
      warning("W0224", `\`tx_queue_size=${tx.value}\` is reduced to 256 for this backend`, {
        span: tx.span,
        label: "silently clamped",
        ...(nd
          ? { secondary: [{ span: nd.type.span, message: `a ${nd.type.value} backend` }] }
          : {}),
        notes: [
          "QEMU uses a tx queue larger than 256 only with vhost-user and vhost-vdpa backends",
        ],
      }),
    );
  }
  let vectors = dev.vectors;
  if (dev.transport === "pci" && vectors.value > MSIX_MAX_VECTORS) {
    // hw/virtio/virtio-pci.c virtio_pci_device_plugged: msix_init fails, nvectors = 0.
    diags.push(
      warning(
        "W0229",
        `\`vectors=${vectors.value}\` is more than MSI-X allows (${MSIX_MAX_VECTORS})`,
        {
          span: vectors.span,
          label: "MSI-X cannot be set up",
          notes: [
            `QEMU says: warning: unable to init msix vectors to ${vectors.value}`,
            "the device falls back to INTx: one shared interrupt, no per-queue vectors",
          ],
        },
      ),
    );
    vectors = { ...vectors, value: 0 };
  }
  const queues = nd?.queues.value ?? 1;
  if (queues > 1 && !dev.mq.value) {
    diags.push(
      warning("W0227", `netdev \`${nd?.id.value}\` has ${queues} queue pairs but \`mq\` is off`, {
        span: dev.mq.explicit ? dev.mq.span : dev.driver.span,
        label: "the guest will use one queue pair",
        secondary: nd ? [{ span: nd.queues.span, message: `queues=${queues}` }] : [],
        help: ["add `mq=on` (and `vectors=" + (2 * queues + 2) + "`)"],
      }),
    );
  }
  if (dev.mq.value && vectors.explicit && vectors.value > 0 && vectors.value < 2 * queues + 2) {
    diags.push(
      warning("W0227", `\`vectors=${vectors.value}\` is fewer than 2 × ${queues} queues + 2`, {
        span: vectors.span,
        label: "queues will share interrupt vectors",
        help: [`use \`vectors=${2 * queues + 2}\``],
      }),
    );
  }
  if (dev.transport === "mmio" && config.machine.family !== "microvm") {
    // system/qdev-monitor.c qdev_device_add: no virtio-mmio bus on pc/q35.
    diags.push(
      error(
        "E0239",
        `\`${dev.type}\` needs a virtio-mmio bus, which ${config.machine.family} has not`,
        {
          span: dev.driver.span,
          label: "no virtio bus here",
          notes: [`QEMU says: No 'virtio-bus' bus found for device '${dev.type}'`],
          help: ["use `virtio-net-pci`"],
        },
      ),
    );
  }
  if (dev.disableLegacy.value && dev.disableModern.value) {
    // hw/virtio/virtio-pci.c virtio_pci_realize.
    diags.push(
      error("E0235", "both the legacy and the modern interface are disabled", {
        span: dev.disableModern.span,
        label: "disable-modern=on",
        secondary: [{ span: dev.disableLegacy.span, message: "disable-legacy is on" }],
        notes: [
          "QEMU says: device cannot work as neither modern nor legacy mode is enabled",
          "Set either disable-modern or disable-legacy to off",
        ],
      }),
    );
  }
  return vectors === dev.vectors ? dev : { ...dev, vectors, props: { ...dev.props, vectors } };
}

/** intel-iommu / virtio-iommu-pci rules (hw/i386/x86-iommu.c, intel_iommu.c, pc.c). */
function checkViommu(config: QemuConfig, diags: Diagnostics): void {
  const iommus = config.devices.filter((d) =>
    d.kind === "intel-iommu" || d.kind === "virtio-iommu"
  );
  const second = iommus[1];
  if (second && iommus[0]) {
    diags.push(
      error("E0233", "only one vIOMMU per VM", {
        span: second.driver.span,
        label: "second vIOMMU",
        secondary: [{ span: iommus[0].driver.span, message: "first vIOMMU" }],
        notes: ["QEMU says: QEMU does not support multiple vIOMMUs for x86 yet."],
      }),
    );
  }
  const kvmFull = config.machine.accel.value === "kvm" &&
    config.machine.kernelIrqchip.value === "on";
  for (const dev of config.devices) {
    if (dev.kind !== "intel-iommu") continue;
    if (config.machine.family !== "q35") {
      diags.push(
        error("E0233", `intel-iommu needs a q35 machine, not ${config.machine.type.value}`, {
          span: dev.driver.span,
          label: "only q35 accepts it",
          secondary: config.machine.type.explicit
            ? [{ span: config.machine.type.span, message: "machine type" }]
            : [],
          notes: [
            "only q35 lets intel-iommu be created with -device (machine_class_allow_dynamic_sysbus_dev)",
            "QEMU 9.x and older say: Option '-device intel-iommu' cannot be handled by this machine",
          ],
          help: ["use `-machine q35`"],
        }),
      );
    }
    if (dev.intremap.value && dev.intremap.explicit && kvmFull) {
      diags.push(
        error("E0233", "interrupt remapping needs `kernel-irqchip=split` (or off) under KVM", {
          span: dev.intremap.span,
          label: "intremap=on",
          secondary: config.machine.kernelIrqchip.explicit
            ? [{ span: config.machine.kernelIrqchip.span, message: "the irqchip is in the kernel" }]
            : [{
              span: config.machine.accel.span,
              message: "KVM keeps the whole irqchip in the kernel by default",
            }],
          notes: [
            "QEMU says: Interrupt Remapping cannot work with kernel-irqchip=on, please use 'split|off'.",
          ],
          help: ["add `-machine q35,kernel-irqchip=split`"],
        }),
      );
    }
    if (dev.eim.value === "on" && !dev.intremap.value) {
      diags.push(
        error("E0233", "`eim=on` needs interrupt remapping", {
          span: dev.eim.span,
          label: "eim=on",
          notes: ["QEMU says: eim=on cannot be selected without intremap=on"],
        }),
      );
    } else if (
      dev.eim.value === "on" && config.machine.accel.value === "kvm" &&
      config.machine.kernelIrqchip.value !== "split"
    ) {
      diags.push(
        error("E0233", "`eim=on` needs `kernel-irqchip=split` under KVM", {
          span: dev.eim.span,
          label: "eim=on",
          notes: ["QEMU says: eim=on requires accel=kvm,kernel-irqchip=split"],
        }),
      );
    }
    if (dev.awBits.value !== 39 && dev.awBits.value !== 48) {
      // hw/i386/intel_iommu.c vtd_decide_config.
      diags.push(
        error("E0226", `\`aw-bits=${dev.awBits.value}\` is not a VT-d address width`, {
          span: dev.awBits.span,
          label: "expected 39 or 48",
          notes: ["QEMU says: Supported values for aw-bits are: 39, 48"],
        }),
      );
    }
    const vfio = config.devices.find((d) => d.kind === "vfio-pci");
    if (vfio && !dev.cachingMode.value) {
      // hw/i386/pc.c / intel_iommu.c: VFIO needs every map reported to QEMU.
      diags.push(
        error("E0233", "vfio-pci behind intel-iommu needs `caching-mode=on`", {
          span: vfio.driver.span,
          label: "assigned device",
          secondary: [{ span: dev.driver.span, message: "vIOMMU without caching mode" }],
          notes: [
            "QEMU says: Device assignment is not allowed without enabling caching-mode=on for Intel IOMMU.",
          ],
          help: ["add `caching-mode=on` to `-device intel-iommu`"],
        }),
      );
    }
  }
  const viommu = iommus[0];
  if (!viommu) return;
  const iotlb = viommu.kind === "intel-iommu" && viommu.deviceIotlb.value;
  for (const dev of config.devices) {
    if (
      dev.span.start < viommu.span.start && (dev.kind === "vfio-pci" || dev.kind === "virtio-net")
    ) {
      diags.push(
        warning("W0226", `\`${dev.type}\` comes before the vIOMMU and is not translated by it`, {
          span: dev.driver.span,
          label: "created before the vIOMMU",
          secondary: [{ span: viommu.driver.span, message: "vIOMMU created here" }],
          notes: ["a device looks up its DMA address space when it is created"],
          help: [`move \`-device ${viommu.type}\` before the devices it should translate`],
        }),
      );
      continue;
    }
    if (dev.kind !== "virtio-net") continue;
    if (!dev.iommuPlatform.value && !config.machine.defaultBusBypassIommu.value) {
      diags.push(
        warning("W0226", `\`${dev.type}\` bypasses the vIOMMU without \`iommu_platform=on\``, {
          span: dev.driver.span,
          label: "DMA is not translated",
          secondary: [{ span: viommu.driver.span, message: "vIOMMU" }],
          notes: ["without VIRTIO_F_ACCESS_PLATFORM the device uses guest-physical addresses"],
          help: ["add `iommu_platform=on` (and `ats=on` with device-iotlb)"],
        }),
      );
    } else if (dev.ats.value && viommu.kind === "intel-iommu" && !iotlb) {
      diags.push(
        warning("W0226", "`ats=on` has no effect without `device-iotlb=on` on intel-iommu", {
          span: dev.ats.span,
          label: "ATS unused",
          secondary: [{ span: viommu.driver.span, message: "no device-iotlb" }],
        }),
      );
    }
  }
}

/** Why guest RAM is not shared, for the label at the setting that decides it. */
function unsharedWhy(config: QemuConfig): string {
  const s = config.sharedMemory;
  if (s.explicit) return "share=off";
  const b = config.memoryBackends.find((m) => m.span.start === s.span.start);
  if (b) return `\`share\` is off by default for ${b.type.value}`;
  if (config.memory.memPath) return "-mem-path maps the file private";
  return "guest RAM is private anonymous memory";
}

/** `-append` and `-initrd` are for a kernel QEMU boots itself (`-kernel`). */
function checkKernel(config: QemuConfig, diags: Diagnostics) {
  if (config.kernel !== undefined) return;
  for (const [opt, at] of [["append", config.append], ["initrd", config.initrd]] as const) {
    if (at === undefined) continue;
    // system/vl.c qemu_validate_options.
    diags.push(
      error("E0235", `\`-${opt}\` needs \`-kernel\``, {
        span: at.span,
        label: "QEMU boots no kernel of its own without -kernel",
        notes: [`QEMU says: -${opt} only allowed with -kernel option`],
        help: ['boot the kernel directly: `-kernel /boot/vmlinuz -append "intel_iommu=on"`'],
      }),
    );
  }
}

/** RAM sizes agree, NUMA memdevs are all-or-none, and vhost-user can map guest RAM. */
function checkMemory(config: QemuConfig, diags: Diagnostics) {
  let memory = config.memory;
  const backends = new Map(config.memoryBackends.map((b) => [b.id.value, b]));
  const mb = config.machine.memoryBackend;
  const withMemdev = config.numaNodes.filter((n) => n.memdev);
  if (mb && withMemdev[0]?.memdev) {
    diags.push(
      error("E0235", "`memory-backend=` and `-numa node,memdev=` cannot be combined", {
        span: withMemdev[0].memdev.span,
        label: "NUMA memdev",
        secondary: [{ span: mb.span, message: "machine memory-backend" }],
        notes: [
          "QEMU says: '-machine memory-backend' and '-numa memdev' properties are mutually exclusive",
        ],
      }),
    );
  }
  const backend = mb ? backends.get(mb.value) : undefined;
  if (backend) {
    if (!memory.size.explicit) {
      memory = { ...memory, size: { ...backend.size } };
    } else if (memory.size.value !== backend.size.value) {
      // system/vl.c qemu_resolve_machine_memdev.
      diags.push(
        error("E0236", "`-m` and the memory backend's `size` differ", {
          span: memory.size.span,
          label: `${memory.size.value} bytes`,
          secondary: [{ span: backend.size.span, message: `${backend.size.value} bytes` }],
          notes: [
            "QEMU says: Size specified by -m option must match size of explicitly specified 'memory-backend' property",
          ],
        }),
      );
    }
  }
  if (withMemdev.length > 0 && withMemdev.length < config.numaNodes.length) {
    const missing = config.numaNodes.find((n) => !n.memdev);
    diags.push(
      error("E0236", "`memdev=` is given for some NUMA nodes but not all", {
        span: missing?.span ?? config.span,
        label: "no memdev",
        notes: ["QEMU says: memdev option must be specified for either all or no nodes"],
      }),
    );
  } else if (withMemdev.length > 0) {
    let total = 0;
    for (const n of withMemdev) total += backends.get(n.memdev?.value ?? "")?.size.value ?? 0;
    const all = withMemdev.every((n) => backends.has(n.memdev?.value ?? ""));
    if (all && total !== memory.size.value) {
      // hw/core/numa.c numa_complete_configuration.
      diags.push(
        error("E0236", "NUMA node memory does not add up to the RAM size", {
          span: memory.size.explicit ? memory.size.span : withMemdev[0]?.span ?? config.span,
          label: `RAM is ${memory.size.value} bytes, nodes have ${total}`,
          notes: [
            `QEMU says: total memory for NUMA nodes (0x${
              total.toString(16)
            }) should equal RAM size (0x${memory.size.value.toString(16)})`,
          ],
          help: memory.size.explicit ? [] : ["add `-m` with the sum of the node sizes"],
        }),
      );
    }
  }
  const vu = config.netdevs.find((n) => n.kind === "vhost-user");
  if (vu && !config.sharedMemory.value) {
    diags.push(
      warning("W0225", "vhost-user back-end cannot map guest RAM: it is not shared", {
        span: vu.type.span,
        label: "needs shared guest memory",
        secondary: [{ span: config.sharedMemory.span, message: unsharedWhy(config) }],
        notes: [
          "share=on is mandatory for vhost-user: the back-end maps the same pages",
          "without it the back-end sees no guest memory and every packet is lost",
        ],
        help: [
          "add `-object memory-backend-memfd,id=mem0,size=…,share=on -machine memory-backend=mem0`",
        ],
      }),
    );
  }
  return memory;
}
