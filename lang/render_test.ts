import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { type Diagnostic, error, warning } from "./diagnostic.ts";
import { parse } from "./parse.ts";
import {
  diagnosticToJson,
  renderDiagnostic,
  renderDiagnostics,
  renderShort,
  renderSummary,
} from "./render.ts";
import { SourceMap, type Span } from "./span.ts";

const LAB = [
  "host cpu ghz=3.0 cores=16",
  "modprobe vdpa_sim_net",
  "vdpa dev add name vdpa0 mgmtdev vdpasim_net mac 52:54:00:12:34:56",
  "qemu-system-x86_64 -m 4G -smp 2 \\",
  "  -netdev type=vhost-vdpa,vhostdev=/dev/vhost-vdpa-0,id=net0 \\",
  "  -device virtio-net-pci,netdev=net1,mq=on",
  "traffic t1 from vm1.eth0 to wire size=64 count=100000 rate=line",
  "run 10xs",
  "expect t1.delivered == 100000",
  "for i in 1..3 {",
  "  show vq vm1.eth0 tx${i}",
  "}",
  "",
].join("\n");

function sources(): SourceMap {
  const s = new SourceMap();
  s.add("lab.vdpa", LAB);
  s.add("common.vdpa", "# shared\nlet vm = vm1\nmodprobe vhost_vdpa\n");
  s.add("tabs.vdpa", "\tmodprobe\tvhost_vpda\n");
  s.add("wide.vdpa", "echo 你好 vhost_vpda # 注释\n");
  s.add("long.vdpa", Array.from({ length: 120 }, (_, i) => `echo line${i + 1}`).join("\n"));
  return s;
}

/** The span of the `n`-th occurrence (from 1) of `needle` in a registered source. */
function find(source: string, needle: string, n = 1): Span {
  const text = sources().get(source)?.text ?? "";
  let at = -1;
  for (let i = 0; i < n; i++) at = text.indexOf(needle, at + 1);
  if (at < 0) throw new Error(`${needle} not in ${source}`);
  return { source, start: at, end: at + needle.length };
}

function render(d: Diagnostic): string {
  return renderDiagnostic(d, sources());
}

const SHAPES: [string, Diagnostic][] = [
  [
    "one primary label with help",
    error("E0201", "unknown management device `vdpasim_net`", {
      span: find("lab.vdpa", "vdpasim_net"),
      label: "not a management device",
      help: ["did you mean `vdpasim_net`'s real name, `vdpa_sim_net`?"],
    }),
  ],
  [
    "primary and secondary on one line",
    error("E0012", "`let` takes one word as its value", {
      span: find("lab.vdpa", "size=64 count=100000"),
      label: "more words",
      secondary: [{ span: find("lab.vdpa", "wire"), message: "the value" }],
    }),
  ],
  [
    "three labels on one line hang right to left",
    error("E0501", "conflicting traffic options", {
      span: find("lab.vdpa", "rate=line"),
      label: "line rate",
      secondary: [
        {
          span: { ...find("lab.vdpa", "t1 from"), end: find("lab.vdpa", "t1 from").start + 2 },
          message: "this flow",
        },
        { span: find("lab.vdpa", "size=64"), message: "minimum frames" },
      ],
    }),
  ],
  [
    "a label on a nearby line shows the line between",
    error("E0203", "dangling reference to netdev `net1`", {
      span: find("lab.vdpa", "netdev=net1"),
      label: "no netdev has id `net1`",
      secondary: [{ span: find("lab.vdpa", "id=net0"), message: "the netdev is `net0`" }],
      help: ["write `netdev=net0`"],
    }),
  ],
  [
    "labels far apart are separated by ...",
    error("E0502", "`t1` is never run", {
      span: find("lab.vdpa", "expect"),
      label: "expects a result",
      secondary: [{ span: find("lab.vdpa", "host"), message: "the lab starts here" }],
    }),
  ],
  [
    "a label in another source",
    error("E0601", "undefined variable `vm2`", {
      span: find("lab.vdpa", "vm1.eth0", 2),
      label: "not defined",
      secondary: [{ span: find("common.vdpa", "let vm = vm1"), message: "`vm` is defined here" }],
    }),
  ],
  [
    "a multi-line span starting mid-line",
    error("E0401", "vhost-vdpa netdev is not used by any device", {
      span: {
        source: "lab.vdpa",
        start: find("lab.vdpa", "type=vhost-vdpa").start,
        end: find("lab.vdpa", "mq=on").end,
      },
      label: "these options",
      secondary: [{ span: find("lab.vdpa", "qemu-system-x86_64"), message: "in this VM" }],
    }),
  ],
  [
    "a multi-line span starting at the first non-blank",
    error("E0401", "unused netdev", {
      span: {
        source: "lab.vdpa",
        start: find("lab.vdpa", "-netdev").start,
        end: find("lab.vdpa", "mq=on").end,
      },
      label: "these options",
    }),
  ],
  [
    "two multi-line spans",
    error("E0402", "two VMs share a vhost-vdpa device", {
      span: {
        source: "lab.vdpa",
        start: find("lab.vdpa", "qemu").start,
        end: find("lab.vdpa", "net0 ").end,
      },
      label: "this VM",
      secondary: [{
        span: {
          source: "lab.vdpa",
          start: find("lab.vdpa", "-m 4G").start,
          end: find("lab.vdpa", "traffic").end,
        },
        message: "overlapping",
      }],
    }),
  ],
  [
    "a long multi-line span elides its middle",
    error("E0403", "a long span", {
      span: {
        source: "long.vdpa",
        start: find("long.vdpa", "line10").start,
        end: find("long.vdpa", "line20").end,
      },
      label: "ten lines",
    }),
  ],
  [
    "a multi-line span starting a line",
    error("E0007", "loop body", {
      span: {
        source: "lab.vdpa",
        start: find("lab.vdpa", "for").start,
        end: find("lab.vdpa", "}", 2).end,
      },
      label: "this loop",
    }),
  ],
  [
    "zero-width span at the end of a line",
    error("E0016", "expected `{` after the `for` list", {
      span: {
        source: "lab.vdpa",
        start: find("lab.vdpa", "1..3").end,
        end: find("lab.vdpa", "1..3").end,
      },
      label: "the block should open here",
    }),
  ],
  [
    "zero-width span at the end of the input",
    error("E0007", "unclosed `{`", {
      span: { source: "common.vdpa", start: 42, end: 42 },
      label: "the input ends here",
    }),
  ],
  [
    "a span that swallows its newline stays on its line",
    error("E0301", "module not loaded", {
      span: { source: "common.vdpa", start: find("common.vdpa", "modprobe").start, end: 41 },
      label: "this line",
    }),
  ],
  [
    "tabs line up",
    error("E0201", "unknown module `vhost_vpda`", {
      span: find("tabs.vdpa", "vhost_vpda"),
      label: "not a kernel module",
      help: ["did you mean `vhost_vdpa`?"],
    }),
  ],
  [
    "wide characters line up",
    error("E0201", "unknown module `vhost_vpda`", {
      span: find("wide.vdpa", "vhost_vpda"),
      label: "not a kernel module",
      secondary: [{ span: find("wide.vdpa", "你好"), message: "two wide characters" }],
    }),
  ],
  [
    "a warning",
    warning("W0101", "option `-smp` is ignored by the simulator", {
      span: find("lab.vdpa", "-smp 2"),
      label: "ignored",
      notes: ["vCPU count does not change the datapath"],
    }),
  ],
  [
    "no span: notes and help only",
    error("E0603", "cannot read `lab.vdpa`", {
      notes: ["No such file or directory"],
      help: ["check the path"],
    }),
  ],
  [
    "a source that is not registered",
    error("E0603", "cannot read `gone.vdpa`", {
      span: { source: "gone.vdpa", start: 3, end: 9 },
      label: "here",
    }),
  ],
  [
    "multi-line notes are indented",
    error("E0604", "include cycle", {
      span: find("lab.vdpa", "run 10xs"),
      label: "here",
      notes: ["the include chain:\na.vdpa\n→ b.vdpa"],
    }),
  ],
  [
    "a three-digit gutter",
    error("E0602", "too many loop iterations", {
      span: find("long.vdpa", "line100"),
      label: "here",
      secondary: [{ span: find("long.vdpa", "line7", 1), message: "started here" }],
    }),
  ],
  [
    "labels without messages",
    error("E0001", "unterminated double-quoted string", {
      span: find("lab.vdpa", "vdpa0"),
      secondary: [{ span: find("lab.vdpa", "mgmtdev"), message: "" }],
    }),
  ],
  [
    "overlapping primary and secondary: carets win",
    error("E0202", "property `vhostdev` is not a path", {
      span: find("lab.vdpa", "/dev/vhost-vdpa-0"),
      label: "the value",
      secondary: [{
        span: find("lab.vdpa", "vhostdev=/dev/vhost-vdpa-0"),
        message: "this property",
      }],
    }),
  ],
];

Deno.test("renderDiagnostic() draws every shape like rustc", async (t) => {
  for (const [name, d] of SHAPES) {
    await t.step(name, async (t) => {
      await t.assertSnapshot(render(d), { serializer: String });
    });
  }
});

Deno.test("renderDiagnostics() renders a file's syntax errors in source order", async (t) => {
  const text = [
    "modprobe vdpa_sim_net",
    'echo "unterminated',
    "let = 3",
    "}",
    "for i 1..2 {",
    "  show ${1x} $HOME",
    "}",
    "let x = a b",
    "for j in x y {",
    "  run}",
  ].join("\n");
  const map = new SourceMap();
  map.add("broken.vdpa", text);
  const r = parse(text, { source: "broken.vdpa" });
  const out = renderDiagnostics(r.diagnostics, map) + renderSummary(r.diagnostics);
  await t.assertSnapshot(out, { serializer: String });
});

Deno.test("renderDiagnostic() puts carets exactly under the span", async (t) => {
  await t.step("the exact text of a simple diagnostic", () => {
    const map = new SourceMap();
    map.add("a.vdpa", "modprobe vdpasim_net\n");
    const d = error("E0201", "unknown module `vdpasim_net`", {
      span: { source: "a.vdpa", start: 9, end: 20 },
      label: "not a kernel module",
      help: ["did you mean `vdpa_sim_net`?"],
    });
    assertEquals(
      renderDiagnostic(d, map),
      [
        "error[E0201]: unknown module `vdpasim_net`",
        " --> a.vdpa:1:10",
        "  |",
        "1 | modprobe vdpasim_net",
        "  |          ^^^^^^^^^^^ not a kernel module",
        "  |",
        "  = help: did you mean `vdpa_sim_net`?",
        "",
      ].join("\n"),
    );
  });

  await t.step("an empty span still gets one caret, at the end of the line too", () => {
    const map = new SourceMap();
    map.add("a.vdpa", "for i in 1..3\n");
    const d = error("E0016", "expected `{`", { span: { source: "a.vdpa", start: 13, end: 13 } });
    const lines = renderDiagnostic(d, map).split("\n");
    assertEquals(lines[3], "1 | for i in 1..3");
    assertEquals(lines[4], "  |              ^");
  });

  await t.step("a tab before the span shifts the carets by four columns", () => {
    const map = new SourceMap();
    map.add("a.vdpa", "\tx\tyy\n");
    const d = error("E0000", "m", { span: { source: "a.vdpa", start: 3, end: 5 } });
    const lines = renderDiagnostic(d, map).split("\n");
    assertEquals(lines[3], "1 |     x    yy");
    assertEquals(lines[4], "  |          ^^");
  });

  await t.step("the gutter is as wide as the largest line number shown", () => {
    const map = new SourceMap();
    map.add("a.vdpa", "a\n".repeat(9) + "b\n");
    const d = error("E0000", "m", {
      span: { source: "a.vdpa", start: 18, end: 19 },
      secondary: [{ span: { source: "a.vdpa", start: 0, end: 1 }, message: "first" }],
    });
    const lines = renderDiagnostic(d, map).split("\n");
    assertEquals(lines[1], "  --> a.vdpa:10:1");
    assertEquals(lines.slice(3, 7), [" 1 | a", "   | - first", "...", "10 | b"]);
  });

  await t.step("no trailing blanks on any line", () => {
    for (const [, d] of SHAPES) {
      for (const line of render(d).split("\n")) assert(!/\s$/.test(line), JSON.stringify(line));
    }
  });

  await t.step("colour is off by default and on when asked", () => {
    const d = SHAPES[0]?.[1];
    assert(d);
    assert(!render(d).includes("\x1b["));
    const coloured = renderDiagnostic(d, sources(), { color: true });
    assert(coloured.startsWith("\x1b[1;31merror[E0201]\x1b[0m"));
    // Without the escapes, the text is the same.
    const ansi = new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g");
    assertEquals(coloured.replace(ansi, ""), render(d));
  });
});

Deno.test("renderDiagnostic() windows a long line around its spans, as rustc does", async (t) => {
  const MB = 1 << 20;
  /** Renders `d` over a source made of `text`; returns the source and marks rows. */
  function rows(text: string, labels: { start: number; end: number; primary?: boolean }[]) {
    const m = new SourceMap();
    m.add("long.vdpa", text);
    const [first, ...rest] = labels;
    assert(first);
    const d = error("E0100", "unknown command", {
      span: { source: "long.vdpa", start: first.start, end: first.end },
      label: "here",
      secondary: rest.map((l) => ({
        span: { source: "long.vdpa", start: l.start, end: l.end },
        message: "there",
      })),
    });
    const out = renderDiagnostic(d, m);
    return { out, lines: out.split("\n") };
  }

  await t.step("a 1 MB line: the span near its end is shown with 40 units around it", () => {
    const text = "x".repeat(MB) + " bogus " + "y".repeat(100) + "\n";
    const at = MB + 1;
    const t0 = performance.now();
    const { out, lines } = rows(text, [{ start: at, end: at + 5 }]);
    console.log(`render of one span on a 1 MiB line: ${(performance.now() - t0).toFixed(1)} ms`);
    assert(out.length < 1000, `${out.length} characters`);
    assertEquals(lines[1], ` --> long.vdpa:1:${at + 1}`);
    const source = lines[3] ?? "";
    const marks = lines[4] ?? "";
    assertEquals(source, `1 | ...${"x".repeat(39)} bogus ${"y".repeat(39)}...`);
    // The carets sit under `bogus`, whatever was cut before it.
    assertEquals(marks.indexOf("^"), source.indexOf("bogus"));
    assertEquals(marks.slice(marks.indexOf("^")), "^^^^^ here");
  });

  await t.step("two spans far apart on one line: two windows, each marked", () => {
    const text = "a".repeat(100) + "FIRST" + "b".repeat(MB) + "SECOND" + "c".repeat(100);
    const second = 105 + MB;
    const { lines } = rows(text, [{ start: second, end: second + 6 }, { start: 100, end: 105 }]);
    const source = lines[3] ?? "";
    const marks = lines[4] ?? "";
    assertEquals(
      source,
      `1 | ...${"a".repeat(40)}FIRST${"b".repeat(40)}...${"b".repeat(40)}SECOND${
        "c".repeat(40)
      }...`,
    );
    assertEquals(marks.indexOf("-"), source.indexOf("FIRST"));
    assertEquals(marks.indexOf("^"), source.indexOf("SECOND"));
    assertEquals(marks.slice(marks.indexOf("^")), "^^^^^^ here");
  });

  await t.step("a span longer than the window: its two ends, the middle elided", () => {
    const text = "let v = " + "z".repeat(MB) + "\n";
    const { lines, out } = rows(text, [{ start: 8, end: 8 + MB }]);
    assert(out.length < 1000, `${out.length} characters`);
    const source = lines[3] ?? "";
    assertEquals(source, `1 | let v = ${"z".repeat(40)}...${"z".repeat(40)}`);
    assertEquals(lines[4], `  |         ${"^".repeat(83)} here`);
  });

  await t.step("lines up to 512 units are shown whole", () => {
    const text = "w".repeat(500) + " end\n";
    const { lines } = rows(text, [{ start: 501, end: 504 }]);
    assertEquals(lines[3], `1 | ${"w".repeat(500)} end`);
  });

  await t.step("a window never cuts a surrogate pair; wide characters keep carets aligned", () => {
    const text = "😀".repeat(400) + "界 bad " + "😀".repeat(400);
    const at = 800 + 2;
    const { lines } = rows(text, [{ start: at, end: at + 3 }]);
    const source = lines[3] ?? "";
    assert(!/[\ud800-\udfff]/u.test(source.replace(/\p{Extended_Pictographic}/gu, "")));
    assert(source.includes("界 bad "));
    // Emoji and 界 are two columns each: the carets are under `bad` on screen.
    const screen = (s: string) =>
      [...s].reduce((n, ch) => n + ((ch.codePointAt(0) ?? 0) > 0x1000 ? 2 : 1), 0);
    const before = source.slice(0, source.indexOf("bad"));
    assertEquals((lines[4] ?? "").indexOf("^"), screen(before));
  });

  await t.step("check and render of a 1 MB script line through the parser", () => {
    const text = "modprobe vdpa " + "# " + "q".repeat(MB) + "\n" + "bogus-command\n";
    const t0 = performance.now();
    const parsed = parse(text, { source: "long.vdpa" });
    const m = new SourceMap();
    m.add("long.vdpa", text);
    const d = error("E0100", "unknown command", {
      span: { source: "long.vdpa", start: 14, end: 16 + MB },
      label: "a comment 1 MiB long",
    });
    const out = renderDiagnostics([...parsed.diagnostics, d], m);
    console.log(`parse + render of a 1 MiB line: ${(performance.now() - t0).toFixed(1)} ms`);
    assertEquals(parsed.diagnostics, []);
    assert(out.length < 2000, `${out.length} characters`);
    assert(out.includes(`1 | modprobe vdpa # ${"q".repeat(38)}...${"q".repeat(40)}\n`), out);
  });
});

Deno.test("renderShort() is one line", () => {
  const d = SHAPES[0]?.[1];
  assert(d);
  assertEquals(
    renderShort(d, sources()),
    "lab.vdpa:3:33: error[E0201]: unknown management device `vdpasim_net`",
  );
  assertEquals(renderShort(error("E0603", "cannot read"), sources()), "error[E0603]: cannot read");
});

Deno.test("diagnosticToJson() has stable fields", () => {
  const d = SHAPES[3]?.[1];
  assert(d);
  assertEquals(JSON.parse(JSON.stringify(diagnosticToJson(d, sources()))), {
    severity: "error",
    code: "E0203",
    message: "dangling reference to netdev `net1`",
    file: "lab.vdpa",
    line: 6,
    column: 26,
    end_line: 6,
    end_column: 37,
    labels: [
      {
        file: "lab.vdpa",
        line: 6,
        column: 26,
        end_line: 6,
        end_column: 37,
        message: "no netdev has id `net1`",
        primary: true,
      },
      {
        file: "lab.vdpa",
        line: 5,
        column: 54,
        end_line: 5,
        end_column: 61,
        message: "the netdev is `net0`",
        primary: false,
      },
    ],
    notes: [],
    help: ["write `netdev=net0`"],
  });
  const none = diagnosticToJson(error("E0603", "cannot read"), sources());
  assertEquals([none.file, none.line, none.column], [null, null, null]);
});

Deno.test("renderSummary() counts errors and warnings", () => {
  assertEquals(renderSummary([]), "");
  assertEquals(renderSummary([warning("W0001", "a")]), "warning: 1 warning\n");
  assertEquals(renderSummary([error("E0001", "a")]), "error: 1 error\n");
});
