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
    const message = current instanceof Error ? current.message : String(current);
    lines.push(message.split("\n").map(printable).join("\n"));
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines.join("\n  caused by: ");
}
