/**
 * The part of the Open vSwitch database (vswitchd/vswitch.ovsschema) `ovs-vsctl` edits and
 * ovs-vswitchd reads: the single Open_vSwitch record (`other_config`), Bridges with their
 * Ports, Ports with their Interfaces, and each Interface's `type`, `options` and the `error`
 * vswitchd writes back. Names are unique per table, as OVSDB's indexes make them.
 *
 * Every ovs-vsctl invocation is one transaction ({@link OvsDb.transact}): its commands run on
 * a copy and are committed together, or not at all when one fails — with ovs-vsctl's own
 * error text. `ovs-vsctl show` prints {@link formatOvsShow}.
 *
 * @example
 * ```ts
 * import { formatOvsShow, OvsDb } from "./ovsdb.ts";
 * const db = new OvsDb({ uuid: "3b8e6f1c-0d5a-4f7e-9c2b-1a2b3c4d5e6f" });
 * const r = db.transact((tx) => tx.addBridge("br0", false));
 * if (!r.ok) throw new Error("add-br");
 * if (!formatOvsShow(db).includes("    Bridge br0\n        Port br0\n            Interface br0\n                type: internal")) {
 *   throw new Error(formatOvsShow(db));
 * }
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../../result.ts";

/** An Interface row. */
export interface OvsInterface {
  readonly name: string;
  /** `type` ("" is a system interface). */
  type: string;
  readonly options: Map<string, string>;
  readonly otherConfig: Map<string, string>;
  mtuRequest: number | undefined;
  /** What vswitchd could not do with it (shown by `ovs-vsctl show`). */
  error: string | undefined;
  /** OpenFlow port number vswitchd assigned (-1 on error). */
  ofport: number | undefined;
}

/** A Port row. */
export interface OvsPort {
  readonly name: string;
  readonly interfaces: string[];
  tag: number | undefined;
}

/** A Bridge row. */
export interface OvsBridge {
  readonly name: string;
  /** "" (system) or "netdev". */
  datapathType: string;
  readonly ports: string[];
  readonly otherConfig: Map<string, string>;
}

/** Why an ovs-vsctl command failed (closed union; one formatter below). */
export type OvsdbError =
  | { readonly kind: "bridge-exists"; readonly bridge: string }
  | { readonly kind: "no-bridge"; readonly bridge: string }
  | { readonly kind: "port-exists"; readonly port: string; readonly bridge: string }
  | { readonly kind: "no-port"; readonly port: string }
  | { readonly kind: "port-not-on-bridge"; readonly port: string; readonly bridge: string }
  | { readonly kind: "no-row"; readonly table: string; readonly record: string }
  | {
    readonly kind: "bad-value";
    readonly column: string;
    readonly value: string;
    readonly why: string;
  };

/** ovs-vsctl's text (the only formatter of {@link OvsdbError}). */
export function describeOvsdbError(e: OvsdbError): string {
  switch (e.kind) {
    case "bridge-exists":
      return `ovs-vsctl: cannot create a bridge named ${e.bridge} because a bridge named ${e.bridge} already exists`;
    case "no-bridge":
      return `ovs-vsctl: no bridge named ${e.bridge}`;
    case "port-exists":
      return `ovs-vsctl: cannot create a port named ${e.port} because a port named ${e.port} already exists on bridge ${e.bridge}`;
    case "no-port":
      return `ovs-vsctl: no port named ${e.port}`;
    case "port-not-on-bridge":
      return `ovs-vsctl: bridge ${e.bridge} does not have a port ${e.port}`;
    case "no-row":
      return `ovs-vsctl: no row "${e.record}" in table ${e.table}`;
    case "bad-value":
      return `ovs-vsctl: "${e.value}" is not a valid value for column ${e.column}: ${e.why}`;
  }
}

/** The tables a transaction edits. */
interface Tables {
  otherConfig: Map<string, string>;
  bridges: Map<string, OvsBridge>;
  ports: Map<string, OvsPort>;
  interfaces: Map<string, OvsInterface>;
}

function copyTables(t: Tables): Tables {
  return {
    otherConfig: new Map(t.otherConfig),
    bridges: new Map(
      [...t.bridges].map(([k, b]) => [k, {
        ...b,
        ports: [...b.ports],
        otherConfig: new Map(b.otherConfig),
      }]),
    ),
    ports: new Map([...t.ports].map(([k, p]) => [k, { ...p, interfaces: [...p.interfaces] }])),
    interfaces: new Map(
      [...t.interfaces].map(([k, i]) => [k, {
        ...i,
        options: new Map(i.options),
        otherConfig: new Map(i.otherConfig),
      }]),
    ),
  };
}

function newInterface(name: string, type: string): OvsInterface {
  return {
    name,
    type,
    options: new Map(),
    otherConfig: new Map(),
    mtuRequest: undefined,
    error: undefined,
    ofport: undefined,
  };
}

/** The commands of one transaction. */
export class OvsTransaction {
  readonly #t: Tables;

  constructor(t: Tables) {
    this.#t = t;
  }

  /** `add-br BR`: the bridge, its local port and internal interface of the same name. */
  addBridge(name: string, mayExist: boolean): Result<void, OvsdbError> {
    if (this.#t.bridges.has(name)) {
      return mayExist ? ok(undefined) : err({ kind: "bridge-exists", bridge: name });
    }
    this.#t.bridges.set(name, { name, datapathType: "", ports: [name], otherConfig: new Map() });
    this.#t.ports.set(name, { name, interfaces: [name], tag: undefined });
    this.#t.interfaces.set(name, newInterface(name, "internal"));
    return ok(undefined);
  }

  /** `del-br BR`: the bridge with all its ports and interfaces. */
  delBridge(name: string, ifExists: boolean): Result<void, OvsdbError> {
    const b = this.#t.bridges.get(name);
    if (b === undefined) return ifExists ? ok(undefined) : err({ kind: "no-bridge", bridge: name });
    for (const p of b.ports) this.#dropPort(p);
    this.#t.bridges.delete(name);
    return ok(undefined);
  }

  #dropPort(name: string): void {
    const p = this.#t.ports.get(name);
    if (p === undefined) return;
    for (const i of p.interfaces) this.#t.interfaces.delete(i);
    this.#t.ports.delete(name);
  }

  /** The bridge that has port `port`. */
  bridgeOf(port: string): OvsBridge | undefined {
    for (const b of this.#t.bridges.values()) if (b.ports.includes(port)) return b;
    return undefined;
  }

  /** `add-port BR PORT`: a port with one interface of the same name (type system). */
  addPort(bridge: string, port: string, mayExist: boolean): Result<void, OvsdbError> {
    const b = this.#t.bridges.get(bridge);
    if (b === undefined) return err({ kind: "no-bridge", bridge });
    const on = this.bridgeOf(port);
    if (on !== undefined) {
      return mayExist && on.name === bridge
        ? ok(undefined)
        : err({ kind: "port-exists", port, bridge: on.name });
    }
    b.ports.push(port);
    this.#t.ports.set(port, { name: port, interfaces: [port], tag: undefined });
    this.#t.interfaces.set(port, newInterface(port, ""));
    return ok(undefined);
  }

  /** `del-port [BR] PORT`. */
  delPort(bridge: string | undefined, port: string, ifExists: boolean): Result<void, OvsdbError> {
    const on = this.bridgeOf(port);
    if (on === undefined) return ifExists ? ok(undefined) : err({ kind: "no-port", port });
    if (bridge !== undefined && on.name !== bridge) {
      if (!this.#t.bridges.has(bridge)) return err({ kind: "no-bridge", bridge });
      return err({ kind: "port-not-on-bridge", port, bridge });
    }
    on.ports.splice(on.ports.indexOf(port), 1);
    this.#dropPort(port);
    return ok(undefined);
  }

  /**
   * `set TABLE RECORD column[:key]=value`. Tables: Open_vSwitch (record `.`), Bridge, Port,
   * Interface. Map columns take `key=value`; `options`, `other_config` and `external_ids` are
   * maps.
   */
  set(
    table: string,
    record: string,
    column: string,
    key: string | undefined,
    value: string,
  ): Result<void, OvsdbError> {
    switch (table) {
      case "Open_vSwitch":
        if (key !== undefined && column === "other_config") this.#t.otherConfig.set(key, value);
        return ok(undefined);
      case "Bridge": {
        const b = this.#t.bridges.get(record);
        if (b === undefined) return err({ kind: "no-row", table, record });
        if (column === "datapath_type") b.datapathType = value;
        else if (column === "other_config" && key !== undefined) b.otherConfig.set(key, value);
        return ok(undefined);
      }
      case "Port": {
        const p = this.#t.ports.get(record);
        if (p === undefined) return err({ kind: "no-row", table, record });
        if (column === "tag") p.tag = Number(value);
        return ok(undefined);
      }
      case "Interface": {
        const i = this.#t.interfaces.get(record);
        if (i === undefined) return err({ kind: "no-row", table, record });
        if (column === "type") i.type = value;
        else if (column === "options" && key !== undefined) i.options.set(key, value);
        else if (column === "other_config" && key !== undefined) i.otherConfig.set(key, value);
        else if (column === "mtu_request") i.mtuRequest = Number(value);
        return ok(undefined);
      }
      default:
        return ok(undefined);
    }
  }

  /** True when `table` has `record`. */
  has(table: string, record: string): boolean {
    switch (table) {
      case "Open_vSwitch":
        return record === ".";
      case "Bridge":
        return this.#t.bridges.has(record);
      case "Port":
        return this.#t.ports.has(record);
      case "Interface":
        return this.#t.interfaces.has(record);
      default:
        return false;
    }
  }
}

/** The database; see the module documentation. */
export class OvsDb {
  /** The Open_vSwitch record's UUID (first line of `ovs-vsctl show`). */
  readonly uuid: string;
  /** `ovs_version`. */
  readonly version: string;
  #t: Tables = {
    otherConfig: new Map(),
    bridges: new Map(),
    ports: new Map(),
    interfaces: new Map(),
  };
  #generation = 0;

  constructor(options: { readonly uuid: string; readonly version?: string }) {
    this.uuid = options.uuid;
    this.version = options.version ?? "3.3.1";
  }

  /** Runs `body` on a copy and commits it when every command succeeded. */
  transact(body: (tx: OvsTransaction) => Result<void, OvsdbError>): Result<void, OvsdbError> {
    const copy = copyTables(this.#t);
    const r = body(new OvsTransaction(copy));
    if (!r.ok) return r;
    this.#t = copy;
    this.#generation++;
    return ok(undefined);
  }

  /** Changes after every committed transaction (vswitchd reconfigures then). */
  get generation(): number {
    return this.#generation;
  }

  /** Open_vSwitch other_config. */
  get otherConfig(): ReadonlyMap<string, string> {
    return this.#t.otherConfig;
  }

  /** Bridges, in creation order. */
  bridges(): OvsBridge[] {
    return [...this.#t.bridges.values()];
  }

  bridge(name: string): OvsBridge | undefined {
    return this.#t.bridges.get(name);
  }

  port(name: string): OvsPort | undefined {
    return this.#t.ports.get(name);
  }

  iface(name: string): OvsInterface | undefined {
    return this.#t.interfaces.get(name);
  }

  /** The bridge that has `port`. */
  bridgeOf(port: string): OvsBridge | undefined {
    for (const b of this.#t.bridges.values()) if (b.ports.includes(port)) return b;
    return undefined;
  }
}

function quoteValue(v: string): string {
  // ovsdb prints a string bare when it is a valid identifier, else quoted.
  return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(v) && !/^(true|false)$/.test(v) ? v : JSON.stringify(v);
}

/** `ovs-vsctl show`: bridges and ports in name order, non-default columns only. */
export function formatOvsShow(db: OvsDb): string {
  const lines = [db.uuid];
  const bridges = db.bridges().sort((a, b) => a.name.localeCompare(b.name));
  for (const b of bridges) {
    lines.push(`    Bridge ${quoteValue(b.name)}`);
    if (b.datapathType !== "") lines.push(`        datapath_type: ${b.datapathType}`);
    for (const pn of [...b.ports].sort()) {
      const p = db.port(pn);
      if (p === undefined) continue;
      lines.push(`        Port ${quoteValue(p.name)}`);
      if (p.tag !== undefined) lines.push(`            tag: ${p.tag}`);
      for (const iname of p.interfaces) {
        const i = db.iface(iname);
        if (i === undefined) continue;
        lines.push(`            Interface ${quoteValue(i.name)}`);
        if (i.type !== "") lines.push(`                type: ${i.type}`);
        if (i.options.size > 0) {
          const opts = [...i.options].sort(([a], [b]) => a.localeCompare(b))
            .map(([k, v]) => `${quoteValue(k)}=${quoteValue(v)}`).join(", ");
          lines.push(`                options: {${opts}}`);
        }
        if (i.error !== undefined) lines.push(`                error: ${JSON.stringify(i.error)}`);
      }
    }
  }
  lines.push(`    ovs_version: "${db.version}"`);
  return lines.join("\n") + "\n";
}
