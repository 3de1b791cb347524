/** Errors the program expects and reports without a stack trace. */
import { printable } from "./quote.ts";

/** A jobs.yaml problem; `problems` holds every "file:line:col: path: message" line. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: string[], options?: ErrorOptions) {
    super(problems.join("\n"), options);
  }
}

/** A wrong command line: unknown flag, missing argument, bad value. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Thrown by a handler when retrying cannot help; the stage fails at once. */
export class PermanentError extends Error {
  override name = "PermanentError";
}

/** An HTTP request that could not be completed or answered with an error status. */
export class FetchError extends Error {
  override name = "FetchError";
  constructor(
    message: string,
    readonly url: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A database the program cannot use: newer schema, corrupt file, unreachable server. */
export class StoreError extends Error {
  override name = "StoreError";
}

/** Names of the errors that are reported as a plain message, without a stack trace. */
export const EXPECTED_ERRORS: ReadonlySet<string> = new Set([
  "ConfigError",
  "UsageError",
  "PermanentError",
  "FetchError",
  "StoreError",
  "DiscoveryError",
]);

/**
 * The message of `err` followed by its `cause` chain, one line each, with control characters
 * escaped (messages may quote input).
 */
export function describeError(err: unknown): string {
  const lines: string[] = [];
  let current: unknown = err;
  while (current !== undefined && lines.length < 8) {
    const message = current instanceof Error ? current.message : describeThrown(current);
    lines.push(message.split("\n").map(printable).join("\n"));
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines.join("\n  caused by: ");
}

/** Longest text kept of a thrown value that is not an Error. */
const THROWN_CHARS = 2000;

/**
 * Readable text for a thrown value that may not be an Error: an Error's "name: message" (whole),
 * an error-like object's the same way, a string as it is, another object as JSON (or as
 * Deno.inspect shows it when it has no JSON form), anything else as `Threw <value>`; a value that
 * is not an Error gives at most 2,000 characters.
 */
export function describeThrown(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  return clip(thrownText(value));
}

function thrownText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || typeof value !== "object") return `Threw ${String(value)}`;
  const { name, message } = value as { name?: unknown; message?: unknown };
  if (typeof message === "string") {
    return typeof name === "string" ? `${name}: ${message}` : message;
  }
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch { /* circular, or holds a BigInt */ }
  return Deno.inspect(value, { depth: 4, iterableLimit: 20, strAbbreviateSize: 200 });
}

function clip(text: string): string {
  return text.length > THROWN_CHARS ? text.slice(0, THROWN_CHARS) + "…" : text;
}
