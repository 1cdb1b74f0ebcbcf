import { deepEqual as assertEquals } from "node:assert/strict";
import { Diagnostics } from "../../lang/diagnostic.ts";
import type { Prop, PropList } from "../../lang/props.ts";
import type { ClassSchema } from "../catalog/schema.ts";
import { typeProps } from "./class_props.ts";

const S = { source: "t", start: 0, end: 1 };

function list(...items: (string | [string, string])[]): PropList {
  return {
    span: S,
    items: items.map((i): Prop =>
      typeof i === "string"
        ? { span: S, key: { value: i, span: S } }
        : { span: S, key: { value: i[0], span: S }, value: { value: i[1], span: S } }
    ),
  };
}

const SOCKET: ClassSchema = {
  name: "socket",
  desc: "test",
  status: "modelled",
  style: "qemu-opts",
  props: {
    id: { type: "id", required: true, ioRelevant: true, desc: "id" },
    path: { type: "path", ioRelevant: true, desc: "path" },
    server: { type: "bool", default: false, ioRelevant: true, desc: "server" },
    wait: { type: "bool", default: true, ioRelevant: true, desc: "wait" },
    name: { type: "string", ioRelevant: true, desc: "a string" },
    logfile: { type: "path", ioRelevant: false, desc: "ignored" },
    old: { type: "bool", ioRelevant: false, deprecated: "use new", desc: "deprecated" },
    gone: { type: "bool", ioRelevant: true, removed: "gone in 9.0", desc: "removed" },
  },
};

function typed(l: PropList, schema = SOCKET, extra: { skip?: string[]; sink?: Prop[] } = {}) {
  const diags = new Diagnostics();
  const t = typeProps(l, diags, {
    schema,
    owner: schema.name,
    what: "chardev",
    ...(extra.skip ? { skip: extra.skip } : {}),
    ...(extra.sink ? { ignoredSink: extra.sink } : {}),
  });
  return { t, codes: diags.items.map((d) => d.code), diags: diags.items };
}

Deno.test('QemuOpts short forms: `server` is on, `nowait` is wait=off, a bare string is "on"', () => {
  const { t, codes } = typed(list(["id", "c"], "server", "nowait", "name"));
  assertEquals(codes, []);
  assertEquals([t.get("server")?.value, t.get("wait")?.value, t.get("name")?.value], [
    true,
    false,
    "on",
  ]);
});

Deno.test("`no` is only a negation for boolean properties", () => {
  // `noname` is not name=off: `name` is a string, so `noname` is an unknown property.
  assertEquals(typed(list(["id", "c"], "noname")).codes, ["E0225"]);
});

Deno.test("the last item with a key wins", () => {
  const { t } = typed(list(["id", "c"], ["server", "off"], ["server", "on"]));
  assertEquals(t.get("server")?.value, true);
  assertEquals(t.items.length, 3);
});

Deno.test("a rejected required property is reported once, not also as missing", () => {
  const { codes } = typed(list(["id", "9c"]));
  assertEquals(codes, ["E0226"]);
  assertEquals(typed(list(["path", "/s"])).codes, ["E0227"]);
});

Deno.test("removed is an error, deprecated a warning that is not also 'ignored'", () => {
  const sink: Prop[] = [];
  const { codes } = typed(
    list(["id", "c"], ["gone", "on"], ["old", "on"], ["logfile", "/l"]),
    SOCKET,
    { sink },
  );
  assertEquals(codes, ["E0237", "W0222"]);
  assertEquals(sink.map((p) => p.key.value), ["logfile"]);
});

Deno.test("skipped keys and open classes are not typed", () => {
  assertEquals(typed(list(["type", "socket"], ["id", "c"]), SOCKET, { skip: ["type"] }).codes, []);
  const open: ClassSchema = { ...SOCKET, openProps: true, status: "ignored" };
  const sink: Prop[] = [];
  assertEquals(
    typed(list(["id", "c"], ["anything", "x"], ["logfile", "/l"]), open, { sink }).codes,
    [],
  );
  // An ignored class is reported as a whole, not property by property.
  assertEquals(sink, []);
});

Deno.test("a property without a value in a DPDK or OVS list needs one", () => {
  const dpdk: ClassSchema = { ...SOCKET, style: "kvargs" };
  assertEquals(typed(list(["id", "c"], "server"), dpdk).codes, ["E0226"]);
});

Deno.test("unknown properties suggest with - and _ treated alike", () => {
  const { diags } = typed(list(["id", "c"], ["log_file", "/l"]));
  assertEquals(diags[0]?.help, ["did you mean `logfile`?"]);
  assertEquals(diags[0]?.notes, ["QEMU says: Invalid parameter 'log_file'"]);
});
