/**
 * Diagnostics are values: every layer appends them to a list, and they are rendered once,
 * by `render.ts`, in the rustc form (`error[CODE]: message`, `--> file:line:col`, the source
 * line, carets under the span, secondary labels, `= note:` and `= help:` lines).
 *
 * Wording rules (rustc): the message is lowercase, has no final period and makes sense on
 * its own; identifiers go in backticks; the primary label is short because it points; only
 * `help` says how to fix it.
 *
 * @example Building a diagnostic
 * ```ts
 * import { diagnostic } from "./diagnostic.ts";
 * const d = diagnostic("error", "E0201", "unknown module `vdpasim_net`", {
 *   span: { source: "a.vdpa", start: 9, end: 20 },
 *   label: "not a kernel module",
 *   help: ["the module is `vdpa_sim_net`"],
 * });
 * if (d.labels[0]?.primary !== true) throw new Error("primary label expected");
 * ```
 *
 * @module
 */

import type { Span } from "./span.ts";

/** How bad it is. Errors fail `check`; warnings do not. */
export type Severity = "error" | "warning";

/** A span with a short message. The primary label says where the problem is. */
export interface Label {
  readonly span: Span;
  readonly message: string;
  readonly primary: boolean;
}

/** One problem, with everything needed to render it. */
export interface Diagnostic {
  readonly severity: Severity;
  /** Stable code, e.g. `E0102`; the ranges are listed in README.md ("Diagnostic codes"). */
  readonly code: string;
  readonly message: string;
  /** Primary label first, then secondary labels in source order of relevance. */
  readonly labels: readonly Label[];
  /** Extra facts (`= note: …`). */
  readonly notes: readonly string[];
  /** How to fix it (`= help: …`), including "did you mean" suggestions. */
  readonly help: readonly string[];
}

/** Options of {@link diagnostic}. */
export interface DiagnosticOptions {
  /** Where the problem is (the primary label). */
  span?: Span;
  /** The primary label's message. */
  label?: string;
  /** Secondary labels: where the cause or a related declaration is. */
  secondary?: readonly { span: Span; message: string }[];
  notes?: readonly string[];
  help?: readonly string[];
}

/** Builds a diagnostic from its parts. */
export function diagnostic(
  severity: Severity,
  code: string,
  message: string,
  options: DiagnosticOptions = {},
): Diagnostic {
  const labels: Label[] = [];
  if (options.span) {
    labels.push({ span: options.span, message: options.label ?? "", primary: true });
  }
  for (const s of options.secondary ?? []) {
    labels.push({ span: s.span, message: s.message, primary: false });
  }
  return {
    severity,
    code,
    message,
    labels,
    notes: [...(options.notes ?? [])],
    help: [...(options.help ?? [])],
  };
}

/** Shorthand for an error diagnostic. */
export function error(code: string, message: string, options: DiagnosticOptions = {}): Diagnostic {
  return diagnostic("error", code, message, options);
}

/** Shorthand for a warning diagnostic. */
export function warning(
  code: string,
  message: string,
  options: DiagnosticOptions = {},
): Diagnostic {
  return diagnostic("warning", code, message, options);
}

/** A copy of `d` with more help lines. */
export function withHelp(d: Diagnostic, ...help: string[]): Diagnostic {
  return { ...d, help: [...d.help, ...help] };
}

/** A copy of `d` with more notes. */
export function withNotes(d: Diagnostic, ...notes: string[]): Diagnostic {
  return { ...d, notes: [...d.notes, ...notes] };
}

/** A copy of `d` with one more secondary label. */
export function withSecondary(d: Diagnostic, span: Span, message: string): Diagnostic {
  return { ...d, labels: [...d.labels, { span, message, primary: false }] };
}

/** The primary span of a diagnostic, if it has one. */
export function primarySpan(d: Diagnostic): Span | undefined {
  return d.labels.find((l) => l.primary)?.span;
}

/** True if any diagnostic in the list is an error. */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/**
 * A collector that checks append to; the caller decides when to stop (peggy's `Session`).
 * Identical diagnostics (same code, message and primary span) are kept once.
 */
export class Diagnostics {
  readonly #items: Diagnostic[] = [];
  readonly #seen = new Set<string>();

  /** Appends `d` unless an identical diagnostic is already present. */
  push(d: Diagnostic): void {
    const p = primarySpan(d);
    const key = `${d.code}\u0000${d.message}\u0000${p?.source}:${p?.start}:${p?.end}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.#items.push(d);
  }

  /** Appends every diagnostic of `ds`. */
  pushAll(ds: Iterable<Diagnostic>): void {
    for (const d of ds) this.push(d);
  }

  /** All diagnostics so far, in the order they were found. */
  get items(): readonly Diagnostic[] {
    return this.#items;
  }

  /** True if an error has been collected. */
  get hasErrors(): boolean {
    return hasErrors(this.#items);
  }

  /** Number of diagnostics collected. */
  get length(): number {
    return this.#items.length;
  }
}
