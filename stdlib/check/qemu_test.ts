import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { type Diagnostic, Diagnostics, primarySpan } from "../../lang/diagnostic.ts";
import { renderDiagnostics } from "../../lang/render.ts";
import { SourceMap } from "../../lang/span.ts";
import { checkQemu } from "./qemu.ts";
import { testQemu } from "./test_commands.ts";

const Q = "qemu-system-x86_64";

/** Checks one line; `at(d)` is the source text under a diagnostic's primary label. */
function check(line: string) {
  const diags = new Diagnostics();
  const clean = checkQemu(testQemu(line), diags);
  const items = diags.items;
  return {
    clean,
    items,
    codes: items.map((d) => d.code),
    find(code: string): Diagnostic {
      const d = items.find((x) => x.code === code);
      if (!d) {
        throw new Error(`no ${code} in ${items.map((x) => `${x.code} ${x.message}`).join("; ")}`);
      }
      return d;
    },
    at(d: Diagnostic): string {
      const s = primarySpan(d);
      return s ? line.slice(s.start, s.end) : "";
    },
    secondary(d: Diagnostic): string[] {
      return d.labels.filter((l) => !l.primary).map((l) => line.slice(l.span.start, l.span.end));
    },
  };
}

function errors(line: string): string[] {
  return check(line).items.filter((d) => d.severity === "error").map((d) => d.code);
}

Deno.test("a correct vhost-net line has no diagnostic at all", () => {
  const r = check(
    `${Q} -name vm1 -m 2G -netdev tap,id=n0,ifname=tap0,vhost=on -device virtio-net-pci,netdev=n0`,
  );
  assertEquals(r.items, []);
  assertEquals(r.clean, true);
});

Deno.test("unknown names are errors with did-you-mean from the catalogs", async (t) => {
  await t.step("E0220: device driver", () => {
    const r = check(`${Q} -netdev tap,id=n0 -device vitrio-net-pci,netdev=n0`);
    const d = r.find("E0220");
    assertEquals(r.at(d), "vitrio-net-pci");
    assertEquals(d.help, ["did you mean `virtio-net-pci`?"]);
    assertEquals(d.notes, ["QEMU says: 'vitrio-net-pci' is not a valid device model name"]);
  });
  await t.step("E0221: netdev type", () => {
    const r = check(`${Q} -netdev vhost_user,id=n0,chardev=c0`);
    const d = r.find("E0221");
    assertEquals(r.at(d), "vhost_user");
    assertEquals(d.help, ["did you mean `vhost-user`?"]);
    assertEquals(d.notes, ["QEMU says: Parameter 'type' does not accept value 'vhost_user'"]);
  });
  await t.step("E0222: chardev backend", () => {
    const r = check(`${Q} -chardev sockte,id=c0,path=/tmp/s`);
    assertEquals(r.find("E0222").help, ["did you mean `socket`?"]);
    assertEquals(r.find("E0222").notes, ["QEMU says: 'sockte' is not a valid char driver name"]);
  });
  await t.step("E0223: object type", () => {
    const r = check(`${Q} -object memory-backend-memdf,id=m0,size=1G`);
    assertEquals(r.find("E0223").help, ["did you mean `memory-backend-memfd`?"]);
    assertEquals(r.find("E0223").notes, ["QEMU says: invalid object type: memory-backend-memdf"]);
  });
  await t.step("E0224: machine type (a removed version is unknown too)", () => {
    const r = check(`${Q} -machine pc-q35-5.0 -m 1G`);
    const d = r.find("E0224");
    assertEquals(r.at(d), "pc-q35-5.0");
    assertEquals(d.notes[0], 'QEMU says: unsupported machine type: "pc-q35-5.0"');
    assertEquals(check(`${Q} -M q53`).find("E0224").help, ["did you mean `q35`?"]);
  });
  await t.step("E0224: accelerator", () => {
    const r = check(`${Q} -machine q35,accel=kmv`);
    assertEquals(r.find("E0224").notes, ["QEMU says: invalid accelerator kmv"]);
    assertEquals(r.find("E0224").help, ["did you mean `kvm`?"]);
  });
  await t.step("E0225: property, with QEMU's text for the option's parser", () => {
    const tap = check(`${Q} -netdev tap,id=n0,vhsot=on`).find("E0225");
    assertEquals(tap.help, ["did you mean `vhost`?"]);
    assertEquals(tap.notes, ["QEMU says: Invalid parameter 'vhsot'"]);
    const dev = check(`${Q} -netdev tap,id=n0 -device virtio-net-pci,netdev=n0,tx-queue-size=512`);
    const d = dev.find("E0225");
    assertEquals(dev.at(d), "tx-queue-size");
    assertEquals(d.help, ["did you mean `tx_queue_size`?"]);
    assertEquals(d.notes, ["QEMU says: Property 'virtio-net-pci.tx-queue-size' not found"]);
  });
});

Deno.test("E0226: a value of the wrong type points at the value", async (t) => {
  await t.step("boolean", () => {
    const r = check(`${Q} -netdev tap,id=n0,vhost=1`);
    const d = r.find("E0226");
    assertEquals(r.at(d), "1");
    assertEquals(d.notes, ["QEMU says: Parameter 'vhost' expects 'on' or 'off'"]);
  });
  await t.step("integer and its C range", () => {
    const r = check(`${Q} -netdev tap,id=n0 -device virtio-net-pci,netdev=n0,rx_queue_size=big`);
    assertEquals(r.find("E0226").notes, ["QEMU says: Parameter 'rx_queue_size' expects integer"]);
    const r2 = check(`${Q} -netdev tap,id=n0 -device virtio-net-pci,netdev=n0,host_mtu=65536`);
    assertEquals(r2.find("E0226").notes, ["QEMU says: Parameter 'host_mtu' expects uint16_t"]);
  });
  await t.step("enum with a suggestion", () => {
    const r = check(`${Q} -netdev tap,id=n0 -device virtio-net-pci,netdev=n0,disable-legacy=yes`);
    assertEquals(r.find("E0226").notes, [
      "QEMU says: Parameter 'disable-legacy' does not accept value 'yes'",
    ]);
  });
  await t.step("MAC address and identifier", () => {
    const r = check(`${Q} -netdev tap,id=n0 -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34`);
    assertEquals(r.find("E0226").notes, [
      "QEMU says: Property 'virtio-net-pci.mac' doesn't take value '52:54:00:12:34'",
    ]);
    const id = check(`${Q} -netdev tap,id=0net`);
    assertEquals(id.find("E0226").notes, [
      "QEMU says: Parameter 'id' expects an identifier",
      "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.",
    ]);
  });
  await t.step("-m takes MiB without a suffix and rejects 0 and nonsense", () => {
    assertEquals(errors(`${Q} -m lots`), ["E0226"]);
    // "-m 0" is QEMU's backward-compatible spelling of the default size.
    assertEquals(check(`${Q} -m 0`).codes, []);
  });
});

Deno.test("E0227: required properties, with QEMU's text", async (t) => {
  await t.step("-netdev without id", () => {
    const d = check(`${Q} -netdev tap,vhost=on`).find("E0227");
    assertEquals(d.notes, ["QEMU says: Parameter 'id' is missing"]);
  });
  await t.step("vhost-user without chardev", () => {
    const d = check(`${Q} -netdev vhost-user,id=n0`).find("E0227");
    assertEquals(d.message, "netdev `vhost-user` needs `chardev=`");
  });
  await t.step("socket chardev without an address", () => {
    const d = check(`${Q} -chardev socket,id=c0,server=on`).find("E0227");
    assertEquals(d.notes, ["QEMU says: chardev: socket: no host given"]);
  });
  await t.step("vhost-vdpa without vhostdev (no default device)", () => {
    const d = check(`${Q} -netdev vhost-vdpa,id=v0 -device virtio-net-pci,netdev=v0`).find("E0227");
    assertEquals(d.notes[0], "QEMU says: vhost-vdpa: neither vhostdev= nor vhostfd= was specified");
  });
  await t.step("memory backend without size, file backend without mem-path", () => {
    const r = check(`${Q} -object memory-backend-file,id=m0`);
    assertEquals(r.items.filter((d) => d.code === "E0227").map((d) => d.notes[0]), [
      "QEMU says: can't create backend with size 0",
      "QEMU says: mem-path property not set",
    ]);
  });
  await t.step("vfio-pci without host", () => {
    assertEquals(
      check(`${Q} -device vfio-pci`).find("E0227").notes[0],
      "QEMU says: No provided host device",
    );
  });
});

Deno.test("E0228: ids are unique per QEMU namespace", async (t) => {
  await t.step("two netdevs", () => {
    const r = check(`${Q} -netdev tap,id=n0 -netdev user,id=n0 -device virtio-net-pci,netdev=n0`);
    const d = r.find("E0228");
    assertEquals(d.notes, ["QEMU says: Duplicate ID 'n0' for netdev"]);
    assertEquals(r.secondary(d), ["n0"]);
    assert(primarySpan(d)?.start !== d.labels[1]?.span.start);
  });
  await t.step("chardevs, objects and devices have their own texts", () => {
    assertEquals(
      check(`${Q} -chardev socket,id=c,path=/a -chardev socket,id=c,path=/b`).find("E0228").notes,
      ["QEMU says: Duplicate ID 'c' for chardev"],
    );
    assertEquals(
      check(`${Q} -object memory-backend-ram,id=m,size=1G -object iothread,id=m`).find("E0228")
        .notes,
      ["QEMU says: attempt to add duplicate property 'm' to object (type 'container')"],
    );
    assertEquals(
      check(`${Q} -device pcie-root-port,id=rp -device pcie-root-port,id=rp`).find("E0228").notes,
      ["QEMU says: Duplicate device ID 'rp'"],
    );
  });
  await t.step("the same id in two namespaces is legal, as in QEMU", () => {
    assertEquals(
      errors(
        `${Q} -chardev socket,id=x,path=/tmp/s -netdev tap,id=x -device virtio-net-pci,netdev=x,id=x`,
      ),
      [],
    );
  });
});

Deno.test("E0229: dangling references name what exists", async (t) => {
  await t.step("netdev=", () => {
    const r = check(`${Q} -netdev tap,id=net0 -device virtio-net-pci,netdev=nte0`);
    const d = r.find("E0229");
    assertEquals(r.at(d), "nte0");
    assertEquals(d.notes, ["QEMU says: Property 'virtio-net-pci.netdev' can't find value 'nte0'"]);
    assertEquals(d.help, ["did you mean `net0`?"]);
  });
  await t.step("chardev= of vhost-user", () => {
    const d = check(`${Q} -netdev vhost-user,id=n0,chardev=c9 -device virtio-net-pci,netdev=n0`)
      .find("E0229");
    assertEquals(d.notes, ['QEMU says: chardev "c9" not found']);
  });
  await t.step("memdev= and memory-backend=", () => {
    assertEquals(check(`${Q} -numa node,memdev=mem9`).find("E0229").notes, [
      "QEMU says: memdev=mem9 is ambiguous",
    ]);
    assertEquals(check(`${Q} -machine q35,memory-backend=mem9`).find("E0229").notes, [
      "QEMU says: Memory backend 'mem9' not found",
    ]);
  });
  await t.step("bus= must name an earlier bridge or the machine's root bus", () => {
    assertEquals(
      errors(
        `${Q} -device pcie-root-port,id=rp1 -device virtio-net-pci,bus=rp1,netdev=n -netdev tap,id=n`,
      ),
      [],
    );
    const later = check(
      `${Q} -netdev tap,id=n -device virtio-net-pci,bus=rp1,netdev=n -device pcie-root-port,id=rp1`,
    );
    assertEquals(later.find("E0229").notes, [
      "QEMU says: Bus 'rp1' not found",
      "the bridge is defined later: QEMU creates devices in command-line order",
    ]);
    assertEquals(
      check(`${Q} -M pc -netdev tap,id=n -device virtio-net-pci,bus=pcie.0,netdev=n`).find("E0229")
        .notes[0],
      "QEMU says: Bus 'pcie.0' not found",
    );
  });
});

Deno.test("E0230: a netdev serves one NIC, a chardev one frontend", () => {
  const r = check(
    `${Q} -netdev tap,id=n0 -device virtio-net-pci,netdev=n0 -device virtio-net-pci,netdev=n0`,
  );
  const d = r.find("E0230");
  assertEquals(d.notes, [
    "QEMU says: Property 'virtio-net-pci.netdev' can't take value 'n0', it's in use",
  ]);
  assertEquals(r.secondary(d), ["n0"]);
  const c = check(
    `${Q} -chardev socket,id=c0,path=/s -netdev vhost-user,id=a,chardev=c0 -netdev vhost-user,id=b,chardev=c0 -device virtio-net-pci,netdev=a -device virtio-net-pci,netdev=b`,
  );
  assertEquals(c.codes.filter((x) => x === "E0230").length, 1);
});

Deno.test("E0231: virtqueue sizes are powers of 2 from 256 to 1024", async (t) => {
  const nic = (p: string) => check(`${Q} -netdev tap,id=n0 -device virtio-net-pci,netdev=n0,${p}`);
  await t.step("rx: too small, not a power of 2, too big", () => {
    for (const v of ["128", "300", "2048"]) {
      assertEquals(nic(`rx_queue_size=${v}`).find("E0231").notes, [
        `QEMU says: Invalid rx_queue_size (= ${v}), must be a power of 2 between 256 and 1024.`,
      ]);
    }
  });
  await t.step("tx has the same rule (its QEMU text has no final period)", () => {
    assertEquals(nic("tx_queue_size=0").find("E0231").notes, [
      "QEMU says: Invalid tx_queue_size (= 0), must be a power of 2 between 256 and 1024",
    ]);
  });
  await t.step("the bounds themselves are fine", () => {
    assertEquals(nic("rx_queue_size=256,tx_queue_size=256").codes, []);
    assertEquals(nic("rx_queue_size=1024").codes, []);
  });
});

Deno.test("E0232: vhost-user queues from 1 to 1024", () => {
  const d = check(
    `${Q} -object memory-backend-memfd,id=m,size=1G -machine memory-backend=m -m 1G -chardev socket,id=c,path=/s -netdev vhost-user,id=n,chardev=c,queues=0 -device virtio-net-pci,netdev=n`,
  ).find("E0232");
  assertEquals(d.notes, ["QEMU says: vhost-user number of queues must be in range [1, 1024]"]);
});

Deno.test("E0233: the vIOMMU's machine and irqchip rules", async (t) => {
  await t.step("intel-iommu needs q35", () => {
    assertEquals(
      check(`${Q} -M pc -device intel-iommu`).find("E0233").message,
      "intel-iommu needs a q35 machine, not pc-i440fx-10.2",
    );
  });
  await t.step("intremap=on under KVM needs a split irqchip", () => {
    const r = check(`${Q} -machine q35,accel=kvm -device intel-iommu,intremap=on`);
    assertEquals(r.find("E0233").notes, [
      "QEMU says: Interrupt Remapping cannot work with kernel-irqchip=on, please use 'split|off'.",
    ]);
    assertEquals(
      errors(`${Q} -machine q35,accel=kvm,kernel-irqchip=split -device intel-iommu,intremap=on`),
      [],
    );
    assertEquals(
      errors(`${Q} -machine q35,accel=kvm,kernel-irqchip=off -device intel-iommu,intremap=on`),
      [],
    );
    // Without KVM the irqchip is emulated: nothing to split.
    assertEquals(errors(`${Q} -machine q35 -device intel-iommu,intremap=on`), []);
    // -enable-kvm counts as accel=kvm.
    assertEquals(errors(`${Q} -enable-kvm -machine q35 -device intel-iommu,intremap=on`), [
      "E0233",
    ]);
  });
  await t.step("intremap=auto quietly turns off instead", () => {
    assertEquals(errors(`${Q} -machine q35,accel=kvm -device intel-iommu`), []);
  });
  await t.step("eim needs interrupt remapping", () => {
    assertEquals(check(`${Q} -M q35 -device intel-iommu,intremap=off,eim=on`).find("E0233").notes, [
      "QEMU says: eim=on cannot be selected without intremap=on",
    ]);
  });
  await t.step("vfio-pci behind intel-iommu needs caching-mode", () => {
    const r = check(
      `${Q} -M q35,kernel-irqchip=split -device intel-iommu -device vfio-pci,host=0000:3b:00.1`,
    );
    assertEquals(r.find("E0233").notes, [
      "QEMU says: Device assignment is not allowed without enabling caching-mode=on for Intel IOMMU.",
    ]);
    assertEquals(
      errors(`${Q} -M q35 -device intel-iommu,caching-mode=on -device vfio-pci,host=0000:3b:00.1`),
      [],
    );
  });
  await t.step("one vIOMMU per VM", () => {
    assertEquals(
      check(`${Q} -M q35 -device intel-iommu -device virtio-iommu-pci`).find("E0233").notes,
      [
        "QEMU says: QEMU does not support multiple vIOMMUs for x86 yet.",
      ],
    );
  });
  await t.step("aw-bits is 39 or 48", () => {
    assertEquals(check(`${Q} -M q35 -device intel-iommu,aw-bits=52`).find("E0226").notes, [
      "QEMU says: Supported values for aw-bits are: 39, 48",
    ]);
  });
});

Deno.test("E0234: vhost-user and vhost-vdpa need a virtio-net frontend and a unix socket", async (t) => {
  const mem = "-m 1G -object memory-backend-memfd,id=m,size=1G -machine memory-backend=m";
  await t.step("an e1000 on vhost-user", () => {
    const r = check(
      `${Q} ${mem} -chardev socket,id=c,path=/s -netdev vhost-user,id=n,chardev=c -device e1000,netdev=n`,
    );
    assertEquals(r.find("E0234").notes, [
      "QEMU says: vhost-user requires frontend driver virtio-net-*",
    ]);
  });
  await t.step("a file chardev is not reconnectable", () => {
    const r = check(
      `${Q} ${mem} -chardev file,id=c,path=/log -netdev vhost-user,id=n,chardev=c -device virtio-net-pci,netdev=n`,
    );
    assertEquals(r.find("E0234").notes, ['QEMU says: chardev "c" is not reconnectable']);
  });
  await t.step("a TCP socket cannot pass fds", () => {
    const r = check(
      `${Q} ${mem} -chardev socket,id=c,host=127.0.0.1,port=4444,server=on -netdev vhost-user,id=n,chardev=c -device virtio-net-pci,netdev=n`,
    );
    assertEquals(r.find("E0234").notes, ['QEMU says: chardev "c" does not support FD passing']);
  });
});

Deno.test("E0235: properties that exclude each other", async (t) => {
  await t.step("wait= on a client socket, reconnect on a server", () => {
    assertEquals(check(`${Q} -chardev socket,id=c,path=/s,wait=off`).find("E0235").notes, [
      "QEMU says: 'wait' option is incompatible with socket in client connect mode",
    ]);
    assertEquals(
      check(`${Q} -chardev socket,id=c,path=/s,server=on,reconnect-ms=100`).find("E0235").notes,
      [
        "QEMU says: 'reconnect-ms' option is incompatible with socket in server listen mode",
      ],
    );
  });
  await t.step("-append and -initrd without -kernel", () => {
    assertEquals(check(`${Q} -append "intel_iommu=on"`).find("E0235").notes, [
      "QEMU says: -append only allowed with -kernel option",
    ]);
    assertEquals(check(`${Q} -initrd /boot/initrd.img`).find("E0235").notes, [
      "QEMU says: -initrd only allowed with -kernel option",
    ]);
    assertEquals(errors(`${Q} -kernel /boot/vmlinuz -append "intel_iommu=on iommu=pt"`), []);
  });
  await t.step("vhostdev= with vhostfd=", () => {
    assertEquals(
      check(`${Q} -netdev vhost-vdpa,id=v,vhostdev=/dev/vhost-vdpa-0,vhostfd=3`).find("E0235")
        .notes,
      [
        "QEMU says: vhost-vdpa: vhostdev= and vhostfd= are mutually exclusive",
      ],
    );
  });
  await t.step("tap fd= with ifname=, vhostfd= with vhost=off", () => {
    assertEquals(errors(`${Q} -netdev tap,id=n,fd=3,ifname=tap0 -device virtio-net-pci,netdev=n`), [
      "E0235",
    ]);
    assertEquals(
      check(`${Q} -netdev tap,id=n,vhost=off,vhostfd=4 -device virtio-net-pci,netdev=n`).find(
        "E0235",
      ).notes,
      [
        "QEMU says: vhostfd(s)= is not valid without vhost",
      ],
    );
  });
  await t.step("neither legacy nor modern", () => {
    assertEquals(
      check(
        `${Q} -netdev tap,id=n -device virtio-net-pci,netdev=n,disable-legacy=on,disable-modern=on`,
      ).find("E0235").notes[0],
      "QEMU says: device cannot work as neither modern nor legacy mode is enabled",
    );
  });
  await t.step("machine memory-backend with NUMA memdevs", () => {
    const r = check(
      `${Q} -m 1G -object memory-backend-ram,id=m,size=1G -machine memory-backend=m -numa node,memdev=m`,
    );
    assertEquals(r.find("E0235").notes, [
      "QEMU says: '-machine memory-backend' and '-numa memdev' properties are mutually exclusive",
    ]);
  });
});

Deno.test("E0236: memory sizes must agree", async (t) => {
  await t.step("-m against memory-backend=", () => {
    const r = check(
      `${Q} -m 2G -object memory-backend-memfd,id=m,size=4G -machine memory-backend=m`,
    );
    assertEquals(r.find("E0236").notes, [
      "QEMU says: Size specified by -m option must match size of explicitly specified 'memory-backend' property",
    ]);
  });
  await t.step("NUMA nodes against -m (no -m means 128M)", () => {
    const r = check(`${Q} -object memory-backend-memfd,id=m,size=4G -numa node,memdev=m`);
    assertEquals(r.find("E0236").notes, [
      "QEMU says: total memory for NUMA nodes (0x100000000) should equal RAM size (0x8000000)",
    ]);
    assertEquals(
      errors(`${Q} -m 4G -object memory-backend-memfd,id=m,size=4G -numa node,memdev=m`),
      [],
    );
  });
  await t.step("memdev for all nodes or none", () => {
    const r = check(
      `${Q} -m 2G -object memory-backend-ram,id=m,size=1G -numa node,memdev=m -numa node`,
    );
    assertEquals(r.find("E0236").notes, [
      "QEMU says: memdev option must be specified for either all or no nodes",
    ]);
  });
});

Deno.test("E0237: a removed property is an error, not an unknown one", () => {
  const r = check(`${Q} -m 1G -numa node,mem=1G`);
  assertEquals(r.codes, ["E0237"]);
});

Deno.test("E0238: the CPU topology must multiply out", () => {
  const r = check(`${Q} -smp 8,sockets=1,cores=2,threads=2,maxcpus=8`);
  assertEquals(
    r.find("E0238").notes[0],
    "QEMU says: Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (1) * dies (1) * modules (1) * cores (2) * threads (2) != maxcpus (8)",
  );
  assertEquals(check(`${Q} -smp 8,maxcpus=4`).find("E0238").notes, [
    "QEMU says: maxcpus (4) must be equal to or greater than smp (8)",
  ]);
  assertEquals(errors(`${Q} -smp 4,sockets=1,cores=4,threads=1`), []);
  assertEquals(errors(`${Q} -smp 6`), []);
});

Deno.test("E0239: virtio-net-device has no virtio bus on pc/q35", () => {
  const r = check(`${Q} -netdev tap,id=n -device virtio-net-device,netdev=n`);
  assertEquals(r.find("E0239").notes, [
    "QEMU says: No 'virtio-bus' bus found for device 'virtio-net-device'",
  ]);
});

Deno.test("warnings: ignored, unmodelled, deprecated, no peer", async (t) => {
  await t.step("W0220: one warning per line lists every ignored setting at its place", () => {
    const r = check(
      `${Q} -netdev tap,id=n,sndbuf=1M -device virtio-net-pci,netdev=n,addr=0x5 -device VGA`,
    );
    const d = r.find("W0220");
    assertEquals(r.codes.filter((c) => c === "W0220").length, 1);
    assertEquals(r.at(d), "sndbuf");
    assertEquals(r.secondary(d), ["addr", "VGA"]);
  });
  await t.step("W0221: a backend or NIC the lab does not simulate", () => {
    assertEquals(
      check(`${Q} -netdev socket,id=s,listen=:1234 -device virtio-net-pci,netdev=s`).codes,
      ["W0221"],
    );
    assertEquals(check(`${Q} -netdev tap,id=n -device e1000,netdev=n`).codes, ["W0221"]);
  });
  await t.step("W0222: deprecated properties and machine types", () => {
    assertEquals(
      check(`${Q} -netdev tap,id=n,vhostforce=on -device virtio-net-pci,netdev=n`).codes,
      ["W0222"],
    );
    assertEquals(check(`${Q} -M pc-q35-6.2`).codes, ["W0222"]);
  });
  await t.step("W0223: a netdev nobody uses, a NIC without netdev", () => {
    assertEquals(check(`${Q} -netdev tap,id=n0`).find("W0223").notes, [
      "QEMU says: warning: netdev n0 has no peer",
    ]);
    assertEquals(check(`${Q} -device virtio-net-pci`).find("W0223").notes, [
      "QEMU says: warning: nic virtio-net-pci.0 has no peer",
    ]);
  });
});

Deno.test("warnings: half-configured datapaths", async (t) => {
  await t.step("W0224: tx_queue_size above 256 on tap is clamped", () => {
    const r = check(
      `${Q} -netdev tap,id=n,vhost=on -device virtio-net-pci,netdev=n,tx_queue_size=1024`,
    );
    assertEquals(r.codes, ["W0224"]);
  });
  await t.step("W0225: vhost-user without shared memory", () => {
    const r = check(
      `${Q} -chardev socket,id=c,path=/s -netdev vhost-user,id=n,chardev=c -device virtio-net-pci,netdev=n`,
    );
    assertEquals(r.codes, ["W0225"]);
    const privateFile = check(
      `${Q} -m 1G -object memory-backend-file,id=m,size=1G,mem-path=/dev/hugepages -numa node,memdev=m -chardev socket,id=c,path=/s -netdev vhost-user,id=n,chardev=c -device virtio-net-pci,netdev=n`,
    );
    const d = privateFile.find("W0225");
    assertEquals(privateFile.secondary(d), [
      "-object memory-backend-file,id=m,size=1G,mem-path=/dev/hugepages",
    ]);
    assertEquals(d.labels[1]?.message, "`share` is off by default for memory-backend-file");
  });
  await t.step("W0226: devices before the vIOMMU, or without iommu_platform", () => {
    const before = check(
      `${Q} -M q35 -netdev tap,id=n -device virtio-net-pci,netdev=n,iommu_platform=on -device intel-iommu`,
    );
    assertEquals(before.codes, ["W0226"]);
    const bypass = check(
      `${Q} -M q35 -device intel-iommu -netdev tap,id=n -device virtio-net-pci,netdev=n`,
    );
    assertEquals(
      bypass.find("W0226").message,
      "`virtio-net-pci` bypasses the vIOMMU without `iommu_platform=on`",
    );
  });
  await t.step("W0227: queues without mq, mq without enough vectors", () => {
    assertEquals(check(`${Q} -netdev tap,id=n,queues=4 -device virtio-net-pci,netdev=n`).codes, [
      "W0227",
    ]);
    assertEquals(
      check(`${Q} -netdev tap,id=n,queues=4 -device virtio-net-pci,netdev=n,mq=on,vectors=4`).codes,
      ["W0227"],
    );
    assertEquals(
      check(`${Q} -netdev tap,id=n,queues=4 -device virtio-net-pci,netdev=n,mq=on,vectors=10`)
        .codes,
      [],
    );
    // mq=on with a single queue pair is legal and quiet.
    assertEquals(check(`${Q} -netdev tap,id=n -device virtio-net-pci,netdev=n,mq=on`).codes, []);
  });
  await t.step("W0229: more vectors than MSI-X has", () => {
    const d = check(`${Q} -netdev tap,id=n -device virtio-net-pci,netdev=n,vectors=4096`).find(
      "W0229",
    );
    assertEquals(d.notes[0], "QEMU says: warning: unable to init msix vectors to 4096");
  });
});

Deno.test("QEMU's short-form booleans mean on/off like QemuOpts", () => {
  // The command parser warns about the spelling (W0012); the meaning is checked here.
  const r = check(
    `${Q} -m 1G -object memory-backend-memfd,id=m,size=1G -machine memory-backend=m -chardev socket,id=c,path=/s,server,nowait -netdev vhost-user,id=n,chardev=c -device virtio-net-pci,netdev=n`,
  );
  assertEquals(r.items.filter((d) => d.severity === "error"), []);
});

Deno.test("rendered QEMU diagnostics (golden)", async (t) => {
  const line = `${Q} -machine q35,accel=kvm -netdev tap,id=n0,vhsot=on ` +
    `-device intel-iommu,intremap=on -device vitrio-net-pci,netdev=n0 ` +
    `-device virtio-net-pci,netdev=n0,rx_queue_size=300 -device virtio-net-pci,netdev=n0`;
  const sources = new SourceMap();
  sources.add("lab.vdpa", line + "\n");
  const diags = new Diagnostics();
  checkQemu(testQemu(line, "lab.vdpa"), diags);
  await t.assertSnapshot(renderDiagnostics(diags.items, sources), { serializer: String });
});
