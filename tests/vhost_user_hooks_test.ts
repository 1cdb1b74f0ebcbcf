/**
 * The VM ↔ backend hooks as a vhost-user netdev with a polling back-end sees them, through
 * whole scripts: which RAM blocks have an fd, the guest's feature write, QEMU waiting for its
 * back-end before the guest boots, the control queue's MQ command, buffers published without
 * a kick, and the link going down and up with the connection.
 */

import assert from "node:assert/strict";
import { Session } from "../stdlib/session.ts";
import type { VhostUserNetBackend } from "../runtime/backends/vhost_user/net_backend.ts";

const printed: string[] = [];

async function step(s: Session, text: string): Promise<{ out: string; codes: string[] }> {
  const before = s.diagnostics.length;
  await s.runText(text + "\n", `<step ${before}>`);
  return {
    out: printed.splice(0).join(""),
    codes: s.diagnostics.items.slice(before).map((d) => d.code),
  };
}

function session(): Session {
  printed.length = 0;
  return new Session({ stdout: (t) => printed.push(t) });
}

const errors = (codes: string[]) => codes.filter((c) => c.startsWith("E"));

const TESTPMD = "dpdk-testpmd -l 2-3 --no-pci --vdev net_vhost0,iface=/tmp/vu0";

/** QEMU with one vhost-user NIC on `chardev`, its RAM from `mem` (an -object and -numa). */
function qemu(chardev: string, o: { mem?: string; device?: string } = {}): string {
  const mem = o.mem ??
    "-object memory-backend-file,id=mem0,size=1G,mem-path=/dev/hugepages,share=on " +
      "-numa node,memdev=mem0";
  return `qemu-system-x86_64 -name vm1 -enable-kvm -smp 2 -m 1G ${mem} ` +
    `-chardev socket,id=char0,${chardev} -netdev vhost-user,id=net0,chardev=char0 ` +
    `-device virtio-net-pci,netdev=net0,mac=52:54:00:00:00:01${o.device ?? ""}`;
}

function backendOf(s: Session): VhostUserNetBackend {
  const b = s.lab.vm("vm1")?.backends.get("net0");
  assert.ok(b !== undefined && b.type === "vhost-user", "vm1 has its vhost-user netdev");
  return b as VhostUserNetBackend;
}

Deno.test("RAM blocks: memory-backend-ram has no fd to send, file and memfd have one", async (t) => {
  await t.step("memory-backend-ram,share=on: QEMU's memory-map error at start", async () => {
    const s = session();
    await step(s, `${TESTPMD} -- -a`);
    const r = await step(
      s,
      qemu("path=/tmp/vu0", {
        mem: "-object memory-backend-ram,id=mem0,size=1G,share=on -numa node,memdev=mem0",
      }),
    );
    const d = s.diagnostics.items.find((x) => x.code === "E0410");
    assert.ok(d !== undefined, r.codes.join(","));
    assert.match(d.message, /memory-backend-ram has no fd/);
    assert.ok(d.notes.some((n) => n.includes("Failed initializing vhost-user memory map")));
  });
  for (
    const mem of [
      "-object memory-backend-memfd,id=mem0,size=1G,share=on -numa node,memdev=mem0",
      "-object memory-backend-file,id=mem0,size=1G,mem-path=/dev/shm/vm1,share=on " +
      "-numa node,memdev=mem0",
    ]
  ) {
    await t.step(mem.split(",")[0] as string, async () => {
      const s = session();
      await step(s, `${TESTPMD} -- -a`);
      assert.deepEqual(errors((await step(s, qemu("path=/tmp/vu0", { mem }))).codes), []);
      const table = backendOf(s).messages.find((m) =>
        m.name === "VHOST_USER_SET_MEM_TABLE" && m.dir === "request"
      );
      assert.equal(table?.fds, 1, "one region, one fd");
    });
  }
  await t.step("a ram block beside a file block: only the file block is sent", async () => {
    const s = session();
    await step(s, `${TESTPMD} -- -a`);
    const mem = "-object memory-backend-ram,id=m0,size=512M -numa node,memdev=m0 " +
      "-object memory-backend-memfd,id=m1,size=512M,share=on -numa node,memdev=m1";
    assert.deepEqual(errors((await step(s, qemu("path=/tmp/vu0", { mem }))).codes), []);
    const table = backendOf(s).messages.find((m) =>
      m.name === "VHOST_USER_SET_MEM_TABLE" && m.dir === "request"
    );
    assert.equal(table?.fds, 1);
    const shown = (await step(s, "show vhost vm1.eth0")).out;
    assert.match(shown, /mem m0: .* no fd \(not sent\)/);
    assert.match(shown, /mem m1: .* fd, share=on/);
  });
});
