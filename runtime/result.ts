/**
 * The result of an operation whose failure is an expected outcome (guest or script input),
 * not a bug: the error is a value from a closed union, never an exception.
 *
 * @example
 * ```ts
 * import { err, ok, type Result } from "./result.ts";
 * function half(n: number): Result<number, { kind: "odd"; n: number }> {
 *   return n % 2 === 0 ? ok(n / 2) : err({ kind: "odd", n });
 * }
 * const r = half(3);
 * if (r.ok || r.error.kind !== "odd") throw new Error("expected odd");
 * ```
 *
 * @module
 */

/** Success with a value, or failure with an error value. */
export type Result<T, E> = { readonly ok: true; readonly value: T } | {
  readonly ok: false;
  readonly error: E;
};

/** A successful result. */
export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

/** A failed result. */
export function err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}
