import assert from "node:assert/strict";
import { Session } from "../session.ts";
import { lineSessions } from "../testdata/line_session.ts";

const { printed, step } = lineSessions();

/** Two simulator devices: vdpa0 on vhost_vdpa, vdpa1 on virtio_vdpa (features negotiated). */
async function lab(): Promise<Session> {
  printed.length = 0;
  const s = new Session({ stdout: (t) => printed.push(t) });
  for (
    const l of [
      "modprobe vhost_vdpa",
      "modprobe virtio_vdpa",
      "modprobe vdpa_sim_net",
      "modprobe vdpa_sim_blk",
      "vdpa dev add name vdpa0 mgmtdev vdpasim_net mac 52:54:00:12:34:56",
      "vdpa dev add name vdpa1 mgmtdev vdpasim_net mac 00:e8:ca:33:ba:05 mtu 9000",
      "echo vdpa1 > /sys/bus/vdpa/drivers/vhost_vdpa/unbind",
      "echo vdpa1 > /sys/bus/vdpa/drivers/virtio_vdpa/bind",
    ]
  ) assert.deepEqual((await step(s, l)).codes, [], l);
  return s;
}

Deno.test("vdpa prints the tool's text, -j and -jp output", async (t) => {
  const s = await lab();
  const views = [
    "vdpa mgmtdev show",
    "vdpa mgmtdev show vdpasim_blk",
    "vdpa dev show",
    "vdpa dev list vdpa1",
    "vdpa dev config show",
    "vdpa dev config show vdpa1",
    "vdpa dev vstats show vdpa1 qidx 1",
  ];
  for (const view of views) {
    for (const opt of ["", "-j ", "-jp "]) {
      const line = view.replace("vdpa ", `vdpa ${opt}`);
      await t.step(line, async (st) => {
        const r = await step(s, line);
        assert.deepEqual(r.codes, []);
        if (opt !== "") {
          // the tool's JSON is JSON, with one trailing newline
          assert.ok(r.out.endsWith("\n") && !r.out.endsWith("\n\n"));
          JSON.parse(r.out);
        }
        await st.assertSnapshot(r.out, { serializer: String });
      });
    }
  }
});

Deno.test("vdpa dev show of one device prints one line in the tool's order", async () => {
  const s = await lab();
  const r = await step(s, "vdpa dev show vdpa0");
  assert.equal(
    r.out,
    "vdpa0: type network mgmtdev vdpasim_net vendor_id 0 max_vqs 3 max_vq_size 256\n",
  );
  const j = await step(s, "vdpa -j dev show vdpa0");
  assert.deepEqual(JSON.parse(j.out), {
    dev: {
      vdpa0: {
        type: "network",
        mgmtdev: "vdpasim_net",
        vendor_id: 0,
        max_vqs: 3,
        max_vq_size: 256,
      },
    },
  });
});

Deno.test("config show reports negotiated features only once a driver set FEATURES_OK", async () => {
  const s = await lab();
  const r = await step(s, "vdpa -j dev config show");
  const config = JSON.parse(r.out).config;
  assert.equal(config.vdpa0.negotiated_features, undefined, "vdpa0 has no driver yet");
  assert.deepEqual(config.vdpa1.mtu, 9000);
  assert.ok(config.vdpa1.negotiated_features.includes("ACCESS_PLATFORM"));
  assert.equal(config.vdpa1["link "], "up", "iproute2's key has a trailing space");
});

Deno.test("a failed show prints the empty JSON section, then the error", async () => {
  const s = await lab();
  const r = await step(s, "vdpa -j dev show vdpa7");
  assert.equal(r.out, '{"dev":{}}\n');
  assert.deepEqual(r.codes, ["E0203"]);
});

Deno.test("add and del print nothing, -j prints the writer's newline", async () => {
  const s = await lab();
  assert.deepEqual(await step(s, "vdpa dev add name vdpa2 mgmtdev vdpasim_net"), {
    out: "",
    codes: [],
  });
  assert.deepEqual(await step(s, "vdpa -j dev del vdpa2"), { out: "\n", codes: [] });
  assert.equal(s.lab.host.vdpa.device("vdpa2"), undefined);
});

Deno.test("dev set changes the MAC the config shows", async () => {
  const s = await lab();
  assert.deepEqual((await step(s, "vdpa dev set name vdpa0 mac 52:54:00:aa:bb:cc")).codes, []);
  const r = await step(s, "vdpa dev config show vdpa0");
  assert.ok(r.out.startsWith("vdpa0: mac 52:54:00:aa:bb:cc link up "), r.out);
});

Deno.test("deleting a device whose /dev node is open is refused, naming the opener", async () => {
  const s = await lab();
  const fd = s.lab.host.open("/dev/vhost-vdpa-0", "qemu-system-x86_64 (vm1)");
  assert.ok(fd.ok);
  s.provenance.set(
    "open:/dev/vhost-vdpa-0",
    { source: "vm.vdpa", start: 0, end: 4 },
    "opened here",
  );
  const r = await step(s, "vdpa dev del vdpa0");
  assert.deepEqual(r.codes, ["E0308"]);
  const d = s.diagnostics.items.at(-1);
  assert.ok(d?.labels.some((l) => !l.primary && l.span.source === "vm.vdpa"));
  assert.ok(d?.notes.includes("kernel answers: Device or resource busy"), d?.notes.join("\n"));
  assert.ok(s.lab.host.vdpa.device("vdpa0") !== undefined);
  s.lab.host.close(fd.value);
  assert.deepEqual((await step(s, "vdpa dev del vdpa0")).codes, []);
});

Deno.test("hardware management devices appear with the VFs of a vDPA-capable NIC", async () => {
  printed.length = 0;
  const s = new Session({ stdout: (t) => printed.push(t) });
  for (
    const l of [
      'host cmdline "intel_iommu=on iommu=pt"',
      "host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=100Gbps",
      "modprobe vhost_vdpa",
      "modprobe mlx5_vdpa",
      "echo 1 > /sys/class/net/ens1f0/device/sriov_numvfs",
    ]
  ) assert.deepEqual((await step(s, l)).codes, [], l);
  const r = await step(s, "vdpa mgmtdev show");
  assert.ok(r.out.startsWith("pci/0000:3b:00.2: \n  supported_classes net\n"), r.out);
  assert.deepEqual(
    (await step(s, "vdpa dev add name vdpa0 mgmtdev pci/0000:3b:00.2 max_vqp 4")).codes,
    [],
  );
  const second = await step(s, "vdpa dev add name vdpa1 mgmtdev pci/0000:3b:00.2");
  assert.deepEqual(second.codes, ["E0305"], "one device per VF");
  assert.deepEqual(
    s.diagnostics.items.at(-1)?.labels.filter((l) => !l.primary).map((l) => l.message),
    ["`vdpa0` created here"],
  );
  const many = await step(s, "vdpa dev add name vdpa2 mgmtdev pci/0000:3b:00.3 max_vqp 64");
  assert.deepEqual(many.codes, ["E0202"], "0000:3b:00.3 does not exist with one VF");
});
