import assert from "node:assert/strict";
import { formatTableNumber, renderTable } from "./table.ts";

Deno.test("renderTable() aligns text left, numbers right, and sizes columns to fit", () => {
  const text = renderTable(
    [{ header: "datapath" }, { header: "Mpps", decimals: 2 }, { header: "exits/pkt" }, {
      header: "bottleneck",
    }],
    [
      ["qemu userspace", 0.412, 1, "qemu-main"],
      ["vhost-net", 1.2556, 0.03125, "vhost-4242"],
      ["vhost-vdpa (hw)", 14.88, 0, undefined],
    ],
  );
  assert.equal(
    text,
    [
      "datapath          Mpps  exits/pkt  bottleneck",
      "---------------  -----  ---------  ----------",
      "qemu userspace    0.41          1  qemu-main",
      "vhost-net         1.26      0.031  vhost-4242",
      "vhost-vdpa (hw)  14.88          0  -",
    ].join("\n"),
  );
});

Deno.test("formatTableNumber() groups thousands and rounds deterministically", () => {
  assert.equal(formatTableNumber(14880952), "14,880,952");
  assert.equal(formatTableNumber(1234.5678), "1,234.568");
  assert.equal(formatTableNumber(0.1 + 0.2), "0.3");
  assert.equal(formatTableNumber(-1234567), "-1,234,567");
  assert.equal(formatTableNumber(2, 2), "2.00");
  assert.equal(formatTableNumber(Number.NaN), "NaN");
});

Deno.test("renderTable() honours an explicit alignment and handles no rows", () => {
  assert.equal(
    renderTable([{ header: "a", align: "right" }, { header: "bb" }], []),
    "a  bb\n-  --",
  );
  assert.equal(
    renderTable([{ header: "n", align: "left" }], [[5], [123]]),
    "n\n---\n5\n123",
  );
});
