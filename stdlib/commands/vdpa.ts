/**
 * iproute2's `vdpa` (6.12) against the host's `vdpa` generic netlink family: `mgmtdev show`,
 * `dev add|del|show|set`, `dev config show`, `dev vstats show`, with the tool's exact text,
 * `-j` and `-jp` output (a failed show still prints its empty JSON section, as the tool
 * does), and the kernel's refusals as located diagnostics: the unknown management device at
 * the `mgmtdev` value, an unsupported attribute at that attribute, `mtu 60` at the MTU,
 * `max_vqp 0` at its value, a taken name at the name with a secondary label where the
 * device was created, a busy device with a secondary label where its /dev node was opened.
 *
 * @example
 * ```ts
 * import { Session } from "../session.ts";
 * const s = new Session({ mode: "check", stdout: () => {} });
 * const r = await s.runText("modprobe vdpa_sim_net\nvdpa dev add name vdpa0 mgmtdev vdpa_sim_net\n", "a.vdpa");
 * const d = r.diagnostics[0];
 * if (d?.code !== "E0202" || !d.help.some((h) => h.includes("`vdpasim_net`"))) throw new Error(d?.message);
 * ```
 *
 * @module
 */

import type {
  MgmtdevHandle,
  VdpaArg,
  VdpaCommand,
  VdpaDevAdd,
  VdpaDevConfigShow,
  VdpaDevDel,
  VdpaDevSet,
  VdpaDevShow,
  VdpaDevVstatsShow,
  VdpaMgmtdevShow,
} from "../../lang/commands/ast.ts";
import type { Span } from "../../lang/span.ts";
import type { Located } from "../../lang/word.ts";
import { featureMask } from "../../runtime/devices/vdpa_device.ts";
import { VDPA_CONFIG_ATTR_NUMBER, type VdpaConfigAttr } from "../../runtime/devices/vdpa_parent.ts";
import type { HostError } from "../../runtime/host/host_error.ts";
import { parseMac } from "../../runtime/host/mac.ts";
import { mgmtdevHandle } from "../../runtime/host/vdpa_bus.ts";
import type { Result } from "../../runtime/result.ts";
import type { ExecContext, ExecutorTable } from "../exec.ts";
import type { ToolOutput } from "../format/iproute2_print.ts";
import {
  vdpaAck,
  vdpaDevConfigShow,
  vdpaDevShow,
  vdpaDevVstatsShow,
  vdpaFeatureName,
  vdpaMgmtdevShow,
  type VdpaOutputOptions,
} from "../format/vdpa.ts";
import {
  hostDiagnostic,
  type HostDiagnosticOptions,
  originOf,
  type Secondary,
  withHostEvents,
} from "../host_errors.ts";
import { mgmtdevHelp, vdpaDeviceHelp } from "../names.ts";

function outputOptions(cmd: VdpaCommand): VdpaOutputOptions {
  return { json: cmd.options.json, pretty: cmd.options.pretty };
}

/** Prints what the tool printed; true when it succeeded. */
function emit(out: ToolOutput, cx: ExecContext): boolean {
  if (out.stdout !== "") cx.print(out.stdout);
  return out.status === 0;
}

/** The last `keyword value` pair of a name (iproute2 keeps the last of duplicates). */
function argOf(cmd: VdpaCommand, name: VdpaArg["name"]): VdpaArg | undefined {
  return [...cmd.args].reverse().find((a) => a.name === name);
}

function push(
  cx: ExecContext,
  code: Parameters<typeof hostDiagnostic>[0],
  message: string,
  o: HostDiagnosticOptions,
): void {
  cx.diagnostics.push(hostDiagnostic(code, message, o));
}

/** The genl family is missing: every vdpa command fails the same way. */
function reportUnavailable(cmd: VdpaCommand, e: HostError, cx: ExecContext): void {
  push(cx, "E0300", "the `vdpa` netlink family is not available", {
    error: e,
    span: cmd.program.span,
    label: "the `vdpa` module is not loaded",
    secondary: originOf(cx.provenance, "module-unload:vdpa"),
    help: [
      "load the vDPA bus with its management devices: `modprobe vdpa_sim_net` (which loads " +
      "`vdpa`), or `modprobe vdpa`",
    ],
  });
}

function reportUnknownDevice(
  cmd: VdpaCommand,
  dev: Located<string>,
  e: HostError,
  cx: ExecContext,
): void {
  push(cx, "E0203", `no vdpa device named \`${dev.value}\``, {
    error: e,
    span: dev.span,
    label: "not on the vdpa bus",
    secondary: originOf(cx.provenance, `vdpa-dev-del:${dev.value}`),
    help: vdpaDeviceHelp(dev.value, cx.lab.host),
  });
  void cmd;
}

/** Shared handling of errors every device command can get; false if not handled. */
function reportCommon(
  cmd: VdpaCommand,
  dev: Located<string> | undefined,
  e: HostError,
  cx: ExecContext,
): boolean {
  if (e.kind === "vdpa-netlink-unavailable") {
    reportUnavailable(cmd, e, cx);
    return true;
  }
  if (
    dev !== undefined && e.kind === "vdpa-netlink" && e.errno === "ENODEV" &&
    cx.lab.host.vdpa.device(dev.value) === undefined
  ) {
    reportUnknownDevice(cmd, dev, e, cx);
    return true;
  }
  return false;
}

function execMgmtdevShow(cmd: VdpaMgmtdevShow, cx: ExecContext): void {
  const h = cmd.mgmtdev;
  const r = cx.lab.host.vdpaNetlink.mgmtdevGet(
    h === undefined ? undefined : { ...(h.bus ? { bus: h.bus.value } : {}), dev: h.name.value },
  );
  if (emit(vdpaMgmtdevShow(r, outputOptions(cmd)), cx) || r.ok) return;
  if (reportCommon(cmd, undefined, r.error, cx)) return;
  if (h !== undefined) reportUnknownMgmtdev(h, r.error, cx);
}

function reportUnknownMgmtdev(h: MgmtdevHandle, e: HostError, cx: ExecContext): void {
  push(cx, "E0202", `no management device \`${h.text}\``, {
    error: e,
    span: h.span,
    label: "not registered on the vdpa bus",
    help: mgmtdevHelp({ ...(h.bus ? { bus: h.bus.value } : {}), name: h.name.value }, cx.lab.host),
  });
}

function execDevShow(cmd: VdpaDevShow, cx: ExecContext): void {
  const r = cx.lab.host.vdpaNetlink.devGet(cmd.dev?.value);
  if (emit(vdpaDevShow(r, outputOptions(cmd)), cx) || r.ok) return;
  if (reportCommon(cmd, cmd.dev, r.error, cx)) return;
  reportFallback(cmd, cmd.dev?.span ?? cmd.program.span, r.error, cx);
}

function execConfigShow(cmd: VdpaDevConfigShow, cx: ExecContext): void {
  const r = cx.lab.host.vdpaNetlink.devConfigGet(cmd.dev?.value);
  if (emit(vdpaDevConfigShow(r, outputOptions(cmd)), cx) || r.ok) return;
  if (reportCommon(cmd, cmd.dev, r.error, cx)) return;
  if (cmd.dev !== undefined && r.error.kind === "vdpa-netlink" && r.error.errno === "EOPNOTSUPP") {
    push(cx, "E0305", `the kernel has no config view of \`${cmd.dev.value}\``, {
      error: r.error,
      span: cmd.dev.span,
      label: "not a network device",
      notes: ["`vdpa dev config show` describes network devices only"],
    });
    return;
  }
  reportFallback(cmd, cmd.dev?.span ?? cmd.program.span, r.error, cx);
}

function execVstats(cmd: VdpaDevVstatsShow, cx: ExecContext): void {
  const host = cx.lab.host;
  const r = host.vdpaNetlink.devVstatsGet(cmd.dev.value, cmd.qidx?.value);
  if (emit(vdpaDevVstatsShow(r, outputOptions(cmd)), cx) || r.ok) return;
  const e = r.error;
  if (reportCommon(cmd, cmd.dev, e, cx)) return;
  if (e.kind !== "vdpa-netlink") return reportFallback(cmd, cmd.dev.span, e, cx);
  if (cmd.qidx === undefined && e.errno === "EINVAL") {
    push(cx, "E0309", "`vdpa dev vstats show` needs a queue index", {
      error: e,
      span: cmd.dev.span,
      label: "no `qidx` after the device",
      notes: ["the tool accepts one argument; the kernel rejects a request without a queue index"],
      help: [`ask for one queue: \`vdpa dev vstats show ${cmd.dev.value} qidx 0\``],
    });
    return;
  }
  if (e.errno === "EAGAIN") {
    const d = host.vdpa.device(cmd.dev.value);
    push(cx, "E0309", `no statistics yet: \`${cmd.dev.value}\` has not negotiated features`, {
      error: e,
      span: cmd.dev.span,
      label: "FEATURES_OK is not set",
      secondary: originOf(cx.provenance, `driver:vdpa:${cmd.dev.value}`),
      notes: [
        d?.driver === undefined
          ? `\`${cmd.dev.value}\` is bound to no driver`
          : `\`${cmd.dev.value}\` is bound to \`${d.driver}\`, but no driver has set FEATURES_OK`,
      ],
      help: [
        "statistics exist once a driver negotiated features: start a VM on its " +
        "/dev/vhost-vdpa-N, or bind it to `virtio_vdpa`",
      ],
    });
    return;
  }
  if (cmd.qidx !== undefined && (e.errno === "ERANGE" || e.errno === "EINVAL")) {
    const nvqs = host.vdpa.device(cmd.dev.value)?.device.spec.nvqs;
    push(cx, "E0309", `queue ${cmd.qidx.value} of \`${cmd.dev.value}\` has no statistics`, {
      error: e,
      span: cmd.qidx.span,
      label: "no such queue",
      help: nvqs !== undefined ? [`queue indexes run from 0 to ${nvqs - 1}`] : [],
    });
    return;
  }
  if (e.errno === "EOPNOTSUPP") {
    push(cx, "E0309", `\`${cmd.dev.value}\` has no vendor statistics`, {
      error: e,
      span: cmd.dev.span,
      label: "its parent does not report per-queue statistics",
    });
    return;
  }
  reportFallback(cmd, cmd.dev.span, e, cx);
}

function reportFallback(cmd: VdpaCommand, span: Span, e: HostError, cx: ExecContext): void {
  push(cx, "E0305", `\`${cmd.words.map((w) => w.text).join(" ")}\` failed`, {
    error: e,
    span,
    label: "refused by the kernel",
  });
}

function execDevDel(cmd: VdpaDevDel, cx: ExecContext): void {
  const r = cx.lab.host.vdpaNetlink.devDel(cmd.dev.value);
  if (emit(vdpaAck(r, outputOptions(cmd)), cx) || r.ok) return;
  const e = r.error;
  if (reportCommon(cmd, cmd.dev, e, cx)) return;
  if (e.kind === "vdpa-netlink" && e.errno === "EBUSY") {
    push(cx, "E0308", `\`${cmd.dev.value}\` is in use`, {
      error: e,
      span: cmd.dev.span,
      label: e.waitingFor !== undefined ? `\`${e.waitingFor}\` is open` : "busy",
      secondary: e.waitingFor !== undefined ? originOf(cx.provenance, `open:${e.waitingFor}`) : [],
      help: ["stop the VM or application that holds its /dev node first"],
    });
    return;
  }
  reportFallback(cmd, cmd.dev.span, e, cx);
}

function execDevSet(cmd: VdpaDevSet, cx: ExecContext): void {
  const mac = cmd.mac === undefined ? undefined : parseMac(cmd.mac.value);
  const r = cx.lab.host.vdpaNetlink.devAttrSet(cmd.name.value, mac === undefined ? {} : { mac });
  if (emit(vdpaAck(r, outputOptions(cmd)), cx) || r.ok) return;
  const e = r.error;
  if (reportCommon(cmd, cmd.name, e, cx)) return;
  if (e.kind === "vdpa-netlink" && e.errno === "EINVAL" && cmd.mac !== undefined) {
    push(cx, "E0306", `\`${cmd.mac.value}\` cannot be a device's MAC address`, {
      error: e,
      span: cmd.mac.span,
      label: "multicast or all-zero address",
      help: ["use a unicast address: the first octet even, e.g. `52:54:00:12:34:56`"],
    });
    return;
  }
  if (e.kind === "vdpa-netlink" && e.errno === "EOPNOTSUPP") {
    push(cx, "E0305", `\`${cmd.name.value}\` does not support \`vdpa dev set\` here`, {
      error: e,
      span: cmd.mac?.span ?? cmd.name.span,
      label: cmd.mac === undefined ? "nothing to set" : "not supported by its parent",
      help: cmd.mac === undefined
        ? [`set a MAC: \`vdpa dev set name ${cmd.name.value} mac …\``]
        : [],
    });
    return;
  }
  reportFallback(cmd, cmd.name.span, e, cx);
}

/** Attribute names by the bit the kernel reports in "attributes are not supported: 0x…". */
function unsupportedAttrs(mask: bigint): VdpaConfigAttr[] {
  return (Object.entries(VDPA_CONFIG_ATTR_NUMBER) as [VdpaConfigAttr, number][])
    .filter(([, bit]) => (mask & (1n << BigInt(bit))) !== 0n)
    .map(([a]) => a);
}

const ATTR_ARG: Readonly<Record<VdpaConfigAttr, VdpaArg["name"]>> = {
  mac: "mac",
  mtu: "mtu",
  max_vqp: "max_vqp",
  device_features: "device_features",
};

function featureNames(mask: bigint): string {
  const names: string[] = [];
  for (let i = 0; i < 64; i++) {
    if ((mask & (1n << BigInt(i))) !== 0n) names.push(vdpaFeatureName(i, 1) ?? `bit_${i}`);
  }
  return names.join(" ");
}

function execDevAdd(cmd: VdpaDevAdd, cx: ExecContext): void {
  const host = cx.lab.host;
  const mac = cmd.mac === undefined ? undefined : parseMac(cmd.mac.value);
  const h = cmd.mgmtdev;
  const r: Result<unknown, HostError> = host.vdpaNetlink.devNew({
    name: cmd.name.value,
    mgmtdev: { ...(h.bus ? { bus: h.bus.value } : {}), dev: h.name.value },
    ...(mac !== undefined ? { mac } : {}),
    ...(cmd.mtu !== undefined ? { mtu: cmd.mtu.value } : {}),
    ...(cmd.maxVqp !== undefined ? { maxVqp: cmd.maxVqp.value } : {}),
    ...(cmd.deviceFeatures !== undefined ? { deviceFeatures: cmd.deviceFeatures.value } : {}),
  });
  if (emit(vdpaAck(r, outputOptions(cmd)), cx) || r.ok) return;
  const e = r.error;
  if (reportCommon(cmd, undefined, e, cx)) return;
  if (e.kind !== "vdpa-netlink") return reportFallback(cmd, cmd.span, e, cx);
  const extack = e.extack ?? "";
  const md = host.vdpa.findMgmtdev(h.bus?.value, h.name.value);
  const mdName = md === undefined ? h.text : mgmtdevHandle(md);
  if (extack.includes("integer out of range") && cmd.mtu !== undefined) {
    push(cx, "E0306", `an MTU of ${cmd.mtu.value} is below the minimum of 68`, {
      error: e,
      span: cmd.mtu.span,
      label: "the netlink policy rejects it",
      notes: ["VDPA_ATTR_DEV_NET_CFG_MTU is NLA_POLICY_MIN(NLA_U16, 68), the IPv4 minimum MTU"],
      help: ["use an MTU from 68 up (1500 is the Ethernet default)"],
    });
    return;
  }
  if (extack.includes("At least one pair of VQs") && cmd.maxVqp !== undefined) {
    push(cx, "E0306", "`max_vqp 0` gives the device no queues", {
      error: e,
      span: cmd.maxVqp.span,
      label: "at least 1",
      help: ["use `max_vqp 1` or more, or leave it out"],
    });
    return;
  }
  if (extack.includes("Missing features") && cmd.deviceFeatures !== undefined) {
    const hex = /0x([0-9a-f]+)/.exec(extack)?.[1];
    const missing = hex === undefined ? 0n : BigInt(`0x${hex}`);
    push(cx, "E0306", "`device_features` lacks the features the other attributes need", {
      error: e,
      span: cmd.deviceFeatures.span,
      label: `missing ${featureNames(missing)}`,
      secondary: attrArgs(cmd, missing),
      help: [
        `add them: \`device_features 0x${(cmd.deviceFeatures.value | missing).toString(16)}\``,
      ],
    });
    return;
  }
  if (e.errno === "ENODEV" || extack.includes("Fail to find the specified management device")) {
    reportUnknownMgmtdev(h, e, cx);
    return;
  }
  if (extack.includes("attributes are not supported")) {
    const hex = /0x([0-9a-f]+)/.exec(extack)?.[1];
    const attrs = unsupportedAttrs(hex === undefined ? 0n : BigInt(`0x${hex}`));
    const args = attrs.flatMap((a) => {
      const arg = argOf(cmd, ATTR_ARG[a]);
      return arg === undefined ? [] : [arg];
    });
    const [first, ...rest] = args;
    const accepted = md?.parent.configAttrs ?? [];
    push(cx, "E0305", `\`${mdName}\` does not accept ${attrs.map((a) => `\`${a}\``).join(", ")}`, {
      error: e,
      span: first?.span ?? h.span,
      label: "not supported by this management device",
      secondary: rest.map((a) => ({ span: a.span, message: "not supported either" })),
      notes: [
        `the attributes \`${mdName}\` accepts (its config_attr_mask): ${
          accepted.length > 0 ? accepted.join(", ") : "none"
        }`,
      ],
      help: [
        `drop ${args.map((a) => `\`${a.keyword.value} ${a.value.value}\``).join(", ")}` +
        (attrs.includes("max_vqp") && md?.module === "vdpa_sim_net"
          ? " (vdpa_sim_net has no multiqueue: one queue pair)"
          : ""),
      ],
    });
    return;
  }
  if (extack.includes("Network class attributes")) {
    const arg = argOf(cmd, "mac") ?? argOf(cmd, "mtu") ?? argOf(cmd, "max_vqp");
    push(cx, "E0305", `\`${mdName}\` is not a network management device`, {
      error: e,
      span: arg?.span ?? h.span,
      label: "a network attribute",
      secondary: [{ span: h.span, message: "a block device parent" }],
      help: ["drop `mac`, `mtu` and `max_vqp` for a block device"],
    });
    return;
  }
  if (e.errno === "EEXIST") {
    push(cx, "E0307", `a vdpa device named \`${cmd.name.value}\` exists`, {
      error: e,
      span: cmd.name.span,
      label: "name taken",
      secondary: originOf(cx.provenance, `vdpa-dev:${cmd.name.value}`),
      help: [
        `pick another name, or delete it first: \`vdpa dev del ${cmd.name.value}\``,
      ],
    });
    return;
  }
  if (e.errno === "ENOSPC" && md !== undefined) {
    const taken = host.vdpa.devices.filter((d) => d.mgmtdev === md);
    push(cx, "E0305", `\`${mdName}\` hosts no more devices`, {
      error: e,
      span: h.span,
      label: "this function already hosts a vDPA device",
      secondary: taken.flatMap((d) => originOf(cx.provenance, `vdpa-dev:${d.name}`)),
      help: ["use another VF's management device, or delete the device it hosts"],
    });
    return;
  }
  if (e.errno === "EINVAL" && md !== undefined) {
    // The parent's own dev_add refused: a feature it lacks, or more queues than it has.
    const extra = cmd.deviceFeatures === undefined
      ? 0n
      : cmd.deviceFeatures.value & ~md.parent.supportedFeatures;
    if (cmd.deviceFeatures !== undefined && extra !== 0n) {
      push(cx, "E0306", `\`${mdName}\` does not offer ${featureNames(extra)}`, {
        error: e,
        span: cmd.deviceFeatures.span,
        label: `not a subset of the device features`,
        notes: [`\`${mdName}\` offers ${featureNames(md.parent.supportedFeatures)}`],
        help: [
          `drop them: \`device_features 0x${
            (cmd.deviceFeatures.value & md.parent.supportedFeatures).toString(16)
          }\``,
        ],
      });
      return;
    }
    if (cmd.maxVqp !== undefined) {
      const pairs = Math.floor((md.parent.maxSupportedVqs - 1) / 2);
      push(cx, "E0306", `\`${mdName}\` has fewer than ${cmd.maxVqp.value} queue pairs`, {
        error: e,
        span: cmd.maxVqp.span,
        label: `at most ${pairs}`,
        notes: [`\`vdpa mgmtdev show\` reports max_supported_vqs ${md.parent.maxSupportedVqs}`],
      });
      return;
    }
  }
  reportFallback(cmd, cmd.span, e, cx);
}

/** Secondary labels on the attributes whose feature bits are in `missing`. */
function attrArgs(cmd: VdpaDevAdd, missing: bigint): Secondary[] {
  const out: Secondary[] = [];
  const need: [VdpaArg["name"], number][] = [["mac", 5], ["mtu", 3], ["max_vqp", 22]];
  for (const [name, bit] of need) {
    const arg = argOf(cmd, name);
    if (arg !== undefined && (missing & featureMask([bit])) !== 0n) {
      out.push({ span: arg.span, message: `needs ${vdpaFeatureName(bit, 1)}` });
    }
  }
  return out;
}

/** The vdpa commands. */
export const VDPA_EXECUTORS = {
  "vdpa-mgmtdev-show": execMgmtdevShow,
  "vdpa-dev-show": execDevShow,
  "vdpa-dev-add": withHostEvents(execDevAdd),
  "vdpa-dev-del": withHostEvents(execDevDel),
  "vdpa-dev-config-show": execConfigShow,
  "vdpa-dev-vstats-show": execVstats,
  "vdpa-dev-set": withHostEvents(execDevSet),
} satisfies ExecutorTable;
