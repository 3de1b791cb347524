/** PostgreSQL's errors as StoreErrors: the one place this engine's driver errors are read. */
import { StoreError, type StoreProblem } from "../../util/errors.ts";

/** SQLSTATE classes and codes of conditions of the server, and how to say them. */
const SQLSTATES: readonly [RegExp, StoreProblem, string][] = [
  [/^(55P03|57014)$/, "locked", "is locked by another process (lock_timeout)"],
  [/^53100$/, "full", "cannot grow: the server's disk is full"],
  [/^53/, "failed", "is out of resources"],
  [/^XX00[12]$/, "damaged", "is damaged"],
  // The schema this program made is gone: changed by hand or by another program.
  [/^(42P01|42703)$/, "damaged", "lacks what its schema should have"],
  [/^(25006|42501)$/, "read-only", "cannot be written by this user"],
  [/^(08|28|3D|57P0)/, "unreachable", "cannot be reached"],
];

/** Error codes of the driver and the platform for a connection that failed or was lost. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EPIPE",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
]);

/**
 * The StoreError for an error the server or the driver raised while doing `action`; other
 * errors (a bug in a statement, an error of the program) are returned as they are.
 * `hide` is a secret (the password) that must not appear in the message.
 */
export function pgError(
  err: unknown,
  action: string,
  where: { location: string; hide?: string },
): unknown {
  if (err instanceof StoreError || !(err instanceof Error)) return err;
  const condition = conditionOf(err);
  if (!condition) return err;
  const [problem, says] = condition;
  const detail = where.hide ? err.message.split(where.hide).join("***") : err.message;
  return new StoreError(`Cannot ${action}: database "${where.location}" ${says} (${detail})`, {
    problem,
    cause: safeCause(err, detail),
  });
}

/** The StoreError for any error raised while opening: "`doing`: <what the server said>". */
export function pgOpenError(
  err: unknown,
  doing: string,
  where: { location: string; hide?: string },
): unknown {
  if (err instanceof StoreError || !(err instanceof Error)) return err;
  const detail = where.hide ? err.message.split(where.hide).join("***") : err.message;
  return new StoreError(`${doing}: ${detail}`, {
    problem: conditionOf(err)?.[0] ?? "unreachable",
    cause: safeCause(err, detail),
  });
}

/** The driver's error as a cause, unless its message holds the secret the message hides. */
function safeCause(err: Error, shown: string): Error | undefined {
  return shown === err.message ? err : undefined;
}

function conditionOf(err: Error): [StoreProblem, string] | undefined {
  const code = String((err as { code?: unknown }).code ?? "");
  if (err.name === "PostgresError") {
    const found = SQLSTATES.find(([pattern]) => pattern.test(code));
    return found ? [found[1], found[2]] : undefined;
  }
  if (CONNECTION_CODES.has(code) || err instanceof Deno.errors.ConnectionRefused) {
    return ["unreachable", "cannot be reached"];
  }
  return undefined;
}
