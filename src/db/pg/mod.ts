/** The PostgreSQL engine: opens a pool and returns the store contract implemented on it. */
import postgres from "postgres";
import type { EngineStore, Impl } from "../store.ts";
import { guardStore } from "../_guard.ts";
import { redactUrl } from "../../util/url.ts";
import { PgConn, type Pool } from "./connection.ts";
import { pgError, pgOpenError } from "./errors.ts";
import { migrate } from "./schema.ts";
import { pgItems } from "./items.ts";
import { pgClaims } from "./claims.ts";
import { pgLeases } from "./leases.ts";
import { pgJobs } from "./jobs.ts";
import { pgEvents } from "./events.ts";
import { pgResults } from "./results.ts";
import { pgHealth } from "./health.ts";
import { pgHttpCache } from "./http_cache.ts";
import { pgItemDetail } from "./item_detail.ts";
import { pgReadModel } from "./read_model.ts";
import { pgTransfer } from "./transfer.ts";
import { pgRuns } from "./runs.ts";
import { pgRetention } from "./retention.ts";
import { pgAlerts } from "./alerts.ts";
import { pgMetrics } from "./metrics.ts";

/** Custom types of the pool: bigint columns (times in ms, ids) come back as numbers. */
const TYPES = {
  bigint: {
    to: 20,
    from: [20],
    serialize: (value: number) => String(value),
    parse: (raw: string) => Number(raw),
  },
};

/** Options of openPg(). */
export interface OpenPgOptions {
  /** Milliseconds a writer waits for a row lock (lock_timeout). Default 30000. */
  busyTimeoutMs?: number;
  /** Open without migrating; every transaction is read-only. Default false. */
  readOnly?: boolean;
}

/**
 * Opens a pool to the PostgreSQL database at `url` (user and password from the URL or the PG*
 * environment variables), checks the connection and migrates the schema.
 */
export async function openPg(url: string, options: OpenPgOptions = {}): Promise<EngineStore> {
  const where = { location: redactUrl(url), hide: passwordOf(url) };
  const fail = (err: unknown, how: string) => pgOpenError(err, `${how} "${where.location}"`, where);
  let pool: Pool;
  try {
    pool = postgres(url, { ...poolOptions(options), types: TYPES });
  } catch (err) {
    throw fail(err, "Cannot use database");
  }
  try {
    await pool`SELECT 1`;
  } catch (err) {
    await pool.end({ timeout: 0 });
    throw fail(err, "Cannot connect to database");
  }
  const conn = new PgConn(pool, where.location);
  try {
    await migrate(pool, where.location, options.readOnly ?? false);
  } catch (err) {
    await conn.close();
    throw fail(err, "Cannot use database");
  }
  return guardStore(engine(conn), (err, action) => pgError(err, action, where));
}

function poolOptions(options: OpenPgOptions) {
  const connection: Record<string, string> = {
    lock_timeout: String(options.busyTimeoutMs ?? 30_000),
    // item_stages is a queue: its rows change state faster than statistics follow. A plan made
    // per execution from those statistics (and from the size of a batch's arrays) can drive a
    // batch from a scan of the table; the generic plan of each statement looks rows up by key.
    plan_cache_mode: "force_generic_plan",
  };
  if (options.readOnly) connection.default_transaction_read_only = "on";
  return { max: 10, onnotice: () => {}, connect_timeout: 10, connection };
}

/** The password in `url`, to keep it out of messages; "" when there is none. */
function passwordOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    // An unparsable URL: the driver rejects it before any password is used.
    return "";
  }
}

function engine(conn: PgConn): Impl<EngineStore> {
  return {
    location: conn.location,
    close: () => conn.close(),
    ...pgItems(conn),
    ...pgClaims(conn),
    ...pgLeases(conn),
    ...pgJobs(conn),
    ...pgEvents(conn),
    ...pgResults(conn),
    ...pgHealth(conn),
    ...pgHttpCache(conn),
    ...pgItemDetail(conn),
    ...pgReadModel(conn),
    ...pgTransfer(conn),
    ...pgRuns(conn),
    ...pgRetention(conn),
    ...pgAlerts(conn),
    ...pgMetrics(conn),
  };
}
