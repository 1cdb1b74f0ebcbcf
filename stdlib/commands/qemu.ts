/**
 * `qemu-system-x86_64 …` (also `qemu-kvm`, `qemu`): types and resolves the command line
 * (stdlib/qemu_config.ts, every mistake QEMU would refuse reported at its property), maps it
 * onto a runtime VM spec and starts the VM — RAM, vCPUs, netdev backends, devices, and the
 * guest's driver probe — at the current virtual time, in `run` and `check` mode alike (a
 * `check` builds the whole topology). A start that fails is reported at the property that
 * caused it, with QEMU's own message in a note.
 *
 * @example
 * ```ts
 * import { Session } from "../session.ts";
 * const out: string[] = [];
 * const s = new Session({ mode: "check", stdout: (t) => out.push(t) });
 * const r = await s.runText(
 *   "qemu-system-x86_64 -name vm1 -m 256M\nqemu-system-x86_64 -name vm1 -m 256M\n",
 *   "lab.vdpa",
 * );
 * if (r.status !== "failed") throw new Error("a second vm1 cannot start");
 * if (!s.diagnostics.items.some((d) => d.code === "E0401")) throw new Error("E0401");
 * ```
 *
 * @module
 */

import { error, warning } from "../../lang/diagnostic.ts";
import type { QemuCommand } from "../../lang/commands/mod.ts";
import { describeVmError, type VmError } from "../../runtime/qemu/vm_spec.ts";
import { VIRTIO_NET_DRIVER_FEATURES } from "../catalog/kernel_modules.ts";
import type { Executor, ExecutorTable } from "../exec.ts";
import { resolveQemu } from "../qemu_config.ts";
import { vmSpecOf } from "../vm_spec.ts";
import { ensureCostProfile } from "./run.ts";

/** The Linux guest's virtio_net feature table as a bit set. */
const GUEST_NET_FEATURES: bigint = VIRTIO_NET_DRIVER_FEATURES.reduce(
  (m, b) => m | (1n << BigInt(b)),
  0n,
);

/** The E04xx code of each way a VM start fails. */
const CODES: { readonly [K in VmError["kind"]]: string } = {
  "name-in-use": "E0401",
  "tap-open": "E0402",
  "vhost-open": "E0403",
  "queues-exceed": "E0404",
  "backend-unavailable": "E0405",
  "device-unavailable": "E0405",
  memory: "E0406",
  "too-many-vms": "E0407",
  backend: "E0410",
};

const LABELS: { readonly [K in VmError["kind"]]: string } = {
  "name-in-use": "this name is taken",
  "tap-open": "TUNSETIFF fails for this tap",
  "vhost-open": "vhost-net cannot be opened",
  "queues-exceed": "more queue pairs than the backend has",
  "backend-unavailable": "no runtime model for this netdev type",
  "device-unavailable": "no runtime model for this device",
  memory: "guest RAM cannot be laid out",
  "too-many-vms": "one VM too many for the lab",
  backend: "the backend refuses this",
};

const qemu: Executor<QemuCommand> = (cmd, cx) => {
  const config = resolveQemu(cmd, cx.diagnostics);
  if (config === undefined) return;
  ensureCostProfile(cx.lab);
  const map = vmSpecOf(config, GUEST_NET_FEATURES);
  const before = new Set(cx.lab.host.net.list().map((n) => n.name));
  const r = cx.lab.startVm(map.spec);
  if (!r.ok) {
    const d = describeVmError(r.error);
    const prior = r.error.kind === "name-in-use"
      ? cx.provenance.get(`vm:${r.error.name}`)
      : undefined;
    // QEMU names the option as it was written: put the script's text in its message.
    let qemuText = d.qemu;
    const at = r.error.at;
    if (d.option !== undefined && "netdev" in at) {
      const span = map.locate({ netdev: at.netdev });
      const text = cx.sources.get(span.source)?.text.slice(span.start, span.end)
        .replace(/\\\n\s*/g, "").trim();
      if (text !== undefined && text.startsWith("-netdev")) {
        qemuText = qemuText.replace(d.option, text);
      }
    }
    cx.diagnostics.push(error(CODES[r.error.kind], d.message, {
      span: map.locate(r.error.at),
      label: LABELS[r.error.kind],
      ...(prior ? { secondary: [{ span: prior.span, message: prior.message }] } : {}),
      notes: qemuText === "" ? [] : [`QEMU says: ${qemuText}`],
      ...(d.help ? { help: [d.help] } : {}),
    }));
    return;
  }
  const vm = r.value;
  cx.provenance.set(`vm:${vm.name}`, cmd.span, `\`${vm.name}\` was started here`);
  inheritedFds(cx, map, before);
  for (const g of vm.guestNics) {
    if (g.probeError === undefined && g.dev.startError === undefined) continue;
    const i = vm.nics.indexOf(g.dev);
    const why = g.probeError ?? g.dev.startError ?? "";
    cx.diagnostics.push(warning("W0401", `the guest's ${g.ifname} does not come up: ${why}`, {
      span: map.locate({ device: vm.spec.devices.findIndex((d) => d === g.dev.spec) }),
      label: `virtio-net device ${i}`,
      notes: [`guest dmesg: virtio_net: probe of virtio${i} failed`],
    }));
  }
};

/**
 * `fd=`/`fds=`/`vhostfd(s)=` name files a management tool opened for QEMU; the lab opened
 * them in its stead (runtime/net/tap_open.ts, libvirt's way): say which tap or device that
 * is, since no script and no bridge touched it.
 */
function inheritedFds(
  cx: Parameters<Executor<QemuCommand>>[1],
  map: ReturnType<typeof vmSpecOf>,
  before: ReadonlySet<string>,
): void {
  // The taps this start created, in allocation order (lowest free vnetN first).
  const vnetIndex = (name: string) => Number(name.slice("vnet".length));
  const made = cx.lab.host.net.list()
    .filter((n) => n.kind === "tap" && !before.has(n.name) && /^vnet\d+$/.test(n.name))
    .map((n) => n.name)
    .sort((a, b) => vnetIndex(a) - vnetIndex(b));
  let k = 0;
  map.spec.netdevs.forEach((nd, i) => {
    if (nd.kind === "vhost-vdpa" && nd.vhostfd !== undefined) {
      cx.diagnostics.push(
        warning("W0402", `QEMU inherits an open file: the lab opened it as libvirt would`, {
          span: map.locate({ netdev: i, prop: "vhostfd" }),
          label: `\`${nd.vhostdev}\``,
          notes: [
            `opened ${nd.vhostdev} for vhostfd ${nd.vhostfd} (libvirt opens the interface's <source dev=…/>; the lab takes QEMU's default device)`,
          ],
          help: [
            "to pick another device, write `vhostdev=/dev/vhost-vdpa-N` instead of `vhostfd=`",
          ],
        }),
      );
      return;
    }
    if (nd.kind !== "tap" || nd.fd === undefined) return;
    const ifname = made[k++];
    if (ifname === undefined) return;
    const fds = nd.fd.split(":");
    const opened = [
      `/dev/net/tun as \`${ifname}\` (IFF_TAP | IFF_VNET_HDR${
        fds.length > 1 ? " | IFF_MULTI_QUEUE" : ""
      }, up, in no bridge) for fd${fds.length > 1 ? "s" : ""} ${fds.join(", ")}`,
    ];
    if (nd.vhostfd !== undefined) {
      const v = nd.vhostfd.split(":");
      opened.push(`/dev/vhost-net for vhostfd${v.length > 1 ? "s" : ""} ${v.join(", ")}`);
    }
    cx.diagnostics.push(
      warning("W0402", `QEMU inherits open files: the lab opened them as libvirt would`, {
        span: fdSpan(map, i),
        label: `\`${ifname}\``,
        notes: [`opened ${opened.join("; and ")}`],
        help: [
          `put it in a bridge if frames should go somewhere: \`ip link set ${ifname} master br0\``,
        ],
      }),
    );
  });
}

/** The `fd=` or `fds=` property of netdev `i` (locate falls back on the whole netdev). */
function fdSpan(map: ReturnType<typeof vmSpecOf>, i: number) {
  const whole = map.locate({ netdev: i });
  const fd = map.locate({ netdev: i, prop: "fd" });
  return fd.start !== whole.start || fd.end !== whole.end
    ? fd
    : map.locate({ netdev: i, prop: "fds" });
}

/** The executors of this file. */
export const QEMU_EXECUTORS: ExecutorTable = { qemu };
