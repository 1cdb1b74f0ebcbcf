import assert from "node:assert/strict";
import { formatHostError, type HostError } from "./host_error.ts";

Deno.test("formatHostError prints what each real tool prints", async (t) => {
  const cases: [HostError, string][] = [
    [
      { kind: "modprobe-not-found", module: "vdpa_simnet", release: "6.12.0-vdpa-lab" },
      "modprobe: FATAL: Module vdpa_simnet not found in directory /lib/modules/6.12.0-vdpa-lab",
    ],
    [{ kind: "modprobe-remove-not-found", module: "x" }, "modprobe: FATAL: Module x not found."],
    [{ kind: "modprobe-in-use", module: "vdpa" }, "modprobe: FATAL: Module vdpa is in use."],
    [
      { kind: "module-builtin", tool: "rmmod", module: "virtio" },
      "rmmod: ERROR: Module virtio is builtin.",
    ],
    [
      { kind: "module-builtin", tool: "modprobe", module: "virtio" },
      "modprobe: FATAL: Module virtio is builtin.",
    ],
    [
      { kind: "modprobe-insert-failed", module: "vdpa_sim", errno: "EINVAL" },
      "modprobe: ERROR: could not insert 'vdpa_sim': Invalid argument",
    ],
    [
      { kind: "rmmod-not-loaded", module: "vhost_net" },
      "rmmod: ERROR: Module vhost_net is not currently loaded",
    ],
    [
      { kind: "rmmod-in-use-by", module: "vdpa", holders: ["vhost_vdpa", "vdpa_sim"] },
      "rmmod: ERROR: Module vdpa is in use by: vhost_vdpa vdpa_sim",
    ],
    [{ kind: "rmmod-in-use", module: "vhost_vdpa" }, "rmmod: ERROR: Module vhost_vdpa is in use"],
    [
      {
        kind: "remove-blocked",
        tool: "rmmod",
        module: "vdpa_sim_net",
        waitingFor: "/dev/vhost-vdpa-0",
      },
      "rmmod: ERROR: could not remove module vdpa_sim_net: Device or resource busy",
    ],
    [
      { kind: "fs", op: "write", path: "/sys/bus/vdpa/drivers/vhost_vdpa/bind", errno: "ENODEV" },
      "bash: echo: write error: No such device",
    ],
    [
      { kind: "fs", op: "open-write", path: "/sys/x/bind", errno: "ENOENT" },
      "bash: /sys/x/bind: No such file or directory",
    ],
    [
      { kind: "fs", op: "open-read", path: "/sys/x", errno: "EACCES" },
      "cat: /sys/x: Permission denied",
    ],
    [
      { kind: "fs", op: "stat", path: "/dev/vhost-vdpa-*", errno: "ENOENT" },
      "ls: cannot access '/dev/vhost-vdpa-*': No such file or directory",
    ],
    [{ kind: "vdpa-netlink-unavailable" }, "Failed to connect to vdpa Netlink"],
    [
      {
        kind: "vdpa-netlink",
        errno: "EOPNOTSUPP",
        extack: "vdpa: All provided attributes are not supported",
      },
      "Error: vdpa: All provided attributes are not supported.\nkernel answers: Operation not supported",
    ],
    [{ kind: "vdpa-netlink", errno: "EEXIST" }, "kernel answers: File exists"],
    [{ kind: "rtnetlink", errno: "EEXIST" }, "RTNETLINK answers: File exists"],
    [
      { kind: "rtnetlink", errno: "EINVAL", extack: "mtu less than device minimum" },
      "Error: mtu less than device minimum.",
    ],
    [{ kind: "ip-no-device", name: "tap0" }, 'Cannot find device "tap0"'],
    // ip link show's filter says it in other words
    [{ kind: "ip-no-device", name: "tap0", op: "show" }, 'Device "tap0" does not exist.'],
    [
      { kind: "modprobe-already-loaded", module: "vdpa" },
      "modprobe: ERROR: could not insert 'vdpa': Module already in kernel",
    ],
    [
      { kind: "modprobe-not-in-kernel", module: "vdpa" },
      "modprobe: FATAL: Module vdpa is not in kernel.",
    ],
    // tee names the file for open and write failures alike
    [
      {
        kind: "fs",
        op: "write",
        path: "/sys/bus/vdpa/drivers/vhost_vdpa/bind",
        errno: "EBUSY",
        tool: "tee",
      },
      "tee: /sys/bus/vdpa/drivers/vhost_vdpa/bind: Device or resource busy",
    ],
    [
      { kind: "fs", op: "open-write", path: "/sys/x", errno: "ENOENT", tool: "tee" },
      "tee: /sys/x: No such file or directory",
    ],
    [
      { kind: "tuntap-ioctl", ioctl: "TUNSETIFF", errno: "EBUSY" },
      "ioctl(TUNSETIFF): Device or resource busy",
    ],
  ];
  for (const [e, text] of cases) {
    await t.step(e.kind, () => assert.equal(formatHostError(e), text));
  }
});

Deno.test("An extack that already ends with a period gets no second one", () => {
  assert.equal(
    formatHostError({ kind: "vdpa-netlink", errno: "EINVAL", extack: "vdpa: done." }),
    "Error: vdpa: done.\nkernel answers: Invalid argument",
  );
});
