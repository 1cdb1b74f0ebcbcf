/**
 * `ovs-vsctl …`: checks the invocation against the OVS catalogs (stdlib/check/ovs.ts, with a
 * per-lab {@link OvsCheckState}), runs its commands as **one** OVSDB transaction on the lab's
 * ovs-vswitchd (runtime/backends/ovs/vswitchd.ts; started on first use) — all or nothing, as
 * ovs-vsctl does — then, unless `--no-wait`, reports what vswitchd could not set up the way
 * ovs-vsctl does after waiting for it, and prints the output of `show`, `list-br`,
 * `list-ports`, `br-exists` and `get`.
 *
 * Codes (E0380–E0389, W0380):
 * - E0380 the transaction fails (ovs-vsctl's own error: no such bridge, port exists …),
 *   located at the command that failed; nothing is committed;
 * - E0381 `br-exists` for a bridge that does not exist (ovs-vsctl exits with status 2);
 * - W0380 vswitchd could not set up an Interface ("Error detected while setting up …"):
 *   the transaction is committed, the Interface has an `error` column and carries nothing.
 *
 * @example
 * ```ts
 * import { Session } from "../session.ts";
 * const out: string[] = [];
 * const s = new Session({ mode: "run", stdout: (t) => out.push(t) });
 * await s.runText(
 *   "ovs-vsctl add-br br0 -- set bridge br0 datapath_type=netdev\novs-vsctl show\n",
 *   "lab.vdpa",
 * );
 * if (!out.join("").includes("datapath_type: netdev")) throw new Error("the bridge is shown");
 * ```
 *
 * @module
 */

import { Diagnostics, error, warning } from "../../lang/diagnostic.ts";
import type { OvsSubcommand, OvsVsctlCommand } from "../../lang/commands/ast.ts";
import { ovsColumnKey } from "../../lang/commands/ovs.ts";
import type { Span } from "../../lang/span.ts";
import type { Lab } from "../../runtime/lab.ts";
import { err, ok, type Result } from "../../runtime/result.ts";
import {
  describeOvsdbError,
  formatOvsShow,
  type OvsdbError,
  type OvsTransaction,
} from "../../runtime/backends/ovs/ovsdb.ts";
import { OvsVswitchd } from "../../runtime/backends/ovs/vswitchd.ts";
import { checkOvs, OvsCheckState } from "../check/ovs.ts";
import type { Executor, ExecutorTable } from "../exec.ts";
import { ensureCostProfile } from "./run.ts";

const CHECK_STATES = new WeakMap<Lab, OvsCheckState>();

function checkState(lab: Lab): OvsCheckState {
  let s = CHECK_STATES.get(lab);
  if (s === undefined) {
    s = new OvsCheckState();
    CHECK_STATES.set(lab, s);
  }
  return s;
}

/** Canonical table names ovs-vsctl accepts in any case. */
function tableName(t: string): string {
  const l = t.toLowerCase();
  if (l === "open_vswitch" || l === "open_vswitch.") return "Open_vSwitch";
  if (l === "bridge") return "Bridge";
  if (l === "port") return "Port";
  if (l === "interface") return "Interface";
  return t;
}

/** Applies the `column[:key]=value` settings of a `set` or `add-port` to `record`. */
function applySettings(
  tx: OvsTransaction,
  table: string,
  record: string,
  settings: OvsSubcommand & { op: "set" | "add-port" },
): Result<void, OvsdbError> {
  for (const p of settings.settings.items) {
    const { column, key } = ovsColumnKey(p);
    const r = tx.set(table, record, column.value, key?.value, p.value?.value ?? "");
    if (!r.ok) return r;
  }
  return ok(undefined);
}

/** One command inside the transaction. */
function apply(tx: OvsTransaction, sub: OvsSubcommand): Result<void, OvsdbError> {
  switch (sub.op) {
    case "add-br":
      return tx.addBridge(sub.bridge.value, sub.mayExist);
    case "del-br":
      return tx.delBridge(sub.bridge.value, sub.ifExists);
    case "add-port": {
      const r = tx.addPort(sub.bridge.value, sub.port.value, sub.mayExist);
      if (!r.ok) return r;
      return applySettings(tx, "Port", sub.port.value, sub);
    }
    case "del-port":
      return tx.delPort(sub.bridge?.value, sub.port.value, sub.ifExists);
    case "set": {
      const table = tableName(sub.table.value);
      if (!tx.has(table, sub.record.value)) {
        return err({ kind: "no-row", table, record: sub.record.value });
      }
      return applySettings(tx, table, sub.record.value, sub);
    }
    case "get":
    case "list":
    case "clear":
    case "remove": {
      const table = tableName(sub.table.value);
      if (sub.record !== undefined && !tx.has(table, sub.record.value)) {
        return err({ kind: "no-row", table, record: sub.record.value });
      }
      return ok(undefined);
    }
    case "list-br":
    case "show":
    case "init":
      return ok(undefined);
    case "list-ports":
    case "br-exists":
      if (sub.op === "list-ports" && !tx.has("Bridge", sub.bridge.value)) {
        return err({ kind: "no-bridge", bridge: sub.bridge.value });
      }
      return ok(undefined);
  }
}

/** Where the settings of Interface `iface` were written (for W0380). */
function ifaceSpan(cmd: OvsVsctlCommand, iface: string): Span {
  for (const sub of cmd.commands) {
    if (
      sub.op === "set" && tableName(sub.table.value) === "Interface" && sub.record.value === iface
    ) {
      const t = sub.settings.items.find((p) => p.key.value === "type");
      return t?.span ?? sub.span;
    }
  }
  for (const sub of cmd.commands) {
    if (sub.op === "add-port" && sub.port.value === iface) return sub.port.span;
  }
  return cmd.program.span;
}

const ovsVsctl: Executor<OvsVsctlCommand> = (cmd, cx) => {
  const lab = cx.lab;
  // This line's own errors (a loop's second pass over a bad line adds no new copy).
  const local = new Diagnostics();
  checkOvs(cmd, local, checkState(lab));
  cx.diagnostics.pushAll(local.items);
  if (local.hasErrors) return;
  ensureCostProfile(lab);
  const ovs = OvsVswitchd.of(lab);
  const out: string[] = [];
  let failedAt: OvsSubcommand | undefined = undefined;
  const r = ovs.transact((tx) => {
    for (const sub of cmd.commands) {
      const a = apply(tx, sub);
      if (!a.ok) {
        failedAt = sub;
        return a;
      }
    }
    return ok(undefined);
  });
  if (!r.ok) {
    const at = failedAt as OvsSubcommand | undefined;
    cx.diagnostics.push(
      error("E0380", describeOvsdbError(r.error).replace(/^ovs-vsctl: /, ""), {
        span: at?.span ?? cmd.span,
        label: "this command fails",
        notes: [
          `ovs-vsctl says: ${describeOvsdbError(r.error)}`,
          "one ovs-vsctl invocation is one transaction: none of its commands took effect",
        ],
      }),
    );
    return;
  }
  // Outputs come from the committed database, in command order.
  for (const sub of cmd.commands) {
    if (sub.op === "show") out.push(formatOvsShow(ovs.db));
    else if (sub.op === "list-br") {
      for (const b of ovs.db.bridges().map((b) => b.name).sort()) out.push(`${b}\n`);
    } else if (sub.op === "list-ports") {
      const b = ovs.db.bridge(sub.bridge.value);
      for (const p of (b?.ports ?? []).filter((p) => p !== b?.name).sort()) out.push(`${p}\n`);
    } else if (sub.op === "br-exists" && ovs.db.bridge(sub.bridge.value) === undefined) {
      cx.diagnostics.push(
        error("E0381", `no bridge named \`${sub.bridge.value}\``, {
          span: sub.bridge.span,
          label: "br-exists exits with status 2",
        }),
      );
    }
  }
  if (!cmd.noWait) {
    for (const e of r.value) {
      if (e.error === undefined) continue;
      const text = `Error detected while setting up '${e.iface}': ${e.error}.  ` +
        "See ovs-vswitchd log for details.";
      const dpdk = e.error.includes("Address family not supported");
      cx.diagnostics.push(
        warning("W0380", `vswitchd cannot set up \`${e.iface}\`: ${e.error}`, {
          span: ifaceSpan(cmd, e.iface),
          label: "the Interface gets an error and carries no traffic",
          notes: [`ovs-vsctl says: ${text}`],
          ...(dpdk
            ? {
              help: [
                "initialise DPDK first: `ovs-vsctl set Open_vSwitch . other_config:dpdk-init=true`",
              ],
            }
            : {}),
        }),
      );
    }
  }
  for (const sub of cmd.commands) {
    if (sub.op === "add-br") {
      cx.provenance.set(`ovs-bridge:${sub.bridge.value}`, sub.span, "bridge added here");
    }
  }
  if (out.length > 0) cx.print(out.join(""));
};

/** The executors of this file. */
export const OVS_EXECUTORS: ExecutorTable = { "ovs-vsctl": ovsVsctl };
