/**
 * The real vocabulary the script generator draws from: program names, subcommands, options,
 * kernel modules, and every class and property name of the QEMU, DPDK and OVS catalogs, with
 * values of each property's type next to junk values. Taken from the catalogs and command
 * parsers themselves, so the generator keeps up as they grow.
 *
 * @module
 */

import {
  FORWARD_MODES,
  IP_LINK_TYPES,
  KNOWN_PROGRAMS,
  LAB_KEYWORDS,
  QEMU_OPTION_NAMES,
} from "../../lang/commands/mod.ts";
import { VDEV_DRIVERS } from "../../stdlib/catalog/dpdk.ts";
import { KERNEL_MODULES } from "../../stdlib/catalog/kernel_modules.ts";
import { NIC_MODELS } from "../../stdlib/catalog/nic_models.ts";
import { OVS_INTERFACE_TYPES, OVS_TABLE_COLUMNS } from "../../stdlib/catalog/ovs.ts";
import { CHARDEV_BACKENDS } from "../../stdlib/catalog/qemu_chardev.ts";
import { DEVICE_DRIVERS } from "../../stdlib/catalog/qemu_device.ts";
import {
  MACHINE_SCHEMA,
  machineTypeNames,
  MEMORY_SCHEMA,
  NUMA_NODE_SCHEMA,
  SMP_SCHEMA,
} from "../../stdlib/catalog/qemu_machine.ts";
import { NETDEV_TYPES } from "../../stdlib/catalog/qemu_netdev.ts";
import { OBJECT_TYPES } from "../../stdlib/catalog/qemu_object.ts";
import type { ClassCatalog, ClassSchema, PropSchema } from "../../stdlib/catalog/schema.ts";

/** A class name and its properties, for comma lists. */
export interface ClassWords {
  readonly name: string;
  readonly props: Readonly<Record<string, PropSchema>>;
}

function classes(catalog: ClassCatalog): ClassWords[] {
  const out: ClassWords[] = Object.values(catalog.classes).map((c: ClassSchema) => ({
    name: c.name,
    props: c.props,
  }));
  for (const [alias, canonical] of Object.entries(catalog.aliases)) {
    const c = catalog.classes[canonical];
    if (c && alias !== "") out.push({ name: alias, props: c.props });
  }
  return out;
}

/** Program names the lab knows, tools it refuses, and near misses. */
export const PROGRAMS: readonly string[] = [
  ...KNOWN_PROGRAMS,
  "qemu-system-aarch64",
  "qemu-system-riscv64",
  "/usr/bin/qemu-system-x86_64",
  "./build/app/dpdk-testpmd",
  "/sbin/modprobe",
  "tee",
  "insmod",
  "brctl",
  "tcpdump",
  "ethtool",
  "virsh",
  "devlink",
  "ovs-ofctl",
  "modprob",
  "vdpaa",
  "qemu-system-x86",
];

/** Lab statement keywords. */
export const LAB_WORDS: readonly string[] = LAB_KEYWORDS;

/** Kernel module names, and misspellings people make. */
export const MODULES: readonly string[] = [
  ...Object.keys(KERNEL_MODULES),
  "vdpasim_net",
  "vhost-vdpa",
  "vdpa_sim_nett",
  "mlx5_vdpa",
];

/** Management device names. */
export const MGMTDEVS: readonly string[] = [
  "vdpasim_net",
  "vdpasim_blk",
  "vdpa_sim_net",
  "pci/0000:3b:00.2",
  "pci/0000:3b:00.0",
  "auxiliary/mlx5_core.sf.1",
  "pci/zz",
];

/** NIC model names (`host nic … model=`). */
export const NIC_MODEL_NAMES: readonly string[] = [...Object.keys(NIC_MODELS), "mlx6", "e1000"];

/** QEMU options, with one or two dashes. */
export const QEMU_OPTIONS: readonly string[] = [
  ...QEMU_OPTION_NAMES.map((o) => `-${o}`),
  ...QEMU_OPTION_NAMES.slice(0, 12).map((o) => `--${o}`),
  "-M",
  "-netdevv",
  "-",
  "--",
];

/** QEMU option → the catalog classes its comma list names (first item). */
export const QEMU_CLASSES: Readonly<Record<string, readonly ClassWords[]>> = {
  "-netdev": classes(NETDEV_TYPES),
  "-nic": classes(NETDEV_TYPES),
  "-device": classes(DEVICE_DRIVERS),
  "-chardev": classes(CHARDEV_BACKENDS),
  "-object": classes(OBJECT_TYPES),
  "-machine": machineTypeNames().slice(0, 8).map((name) => ({ name, props: MACHINE_SCHEMA.props })),
  "-m": [{ name: "4G", props: MEMORY_SCHEMA.props }],
  "-smp": [{ name: "2", props: SMP_SCHEMA.props }],
  "-numa": [{ name: "node", props: NUMA_NODE_SCHEMA.props }],
};

/** DPDK vdev drivers (with instance numbers added by the generator). */
export const VDEV_CLASSES: readonly ClassWords[] = classes(VDEV_DRIVERS);

/** testpmd EAL options (before `--`). */
export const EAL_OPTIONS: readonly string[] = [
  "-l",
  "-c",
  "--lcores",
  "-n",
  "-m",
  "-a",
  "-w",
  "--vdev",
  "--no-pci",
  "--iova-mode",
  "--socket-mem",
  "--file-prefix",
  "--huge-dir",
  "--no-huge",
  "--in-memory",
  "--log-level",
  "-v",
  "-h",
  "--bogus",
];

/** testpmd application options (after `--`). */
export const APP_OPTIONS: readonly string[] = [
  "-i",
  "-a",
  "--interactive",
  "--auto-start",
  "--tx-first",
  "--forward-mode",
  "--nb-cores",
  "--rxq",
  "--txq",
  "--rxd",
  "--txd",
  "--burst",
  "--stats-period",
  "--max-pkt-len",
  "--no-such",
];

/** testpmd forwarding engines, and a wrong one. */
export const FORWARD_MODE_NAMES: readonly string[] = [...FORWARD_MODES, "iofwd"];

/** `ip link add … type T` types. */
export const LINK_TYPES: readonly string[] = [...IP_LINK_TYPES, "brige", "vxlan"];

/** OVS tables and their columns, plus interface types. */
export const OVS_TABLES: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(OVS_TABLE_COLUMNS).map(([t, cols]) => [t, Object.keys(cols)]),
);
/** OVS interface types. */
export const OVS_TYPES: readonly string[] = [...Object.keys(OVS_INTERFACE_TYPES.classes), "dpdkk"];

/** Paths under /sys and /dev that the sysfs commands and QEMU options name. */
export const PATHS: readonly string[] = [
  "/sys/bus/vdpa/drivers/virtio_vdpa/bind",
  "/sys/bus/vdpa/drivers/virtio_vdpa/unbind",
  "/sys/bus/vdpa/drivers/vhost_vdpa/bind",
  "/sys/bus/vdpa/drivers/vhost_vdpa/unbind",
  "/sys/bus/vdpa/drivers_autoprobe",
  "/sys/bus/vdpa/drivers_probe",
  "/sys/bus/vdpa/devices/vdpa0/driver_override",
  "/sys/bus/vdpa/devices/",
  "/sys/bus/vdpa/devices/vdpa0/driver",
  "/sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs",
  "/sys/bus/pci/drivers/vfio-pci/bind",
  "/sys/class/net/",
  "/sys/",
  "/dev/vhost-vdpa-0",
  "/dev/vhost-vdpa-*",
  "/dev/vhost-net",
  "/dev/net/tun",
  "/tmp/vhost-user0",
  "/tmp/s",
  "/dev/hugepages",
  "/proc/cmdline",
  "../../etc/passwd",
  "/",
];

/** Things people name: devices, interfaces, ids, traffic names. */
export const NAMES: readonly string[] = [
  "vdpa0",
  "vdpa1",
  "tap0",
  "tap1",
  "br0",
  "eth0",
  "ens1f0",
  "n0",
  "c0",
  "mem0",
  "vm1",
  "vm2",
  "t1",
  "t2",
  "vm1.eth0",
  "vm1.net0",
  "vm2.eth0",
  "vm1..eth0",
  "wire",
  "vhost-user0",
  "vhu-client0",
];

/** Values of no particular type, many of them malformed. */
export const JUNK_VALUES: readonly string[] = [
  "",
  "0",
  "1",
  "-1",
  "65535",
  "65536",
  "4294967296",
  "18446744073709551616",
  "99999999999999999999999",
  "0x",
  "0x10",
  "0xffffffffffffffff",
  "08",
  "1e3",
  "1.5",
  "NaN",
  "Infinity",
  "-0",
  "4G",
  "1.5G",
  "16E",
  "1P",
  "64K",
  "1Mpps",
  "10Gbps",
  "100Gbps",
  "1.5us",
  "10ms",
  "1s",
  "line",
  "on",
  "off",
  "auto",
  "yes",
  "no",
  "true",
  "false",
  "y",
  "n",
  "52:54:00:12:34:56",
  "00:11:22:33:44:55",
  "ff:ff:ff:ff:ff:ff",
  "01:00:5e:00:00:01",
  "zz:zz:zz:zz:zz:zz",
  "52-54-00-12-34-56",
  "0000:3b:00.0",
  "3b:00.1",
  "00.0",
  "1f.7",
  "3:4",
  "3::4",
  "10.0.2.0/24",
  "tcp::2222-:22",
  "=",
  ",",
  ",,",
  ":",
  ".",
  "..",
  "1..4",
  "é",
  "日本語",
  "🦀",
  "\u200b",
  "\ud800",
  "a".repeat(300),
];

/** Values of a property's type: mostly good ones, at the bounds, and near misses. */
export function valuesFor(prop: PropSchema): readonly string[] {
  switch (prop.type) {
    case "bool":
      return ["on", "off", "true", "false", "yes", "no", "y", "n", "On", "2", ""];
    case "onoffauto":
      return ["on", "off", "auto", "yes", "automatic"];
    case "int":
    case "uint": {
      const out = ["0", "1", "-1", "8", "256", "1024", "0x100", "010", "1k", "4294967296"];
      if (prop.min !== undefined) out.push(String(prop.min), String(prop.min - 1));
      if (prop.max !== undefined) out.push(String(prop.max), String(prop.max + 1));
      return out;
    }
    case "size":
      return ["4G", "1G", "512M", "2M", "0", "-1", "1.5G", "16E", "17E", "4Q", "G"];
    case "enum":
      return [...(prop.values ?? []), "bogus"];
    case "mac":
      return ["52:54:00:12:34:56", "01:00:5e:00:00:01", "52:54:00:12:34", "zz:54:00:12:34:56"];
    case "path":
      return ["/tmp/vhost-user0", "/dev/vhost-vdpa-0", "/dev/hugepages", "", "relative/path"];
    case "id":
    case "ref":
      return ["n0", "c0", "mem0", "vdpa0", "0bad", "a.b", "x y", "dev0"];
    case "pciaddr":
      return ["0000:3b:00.1", "3b:00.1", "0000:3b:00", "zzzz:00:00.0"];
    case "devfn":
      return ["3", "3.0", "1f.7", "20", "3.8", "x"];
    case "list":
      return ["3:4", "3", "3:", ":", "a:b"];
    case "string":
      return ["x", "", "a b", "vm1"];
  }
}
