/** PostgreSQL twin of ../jobs.ts: pause, wake, discovery lease, counts and timings. */
import type { PgDb } from "./mod.ts";
import type { JobState, JobStats, StageCounts, StageTiming } from "../jobs.ts";
import type { StageStatus } from "../schema.ts";
import { percentile } from "../_percentile.ts";

/** See getJobState() in ../jobs.ts. */
export async function getJobState(db: PgDb, jobId: string): Promise<JobState> {
  const [r] = await db.sql<{
    paused: boolean;
    pause_reason: string | null;
    paused_at: number | null;
    wake_requested_at: number | null;
    last_discovery_at: number | null;
    last_run_at: number | null;
    consecutive_failures: number;
  }[]>`
    SELECT paused, pause_reason, paused_at, wake_requested_at, last_discovery_at, last_run_at,
      consecutive_failures FROM job_state WHERE job_id = ${jobId}`;
  return {
    jobId,
    paused: r?.paused ?? false,
    pauseReason: r?.pause_reason ?? null,
    pausedAt: r?.paused_at ?? null,
    wakeRequestedAt: r?.wake_requested_at ?? null,
    lastDiscoveryAt: r?.last_discovery_at ?? null,
    lastRunAt: r?.last_run_at ?? null,
    consecutiveFailures: r?.consecutive_failures ?? 0,
  };
}

/** See setJobPaused() in ../jobs.ts; the state and its event in one statement. */
export async function setJobPaused(
  db: PgDb,
  options: { jobId: string; paused: boolean; reason?: string; now?: () => number },
): Promise<void> {
  const now = (options.now ?? Date.now)();
  const paused = options.paused;
  await db.sql`
    WITH state AS (
      INSERT INTO job_state (job_id, paused, pause_reason, paused_at)
      VALUES (${options.jobId}, ${paused}, ${paused ? options.reason ?? null : null},
        ${paused ? now : null}::bigint)
      ON CONFLICT (job_id) DO UPDATE SET paused = excluded.paused,
        pause_reason = excluded.pause_reason, paused_at = excluded.paused_at,
        consecutive_failures = CASE WHEN excluded.paused THEN job_state.consecutive_failures
          ELSE 0 END
    )
    INSERT INTO events (ts, job_id, kind, message)
    VALUES (${now}::bigint, ${options.jobId}, ${paused ? "pause" : "unpause"},
      ${options.reason ?? (paused ? "paused" : "unpaused")})`;
}

/** See wakeJob() in ../jobs.ts. */
export async function wakeJob(db: PgDb, jobId: string, now: number): Promise<void> {
  await db.sql`
    WITH state AS (
      INSERT INTO job_state (job_id, wake_requested_at) VALUES (${jobId}, ${now}::bigint)
      ON CONFLICT (job_id) DO UPDATE SET wake_requested_at = excluded.wake_requested_at
    )
    INSERT INTO events (ts, job_id, kind, message)
    VALUES (${now}::bigint, ${jobId}, 'wake', 'discovery requested')`;
}

/**
 * See acquireDiscoveryLease() in ../jobs.ts. ON CONFLICT … WHERE locks the job's row and
 * re-checks the holder, so of several machines asking at once exactly one gets it.
 */
export async function acquireDiscoveryLease(
  db: PgDb,
  options: { jobId: string; owner: string; leaseMs: number; now?: () => number },
): Promise<boolean> {
  const now = (options.now ?? Date.now)();
  const rows = await db.sql`
    INSERT INTO job_state (job_id, discovery_owner, discovery_lease_until)
    VALUES (${options.jobId}, ${options.owner}, ${now + options.leaseMs}::bigint)
    ON CONFLICT (job_id) DO UPDATE SET discovery_owner = excluded.discovery_owner,
      discovery_lease_until = excluded.discovery_lease_until
    WHERE job_state.discovery_owner IS NULL OR job_state.discovery_owner = excluded.discovery_owner
      OR job_state.discovery_lease_until < ${now}::bigint
    RETURNING job_id`;
  return rows.length === 1;
}

/** See finishDiscovery() in ../jobs.ts. */
export async function finishDiscovery(
  db: PgDb,
  options: { jobId: string; owner: string; succeeded: boolean; now?: () => number },
): Promise<void> {
  const now = (options.now ?? Date.now)();
  await db.sql`
    UPDATE job_state SET discovery_owner = NULL, discovery_lease_until = NULL,
      last_discovery_at = CASE WHEN ${options.succeeded} THEN ${now}::bigint
        ELSE last_discovery_at END,
      wake_requested_at = CASE WHEN ${options.succeeded} THEN NULL ELSE wake_requested_at END
    WHERE job_id = ${options.jobId} AND discovery_owner = ${options.owner}`;
}

const STATUS_FIELD: Record<StageStatus, keyof Omit<StageCounts, "stage" | "position">> = {
  pending: "pending",
  in_progress: "inProgress",
  done: "done",
  failed: "failed",
  skipped: "skipped",
};

/** See stageStats() in ../jobs.ts. */
export async function stageStats(db: PgDb, jobId: string): Promise<StageCounts[]> {
  const [stages, rows] = await Promise.all([
    db.sql<{ stage: string; position: number }[]>`
      SELECT stage, position FROM job_stages WHERE job_id = ${jobId} ORDER BY position`,
    db.sql<{ stage: string; status: StageStatus; n: number }[]>`
      SELECT stage, status, count(*)::int AS n FROM item_stages WHERE job_id = ${jobId}
      GROUP BY stage, status`,
  ]);
  const byStage = new Map<string, StageCounts>(stages.map((r) => [r.stage, {
    stage: r.stage,
    position: r.position,
    pending: 0,
    inProgress: 0,
    done: 0,
    failed: 0,
    skipped: 0,
  }]));
  for (const r of rows) {
    const counts = byStage.get(r.stage);
    if (counts) counts[STATUS_FIELD[r.status]] = r.n;
  }
  return [...byStage.values()];
}

/** See getJobStats() in ../jobs.ts: the same counts, over the open rows only. */
export async function getJobStats(db: PgDb, jobId: string): Promise<JobStats> {
  const [[row], stages] = await Promise.all([
    db.sql<{ total: number; open: number; failed: number; in_progress: number }[]>`
      SELECT
        (SELECT count(*)::int FROM work_items WHERE job_id = ${jobId}) AS total,
        (SELECT count(DISTINCT item_id)::int FROM item_stages WHERE job_id = ${jobId}
          AND status IN ('pending', 'in_progress', 'failed')) AS open,
        (SELECT count(DISTINCT item_id)::int FROM item_stages WHERE job_id = ${jobId}
          AND status = 'failed') AS failed,
        (SELECT count(DISTINCT item_id)::int FROM item_stages s WHERE s.job_id = ${jobId}
          AND s.status = 'in_progress' AND NOT EXISTS (SELECT 1 FROM item_stages f
            WHERE f.item_id = s.item_id AND f.status = 'failed')) AS in_progress`,
    stageStats(db, jobId),
  ]);
  return {
    items: {
      total: row.total,
      done: row.total - row.open,
      failed: row.failed,
      in_progress: row.in_progress,
      pending: row.open - row.failed - row.in_progress,
    },
    stages,
  };
}

/** See stageTimingStats() in ../jobs.ts. */
export async function stageTimingStats(
  db: PgDb,
  options: { jobId: string; sinceTs: number },
): Promise<StageTiming[]> {
  const [stages, rows] = await Promise.all([
    db.sql<{ stage: string }[]>`
      SELECT stage FROM job_stages WHERE job_id = ${options.jobId} ORDER BY position`,
    db.sql<{ stage: string; d: number }[]>`
      SELECT stage, finished_at - started_at AS d FROM item_stages
      WHERE job_id = ${options.jobId} AND finished_at >= ${options.sinceTs}::bigint
        AND started_at IS NOT NULL AND status IN ('done', 'skipped', 'failed')
      ORDER BY stage, d`,
  ]);
  const durations = new Map<string, number[]>(stages.map((s) => [s.stage, []]));
  for (const r of rows) durations.get(r.stage)?.push(r.d);
  return stages.map(({ stage }) => {
    const sorted = durations.get(stage)!;
    return {
      stage,
      count: sorted.length,
      p50Ms: percentile(sorted, 0.5),
      p95Ms: percentile(sorted, 0.95),
    };
  });
}

/** See markJobRun() in ../jobs.ts. */
export async function markJobRun(db: PgDb, options: { jobId: string; now: number }): Promise<void> {
  await db.sql`
    INSERT INTO job_state (job_id, last_run_at) VALUES (${options.jobId}, ${options.now}::bigint)
    ON CONFLICT (job_id) DO UPDATE SET last_run_at = excluded.last_run_at`;
}

/** See throughput() in ../jobs.ts. */
export async function throughput(
  db: PgDb,
  options: { jobId: string; sinceTs: number },
): Promise<Record<string, number>> {
  const rows = await db.sql<{ stage: string; n: number }[]>`
    SELECT stage, count(*)::int AS n FROM item_stages
    WHERE job_id = ${options.jobId}
      AND stage IN (SELECT stage FROM job_stages WHERE job_id = ${options.jobId})
      AND finished_at >= ${options.sinceTs}::bigint AND status IN ('done', 'skipped', 'failed')
    GROUP BY stage`;
  return Object.fromEntries(rows.map((r) => [r.stage, r.n]));
}
