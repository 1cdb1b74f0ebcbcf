/**
 * What a device datapath needs from the lab: the scheduler, the hop helper (costs, trace,
 * metrics), the traffic table that identifies packets by their payload, and CPU contexts by
 * kind and name. The lab satisfies it; tests build a small one over the same engine pieces.
 *
 * @example
 * ```ts
 * import type { DeviceEnv } from "./device_env.ts";
 * const need: (keyof DeviceEnv)[] = ["sched", "hops", "flows", "context"];
 * if (need.length !== 4) throw new Error();
 * ```
 *
 * @module
 */

import type { Hops } from "../datapath/hop.ts";
import type { FlowTable } from "../datapath/flow_table.ts";
import type { CpuContext, CpuContextKind } from "../sim/cpu_context.ts";
import type { Scheduler } from "../sim/scheduler.ts";

/** The engine pieces a device datapath runs on. */
export interface DeviceEnv {
  readonly sched: Scheduler;
  readonly hops: Hops;
  readonly flows: FlowTable;
  /** The context of that kind and name, created on first use. */
  context(kind: CpuContextKind, name: string): CpuContext;
}
