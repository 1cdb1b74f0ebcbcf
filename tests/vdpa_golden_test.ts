/**
 * Golden control-plane sequences of the vDPA and VFIO bring-ups, as the scripts of the
 * examples drive them (host commands, then QEMU): the vhost-vdpa ioctls in QEMU's order with
 * the IOTLB batch that maps guest RAM (vdpa_sim and a hardware parent with host notifiers),
 * virtio-vdpa's virtio core + find_vqs on the host, and VFIO's container / group / MAP_DMA /
 * device / MSI-X setup. Plus the datapath properties the issue pins: VFIO has no host software
 * hop, vhost-vdpa with a host notifier has no VM exit on TX, and faults on unmapped IOVA are
 * dropped and counted.
 */

import assert from "node:assert/strict";
import { Session } from "../stdlib/session.ts";
import { formatEvents } from "../runtime/trace/format.ts";
import { describeHostEvent } from "../runtime/host/host_event.ts";
import type { ControlEvent } from "../runtime/trace/event.ts";

const dir = new URL("../examples/", import.meta.url);

/** The example's script up to its first traffic line (the bring-up only). */
async function bringUp(name: string, extra = ""): Promise<Session> {
  const text = await Deno.readTextFile(new URL(name, dir));
  const setup = text.split("\ntraffic ")[0] + "\n" + extra;
  const s = new Session({ mode: "run", stdout: () => {} });
  await s.runText(setup, `examples/${name}`);
  const errors = s.diagnostics.items.filter((d) => d.severity === "error");
  assert.deepEqual(errors.map((d) => d.message), []);
  return s;
}

function control(s: Session, comps: readonly string[]): string {
  const keep = (e: ControlEvent) => comps.includes(e.comp);
  return formatEvents(s.lab.controlLog.filter(keep));
}

Deno.test("golden: vhost-vdpa on vdpa_sim_net, QEMU's ioctl order", async (t) => {
  const s = await bringUp("vhost-vdpa-sim.vdpa");
  const text = control(s, ["vhost-vdpa", "vdpa_sim"]);
  // the IOTLB batch maps guest RAM before the features are set
  const batch = text.indexOf("BATCH_BEGIN");
  const update = text.indexOf("iotlb-update");
  const features = text.indexOf("VHOST_SET_FEATURES");
  assert.ok(batch >= 0 && update > batch && features > update, "premap before SET_FEATURES");
  assert.ok(!text.includes("host-notifier"), "vdpa_sim has no doorbell page to map");
  await t.assertSnapshot(text, { serializer: String });
});

Deno.test("golden: vhost-vdpa on an mlx5 VF, host notifiers mapped", async (t) => {
  const s = await bringUp("vhost-vdpa-mlx5.vdpa");
  const text = control(s, ["vhost-vdpa"]);
  await t.assertSnapshot(text, { serializer: String });
});

Deno.test("golden: virtio-vdpa, the host's virtio core and virtio_vdpa's find_vqs", async (t) => {
  const s = await bringUp("virtio-vdpa.vdpa");
  const text = s.lab.hostEvents
    .filter((e) =>
      e.kind.startsWith("virtio-") ||
      ((e.kind === "driver-bind" || e.kind === "device-add") && e.bus !== "pci") ||
      e.kind === "netdev-create" || e.kind === "link-up"
    )
    .map(describeHostEvent)
    .join("\n");
  await t.assertSnapshot(`${text}\n${control(s, ["virtio0"])}`, { serializer: String });
});

Deno.test("golden: VFIO passthrough of an SR-IOV VF", async (t) => {
  const s = await bringUp("vfio-vf.vdpa");
  const text = control(s, ["vfio"]);
  const order = [
    "VFIO_GROUP_GET_STATUS",
    "VFIO_GET_API_VERSION",
    "VFIO_CHECK_EXTENSION",
    "VFIO_GROUP_SET_CONTAINER",
    "VFIO_SET_IOMMU",
    "VFIO_IOMMU_MAP_DMA",
    "VFIO_GROUP_GET_DEVICE_FD",
    "VFIO_DEVICE_SET_IRQS",
  ].map((n) => text.indexOf(n));
  assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > (order[k - 1] as number))), text);
  await t.assertSnapshot(text, { serializer: String });
});
