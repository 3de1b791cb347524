/** PostgreSQL: claims with SKIP LOCKED, and batched outcomes. */
import type {
  Claim,
  ClaimOptions,
  ClaimStore,
  DoneMark,
  FailOutcome,
  Impl,
  MarkFailedOptions,
  SkipMark,
} from "../store.ts";
import type { PgConn, Sql } from "./connection.ts";
import { queueFailures } from "./_alerts.ts";
import { upsertEmitted } from "./items.ts";

/** The Claim area of the PostgreSQL store. */
export function pgClaims(db: PgConn): Impl<ClaimStore> {
  return {
    claimBatch: (options) => claimBatch(db, options),
    markDone: (options) => markDone(db, options),
    markSkipped: (options) => markSkipped(db, options),
    markFailed: (options) => markFailed(db, options),
  };
}

/**
 * One statement: lock up to `limit` claimable rows that no
 * other machine has locked (SKIP LOCKED, so claimers never wait for each other), claim them,
 * and return them with their item's data and the results of the item's earlier stages.
 */
async function claimBatch(db: PgConn, options: ClaimOptions): Promise<Claim[]> {
  const now = (options.now ?? Date.now)();
  const rows = await db.sql<{
    item_id: number;
    position: number;
    attempts: number;
    crashes: number;
    key: string;
    data: string;
    results: Record<string, unknown> | null;
  }[]>`
    WITH picked AS (
      SELECT item_id, stage FROM item_stages
      WHERE job_id = ${options.jobId} AND stage = ${options.stage} AND status = 'pending'
        AND ready AND run_after <= ${now}::bigint
        AND NOT EXISTS (SELECT 1 FROM job_state WHERE job_id = ${options.jobId} AND paused)
      ORDER BY run_after, item_id LIMIT ${options.limit}
      FOR UPDATE SKIP LOCKED
    ), claimed AS (
      UPDATE item_stages st SET status = 'in_progress', claimed_by = ${options.runId},
        lease_until = ${now + options.leaseMs}::bigint, attempts = st.attempts + 1,
        started_at = ${now}::bigint, finished_at = NULL, started = 0
      FROM picked WHERE st.item_id = picked.item_id AND st.stage = picked.stage
      RETURNING st.item_id, st.position, st.attempts, st.crashes
    )
    SELECT c.item_id, c.position, c.attempts, c.crashes, w.key, w.data,
      (SELECT json_object_agg(r.stage, r.result::json) FROM results r
        JOIN item_stages p ON p.item_id = r.item_id AND p.stage = r.stage
        WHERE r.item_id = c.item_id AND p.position < c.position) AS results
    FROM claimed c JOIN work_items w ON w.id = c.item_id
    ORDER BY c.item_id`;
  return rows.map((r) => ({
    itemId: r.item_id,
    key: r.key,
    data: JSON.parse(r.data),
    stage: options.stage,
    position: r.position,
    attempts: r.attempts,
    crashes: r.crashes,
    results: r.results ?? {},
  }));
}

// Outcome statements check that the run still holds a row with `st.claimed_by = m.run`, a join
// clause against the materialised marks (claimed_by is set exactly while a row is in_progress).
// As a filter on item_stages it would make the planner, whose statistics rarely see a claim,
// expect one held row and compare every held row with every mark.

/**
 * One statement for the whole batch: finish the rows this run
 * still holds, store their results, ready the next stages, reset the failure streak.
 */
async function markDone(
  db: PgConn,
  options: { jobId: string; runId: string; items: readonly DoneMark[]; now?: () => number },
): Promise<number> {
  if (options.items.length === 0) return 0;
  const now = (options.now ?? Date.now)();
  const marks = options.items;
  const finish = (sql: Sql) =>
    sql<{ n: number; held: string }[]>`
    WITH marks AS MATERIALIZED (
      SELECT *, ${options.runId}::text AS run FROM unnest(${marks.map((m) => m.itemId)}::bigint[],
        ${marks.map((m) => m.stage)}::text[], ${marks.map((m) => JSON.stringify(m.result))}::text[],
        ${marks.map((m) => m.handlerVersion)}::text[]) AS m(item_id, stage, result, version)
    ), fin AS (
      UPDATE item_stages st SET status = 'done', finished_at = ${now}::bigint, claimed_by = NULL,
        lease_until = NULL, error = NULL
      FROM marks m
      WHERE st.item_id = m.item_id AND st.stage = m.stage AND st.claimed_by = m.run
      RETURNING st.item_id, st.stage, st.position, st.started_at, m.result, m.version
    ), counted AS (
      INSERT INTO stage_run_totals AS t (job_id, stage, outcome, runs, duration_ms)
      SELECT ${options.jobId}, stage, 'done', count(*), sum(greatest(${now}::bigint - started_at, 0))
      FROM fin GROUP BY stage
      ON CONFLICT (job_id, stage, outcome) DO UPDATE SET runs = t.runs + excluded.runs,
        duration_ms = t.duration_ms + excluded.duration_ms
    ), stored AS (
      INSERT INTO results (item_id, stage, handler_version, result, created_at)
      SELECT item_id, stage, version, result, ${now}::bigint FROM fin
      ON CONFLICT (item_id, stage) DO UPDATE SET handler_version = excluded.handler_version,
        result = excluded.result, created_at = excluded.created_at
    ), next AS (
      UPDATE item_stages st SET ready = true FROM fin
      WHERE st.item_id = fin.item_id AND st.position = fin.position + 1 AND NOT st.ready
    ), streak AS (
      UPDATE job_state SET consecutive_failures = 0
      WHERE job_id = ${options.jobId} AND consecutive_failures > 0 AND EXISTS (SELECT 1 FROM fin)
    )
    SELECT count(*)::int AS n, coalesce(json_agg(item_id || ':' || stage), '[]')::text AS held
    FROM fin`;
  if (!marks.some((m) => m.emit?.length)) return (await db.write(finish))[0].n;
  return await db.tx(async (sql) => {
    const [row] = await finish(sql);
    const held = new Set(JSON.parse(row.held) as string[]);
    const emitted = marks.filter((m) => m.emit?.length && held.has(`${m.itemId}:${m.stage}`));
    await upsertEmitted(sql, emitted.map((m) => ({ parentId: m.itemId, emit: m.emit! })), now);
    return row.n;
  });
}

/** one statement for the whole batch. */
async function markSkipped(
  db: PgConn,
  options: { jobId: string; runId: string; items: readonly SkipMark[]; now?: () => number },
): Promise<number> {
  if (options.items.length === 0) return 0;
  const now = (options.now ?? Date.now)();
  const marks = options.items;
  const [row] = await db.write((sql) =>
    sql<{ n: number }[]>`
    WITH marks AS MATERIALIZED (
      SELECT *, ${options.runId}::text AS run FROM unnest(${marks.map((m) => m.itemId)}::bigint[],
        ${marks.map((m) => m.stage)}::text[], ${marks.map((m) => m.reason)}::text[])
        WITH ORDINALITY AS m(item_id, stage, reason, ord)
    ), fin AS (
      UPDATE item_stages st SET status = 'skipped', finished_at = ${now}::bigint, claimed_by = NULL,
        lease_until = NULL, error = m.reason
      FROM marks m
      WHERE st.item_id = m.item_id AND st.stage = m.stage AND st.claimed_by = m.run
      RETURNING st.item_id, st.stage, st.position, st.started_at, m.reason, m.ord
    ), counted AS (
      INSERT INTO stage_run_totals AS t (job_id, stage, outcome, runs, duration_ms)
      SELECT ${options.jobId}, stage, 'skipped', count(*),
        sum(greatest(${now}::bigint - started_at, 0))
      FROM fin GROUP BY stage
      ON CONFLICT (job_id, stage, outcome) DO UPDATE SET runs = t.runs + excluded.runs,
        duration_ms = t.duration_ms + excluded.duration_ms
    ), next AS (
      UPDATE item_stages st SET ready = true FROM fin
      WHERE st.item_id = fin.item_id AND st.position = fin.position + 1 AND NOT st.ready
    ), logged AS (
      INSERT INTO events (ts, job_id, item_id, stage, kind, message)
      SELECT ${now}::bigint, ${options.jobId}, item_id, stage, 'skipped', reason FROM fin ORDER BY ord
    )
    SELECT count(*)::int AS n FROM fin`
  );
  return row.n;
}

/**
 * One statement: each attempt goes back to pending with its
 * backoff or fails, gets an event, and the job's failure streak grows by the batch's count.
 */
async function markFailed(
  db: PgConn,
  options: MarkFailedOptions,
): Promise<{ outcomes: FailOutcome[]; consecutiveFailures: number }> {
  const now = (options.now ?? Date.now)();
  const random = options.random ?? Math.random;
  const marks = options.items;
  const jitters = marks.map(() => 0.8 + 0.4 * random());
  const rows = await db.tx(async (sql) => {
    const rows = await sql<{
      streak: number;
      item_id: number | null;
      stage: string;
      status: "pending" | "failed";
      run_after: number;
      error: string;
    }[]>`
    WITH marks AS MATERIALIZED (
      SELECT *, ${options.runId}::text AS run FROM unnest(${marks.map((m) => m.itemId)}::bigint[],
        ${marks.map((m) => m.stage)}::text[], ${marks.map((m) => m.error)}::text[],
        ${marks.map((m) => (m.permanent ? 1 : 0))}::int[], ${marks.map((m) => m.retries)}::int[],
        ${marks.map((m) => m.backoffMs)}::bigint[], ${jitters}::float8[],
        ${marks.map((m) => m.retryAfterMs ?? 0)}::bigint[])
        WITH ORDINALITY AS m(item_id, stage, error, permanent, retries, backoff, jitter, retry_after,
          ord)
    ), failed AS (
      UPDATE item_stages st SET
        status = CASE WHEN m.permanent = 1 OR st.attempts > m.retries THEN 'failed' ELSE 'pending' END,
        run_after = CASE WHEN m.permanent = 1 OR st.attempts > m.retries THEN st.run_after
          ELSE ${now}::bigint + greatest(
            trunc(m.backoff * (1::bigint << least(st.attempts - 1, 20)) * m.jitter)::bigint,
            m.retry_after) END,
        finished_at = ${now}::bigint, claimed_by = NULL, lease_until = NULL, error = m.error
      FROM marks m
      WHERE st.item_id = m.item_id AND st.stage = m.stage AND st.claimed_by = m.run
      RETURNING st.item_id, st.stage, st.status, st.run_after, st.attempts, st.started_at, m.error,
        m.ord
    ), counted AS (
      INSERT INTO stage_run_totals AS t (job_id, stage, outcome, runs, duration_ms)
      SELECT ${options.jobId}, stage, CASE WHEN status = 'failed' THEN 'failed' ELSE 'retry' END,
        count(*), sum(greatest(${now}::bigint - started_at, 0))
      FROM failed GROUP BY stage, status
      ON CONFLICT (job_id, stage, outcome) DO UPDATE SET runs = t.runs + excluded.runs,
        duration_ms = t.duration_ms + excluded.duration_ms
    ), logged AS (
      INSERT INTO events (ts, job_id, item_id, stage, kind, message, data)
      SELECT ${now}::bigint, ${options.jobId}, item_id, stage,
        CASE WHEN status = 'failed' THEN 'failed' ELSE 'retry' END, error,
        CASE WHEN status = 'pending'
          THEN json_build_object('attempts', attempts, 'runAfter', run_after)
          ELSE json_build_object('attempts', attempts) END::text
      FROM failed ORDER BY ord
    ), streak AS (
      INSERT INTO job_state (job_id, consecutive_failures)
      VALUES (${options.jobId}, (SELECT count(*) FROM failed))
      ON CONFLICT (job_id) DO UPDATE
        SET consecutive_failures = job_state.consecutive_failures + excluded.consecutive_failures
      RETURNING consecutive_failures
    )
    SELECT s.consecutive_failures AS streak, f.item_id, f.stage, f.status, f.run_after, f.error
    FROM streak s LEFT JOIN failed f ON true ORDER BY f.ord`;
    const failed = rows.filter((r) => r.item_id !== null && r.status === "failed")
      .map((r) => ({ itemId: r.item_id!, stage: r.stage, error: r.error }));
    if (failed.length) {
      await queueFailures(sql, { jobId: options.jobId, runId: options.runId, now, failed });
    }
    return rows;
  });
  const outcomes = rows.filter((r) => r.item_id !== null).map((r) => ({
    itemId: r.item_id!,
    stage: r.stage,
    status: r.status,
    runAfter: r.run_after,
  }));
  return { outcomes, consecutiveFailures: rows[0].streak };
}
