import { ok as assert } from "node:assert/strict";
import fc from "fast-check";
import { Diagnostics, primarySpan } from "../lang/diagnostic.ts";
import { parseCommand } from "../lang/commands/mod.ts";
import { testWords } from "../lang/commands/test_words.ts";
import { CHECK_CODES } from "./check/codes.ts";
import { resolveQemu } from "./qemu_config.ts";

// Command lines assembled from the catalogs' own vocabulary plus garbage: the checker must
// never throw, every diagnostic must point inside the line, and a configuration comes back
// exactly when no error was reported.

const HEADS: Record<string, string[]> = {
  "-netdev": ["tap", "user", "vhost-user", "vhost-vdpa", "socket", "tapp", "type=tap"],
  "-device": [
    "virtio-net-pci",
    "vfio-pci",
    "intel-iommu",
    "virtio-iommu-pci",
    "pcie-root-port",
    "e1000",
    "VGA",
    "virtio-net-device",
    "nosuch",
  ],
  "-chardev": ["socket", "file", "null", "sockte"],
  "-object": [
    "memory-backend-memfd",
    "memory-backend-file",
    "memory-backend-ram",
    "iothread",
    "filter-dump",
    "nope",
  ],
  "-machine": ["q35", "pc", "pc-q35-7.1", "pc-q35-5.2", "microvm", "q36"],
  "-numa": ["node", "dist", "nod"],
  "-nic": ["tap", "user", "none"],
  "-net": ["nic", "tap", "user"],
};
const KEYS = [
  "id",
  "netdev",
  "chardev",
  "memdev",
  "memory-backend",
  "bus",
  "queues",
  "vhost",
  "vhostdev",
  "vhostfd",
  "mq",
  "vectors",
  "rx_queue_size",
  "tx_queue_size",
  "iommu_platform",
  "ats",
  "intremap",
  "caching-mode",
  "device-iotlb",
  "aw-bits",
  "eim",
  "size",
  "share",
  "mem-path",
  "hugetlb",
  "path",
  "server",
  "wait",
  "reconnect",
  "reconnect-ms",
  "host",
  "port",
  "accel",
  "kernel-irqchip",
  "model",
  "mac",
  "fd",
  "ifname",
  "disable-legacy",
  "disable-modern",
  "x-svq",
  "nodeid",
  "cpus",
  "vhsot",
  "bogus",
];
const VALUES = [
  "on",
  "off",
  "auto",
  "0",
  "1",
  "2",
  "4",
  "256",
  "300",
  "1024",
  "4096",
  "4G",
  "1G",
  "n0",
  "n1",
  "c0",
  "m0",
  "rp",
  "/tmp/s",
  "/dev/vhost-vdpa-0",
  "x",
  "-1",
  "0x10",
  "split",
  "kvm",
  "kvm:tcg",
  "pcie.0",
  "52:54:00:12:34:56",
  "0000:3b:00.1",
  "virtio",
  "virtio-net-pci",
  "",
];

const item = fc.oneof(
  fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES)).map(([k, v]) => `${k}=${v}`),
  fc.constantFrom("server", "nowait", "vhost", "mq"),
);

const option = fc.oneof(
  fc.tuple(fc.constantFrom(...Object.keys(HEADS)), fc.array(item, { maxLength: 6 })).chain((
    [opt, items],
  ) =>
    fc.constantFrom(...(HEADS[opt] ?? [])).map((head) => `${opt} ${[head, ...items].join(",")}`)
  ),
  fc.constantFrom(
    "-m 2G",
    "-m 0",
    "-m lots",
    "-smp 4",
    "-smp 4,sockets=3",
    "-smp 2,cores=0",
    "-enable-kvm",
    "-name vm1",
    "-mem-path /dev/hugepages",
    "-global virtio-net-pci.mq=on",
    "-accel kvm,kernel-irqchip=split",
  ),
);

Deno.test("resolveQemu() never throws and is consistent on generated command lines", () => {
  const known = new Set(Object.keys(CHECK_CODES));
  let resolved = 0;
  fc.assert(
    fc.property(fc.array(option, { minLength: 1, maxLength: 8 }), (opts) => {
      const line = `qemu-system-x86_64 ${opts.join(" ")}`;
      const cmd = parseCommand(testWords(line), new Diagnostics());
      if (cmd?.kind !== "qemu") return;
      const diags = new Diagnostics();
      const config = resolveQemu(cmd, diags);
      resolved++;
      assert((config === undefined) === diags.hasErrors, line);
      for (const d of diags.items) {
        assert(known.has(d.code), `${d.code} on ${line}`);
        const s = primarySpan(d);
        assert(
          s !== undefined && s.start >= 0 && s.end <= line.length && s.start <= s.end,
          `${d.code} span on ${line}`,
        );
      }
    }),
    { numRuns: 400, seed: 20240607 },
  );
  // Most generated lines must get past the command parser, or the property tests nothing.
  assert(resolved > 200, `only ${resolved} of 400 lines reached the checker`);
});
