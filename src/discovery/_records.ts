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
  const records: Record<string, unknown>[] = [];
  for (const [index, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    const where = `line ${index + 1} of ${source}`;
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
