import assert from "node:assert/strict";
import {
  describeAddressError,
  formatIpv4,
  formatMac,
  isMulticastMac,
  macEquals,
  parseIpv4,
  parseMac,
  qemuMac,
} from "./address.ts";

Deno.test("parseMac() accepts colon or dash separated hex and rejects the rest", () => {
  const a = parseMac("52:54:00:AB:cd:0F");
  assert.ok(a.ok);
  assert.equal(formatMac(a.value), "52:54:00:ab:cd:0f");
  const b = parseMac("52-54-00-ab-cd-0f");
  assert.ok(b.ok);
  assert.ok(macEquals(a.value, b.value));
  for (
    const bad of [
      "52:54:00:ab:cd",
      "52:54:00:ab:cd:0f:11",
      "52:54-00:ab:cd:0f",
      "5:54:00:ab:cd:0f",
      "zz:54:00:ab:cd:0f",
      "",
    ]
  ) {
    const r = parseMac(bad);
    assert.ok(!r.ok, bad);
    assert.equal(r.error.kind, "bad-mac");
  }
});

Deno.test("parseIpv4() takes four decimal parts 0-255 without leading zeros", () => {
  const r = parseIpv4("192.168.0.199");
  assert.ok(r.ok);
  assert.equal(r.value, 0xc0a800c7);
  assert.equal(formatIpv4(r.value), "192.168.0.199");
  assert.equal(formatIpv4(0xffffffff), "255.255.255.255");
  for (
    const bad of ["256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.-4", "a.b.c.d", "1..2.3"]
  ) {
    const e = parseIpv4(bad);
    assert.ok(!e.ok, bad);
    assert.equal(
      describeAddressError(e.error),
      `\`${bad}\` is not an IPv4 address (four numbers 0-255 like 10.0.0.1)`,
    );
  }
});

Deno.test("qemuMac() counts up from QEMU's default 52:54:00:12:34:56", () => {
  assert.equal(formatMac(qemuMac(0)), "52:54:00:12:34:56");
  assert.equal(formatMac(qemuMac(0xa9)), "52:54:00:12:34:ff");
  assert.equal(formatMac(qemuMac(0xaa)), "52:54:00:12:35:00");
});

Deno.test("isMulticastMac() looks at the group bit", () => {
  assert.ok(isMulticastMac(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])));
  assert.ok(isMulticastMac(new Uint8Array([0x01, 0x00, 0x5e, 0, 0, 1])));
  assert.ok(!isMulticastMac(qemuMac(0)));
});
