/**
 * The README and docs/ say what the lab does:
 * - every ```vdpa block checks clean (a Session in check mode: syntax, names, the whole
 *   topology); every ```vdpa-error block fails with exactly the error codes its info string
 *   names. A block that waits for an engine not landed yet (E0405, E0599) is registered as
 *   ignored, named after what it waits for, as tests/examples_test.ts does;
 * - every code of every registry appears in docs/diagnostics.md, with its summary;
 * - the quickstart is exactly the two commands of the issue, and they name real tasks;
 * - every relative link points at a file that exists, every `#anchor` at a heading.
 *
 * Whether README.md is up to date with README.src.md and the code is `deno task check`'s
 * business (tools/gen_readme.ts --check).
 */

import assert from "node:assert/strict";
import { Session } from "../stdlib/session.ts";
import { allCodes } from "../tools/readme/codes.ts";

const ROOT = new URL("../", import.meta.url);

const DOCUMENTS = [
  "README.md",
  ...[...Deno.readDirSync(new URL("docs/", ROOT))]
    .filter((e) => e.isFile && e.name.endsWith(".md") && !e.name.endsWith(".src.md"))
    .map((e) => `docs/${e.name}`)
    .sort(),
];

function read(path: string): string {
  return Deno.readTextFileSync(new URL(path, ROOT));
}

/** A fenced code block: its info string, its text and the line it starts on. */
interface Block {
  readonly info: string;
  readonly text: string;
  readonly line: number;
}

/** The fenced blocks of a Markdown text (``` fences, as the generator and deno fmt write). */
function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i] as string);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i] as string);
    assert.ok(i < lines.length, `unclosed fence at line ${start + 1}`);
    out.push({ info: (open[1] as string).trim(), text: `${body.join("\n")}\n`, line: start + 1 });
  }
  return out;
}

async function check(text: string, source: string) {
  const session = new Session({
    mode: "check",
    stdout: () => {},
    readFile: () => Promise.resolve({ error: "No such file or directory" }),
  });
  await session.runText(text, source);
  return session.diagnostics.items.filter((d) => d.severity === "error");
}

/** Codes that mean "the lab has no engine for this yet", not "the script is wrong". */
const NOT_LANDED = new Set(["E0405", "E0599"]);

for (const doc of DOCUMENTS) {
  for (const b of blocks(read(doc))) {
    const [lang, ...expected] = b.info.split(/\s+/);
    if (lang !== "vdpa" && lang !== "vdpa-error") continue;
    const source = `${doc}:${b.line}`;
    const errors = await check(b.text, source);
    const waits = errors.find((d) => NOT_LANDED.has(d.code));
    const name = lang === "vdpa"
      ? `the vdpa block at ${source} checks without errors`
      : `the vdpa-error block at ${source} fails with ${expected.join(", ")}`;
    Deno.test({
      name: name + (waits ? ` (waits for: ${waits.message})` : ""),
      ignore: waits !== undefined,
      fn: () => {
        const got = [...new Set(errors.map((d) => d.code))].sort();
        if (lang === "vdpa") {
          assert.deepEqual(errors.map((d) => `${d.code} ${d.message}`), [], source);
        } else {
          assert.ok(expected.length > 0, `${source}: name the codes after vdpa-error`);
          assert.deepEqual(got, [...expected].sort(), source);
        }
      },
    });
  }
}

Deno.test("the fence scanner sees every block, and only blocks", () => {
  const md = "a\n```vdpa\nlsmod\n```\n\n```vdpa-error E0201 E0108\nx\n\ny\n```\n```text\n```\n";
  const bs = blocks(md);
  assert.deepEqual(bs.map((b) => [b.info, b.text, b.line]), [
    ["vdpa", "lsmod\n", 2],
    ["vdpa-error E0201 E0108", "x\n\ny\n", 6],
    ["text", "\n", 11],
  ]);
  assert.throws(() => blocks("```vdpa\nlsmod\n"), /unclosed fence/);
});

Deno.test("the README has vdpa blocks to check, and they are not all error examples", () => {
  const bs = blocks(read("README.md"));
  assert.ok(bs.filter((b) => b.info === "vdpa").length >= 10, "scripts of the datapaths");
  assert.ok(bs.some((b) => b.info.startsWith("vdpa-error ")), "a diagnostics example");
});

Deno.test("docs/diagnostics.md lists every code of every registry with its summary", () => {
  const text = read("docs/diagnostics.md");
  const rows = new Map<string, string>();
  for (const m of text.matchAll(/^\| ([EW]\d{4}) \| (.*?) \| /gm)) {
    assert.ok(!rows.has(m[1] as string), `${m[1]} is listed twice`);
    rows.set(m[1] as string, (m[2] as string).trim().replaceAll("\\|", "|"));
  }
  const codes = allCodes();
  assert.ok(codes.length > 100, "the registries are loaded");
  for (const c of codes) {
    assert.equal(rows.get(c.code), c.summary, `${c.code} (${c.module}): run \`deno task gen\``);
  }
  assert.deepEqual(
    [...rows.keys()].filter((k) => !codes.some((c) => c.code === k)),
    [],
    "no code listed that no registry has",
  );
});

Deno.test("the quickstart is the two commands of the issue, and they name real tasks", () => {
  const readme = read("README.md");
  const start = readme.indexOf("## Quickstart");
  assert.ok(start >= 0, "a Quickstart section");
  const quick = readme.slice(start, readme.indexOf("\n## ", start));
  const sh = blocks(quick).find((b) => b.info === "sh");
  assert.equal(sh?.text, "npx -y deno@2 task demo\nnpx -y deno@2 task test\n");
  const tasks = (JSON.parse(read("deno.json")) as { tasks: Record<string, string> }).tasks;
  assert.ok(tasks.demo?.includes("main.ts run "), "demo runs the main job");
  assert.ok(tasks.test?.startsWith("deno test"), "test runs the tests");
});

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
}

Deno.test("slug() makes GitHub's anchors", () => {
  assert.equal(slug("`run --json`"), "run---json");
  assert.equal(
    slug("What is modelled, and what is guaranteed"),
    "what-is-modelled-and-what-is-guaranteed",
  );
  assert.equal(slug("vhost-vdpa + vdpa_sim_net"), "vhost-vdpa--vdpa_sim_net");
});

for (const doc of DOCUMENTS) {
  Deno.test(`every relative link of ${doc} points at a file or a heading`, async () => {
    const text = read(doc);
    const outside = text.split(/^```[\s\S]*?^```$/m).join("");
    const dir = new URL(doc.includes("/") ? doc.replace(/[^/]*$/, "") : "", ROOT);
    const anchorsOf = (md: string) =>
      new Set([...md.matchAll(/^#{1,6} (.*)$/gm)].map((m) => slug(m[1] as string)));
    const links = [...outside.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string);
    if (doc === "README.md") assert.ok(links.length > 10, "the README has links");
    for (const link of links) {
      if (/^[a-z]+:/.test(link)) continue;
      const [path, anchor] = link.split("#") as [string, string | undefined];
      const target = path === "" ? new URL(doc, ROOT) : new URL(path, dir);
      const stat = await Deno.stat(target).catch(() => undefined);
      assert.ok(stat, `${doc}: ${link} points at nothing`);
      if (anchor !== undefined && stat.isFile) {
        const anchors = anchorsOf(await Deno.readTextFile(target));
        assert.ok(anchors.has(anchor), `${doc}: no heading for #${anchor}`);
      }
    }
  });
}

Deno.test("the cost-profile examples of the README are profiles the lab accepts", async () => {
  const { parseCostOverridesJson } = await import("../runtime/sim/cost.ts");
  const { DEFAULT_COST_PROFILE } = await import("../stdlib/cost_profile.ts");
  const readme = read("README.md");
  const start = readme.indexOf("## Cost model");
  const section = readme.slice(start, readme.indexOf("\n## ", start));
  const jsons = [...section.matchAll(/`(\{[^`]*\})`/g)].map((m) => m[1] as string);
  assert.ok(jsons.length > 0, "the section shows a --profile example");
  for (const j of jsons) {
    const r = parseCostOverridesJson(j, DEFAULT_COST_PROFILE);
    assert.ok(r.ok, `${j}: ${JSON.stringify(r)}`);
  }
});

/** The help lines of the diagnostics `check` reports for `text`. */
async function helpOf(text: string): Promise<string> {
  const session = new Session({ mode: "check", stdout: () => {} });
  await session.runText(text, "probe.vdpa");
  return session.diagnostics.items.flatMap((d) => d.help ?? []).join("\n");
}

/** `a`, `b`: the backquoted words of a help line, `=` and brackets dropped. */
function quoted(help: string): string[] {
  return [...help.matchAll(/`([^`]+)`/g)].map((m) => (m[1] as string).replace(/=$/, ""));
}

Deno.test("the lab statement grammar of the README is the parser's", async () => {
  const readme = read("README.md");
  const at = readme.indexOf("### Lab statements");
  const grammar = blocks(readme.slice(at)).find((b) => b.info === "text");
  assert.ok(grammar, "a grammar block follows `### Lab statements`");
  const lines = grammar.text.split("\n").map((l) => l.replace(/#.*$/, "").trim()).filter(Boolean);
  const { LAB_KEYWORDS } = await import("../lang/commands/mod.ts");
  for (const k of LAB_KEYWORDS) {
    assert.ok(lines.some((l) => l.startsWith(`${k} `) || l === k), `\`${k}\` has a grammar line`);
  }
  // Each form's `key=` options, both ways: what the grammar shows is what the parser accepts.
  const probes: Readonly<Record<string, string>> = {
    "host cpu": "host cpu",
    "host nic": "host nic x",
    traffic: "traffic t1 from a to b",
    ping: "ping a b",
    capture: "capture tap0 to x.pcap",
    "export graph": "export graph to x.dot",
    "export trace": "export trace to x.json",
    "inject link-down": "inject link-down tap0",
    "inject reset": "inject reset vm1.eth0",
    "inject iotlb-invalidate": "inject iotlb-invalidate vm1.eth0",
    "inject bad-chain": "inject bad-chain vm1.eth0 tx0 cycle",
    "inject disconnect": "inject disconnect /tmp/s",
    "inject unmap": "inject unmap vm1",
  };
  for (const [form, probe] of Object.entries(probes)) {
    const i = lines.findIndex((l) => l.startsWith(`${form} `));
    assert.ok(i >= 0, `a grammar line for \`${form}\``);
    // A form may continue on indented lines that start with `[`.
    let text = lines[i] as string;
    for (let j = i + 1; j < lines.length && (lines[j] as string).startsWith("["); j++) {
      text += ` ${lines[j]}`;
    }
    const documented = [...text.matchAll(/(\w+)=/g)].map((m) => m[1] as string).sort();
    const accepted = quoted((await helpOf(`${probe} bogus=1\n`)).split("\n")[0] ?? "")
      .filter((w) => w !== form && w !== form.split(" ")[0]).sort();
    assert.deepEqual(documented, accepted, `\`${form}\` options`);
  }
  const words = (prefix: string) =>
    lines.filter((l) => l.startsWith(prefix)).flatMap((l) =>
      l.slice(prefix.length).split(" | ").flatMap((alt) =>
        (alt.trim().replace(/^inject /, "").split(/\s/)[0] ?? "").split("|")
      )
    );
  const subjects = (await helpOf("show bogus\n")).replace(/^.*`show ([^`]*)`.*$/s, "$1")
    .replace(/\[[^\]]*\]/g, "").split("|").map((s) => s.split(" ")[0]);
  assert.deepEqual(new Set(words("show ")), new Set(subjects), "show subjects");
  const faults = quoted(await helpOf("inject bogus\n"));
  assert.deepEqual(new Set(words("inject ")), new Set(faults), "inject faults");
  const variants = quoted(await helpOf("inject bad-chain vm1.eth0 tx0 bogus\n"));
  const bad = lines.find((l) => l.startsWith("inject bad-chain")) ?? "";
  assert.deepEqual(
    bad.split(/\s+/)[4]?.split("|").sort(),
    [...variants].sort(),
    "bad-chain variants",
  );
});

Deno.test("the quantity table of the README is what parseQuantity() reads", async () => {
  const { parseQuantity } = await import("../lang/quantity.ts");
  const { literalWord } = await import("../lang/word.ts");
  const q = (text: string) =>
    parseQuantity(literalWord(text, { source: "readme", start: 0, end: text.length }));
  const readme = read("README.md");
  const at = readme.indexOf("### Quantities");
  const section = readme.slice(at, readme.indexOf("\n### ", at + 1));
  const kinds: Readonly<Record<string, string>> = {
    count: "count",
    bytes: "bytes",
    time: "time",
    "packet rate": "packet-rate",
    "bit rate": "bit-rate",
    line: "line",
  };
  const rows = [...section.matchAll(/^\| ([a-z ]+?) +\| (.+?) +\| (.+?) +\|$/gm)]
    .filter((m) => m[1] !== "kind");
  assert.deepEqual(rows.map((m) => kinds[m[1] as string]).sort(), Object.values(kinds).sort());
  for (const [, kindName, units, examples] of rows) {
    const kind = kinds[kindName as string];
    for (const u of quoted(units as string).filter((t) => !t.includes("…"))) {
      const text = kind === "count" || kind === "line" ? u : `2${u}`;
      assert.equal(q(text).quantity?.kind, kind, `${text} in the ${kindName} row`);
    }
    for (const e of quoted(examples as string)) {
      const value = e.split(/[= ]/).pop() as string;
      const r = q(value);
      const expected = kind === "count" || (kind === "bytes" && /^\d+$/.test(value))
        ? "count"
        : kind;
      assert.equal(r.quantity?.kind, expected, `${e} in the ${kindName} row`);
    }
  }
  for (const ambiguous of ["2KB", "2MB"]) assert.equal(q(ambiguous).diagnostic?.code, "E0022");
});

for (
  const e of [...Deno.readDirSync(new URL("docs/", ROOT))].filter((e) => e.name.endsWith(".vdpa"))
) {
  const path = `docs/${e.name}`;
  const session = new Session({ stdout: () => {}, readFile: () => ({ error: "not here" }) });
  const outcome = await session.runText(read(path), path);
  const errors = session.diagnostics.items.filter((d) => d.severity === "error");
  const waits = errors.find((d) => NOT_LANDED.has(d.code));
  Deno.test({
    name: `${path} runs and its expectations hold` +
      (waits ? ` (waits for: ${waits.message})` : ""),
    ignore: waits !== undefined,
    fn: () => {
      assert.deepEqual(errors.map((d) => `${d.code} ${d.message}`), [], path);
      assert.equal(outcome.status, "ok");
      assert.ok(session.lab.traffics.length > 0, "the script sends traffic");
    },
  });
}

Deno.test("the README's every-statement script runs, writes its files, and its expectations hold", async () => {
  const readme = read("README.md");
  const at = readme.indexOf("This script uses every statement");
  assert.ok(at >= 0, "the every-statement script is introduced");
  const script = blocks(readme.slice(at)).find((b) => b.info === "vdpa");
  assert.ok(script, "a vdpa block follows");
  const { LAB_KEYWORDS } = await import("../lang/commands/mod.ts");
  const { parse } = await import("../lang/parse.ts");
  const used = new Set<string>();
  const { walkStatements } = await import("../lang/ast.ts");
  walkStatements(parse(script.text, { source: "every.vdpa" }).program.statements, (s) => {
    if (s.kind === "command") {
      const first = s.words[0]?.parts[0];
      if (first?.kind === "text") used.add(first.text);
    }
  });
  assert.deepEqual(LAB_KEYWORDS.filter((k) => !used.has(k)), [], "every lab statement is used");
  const written = new Map<string, Uint8Array | string>();
  const session = new Session({
    stdout: () => {},
    writeFile: (p, d) => {
      written.set(p, d);
      return Promise.resolve({ ok: true });
    },
  });
  const r = await session.runText(script.text, "every.vdpa");
  const errors = session.diagnostics.items.filter((d) => d.severity === "error");
  assert.deepEqual(errors.map((d) => `${d.code} ${d.message}`), []);
  assert.equal(r.status, "ok");
  assert.deepEqual([...written.keys()].sort(), ["run.json", "tap0.pcap", "topo.dot"]);
});
