/**
 * `vdpa` (iproute2 6.12 vdpa/vdpa.c) output from the netlink replies of
 * `runtime/host/vdpa_netlink.ts`: text, `-j` JSON and `-jp` pretty JSON, produced by the
 * same print sequence as the C tool — so text keeps its trailing spaces
 * (`vdpasim_net: `, `mtu 1500 `), JSON keeps iproute2's keys (`"link "` and
 * `"link_announce "` with their stray space), feature names follow the tool's tables
 * (unknown bits print as `bit_N`, numbers in JSON), and a failed show still prints its
 * empty JSON section (`{"dev":{}}`) before the error on stderr.
 *
 * Pairing: iproute2 6.12 against Linux 6.12 (`dev set`, `device_features`, device features
 * reported by the kernel in config replies and not printed by the tool).
 *
 * @example
 * ```ts
 * import { ok } from "../../runtime/result.ts";
 * import { vdpaDevShow } from "./vdpa.ts";
 * const out = vdpaDevShow(ok([{ name: "vdpa0", mgmtdevName: "vdpasim_net", deviceId: 1, vendorId: 0,
 *   maxVqs: 3, maxVqSize: 256, minVqSize: 1 }]), {});
 * if (out.stdout !== "vdpa0: type network mgmtdev vdpasim_net vendor_id 0 max_vqs 3 max_vq_size 256\n") {
 *   throw new Error(out.stdout);
 * }
 * ```
 *
 * @module
 */

import type { Result } from "../../runtime/result.ts";
import { formatHostError, type HostError } from "../../runtime/host/host_error.ts";
import { formatMac } from "../../runtime/host/mac.ts";
import type {
  ConfigAttrs,
  DevAttrs,
  MgmtdevAttrs,
  VstatsAttrs,
} from "../../runtime/host/vdpa_netlink.ts";
import { Printer, type ToolOutput } from "./iproute2_print.ts";

/** `-j` and `-p`. */
export interface VdpaOutputOptions {
  readonly json?: boolean;
  readonly pretty?: boolean;
}

const VIRTIO_ID_NET = 1;
const VIRTIO_TRANSPORT_F_START = 28;
const VIRTIO_TRANSPORT_F_END = 42;

/** net_feature_strs. */
const NET_FEATURES: Readonly<Record<number, string>> = {
  0: "CSUM",
  1: "GUEST_CSUM",
  2: "CTRL_GUEST_OFFLOADS",
  3: "MTU",
  5: "MAC",
  7: "GUEST_TSO4",
  8: "GUEST_TSO6",
  9: "GUEST_ECN",
  10: "GUEST_UFO",
  11: "HOST_TSO4",
  12: "HOST_TSO6",
  13: "HOST_ECN",
  14: "HOST_UFO",
  15: "MRG_RXBUF",
  16: "STATUS",
  17: "CTRL_VQ",
  18: "CTRL_RX",
  19: "CTRL_VLAN",
  20: "CTRL_RX_EXTRA",
  21: "GUEST_ANNOUNCE",
  22: "MQ",
  23: "CTRL_MAC_ADDR",
  24: "NOTIFY_ON_EMPTY",
  27: "ANY_LAYOUT",
  57: "HASH_REPORT",
  60: "RSS",
  61: "RSC_EXT",
  62: "STANDBY",
  63: "SPEED_DUPLEX",
};

/** ext_feature_strs (transport bits 28…42). */
const TRANSPORT_FEATURES: Readonly<Record<number, string>> = {
  28: "RING_INDIRECT_DESC",
  29: "RING_EVENT_IDX",
  32: "VERSION_1",
  33: "ACCESS_PLATFORM",
  34: "RING_PACKED",
  35: "IN_ORDER",
  36: "ORDER_PLATFORM",
  37: "SR_IOV",
  38: "NOTIFICATION_DATA",
};

/** The name iproute2 gives a feature bit of a device class, or undefined (`bit_N`). */
export function vdpaFeatureName(bit: number, deviceId: number): string | undefined {
  if (bit >= VIRTIO_TRANSPORT_F_START && bit <= VIRTIO_TRANSPORT_F_END) {
    return TRANSPORT_FEATURES[bit];
  }
  return deviceId === VIRTIO_ID_NET ? NET_FEATURES[bit] : undefined;
}

function printFeatures(p: Printer, features: bigint, mgmtdev: boolean, deviceId: number): void {
  arrayStart(p, mgmtdev ? "dev_features" : "negotiated_features");
  for (let i = 0; i < 64; i++) {
    if ((features & (1n << BigInt(i))) === 0n) continue;
    const s = vdpaFeatureName(i, deviceId);
    if (s === undefined) p.number("any", null, " bit_%d", i);
    else p.string("any", null, " %s", s);
  }
  arrayEnd(p);
}

/** pr_out_array_start. */
function arrayStart(p: Printer, name: string): void {
  if (!p.json) {
    p.nl();
    p.incIndent();
    p.printIndent();
  }
  p.openArray("any", name);
}

/** pr_out_array_end. */
function arrayEnd(p: Printer): void {
  p.closeArray("json", null);
  if (!p.json) p.decIndent();
}

function handleStart(p: Printer, handle: string): void {
  if (p.json) p.openObject(handle);
  else p.text(`${handle}: `);
}

function handleEnd(p: Printer): void {
  if (p.json) p.closeObject();
  else p.nl();
}

function show<T>(
  r: Result<T, HostError>,
  o: VdpaOutputOptions,
  section: string,
  body: (p: Printer, value: T) => void,
): ToolOutput {
  // vdpa_init fails before any JSON is started
  if (!r.ok && r.error.kind === "vdpa-netlink-unavailable") {
    return { stdout: "", stderr: formatHostError(r.error) + "\n", status: 1 };
  }
  const p = new Printer({ json: o.json === true, pretty: o.pretty === true });
  p.openObject(null);
  p.openObject(section);
  if (r.ok) body(p, r.value);
  p.closeObject();
  p.closeObject();
  return r.ok
    ? { stdout: p.finish(), stderr: "", status: 0 }
    : { stdout: p.finish(), stderr: formatHostError(r.error) + "\n", status: 1 };
}

function mgmtdevName(bus: string | undefined, dev: string): string {
  return bus !== undefined ? `${bus}/${dev}` : dev;
}

/** `vdpa mgmtdev show [MGMTDEV]`. */
export function vdpaMgmtdevShow(
  r: Result<readonly MgmtdevAttrs[], HostError>,
  o: VdpaOutputOptions,
): ToolOutput {
  return show(r, o, "mgmtdev", (p, list) => {
    for (const m of list) {
      handleStart(p, mgmtdevName(m.busName, m.devName));
      arrayStart(p, "supported_classes");
      for (let i = 1; i < 64; i++) {
        if ((m.supportedClasses & (1n << BigInt(i))) === 0n) continue;
        p.string("any", null, " %s", i === 1 ? "net" : i === 2 ? "block" : "< unknown class >");
      }
      arrayEnd(p);
      p.nl();
      p.number("any", "max_supported_vqs", "  max_supported_vqs %d", m.maxSupportedVqs);
      const net = (m.supportedClasses & (1n << 1n)) !== 0n;
      printFeatures(p, m.supportedFeatures, true, net ? VIRTIO_ID_NET : 0);
      handleEnd(p);
    }
  });
}

function deviceTypeName(id: number): string {
  return id === 1 ? "network" : id === 2 ? "block" : "<unknown type>";
}

/** `vdpa dev show [DEV]`. */
export function vdpaDevShow(
  r: Result<readonly DevAttrs[], HostError>,
  o: VdpaOutputOptions,
): ToolOutput {
  return show(r, o, "dev", (p, list) => {
    for (const d of list) {
      handleStart(p, d.name);
      p.string("any", "type", "type %s", deviceTypeName(d.deviceId));
      p.string("any", "mgmtdev", " mgmtdev %s", mgmtdevName(d.busName, d.mgmtdevName));
      p.number("any", "vendor_id", " vendor_id %u", d.vendorId);
      p.number("any", "max_vqs", " max_vqs %u", d.maxVqs);
      p.number("any", "max_vq_size", " max_vq_size %u", d.maxVqSize);
      handleEnd(p);
    }
  });
}

/** `vdpa dev config show [DEV]`. */
export function vdpaDevConfigShow(
  r: Result<readonly ConfigAttrs[], HostError>,
  o: VdpaOutputOptions,
): ToolOutput {
  return show(r, o, "config", (p, list) => {
    for (const c of list) {
      handleStart(p, c.name);
      if (c.deviceId === VIRTIO_ID_NET) {
        if (c.mac !== undefined) p.string("any", "mac", "mac %s ", formatMac(c.mac));
        if (c.status !== undefined) {
          // vdpa.c really uses "link " and "link_announce " as JSON keys
          p.string("any", "link ", "link %s ", (c.status & 1) !== 0 ? "up" : "down");
          p.bool("any", "link_announce ", "link_announce %s ", (c.status & 2) !== 0);
        }
        if (c.maxVqp !== undefined) p.number("any", "max_vq_pairs", "max_vq_pairs %d ", c.maxVqp);
        if (c.mtu !== undefined) p.number("any", "mtu", "mtu %d ", c.mtu);
        if (c.negotiatedFeatures !== undefined) {
          printFeatures(p, c.negotiatedFeatures, false, c.deviceId);
        }
      }
      handleEnd(p);
    }
  });
}

/** `vdpa dev vstats show DEV qidx N`. */
export function vdpaDevVstatsShow(
  r: Result<VstatsAttrs, HostError>,
  o: VdpaOutputOptions,
): ToolOutput {
  return show(r, o, "vstats", (p, s) => {
    handleStart(p, s.name);
    if (s.deviceId === VIRTIO_ID_NET) {
      // print_queue_type: the control queue sits at 2 × max_vqp when CTRL_VQ was negotiated
      const ctrl = (s.negotiatedFeatures & (1n << 17n)) !== 0n && s.queueIndex === 2 * s.maxVqp;
      p.string(
        "any",
        "queue_type",
        "queue_type %s ",
        ctrl ? "control_vq" : s.queueIndex % 2 === 1 ? "tx" : "rx",
      );
      for (const [name, value] of s.vendor) p.number("any", name, `${name} %lu `, value);
    }
    handleEnd(p);
  });
}

/**
 * `vdpa dev add|del|set`: nothing on success, except that `-j` still prints the JSON
 * writer's closing newline; errors on stderr.
 */
export function vdpaAck(r: Result<unknown, HostError>, o: VdpaOutputOptions): ToolOutput {
  if (!r.ok && r.error.kind === "vdpa-netlink-unavailable") {
    return { stdout: "", stderr: formatHostError(r.error) + "\n", status: 1 };
  }
  const stdout = o.json === true ? "\n" : "";
  return r.ok
    ? { stdout, stderr: "", status: 0 }
    : { stdout, stderr: formatHostError(r.error) + "\n", status: 1 };
}
