/** SQLite: validators of conditional discovery requests (ETag / Last-Modified) per URL. */
import type { HttpCacheEntry, HttpCacheStore, Impl } from "../store.ts";
import type { SqliteConn } from "./connection.ts";
import { type HttpCacheDbRow, toHttpCacheEntry } from "../_rows.ts";

/** The HTTP cache area of the SQLite store. */
export function sqliteHttpCache(s: SqliteConn): Impl<HttpCacheStore> {
  return {
    getHttpCache: (url) => getHttpCache(s, url),
    putHttpCache: (entry) => putHttpCache(s, entry),
  };
}

function getHttpCache(s: SqliteConn, url: string): HttpCacheEntry | undefined {
  const row = s.stmt(
    "SELECT url, etag, last_modified, checked_at FROM http_cache WHERE url = ?",
  ).get(url) as HttpCacheDbRow | undefined;
  return row && toHttpCacheEntry(row);
}

function putHttpCache(s: SqliteConn, entry: HttpCacheEntry): void {
  s.stmt(
    `INSERT INTO http_cache (url, etag, last_modified, checked_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (url) DO UPDATE SET etag = excluded.etag,
       last_modified = excluded.last_modified, checked_at = excluded.checked_at`,
  ).run(entry.url, entry.etag ?? null, entry.lastModified ?? null, entry.checkedAt);
}
