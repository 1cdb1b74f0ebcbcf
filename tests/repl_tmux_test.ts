/**
 * The REPL in a real terminal: each launch runs `main.ts repl` in a tmux pane (a private tmux
 * server, a temporary HOME and XDG_STATE_HOME), keys are typed with `send-keys`, and the screen
 * is read with `capture-pane` until what is expected shows (polling with a timeout, no fixed
 * sleeps). Covers completion as typed, an error that keeps the session, Ctrl-C manners,
 * history recalled in a second launch, `.save` then `.load` into a fresh REPL reproducing the
 * same `show topology`, and a long run whose progress line advances until Ctrl-C stops it.
 */

import assert from "node:assert/strict";
import { EXECUTORS } from "../stdlib/commands/mod.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const WIDTH = 120;
const HEIGHT = 50;

function hasTmux(): boolean {
  try {
    return new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const TMUX = hasTmux();
/** The host command families (another engineer's) are in the executor table. */
const HOST_COMMANDS = ["modprobe", "ls", "lsmod", "ip-link-show", "vdpa-dev-add"].every((k) =>
  Object.hasOwn(EXECUTORS, k)
);

function quote(w: string): string {
  return `'${w.replaceAll("'", `'"'"'`)}'`;
}

/** Entry numbers (`<repl:7>`) count entries, they are not state: compare without them. */
function withoutEntryNumbers(screen: string): string {
  return screen.replace(/<repl:\d+>/g, "<repl:N>");
}

/** One tmux server for the whole file; each REPL launch is a session in it. */
class Terminal {
  readonly #socket = `vdpa-lab-test-${Deno.pid}`;
  readonly home: string;
  #n = 0;
  #target = "";

  constructor(home: string) {
    this.home = home;
  }

  #tmux(args: string[]): string {
    const r = new Deno.Command("tmux", { args: ["-L", this.#socket, ...args], stderr: "piped" })
      .outputSync();
    if (!r.success) {
      throw new Error(`tmux ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
    }
    return new TextDecoder().decode(r.stdout);
  }

  /** Starts the REPL in a fresh pane and waits for its prompt. */
  async launch(extra: string[] = []): Promise<void> {
    this.#target = `repl${++this.#n}`;
    const env = [
      `HOME=${this.home}`,
      `XDG_STATE_HOME=${this.home}/state`,
      "TERM=xterm-256color",
      `PATH=${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
    ];
    const repl = [
      Deno.execPath(),
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      MAIN,
      "repl",
      ...extra,
    ];
    // The pane stays after the REPL exits, showing its status, until the session is killed.
    const command = `cd ${quote(this.home)} && env -i ${env.map(quote).join(" ")} ${
      repl.map(quote).join(" ")
    }; echo "[exited $?]"; sleep 600`;
    this.#tmux([
      "new-session",
      "-d",
      "-s",
      this.#target,
      "-x",
      String(WIDTH),
      "-y",
      String(HEIGHT),
      command,
    ]);
    await this.waitPrompt();
    // main.ts shows the prompt before the lab's modules load; an empty entry answered by a
    // fresh prompt proves readline is reading (keys typed earlier would be read as a paste).
    this.press("Enter");
    await this.waitFor("the REPL to be ready", (s) => /(^|\n)vdpa>\nvdpa>$/.test(s));
  }

  /** Types text literally. */
  type(text: string): void {
    this.#tmux(["send-keys", "-t", this.#target, "-l", text]);
  }

  /** Presses keys (`Tab`, `Enter`, `Up`, `C-c`, `C-d`, `C-l`). */
  press(...keys: string[]): void {
    this.#tmux(["send-keys", "-t", this.#target, ...keys]);
  }

  /** The visible screen, trailing blanks removed from each line and from the end. */
  screen(): string {
    const text = this.#tmux(["capture-pane", "-p", "-t", this.#target]);
    return text.split("\n").map((l) => l.trimEnd()).join("\n").trimEnd();
  }

  /** The line the cursor is on (what is being typed). */
  lastLine(): string {
    return this.screen().split("\n").at(-1) ?? "";
  }

  /** Polls the screen until `ok` says yes; fails with the screen after `timeoutMs`. */
  async waitFor(
    what: string,
    ok: (screen: string) => boolean,
    timeoutMs = 15_000,
  ): Promise<string> {
    const t0 = Date.now();
    while (true) {
      const s = this.screen();
      if (ok(s)) return s;
      if (Date.now() - t0 > timeoutMs) {
        throw new Error(`Timed out waiting for ${what}; the screen shows:\n${s}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Waits for an empty prompt on the last line. */
  async waitPrompt(): Promise<string> {
    return await this.waitFor("the prompt", (s) => /(^|\n)vdpa>$/.test(s));
  }

  /** Waits until the line being typed reads `line` (a completion has been inserted). */
  async waitLine(line: string): Promise<void> {
    await this.waitFor(`the line ${JSON.stringify(line)}`, (s) => {
      const last = s.split("\n").at(-1) ?? "";
      return last === line.trimEnd();
    });
  }

  /** Types an entry, presses Enter, waits for the next prompt; returns what it printed. */
  async enter(line: string): Promise<string> {
    const before = this.#history();
    this.type(line);
    this.press("Enter");
    await this.waitFor(`the prompt after ${JSON.stringify(line)}`, (s) => {
      return this.#history().length > before.length && /(^|\n)vdpa>$/.test(s);
    });
    const after = this.#history();
    const lines = after.slice(before.length).split("\n");
    // From the line after the one typed to the line before the new prompt.
    return lines.slice(1, -1).join("\n");
  }

  /** Everything the pane has shown, scrollback included. */
  #history(): string {
    return this.#tmux(["capture-pane", "-p", "-J", "-S", "-", "-t", this.#target])
      .split("\n").map((l) => l.trimEnd()).join("\n").trimEnd();
  }

  /** Clears the screen and the scrollback (Ctrl-L redraws the prompt at the top). */
  async clear(): Promise<void> {
    this.press("C-l");
    await this.waitFor("a cleared screen", (s) => s === "vdpa>");
    this.#tmux(["clear-history", "-t", this.#target]);
  }

  /** Waits for the REPL to exit; returns its status. */
  async exited(): Promise<number> {
    const s = await this.waitFor("the REPL to exit", (x) => /\[exited \d+\]/.test(x));
    return Number(/\[exited (\d+)\]/.exec(s)?.[1]);
  }

  kill(): void {
    try {
      this.#tmux(["kill-server"]);
    } catch {
      // no server left
    }
  }
}

Deno.test({
  name: TMUX
    ? "REPL in a terminal (tmux)"
    : "REPL in a terminal: SKIPPED because tmux is not installed (.ci/run installs it)",
  ignore: !TMUX,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const home = await Deno.makeTempDir({ prefix: "vdpa-lab-repl-" });
    const term = new Terminal(home);
    try {
      await t.step("typing with completion", async () => {
        await term.launch();
        term.type("modpr");
        term.press("Tab");
        await term.waitLine("vdpa> modprobe ");
        term.type("vdpa_s");
        term.press("Tab");
        // Three modules share `vdpa_sim`: it is inserted, and a second Tab lists them.
        await term.waitLine("vdpa> modprobe vdpa_sim");
        term.press("Tab");
        await term.waitFor("the list of choices", (s) => /vdpa_sim_blk +vdpa_sim_net/.test(s));
        term.type("_n");
        term.press("Tab");
        await term.waitLine("vdpa> modprobe vdpa_sim_net ");
        term.press("C-c");
        await term.waitPrompt();
      });

      await t.step("completion of a sysfs path", async () => {
        term.type("ls /sys/bus/vi");
        term.press("Tab");
        await term.waitLine("vdpa> ls /sys/bus/virtio/");
        term.press("C-c");
        await term.waitPrompt();
      });

      await t.step({
        name: "completion of a path under /sys/bus/vdpa (needs the host command executors)",
        ignore: !HOST_COMMANDS,
        fn: async () => {
          await term.enter("modprobe vdpa_sim_net");
          await term.enter("vdpa dev add name vdpa0 mgmtdev vdpasim_net");
          term.type("ls /sys/bus/vdpa/devices/vd");
          term.press("Tab");
          await term.waitLine("vdpa> ls /sys/bus/vdpa/devices/vdpa0/");
          term.press("C-c");
          await term.waitPrompt();
        },
      });

      await t.step("an error keeps the session: the next entry works", async () => {
        const err = await term.enter("let n = 2; helpp vdpa");
        assert.match(err, /error\[E0100\]: unknown command `helpp`/);
        assert.match(err, /--> <repl:\d+>:1:12/);
        assert.match(err, /help: did you mean `help`\?/);
        const out = await term.enter("help vdpa | head -n 1");
        assert.equal(out, "The vdpa tool (iproute2)");
        assert.equal(await term.enter(".vars"), "n = 2");
      });

      await t.step("multi-line entries: a block and a trailing backslash", async () => {
        term.type("for i in 1..${n} {");
        term.press("Enter");
        await term.waitFor("the continuation prompt", (s) => s.endsWith("..."));
        term.type("let last = vdpa${i} \\");
        term.press("Enter");
        await term.waitFor("a second continuation", (s) => /\.\.\. let last.*\n +\.\.\.$/.test(s));
        term.type("}");
        term.press("Enter");
        await term.waitPrompt();
        assert.equal(await term.enter(".vars"), "last = vdpa2\nn = 2");
      });

      await t.step("Ctrl-C abandons a line, and at an empty prompt says how to leave", async () => {
        term.type("vdpa dev add name");
        term.press("C-c");
        await term.waitFor(
          "the abandoned line",
          (s) => s.endsWith("vdpa> vdpa dev add name^C\nvdpa>"),
        );
        term.press("C-c");
        await term.waitFor("the hint", (s) => s.endsWith("(use .exit or Ctrl-D to leave)\nvdpa>"));
      });

      await t.step("Ctrl-D leaves with status 0", async () => {
        term.press("C-d");
        assert.equal(await term.exited(), 0);
      });

      await t.step("history: Up recalls the last launch's entries", async () => {
        const history = await Deno.readTextFile(`${home}/state/vdpa-lab/history`);
        assert.match(history, /^help vdpa \| head -n 1\n\.vars\n/m);
        await term.launch();
        term.press("Up");
        await term.waitLine("vdpa> .vars");
        term.press("Up");
        await term.waitLine("vdpa> }");
        term.press("Up", "Up", "Up");
        await term.waitLine("vdpa> .vars");
        term.press("Up");
        await term.waitLine("vdpa> help vdpa | head -n 1");
        term.press("Enter");
        await term.waitFor(
          "the recalled entry's output",
          (s) => s.endsWith("The vdpa tool (iproute2)\nvdpa>"),
        );
        term.type(".exit");
        term.press("Enter");
        assert.equal(await term.exited(), 0);
      });

      /** The state a session shows: variables and the host as its tools print it. */
      const queries = [".vars", "ls /sys/bus/vdpa/devices", "lsmod", "ip link show"];
      let saved = "";

      await t.step(".save writes the session as a script", async () => {
        await term.launch();
        await term.enter("let n = 2");
        await term.enter("for i in 1..${n} {\n  let dev = vdpa${i}\n}");
        await term.enter("modprobe vdpa_sim_net; modprobe vhost_vdpa");
        await term.enter("vdpa dev add name vdpa0 mgmtdev vdpasim_net");
        await term.enter("ip tuntap add tap0 mode tap; ip link set tap0 up");
        await term.enter("let broken = ${nope}");
        await term.clear();
        for (const q of queries) await term.enter(q);
        saved = withoutEntryNumbers(term.screen());
        const out = await term.enter(".save lab.vdpa");
        assert.match(out, /^saved \d+ statements? to lab\.vdpa$/m);
        term.type(".exit");
        term.press("Enter");
        await term.exited();
        const script = await Deno.readTextFile(`${home}/lab.vdpa`);
        assert.match(
          script,
          /^let n = 2\nfor i in 1\.\.\$\{n\} \{\n {2}let dev = vdpa\$\{i\}\n\}$/m,
        );
        assert.doesNotMatch(script, /broken/);
      });

      await t.step(
        ".load into a fresh REPL gives the same variables, ls /sys/bus/vdpa/devices, lsmod and ip link show",
        async () => {
          await term.launch();
          await term.enter(".load lab.vdpa");
          await term.clear();
          for (const q of queries) await term.enter(q);
          assert.equal(withoutEntryNumbers(term.screen()), saved);
          assert.match(saved, /dev = vdpa2\nn = 2/);
          if (HOST_COMMANDS) {
            assert.match(saved, /^vdpa0$/m);
            assert.match(saved, /^vdpa_sim_net /m);
            assert.match(saved, /tap0/);
          }
          term.press("C-d");
          await term.exited();
        },
      );

      await t.step(
        ".save then .load into a fresh REPL reproduces the same show topology",
        async () => {
          await term.launch();
          await term.enter(".load lab.vdpa");
          const loaded = await term.enter("show topology");
          term.press("C-d");
          await term.exited();
          await term.launch();
          await term.enter("let n = 2");
          await term.enter("for i in 1..${n} {\n  let dev = vdpa${i}\n}");
          await term.enter("modprobe vdpa_sim_net; modprobe vhost_vdpa");
          await term.enter("vdpa dev add name vdpa0 mgmtdev vdpasim_net");
          await term.enter("ip tuntap add tap0 mode tap; ip link set tap0 up");
          const typed = await term.enter("show topology");
          assert.equal(loaded, typed);
          assert.match(typed, /vDPA bus: vdpa0 → vhost_vdpa → \/dev\/vhost-vdpa-0/);
          assert.match(typed, /^ {2}tap0 tap/m);
          term.press("C-d");
          await term.exited();
        },
      );

      await t.step(
        "a long run shows its progress after a second; Ctrl-C stops it and the session goes on",
        async () => {
          await term.launch();
          for (
            const line of [
              "host nic ens1f0 model=mlx5 pci=0000:3b:00.0 speed=25Gbps",
              "modprobe tun; modprobe vhost_net; modprobe bridge",
              "ip link add name br0 type bridge; ip link set dev ens1f0 master br0",
              "ip link set dev br0 up; ip link set dev ens1f0 up",
              "ip tuntap add dev tap0 mode tap vnet_hdr",
              "ip link set dev tap0 master br0; ip link set dev tap0 up",
              "qemu-system-x86_64 -name vm1 -m 1G -netdev tap,id=n0,ifname=tap0,script=no,vhost=on " +
              "-device virtio-net-pci,netdev=n0",
              "traffic t1 from vm1.eth0 to wire size=64 count=1000000000 rate=1Mpps burst=32",
            ]
          ) await term.enter(line);
          await term.clear();
          term.type("run");
          term.press("Enter");
          // The spinner: on the terminal after about a second, advancing while the run goes on.
          const first = await term.waitFor(
            "the progress line",
            (s) =>
              /\n[|/\\-] run \d+% [\d.]+ (ms|s|us) virtual \([\d.]+ s, Ctrl-C stops\)$/.test(s),
          );
          await term.waitFor(
            "the progress line to advance",
            (s) => s !== first && s.includes("Ctrl-C stops"),
          );
          term.press("C-c");
          const stopped = await term.waitPrompt();
          assert.match(stopped, /^run: [\d.]+ ms of virtual time \(interrupted\)$/m);
          assert.doesNotMatch(stopped, /Ctrl-C stops/, "the progress line is erased");
          const sent = Number(/sent (\d+)/.exec(stopped)?.[1]);
          assert.ok(sent > 0 && sent < 1e9, `${sent} packets sent before the stop`);
          // The session is intact: the next run resumes where this one stopped.
          const next = await term.enter("run 1ms");
          assert.match(next, /^run: 1\.0 ms of virtual time$/m);
          assert.ok(Number(/sent (\d+)/.exec(next)?.[1]) > sent);
          term.press("C-d");
          assert.equal(await term.exited(), 0);
        },
      );
    } finally {
      term.kill();
      await Deno.remove(home, { recursive: true });
    }
  },
});
