/** PostgreSQL: validators of conditional discovery requests per URL. */
import type { HttpCacheEntry, HttpCacheStore, Impl } from "../store.ts";
import type { PgConn } from "./connection.ts";
import { type HttpCacheDbRow, toHttpCacheEntry } from "../_rows.ts";

/** The HTTP cache area of the PostgreSQL store. */
export function pgHttpCache(db: PgConn): Impl<HttpCacheStore> {
  return {
    getHttpCache: (url) => getHttpCache(db, url),
    putHttpCache: (entry) => putHttpCache(db, entry),
  };
}

async function getHttpCache(db: PgConn, url: string): Promise<HttpCacheEntry | undefined> {
  const [row] = await db.sql<HttpCacheDbRow[]>`
    SELECT url, etag, last_modified, checked_at FROM http_cache WHERE url = ${url}`;
  return row && toHttpCacheEntry(row);
}

async function putHttpCache(db: PgConn, entry: HttpCacheEntry): Promise<void> {
  await db.sql`
    INSERT INTO http_cache (url, etag, last_modified, checked_at)
    VALUES (${entry.url}, ${entry.etag ?? null}, ${entry.lastModified ?? null},
      ${entry.checkedAt}::bigint)
    ON CONFLICT (url) DO UPDATE SET etag = excluded.etag,
      last_modified = excluded.last_modified, checked_at = excluded.checked_at`;
}
