/**
 * iproute2's output machinery, re-implemented: the streaming JSON writer (lib/json_writer.c:
 * `,` separators, 4-space pretty indentation, `[ "a","b" ]` arrays, a final newline) and
 * the print layer on top (lib/json_print.c) that sends each `print_*` call either to the
 * text stream (format string) or to the JSON writer (key/value), so one print routine
 * yields text, `-j` and `-jp` output exactly as the C tools do — trailing spaces and the
 * odd JSON key with a space in it included.
 *
 * @example
 * ```ts
 * import { Printer } from "./iproute2_print.ts";
 * const p = new Printer({ json: true, pretty: false });
 * p.openObject(null);
 * p.openObject("dev");
 * p.closeObject();
 * p.closeObject();
 * if (p.finish() !== '{"dev":{}}\n') throw new Error("json_writer framing");
 * ```
 *
 * @module
 */

/** lib/json_writer.c. */
export class JsonWriter {
  #out = "";
  #depth = 0;
  #sep = "";
  readonly #pretty: boolean;

  /** A writer; `pretty` turns on newlines and 4-space indentation. */
  constructor(pretty: boolean) {
    this.#pretty = pretty;
  }

  #eol(): void {
    if (!this.#pretty) return;
    this.#out += "\n" + "    ".repeat(this.#depth);
  }

  #eor(): void {
    this.#out += this.#sep;
    this.#sep = ",";
  }

  #puts(s: string): void {
    let q = '"';
    for (const c of s) {
      if (c === "\t") q += "\\t";
      else if (c === "\n") q += "\\n";
      else if (c === "\r") q += "\\r";
      else if (c === "\f") q += "\\f";
      else if (c === "\b") q += "\\b";
      else if (c === '"') q += '\\"';
      else if (c === "'") q += "\\'";
      else q += c;
    }
    this.#out += q + '"';
  }

  #begin(c: string): void {
    this.#eor();
    this.#out += c;
    this.#depth++;
    this.#sep = "";
  }

  #end(c: string): void {
    this.#depth--;
    if (this.#sep !== "") this.#eol();
    this.#out += c;
    this.#sep = ",";
  }

  /** jsonw_name. */
  name(n: string): void {
    this.#eor();
    this.#eol();
    this.#sep = "";
    this.#puts(n);
    this.#out += this.#pretty ? ": " : ":";
  }

  /** A raw value (number, true, false). */
  raw(v: string): void {
    this.#eor();
    this.#out += v;
  }

  /** A string value. */
  string(v: string): void {
    this.#eor();
    this.#puts(v);
  }

  startObject(): void {
    this.#begin("{");
  }

  endObject(): void {
    this.#end("}");
  }

  startArray(): void {
    this.#begin("[");
    if (this.#pretty) this.#out += " ";
  }

  endArray(): void {
    if (this.#pretty && this.#sep !== "") this.#out += " ";
    this.#sep = "";
    this.#end("]");
  }

  /** jsonw_destroy: the final newline. */
  finish(): string {
    return this.#out + "\n";
  }
}

/** Where a print call goes: both streams (PRINT_ANY), text only (PRINT_FP) or JSON only. */
export type PrintType = "any" | "fp" | "json";

/**
 * Replaces the printf conversion in `fmt` with `value` (`%s`, `%d`, `%u`, `%lu`, with an
 * optional field width: `%-16s` pads on the right, `%8s` on the left).
 */
function fmt1(fmt: string, value: string): string {
  return fmt.replace(/%(-?)(\d*)(?:l?l?[sdu]|lu)/, (_m, left: string, width: string) => {
    const w = width === "" ? 0 : Number(width);
    return left === "-" ? value.padEnd(w) : value.padStart(w);
  });
}

/** lib/json_print.c over a text buffer and an optional JSON writer. */
export class Printer {
  readonly #jw: JsonWriter | undefined;
  #text = "";
  #indent = 0;

  /** `json` selects the JSON writer (what `-j` does); `pretty` is `-p`. */
  constructor(o: { readonly json: boolean; readonly pretty: boolean }) {
    this.#jw = o.json ? new JsonWriter(o.pretty) : undefined;
  }

  /** Whether output is JSON. */
  get json(): boolean {
    return this.#jw !== undefined;
  }

  #jsonCtx(t: PrintType): boolean {
    return this.#jw !== undefined && (t === "any" || t === "json");
  }

  #fpCtx(t: PrintType): boolean {
    return this.#jw === undefined && (t === "any" || t === "fp");
  }

  /** open_json_object: JSON only. */
  openObject(name: string | null): void {
    if (this.#jw === undefined) return;
    if (name !== null) this.#jw.name(name);
    this.#jw.startObject();
  }

  /** close_json_object. */
  closeObject(): void {
    this.#jw?.endObject();
  }

  /** open_json_array: in text mode prints the name. */
  openArray(t: PrintType, name: string | null): void {
    if (this.#jsonCtx(t)) {
      if (name !== null) this.#jw?.name(name);
      this.#jw?.startArray();
    } else if (this.#fpCtx(t)) this.#text += name ?? "";
  }

  /** close_json_array. */
  closeArray(t: PrintType, delim: string | null): void {
    if (this.#jsonCtx(t)) this.#jw?.endArray();
    else if (this.#fpCtx(t)) this.#text += delim ?? "";
  }

  /** print_string. */
  string(t: PrintType, key: string | null, fmt: string, value: string): void {
    if (this.#jsonCtx(t)) {
      if (key !== null) this.#jw?.name(key);
      this.#jw?.string(value);
    } else if (this.#fpCtx(t)) this.#text += fmt1(fmt, value);
  }

  /** print_uint / print_u64 / print_int. */
  number(t: PrintType, key: string | null, fmt: string, value: number | bigint): void {
    if (this.#jsonCtx(t)) {
      if (key !== null) this.#jw?.name(key);
      this.#jw?.raw(String(value));
    } else if (this.#fpCtx(t)) this.#text += fmt1(fmt, String(value));
  }

  /** print_bool. */
  bool(t: PrintType, key: string | null, fmt: string, value: boolean): void {
    if (this.#jsonCtx(t)) {
      if (key !== null) this.#jw?.name(key);
      this.#jw?.raw(value ? "true" : "false");
    } else if (this.#fpCtx(t)) this.#text += fmt1(fmt, value ? "true" : "false");
  }

  /** print_nl: a newline in text mode. */
  nl(): void {
    if (this.#jw === undefined) this.#text += "\n";
  }

  /** inc_indent (2 columns). */
  incIndent(): void {
    this.#indent += 2;
  }

  /** dec_indent. */
  decIndent(): void {
    this.#indent = Math.max(0, this.#indent - 2);
  }

  /** print_indent (text only). */
  printIndent(): void {
    if (this.#jw === undefined) this.#text += " ".repeat(this.#indent);
  }

  /** Raw text (printf to stdout). */
  text(s: string): void {
    if (this.#jw === undefined) this.#text += s;
  }

  /** Everything printed; JSON gets jsonw_destroy's newline. */
  finish(): string {
    return this.#jw !== undefined ? this.#jw.finish() : this.#text;
  }
}

/** What a tool run printed. */
export interface ToolOutput {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit status. */
  readonly status: number;
}
