/**
 * SQLite: validators of conditional discovery requests (ETag / Last-Modified) per URL, and
 * the holds of sources that failed or asked to be read less often.
 */
import {
  type HttpCacheEntry,
  type HttpCacheStore,
  type Impl,
  type SaveSourceHoldsOptions,
  type SourceHold,
  TRANSFER_COLUMNS,
} from "../store.ts";
import type { SqliteConn } from "./connection.ts";
import {
  type HttpCacheDbRow,
  type SourceHoldDbRow,
  sourceHoldValues,
  toHttpCacheEntry,
  toSourceHold,
} from "../_rows.ts";

/** The HTTP cache area of the SQLite store. */
export function sqliteHttpCache(s: SqliteConn): Impl<HttpCacheStore> {
  return {
    getHttpCache: (options) => getHttpCache(s, options),
    putHttpCache: (entry) => putHttpCache(s, entry),
    sourceHolds: (options) => sourceHolds(s, options?.jobId),
    saveSourceHolds: (options) => saveSourceHolds(s, options),
  };
}

const CACHE_COLUMNS = TRANSFER_COLUMNS.http_cache.join(", ");

function getHttpCache(
  s: SqliteConn,
  { jobId, url }: { jobId: string; url: string },
): HttpCacheEntry | undefined {
  const row = s.stmt(`SELECT ${CACHE_COLUMNS} FROM http_cache WHERE job_id = ? AND url = ?`)
    .get(jobId, url) as HttpCacheDbRow | undefined;
  return row && toHttpCacheEntry(row);
}

function putHttpCache(s: SqliteConn, entry: HttpCacheEntry): void {
  s.stmt(
    `INSERT INTO http_cache (${CACHE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (job_id, url) DO UPDATE SET options_hash = excluded.options_hash,
       etag = excluded.etag, last_modified = excluded.last_modified,
       checked_at = excluded.checked_at`,
  ).run(
    entry.jobId,
    entry.url,
    entry.optionsHash,
    entry.etag ?? null,
    entry.lastModified ?? null,
    entry.checkedAt,
  );
}

const HOLD_COLUMNS = TRANSFER_COLUMNS.source_holds.join(", ");

function sourceHolds(s: SqliteConn, jobId: string | undefined): SourceHold[] {
  const rows = s.stmt(
    `SELECT ${HOLD_COLUMNS} FROM source_holds WHERE ? IS NULL OR job_id = ?
     ORDER BY until_at, scope, target`,
  ).all(jobId ?? null, jobId ?? null) as unknown as SourceHoldDbRow[];
  return rows.map(toSourceHold);
}

function saveSourceHolds(s: SqliteConn, { put, clear }: SaveSourceHoldsOptions): void {
  const marks = TRANSFER_COLUMNS.source_holds.map(() => "?").join(", ");
  s.tx(() => {
    for (const { scope, target } of clear) {
      s.stmt("DELETE FROM source_holds WHERE scope = ? AND target = ?").run(scope, target);
    }
    for (const hold of put) {
      s.stmt(`INSERT OR REPLACE INTO source_holds (${HOLD_COLUMNS}) VALUES (${marks})`)
        .run(...sourceHoldValues(hold));
    }
  });
}
