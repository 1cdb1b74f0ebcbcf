import assert from "node:assert/strict";
import { Session } from "../session.ts";
import { USAGE_TEXTS } from "./usage.ts";

async function run(line: string): Promise<{ out: string; codes: string[] }> {
  const out: string[] = [];
  const s = new Session({ stdout: (t) => out.push(t) });
  await s.runText(line + "\n", "help.vdpa");
  return { out: out.join(""), codes: s.diagnostics.items.map((d) => d.code) };
}

Deno.test("each help request prints its tool's usage text", async (t) => {
  const cases: [string, string, string][] = [
    ["vdpa help", "vdpa", "Usage: vdpa [ OPTIONS ] OBJECT { COMMAND | help }\n"],
    ["vdpa mgmtdev help", "vdpa mgmtdev", "Usage: vdpa mgmtdev show [ DEV ]\n"],
    ["vdpa dev help", "vdpa dev", "Usage: vdpa dev show [ DEV ]\n"],
    ["vdpa dev config help", "vdpa dev config", "Usage: vdpa dev config show [ DEV ]\n"],
    [
      "vdpa dev vstats help",
      "vdpa dev vstats",
      "Usage: vdpa dev vstats show DEV [qidx QUEUE_INDEX]\n",
    ],
    ["ip help", "ip", "Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n"],
    ["ip link help", "ip link", "Usage: ip link add [link DEV | parentdev NAME] [ name ] NAME\n"],
    [
      "ip tuntap help",
      "ip tuntap",
      "Usage: ip tuntap { add | del | show | list | lst | help } [ dev PHYS_DEV ]\n",
    ],
    [
      "ip address help",
      "ip address",
      "Usage: ip address {add|change|replace} IFADDR dev IFNAME [ LIFETIME ]\n",
    ],
    ["modprobe --help", "modprobe", "Usage:\n\tmodprobe [options] [-i] [-b] modulename\n"],
    ["rmmod --help", "rmmod", "Usage:\n\trmmod [options] modulename ...\n"],
  ];
  for (const [line, topic, first] of cases) {
    await t.step(line, async () => {
      const r = await run(line);
      assert.deepEqual(r.codes, []);
      assert.equal(r.out, USAGE_TEXTS[topic]?.usage);
      assert.ok(r.out.startsWith(first), r.out);
    });
  }
});

Deno.test("version requests print the version line", async () => {
  assert.equal((await run("vdpa -V")).out, "vdpa utility, iproute2-6.12.0\n");
  assert.equal((await run("ip -V")).out, "ip utility, iproute2-6.12.0, libbpf 1.5.0\n");
  assert.equal((await run("modprobe -V")).out.split("\n")[0], "kmod version 33");
  assert.equal((await run("rmmod --version")).out.split("\n")[0], "kmod version 33");
});

Deno.test("a tool whose usage the lab does not carry is an error, not an invented text", async () => {
  const r = await run("qemu-system-x86_64 -help");
  assert.deepEqual(r.codes, ["E0321"]);
  assert.equal(r.out, "");
});

Deno.test("every usage text ends in a newline and has no trailing blank line", () => {
  for (const [topic, t] of Object.entries(USAGE_TEXTS)) {
    for (const text of [t.usage, t.version]) {
      if (text === undefined) continue;
      assert.ok(text.endsWith("\n") && !text.endsWith("\n\n"), topic);
    }
  }
});
