/**
 * No host side effects: the CLI runs a script that uses every command family with Deno
 * permission to read the script and the code, nothing else (no write, net, run, env, ffi,
 * sys); `capture`/`export` without write permission fail with a located diagnostic, and
 * with `--allow-write` for exactly those files they write them. A static scan keeps the
 * simulator and the language free of host APIs, and the CLI free of processes and sockets.
 */

import assert from "node:assert/strict";

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const MAIN = `${REPO}/main.ts`;

interface Out {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `deno run --no-prompt PERMS main.ts ARGS…` in `cwd`, with a clean environment. */
async function cli(perms: readonly string[], args: readonly string[], cwd: string): Promise<Out> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...perms, MAIN, ...args],
    cwd,
    clearEnv: true,
    env: {
      NO_COLOR: "1",
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** A temporary directory holding the every-command script and its include. */
async function scriptDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "vdpa-lab-perm-" });
  for (const f of ["every_command.vdpa", "every_command_host.vdpa"]) {
    await Deno.copyFile(`${REPO}/tests/testdata/${f}`, `${dir}/${f}`);
  }
  return dir;
}

Deno.test("the CLI runs a script using every command family with read permission only", async () => {
  const dir = await scriptDir();
  try {
    // Run from elsewhere: the include resolves relative to the including file, not the cwd.
    const r = await cli(
      [`--allow-read=${dir},${REPO}`],
      ["run", `${dir}/every_command.vdpa`],
      REPO,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /^error/m, "warnings only");
    assert.doesNotMatch(r.stderr + r.stdout, /NotCapable|PermissionDenied|Requires \w+ access/);
    // Each family printed what it prints.
    for (
      const mark of [
        /^Module +Size +Used by$/m, // lsmod
        /^vdpasim_net:/m, // vdpa mgmtdev show
        /^vdpa0: type network mgmtdev vdpasim_net/m, // vdpa dev show
        /^ens1f0 +UP/m, // ip -br link show
        /^\/dev\/vhost-vdpa-0$/m, // ls /dev/vhost-vdpa-*
        /Bridge obr0/, // ovs-vsctl show
        /^inject link-down vm1\.eth0: at 2000000 ns$/m,
        /^t1: vm1\.eth0 -> wire 64 B: sent 2000/m, // run
        // testpmd; the back-end's 0.5 ms away takes the guest's carrier down (qmp_set_link)
        /^t3: vm4\.eth0 -> vm4\.eth0 64 B: sent 1000, delivered 950, dropped 50 \(link_down 50\)/m,
        /^t4: vm6\.eth0 -> vm6\.eth0 64 B: sent 1000, delivered 700, dropped 300 \(iommu_fault 1/m,
        /^t5: wire -> vm7\.eth0 64 B: sent 1000, delivered 700, dropped 300 \(iommu_fault 200/m,
        /^3 packets transmitted/m, // ping
        /^inject: faults, as real hardware and software produce them/m, // help inject
        /^Usage: vdpa dev/m, // usage
      ]
    ) assert.match(r.stdout, mark);
    // check mode reads the same files and runs nothing.
    const c = await cli([`--allow-read=${dir},${REPO}`], ["check", "every_command.vdpa"], dir);
    assert.equal(c.code, 0, c.stderr);
    assert.doesNotMatch(c.stdout, /sent 2000/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an include outside the readable paths is a located error, not a crash", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vdpa-lab-perm-" });
  try {
    await Deno.writeTextFile(`${dir}/lab.vdpa`, 'host cpu ghz=3.0\ninclude "/etc/hostname"\n');
    const r = await cli([`--allow-read=${dir},${REPO}`], ["run", "lab.vdpa"], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error\[E0603\]: cannot read `\/etc\/hostname`/m);
    assert.match(r.stderr, /--> lab\.vdpa:2:9/);
    assert.doesNotMatch(r.stderr, /Uncaught|at file:\/\//, "no stack trace");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("capture and export need write permission for exactly their files", async () => {
  const dir = await scriptDir();
  try {
    const script = 'include "every_command_host.vdpa"\n' +
      "qemu-system-x86_64 -name vm1 -enable-kvm -smp 2 -m 1G " +
      "-netdev tap,id=n0,ifname=tap0,script=no,vhost=on -device virtio-net-pci,netdev=n0\n" +
      "traffic t1 from vm1.eth0 to wire size=64 count=10 rate=100Kpps\n" +
      "capture tap0 to out.pcap count=5\nrun\nexport graph to topo.dot\n" +
      "export trace to run.json\n";
    await Deno.writeTextFile(`${dir}/cap.vdpa`, script);
    const ro = await cli([`--allow-read=${dir},${REPO}`], ["run", "cap.vdpa"], dir);
    assert.equal(ro.code, 1);
    assert.match(
      ro.stderr,
      /^error\[E0501\]: cannot write `out\.pcap`: Requires write access to "[^"]*out\.pcap"/m,
    );
    assert.match(ro.stderr, /--> cap\.vdpa:4:17/, "at the file name of the capture");
    for (const f of ["out.pcap", "topo.dot", "run.json"]) {
      await assert.rejects(Deno.stat(`${dir}/${f}`), Deno.errors.NotFound, `${f} not written`);
    }
    const files = ["out.pcap", "topo.dot", "run.json"].map((f) => `${dir}/${f}`);
    const rw = await cli(
      [`--allow-read=${dir},${REPO}`, `--allow-write=${files.join(",")}`],
      ["run", "cap.vdpa"],
      dir,
    );
    assert.equal(rw.code, 0, rw.stderr);
    const pcap = await Deno.readFile(`${dir}/out.pcap`);
    assert.deepEqual([...pcap.subarray(0, 4)], [0x4d, 0x3c, 0xb2, 0xa1], "nanosecond pcap magic");
    assert.match(await Deno.readTextFile(`${dir}/topo.dot`), /^digraph/);
    assert.ok(Array.isArray(JSON.parse(await Deno.readTextFile(`${dir}/run.json`)).traceEvents));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Every .ts file under `dir` (tests, their `test_*.ts` helpers and test data excluded). */
async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${REPO}/${dir}`)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) {
      if (e.name !== "testdata" && e.name !== "__snapshots__") out.push(...await sources(path));
    } else if (
      e.name.endsWith(".ts") && !e.name.endsWith("_test.ts") && !e.name.startsWith("test_")
    ) out.push(path);
  }
  return out.sort();
}

/** Lines of `files` matching `re`, as `path:line: text`. */
async function offending(files: readonly string[], re: RegExp): Promise<string[]> {
  const hits: string[] = [];
  for (const f of files) {
    const lines = (await Deno.readTextFile(`${REPO}/${f}`)).split("\n");
    lines.forEach((l, i) => {
      if (re.test(l)) hits.push(`${f}:${i + 1}: ${l.trim()}`);
    });
  }
  return hits;
}

Deno.test("static scan: the simulator and the language use no host API; the CLI spawns nothing and opens no socket", async () => {
  const core = [
    ...await sources("runtime"),
    ...await sources("stdlib"),
    ...await sources("lang"),
  ];
  assert.ok(core.length > 100, `${core.length} files scanned`);
  // All host I/O is injected by the CLI: not even a file read happens below it.
  assert.deepEqual(
    await offending(
      core,
      /\bDeno\.|\bfetch\(|WebSocket|XMLHttpRequest|\bnew Worker\b|"node:|'node:/,
    ),
    [],
  );
  // Imports stay inside the repository (no npm:, jsr:, http: at run time).
  assert.deepEqual(await offending(core, /from\s+["'](?!\.{1,2}\/)/), []);
  const cli = [...await sources("cli"), "main.ts", "mod.ts"];
  assert.deepEqual(
    await offending(
      cli,
      /Deno\.(Command|run|connect|connectTls|listen|listenTls|listenDatagram|serve|dlopen|kill|openKv|startTls)\b|\bfetch\(|WebSocket|node:(child_process|net|http|https|dgram|tls)/,
    ),
    [],
  );
});

Deno.test("deno.json tasks ask for the least permissions: the demo reads `.` only; nothing but tests and benchmarks may run processes", async () => {
  const tasks: Record<string, string> =
    JSON.parse(await Deno.readTextFile(`${REPO}/deno.json`)).tasks;
  assert.match(tasks.demo ?? "", /^deno run --allow-read=\. main\.ts run /);
  assert.doesNotMatch(tasks.demo ?? "", /--allow-(?!read=\.)|\s-A\b/);
  for (const [name, cmd] of Object.entries(tasks)) {
    if (name === "test" || name === "bench") continue;
    assert.doesNotMatch(cmd, /--allow-(run|net|ffi|sys|all)|\s-A\b/, `task ${name}`);
  }
});
