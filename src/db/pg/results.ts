/** PostgreSQL: results, handler versions, staleness, reprocessing. */
import type {
  DoneResult,
  DoneResultsOptions,
  Impl,
  ReprocessOptions,
  ResultRow,
  ResultStore,
  StaleOptions,
} from "../store.ts";
import type { Fragment, PgConn, Sql } from "./connection.ts";
import { type ResultDbRow, toResult } from "../_rows.ts";

/** The Result area of the PostgreSQL store. */
export function pgResults(db: PgConn): Impl<ResultStore> {
  return {
    setHandlerVersion: (options) => setHandlerVersion(db, options),
    getStaleCount: (options) => getStaleCount(db, options),
    reprocessStale: (options) => reprocessStale(db, options),
    reprocessStage: (options) => reprocessStage(db, options),
    getDoneResults: (options) => getDoneResults(db, options),
  };
}

export async function getResults(db: PgConn, itemId: number): Promise<ResultRow[]> {
  const rows = await db.sql<ResultDbRow[]>`
    SELECT r.item_id, r.stage, r.handler_version, r.result, r.created_at
    FROM results r LEFT JOIN item_stages s ON s.item_id = r.item_id AND s.stage = r.stage
    WHERE r.item_id = ${itemId}::bigint
    ORDER BY coalesce(s.position, 1000000000), r.stage COLLATE "C"`;
  return rows.map(toResult);
}

async function setHandlerVersion(
  db: PgConn,
  options: { jobId: string; stage: string; version: string | null },
): Promise<void> {
  await db.sql`
    UPDATE job_stages SET handler_version = ${options.version}
    WHERE job_id = ${options.jobId} AND stage = ${options.stage}
      AND handler_version IS DISTINCT FROM ${options.version}::text`;
}

/**
 * Stale results of done stages of the job: the stage has a current version (its entry in
 * `versions`, else the recorded one) and the result's differs (a result of a stage reset for
 * reprocessing is not stale again).
 */
function staleWhere(sql: Sql, options: StaleOptions): Fragment {
  const { jobId } = options;
  const versions = JSON.stringify(options.versions ?? {});
  const current = sql`(CASE WHEN jsonb_exists(${versions}::text::jsonb, js.stage)
    THEN ${versions}::text::jsonb ->> js.stage ELSE js.handler_version END)`;
  return sql`r.item_id IN (SELECT id FROM work_items WHERE job_id = ${jobId})
    AND r.stage = js.stage AND js.job_id = ${jobId} AND ${current} IS NOT NULL
    AND r.handler_version IS DISTINCT FROM ${current}
    AND EXISTS (SELECT 1 FROM item_stages st
      WHERE st.item_id = r.item_id AND st.stage = r.stage AND st.status = 'done')`;
}

async function getStaleCount(
  db: PgConn,
  options: StaleOptions,
): Promise<Record<string, number>> {
  const rows = await db.sql<{ stage: string; n: number }[]>`
    SELECT js.stage, count(*)::int AS n FROM results r, job_stages js
    WHERE ${staleWhere(db.sql, options)} GROUP BY js.stage`;
  return Object.fromEntries(rows.map((r) => [r.stage, r.n]));
}

type Target = { item_id: number; position: number };

function reprocessStale(db: PgConn, options: ReprocessOptions): Promise<number> {
  return db.tx(async (sql) => {
    const targets = await sql<Target[]>`
      SELECT r.item_id, min(js.position) AS position FROM results r, job_stages js
      WHERE ${staleWhere(sql, options)}
        ${options.stage === undefined ? sql`` : sql`AND js.stage = ${options.stage}`}
      GROUP BY r.item_id`;
    return await resetFrom(sql, options, targets, "stale results");
  });
}

function reprocessStage(
  db: PgConn,
  options: ReprocessOptions & { stage: string },
): Promise<number> {
  return db.tx(async (sql) => {
    const targets = await sql<Target[]>`
      SELECT item_id, position FROM item_stages
      WHERE job_id = ${options.jobId} AND stage = ${options.stage} AND status <> 'pending'`;
    return await resetFrom(sql, options, targets, `stage ${options.stage}`);
  });
}

/** Resets each target's stage and every later stage of its item, with one event. */
async function resetFrom(
  sql: Sql,
  options: ReprocessOptions,
  targets: readonly Target[],
  why: string,
): Promise<number> {
  if (options.dryRun || targets.length === 0) return targets.length;
  const now = (options.now ?? Date.now)();
  await sql`
    WITH t AS (
      SELECT * FROM unnest(${targets.map((t) => t.item_id)}::bigint[],
        ${targets.map((t) => t.position)}::int[]) AS t(item_id, pos)
    ), reset AS (
      UPDATE item_stages st SET status = 'pending', attempts = 0, crashes = 0, run_after = 0, error = NULL,
        claimed_by = NULL, lease_until = NULL, started_at = NULL, finished_at = NULL,
        ready = (st.position = t.pos AND (t.pos = 0 OR EXISTS (SELECT 1 FROM item_stages p
          WHERE p.item_id = t.item_id AND p.position = t.pos - 1
            AND p.status IN ('done', 'skipped'))))
      FROM t WHERE st.item_id = t.item_id AND st.position >= t.pos
    )
    INSERT INTO events (ts, job_id, stage, kind, message, data)
    VALUES (${now}::bigint, ${options.jobId}, ${options.stage ?? null}, 'reprocess',
      ${`reset ${targets.length} items for ${why}`},
      ${JSON.stringify({ items: targets.length })})`;
  return targets.length;
}

async function getDoneResults(
  db: PgConn,
  options: DoneResultsOptions,
): Promise<DoneResult[]> {
  const since = options.finishedSince ?? Number.MIN_SAFE_INTEGER;
  const rows = await db.sql<{ key: string; data: string; result: string; finished_at: number }[]>`
    SELECT w.key, w.data, r.result, st.finished_at FROM item_stages st
    JOIN work_items w ON w.id = st.item_id
    JOIN results r ON r.item_id = st.item_id AND r.stage = st.stage
    WHERE st.job_id = ${options.jobId} AND st.stage = ${options.stage} AND st.status = 'done'
      AND st.finished_at >= ${since}
    ORDER BY st.finished_at, w.id LIMIT ${options.limit ?? null}`;
  return rows.map((r) => ({
    key: r.key,
    data: JSON.parse(r.data),
    result: JSON.parse(r.result),
    finishedAt: r.finished_at,
  }));
}
