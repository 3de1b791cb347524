/**
 * PostgreSQL: validators of conditional discovery requests per URL, and the holds of sources
 * that failed or asked to be read less often.
 */
import {
  type HttpCacheEntry,
  type HttpCacheStore,
  type Impl,
  type SaveSourceHoldsOptions,
  type SourceHold,
  TRANSFER_COLUMNS,
} from "../store.ts";
import type { PgConn } from "./connection.ts";
import {
  type HttpCacheDbRow,
  type SourceHoldDbRow,
  sourceHoldValues,
  toHttpCacheEntry,
  toSourceHold,
} from "../_rows.ts";

/** The HTTP cache area of the PostgreSQL store. */
export function pgHttpCache(db: PgConn): Impl<HttpCacheStore> {
  return {
    getHttpCache: (options) => getHttpCache(db, options),
    putHttpCache: (entry) => putHttpCache(db, entry),
    sourceHolds: (options) => sourceHolds(db, options?.jobId),
    saveSourceHolds: (options) => saveSourceHolds(db, options),
  };
}

async function getHttpCache(
  db: PgConn,
  { jobId, url }: { jobId: string; url: string },
): Promise<HttpCacheEntry | undefined> {
  const { sql } = db;
  const [row] = await sql<HttpCacheDbRow[]>`
    SELECT ${sql(TRANSFER_COLUMNS.http_cache)} FROM http_cache
    WHERE job_id = ${jobId} AND url = ${url}`;
  return row && toHttpCacheEntry(row);
}

async function putHttpCache(db: PgConn, entry: HttpCacheEntry): Promise<void> {
  await db.sql`
    INSERT INTO http_cache (job_id, url, options_hash, etag, last_modified, checked_at)
    VALUES (${entry.jobId}, ${entry.url}, ${entry.optionsHash}, ${entry.etag ?? null},
      ${entry.lastModified ?? null}, ${entry.checkedAt}::bigint)
    ON CONFLICT (job_id, url) DO UPDATE SET options_hash = excluded.options_hash,
      etag = excluded.etag, last_modified = excluded.last_modified,
      checked_at = excluded.checked_at`;
}

async function sourceHolds(db: PgConn, jobId: string | undefined): Promise<SourceHold[]> {
  const { sql } = db;
  const rows = await sql<SourceHoldDbRow[]>`
    SELECT ${sql(TRANSFER_COLUMNS.source_holds)} FROM source_holds
    WHERE ${jobId ?? null}::text IS NULL OR job_id = ${jobId ?? null}
    ORDER BY until_at, scope, target`;
  return rows.map(toSourceHold);
}

async function saveSourceHolds(db: PgConn, { put, clear }: SaveSourceHoldsOptions): Promise<void> {
  await db.tx(async (sql) => {
    for (const { scope, target } of clear) {
      await sql`DELETE FROM source_holds WHERE scope = ${scope} AND target = ${target}`;
    }
    for (const hold of put) {
      const [scope, target, host, job, failures, until, reason, error, hours, days, updated] =
        sourceHoldValues(hold);
      await sql`
        INSERT INTO source_holds (${sql(TRANSFER_COLUMNS.source_holds)})
        VALUES (${scope}, ${target}, ${host}, ${job}, ${failures}, ${until}::bigint, ${reason},
          ${error}, ${hours}, ${days}, ${updated}::bigint)
        ON CONFLICT (scope, target) DO UPDATE SET host = excluded.host, job_id = excluded.job_id,
          failures = excluded.failures, until_at = excluded.until_at, reason = excluded.reason,
          error = excluded.error, skip_hours = excluded.skip_hours,
          skip_days = excluded.skip_days, updated_at = excluded.updated_at`;
    }
  });
}
