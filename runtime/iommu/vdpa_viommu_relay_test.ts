import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { newTranslateResult, VHOST_ACCESS_RO, VHOST_ACCESS_RW } from "../memory/translator.ts";
import { formatIommuEvent, type IommuEvent } from "./event.ts";
import { VdpaSimIotlb } from "./vdpa_sim_iotlb.ts";
import { VdpaViommuRelay } from "./vdpa_viommu_relay.ts";
import type { GpaToHva } from "./vhost_iotlb_relay.ts";
import { VhostVdpaIotlb } from "./vhost_vdpa_iotlb.ts";
import { Viommu } from "./viommu.ts";

const GUEST_NIC = "0000:00:03.0";
/** One 2 GiB RAM region: GPA 0 at HVA 0x7f3a00000000. */
const RAM_HVA = 0x7f3a_0000_0000;
const RAM_SIZE = 0x8000_0000;
const gpaToHva: GpaToHva = (gpa) =>
  gpa >= 0 && gpa < RAM_SIZE ? { hva: RAM_HVA + gpa, len: RAM_SIZE - gpa } : undefined;

Deno.test("vhost-vdpa behind a vIOMMU with caching mode: guest maps reach vdpa_sim directly", () => {
  const events: IommuEvent[] = [];
  const sink = (e: IommuEvent) => events.push(e);
  const viommu = new Viommu({ model: "intel-iommu", cachingMode: true }, { sink });
  assert(viommu.addDevice(GUEST_NIC).ok);
  const sim = new VdpaSimIotlb();
  const vdpa = new VhostVdpaIotlb({ parent: sim.setMapParent(), nas: 2, sink });
  const relay = new VdpaViommuRelay({ vdpa, viommu, rid: GUEST_NIC, gpaToHva });
  assert(relay.start().ok);
  assert(viommu.map(GUEST_NIC, 0x1000, 0x5000, 0x1000, VHOST_ACCESS_RO).ok);
  assertEquals(events.map(formatIommuEvent), [
    "viommu-map rid=0000:00:03.0 iova=0x1000 gpa=0x5000 size=0x1000 perm=ro",
    "viommu-invalidate rid=0000:00:03.0 scope=iotlb iova=0x1000 size=0x1000",
    "viommu-notify rid=0000:00:03.0 event=map iova=0x1000 gpa=0x5000 size=0x1000 perm=ro",
    "vhost-iotlb-update asid=0 iova=0x1000 size=0x1000 uaddr=0x7f3a00005000 perm=ro",
    "vdpa-set-map asid=0 entries=1",
  ]);
  const out = newTranslateResult();
  assert(sim.translatorFor(0).translate(0x1010, 8, VHOST_ACCESS_RO, out));
  assertEquals(out.addr, RAM_HVA + 0x5010);
  assert(viommu.unmap(GUEST_NIC, 0x1000, 0x1000).ok);
  assertEquals(sim.translatorFor(0).translate(0x1010, 8, VHOST_ACCESS_RO, out), false);
  // A guest map outside RAM is recorded as a relay failure, not thrown.
  assert(viommu.map(GUEST_NIC, 0x9000, 0x1_0000_0000, 0x1000, VHOST_ACCESS_RW).ok);
  assertEquals(relay.failures(), [{ kind: "hva-lookup-failed", iova: 0x9000, gpa: 0x1_0000_0000 }]);
});

Deno.test("vhost-vdpa behind a vIOMMU without caching mode cannot start", () => {
  const viommu = new Viommu({ model: "intel-iommu" });
  assert(viommu.addDevice(GUEST_NIC).ok);
  const vdpa = new VhostVdpaIotlb({ parent: new VdpaSimIotlb().setMapParent(), nas: 2 });
  const r = new VdpaViommuRelay({ vdpa, viommu, rid: GUEST_NIC, gpaToHva }).start();
  assert(!r.ok && r.error.kind === "notifier-unsupported");
});
