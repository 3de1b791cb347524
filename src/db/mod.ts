/**
 * The store's entry point: `openDb()` is the one place that knows there are two engines, a
 * SQLite file and a PostgreSQL database.
 */
import { withDerived } from "./_derived.ts";
import type { Store } from "./store.ts";
import { openSqlite } from "./sqlite/mod.ts";
import { isServerUrl } from "./location.ts";

/** Options of openDb(). */
export interface OpenDbOptions {
  /** Milliseconds a writer waits for another writer's lock. Default 30000. */
  busyTimeoutMs?: number;
  /** Open without creating or migrating; writes fail. Default false. */
  readOnly?: boolean;
}

/**
 * Opens (creating and migrating when needed) the store at `location`: a SQLite file, or the
 * PostgreSQL database of a postgres:// or postgresql:// URL.
 */
export async function openDb(location: string, options: OpenDbOptions = {}): Promise<Store> {
  // The PostgreSQL engine and its driver are loaded only for a server URL: a SQLite run never
  // pays their start-up time and memory.
  const engine = isServerUrl(location)
    ? await (await import("./pg/mod.ts")).openPg(location, options)
    : await openSqlite(location, options);
  return withDerived(engine);
}
