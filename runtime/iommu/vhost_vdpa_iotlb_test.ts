import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  type Access,
  newTranslateResult,
  type Translator,
  VHOST_ACCESS_RO,
  VHOST_ACCESS_WO,
} from "../memory/translator.ts";
import { formatIommuEvent, type IommuEvent } from "./event.ts";
import { Iommu } from "./iommu.ts";
import { VdpaSimIotlb } from "./vdpa_sim_iotlb.ts";
import { vhostIotlbErrno } from "./vhost_iotlb_error.ts";
import {
  VHOST_IOTLB_BATCH_BEGIN,
  VHOST_IOTLB_BATCH_END,
  VHOST_IOTLB_INVALIDATE,
  VHOST_IOTLB_MISS,
  VHOST_IOTLB_UPDATE,
  type VhostIotlbMsg,
} from "./vhost_iotlb_msg.ts";
import { type VdpaDmaParent, VhostVdpaIotlb } from "./vhost_vdpa_iotlb.ts";

const upd = (iova: number, size: number, uaddr: number, perm: 1 | 2 | 3 = 3): VhostIotlbMsg => ({
  type: VHOST_IOTLB_UPDATE,
  iova,
  size,
  uaddr,
  perm,
});
const inv = (iova: number, size: number): VhostIotlbMsg => ({
  type: VHOST_IOTLB_INVALIDATE,
  iova,
  size,
  uaddr: 0,
  perm: 0,
});
const hint = (type: 5 | 6): VhostIotlbMsg => ({ type, iova: 0, size: 0, uaddr: 0, perm: 0 });

/** The translated address, or undefined on a fault. */
function at(t: Translator, addr: number, access: Access): number | undefined {
  const out = newTranslateResult();
  return t.translate(addr, 8, access, out) ? out.addr : undefined;
}

function recordingParent(calls: string[]): VdpaDmaParent {
  return {
    kind: "dma_map",
    dmaMap: (asid, iova, size, addr) => {
      calls.push(`map ${asid} ${iova.toString(16)}+${size.toString(16)}->${addr.toString(16)}`);
      return undefined;
    },
    dmaUnmap: (asid, iova, size) => {
      calls.push(`unmap ${asid} ${iova.toString(16)}+${size.toString(16)}`);
    },
  };
}

Deno.test("VhostVdpaIotlb rejects updates the way vhost-vdpa does", async (t) => {
  const v = new VhostVdpaIotlb({
    parent: recordingParent([]),
    range: { first: 0x1000, last: 0xffff_ffff },
  });
  assert(v.process(upd(0x10000, 0x2000, 0x7f00_0000)).ok);
  const errno = (m: VhostIotlbMsg, asid = 0) => {
    const r = v.process(m, asid);
    return r.ok ? "ok" : `${r.error.kind} ${vhostIotlbErrno(r.error)}`;
  };
  await t.step(
    "below the IOVA range",
    () => assertEquals(errno(upd(0x0, 0x1000, 0)), "outside-range EINVAL"),
  );
  await t.step("ending past the IOVA range", () => {
    assertEquals(errno(upd(0xffff_f000, 0x2000, 0)), "outside-range EINVAL");
  });
  await t.step("zero size", () => assertEquals(errno(upd(0x20000, 0, 0)), "zero-size EINVAL"));
  await t.step("overlapping an existing mapping", () => {
    assertEquals(errno(upd(0x11000, 0x2000, 0)), "overlap EEXIST");
  });
  await t.step(
    "no permission",
    () => assertEquals(errno(upd(0x20000, 0x1000, 0, 0 as 1)), "bad-perm EINVAL"),
  );
  await t.step("an address space the device lacks", () => {
    assertEquals(errno(upd(0x20000, 0x1000, 0), 1), "bad-asid EINVAL");
  });
  await t.step("a MISS written by userspace", () => {
    assertEquals(errno({ ...hint(5), type: VHOST_IOTLB_MISS }), "bad-type EINVAL");
  });
  assertEquals(v.iotlb(0)?.size, 1);
});

Deno.test("VhostVdpaIotlb: a set_map parent is reprogrammed per update, or once per batch", () => {
  const events: IommuEvent[] = [];
  const sizes: number[] = [];
  const v = new VhostVdpaIotlb({
    parent: {
      kind: "set_map",
      setMap: (_asid, iotlb) => {
        sizes.push(iotlb.size);
        return undefined;
      },
    },
    sink: (e) => events.push(e),
  });
  assert(v.process(upd(0x0, 0x1000, 0xa000)).ok);
  assert(v.process(hint(VHOST_IOTLB_BATCH_BEGIN)).ok);
  assert(v.process(upd(0x1000, 0x1000, 0xb000)).ok);
  assert(v.process(upd(0x2000, 0x1000, 0xc000)).ok);
  assert(v.process(inv(0x0, 0x1000)).ok);
  assert(v.process(hint(VHOST_IOTLB_BATCH_END)).ok);
  assertEquals(sizes, [1, 2]);
  assertEquals(events.map(formatIommuEvent), [
    "vhost-iotlb-update asid=0 iova=0x0 size=0x1000 uaddr=0xa000 perm=rw",
    "vdpa-set-map asid=0 entries=1",
    "vhost-iotlb-batch asid=0 begin",
    "vhost-iotlb-update asid=0 iova=0x1000 size=0x1000 uaddr=0xb000 perm=rw",
    "vhost-iotlb-update asid=0 iova=0x2000 size=0x1000 uaddr=0xc000 perm=rw",
    "vhost-iotlb-invalidate asid=0 iova=0x0 size=0x1000 removed=1",
    "vhost-iotlb-batch asid=0 end",
    "vdpa-set-map asid=0 entries=2",
  ]);
});

Deno.test("VhostVdpaIotlb: a dma_map parent gets incremental map and per-range unmap", () => {
  const calls: string[] = [];
  const v = new VhostVdpaIotlb({ parent: recordingParent(calls), nas: 2 });
  assert(v.process(upd(0x0, 0x2000, 0xa000)).ok);
  assert(v.process(upd(0x4000, 0x1000, 0xf000), 1).ok);
  assert(v.process(upd(0x2000, 0x1000, 0xc000)).ok);
  assert(v.process(inv(0x1000, 0x2000)).ok);
  assertEquals(calls, [
    "map 0 0+2000->a000",
    "map 1 4000+1000->f000",
    "map 0 2000+1000->c000",
    "unmap 0 0+2000",
    "unmap 0 2000+1000",
  ]);
  assertEquals([v.iotlb(0)?.size, v.iotlb(1)?.size], [0, 1]);
});

Deno.test("VhostVdpaIotlb: a parent's refusal leaves no trace in the IOTLB", () => {
  const v = new VhostVdpaIotlb({
    parent: {
      kind: "dma_map",
      dmaMap: (
        _a,
        iova,
      ) => (iova >= 0x8000 ? { kind: "bad-range", start: iova, last: iova } : undefined),
      dmaUnmap: () => {},
    },
  });
  assert(v.process(upd(0x0, 0x1000, 0)).ok);
  assert(!v.process(upd(0x8000, 0x1000, 0)).ok);
  assertEquals(v.iotlb(0)?.maps().map((m) => m.start), [0x0]);
});

Deno.test("VhostVdpaIotlb on a platform IOMMU domain maps through iommu_map", () => {
  const mmu = new Iommu({ enabled: true, passthrough: true, addressWidth: 48, iotlbEntries: 16 });
  mmu.addDevice("0000:3b:00.2");
  const dom = mmu.allocDomain("unmanaged", { owner: "vhost-vdpa" });
  assert(dom.ok);
  mmu.attachGroup(0, dom.value);
  const v = new VhostVdpaIotlb({ parent: { kind: "platform", iommu: mmu, domain: dom.value } });
  assert(v.process(upd(0x0, 0x2000, 0x4000_0000)).ok);
  // An unaligned update passes vhost-vdpa's checks but iommu_map refuses it.
  const bad = v.process(upd(0x3000, 0x800, 0x4000_3000));
  assert(!bad.ok && bad.error.kind === "iommu" && bad.error.error.kind === "unaligned");
  assertEquals(v.iotlb(0)?.size, 1);
  const dma = mmu.translatorFor("0000:3b:00.2");
  assert(dma.ok);
  const out = newTranslateResult();
  assert(dma.value.translate(0x1010, 8, VHOST_ACCESS_WO, out));
  assertEquals(out.addr, 0x4000_1010);
  assert(v.process(inv(0x0, 0x1000)).ok);
  assertEquals(dma.value.translate(0x1010, 8, VHOST_ACCESS_WO, out), false);
  assertEquals(mmu.domains().find((d) => d.id === dom.value)?.mappedBytes, 0);
});

Deno.test("VhostVdpaIotlb in PA mode pins pages and maps each contiguous chunk", () => {
  const calls: string[] = [];
  // HVA pages 0..3 → PA pages 0x100, 0x101, 0x300, 0x301.
  const frames = [0x100, 0x101, 0x300, 0x301];
  const v = new VhostVdpaIotlb({
    parent: recordingParent(calls),
    hvaToPa: (hva) => {
      const f = frames[(hva - 0x7f00_0000) / 0x1000];
      return f === undefined ? undefined : f * 0x1000;
    },
  });
  assert(v.process(upd(0x10000, 0x4000, 0x7f00_0000)).ok);
  assertEquals(calls, ["map 0 10000+2000->100000", "map 0 12000+2000->300000"]);
  assertEquals([v.iotlb(0)?.size, v.pinnedPages], [2, 4]);
  const r = v.process(upd(0x20000, 0x5000, 0x7f00_0000));
  assert(!r.ok && r.error.kind === "pin-failed" && r.error.uaddr === 0x7f00_4000);
  assertEquals([v.iotlb(0)?.size, v.pinnedPages], [2, 4]);
  v.release();
  assertEquals([v.iotlb(0), v.pinnedPages], [undefined, 0]);
});

Deno.test("vdpa_sim behind vhost-vdpa: identity until set_map, reset restores identity", () => {
  const sim = new VdpaSimIotlb();
  const v = new VhostVdpaIotlb({ parent: sim.setMapParent(), nas: 2 });
  const rx = sim.translatorFor(0);
  const cvq = sim.translatorFor(1);
  const out = newTranslateResult();
  assertEquals(at(rx, 0x1234, VHOST_ACCESS_WO), 0x1234);
  assert(v.process(upd(0x0, 0x1000, 0x7f00_0000, VHOST_ACCESS_RO)).ok);
  assertEquals([sim.passthrough(0), sim.passthrough(1)], [false, true]);
  assertEquals(rx.translate(0x1234, 8, VHOST_ACCESS_RO, out), false);
  assertEquals(rx.lastOutcome, "unmapped");
  assertEquals(rx.translate(0x10, 8, VHOST_ACCESS_WO, out), false);
  assertEquals(rx.lastOutcome, "denied");
  assertEquals(at(rx, 0x10, VHOST_ACCESS_RO), 0x7f00_0010);
  // The CVQ's address space was not touched: still pass-through.
  assertEquals(at(cvq, 0x1234, VHOST_ACCESS_RO), 0x1234);
  sim.reset();
  assertEquals(at(rx, 0x1234, VHOST_ACCESS_WO), 0x1234);
});

Deno.test("vdpa_sim with batch_mapping=0 leaves pass-through on the first dma_map", () => {
  const sim = new VdpaSimIotlb();
  const v = new VhostVdpaIotlb({ parent: sim.dmaMapParent(), nas: 2 });
  assert(v.process(upd(0x2000, 0x1000, 0x9000)).ok);
  const out = newTranslateResult();
  const t = sim.translatorFor(0);
  assertEquals(t.translate(0x0, 8, VHOST_ACCESS_RO, out), false);
  assertEquals(at(t, 0x2008, VHOST_ACCESS_RO), 0x9008);
  assert(v.process(inv(0x2000, 0x1000)).ok);
  assertEquals(t.translate(0x2008, 8, VHOST_ACCESS_RO, out), false);
  assertEquals(sim.setMap(5, sim.iotlb(0) as never)?.kind, "bad-asid");
});
