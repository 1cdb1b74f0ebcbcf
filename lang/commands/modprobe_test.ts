import assert from "node:assert/strict";
import { expectFailure, expectParse, must, primaryText } from "./test_expect.ts";

Deno.test("modprobe", async (t) => {
  await t.step("a module and its parameters, each located", () => {
    const { cmd, at } = expectParse("modprobe vdpa_sim batch_mapping=0 max_iotlb_entries=0 use_va");
    if (cmd.kind !== "modprobe") throw new Error(cmd.kind);
    assert.deepEqual(cmd.modules.map((m) => m.value), ["vdpa_sim"]);
    const [a, b, c] = cmd.params.items;
    assert.equal(at(must(a).key.span), "batch_mapping");
    assert.equal(at(must(must(a).value).span), "0");
    assert.equal(at(must(b).span), "max_iotlb_entries=0");
    // kmod passes a bare word on to the kernel as a value-less parameter.
    assert.equal(must(c).key.value, "use_va");
    assert.equal(must(c).value, undefined);
    assert.equal(at(cmd.params.span), "batch_mapping=0 max_iotlb_entries=0 use_va");
  });

  await t.step("an empty value stays an empty value", () => {
    const { cmd, at } = expectParse("modprobe vhost_net experimental_zcopytx=");
    if (cmd.kind !== "modprobe") throw new Error(cmd.kind);
    assert.equal(must(cmd.params.items[0]).value?.value, "");
    assert.equal(at(must(must(cmd.params.items[0]).value).span), "");
  });

  await t.step("-r and -a make every word a module; options may come anywhere", () => {
    const r = expectParse("modprobe -r vdpa_sim_net vdpa_sim");
    if (r.cmd.kind !== "modprobe") throw new Error(r.cmd.kind);
    assert.equal(r.cmd.remove, true);
    assert.deepEqual(r.cmd.modules.map((m) => m.value), ["vdpa_sim_net", "vdpa_sim"]);
    assert.equal(r.cmd.params.items.length, 0);
    const a = expectParse("modprobe vdpa vhost_vdpa --all -v");
    if (a.cmd.kind !== "modprobe") throw new Error(a.cmd.kind);
    assert.equal(a.cmd.all, true);
    assert.equal(a.cmd.verbose, true);
    assert.deepEqual(a.cmd.modules.map((m) => m.value), ["vdpa", "vhost_vdpa"]);
  });

  await t.step("combined short flags and long names", () => {
    const { cmd, at } = expectParse("modprobe -rvq --dry-run --first-time -D vhost_vdpa");
    if (cmd.kind !== "modprobe") throw new Error(cmd.kind);
    assert.deepEqual([
      cmd.remove,
      cmd.verbose,
      cmd.quiet,
      cmd.dryRun,
      cmd.firstTime,
      cmd.showDepends,
    ], [
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    assert.deepEqual(cmd.options.map((o) => at(o.span)), [
      "-r",
      "v",
      "q",
      "--dry-run",
      "--first-time",
      "-D",
    ]);
  });

  await t.step("parameters with -a or -r are refused", () => {
    const { d, at } = expectFailure("modprobe -a vdpa_sim max_iotlb_entries=0", "E0104");
    assert.equal(primaryText(d, at), "max_iotlb_entries=0");
  });

  await t.step("no module: the real usage error in a note", () => {
    const { d } = expectFailure("modprobe -v", "E0103");
    assert.deepEqual(d.notes, ["modprobe prints: modprobe: ERROR: missing parameters. See -h."]);
  });

  await t.step("unknown options, short and long", () => {
    const s = expectFailure("modprobe -x vdpa", "E0101");
    assert.deepEqual(s.d.notes, ["modprobe prints: modprobe: invalid option -- 'x'"]);
    const l = expectFailure("modprobe --remoev vdpa", "E0101");
    assert.deepEqual(l.d.notes, ["modprobe prints: modprobe: unrecognized option '--remoev'"]);
    assert.equal(l.d.help[0], "did you mean `--remove`?");
  });

  await t.step("--help is a usage request", () => {
    const { cmd } = expectParse("modprobe --help");
    assert.equal(cmd.kind, "usage");
  });
});

Deno.test("rmmod and lsmod", async (t) => {
  await t.step("rmmod takes modules and -f/-v", () => {
    const { cmd } = expectParse("rmmod -f vdpa_sim_net vdpa_sim");
    if (cmd.kind !== "rmmod") throw new Error(cmd.kind);
    assert.equal(cmd.force, true);
    assert.deepEqual(cmd.modules.map((m) => m.value), ["vdpa_sim_net", "vdpa_sim"]);
    const { d } = expectFailure("rmmod", "E0103");
    assert.deepEqual(d.notes, ["rmmod prints: rmmod: ERROR: missing module name."]);
  });

  await t.step("lsmod takes nothing", () => {
    assert.equal(expectParse("lsmod").cmd.kind, "lsmod");
    const { d, at } = expectFailure("lsmod vdpa extra", "E0104");
    assert.equal(primaryText(d, at), "vdpa extra");
    assert.deepEqual(d.notes, ["lsmod prints: Usage: lsmod"]);
  });
});
