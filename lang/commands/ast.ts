/**
 * Typed command nodes: what a command line becomes once its words are recognised.
 *
 * Every node carries the span of the whole statement, the program word as typed (a path such as
 * `/usr/libexec/qemu-kvm` is kept), the `sudo` prefix if there was one, every original word (so a
 * checker can point at anything), and a {@link Located} value for each name and argument. Comma
 * lists (QEMU options, DPDK `--vdev`, OVS `column:key=value` settings, lab `key=value` words)
 * are {@link PropList}s whose items carry exact sub-spans.
 *
 * The syntax layer keeps values as located strings where the meaning belongs to a catalog
 * (QEMU properties, module parameters, OVS options); it decodes a value only where the real
 * tool's own parser does (iproute2's `u16`/`u32`/hex `u64`, MAC addresses).
 *
 * @example Narrowing on `kind`
 * ```ts
 * import type { Command } from "./ast.ts";
 * function describe(cmd: Command): string {
 *   switch (cmd.kind) {
 *     case "vdpa-dev-add":
 *       return `add ${cmd.name.value} on ${cmd.mgmtdev.text}`;
 *     case "qemu":
 *       return `${cmd.netdevs.length} netdev(s)`;
 *     default:
 *       return cmd.kind;
 *   }
 * }
 * if (typeof describe !== "function") throw new Error("unreachable");
 * ```
 *
 * @module
 */

import type { Span } from "../span.ts";
import type { ExpandedWord, Located } from "../word.ts";
import type { Prop, PropList } from "../props.ts";
import type { Quantity } from "../quantity.ts";

export type { Prop, PropList, Quantity };

// ---------------------------------------------------------------------------------------------
// Common parts

/** `sudo [-E] [-H] [-n] [-u USER] [--preserve-env[=LIST]]` in front of a command. */
export interface SudoPrefix {
  /** From `sudo` to its last option. */
  readonly span: Span;
  /** The `sudo` word as typed (it may be a path such as `/usr/bin/sudo`). */
  readonly word: Located<string>;
  /** `-u USER` / `--user=USER`. */
  readonly user?: Located<string>;
  /** `-E` or `--preserve-env`. */
  readonly preserveEnv: boolean;
  /** Every option word as typed. */
  readonly options: readonly Located<string>[];
}

/**
 * A filter after `|` on a command's output (`lsmod | grep vdpa`). The lab applies it to the text
 * the command prints; `tee` is not a filter but a write and lives on {@link EchoCommand}.
 */
export type OutputFilter =
  | {
    readonly kind: "grep";
    /** Where it is in the source. */
    readonly span: Span;
    /** What to look for. */
    readonly pattern: Located<string>;
    /** `-i` */
    readonly ignoreCase: boolean;
    /** `-v` */
    readonly invert: boolean;
    /** `-E` (extended regular expression) */
    readonly extended: boolean;
    /** `-F` (fixed string) */
    readonly fixed: boolean;
    /** `-w` */
    readonly wordMatch: boolean;
    /** `-c` */
    readonly count: boolean;
  }
  | { readonly kind: "head" | "tail"; readonly span: Span; readonly lines: Located<number> }
  | { readonly kind: "wc"; readonly span: Span; readonly lines: true };

/** What every node has. */
export interface CommandBase {
  /** The whole statement, `sudo` and output filters included. */
  readonly span: Span;
  /** The program (or statement keyword) word as typed: `vdpa`, `/usr/libexec/qemu-kvm`, `traffic`. */
  readonly program: Located<string>;
  /** The `sudo` in front, if any. */
  readonly sudo?: SudoPrefix;
  /** Output filters after `|`, in order (empty when there are none). */
  readonly pipeline: readonly OutputFilter[];
  /** Every word of the statement as the command parser received it. */
  readonly words: readonly ExpandedWord[];
  /**
   * `> PATH` / `>> PATH` after the command (or its last filter): where its output goes instead
   * of the terminal (`> /dev/null` discards it). `echo` keeps its own `redirect` (a write).
   */
  readonly stdout?: FileRedirect;
}

/** A word that names a file or a sysfs/dev path; `glob` is true for an unquoted `*`, `?` or `[`. */
export interface PathArg extends Located<string> {
  readonly glob: boolean;
}

// ---------------------------------------------------------------------------------------------
// modprobe / rmmod / lsmod

/** `modprobe [-r] [-a] [-v] [-n] [-q] [-f] [--first-time] [-D] MOD [param=value…]`. */
export interface ModprobeCommand extends CommandBase {
  readonly kind: "modprobe";
  /** `-r`/`--remove`: every name is a module to unload. */
  readonly remove: boolean;
  /** `-a`/`--all`: every name is a module to load (no parameters). */
  readonly all: boolean;
  /** `-v`/`--verbose`. */
  readonly verbose: boolean;
  /** `-q`/`--quiet`. */
  readonly quiet: boolean;
  /** `-n`/`--dry-run` */
  readonly dryRun: boolean;
  /** `-f`/`--force`. */
  readonly force: boolean;
  /** `--first-time`: fail if the module is already (un)loaded. */
  readonly firstTime: boolean;
  /** `-D`/`--show-depends`: print the insmod lines, load nothing. */
  readonly showDepends: boolean;
  /** Every option word as typed. */
  readonly options: readonly Located<string>[];
  /** At least one. */
  readonly modules: readonly Located<string>[];
  /**
   * Parameters of `modules[0]` (`max_iotlb_entries=0`); a bare word is a value-less item, as
   * kmod passes it to the kernel. Empty with `-a` or `-r`.
   */
  readonly params: PropList;
}

/** `rmmod [-f] [-v] [-s] MOD…`. */
export interface RmmodCommand extends CommandBase {
  readonly kind: "rmmod";
  /** `-f`/`--force`. */
  readonly force: boolean;
  /** `-v`/`--verbose`. */
  readonly verbose: boolean;
  /** The options as typed. */
  readonly options: readonly Located<string>[];
  /** The module names, in order. */
  readonly modules: readonly Located<string>[];
}

/** `lsmod`. */
export interface LsmodCommand extends CommandBase {
  readonly kind: "lsmod";
}

// ---------------------------------------------------------------------------------------------
// vdpa (iproute2)

/** `vdpa [-V] [-j] [-p] …` options (GNU getopt: they may appear anywhere, `-jp` combines). */
export interface VdpaOptions {
  /** `--json` / `-j`: print JSON. */
  readonly json: boolean;
  /** `-p`/`--pretty`: indented JSON. */
  readonly pretty: boolean;
  /** `-V`: print the version. */
  readonly version: boolean;
  /** Every option word as typed. */
  readonly words: readonly Located<string>[];
}

/** A management device handle: `vdpasim_net` or `bus/name` (`pci/0000:3b:00.2`). */
export interface MgmtdevHandle {
  /** Where it is in the source. */
  readonly span: Span;
  /** The handle as typed. */
  readonly text: string;
  /** The bus (`pci`, `auxiliary`), if given. */
  readonly bus?: Located<string>;
  /** The name as typed. */
  readonly name: Located<string>;
}

/** One `keyword value` pair of a vdpa command line, in typed order. */
export interface VdpaArg {
  /** From the keyword to its value. */
  readonly span: Span;
  /** The keyword as typed (may be a prefix: `ma` for `max_vqp`). */
  readonly keyword: Located<string>;
  /** The canonical keyword. */
  readonly name: "name" | "mgmtdev" | "mac" | "mtu" | "max_vqp" | "qidx" | "device_features";
  /** The value as typed. */
  readonly value: Located<string>;
}

interface VdpaBase extends CommandBase {
  /** The options as typed. */
  readonly options: VdpaOptions;
  /** Every keyword/value pair, in order (duplicates kept; iproute2 keeps the last). */
  readonly args: readonly VdpaArg[];
}

/** `vdpa mgmtdev show [MGMTDEV]` (also `list`, and prefixes). */
export interface VdpaMgmtdevShow extends VdpaBase {
  readonly kind: "vdpa-mgmtdev-show";
  /** The management device. */
  readonly mgmtdev?: MgmtdevHandle;
}

/** `vdpa dev show [DEV]`, and bare `vdpa dev`. */
export interface VdpaDevShow extends VdpaBase {
  readonly kind: "vdpa-dev-show";
  /** The device name as typed. */
  readonly dev?: Located<string>;
}

/** `vdpa dev add name NAME mgmtdev MGMTDEV [device_features HEX] [mac MAC] [mtu N] [max_vqp N]`. */
export interface VdpaDevAdd extends VdpaBase {
  readonly kind: "vdpa-dev-add";
  /** The name as typed. */
  readonly name: Located<string>;
  /** The management device. */
  readonly mgmtdev: MgmtdevHandle;
  /** Normalised to lower-case two-digit groups (`00:11:22:33:44:55`). */
  readonly mac?: Located<string>;
  /** u16 */
  readonly mtu?: Located<number>;
  /** u16 */
  readonly maxVqp?: Located<number>;
  /** u64, parsed as hex (a `0x` prefix is optional, as with strtoull base 16). */
  readonly deviceFeatures?: Located<bigint>;
}

/** `vdpa dev del DEV`. */
export interface VdpaDevDel extends VdpaBase {
  readonly kind: "vdpa-dev-del";
  /** The device name as typed. */
  readonly dev: Located<string>;
}

/** `vdpa dev config show [DEV]`, and bare `vdpa dev config`. */
export interface VdpaDevConfigShow extends VdpaBase {
  readonly kind: "vdpa-dev-config-show";
  /** The device name as typed. */
  readonly dev?: Located<string>;
}

/**
 * `vdpa dev vstats show DEV [qidx N]`: the tool takes 1 or 3 arguments; a missing `qidx` is the
 * kernel's to reject, so it is optional here.
 */
export interface VdpaDevVstatsShow extends VdpaBase {
  readonly kind: "vdpa-dev-vstats-show";
  /** The device name as typed. */
  readonly dev: Located<string>;
  /** u32 */
  readonly qidx?: Located<number>;
}

/** `vdpa dev set name NAME [mac MAC]`. */
export interface VdpaDevSet extends VdpaBase {
  readonly kind: "vdpa-dev-set";
  /** The name as typed. */
  readonly name: Located<string>;
  /** A MAC address, normalised. */
  readonly mac?: Located<string>;
}

/** Every vdpa command. */
export type VdpaCommand =
  | VdpaMgmtdevShow
  | VdpaDevShow
  | VdpaDevAdd
  | VdpaDevDel
  | VdpaDevConfigShow
  | VdpaDevVstatsShow
  | VdpaDevSet;

// ---------------------------------------------------------------------------------------------
// echo / cat / ls (sysfs and /dev)

/** `> PATH` or `>> PATH` (the operator may be glued to the path: `>/sys/…`). */
export interface FileRedirect {
  readonly kind: "file";
  /** Where it is in the source. */
  readonly span: Span;
  /** The operator as typed. */
  readonly operator: Located<">" | ">>">;
  /** Append instead of truncating (`>>`, `tee -a`). */
  readonly append: boolean;
  /** The file written to. */
  readonly path: PathArg;
}

/** `| [sudo] tee [-a] PATH…`: how many people write to sysfs as a normal user. */
export interface TeeRedirect {
  readonly kind: "tee";
  /** Where it is in the source. */
  readonly span: Span;
  /** The `|`. */
  readonly pipe: Located<"|">;
  /** The `sudo` in front, if any. */
  readonly sudo?: SudoPrefix;
  /** The program word as typed. */
  readonly program: Located<string>;
  /** Append instead of truncating (`>>`, `tee -a`). */
  readonly append: boolean;
  /** The paths as typed. */
  readonly paths: readonly PathArg[];
  /** `| tee PATH > /dev/null`: tee's copy on stdout is discarded. */
  readonly silenced: boolean;
}

/** Where `echo` writes. */
export type Redirect = FileRedirect | TeeRedirect;

/** `echo [-n] [-e] VALUE… [> PATH | >> PATH | | tee [-a] PATH…]`. */
export interface EchoCommand extends CommandBase {
  readonly kind: "echo";
  /** `-n`: no trailing newline. */
  readonly noNewline: boolean;
  /** `-e`: backslash escapes are interpreted. */
  readonly escapes: boolean;
  /** The values as typed, in order. */
  readonly values: readonly Located<string>[];
  /** What echo writes: values joined by one space, escapes applied, `\n` unless `-n`. */
  readonly output: string;
  /** Where the output goes, if not to the terminal. */
  readonly redirect?: Redirect;
}

/** `cat PATH…`. */
export interface CatCommand extends CommandBase {
  readonly kind: "cat";
  /** The paths as typed. */
  readonly paths: readonly PathArg[];
}

/** `ls [-l] [-a] [-1] [-d] [-h] [PATH|GLOB…]`. */
export interface LsCommand extends CommandBase {
  readonly kind: "ls";
  /** `-l`: long listing. */
  readonly long: boolean;
  /** `-a`/`--all`. */
  readonly all: boolean;
  /** `-1`: one name per line. */
  readonly onePerLine: boolean;
  /** `-d`: list directories themselves. */
  readonly directory: boolean;
  /** `-h`: human-readable sizes. */
  readonly human: boolean;
  /** The options as typed. */
  readonly options: readonly Located<string>[];
  /** Empty means the current directory. */
  readonly paths: readonly PathArg[];
}

// ---------------------------------------------------------------------------------------------
// ip (iproute2)

/** `ip` global options that change what the lab prints. */
export interface IpOptions {
  /** `--json` / `-j`: print JSON. */
  readonly json: boolean;
  /** `-p`/`--pretty`: indented JSON. */
  readonly pretty: boolean;
  /** `-br`: one line per object. */
  readonly brief: boolean;
  /** `-d`: details. */
  readonly details: boolean;
  /** `-s`: include statistics. */
  readonly stats: boolean;
  /** `-4`, `-6`, `-0`, `-f FAMILY`. */
  readonly family?: Located<"inet" | "inet6" | "link">;
  /** Every option word as typed. */
  readonly words: readonly Located<string>[];
}

interface IpBase extends CommandBase {
  /** The options as typed. */
  readonly options: IpOptions;
}

/** `ip tuntap add|del [dev|name] NAME mode tap|tun [multi_queue] [vnet_hdr] [one_queue] [pi] [user U] [group G]`. */
export interface IpTuntapCommand extends IpBase {
  readonly kind: "ip-tuntap-add" | "ip-tuntap-del";
  /** The name as typed. */
  readonly name?: Located<string>;
  /** `mode tap|tun`. */
  readonly mode?: Located<"tap" | "tun">;
  /** `multi_queue`: IFF_MULTI_QUEUE. */
  readonly multiQueue: boolean;
  /** `vnet_hdr`: IFF_VNET_HDR (the virtio-net header on the tap fd). */
  readonly vnetHdr: boolean;
  /** `one_queue`: IFF_ONE_QUEUE (legacy). */
  readonly oneQueue: boolean;
  /** `pi`: keep the packet-information header (IFF_NO_PI cleared). */
  readonly pi: boolean;
  /** `user USER`: the owner of the tap. */
  readonly user?: Located<string>;
  /** `group GROUP`: the group of the tap. */
  readonly group?: Located<string>;
}

/** `ip tuntap show|list`. */
export interface IpTuntapShow extends IpBase {
  readonly kind: "ip-tuntap-show";
}

/** One link attribute of `ip link add|set` (`up`, `master br0`, `mtu 9000`, `vf 0 mac …`). */
export type IpLinkAttr =
  | {
    /** The attribute, canonical (`brd` is `broadcast`, `qlen` is `txqueuelen`). */
    readonly key: "up" | "down" | "nomaster";
    /** From the keyword to its last value. */
    readonly span: Span;
    /** The keyword as typed. */
    readonly word: Located<string>;
  }
  | {
    /** The attribute, canonical (`brd` is `broadcast`, `qlen` is `txqueuelen`). */
    readonly key: "master" | "name" | "alias" | "netns" | "group";
    /** From the keyword to its last value. */
    readonly span: Span;
    /** The keyword as typed. */
    readonly word: Located<string>;
    /** The value as typed. */
    readonly value: Located<string>;
  }
  | {
    /** The attribute, canonical (`brd` is `broadcast`, `qlen` is `txqueuelen`). */
    readonly key: "mtu" | "txqueuelen" | "numtxqueues" | "numrxqueues";
    /** From the keyword to its last value. */
    readonly span: Span;
    /** The keyword as typed. */
    readonly word: Located<string>;
    /** The number (C's base rules: `0x` hex, leading `0` octal). */
    readonly value: Located<number>;
  }
  | {
    /** The attribute, canonical (`brd` is `broadcast`, `qlen` is `txqueuelen`). */
    readonly key: "address" | "broadcast";
    /** From the keyword to its last value. */
    readonly span: Span;
    /** The keyword as typed. */
    readonly word: Located<string>;
    /** Normalised MAC. */
    readonly value: Located<string>;
  }
  | {
    /** The attribute, canonical (`brd` is `broadcast`, `qlen` is `txqueuelen`). */
    readonly key: "promisc" | "multicast" | "allmulticast" | "arp" | "carrier";
    /** From the keyword to its last value. */
    readonly span: Span;
    /** The keyword as typed. */
    readonly word: Located<string>;
    /** `on` is true, `off` false. */
    readonly value: Located<boolean>;
  }
  | {
    /** The attribute, canonical (`brd` is `broadcast`, `qlen` is `txqueuelen`). */
    readonly key: "vf";
    /** From the keyword to its last value. */
    readonly span: Span;
    /** The keyword as typed. */
    readonly word: Located<string>;
    /** The VF number. */
    readonly index: Located<number>;
    /** `mac M`, `vlan N`, `spoofchk on|off`, `trust on|off`, `state auto|enable|disable`, … */
    readonly settings: readonly {
      /** The VF keyword, canonical (`m` is `mac`). */
      readonly key: Located<string>;
      /** The value as typed (a `mac` normalised). */
      readonly value: Located<string>;
    }[];
  };

/** A `key [value]` argument after `type T` (`mode bridge`, `id 10`, `stp_state 1`). */
export interface IpTypeArg {
  /** Where it is in the source. */
  readonly span: Span;
  /** The key as typed. */
  readonly key: Located<string>;
  /** The value as typed. */
  readonly value?: Located<string>;
}

/** `ip link add [link DEV] [name] NAME [attrs…] type T [type args…]`. */
export interface IpLinkAdd extends IpBase {
  readonly kind: "ip-link-add";
  /** The name as typed. */
  readonly name: Located<string>;
  /** `link DEV`: the lower device (macvtap, vlan). */
  readonly link?: Located<string>;
  /** The link type (`bridge`, `veth` …). */
  readonly type: Located<string>;
  /** Link attributes, in order. */
  readonly attrs: readonly IpLinkAttr[];
  /** The arguments after `type T`. */
  readonly typeArgs: readonly IpTypeArg[];
  /** veth: `peer [name] NAME [attrs…]`. */
  readonly peer?: {
    /** Where it is in the source. */
    readonly span: Span;
    /** The name as typed. */
    readonly name: Located<string>;
    /** Link attributes, in order. */
    readonly attrs: readonly IpLinkAttr[];
  };
}

/** `ip link set [dev] NAME ATTR…` (several attributes in one line). */
export interface IpLinkSet extends IpBase {
  readonly kind: "ip-link-set";
  /** The device name as typed. */
  readonly dev: Located<string>;
  /** Link attributes, in order. */
  readonly attrs: readonly IpLinkAttr[];
}

/** `ip link del|delete [dev] NAME [type T]`. */
export interface IpLinkDel extends IpBase {
  readonly kind: "ip-link-del";
  /** The device name as typed. */
  readonly dev: Located<string>;
  /** The link type (`bridge`, `veth` …). */
  readonly type?: Located<string>;
}

/** `ip link [show|list] [dev] [NAME] [type T] [master BR] [up]`. */
export interface IpLinkShow extends IpBase {
  readonly kind: "ip-link-show";
  /** The device name as typed. */
  readonly dev?: Located<string>;
  /** The link type (`bridge`, `veth` …). */
  readonly type?: Located<string>;
  /** `master BR`: only ports of this bridge. */
  readonly master?: Located<string>;
  /** Only links that are up. */
  readonly up: boolean;
}

/** `ip addr [show] [dev NAME] [up]`. */
export interface IpAddrShow extends IpBase {
  readonly kind: "ip-addr-show";
  /** The device name as typed. */
  readonly dev?: Located<string>;
  /** Only links that are up. */
  readonly up: boolean;
}

/** `ip addr add|del ADDR/LEN dev NAME`. */
export interface IpAddrChange extends IpBase {
  readonly kind: "ip-addr-add" | "ip-addr-del";
  /** `10.0.0.1/24` as typed. */
  readonly address: Located<string>;
  /** The device name as typed. */
  readonly dev: Located<string>;
}

/** Every ip command. */
export type IpCommand =
  | IpTuntapCommand
  | IpTuntapShow
  | IpLinkAdd
  | IpLinkSet
  | IpLinkDel
  | IpLinkShow
  | IpAddrShow
  | IpAddrChange;

// ---------------------------------------------------------------------------------------------
// ovs-vsctl

/** A command option such as `--may-exist` or a global option such as `--timeout=10`. */
export interface OvsOption {
  /** Where it is in the source. */
  readonly span: Span;
  /** Without dashes and value: `may-exist`, `timeout`. */
  readonly name: Located<string>;
  /** The value as typed. */
  readonly value?: Located<string>;
}

/**
 * One ovs-vsctl command; several are chained with `--` in one invocation. `settings` hold
 * `column[:key]=value` words as props (key `options:vhost-server-path`); see
 * {@link ovsColumnKey} in ovs.ts to split them.
 */
export type OvsSubcommand =
  & { readonly span: Span; readonly verb: Located<string>; readonly options: readonly OvsOption[] }
  & (
    | {
      readonly op: "add-br";
      /** `--may-exist`: no error if it exists already. */
      readonly mayExist: boolean;
      /** The bridge name. */
      readonly bridge: Located<string>;
      /** Fake bridge: `add-br BR PARENT VLAN`. */
      readonly parent?: Located<string>;
      /** The VLAN of a fake bridge. */
      readonly vlan?: Located<number>;
    }
    | { readonly op: "del-br"; readonly ifExists: boolean; readonly bridge: Located<string> }
    | {
      readonly op: "add-port";
      /** `--may-exist`: no error if it exists already. */
      readonly mayExist: boolean;
      /** The bridge name. */
      readonly bridge: Located<string>;
      /** The port name. */
      readonly port: Located<string>;
      /** Port columns given inline: `add-port br0 p0 tag=10`. */
      readonly settings: PropList;
    }
    | {
      readonly op: "del-port";
      /** `--if-exists`: no error if it does not exist. */
      readonly ifExists: boolean;
      /** The bridge name. */
      readonly bridge?: Located<string>;
      /** The port name. */
      readonly port: Located<string>;
    }
    | {
      readonly op: "set";
      /** Canonical table name (`Interface`, `Open_vSwitch`, `Bridge` …). */
      readonly table: Located<string>;
      /** `.` for the single Open_vSwitch record. */
      readonly record: Located<string>;
      /** The `column[:key]=value` settings. */
      readonly settings: PropList;
    }
    | {
      readonly op: "get" | "list" | "clear" | "remove";
      /** The table name. */
      readonly table: Located<string>;
      /** The record name. */
      readonly record?: Located<string>;
      /** The columns named. */
      readonly columns: readonly Located<string>[];
    }
    | { readonly op: "show" | "list-br" | "init" }
    | { readonly op: "list-ports" | "br-exists"; readonly bridge: Located<string> }
  );

/** `ovs-vsctl [global options] CMD [ARGS] [-- CMD [ARGS]]…`. */
export interface OvsVsctlCommand extends CommandBase {
  readonly kind: "ovs-vsctl";
  /** The options as typed. */
  readonly options: readonly OvsOption[];
  /** `--no-wait`. */
  readonly noWait: boolean;
  /** The commands chained with `--`, in order. */
  readonly commands: readonly OvsSubcommand[];
}

// ---------------------------------------------------------------------------------------------
// dpdk-testpmd

/** One EAL or application option as typed (`-l 0-3`, `--socket-mem=1024`, `--forward-mode=io`). */
export interface TestpmdOption {
  /** Where it is in the source. */
  readonly span: Span;
  /** Canonical long name without dashes (`lcores` for `-l`, `forward-mode`, `interactive`). */
  readonly name: string;
  /** The option word as typed (up to `=` if the value is glued). */
  readonly flag: Located<string>;
  /** The value as typed. */
  readonly value?: Located<string>;
  /** True when the option does not change the datapath the lab simulates (`-n`, `--huge-dir`). */
  readonly ignored: boolean;
}

/** A `--vdev` argument: `net_vhost0,iface=/tmp/sock0,queues=1`. */
export interface Vdev {
  /** Where it is in the source. */
  readonly span: Span;
  /** The device name (`net_vhost0`, `virtio_user0`). */
  readonly name: Located<string>;
  /** The name without its instance number: `net_vhost`, `virtio_user`. */
  readonly driver: string;
  /** The devargs after the name. */
  readonly props: PropList;
}

/** `dpdk-testpmd [EAL options] [-- application options]`. */
export interface TestpmdCommand extends CommandBase {
  readonly kind: "testpmd";
  /** Every EAL option before `--`, in order. */
  readonly eal: readonly TestpmdOption[];
  /** Every `--vdev`, in order. */
  readonly vdevs: readonly Vdev[];
  /** The `--` between EAL and application options. */
  readonly separator?: Located<string>;
  /** Every testpmd option after `--`, in order. */
  readonly app: readonly TestpmdOption[];
  /** `-l`/`--lcores`/`-c` as typed (core list or mask). */
  readonly lcores?: Located<string>;
  /** `-i`/`--interactive` */
  readonly interactive: boolean;
  /** `-a`/`--auto-start` (after `--`) */
  readonly autoStart: boolean;
  /** `--forward-mode` as typed. */
  readonly forwardMode?: Located<string>;
  /** `--nb-cores`: forwarding cores. */
  readonly nbCores?: Located<number>;
  /** `--rxq`: RX queues per port. */
  readonly rxq?: Located<number>;
  /** `--txq`: TX queues per port. */
  readonly txq?: Located<number>;
  /** `--rxd`: RX ring size. */
  readonly rxd?: Located<number>;
  /** `--txd`: TX ring size. */
  readonly txd?: Located<number>;
  /** `--burst`: packets per burst. */
  readonly burst?: Located<number>;
}

// ---------------------------------------------------------------------------------------------
// QEMU

/** One QEMU option in command-line order. */
export interface QemuOption {
  /** From the option word to the end of its argument. */
  readonly span: Span;
  /** Canonical name without dashes (`netdev`; `-M` becomes `machine`). */
  readonly name: string;
  /** The option word as typed (`-netdev`, `--netdev`, `-M`). Absent for a bare disk image. */
  readonly flag?: Located<string>;
  /** The argument word as typed. */
  readonly arg?: Located<string>;
  /**
   * The argument as a QEMU comma list, for options that take one (`-netdev`, `-device`,
   * `-chardev`, `-object`, `-machine`, `-numa`, `-nic`, `-net`, `-name`, `-m`, `-smp`, `-accel`,
   * `-cpu`, `-overcommit`). The first item written without `=` is stored under the option's
   * implied key and marked `implicit`.
   */
  readonly props?: PropList;
  /** True for options that do not matter to I/O (`-vnc`, `-serial`, `-drive` …): warned as ignored. */
  readonly ignored: boolean;
}

/** `qemu-system-x86_64` (also `qemu-system-aarch64`, `qemu-kvm`, `qemu`) and its options. */
export interface QemuCommand extends CommandBase {
  readonly kind: "qemu";
  /** The endpoint it applies to. */
  readonly target: "x86_64" | "aarch64";
  /** Every option, in order. */
  readonly options: readonly QemuOption[];
  /** Every `-netdev`. */
  readonly netdevs: readonly QemuOption[];
  /** Every `-device`. */
  readonly devices: readonly QemuOption[];
  /** Every `-chardev`. */
  readonly chardevs: readonly QemuOption[];
  /** Every `-object`. */
  readonly objects: readonly QemuOption[];
  /** Every `-numa`. */
  readonly numa: readonly QemuOption[];
  /** `-nic` and legacy `-net`. */
  readonly nics: readonly QemuOption[];
}

// ---------------------------------------------------------------------------------------------
// Lab statements

/**
 * An endpoint or dotted name as a user writes it: `vm1.eth0`, `vm1.net0`, `tap0`, `wire`,
 * `t1.per_packet.vmexits`. `parts` are the dot-separated pieces.
 */
export interface DottedName {
  /** Where it is in the source. */
  readonly span: Span;
  /** The text as typed. */
  readonly text: string;
  /** The dot-separated parts, each located. */
  readonly parts: readonly Located<string>[];
}

/**
 * A `key=value` quantity of a lab statement, parsed by lang/quantity.ts; the span is the
 * value's (`64` in `size=64`), the key's span is in the statement's `props`.
 */
export type LabQuantity = Located<Quantity>;

/** `host cpu ghz=3.0 cores=16`. */
export interface HostCpu extends CommandBase {
  readonly kind: "host-cpu";
  /** Every `key=value` word, in order, with spans. */
  readonly props: PropList;
  /** A count (GHz). */
  readonly ghz?: LabQuantity;
  /** A whole count. */
  readonly cores?: LabQuantity;
}

/** `host cmdline "intel_iommu=on iommu=pt"`: `params` split at spaces with exact spans. */
export interface HostCmdline extends CommandBase {
  readonly kind: "host-cmdline";
  /** The command line as written. */
  readonly cmdline: Located<string>;
  /** The kernel parameters, split at blanks. */
  readonly params: PropList;
}

/** `host nic NAME model=… pci=… speed=… [numvfs=…] [mac=…] [mtu=…]`. */
export interface HostNic extends CommandBase {
  readonly kind: "host-nic";
  /** The name as typed. */
  readonly name: Located<string>;
  /** Every `key=value` word, in order, with spans. */
  readonly props: PropList;
  /** The NIC model (`mlx5` …). */
  readonly model?: Located<string>;
  /** The PCI address. */
  readonly pci?: Located<string>;
  /** A MAC address, normalised. */
  readonly mac?: Located<string>;
  /** A bit rate. */
  readonly speed?: LabQuantity;
  /** A whole count. */
  readonly numvfs?: LabQuantity;
  /** A whole count. */
  readonly mtu?: LabQuantity;
}

/** `traffic NAME from EP to EP size= (count=|duration=) [rate=] [burst=] [flows=] [proto=]`. */
export interface Traffic extends CommandBase {
  readonly kind: "traffic";
  /** The name as typed. */
  readonly name: Located<string>;
  /** Where the packets start. */
  readonly from: DottedName;
  /** Where the packets go. */
  readonly to: DottedName;
  /** Every `key=value` word, in order, with spans. */
  readonly props: PropList;
  /** Frame size (bytes; a plain number is bytes). */
  readonly size?: LabQuantity;
  /** Number of packets (a whole count). */
  readonly count?: LabQuantity;
  /** How long to send (a time). */
  readonly duration?: LabQuantity;
  /** A packet rate, a bit rate, or `line`. */
  readonly rate?: LabQuantity;
  /** Packets per burst (a whole count). */
  readonly burst?: LabQuantity;
  /** Number of distinct flows (a whole count). */
  readonly flows?: LabQuantity;
  /** The protocol. */
  readonly proto?: Located<string>;
}

/** `ping EP EP [count=] [size=] [interval=]`. */
export interface Ping extends CommandBase {
  readonly kind: "ping";
  /** Where the packets start. */
  readonly from: DottedName;
  /** Where the packets go. */
  readonly to: DottedName;
  /** Every `key=value` word, in order, with spans. */
  readonly props: PropList;
  /** A whole count. */
  readonly count?: LabQuantity;
  /** Bytes. */
  readonly size?: LabQuantity;
  /** A time. */
  readonly interval?: LabQuantity;
}

/** `run [DURATION] [--json] [--trace=off|sample|full]`. */
export interface Run extends CommandBase {
  readonly kind: "run";
  /** A time. */
  readonly duration?: LabQuantity;
  /** `--json` / `-j`: print JSON. */
  readonly json: boolean;
  /** `--trace=`: how much to record. */
  readonly trace?: Located<"off" | "sample" | "full">;
}

/** `trace T packet N [--json]`. */
export interface Trace extends CommandBase {
  readonly kind: "trace";
  /** The flow name. */
  readonly flow: Located<string>;
  /** Which packet of the flow (from 1). */
  readonly packet: Located<number>;
  /** `--json` / `-j`: print JSON. */
  readonly json: boolean;
}

/** What `show` shows. */
export type ShowSubject =
  | { readonly kind: "topology" | "graph" | "log" | "modules" | "flows" }
  | { readonly kind: "stats" | "iommu"; readonly target?: DottedName }
  | { readonly kind: "vhost" | "features"; readonly target: DottedName }
  | { readonly kind: "vq"; readonly target: DottedName; readonly queue: Located<string> };

/** `show topology|graph|stats [T]|vq EP Q|vhost EP|features EP|iommu [VM]|log|modules|flows [--json]`. */
export interface Show extends CommandBase {
  readonly kind: "show";
  /** The subject word as typed. */
  readonly word: Located<string>;
  /** What to show and its operands. */
  readonly subject: ShowSubject;
  /** `--json` / `-j`: print JSON. */
  readonly json: boolean;
}

/** Comparison operators of `expect`. */
export type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

/** `expect LHS OP RHS` (`expect t1.per_packet.vmexits == 0`). */
export interface Expect extends CommandBase {
  readonly kind: "expect";
  /** The metric: `FLOW.metric` or a dotted path. */
  readonly lhs: DottedName;
  readonly op: Located<CompareOp>;
  /** A quantity or a word, as typed. */
  readonly rhs: Located<string>;
  /** The right-hand side read as a quantity, when it is one (`100000`, `20us`, `1Mpps`). */
  readonly rhsQuantity?: Quantity;
}

/** `capture IFACE to FILE [count=N] [snaplen=N]`. */
export interface Capture extends CommandBase {
  readonly kind: "capture";
  /** The interface. */
  readonly iface: DottedName;
  /** The file to write. */
  readonly file: Located<string>;
  /** Every `key=value` word, in order, with spans. */
  readonly props: PropList;
  /** Packets to capture (a whole count). */
  readonly count?: LabQuantity;
  /** Bytes kept per packet. */
  readonly snaplen?: LabQuantity;
}

/** `export graph|trace to FILE [format=…]`. */
export interface Export extends CommandBase {
  readonly kind: "export";
  /** What to export. */
  readonly what: Located<"graph" | "trace">;
  /** The file to write. */
  readonly file: Located<string>;
  /** Every `key=value` word, in order, with spans. */
  readonly props: PropList;
  /** `dot`, `mermaid`, `json` … (otherwise the file extension decides). */
  readonly format?: Located<string>;
}

/** How `inject bad-chain` corrupts a descriptor chain. */
export type BadChainVariant =
  | "cycle"
  | "out-of-range"
  | "outside-memory"
  | "write-only-tx"
  | "oversize";

/** A fault to inject. Every fault also accepts `at=TIME` in `props`. */
export type InjectFault =
  | { readonly kind: "link-down" | "link-up"; readonly iface: DottedName }
  | { readonly kind: "reset"; readonly target: DottedName }
  | { readonly kind: "iotlb-invalidate"; readonly target: DottedName }
  | {
    readonly kind: "bad-chain";
    /** The endpoint it applies to. */
    readonly target: DottedName;
    /** The queue as typed (`tx0`, `rx1`). */
    readonly queue: Located<string>;
    /** How the chain is corrupted. */
    readonly variant: Located<BadChainVariant>;
  }
  | { readonly kind: "disconnect" | "reconnect"; readonly socket: Located<string> }
  | { readonly kind: "unmap"; readonly vm: Located<string> };

/** `inject FAULT ARGS… [key=value…]`. */
export interface Inject extends CommandBase {
  readonly kind: "inject";
  /** The fault word as typed. */
  readonly word: Located<string>;
  /** The fault and its operands. */
  readonly fault: InjectFault;
  /** `at=`, and per fault `iova=`/`size=` (iotlb-invalidate, unmap). */
  readonly props: PropList;
  /** When to inject (a time; absent: now). */
  readonly at?: LabQuantity;
  /** An IO virtual address (a count, usually hex). */
  readonly iova?: LabQuantity;
  /** Bytes. */
  readonly size?: LabQuantity;
}

/** `set cost KEY=VALUE…` | `set seed N` | `set profile NAME`. */
export type SetStatement =
  & CommandBase
  & { readonly kind: "set"; readonly word: Located<string> }
  & (
    | {
      /** What is set. */
      readonly scope: "cost";
      /** Every `key=value` word, in order, with spans. */
      readonly props: PropList;
      /** Every `KEY=VALUE`, the value parsed as a quantity of any kind. */
      readonly costs: readonly { readonly key: Located<string>; readonly value: LabQuantity }[];
    }
    | { readonly scope: "seed"; readonly value: Located<number> }
    | { readonly scope: "profile"; readonly value: Located<string> }
  );

/** `help [TOPIC…]`. */
export interface Help extends CommandBase {
  readonly kind: "help";
  /** The words after `help`. */
  readonly topic: readonly Located<string>[];
}

/** Every lab statement. */
export type LabStatement =
  | HostCpu
  | HostCmdline
  | HostNic
  | Traffic
  | Ping
  | Run
  | Trace
  | Show
  | Expect
  | Capture
  | Export
  | Inject
  | SetStatement
  | Help;

/**
 * A real tool asked for its usage (`vdpa dev help`, `ip link help`, `qemu-system-x86_64 -h`,
 * `modprobe --help`): the lab prints the tool's usage text for `topic`.
 */
export interface UsageCommand extends CommandBase {
  readonly kind: "usage";
  /** `vdpa`, `vdpa dev`, `ip link`, `qemu`, `testpmd`, `ovs-vsctl`, `modprobe` … */
  readonly topic: string;
  /** `version` for `-V`/`--version` (the tool prints its version line), else `usage`. */
  readonly what: "usage" | "version";
}

/** The signals the lab's processes exit on (kill -TERM, -KILL, -INT, -HUP). */
export type KillSignal = "SIGTERM" | "SIGKILL" | "SIGINT" | "SIGHUP";

/** `kill [-SIGNAL] PID…`. */
export interface KillCommand extends CommandBase {
  readonly kind: "kill";
  /** The signal (SIGTERM when none is given, located at the program word). */
  readonly signal: Located<KillSignal>;
  readonly pids: readonly Located<number>[];
}

/** A devlink port handle: `pci/0000:3b:00.0/32768`, or the port's netdev name. */
export type DevlinkPortHandle =
  | { readonly kind: "index"; readonly dev: Located<string>; readonly index: Located<number> }
  | { readonly kind: "netdev"; readonly netdev: Located<string> };

/** `devlink dev show [DEV]`. */
export interface DevlinkDevShowCommand extends CommandBase {
  readonly kind: "devlink-dev-show";
  readonly dev?: Located<string>;
}

/** `devlink dev eswitch show DEV`. */
export interface DevlinkEswitchShowCommand extends CommandBase {
  readonly kind: "devlink-eswitch-show";
  readonly dev: Located<string>;
}

/** `devlink dev eswitch set DEV mode legacy|switchdev`. */
export interface DevlinkEswitchSetCommand extends CommandBase {
  readonly kind: "devlink-eswitch-set";
  readonly dev: Located<string>;
  readonly mode: Located<"legacy" | "switchdev">;
}

/** `devlink port show [DEV/PORT_INDEX | NETDEV]`. */
export interface DevlinkPortShowCommand extends CommandBase {
  readonly kind: "devlink-port-show";
  readonly port?: DevlinkPortHandle;
}

/** `devlink port add DEV flavour FLAVOUR pfnum N [sfnum N] [controller N]`. */
export interface DevlinkPortAddCommand extends CommandBase {
  readonly kind: "devlink-port-add";
  readonly dev: Located<string>;
  readonly flavour: Located<string>;
  readonly pfnum?: Located<number>;
  readonly sfnum?: Located<number>;
  readonly controller?: Located<number>;
}

/** `devlink port del DEV/PORT_INDEX | NETDEV`. */
export interface DevlinkPortDelCommand extends CommandBase {
  readonly kind: "devlink-port-del";
  readonly port: DevlinkPortHandle;
}

/** `devlink port function set DEV/PORT_INDEX [hw_addr MAC] [state active|inactive]`. */
export interface DevlinkPortFunctionSetCommand extends CommandBase {
  readonly kind: "devlink-port-function-set";
  readonly port: DevlinkPortHandle;
  readonly hwAddr?: Located<string>;
  readonly state?: Located<"active" | "inactive">;
}

/** The devlink subset: mlx5 e-switch mode and subfunction ports. */
export type DevlinkCommand =
  | DevlinkDevShowCommand
  | DevlinkEswitchShowCommand
  | DevlinkEswitchSetCommand
  | DevlinkPortShowCommand
  | DevlinkPortAddCommand
  | DevlinkPortDelCommand
  | DevlinkPortFunctionSetCommand;

/** `pkill [-SIGNAL] [-f] PATTERN`. */
export interface PkillCommand extends CommandBase {
  readonly kind: "pkill";
  readonly signal: Located<KillSignal>;
  /** `-f`: match the whole command line, not just the program name. */
  readonly full: boolean;
  /** An extended regular expression. */
  readonly pattern: Located<string>;
}

/** Every command node, discriminated by `kind`. */
export type Command =
  | ModprobeCommand
  | RmmodCommand
  | LsmodCommand
  | VdpaCommand
  | EchoCommand
  | CatCommand
  | LsCommand
  | IpCommand
  | OvsVsctlCommand
  | TestpmdCommand
  | QemuCommand
  | KillCommand
  | PkillCommand
  | DevlinkCommand
  | LabStatement
  | UsageCommand;

/** The `kind` of every command node. */
export type CommandKind = Command["kind"];
