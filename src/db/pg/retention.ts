/**
 * PostgreSQL: retention. Each prune() call removes one batch in one short transaction that
 * locks only the rows it removes (picked with SKIP LOCKED), so it never waits on a run's rows
 * and never holds a lock for long.
 */
import type { Impl, PruneBatch, PruneOptions, RetentionStore, SpaceReport } from "../store.ts";
import type { Fragment, PgConn, Sql } from "./connection.ts";
import { DAY_MS } from "../../util/time.ts";

/** The retention area of the PostgreSQL store. */
export function pgRetention(db: PgConn): Impl<RetentionStore> {
  return {
    prune: (options) => prune(db, options),
    reclaimSpace: (options) => reclaimSpace(db, options),
  };
}

/** Tables retention removes rows from, VACUUMed by reclaimSpace({ full: true }). */
const PRUNED_TABLES = ["events", "results", "http_cache", "runs", "cost_totals"];

interface Measured {
  rows: number;
  bytes: number;
  costs: number;
}

function prune(db: PgConn, options: PruneOptions): Promise<PruneBatch> {
  switch (options.target) {
    case "events":
      return pruneEvents(db, options);
    case "results":
      return pruneResults(db, options);
    case "http_cache":
      return pruneRows(db, options, {
        table: "http_cache",
        where: db.sql`checked_at < ${options.before}::bigint`,
      });
    case "runs":
      return pruneRows(db, options, {
        table: "runs",
        where: db.sql`ended_at < ${options.before}::bigint AND NOT EXISTS (
          SELECT 1 FROM item_stages st WHERE st.claimed_by = runs.run_id
            AND st.lease_until IS NOT NULL)`,
      });
  }
}

async function pruneEvents(
  db: PgConn,
  options: PruneOptions & { target: "events" },
): Promise<PruneBatch> {
  const { sql } = db;
  const scope = options.jobId !== undefined
    ? sql`job_id = ${options.jobId} AND ts < ${options.before}::bigint`
    : sql`ts < ${options.before}::bigint
      AND (job_id IS NULL OR NOT (job_id = ANY(${[...(options.exceptJobs ?? [])]}::text[])))`;
  if (options.dryRun) {
    const [m] = await sql<Measured[]>`
      SELECT count(*)::int AS rows, coalesce(sum(pg_column_size(e.*)), 0)::float8 AS bytes,
        count(cost_usd)::int AS costs FROM events e WHERE ${scope}`;
    return { rows: m.rows, bytes: m.bytes, costEvents: m.costs, done: true };
  }
  const [m] = await db.tx((tx) =>
    tx<Measured[]>`
    WITH batch AS (
      SELECT id FROM events WHERE ${scope} ORDER BY ts LIMIT ${options.limit}
      FOR UPDATE SKIP LOCKED
    ), gone AS (
      DELETE FROM events e USING batch WHERE e.id = batch.id
      RETURNING e.ts, e.job_id, e.stage, e.item_id, e.cost_usd, pg_column_size(e.*) AS size
    ), totals AS (
      INSERT INTO cost_totals AS t (day_start, job_id, stage, usd, events, items)
      SELECT ts / ${DAY_MS} * ${DAY_MS}, job_id, coalesce(stage, ''), sum(cost_usd), count(*),
        count(DISTINCT item_id)
      FROM gone WHERE cost_usd IS NOT NULL AND job_id IS NOT NULL GROUP BY 1, 2, 3
      ON CONFLICT (day_start, job_id, stage) DO UPDATE SET usd = t.usd + excluded.usd,
        events = t.events + excluded.events, items = t.items + excluded.items
    )
    SELECT count(*)::int AS rows, coalesce(sum(size), 0)::float8 AS bytes,
      count(cost_usd)::int AS costs FROM gone`
  );
  return { rows: m.rows, bytes: m.bytes, costEvents: m.costs, done: m.rows < options.limit };
}

/** Results no longer held by a done stage, walking the job's items `limit` at a time. */
async function pruneResults(
  db: PgConn,
  options: PruneOptions & { target: "results" },
): Promise<PruneBatch> {
  const superseded = (sql: Sql, items: Fragment) =>
    sql`r.item_id IN (${items}) AND r.created_at < ${options.before}::bigint AND NOT EXISTS (
      SELECT 1 FROM item_stages st WHERE st.item_id = r.item_id AND st.stage = r.stage
        AND st.status = 'done')`;
  // Only results older than `before` go: when there is none, the walk over the job's items (the
  // cost of every run's end) is skipped.
  const [old] = await db.sql<{ found: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM results WHERE created_at < ${options.before}::bigint) AS found`;
  if (!old.found) return { rows: 0, bytes: 0, costEvents: 0, done: true };
  if (options.dryRun) {
    const all = db.sql`SELECT id FROM work_items WHERE job_id = ${options.jobId}`;
    const [m] = await db.sql<Measured[]>`
      SELECT count(*)::int AS rows, coalesce(sum(pg_column_size(r.*)), 0)::float8 AS bytes
      FROM results r WHERE ${superseded(db.sql, all)}`;
    return { rows: m.rows, bytes: m.bytes, costEvents: 0, done: true };
  }
  const after = options.afterItemId ?? 0;
  return await db.tx(async (sql) => {
    const [scan] = await sql<{ n: number; last: number | null }[]>`
      SELECT count(*)::int AS n, max(id) AS last FROM (SELECT id FROM work_items
        WHERE job_id = ${options.jobId} AND id > ${after}::bigint ORDER BY id
        LIMIT ${options.limit}) w`;
    const items = sql`SELECT id FROM work_items WHERE job_id = ${options.jobId}
      AND id > ${after}::bigint AND id <= ${scan.last ?? after}::bigint`;
    const [m] = await sql<Measured[]>`
      WITH gone AS (
        DELETE FROM results r WHERE ${superseded(sql, items)}
        RETURNING pg_column_size(r.*) AS size
      )
      SELECT count(*)::int AS rows, coalesce(sum(size), 0)::float8 AS bytes FROM gone`;
    return {
      rows: m.rows,
      bytes: m.bytes,
      costEvents: 0,
      done: scan.n < options.limit,
      next: scan.last ?? after,
    };
  });
}

async function pruneRows(
  db: PgConn,
  options: PruneOptions & { target: "http_cache" | "runs" },
  what: { table: string; where: Fragment },
): Promise<PruneBatch> {
  const { sql } = db;
  const table = sql(what.table);
  if (options.dryRun) {
    const [m] = await sql<Measured[]>`
      SELECT count(*)::int AS rows, coalesce(sum(pg_column_size(t.*)), 0)::float8 AS bytes
      FROM ${table} t WHERE ${what.where}`;
    return { rows: m.rows, bytes: m.bytes, costEvents: 0, done: true };
  }
  const [m] = await db.write((w) =>
    w<Measured[]>`
    WITH batch AS (
      SELECT ctid FROM ${table} WHERE ${what.where} LIMIT ${options.limit} FOR UPDATE SKIP LOCKED
    ), gone AS (
      DELETE FROM ${table} t USING batch WHERE t.ctid = batch.ctid
      RETURNING pg_column_size(t.*) AS size
    )
    SELECT count(*)::int AS rows, coalesce(sum(size), 0)::float8 AS bytes FROM gone`
  );
  return { rows: m.rows, bytes: m.bytes, costEvents: 0, done: m.rows < options.limit };
}

/** Bytes of this schema's tables with their indexes and TOAST. */
async function schemaBytes(db: PgConn): Promise<number> {
  const [row] = await db.sql<{ bytes: number }[]>`
    SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::float8 AS bytes
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind = 'r'`;
  return row.bytes;
}

async function reclaimSpace(db: PgConn, options: { full: boolean }): Promise<SpaceReport> {
  const bytesBefore = await schemaBytes(db);
  if (options.full) {
    // Plain VACUUM takes no lock that blocks reads or writes; it marks the space for reuse and
    // gives back the empty pages at the end of each table.
    for (const table of PRUNED_TABLES) await db.sql.unsafe(`VACUUM ${table}`);
  }
  return { bytesBefore, bytesAfter: await schemaBytes(db), incremental: true };
}
