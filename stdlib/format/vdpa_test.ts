import assert from "node:assert/strict";
import { HostKernel } from "../../runtime/host/kernel.ts";
import { parseMac } from "../../runtime/host/mac.ts";
import { KERNEL_MODULES } from "../catalog/kernel_modules.ts";
import { NIC_MODELS } from "../catalog/nic_models.ts";
import type { ToolOutput } from "./iproute2_print.ts";
import {
  vdpaAck,
  vdpaDevConfigShow,
  vdpaDevShow,
  vdpaDevVstatsShow,
  vdpaFeatureName,
  vdpaMgmtdevShow,
} from "./vdpa.ts";

function host(): HostKernel {
  return new HostKernel({ catalog: { modules: KERNEL_MODULES, nicModels: NIC_MODELS } });
}

/** A host with vdpasim_net and vdpasim_blk and one device of each. */
function simHost(): HostKernel {
  const k = host();
  k.modprobe("vhost_vdpa");
  k.modprobe("vdpa_sim_net");
  k.modprobe("vdpa_sim_blk");
  k.vdpaNetlink.devNew({
    name: "vdpa0",
    mgmtdev: { dev: "vdpasim_net" },
    mac: mac("00:11:22:33:44:55"),
  });
  k.vdpaNetlink.devNew({ name: "blk0", mgmtdev: { dev: "vdpasim_blk" } });
  return k;
}

function mac(s: string) {
  const m = parseMac(s);
  assert.ok(m !== undefined);
  return m;
}

const MODES = [["text", {}], ["json", { json: true }], ["pretty json", {
  json: true,
  pretty: true,
}]] as const;

Deno.test("vdpa mgmtdev show: text, -j and -jp", async (t) => {
  const k = simHost();
  const text = vdpaMgmtdevShow(k.vdpaNetlink.mgmtdevGet(), {});
  assert.equal(
    text.stdout,
    "vdpasim_net: \n  supported_classes net\n  max_supported_vqs 3\n" +
      "  dev_features MTU MAC STATUS CTRL_VQ CTRL_MAC_ADDR ANY_LAYOUT VERSION_1 ACCESS_PLATFORM\n" +
      "vdpasim_blk: \n  supported_classes block\n  max_supported_vqs 1\n" +
      "  dev_features bit_1 bit_2 bit_6 bit_9 bit_10 bit_12 bit_13 bit_14 bit_27 VERSION_1 ACCESS_PLATFORM\n",
  );
  for (const [name, o] of MODES) {
    await t.step(name, async (s) => {
      const out = vdpaMgmtdevShow(k.vdpaNetlink.mgmtdevGet(), o);
      assert.equal(out.stderr, "");
      await s.assertSnapshot(out.stdout, { serializer: String });
    });
  }
  const json = JSON.parse(
    vdpaMgmtdevShow(k.vdpaNetlink.mgmtdevGet({ dev: "vdpasim_blk" }), { json: true }).stdout,
  );
  assert.deepEqual(
    json.mgmtdev.vdpasim_blk.dev_features.slice(0, 3),
    [1, 2, 6],
    "unknown bits are numbers in JSON",
  );
});

Deno.test("vdpa dev show and dev config show before a driver negotiates", async (t) => {
  const k = simHost();
  assert.equal(
    vdpaDevShow(k.vdpaNetlink.devGet(), {}).stdout,
    "vdpa0: type network mgmtdev vdpasim_net vendor_id 0 max_vqs 3 max_vq_size 256\n" +
      "blk0: type block mgmtdev vdpasim_blk vendor_id 0 max_vqs 1 max_vq_size 256\n",
  );
  assert.equal(
    vdpaDevShow(k.vdpaNetlink.devGet("vdpa0"), { json: true }).stdout,
    '{"dev":{"vdpa0":{"type":"network","mgmtdev":"vdpasim_net","vendor_id":0,"max_vqs":3,"max_vq_size":256}}}\n',
  );
  await t.step("config show of a network device: no negotiated features yet", () => {
    const out = vdpaDevConfigShow(k.vdpaNetlink.devConfigGet("vdpa0"), {});
    assert.equal(
      out.stdout,
      "vdpa0: mac 00:11:22:33:44:55 link up link_announce false mtu 1500 \n",
    );
  });
  await t.step("the JSON keys keep iproute2's stray spaces", () => {
    const out = vdpaDevConfigShow(k.vdpaNetlink.devConfigGet("vdpa0"), {
      json: true,
      pretty: true,
    });
    assert.equal(
      out.stdout,
      '{\n    "config": {\n        "vdpa0": {\n            "mac": "00:11:22:33:44:55",\n' +
        '            "link ": "up",\n            "link_announce ": false,\n            "mtu": 1500\n' +
        "        }\n    }\n}\n",
    );
  });
  await t.step("a dump stops at the block device the kernel cannot describe", () => {
    const out = vdpaDevConfigShow(k.vdpaNetlink.devConfigGet(), {});
    assert.equal(
      out.stdout,
      "vdpa0: mac 00:11:22:33:44:55 link up link_announce false mtu 1500 \n",
    );
    assert.equal(
      vdpaDevConfigShow(k.vdpaNetlink.devConfigGet("blk0"), {}).stderr,
      "kernel answers: Operation not supported\n",
    );
  });
});

Deno.test("vdpa dev config show and vstats after virtio_vdpa negotiated", async (t) => {
  const k = simHost();
  k.write("/sys/bus/vdpa/drivers/vhost_vdpa/unbind", "vdpa0\n");
  k.modprobe("virtio_vdpa");
  const config = vdpaDevConfigShow(k.vdpaNetlink.devConfigGet("vdpa0"), {});
  assert.equal(
    config.stdout,
    "vdpa0: mac 00:11:22:33:44:55 link up link_announce false mtu 1500 \n" +
      "  negotiated_features MTU MAC STATUS CTRL_VQ CTRL_MAC_ADDR VERSION_1 ACCESS_PLATFORM\n",
  );
  // vdpasim_net leaves max_virtqueue_pairs at 0 and negotiates CTRL_VQ, so iproute2's
  // print_queue_type puts the control queue at 2 × 0 = qidx 0 and calls the real CVQ "rx"
  const stats: [number, string][] = [
    [
      0,
      "vdpa0: queue_type control_vq rx packets 0 rx bytes 0 rx errors 0 rx overruns 0 rx drops 0 \n",
    ],
    [1, "vdpa0: queue_type tx tx packets 0 tx bytes 0 tx errors 0 tx drops 0 \n"],
    [2, "vdpa0: queue_type rx cvq requests 0 cvq successes 0 cvq errors 0 \n"],
  ];
  for (const [qidx, expected] of stats) {
    await t.step(`vstats qidx ${qidx}`, () => {
      assert.equal(
        vdpaDevVstatsShow(k.vdpaNetlink.devVstatsGet("vdpa0", qidx), {}).stdout,
        expected,
      );
    });
  }
  await t.step("counters the datapath increments show up", () => {
    const dev = k.vdpa.device("vdpa0")?.device;
    assert.ok(dev !== undefined && "stats" in dev);
    (dev as unknown as { stats: { tx: { packets: bigint; bytes: bigint } } }).stats.tx.packets = 3n;
    const out = vdpaDevVstatsShow(k.vdpaNetlink.devVstatsGet("vdpa0", 1), { json: true });
    assert.equal(
      out.stdout,
      '{"vstats":{"vdpa0":{"queue_type":"tx","tx packets":3,"tx bytes":0,"tx errors":0,"tx drops":0}}}\n',
    );
  });
  for (const [name, o] of MODES) {
    await t.step(`config show, ${name}`, async (s) => {
      await s.assertSnapshot(vdpaDevConfigShow(k.vdpaNetlink.devConfigGet(), o).stdout, {
        serializer: String,
      });
    });
  }
});

Deno.test("vdpa errors are the kernel's extack and errno", async (t) => {
  const k = simHost();
  const nl = k.vdpaNetlink;
  const cases: [string, () => ToolOutput, string][] = [
    [
      "max_vqp on vdpasim_net",
      () => vdpaAck(nl.devNew({ name: "x", mgmtdev: { dev: "vdpasim_net" }, maxVqp: 2 }), {}),
      "Error: vdpa: Some provided attributes are not supported: 0x1000.\nkernel answers: Operation not supported\n",
    ],
    [
      "max_vqp and mtu together on vdpasim_net",
      () =>
        vdpaAck(
          nl.devNew({ name: "x", mgmtdev: { dev: "vdpasim_net" }, maxVqp: 2, mtu: 5000 }),
          {},
        ),
      "Error: vdpa: Some provided attributes are not supported: 0x1000.\nkernel answers: Operation not supported\n",
    ],
    [
      "mtu below 68",
      () => vdpaAck(nl.devNew({ name: "x", mgmtdev: { dev: "vdpasim_net" }, mtu: 60 }), {}),
      "Error: integer out of range.\nkernel answers: Invalid argument\n",
    ],
    [
      "max_vqp 0",
      () => vdpaAck(nl.devNew({ name: "x", mgmtdev: { dev: "vdpasim_net" }, maxVqp: 0 }), {}),
      "Error: vdpa: At least one pair of VQs is required.\nkernel answers: Invalid argument\n",
    ],
    [
      "duplicate name",
      () => vdpaAck(nl.devNew({ name: "vdpa0", mgmtdev: { dev: "vdpasim_net" } }), {}),
      "kernel answers: File exists\n",
    ],
    [
      "the module name instead of the management device",
      () => vdpaAck(nl.devNew({ name: "x", mgmtdev: { dev: "vdpa_sim_net" } }), {}),
      "Error: vdpa: Fail to find the specified management device.\nkernel answers: No such device\n",
    ],
    [
      "device_features beyond the simulator's",
      () =>
        vdpaAck(
          nl.devNew({ name: "x", mgmtdev: { dev: "vdpasim_net" }, deviceFeatures: 0x700000000n }),
          {},
        ),
      "kernel answers: Invalid argument\n",
    ],
    [
      "device_features without MAC while a mac is given",
      () =>
        vdpaAck(
          nl.devNew({
            name: "x",
            mgmtdev: { dev: "vdpasim_net" },
            deviceFeatures: 0x300020000n,
            mac: mac("00:11:22:33:44:66"),
          }),
          {},
        ),
      "Error: vdpa: Missing features 0x20 for provided attributes.\nkernel answers: Invalid argument\n",
    ],
    [
      "dev del of an unknown device",
      () => vdpaAck(nl.devDel("nope"), {}),
      "Error: vdpa: device not found.\nkernel answers: No such device\n",
    ],
    [
      "vstats before feature negotiation",
      () => vdpaDevVstatsShow(nl.devVstatsGet("vdpa0", 0), {}),
      "Error: vdpa: feature negotiation not complete.\nkernel answers: Resource temporarily unavailable\n",
    ],
    [
      "vstats with a queue index beyond 0x8000",
      () => vdpaDevVstatsShow(nl.devVstatsGet("vdpa0", 40000), {}),
      "Error: vdpa: queue index excceeds max value.\nkernel answers: Numerical result out of range\n",
    ],
    [
      "vstats without qidx",
      () => vdpaDevVstatsShow(nl.devVstatsGet("vdpa0", undefined), {}),
      "kernel answers: Invalid argument\n",
    ],
    [
      "mgmtdev show of an unknown management device",
      () => vdpaMgmtdevShow(nl.mgmtdevGet({ dev: "vdpasim_net2" }), {}),
      "Error: vdpa: Fail to find the specified mgmt device.\nkernel answers: No such device\n",
    ],
    [
      "dev set with a multicast MAC",
      () => vdpaAck(nl.devAttrSet("vdpa0", { mac: mac("01:00:5e:00:00:01") }), {}),
      "Error: vdpa: Invalid MAC address.\nkernel answers: Invalid argument\n",
    ],
    [
      "dev set on a block device",
      () => vdpaAck(nl.devAttrSet("blk0", { mac: mac("00:11:22:33:44:66") }), {}),
      "Error: vdpa: blk0 device not supported.\nkernel answers: Operation not supported\n",
    ],
  ];
  for (const [name, run, stderr] of cases) {
    await t.step(name, () => {
      const out = run();
      assert.equal(out.stderr, stderr);
      assert.equal(out.status, 1);
    });
  }
  await t.step("nothing was created along the way", () => {
    const devs = nl.devGet();
    assert.ok(devs.ok);
    assert.deepEqual(devs.value.map((d) => d.name), ["vdpa0", "blk0"]);
  });
});

Deno.test("A failed show still prints its JSON section; add prints the writer's newline", () => {
  const k = simHost();
  const out = vdpaDevShow(k.vdpaNetlink.devGet("nope"), { json: true });
  assert.deepEqual(out, {
    stdout: '{"dev":{}}\n',
    stderr: "Error: vdpa: device not found.\nkernel answers: No such device\n",
    status: 1,
  });
  const pretty = vdpaDevShow(k.vdpaNetlink.devGet("nope"), { json: true, pretty: true });
  assert.equal(pretty.stdout, '{\n    "dev": {}\n}\n');
  assert.equal(vdpaDevShow(k.vdpaNetlink.devGet("nope"), {}).stdout, "", "text prints nothing");
  assert.deepEqual(vdpaAck(k.vdpaNetlink.devDel("blk0"), { json: true }), {
    stdout: "\n",
    stderr: "",
    status: 0,
  });
});

Deno.test("Without the vdpa module every vdpa command fails to connect", () => {
  const k = host();
  const expected = { stdout: "", stderr: "Failed to connect to vdpa Netlink\n", status: 1 };
  assert.deepEqual(vdpaMgmtdevShow(k.vdpaNetlink.mgmtdevGet(), { json: true }), expected);
  assert.deepEqual(vdpaDevShow(k.vdpaNetlink.devGet(), {}), expected);
  assert.deepEqual(
    vdpaAck(k.vdpaNetlink.devNew({ name: "x", mgmtdev: { dev: "vdpasim_net" } }), { json: true }),
    expected,
  );
});

Deno.test("vdpa dev set name vdpa0 mac … changes the config space", () => {
  const k = simHost();
  assert.deepEqual(
    vdpaAck(k.vdpaNetlink.devAttrSet("vdpa0", { mac: mac("02:aa:bb:cc:dd:ee") }), {}),
    {
      stdout: "",
      stderr: "",
      status: 0,
    },
  );
  const c = vdpaDevConfigShow(k.vdpaNetlink.devConfigGet("vdpa0"), {});
  assert.equal(c.stdout, "vdpa0: mac 02:aa:bb:cc:dd:ee link up link_announce false mtu 1500 \n");
});

Deno.test("Feature names follow iproute2's tables per device class", () => {
  assert.equal(vdpaFeatureName(5, 1), "MAC");
  assert.equal(vdpaFeatureName(5, 2), undefined, "no block names");
  assert.equal(
    vdpaFeatureName(33, 2),
    "ACCESS_PLATFORM",
    "transport bits are named for every class",
  );
  assert.equal(vdpaFeatureName(27, 2), undefined, "ANY_LAYOUT is in the net table only");
  assert.equal(vdpaFeatureName(40, 1), undefined, "RING_RESET has no name in the tool");
  assert.equal(vdpaFeatureName(6, 1), undefined, "GSO is not in the table");
});
