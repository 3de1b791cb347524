/** The store's entry point: the one place a database connection is opened. */
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { StoreError } from "../util/errors.ts";
import { migrate, SCHEMA_VERSION } from "./schema.ts";
import { isPgUrl, openPg, type PgDb } from "./pg/mod.ts";
import { PG_SCHEMA_VERSION } from "./pg/schema.ts";

/** Options of openDb(). */
export interface OpenDbOptions {
  /** Milliseconds a writer waits for another writer's lock. Default 30000. */
  busyTimeoutMs?: number;
  /** Open without creating or migrating; writes fail. Default false. */
  readOnly?: boolean;
}

/**
 * An open store: a SQLite file or a PostgreSQL database. Callers outside src/db/ only pass it
 * around, name it by `location` and close it.
 */
export type Db = SqliteDb | PgDb;

/** Values a statement accepts as parameters. */
export type Param = SQLInputValue;

/** The SQLite connection behind a Db; used only by modules in src/db/. */
export class SqliteDb {
  readonly engine = "sqlite";
  readonly #statements = new Map<string, StatementSync>();

  /** `location`: where the database lives, for messages. */
  constructor(readonly conn: DatabaseSync, readonly location: string) {}

  /** The statement for `sql`, prepared once per connection. */
  stmt(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.conn.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs `fn` inside BEGIN IMMEDIATE … COMMIT; rolls back when it throws. */
  tx<T>(fn: () => T): T {
    this.conn.exec("BEGIN IMMEDIATE");
    try {
      const value = fn();
      this.conn.exec("COMMIT");
      return value;
    } catch (err) {
      if (this.conn.isTransaction) this.conn.exec("ROLLBACK");
      throw err;
    }
  }

  close(): Promise<void> {
    if (this.conn.isOpen) this.conn.close();
    return Promise.resolve();
  }
}

/**
 * Opens (creating and migrating when needed) the store at `path`: a SQLite file, or the
 * PostgreSQL database of a postgres:// or postgresql:// URL.
 */
export function openDb(path: string, options: OpenDbOptions = {}): Promise<Db> {
  if (isPgUrl(path)) return openPg(path, options);
  // The Promise constructor turns a thrown StoreError into a rejection.
  return new Promise((resolve) => resolve(openSqlite(path, options)));
}

function openSqlite(path: string, options: OpenDbOptions): SqliteDb {
  let conn: DatabaseSync;
  try {
    conn = new DatabaseSync(path, {
      readOnly: options.readOnly ?? false,
      enableForeignKeyConstraints: true,
      timeout: options.busyTimeoutMs ?? 30_000,
    });
  } catch (err) {
    throw new StoreError(`Cannot open database "${path}": ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    if (!options.readOnly) {
      conn.exec("PRAGMA journal_mode = WAL");
      conn.exec("PRAGMA synchronous = NORMAL");
    }
    migrate(conn, path, options.readOnly ?? false);
  } catch (err) {
    conn.close();
    throw err instanceof StoreError
      ? err
      : new StoreError(`Cannot use database "${path}": ${(err as Error).message}`, {
        cause: err,
      });
  }
  return new SqliteDb(conn, path);
}

/** The file that holds the store at `path` on this machine, or null when a server holds it. */
export function storeFile(path: string): string | null {
  return isPgUrl(path) ? null : path;
}

/**
 * Whether the store at `path` exists: its file, for SQLite. A PostgreSQL database always does
 * (its tables are made when it is first opened for writing).
 */
export async function storeExists(path: string): Promise<boolean> {
  const file = storeFile(path);
  return file === null || await Deno.stat(file).then(() => true, () => false);
}

/** The schema version this program writes to the store at `path`. */
export function expectedSchemaVersion(path: string): number {
  return isPgUrl(path) ? PG_SCHEMA_VERSION : SCHEMA_VERSION;
}

/** The SQLite connection of `db`; for src/db/ modules only. */
export function sqlite(db: Db): SqliteDb {
  return db as SqliteDb;
}
