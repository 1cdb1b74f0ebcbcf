/**
 * What the dispatcher hands to each family parser: the words after the program word, the
 * common node fields already filled in, and the diagnostics collector.
 *
 * @example
 * ```ts
 * import { Diagnostics } from "../diagnostic.ts";
 * import { literalWord } from "../word.ts";
 * import { usage, type CommandContext } from "./context.ts";
 * const w = literalWord("vdpa", { source: "a", start: 0, end: 4 });
 * const ctx: CommandContext = {
 *   diags: new Diagnostics(),
 *   args: [],
 *   name: "vdpa",
 *   base: { span: w.span, program: { value: "vdpa", span: w.span }, pipeline: [], words: [w] },
 * };
 * if (usage(ctx, "vdpa").kind !== "usage") throw new Error("usage node expected");
 * ```
 *
 * @module
 */

import type { Diagnostics } from "../diagnostic.ts";
import type { ExpandedWord } from "../word.ts";
import type { CommandBase, UsageCommand } from "./ast.ts";

/** Input of a family parser. */
export interface CommandContext {
  readonly diags: Diagnostics;
  /** The words after the program word, up to any `|`. */
  readonly args: readonly ExpandedWord[];
  /** The program's basename (`qemu-kvm` for `/usr/libexec/qemu-kvm`). */
  readonly name: string;
  /** Span, program, sudo, pipeline and words, shared by every node. */
  readonly base: CommandBase;
}

/** A usage (or version) request for `topic` (`vdpa dev help`, `vdpa -V`). */
export function usage(
  ctx: CommandContext,
  topic: string,
  what: "usage" | "version" = "usage",
): UsageCommand {
  return { ...ctx.base, kind: "usage", topic, what };
}
