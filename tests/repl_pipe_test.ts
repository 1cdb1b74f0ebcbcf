/**
 * The REPL with piped input, as a user runs it: `vdpa-lab repl < session.vdpa` in a real
 * process. No prompt and no echo; the same output, diagnostics and exit status as
 * `vdpa-lab run -`; meta commands between statements. Golden text in __snapshots__/.
 */

import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;
const MAIN = `${ROOT}main.ts`;

interface Ran {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `main.ts ARGS` with `stdin` piped in, in `cwd`, with a HOME of its own. */
async function vdpaLab(args: string[], stdin: string, cwd: string): Promise<Ran> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env", MAIN, ...args],
    cwd,
    env: { NO_COLOR: "1", HOME: cwd, XDG_STATE_HOME: `${cwd}/state` },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const out = await child.output();
  const d = new TextDecoder();
  return { status: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

function transcript(r: Ran): string {
  return `exit status ${r.status}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

Deno.test("repl < FILE: a session with meta commands", async (t) => {
  const dir = await Deno.makeTempDir();
  const session = `# a piped REPL session
let n = 2
for i in 1..\${n} {
  let dev = vdpa\${i}
}
.vars
help vdpa | head -n 3
.save saved.vdpa
.reset
.vars
.load saved.vdpa
.vars
`;
  const r = await vdpaLab(["repl"], session, dir);
  await t.step("output, no prompt, no echo", async () => {
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /vdpa> /);
    await t.assertSnapshot(transcript(r), { serializer: String });
  });
  await t.step("the saved script", async () => {
    await t.assertSnapshot(await Deno.readTextFile(`${dir}/saved.vdpa`), { serializer: String });
  });
  await t.step("nothing is written to the history", async () => {
    await assert.rejects(() => Deno.stat(`${dir}/state/vdpa-lab/history`), Deno.errors.NotFound);
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("repl < FILE: an error stops the script, status 1, located in the piped text", async (t) => {
  const dir = await Deno.makeTempDir();
  const r = await vdpaLab(["repl"], "let a = 1\n.vars\n\nhelpp vdpa\nlet b = 2\n.vars\n", dir);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "a = 1\n");
  await t.assertSnapshot(r.stderr, { serializer: String });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("repl < FILE prints what run - prints, byte for byte", async (t) => {
  const dir = await Deno.makeTempDir();
  const scripts: Record<string, string> = {
    "language and help": "let n = 3\nfor i in 1..${n} { help ip | head -n 1 }\n",
    "a syntax error": "help vdpa | head -n 1\nlet = 2\n",
    "an unknown program": "help modprobe | head -n 1\nmodprob vdpa_sim_net\n",
    // Host commands: whatever the lab models of them, both paths must agree.
    "host setup": [
      "modprobe vdpa_sim_net",
      "modprobe vhost_vdpa",
      "vdpa dev add name vdpa0 mgmtdev vdpasim_net",
      "ls /sys/bus/vdpa/devices",
      "lsmod",
      "ip link show",
      "",
    ].join("\n"),
  };
  for (const [name, text] of Object.entries(scripts)) {
    await t.step(name, async () => {
      assert.deepEqual(await vdpaLab(["repl"], text, dir), await vdpaLab(["run", "-"], text, dir));
    });
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("repl FILE < input: the file runs first, then the input", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/setup.vdpa`, "let from_file = 1\n");
  const r = await vdpaLab(["repl", "setup.vdpa"], "let typed = 2\n.vars\n", dir);
  assert.deepEqual(r, { status: 0, stdout: "from_file = 1\ntyped = 2\n", stderr: "" });
  const missing = await vdpaLab(["repl", "missing.vdpa"], "", dir);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /cannot read missing\.vdpa/);
  await Deno.remove(dir, { recursive: true });
});
