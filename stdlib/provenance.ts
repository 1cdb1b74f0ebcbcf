/**
 * Where things came from: the span of the statement (or word) that created or last
 * configured each object a script touches, keyed by a short string such as
 * `vdpa-dev:vdpa0`, `sysfs:/sys/bus/vdpa/devices/vdpa0/driver_override`, `netdev:tap0`,
 * `vm:vm1`, `chardev:vm1/char0`. Runtime errors name objects, never spans; the executors
 * turn a name back into a secondary label ("`vdpa0` was created here").
 *
 * @example
 * ```ts
 * import { Provenance } from "./provenance.ts";
 * const p = new Provenance();
 * p.set("vdpa-dev:vdpa0", { source: "a.vdpa", start: 0, end: 10 }, "created here");
 * if (p.get("vdpa-dev:vdpa0")?.message !== "created here") throw new Error("lost");
 * ```
 *
 * @module
 */

import type { Span } from "../lang/span.ts";

/** One record: the span and the label message for it. */
export interface Origin {
  readonly span: Span;
  readonly message: string;
}

/** The table of origins. Later records of the same key replace earlier ones. */
export class Provenance {
  readonly #origins = new Map<string, Origin>();

  /** Records that `key` was created or configured at `span`. */
  set(key: string, span: Span, message: string): void {
    this.#origins.set(key, { span, message });
  }

  /** The origin of `key`, if recorded. */
  get(key: string): Origin | undefined {
    return this.#origins.get(key);
  }

  /** Forgets `key` (the object was deleted). */
  delete(key: string): void {
    this.#origins.delete(key);
  }

  /** Forgets everything (`.reset`). */
  clear(): void {
    this.#origins.clear();
  }
}
