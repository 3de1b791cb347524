/** The SQLite engine: opens a file and returns the store contract implemented on it. */
import { DatabaseSync } from "node:sqlite";
import type { EngineStore, Impl } from "../store.ts";
import { guardStore } from "../_guard.ts";
import { SqliteConn } from "./connection.ts";
import { sqliteError, sqliteOpenError } from "./errors.ts";
import { migrate, prepareNewFile } from "./schema.ts";
import { sqliteItems } from "./items.ts";
import { sqliteClaims } from "./claims.ts";
import { sqliteLeases } from "./leases.ts";
import { sqliteJobs } from "./jobs.ts";
import { sqliteEvents } from "./events.ts";
import { sqliteResults } from "./results.ts";
import { sqliteHealth } from "./health.ts";
import { sqliteHttpCache } from "./http_cache.ts";
import { sqliteItemDetail } from "./item_detail.ts";
import { sqliteReadModel } from "./read_model.ts";
import { sqliteTransfer } from "./transfer.ts";
import { sqliteRuns } from "./runs.ts";
import { sqliteRetention } from "./retention.ts";
import { sqliteAlerts } from "./alerts.ts";
import { sqliteMetrics } from "./metrics.ts";

/** Options of openSqlite(). */
export interface OpenSqliteOptions {
  /** Milliseconds a writer waits for another writer's lock. Default 30000. */
  busyTimeoutMs?: number;
  /** Open without creating or migrating; writes fail. Default false. */
  readOnly?: boolean;
}

/** Opens (creating and migrating when needed) the SQLite file at `path`. */
export function openSqlite(path: string, options: OpenSqliteOptions = {}): Promise<EngineStore> {
  // The Promise constructor turns a thrown StoreError into a rejection.
  return new Promise((resolve) => resolve(open(path, options)));
}

function open(path: string, options: OpenSqliteOptions): EngineStore {
  const s = connect(path, options);
  return guardStore(engine(s), (err, action) => sqliteError(err, action, path));
}

/** The connection the store at `path` works on: WAL, foreign keys, busy timeout, migrated. */
export function connect(path: string, options: OpenSqliteOptions = {}): SqliteConn {
  const readOnly = options.readOnly ?? false;
  let conn: DatabaseSync;
  try {
    conn = new DatabaseSync(path, {
      readOnly,
      enableForeignKeyConstraints: true,
      timeout: options.busyTimeoutMs ?? 30_000,
    });
  } catch (err) {
    throw sqliteOpenError(err, path);
  }
  try {
    if (!readOnly) {
      prepareNewFile(conn);
      conn.exec("PRAGMA journal_mode = WAL");
      conn.exec("PRAGMA synchronous = NORMAL");
    }
    migrate(conn, path, readOnly);
  } catch (err) {
    conn.close();
    throw sqliteOpenError(err, path);
  }
  return new SqliteConn(conn, path);
}

function engine(s: SqliteConn): Impl<EngineStore> {
  return {
    location: s.location,
    close: () => s.close(),
    ...sqliteItems(s),
    ...sqliteClaims(s),
    ...sqliteLeases(s),
    ...sqliteJobs(s),
    ...sqliteEvents(s),
    ...sqliteResults(s),
    ...sqliteHealth(s),
    ...sqliteHttpCache(s),
    ...sqliteItemDetail(s),
    ...sqliteReadModel(s),
    ...sqliteTransfer(s),
    ...sqliteRuns(s),
    ...sqliteRetention(s),
    ...sqliteAlerts(s),
    ...sqliteMetrics(s),
  };
}
