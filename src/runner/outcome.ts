/** How a handler's return or throw becomes a stage outcome, and what it emits an item. */
import type { NewItem } from "../db/store.ts";
import { hashUrl } from "../discovery/base.ts";
import { describeThrown, PermanentError } from "../util/errors.ts";
import { quote } from "../util/quote.ts";

/** Thrown by ctx.skip(reason): the stage ends as skipped. */
export class SkipSignal extends Error {
  override name = "SkipSignal";
}

/** Thrown when the handler should run again after a delay (a 429, exit code 75). */
export class RetryLaterError extends Error {
  override name = "RetryLaterError";
  constructor(message: string, readonly retryAfterMs?: number, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A classified handler outcome. */
export type Outcome =
  | { kind: "done"; result: unknown }
  | { kind: "skipped"; reason: string }
  | { kind: "error"; message: string; permanent: boolean; retryAfterMs?: number };

/** `value` as JSON gives it back; throws a TypeError for what JSON would drop or change. */
function jsonCopy(value: unknown): unknown {
  const text = JSON.stringify(value ?? null, (_key, v) => {
    if (typeof v === "function" || typeof v === "symbol") {
      throw new TypeError(`a ${typeof v} cannot be stored`);
    }
    if (v instanceof Map || v instanceof Set) {
      throw new TypeError(
        `a ${v.constructor.name} cannot be stored; convert it to an array or object`,
      );
    }
    return v;
  });
  return JSON.parse(text);
}

/** Checks that `value` survives JSON unchanged in meaning; returns it as stored. */
export function toStoredResult(value: unknown): Outcome {
  try {
    return { kind: "done", result: jsonCopy(value) };
  } catch (err) {
    return {
      kind: "error",
      message: `Result is not JSON-serialisable: ${(err as Error).message}`,
      permanent: true,
    };
  }
}

/** The outcome of a handler that threw `err`; `timedOut` when its time limit aborted it. */
export function classifyError(err: unknown, timedOut: string | undefined): Outcome {
  if (err instanceof SkipSignal) return { kind: "skipped", reason: err.message };
  if (timedOut) return { kind: "error", message: timedOut, permanent: false };
  const message = describeThrown(err);
  if (err instanceof RetryLaterError) {
    return {
      kind: "error",
      message: err.message,
      permanent: false,
      retryAfterMs: err.retryAfterMs,
    };
  }
  const permanent = err instanceof PermanentError ||
    (err instanceof Error &&
      (err.name === "PermanentError" || (err as { permanent?: unknown }).permanent === true));
  return { kind: "error", message, permanent };
}

/**
 * Items from what a handler emitted: each record is `{ key, data }` or `{ url, data }` (an
 * http(s) URL, hashed into the key and copied into data as `url`, as discovery does). Throws a
 * PermanentError that starts with `where` and names the record.
 */
export function toEmittedItems(records: unknown, where: string): NewItem[] {
  if (!Array.isArray(records)) {
    throw new PermanentError(`${where}: expected an array of items, got ${typeName(records)}`);
  }
  return records.map((record, i) => {
    try {
      return emittedItem(record);
    } catch (err) {
      throw new PermanentError(`${where}: item ${i + 1}: ${(err as Error).message}`);
    }
  });
}

function emittedItem(record: unknown): NewItem {
  if (record === null || typeof record !== "object" || Array.isArray(record)) {
    throw new TypeError(`expected an object with a "key" or a "url", got ${typeName(record)}`);
  }
  const { key, url, data = {}, ...rest } = record as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) {
    throw new TypeError(`unknown field ${quote(extra)} (fields other than key and url go in data)`);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new TypeError(`"data" must be an object, got ${typeName(data)}`);
  }
  const copy = jsonCopy(data) as Record<string, unknown>;
  if ((typeof key === "string" && key !== "") || typeof key === "number") {
    return { key: String(key), data: typeof url === "string" ? { url, ...copy } : copy };
  }
  if (key !== undefined) throw new TypeError(`"key" must be a non-empty string or a number`);
  if (typeof url !== "string" || !/^https?:\/\/[^/]/i.test(url)) {
    const got = url === undefined ? "none" : quote(String(url));
    throw new TypeError(`needs a "key" or an http(s) "url" (url: ${got})`);
  }
  return { key: hashUrl(url), data: { url, ...copy } };
}

/**
 * Takes the `emit` field out of a command's result: `{ "<job id>": [items] }`, each job's items
 * handed to `emit`. Returns the result without it (what is stored).
 */
export function takeEmitField(
  result: unknown,
  where: string,
  emit: (jobId: string, records: unknown) => void,
): unknown {
  if (result === null || typeof result !== "object" || !("emit" in result)) return result;
  const { emit: field, ...rest } = result as Record<string, unknown>;
  if (field === null || typeof field !== "object" || Array.isArray(field)) {
    throw new PermanentError(
      `${where}: "emit" must map job ids to arrays of items, got ${typeName(field)}`,
    );
  }
  for (const [jobId, records] of Object.entries(field)) emit(jobId, records);
  return rest;
}

function typeName(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}
