import assert from "node:assert/strict";
import { err, ok } from "../result.ts";
import { formatHostError } from "./host_error.ts";
import { dir, file, link, Vfs } from "./vfs.ts";

/** A miniature sysfs: a device, a bus view linking to it, a driver link back, a loop. */
function tree(): { vfs: Vfs; writes: string[] } {
  const writes: string[] = [];
  const vfs = new Vfs(() =>
    dir(0o755, () => [
      [
        "sys",
        dir(0o755, () => [
          [
            "devices",
            dir(0o755, () => [[
              "vdpa0",
              dir(0o755, () => [
                ["driver", link("../../bus/vdpa/drivers/vhost_vdpa")],
                ["uevent", file(0o644, () => ok("DRIVER=vhost_vdpa\n"))],
                [
                  "driver_override",
                  file(0o644, () => ok("(null)\n"), (d) => {
                    writes.push(d);
                    return d.length > 14 ? err({ errno: "EINVAL" }) : ok(undefined);
                  }),
                ],
              ]),
            ]]),
          ],
          [
            "bus",
            dir(0o755, () => [[
              "vdpa",
              dir(0o755, () => [
                ["devices", dir(0o755, () => [["vdpa0", link("../../../devices/vdpa0")]])],
                [
                  "drivers",
                  dir(
                    0o755,
                    () => [[
                      "vhost_vdpa",
                      dir(0o755, () => [["bind", file(0o200, undefined, () => ok(undefined))]]),
                    ]],
                  ),
                ],
                ["loop", link("loop")],
                ["dangling", link("../nowhere")],
              ]),
            ]]),
          ],
        ]),
      ],
      [
        "dev",
        dir(
          0o755,
          () => [["vhost-vdpa-0", {
            type: "chr",
            mode: 0o600,
            major: 239,
            minor: 0,
            group: "root",
          }]],
        ),
      ],
    ])
  );
  return { vfs, writes };
}

Deno.test("Vfs follows relative links from the link's real directory", () => {
  const { vfs } = tree();
  const r = vfs.read("/sys/bus/vdpa/devices/vdpa0/uevent");
  assert.deepEqual(r, ok("DRIVER=vhost_vdpa\n"));
  assert.deepEqual(
    vfs.realpath("/sys/bus/vdpa/devices/vdpa0/driver"),
    ok("/sys/bus/vdpa/drivers/vhost_vdpa"),
  );
  assert.deepEqual(vfs.readdir("/sys/bus/vdpa/devices/vdpa0/driver"), ok(["bind"]));
});

Deno.test("Vfs resolves .. physically, after following a link", () => {
  const { vfs } = tree();
  // vdpa0 is really /sys/devices/vdpa0, so .. is /sys/devices
  assert.deepEqual(vfs.readdir("/sys/bus/vdpa/devices/vdpa0/.."), ok(["vdpa0"]));
});

Deno.test("Vfs lstat and readlink report a link itself; stat follows it", () => {
  const { vfs } = tree();
  const l = vfs.lstat("/sys/bus/vdpa/devices/vdpa0");
  assert.ok(l.ok && l.value.type === "link" && l.value.target === "../../../devices/vdpa0");
  const s = vfs.stat("/sys/bus/vdpa/devices/vdpa0");
  assert.ok(s.ok && s.value.type === "dir");
  assert.deepEqual(vfs.readlink("/sys/bus/vdpa/devices/vdpa0"), ok("../../../devices/vdpa0"));
});

Deno.test("Vfs lookups fail with the kernel's errno and the tool's text", async (t) => {
  const { vfs } = tree();
  const cases: [string, () => ReturnType<Vfs["read"]> | ReturnType<Vfs["stat"]>, string][] = [
    [
      "missing file",
      () => vfs.read("/sys/bus/vdpa/nope"),
      "cat: /sys/bus/vdpa/nope: No such file or directory",
    ],
    ["directory", () => vfs.read("/sys/bus/vdpa"), "cat: /sys/bus/vdpa: Is a directory"],
    [
      "write-only attribute",
      () => vfs.read("/sys/bus/vdpa/drivers/vhost_vdpa/bind"),
      "cat: /sys/bus/vdpa/drivers/vhost_vdpa/bind: Permission denied",
    ],
    [
      "link loop",
      () => vfs.stat("/sys/bus/vdpa/loop"),
      "ls: cannot access '/sys/bus/vdpa/loop': Too many levels of symbolic links",
    ],
    [
      "dangling link",
      () => vfs.stat("/sys/bus/vdpa/dangling"),
      "ls: cannot access '/sys/bus/vdpa/dangling': No such file or directory",
    ],
    [
      "file used as directory",
      () => vfs.stat("/sys/devices/vdpa0/uevent/x"),
      "ls: cannot access '/sys/devices/vdpa0/uevent/x': Not a directory",
    ],
  ];
  for (const [name, run, text] of cases) {
    await t.step(name, () => {
      const r = run();
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(formatHostError(r.error), text);
    });
  }
});

Deno.test("Vfs.write opens like bash: no creation in sysfs, no store() is EACCES", async (t) => {
  const { vfs, writes } = tree();
  const cases: [string, string, string | undefined][] = [
    ["/sys/devices/vdpa0/driver_override", "virtio_vdpa\n", undefined],
    [
      "/sys/devices/vdpa0/driver_override",
      "a-much-too-long-name\n",
      "bash: echo: write error: Invalid argument",
    ],
    ["/sys/devices/vdpa0/new_file", "x\n", "bash: /sys/devices/vdpa0/new_file: Permission denied"],
    [
      "/sys/devices/vdpa1/uevent",
      "x\n",
      "bash: /sys/devices/vdpa1/uevent: No such file or directory",
    ],
    ["/sys/devices/vdpa0/uevent", "x\n", "bash: /sys/devices/vdpa0/uevent: Permission denied"],
    ["/sys/devices/vdpa0", "x\n", "bash: /sys/devices/vdpa0: Is a directory"],
    ["/dev/vhost-vdpa-0", "x\n", "bash: /dev/vhost-vdpa-0: Permission denied"],
  ];
  for (const [path, data, text] of cases) {
    await t.step(`${path} <- ${JSON.stringify(data)}`, () => {
      const r = vfs.write(path, data);
      if (text === undefined) assert.ok(r.ok);
      else assert.equal(!r.ok && formatHostError(r.error), text);
    });
  }
  assert.deepEqual(
    writes,
    ["virtio_vdpa\n", "a-much-too-long-name\n"],
    "store() sees echo's newline",
  );
});

Deno.test("Vfs.glob expands per component, sorted, empty when nothing matches", () => {
  const { vfs } = tree();
  assert.deepEqual(vfs.glob("/dev/vhost-vdpa-*"), ["/dev/vhost-vdpa-0"]);
  assert.deepEqual(vfs.glob("/dev/vhost-vdpa-[0-9]"), ["/dev/vhost-vdpa-0"]);
  assert.deepEqual(vfs.glob("/sys/bus/*/devices/vdpa?"), ["/sys/bus/vdpa/devices/vdpa0"]);
  assert.deepEqual(vfs.glob("/dev/vhost-net*"), []);
  assert.deepEqual(
    vfs.glob("/sys/*/vdpa0/driver"),
    ["/sys/devices/vdpa0/driver"],
    "a link matches as itself",
  );
});

Deno.test("Vfs.stat counts subdirectories in a directory's link count", () => {
  const { vfs } = tree();
  const s = vfs.stat("/sys/bus/vdpa");
  assert.ok(s.ok);
  assert.equal(s.value.nlink, 4, "2 + devices + drivers");
  const c = vfs.stat("/dev/vhost-vdpa-0");
  assert.ok(c.ok && c.value.type === "chr" && c.value.major === 239);
});
