/** JSON records from text: a JSON array or JSON lines, each element an object. */
import { describeValue, printable } from "../util/quote.ts";
import { DiscoveryError } from "./base.ts";

/** Parses `text` as a JSON array (when it starts with "[") or JSON lines; `source` names it in errors. */
export function parseJsonRecords(text: string, source: string): Record<string, unknown>[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) {
    const value = parseJson(trimmed, source);
    if (!Array.isArray(value)) {
      throw new DiscoveryError(`Cannot parse ${source}: expected a JSON array`);
    }
    return value.map((record, index) => asRecord(record, `element ${index + 1} of ${source}`));
  }
  // Line by line, without splitting the text first: a line is garbage once parsed.
  const records: Record<string, unknown>[] = [];
  for (let start = 0, number = 1; start < text.length; number++) {
    const newline = text.indexOf("\n", start);
    const end = newline === -1 ? text.length : newline;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.trim() === "") continue;
    const where = `line ${number} of ${source}`;
    records.push(asRecord(parseJson(line, where), where));
  }
  return records;
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
