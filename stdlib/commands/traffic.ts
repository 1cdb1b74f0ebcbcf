/**
 * `traffic T from EP to EP size= (count=|duration=) [rate=] [burst=] [flows=] [proto=udp]`
 * and `ping EP EP [count=] [size=] [interval=]`: declare UDP streams and ICMP echo round
 * trips between endpoints named as a user sees them (`vm1.eth0`, `vm1.net0`, `tap0`,
 * `wire`). MACs and IPs come from the endpoints; frames are real (checksums, a verifiable
 * payload). Nothing is sent until the next `run`. `rate=line` (the default) is the speed of
 * the physical link the traffic crosses, 10 Gbit/s when there is none.
 *
 * @module
 */

import { type Diagnostic, error } from "../../lang/diagnostic.ts";
import type { Span } from "../../lang/span.ts";
import type { DottedName, Ping, Traffic } from "../../lang/commands/mod.ts";
import type { TrafficError } from "../../runtime/lab.ts";
import { describeEndpointError } from "../../runtime/datapath/endpoints.ts";
import { describeFlowSpecError, type RateSpec } from "../../runtime/traffic/flow.ts";
import type { ExecContext, Executor, ExecutorTable } from "../exec.ts";
import { ensureCostProfile } from "./run.ts";

function report(
  cx: ExecContext,
  e: TrafficError,
  at: {
    from: DottedName;
    to: DottedName;
    name?: Span;
    props: Record<string, Span | undefined>;
    stmt: Span;
  },
): void {
  let d: Diagnostic;
  switch (e.kind) {
    case "endpoint": {
      const ep = e.which === "from" ? at.from : at.to;
      d = error("E0502", describeEndpointError(e.error), {
        span: ep.span,
        label: "no such endpoint",
        ...(e.error.suggestion ? { help: [`did you mean \`${e.error.suggestion}\`?`] } : {}),
      });
      break;
    }
    case "spec": {
      const first = e.errors[0];
      const field = first?.kind === "out-of-range" ? first.field : undefined;
      const span = (field !== undefined ? at.props[field] : undefined) ?? at.stmt;
      d = error("E0503", e.errors.map(describeFlowSpecError).join("; "), {
        span,
        label: "not a valid traffic",
      });
      break;
    }
    case "no-datapath": {
      const ep = e.which === "from" ? at.from : at.to;
      d = error("E0405", `netdev \`${e.name}\` has no datapath model in this lab yet`, {
        span: ep.span,
        label: "nothing sends or receives frames here",
      });
      break;
    }
    case "duplicate":
      d = error("E0504", `a traffic named \`${e.name}\` already exists`, {
        span: at.name ?? at.stmt,
        label: "name taken",
        help: ["give each traffic its own name"],
      });
      break;
  }
  cx.diagnostics.push(d);
}

function propSpans(props: { items: readonly { key: { value: string }; span: Span }[] }) {
  const out: Record<string, Span | undefined> = {};
  for (const i of props.items) out[i.key.value] = i.span;
  return out;
}

const traffic: Executor<Traffic> = (cmd, cx) => {
  ensureCostProfile(cx.lab);
  const spans = propSpans(cmd.props);
  if (cmd.proto !== undefined && cmd.proto.value.toLowerCase() !== "udp") {
    cx.diagnostics.push(error("E0503", `the lab sends UDP traffic, not \`${cmd.proto.value}\``, {
      span: cmd.proto.span,
      label: "unsupported protocol",
      help: ["use `proto=udp`, or `ping` for ICMP echo"],
    }));
    return;
  }
  const rate = cmd.rate?.value;
  let r: RateSpec | "line" = "line";
  if (rate !== undefined) {
    if (rate.kind === "packet-rate") r = { kind: "pps", pps: rate.value };
    else if (rate.kind === "bit-rate") r = { kind: "bps", bps: rate.value };
    else if (rate.kind === "line") r = "line";
    else {
      cx.diagnostics.push(error("E0503", `\`rate=${rate.text}\` is not a rate`, {
        span: cmd.rate?.span ?? cmd.span,
        label: "expected packets/s (`1Mpps`), bits/s (`10Gbps`) or `line`",
      }));
      return;
    }
  }
  const result = cx.lab.addTraffic({
    name: cmd.name.value,
    from: cmd.from.text,
    to: cmd.to.text,
    frameBytes: cmd.size?.value.value ?? 64,
    ...(cmd.count !== undefined ? { count: cmd.count.value.value } : {}),
    ...(cmd.duration !== undefined ? { durationNs: cmd.duration.value.value } : {}),
    ...(cmd.count === undefined && cmd.duration === undefined ? { count: 1 } : {}),
    rate: r,
    ...(cmd.burst !== undefined ? { burst: cmd.burst.value.value } : {}),
    ...(cmd.flows !== undefined ? { flows: cmd.flows.value.value } : {}),
  });
  if (!result.ok) {
    report(cx, result.error, {
      from: cmd.from,
      to: cmd.to,
      name: cmd.name.span,
      props: spans,
      stmt: cmd.span,
    });
    return;
  }
  cx.provenance.set(
    `traffic:${cmd.name.value}`,
    cmd.span,
    `\`${cmd.name.value}\` was declared here`,
  );
};

const ping: Executor<Ping> = (cmd, cx) => {
  ensureCostProfile(cx.lab);
  const spans = propSpans(cmd.props);
  const size = cmd.size?.value.value;
  const result = cx.lab.addPing({
    from: cmd.from.text,
    to: cmd.to.text,
    count: cmd.count?.value.value ?? 4,
    ...(size !== undefined ? { payloadBytes: size } : {}),
    ...(cmd.interval !== undefined ? { intervalNs: cmd.interval.value.value } : {}),
  });
  if (!result.ok) {
    report(cx, result.error, { from: cmd.from, to: cmd.to, props: spans, stmt: cmd.span });
  }
};

/** The executors of this file. */
export const TRAFFIC_EXECUTORS: ExecutorTable = { traffic, ping };
