import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  newTranslateResult,
  VHOST_ACCESS_RO,
  VHOST_ACCESS_RW,
  VHOST_ACCESS_WO,
} from "../memory/translator.ts";
import { formatIommuEvent, type IommuEvent } from "./event.ts";
import { PAGE_SIZE_2M } from "./page_table.ts";
import { VhostDevIotlb } from "./vhost_dev_iotlb.ts";
import { type GpaToHva, VhostIotlbRelay } from "./vhost_iotlb_relay.ts";
import { Viommu, type ViommuConfig } from "./viommu.ts";

const GUEST_NIC = "0000:00:03.0";
/** One 2 GiB RAM region: GPA 0 at HVA 0x7f3a00000000. */
const RAM_HVA = 0x7f3a_0000_0000;
const RAM_SIZE = 0x8000_0000;
const gpaToHva: GpaToHva = (gpa) =>
  gpa >= 0 && gpa < RAM_SIZE ? { hva: RAM_HVA + gpa, len: RAM_SIZE - gpa } : undefined;

function world(config: ViommuConfig, ats = false) {
  const events: IommuEvent[] = [];
  const sink = (e: IommuEvent) => events.push(e);
  const viommu = new Viommu(config, { sink });
  assert(viommu.addDevice(GUEST_NIC, { ats }).ok);
  const vhost = new VhostDevIotlb({ sink });
  const relay = new VhostIotlbRelay({ vhost, viommu, rid: GUEST_NIC, gpaToHva, sink });
  assert(relay.start().ok);
  return { events, viommu, vhost, relay, tx: vhost.translatorFor(1), rx: vhost.translatorFor(0) };
}

Deno.test("vIOMMU miss round trip: miss → read → vIOMMU translate → GPA→HVA → update → resolved", () => {
  const { events, viommu, vhost, relay, tx } = world({ model: "intel-iommu" });
  // The guest driver maps one TX buffer for the device to read (DMA_TO_DEVICE).
  assert(viommu.map(GUEST_NIC, 0xffff_e000, 0x1234_5000, 0x1000, VHOST_ACCESS_RO).ok);
  events.length = 0;
  const out = newTranslateResult();
  assertEquals(tx.translate(0xffff_e0a0, 1514, VHOST_ACCESS_RO, out), false);
  assertEquals(tx.lastOutcome, "miss");
  const outcomes = relay.serviceReadable();
  assertEquals(outcomes, [{ kind: "updated", iova: 0xffff_e000, size: 0x1000, requeue: [1] }]);
  assert(tx.translate(0xffff_e0a0, 1514, VHOST_ACCESS_RO, out));
  assertEquals([out.addr, out.len], [RAM_HVA + 0x1234_50a0, 1514]);
  assertEquals(events.map(formatIommuEvent), [
    "vhost-iotlb-miss vq=1 iova=0xffffe0a0 perm=ro",
    "vhost-iotlb-read type=miss iova=0xffffe0a0 perm=ro",
    "viommu-translate rid=0000:00:03.0 iova=0xffffe0a0 gpa=0x123450a0 mask=0xfff perm=ro",
    "qemu-gpa-to-hva gpa=0x12345000 hva=0x7f3a12345000 len=0x6dcbb000",
    "vhost-iotlb-update asid=0 iova=0xffffe000 size=0x1000 uaddr=0x7f3a12345000 perm=ro",
    "vhost-iotlb-resolved vq=1 iova=0xffffe0a0",
  ]);
  assertEquals(vhost.pending(), []);
});

Deno.test("vIOMMU round trip: a guest unmap invalidates vhost, the next access misses again", () => {
  const { events, viommu, vhost, relay, rx } = world({ model: "intel-iommu" });
  assert(viommu.map(GUEST_NIC, 0x10_0000, 0x20_0000, 0x1000, VHOST_ACCESS_WO).ok);
  const out = newTranslateResult();
  rx.translate(0x10_0000, 64, VHOST_ACCESS_WO, out);
  relay.serviceReadable();
  assert(rx.translate(0x10_0000, 64, VHOST_ACCESS_WO, out));
  events.length = 0;
  assert(viommu.unmap(GUEST_NIC, 0x10_0000, 0x1000).ok);
  assertEquals(events.map(formatIommuEvent), [
    "viommu-unmap rid=0000:00:03.0 iova=0x100000 size=0x1000",
    "viommu-invalidate rid=0000:00:03.0 scope=iotlb iova=0x100000 size=0x1000",
    "viommu-notify rid=0000:00:03.0 event=unmap iova=0x100000 gpa=0x0 size=0x1000 perm=none",
    "vhost-iotlb-invalidate asid=0 iova=0x100000 size=0x1000 removed=1",
  ]);
  assertEquals(rx.translate(0x10_0000, 64, VHOST_ACCESS_WO, out), false);
  assertEquals(rx.lastOutcome, "miss");
  assertEquals(vhost.stats().invalidates, 1);
});

Deno.test("vIOMMU round trip with device-iotlb=on and ats=on: vhost hears DEVIOTLB_UNMAP only", () => {
  const { events, viommu, relay, rx } = world({ model: "intel-iommu", deviceIotlb: true }, true);
  assert(viommu.map(GUEST_NIC, 0x10_0000, 0x20_0000, 0x1000, VHOST_ACCESS_WO).ok);
  rx.translate(0x10_0000, 64, VHOST_ACCESS_WO, newTranslateResult());
  relay.serviceReadable();
  events.length = 0;
  assert(viommu.unmap(GUEST_NIC, 0x10_0000, 0x1000).ok);
  assertEquals(events.map((e) => e.kind === "viommu-notify" ? `notify ${e.event}` : e.kind), [
    "viommu-unmap",
    "viommu-invalidate",
    "viommu-invalidate",
    "notify deviotlb-unmap",
    "vhost-iotlb-invalidate",
  ]);
});

Deno.test("vIOMMU round trip fails when the guest never mapped the IOVA: the vq stays stalled", () => {
  const { events, viommu, vhost, relay, rx } = world({ model: "intel-iommu" });
  rx.translate(0xdead_0000, 64, VHOST_ACCESS_WO, newTranslateResult());
  assertEquals(relay.serviceReadable(), [{ kind: "translate-failed", iova: 0xdead_0000 }]);
  assertEquals(events.map(formatIommuEvent), [
    "vhost-iotlb-miss vq=0 iova=0xdead0000 perm=wo",
    "vhost-iotlb-read type=miss iova=0xdead0000 perm=wo",
    "viommu-fault DMAR: [DMA Write NO_PASID] Request device [00:03.0] fault addr 0xdead0000 [fault reason 0x05] PTE Write access is not set",
    "qemu-iotlb-miss-failed iova=0xdead0000 reason=translate",
  ]);
  assertEquals(vhost.pending(), [{ vq: 0, iova: 0xdead_0000, perm: 2 }]);
  assertEquals(viommu.faults.total, 1);
});

Deno.test("vIOMMU round trip: a write to a buffer the guest mapped read-only is refused by QEMU", () => {
  const { viommu, relay, rx } = world({ model: "intel-iommu" });
  assert(viommu.map(GUEST_NIC, 0x4000, 0x8000, 0x1000, VHOST_ACCESS_RO).ok);
  rx.translate(0x4000, 64, VHOST_ACCESS_WO, newTranslateResult());
  assertEquals(relay.serviceReadable(), [{ kind: "translate-failed", iova: 0x4000 }]);
  assertEquals(viommu.faults.count("write-to-read-only"), 1);
});

Deno.test("vIOMMU round trip: a GPA outside guest RAM fails the memory-table lookup", () => {
  const { viommu, relay, tx, vhost } = world({ model: "intel-iommu" });
  assert(viommu.map(GUEST_NIC, 0x4000, 0xfee0_0000, 0x1000, VHOST_ACCESS_RO).ok);
  tx.translate(0x4000, 8, VHOST_ACCESS_RO, newTranslateResult());
  assertEquals(relay.serviceReadable(), [{
    kind: "hva-lookup-failed",
    iova: 0x4000,
    gpa: 0xfee0_0000,
  }]);
  assertEquals(vhost.pending().length, 1);
});

Deno.test("vIOMMU round trip: one update covers a 2 MiB guest page, clipped to the RAM region", () => {
  const { viommu, relay, tx } = world({ model: "intel-iommu" });
  assert(
    viommu.map(GUEST_NIC, 0x4000_0000, RAM_SIZE - PAGE_SIZE_2M, PAGE_SIZE_2M, VHOST_ACCESS_RW).ok,
  );
  const out = newTranslateResult();
  tx.translate(0x4010_0000, 8, VHOST_ACCESS_RO, out);
  assertEquals(relay.serviceReadable(), [
    { kind: "updated", iova: 0x4000_0000, size: PAGE_SIZE_2M, requeue: [1] },
  ]);
  // Any address in the 2 MiB page now hits without another round trip.
  assert(tx.translate(0x401f_f000, 0x1000, VHOST_ACCESS_RO, out));
  assertEquals(out.addr, RAM_HVA + RAM_SIZE - 0x1000);
});

Deno.test("vIOMMU round trip in a guest with iommu=pt: identity, one 4 KiB page per update", () => {
  const { relay, tx, vhost } = world({ model: "intel-iommu", guestPassthrough: true });
  const out = newTranslateResult();
  tx.translate(0x1234_5678, 0x2000, VHOST_ACCESS_RO, out);
  assertEquals(relay.serviceReadable(), [{
    kind: "updated",
    iova: 0x1234_5000,
    size: 0x1000,
    requeue: [1],
  }]);
  assert(tx.translate(0x1234_5678, 0x2000, VHOST_ACCESS_RO, out));
  assertEquals([out.addr, out.len], [RAM_HVA + 0x1234_5678, 0x988]);
  // The rest of the buffer is on the next page: another miss.
  assertEquals(tx.translate(0x1234_6000, 0x678, VHOST_ACCESS_RO, out), false);
  assertEquals(vhost.stats().misses, 2);
});

Deno.test("VhostIotlbRelay.miss() pre-translates a used ring at start", () => {
  const { viommu, relay, rx, vhost } = world({ model: "intel-iommu" });
  assert(viommu.map(GUEST_NIC, 0x8000, 0x3000, 0x1000, VHOST_ACCESS_RW).ok);
  const o = relay.miss(0x8000, true);
  assertEquals(o.kind, "updated");
  assertEquals(vhost.readable, false);
  assert(rx.translate(0x8004, 4, VHOST_ACCESS_WO, newTranslateResult()));
});
