/**
 * The deterministic event engine: scheduler, seeded random streams, CPU contexts as servers, and the cost model.
 *
 * @module
 */

export * from "./cost.ts";
export * from "./cpu_context.ts";
export * from "./rng.ts";
export * from "./scheduler.ts";
