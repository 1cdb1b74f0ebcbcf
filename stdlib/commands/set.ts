/**
 * `set cost KEY=VALUE…` (`set cost vmexit_light=900ns memcpy.per_byte_ns=0.05`): changes
 * figures of the cost profile for everything that runs afterwards; every bad key or value is
 * reported at its word, with a suggestion. `set seed N` and `set profile NAME` are the
 * session's business (they restart the lab) and are refused here with a hint.
 *
 * @module
 */

import { error } from "../../lang/diagnostic.ts";
import type { SetStatement } from "../../lang/commands/mod.ts";
import {
  applyCostOverrides,
  describeCostOverrideError,
  parseCostOverrides,
} from "../../runtime/sim/cost.ts";
import { costOverridesFromPairs } from "../cost_profile.ts";
import type { Executor, ExecutorTable } from "../exec.ts";
import { ensureCostProfile } from "./run.ts";

const set: Executor<SetStatement> = (cmd, cx) => {
  if (cmd.scope !== "cost") {
    cx.diagnostics.push(error("E0512", `\`set ${cmd.scope}\` cannot change a running lab`, {
      span: cmd.word.span,
      label: "not settable here",
      help: [
        cmd.scope === "seed"
          ? "pass `--seed N` on the command line (the seed shapes the whole lab)"
          : "pass `--profile FILE` on the command line, or override figures with `set cost`",
      ],
    }));
    return;
  }
  ensureCostProfile(cx.lab);
  const profile = cx.lab.costProfile;
  // A time is in ns, a plain number as written: both are the profile's unit.
  const pairs = cmd.costs.map((c): [string, number] => [c.key.value, c.value.value.value]);
  const parsed = parseCostOverrides(costOverridesFromPairs(pairs), profile);
  if (!parsed.ok) {
    for (const e of parsed.error) {
      const path = "path" in e ? e.path : "";
      const at = cmd.costs.find((c) => c.key.value === path || path.startsWith(`${c.key.value}.`));
      cx.diagnostics.push(error("E0512", describeCostOverrideError(e), {
        span: at?.key.span ?? cmd.span,
        label: "not a cost this lab knows",
      }));
    }
    return;
  }
  cx.lab.setCostProfile(applyCostOverrides(profile, parsed.value, { origin: "script" }));
};

/** The executors of this file. */
export const SET_EXECUTORS: ExecutorTable = { set };
