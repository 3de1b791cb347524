/** Validators of conditional discovery requests (ETag / Last-Modified) per URL. */
import { type Db, sqlite } from "./mod.ts";
import * as pg from "./pg/http_cache.ts";

/** What a server said about a URL last time. */
export interface HttpCacheEntry {
  url: string;
  etag?: string;
  lastModified?: string;
  checkedAt: number;
}

/** The stored validators of `url`, if any. */
export function getHttpCache(db: Db, url: string): Promise<HttpCacheEntry | undefined> {
  if (db.engine === "postgres") return pg.getHttpCache(db, url);
  const row = sqlite(db).stmt(
    "SELECT url, etag, last_modified, checked_at FROM http_cache WHERE url = ?",
  ).get(url) as
    | { url: string; etag: string | null; last_modified: string | null; checked_at: number }
    | undefined;
  if (!row) return Promise.resolve(undefined);
  return Promise.resolve({
    url: row.url,
    etag: row.etag ?? undefined,
    lastModified: row.last_modified ?? undefined,
    checkedAt: row.checked_at,
  });
}

/** Stores (replaces) the validators of a URL. */
export function putHttpCache(db: Db, entry: HttpCacheEntry): Promise<void> {
  if (db.engine === "postgres") return pg.putHttpCache(db, entry);
  sqlite(db).stmt(
    `INSERT INTO http_cache (url, etag, last_modified, checked_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (url) DO UPDATE SET etag = excluded.etag,
       last_modified = excluded.last_modified, checked_at = excluded.checked_at`,
  ).run(entry.url, entry.etag ?? null, entry.lastModified ?? null, entry.checkedAt);
  return Promise.resolve();
}
