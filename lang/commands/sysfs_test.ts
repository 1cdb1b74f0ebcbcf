import assert from "node:assert/strict";
import { expectFailure, expectParse, must, primaryText } from "./test_expect.ts";

Deno.test("echo into sysfs", async (t) => {
  await t.step("`echo V > PATH` writes V and a newline to PATH", () => {
    const { cmd, at } = expectParse("echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/bind");
    if (cmd.kind !== "echo") throw new Error(cmd.kind);
    assert.equal(cmd.output, "vdpa0\n");
    assert.equal(cmd.redirect?.kind, "file");
    if (cmd.redirect?.kind !== "file") return;
    assert.equal(cmd.redirect.append, false);
    assert.equal(at(cmd.redirect.operator.span), ">");
    assert.equal(at(cmd.redirect.path.span), "/sys/bus/vdpa/drivers/vhost_vdpa/bind");
    assert.equal(at(cmd.redirect.span), "> /sys/bus/vdpa/drivers/vhost_vdpa/bind");
  });

  await t.step("`>>` appends; the operator may be glued to the path or the value", () => {
    for (
      const text of [
        "echo 4 >>/sys/class/net/ens1f0/device/sriov_numvfs",
        "echo x4>>/sys/class/net/ens1f0/device/sriov_numvfs",
      ]
    ) {
      const { cmd, at } = expectParse(text);
      if (cmd.kind !== "echo" || cmd.redirect?.kind !== "file") throw new Error(text);
      assert.equal(cmd.redirect.append, true);
      assert.equal(at(cmd.redirect.path.span), "/sys/class/net/ens1f0/device/sriov_numvfs");
    }
  });

  await t.step("-n drops the newline, -e interprets escapes, values join with one space", () => {
    const { cmd, at } = expectParse("echo -n -e 'a\\tb' c > /tmp/x");
    if (cmd.kind !== "echo") throw new Error(cmd.kind);
    assert.equal(cmd.output, "a\tb c");
    assert.deepEqual(cmd.values.map((v) => at(v.span)), ["'a\\tb'", "c"]);
    const plain = expectParse("echo -ne x");
    if (plain.cmd.kind !== "echo") throw new Error(plain.cmd.kind);
    assert.equal(plain.cmd.output, "x");
  });

  await t.step("an option after a value is a value, as in bash", () => {
    const { cmd } = expectParse("echo vdpa0 -n");
    if (cmd.kind !== "echo") throw new Error(cmd.kind);
    assert.equal(cmd.output, "vdpa0 -n\n");
  });

  await t.step("a quoted `>` is text, not a redirection", () => {
    const { cmd } = expectParse("echo '>' /tmp/x");
    if (cmd.kind !== "echo") throw new Error(cmd.kind);
    assert.equal(cmd.redirect, undefined);
    assert.equal(cmd.output, "> /tmp/x\n");
  });

  await t.step("the empty string clears driver_override", () => {
    const { cmd } = expectParse('echo "" > /sys/bus/vdpa/devices/vdpa0/driver_override');
    if (cmd.kind !== "echo") throw new Error(cmd.kind);
    assert.equal(cmd.output, "\n");
  });

  await t.step("`| sudo tee [-a] PATH [> /dev/null]`", () => {
    const { cmd, at } = expectParse(
      "echo 2 | sudo tee -a /sys/class/net/ens1f0/device/sriov_numvfs > /dev/null",
    );
    if (cmd.kind !== "echo" || cmd.redirect?.kind !== "tee") throw new Error("tee expected");
    assert.equal(cmd.redirect.append, true);
    assert.equal(cmd.redirect.silenced, true);
    assert.ok(cmd.redirect.sudo);
    assert.equal(at(must(cmd.redirect.paths[0]).span), "/sys/class/net/ens1f0/device/sriov_numvfs");
    assert.equal(at(cmd.redirect.pipe.span), "|");
    assert.deepEqual(cmd.pipeline, []);
  });

  await t.step("a missing target, two targets, a descriptor redirection", () => {
    const m = expectFailure("echo vdpa0 >", "E0112");
    assert.equal(primaryText(m.d, m.at), ">");
    const two = expectFailure("echo vdpa0 > /a > /b", "E0112");
    assert.equal(primaryText(two.d, two.at), "> /b");
    assert.equal(two.d.labels[1]?.message, "first redirection");
    const fd = expectFailure("echo vdpa0 > /sys/x 2>/dev/null", "E0112");
    assert.equal(primaryText(fd.d, fd.at), "2>/dev/null");
    const both = expectFailure("echo 1 > /a | tee /b", "E0112");
    assert.equal(primaryText(both.d, both.at), "> /a");
    expectFailure("echo 1 | tee", "E0103");
    expectFailure("echo 1 | tee /a > /tmp/log", "E0112");
  });

  await t.step("`echo 4>file` redirects descriptor 4, as bash does, instead of writing 4", () => {
    const { d, at } = expectFailure("echo 4>/sys/class/net/ens1f0/device/sriov_numvfs", "E0112");
    assert.equal(primaryText(d, at), "4>/sys/class/net/ens1f0/device/sriov_numvfs");
    assert.equal(d.message, "redirection of file descriptor 4 is not modelled");
  });

  await t.step("`sudo echo … > FILE` is accepted with the real host's pitfall as a warning", () => {
    const { cmd, warnings, at } = expectParse("sudo echo 1 > /sys/bus/vdpa/drivers_autoprobe", {
      warnings: ["W0013"],
    });
    assert.equal(cmd.kind, "echo");
    const w = must(warnings[0]);
    assert.equal(at(must(w.labels[1]).span), "sudo");
    assert.deepEqual(w.notes, [
      "on a real host this fails with: bash: /sys/bus/vdpa/drivers_autoprobe: Permission denied",
    ]);
    // `| sudo tee` is the way that works, and gets no warning.
    expectParse("echo 1 | sudo tee /sys/bus/vdpa/drivers_autoprobe");
  });

  await t.step("`1>` is stdout", () => {
    const { cmd } = expectParse("echo 1 1>/sys/bus/vdpa/drivers_autoprobe");
    if (cmd.kind !== "echo" || cmd.redirect?.kind !== "file") {
      throw new Error("file redirect expected");
    }
    assert.equal(cmd.output, "1\n");
  });
});

Deno.test("cat and ls", async (t) => {
  await t.step("cat prints every path", () => {
    const { cmd, at } = expectParse(
      "cat /sys/bus/vdpa/drivers_autoprobe /sys/bus/vdpa/devices/vdpa0/driver_override",
    );
    if (cmd.kind !== "cat") throw new Error(cmd.kind);
    assert.deepEqual(cmd.paths.map((p) => at(p.span)), [
      "/sys/bus/vdpa/drivers_autoprobe",
      "/sys/bus/vdpa/devices/vdpa0/driver_override",
    ]);
    expectFailure("cat", "E0103");
    expectFailure("cat -A /x", "E0101");
    // A stdout redirection belongs to the statement, not to cat's paths.
    const r = expectParse("cat /x > /y");
    if (r.cmd.kind !== "cat") throw new Error(r.cmd.kind);
    assert.deepEqual(r.cmd.paths.map((p) => p.value), ["/x"]);
    assert.equal(r.cmd.stdout?.path.value, "/y");
    assert.equal(r.at(r.cmd.stdout?.span ?? r.cmd.span), "> /y");
  });

  await t.step("ls flags combine; unquoted wildcards are globs, quoted ones are not", () => {
    const { cmd, at } = expectParse("ls -la1 /dev/vhost-vdpa-* '/tmp/a*' /sys/bus/vdpa/devices/");
    if (cmd.kind !== "ls") throw new Error(cmd.kind);
    assert.deepEqual([cmd.long, cmd.all, cmd.onePerLine, cmd.directory], [true, true, true, false]);
    assert.deepEqual(cmd.paths.map((p) => [at(p.span), p.glob]), [
      ["/dev/vhost-vdpa-*", true],
      ["'/tmp/a*'", false],
      ["/sys/bus/vdpa/devices/", false],
    ]);
    assert.equal(must(cmd.paths[1]).value, "/tmp/a*");
  });

  await t.step("ls alone lists the current directory", () => {
    const { cmd } = expectParse("ls");
    if (cmd.kind !== "ls") throw new Error(cmd.kind);
    assert.deepEqual(cmd.paths, []);
  });

  await t.step("unknown ls option names what the lab knows", () => {
    const { d } = expectFailure("ls -R /sys", "E0101");
    assert.deepEqual(d.notes, ["ls prints: ls: invalid option -- 'R'"]);
  });
});
