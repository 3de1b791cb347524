/**
 * SQLite: retention. Each prune() call removes one batch in one short transaction, so a run
 * working beside it waits at most for one batch; pages freed go back to the file system in
 * steps (incremental auto_vacuum).
 */
import type { Impl, PruneBatch, PruneOptions, RetentionStore, SpaceReport } from "../store.ts";
import type { SqliteConn } from "./connection.ts";
import { DAY_MS } from "../../util/time.ts";
import { rebuildFile } from "./_rebuild.ts";

/** The retention area of the SQLite store. */
export function sqliteRetention(s: SqliteConn): Impl<RetentionStore> {
  return {
    prune: (options) => prune(s, options),
    reclaimSpace: (options) => reclaimSpace(s, options),
  };
}

const EVENT_BYTES =
  `coalesce(length(CAST(message AS BLOB)), 0) + coalesce(length(CAST(data AS BLOB)), 0)
  + coalesce(length(CAST(kind AS BLOB)), 0) + coalesce(length(CAST(job_id AS BLOB)), 0)
  + coalesce(length(CAST(stage AS BLOB)), 0) + 40`;

function prune(s: SqliteConn, options: PruneOptions): PruneBatch {
  switch (options.target) {
    case "events":
      return pruneEvents(s, options);
    case "results":
      return pruneResults(s, options);
    case "http_cache":
      return pruneRows(s, options, {
        table: "http_cache",
        where: "checked_at < :before",
        bytes: `length(CAST(url AS BLOB)) + coalesce(length(CAST(etag AS BLOB)), 0)
          + coalesce(length(CAST(last_modified AS BLOB)), 0) + 8`,
      });
    case "runs":
      return pruneRows(s, options, {
        table: "runs",
        where: `ended_at < :before AND NOT EXISTS (SELECT 1 FROM item_stages st
          WHERE st.claimed_by = runs.run_id AND st.status = 'in_progress')`,
        bytes: `length(CAST(run_id AS BLOB)) + length(CAST(host AS BLOB))
          + coalesce(length(CAST(jobs AS BLOB)), 0) + 40`,
      });
  }
}

function pruneEvents(
  s: SqliteConn,
  options: PruneOptions & { target: "events" },
): PruneBatch {
  const scope = options.jobId !== undefined
    ? "job_id = :job AND ts < :before ORDER BY ts"
    : `ts < :before AND (job_id IS NULL OR job_id NOT IN (SELECT value FROM json_each(:except)))
       ORDER BY ts`;
  const params: Record<string, string | number> = {
    before: options.before,
    ...(options.jobId !== undefined
      ? { job: options.jobId }
      : { except: JSON.stringify(options.exceptJobs ?? []) }),
  };
  const measure = (ids: string) =>
    s.stmt(
      `SELECT count(*) AS rows, coalesce(sum(${EVENT_BYTES}), 0) AS bytes,
         coalesce(sum(cost_usd IS NOT NULL), 0) AS costs
       FROM events WHERE id IN (${ids})`,
    );
  if (options.dryRun) {
    const all = measure(`SELECT id FROM events WHERE ${scope}`).get(params) as unknown as Measured;
    return { rows: all.rows, bytes: all.bytes, costEvents: all.costs, done: true };
  }
  return s.tx(() => {
    const ids = JSON.stringify(
      (s.stmt(`SELECT id FROM events WHERE ${scope} LIMIT :limit`)
        .all({ ...params, limit: options.limit }) as { id: number }[]).map((r) => r.id),
    );
    const batch = "SELECT value FROM json_each(:ids)";
    const m = measure(batch).get({ ids }) as unknown as Measured;
    s.stmt(
      `INSERT INTO cost_totals (day_start, job_id, stage, usd, events, items)
       SELECT ts / ${DAY_MS} * ${DAY_MS}, job_id, coalesce(stage, ''), sum(cost_usd), count(*),
         count(DISTINCT item_id)
       FROM events WHERE id IN (${batch}) AND cost_usd IS NOT NULL AND job_id IS NOT NULL
       GROUP BY 1, 2, 3
       ON CONFLICT (day_start, job_id, stage) DO UPDATE SET usd = usd + excluded.usd,
         events = events + excluded.events, items = items + excluded.items`,
    ).run({ ids });
    s.stmt(`DELETE FROM events WHERE id IN (${batch})`).run({ ids });
    return { rows: m.rows, bytes: m.bytes, costEvents: m.costs, done: m.rows < options.limit };
  });
}

interface Measured {
  rows: number;
  bytes: number;
  costs: number;
}

/**
 * Results no longer held by a done stage (left behind by a reprocess, or of a removed stage),
 * walking the job's items in id order, `limit` items a batch.
 */
function pruneResults(
  s: SqliteConn,
  options: PruneOptions & { target: "results" },
): PruneBatch {
  // Only results older than `before` go: when there is none, the walk over the job's items (the
  // cost of every run's end) is skipped.
  const old = s.stmt("SELECT EXISTS (SELECT 1 FROM results WHERE created_at < ?) AS found")
    .get(options.before) as { found: number };
  if (!old.found) return { rows: 0, bytes: 0, costEvents: 0, done: true };
  const items = options.dryRun
    ? "SELECT id FROM work_items WHERE job_id = :job"
    : "SELECT id FROM work_items WHERE job_id = :job AND id > :after ORDER BY id LIMIT :limit";
  const where = `item_id IN (${items}) AND created_at < :before AND NOT EXISTS (
    SELECT 1 FROM item_stages st WHERE st.item_id = results.item_id AND st.stage = results.stage
      AND st.status = 'done')`;
  const params: Record<string, string | number> = {
    job: options.jobId,
    before: options.before,
    ...(options.dryRun ? {} : { after: options.afterItemId ?? 0, limit: options.limit }),
  };
  const measure = s.stmt(
    `SELECT count(*) AS rows, coalesce(sum(length(CAST(result AS BLOB))
       + length(CAST(stage AS BLOB)) + coalesce(length(CAST(handler_version AS BLOB)), 0) + 16), 0)
       AS bytes FROM results WHERE ${where}`,
  );
  if (options.dryRun) {
    const all = measure.get(params) as unknown as Measured;
    return { rows: all.rows, bytes: all.bytes, costEvents: 0, done: true };
  }
  return s.tx(() => {
    const { job, after, limit } = params;
    const scanned = s.stmt(`SELECT count(*) AS n, max(id) AS last FROM (${items})`)
      .get({ job, after, limit }) as { n: number; last: number | null };
    const m = measure.get(params) as unknown as Measured;
    s.stmt(`DELETE FROM results WHERE ${where}`).run(params);
    return {
      rows: m.rows,
      bytes: m.bytes,
      costEvents: 0,
      done: scanned.n < options.limit,
      next: scanned.last ?? options.afterItemId ?? 0,
    };
  });
}

function pruneRows(
  s: SqliteConn,
  options: PruneOptions & { target: "http_cache" | "runs" },
  what: { table: string; where: string; bytes: string },
): PruneBatch {
  const picked = options.dryRun
    ? `SELECT rowid FROM ${what.table} WHERE ${what.where}`
    : `SELECT rowid FROM ${what.table} WHERE ${what.where} LIMIT :limit`;
  const params: Record<string, number> = options.dryRun
    ? { before: options.before }
    : { before: options.before, limit: options.limit };
  const measure = () =>
    s.stmt(
      `SELECT count(*) AS rows, coalesce(sum(${what.bytes}), 0) AS bytes FROM ${what.table}
       WHERE rowid IN (${picked})`,
    ).get(params) as unknown as Measured;
  if (options.dryRun) return { ...measure(), costEvents: 0, done: true };
  return s.tx(() => {
    const m = measure();
    s.stmt(`DELETE FROM ${what.table} WHERE rowid IN (${picked})`).run(params);
    return { rows: m.rows, bytes: m.bytes, costEvents: 0, done: m.rows < options.limit };
  });
}

async function reclaimSpace(
  s: SqliteConn,
  options: { full: boolean; maxPages?: number },
): Promise<SpaceReport> {
  const bytesBefore = fileBytes(s);
  if (incremental(s)) {
    // Each step of the statement frees one page: all() steps it to the end (0: every page).
    const pages = options.full ? 0 : Math.max(1, Math.floor(options.maxPages ?? 2000));
    s.conn.prepare(`PRAGMA incremental_vacuum(${pages})`).all();
  } else if (options.full) {
    await rebuildFile(s);
  }
  return { bytesBefore, bytesAfter: fileBytes(s), incremental: incremental(s) };
}

function incremental(s: SqliteConn): boolean {
  return (s.stmt("PRAGMA auto_vacuum").get() as { auto_vacuum: number }).auto_vacuum === 2;
}

/** Bytes of the database's pages (the file, once the write-ahead log is checkpointed). */
function fileBytes(s: SqliteConn): number {
  const count = s.stmt("PRAGMA page_count").get() as { page_count: number };
  const size = s.stmt("PRAGMA page_size").get() as { page_size: number };
  return count.page_count * size.page_size;
}
