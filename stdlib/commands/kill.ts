/**
 * `kill [-SIGNAL] PID…` and `pkill [-SIGNAL] [-f] PATTERN`: end a host process of the lab at
 * the current virtual time, between `run` slices (`run 1ms`, `kill -9 4100`, `run`). A VM's
 * QEMU exits: the guest dies with what is in its rings, its traffics stop sending, its fds
 * close (/dev/vhost-net, taps lose their reader, vhost-user sockets disconnect,
 * /dev/vhost-vdpa-N is released) and traffic towards it drops with a reason; `show topology`
 * no longer lists it and its name is free for a new `qemu-system-x86_64 -name …`.
 *
 * A check (`vdpa-lab check`) kills too: it builds the topology, and what comes after a kill
 * (a new VM by the same name) must see it gone.
 *
 * Diagnostics: E0530 no such process (kill's own text), E0531 a process whose exit the lab
 * does not model, E0532 `pkill` matched nothing.
 *
 * @example
 * ```ts
 * import { Session } from "../session.ts";
 * const s = new Session({ stdout: () => {} });
 * const r = await s.runText("kill 4100\n", "lab.vdpa");
 * const d = s.diagnostics.items[0];
 * if (r.status !== "failed" || d?.code !== "E0530") throw new Error(d?.message);
 * ```
 *
 * @module
 */

import { error } from "../../lang/diagnostic.ts";
import type { KillCommand, PkillCommand } from "../../lang/commands/mod.ts";
import { describeKillError } from "../../runtime/lab.ts";
import type { Executor, ExecutorTable } from "../exec.ts";

const kill: Executor<KillCommand> = (cmd, cx) => {
  for (const pid of cmd.pids) {
    const r = cx.lab.kill(pid.value, cmd.signal.value);
    if (r.ok) continue;
    const e = r.error;
    cx.diagnostics.push(
      error(e.kind === "no-such-process" ? "E0530" : "E0531", describeKillError(e), {
        span: pid.span,
        label: e.kind === "no-such-process" ? "no such process" : "its exit is not modelled",
        ...pidNotes(cx.lab.processes),
      }),
    );
    return;
  }
};

function pidNotes(ps: readonly { pid: number; command: string; name: string }[]) {
  return ps.length > 0
    ? { notes: [`processes: ${ps.map((p) => `${p.pid} ${p.command} (${p.name})`).join(", ")}`] }
    : { notes: ["the lab has no process yet (QEMU, testpmd and ovs-vswitchd are processes)"] };
}

const pkill: Executor<PkillCommand> = (cmd, cx) => {
  const re = new RegExp(cmd.pattern.value);
  const hits = cx.lab.processes.filter((p) =>
    re.test(cmd.full ? `${p.command} ${p.name}` : p.command)
  );
  if (hits.length === 0) {
    cx.diagnostics.push(error("E0532", `\`pkill\` matched no process`, {
      span: cmd.pattern.span,
      label: cmd.full ? "matches no command line" : "matches no program name",
      ...pidNotes(cx.lab.processes),
      ...(!cmd.full ? { help: ["`-f` matches what the process is too (`pkill -f vm1`)"] } : {}),
    }));
    return;
  }
  for (const p of hits) {
    const r = cx.lab.kill(p.pid, cmd.signal.value);
    if (!r.ok) {
      cx.diagnostics.push(error("E0531", describeKillError(r.error), {
        span: cmd.pattern.span,
        label: `matches ${p.name}, whose exit is not modelled`,
      }));
      return;
    }
  }
};

/** The executors of this file. */
export const KILL_EXECUTORS: ExecutorTable = { kill, pkill };
