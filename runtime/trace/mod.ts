/**
 * Typed trace events, the recorder, the one stable text form, Chrome trace export, metrics, metric paths and tables.
 *
 * @module
 */

export * from "./chrome.ts";
export * from "./event.ts";
export * from "./format.ts";
export * from "./histogram.ts";
export * from "./metric_path.ts";
export * from "./metrics.ts";
export * from "./recorder.ts";
export * from "./stats_text.ts";
export * from "./table.ts";
