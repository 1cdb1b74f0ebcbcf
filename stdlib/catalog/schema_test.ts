import { deepEqual as assertEquals } from "node:assert/strict";
import {
  isQemuId,
  parseBool,
  parseDevfn,
  parseInteger,
  parseMac,
  parsePciAddress,
  parseSize,
  parseValue,
  type PropSchema,
  qemuValueErrorText,
  type ValueError,
} from "./schema.ts";

const G = 1024 ** 3;

function errorOf(text: string, prop: PropSchema): ValueError {
  const r = parseValue(text, prop);
  if (r.ok) throw new Error(`${text} should not parse as ${prop.type}`);
  return r.error;
}

Deno.test("parseBool() accepts exactly QEMU's qapi_bool_parse words", () => {
  for (const w of ["on", "yes", "true", "y"]) assertEquals(parseBool(w), true, w);
  for (const w of ["off", "no", "false", "n"]) assertEquals(parseBool(w), false, w);
  // Case matters and nothing else is a boolean: not "1", not "ON", not the empty string.
  for (const w of ["1", "0", "ON", "Off", "", "enable", "yes "]) {
    assertEquals(parseBool(w), undefined, w);
  }
});

Deno.test("parseInteger() reads like strtoll(…, 0) with nothing left over", async (t) => {
  await t.step("decimal, hex and octal", () => {
    assertEquals(parseInteger("256"), 256n);
    assertEquals(parseInteger("0x100"), 256n);
    assertEquals(parseInteger("0X1f"), 31n);
    assertEquals(parseInteger("010"), 8n);
    assertEquals(parseInteger("0"), 0n);
    assertEquals(parseInteger("-1"), -1n);
    assertEquals(parseInteger("+7"), 7n);
  });
  await t.step("trailing garbage, bad digits and blanks are not numbers", () => {
    for (const bad of ["", "12abc", "0x", "08", "1 ", " 1", "1.5", "0x1g", "--1", "4G"]) {
      assertEquals(parseInteger(bad), undefined, bad);
    }
  });
  await t.step("64-bit values are exact", () => {
    assertEquals(parseInteger("18446744073709551615"), 18446744073709551615n);
  });
});

Deno.test("parseSize() reads like qemu_strtosz", async (t) => {
  await t.step("suffixes are powers of 1024, case-insensitive", () => {
    assertEquals(parseSize("4G"), 4n * BigInt(G));
    assertEquals(parseSize("4g"), 4n * BigInt(G));
    assertEquals(parseSize("2M"), 2n << 20n);
    assertEquals(parseSize("512k"), 512n << 10n);
    assertEquals(parseSize("1T"), 1n << 40n);
    assertEquals(parseSize("100B"), 100n);
    assertEquals(parseSize("4096"), 4096n);
  });
  await t.step("a fraction needs a unit above bytes", () => {
    assertEquals(parseSize("1.5G"), 3n << 29n);
    assertEquals(parseSize("1.5"), undefined);
    assertEquals(parseSize("1.5B"), undefined);
  });
  await t.step("hex works, with or without a suffix", () => {
    assertEquals(parseSize("0x1000"), 4096n);
    assertEquals(parseSize("0x10M"), 16n << 20n);
  });
  await t.step("a default unit applies without suffix (-m counts MiB)", () => {
    assertEquals(parseSize("2048", 1n << 20n), 2n * BigInt(G));
    assertEquals(parseSize("2G", 1n << 20n), 2n * BigInt(G));
  });
  await t.step("nonsense and overflow are rejected", () => {
    for (const bad of ["", "G", "4GB", "4 G", "-1G", "1e3", "17E"]) {
      assertEquals(parseSize(bad), undefined, bad);
    }
  });
});

Deno.test("isQemuId() follows id_wellformed: a letter first, then letters, digits, - . _", () => {
  for (const ok of ["n0", "net0", "vhost-vdpa0", "a.b_c-d", "N"]) {
    assertEquals(isQemuId(ok), true, ok);
  }
  for (const bad of ["0n", "", "-n", "n 0", "n,0", "n=0", "_n", "é"]) {
    assertEquals(isQemuId(bad), false, bad);
  }
});

Deno.test("parseMac() takes six hex pairs with : or - and canonicalises", () => {
  assertEquals(parseMac("52:54:00:12:34:56"), "52:54:00:12:34:56");
  assertEquals(parseMac("52-54-00-AB-cd-EF"), "52:54:00:ab:cd:ef");
  for (
    const bad of ["52:54:00:12:34", "52:54:00:12:34:56:78", "5:54:00:12:34:56", "zz:54:00:12:34:56"]
  ) {
    assertEquals(parseMac(bad), undefined, bad);
  }
});

Deno.test("parsePciAddress() takes [DDDD:]BB:DD.F within PCI's field widths", () => {
  assertEquals(parsePciAddress("0000:3b:00.1"), "0000:3b:00.1");
  assertEquals(parsePciAddress("3b:00.1"), "0000:3b:00.1");
  assertEquals(parsePciAddress("0:3:0.7"), "0000:03:00.7");
  // Device numbers are 5 bits and functions 3 bits.
  assertEquals(parsePciAddress("0000:3b:20.0"), undefined);
  assertEquals(parsePciAddress("0000:3b:00.8"), undefined);
  assertEquals(parsePciAddress("3b:00"), undefined);
});

Deno.test("parseDevfn() takes a hex slot and an optional function", () => {
  assertEquals(parseDevfn("0x5"), { slot: 5, fn: 0 });
  assertEquals(parseDevfn("05.2"), { slot: 5, fn: 2 });
  assertEquals(parseDevfn("1f"), { slot: 31, fn: 0 });
  assertEquals(parseDevfn("20"), undefined);
  assertEquals(parseDevfn("5.8"), undefined);
});

Deno.test("parseValue() range-checks integers against the C type and the schema", () => {
  const u16: PropSchema = { type: "uint", width: 16, ioRelevant: true, desc: "" };
  assertEquals(parseValue("65535", u16), { ok: true, value: 65535 });
  assertEquals(errorOf("65536", u16).kind, "out-of-range");
  assertEquals(errorOf("-1", u16).kind, "out-of-range");
  const i32: PropSchema = { type: "int", width: 32, ioRelevant: true, desc: "" };
  assertEquals(parseValue("-2147483648", i32), { ok: true, value: -2147483648 });
  assertEquals(errorOf("2147483648", i32).kind, "out-of-range");
  const bounded: PropSchema = { type: "uint", min: 1, max: 1024, ioRelevant: true, desc: "" };
  assertEquals(errorOf("0", bounded).kind, "out-of-range");
  assertEquals(errorOf("1025", bounded).kind, "out-of-range");
});

Deno.test("parseValue() types every kind of property", () => {
  const p = (type: PropSchema["type"], extra: Partial<PropSchema> = {}): PropSchema => ({
    type,
    ioRelevant: true,
    desc: "",
    ...extra,
  });
  assertEquals(parseValue("y", p("bool")), { ok: true, value: true });
  assertEquals(parseValue("auto", p("onoffauto")), { ok: true, value: "auto" });
  assertEquals(errorOf("maybe", p("onoffauto")).kind, "not-onoffauto");
  assertEquals(parseValue("4G", p("size")), { ok: true, value: 4 * G });
  assertEquals(parseValue("timer", p("enum", { values: ["bh", "timer"] })), {
    ok: true,
    value: "timer",
  });
  assertEquals(errorOf("Timer", p("enum", { values: ["bh", "timer"] })).kind, "not-in-enum");
  assertEquals(errorOf("", p("ref")).kind, "empty");
  assertEquals(errorOf("", p("path")).kind, "empty");
  assertEquals(parseValue("", p("string")), { ok: true, value: "" });
  assertEquals(errorOf("1net", p("id")).kind, "not-id");
});

Deno.test("qemuValueErrorText() quotes the parser that QEMU uses for the option", async (t) => {
  const bool: PropSchema = { type: "bool", ioRelevant: true, desc: "" };
  const u32: PropSchema = { type: "uint", width: 32, ioRelevant: true, desc: "" };
  const u16: PropSchema = { type: "uint", width: 16, ioRelevant: true, desc: "" };
  const size: PropSchema = { type: "size", ioRelevant: true, desc: "" };
  await t.step("-netdev (opts-visitor)", () => {
    const ctx = { style: "opts" as const, owner: "tap", prop: "vhost" };
    assertEquals(
      qemuValueErrorText(errorOf("maybe", bool), ctx),
      "Parameter 'vhost' expects 'on' or 'off'",
    );
    assertEquals(
      qemuValueErrorText(errorOf("two", u32), { ...ctx, prop: "queues" }),
      "Parameter 'queues' expects a uint64 value",
    );
    assertEquals(
      qemuValueErrorText(errorOf("4294967296", u32), { ...ctx, prop: "queues" }),
      "Parameter 'queues' expects uint32_t",
    );
  });
  await t.step("-device (keyval visitor and qdev setters)", () => {
    const ctx = { style: "keyval" as const, owner: "virtio-net-pci", prop: "tx_queue_size" };
    assertEquals(
      qemuValueErrorText(errorOf("x", u16), ctx),
      "Parameter 'tx_queue_size' expects integer",
    );
    assertEquals(
      qemuValueErrorText(errorOf("70000", u16), ctx),
      "Parameter 'tx_queue_size' expects uint16_t",
    );
    const mac: PropSchema = { type: "mac", ioRelevant: true, desc: "" };
    assertEquals(
      qemuValueErrorText(errorOf("52:54", mac), { ...ctx, prop: "mac" }),
      "Property 'virtio-net-pci.mac' doesn't take value '52:54'",
    );
    assertEquals(
      qemuValueErrorText(errorOf("4X", size), { ...ctx, prop: "size" }),
      "Parameter 'size' expects size",
    );
  });
  await t.step("-chardev and -m (QemuOpts)", () => {
    const ctx = { style: "qemu-opts" as const, owner: "socket", prop: "server" };
    assertEquals(
      qemuValueErrorText(errorOf("sure", bool), ctx),
      "Parameter 'server' expects 'on' or 'off'",
    );
    assertEquals(
      qemuValueErrorText(errorOf("lots", size), { ...ctx, prop: "size" }),
      "Parameter 'size' expects a non-negative number below 2^64",
    );
  });
  await t.step("DPDK and OVS have no QEMU text", () => {
    assertEquals(
      qemuValueErrorText(errorOf("x", u16), {
        style: "kvargs",
        owner: "net_vhost",
        prop: "queues",
      }),
      undefined,
    );
    assertEquals(
      qemuValueErrorText(errorOf("x", u16), { style: "ovsdb", owner: "dpdk", prop: "n_rxq" }),
      undefined,
    );
  });
});
