/** SQLite: validators of conditional discovery requests (ETag / Last-Modified) per URL. */
import type { HttpCacheEntry, HttpCacheStore, Impl } from "../store.ts";
import type { SqliteConn } from "./connection.ts";

/** The httpcache area of the SQLite store. */
export function sqliteHttpCache(s: SqliteConn): Impl<HttpCacheStore> {
  return {
    getHttpCache: (url) => getHttpCache(s, url),
    putHttpCache: (entry) => putHttpCache(s, entry),
  };
}

function getHttpCache(s: SqliteConn, url: string): HttpCacheEntry | undefined {
  const row = s.stmt(
    "SELECT url, etag, last_modified, checked_at FROM http_cache WHERE url = ?",
  ).get(url) as
    | { url: string; etag: string | null; last_modified: string | null; checked_at: number }
    | undefined;
  if (!row) return undefined;
  return {
    url: row.url,
    etag: row.etag ?? undefined,
    lastModified: row.last_modified ?? undefined,
    checkedAt: row.checked_at,
  };
}

function putHttpCache(s: SqliteConn, entry: HttpCacheEntry): void {
  s.stmt(
    `INSERT INTO http_cache (url, etag, last_modified, checked_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (url) DO UPDATE SET etag = excluded.etag,
       last_modified = excluded.last_modified, checked_at = excluded.checked_at`,
  ).run(entry.url, entry.etag ?? null, entry.lastModified ?? null, entry.checkedAt);
  return;
}
