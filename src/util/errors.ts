/** Errors the program expects and reports without a stack trace. */

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
 * The message of `err` followed by its `cause` chain, one line each; a cause whose message the
 * line before already quotes is left out.
 */
export function describeError(err: unknown): string {
  const lines: string[] = [];
  let current: unknown = err;
  while (current !== undefined && lines.length < 8) {
    const message = current instanceof Error ? current.message : String(current);
    if (!lines.at(-1)?.includes(message)) lines.push(message);
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines.join("\n  caused by: ");
}
