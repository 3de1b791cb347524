/** PostgreSQL: runs, lease renewal, release and crash recovery. */
import type {
  HeldClaims,
  Impl,
  LeaseStore,
  ReconcileCounts,
  ReconcileOptions,
  RegisterRunOptions,
} from "../store.ts";
import type { Fragment, PgConn, Sql } from "./connection.ts";
import { hostName, isProcessAlive, processStartTime } from "../../util/process.ts";
import { type HeldClaimsDbRow, toHeldClaims } from "../_rows.ts";

/** The Lease area of the PostgreSQL store. */
export function pgLeases(db: PgConn): Impl<LeaseStore> {
  return {
    registerRun: (options) => registerRun(db, options),
    renewLeases: (options) => renewLeases(db, options),
    releaseClaims: (options) => releaseClaims(db, options),
    markStarted: (options) => markStarted(db, options),
    reconcileExpiredLeases: (options) => reconcileExpiredLeases(db, options),
    heldClaims: (options) => heldClaims(db, options),
  };
}

async function registerRun(db: PgConn, options: RegisterRunOptions): Promise<void> {
  const pid = options.pid ?? Deno.pid;
  await db.sql`
    INSERT INTO runs (run_id, host, pid, pid_start, started_at, jobs)
    VALUES (${options.runId}, ${options.host ?? hostName()}, ${pid},
      ${processStartTime(pid) ?? null}, ${(options.now ?? Date.now)()}::bigint,
      ${options.jobs ? JSON.stringify(options.jobs) : null})
    ON CONFLICT (run_id) DO NOTHING`;
}

async function renewLeases(
  db: PgConn,
  options: { runId: string; leaseMs: number; now?: () => number },
): Promise<number> {
  const now = (options.now ?? Date.now)();
  const until = now + options.leaseMs;
  const result = await db.write((sql) =>
    sql`UPDATE item_stages SET lease_until = ${until}::bigint
      WHERE lease_until IS NOT NULL AND claimed_by = ${options.runId} AND status = 'in_progress'`
  );
  await db.sql`UPDATE job_state SET discovery_lease_until = ${until}::bigint
    WHERE discovery_owner = ${options.runId}`;
  await db.sql`UPDATE runs SET heartbeat_at = ${now}::bigint WHERE run_id = ${options.runId}`;
  return result.count;
}

async function releaseClaims(
  db: PgConn,
  options: { runId: string; items?: readonly { itemId: number; stage: string }[] },
): Promise<number> {
  const items = options.items;
  const release = (sql: Sql) =>
    sql`
    status = 'pending', attempts = greatest(st.attempts - 1, 0), claimed_by = NULL,
    lease_until = NULL, started_at = NULL`;
  const result = await db.write((sql) =>
    items
      // The holder check is a join clause for the reason given in claims.ts.
      ? sql`
        WITH m AS MATERIALIZED (
          SELECT *, ${options.runId}::text AS run FROM unnest(${
        items.map((i) => i.itemId)
      }::bigint[],
            ${items.map((i) => i.stage)}::text[]) AS m(item_id, stage)
        )
        UPDATE item_stages st SET ${release(sql)} FROM m
        WHERE st.item_id = m.item_id AND st.stage = m.stage AND st.claimed_by = m.run`
      : sql`
        UPDATE item_stages st SET ${release(sql)}
        WHERE st.lease_until IS NOT NULL AND st.claimed_by = ${options.runId}
          AND st.status = 'in_progress'`
  );
  return result.count;
}

async function markStarted(
  db: PgConn,
  options: { runId: string; items: readonly { itemId: number; stage: string }[] },
): Promise<void> {
  const { runId, items } = options;
  await db.write((sql) =>
    sql`
    WITH m AS MATERIALIZED (
      SELECT *, ${runId}::text AS run
      FROM unnest(${items.map((i) => i.itemId)}::bigint[], ${items.map((i) => i.stage)}::text[])
        AS m(item_id, stage)
    )
    UPDATE item_stages st SET started = 1 FROM m
    WHERE st.item_id = m.item_id AND st.stage = m.stage AND st.claimed_by = m.run
      AND st.status = 'in_progress'`
  );
}

/**
 * Safe on several machines at once: the rows are
 * locked with SKIP LOCKED, so each claim is released (and logged) by exactly one of them, and a
 * row its owner is finishing right now is left to its owner.
 */
async function reconcileExpiredLeases(
  db: PgConn,
  options: ReconcileOptions = {},
): Promise<ReconcileCounts> {
  const now = (options.now ?? Date.now)();
  const host = options.host ?? hostName();
  const isAlive = options.isAlive ?? isProcessAlive;
  const expired = await db.write((sql) =>
    releaseWhere(sql, now, sql`lease_until < ${now}::bigint`, sql`'lease expired'`)
  );
  const claimers = await db.sql<{ run_id: string; pid: number; pid_start: string | null }[]>`
    SELECT DISTINCT r.run_id, r.pid, r.pid_start FROM item_stages st
    JOIN runs r ON r.run_id = st.claimed_by
    WHERE st.lease_until IS NOT NULL AND st.status = 'in_progress' AND r.host = ${host}`;
  let deadProcess = 0;
  for (const c of claimers) {
    if (c.pid === Deno.pid || isAlive(c.pid, c.pid_start)) continue;
    const why = `process ${c.pid} on ${host} is gone`;
    deadProcess += await db.write((sql) =>
      releaseWhere(
        sql,
        now,
        sql`lease_until IS NOT NULL AND claimed_by = ${c.run_id}`,
        sql`${why}::text`,
      )
    );
  }
  return { expired, deadProcess };
}

/**
 * Releases in_progress rows matching `condition`, with a "released" event each; a row counts a
 * crash as on SQLite (see its releaseWhere).
 */
async function releaseWhere(
  sql: Sql,
  now: number,
  condition: Fragment,
  why: Fragment,
): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    WITH gone AS (
      SELECT item_id, stage FROM item_stages WHERE status = 'in_progress' AND ${condition}
      FOR UPDATE SKIP LOCKED
    ), released AS (
      UPDATE item_stages st SET status = 'pending', claimed_by = NULL, lease_until = NULL,
        attempts = greatest(st.attempts - 1, 0),
        crashes = st.crashes + (CASE WHEN st.crashes = 0 OR st.started = 1 THEN 1 ELSE 0 END),
        error = ${why} || ' (claimed by ' || st.claimed_by || ')'
      FROM gone WHERE st.item_id = gone.item_id AND st.stage = gone.stage
      RETURNING st.item_id, st.job_id, st.stage, st.attempts, st.crashes, st.error
    ), logged AS (
      INSERT INTO events (ts, job_id, item_id, stage, kind, message, data)
      SELECT ${now}::bigint, job_id, item_id, stage, 'released', error,
        json_build_object('attempts', attempts, 'crashes', crashes)::text
      FROM released ORDER BY item_id, stage
    )
    SELECT count(*)::int AS n FROM released`;
  return row.n;
}

async function heldClaims(
  db: PgConn,
  options: { jobId: string; now?: () => number },
): Promise<HeldClaims[]> {
  const now = (options.now ?? Date.now)();
  const rows = await db.sql<HeldClaimsDbRow[]>`
    SELECT st.stage, st.claimed_by AS run_id, r.host, r.pid, count(*)::int AS claims,
      min(st.started_at) AS oldest
    FROM item_stages st LEFT JOIN runs r ON r.run_id = st.claimed_by
    WHERE st.lease_until >= ${now}::bigint AND st.job_id = ${options.jobId}
      AND st.status = 'in_progress'
    GROUP BY st.stage, st.claimed_by, r.host, r.pid ORDER BY oldest, st.stage COLLATE "C"`;
  return rows.map(toHeldClaims);
}
