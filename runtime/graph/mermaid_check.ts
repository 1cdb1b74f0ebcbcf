/**
 * A structural check of Mermaid flowchart text, as the tests of `export graph to F.mmd` use
 * it (no Mermaid renderer runs here): one `flowchart` header, node ids that are plain words
 * and not keywords, every node declared once, every edge's ends declared, `subgraph` and
 * `end` balanced, labels quoted with their quotes escaped.
 *
 * @example
 * ```ts
 * import { checkMermaid } from "./mermaid_check.ts";
 * const ok = checkMermaid('flowchart TB\n  subgraph g0["vm1"]\n    n0["a"]\n  end\n  n1["b"]\n  n0 --> n1');
 * if (ok.length !== 0) throw new Error(ok.join("\n"));
 * const bad = checkMermaid('flowchart TB\n  n0["a"]\n  n0 --> n9');
 * if (!bad.some((p) => p.includes("n9"))) throw new Error("an undeclared end");
 * ```
 *
 * @module
 */

const ID = /^[A-Za-z][A-Za-z0-9_]*$/;
const KEYWORDS = new Set(["end", "subgraph", "graph", "flowchart", "classDef", "class", "style"]);
/** `id["label"]` with an optional `:::class`. */
const NODE = /^([^\s[\]]+)\["((?:[^"]|#quot;)*)"\](?::::([A-Za-z_][\w-]*))?$/;
/** `from --> to` or `from -->|"label"| to`. */
const EDGE = /^(\S+) -->(?:\|"((?:[^"|]|#quot;)*)"\|)? (\S+)$/;

/** The problems found in `text` (empty when it is well formed). */
export function checkMermaid(text: string): string[] {
  const problems: string[] = [];
  const lines = text.split("\n");
  if (!/^flowchart (TB|TD|LR|RL|BT)$/.test(lines[0] ?? "")) problems.push("no flowchart header");
  const declared = new Set<string>();
  const edges: [string, string, number][] = [];
  let depth = 0;
  const checkId = (id: string, n: number) => {
    if (!ID.test(id) || KEYWORDS.has(id)) problems.push(`line ${n}: invalid id \`${id}\``);
  };
  lines.slice(1).forEach((raw, i) => {
    const n = i + 2;
    const line = raw.trim();
    if (line === "") return;
    if (line === "end") {
      if (--depth < 0) problems.push(`line ${n}: \`end\` without \`subgraph\``);
      return;
    }
    const sub = /^subgraph (\S+?)\["((?:[^"]|#quot;)*)"\]$/.exec(line);
    if (sub) {
      checkId(sub[1] as string, n);
      if (declared.has(sub[1] as string)) problems.push(`line ${n}: \`${sub[1]}\` declared twice`);
      declared.add(sub[1] as string);
      depth++;
      return;
    }
    if (line.startsWith("classDef ")) return;
    const node = NODE.exec(line);
    if (node) {
      const id = node[1] as string;
      checkId(id, n);
      if (declared.has(id)) problems.push(`line ${n}: \`${id}\` declared twice`);
      declared.add(id);
      return;
    }
    const edge = EDGE.exec(line);
    if (edge) {
      edges.push([edge[1] as string, edge[3] as string, n]);
      return;
    }
    problems.push(`line ${n}: not a node, an edge or a subgraph: ${line}`);
  });
  if (depth !== 0) problems.push(`${depth} \`subgraph\` without \`end\``);
  for (const [from, to, n] of edges) {
    for (const id of [from, to]) {
      if (!declared.has(id)) problems.push(`line ${n}: edge end \`${id}\` is not declared`);
    }
  }
  return problems;
}
