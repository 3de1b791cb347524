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
    const value = parseJson(new TextDecoder().decode(bytes), () => source);
    if (!Array.isArray(value)) {
      throw new DiscoveryError(`Cannot parse ${source}: expected a JSON array`);
    }
    return value.map((record, index) =>
      recordItem(asRecord(record, () => `element ${index + 1} of ${source}`))
    );
  }
  return { [Symbol.iterator]: () => jsonLines(bytes, source) };
}

const NEWLINE = 0x0a;
const OPEN_BRACKET = 0x5b;
const BOM = [0xef, 0xbb, 0xbf];
/**
 * Bytes decoded at once, cut after a newline: one decode per line cost more than the parse,
 * and a block at a time keeps the text held small whatever the file's size.
 */
const BLOCK_BYTES = 1 << 20;

/** Where the first character after a byte order mark and JSON whitespace is. */
function firstCharacter(bytes: Uint8Array): number {
  let at = hasBom(bytes) ? BOM.length : 0;
  while (at < bytes.length && " \t\r\n".includes(String.fromCharCode(bytes[at]))) at++;
  return at;
}

function hasBom(bytes: Uint8Array): boolean {
  return BOM.every((byte, i) => bytes[i] === byte);
}

function* jsonLines(bytes: Uint8Array, source: string): Generator<RawItem> {
  let number = 0;
  for (const text of textBlocks(bytes)) {
    for (let at = 0; at < text.length;) {
      const newline = text.indexOf("\n", at);
      const end = newline === -1 ? text.length : newline;
      const line = text.slice(at, end);
      at = end + 1;
      number++;
      if (line.trim() === "") continue;
      const where = () => `line ${number} of ${source}`;
      yield recordItem(asRecord(parseJson(line, where), where));
    }
  }
}

/**
 * The text of `bytes` (after a leading byte order mark) in blocks of whole lines: each block
 * ends after a newline, or at the end; a line longer than a block is one block.
 */
function* textBlocks(bytes: Uint8Array): Generator<string> {
  // A byte order mark is dropped at the start only; further on it is a character of its line.
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  for (let start = hasBom(bytes) ? BOM.length : 0; start < bytes.length;) {
    let end = Math.min(start + BLOCK_BYTES, bytes.length);
    if (end < bytes.length) {
      const last = bytes.lastIndexOf(NEWLINE, end - 1);
      end = last >= start ? last + 1 : bytes.indexOf(NEWLINE, end) + 1 || bytes.length;
    }
    yield decoder.decode(bytes.subarray(start, end));
    start = end;
  }
}

/** `where` names the text in an error: a function, so that the name is made only for one. */
function parseJson(text: string, where: () => string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DiscoveryError(
      `Cannot parse JSON at ${where()}: ${printable((err as Error).message)}`,
      {
        cause: err,
      },
    );
  }
}

function asRecord(value: unknown, where: () => string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new DiscoveryError(
      `Cannot use ${where()}: expected a JSON object, got ${describeValue(value)}`,
    );
  }
  return value as Record<string, unknown>;
}
