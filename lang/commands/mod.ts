/**
 * The command parsers: a statement's expanded words become a typed {@link Command} node.
 *
 * `parseCommand` strips `sudo` (and its options), splits off output filters after an unquoted
 * `|`, recognises the program by its basename (`/usr/libexec/qemu-kvm`,
 * `./build/app/dpdk-testpmd`) or the lab statement by its keyword, and hands the rest to the
 * family parser. Problems are reported into `diags` (E01xx errors, W0010–W0019 warnings); the
 * result is undefined when the command has an error.
 *
 * @example
 * ```ts
 * import { Diagnostics } from "../diagnostic.ts";
 * import { parseCommand } from "./mod.ts";
 * import { testWords } from "./test_words.ts";
 * const diags = new Diagnostics();
 * const cmd = parseCommand(testWords("sudo /usr/sbin/modprobe -v vhost_vdpa"), diags);
 * if (cmd?.kind !== "modprobe" || cmd.program.value !== "/usr/sbin/modprobe" || !cmd.sudo) {
 *   throw new Error("modprobe behind sudo expected");
 * }
 * if (diags.length !== 0) throw new Error("no diagnostics expected");
 * ```
 *
 * @module
 */

import { Diagnostics } from "../diagnostic.ts";
import { joinSpans } from "../span.ts";
import type { ExpandedWord } from "../word.ts";
import type { Command, CommandBase, FileRedirect, OutputFilter } from "./ast.ts";
import type { CommandContext } from "./context.ts";
import { basename, loc, own, wordsSpan } from "./cursor.ts";
import { LAB_KEYWORDS, parseLab } from "./lab.ts";
import { parseDevlink } from "./devlink.ts";
import { parseIp } from "./ip.ts";
import { parseKill, parsePkill } from "./kill.ts";
import { parseLsmod, parseModprobe, parseRmmod } from "./modprobe.ts";
import { parseOvsVsctl } from "./ovs.ts";
import { parseFilter, splitPipeline, splitStdoutRedirect, type Stage } from "./pipeline.ts";
import { parseQemu, QEMU_TARGETS } from "./qemu.ts";
import { report, suggestHelp } from "./report.ts";
import { parseSudo } from "./sudo.ts";
import { isTeeStage, parseCat, parseEcho, parseLs } from "./sysfs.ts";
import { parseTestpmd } from "./testpmd.ts";
import { parseVdpa } from "./vdpa.ts";

export type * from "./ast.ts";
export { COMMAND_CODES, type CommandCode } from "./codes.ts";
export { LAB_KEYWORDS, SHOW_SUBJECT_KINDS } from "./lab.ts";
export { IP_LINK_TYPES } from "./ip.ts";
export { ovsColumnKey } from "./ovs.ts";
export { QEMU_OPTION_NAMES, qemuOptionIgnored } from "./qemu.ts";
export { FORWARD_MODES } from "./testpmd.ts";

type FamilyParser = (ctx: CommandContext) => Command | undefined;

/** Programs recognised by basename, and their parsers. */
const PROGRAMS: Readonly<Record<string, FamilyParser>> = {
  modprobe: parseModprobe,
  rmmod: parseRmmod,
  lsmod: parseLsmod,
  vdpa: parseVdpa,
  cat: parseCat,
  ls: parseLs,
  ip: parseIp,
  kill: parseKill,
  devlink: parseDevlink,
  pkill: parsePkill,
  "ovs-vsctl": parseOvsVsctl,
  "dpdk-testpmd": parseTestpmd,
  testpmd: parseTestpmd,
  "qemu-kvm": parseQemu,
  qemu: parseQemu,
  ...Object.fromEntries(Object.keys(QEMU_TARGETS).map((t) => [`qemu-system-${t}`, parseQemu])),
};

/** Real tools people reach for in the same howtos, and what to write in the lab instead. */
const NOT_MODELLED: Readonly<Record<string, string>> = {
  tee: "write `echo VALUE | sudo tee PATH`",
  insmod: "load modules with `modprobe MODULE`, which also loads their dependencies",
  brctl: "create bridges with `ip link add br0 type bridge` and `ip link set tap0 master br0`",
  tunctl: "create taps with `ip tuntap add tap0 mode tap`",
  tcpdump: "record packets with `capture IFACE to FILE`",
  iperf: "generate load with `traffic T from EP to EP size=… rate=…`",
  iperf3: "generate load with `traffic T from EP to EP size=… rate=…`",
  ethtool: "read counters with `show stats` and `vdpa dev vstats show`",
  dmesg: "read the kernel's messages with `show log`",
  lspci: "see devices with `show topology`",
  virsh: "write the QEMU command line itself (`qemu-system-x86_64 …`)",
  "ovs-ofctl": "the lab's OVS bridges forward like `NORMAL`; configure them with `ovs-vsctl`",
  "ovs-appctl": "inspect OVS with `ovs-vsctl show` and `show stats`",
  "dpdk-vdpa": "attach a vDPA device with `qemu-system-x86_64 -netdev vhost-vdpa,…`",
};

/** Every program name the lab recognises (echo included). */
export const KNOWN_PROGRAMS: readonly string[] = [...Object.keys(PROGRAMS), "echo"].sort();

/**
 * Parses one statement's words into a typed command node. Returns undefined for an empty
 * statement, or when the command has an error (reported into `diags`).
 */
export function parseCommand(
  words: readonly ExpandedWord[],
  diags: Diagnostics,
): Command | undefined {
  if (words.length === 0) return undefined;
  const local = new Diagnostics();
  const cmd = dispatch(words, local);
  diags.pushAll(local.items);
  return local.hasErrors ? undefined : cmd;
}

function dispatch(words: readonly ExpandedWord[], diags: Diagnostics): Command | undefined {
  const stages = splitPipeline(words);
  const head = stages[0] as Stage;
  for (const s of stages.slice(1)) {
    if (s.words.length === 0 && s.pipe) {
      report(diags, "E0112", "`|` with no command after it", {
        span: s.pipe.span,
        label: "nothing to pipe into",
        help: ["remove the `|`, or write a filter such as `| grep vdpa`"],
      });
      return undefined;
    }
  }
  if (head.words.length === 0) {
    const pipe = stages[1]?.pipe;
    if (pipe) {
      report(diags, "E0112", "`|` with no command before it", {
        span: pipe.span,
        label: "nothing to pipe from",
        help: ["remove the `|`"],
      });
    }
    return undefined;
  }
  const s = parseSudo(head.words, diags);
  if (!s) return undefined;
  const programWord = s.rest[0] as ExpandedWord;
  let args = s.rest.slice(1);
  const name = basename(programWord.text);
  const isLab = !programWord.quoted && !programWord.text.includes("/") &&
    LAB_KEYWORDS.includes(name);
  const isEcho = name === "echo";
  const tee = isEcho && isTeeStage(stages[1]) ? stages[1] : undefined;
  let filterStages = stages.slice(tee ? 2 : 1);
  let stdout: FileRedirect | undefined;
  // `expect a > b` compares; everywhere else an unquoted `>` redirects.
  if (!isEcho && !(isLab && name === "expect")) {
    // `cmd > PATH` or `cmd | filter > PATH`: the redirection applies to the last stage.
    const last = filterStages[filterStages.length - 1];
    const r = splitStdoutRedirect(last ? last.words : args, diags);
    if (!r) return undefined;
    if (last) filterStages = [...filterStages.slice(0, -1), { ...last, words: r.words }];
    else args = r.words;
    stdout = r.redirect;
  }
  if (!isEcho && isTeeStage(stages[1])) {
    const pipe = stages[1]?.pipe as ExpandedWord;
    report(diags, "E0112", "only `echo` can be piped into `tee` in the lab", {
      span: joinSpans(pipe.span, wordsSpan(stages[1]?.words ?? [])),
      label: "unsupported `tee`",
      help: ["write the value with `echo VALUE | sudo tee PATH`"],
    });
    return undefined;
  }
  const pipeline: OutputFilter[] = [];
  for (const st of filterStages) {
    const f = parseFilter(st.words, diags);
    if (!f) {
      // `cmd | > PATH`: the redirection took the only words the filter had
      if (st.words.length === 0 && st.pipe && !diags.hasErrors) {
        report(diags, "E0112", "`|` with no command after it", {
          span: st.pipe.span,
          label: "nothing to pipe into",
          help: ["remove the `|`, or write a filter such as `| grep vdpa`"],
        });
      }
      return undefined;
    }
    pipeline.push(f);
  }
  const base: CommandBase = {
    span: wordsSpan(words),
    program: loc(programWord),
    pipeline,
    words,
    ...(s.prefix ? { sudo: s.prefix } : {}),
    ...(stdout ? { stdout } : {}),
  };
  const ctx: CommandContext = { diags, args, name, base };
  if (isLab) {
    if (s.prefix) {
      report(diags, "W0011", `\`sudo\` has no effect on the lab statement \`${name}\``, {
        span: s.prefix.span,
        label: "ignored",
        help: ["remove `sudo`"],
      });
    }
    return parseLab(ctx);
  }
  if (isEcho) return parseEcho(ctx, tee);
  const family = own(PROGRAMS, name);
  if (family) return family(ctx);
  if (name.startsWith("qemu-system-")) return parseQemu(ctx);
  const instead = own(NOT_MODELLED, name);
  if (instead !== undefined) {
    report(diags, "E0120", `\`${name}\` is not modelled`, {
      span: programWord.span,
      label: "a real tool the lab does not run",
      help: [instead],
    });
    return undefined;
  }
  const candidates = [...KNOWN_PROGRAMS, ...LAB_KEYWORDS];
  report(diags, "E0100", `unknown command \`${programWord.text}\``, {
    span: programWord.span,
    label: "not a command the lab knows",
    help: [
      ...suggestHelp(name, candidates),
      "`help` lists the commands and lab statements",
    ],
  });
  return undefined;
}
