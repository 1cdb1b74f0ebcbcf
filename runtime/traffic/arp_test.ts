import assert from "node:assert/strict";
import { formatMac, qemuMac } from "./address.ts";
import {
  ARP_REPLY,
  ARP_REQUEST,
  arpReplyInPlace,
  buildArpRequest,
  newArpInfo,
  parseArp,
} from "./arp.ts";

Deno.test("an ARP request is a broadcast who-has padded to 60 bytes", () => {
  const f = new Uint8Array(60).fill(0xaa);
  assert.equal(
    buildArpRequest(f, { senderMac: qemuMac(0), senderIp: 0x0a000001, targetIp: 0x0a000002 }),
    60,
  );
  assert.deepEqual([...f.subarray(0, 6)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  assert.deepEqual([...f.subarray(12, 22)], [0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1]);
  assert.deepEqual([...f.subarray(42)], new Array(18).fill(0));
  const info = newArpInfo();
  assert.equal(parseArp(f, info), undefined);
  assert.equal(info.op, ARP_REQUEST);
  assert.equal(formatMac(info.senderMac), "52:54:00:12:34:56");
  assert.equal(info.targetIp, 0x0a000002);
});

Deno.test("arpReplyInPlace() answers with our MAC to the asker", () => {
  const f = new Uint8Array(60);
  buildArpRequest(f, { senderMac: qemuMac(0), senderIp: 0x0a000001, targetIp: 0x0a000002 });
  assert.equal(arpReplyInPlace(f, qemuMac(1)), undefined);
  const info = newArpInfo();
  assert.equal(parseArp(f, info), undefined);
  assert.equal(info.op, ARP_REPLY);
  assert.equal(formatMac(info.senderMac), "52:54:00:12:34:57");
  assert.equal(info.senderIp, 0x0a000002);
  assert.equal(formatMac(info.targetMac), "52:54:00:12:34:56");
  assert.equal(info.targetIp, 0x0a000001);
  assert.equal(formatMac(f.subarray(0, 6)), "52:54:00:12:34:56");
  assert.equal(arpReplyInPlace(f, qemuMac(1))?.kind, "not-arp");
});

Deno.test("parseArp() rejects short frames, other EtherTypes and odd hardware", () => {
  const info = newArpInfo();
  assert.equal(parseArp(new Uint8Array(20), info)?.kind, "truncated");
  const f = new Uint8Array(60);
  buildArpRequest(f, { senderMac: qemuMac(0), senderIp: 1, targetIp: 2 });
  f[12] = 0x08;
  f[13] = 0x00;
  assert.equal(parseArp(f, info)?.kind, "not-arp");
  f[13] = 0x06;
  f[18] = 8; // hlen
  assert.equal(parseArp(f, info)?.kind, "not-arp");
});
