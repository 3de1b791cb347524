/**
 * PostgreSQL: what `status` and the dashboard read: counts by status, throughput, runs per
 * hour, recent stage durations and cost per day.
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
import type { PgConn } from "./connection.ts";
import { percentile } from "../_percentile.ts";
import { DAY_MS, HOUR_MS } from "../../util/time.ts";

/** The read model of the PostgreSQL store. */
export function pgReadModel(db: PgConn): Impl<ReadModelStore> {
  return {
    stageStats: (jobId) => stageStats(db, jobId),
    getJobStats: (jobId) => getJobStats(db, jobId),
    throughput: (options) => throughput(db, options),
    hourlyRuns: (options) => hourlyRuns(db, options),
    recentStageTimings: (options) => recentStageTimings(db, options),
    costPerDay: (options) => costPerDay(db, options),
  };
}

async function hourlyRuns(
  db: PgConn,
  options: { jobId: string; sinceTs: number },
): Promise<StageHourRuns[]> {
  const rows = await db.sql<{ stage: string; hour: number; n: number }[]>`
    SELECT st.stage, st.finished_at / ${HOUR_MS}::bigint AS hour, count(*)::int AS n
    FROM item_stages st JOIN job_stages js ON js.job_id = st.job_id AND js.stage = st.stage
    WHERE st.job_id = ${options.jobId} AND st.finished_at >= ${options.sinceTs}::bigint
    GROUP BY js.position, st.stage, hour ORDER BY js.position, hour`;
  return rows.map((r) => ({ stage: r.stage, hourStart: r.hour * HOUR_MS, runs: r.n }));
}

async function recentStageTimings(
  db: PgConn,
  options: { jobId: string; runs: number },
): Promise<StageTiming[]> {
  const rows = await db.sql<{ stage: string; durations: number[] | null }[]>`
    SELECT js.stage, (
      SELECT array_agg(d ORDER BY d) FROM (
        SELECT (st.finished_at - st.started_at)::float8 AS d FROM item_stages st
        WHERE st.job_id = js.job_id AND st.stage = js.stage AND st.finished_at IS NOT NULL
          AND st.started_at IS NOT NULL AND st.status IN ('done', 'skipped', 'failed')
        ORDER BY st.finished_at DESC LIMIT ${options.runs}) recent
    ) AS durations
    FROM job_stages js WHERE js.job_id = ${options.jobId} ORDER BY js.position`;
  return rows.map((r) => {
    const sorted = r.durations ?? [];
    return {
      stage: r.stage,
      count: sorted.length,
      p50Ms: percentile(sorted, 0.5),
      p95Ms: percentile(sorted, 0.95),
    };
  });
}

async function costPerDay(
  db: PgConn,
  options: { jobId: string; sinceTs: number; untilTs: number },
): Promise<DayCost[]> {
  const rows = await db.sql<{ day: number; usd: number }[]>`
    SELECT day, sum(usd)::float8 AS usd FROM (
      SELECT ts / ${DAY_MS}::bigint AS day, cost_usd AS usd FROM events
      WHERE cost_usd IS NOT NULL AND ts >= ${options.sinceTs}::bigint
        AND ts < ${options.untilTs}::bigint AND job_id = ${options.jobId}
      UNION ALL
      SELECT day_start / ${DAY_MS}::bigint, usd FROM cost_totals
      WHERE day_start >= ${options.sinceTs}::bigint AND day_start < ${options.untilTs}::bigint
        AND job_id = ${options.jobId}) c
    GROUP BY day ORDER BY day`;
  return rows.map((r) => ({ dayStart: r.day * DAY_MS, usd: r.usd }));
}

const STATUS_FIELD: Record<StageStatus, keyof Omit<StageCounts, "stage" | "position">> = {
  pending: "pending",
  in_progress: "inProgress",
  done: "done",
  failed: "failed",
  skipped: "skipped",
};

async function stageStats(db: PgConn, jobId: string): Promise<StageCounts[]> {
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

/** Items by derived status, counted over the open (not done) rows only. */
async function getJobStats(db: PgConn, jobId: string): Promise<JobStats> {
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

async function throughput(
  db: PgConn,
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
