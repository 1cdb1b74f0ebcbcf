/**
 * The reference tables of the generated documents, each built from the code that defines the
 * thing it documents: `run --json` fields (the `FlowSummary` interface and its comments), the
 * counters and drop reasons (their `as const` arrays), trace hop actions (`HopDetailsMap`),
 * the cost profile (`DEFAULT_COST_PROFILE`) and the diagnostic codes (the registries). Where a
 * table shows example values they come from a real run.
 *
 * Each builder checks the documentation against the code it reads, and throws when they part
 * (an undocumented field, a summary key no comment describes): the generator fails rather
 * than print a table that is no longer true.
 *
 * @example
 * ```ts
 * import { dropReasonsTable } from "./tables.ts";
 * const t = await dropReasonsTable();
 * if (!t.includes("| `ring_full`")) throw new Error(t);
 * ```
 *
 * @module
 */

import { KNOWN_PROGRAMS } from "../../lang/commands/mod.ts";
import { helpPage } from "../../stdlib/commands/help.ts";
import { DEFAULT_COST_PROFILE } from "../../stdlib/cost_profile.ts";
import { COST_KEYS } from "../../runtime/sim/cost.ts";
import type { FlowSummary } from "../../runtime/trace/metrics.ts";
import { allCodes } from "./codes.ts";
import { table } from "./markdown.ts";
import { arrayMembers, arrayTuples, interfaceMembers, type Member } from "./ts_doc.ts";

const ROOT = new URL("../../", import.meta.url);

async function source(path: string): Promise<string> {
  return await Deno.readTextFile(new URL(path, ROOT));
}

function code(s: string): string {
  return `\`${s}\``;
}

function documented(members: readonly Member[], where: string): readonly Member[] {
  const bare = members.filter((m) => m.doc === "").map((m) => m.name);
  if (bare.length > 0) throw new Error(`${where}: no doc comment on ${bare.join(", ")}`);
  return members;
}

/** A JSON value as a table cell: numbers and strings as JSON, objects compact. */
function jsonCell(v: unknown): string {
  return code(JSON.stringify(v));
}

/** Fields whose value is an object with fixed keys, each documented in a table of its own. */
const NESTED: Readonly<Record<string, string>> = {
  dropped_by_reason: "one field per drop reason (table below)",
  latency: "object (table below)",
  totals: "one field per counter (table below)",
  per_packet: "one field per counter (table below)",
};

/** `run --json`: one row per `FlowSummary` field, with its value in `example` (a real run). */
export async function jsonFieldsTable(example: FlowSummary): Promise<string> {
  const members = documented(
    interfaceMembers(await source("runtime/trace/metrics.ts"), "FlowSummary"),
    "FlowSummary",
  );
  sameKeys(members.map((m) => m.name), Object.keys(example), "FlowSummary");
  const rows = members.map((m) => {
    const v = (example as unknown as Record<string, unknown>)[m.name];
    return [code(m.name), m.doc, NESTED[m.name] ?? jsonCell(v)];
  });
  return table(["field", "meaning", "example"], rows);
}

/** `latency.*` fields. */
export async function latencyTable(example: FlowSummary): Promise<string> {
  const members = documented(
    interfaceMembers(await source("runtime/trace/metrics.ts"), "LatencySummary"),
    "LatencySummary",
  );
  sameKeys(members.map((m) => m.name), Object.keys(example.latency), "LatencySummary");
  const rows = members.map((m) => [
    code(`latency.${m.name}`),
    m.doc,
    jsonCell(example.latency[m.name as keyof FlowSummary["latency"]]),
  ]);
  return table(["field", "meaning", "example"], rows);
}

/** The counters of `totals.*` and `per_packet.*`, with both values from `example`. */
export async function countersTable(example: FlowSummary): Promise<string> {
  const members = documented(
    arrayMembers(await source("runtime/trace/metrics.ts"), "COUNTERS"),
    "COUNTERS",
  );
  // `interrupts` is derived (posted + exit-based), not a counter of its own.
  const all = [...members, { name: "interrupts", doc: "`interrupts_posted` + `interrupts_exit`." }];
  sameKeys(all.map((m) => m.name), Object.keys(example.totals), "CounterSummary");
  const rows = all.map((m) => {
    const k = m.name as keyof FlowSummary["totals"];
    return [code(m.name), m.doc, jsonCell(example.totals[k]), jsonCell(example.per_packet[k])];
  });
  return table(["counter", "meaning", "example: totals", "example: per_packet"], rows);
}

/** The fields of a diagnostic in `--json` output. */
export async function diagnosticJsonTable(): Promise<string> {
  const members = documented(
    interfaceMembers(await source("lang/render.ts"), "DiagnosticJson"),
    "DiagnosticJson",
  );
  return table(["field", "meaning"], members.map((m) => [code(m.name), m.doc]));
}

/** `dropped_by_reason.*`: why a packet can be lost. */
export async function dropReasonsTable(): Promise<string> {
  const members = documented(
    arrayMembers(await source("runtime/trace/event.ts"), "DROP_REASONS"),
    "DROP_REASONS",
  );
  return table(["reason", "meaning"], members.map((m) => [code(m.name), m.doc]));
}

/** The trace's hop actions and their detail keys (`?`: present when it applies). */
export async function hopActionsTable(): Promise<string> {
  const members = documented(
    interfaceMembers(await source("runtime/trace/event.ts"), "HopDetailsMap"),
    "HopDetailsMap",
  );
  const rows = members.map((m) => {
    const keys = [...(m.type ?? "").matchAll(/(?:^|[{;,]\s*)(\w+)(\??):/g)]
      .map((k) => `${k[1]}${k[2]}`);
    return [code(m.name), keys.map(code).join(" "), m.doc];
  });
  return table(["action", "details", "meaning"], rows);
}

/** The first paragraph of a module's doc comment, on one line. */
export function moduleSummary(src: string): string {
  const m = /^\/\*\*([\s\S]*?)\*\//.exec(src.trimStart());
  if (!m) return "";
  const lines = (m[1] as string).split("\n").map((l) => l.replace(/^\s*\*\s?/, "").trimEnd());
  const first: string[] = [];
  for (const l of lines) {
    if (l.trim() === "") {
      if (first.length > 0) break;
      continue;
    }
    first.push(l.trim());
  }
  return first.join(" ");
}

/**
 * The benchmarks `bench/run.ts` lists: each section's key and title, and what its file
 * (`bench/KEY_bench.ts`) says it measures.
 */
export async function benchesTable(): Promise<string> {
  const sections = arrayTuples(await source("bench/run.ts"), "benches");
  if (sections.length === 0) throw new Error("bench/run.ts: no benchmark sections found");
  const rows = [];
  for (const [key, title] of sections) {
    if (key === undefined || title === undefined) throw new Error("bench/run.ts: [key, title, fn]");
    const file = `bench/${key}_bench.ts`;
    const what = moduleSummary(await source(file));
    if (what === "") throw new Error(`${file}: no module doc`);
    rows.push([code(`deno task bench ${key}`), title, what]);
  }
  return table(["command", "section", "what it measures"], rows);
}

/** The programs the command parsers know, each with the title of its `help` page. */
export function programsTable(): string {
  const rows = KNOWN_PROGRAMS.map((p) => {
    const page = helpPage([p]);
    return [code(p), page.ok ? page.text.split("\n")[0] as string : "—"];
  });
  return table(["command", "its page of `help COMMAND`"], rows);
}

function fmtNs(n: number): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: 3 });
}

/** The default cost profile, one row per key, with where each figure comes from. */
export function costsTable(): string {
  const p = DEFAULT_COST_PROFILE;
  const rows = COST_KEYS.map((k) => {
    const e = p.entries[k];
    const ns = e.perByteNs ? `${fmtNs(e.ns)} + ${e.perByteNs}·bytes` : fmtNs(e.ns);
    const range = e.range ? `${fmtNs(e.range[0])}–${fmtNs(e.range[1])}` : "";
    return [code(k), ns, e.cycles ? "yes" : "no", e.charge, range, e.basis];
  });
  return table(
    [`key`, `ns at ${p.referenceGhz} GHz`, "scales with GHz", "charged as", "range", "basis"],
    rows,
  );
}

/**
 * The diagnostic codes whose name starts with `prefix` (`E00`, `W`), with the module that
 * reports each, linked relative to `fromDir` (the directory of the generated file).
 */
export function codesTable(prefix: string, fromDir: string): string {
  const rows = allCodes().filter((c) => c.code.startsWith(prefix));
  if (rows.length === 0) throw new Error(`no diagnostic code starts with ${prefix}`);
  const up = fromDir === "" ? "" : fromDir.split("/").map(() => "..").join("/") + "/";
  return table(
    ["code", "meaning", "reported by"],
    rows.map((c) => [c.code, c.summary, `[${c.module}](${up}${c.module})`]),
  );
}

function sameKeys(documentedKeys: readonly string[], actual: readonly string[], what: string) {
  const missing = actual.filter((k) => !documentedKeys.includes(k));
  const extra = documentedKeys.filter((k) => !actual.includes(k));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      `${what}: the documentation and a real summary differ (undocumented: ${
        missing.join(", ") || "none"
      }; documented but absent: ${extra.join(", ") || "none"})`,
    );
  }
}
