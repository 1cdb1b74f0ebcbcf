/**
 * The semantic check of an `ovs-vsctl` invocation: `set TABLE RECORD column[:key]=value` and
 * `add-port BR PORT column=value` settings against the OVS catalogs (columns per table,
 * Interface types and their `options:` keys, `other_config:` keys), and the rule that DPDK and
 * vhost-user ports need a bridge with `datapath_type=netdev`.
 *
 * One ovs-vsctl invocation is one transaction, so a bridge's datapath set anywhere in the
 * invocation counts. Across invocations the caller passes an {@link OvsCheckState} that
 * remembers bridges and ports (the runtime keeps the real database).
 *
 * @example A vhost-user client port on a userspace bridge
 * ```ts
 * import { Diagnostics } from "../../lang/diagnostic.ts";
 * import { checkOvs, OvsCheckState } from "./ovs.ts";
 * import { testOvs } from "./test_commands.ts";
 * const diags = new Diagnostics();
 * const state = new OvsCheckState();
 * checkOvs(testOvs("ovs-vsctl add-br br0 -- set bridge br0 datapath_type=netdev"), diags, state);
 * checkOvs(
 *   testOvs(
 *     "ovs-vsctl add-port br0 vhu0 -- set Interface vhu0 type=dpdkvhostuserclient options:vhost-server-path=/tmp/vhu0",
 *   ),
 *   diags,
 *   state,
 * );
 * if (diags.items.some((d) => d.severity === "error")) throw new Error("valid setup");
 * ```
 *
 * @module
 */

import { type Diagnostics, error, warning } from "../../lang/diagnostic.ts";
import type { OvsSubcommand, OvsVsctlCommand } from "../../lang/commands/ast.ts";
import { ovsColumnKey } from "../../lang/commands/ovs.ts";
import type { Prop, PropList } from "../../lang/props.ts";
import type { Located } from "../../lang/word.ts";
import { didYouMean } from "../../lang/suggest.ts";
import {
  classNames,
  type ClassSchema,
  expectedText,
  findClass,
  parseValue,
  type PropSchema,
} from "../catalog/schema.ts";
import {
  OVS_INTERFACE_TYPES,
  OVS_TABLE_COLUMNS,
  OVS_USERSPACE_TYPES,
  type OvsColumn,
} from "../catalog/ovs.ts";
import { typeProps } from "./class_props.ts";

/** What the checker knows of the OVS database between invocations. */
export class OvsCheckState {
  /** Bridge name → its datapath type (`system` unless set) and where that was decided. */
  readonly bridges: Map<string, Located<string>> = new Map();
  /** Port name → its bridge. */
  readonly ports: Map<string, Located<string>> = new Map();
  /** Interface name → its type and where it was set. */
  readonly types: Map<string, Located<string>> = new Map();
}

type SetCommand = Extract<OvsSubcommand, { op: "set" }>;

/** Checks one ovs-vsctl invocation, updating `state`. */
export function checkOvs(
  cmd: OvsVsctlCommand,
  diags: Diagnostics,
  state: OvsCheckState = new OvsCheckState(),
): void {
  const ignored: Prop[] = [];
  for (const sub of cmd.commands) {
    if (sub.op === "add-br") {
      if (!state.bridges.has(sub.bridge.value)) {
        state.bridges.set(sub.bridge.value, { value: "system", span: sub.bridge.span });
      }
    } else if (sub.op === "add-port") {
      state.ports.set(sub.port.value, sub.bridge);
      checkSettings("Port", sub.port, sub.settings, diags, state, ignored);
    } else if (sub.op === "del-port") {
      state.ports.delete(sub.port.value);
    } else if (sub.op === "del-br") {
      state.bridges.delete(sub.bridge.value);
    } else if (sub.op === "set") {
      checkSet(sub, diags, state, ignored);
    }
  }
  checkDatapaths(cmd, diags, state);
  if (ignored.length > 0) {
    const names = [...new Set(ignored.map((p) => `\`${p.key.value}\``))];
    diags.push(
      warning(
        "W0220",
        `${
          names.length === 1 ? names[0] : `${names.length} settings`
        } accepted but ignored: no effect on simulated I/O`,
        {
          span: (ignored[0] as Prop).key.span,
          label: "ignored",
          secondary: ignored.slice(1).map((p) => ({ span: p.key.span, message: "ignored" })),
          notes: names.length > 1 ? [`ignored: ${names.join(", ")}`] : [],
        },
      ),
    );
  }
}

function checkSet(sub: SetCommand, diags: Diagnostics, state: OvsCheckState, ignored: Prop[]) {
  checkSettings(sub.table.value, sub.record, sub.settings, diags, state, ignored);
}

/** Types a settings list of `table` for `record`. */
function checkSettings(
  table: string,
  record: Located<string>,
  settings: PropList,
  diags: Diagnostics,
  state: OvsCheckState,
  ignored: Prop[],
): void {
  const columns = OVS_TABLE_COLUMNS[table];
  if (!columns) return; // QoS, Mirror …: not modelled, not checked
  const options: Prop[] = [];
  let typeItem: Prop | undefined;
  for (const item of settings.items) {
    const { column, key } = ovsColumnKey(item);
    const col = Object.hasOwn(columns, column.value) ? columns[column.value] : undefined;
    if (!col) {
      const help = didYouMean(column.value, Object.keys(columns), { dashUnderscore: true });
      diags.push(
        error("E0242", `the ${table} table has no column \`${column.value}\``, {
          span: column.span,
          label: "no such column",
          notes: [
            `ovs-vsctl says: ${table} does not contain a column whose name matches "${column.value}"`,
          ],
          ...(help === undefined ? {} : { help: [help] }),
        }),
      );
      continue;
    }
    if (table === "Interface" && column.value === "options") {
      if (key) options.push({ ...item, key });
      continue;
    }
    if (table === "Interface" && column.value === "type") typeItem = item;
    checkColumn(table, col, column, key, item, diags, ignored);
  }
  if (table === "Interface") {
    checkInterface(record, typeItem, options, settings, diags, state, ignored);
  }
  if (table === "Bridge") {
    const dp = settings.items.find((i) => i.key.value === "datapath_type");
    if (dp?.value) {
      state.bridges.set(record.value, { value: dp.value.value || "system", span: dp.value.span });
    }
  }
}

function checkColumn(
  table: string,
  col: OvsColumn,
  column: Located<string>,
  key: Located<string> | undefined,
  item: Prop,
  diags: Diagnostics,
  ignored: Prop[],
): void {
  let schema: PropSchema | undefined;
  if (col.kind === "scalar") {
    if (key) {
      diags.push(
        error("E0242", `\`${column.value}\` is not a map column`, {
          span: key.span,
          label: "no `:key` here",
          notes: [`ovs-vsctl says: cannot specify key to set for non-map column ${column.value}`],
        }),
      );
      return;
    }
    schema = col.value;
  } else {
    if (!key) return; // `other_config={…}` replaces the map: not checked key by key
    schema = col.keys?.[key.value];
    if (!schema) {
      if (col.openKeys) {
        if (!col.ioRelevant) ignored.push(item);
        return;
      }
      const help = didYouMean(key.value, Object.keys(col.keys ?? {}));
      diags.push(
        error("E0242", `unknown key \`${key.value}\` in ${table} ${column.value}`, {
          span: key.span,
          label: "OVS does not read this key",
          notes: ["OVS ignores a key it does not know: the setting would have no effect"],
          ...(help === undefined ? {} : { help: [help] }),
        }),
      );
      return;
    }
  }
  if (!schema || column.value === "type") return;
  const text = item.value?.value ?? "";
  const parsed = parseValue(text, schema);
  if (!parsed.ok) {
    diags.push(
      error("E0226", `invalid value \`${text}\` for \`${item.key.value}\``, {
        span: item.value?.span ?? item.span,
        label: expectedText(parsed.error, schema),
        notes: ["ovsdb-server rejects it, or vswitchd ignores it and keeps the default"],
      }),
    );
    return;
  }
  if (!schema.ioRelevant) ignored.push(item);
}

function checkInterface(
  record: Located<string>,
  typeItem: Prop | undefined,
  options: Prop[],
  settings: PropList,
  diags: Diagnostics,
  state: OvsCheckState,
  ignored: Prop[],
): void {
  const typeName = typeItem?.value ?? state.types.get(record.value);
  let schema: ClassSchema | undefined;
  if (typeName) {
    schema = findClass(OVS_INTERFACE_TYPES, typeName.value);
    if (!schema) {
      const help = didYouMean(typeName.value, classNames(OVS_INTERFACE_TYPES));
      diags.push(
        error("E0242", `unknown OVS interface type \`${typeName.value}\``, {
          span: typeName.span,
          label: "no netdev class of this type",
          notes: [
            `OVS logs: could not open network device ${record.value} (Address family not supported by protocol)`,
          ],
          ...(help === undefined ? {} : { help: [help] }),
        }),
      );
      return;
    }
    state.types.set(record.value, typeName);
    if (schema.status === "unmodelled") {
      diags.push(
        warning(
          "W0221",
          `OVS interface type \`${schema.name}\` is accepted but not modelled by the lab`,
          {
            span: typeName.span,
            label: "not simulated",
            notes: ["frames sent to this port are dropped"],
          },
        ),
      );
      return;
    }
    if (schema.name === "dpdkvhostuser") {
      diags.push(
        warning("W0222", "`dpdkvhostuser` ports are deprecated", {
          span: typeName.span,
          label: "OVS is the socket server here",
          notes: [
            "OVS logs that dpdkvhostuser ports are deprecated in favour of dpdkvhostuserclient",
          ],
          help: [
            "use `type=dpdkvhostuserclient options:vhost-server-path=…` with a QEMU chardev `server=on`",
          ],
        }),
      );
    }
  }
  // Without a known type (set in an invocation the checker did not see) options stay unchecked.
  if (!schema) return;
  const list: PropList = { span: settings.span, items: options };
  typeProps(list, diags, {
    schema,
    owner: schema.name,
    what: "OVS interface",
    keyPrefix: "options:",
    ignoredSink: ignored,
    // Required options only when the type is set in this very command.
    checkRequired: typeItem !== undefined,
    at: typeName?.span ?? record.span,
    missingTexts: {
      "dpdk-devargs":
        `'${record.value}' is missing 'options:dpdk-devargs'. The old 'dpdk<port_id>' names are not supported`,
    },
  });
}

/** DPDK and vhost-user ports need their bridge on the userspace datapath. */
function checkDatapaths(cmd: OvsVsctlCommand, diags: Diagnostics, state: OvsCheckState): void {
  for (const sub of cmd.commands) {
    if (sub.op !== "set" || sub.table.value !== "Interface") continue;
    const type = state.types.get(sub.record.value);
    if (!type || !OVS_USERSPACE_TYPES.includes(type.value)) continue;
    const bridge = state.ports.get(sub.record.value);
    const dp = bridge ? state.bridges.get(bridge.value) : undefined;
    if (!bridge || !dp || dp.value === "netdev") continue;
    diags.push(
      error(
        "E0243",
        `\`${type.value}\` port \`${sub.record.value}\` is on bridge \`${bridge.value}\`, which uses the kernel datapath`,
        {
          span: type.span,
          label: "needs datapath_type=netdev",
          secondary: [{
            span: bridge.span,
            message: `\`${bridge.value}\` has datapath_type=${dp.value}`,
          }],
          notes: [
            `OVS logs: could not open network device ${sub.record.value} (Address family not supported by protocol)`,
          ],
          help: [
            `add \`-- set bridge ${bridge.value} datapath_type=netdev\` when creating the bridge`,
          ],
        },
      ),
    );
  }
}

/** Exposed for the REPL's completion: the columns of a table, if the lab models it. */
export function ovsColumns(table: string): readonly string[] {
  return Object.keys(OVS_TABLE_COLUMNS[table] ?? {});
}
