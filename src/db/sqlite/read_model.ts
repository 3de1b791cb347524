/**
 * SQLite: what `status` and the dashboard read: counts from the status counters, throughput,
 * runs per hour, recent stage durations and cost per day. Each reads a few rows or a bounded
 * slice of an index, so a large history costs nothing.
 */
import type {
  DayCost,
  Impl,
  JobStats,
  ReadModelStore,
  StageCounts,
  StageHourRuns,
  StageStatus,
  StageTiming,
} from "../store.ts";
import type { SqliteConn } from "./connection.ts";
import { percentile } from "../_percentile.ts";
import { DAY_MS, HOUR_MS } from "../../util/time.ts";

/** The read model of the SQLite store. */
export function sqliteReadModel(s: SqliteConn): Impl<ReadModelStore> {
  return {
    stageStats: (jobId) => stageStats(s, jobId),
    getJobStats: (jobId) => getJobStats(s, jobId),
    throughput: (options) => throughput(s, options),
    hourlyRuns: (options) => hourlyRuns(s, options),
    recentStageTimings: (options) => recentStageTimings(s, options),
    costPerDay: (options) => costPerDay(s, options),
  };
}

function hourlyRuns(
  s: SqliteConn,
  options: { jobId: string; sinceTs: number },
): StageHourRuns[] {
  const out: StageHourRuns[] = [];
  // One range of the (job, stage, finished_at) index per stage: no table row is read.
  for (const stage of jobStages(s, options.jobId)) {
    const rows = s.stmt(
      `SELECT finished_at / ${HOUR_MS} AS hour, count(*) AS n
       FROM item_stages INDEXED BY item_stages_finished
       WHERE job_id = ? AND stage = ? AND finished_at >= ? GROUP BY hour ORDER BY hour`,
    ).all(options.jobId, stage, options.sinceTs) as { hour: number; n: number }[];
    for (const r of rows) out.push({ stage, hourStart: r.hour * HOUR_MS, runs: r.n });
  }
  return out;
}

function recentStageTimings(
  s: SqliteConn,
  options: { jobId: string; runs: number },
): StageTiming[] {
  return (
    jobStages(s, options.jobId).map((stage) => {
      const durations = (s.stmt(
        `SELECT finished_at - started_at AS d FROM item_stages INDEXED BY item_stages_finished
       WHERE job_id = ? AND stage = ? AND finished_at IS NOT NULL AND started_at IS NOT NULL
         AND status IN ('done', 'skipped', 'failed')
       ORDER BY finished_at DESC LIMIT ?`,
      ).all(options.jobId, stage, options.runs) as { d: number }[]).map((r) => r.d)
        .sort((a, b) => a - b);
      return {
        stage,
        count: durations.length,
        p50Ms: percentile(durations, 0.5),
        p95Ms: percentile(durations, 0.95),
      };
    })
  );
}

function costPerDay(
  s: SqliteConn,
  options: { jobId: string; sinceTs: number; untilTs: number },
): DayCost[] {
  const rows = s.stmt(
    `SELECT day, sum(usd) AS usd FROM (
       SELECT ts / ${DAY_MS} AS day, cost_usd AS usd FROM events INDEXED BY events_job_cost
       WHERE cost_usd IS NOT NULL AND ts >= :since AND ts < :until AND job_id = :job
       UNION ALL
       SELECT day_start / ${DAY_MS}, usd FROM cost_totals
       WHERE day_start >= :since AND day_start < :until AND job_id = :job)
     GROUP BY day ORDER BY day`,
  ).all({ since: options.sinceTs, until: options.untilTs, job: options.jobId }) as {
    day: number;
    usd: number;
  }[];
  return rows.map((r) => ({ dayStart: r.day * DAY_MS, usd: r.usd }));
}

function jobStages(s: SqliteConn, jobId: string): string[] {
  return (s.stmt("SELECT stage FROM job_stages WHERE job_id = ? ORDER BY position")
    .all(jobId) as { stage: string }[]).map((r) => r.stage);
}

function stageStats(s: SqliteConn, jobId: string): StageCounts[] {
  return stageCounts(s, jobId);
}

const STATUS_FIELD: Record<StageStatus, keyof Omit<StageCounts, "stage" | "position">> = {
  pending: "pending",
  in_progress: "inProgress",
  done: "done",
  failed: "failed",
  skipped: "skipped",
};

function stageCounts(s: SqliteConn, jobId: string): StageCounts[] {
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

/**
 * Items by derived status (as item_derived_status defines it) and per-stage counts. Totals and
 * done items come from the status counters; failed and in-progress items are counted
 * from their (few) rows, so the cost does not grow with the number of items.
 */
function getJobStats(s: SqliteConn, jobId: string): JobStats {
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
  return {
    items: {
      total,
      done,
      failed,
      in_progress: inProgress,
      pending: total - done - failed - inProgress,
    },
    stages,
  };
}

/**
 * Stage rows of a job that finished (done, skipped or failed) since `sinceTs`, by stage name;
 * stages without any are left out. Reads only the recent end of the finished_at index.
 */
function throughput(
  s: SqliteConn,
  options: { jobId: string; sinceTs: number },
): Record<string, number> {
  const rows = s.stmt(
    `SELECT stage, count(*) AS n FROM item_stages INDEXED BY item_stages_finished
     WHERE job_id = :job AND stage IN (SELECT stage FROM job_stages WHERE job_id = :job)
       AND finished_at >= :since AND status IN ('done', 'skipped', 'failed')
     GROUP BY stage`,
  ).all({ job: options.jobId, since: options.sinceTs }) as { stage: string; n: number }[];
  return Object.fromEntries(rows.map((r) => [r.stage, r.n]));
}
