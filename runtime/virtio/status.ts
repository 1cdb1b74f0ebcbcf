/**
 * The device status state machine (virtio 1.2 §2.1, §3.1): ACKNOWLEDGE, DRIVER, FEATURES_OK,
 * DRIVER_OK, FAILED and the device-owned NEEDS_RESET, with feature negotiation at
 * FEATURES_OK. Writing 0 resets the device and every attached queue.
 *
 * The device side rules enforced here:
 * - a non-zero write may not clear bits (vhost-vdpa `SET_STATUS`: -EINVAL);
 * - FEATURES_OK is refused (left clear) when the accepted features were not offered, break
 *   a dependency, or omit a feature the device requires (QEMU `virtio_validate_features`);
 * - driver features cannot change after FEATURES_OK;
 * - a modern device does not go live on DRIVER_OK without FEATURES_OK;
 * - buffers are consumed and interrupts sent only while live (DRIVER_OK, no FAILED, no
 *   NEEDS_RESET): attached queues use this object as their gate;
 * - an attached queue's fault sets NEEDS_RESET (QEMU `virtio_error`) and, if DRIVER_OK was
 *   set, raises a configuration-change notification.
 *
 * @example The Linux probe sequence, then a refused feature set
 * ```ts
 * import { DeviceStatus, describeStatus } from "./status.ts";
 * import { featureMask, VIRTIO_F_VERSION_1, VIRTIO_NET_F_MAC, VIRTIO_NET_F_MQ } from "./features.ts";
 * const st = new DeviceStatus({ deviceFeatures: featureMask(VIRTIO_F_VERSION_1, VIRTIO_NET_F_MAC) });
 * st.write(0);
 * st.write(1);
 * st.write(1 | 2);
 * st.setDriverFeatures(featureMask(VIRTIO_F_VERSION_1, VIRTIO_NET_F_MQ)); // MQ was not offered
 * const r = st.write(1 | 2 | 8);
 * if (r.ok || describeStatus(st.value) !== "ACKNOWLEDGE DRIVER") throw new Error("refused expected");
 * ```
 *
 * @module
 */

import { err, ok, type Result } from "../result.ts";
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FAILED,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
  VIRTIO_CONFIG_S_SUSPEND,
} from "./defs.ts";
import { checkAcceptedFeatures, describeFeatureProblem, type FeatureProblem } from "./features.ts";
import { describeQueueFault, type QueueFault } from "./queue_fault.ts";

/** Why a status or feature write was refused. */
export type StatusFault =
  /** A non-zero write tried to clear bits (only a reset clears them). */
  | { readonly kind: "bits-cleared"; readonly from: number; readonly to: number }
  /** FEATURES_OK was refused: the accepted features are not acceptable. */
  | { readonly kind: "features-refused"; readonly problem: FeatureProblem }
  /** Features written after FEATURES_OK. */
  | { readonly kind: "features-locked" }
  /** DRIVER_OK on a modern device before FEATURES_OK. */
  | { readonly kind: "driver-ok-without-features-ok" };

/** One lowercase line describing a status fault. */
export function describeStatusFault(f: StatusFault): string {
  switch (f.kind) {
    case "bits-cleared":
      return `status write ${describeStatus(f.to) || "0"} clears bits of ${describeStatus(f.from)}`;
    case "features-refused":
      return `FEATURES_OK refused: ${describeFeatureProblem(f.problem)}`;
    case "features-locked":
      return "features cannot change after FEATURES_OK";
    case "driver-ok-without-features-ok":
      return "DRIVER_OK set before FEATURES_OK";
  }
}

const NAMES: readonly [number, string][] = [
  [VIRTIO_CONFIG_S_ACKNOWLEDGE, "ACKNOWLEDGE"],
  [VIRTIO_CONFIG_S_DRIVER, "DRIVER"],
  [VIRTIO_CONFIG_S_FEATURES_OK, "FEATURES_OK"],
  [VIRTIO_CONFIG_S_DRIVER_OK, "DRIVER_OK"],
  [VIRTIO_CONFIG_S_SUSPEND, "SUSPEND"],
  [VIRTIO_CONFIG_S_NEEDS_RESET, "NEEDS_RESET"],
  [VIRTIO_CONFIG_S_FAILED, "FAILED"],
];

/** The status bits by name, in the order a driver sets them (`""` for 0). */
export function describeStatus(value: number): string {
  return NAMES.filter(([bit]) => (value & bit) !== 0).map(([, n]) => n).join(" ");
}

/** What the status machine needs from a queue it manages. */
export interface AttachableQueue {
  /** Set by {@link DeviceStatus.attachQueue}: the device's liveness. */
  gate: { readonly live: boolean } | undefined;
  /** Set by {@link DeviceStatus.attachQueue}: called when the queue faults. */
  onFault: ((f: QueueFault) => void) | undefined;
  /** Forgets every index and in-flight buffer. */
  reset(): void;
}

/** How to build a status machine. */
export interface DeviceStatusOptions {
  /** Features the device offers. */
  readonly deviceFeatures: bigint;
  /** Offered features the driver must accept (e.g. ACCESS_PLATFORM); default none. */
  readonly requiredFeatures?: bigint;
  /** A legacy (pre-1.0) device: no FEATURES_OK step. Default false. */
  readonly legacy?: boolean;
}

/** The device status register and feature negotiation; see the module documentation. */
export class DeviceStatus {
  #value = 0;
  #deviceFeatures: bigint;
  #required: bigint;
  #legacy: boolean;
  #driverFeatures = 0n;
  #queues: AttachableQueue[] = [];
  #error: QueueFault | undefined = undefined;
  /** Called when the device raises a configuration-change notification. */
  onConfigChange: (() => void) | undefined = undefined;
  /** Configuration-change notifications raised (NEEDS_RESET while DRIVER_OK, …). */
  configChanges = 0;
  /** Resets performed. */
  resets = 0;

  /** A device in reset state (status 0) offering `opts.deviceFeatures`. */
  constructor(opts: DeviceStatusOptions) {
    this.#deviceFeatures = opts.deviceFeatures;
    this.#required = (opts.requiredFeatures ?? 0n) & opts.deviceFeatures;
    this.#legacy = opts.legacy ?? false;
  }

  /** The status byte as the driver reads it. */
  get value(): number {
    return this.#value;
  }

  /** Features the device offers. */
  get deviceFeatures(): bigint {
    return this.#deviceFeatures;
  }

  /** Features the driver wrote (not necessarily accepted yet). */
  get driverFeatures(): bigint {
    return this.#driverFeatures;
  }

  /** The negotiated features: the driver's once FEATURES_OK holds (legacy: once written). */
  get negotiated(): bigint {
    if (this.#legacy) return this.#driverFeatures & this.#deviceFeatures;
    return (this.#value & VIRTIO_CONFIG_S_FEATURES_OK) !== 0 ? this.#driverFeatures : 0n;
  }

  /** True while the device may process buffers: DRIVER_OK, not FAILED, not NEEDS_RESET. */
  get live(): boolean {
    return (this.#value &
      (VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FAILED | VIRTIO_CONFIG_S_NEEDS_RESET)) ===
      VIRTIO_CONFIG_S_DRIVER_OK;
  }

  /** The queue fault that set NEEDS_RESET, if any. */
  get error(): QueueFault | undefined {
    return this.#error;
  }

  /**
   * Puts a queue under this machine: it processes only while {@link live}, it is reset with
   * the device, and (policy `"needs-reset"`, QEMU) a fault sets NEEDS_RESET. With `"stop-queue"`
   * (vhost) the fault only stops that queue.
   */
  attachQueue(q: AttachableQueue, policy: "needs-reset" | "stop-queue" = "needs-reset"): void {
    q.gate = this;
    q.onFault = policy === "needs-reset" ? (f) => this.needsReset(f) : undefined;
    this.#queues.push(q);
  }

  /** The driver writes the feature bits it accepts (before FEATURES_OK). */
  setDriverFeatures(bits: bigint): Result<void, StatusFault> {
    // virtio 1.2 §3.1.1: no new features after FEATURES_OK.
    if ((this.#value & VIRTIO_CONFIG_S_FEATURES_OK) !== 0) return err({ kind: "features-locked" });
    this.#driverFeatures = bits;
    return ok(undefined);
  }

  /**
   * The driver writes the status byte. 0 resets. Returns the new value, or a fault: bits
   * cleared (nothing changes), FEATURES_OK refused or DRIVER_OK too early (the other new
   * bits are kept, the refused one stays clear — the driver sees it by reading back).
   */
  write(value: number): Result<number, StatusFault> {
    value &= 0xff & ~VIRTIO_CONFIG_S_NEEDS_RESET; // NEEDS_RESET belongs to the device
    if (value === 0) {
      this.reset();
      return ok(0);
    }
    const old = this.#value;
    const driverBits = old & ~VIRTIO_CONFIG_S_NEEDS_RESET;
    // virtio 1.2 §2.1.1: the driver never clears a bit (vhost-vdpa rejects it).
    if ((driverBits & ~value) !== 0) return err({ kind: "bits-cleared", from: old, to: value });
    let next = value | (old & VIRTIO_CONFIG_S_NEEDS_RESET);
    let fault: StatusFault | undefined;
    const added = value & ~driverBits;
    if ((added & VIRTIO_CONFIG_S_FEATURES_OK) !== 0) {
      const problem = checkAcceptedFeatures(
        this.#deviceFeatures,
        this.#driverFeatures,
        this.#required,
      );
      if (problem) {
        // virtio 1.2 §3.1.1 step 6: the device leaves FEATURES_OK clear to refuse.
        next &= ~VIRTIO_CONFIG_S_FEATURES_OK;
        fault = { kind: "features-refused", problem };
      }
    }
    if (
      (added & VIRTIO_CONFIG_S_DRIVER_OK) !== 0 && !this.#legacy &&
      (next & VIRTIO_CONFIG_S_FEATURES_OK) === 0
    ) {
      next &= ~VIRTIO_CONFIG_S_DRIVER_OK;
      fault ??= { kind: "driver-ok-without-features-ok" };
    }
    this.#value = next;
    return fault ? err(fault) : ok(next);
  }

  /** Device reset: status 0, features forgotten, every attached queue reset. */
  reset(): void {
    this.#value = 0;
    this.#driverFeatures = 0n;
    this.#error = undefined;
    this.resets++;
    for (const q of this.#queues) q.reset();
  }

  /**
   * The device hit an error it cannot recover from (QEMU `virtio_error`): sets NEEDS_RESET
   * and, when DRIVER_OK is set, raises a configuration-change notification (§2.1.2).
   */
  needsReset(cause?: QueueFault): void {
    if ((this.#value & VIRTIO_CONFIG_S_NEEDS_RESET) !== 0) return;
    this.#value |= VIRTIO_CONFIG_S_NEEDS_RESET;
    this.#error = cause;
    if ((this.#value & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) {
      this.configChanges++;
      this.onConfigChange?.();
    }
  }

  /** One line for `show`: status names and, after an error, its description. */
  describe(): string {
    const s = describeStatus(this.#value) || "0";
    return this.#error ? `${s} (${describeQueueFault(this.#error)})` : s;
  }
}
