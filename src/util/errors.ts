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

/** What kept the store from doing what was asked. */
export type StoreProblem =
  | "locked"
  | "full"
  | "damaged"
  | "read-only"
  | "unreachable"
  | "schema"
  | "not-empty"
  | "missing"
  | "failed";

/** Options of a StoreError. */
export interface StoreErrorOptions extends ErrorOptions {
  /** What went wrong, for callers that act on it. Default "failed". */
  problem?: StoreProblem;
  /** The schema version found and the one this program writes, when `problem` is "schema". */
  versions?: { found: number; expected: number };
}

/**
 * The store could not do what was asked: locked, disk full, damaged file, unreachable server,
 * a schema newer than the program. Every driver error reaches callers as one of these.
 */
export class StoreError extends Error {
  override name = "StoreError";
  /** What went wrong. */
  readonly problem: StoreProblem;
  /** Found and expected schema versions, when `problem` is "schema". */
  readonly versions?: { found: number; expected: number };

  constructor(message: string, options: StoreErrorOptions = {}) {
    super(message, options);
    this.problem = options.problem ?? "failed";
    this.versions = options.versions;
  }
}

/** Names of the errors that are reported as a plain message, without a stack trace. */
export const EXPECTED_ERRORS: ReadonlySet<string> = new Set([
  "ConfigError",
  "UsageError",
  "PermanentError",
  "StoreError",
  "DiscoveryError",
]);

/**
 * The message of `err` followed by its `cause` chain, one line each, with control characters
 * escaped (messages may quote input); a cause whose message the line before already quotes is
 * left out.
 */
export function describeError(err: unknown): string {
  const lines: string[] = [];
  let current: unknown = err;
  while (current !== undefined && lines.length < 8) {
    const message = current instanceof Error ? current.message : describeThrown(current);
    const shown = message.split("\n").map(printable).join("\n");
    if (!lines.at(-1)?.includes(shown)) lines.push(shown);
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
