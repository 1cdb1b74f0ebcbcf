import assert from "node:assert/strict";
import { qemuMac } from "./address.ts";
import { planUdpFlow } from "./flow.ts";
import { buildEchoRequest, echoReplyInPlace } from "./icmp.ts";
import { buildArpRequest } from "./arp.ts";
import {
  describePcapError,
  LINKTYPE_ETHERNET,
  PCAP_MAGIC_NS,
  PCAP_MAGIC_US,
  PcapWriter,
  readPcap,
} from "./pcap.ts";

Deno.test("PcapWriter writes the classic header: ns magic, v2.4, Ethernet", () => {
  const b = new PcapWriter().bytes();
  assert.equal(b.length, 24);
  assert.deepEqual([...b], [
    0x4d,
    0x3c,
    0xb2,
    0xa1,
    2,
    0,
    4,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0x00,
    0x00,
    0x04,
    0x00,
    1,
    0,
    0,
    0,
  ]);
  const us = new PcapWriter({ resolution: "us", snaplen: 65535 }).bytes();
  assert.deepEqual([...us.subarray(0, 4)], [0xd4, 0xc3, 0xb2, 0xa1]);
  assert.deepEqual([...us.subarray(16, 20)], [0xff, 0xff, 0, 0]);
});

Deno.test("a pcap round trip keeps bytes, ns timestamps and lengths", () => {
  const w = new PcapWriter({ snaplen: 100 });
  const frames = [new Uint8Array(60).fill(1), new Uint8Array(1514).fill(2), new Uint8Array(0)];
  w.write(0, frames[0] as Uint8Array);
  w.write(3_000_000_007.4, frames[1] as Uint8Array);
  w.write(2 ** 33 * 1e9 / 4, frames[2] as Uint8Array);
  assert.equal(w.packets, 3);
  const r = readPcap(w.bytes());
  assert.ok(r.ok);
  assert.deepEqual(r.value.header, {
    littleEndian: true,
    nanosecond: true,
    versionMajor: 2,
    versionMinor: 4,
    snaplen: 100,
    linktype: LINKTYPE_ETHERNET,
  });
  const p = r.value.packets;
  assert.deepEqual(p.map((x) => x.tNs), [0, 3_000_000_007, 2 ** 31 * 1e9]);
  assert.deepEqual(p.map((x) => x.origLen), [60, 1514, 0]);
  assert.deepEqual(p.map((x) => x.data.length), [60, 100, 0]); // cut at snaplen
  assert.deepEqual([...(p[1]?.data ?? [])], new Array(100).fill(2));
});

Deno.test("microsecond files truncate to µs; big-endian files read too", () => {
  const w = new PcapWriter({ resolution: "us" });
  w.write(1_234_567_891, new Uint8Array([9]));
  const r = readPcap(w.bytes());
  assert.ok(r.ok);
  assert.equal(r.value.packets[0]?.tNs, 1_234_567_000);
  // The same file, every field byte-swapped.
  const le = w.bytes();
  const be = le.slice();
  const swap = (off: number, n: number) => be.set(le.slice(off, off + n).reverse(), off);
  for (
    const [off, n] of [
      [0, 4],
      [4, 2],
      [6, 2],
      [8, 4],
      [12, 4],
      [16, 4],
      [20, 4],
      [24, 4],
      [28, 4],
      [32, 4],
      [36, 4],
    ]
  ) {
    swap(off as number, n as number);
  }
  const rb = readPcap(be);
  assert.ok(rb.ok);
  assert.equal(rb.value.header.littleEndian, false);
  assert.equal(rb.value.header.nanosecond, false);
  assert.equal(rb.value.packets[0]?.tNs, 1_234_567_000);
  assert.deepEqual([...(rb.value.packets[0]?.data ?? [])], [9]);
});

Deno.test("readPcap() reports broken files as values", () => {
  const errorOf = (b: Uint8Array) => {
    const r = readPcap(b);
    assert.ok(!r.ok);
    return r.error;
  };
  assert.equal(errorOf(new Uint8Array(10)).kind, "too-short");
  assert.equal(
    describePcapError(errorOf(new Uint8Array(24))),
    "magic 0x00000000 is not a pcap file",
  );
  const w = new PcapWriter();
  w.write(0, new Uint8Array(60));
  const full = w.bytes();
  assert.deepEqual(errorOf(full.slice(0, 30)), { kind: "truncated-record", index: 0, offset: 24 });
  assert.deepEqual(errorOf(full.slice(0, 80)), { kind: "truncated-record", index: 0, offset: 24 });
  const bad = full.slice();
  new DataView(bad.buffer).setUint32(24 + 12, 10, true); // orig_len < incl_len
  assert.deepEqual(errorOf(bad), { kind: "bad-record-length", index: 0, incl: 60, orig: 10 });
});

Deno.test("PcapWriter can stream to a sink", () => {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter({ sink: (c) => chunks.push(c) });
  w.write(5, new Uint8Array([1, 2, 3]));
  assert.equal(w.bytes().length, 0);
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  const r = readPcap(all);
  assert.ok(r.ok);
  assert.deepEqual([...(r.value.packets[0]?.data ?? [])], [1, 2, 3]);
  assert.equal(new DataView(all.buffer).getUint32(0, true), PCAP_MAGIC_NS);
  assert.notEqual(PCAP_MAGIC_NS, PCAP_MAGIC_US);
});

function hasTshark(): boolean {
  try {
    return new Deno.Command("tshark", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "tshark reads our capture and finds every checksum good",
  ignore: !hasTshark(),
  async fn() {
    const w = new PcapWriter();
    const buf = new Uint8Array(9100);
    let expected = 0;
    for (const size of [64, 65, 1518, 9018]) {
      const p = planUdpFlow({
        flowId: 3,
        frameBytes: size,
        count: 2,
        rate: { kind: "pps", pps: 1e6 },
        srcMac: qemuMac(0),
        dstMac: qemuMac(1),
        srcIp: 0x0a000001,
        dstIp: 0x0a000002,
      });
      assert.ok(p.ok);
      for (let k = 1; k <= 2; k++) {
        w.write(expected * 1000 + 7, buf.subarray(0, p.value.buildFrame(buf, k)));
        expected++;
      }
    }
    const n = buildEchoRequest(buf, {
      srcMac: qemuMac(0),
      dstMac: qemuMac(1),
      srcIp: 0x0a000001,
      dstIp: 0x0a000002,
      id: 77,
      seq: 1,
      payloadBytes: 56,
      flowId: 9,
    });
    w.write(5e9, buf.subarray(0, n));
    echoReplyInPlace(buf.subarray(0, n));
    w.write(5e9 + 1234, buf.subarray(0, n));
    w.write(
      6e9,
      buf.subarray(0, buildArpRequest(buf, { senderMac: qemuMac(0), senderIp: 1, targetIp: 2 })),
    );
    const dir = await Deno.makeTempDir();
    const file = `${dir}/capture.pcap`;
    await Deno.writeFile(file, w.bytes());
    const out = await new Deno.Command("tshark", {
      args: [
        "-r",
        file,
        "-o",
        "ip.check_checksum:TRUE",
        "-o",
        "udp.check_checksum:TRUE",
        "-T",
        "fields",
        "-E",
        "separator=,",
        "-e",
        "frame.time_epoch",
        "-e",
        "frame.len",
        "-e",
        "ip.checksum.status",
        "-e",
        "udp.checksum.status",
        "-e",
        "icmp.checksum.status",
        "-e",
        "_ws.col.Protocol",
      ],
      stdout: "piped",
      stderr: "null",
    }).output();
    await Deno.remove(dir, { recursive: true });
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
    assert.deepEqual(lines, [
      "0.000000007,60,1,1,,UDP",
      "0.000001007,60,1,1,,UDP",
      "0.000002007,61,1,1,,UDP",
      "0.000003007,61,1,1,,UDP",
      "0.000004007,1514,1,1,,UDP",
      "0.000005007,1514,1,1,,UDP",
      "0.000006007,9014,1,1,,UDP",
      "0.000007007,9014,1,1,,UDP",
      "5.000000000,98,1,,1,ICMP",
      "5.000001234,98,1,,1,ICMP",
      "6.000000000,60,,,,ARP",
    ]);
  },
});
