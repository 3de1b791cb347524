/** Where a store lives: a SQLite file on this machine, or a PostgreSQL server's URL. */
import { resolve } from "node:path";

/** The file that holds the store at `location` on this machine, or null when a server holds it. */
export function storeFile(location: string): string | null {
  return isServerUrl(location) ? null : location;
}

/**
 * Whether the store at `location` exists: its file, for SQLite. A PostgreSQL database always
 * does (its tables are made when it is first opened for writing).
 */
export async function storeExists(location: string): Promise<boolean> {
  const file = storeFile(location);
  return file === null || await Deno.stat(file).then(() => true, () => false);
}

/**
 * Where `jobctl test` keeps its scratch store for the store at `location`: a SQLite file beside
 * the production file, or `jobs.test.sqlite` in `dir` when a server holds the store.
 */
export function scratchStoreFile(location: string, dir: string): string {
  const file = storeFile(location);
  if (file === null) return `${dir.replace(/\/$/, "")}/jobs.test.sqlite`;
  return file.endsWith(".sqlite")
    ? file.replace(/\.sqlite$/, ".test.sqlite")
    : `${file}.test.sqlite`;
}

/** `location` as given in jobs.yaml: a server URL as it is, a file path resolved against `dir`. */
export function resolveStoreLocation(location: string, dir: string): string {
  return isServerUrl(location) ? location : resolve(dir, location);
}

/** Removes the SQLite file `file` with its write-ahead log; a missing file is fine. */
export async function removeStoreFile(file: string): Promise<void> {
  for (const suffix of ["", "-wal", "-shm"]) {
    await Deno.remove(file + suffix).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }
}

/** Whether `location` names a database server (PostgreSQL) rather than a SQLite file. */
export function isServerUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//.test(location);
}
