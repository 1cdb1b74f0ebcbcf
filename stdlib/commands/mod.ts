/**
 * The executors of every command family, by command kind. Each family lives in its own
 * file beside this one and exports its part of the table.
 *
 * @module
 */

import type { ExecutorTable } from "../exec.ts";
import { HELP_EXECUTORS } from "./help.ts";

/** Every executor the lab has, by command kind. */
export const EXECUTORS: ExecutorTable = {
  ...HELP_EXECUTORS,
};
