/** Fresh temporary databases for store tests, on SQLite or (JOBS_TEST_PG_URL) PostgreSQL. */
import type { ResultRow, Store } from "../../src/db/store.ts";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import postgres from "postgres";
import { openDb } from "../../src/db/mod.ts";

/** The PostgreSQL server the store suite runs against instead of SQLite, when set. */
export const TEST_PG_URL: string | undefined = Deno.env.get("JOBS_TEST_PG_URL") || undefined;

/** Options of a test that inspects SQLite itself: skipped when the suite runs on PostgreSQL. */
export const SQLITE_ONLY: { ignore: boolean } = { ignore: TEST_PG_URL !== undefined };

/** Options of a test that needs a PostgreSQL server: skipped unless JOBS_TEST_PG_URL is set. */
export const PG_ONLY: { ignore: boolean } = { ignore: TEST_PG_URL === undefined };

/** A store in a new temporary folder (and schema, on PostgreSQL), removed on dispose. */
export interface TempDb extends AsyncDisposable {
  db: Store;
  dir: string;
  /** What openDb() takes to open the same store again: a file path or a postgres:// URL. */
  path: string;
}

/**
 * Opens a fresh store: a SQLite file in a temporary folder, or, when JOBS_TEST_PG_URL is set,
 * a new schema of that PostgreSQL database (the folder is made too, for the test's files).
 */
export async function tempDb(): Promise<TempDb> {
  const dir = await Deno.makeTempDir({ prefix: "jobs-test-" });
  const scratch = TEST_PG_URL ? await scratchSchema(TEST_PG_URL) : undefined;
  const path = scratch?.url ?? `${dir}/jobs.sqlite`;
  const db = await openDb(path);
  return {
    db,
    dir,
    path,
    async [Symbol.asyncDispose]() {
      await db.close();
      await scratch?.drop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A new, empty schema on the server at `url`, and the URL that makes it the search path. */
export async function scratchSchema(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `jobs_test_${crypto.randomUUID().replaceAll("-", "")}`;
  await admin(url, (sql) => sql`CREATE SCHEMA ${sql(name)}`);
  const scoped = new URL(url);
  scoped.searchParams.set("search_path", name);
  return {
    url: scoped.toString(),
    drop: () => admin(url, (sql) => sql`DROP SCHEMA ${sql(name)} CASCADE`),
  };
}

/** Runs `fn` on a connection of its own to `url`. */
export async function admin(
  url: string,
  fn: (sql: postgres.Sql) => Promise<unknown>,
): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await fn(sql);
  } finally {
    await sql.end();
  }
}

/** The stored results of the item with id `itemId` of `jobId`, in pipeline order. */
export async function resultsOf(db: Store, itemId: number, jobId = "j"): Promise<ResultRow[]> {
  const key = (await db.getItemKeys({ itemIds: [itemId] })).get(itemId);
  const item = key === undefined ? undefined : await db.getItemDetail({ jobId, key });
  if (!item) throw new Error(`No item ${itemId} in job "${jobId}"`);
  return item.results;
}

/** The stored result of one stage of the item with id `itemId` of `jobId`, if any. */
export async function resultOf(
  db: Store,
  itemId: number,
  stage: string,
  jobId = "j",
): Promise<ResultRow | undefined> {
  return (await resultsOf(db, itemId, jobId)).find((r) => r.stage === stage);
}

/** `n` items keyed k1…kn with data { n: i }. */
export function makeItems(n: number, from = 1): { key: string; data: Record<string, unknown> }[] {
  return Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, data: { n: from + i } }));
}

/** A clock the test moves by hand. */
export function fakeClock(
  start = Date.UTC(2026, 0, 1),
): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** Checks, on a store just migrated, that validators kept per URL are gone and each job has its own. */
export async function assertValidatorsPerJob(db: Store): Promise<void> {
  const key = { jobId: "j", url: "https://a.test/feed" };
  assertEquals(await db.getHttpCache(key), undefined);
  await db.putHttpCache({ ...key, optionsHash: "h", etag: '"2"', checkedAt: 2 });
  await db.putHttpCache({ ...key, jobId: "k", optionsHash: "g", checkedAt: 3 });
  assertEquals(await db.getHttpCache(key), {
    ...key,
    optionsHash: "h",
    etag: '"2"',
    lastModified: undefined,
    checkedAt: 2,
  });
}
