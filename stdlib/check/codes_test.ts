import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Diagnostics } from "../../lang/diagnostic.ts";
import { CHECK_CODES, type CheckCode } from "./codes.ts";
import { checkOvs, OvsCheckState } from "./ovs.ts";
import { checkQemu } from "./qemu.ts";
import { checkTestpmd } from "./testpmd.ts";
import { testOvs, testQemu, testTestpmd } from "./test_commands.ts";

const Q = "qemu-system-x86_64";
const T = "dpdk-testpmd -l 0-1 --no-pci";
const MEM = "-m 1G -object memory-backend-memfd,id=m,size=1G -machine memory-backend=m";

/** One command line per code that makes the checks emit it. */
const EXAMPLES: Record<CheckCode, string> = {
  E0220: `${Q} -device virtio-net-pcie`,
  E0221: `${Q} -netdev tapp,id=n`,
  E0222: `${Q} -chardev sock,id=c`,
  E0223: `${Q} -object memory-backend,id=m,size=1G`,
  E0224: `${Q} -machine q34`,
  E0225: `${Q} -netdev tap,id=n,vhsot=on`,
  E0226: `${Q} -netdev tap,id=n,queues=many`,
  E0227: `${Q} -netdev vhost-user,id=n`,
  E0228: `${Q} -netdev tap,id=n -netdev tap,id=n`,
  E0229: `${Q} -device virtio-net-pci,netdev=nope`,
  E0230: `${Q} -netdev tap,id=n -device virtio-net-pci,netdev=n -device virtio-net-pci,netdev=n`,
  E0231:
    `${Q} -netdev tap,id=n -device virtio-net-pci,netdev=n,rx_queue_size=512,tx_queue_size=100`,
  E0232:
    `${Q} ${MEM} -chardev socket,id=c,path=/s -netdev vhost-user,id=n,chardev=c,queues=2000 -device virtio-net-pci,netdev=n`,
  E0233: `${Q} -M pc -device intel-iommu`,
  E0234:
    `${Q} ${MEM} -chardev null,id=c -netdev vhost-user,id=n,chardev=c -device virtio-net-pci,netdev=n`,
  E0235: `${Q} -chardev socket,id=c,path=/s,server=off,wait=on`,
  E0236: `${Q} -m 1G -object memory-backend-ram,id=m,size=2G -machine memory-backend=m`,
  E0237: `${T} --vdev net_vhost0,iface=/s,dequeue-zero-copy=1 -- -i`,
  E0238: `${Q} -smp cpus=4,sockets=3,cores=1,threads=1`,
  E0239: `${Q} -netdev tap,id=n -device virtio-net-device,netdev=n`,
  E0240: `${T} --vdev net_vhots0,iface=/s -- -i`,
  E0241: `${Q} -name ubuntu-22.04`,
  E0242: "ovs-vsctl set Bridge br0 datapath=netdev",
  E0243:
    "ovs-vsctl add-br br0 -- add-port br0 d0 -- set Interface d0 type=dpdk options:dpdk-devargs=0000:01:00.0",
  W0220: `${Q} -netdev tap,id=n,sndbuf=1M -device virtio-net-pci,netdev=n`,
  W0221: `${Q} -netdev l2tpv3,id=n -device virtio-net-pci,netdev=n`,
  W0222: `${Q} -chardev socket,id=c,path=/s,reconnect=1`,
  W0223: `${Q} -netdev tap,id=lonely`,
  W0224: `${Q} -netdev tap,id=n -device virtio-net-pci,netdev=n,tx_queue_size=512`,
  W0225:
    `${Q} -chardev socket,id=c,path=/s -netdev vhost-user,id=n,chardev=c -device virtio-net-pci,netdev=n`,
  W0226: `${Q} -M q35 -device virtio-iommu-pci -netdev tap,id=n -device virtio-net-pci,netdev=n`,
  W0227: `${Q} -netdev tap,id=n,queues=2 -device virtio-net-pci,netdev=n`,
  W0228: `${T} --vdev net_vhost0,iface=/s,tso=on -- -i`,
  W0229: `${Q} -netdev tap,id=n -device virtio-net-pci,netdev=n,vectors=3000`,
};

function run(line: string): Diagnostics {
  const diags = new Diagnostics();
  if (line.startsWith("qemu")) checkQemu(testQemu(line), diags);
  else if (line.startsWith("dpdk-testpmd")) checkTestpmd(testTestpmd(line), diags);
  else checkOvs(testOvs(line), diags, new OvsCheckState());
  return diags;
}

Deno.test("every check code is emitted by its example, with the table's severity", async (t) => {
  for (const [code, info] of Object.entries(CHECK_CODES)) {
    await t.step(`${code}: ${info.summary}`, () => {
      const line = EXAMPLES[code as CheckCode];
      const found = run(line).items.filter((d) => d.code === code);
      assert(found.length > 0, `${code} not emitted by: ${line}`);
      for (const d of found) assertEquals(d.severity, info.severity);
    });
  }
});

Deno.test("the code table stays in its ranges (E0220-E0249, W0220-W0239)", () => {
  for (const code of Object.keys(CHECK_CODES)) {
    const n = Number(code.slice(1));
    assert(code.startsWith("E") ? n >= 220 && n <= 249 : n >= 220 && n <= 239, code);
    assertEquals(
      CHECK_CODES[code as CheckCode].severity,
      code.startsWith("E") ? "error" : "warning",
    );
  }
});

Deno.test("no check emits a code outside the table", () => {
  const known = new Set(Object.keys(CHECK_CODES));
  for (const line of Object.values(EXAMPLES)) {
    for (const d of run(line).items) assert(known.has(d.code), `${d.code} from ${line}`);
  }
});
