/**
 * What the lab writes to files is readable by the real tools: a `capture` is a pcap that
 * tshark reads back with the right frame count, sizes and UDP payloads; `export trace` is
 * Chrome trace-event JSON with one named track per CPU context; `export graph` is DOT or
 * Mermaid of the I/O graph.
 */

import assert from "node:assert/strict";
import { Session } from "../stdlib/session.ts";
import { PAYLOAD_MAGIC } from "../runtime/traffic/frame.ts";

const SETUP = "host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=25Gbps\n" +
  "modprobe tun\nmodprobe bridge\nmodprobe vhost_net\n" +
  "ip link add name br0 type bridge\nip link set dev ens1f0 master br0\n" +
  "ip link set dev br0 up\nip link set dev ens1f0 up\n" +
  "ip tuntap add dev tap0 mode tap vnet_hdr\nip link set dev tap0 master br0\n" +
  "ip link set dev tap0 up\n" +
  "qemu-system-x86_64 -name vm1 -m 1G -netdev tap,id=n0,ifname=tap0,script=no,vhost=on " +
  "-device virtio-net-pci,netdev=n0\n";

async function runInDir(script: string, dir: string): Promise<Session> {
  const session = new Session({
    mode: "run",
    stdout: () => {},
    writeFile: async (path, data) => {
      const p = `${dir}/${path}`;
      if (typeof data === "string") await Deno.writeTextFile(p, data);
      else await Deno.writeFile(p, data);
      return { ok: true };
    },
  });
  const r = await session.runText(script, "test.vdpa");
  const errors = session.diagnostics.items.filter((d) => d.severity === "error");
  assert.deepEqual(errors.map((d) => `${d.code} ${d.message}`), []);
  assert.equal(r.status, "ok");
  return session;
}

async function tshark(args: string[]): Promise<string> {
  const out = await new Deno.Command("tshark", { args, stdout: "piped", stderr: "piped" }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test("tshark reads a capture of tap0: every frame, its size and its UDP payload", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await runInDir(
      SETUP + "capture tap0 to tap0.pcap\n" +
        "traffic t1 from vm1.eth0 to wire size=128 count=40 rate=1Mpps burst=4\nrun\n",
      dir,
    );
    const rows = (await tshark([
      "-r",
      `${dir}/tap0.pcap`,
      "-T",
      "fields",
      "-e",
      "frame.len",
      "-e",
      "udp.srcport",
      "-e",
      "udp.payload",
    ])).trim().split("\n");
    assert.equal(rows.length, 40, "one record per frame that crossed tap0");
    const magic = PAYLOAD_MAGIC.toString(16).padStart(8, "0");
    rows.forEach((row, i) => {
      const [len, port, payload] = row.split("\t");
      assert.equal(len, "124", "128-byte frames without their FCS");
      assert.equal(port, "1024");
      // The payload starts with the marker, flow id 1 and the sequence number.
      assert.ok(payload?.startsWith(`${magic}00000001`), payload);
      assert.equal(parseInt(payload?.slice(16, 32) ?? "", 16), i + 1, "in order, from 1");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("capture count= keeps the first N frames of a guest interface", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await runInDir(
      SETUP + "capture vm1.eth0 to g.pcap count=5\n" +
        "traffic t1 from wire to vm1.eth0 size=64 count=20 rate=100Kpps\nrun\n",
      dir,
    );
    const n = (await tshark(["-r", `${dir}/g.pcap`, "-T", "fields", "-e", "frame.number"]))
      .trim().split("\n").length;
    assert.equal(n, 5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("export trace writes Chrome trace-event JSON with a named track per context", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const s = await runInDir(
      SETUP + "traffic t1 from vm1.eth0 to wire size=64 count=10\nrun\nexport trace to t.json\n",
      dir,
    );
    const doc = JSON.parse(await Deno.readTextFile(`${dir}/t.json`));
    const events: Record<string, unknown>[] = Array.isArray(doc) ? doc : doc.traceEvents;
    assert.ok(Array.isArray(events) && events.length > 0);
    for (const e of events) {
      assert.equal(typeof e.ph, "string");
      assert.equal(typeof e.pid, "number");
      if (e.ph !== "M") {
        assert.equal(typeof e.ts, "number");
        assert.equal(typeof e.tid, "number");
      }
    }
    const threads = events.filter((e) => e.ph === "M" && e.name === "thread_name")
      .map((e) => (e.args as { name: string }).name);
    for (const c of ["vm1:vcpu0", "vhost-4100", "wire:ens1f0:tx"]) {
      assert.ok(threads.includes(c), `a track named ${c}`);
    }
    const slices = events.filter((e) => e.ph === "X");
    assert.ok(slices.some((e) => e.name === "vmexit"), "hops are slices");
    assert.equal(
      slices.filter((e) => e.name === "deliver").length,
      Math.min(10, s.lab.recorder.samplePackets),
      "one deliver per sampled packet",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("export graph writes DOT and Mermaid of the I/O graph", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await runInDir(SETUP + "export graph to g.dot\nexport graph to g.mmd\n", dir);
    const dot = await Deno.readTextFile(`${dir}/g.dot`);
    assert.match(dot, /^digraph vdpa_lab \{/);
    assert.match(dot, /"vm1\.eth0" -> "vm1\.eth0\/vqs"/);
    assert.match(
      dot,
      /"vm1\.eth0\/vqs" -> "vm1\/n0" \[label="kick: ioeventfd, irq: irqfd → posted"\]/,
    );
    assert.match(dot, /"tap0" -> "br0"/);
    const mmd = await Deno.readTextFile(`${dir}/g.mmd`);
    assert.match(mmd, /^flowchart TB/);
    assert.match(mmd, /vhost-net: worker vhost-4100/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
