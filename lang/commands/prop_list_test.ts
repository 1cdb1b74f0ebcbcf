import assert from "node:assert/strict";
import fc from "fast-check";
import { Diagnostics } from "../diagnostic.ts";
import { literalWord } from "../word.ts";
import { parseCommaList } from "./prop_list.ts";
import { must } from "./test_expect.ts";
import { testWords } from "./test_words.ts";

const at = (start: number, text: string) =>
  literalWord(text, { source: "p", start, end: start + text.length });

Deno.test("parseCommaList (QEMU)", async (t) => {
  await t.step("spans are offsets into the source, also from the middle of a word", () => {
    const w = at(100, "net_vhost0,iface=/tmp/s,queues=2");
    const list = parseCommaList(w, new Diagnostics(), { dialect: "dpdk", from: 11 });
    assert.deepEqual(list.span, { source: "p", start: 111, end: 132 });
    const [iface, queues] = list.items;
    assert.deepEqual(must(iface).key.span, { source: "p", start: 111, end: 116 });
    assert.deepEqual(must(must(queues).value).span, { source: "p", start: 131, end: 132 });
  });

  await t.step("without an implied key a first bare item is a flag", () => {
    const diags = new Diagnostics();
    const list = parseCommaList(at(0, "mem-lock=on,cpu-pm"), diags, {
      dialect: "qemu",
      option: "-overcommit",
    });
    assert.equal(must(list.items[1]).value, undefined);
    assert.deepEqual(diags.items.map((d) => d.code), ["W0012"]);
  });

  await t.step("`help` and `?` are not deprecated booleans", () => {
    const diags = new Diagnostics();
    parseCommaList(at(0, "virtio-net-pci,help"), diags, { dialect: "qemu", impliedKey: "driver" });
    parseCommaList(at(0, "virtio-net-pci,?"), diags, { dialect: "qemu", impliedKey: "driver" });
    assert.equal(diags.length, 0);
  });

  await t.step("an empty list and a lone comma", () => {
    const diags = new Diagnostics();
    assert.deepEqual(
      parseCommaList(at(0, ""), diags, { dialect: "qemu", impliedKey: "type" }).items,
      [],
    );
    parseCommaList(at(0, ","), diags, { dialect: "qemu", impliedKey: "type" });
    assert.deepEqual(diags.items.map((d) => d.code), ["E0110"]);
  });

  await t.step("DPDK values are not unescaped; brackets hold commas", () => {
    const diags = new Diagnostics();
    const list = parseCommaList(at(0, "a=x,,y,b=[1,2],c"), diags, { dialect: "dpdk" });
    assert.deepEqual(list.items.map((p) => [p.key.value, p.value?.value]), [
      ["a", "x"],
      ["y", undefined],
      ["b", "[1,2]"],
      ["c", undefined],
    ]);
    // rte_kvargs has no escape: `,,` is an empty item.
    assert.deepEqual(diags.items.map((d) => d.code), ["E0110"]);
  });
});

/** A QEMU value: anything but a leading or lone comma issue; commas are escaped as `,,`. */
const value = fc.stringMatching(/^[a-z0-9/:.,_-]{0,8}$/);
const key = fc.stringMatching(/^[a-z][a-z0-9_-]{0,7}$/);

Deno.test("QEMU comma lists round-trip: escape, parse, and every span slices back", () => {
  fc.assert(
    fc.property(
      fc.stringMatching(/^[a-z][a-z0-9-]{0,9}$/),
      fc.array(fc.tuple(key, value), { maxLength: 6 }),
      (type, pairs) => {
        const escape = (s: string) => s.replaceAll(",", ",,");
        const text = [escape(type), ...pairs.map(([k, v]) => `${k}=${escape(v)}`)].join(",");
        const line = `qemu-system-x86_64 -netdev ${text}`;
        const word = must(testWords(line)[2]);
        const diags = new Diagnostics();
        const list = parseCommaList(word, diags, { dialect: "qemu", impliedKey: "type" });
        assert.equal(diags.length, 0);
        assert.deepEqual(
          list.items.map((p) => [p.key.value, p.value?.value]),
          [["type", type], ...pairs],
        );
        for (const p of list.items.slice(1)) {
          assert.equal(line.slice(p.key.span.start, p.key.span.end), p.key.value);
          assert.equal(
            line.slice(must(p.value).span.start, must(p.value).span.end),
            escape(must(p.value).value),
          );
        }
        assert.equal(must(list.items[0]).implicit, true);
      },
    ),
    { numRuns: 300 },
  );
});
