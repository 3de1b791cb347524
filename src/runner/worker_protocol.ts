/**
 * The line protocol of worker stages (documented in README, "Worker stages"): one JSON object
 * per line each way. The runner writes a request with an id; the worker answers with any number
 * of log and cost messages carrying that id, then one final message.
 */
import { printable, quote } from "../util/quote.ts";
/** A message that does not end the item. */
export type WorkerNote =
  | { id: number; kind: "log"; level: LogLevel; message: string; data?: Record<string, unknown> }
  | { id: number; kind: "cost"; usd: number; meta?: Record<string, unknown> };

/** The message that ends the item. */
export type WorkerFinal =
  | { id: number; kind: "result"; result: unknown }
  | { id: number; kind: "skip"; reason: string }
  | { id: number; kind: "fail"; message: string }
  | { id: number; kind: "error"; message: string }
  | { id: number; kind: "retry_later"; message: string; after_ms?: number };

/** Any line a worker may print on stdout. */
export type WorkerMessage = WorkerNote | WorkerFinal;

type LogLevel = "info" | "warn" | "error";

/** A line on a worker's stdout that is not a message of the protocol. */
export class ProtocolError extends Error {
  override name = "ProtocolError";
}

const LEVELS: readonly string[] = ["info", "warn", "error"];

/** The message on `line`; throws a ProtocolError saying what is wrong with it. */
export function parseMessage(line: string): WorkerMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new ProtocolError(
      `printed a line that is not JSON (${printable((err as Error).message)}): ${quote(line)}`,
    );
  }
  if (!isRecord(value) || !Number.isSafeInteger(value.id)) {
    throw new ProtocolError(`printed a line without a numeric "id": ${quote(line)}`);
  }
  const problem = shapeProblem(value);
  if (problem) throw new ProtocolError(`printed a message ${problem}: ${quote(line)}`);
  return value as WorkerMessage;
}

/**
 * What is wrong with `m` as the outcome of one item of a batch (a final message without its
 * id), or undefined when nothing is.
 */
export function outcomeProblem(m: Record<string, unknown>): string | undefined {
  if (m.kind === "log" || m.kind === "cost") {
    return 'whose "kind" is not result, skip, fail, error or retry_later';
  }
  return shapeProblem(m);
}

/** What is wrong with the fields of message `m`, or undefined when nothing is. */
function shapeProblem(m: Record<string, unknown>): string | undefined {
  const text = (field: string) =>
    typeof m[field] === "string" ? undefined : `of kind "${m.kind}" without a string "${field}"`;
  const record = (field: string) =>
    m[field] === undefined || isRecord(m[field]) ? undefined : `whose "${field}" is not an object`;
  switch (m.kind) {
    case "result":
      return "result" in m ? undefined : 'of kind "result" without a "result"';
    case "skip":
      return text("reason");
    case "fail":
    case "error":
      return text("message");
    case "retry_later":
      return text("message") ??
        (m.after_ms === undefined || isNonNegative(m.after_ms)
          ? undefined
          : 'whose "after_ms" is not a number of milliseconds');
    case "log":
      return text("message") ?? record("data") ??
        (LEVELS.includes(m.level as string)
          ? undefined
          : 'whose "level" is not info, warn or error');
    case "cost":
      return record("meta") ??
        (isNonNegative(m.usd) ? undefined : 'whose "usd" is not a number of 0 or more');
    default:
      return 'whose "kind" is not result, skip, fail, error, retry_later, log or cost';
  }
}

/** A finite number of 0 or more. */
function isNonNegative(value: unknown): boolean {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
