/**
 * `dpdk-testpmd …` (also `testpmd`): checks the vdevs against the DPDK catalog
 * (stdlib/check/testpmd.ts), maps the command line onto a {@link TestpmdSpec} and starts the
 * process on the lab's host (runtime/backends/dpdk/testpmd.ts) — EAL, one vhost PMD port per
 * `--vdev net_vhostN` (its vhost-user socket, server or `client=1`), the forwarding
 * configuration and the PMD threads — in `run` and `check` mode alike, then prints what
 * testpmd prints.
 *
 * Interactive mode: the lab opens no testpmd prompt. `-i --auto-start` forwards at once, as
 * testpmd does; `-i` alone makes the real testpmd wait for `start` at its prompt, and the lab
 * types `start` for you (warning W0370) so that the script's traffic is forwarded. Without
 * `-i` testpmd forwards at once too.
 *
 * Codes (E0370–E0379, W0370–W0372):
 * - E0370 EAL refuses the core list (`-l`, `-c`, `--lcores`);
 * - E0371 another primary process uses the same `--file-prefix`;
 * - E0372 no forwarding core, or `--nb-cores` larger than the worker cores;
 * - E0373 a vhost port cannot be created (its socket path is taken);
 * - E0374 `--rxq`/`--txq` above the vdev's `queues=`;
 * - E0375 a forwarding mode the lab does not model;
 * - W0370 `-i` without `--auto-start`: the lab starts forwarding for you;
 * - W0371 a vdev the lab's testpmd does not simulate (it gets no port);
 * - W0372 a vhost port whose socket nobody serves yet (client=1): it retries;
 * - W0373 an `-a BDF` device the EAL cannot use (no such device; not on vfio-pci, or for
 *   mlx5 not on mlx5_core): it gets no port.
 *
 * NIC ports (`-a BDF`) come first (port 0, 1 …), then the vhost ports, as the EAL probes the
 * PCI bus before the vdevs.
 *
 * @example
 * ```ts
 * import { Session } from "../session.ts";
 * const out: string[] = [];
 * const s = new Session({ mode: "run", stdout: (t) => out.push(t) });
 * await s.runText(
 *   "dpdk-testpmd -l 2-3 --no-pci --vdev net_vhost0,iface=/tmp/vu0 -- -i --auto-start\n",
 *   "lab.vdpa",
 * );
 * if (!out.join("").includes("vhost-user server: socket created")) throw new Error("socket");
 * if (s.diagnostics.items.some((d) => d.severity === "error")) throw new Error("starts");
 * ```
 *
 * @module
 */

import { Diagnostics, error, warning } from "../../lang/diagnostic.ts";
import type { TestpmdCommand } from "../../lang/commands/mod.ts";
import type { Span } from "../../lang/span.ts";
import {
  describeTestpmdError,
  Testpmd,
  type TestpmdError,
  type TestpmdSpec,
} from "../../runtime/backends/dpdk/testpmd.ts";
import type { LcoreSpec } from "../../runtime/backends/dpdk/eal.ts";
import type { PortTopology } from "../../runtime/backends/dpdk/fwd_config.ts";
import { fwdEngine } from "../../runtime/backends/dpdk/fwd_engine.ts";
import type { VhostPmdSpec } from "../../runtime/backends/dpdk/vhost_pmd.ts";
import { checkTestpmd, type VdevConfig } from "../check/testpmd.ts";
import type { Executor, ExecutorTable } from "../exec.ts";
import { ensureCostProfile } from "./run.ts";

/** Engines the lab runs (the others parse but are not modelled). */
const MODELLED_MODES = ["io", "mac", "macswap", "5tswap", "rxonly"];

function option(cmd: TestpmdCommand, name: string, app = false) {
  const list = app ? cmd.app : cmd.eal;
  for (let i = list.length - 1; i >= 0; i--) if (list[i]?.name === name) return list[i];
  return undefined;
}

function lcoreSpec(cmd: TestpmdCommand): LcoreSpec {
  for (let i = cmd.eal.length - 1; i >= 0; i--) {
    const o = cmd.eal[i];
    if (o === undefined || o.value === undefined) continue;
    if (o.name === "corelist") return { kind: "corelist", text: o.value.value };
    if (o.name === "lcores") return { kind: "lcores", text: o.value.value };
    if (o.name === "coremask") return { kind: "coremask", text: o.value.value };
  }
  return { kind: "default" };
}

function topology(cmd: TestpmdCommand): PortTopology {
  const v = option(cmd, "port-topology", true)?.value?.value;
  return v === "chained" || v === "loop" ? v : "paired";
}

function vhostSpec(v: Extract<VdevConfig, { kind: "vhost" }>): VhostPmdSpec {
  return {
    name: v.name.value,
    iface: v.iface.value,
    queues: v.queues.value,
    client: v.client.value,
    iommuSupport: v.iommuSupport.value,
    postcopySupport: false,
    tso: v.tso.value,
  };
}

/** The span a start-up error points at. */
function errorSpan(cmd: TestpmdCommand, vdevs: readonly VdevConfig[], e: TestpmdError): Span {
  switch (e.kind) {
    case "eal":
      return cmd.lcores?.span ?? cmd.program.span;
    case "prefix-in-use":
      return option(cmd, "file-prefix")?.span ?? cmd.program.span;
    case "no-fwd-lcores":
    case "nb-cores":
      return cmd.nbCores?.span ?? cmd.lcores?.span ?? cmd.program.span;
    case "port": {
      const v = vdevs.filter((x) => x.kind === "vhost")[e.port];
      return v?.kind === "vhost" ? v.iface.span : cmd.program.span;
    }
    case "queues":
      return cmd.rxq?.span ?? cmd.txq?.span ?? cmd.program.span;
    case "mode":
      return cmd.forwardMode?.span ?? cmd.program.span;
  }
}

const CODES: { readonly [K in TestpmdError["kind"]]: string } = {
  eal: "E0370",
  "prefix-in-use": "E0371",
  "no-fwd-lcores": "E0372",
  "nb-cores": "E0372",
  port: "E0373",
  queues: "E0374",
  mode: "E0375",
};

const MESSAGES: { readonly [K in TestpmdError["kind"]]: string } = {
  eal: "EAL refuses the core list",
  "prefix-in-use": "another DPDK primary process uses this --file-prefix",
  "no-fwd-lcores": "no core is left for forwarding: the first core of the list is the main lcore",
  "nb-cores": "--nb-cores is larger than the forwarding cores",
  port: "the vhost port cannot be created",
  queues: "more queues than the vdev has",
  mode: "unknown forwarding mode",
};

const testpmd: Executor<TestpmdCommand> = (cmd, cx) => {
  // This line's own errors: the session's collection keeps one copy of a repeated
  // diagnostic, so its count does not grow on a loop's second pass over the same bad line.
  const local = new Diagnostics();
  const vdevs = checkTestpmd(cmd, local);
  cx.diagnostics.pushAll(local.items);
  if (local.hasErrors) return;
  const mode = cmd.forwardMode?.value ?? "io";
  if (fwdEngine(mode) === undefined || !MODELLED_MODES.includes(mode)) {
    cx.diagnostics.push(
      error("E0375", `forwarding mode \`${mode}\` is not modelled by the lab`, {
        span: cmd.forwardMode?.span ?? cmd.program.span,
        label: "testpmd knows it, the lab does not run it",
        help: [`use one of ${MODELLED_MODES.map((m) => `\`${m}\``).join(", ")}`],
      }),
    );
    return;
  }
  for (const v of vdevs) {
    if (v.kind === "vhost") continue;
    cx.diagnostics.push(
      warning("W0371", `\`${v.name.value}\` gets no port: the lab's testpmd runs net_vhost ports`, {
        span: v.name.span,
        label: "not simulated",
        notes: ["testpmd's ports here are vhost-user ports (`--vdev net_vhostN,iface=PATH`)"],
      }),
    );
  }
  ensureCostProfile(cx.lab);
  const prefix = option(cmd, "file-prefix")?.value?.value ?? "rte";
  const allow = cmd.eal.filter((o) => o.name === "allow" && o.value !== undefined);
  const spec: TestpmdSpec = {
    lcores: lcoreSpec(cmd),
    nicPorts: allow.map((o) => (o.value as { value: string }).value.split(",")[0] ?? ""),
    vhostPorts: vdevs.flatMap((v) => v.kind === "vhost" ? [vhostSpec(v)] : []),
    forwardMode: mode,
    ...(cmd.nbCores ? { nbCores: cmd.nbCores.value } : {}),
    rxq: cmd.rxq?.value ?? 1,
    txq: cmd.txq?.value ?? 1,
    rxd: cmd.rxd?.value ?? 0,
    txd: cmd.txd?.value ?? 0,
    burst: cmd.burst?.value ?? 32,
    interactive: cmd.interactive,
    autoStart: cmd.autoStart,
    topology: topology(cmd),
    filePrefix: prefix,
  };
  const r = Testpmd.start(cx.lab, spec);
  if (!r.ok) {
    const lines = describeTestpmdError(r.error);
    const prior = r.error.kind === "prefix-in-use"
      ? cx.provenance.get(`testpmd-prefix:${prefix}`)
      : undefined;
    cx.diagnostics.push(error(CODES[r.error.kind], MESSAGES[r.error.kind], {
      span: errorSpan(cmd, vdevs, r.error),
      label: lines[0] ?? "",
      ...(prior ? { secondary: [{ span: prior.span, message: prior.message }] } : {}),
      notes: lines.map((l) => `testpmd says: ${l}`),
      ...(r.error.kind === "prefix-in-use"
        ? { help: ["give each testpmd its own `--file-prefix`"] }
        : {}),
    }));
    return;
  }
  const app = r.value;
  cx.provenance.set(`testpmd-prefix:${prefix}`, cmd.span, `\`${app.name}\` was started here`);
  for (const [i, v] of spec.vhostPorts.entries()) {
    cx.provenance.set(`socket:${v.iface}`, cmd.span, `testpmd's port ${i} (${v.name}) is on it`);
  }
  if (cmd.interactive && !cmd.autoStart) {
    const i = option(cmd, "interactive", true);
    cx.diagnostics.push(
      warning("W0370", "the lab has no testpmd prompt: it typed `start` for you", {
        span: i?.span ?? cmd.program.span,
        label: "interactive mode",
        notes: ["the real testpmd waits at `testpmd>` until you type `start`"],
        help: ["add `--auto-start` (`-a` after `--`) to say it in the command line"],
      }),
    );
  }
  for (const o of allow) {
    const bdf = (o.value as { value: string }).value.split(",")[0] ?? "";
    if (app.ports.some((p) => p.name === bdf)) continue;
    const dev = cx.lab.host.pci.device(bdf);
    cx.diagnostics.push(
      warning("W0373", `the EAL cannot use \`${bdf}\`: it gets no port`, {
        span: o.value?.span ?? o.span,
        label: dev === undefined ? "no such PCI device" : `bound to ${dev.driver ?? "no driver"}`,
        notes: [`testpmd says: EAL: Requested device ${bdf} cannot be used`],
        help: dev === undefined ? [] : [
          dev.model.vendorId === 0x15b3
            ? "the mlx5 PMD works beside mlx5_core: bind the device back to mlx5_core"
            : `bind it to vfio-pci first (echo vfio-pci > /sys/bus/pci/devices/${bdf}/driver_override)`,
        ],
      }),
    );
  }
  const nics = app.ports.length - spec.vhostPorts.length;
  for (const [i, v] of spec.vhostPorts.entries()) {
    const port = app.ports[nics + i];
    if (!v.client || port === undefined || port.linkUp) continue;
    const cfg = vdevs.filter((x) => x.kind === "vhost")[i];
    cx.diagnostics.push(
      warning("W0372", `nobody listens on \`${v.iface}\` yet: port ${i} keeps retrying`, {
        span: cfg?.kind === "vhost" ? cfg.client.span : cmd.program.span,
        label: "client=1",
        notes: ["rte_vhost's reconnect thread connects when QEMU starts with `server=on`"],
      }),
    );
  }
  cx.print(app.output);
};

/** The executors of this file. */
export const TESTPMD_EXECUTORS: ExecutorTable = { testpmd };
