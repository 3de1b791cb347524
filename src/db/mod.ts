/** The store's entry point: the one place a database connection is opened. */
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { StoreError } from "../util/errors.ts";
import { migrate } from "./schema.ts";

/** Options of openDb(). */
export interface OpenDbOptions {
  /** Milliseconds a writer waits for another writer's lock. Default 30000. */
  busyTimeoutMs?: number;
  /** Open without creating or migrating; writes fail. Default false. */
  readOnly?: boolean;
}

/** An open store. Callers outside src/db/ only pass it around and close it. */
export interface Db {
  readonly engine: "sqlite";
  /** Where the database lives, for messages. */
  readonly location: string;
  close(): Promise<void>;
}

/** Values a statement accepts as parameters. */
export type Param = SQLInputValue;

/** The SQLite connection behind a Db; used only by modules in src/db/. */
export class SqliteDb implements Db {
  readonly engine = "sqlite";
  readonly #statements = new Map<string, StatementSync>();

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

/** Opens (creating and migrating when needed) the SQLite database at `path`. */
export function openDb(path: string, options: OpenDbOptions = {}): Promise<Db> {
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

/** The SQLite connection of `db`; for src/db/ modules only. */
export function sqlite(db: Db): SqliteDb {
  return db as SqliteDb;
}
