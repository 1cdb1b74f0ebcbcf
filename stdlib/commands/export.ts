/**
 * `export trace to F.json` writes the recorded trace as Chrome trace-event JSON (one track
 * per CPU context, control-plane steps on their own track; opens in Perfetto and
 * chrome://tracing). `export graph to F.dot|F.mmd` writes the topology model that `show
 * topology` and `show graph` render (runtime/graph/) as Graphviz DOT (a cluster per VM and
 * for the host, a rank per layer) or a Mermaid flowchart (a subgraph each); `format=`
 * overrides the file extension.
 *
 * @module
 */

import { error } from "../../lang/diagnostic.ts";
import type { Export } from "../../lang/commands/mod.ts";
import { toChromeTrace } from "../../runtime/trace/chrome.ts";
import type { Executor, ExecutorTable } from "../exec.ts";
import { buildTopology } from "../../runtime/graph/topology.ts";
import { topologyDot } from "../../runtime/graph/dot.ts";
import { topologyMermaid } from "../../runtime/graph/mermaid.ts";

const exportCmd: Executor<Export> = async (cmd, cx) => {
  const file = cmd.file.value;
  const ext = file.slice(file.lastIndexOf(".") + 1).toLowerCase();
  const format = (cmd.format?.value ?? ext).toLowerCase();
  const lab = cx.lab;
  if (cmd.what.value === "trace") {
    if (format !== "json") {
      cx.diagnostics.push(error("E0511", `a trace is exported as Chrome JSON, not \`${format}\``, {
        span: cmd.format?.span ?? cmd.file.span,
        label: "unsupported format",
        help: ["name the file `*.json` (it opens in Perfetto)"],
      }));
      return;
    }
    const text = toChromeTrace(lab.recorder.events(), {
      contexts: lab.metrics.contexts.map((c) => c.name),
      processName: "vdpa-lab",
    });
    await cx.writeFile(file, text, cmd.file.span);
    return;
  }
  let text: string;
  if (format === "dot" || format === "gv") text = topologyDot(buildTopology(lab));
  else if (format === "mmd" || format === "mermaid") text = topologyMermaid(buildTopology(lab));
  else {
    cx.diagnostics.push(error("E0511", `a graph is exported as DOT or Mermaid, not \`${format}\``, {
      span: cmd.format?.span ?? cmd.file.span,
      label: "unsupported format",
      help: ["name the file `*.dot` (Graphviz) or `*.mmd` (Mermaid), or give `format=dot`"],
    }));
    return;
  }
  await cx.writeFile(file, `${text}\n`, cmd.file.span);
};

/** The executors of this file. */
export const EXPORT_EXECUTORS: ExecutorTable = { export: exportCmd };
