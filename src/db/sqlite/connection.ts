/** The SQLite connection of a store: prepared statements and transactions. */
import type { DatabaseSync, StatementSync } from "node:sqlite";

/** One open SQLite file; used only by the modules of this engine. */
export class SqliteConn {
  readonly #statements = new Map<string, StatementSync>();
  readonly #tuples = new Map<string, StatementSync>();
  #conn: DatabaseSync;

  /** `location`: the file, for messages. */
  constructor(conn: DatabaseSync, readonly location: string) {
    this.#conn = conn;
  }

  /** The open connection. */
  get conn(): DatabaseSync {
    return this.#conn;
  }

  /** Closes this connection and goes on with `conn` (the same file, rebuilt). */
  replace(conn: DatabaseSync): void {
    this.#statements.clear();
    this.#tuples.clear();
    this.close();
    this.#conn = conn;
  }

  /** The statement for `sql`, prepared once per connection. */
  stmt(sql: string): StatementSync {
    return this.#prepared(this.#statements, sql, false);
  }

  /**
   * The statement for `sql` whose rows come back as arrays of their columns in order, for the
   * statements of many rows a run reads: an array is read about three times faster than the
   * object node:sqlite makes for each row.
   */
  tuples(sql: string): StatementSync {
    return this.#prepared(this.#tuples, sql, true);
  }

  #prepared(cache: Map<string, StatementSync>, sql: string, arrays: boolean): StatementSync {
    let statement = cache.get(sql);
    if (!statement) {
      statement = this.conn.prepare(sql);
      if (arrays) {
        // Deno's node:sqlite has it (as Node 24's does); the types it ships do not list it yet.
        (statement as StatementSync & { setReturnArrays(on: boolean): void }).setReturnArrays(true);
      }
      cache.set(sql, statement);
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

  /** Closes the file; closing twice is harmless. */
  close(): void {
    if (this.conn.isOpen) this.conn.close();
  }
}
