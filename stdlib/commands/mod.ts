/**
 * The executors of every command family, by command kind. Each family lives in its own
 * file beside this one and exports its part of the table.
 *
 * @module
 */

import type { ExecutorTable } from "../exec.ts";
import { CAPTURE_EXECUTORS } from "./capture.ts";
import { EXPECT_EXECUTORS } from "./expect.ts";
import { EXPORT_EXECUTORS } from "./export.ts";
import { QEMU_EXECUTORS } from "./qemu.ts";
import { RUN_EXECUTORS } from "./run.ts";
import { SET_EXECUTORS } from "./set.ts";
import { SHOW_EXECUTORS } from "./show.ts";
import { TRACE_EXECUTORS } from "./trace.ts";
import { TRAFFIC_EXECUTORS } from "./traffic.ts";

/** Every executor the lab has, by command kind. */
export const EXECUTORS: ExecutorTable = {
  ...QEMU_EXECUTORS,
  ...TRAFFIC_EXECUTORS,
  ...RUN_EXECUTORS,
  ...SHOW_EXECUTORS,
  ...TRACE_EXECUTORS,
  ...EXPECT_EXECUTORS,
  ...CAPTURE_EXECUTORS,
  ...EXPORT_EXECUTORS,
  ...SET_EXECUTORS,
};
