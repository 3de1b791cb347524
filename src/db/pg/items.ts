/** PostgreSQL: discovery upserts, stage sync, item listings. */
import type {
  DerivedStatus,
  EmittedItems,
  Impl,
  ItemListing,
  ItemStage,
  ItemStore,
  ListItemsOptions,
  RetryFailedOptions,
  UpsertCounts,
  UpsertItemsOptions,
} from "../store.ts";
import type { PgConn, Sql } from "./connection.ts";
import { uniqueChunks } from "../_unique_chunks.ts";

/** The Item area of the PostgreSQL store. */
export function pgItems(db: PgConn): Impl<ItemStore> {
  return {
    syncStages: (options) => syncStages(db, options),
    upsertItems: (options) => upsertItems(db, options),
    listItems: (options) => listItems(db, options),
    findKnownKeys: (options) => findKnownKeys(db, options),
    retryFailed: (options) => retryFailed(db, options),
  };
}

const UPSERT_CHUNK = 5000;

/** See the contract; also for other areas of this engine. */
export function syncStages(
  db: PgConn,
  options: { jobId: string; stages: readonly string[] },
): Promise<{ added: string[]; removed: string[] }> {
  return db.tx((sql) => syncStagesTx(sql, options.jobId, options.stages));
}

async function syncStagesTx(sql: Sql, jobId: string, stages: readonly string[]) {
  // Machines that sync the same job at once take turns; the later one finds nothing to do.
  await sql`SELECT pg_advisory_xact_lock(hashtext('jobs.sync_stages'), hashtext(${jobId}))`;
  const current = await sql<{ stage: string }[]>`
    SELECT stage FROM job_stages WHERE job_id = ${jobId} ORDER BY position`;
  const names = current.map((r) => r.stage);
  if (names.join("\0") === stages.join("\0")) return { added: [], removed: [] };
  const removed = names.filter((name) => !stages.includes(name));
  const added = stages.filter((name) => !names.includes(name));
  await sql`DELETE FROM item_stages WHERE job_id = ${jobId} AND stage = ANY(${removed}::text[])`;
  await sql`DELETE FROM job_stages WHERE job_id = ${jobId} AND stage = ANY(${removed}::text[])`;
  await sql`
    INSERT INTO job_stages (job_id, stage, position)
    SELECT ${jobId}, s.stage, s.ord - 1
    FROM unnest(${[...stages]}::text[]) WITH ORDINALITY AS s(stage, ord)
    ON CONFLICT (job_id, stage) DO UPDATE SET position = excluded.position`;
  await sql`
    UPDATE item_stages st SET position = js.position FROM job_stages js
    WHERE st.job_id = ${jobId} AND js.job_id = st.job_id AND js.stage = st.stage
      AND st.position <> js.position`;
  await sql`
    INSERT INTO item_stages (item_id, job_id, stage, position)
    SELECT w.id, w.job_id, js.stage, js.position
    FROM work_items w JOIN job_stages js ON js.job_id = w.job_id
    WHERE w.job_id = ${jobId} AND js.stage = ANY(${added}::text[])`;
  await sql`
    UPDATE item_stages st SET ready = NOT st.ready
    WHERE st.job_id = ${jobId} AND st.ready <> (st.position = 0 OR EXISTS (
      SELECT 1 FROM item_stages p WHERE p.item_id = st.item_id
        AND p.position = st.position - 1 AND p.status IN ('done', 'skipped')))`;
  return { added, removed };
}

async function upsertItems(db: PgConn, options: UpsertItemsOptions): Promise<UpsertCounts> {
  const now = (options.now ?? Date.now)();
  const counts: UpsertCounts = { inserted: 0, updated: 0, unchanged: 0 };
  await syncStages(db, { jobId: options.jobId, stages: options.stages });
  for (const chunk of uniqueChunks(options.items, UPSERT_CHUNK, options.unique)) {
    const [row] = await db.write((sql) =>
      upsertChunk(sql, { jobId: options.jobId, parentId: null, now }, chunk)
    );
    counts.inserted += row.inserted;
    counts.updated += row.updated;
    counts.unchanged += chunk.length - row.inserted - row.updated;
  }
  return counts;
}

/**
 * One statement per chunk: new keys are inserted (with a row per stage), changed data is
 * updated, unchanged items are not touched. xmax = 0 tells an inserted row from an updated one.
 */
function upsertChunk(
  sql: Sql,
  into: { jobId: string; parentId: number | null; now: number },
  chunk: [string, string][],
) {
  const { jobId, parentId, now } = into;
  return sql<{ inserted: number; updated: number }[]>`
    WITH input AS (
      SELECT * FROM unnest(${chunk.map(([key]) => key)}::text[],
        ${chunk.map(([, data]) => data)}::text[]) WITH ORDINALITY AS i(key, data, ord)
    ), up AS (
      INSERT INTO work_items (job_id, key, data, discovered_at, updated_at, parent_id)
      SELECT ${jobId}, key, data, ${now}::bigint, ${now}::bigint, ${parentId}::bigint
      FROM input ORDER BY ord
      ON CONFLICT (job_id, key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at
      WHERE work_items.data IS DISTINCT FROM excluded.data
      RETURNING id, xmax = 0 AS inserted
    ), stages AS (
      INSERT INTO item_stages (item_id, job_id, stage, position, ready)
      SELECT up.id, ${jobId}, js.stage, js.position, js.position = 0
      FROM up JOIN job_stages js ON js.job_id = ${jobId}
      WHERE up.inserted
    )
    SELECT count(*) FILTER (WHERE inserted)::int AS inserted,
      count(*) FILTER (WHERE NOT inserted)::int AS updated
    FROM up`;
}

/**
 * Upserts what finished stages emitted, inside the caller's transaction: each job's stages are
 * synced once, then each parent's items go in with it as their parent.
 */
export async function upsertEmitted(
  sql: Sql,
  emitted: readonly { parentId: number; emit: readonly EmittedItems[] }[],
  now: number,
): Promise<void> {
  const synced = new Set<string>();
  for (const { parentId, emit } of emitted) {
    for (const { jobId, stages, items } of emit) {
      if (!synced.has(jobId)) await syncStagesTx(sql, jobId, stages);
      synced.add(jobId);
      const unique = new Map(items.map((item) => [item.key, JSON.stringify(item.data)]));
      await upsertChunk(sql, { jobId, parentId, now }, [...unique]);
    }
  }
}

async function listItems(db: PgConn, options: ListItemsOptions): Promise<ItemListing[]> {
  const { sql } = db;
  const filters = [sql`v.job_id = ${options.jobId}`];
  if (options.status) filters.push(sql`v.derived_status = ${options.status}`);
  if (options.stage) {
    filters.push(sql`${options.stage} = (SELECT st.stage FROM item_stages st
      WHERE st.item_id = v.item_id AND st.status NOT IN ('done', 'skipped')
      ORDER BY st.position LIMIT 1)`);
  }
  if (options.error) {
    filters.push(sql`EXISTS (SELECT 1 FROM item_stages st
      WHERE st.item_id = v.item_id AND strpos(st.error, ${options.error}) > 0)`);
  }
  if (options.afterId !== undefined) filters.push(sql`v.item_id > ${options.afterId}::bigint`);
  if (options.beforeId !== undefined) filters.push(sql`v.item_id < ${options.beforeId}::bigint`);
  const where = filters.reduce((all, f) => sql`${all} AND ${f}`);
  // Before an item, the nearest ones are read backwards, then put back in discovery order.
  const backwards = options.beforeId !== undefined;
  const items = await sql<{ id: number; key: string; status: DerivedStatus }[]>`
    SELECT v.item_id AS id, w.key, v.derived_status AS status
    FROM item_derived_status v JOIN work_items w ON w.id = v.item_id
    WHERE ${where} ORDER BY v.item_id ${backwards ? sql`DESC` : sql`ASC`}
    LIMIT ${options.limit ?? 100}`;
  if (backwards) items.reverse();
  const stages = new Map<number, ItemStage[]>(items.map((item) => [item.id, []]));
  const rows = await sql<(ItemStage & { item_id: number })[]>`
    SELECT item_id, stage, status, attempts, error FROM item_stages
    WHERE item_id = ANY(${items.map((item) => item.id)}::bigint[]) ORDER BY item_id, position`;
  for (const { item_id, ...stage } of rows) stages.get(item_id)!.push(stage);
  return items.map((item) => ({
    id: item.id,
    key: item.key,
    status: item.status,
    stages: stages.get(item.id)!,
  }));
}

async function findKnownKeys(
  db: PgConn,
  options: { jobId: string; keys: readonly string[] },
): Promise<Set<string>> {
  const rows = await db.sql<{ key: string }[]>`
    SELECT key FROM work_items WHERE job_id = ${options.jobId}
      AND key = ANY(${[...options.keys]}::text[])`;
  return new Set(rows.map((r) => r.key));
}

/** the rows and their event in one statement. */
async function retryFailed(db: PgConn, options: RetryFailedOptions): Promise<number> {
  const { sql } = db;
  const where = [
    sql`st.job_id = ${options.jobId} AND st.status = 'failed'`,
    options.stage === undefined
      ? sql`st.stage IN (SELECT stage FROM job_stages WHERE job_id = ${options.jobId})`
      : sql`st.stage = ${options.stage}`,
  ];
  if (options.errorContains !== undefined) {
    where.push(sql`strpos(st.error, ${options.errorContains}) > 0`);
  }
  if (options.itemKey !== undefined) {
    where.push(sql`st.item_id = (SELECT id FROM work_items
      WHERE job_id = ${options.jobId} AND key = ${options.itemKey})`);
  }
  const now = (options.now ?? Date.now)();
  const data = {
    stage: options.stage,
    errorContains: options.errorContains,
    itemKey: options.itemKey,
  };
  const [row] = await db.write((sql) =>
    sql<{ n: number }[]>`
    WITH reset AS (
      UPDATE item_stages st SET status = 'pending', attempts = 0, crashes = 0, run_after = 0, error = NULL,
        claimed_by = NULL, lease_until = NULL, started_at = NULL, finished_at = NULL,
        ready = (st.position = 0 OR EXISTS (SELECT 1 FROM item_stages p
          WHERE p.item_id = st.item_id AND p.position = st.position - 1
            AND p.status IN ('done', 'skipped')))
      WHERE ${where.reduce((all, w) => sql`${all} AND ${w}`)}
      RETURNING 1
    ), n AS (SELECT count(*)::int AS n FROM reset), logged AS (
      INSERT INTO events (ts, job_id, stage, kind, message, data)
      SELECT ${now}::bigint, ${options.jobId}, ${options.stage ?? null}, 'retry_failed',
        'reset ' || n || ' failed stage' || CASE WHEN n = 1 THEN '' ELSE 's' END || ' to pending',
        (${JSON.stringify(data)}::text::jsonb || jsonb_build_object('count', n))::text
      FROM n WHERE n > 0
    )
    SELECT n FROM n`
  );
  return row.n;
}
