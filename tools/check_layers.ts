/**
 * The layering rule of DESIGN §2, as code: `lang/` and `runtime/` import nothing of each
 * other, `stdlib/` may use both, `cli/` sits on top. Prints every forbidden edge and exits 1.
 *
 * Run: `deno run --allow-read=. tools/check_layers.ts`
 *
 * @module
 */

/** Which top-level folders a file in each layer may import from. */
const ALLOWED: Record<string, readonly string[]> = {
  lang: ["lang"],
  runtime: ["runtime"],
  stdlib: ["stdlib", "lang", "runtime"],
  cli: ["cli", "stdlib", "lang", "runtime", "deno.json"],
};

const IMPORT_RE =
  /(?:^|[\s;])(?:import|export)\b[^'"]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|^\s*import\s*["']([^"']+)["']/gm;

function layerOf(path: string): string | undefined {
  const top = path.split("/")[0] ?? "";
  return top in ALLOWED ? top : undefined;
}

function resolve(from: string, spec: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const seg of spec.split("/")) {
    if (seg === "." || seg === "") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return parts.join("/");
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = dir === "." ? e.name : `${dir}/${e.name}`;
    if (e.isDirectory && !e.name.startsWith(".") && e.name !== "node_modules") yield* walk(p);
    else if (e.isFile && /\.(ts|js)$/.test(e.name)) yield p;
  }
}

/** Lists `file → target` edges that break the rule. */
export async function forbiddenEdges(root = "."): Promise<string[]> {
  const bad: string[] = [];
  for (const top of Object.keys(ALLOWED)) {
    try {
      await Deno.stat(`${root}/${top}`);
    } catch {
      continue;
    }
    for await (const rel of walk(`${root}/${top}`)) {
      const file = rel.slice(root.length + 1);
      const layer = layerOf(file);
      if (!layer) continue;
      const text = await Deno.readTextFile(rel);
      for (const m of text.matchAll(IMPORT_RE)) {
        const spec = m[1] ?? m[2] ?? m[3] ?? "";
        if (!spec.startsWith(".")) continue;
        const target = resolve(file, spec);
        const targetTop = target.split("/")[0] ?? "";
        if (!(ALLOWED[layer] ?? []).includes(targetTop)) bad.push(`${file} -> ${target}`);
      }
    }
  }
  return bad;
}

if (import.meta.main) {
  const bad = await forbiddenEdges(".");
  if (bad.length > 0) {
    console.error("layering rule broken (DESIGN §2: cli → stdlib → runtime, stdlib → lang):");
    for (const b of bad) console.error(`  ${b}`);
    Deno.exit(1);
  }
  console.log("layers ok");
}
