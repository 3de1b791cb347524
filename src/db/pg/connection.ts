/** The PostgreSQL connection pool of a store: queries, retried writes and transactions. */
import type postgres from "postgres";

/** A piece of SQL with its parameters, to build a statement from parts. */
export type Fragment = postgres.Fragment;

/** The connection pool. */
export type Pool = postgres.Sql<{ bigint: number }>;

/** A query function of the pool or of an open transaction. */
export type Sql = postgres.ISql<{ bigint: number }>;

/** Errors PostgreSQL raises when a transaction lost a race and may simply run again. */
const RETRYABLE = new Set(["40P01", "40001"]);
const MAX_TRIES = 5;

/** The pool behind a store; used only by the modules of this engine. */
export class PgConn {
  /** `location`: the URL without its password, for messages. */
  constructor(readonly pool: Pool, readonly location: string) {}

  /** The pool's query function, for reads and single statements that cannot deadlock. */
  get sql(): Sql {
    return this.pool;
  }

  /**
   * Runs a write that may lose a deadlock against another machine's write (PostgreSQL aborts
   * one of them); it runs again, from scratch, up to a few times.
   */
  write<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return retry(() => fn(this.pool));
  }

  /** Runs `fn` in one transaction (retried like write()); rolls back when it throws. */
  tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return retry(() => this.pool.begin((tx) => fn(tx)) as Promise<T>);
  }

  /** Closes the pool, giving running queries a few seconds. */
  close(): Promise<void> {
    return this.pool.end({ timeout: 5 });
  }
}

async function retry<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await run();
    } catch (err) {
      const code = (err as { code?: string }).code ?? "";
      if (attempt >= MAX_TRIES || !RETRYABLE.has(code)) throw err;
    }
  }
}
