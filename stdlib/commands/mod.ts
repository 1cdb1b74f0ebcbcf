/**
 * The executors of every command family, by command kind. Each family lives in its own
 * file beside this one and exports its part of the table; this table is their merge, so
 * adding a family is one import and one spread.
 *
 * @example
 * ```ts
 * import { EXECUTORS } from "./mod.ts";
 * if (EXECUTORS["vdpa-dev-add"] === undefined) throw new Error("vdpa has an executor");
 * if (EXECUTORS["qemu"] === undefined) throw new Error("qemu has an executor");
 * ```
 *
 * @module
 */

import type { ExecutorTable } from "../exec.ts";
import { CAPTURE_EXECUTORS } from "./capture.ts";
import { EXPECT_EXECUTORS } from "./expect.ts";
import { EXPORT_EXECUTORS } from "./export.ts";
import { HELP_EXECUTORS } from "./help.ts";
import { DEVLINK_EXECUTORS } from "./devlink.ts";
import { HOST_EXECUTORS } from "./host.ts";
import { INJECT_EXECUTORS } from "./inject.ts";
import { IP_EXECUTORS } from "./ip.ts";
import { KILL_EXECUTORS } from "./kill.ts";
import { MODPROBE_EXECUTORS } from "./modprobe.ts";
import { OVS_EXECUTORS } from "./ovs.ts";
import { QEMU_EXECUTORS } from "./qemu.ts";
import { RUN_EXECUTORS } from "./run.ts";
import { SET_EXECUTORS } from "./set.ts";
import { SHOW_EXECUTORS } from "./show.ts";
import { SYSFS_EXECUTORS } from "./sysfs.ts";
import { TESTPMD_EXECUTORS } from "./testpmd.ts";
import { TRACE_EXECUTORS } from "./trace.ts";
import { TRAFFIC_EXECUTORS } from "./traffic.ts";
import { USAGE_EXECUTORS } from "./usage.ts";
import { VDPA_EXECUTORS } from "./vdpa.ts";

/** Every executor the lab has, by command kind. */
export const EXECUTORS: ExecutorTable = {
  ...HELP_EXECUTORS,
  ...MODPROBE_EXECUTORS,
  ...VDPA_EXECUTORS,
  ...SYSFS_EXECUTORS,
  ...IP_EXECUTORS,
  ...HOST_EXECUTORS,
  ...DEVLINK_EXECUTORS,
  ...USAGE_EXECUTORS,
  ...QEMU_EXECUTORS,
  ...TRAFFIC_EXECUTORS,
  ...RUN_EXECUTORS,
  ...SHOW_EXECUTORS,
  ...TRACE_EXECUTORS,
  ...EXPECT_EXECUTORS,
  ...CAPTURE_EXECUTORS,
  ...EXPORT_EXECUTORS,
  ...SET_EXECUTORS,
  ...TESTPMD_EXECUTORS,
  ...OVS_EXECUTORS,
  ...INJECT_EXECUTORS,
  ...KILL_EXECUTORS,
};
