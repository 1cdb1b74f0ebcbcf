/**
 * The diagnostic codes of the command parsers: E01xx for command syntax, W0010–W0019 for
 * warnings. One table, one line each; tests iterate it so that every code is exercised.
 *
 * @example
 * ```ts
 * import { COMMAND_CODES } from "./codes.ts";
 * if (COMMAND_CODES.E0100.severity !== "error") throw new Error("E0100 is an error");
 * ```
 *
 * @module
 */

import type { Severity } from "../diagnostic.ts";

/** One code: its severity and what it means. */
export interface CodeInfo {
  readonly severity: Severity;
  readonly summary: string;
}

/** Every code the command parsers emit. */
export const COMMAND_CODES = {
  E0100: {
    severity: "error",
    summary: "unknown command (not a program or lab statement the lab knows)",
  },
  E0101: { severity: "error", summary: "unknown option or keyword for this command" },
  E0102: { severity: "error", summary: "an option or keyword is missing its value" },
  E0103: { severity: "error", summary: "a required argument is missing" },
  E0104: { severity: "error", summary: "unexpected extra argument" },
  E0105: { severity: "error", summary: "unknown subcommand or object" },
  E0106: { severity: "error", summary: "invalid number (not an integer, or out of range)" },
  E0107: { severity: "error", summary: "invalid hexadecimal feature mask" },
  E0108: { severity: "error", summary: "invalid MAC address" },
  E0109: { severity: "error", summary: "value is not one of the allowed choices" },
  E0110: { severity: "error", summary: "malformed property list (empty item or missing key)" },
  E0111: { severity: "error", summary: "malformed vdpa management device handle" },
  E0112: { severity: "error", summary: "unsupported or incomplete redirection or pipe" },
  E0113: { severity: "error", summary: "unsupported `sudo` option" },
  E0114: { severity: "error", summary: "unsupported QEMU target" },
  E0115: { severity: "error", summary: "interactive help query inside a command line" },
  E0116: { severity: "error", summary: "JSON option syntax is not supported" },
  E0117: { severity: "error", summary: "malformed endpoint or dotted name" },
  E0118: { severity: "error", summary: "malformed comparison in `expect`" },
  E0119: { severity: "error", summary: "the same property is given twice" },
  E0120: { severity: "error", summary: "a real feature of the tool that the lab does not model" },
  E0121: { severity: "error", summary: "invalid interface name" },
  E0122: { severity: "error", summary: "conflicting options" },
  E0123: { severity: "error", summary: "a device name the lab cannot use" },
  W0010: {
    severity: "warning",
    summary: "option accepted but ignored (it does not matter to I/O)",
  },
  W0011: { severity: "warning", summary: "`sudo` has no effect on a lab statement" },
  W0012: { severity: "warning", summary: "deprecated short-form boolean option" },
  W0013: {
    severity: "warning",
    summary: "`sudo echo … > FILE`: on a real host the shell opens FILE without root",
  },
  W0014: { severity: "warning", summary: "stderr redirection (`2>/dev/null`) has no effect" },
} as const satisfies Record<string, CodeInfo>;

/** A code of {@link COMMAND_CODES}. */
export type CommandCode = keyof typeof COMMAND_CODES;
