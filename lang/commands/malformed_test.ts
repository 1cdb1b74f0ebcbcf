/**
 * The malformed-input table: each row is a script (one or more lines), the first diagnostic the
 * command parsers must report for it, where (line and column of the primary label, and the text
 * under it), and the first help line. Every code of COMMAND_CODES appears in at least one row.
 */

import assert from "node:assert/strict";
import { Diagnostics, primarySpan } from "../diagnostic.ts";
import { SourceFile } from "../span.ts";
import { COMMAND_CODES } from "./codes.ts";
import { parseCommand } from "./mod.ts";
import { testStatements } from "./test_words.ts";

interface Row {
  readonly input: string;
  readonly code: string;
  readonly line: number;
  readonly column: number;
  /** The source text under the primary label. */
  readonly under: string;
  /** The first help line. */
  readonly help: string;
}

const ROWS: readonly Row[] = [
  // dispatch, sudo, pipelines
  {
    input: "vdap dev show",
    code: "E0100",
    line: 1,
    column: 1,
    under: "vdap",
    help: "did you mean `vdpa`?",
  },
  {
    input: "lsmod\n  trafic t1 from a to b",
    code: "E0100",
    line: 2,
    column: 3,
    under: "trafic",
    help: "did you mean `traffic`?",
  },
  {
    input: "sudo -i modprobe vdpa",
    code: "E0113",
    line: 1,
    column: 6,
    under: "-i",
    help: "the lab has no users or passwords: drop the option, or `sudo` altogether",
  },
  { input: "sudo run", code: "W0011", line: 1, column: 1, under: "sudo", help: "remove `sudo`" },
  {
    input: "lsmod | sort",
    code: "E0112",
    line: 1,
    column: 9,
    under: "sort",
    help: "after `|` the lab supports `grep`, `head`, `tail` and `wc -l` (and `tee` after `echo`)",
  },
  // modprobe family
  {
    input: "modprobe",
    code: "E0103",
    line: 1,
    column: 1,
    under: "modprobe",
    help: "write the module to load, e.g. `modprobe vhost_vdpa`",
  },
  {
    input: "modprobe --remoev vdpa_sim",
    code: "E0101",
    line: 1,
    column: 10,
    under: "--remoev",
    help: "did you mean `--remove`?",
  },
  {
    input: "lsmod vdpa",
    code: "E0104",
    line: 1,
    column: 7,
    under: "vdpa",
    help: "filter the list with `lsmod | grep NAME`",
  },
  // vdpa
  {
    input: "vdpa dev add name vdpa0 mgmtdev vdpasim_net mt 1500",
    code: "E0101",
    line: 1,
    column: 45,
    under: "mt",
    help: "did you mean `mtu`?",
  },
  {
    input: "vdpa dev add name vdpa0 mgmtdev vdpasim_net \\\n    mtu",
    code: "E0102",
    line: 2,
    column: 5,
    under: "mtu",
    help: "write the number after `mtu`",
  },
  {
    input: "vdpa dev add name vdpa0",
    code: "E0103",
    line: 1,
    column: 10,
    under: "add name vdpa0",
    help: "add `mgmtdev vdpasim_net` (see `vdpa mgmtdev show` for the management devices)",
  },
  {
    input: "vdpa dev add name vdpa0 mgmtdev vdpasim_net mtu 70000",
    code: "E0106",
    line: 1,
    column: 49,
    under: "70000",
    help: "write a decimal number from 0 to 65535",
  },
  {
    input: "vdpa dev add name vdpa0 mgmtdev vdpasim_net device_features 0x1g",
    code: "E0107",
    line: 1,
    column: 61,
    under: "0x1g",
    help: "write the feature bits as hex, e.g. `0x300020000` (CTRL_VQ, VERSION_1, ACCESS_PLATFORM)",
  },
  {
    input: "vdpa dev add name vdpa0 mgmtdev vdpasim_net mac 00:11:22:33:44",
    code: "E0108",
    line: 1,
    column: 49,
    under: "00:11:22:33:44",
    help: "write it like `00:11:22:33:44:55`",
  },
  {
    input: "vdpa dev add name vdpa0 mgmtdev pci/0000:3b/00.2",
    code: "E0111",
    line: 1,
    column: 33,
    under: "pci/0000:3b/00.2",
    help:
      "write `name` (`vdpasim_net`) or `bus/name` (`pci/0000:3b:00.2`, `auxiliary/mlx5_core.sf.1`)",
  },
  {
    input: "vdpa dev frob",
    code: "E0105",
    line: 1,
    column: 10,
    under: "frob",
    help: "`vdpa dev` has `show`, `list`, `add`, `del`, `config`, `vstats`, `set`, `help`",
  },
  {
    input: "vdpa dev vstats show vdpa0 qidx",
    code: "E0104",
    line: 1,
    column: 22,
    under: "vdpa0 qidx",
    help: "write `vdpa dev vstats show vdpa0 qidx 0`",
  },
  {
    input: "vdpa devs",
    code: "E0105",
    line: 1,
    column: 6,
    under: "devs",
    help: "did you mean `dev`?",
  },
  // sysfs
  {
    input: "echo vdpa0 >",
    code: "E0112",
    line: 1,
    column: 12,
    under: ">",
    help: "write the target after `>`, e.g. `> /sys/bus/vdpa/drivers/vhost_vdpa/bind`",
  },
  {
    input: "echo vdpa0 > /a > /b",
    code: "E0112",
    line: 1,
    column: 17,
    under: "> /b",
    help: "write one `echo` per file",
  },
  {
    input: "echo 4>/sys/class/net/ens1f0/device/sriov_numvfs",
    code: "E0112",
    line: 1,
    column: 6,
    under: "4>/sys/class/net/ens1f0/device/sriov_numvfs",
    help:
      "to write `4`, put a space before `>`: `echo 4 > /sys/class/net/ens1f0/device/sriov_numvfs`",
  },
  {
    input: "sudo echo vdpa0 > /sys/bus/vdpa/drivers/vhost_vdpa/bind",
    code: "W0013",
    line: 1,
    column: 17,
    under: ">",
    help: "write `echo vdpa0 | sudo tee /sys/bus/vdpa/drivers/vhost_vdpa/bind`",
  },
  {
    input: "lsmod 2>/dev/null",
    code: "W0014",
    line: 1,
    column: 7,
    under: "2>/dev/null",
    help: "problems are reported as diagnostics either way; remove it to silence this warning",
  },
  {
    input: "lsmod 3> x.txt",
    code: "E0112",
    line: 1,
    column: 7,
    under: "3> x.txt",
    help: "remove it: the lab reports problems as diagnostics, there is no stderr to redirect",
  },
  {
    input: "vdpa dev show >",
    code: "E0112",
    line: 1,
    column: 15,
    under: ">",
    help: "write the target after it, e.g. `> /dev/null`",
  },
  {
    input: "lsmod > a.txt > b.txt",
    code: "E0112",
    line: 1,
    column: 15,
    under: "> b.txt",
    help: "keep one",
  },
  {
    input: "cat",
    code: "E0103",
    line: 1,
    column: 1,
    under: "cat",
    help: "write the file to print, e.g. `cat /sys/bus/vdpa/devices/vdpa0/driver_override`",
  },
  // QEMU
  {
    input: "qemu-system-riscv64 -m 1G",
    code: "E0114",
    line: 1,
    column: 1,
    under: "qemu-system-riscv64",
    help: "use `qemu-system-x86_64` (or `qemu-kvm`)",
  },
  {
    input: "qemu-system-x86_64 -device help",
    code: "E0115",
    line: 1,
    column: 28,
    under: "help",
    help: "`help qemu` lists the options, types and properties the lab models",
  },
  {
    input: `qemu-system-x86_64 -netdev '{"type":"tap"}'`,
    code: "E0116",
    line: 1,
    column: 28,
    under: `'{"type":"tap"}'`,
    help: "write the option as a comma list, e.g. `-netdev tap,id=n0`",
  },
  {
    input: "qemu-system-x86_64 -m 1G \\\n  -netdv tap,id=n0",
    code: "E0101",
    line: 2,
    column: 3,
    under: "-netdv",
    help: "did you mean `-netdev`?",
  },
  {
    input: "qemu-system-x86_64 -m 1G -netdev",
    code: "E0102",
    line: 1,
    column: 26,
    under: "-netdev",
    help: "write the argument after `-netdev`",
  },
  {
    input: "qemu-system-x86_64 -netdev ,id=n0",
    code: "E0110",
    line: 1,
    column: 28,
    under: ",",
    help: "start the list with the type, e.g. `tap,id=n0`",
  },
  {
    input: "qemu-system-x86_64 -nographic",
    code: "W0010",
    line: 1,
    column: 20,
    under: "-nographic",
    help: "remove it to silence this warning",
  },
  {
    input: "qemu-system-x86_64 -chardev socket,id=c0,path=/tmp/s,server=on,nowait",
    code: "W0012",
    line: 1,
    column: 64,
    under: "nowait",
    help: "write `wait=off`",
  },
  // ip
  {
    input: "ip link set tap0 upp",
    code: "E0104",
    line: 1,
    column: 18,
    under: "upp",
    help: "did you mean `up`?",
  },
  {
    input: "ip link add br0 type brdige",
    code: "E0120",
    line: 1,
    column: 22,
    under: "brdige",
    help: "did you mean `bridge`?",
  },
  {
    input: "ip tuntap add tap0123456789abcd mode tap",
    code: "E0121",
    line: 1,
    column: 15,
    under: "tap0123456789abcd",
    help: "use at most 15 characters without `/` or spaces",
  },
  {
    input: "vdpa dev add name vdpa.0 mgmtdev vdpasim_net",
    code: "E0123",
    line: 1,
    column: 19,
    under: "vdpa.0",
    help: "name the device with letters, digits, `_` and `-`, e.g. `vdpa0`",
  },
  {
    input: "ip tuntap add tap0 mode tcp",
    code: "E0109",
    line: 1,
    column: 25,
    under: "tcp",
    help: "did you mean `tap`?",
  },
  {
    input: "ip tuntap add tap0 mode tap mode tun",
    code: "E0122",
    line: 1,
    column: 34,
    under: "tun",
    help: "keep one `mode`",
  },
  {
    input: "ip lnk show",
    code: "E0105",
    line: 1,
    column: 4,
    under: "lnk",
    help: "did you mean `link`?",
  },
  {
    input: "ip -z link",
    code: "E0101",
    line: 1,
    column: 4,
    under: "-z",
    help:
      "the lab's `ip` options are `-j`, `-p`, `-br`, `-d`, `-s`, `-4`, `-6`, `-0` and `-f FAMILY`",
  },
  // ovs-vsctl
  {
    input: "ovs-vsctl addbr br0",
    code: "E0105",
    line: 1,
    column: 11,
    under: "addbr",
    help: "did you mean `add-br`?",
  },
  {
    input: "ovs-vsctl add-port br0",
    code: "E0103",
    line: 1,
    column: 23,
    under: "",
    help: "write `ovs-vsctl add-port BRIDGE PORT [COLUMN[:KEY]=VALUE]…`",
  },
  {
    input: "ovs-vsctl set Interface vhu0 type",
    code: "E0110",
    line: 1,
    column: 30,
    under: "type",
    help: "write settings like `type=dpdkvhostuserclient` or `options:vhost-server-path=/tmp/vhu0`",
  },
  {
    input: "ovs-vsctl set Interfaces vhu0 type=dpdk",
    code: "E0109",
    line: 1,
    column: 15,
    under: "Interfaces",
    help: "did you mean `Interface`?",
  },
  // testpmd
  {
    input: "dpdk-testpmd -l 0-1 -i",
    code: "E0101",
    line: 1,
    column: 21,
    under: "-i",
    help: "testpmd's own options (`-i`, `--forward-mode` …) go after `--`",
  },
  {
    input: "dpdk-testpmd -- --forward-mode=maswap",
    code: "E0109",
    line: 1,
    column: 32,
    under: "maswap",
    help: "did you mean `macswap`?",
  },
  {
    input: "dpdk-testpmd -- --nb-cores=two",
    code: "E0106",
    line: 1,
    column: 28,
    under: "two",
    help: "write `--nb-cores=N`",
  },
  {
    input: "dpdk-testpmd -n 4",
    code: "W0010",
    line: 1,
    column: 14,
    under: "-n 4",
    help: "remove it to silence this warning",
  },
  // lab statements
  {
    input: "traffic t1 from vm1..eth0 to wire",
    code: "E0117",
    line: 1,
    column: 17,
    under: "vm1..eth0",
    help: "write names like `vm1.eth0`, `tap0`, `wire` or `t1.per_packet.vmexits`",
  },
  {
    input: "run\nexpect t1.delivered = 100",
    code: "E0118",
    line: 2,
    column: 21,
    under: "=",
    help: "write `==` to compare",
  },
  {
    input: "traffic t1 from a to b size=64 size=128",
    code: "E0119",
    line: 1,
    column: 32,
    under: "size=128",
    help: "keep one",
  },
  {
    input: "traffic t1 from a to b count=10 duration=1ms",
    code: "E0122",
    line: 1,
    column: 33,
    under: "duration=1ms",
    help: "keep one: `count=` packets or `duration=` time",
  },
  {
    input: "traffic t1 from a to b sise=64",
    code: "E0101",
    line: 1,
    column: 24,
    under: "sise",
    help: "did you mean `size`?",
  },
  {
    input: "show topolgy",
    code: "E0105",
    line: 1,
    column: 6,
    under: "topolgy",
    help: "did you mean `topology`?",
  },
  {
    input: "inject bad-chain vm1.eth0 tx0 loop",
    code: "E0109",
    line: 1,
    column: 31,
    under: "loop",
    help: "the variants are `cycle`, `out-of-range`, `outside-memory`, `write-only-tx`, `oversize`",
  },
  {
    input: "run 1ms 2ms",
    code: "E0104",
    line: 1,
    column: 9,
    under: "2ms",
    help: "write `run [DURATION] [--json] [--trace=off|sample|full]`",
  },
  {
    input: "trace t1 packet one",
    code: "E0106",
    line: 1,
    column: 17,
    under: "one",
    help: "write the packet number as a whole number",
  },
];

Deno.test("malformed commands: code, line, column and help of the first diagnostic", async (t) => {
  assert.ok(ROWS.length >= 40, `only ${ROWS.length} rows`);
  for (const row of ROWS) {
    await t.step(row.input.replaceAll("\n", "⏎"), () => {
      const diags = new Diagnostics();
      for (const words of testStatements(row.input)) parseCommand(words, diags);
      const first = diags.items[0];
      assert.ok(first, "no diagnostic");
      const span = primarySpan(first);
      assert.ok(span, "no primary label");
      const pos = new SourceFile("test.vdpa", row.input).position(span.start);
      assert.deepEqual(
        {
          code: first.code,
          line: pos.line,
          column: pos.column,
          under: row.input.slice(span.start, span.end),
          help: first.help[0],
        },
        { code: row.code, line: row.line, column: row.column, under: row.under, help: row.help },
      );
      // Wording rules: lowercase start, no final period.
      assert.match(first.message, /^[^A-Z]/);
      assert.doesNotMatch(first.message, /\.$/);
    });
  }
});

Deno.test("every command diagnostic code is exercised by the malformed table", () => {
  const used = new Set(ROWS.map((r) => r.code));
  const missing = Object.keys(COMMAND_CODES).filter((c) => !used.has(c));
  assert.deepEqual(missing, []);
});

Deno.test("each code is emitted with the severity its table gives", () => {
  for (const row of ROWS) {
    const diags = new Diagnostics();
    for (const words of testStatements(row.input)) parseCommand(words, diags);
    for (const d of diags.items) {
      const info = (COMMAND_CODES as Record<string, { severity: string } | undefined>)[d.code];
      if (info) assert.equal(d.severity, info.severity, `${d.code} in ${row.input}`);
    }
  }
});
