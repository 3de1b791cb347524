/** SQLite's errors as StoreErrors: the one place this engine's driver errors are read. */
import { StoreError, type StoreProblem } from "../../util/errors.ts";

/** Conditions of the file or its disk, by the text SQLite gives them, and how to say them. */
const CONDITIONS: readonly [RegExp, StoreProblem, string][] = [
  [/database (table )?is locked|database is busy/i, "locked", "is locked by another process"],
  [/disk is full|database or disk is full/i, "full", "cannot grow: the disk is full"],
  [/malformed|not a database|file is encrypted|corrupt/i, "damaged", "is damaged"],
  [
    /readonly|read-only/i,
    "read-only",
    "cannot be written (check its permissions and its folder's)",
  ],
  [/unable to open database/i, "unreachable", "cannot be opened"],
  [/disk I\/O error/i, "failed", "could not be read or written (disk I/O error)"],
  // The schema this program made is gone: changed by hand or by another program.
  [/no such (table|column|index)/i, "damaged", "lacks what its schema should have"],
];

/**
 * The StoreError for an error SQLite raised while doing `action`; other errors (a bug in a
 * statement, an error of the program) are returned as they are.
 */
export function sqliteError(err: unknown, action: string, location: string): unknown {
  if (err instanceof StoreError || !isSqliteError(err)) return err;
  const condition = CONDITIONS.find(([pattern]) => pattern.test(err.message));
  if (!condition) return err;
  const [, problem, says] = condition;
  return new StoreError(
    `Cannot ${action}: database "${location}" ${says} (${err.message})`,
    { problem, cause: err },
  );
}

/** The StoreError for any error raised while opening the file at `location`. */
export function sqliteOpenError(err: unknown, location: string): unknown {
  if (err instanceof StoreError || !(err instanceof Error)) return err;
  const condition = isSqliteError(err)
    ? CONDITIONS.find(([pattern]) => pattern.test(err.message))
    : undefined;
  const [, problem, says] = condition ?? [undefined, "failed" as const, undefined];
  const reason = says && problem !== "unreachable" ? `it ${says} (${err.message})` : err.message;
  return new StoreError(`Cannot open database "${location}": ${reason}`, {
    problem: condition ? problem : "unreachable",
    cause: err,
  });
}

function isSqliteError(err: unknown): err is Error {
  return err instanceof Error && (err as { code?: unknown }).code === "ERR_SQLITE_ERROR";
}
