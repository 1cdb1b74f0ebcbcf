/**
 * The module table: which modules are loaded, in which order, with which parameter values,
 * who holds them (modules that use their symbols, in the order they were loaded) and how
 * many other references pin them (open device nodes). It answers the questions kmod asks —
 * what to load before a module (modules.dep), whether a module can go (refcount, holders),
 * what becomes unused after a removal — and parses parameters the way the kernel does
 * (kstrtobool, kstrtoint with base 0). It emits nothing: the kernel orchestrates.
 *
 * @example
 * ```ts
 * import { ModuleTable } from "./modules.ts";
 * const table = new ModuleTable({
 *   vdpa: { description: "vDPA bus", size: 1, depends: [] },
 *   vhost_vdpa: { description: "vhost-vdpa", size: 1, depends: ["vdpa"] },
 * });
 * if (table.loadPlan("vhost_vdpa").join() !== "vdpa,vhost_vdpa") throw new Error("deps first");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import { type ModuleSpec, normalizeModuleName, type ParamSpec } from "./module_spec.ts";

/** A loaded module. */
export interface LoadedModule {
  readonly name: string;
  readonly spec: ModuleSpec;
  /** Current values as sysfs prints them (`Y`, `2048`, …). */
  readonly params: Map<string, string>;
  /** Modules using this one, in load order. */
  readonly holders: string[];
  /** References other than holders (open /dev nodes of this module). */
  refs: number;
}

/** Why parameters were refused or partly ignored. */
export interface ParamOutcome {
  /** Values to apply, as sysfs prints them. */
  readonly values: Map<string, string>;
  /** Names the module does not have (the kernel warns and ignores them). */
  readonly unknown: readonly string[];
}

/** A parameter value the kernel refuses: init_module fails with -EINVAL. */
export interface ParamRejection {
  readonly param: string;
  readonly value: string;
}

/** Module state. */
export class ModuleTable {
  readonly #catalog: Readonly<Record<string, ModuleSpec>>;
  readonly #loaded = new Map<string, LoadedModule>();

  /** `catalog` maps canonical module names to specs. */
  constructor(catalog: Readonly<Record<string, ModuleSpec>>) {
    this.#catalog = catalog;
    for (const [name, spec] of Object.entries(catalog)) {
      for (const d of spec.depends) {
        if (!(d in catalog)) {
          throw new TypeError(`Module ${name} depends on ${d}, which the catalog lacks`);
        }
      }
    }
  }

  /** The canonical name if the catalog knows it (`-` and `_` alike). */
  resolve(name: string): string | undefined {
    const n = normalizeModuleName(name);
    return n in this.#catalog ? n : undefined;
  }

  /** The spec of a catalog module. */
  spec(name: string): ModuleSpec | undefined {
    return this.#catalog[name];
  }

  /** All catalog names. */
  get names(): readonly string[] {
    return Object.keys(this.#catalog);
  }

  /** Whether a module is present (loaded, or built in). */
  isLoaded(name: string): boolean {
    return this.#loaded.has(name) || this.#catalog[name]?.builtin === true;
  }

  /** The loaded entry (not for built-ins). */
  get(name: string): LoadedModule | undefined {
    return this.#loaded.get(name);
  }

  /** Loadable modules, most recently loaded first (/proc/modules order). */
  list(): readonly LoadedModule[] {
    return [...this.#loaded.values()].reverse();
  }

  /** The reference count `lsmod` prints in "Used by". */
  refcnt(name: string): number {
    const m = this.#loaded.get(name);
    return m === undefined ? 0 : m.holders.length + m.refs;
  }

  /**
   * Modules to insert for `name`, dependencies first (depth-first over modules.dep),
   * skipping those already present.
   */
  loadPlan(name: string): string[] {
    const plan: string[] = [];
    const visiting = new Set<string>();
    const visit = (m: string): void => {
      if (this.isLoaded(m) || plan.includes(m)) return;
      if (visiting.has(m)) throw new TypeError(`Dependency cycle through ${m}`);
      visiting.add(m);
      for (const d of this.#catalog[m]?.depends ?? []) visit(d);
      visiting.delete(m);
      plan.push(m);
    };
    visit(name);
    return plan;
  }

  /**
   * The transitive dependencies of `name` with users before the modules they use, the
   * order in which `modprobe -r` tries to remove those that became unused.
   */
  dependencyClosure(name: string): string[] {
    const post: string[] = [];
    const seen = new Set<string>();
    const visit = (m: string): void => {
      for (const d of this.#catalog[m]?.depends ?? []) {
        if (seen.has(d)) continue;
        seen.add(d);
        visit(d);
        post.push(d);
      }
    };
    visit(name);
    return post.reverse();
  }

  /** Records a loaded module and makes it a holder of its dependencies. */
  insert(name: string, params: Map<string, string>): LoadedModule {
    const spec = this.#catalog[name];
    if (spec === undefined) throw new TypeError(`Unknown module ${name}`);
    const m: LoadedModule = { name, spec, params, holders: [], refs: 0 };
    this.#loaded.set(name, m);
    for (const d of spec.depends) this.#loaded.get(d)?.holders.push(name);
    return m;
  }

  /** Forgets a module and drops it from its dependencies' holders. */
  delete(name: string): void {
    const m = this.#loaded.get(name);
    if (m === undefined) throw new TypeError(`Module ${name} is not loaded`);
    this.#loaded.delete(name);
    for (const d of m.spec.depends) {
      const dm = this.#loaded.get(d);
      if (dm !== undefined) dm.holders.splice(dm.holders.indexOf(name), 1);
    }
  }

  /** Takes a reference (try_module_get); false when not loaded. */
  pin(name: string): boolean {
    const m = this.#loaded.get(name);
    if (m === undefined) return this.#catalog[name]?.builtin === true;
    m.refs++;
    return true;
  }

  /** Drops a reference (module_put). */
  unpin(name: string): void {
    const m = this.#loaded.get(name);
    if (m !== undefined && m.refs > 0) m.refs--;
  }

  /**
   * Parses `key=value` parameters against the spec (kernel/params.c): unknown names are
   * reported for a warning and ignored; a value the type cannot parse refuses the load.
   * A bare `key` sets a bool to true. Unset parameters take their defaults.
   */
  parseParams(name: string, given: readonly string[]): Result<ParamOutcome, ParamRejection> {
    const spec = this.#catalog[name];
    const defs = spec?.params ?? {};
    const values = new Map<string, string>();
    for (const [k, p] of Object.entries(defs)) values.set(k, showParam(p, p.default));
    const unknown: string[] = [];
    for (const item of given) {
      const eq = item.indexOf("=");
      const key = normalizeModuleName(eq < 0 ? item : item.slice(0, eq));
      const raw = eq < 0 ? "" : item.slice(eq + 1);
      const def = defs[key];
      if (def === undefined) {
        unknown.push(key);
        continue;
      }
      const parsed = parseParam(def, raw, eq < 0);
      if (parsed === undefined) return err({ param: key, value: raw });
      values.set(key, showParam(def, parsed));
    }
    return ok({ values, unknown });
  }

  /** Parses one value for a runtime write to /sys/module/<m>/parameters/<p>. */
  static parseParamValue(def: ParamSpec, raw: string): string | undefined {
    const v = parseParam(def, raw.replace(/\n$/, ""), false);
    return v === undefined ? undefined : showParam(def, v);
  }
}

function parseParam(
  def: ParamSpec,
  raw: string,
  bare: boolean,
): boolean | number | string | undefined {
  switch (def.type) {
    case "bool": {
      if (bare) return true;
      // kstrtobool: y/Y/1/on → true, n/N/0/off → false
      const s = raw.toLowerCase();
      if (s.startsWith("y") || s.startsWith("1") || s === "on") return true;
      if (s.startsWith("n") || s.startsWith("0") || s === "off") return false;
      return undefined;
    }
    case "int":
    case "uint":
    case "ushort": {
      const n = parseKernelInt(raw);
      if (n === undefined) return undefined;
      if (def.type === "int" && (n < -0x80000000 || n > 0x7fffffff)) return undefined;
      if (def.type === "uint" && (n < 0 || n > 0xffffffff)) return undefined;
      if (def.type === "ushort" && (n < 0 || n > 0xffff)) return undefined;
      return n;
    }
    case "charp":
      return raw;
  }
}

/** kstrtoint(…, 0): decimal, 0x hex or leading-0 octal, optional sign. */
function parseKernelInt(raw: string): number | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(raw);
  if (m === null) return undefined;
  const body = m[2] ?? "";
  const v = body.startsWith("0x") || body.startsWith("0X")
    ? parseInt(body.slice(2), 16)
    : body.length > 1 && body.startsWith("0")
    ? parseInt(body.slice(1), 8)
    : parseInt(body, 10);
  return m[1] === "-" ? -v : v;
}

function showParam(def: ParamSpec, v: boolean | number | string): string {
  if (def.type === "bool") return v === true ? "Y" : "N";
  if (def.type === "charp") return String(v);
  return String(v);
}
