/**
 * Summarises a V8 `.cpuprofile` (from `deno run --cpu-prof`): self time per function and
 * per file, and inclusive time per function (time with the function anywhere on the stack).
 *
 * Run: `deno run -A bench/profile_summary.ts FILE.cpuprofile [top]`
 *
 * @module
 */

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const file = Deno.args[0];
if (file === undefined) throw new Error("usage: profile_summary.ts FILE.cpuprofile [top]");
const top = Number(Deno.args[1] ?? "40");
const p = JSON.parse(await Deno.readTextFile(file)) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
function label(n: Node): string {
  const url = n.callFrame.url.replace(/^.*\/(runtime|stdlib|lang|bench|cli)\//, "$1/");
  return `${n.callFrame.functionName || "(anon)"} ${url}:${n.callFrame.lineNumber + 1}`;
}
const selfUs = new Map<number, number>();
for (let i = 0; i < p.samples.length; i++) {
  const id = p.samples[i] as number;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
}
let total = 0;
const fn = new Map<string, number>();
const files = new Map<string, number>();
const incl = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  if (n === undefined) continue;
  total += us;
  const name = label(n);
  fn.set(name, (fn.get(name) ?? 0) + us);
  const url = name.split(" ")[1]?.replace(/:\d+$/, "") || "(native)";
  files.set(url, (files.get(url) ?? 0) + us);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const a = byId.get(at);
    if (a === undefined) break;
    const l = label(a);
    if (seen.has(l)) continue;
    seen.add(l);
    incl.set(l, (incl.get(l) ?? 0) + us);
  }
}
function show(title: string, m: Map<string, number>): void {
  console.log(`## ${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(100 * v / total).toFixed(1).padStart(5)}%  ${k}`);
  }
}
show("self time by function", fn);
show("self time by file", files);
show("inclusive time by function", incl);

// `… FILE.cpuprofile top NAME`: the hottest lines of functions whose label contains NAME.
const focus = Deno.args[2];
if (focus !== undefined) {
  const lines = new Map<string, number>();
  let ticks = 0;
  for (const n of p.nodes as (Node & { positionTicks?: { line: number; ticks: number }[] })[]) {
    if (!label(n).includes(focus)) continue;
    for (const pt of n.positionTicks ?? []) {
      const k = `${label(n).split(" ")[1]?.replace(/:\d+$/, "")}:${pt.line}`;
      lines.set(k, (lines.get(k) ?? 0) + pt.ticks);
      ticks += pt.ticks;
    }
  }
  console.log(`## lines of ${focus} (${ticks} ticks)`);
  for (const [k, v] of [...lines].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${String(v).padStart(6)}  ${k}`);
  }
}
