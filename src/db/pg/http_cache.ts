/** PostgreSQL twin of ../http_cache.ts: validators of conditional discovery requests. */
import type { PgDb } from "./mod.ts";
import type { HttpCacheEntry } from "../http_cache.ts";

/** See getHttpCache() in ../http_cache.ts. */
export async function getHttpCache(db: PgDb, url: string): Promise<HttpCacheEntry | undefined> {
  const [row] = await db.sql<
    { url: string; etag: string | null; last_modified: string | null; checked_at: number }[]
  >`SELECT url, etag, last_modified, checked_at FROM http_cache WHERE url = ${url}`;
  if (!row) return undefined;
  return {
    url: row.url,
    etag: row.etag ?? undefined,
    lastModified: row.last_modified ?? undefined,
    checkedAt: row.checked_at,
  };
}

/** See putHttpCache() in ../http_cache.ts. */
export async function putHttpCache(db: PgDb, entry: HttpCacheEntry): Promise<void> {
  await db.sql`
    INSERT INTO http_cache (url, etag, last_modified, checked_at)
    VALUES (${entry.url}, ${entry.etag ?? null}, ${entry.lastModified ?? null},
      ${entry.checkedAt}::bigint)
    ON CONFLICT (url) DO UPDATE SET etag = excluded.etag,
      last_modified = excluded.last_modified, checked_at = excluded.checked_at`;
}
