import assert from "node:assert/strict";
import type { PropList } from "../props.ts";
import type { Span } from "../span.ts";
import { expectFailure, expectParse, must, primaryText } from "./test_expect.ts";
import { parseForTest } from "./test_words.ts";

/** Each prop as [key, value, implicit], with key and value read back from the source. */
function props(
  list: PropList | undefined,
  at: (s: Span) => string,
): [string, string | undefined, boolean][] {
  return must(list).items.map((p) => [
    p.implicit ? `(${p.key.value})` : at(p.key.span),
    p.value ? at(p.value.span) : undefined,
    p.implicit === true,
  ]);
}

Deno.test("QEMU comma lists", async (t) => {
  await t.step("the first item without `=` is the option's implied key", () => {
    const text =
      "qemu-system-x86_64 -name vm1 -m 4G -smp 4 -machine q35,accel=kvm -cpu host -accel kvm " +
      "-object memory-backend-memfd,id=mem0,size=4G,share=on -numa node,memdev=mem0 " +
      "-chardev socket,id=c0,path=/tmp/s -netdev vhost-user,id=n0,chardev=c0 " +
      "-device virtio-net-pci,netdev=n0 -nic tap,model=virtio-net-pci -net nic,model=virtio";
    const { cmd, at } = expectParse(text);
    if (cmd.kind !== "qemu") throw new Error(cmd.kind);
    const implied = cmd.options.map((o) => [o.name, must(o.props).items[0]?.key.value]);
    assert.deepEqual(implied, [
      ["name", "guest"],
      ["m", "size"],
      ["smp", "cpus"],
      ["machine", "type"],
      ["cpu", "model"],
      ["accel", "accel"],
      ["object", "qom-type"],
      ["numa", "type"],
      ["chardev", "backend"],
      ["netdev", "type"],
      ["device", "driver"],
      ["nic", "type"],
      ["net", "type"],
    ]);
    assert.deepEqual(props(must(cmd.netdevs[0]).props, at), [
      ["(type)", "vhost-user", true],
      ["id", "n0", false],
      ["chardev", "c0", false],
    ]);
    assert.equal(cmd.netdevs.length, 1);
    assert.equal(cmd.devices.length, 1);
    assert.equal(cmd.chardevs.length, 1);
    assert.equal(cmd.objects.length, 1);
    assert.equal(cmd.numa.length, 1);
    assert.equal(cmd.nics.length, 2);
    assert.equal(at(must(cmd.netdevs[0]).span), "-netdev vhost-user,id=n0,chardev=c0");
    assert.equal(at(must(must(cmd.netdevs[0]).flag).span), "-netdev");
  });

  await t.step("`type=tap` is an ordinary item, not implicit", () => {
    const { cmd, at } = expectParse("qemu-system-x86_64 -netdev type=tap,id=n0");
    if (cmd.kind !== "qemu") throw new Error(cmd.kind);
    assert.deepEqual(props(must(cmd.netdevs[0]).props, at), [["type", "tap", false], [
      "id",
      "n0",
      false,
    ]]);
  });

  await t.step("`,,` is a comma inside a value, also in the implied first item", () => {
    const { cmd, at } = expectParse(
      "qemu-system-x86_64 -chardev socket,id=c0,path=/tmp/a,,b,server=on -name my,,vm",
    );
    if (cmd.kind !== "qemu") throw new Error(cmd.kind);
    const path = must(must(cmd.chardevs[0]).props).items[2];
    assert.equal(must(path).value?.value, "/tmp/a,b");
    assert.equal(at(must(must(path).value).span), "/tmp/a,,b");
    assert.equal(at(must(path).span), "path=/tmp/a,,b");
    const name = must(cmd.options[1]).props?.items[0];
    assert.equal(name?.value?.value, "my,vm");
  });

  await t.step("legacy `server,nowait` flags are value-less props and deprecation warnings", () => {
    const { cmd, at, warnings } = expectParse(
      "qemu-system-x86_64 -chardev socket,id=c0,path=/tmp/s,server,nowait",
      {
        warnings: ["W0012", "W0012"],
      },
    );
    if (cmd.kind !== "qemu") throw new Error(cmd.kind);
    assert.deepEqual(props(must(cmd.chardevs[0]).props, at).slice(3), [
      ["server", undefined, false],
      ["nowait", undefined, false],
    ]);
    assert.deepEqual(warnings.map((w) => at(must(w.labels[0]).span)), ["server", "nowait"]);
    assert.deepEqual(warnings.map((w) => w.help[0]), ["write `server=on`", "write `wait=off`"]);
    assert.equal(
      warnings[1]?.notes[0],
      "QEMU prints: warning: short-form boolean option 'nowait' deprecated (in `-chardev`)",
    );
  });

  await t.step("-cpu features are not short-form booleans", () => {
    const { cmd, at } = expectParse("qemu-system-x86_64 -cpu host,+x2apic,-vmx,kvm=off");
    if (cmd.kind !== "qemu") throw new Error(cmd.kind);
    assert.deepEqual(props(must(cmd.options[0]).props, at), [
      ["(model)", "host", true],
      ["+x2apic", undefined, false],
      ["-vmx", undefined, false],
      ["kvm", "off", false],
    ]);
  });

  await t.step("a trailing comma is accepted; an empty item is not", () => {
    expectParse("qemu-system-x86_64 -netdev tap,id=n0,");
    // After a bare flag, `,,` leaves an empty item (QEMU: Invalid parameter '').
    const { d, at } = expectFailure(
      "qemu-system-x86_64 -chardev socket,server=on,nowait,,id=c0",
      "E0110",
    );
    assert.equal(primaryText(d, at), ",");
    // Elsewhere `,,` is an escaped comma: the type below is `tap,` (for the catalog to reject).
    const { cmd } = expectParse("qemu-system-x86_64 -netdev tap,,,id=n0");
    if (cmd.kind !== "qemu") throw new Error(cmd.kind);
    assert.equal(must(must(cmd.netdevs[0]).props).items[0]?.value?.value, "tap,");
    const lead = expectFailure("qemu-system-x86_64 -netdev ,id=n0", "E0110");
    assert.equal(lead.d.help[0], "start the list with the type, e.g. `tap,id=n0`");
    const key = expectFailure("qemu-system-x86_64 -device virtio-net-pci,=on", "E0110");
    assert.equal(primaryText(key.d, key.at), "=on");
  });

  await t.step("spans inside a quoted argument and through a variable", () => {
    const { cmd, at } = expectParse("qemu-system-x86_64 -device 'virtio-net-pci,netdev=n0,mq=on'");
    if (cmd.kind !== "qemu") throw new Error(cmd.kind);
    assert.deepEqual(props(must(cmd.devices[0]).props, at).map(([k, v]) => [k, v]), [
      ["(driver)", "virtio-net-pci"],
      ["netdev", "n0"],
      ["mq", "on"],
    ]);
    const r = parseForTest(
      "qemu-system-x86_64 -netdev tap,id=${id},vhost=on",
      new Map([["id", "net0"]]),
    );
    if (r.cmd?.kind !== "qemu") throw new Error("qemu expected");
    const id = must(must(r.cmd.netdevs[0]).props).items[1];
    assert.equal(must(id).value?.value, "net0");
    assert.equal(r.at(must(must(id).value).span), "${id}");
    assert.equal(r.at(must(must(must(r.cmd.netdevs[0]).props).items[2]).span), "vhost=on");
  });
});

Deno.test("QEMU options", async (t) => {
  await t.step("options that do not matter to I/O are kept and warned at the option", () => {
    const { cmd, at, warnings } = expectParse(
      "qemu-kvm -nographic -vnc :0 -serial mon:stdio -drive file=a.qcow2,if=virtio -S -incoming tcp:0:4444",
      { warnings: ["W0010", "W0010", "W0010", "W0010", "W0010", "W0010"] },
    );
    if (cmd.kind !== "qemu") throw new Error(cmd.kind);
    assert.ok(cmd.options.every((o) => o.ignored));
    assert.deepEqual(warnings.map((w) => at(must(w.labels[0]).span)), [
      "-nographic",
      "-vnc :0",
      "-serial mon:stdio",
      "-drive file=a.qcow2,if=virtio",
      "-S",
      "-incoming tcp:0:4444",
    ]);
    assert.equal(must(warnings[5]).labels[0]?.message, "live migration is not modelled");
    assert.equal(must(cmd.options[3]).props, undefined);
  });

  await t.step("`--opt` equals `-opt`; `-M` is `-machine`; `-m` is memory", () => {
    const { cmd } = expectParse("qemu-system-x86_64 --netdev tap,id=n0 -M q35 -m 2G --enable-kvm");
    if (cmd.kind !== "qemu") throw new Error(cmd.kind);
    assert.deepEqual(cmd.options.map((o) => o.name), ["netdev", "machine", "m", "enable-kvm"]);
    assert.equal(cmd.netdevs.length, 1);
  });

  await t.step("a word that is no option is a disk image (ignored)", () => {
    const { cmd, at, warnings } = expectParse("qemu-system-x86_64 -m 1G disk.img", {
      warnings: ["W0010"],
    });
    if (cmd.kind !== "qemu") throw new Error(cmd.kind);
    assert.equal(must(cmd.options[1]).name, "hda");
    assert.equal(at(must(must(warnings[0]).labels[0]).span), "disk.img");
  });

  await t.step("the argument is the next word even if it starts with `-`", () => {
    const { cmd } = expectParse("qemu-system-x86_64 -append -v -netdev tap,id=n0");
    if (cmd.kind !== "qemu") throw new Error(cmd.kind);
    assert.equal(must(cmd.options[0]).arg?.value, "-v");
  });

  await t.step("unknown options and missing arguments carry QEMU's texts", () => {
    const u = expectFailure("qemu-system-x86_64 -netdv tap,id=n0", "E0101");
    assert.deepEqual(u.d.notes, ["QEMU prints: qemu-system-x86_64: -netdv: invalid option"]);
    assert.equal(u.d.help[0], "did you mean `-netdev`?");
    const kvm = expectFailure("/usr/libexec/qemu-kvm -foo", "E0101");
    assert.deepEqual(kvm.d.notes, ["QEMU prints: qemu-kvm: -foo: invalid option"]);
    const m = expectFailure("qemu-system-x86_64 -m 1G -device", "E0102");
    assert.equal(primaryText(m.d, m.at), "-device");
    assert.deepEqual(m.d.notes, ["QEMU prints: qemu-system-x86_64: -device: requires an argument"]);
  });

  await t.step("every bad option of a line is reported, not only the first", () => {
    const r = parseForTest("qemu-system-x86_64 -foo -chardev socket,server,,id=x -bar");
    assert.deepEqual(r.codes, ["E0101", "W0012", "E0110", "E0101"]);
  });

  await t.step("an unknown option takes its argument with it (no disk-image warning)", () => {
    const r = parseForTest("qemu-system-x86_64 -netdv tap,id=n0 -m 1G");
    assert.deepEqual(r.codes, ["E0101"]);
  });

  await t.step("help queries and JSON are refused with a way out", () => {
    for (
      const text of [
        "qemu-system-x86_64 -device help",
        "qemu-system-x86_64 -netdev ?",
        "qemu-system-x86_64 -device virtio-net-pci,help",
      ]
    ) {
      const { d } = expectFailure(text, "E0115");
      assert.ok(d.help[0]?.includes("help qemu"));
    }
    const j = expectFailure(`qemu-system-x86_64 -netdev '{"type":"tap","id":"n0"}'`, "E0116");
    assert.equal(j.d.help[0], "write the option as a comma list, e.g. `-netdev tap,id=n0`");
  });

  await t.step("targets and usage", () => {
    const { cmd } = expectParse("qemu-system-aarch64 -M virt -m 1G");
    if (cmd.kind !== "qemu") throw new Error(cmd.kind);
    assert.equal(cmd.target, "aarch64");
    assert.equal(expectParse("qemu-kvm -h").cmd.kind, "usage");
  });
});
