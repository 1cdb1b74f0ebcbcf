/**
 * The diagnostic codes of the executors that have no table of their own: testpmd (E037x,
 * W037x), ovs-vsctl (E038x, W0380), QEMU start-up (E04xx, W04xx), the lab statements
 * (E05xx), `kill`/`pkill` (E053x) and the session (E0599). One table, one line each. The other executor codes live
 * beside their emitters: `../host_errors.ts` (HOST_CODES, E03xx), `../names.ts` (NAME_CODES,
 * E020x) and `../check/codes.ts` (CHECK_CODES, E022x–E024x).
 *
 * @example
 * ```ts
 * import { EXECUTOR_CODES } from "./codes.ts";
 * if (EXECUTOR_CODES.E0506.severity !== "error") throw new Error("a failed expect is an error");
 * ```
 *
 * @module
 */

import type { Severity } from "../../lang/diagnostic.ts";

/** One code: its severity and what it means. */
export interface ExecutorCodeInfo {
  readonly severity: Severity;
  readonly summary: string;
}

/** Every code of the testpmd, ovs-vsctl, QEMU and lab-statement executors and the session. */
export const EXECUTOR_CODES = {
  E0370: { severity: "error", summary: "testpmd: the EAL refuses the core list (`-l`, `-c`)" },
  E0371: {
    severity: "error",
    summary: "testpmd: another DPDK primary process uses this `--file-prefix`",
  },
  E0372: {
    severity: "error",
    summary: "testpmd: no forwarding core left, or `--nb-cores` above the forwarding cores",
  },
  E0373: { severity: "error", summary: "testpmd: the vhost port cannot be created" },
  E0374: { severity: "error", summary: "testpmd: more queues than the vdev has" },
  E0375: { severity: "error", summary: "testpmd: forwarding mode unknown or not modelled" },
  W0370: {
    severity: "warning",
    summary: "testpmd `-i`: the lab has no `testpmd>` prompt and types `start` itself",
  },
  W0371: { severity: "warning", summary: "testpmd: a vdev that gets no port in the lab" },
  W0372: {
    severity: "warning",
    summary: "testpmd `client=1`: nobody listens on the socket yet (the port retries)",
  },
  W0373: { severity: "warning", summary: "testpmd: the EAL cannot use this PCI device" },
  E0380: { severity: "error", summary: "ovs-vsctl: the OVSDB transaction fails" },
  E0381: { severity: "error", summary: "ovs-vsctl `br-exists`: no such bridge" },
  W0380: {
    severity: "warning",
    summary: "ovs-vswitchd cannot set up an Interface (it carries no traffic)",
  },
  E0401: { severity: "error", summary: "QEMU: a VM by this name is running already" },
  E0402: { severity: "error", summary: "QEMU: the tap cannot be opened (TUNSETIFF fails)" },
  E0403: { severity: "error", summary: "QEMU: /dev/vhost-net cannot be opened" },
  E0404: { severity: "error", summary: "QEMU: more queue pairs than the backend has" },
  E0405: {
    severity: "error",
    summary: "no runtime model yet for this netdev type or device",
  },
  E0406: { severity: "error", summary: "QEMU: guest RAM cannot be laid out" },
  E0407: { severity: "error", summary: "the lab's limit of VMs is reached" },
  E0410: { severity: "error", summary: "QEMU: the backend refuses the setup" },
  W0401: { severity: "warning", summary: "the guest's interface does not come up" },
  W0402: {
    severity: "warning",
    summary: "QEMU inherits an fd (`fd=`, `fds=`, `vhostfd=`): the lab opens it as libvirt would",
  },
  E0501: { severity: "error", summary: "a file cannot be written (`capture`, `export`)" },
  E0502: { severity: "error", summary: "`traffic`/`ping`: no such endpoint" },
  E0503: { severity: "error", summary: "`traffic`: an invalid flow (rate, size, protocol …)" },
  E0504: { severity: "error", summary: "`traffic`: a traffic by this name exists" },
  E0505: { severity: "error", summary: "`trace`: no such traffic, or the packet was not kept" },
  E0506: { severity: "error", summary: "`expect`: the expectation fails" },
  E0507: { severity: "error", summary: "`expect`: no such traffic or metric" },
  E0508: { severity: "error", summary: "`show`: no such VM, interface, queue or traffic" },
  E0509: {
    severity: "error",
    summary: "`run`: a traffic's books do not balance (sent ≠ delivered + dropped)",
  },
  E0510: { severity: "error", summary: "`capture`: no such interface" },
  E0511: { severity: "error", summary: "`export`: a format this export cannot write" },
  E0512: { severity: "error", summary: "`set`: a setting or cost the lab cannot change" },
  E0513: {
    severity: "error",
    summary: "`run`: more packets than one run may send (a shorter duration fits)",
  },
  E0520: { severity: "error", summary: "`inject`: no such interface, socket or VM" },
  E0521: { severity: "error", summary: "`inject`: the fault does not apply to this target" },
  E0522: { severity: "error", summary: "`inject`: the fault is refused and does nothing" },
  E0530: { severity: "error", summary: "`kill`: no such process" },
  E0531: {
    severity: "error",
    summary: "`kill`, `pkill`: a process whose exit the lab does not model",
  },
  E0532: { severity: "error", summary: "`pkill`: the pattern matches no process" },
  E0590: { severity: "error", summary: "`help`: no page for this topic" },
  E0599: { severity: "error", summary: "a command the lab parses but does not model yet" },
} as const satisfies Record<string, ExecutorCodeInfo>;

/** A code of {@link EXECUTOR_CODES}. */
export type ExecutorCode = keyof typeof EXECUTOR_CODES;
