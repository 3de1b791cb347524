/** PostgreSQL twin of ../dashboard.ts: stage runs per hour, recent timings, cost per day. */
import type { PgDb } from "./mod.ts";
import type { DayCost, StageHourRuns } from "../dashboard.ts";
import type { StageTiming } from "../jobs.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** See hourlyRuns() in ../dashboard.ts. */
export async function hourlyRuns(
  db: PgDb,
  options: { jobId: string; sinceTs: number },
): Promise<StageHourRuns[]> {
  const rows = await db.sql<{ stage: string; hour: number; n: number }[]>`
    SELECT st.stage, st.finished_at / ${HOUR_MS}::bigint AS hour, count(*)::int AS n
    FROM item_stages st JOIN job_stages js ON js.job_id = st.job_id AND js.stage = st.stage
    WHERE st.job_id = ${options.jobId} AND st.finished_at >= ${options.sinceTs}::bigint
    GROUP BY js.position, st.stage, hour ORDER BY js.position, hour`;
  return rows.map((r) => ({ stage: r.stage, hourStart: r.hour * HOUR_MS, runs: r.n }));
}

/** See recentStageTimings() in ../dashboard.ts. */
export async function recentStageTimings(
  db: PgDb,
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
      p50Ms: nearestRank(sorted, 0.5),
      p95Ms: nearestRank(sorted, 0.95),
    };
  });
}

/** See costPerDay() in ../dashboard.ts. */
export async function costPerDay(
  db: PgDb,
  options: { jobId: string; sinceTs: number; untilTs: number },
): Promise<DayCost[]> {
  const rows = await db.sql<{ day: number; usd: number }[]>`
    SELECT ts / ${DAY_MS}::bigint AS day, sum(cost_usd) AS usd FROM events
    WHERE cost_usd IS NOT NULL AND ts >= ${options.sinceTs}::bigint
      AND ts < ${options.untilTs}::bigint AND job_id = ${options.jobId}
    GROUP BY day ORDER BY day`;
  return rows.map((r) => ({ dayStart: r.day * DAY_MS, usd: r.usd }));
}

/** Nearest-rank percentile of sorted values. */
function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}
