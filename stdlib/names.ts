/**
 * Name checks with suggestions, as the real tools compare names: kmod treats `-` and `_` in
 * module names alike (libkmod `modname_normalize`), the vDPA and PCI buses compare driver
 * names exactly (`strcmp` in `vdpa_dev_match` and `driver_match_device`), the vdpa tool looks
 * a management device up by `bus/name`, and a path is walked one component at a time. Each
 * function returns `help:` lines for a diagnostic — a "did you mean" from the catalogs or the
 * live host, and the confusions people actually make (the module `vdpa_sim_net` registers
 * the management device `vdpasim_net`; the ABI document's `vhost-vdpa` is the driver
 * `vhost_vdpa`) — or nothing when there is nothing useful to say.
 *
 * Codes (one table): E0201–E0206 unknown names, W0201 a `driver_override` that names no
 * driver.
 *
 * @example
 * ```ts
 * import { HostKernel } from "../runtime/host/kernel.ts";
 * import { KERNEL_MODULES } from "./catalog/kernel_modules.ts";
 * import { moduleHelp } from "./names.ts";
 * const host = new HostKernel({ catalog: { modules: KERNEL_MODULES, nicModels: {} } });
 * const help = moduleHelp("vdpasim_net", host);
 * if (!help.some((h) => h.includes("`vdpa_sim_net`"))) throw new Error(help.join("\n"));
 * ```
 *
 * @module
 */

import type { Severity } from "../lang/diagnostic.ts";
import { suggest } from "../lang/suggest.ts";
import type { HostKernel } from "../runtime/host/kernel.ts";
import type { Registration } from "../runtime/host/module_spec.ts";
import { normalizeModuleName } from "../runtime/host/module_spec.ts";
import { mgmtdevHandle } from "../runtime/host/vdpa_bus.ts";

/** One code: its severity and what it means. */
export interface NameCodeInfo {
  readonly severity: Severity;
  readonly summary: string;
}

/** The codes of unknown names (E0200–E0219 belong to the module and device catalogs). */
export const NAME_CODES = {
  E0201: { severity: "error", summary: "unknown kernel module" },
  E0202: { severity: "error", summary: "unknown vdpa management device" },
  E0203: { severity: "error", summary: "unknown vdpa device" },
  E0204: { severity: "error", summary: "unknown PCI device" },
  E0205: { severity: "error", summary: "unknown network device" },
  E0206: { severity: "error", summary: "unknown NIC model" },
  W0201: { severity: "warning", summary: "`driver_override` names no driver of the bus" },
} as const satisfies Record<string, NameCodeInfo>;

/** A code of {@link NAME_CODES}. */
export type NameCode = keyof typeof NAME_CODES;

/** `did you mean` lines for the closest candidates (at most `limit`). */
function didYouMean(
  name: string,
  candidates: Iterable<string>,
  o: { readonly dashUnderscore?: boolean; readonly limit?: number } = {},
): string[] {
  const best = suggest(name, candidates, {
    dashUnderscore: o.dashUnderscore ?? false,
    limit: o.limit ?? 1,
  }).filter((c) => c !== name);
  if (best.length === 0) return [];
  return [`did you mean ${best.map((b) => `\`${b}\``).join(" or ")}?`];
}

/** Every registration of every catalog module, with the module's name. */
function registrations(host: HostKernel): { module: string; reg: Registration }[] {
  const out: { module: string; reg: Registration }[] = [];
  for (const module of host.modules.names) {
    for (const reg of host.modules.spec(module)?.registers ?? []) out.push({ module, reg });
  }
  return out;
}

/** The catalog module whose init registers the vDPA management device `name`, if any. */
export function moduleOfMgmtdev(host: HostKernel, name: string): string | undefined {
  return registrations(host).find((r) => r.reg.kind === "vdpa-mgmtdev" && r.reg.name === name)
    ?.module;
}

/** The catalog module that registers the driver `name` on `bus`, if any. */
export function moduleOfDriver(
  host: HostKernel,
  bus: "vdpa" | "pci" | "virtio",
  name: string,
): string | undefined {
  const kind = bus === "vdpa" ? "vdpa-driver" : bus === "pci" ? "pci-driver" : "virtio-driver";
  return registrations(host).find((r) => r.reg.kind === kind && r.reg.name === name)?.module;
}

/** Driver names of a bus: live ones first, then those catalog modules would register. */
export function driverNames(host: HostKernel, bus: "vdpa" | "pci" | "virtio"): string[] {
  const live = bus === "vdpa"
    ? host.vdpa.drivers.map((d) => d.name)
    : bus === "pci"
    ? host.pci.drivers.map((d) => d.name)
    : host.virtio.drivers.map((d) => d.name);
  const kind = bus === "vdpa" ? "vdpa-driver" : bus === "pci" ? "pci-driver" : "virtio-driver";
  const all = [...live];
  for (const { reg } of registrations(host)) {
    if (reg.kind === kind && !all.includes(reg.name)) all.push(reg.name);
  }
  return all;
}

/**
 * Help for a module name kmod cannot find: the closest catalog modules (`-` and `_` alike),
 * and the management-device confusion (`vdpasim_net` is what `vdpa_sim_net` registers).
 */
export function moduleHelp(name: string, host: HostKernel): string[] {
  // a name kmod resolves needs no suggestion
  if (host.modules.resolve(name) !== undefined) return [];
  const help: string[] = [];
  const owner = moduleOfMgmtdev(host, normalizeModuleName(name));
  if (owner !== undefined) {
    help.push(
      `\`${name}\` is the management device that the module \`${owner}\` registers; ` +
        `load \`${owner}\``,
    );
  }
  for (const r of registrations(host)) {
    if (
      (r.reg.kind === "vdpa-driver" || r.reg.kind === "pci-driver") &&
      r.reg.name === name && normalizeModuleName(name) !== r.module
    ) {
      help.push(`\`${name}\` is the driver that the module \`${r.module}\` registers`);
    }
  }
  const near = didYouMean(name, host.modules.names, { dashUnderscore: true });
  if (owner === undefined || !near.some((h) => h.includes(`\`${owner}\``))) help.push(...near);
  return help;
}

/** Help for a module that is not loaded (rmmod): loaded modules first, then the catalog. */
export function loadedModuleHelp(name: string, host: HostKernel): string[] {
  const loaded = host.lsmod().map((m) => m.name);
  const near = didYouMean(name, loaded, { dashUnderscore: true });
  if (near.length > 0) return near;
  const r = host.modules.resolve(name);
  if (r !== undefined) return [`\`${r}\` is not loaded now; \`lsmod\` lists what is`];
  return moduleHelp(name, host);
}

/**
 * Help for a management device the kernel could not find: the live devices (as
 * `vdpa mgmtdev show` prints their handles), the module-name confusion, and which module to
 * load when the name is a simulator's that is not registered yet.
 */
export function mgmtdevHelp(
  handle: { readonly bus?: string; readonly name: string },
  host: HostKernel,
): string[] {
  const text = handle.bus !== undefined ? `${handle.bus}/${handle.name}` : handle.name;
  const live = host.vdpa.mgmtdevs.map((m) => mgmtdevHandle(m));
  const help: string[] = [];
  const asModule = host.modules.resolve(text);
  const registered = asModule === undefined
    ? []
    : (host.modules.spec(asModule)?.registers ?? []).flatMap((r) =>
      r.kind === "vdpa-mgmtdev" ? [r.name] : []
    );
  if (asModule !== undefined && registered.length > 0) {
    help.push(
      `the management device is ${registered.map((r) => `\`${r}\``).join(" or ")}; ` +
        `\`${text}\` is the module that registers it`,
    );
  }
  const owner = moduleOfMgmtdev(host, handle.name);
  if (handle.bus === undefined && owner !== undefined && !host.isLoaded(owner)) {
    help.push(`\`${handle.name}\` appears when its module is loaded: \`modprobe ${owner}\``);
  }
  if (registered.length === 0 || !live.some((l) => registered.includes(l))) {
    const near = didYouMean(text, live);
    help.push(...near.filter((h) => !registered.some((r) => h.includes(`\`${r}\``))));
  }
  if (live.length === 0 && owner === undefined) {
    help.push(
      "no management device is registered: load a parent driver (`modprobe vdpa_sim_net`, " +
        "or `mlx5_vdpa` with VFs of a `host nic`)",
    );
  } else if (help.length === 0) {
    help.push(`the management devices are ${live.map((l) => `\`${l}\``).join(", ")}`);
  }
  return help;
}

/** Help for a vDPA device name the kernel does not know. */
export function vdpaDeviceHelp(name: string, host: HostKernel): string[] {
  const live = host.vdpa.devices.map((d) => d.name);
  if (live.length === 0) {
    return [`no vdpa device exists; create one: \`vdpa dev add name ${name} mgmtdev vdpasim_net\``];
  }
  const near = didYouMean(name, live);
  return near.length > 0
    ? near
    : [`the vdpa devices are ${live.map((d) => `\`${d}\``).join(", ")}`];
}

/** Help for a PCI address no function has. */
export function pciDeviceHelp(bdf: string, host: HostKernel): string[] {
  const live = host.pci.devices.map((d) => d.bdf);
  if (live.length === 0) return ["no PCI function exists; declare one with `host nic`"];
  const near = didYouMean(bdf, live);
  if (near.length > 0) return near;
  const pfs = host.pci.devices.filter((d) => d.pf === undefined && d.vfs.length === 0);
  const extra = pfs.length > 0
    ? [`VFs appear when you write their number to \`sriov_numvfs\` of ${pfs[0]?.bdf}`]
    : [];
  return [`the PCI functions are ${live.map((d) => `\`${d}\``).join(", ")}`, ...extra];
}

/** Help for a network device name the host does not have. */
export function netdevHelp(name: string, host: HostKernel): string[] {
  const live = host.net.list().map((d) => d.name);
  const near = didYouMean(name, live);
  if (near.length > 0) return near;
  return [`the network devices are ${live.map((d) => `\`${d}\``).join(", ")}`];
}

/** Help for an unknown `host nic model=`. */
export function nicModelHelp(model: string, host: HostKernel): string[] {
  const known = Object.keys(host.catalog.nicModels);
  const near = didYouMean(model, known);
  return [...near, `the NIC models are ${known.map((k) => `\`${k}\``).join(", ")}`];
}

/**
 * Whether `value` names a driver of `bus` exactly (live or in the catalog), and if not, what
 * to say: a `driver_override` is compared with each driver's name by `strcmp`.
 */
export function driverOverrideHelp(
  bus: "vdpa" | "pci",
  value: string,
  host: HostKernel,
): { readonly matches: boolean; readonly help: string[] } {
  const names = driverNames(host, bus);
  if (names.includes(value)) return { matches: true, help: [] };
  return { matches: false, help: didYouMean(value, names, { dashUnderscore: true }) };
}

/** The module behind a missing path component, when loading it would create the component. */
function moduleForComponent(
  parent: string,
  component: string,
  host: HostKernel,
): string | undefined {
  const bus = /^\/sys\/bus\/(vdpa|pci|virtio)\/drivers$/.exec(parent)?.[1] as
    | "vdpa"
    | "pci"
    | "virtio"
    | undefined;
  if (bus !== undefined) return moduleOfDriver(host, bus, component);
  if (parent === "/sys/bus" && component === "vdpa") return "vdpa";
  if (parent === "/sys/module") return host.modules.resolve(component);
  return undefined;
}

/**
 * Help for a path that does not exist: the nearest existing directory, a "did you mean"
 * among its entries (names compare exactly, as the kernel's path walk does), and the module
 * to load when the missing piece is a driver, bus or module directory.
 */
export function pathHelp(path: string, host: HostKernel): string[] {
  if (!path.startsWith("/")) return [];
  const comps = path.split("/").filter((c) => c !== "");
  let dir = "";
  for (const comp of comps) {
    const next = `${dir}/${comp}`;
    if (!host.exists(next)) {
      const parent = dir === "" ? "/" : dir;
      const entries = host.readdir(parent);
      const help: string[] = [];
      const module = moduleForComponent(parent, comp, host);
      if (module !== undefined && !host.isLoaded(module)) {
        help.push(`\`${next}\` appears when \`${module}\` is loaded: \`modprobe ${module}\``);
      }
      if (entries.ok) {
        const near = suggest(comp, entries.value, { limit: 1 }).filter((c) => c !== comp);
        if (near[0] !== undefined) {
          const fixed = `${parent === "/" ? "" : parent}/${near[0]}`;
          help.push(`did you mean \`${fixed}\`?`);
        }
      }
      if (help.length === 0 && parent !== "/") {
        help.push(`\`${parent}\` exists, but has no entry \`${comp}\``);
      }
      return help;
    }
    dir = next;
  }
  return [];
}
