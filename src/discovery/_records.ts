/** JSON records, a JSON array or JSON lines of objects, as raw items. */
import { describeValue, printable } from "../util/quote.ts";
import { DiscoveryError } from "./_http.ts";
import { recordItem } from "./_items.ts";
import type { RawItem } from "./_types.ts";

/**
 * The records of `bytes` as raw items: a JSON array (read at once, when its first character is
 * "[") or JSON lines, read line by line each time the result is iterated, so a large file is
 * never held as text or as objects; `source` names it in errors.
 */
export function recordItems(bytes: Uint8Array, source: string): Iterable<RawItem> {
  if (bytes[firstCharacter(bytes)] === OPEN_BRACKET) {
    const value = parseJson(new TextDecoder().decode(bytes), source);
    if (!Array.isArray(value)) {
      throw new DiscoveryError(`Cannot parse ${source}: expected a JSON array`);
    }
    return value.map((record, index) =>
      recordItem(asRecord(record, `element ${index + 1} of ${source}`))
    );
  }
  return { [Symbol.iterator]: () => jsonLines(bytes, source) };
}

const NEWLINE = 0x0a;
const OPEN_BRACKET = 0x5b;
const BOM = [0xef, 0xbb, 0xbf];

/** Where the first character after a byte order mark and JSON whitespace is. */
function firstCharacter(bytes: Uint8Array): number {
  let at = BOM.every((byte, i) => bytes[i] === byte) ? BOM.length : 0;
  while (at < bytes.length && " \t\r\n".includes(String.fromCharCode(bytes[at]))) at++;
  return at;
}

function* jsonLines(bytes: Uint8Array, source: string): Generator<RawItem> {
  const decoder = new TextDecoder();
  for (let start = 0, number = 1; start < bytes.length; number++) {
    const newline = bytes.indexOf(NEWLINE, start);
    const end = newline === -1 ? bytes.length : newline;
    const line = decoder.decode(bytes.subarray(start, end));
    start = end + 1;
    if (line.trim() === "") continue;
    const where = `line ${number} of ${source}`;
    yield recordItem(asRecord(parseJson(line, where), where));
  }
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DiscoveryError(
      `Cannot parse JSON at ${where}: ${printable((err as Error).message)}`,
      {
        cause: err,
      },
    );
  }
}

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new DiscoveryError(
      `Cannot use ${where}: expected a JSON object, got ${describeValue(value)}`,
    );
  }
  return value as Record<string, unknown>;
}
