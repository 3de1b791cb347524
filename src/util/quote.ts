/**
 * Quoting input inside messages. Input can be anything — a 300 KB scalar, binary garbage, a
 * terminal escape — so an echoed value is escaped and cut to a short excerpt.
 */

/** Options of quote(). */
export interface QuoteOptions {
  /** Longest excerpt, in characters between the quotes (escapes included). Default 80. */
  max?: number;
}

// C0 and C1 controls, DEL, bidirectional overrides, line separators, lone surrogates.
const UNSAFE =
  // deno-lint-ignore no-control-regex -- finding control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * `text` in double quotes with `"`, `\` and invisible or control characters escaped, cut to
 * `max` characters; a cut excerpt ends with "…" and is followed by the full length:
 * `"aaaa…" (300000 characters)`.
 */
export function quote(text: string, options: QuoteOptions = {}): string {
  const max = options.max ?? 80;
  let out = "";
  for (const char of text) {
    const piece = char === '"' || char === "\\" ? `\\${char}` : escape(char);
    if (out.length + piece.length > max) return `"${out}…" (${text.length} characters)`;
    out += piece;
  }
  return `"${out}"`;
}

/** How a value found in input is named in a message: `"text"` (quoted), `42`, a list, a mapping. */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value !== null && typeof value === "object") return "a mapping";
  return typeof value === "string" ? quote(value) : String(value);
}

/**
 * `text` with control and invisible characters escaped: for a message that is not ours to cut
 * but may hold a few characters of the input (a parser's error message).
 */
export function printable(text: string): string {
  return UNSAFE.test(text) ? Array.from(text, escape).join("") : text;
}

function escape(char: string): string {
  if (!UNSAFE.test(char)) return char;
  if (char === "\n") return "\\n";
  if (char === "\t") return "\\t";
  if (char === "\r") return "\\r";
  return Array.from(
    { length: char.length },
    (_, i) => `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`,
  ).join("");
}
