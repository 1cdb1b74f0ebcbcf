/**
 * Help texts of the CLI subcommands (`vdpa-lab help run`).
 *
 * @example
 * ```ts
 * import { helpText } from "./help.ts";
 * if (!helpText("check")?.includes("vdpa-lab check")) throw new Error("help for check");
 * ```
 *
 * @module
 */

import { USAGE } from "./args.ts";

const TOPICS: Readonly<Record<string, string>> = {
  run: `vdpa-lab run [OPTIONS] FILE...

Runs each script in a lab of its own: builds the topology its commands describe, runs the
traffic it declares, prints command output, traces and statistics, and checks its expect
lines. Stops at the first error, like \`set -e\`. Exit status 1 if any diagnostic is an error
or an expectation fails.

  --json          print run summaries and diagnostics as JSON
  --quiet         print nothing but diagnostics
  --profile FILE  cost-profile overrides, a JSON object such as {"vmexit_light": 900}
  --seed N        seed of the lab's random streams
  --trace LEVEL   off | sample | full: how many per-hop events a run keeps`,
  check: `vdpa-lab check [OPTIONS] FILE...

Checks each script without running traffic: syntax, command syntax, names against the
catalogs (modules, management devices, QEMU devices and properties), and the whole topology
(modules loaded, sysfs writes, vDPA devices, QEMU lines and their backends), so that setup
mistakes are reported where they were made. Reports every error, not just the first.
Exit status 0 when clean, 1 with errors, 2 on a usage error.

  --json          diagnostics as JSON on standard output`,
  repl: `vdpa-lab repl [OPTIONS] [FILE]

An interactive lab. Every script statement works; state persists between entries; an error
prints its diagnostic and the session goes on. FILE, if given, is run first.

  .help [TOPIC]   the lab's manual (the same pages as the \`help\` statement)
  .load FILE      run a script in this session
  .save FILE      write what succeeded as a script that rebuilds this state
  .vars           the variables defined now
  .reset          start over with a fresh lab
  .exit           leave (or Ctrl-D)

Tab completes commands, options, properties and live names (modules, vDPA devices, netdevs,
sysfs and /dev paths). History is kept in $XDG_STATE_HOME/vdpa-lab/history (default
~/.local/state/vdpa-lab/history); --no-history turns it off.

With piped input (\`vdpa-lab repl < session.vdpa\`) there is no prompt and no echo: the text
runs as a script, printing what \`vdpa-lab run\` prints, meta commands included, and the exit
status is 1 after an error.

  --json          diagnostics as JSON
  --quiet         print nothing but diagnostics
  --color WHEN    auto (default), always or never
  --no-history    do not read or write the history file`,
};

/** The help for `topic` (the general usage when absent), or undefined for an unknown topic. */
export function helpText(topic?: string): string | undefined {
  if (topic === undefined) return USAGE;
  return TOPICS[topic];
}
