/**
 * vdpa-lab: the library API.
 *
 * @module
 */

export * from "./lang/span.ts";
export * from "./lang/diagnostic.ts";
export * from "./lang/word.ts";
export * from "./runtime/result.ts";
