/**
 * Removing a VM (and a back-end process) while traffic runs, on every backend the lab has:
 * `kill` ends the process at the current virtual time, its traffic stops, what was inside it
 * is dropped with a reason, the books of every traffic balance when the run ends, and the
 * name and the pid table follow. Also: runs in chunks (Lab.runAsync) fire the same events as
 * one run, and a stopped run resumes where it stopped.
 */

import assert from "node:assert/strict";
import { Session } from "../stdlib/session.ts";

const EXAMPLES = new URL("../examples/", import.meta.url);

/** An example's setup and traffic, without its runs, traces, shows and expects. */
async function setup(name: string): Promise<string> {
  const text = await Deno.readTextFile(new URL(name, EXAMPLES));
  return text.split("\n").filter((l) => !/^(run|trace|show|expect|ping)\b/.test(l)).join("\n");
}

async function session(script: string): Promise<{ s: Session; out: () => string }> {
  let out = "";
  const s = new Session({ stdout: (t) => void (out += t) });
  const r = await s.runText(script, "lab.vdpa");
  assert.equal(r.status, "ok", s.diagnostics.items.map((d) => `${d.code} ${d.message}`).join("\n"));
  return { s, out: () => out };
}

async function ok(s: Session, line: string): Promise<void> {
  const before = s.diagnostics.items.length;
  const r = await s.runText(line, "<repl>");
  const errors = s.diagnostics.items.slice(before).filter((d) => d.severity === "error");
  assert.deepEqual(errors.map((d) => `${d.code} ${d.message}`), [], line);
  assert.equal(r.status, "ok", line);
}

async function fails(s: Session, line: string, code: string): Promise<string> {
  const before = s.diagnostics.items.length;
  const r = await s.runText(line, "<repl>");
  assert.equal(r.status, "failed", line);
  const d = s.diagnostics.items[before];
  assert.equal(d?.code, code, d?.message);
  return d?.message ?? "";
}

/** Every traffic is finished: all it sent was delivered or dropped. */
function balanced(s: Session): void {
  for (const f of s.lab.traffics) {
    const m = s.lab.metrics.summary(f.name);
    assert.equal(m.in_flight, 0, `${f.name} in flight`);
    assert.equal(m.sent, m.delivered + m.dropped, `${f.name} books`);
  }
}

Deno.test("kill a VM mid-run on every backend: its traffic stops and the books balance", async (t) => {
  const cases: [string, string, string][] = [
    ["vhost-net-tap.vdpa", "vm1", "vhost-net"],
    ["qemu-userspace-tap.vdpa", "vm1", "QEMU userspace + tap"],
    ["vhost-user-testpmd.vdpa", "vm1", "vhost-user to testpmd"],
    ["vhost-user-ovs.vdpa", "vm2", "vhost-user to OVS"],
    ["vm-to-vm-bridge.vdpa", "vm2", "vhost-net, VM to VM"],
    ["vhost-vdpa-sim.vdpa", "vm1", "vhost-vdpa on vdpa_sim"],
    ["vhost-vdpa-mlx5.vdpa", "vm1", "vhost-vdpa on an mlx5 VF"],
    ["vfio-vf.vdpa", "vm1", "VFIO passthrough of a VF"],
  ];
  for (const [file, victim, what] of cases) {
    await t.step(`${what} (${file}, kill ${victim})`, async () => {
      const { s } = await session(await setup(file));
      await ok(s, "run 2ms");
      const vm = s.lab.vm(victim);
      assert.ok(vm);
      const sentBefore = s.lab.traffics.map((f) => f.metrics.sent);
      await ok(s, `kill -9 ${vm.pid}`);
      assert.equal(s.lab.vm(victim), undefined, "the VM is gone");
      assert.ok(!s.lab.processes.some((p) => p.pid === vm.pid), "so is its pid");
      assert.match(vm.exitReason ?? "", new RegExp(`QEMU pid ${vm.pid} got SIGKILL`));
      await ok(s, "run");
      balanced(s);
      // Traffic from the dead VM sent nothing more; traffic to it was dropped with reasons.
      s.lab.traffics.forEach((f, i) => {
        const m = s.lab.metrics.summary(f.name);
        if (f.src.name.startsWith(`${victim}.`)) assert.equal(m.sent, sentBefore[i]);
        if (f.dst.name.startsWith(`${victim}.`) && m.sent > (sentBefore[i] ?? 0)) {
          assert.ok(m.dropped > 0, `${f.name} lost what went to ${victim}`);
        }
      });
      // The name is free: a new VM by that name starts.
      await ok(s, `qemu-system-x86_64 -name ${victim} -m 512M -nic none`);
      assert.ok(s.lab.vm(victim));
    });
  }
});

Deno.test("kill: the host sees QEMU's fds close (vhost-net, tap) and the tap lose its reader", async () => {
  const { s } = await session(await setup("vhost-net-tap.vdpa"));
  const pid = s.lab.vm("vm1")?.pid;
  await ok(s, "run 1ms");
  const before = s.lab.controlLog.length;
  await ok(s, `kill ${pid}`);
  const log = s.lab.controlLog.slice(before);
  const closes = log.filter((e) => e.details.op === "close").map((e) => e.details.name);
  assert.deepEqual(closes.sort(), ["/dev/net/tun", "/dev/vhost-net"]);
  assert.ok(
    log.some((e) =>
      e.comp === "qemu-vm1" && e.details.value === `vm1 exited: QEMU pid ${pid} got SIGTERM`
    ),
  );
  const tap = s.lab.host.net.get("tap0");
  assert.ok(tap && !s.lab.host.net.isRunning(tap), "tap0 has no carrier");
  // SIGTERM: QEMU stops vhost itself (vhost_net_stop); SIGKILL: only the kernel's release.
  const ioctls = (l: typeof log) =>
    l.filter((e) => e.comp === "qemu-vm1" && e.action === "ioctl").map((e) => e.details.name);
  assert.ok(ioctls(log).includes("VHOST_NET_SET_BACKEND"));
  const killed = (await session(await setup("vhost-net-tap.vdpa"))).s;
  await ok(killed, "run 1ms");
  const from = killed.lab.controlLog.length;
  await ok(killed, `kill -9 ${killed.lab.vm("vm1")?.pid}`);
  const after = killed.lab.controlLog.slice(from);
  assert.deepEqual(ioctls(after), []);
  assert.deepEqual(after.filter((e) => e.details.op === "close").length, 2);
});

Deno.test("kill takes TERM, INT, HUP and KILL; a dead pid and ovs-vswitchd are errors", async () => {
  const lab = await setup("vm-to-vm-bridge.vdpa");
  for (const sig of ["", "-TERM", "-INT", "-s HUP", "-9"]) {
    const { s } = await session(lab);
    const pid = s.lab.vm("vm1")?.pid;
    await ok(s, `kill ${sig} ${pid}`.replace("  ", " "));
    assert.equal(s.lab.vm("vm1"), undefined, sig);
    assert.match(
      await fails(s, `kill ${pid}`, "E0530"),
      new RegExp(`kill: \\(${pid}\\) - No such process`),
    );
  }
  const { s } = await session(await setup("vhost-user-ovs.vdpa"));
  const ovs = s.lab.processes.find((p) => p.command === "ovs-vswitchd");
  assert.ok(ovs);
  assert.match(
    await fails(s, `kill ${ovs.pid}`, "E0531"),
    /does not model the exit of ovs-vswitchd/,
  );
  assert.ok(s.lab.processes.includes(ovs), "still running");
});

Deno.test("pkill: by program name, by what the process is (-f), and nothing matched", async () => {
  const { s } = await session(await setup("vm-to-vm-bridge.vdpa"));
  await ok(s, "pkill -f 'qemu.* vm2$'");
  assert.deepEqual(s.lab.vms.map((v) => v.name), ["vm1"]);
  await fails(s, "pkill testpmd", "E0532");
  await ok(s, "pkill -KILL qemu");
  assert.deepEqual(s.lab.vms, []);
  await ok(s, "run");
  balanced(s);
});

Deno.test("a VM killed before any run never sends; its declared traffic stays at zero", async () => {
  const { s } = await session(await setup("vhost-net-tap.vdpa"));
  await ok(s, `kill ${s.lab.vm("vm1")?.pid}`);
  await ok(s, "run");
  const t1 = s.lab.metrics.summary("t1");
  assert.equal(t1.sent, 0);
  const t2 = s.lab.metrics.summary("t2");
  assert.equal(t2.sent, 20000, "the wire keeps sending to the dead VM");
  assert.equal(t2.dropped, 20000);
  balanced(s);
});

Deno.test("testpmd killed and started again: QEMU reconnects and the traffic finishes", async () => {
  const testpmd =
    "dpdk-testpmd -l 2-3 --no-pci --vdev 'net_vhost0,iface=/tmp/vu0,queues=1' -- -i --forward-mode=macswap --auto-start";
  const { s } = await session(
    `${testpmd}\n` +
      "qemu-system-x86_64 -name vm1 -m 1G -object memory-backend-memfd,id=m0,size=1G,share=on " +
      "-numa node,memdev=m0 -chardev socket,id=c0,path=/tmp/vu0,reconnect-ms=1000 " +
      "-netdev vhost-user,id=v0,chardev=c0 -device virtio-net-pci,netdev=v0\n" +
      "traffic t1 from vm1.eth0 to vm1.eth0 size=64 count=10000 rate=500Kpps\n",
  );
  await ok(s, "run 5ms");
  const app = s.lab.processes.find((p) => p.command === "dpdk-testpmd");
  assert.ok(app);
  await ok(s, `kill ${app.pid}`);
  await ok(s, "run 5ms");
  const stalled = s.lab.metrics.summary("t1");
  await ok(s, "run 5ms");
  assert.equal(s.lab.metrics.summary("t1").delivered, stalled.delivered, "nothing forwards it");
  await ok(s, `${testpmd} | grep -c .`);
  await ok(s, "run");
  const t1 = s.lab.metrics.summary("t1");
  assert.ok(t1.delivered > stalled.delivered, "forwarding resumed after the reconnect");
  balanced(s);
});

Deno.test("runs in chunks fire the same events as one run; a stopped run resumes exactly", async () => {
  const script = await setup("vm-to-vm-bridge.vdpa");
  const a = await session(script);
  a.s.lab.run();
  const b = await session(script);
  let pauses = 0;
  let stop = false;
  const first = await b.s.lab.runAsync({
    chunkEvents: 1000,
    shouldStop: () => stop,
    pause: () => {
      if (++pauses === 5) stop = true;
      return Promise.resolve();
    },
  });
  assert.equal(first.stop, "stopped");
  assert.ok(first.events >= 5000 && first.events < 6000, `${first.events} events`);
  stop = false;
  const rest = await b.s.lab.runAsync({ chunkEvents: 777, pause: () => Promise.resolve() });
  assert.equal(rest.stop, "done");
  assert.deepEqual(rest.violations, []);
  assert.equal(b.s.lab.now, a.s.lab.now);
  assert.equal(b.s.lab.sched.fired, a.s.lab.sched.fired);
  assert.deepEqual(b.s.lab.metrics.summaries(), a.s.lab.metrics.summaries());
});

Deno.test("a device a VM holds cannot leave under it; once QEMU is killed, it can", async (t) => {
  await t.step("vhost_vdpa unbind and vdpa dev del while /dev/vhost-vdpa-0 is open", async () => {
    const { s } = await session(await setup("vhost-vdpa-sim.vdpa"));
    await ok(s, "run 1ms");
    assert.match(
      await fails(s, "echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind", "E0308"),
      /`vdpa0` is in use/,
    );
    await ok(s, `kill ${s.lab.vm("vm1")?.pid}`);
    await ok(s, "echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind");
    await ok(s, "vdpa dev del vdpa0");
    await ok(s, "run");
    balanced(s);
  });
  await t.step("sriov_numvfs 0 while a VFIO VM holds a VF", async () => {
    const { s } = await session(await setup("vfio-vf.vdpa"));
    await ok(s, "run 1ms");
    const msg = await fails(s, "echo 0 > /sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs", "E0308");
    assert.equal(msg, "a VF of 0000:3b:00.0 is in use");
    await ok(s, `kill ${s.lab.vm("vm1")?.pid}`);
    await ok(s, "echo 0 > /sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs");
    assert.equal(s.lab.host.pci.devices.filter((d) => d.pf !== undefined).length, 0);
    await ok(s, "run");
    balanced(s);
  });
});
