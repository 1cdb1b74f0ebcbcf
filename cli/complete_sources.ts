/**
 * Where completion finds the names that exist now: one small registry, {@link NAME_SOURCES},
 * from a {@link NameKind} to a function of the session: modules, vDPA devices, netdevs, VMs,
 * guest interfaces, traffic ids, OVS bridges and the pids of the lab's processes. Completing a
 * new kind of object is a one-line change in that table.
 * Paths come from the simulated host's file system (sysfs, /dev, /proc) and, for scripts and
 * output files, from the real one.
 *
 * @example
 * ```ts
 * import { Session } from "../stdlib/session.ts";
 * import { complete } from "./complete.ts";
 * import { sessionSources } from "./complete_sources.ts";
 * const session = new Session({ stdout: () => {} });
 * const c = complete("cat /sys/bus/vi", sessionSources(session, { localDir: () => [] }));
 * if (c.candidates.join() !== "virtio/") throw new Error(c.candidates.join());
 * ```
 *
 * @module
 */

import { mgmtdevHandle } from "../runtime/host/vdpa_bus.ts";
import { OvsVswitchd } from "../runtime/backends/ovs/vswitchd.ts";
import { KERNEL_MODULES } from "../stdlib/catalog/kernel_modules.ts";
import { HELP_TOPIC_NAMES } from "../stdlib/commands/help.ts";
import type { Session } from "../stdlib/session.ts";
import type { CompletionSources, NameKind } from "./complete.ts";

/** Names of one kind, read from a session. */
export type NameSource = (session: Session) => readonly string[];

function links(session: Session, kind?: string): string[] {
  const r = session.lab.host.links();
  if (!r.ok) return [];
  return r.value.filter((l) => kind === undefined || l.kind === kind).map((l) => l.name);
}

/** The registry of live names. Add a kind here (and to {@link NameKind}) to complete it. */
export const NAME_SOURCES: { readonly [K in NameKind]: NameSource } = {
  modules: () => Object.keys(KERNEL_MODULES),
  loadedModules: (s) => s.lab.host.lsmod().map((m) => m.name),
  mgmtdevs: (s) => s.lab.host.vdpa.mgmtdevs.map(mgmtdevHandle),
  vdpaDevices: (s) => s.lab.host.vdpa.devices.map((d) => d.name),
  netdevs: (s) => links(s),
  bridges: (s) => links(s, "bridge"),
  vms: (s) => s.lab.vms.map((vm) => vm.name),
  // Every guest interface by its name (`vm1.eth0`) — passthrough NICs too.
  interfaces: (s) =>
    s.lab.vms.flatMap((vm) => vm.endpointNames().filter((n) => !n.endsWith(".host"))),
  traffic: (s) => s.lab.traffics.map((f) => f.name),
  ovsBridges: (s) => OvsVswitchd.find(s.lab)?.db.bridges().map((b) => b.name) ?? [],
  pids: (s) => s.lab.processes.map((p) => String(p.pid)),
  programs: (s) => [...new Set(s.lab.processes.map((p) => p.command))],
  variables: (s) => [...s.variables.keys()],
  helpTopics: () => HELP_TOPIC_NAMES,
};

/** The real file system, as completion reads it. */
export interface LocalFs {
  /** Entries of `dir`, directories ending with `/`; empty when unreadable. */
  localDir(dir: string): readonly string[];
}

/** Reads the real file system through Deno (no permission or a missing directory: nothing). */
export const DENO_FS: LocalFs = {
  localDir(dir) {
    try {
      const out: string[] = [];
      for (const e of Deno.readDirSync(dir)) {
        let isDir = e.isDirectory;
        if (e.isSymlink) {
          try {
            isDir = Deno.statSync(`${dir}/${e.name}`).isDirectory;
          } catch {
            isDir = false;
          }
        }
        out.push(isDir ? `${e.name}/` : e.name);
      }
      return out.sort();
    } catch {
      return [];
    }
  },
};

/** Completion sources over a live session (and the real file system for scripts). */
export function sessionSources(session: Session, fs: LocalFs = DENO_FS): CompletionSources {
  return {
    meta: true,
    names: (kind) => NAME_SOURCES[kind](session),
    hostDir(dir) {
      const host = session.lab.host;
      const r = host.readdir(dir === "" ? "/" : dir);
      if (!r.ok) return [];
      return r.value.map((name) => {
        const st = host.stat(`${dir}${name}`);
        return st.ok && st.value.type === "dir" ? `${name}/` : name;
      });
    },
    localDir: (dir) => fs.localDir(dir),
  };
}
