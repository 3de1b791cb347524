/** The PostgreSQL engine of the store: the connection pool behind a Db. */
import postgres from "postgres";
import { StoreError } from "../../util/errors.ts";
import { migrate } from "./schema.ts";

/** A piece of SQL with its parameters, to build a statement from parts. */
export type Fragment = postgres.Fragment;

/** Custom types of the pool: bigint columns (times in ms, ids) come back as numbers. */
const TYPES = {
  bigint: {
    to: 20,
    from: [20],
    serialize: (value: number) => String(value),
    parse: (raw: string) => Number(raw),
  },
};

/** The connection pool. */
export type Pool = postgres.Sql<{ bigint: number }>;

/** A query function of the pool or of an open transaction. */
export type Sql = postgres.ISql<{ bigint: number }>;

/** Options of openPg(); the same as openDb()'s. */
export interface OpenPgOptions {
  /** Milliseconds a writer waits for a row lock (lock_timeout). Default 30000. */
  busyTimeoutMs?: number;
  /** Open without migrating; every transaction is read-only. Default false. */
  readOnly?: boolean;
}

/** Errors PostgreSQL raises when a transaction lost a race and may simply run again. */
const RETRYABLE = new Set(["40P01", "40001"]);
const MAX_TRIES = 5;

/** The PostgreSQL pool behind a Db; used only by modules in src/db/. */
export class PgDb {
  readonly engine = "postgres";

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

/** Whether `location` names a PostgreSQL database rather than a SQLite file. */
export function isPgUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//.test(location);
}

/** `url` with its password replaced by "***", for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, "//$1:***@");
  }
}

/**
 * Opens a pool to the PostgreSQL database at `url` (user and password from the URL or the PG*
 * environment variables), checks the connection and migrates the schema.
 */
export async function openPg(url: string, options: OpenPgOptions = {}): Promise<PgDb> {
  const location = redactUrl(url);
  const connection: Record<string, string> = {
    lock_timeout: String(options.busyTimeoutMs ?? 30_000),
    // item_stages is a queue: its rows change state faster than statistics follow. A plan made
    // per execution from those statistics (and from the size of a batch's arrays) can drive a
    // batch from a scan of the table; the generic plan of each statement looks rows up by key.
    plan_cache_mode: "force_generic_plan",
  };
  if (options.readOnly) connection.default_transaction_read_only = "on";
  let pool: Pool;
  try {
    pool = postgres(url, {
      max: 10,
      onnotice: () => {},
      connect_timeout: 10,
      types: TYPES,
      connection,
    });
  } catch (err) {
    throw new StoreError(`Cannot use database "${location}": ${describe(err, url)}`);
  }
  try {
    await pool`SELECT 1`;
  } catch (err) {
    await pool.end({ timeout: 0 });
    throw new StoreError(`Cannot connect to database "${location}": ${describe(err, url)}`);
  }
  const db = new PgDb(pool, location);
  try {
    await migrate(db.pool, location, options.readOnly ?? false);
  } catch (err) {
    await db.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError(`Cannot use database "${location}": ${describe(err, url)}`);
  }
  return db;
}

/** The message of a driver error, never with the password in it. */
function describe(err: unknown, url: string): string {
  const message = err instanceof Error ? err.message : String(err);
  let password = "";
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // An unparsable URL: the driver rejected it before any password was used.
  }
  return password ? message.split(password).join("***") : message;
}
