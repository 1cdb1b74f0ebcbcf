/**
 * Model fingerprints: runs every example script and a set of datapath variants (vhost-vdpa +
 * vdpa_sim at several rates, packed rings, EVENT_IDX off, no MRG_RXBUF, multiqueue, two
 * traffics sharing a queue, the other backends) at trace levels `sample` and `full`, and
 * prints one SHA-256 per case over everything the run exposes: the printed output, the full
 * trace text, every traffic's summary JSON and every context's figures. A performance change
 * must leave every line identical (the model must not change, only its speed):
 *
 * ```sh
 * deno run -A bench/fingerprint.ts > /tmp/before.txt
 * # … change the hot paths …
 * deno run -A bench/fingerprint.ts | diff /tmp/before.txt -
 * ```
 *
 * `deno run -A bench/fingerprint.ts CASE` prints the material of one case instead of its hash.
 *
 * @module
 */

import { Session } from "../stdlib/session.ts";
import { formatEvents } from "../runtime/trace/format.ts";
import { summariesJson } from "../runtime/trace/metrics.ts";
import type { TraceLevel } from "../runtime/trace/recorder.ts";

const examples = new URL("../examples/", import.meta.url);

function vdpaSim(opts: { dev?: string; traffic: string; smp?: number; mq?: string }): string {
  return `
host cpu ghz=3.0 cores=16
modprobe vdpa
modprobe vhost_vdpa
modprobe vdpa_sim_net
vdpa dev add name vdpa0 mgmtdev vdpasim_net mac 52:54:00:12:34:56${opts.mq ?? ""}
qemu-system-x86_64 -name vm1 -machine q35,accel=kvm -cpu host -smp ${opts.smp ?? 2} -m 4G \\
  -object memory-backend-memfd,id=mem0,size=4G,share=on -numa node,memdev=mem0 \\
  -netdev type=vhost-vdpa,vhostdev=/dev/vhost-vdpa-0,id=vdpa0 \\
  -device virtio-net-pci,netdev=vdpa0,mac=52:54:00:12:34:56,disable-legacy=on${opts.dev ?? ""}
${opts.traffic}
show stats
`;
}

function tap(vhost: string, dev: string, traffic: string, mq = false): string {
  return `
host cpu ghz=3.0 cores=16
host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=25Gbps
modprobe tun
modprobe bridge
modprobe vhost_net
ip link add name br0 type bridge
ip link set dev ens1f0 master br0
ip tuntap add dev tap0 mode tap vnet_hdr${mq ? " multi_queue" : ""}
ip link set dev tap0 master br0
ip link set dev br0 up
ip link set dev ens1f0 up
ip link set dev tap0 up
qemu-system-x86_64 -name vm1 -enable-kvm -cpu host -smp 2 -m 1G \\
  -netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=${vhost}${mq ? ",queues=2" : ""} \\
  -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01${dev}
${traffic}
show stats
`;
}

const t1 = (rest: string) => `traffic t1 from vm1.eth0 to vm1.eth0 ${rest}\nrun`;

const cases: [string, string][] = [
  ["vdpa 500k", vdpaSim({ traffic: t1("size=64 count=20000 rate=500kpps burst=32") })],
  ["vdpa line", vdpaSim({ traffic: t1("size=64 count=20000 rate=line burst=32") })],
  ["vdpa 1500", vdpaSim({ traffic: t1("size=1500 count=5000 rate=line burst=8") })],
  ["vdpa slow", vdpaSim({ traffic: t1("size=128 count=300 rate=20kpps burst=1") })],
  [
    "vdpa run chunks",
    vdpaSim({
      traffic: "traffic t1 from vm1.eth0 to vm1.eth0 size=64 count=6000 rate=500kpps burst=32\n" +
        "run 1ms\nrun 0.37ms\nrun 2ms\nrun",
    }),
  ],
  [
    "vdpa packed",
    vdpaSim({ dev: ",packed=on", traffic: t1("size=64 count=8000 rate=line burst=32") }),
  ],
  [
    "vdpa no event_idx",
    vdpaSim({ dev: ",event_idx=off", traffic: t1("size=64 count=8000 rate=line burst=32") }),
  ],
  [
    "vdpa no mrg_rxbuf",
    vdpaSim({ dev: ",mrg_rxbuf=off", traffic: t1("size=700 count=4000 rate=line burst=16") }),
  ],
  [
    "vdpa two traffics",
    vdpaSim({
      traffic: "traffic t1 from vm1.eth0 to vm1.eth0 size=64 count=5000 rate=300kpps burst=32\n" +
        "traffic t2 from vm1.eth0 to vm1.eth0 size=200 count=3000 rate=200kpps burst=8\nrun",
    }),
  ],
  [
    "vdpa flows",
    vdpaSim({ traffic: t1("size=64 count=4000 rate=1Mpps burst=16 flows=8") }),
  ],
  [
    "vhost-net",
    tap("on", "", "traffic t1 from vm1.eth0 to wire size=64 count=8000 rate=line burst=32\nrun"),
  ],
  [
    "vhost-net packed mq",
    tap(
      "on",
      ",packed=on,mq=on",
      "traffic t1 from vm1.eth0 to wire size=256 count=4000 rate=1Mpps burst=16 flows=8\n" +
        "traffic t2 from wire to vm1.eth0 size=64 count=3000 rate=300Kpps\nrun",
      true,
    ),
  ],
  [
    "qemu tap",
    tap("off", "", "traffic t1 from vm1.eth0 to wire size=64 count=4000 rate=line burst=32\nrun"),
  ],
  [
    "vhost-net event_idx off",
    tap(
      "on",
      ",event_idx=off",
      "traffic t1 from vm1.eth0 to wire size=64 count=4000 rate=2Mpps burst=4\nrun",
    ),
  ],
];

for (const e of [...Deno.readDirSync(examples)].map((e) => e.name).sort()) {
  if (!e.endsWith(".vdpa")) continue;
  cases.push([`example ${e}`, `include "${e}"`]);
}

async function material(script: string, level: TraceLevel): Promise<string> {
  let stdout = "";
  const session = new Session({
    mode: "run",
    stdout: (t) => (stdout += t),
    traceLevel: level,
    readFile: async (p) => ({ text: await Deno.readTextFile(new URL(p, examples)) }),
    writeFile: () => Promise.resolve({ ok: true }),
  });
  const r = await session.runText(script, "fingerprint.vdpa");
  const lab = session.lab;
  const diags = session.diagnostics.items.map((d) => `${d.code} ${d.message}`).join("\n");
  return [
    `status ${r.status}`,
    diags,
    stdout,
    formatEvents(lab.recorder.events()),
    summariesJson(lab.metrics.summaries()),
    JSON.stringify(lab.metrics.contextSummaries(lab.now)),
    `now ${lab.now}`,
  ].join("\n----\n");
}

async function sha(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("").slice(0, 16);
}

const only = Deno.args[0];
for (const [name, script] of cases) {
  if (only !== undefined && name !== only) continue;
  for (const level of ["sample", "full"] as const) {
    const m = await material(script, level);
    if (only !== undefined) console.log(m);
    else console.log(`${(await sha(m))}  ${level.padEnd(6)} ${name}`);
  }
}
