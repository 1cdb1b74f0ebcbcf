import assert from "node:assert/strict";
import { Diagnostics } from "../diagnostic.ts";
import { parseCommand } from "./mod.ts";
import { expectFailure, expectParse, must, primaryText } from "./test_expect.ts";
import { parseForTest, testWords } from "./test_words.ts";

Deno.test("parseCommand recognises programs", async (t) => {
  await t.step("by basename: paths to the real binaries", () => {
    for (
      const [text, kind] of [
        ["/usr/libexec/qemu-kvm -m 1G", "qemu"],
        ["./qemu/build/qemu-system-x86_64 -m 1G", "qemu"],
        ["qemu -m 1G", "qemu"],
        ["qemu-system-aarch64 -m 1G", "qemu"],
        ["./build/app/dpdk-testpmd -l 0 -- -i", "testpmd"],
        ["testpmd -l 0 -- -i", "testpmd"],
        ["/sbin/modprobe vdpa", "modprobe"],
        ["/usr/bin/ovs-vsctl show", "ovs-vsctl"],
        ["/bin/echo x", "echo"],
      ]
    ) {
      const { cmd, at } = expectParse(must(text));
      assert.equal(cmd.kind, kind, text);
      assert.equal(at(cmd.program.span), must(text).split(" ")[0]);
    }
  });

  await t.step("the program word keeps its path; the span covers the whole statement", () => {
    const text = "sudo -E /usr/libexec/qemu-kvm -m 1G";
    const { cmd, at } = expectParse(text);
    assert.equal(cmd.program.value, "/usr/libexec/qemu-kvm");
    assert.equal(at(cmd.span), text);
    assert.equal(cmd.words.length, 5);
  });

  await t.step("sudo and its options are stripped and kept", () => {
    const { cmd, at } = expectParse("sudo -E -u root -- modprobe vhost_vdpa");
    assert.equal(cmd.kind, "modprobe");
    assert.equal(cmd.sudo?.user?.value, "root");
    assert.equal(cmd.sudo?.preserveEnv, true);
    assert.equal(at(must(cmd.sudo).span), "sudo -E -u root --");
    const long = expectParse("sudo --preserve-env=PATH --user=root vdpa dev show");
    assert.equal(long.cmd.sudo?.user?.value, "root");
    assert.equal(long.cmd.sudo?.preserveEnv, true);
  });

  await t.step("unsupported sudo options and a bare sudo", () => {
    const { d, at } = expectFailure("sudo -i modprobe vdpa", "E0113");
    assert.equal(primaryText(d, at), "-i");
    assert.deepEqual(d.notes, ["sudo prints: sudo: invalid option -- 'i'"]);
    expectFailure("sudo", "E0103");
    expectFailure("sudo -E", "E0103");
  });

  await t.step("unknown commands get a did-you-mean over programs and statements", () => {
    const { d, at } = expectFailure("vdap dev show", "E0100");
    assert.equal(primaryText(d, at), "vdap");
    assert.equal(d.help[0], "did you mean `vdpa`?");
    assert.equal(
      expectFailure("trafic t1 from a to b", "E0100").d.help[0],
      "did you mean `traffic`?",
    );
    assert.equal(
      expectFailure("/usr/bin/ovs-vsctrl show", "E0100").d.help[0],
      "did you mean `ovs-vsctl`?",
    );
  });

  await t.step("lab statements are bare keywords: not a path, not quoted", () => {
    expectFailure("/usr/bin/run", "E0100");
    expectFailure("'run'", "E0100");
    assert.equal(expectParse("run").cmd.kind, "run");
  });

  await t.step("sudo before a lab statement is a warning", () => {
    const { cmd, warnings } = expectParse("sudo run", { warnings: ["W0011"] });
    assert.equal(cmd.kind, "run");
    assert.equal(warnings[0]?.severity, "warning");
  });

  await t.step("an unsupported QEMU target", () => {
    const { d } = expectFailure("qemu-system-riscv64 -m 1G", "E0114");
    assert.equal(d.help[0], "use `qemu-system-x86_64` (or `qemu-kvm`)");
  });

  await t.step("nothing to parse", () => {
    const diags = new Diagnostics();
    assert.equal(parseCommand([], diags), undefined);
    assert.equal(diags.length, 0);
  });

  await t.step("errors are reported into the caller's collector", () => {
    const diags = new Diagnostics();
    assert.equal(parseCommand(testWords("vdpa dev frob"), diags), undefined);
    assert.equal(diags.items[0]?.code, "E0105");
  });
});

Deno.test("output filters after `|`", async (t) => {
  await t.step("grep with its options, head and tail with -n or -N, wc -l", () => {
    const { cmd, at } = expectParse("lsmod | grep -iv vdpa | head -n 5 | tail -3 | wc -l");
    assert.equal(cmd.kind, "lsmod");
    assert.deepEqual(cmd.pipeline.map((f) => f.kind), ["grep", "head", "tail", "wc"]);
    const [g, h, tl] = cmd.pipeline;
    if (g?.kind !== "grep" || h?.kind !== "head" || tl?.kind !== "tail") throw new Error("filters");
    assert.equal(g.ignoreCase && g.invert, true);
    assert.equal(at(g.pattern.span), "vdpa");
    assert.equal(h.lines.value, 5);
    assert.equal(tl.lines.value, 3);
    assert.equal(at(g.span), "grep -iv vdpa");
  });

  await t.step("a pipe glued to the words still separates them", () => {
    const { cmd } = expectParse("lsmod|grep vdpa");
    assert.equal(cmd.kind, "lsmod");
    assert.equal(cmd.pipeline[0]?.kind, "grep");
  });

  await t.step("a quoted pipe is an ordinary character of the pattern", () => {
    const { cmd } = expectParse("vdpa dev show | grep -E 'vdpa0|vdpa1'");
    const g = cmd.pipeline[0];
    if (g?.kind !== "grep") throw new Error("grep expected");
    assert.equal(g.pattern.value, "vdpa0|vdpa1");
    assert.equal(g.extended, true);
  });

  await t.step("head without a count shows 10 lines", () => {
    const h = expectParse("lsmod | head").cmd.pipeline[0];
    if (h?.kind !== "head") throw new Error("head expected");
    assert.equal(h.lines.value, 10);
  });

  await t.step("broken pipelines", () => {
    const empty = expectFailure("lsmod |", "E0112");
    assert.equal(primaryText(empty.d, empty.at), "|");
    expectFailure("| grep x", "E0112");
    expectFailure("lsmod | grep", "E0103");
    expectFailure("lsmod | grep x file", "E0104");
    expectFailure("lsmod | head -n x", "E0106");
    expectFailure("lsmod | wc -c", "E0120");
    const sort = expectFailure("lsmod | sort", "E0112");
    assert.ok(sort.d.help.some((h) => h.includes("`grep`")));
    expectFailure("lsmod || grep x", "E0112");
  });

  await t.step("only echo feeds tee", () => {
    const { d } = expectFailure("cat /x | sudo tee /y", "E0112");
    assert.equal(d.message, "only `echo` can be piped into `tee` in the lab");
  });
});

Deno.test("words from variables keep the location of `${name}`", () => {
  const r = parseForTest(
    "vdpa dev add name ${dev} mgmtdev vdpasim_net",
    new Map([["dev", "vdpa7"]]),
  );
  if (r.cmd?.kind !== "vdpa-dev-add") throw new Error("dev add expected");
  assert.equal(r.cmd.name.value, "vdpa7");
  assert.equal(r.at(r.cmd.name.span), "${dev}");
});

Deno.test("real tools the lab does not run say what to write instead", () => {
  const { d, at } = expectFailure("sudo tcpdump -i tap0 -w out.pcap", "E0120");
  assert.equal(primaryText(d, at), "tcpdump");
  assert.equal(d.help[0], "record packets with `capture IFACE to FILE`");
  assert.equal(
    expectFailure("tee /sys/bus/vdpa/drivers_autoprobe", "E0120").d.help[0],
    "write `echo VALUE | sudo tee PATH`",
  );
  // Prototype names are not table entries.
  expectFailure("constructor", "E0100");
  expectFailure("toString x", "E0100");
});

Deno.test("help and version requests become usage nodes", () => {
  for (
    const [text, topic, what] of [
      ["vdpa -V", "vdpa", "version"],
      ["vdpa help", "vdpa", "usage"],
      ["ip -V", "ip", "version"],
      ["ip link help", "ip link", "usage"],
      ["modprobe --version", "modprobe", "version"],
      ["rmmod -h", "rmmod", "usage"],
      ["ovs-vsctl --version", "ovs-vsctl", "version"],
      ["qemu-system-x86_64 -version", "qemu", "version"],
      ["qemu-kvm --help", "qemu", "usage"],
      ["dpdk-testpmd -h", "testpmd", "usage"],
    ] as const
  ) {
    const { cmd } = expectParse(text);
    if (cmd.kind !== "usage") throw new Error(`${text}: ${cmd.kind}`);
    assert.deepEqual([cmd.topic, cmd.what], [topic, what], text);
  }
});
