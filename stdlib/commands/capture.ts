/**
 * `capture IFACE to FILE [count=N] [snaplen=N]`: a tap point on a host netdev (`tap0`,
 * `br0`, `ens1f0`) or a guest interface (`vm1.eth0`) that records every frame passing it —
 * both directions — into a real pcap file (nanosecond timestamps of the virtual clock), which
 * `tcpdump -r` and `tshark -r` read. The file is written after each `run`; `count=` stops
 * recording after N frames.
 *
 * @module
 */

import { error } from "../../lang/diagnostic.ts";
import type { Span } from "../../lang/span.ts";
import type { Capture } from "../../lang/commands/mod.ts";
import type { Lab } from "../../runtime/lab.ts";
import { PcapWriter } from "../../runtime/traffic/pcap.ts";
import { didYouMean } from "../../lang/suggest.ts";
import type { ExecContext, Executor, ExecutorTable } from "../exec.ts";

interface CaptureState {
  readonly file: string;
  readonly at: Span;
  readonly writer: PcapWriter;
  readonly limit: number;
}

const captures = new WeakMap<Lab, CaptureState[]>();

/** Writes every capture of the lab to its file (after a run). */
export async function flushCaptures(cx: ExecContext): Promise<void> {
  for (const c of captures.get(cx.lab) ?? []) {
    await cx.writeFile(c.file, c.writer.bytes(), c.at);
  }
}

const capture: Executor<Capture> = (cmd, cx) => {
  const lab = cx.lab;
  const name = cmd.iface.text;
  const limit = cmd.count?.value.value ?? Infinity;
  const snaplen = cmd.snaplen?.value.value;
  const writer = new PcapWriter(snaplen !== undefined ? { snaplen } : {});
  const state: CaptureState = { file: cmd.file.value, at: cmd.file.span, writer, limit };
  const record = (t: number, frame: Uint8Array, off: number, len: number) => {
    if (writer.packets >= limit) return;
    writer.write(t, frame.subarray(off, off + len));
  };
  const dot = name.indexOf(".");
  if (dot > 0) {
    const vm = lab.vm(name.slice(0, dot));
    const g = vm?.guestNic(name.slice(dot + 1));
    if (g === undefined) return unknown(cx, cmd, name);
    g.captures.push(record);
  } else if (lab.host.net.get(name) !== undefined) {
    lab.net.addCapture(name, record);
  } else {
    return unknown(cx, cmd, name);
  }
  let list = captures.get(lab);
  if (list === undefined) {
    list = [];
    captures.set(lab, list);
  }
  list.push(state);
};

function unknown(cx: ExecContext, cmd: Capture, name: string): void {
  const known = [
    ...cx.lab.host.net.list().filter((d) => d.kind !== "loopback").map((d) => d.name),
    ...cx.lab.vms.flatMap((vm) => vm.guestNics.map((g) => g.name)),
  ];
  const help = didYouMean(name, known);
  cx.diagnostics.push(error("E0510", `no interface \`${name}\` to capture on`, {
    span: cmd.iface.span,
    label: "not a host netdev or a guest interface",
    ...(known.length > 0 ? { notes: [`interfaces: ${known.join(", ")}`] } : {}),
    ...(help ? { help: [help] } : {}),
  }));
}

/** The executors of this file. */
export const CAPTURE_EXECUTORS: ExecutorTable = { capture };
