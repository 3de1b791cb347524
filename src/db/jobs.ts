/** Job-level state and statistics: pause, wake, discovery lease, counts and timings. */
import { type Db, sqlite, type SqliteDb } from "./mod.ts";
import { insertEvent } from "./events.ts";
import type { DerivedStatus, StageStatus } from "./schema.ts";
import * as pg from "./pg/jobs.ts";
import { percentile } from "./_percentile.ts";

/** A job's row in job_state (defaults when the job has none yet). */
export interface JobState {
  jobId: string;
  paused: boolean;
  pauseReason: string | null;
  pausedAt: number | null;
  wakeRequestedAt: number | null;
  lastDiscoveryAt: number | null;
  lastRunAt: number | null;
  consecutiveFailures: number;
}

/** The state of `jobId`. */
export function getJobState(db: Db, jobId: string): Promise<JobState> {
  if (db.engine === "postgres") return pg.getJobState(db, jobId);
  const r = sqlite(db).stmt(
    `SELECT paused, pause_reason, paused_at, wake_requested_at, last_discovery_at, last_run_at,
       consecutive_failures FROM job_state WHERE job_id = ?`,
  ).get(jobId) as Record<string, number | string | null> | undefined;
  return Promise.resolve({
    jobId,
    paused: r?.paused === 1,
    pauseReason: (r?.pause_reason as string) ?? null,
    pausedAt: (r?.paused_at as number) ?? null,
    wakeRequestedAt: (r?.wake_requested_at as number) ?? null,
    lastDiscoveryAt: (r?.last_discovery_at as number) ?? null,
    lastRunAt: (r?.last_run_at as number) ?? null,
    consecutiveFailures: (r?.consecutive_failures as number) ?? 0,
  });
}

/** Sets or clears a job's pause with a reason, and logs a pause/unpause event. */
export function setJobPaused(
  db: Db,
  options: { jobId: string; paused: boolean; reason?: string; now?: () => number },
): Promise<void> {
  if (db.engine === "postgres") return pg.setJobPaused(db, options);
  const s = sqlite(db);
  const now = (options.now ?? Date.now)();
  s.tx(() => {
    s.stmt(
      `INSERT INTO job_state (job_id, paused, pause_reason, paused_at) VALUES (:job, :p, :reason, :at)
       ON CONFLICT (job_id) DO UPDATE SET paused = :p, pause_reason = :reason, paused_at = :at,
         consecutive_failures = CASE WHEN :p THEN consecutive_failures ELSE 0 END`,
    ).run({
      job: options.jobId,
      p: options.paused ? 1 : 0,
      reason: options.paused ? options.reason ?? null : null,
      at: options.paused ? now : null,
    });
    insertEvent(s, {
      ts: now,
      jobId: options.jobId,
      kind: options.paused ? "pause" : "unpause",
      message: options.reason ?? (options.paused ? "paused" : "unpaused"),
    });
  });
  return Promise.resolve();
}

/** Pauses a job: its stages are no longer claimed. */
export function pauseJob(db: Db, jobId: string, reason = "paused by operator"): Promise<void> {
  return setJobPaused(db, { jobId, paused: true, reason });
}

/** Unpauses a job and clears its failure streak. */
export function unpauseJob(db: Db, jobId: string, reason?: string): Promise<void> {
  return setJobPaused(db, { jobId, paused: false, reason });
}

/** Asks the next run (or a running --watch) to discover now, whatever `every` says. */
export function wakeJob(db: Db, jobId: string, now = Date.now()): Promise<void> {
  if (db.engine === "postgres") return pg.wakeJob(db, jobId, now);
  const s = sqlite(db);
  s.tx(() => {
    s.stmt(
      `INSERT INTO job_state (job_id, wake_requested_at) VALUES (?, ?)
       ON CONFLICT (job_id) DO UPDATE SET wake_requested_at = excluded.wake_requested_at`,
    ).run(jobId, now);
    insertEvent(s, { ts: now, jobId, kind: "wake", message: "discovery requested" });
  });
  return Promise.resolve();
}

/**
 * Takes the job's discovery lease for `owner` unless another owner holds an unexpired one.
 * Returns whether it was taken; only the holder runs the job's discovery.
 */
export function acquireDiscoveryLease(
  db: Db,
  options: { jobId: string; owner: string; leaseMs: number; now?: () => number },
): Promise<boolean> {
  if (db.engine === "postgres") return pg.acquireDiscoveryLease(db, options);
  const now = (options.now ?? Date.now)();
  const row = sqlite(db).stmt(
    `INSERT INTO job_state (job_id, discovery_owner, discovery_lease_until) VALUES (:job, :owner, :until)
     ON CONFLICT (job_id) DO UPDATE SET discovery_owner = :owner, discovery_lease_until = :until
     WHERE job_state.discovery_owner IS NULL OR job_state.discovery_owner = :owner
       OR job_state.discovery_lease_until < :now
     RETURNING job_id`,
  ).get({ job: options.jobId, owner: options.owner, until: now + options.leaseMs, now });
  return Promise.resolve(row !== undefined);
}

/** Ends a discovery: releases the lease and, when it succeeded, records when and clears a wake. */
export function finishDiscovery(
  db: Db,
  options: { jobId: string; owner: string; succeeded: boolean; now?: () => number },
): Promise<void> {
  if (db.engine === "postgres") return pg.finishDiscovery(db, options);
  const now = (options.now ?? Date.now)();
  sqlite(db).stmt(
    `UPDATE job_state SET discovery_owner = NULL, discovery_lease_until = NULL,
       last_discovery_at = CASE WHEN :ok THEN :now ELSE last_discovery_at END,
       wake_requested_at = CASE WHEN :ok THEN NULL ELSE wake_requested_at END
     WHERE job_id = :job AND discovery_owner = :owner`,
  ).run({ ok: options.succeeded ? 1 : 0, now, job: options.jobId, owner: options.owner });
  return Promise.resolve();
}

/** Counts of one stage by status. */
export interface StageCounts {
  stage: string;
  position: number;
  pending: number;
  inProgress: number;
  done: number;
  failed: number;
  skipped: number;
}

/** Per-stage counts by status, in pipeline order. */
export function stageStats(db: Db, jobId: string): Promise<StageCounts[]> {
  if (db.engine === "postgres") return pg.stageStats(db, jobId);
  return Promise.resolve(stageCounts(sqlite(db), jobId));
}

const STATUS_FIELD: Record<StageStatus, keyof Omit<StageCounts, "stage" | "position">> = {
  pending: "pending",
  in_progress: "inProgress",
  done: "done",
  failed: "failed",
  skipped: "skipped",
};

function stageCounts(s: SqliteDb, jobId: string): StageCounts[] {
  const stages = s.stmt("SELECT stage, position FROM job_stages WHERE job_id = ? ORDER BY position")
    .all(jobId) as { stage: string; position: number }[];
  const byStage = new Map<string, StageCounts>(stages.map((r) => [r.stage, {
    stage: r.stage,
    position: r.position,
    pending: 0,
    inProgress: 0,
    done: 0,
    failed: 0,
    skipped: 0,
  }]));
  const rows = s.stmt("SELECT stage, status, n FROM stage_counts WHERE job_id = ?")
    .all(jobId) as { stage: string; status: StageStatus; n: number }[];
  for (const r of rows) {
    const counts = byStage.get(r.stage);
    if (counts) counts[STATUS_FIELD[r.status]] = r.n;
  }
  return [...byStage.values()];
}

/** Items of a job by derived status, and per-stage counts. */
export interface JobStats {
  items: Record<DerivedStatus, number> & { total: number };
  stages: StageCounts[];
}

/**
 * Items by derived status (as item_derived_status defines it) and per-stage counts. Totals and
 * done items come from counters kept by triggers; failed and in-progress items are counted
 * from their (few) rows, so the cost does not grow with the number of items.
 */
export function getJobStats(db: Db, jobId: string): Promise<JobStats> {
  if (db.engine === "postgres") return pg.getJobStats(db, jobId);
  const s = sqlite(db);
  const one = (sql: string) => (s.stmt(sql).get(jobId) as { n: number } | undefined)?.n ?? 0;
  const stages = stageCounts(s, jobId);
  // Every item has a row for every stage, so the first stage's rows count the items.
  const first = stages[0];
  const total = first
    ? first.pending + first.inProgress + first.done + first.failed + first.skipped
    : 0;
  const done = one("SELECT n FROM done_items WHERE job_id = ?");
  const failed = one(
    `SELECT count(DISTINCT item_id) AS n FROM item_stages INDEXED BY item_stages_failed
     WHERE job_id = ? AND status = 'failed'`,
  );
  const inProgress = one(
    `SELECT count(DISTINCT item_id) AS n FROM item_stages s INDEXED BY item_stages_claimed
     WHERE s.job_id = ? AND s.status = 'in_progress' AND NOT EXISTS (
       SELECT 1 FROM item_stages f WHERE f.item_id = s.item_id AND f.status = 'failed')`,
  );
  return Promise.resolve({
    items: {
      total,
      done,
      failed,
      in_progress: inProgress,
      pending: total - done - failed - inProgress,
    },
    stages,
  });
}

/** Duration percentiles of one stage's finished attempts. */
export interface StageTiming {
  stage: string;
  count: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** p50/p95 of (finished_at - started_at) per stage over attempts finished since `sinceTs`. */
export function stageTimingStats(
  db: Db,
  options: { jobId: string; sinceTs: number },
): Promise<StageTiming[]> {
  if (db.engine === "postgres") return pg.stageTimingStats(db, options);
  const s = sqlite(db);
  const stages = s.stmt("SELECT stage FROM job_stages WHERE job_id = ? ORDER BY position")
    .all(options.jobId) as { stage: string }[];
  return Promise.resolve(stages.map(({ stage }) => {
    const durations = (s.stmt(
      `SELECT finished_at - started_at AS d FROM item_stages INDEXED BY item_stages_finished
       WHERE job_id = ? AND stage = ? AND finished_at >= ? AND started_at IS NOT NULL
         AND status IN ('done', 'skipped', 'failed')
       ORDER BY d`,
    ).all(options.jobId, stage, options.sinceTs) as { d: number }[]).map((r) => r.d);
    return {
      stage,
      count: durations.length,
      p50Ms: percentile(durations, 0.5),
      p95Ms: percentile(durations, 0.95),
    };
  }));
}

/** Records that a run of the job started now (for `jobs run --due` and `jobs status`). */
export function markJobRun(db: Db, options: { jobId: string; now: number }): Promise<void> {
  if (db.engine === "postgres") return pg.markJobRun(db, options);
  sqlite(db).stmt(
    `INSERT INTO job_state (job_id, last_run_at) VALUES (?, ?)
     ON CONFLICT (job_id) DO UPDATE SET last_run_at = excluded.last_run_at`,
  ).run(options.jobId, options.now);
  return Promise.resolve();
}

/**
 * Stage rows of a job that finished (done, skipped or failed) since `sinceTs`, by stage name;
 * stages without any are left out. Reads only the recent end of the finished_at index.
 */
export function throughput(
  db: Db,
  options: { jobId: string; sinceTs: number },
): Promise<Record<string, number>> {
  if (db.engine === "postgres") return pg.throughput(db, options);
  const rows = sqlite(db).stmt(
    `SELECT stage, count(*) AS n FROM item_stages INDEXED BY item_stages_finished
     WHERE job_id = :job AND stage IN (SELECT stage FROM job_stages WHERE job_id = :job)
       AND finished_at >= :since AND status IN ('done', 'skipped', 'failed')
     GROUP BY stage`,
  ).all({ job: options.jobId, since: options.sinceTs }) as { stage: string; n: number }[];
  return Promise.resolve(Object.fromEntries(rows.map((r) => [r.stage, r.n])));
}
