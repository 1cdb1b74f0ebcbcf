/**
 * Absurd sizes and counts either work within bounded memory and time or fail with a located
 * error carrying the real tool's text — never an out-of-memory crash or a run that does not
 * end. Times and memory are measured and bounded generously (the machine is shared); the
 * figures docs/guarantees.md states come from these scripts.
 */

import assert from "node:assert/strict";
import { Session } from "../stdlib/session.ts";
import { memoryFileReader } from "../lang/interpreter.ts";
import type { Diagnostic } from "../lang/diagnostic.ts";
import { renderDiagnostics } from "../lang/render.ts";
import { MAX_RUN_PACKETS, MAX_VMS } from "../runtime/lab.ts";
import { GUEST_PHYS_BITS } from "../runtime/qemu/vm.ts";

interface Ran {
  readonly out: string;
  readonly session: Session;
  readonly errors: Diagnostic[];
  readonly ms: number;
}

async function run(
  script: string,
  options: { mode?: "run" | "check"; files?: Record<string, string> } = {},
): Promise<Ran> {
  let out = "";
  const session = new Session({
    mode: options.mode ?? "run",
    stdout: (t) => (out += t),
    ...(options.files ? { readFile: memoryFileReader(options.files) } : {}),
  });
  const t0 = performance.now();
  await session.runText(script, "limits.vdpa");
  const ms = performance.now() - t0;
  const errors = session.diagnostics.items.filter((d) => d.severity === "error");
  return { out, session, errors, ms };
}

/** The source text a diagnostic's primary label covers. */
function under(r: Ran, d: Diagnostic | undefined): string {
  const span = d?.labels[0]?.span;
  assert.ok(span !== undefined, "the diagnostic is located");
  return r.session.sources.get(span.source)?.text.slice(span.start, span.end) ?? "";
}

function codes(r: Ran): string[] {
  return r.errors.map((d) => d.code);
}

const HOST = "host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=25Gbps\n" +
  "modprobe tun\nmodprobe bridge\nmodprobe vhost_net\n" +
  "ip link add name br0 type bridge\nip link set dev ens1f0 master br0\n" +
  "ip link set dev br0 up\nip link set dev ens1f0 up\n";

function tapVm(mem: string, extra = ""): string {
  return "ip tuntap add dev tap0 mode tap vnet_hdr\nip link set dev tap0 master br0\n" +
    "ip link set dev tap0 up\n" +
    `qemu-system-x86_64 -name vm1 -enable-kvm -cpu host -smp 2 -m ${mem} ` +
    `-netdev tap,id=n0,ifname=tap0,script=no,vhost=on${extra} -device virtio-net-pci,netdev=n0\n`;
}

Deno.test("-m 1T is sparse guest memory: the VM boots and forwards traffic with a few chunks allocated", async () => {
  const r = await run(
    HOST + tapVm("1T") + "traffic t1 from vm1.eth0 to wire size=64 count=1000 rate=1Mpps\nrun\n",
  );
  assert.deepEqual(codes(r), []);
  const vm = r.session.lab.vm("vm1");
  assert.ok(vm !== undefined);
  const ram = vm.mem.regions().reduce((n, x) => n + x.size, 0);
  assert.equal(ram, 2 ** 40, "1 TiB of guest RAM laid out");
  // The rings, one TX buffer area and the receive buffers that were used: under 4 MiB.
  assert.ok(vm.mem.allocatedBytes < 4 * 2 ** 20, `${vm.mem.allocatedBytes} bytes allocated`);
  assert.equal(r.session.lab.metrics.summary("t1").delivered, 1000);
});

Deno.test("-m beyond the guest's phys-bits is QEMU's 'phys-bits too low' at -m; beyond 2^64 the size does not parse", async () => {
  for (
    const [size, limit] of [
      ["64T", "0x40087fffffff"],
      ["1E", "0x1000000880000000"],
    ] as const
  ) {
    const r = await run(HOST + tapVm(size));
    assert.deepEqual(codes(r), ["E0406"], size);
    const d = r.errors[0];
    assert.equal(under(r, d), `-m ${size}`);
    assert.deepEqual(d?.notes, [
      `QEMU says: qemu-system-x86_64: Address space limit 0x${
        (2 ** GUEST_PHYS_BITS - 1).toString(16)
      } < ${limit} phys-bits too low (${GUEST_PHYS_BITS})`,
    ]);
    assert.equal(r.session.lab.vms.length, 0, "QEMU exits");
  }
  const r = await run(HOST + tapVm("16E"));
  assert.deepEqual(codes(r), ["E0226"]);
  assert.equal(under(r, r.errors[0]), "16E");
  assert.match(r.errors[0]?.notes.join("\n") ?? "", /non-negative number below 2\^64/);
});

Deno.test("count=1e12 streams: `run 1ms` finishes in bounded memory; a plain run is refused with a duration that fits", async () => {
  const r = await run(
    HOST + tapVm("1T") +
      "traffic t1 from vm1.eth0 to wire size=64 count=1e12 rate=line burst=32\nrun 1ms\n",
  );
  assert.deepEqual(codes(r), []);
  const heap0 = Deno.memoryUsage().heapUsed;
  const t0 = performance.now();
  await r.session.runText("run 1ms\n", "more.vdpa");
  const grew = Deno.memoryUsage().heapUsed - heap0;
  assert.ok(performance.now() - t0 < 20_000, "one more virtual millisecond in seconds");
  assert.ok(grew < 64 * 2 ** 20, `${grew} bytes of heap for 1 ms of line rate`);
  const s = r.session.lab.metrics.summary("t1");
  // 25 Gbit/s of 64-byte frames: 37.2 Mpps, so about 74,400 frames handed over in 2 ms.
  assert.ok(s.sent > 70_000 && s.sent < 80_000, `${s.sent}`);
  assert.equal(s.sent, s.delivered + s.dropped + s.in_flight);
  await r.session.runText("run\n", "plain.vdpa");
  const d = r.session.diagnostics.items.at(-1);
  assert.equal(d?.code, "E0513");
  assert.match(d?.message ?? "", /^this run would send 999,999,9\d\d,\d{3} packets$/);
  assert.equal(under({ ...r, errors: [] }, d), "run");
  assert.deepEqual(d?.notes, [
    `a script's run sends at most ${
      MAX_RUN_PACKETS.toLocaleString("en-US")
    } packets (about two minutes of wall time); in the REPL, Ctrl-C stops a run instead`,
  ]);
  assert.match(d?.help[0] ?? "", /^run for a time: `run 268\.8ms` sends about 10,000,000$/);
  // A duration longer than the budget is refused the same way, at the duration.
  await r.session.runText("run 1s\n", "long.vdpa");
  const long = r.session.diagnostics.items.at(-1);
  assert.equal(long?.code, "E0513");
  assert.equal(under({ ...r, errors: [] }, long), "1s");
  assert.equal(r.session.lab.metrics.summary("t1").sent, s.sent, "a refused run sends nothing");
});

Deno.test("in an interruptible session (the REPL) a plain run of count=1e12 starts, and the interrupt stops it with the books kept", async () => {
  let stop = false;
  const session = new Session({ stdout: () => {}, interrupted: () => stop });
  await session.runText(
    HOST + tapVm("1G") +
      "traffic t1 from vm1.eth0 to wire size=64 count=1e12 rate=1Mpps burst=32\n",
    "repl.vdpa",
  );
  // Ctrl-C after about 5 ms of virtual time.
  session.lab.sched.at(5_000_000, () => (stop = true));
  await session.runText("run\n", "<repl:2>");
  assert.equal(session.diagnostics.items.filter((d) => d.code === "E0513").length, 0);
  const s = session.lab.metrics.summary("t1");
  assert.ok(s.sent > 4000 && s.sent < 1e6, `${s.sent} sent before the interrupt`);
  assert.equal(s.sent, s.delivered + s.dropped + s.in_flight);
});

Deno.test("queues=65536: a tap takes at most 256 queues (E2BIG), vhost-user and vhost-vdpa at most 1024, virtio-net-pci at most 510 pairs", async () => {
  const tap = await run(
    HOST + "ip tuntap add dev tap0 mode tap vnet_hdr multi_queue\n" +
      "qemu-system-x86_64 -name vm1 -enable-kvm -smp 2 -m 1G " +
      "-netdev tap,id=n0,ifname=tap0,script=no,vhost=on,queues=65536 " +
      "-device virtio-net-pci,netdev=n0,mq=on\n",
  );
  assert.deepEqual(codes(tap), ["E0402"]);
  assert.equal(under(tap, tap.errors[0]), "65536");
  assert.match(
    tap.errors[0]?.notes[0] ?? "",
    /could not configure \/dev\/net\/tun \(tap0\): Argument list too long$/,
  );
  assert.ok(tap.ms < 10_000, `${tap.ms} ms: QEMU stops at the 257th queue`);
  assert.equal(tap.session.lab.host.net.get("tap0")?.queues.length, 0, "every fd closed");

  const vu = (queues: number, testpmdQueues: number) =>
    `dpdk-testpmd -l 2-3 --no-pci --vdev net_vhost0,iface=/tmp/vu0,queues=${testpmdQueues} -- -a\n` +
    "qemu-system-x86_64 -name vm1 -enable-kvm -smp 2 -m 1G " +
    "-object memory-backend-file,id=mem0,size=1G,mem-path=/dev/hugepages,share=on " +
    "-numa node,memdev=mem0 -chardev socket,id=char0,path=/tmp/vu0 " +
    `-netdev vhost-user,id=net0,chardev=char0,queues=${queues} ` +
    "-device virtio-net-pci,netdev=net0,mq=on\n";
  const vdpa = await run(
    "modprobe vdpa\nmodprobe vhost_vdpa\nmodprobe vdpa_sim_net\n" +
      "vdpa dev add name vdpa0 mgmtdev vdpasim_net\n" +
      "qemu-system-x86_64 -name vm1 -machine q35,accel=kvm -cpu host -smp 2 -m 4G " +
      "-object memory-backend-memfd,id=mem0,size=4G,share=on -numa node,memdev=mem0 " +
      "-netdev type=vhost-vdpa,vhostdev=/dev/vhost-vdpa-0,id=vdpa0,queues=65536 " +
      "-device virtio-net-pci,netdev=vdpa0,mq=on\n",
  );
  assert.deepEqual(codes(vdpa), ["E0232"]);
  assert.equal(under(vdpa, vdpa.errors[0]), "65536");
  const big = await run(vu(65536, 1));
  assert.deepEqual(codes(big), ["E0232"]);
  assert.match(
    big.errors[0]?.notes.join() ?? "",
    /vhost-user number of queues must be in range \[1, 1024\]/,
  );
  const pairs = await run(vu(1024, 1024));
  assert.deepEqual(codes(pairs), ["E0410"]);
  assert.match(under(pairs, pairs.errors[0]), /^-device virtio-net-pci/);
  assert.deepEqual(pairs.errors[0]?.notes, [
    "QEMU says: qemu-system-x86_64: -device virtio-net-pci,netdev=net0: Invalid number of queue " +
    "pairs (= 1024), must be a positive integer less than 511.",
  ]);
});

Deno.test("10,000 VMs: 4096 start in bounded time and memory, the 4097th qemu line is refused at its -name", async () => {
  const rss0 = Deno.memoryUsage().rss;
  const r = await run(
    "for i in 1..10000 {\n" +
      "  qemu-system-x86_64 -name vm${i} -m 64M -netdev user,id=n0 -device virtio-net-pci,netdev=n0\n" +
      "}\n",
  );
  const rss = Deno.memoryUsage().rss - rss0;
  assert.deepEqual(codes(r), ["E0407"]);
  assert.equal(
    r.errors[0]?.message,
    `\`vm4097\` would be VM 4097: the lab runs at most ${MAX_VMS} VMs`,
  );
  assert.equal(under(r, r.errors[0]), "vm${i}");
  assert.equal(r.session.lab.vms.length, MAX_VMS);
  // Measured on a shared 2-core machine: about 8 s and 600 MB; the bounds leave room.
  assert.ok(r.ms < 60_000, `${Math.round(r.ms)} ms`);
  assert.ok(rss < 1.5 * 2 ** 30, `${Math.round(rss / 2 ** 20)} MiB`);
  const chunks = r.session.lab.vms.reduce((n, vm) => n + vm.mem.allocatedBytes, 0) / MAX_VMS;
  assert.ok(chunks <= 65536, `${chunks} bytes of guest memory per VM: the rings share a chunk`);
});

Deno.test("a 10,000-line script checks in seconds", async () => {
  const lines: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    lines.push(i % 2 === 0 ? `ip link add name br${i} type bridge` : `let x${i} = ${i}`);
  }
  const r = await run(lines.join("\n") + "\n", { mode: "check" });
  assert.deepEqual(codes(r), []);
  assert.equal(r.session.lab.host.net.list().length, 5001, "lo and 5000 bridges");
  assert.ok(r.ms < 30_000, `${Math.round(r.ms)} ms`);
});

Deno.test("a huge loop stops at the iteration cap with E0602 at the loop", async () => {
  const r = await run("let n = 0\nfor i in 1..100000000 {\n  let n = ${i}\n}\n", { mode: "check" });
  assert.deepEqual(codes(r), ["E0602"]);
  assert.match(r.errors[0]?.message ?? "", /too many loop iterations \(the limit is 1,000,000\)/);
  assert.ok(r.ms < 60_000, `${Math.round(r.ms)} ms`);
});

Deno.test("deep includes: 64 nested files work; the 65th is E0608; a cycle among them is E0604", async () => {
  const files: Record<string, string> = {};
  const chain = (n: number) => {
    for (const k of Object.keys(files)) delete files[k];
    for (let i = 0; i < n; i++) {
      files[`inc/a${i}.vdpa`] = i + 1 < n ? `include "a${i + 1}.vdpa"\n` : "let deepest = yes\n";
    }
  };
  chain(64);
  const ok = await run('include "inc/a0.vdpa"\n', { mode: "check", files });
  assert.deepEqual(codes(ok), []);
  assert.equal(ok.session.variables.get("deepest"), "yes");
  chain(10_000);
  const deep = await run('include "inc/a0.vdpa"\n', { mode: "check", files });
  assert.deepEqual(codes(deep), ["E0608"]);
  assert.equal(deep.session.variables.get("deepest"), undefined);
  assert.ok(deep.ms < 30_000, `${Math.round(deep.ms)} ms`);
  chain(40);
  files["inc/a39.vdpa"] = 'include "a20.vdpa"\n';
  const cyc = await run('include "inc/a0.vdpa"\n', { mode: "check", files });
  assert.deepEqual(codes(cyc), ["E0604"]);
  assert.match(
    cyc.errors[0]?.message ?? "",
    /include cycle: `.*a20\.vdpa` is already being included/,
  );
});

Deno.test("a 1 MiB line: check and render show a window around each span", async () => {
  // An error at the start of the line, one at its end, 1 MiB of options in between.
  const line = "qemu-system-x86_64 -m 4Q " + "-name vm1 ".repeat(104_858) + "-smp x\n";
  const r = await run(line, { mode: "check" });
  const t0 = performance.now();
  const text = renderDiagnostics(r.session.diagnostics.items, r.session.sources);
  const renderMs = performance.now() - t0;
  console.log(`check ${Math.round(r.ms)} ms, render ${renderMs.toFixed(1)} ms`);
  assert.deepEqual(codes(r), ["E0226", "E0226"]);
  const sourceRows = text.split("\n").filter((l) => l.startsWith("1 | "));
  assert.equal(sourceRows.length, 2);
  for (const row of sourceRows) assert.ok(row.length < 200, `${row.length} columns`);
  assert.ok(sourceRows[0]?.startsWith("1 | qemu-system-x86_64 -m 4Q -name vm1"));
  assert.ok(sourceRows[1]?.startsWith("1 | ...") && sourceRows[1].endsWith("-name vm1 -smp x"));
  assert.ok(text.length < 4000, `${text.length} characters`);
});

Deno.test("giant words: a value over 1 MiB once expanded is E0607, not a 100 MB string", async () => {
  const w = "x".repeat(600_000);
  const r = await run(`let w = ${w}\nlet v = \${w}\${w}\n`, { mode: "check" });
  assert.deepEqual(codes(r), ["E0607"]);
  assert.equal(r.session.variables.get("v"), undefined);
});
