/**
 * Script inputs for the language fuzzer, all deterministic from a {@link Prng}:
 *
 * - {@link generateScript} writes scripts from the real vocabulary (programs, subcommands,
 *   options, QEMU/DPDK/OVS comma lists with catalog property names and values of each type next
 *   to junk), with shell-like quoting, `${}` interpolation, `\` continuations, `;`, comments,
 *   `let`, `for` (nested, with ranges), `include`, pipelines, `sudo`, unicode, control
 *   characters and very long words and lines;
 * - {@link mutate} damages a seed text (an example or a reference command file): character
 *   flips, inserts and deletes, token and line insert/delete/duplicate/swap, quote and brace
 *   imbalance, and lines spliced in from other seeds.
 *
 * @example
 * ```ts
 * import { generateScript, mutate } from "./generators.ts";
 * import { Prng } from "./prng.ts";
 * const a = generateScript(new Prng(3));
 * if (a !== generateScript(new Prng(3))) throw new Error("deterministic");
 * const m = mutate("modprobe vdpa\nrun\n", new Prng(4), ["lsmod\n"]);
 * if (typeof m !== "string") throw new Error("a string");
 * ```
 *
 * @module
 */

import type { Prng } from "./prng.ts";
import {
  APP_OPTIONS,
  type ClassWords,
  EAL_OPTIONS,
  FORWARD_MODE_NAMES,
  JUNK_VALUES,
  LAB_WORDS,
  LINK_TYPES,
  MGMTDEVS,
  MODULES,
  NAMES,
  NIC_MODEL_NAMES,
  OVS_TABLES,
  OVS_TYPES,
  PATHS,
  PROGRAMS,
  QEMU_CLASSES,
  QEMU_OPTIONS,
  valuesFor,
  VDEV_CLASSES,
} from "./vocabulary.ts";

/** Files an `include` may name; the harness serves them from memory. */
export const INCLUDE_FILES: Readonly<Record<string, string>> = {
  "common.vdpa": "modprobe vdpa\nmodprobe vhost_vdpa\nlet shared = vdpa0\n",
  "nested.vdpa": 'include "common.vdpa"\nvdpa dev add name ${shared} mgmtdev vdpasim_net\n',
  "broken.vdpa": 'modprobe "vdpa\nfor i in 1..3 {\n',
  "self.vdpa": 'include "self.vdpa"\n',
  "a.vdpa": 'include "b.vdpa"\n',
  "b.vdpa": 'include "a.vdpa"\n',
  "loop.vdpa": "for i in 1..3 { lsmod ; let x = ${i} }\n",
};

const VAR_NAMES = ["n", "i", "name", "mac", "dev", "x", "_", "q", "shared", "undefined_var"];

/** Characters that stress the lexer and the renderer. */
const STRANGE_CHARS = [
  "\t",
  "\r",
  "\u0000",
  "\u0007",
  "\u001b",
  "\u007f",
  "\u00a0",
  "\u0085",
  "\u2028",
  "\u2029",
  "\ufeff",
  "\u200b",
  "\u0301",
  "é",
  "ß",
  "日",
  "語",
  "\uff21",
  "🦀",
  "👩‍👩‍👧",
  "\ud800",
  "\udc00",
  "\\",
  '"',
  "'",
  "$",
  "${",
  "}",
  "{",
  "#",
  ";",
  "|",
  ">",
  "=",
  ",",
  "..",
];

/** Generates one script; see the module documentation. */
export function generateScript(rng: Prng): string {
  const g = new ScriptWriter(rng);
  const statements = rng.weighted<number>([[5, 1], [5, rng.range(2, 3)], [1, rng.range(4, 10)]]);
  for (let k = 0; k < statements; k++) g.statement(0);
  return g.finish();
}

class ScriptWriter {
  readonly #rng: Prng;
  #out = "";
  /** Variables bound so far (interpolations mostly use these). */
  readonly #vars: string[] = [];

  constructor(rng: Prng) {
    this.#rng = rng;
  }

  finish(): string {
    const r = this.#rng;
    if (r.chance(0.05)) this.#out += r.pick(["\\", "\\\n", "{", "}", '"', "'", "${x", "for"]);
    if (r.chance(0.7)) this.#out += "\n";
    return this.#out;
  }

  /** One statement and its terminator. */
  statement(depth: number): void {
    const r = this.#rng;
    const kind = r.weighted<string>([
      [40, "command"],
      [6, "let"],
      [depth < 3 ? 5 : 1, "for"],
      [2, "include"],
      [3, "junk"],
      [2, "blank"],
      [depth === 0 ? 0.2 : 0.001, "deep"],
      [0.05, "long"],
    ]);
    switch (kind) {
      case "command":
        this.#words(this.#command());
        break;
      case "let":
        this.#let();
        break;
      case "for":
        this.#for(depth);
        break;
      case "include":
        this.#out += `include ${this.#word(r.pick([...Object.keys(INCLUDE_FILES), "nope.vdpa"]))}`;
        if (r.chance(0.1)) this.#out += " extra";
        break;
      case "junk":
        this.#words(Array.from({ length: r.range(1, 6) }, () => this.#junkText()));
        break;
      case "blank":
        if (r.chance(0.5)) this.#out += `# ${this.#junkText()}`;
        break;
      case "deep":
        this.#deep();
        break;
      case "long":
        this.#long();
        break;
    }
    this.#terminator();
  }

  #terminator(): void {
    const r = this.#rng;
    if (r.chance(0.15)) this.#out += ` # ${r.chance(0.5) ? "note" : this.#junkText()}`;
    this.#out += r.weighted<string>([[12, "\n"], [3, " ; "], [1, ";"], [1, "\r\n"], [1, "\n\n"]]);
  }

  /** Writes words separated by blanks or `\` continuations. */
  #words(texts: readonly string[]): void {
    const r = this.#rng;
    texts.forEach((t, i) => {
      if (i > 0) {
        this.#out += r.weighted<string>([[30, " "], [2, " \\\n  "], [1, "\t"], [1, "   "], [
          0.3,
          "\\\r\n",
        ]]);
      }
      this.#out += this.#word(t);
    });
  }

  /** Renders one word's text with random quoting, sometimes with an interpolation in it. */
  #word(text: string): string {
    const r = this.#rng;
    if (r.chance(0.08) && this.#vars.length > 0) {
      const cut = r.int(text.length + 1);
      const v = r.chance(0.85) ? r.pick(this.#vars) : r.pick(VAR_NAMES);
      const name = r.chance(0.03) ? r.pick(["", "1x", "a-b", " n", "n ", "${n}"]) : v;
      const variable = `\${${name}}`;
      // Each side quoted on its own: the interpolation stays live in bare and "…" text.
      const left = this.#quoted(text.slice(0, cut), false);
      const right = this.#quoted(text.slice(cut), false);
      return r.chance(0.5)
        ? `${left}${variable}${right}`
        : `"${dq(text.slice(0, cut))}${variable}${dq(text.slice(cut))}"`;
    }
    return this.#quoted(text, true);
  }

  /** `text` as a word: bare when it can be, else quoted; `empty` says whether "" needs quotes. */
  #quoted(text: string, empty: boolean): string {
    const r = this.#rng;
    if (text === "") return empty ? r.pick(["''", '""']) : "";
    const style = r.weighted<string>([[20, "auto"], [3, "single"], [3, "double"], [1, "mixed"]]);
    const needsQuotes = /[\s'"\\#;|{}$]/.test(text);
    if ((style === "single" || (style === "auto" && needsQuotes)) && !text.includes("'")) {
      return `'${text}'`;
    }
    if (style === "double" || style === "single" || (style === "auto" && needsQuotes)) {
      return `"${dq(text)}"`;
    }
    if (style === "mixed" && text.length > 1) {
      const cut = r.range(1, text.length - 1);
      return `${escapeBare(text.slice(0, cut))}"${dq(text.slice(cut))}"`;
    }
    return escapeBare(text);
  }

  #junkText(): string {
    const r = this.#rng;
    switch (r.int(6)) {
      case 0:
        return r.pick(JUNK_VALUES);
      case 1:
        return Array.from({ length: r.range(1, 6) }, () => r.pick(STRANGE_CHARS)).join("");
      case 2:
        return String.fromCharCode(...Array.from({ length: r.range(1, 8) }, () => r.int(0x10000)));
      case 3:
        return r.pick([...PROGRAMS, ...LAB_WORDS, ...NAMES, ...PATHS]);
      case 4:
        return `${r.pick(NAMES)}${r.pick(STRANGE_CHARS)}${r.pick(JUNK_VALUES)}`;
      default:
        return r.pick(["let", "for", "in", "include", "{", "}", "=", "|", ">", ">>", "--", "-"]);
    }
  }

  #let(): void {
    const r = this.#rng;
    const name = r.chance(0.9) ? r.pick(VAR_NAMES) : r.pick(["1x", "a-b", "", "let", "é"]);
    const value = r.chance(0.5)
      ? r.pick([...NAMES, ...JUNK_VALUES, ...MODULES])
      : String(r.range(-2, 40));
    const shape = r.weighted<string>([[20, "ok"], [1, "noeq"], [1, "noval"], [1, "two"], [
      1,
      "noname",
    ]]);
    if (shape === "ok") this.#out += `let ${name} = ${this.#word(value)}`;
    else if (shape === "noeq") this.#out += `let ${name} ${this.#word(value)}`;
    else if (shape === "noval") this.#out += `let ${name} =`;
    else if (shape === "two") this.#out += `let ${name} = ${this.#word(value)} ${value}`;
    else this.#out += `let = ${this.#word(value)}`;
    if (name !== "" && /^[A-Za-z_]\w*$/.test(name)) this.#vars.push(name);
  }

  #for(depth: number): void {
    const r = this.#rng;
    const v = r.chance(0.95) ? r.pick(["i", "j", "k", "q", "dev"]) : r.pick(["1", "", "in"]);
    const a = r.range(-2, 6);
    const b = r.chance(0.9) ? r.range(-2, 8) : r.pick([1000, 99999, -99999]);
    const items = r.weighted<string>([
      [10, `${a}..${b}`],
      [2, this.#vars.length > 0 ? `${a}..\${${r.pick(this.#vars)}}` : `0..3`],
      [3, ["vdpa0", "vdpa1", "tap0"].slice(0, r.range(1, 3)).join(" ")],
      [1, r.pick(["1..x", "1..", "..2", "'1..3'", "1...3", "99999999999999999999..1", ""])],
    ]);
    this.#out += `for ${v} in ${items} `;
    if (r.chance(0.03)) return; // no block at all
    this.#out += "{";
    this.#out += r.chance(0.7) ? "\n" : " ";
    this.#vars.push(v);
    const n = r.range(0, 3);
    for (let k = 0; k < n; k++) {
      this.#out += "  ".repeat(depth + 1);
      this.statement(depth + 1);
    }
    this.#vars.pop();
    if (r.chance(0.04)) return; // unclosed
    this.#out += "}";
    if (r.chance(0.03)) this.#out += "}";
  }

  /** Blocks nested around the depth limit. */
  #deep(): void {
    const r = this.#rng;
    const depth = r.range(60, 70);
    for (let k = 0; k < depth; k++) this.#out += `for v${k} in 1 { `;
    this.#out += "lsmod";
    for (let k = 0; k < depth - (r.chance(0.2) ? 1 : 0); k++) this.#out += " }";
  }

  /** A very long word, line or list. */
  #long(): void {
    const r = this.#rng;
    const n = r.pick([1000, 5000, 20000, 100000]);
    switch (r.int(5)) {
      case 0:
        this.#out += `modprobe ${"v".repeat(n)}`;
        break;
      case 1:
        this.#out += `qemu-system-x86_64 -device virtio-net-pci${",mq=on".repeat(n / 6)}`;
        break;
      case 2:
        this.#out += `ls ${"/sys ".repeat(Math.min(n, 20000) / 5)}`;
        break;
      case 3:
        // Doubling: each `let` doubles the value, past the expanded-word limit.
        this.#out += `let d = ${"x".repeat(r.range(1, 64))}`;
        for (let k = 0; k < r.range(10, 24); k++) this.#out += " ; let d = ${d}${d}";
        this.#out += " ; echo ${d} > /sys/x";
        break;
      default:
        this.#out += `let x = ${"${n}".repeat(r.pick([10, 100, 1000]))}`;
    }
  }

  // --- commands ---------------------------------------------------------------------------

  #command(): string[] {
    const r = this.#rng;
    let words = r.weighted<() => string[]>([
      [4, () => this.#modprobe()],
      [6, () => this.#vdpa()],
      [4, () => this.#sysfs()],
      [5, () => this.#ip()],
      [4, () => this.#ovs()],
      [5, () => this.#testpmd()],
      [10, () => this.#qemu()],
      [9, () => this.#lab()],
      [1, () => [r.pick(PROGRAMS), ...this.#some(() => this.#junkText(), 0, 3)]],
    ])();
    words = this.#damage(words);
    if (r.chance(0.08)) words = [r.pick(["sudo", "sudo", "sudo -E", "sudo --"]), ...words];
    if (r.chance(0.1)) words.push(...this.#pipeline());
    return words.flatMap((w) => (w.startsWith("sudo ") ? w.split(" ") : [w]));
  }

  /** Sometimes drops, duplicates, swaps or replaces a word. */
  #damage(words: string[]): string[] {
    const r = this.#rng;
    if (words.length < 2 || !r.chance(0.25)) return words;
    const out = [...words];
    const i = r.range(1, out.length - 1);
    switch (r.int(4)) {
      case 0:
        out.splice(i, 1);
        break;
      case 1:
        out.splice(i, 0, out[i] as string);
        break;
      case 2: {
        const j = r.range(1, out.length - 1);
        [out[i], out[j]] = [out[j] as string, out[i] as string];
        break;
      }
      default:
        out[i] = this.#junkText();
    }
    return out;
  }

  #some(f: () => string, min: number, max: number): string[] {
    return Array.from({ length: this.#rng.range(min, max) }, f);
  }

  #pipeline(): string[] {
    const r = this.#rng;
    return r.pick<string[]>([
      ["|", "grep", r.pick(["vdpa", "-v", "-i", "-c", "", "virtio"])],
      ["|", "grep", "-v", "x"],
      ["|", "head", "-n", String(r.range(-1, 5))],
      ["|", "tail", `-${r.range(0, 5)}`],
      ["|", "wc", "-l"],
      ["|", "sort"],
      ["|"],
      ["|", "sudo", "tee", r.pick(PATHS)],
      ["|", "grep", "a", "|", "grep", "b"],
    ]);
  }

  #modprobe(): string[] {
    const r = this.#rng;
    const prog = r.pick(["modprobe", "modprobe", "rmmod", "lsmod", "/sbin/modprobe"]);
    const opts = r.chance(0.3) ? [r.pick(["-r", "-a", "-v", "-n", "-q", "--remove", "-x"])] : [];
    const mods = this.#some(() => r.pick(MODULES), prog === "lsmod" ? 0 : 1, 3);
    const params = r.chance(0.2)
      ? this.#some(
        () =>
          `${r.pick(["batch_mapping", "max_iotlb_entries", "use_va", "x", ""])}=${
            r.pick(JUNK_VALUES)
          }`,
        1,
        3,
      )
      : [];
    return [prog, ...opts, ...mods, ...params];
  }

  #vdpa(): string[] {
    const r = this.#rng;
    const global = r.chance(0.2)
      ? [r.pick(["-j", "-p", "-jp", "--json", "--pretty", "-V", "-x", "--"])]
      : [];
    const name = r.pick(["vdpa0", "vdpa1", "x", "", "vdpa-0"]);
    const sub = r.weighted<string[]>([
      [3, ["mgmtdev", r.pick(["show", "list"]), ...(r.chance(0.5) ? [r.pick(MGMTDEVS)] : [])]],
      [3, ["dev", r.pick(["show", "list"]), ...(r.chance(0.5) ? [name] : [])]],
      [8, ["dev", "add", ...this.#vdpaAddArgs(name)]],
      [2, ["dev", "del", name]],
      [2, ["dev", "config", "show", ...(r.chance(0.7) ? [name] : [])]],
      [2, ["dev", "vstats", "show", name, "qidx", r.pick(["0", "1", "-1", "65536", "x"])]],
      [2, ["dev", "set", "name", name, "mac", r.pick(JUNK_VALUES.slice(38, 45))]],
      [1, [r.pick(["dev", "mgmtdev", "help", "devv", "mgmt"])]],
      [1, []],
    ]);
    return ["vdpa", ...global, ...sub];
  }

  #vdpaAddArgs(name: string): string[] {
    const r = this.#rng;
    const pairs: [string, string][] = [["name", name], ["mgmtdev", r.pick(MGMTDEVS)]];
    if (r.chance(0.4)) pairs.push(["mac", r.pick(JUNK_VALUES.slice(38, 45))]);
    if (r.chance(0.3)) pairs.push(["mtu", r.pick(["1500", "60", "68", "9000", "65536", "x"])]);
    if (r.chance(0.3)) pairs.push(["max_vqp", r.pick(["1", "0", "4", "65536", "-1"])]);
    if (r.chance(0.2)) {
      pairs.push(["device_features", r.pick(["0x300020000", "0x", "1", "0xffffffffffffffffff"])]);
    }
    if (r.chance(0.2)) pairs.push([r.pick(["bogus", "name", "mac"]), r.pick(NAMES)]);
    if (r.chance(0.3)) pairs.reverse();
    const words = pairs.flat();
    if (r.chance(0.1)) words.pop(); // a key without its value
    return words;
  }

  #sysfs(): string[] {
    const r = this.#rng;
    const value = r.pick([...NAMES, ...MODULES, "0", "1", "", "vhost_vdpa", "4"]);
    return r.weighted<string[]>([
      [6, ["echo", value, r.pick([">", ">>", ">"]), r.pick(PATHS)]],
      [2, ["echo", value, "|", "sudo", "tee", r.pick(PATHS)]],
      [1, ["echo", "-n", value, ">", r.pick(PATHS)]],
      [1, ["echo", value, ">"]],
      [1, ["echo", value]],
      [3, ["cat", ...this.#some(() => r.pick(PATHS), 0, 2)]],
      [3, ["ls", ...(r.chance(0.4) ? ["-l"] : []), ...this.#some(() => r.pick(PATHS), 0, 2)]],
    ]);
  }

  #ip(): string[] {
    const r = this.#rng;
    const dev = r.pick(["tap0", "tap1", "br0", "eth0", "", "x".repeat(20)]);
    return r.weighted<string[]>([
      [4, [
        "ip",
        "tuntap",
        r.pick(["add", "del", "add"]),
        ...(r.chance(0.5) ? ["dev"] : []),
        dev,
        "mode",
        r.pick(["tap", "tun", "tapp"]),
        ...this.#some(() => r.pick(["multi_queue", "vnet_hdr", "one_queue", "user", "1000"]), 0, 2),
      ]],
      [1, ["ip", "tuntap", r.pick(["show", "list", ""])]],
      [3, ["ip", "link", "add", dev, "type", r.pick(LINK_TYPES)]],
      [4, [
        "ip",
        "link",
        "set",
        ...(r.chance(0.5) ? ["dev"] : []),
        dev,
        ...r.pick<string[]>([
          ["up"],
          ["down"],
          ["master", "br0"],
          ["nomaster"],
          ["mtu", r.pick(["1500", "68", "70000", "x"])],
          ["address", r.pick(JUNK_VALUES.slice(38, 45))],
          ["netns", "x"],
          [],
        ]),
      ]],
      [2, ["ip", "link", r.pick(["del", "delete"]), dev]],
      [2, [
        "ip",
        ...(r.chance(0.3) ? [r.pick(["-br", "-d", "-j", "-s"])] : []),
        r.pick(["link", "l", "address", "a", "addr"]),
        r.pick(["show", "list", "ls", ""]),
        ...(r.chance(0.3) ? ["type", r.pick(LINK_TYPES)] : []),
      ]],
      [2, [
        "ip",
        "addr",
        r.pick(["add", "del"]),
        r.pick(["10.0.0.1/24", "::1/128", "x"]),
        "dev",
        dev,
      ]],
      [1, ["ip", r.pick(["route", "neigh", "-6", "help", ""])]],
    ]);
  }

  #ovs(): string[] {
    const r = this.#rng;
    const br = r.pick(["br0", "br1", ""]);
    const port = r.pick(["vhost-user0", "vhu-client0", "dpdk0", "p0"]);
    const first = r.weighted<string[]>([
      [3, ["add-br", br]],
      [4, ["add-port", br, port]],
      [1, ["del-port", port]],
      [1, ["del-br", br]],
      [2, ["show"]],
      [3, ["set", ...this.#ovsSet()]],
      [1, ["list-br"]],
      [1, ["frobnicate"]],
    ]);
    const more: string[] = [];
    const n = r.weighted<number>([[5, 0], [4, 1], [1, 2]]);
    for (let k = 0; k < n; k++) {
      more.push("--", ...(r.chance(0.85) ? ["set", ...this.#ovsSet(port)] : []));
    }
    const opts = r.chance(0.15) ? [r.pick(["--may-exist", "--if-exists", "--no-wait", "-t"])] : [];
    return ["ovs-vsctl", ...opts, ...first, ...more];
  }

  #ovsSet(port?: string): string[] {
    const r = this.#rng;
    const table = r.pick([...Object.keys(OVS_TABLES), "Interface", "Interface", "bridge", "Nope"]);
    const record = table === "Open_vSwitch" ? "." : port ?? r.pick(["br0", "vhost-user0", "."]);
    const cols = OVS_TABLES[table] ?? ["type", "x"];
    const settings = this.#some(
      () => {
        const col = r.pick(cols);
        const key = r.chance(0.4)
          ? `:${
            r.pick([
              "vhost-server-path",
              "dpdk-init",
              "pmd-cpu-mask",
              "n_rxq",
              "x",
              "dpdk-socket-mem",
            ])
          }`
          : "";
        const value = col === "type" ? r.pick(OVS_TYPES) : r.pick(JUNK_VALUES);
        return `${col}${key}=${value}`;
      },
      1,
      3,
    );
    return [table, record, ...settings];
  }

  #testpmd(): string[] {
    const r = this.#rng;
    const words = [r.pick(["dpdk-testpmd", "testpmd", "./build/app/dpdk-testpmd"])];
    const eal = this.#some(() => r.pick(EAL_OPTIONS), 0, 4);
    for (const o of eal) {
      words.push(o);
      if (o === "--vdev") words.push(this.#vdev());
      else if (/^-[lcnmaw]$|^--(lcores|iova-mode|socket-mem|file-prefix|log-level)/.test(o)) {
        words.push(r.pick(["0-1", "0x3", "4", "1024", "va", "pa", "x", "1,2-3", "0-"]));
      }
    }
    if (r.chance(0.8)) words.push("--vdev", this.#vdev());
    if (r.chance(0.8)) {
      words.push("--");
      for (const o of this.#some(() => r.pick(APP_OPTIONS), 0, 4)) {
        if (o === "--forward-mode") words.push(`${o}=${r.pick(FORWARD_MODE_NAMES)}`);
        else if (/^--(nb-cores|rxq|txq|rxd|txd|burst|stats-period|max-pkt-len)$/.test(o)) {
          words.push(r.chance(0.5) ? `${o}=${r.pick(JUNK_VALUES)}` : o);
        } else words.push(o);
      }
    }
    return words;
  }

  #vdev(): string {
    const r = this.#rng;
    const cls = r.pick(VDEV_CLASSES);
    return this.#commaList(`${cls.name}${r.pick(["0", "1", "", "x", "10"])}`, cls, 0, 5);
  }

  #qemu(): string[] {
    const r = this.#rng;
    const words = [r.pick(["qemu-system-x86_64", "qemu-system-x86_64", "qemu-kvm", "qemu"])];
    const n = r.range(0, 8);
    for (let k = 0; k < n; k++) {
      const opt = r.chance(0.75) ? r.pick(Object.keys(QEMU_CLASSES)) : r.pick(QEMU_OPTIONS);
      words.push(opt);
      const classes = QEMU_CLASSES[opt];
      if (classes) {
        const cls = r.pick(classes);
        const head = r.chance(0.15)
          ? `${opt === "-device" ? "driver" : "type"}=${cls.name}`
          : cls.name;
        if (r.chance(0.05) && (opt === "-device" || opt === "-netdev" || opt === "-object")) {
          words.push(`{"${opt === "-device" ? "driver" : "type"}":"${cls.name}","id":"n0"}`);
        } else words.push(this.#commaList(head, cls, 0, 6));
      } else if (r.chance(0.7)) {
        words.push(r.pick([...JUNK_VALUES, ...NAMES, "host", "q35", "2", "4G", "none"]));
      }
    }
    return words;
  }

  /** `head,k=v,k=v…` with catalog keys and typed or junk values. */
  #commaList(head: string, cls: ClassWords, min: number, max: number): string {
    const r = this.#rng;
    const keys = Object.keys(cls.props);
    const items = [head];
    const n = r.range(min, max);
    for (let k = 0; k < n; k++) {
      const key = keys.length > 0 && r.chance(0.85)
        ? r.pick(keys)
        : r.pick(["id", "x", "", "ID", "vhost", "netdev", "queues"]);
      const prop = cls.props[key];
      const value = prop && r.chance(0.8) ? r.pick(valuesFor(prop)) : r.pick(JUNK_VALUES);
      items.push(
        r.weighted<string>([[20, `${key}=${value}`], [2, key], [1, `${key}=`], [1, ""], [
          1,
          `${key}=${value},,x`,
        ]]),
      );
    }
    if (r.chance(0.05)) items.push(r.pick(["", ",", "=", "id=n0"]));
    return items.join(",");
  }

  #lab(): string[] {
    const r = this.#rng;
    const ep = () => r.pick([...NAMES, "wire", "vm1.eth0", "vm1.eth0"]);
    const kv = (keys: readonly string[]) =>
      this.#some(() => `${r.pick(keys)}=${r.pick(JUNK_VALUES)}`, 0, 4);
    return r.weighted<string[]>([
      [2, ["host", "cpu", ...kv(["ghz", "cores", "x"])]],
      [1, ["host", "cmdline", r.pick(["intel_iommu=on iommu=pt", "", "iommu=pt", "x=1 y"])]],
      [2, [
        "host",
        "nic",
        r.pick(["ens1f0", "eth0", ""]),
        `model=${r.pick(NIC_MODEL_NAMES)}`,
        ...kv(["pci", "speed", "numvfs", "mac", "mtu", "model", "bogus"]),
      ]],
      [1, ["host", r.pick(["gpu", "", "cpu"])]],
      [4, [
        "traffic",
        r.pick(["t1", "t2", "", "t1.x"]),
        "from",
        ep(),
        "to",
        ep(),
        ...kv(["size", "count", "rate", "burst", "duration", "flows", "proto", "x"]),
      ]],
      [1, ["traffic", "t1", "to", ep(), "from"]],
      [2, ["ping", ep(), ep(), ...kv(["count", "size", "interval"])]],
      [3, ["run", ...(r.chance(0.5) ? [r.pick(JUNK_VALUES)] : [])]],
      [2, ["trace", r.pick(["t1", "x"]), "packet", r.pick(JUNK_VALUES)]],
      [4, [
        "show",
        ...r.pick<string[]>([
          ["topology"],
          ["graph"],
          ["stats"],
          ["stats", "t1"],
          ["vq", ep(), r.pick(["tx0", "rx0", "rx", "cvq", "x"])],
          ["vq", ep()],
          ["vhost", ep()],
          ["features", ep()],
          ["iommu"],
          ["log"],
          ["modules"],
          ["flows"],
          ["topolgy"],
          [],
        ]),
      ]],
      [3, [
        "expect",
        `${r.pick(["t1", "t2", "x"])}.${
          r.pick(["delivered", "dropped", "per_packet.vmexits", "per_packet.copies", "bogus", ""])
        }`,
        r.pick(["==", "!=", "<=", ">=", "<", ">", "=", "==="]),
        r.pick(JUNK_VALUES),
      ]],
      [1, ["capture", ep(), "to", r.pick(["out.pcap", "", "/etc/passwd"]), ...kv(["count"])]],
      [1, ["export", r.pick(["graph", "trace", "x"]), "to", r.pick(["a.dot", "a.mmd", "a.json"])]],
      [2, [
        "inject",
        ...r.pick<string[]>([
          ["link-down", ep()],
          ["link-up", ep()],
          ["reset", ep()],
          ["iotlb-invalidate", ep(), "iova=0x1000", "size=4K"],
          ["bad-chain", ep(), "tx0", r.pick(["cycle", "out-of-range", "oversize", "bogus"])],
          ["disconnect", "/tmp/s"],
          ["unmap", "vm1", "iova=0", "size=4096"],
          ["bogus"],
        ]),
        ...(r.chance(0.3) ? [`at=${r.pick(JUNK_VALUES)}`] : []),
      ]],
      [1, [
        "set",
        ...r.pick<string[]>([["seed", "3"], ["cost", "vmexit=1us"], ["profile", "x"], []]),
      ]],
      [1, ["help", ...(r.chance(0.5) ? [r.pick([...LAB_WORDS, ...PROGRAMS])] : [])]],
    ]);
  }
}

/** The inside of a double-quoted word: `"`, `\\` and `$` escaped. */
function dq(text: string): string {
  return text.replace(/[\\"$]/g, (c) => `\\${c}`);
}

/** Escapes what a bare word cannot hold literally. */
function escapeBare(text: string): string {
  return text.replace(/[\s'"\\#;|{}$]/g, (c) => (c === "\n" ? "" : `\\${c}`));
}

// --- mutation -------------------------------------------------------------------------------

/** Damages `seed` with one to four random mutations; `others` supply spliced lines. */
export function mutate(seed: string, rng: Prng, others: readonly string[]): string {
  let text = seed;
  const n = rng.weighted<number>([[6, 1], [3, 2], [2, 3], [1, 4]]);
  for (let k = 0; k < n; k++) text = mutateOnce(text, rng, others);
  return text;
}

type Mutation = (text: string, rng: Prng, others: readonly string[]) => string;

const MUTATIONS: readonly (readonly [number, Mutation])[] = [
  [4, flipChar],
  [3, insertChars],
  [3, deleteRange],
  [3, tokenOp],
  [3, lineOp],
  [3, imbalance],
  [2, spliceLines],
  [1, duplicateRange],
  [1, replaceNumber],
];

function mutateOnce(text: string, rng: Prng, others: readonly string[]): string {
  return rng.weighted(MUTATIONS)(text, rng, others);
}

function flipChar(text: string, rng: Prng): string {
  if (text.length === 0) return rng.pick(STRANGE_CHARS);
  const at = rng.int(text.length);
  const c = rng.chance(0.5)
    ? rng.pick(STRANGE_CHARS)
    : rng.chance(0.5)
    ? String.fromCharCode(text.charCodeAt(at) ^ (1 << rng.int(8)))
    : String.fromCharCode(rng.int(0x10000));
  return text.slice(0, at) + c + text.slice(at + 1);
}

function insertChars(text: string, rng: Prng): string {
  const at = rng.int(text.length + 1);
  const ins = Array.from({ length: rng.range(1, 4) }, () => rng.pick(STRANGE_CHARS)).join("");
  return text.slice(0, at) + ins + text.slice(at);
}

function deleteRange(text: string, rng: Prng): string {
  if (text.length === 0) return text;
  const at = rng.int(text.length);
  const len = rng.weighted<number>([[6, 1], [3, rng.range(2, 10)], [1, rng.range(10, 200)]]);
  return text.slice(0, at) + text.slice(at + len);
}

function duplicateRange(text: string, rng: Prng): string {
  if (text.length === 0) return text;
  const at = rng.int(text.length);
  const len = rng.range(1, 80);
  const piece = text.slice(at, at + len);
  return text.slice(0, at) + piece.repeat(rng.range(2, rng.chance(0.1) ? 200 : 4)) +
    text.slice(at + len);
}

/** Tokens are runs of non-blanks; blanks between them are kept in place. */
function tokenOp(text: string, rng: Prng): string {
  const parts = text.split(/(\s+)/);
  const tokens: number[] = [];
  parts.forEach((p, i) => {
    if (p !== "" && !/^\s+$/.test(p)) tokens.push(i);
  });
  if (tokens.length === 0) return text;
  const i = rng.pick(tokens);
  const j = rng.pick(tokens);
  switch (rng.int(5)) {
    case 0:
      parts[i] = "";
      break;
    case 1:
      parts[i] = `${parts[i]} ${parts[i]}`;
      break;
    case 2:
      [parts[i], parts[j]] = [parts[j] as string, parts[i] as string];
      break;
    case 3:
      parts[i] = `${parts[i]} ${parts[j]}`;
      break;
    default: {
      // Split a comma list or key=value apart, or glue two tokens.
      const t = parts[i] as string;
      const cut = t.search(/[,=:.]/);
      parts[i] = cut > 0 ? `${t.slice(0, cut)} ${t.slice(cut)}` : t + (parts[j] as string);
    }
  }
  return parts.join("");
}

function lineOp(text: string, rng: Prng): string {
  const lines = text.split("\n");
  const i = rng.int(lines.length);
  const j = rng.int(lines.length);
  switch (rng.int(5)) {
    case 0:
      lines.splice(i, 1);
      break;
    case 1:
      lines.splice(i, 0, lines[i] as string);
      break;
    case 2:
      [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
      break;
    case 3:
      lines[i] = `${lines[i]}${rng.pick([" \\", " ;", " {", " }", " |", " #", "\\"])}`;
      break;
    default:
      lines[i] = `${lines[i]} ; ${lines[j]}`;
  }
  return lines.join("\n");
}

function imbalance(text: string, rng: Prng): string {
  const at = rng.int(text.length + 1);
  const what = rng.pick([
    '"',
    "'",
    "{",
    "}",
    "${",
    "${x",
    "$",
    "\\",
    "\\\n",
    "for i in 1..3 {",
    "}\n}",
    "let ",
    "include ",
    "#",
  ]);
  if (rng.chance(0.3)) {
    // Remove a quote or brace instead.
    const k = text.slice(at).search(/["'{}]/);
    if (k >= 0) return text.slice(0, at + k) + text.slice(at + k + 1);
  }
  return text.slice(0, at) + what + text.slice(at);
}

function spliceLines(text: string, rng: Prng, others: readonly string[]): string {
  if (others.length === 0) return text;
  const donor = rng.pick(others).split("\n");
  const from = rng.int(donor.length);
  const piece = donor.slice(from, from + rng.range(1, 6));
  const lines = text.split("\n");
  const at = rng.int(lines.length + 1);
  if (rng.chance(0.3)) {
    // Join mid-line: the tail of one line glued to the head of another.
    const line = lines[at] ?? "";
    const cut = rng.int(line.length + 1);
    lines[at] = line.slice(0, cut) + (piece[0] ?? "");
    return lines.join("\n");
  }
  lines.splice(at, 0, ...piece);
  return lines.join("\n");
}

function replaceNumber(text: string, rng: Prng): string {
  const matches = [...text.matchAll(/\d+/g)];
  if (matches.length === 0) return text;
  const m = rng.pick(matches);
  const at = m.index;
  const v = rng.pick(["0", "-1", "65535", "65536", "4294967296", "99999999999999999999", "1e9"]);
  return text.slice(0, at) + v + text.slice(at + m[0].length);
}
