import assert from "node:assert/strict";
import { expectFailure, expectParse, primaryText } from "./test_expect.ts";

Deno.test("kill", async (t) => {
  await t.step("no signal is SIGTERM, located at the program word", () => {
    const { cmd, at } = expectParse("kill 4100");
    if (cmd.kind !== "kill") throw new Error(cmd.kind);
    assert.equal(cmd.signal.value, "SIGTERM");
    assert.equal(at(cmd.signal.span), "kill");
    assert.deepEqual(cmd.pids.map((p) => [p.value, at(p.span)]), [[4100, "4100"]]);
  });

  await t.step("every way to spell a signal the lab models", () => {
    const forms: [string, string][] = [
      ["kill -9 1", "SIGKILL"],
      ["kill -KILL 1", "SIGKILL"],
      ["kill -SIGKILL 1", "SIGKILL"],
      ["kill -kill 1", "SIGKILL"],
      ["kill -s KILL 1", "SIGKILL"],
      ["kill -s SIGTERM 1", "SIGTERM"],
      ["kill -n 2 1", "SIGINT"],
      ["kill -15 1", "SIGTERM"],
      ["kill -HUP 1", "SIGHUP"],
      ["kill -1 1", "SIGHUP"],
      ["sudo kill -INT 1", "SIGINT"],
    ];
    for (const [text, sig] of forms) {
      const { cmd, at } = expectParse(text);
      if (cmd.kind !== "kill") throw new Error(cmd.kind);
      assert.equal(cmd.signal.value, sig, text);
      assert.notEqual(at(cmd.signal.span), "kill", `${text}: the signal word is located`);
    }
  });

  await t.step("several pids, and -- before them", () => {
    const { cmd } = expectParse("kill -9 -- 4100 4107");
    if (cmd.kind !== "kill") throw new Error(cmd.kind);
    assert.deepEqual(cmd.pids.map((p) => p.value), [4100, 4107]);
  });

  await t.step("a signal after the first pid is not a signal: kill reads it as a pid", () => {
    const { d, at } = expectFailure("kill 4100 -9", "E0106");
    assert.equal(primaryText(d, at), "-9");
  });

  await t.step("a real signal the lab does not model is E0120, a made-up one E0109", () => {
    const stop = expectFailure("kill -STOP 4100", "E0120");
    assert.equal(primaryText(stop.d, stop.at), "-STOP");
    assert.match(stop.d.help.join(), /TERM, KILL, INT and HUP/);
    expectFailure("kill -19 4100", "E0120");
    const bad = expectFailure("kill -KIL 4100", "E0109");
    assert.match(bad.d.notes.join(), /kill: KIL: invalid signal specification/);
    assert.match(bad.d.help.join(), /did you mean `KILL`\?/);
  });

  await t.step("a missing pid, a word for a pid, a job spec, -s without a signal", () => {
    const none = expectFailure("kill -9", "E0103");
    assert.match(none.d.notes.join(), /kill: usage: kill/);
    const word = expectFailure("kill vm1", "E0106");
    assert.match(word.d.notes.join(), /kill: vm1: arguments must be process or job IDs/);
    expectFailure("kill %1", "E0120");
    expectFailure("kill -s", "E0102");
    expectFailure("kill -l", "E0120");
  });
});

Deno.test("pkill", async (t) => {
  await t.step("a pattern, a signal and -f", () => {
    const { cmd, at } = expectParse("pkill -9 -f 'vm[12]'");
    if (cmd.kind !== "pkill") throw new Error(cmd.kind);
    assert.equal(cmd.signal.value, "SIGKILL");
    assert.equal(cmd.full, true);
    assert.equal(cmd.pattern.value, "vm[12]");
    assert.equal(at(cmd.pattern.span), "'vm[12]'");
  });

  await t.step("no pattern, two patterns, a pattern that is no regular expression", () => {
    const none = expectFailure("pkill -9", "E0103");
    assert.match(none.d.notes.join(), /no matching criteria specified/);
    expectFailure("pkill qemu testpmd", "E0104");
    const bad = expectFailure("pkill 'qemu('", "E0109");
    assert.equal(primaryText(bad.d, bad.at), "'qemu('");
  });
});
