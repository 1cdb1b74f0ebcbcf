/**
 * An ID allocator with the kernel IDA's policy: `alloc()` returns the lowest free id in
 * `[min, max]`, so a freed id is reused before any larger one (lib/idr.c `ida_alloc_range`).
 * This is why `/dev/vhost-vdpa-0` comes back after `vdpa0` is re-bound, and why `virtio1`
 * is skipped when `virtio0` has been freed.
 *
 * @example
 * ```ts
 * import { Ida } from "./ida.ts";
 * const ida = new Ida();
 * const a = ida.alloc() ?? -1, b = ida.alloc();
 * ida.free(a);
 * if (ida.alloc() !== a || b !== 1) throw new Error("lowest free id expected");
 * ```
 *
 * @module
 */

/** Lowest-free-first integer allocator. */
export class Ida {
  readonly #used = new Set<number>();
  readonly #min: number;
  readonly #max: number;

  /** Ids are taken from `[min, max]` (defaults: 0 and 2^31 - 1, like `ida_alloc`). */
  constructor(options: { min?: number; max?: number } = {}) {
    this.#min = options.min ?? 0;
    this.#max = options.max ?? 0x7fffffff;
  }

  /** The lowest free id, or `undefined` when the range is exhausted (-ENOSPC). */
  alloc(): number | undefined {
    for (let id = this.#min; id <= this.#max; id++) {
      if (!this.#used.has(id)) {
        this.#used.add(id);
        return id;
      }
    }
    return undefined;
  }

  /** Releases an id; freeing an id that is not allocated is our bug. */
  free(id: number): void {
    if (!this.#used.delete(id)) throw new RangeError(`Id ${id} is not allocated`);
  }

  /** Whether `id` is in use. */
  has(id: number): boolean {
    return this.#used.has(id);
  }
}
