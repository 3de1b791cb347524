/**
 * What the web dashboard reads beyond status: stage runs per hour, recent stage durations and
 * cost per day. Each reads a bounded slice of an index, so a large history costs nothing.
 */
import { type Db, sqlite } from "./mod.ts";
import type { StageTiming } from "./jobs.ts";
import * as pg from "./pg/dashboard.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Attempts of one stage that finished in one hour. */
export interface StageHourRuns {
  stage: string;
  /** Start of the hour, ms since epoch (UTC). */
  hourStart: number;
  /** Attempts that finished in that hour, whatever their outcome (done, skipped, failed, retry). */
  runs: number;
}

/** Finished attempts of each stage of `jobId` per hour since `sinceTs`; empty hours left out. */
export function hourlyRuns(
  db: Db,
  options: { jobId: string; sinceTs: number },
): Promise<StageHourRuns[]> {
  if (db.engine === "postgres") return pg.hourlyRuns(db, options);
  const s = sqlite(db);
  const out: StageHourRuns[] = [];
  // One range of the (job, stage, finished_at) index per stage: no table row is read.
  for (const stage of jobStages(db, options.jobId)) {
    const rows = s.stmt(
      `SELECT finished_at / ${HOUR_MS} AS hour, count(*) AS n
       FROM item_stages INDEXED BY item_stages_finished
       WHERE job_id = ? AND stage = ? AND finished_at >= ? GROUP BY hour ORDER BY hour`,
    ).all(options.jobId, stage, options.sinceTs) as { hour: number; n: number }[];
    for (const r of rows) out.push({ stage, hourStart: r.hour * HOUR_MS, runs: r.n });
  }
  return Promise.resolve(out);
}

/** p50/p95 of each stage's durations over its latest `runs` finished (done, skipped, failed) runs. */
export function recentStageTimings(
  db: Db,
  options: { jobId: string; runs: number },
): Promise<StageTiming[]> {
  if (db.engine === "postgres") return pg.recentStageTimings(db, options);
  const s = sqlite(db);
  return Promise.resolve(
    jobStages(db, options.jobId).map((stage) => {
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
        p50Ms: nearestRank(durations, 0.5),
        p95Ms: nearestRank(durations, 0.95),
      };
    }),
  );
}

/** Cost of one UTC day. */
export interface DayCost {
  /** Start of the day, ms since epoch (UTC). */
  dayStart: number;
  usd: number;
}

/** Cost of `jobId` per UTC day for events in [sinceTs, untilTs); days without cost left out. */
export function costPerDay(
  db: Db,
  options: { jobId: string; sinceTs: number; untilTs: number },
): Promise<DayCost[]> {
  if (db.engine === "postgres") return pg.costPerDay(db, options);
  const rows = sqlite(db).stmt(
    `SELECT ts / ${DAY_MS} AS day, sum(cost_usd) AS usd FROM events INDEXED BY events_job_cost
     WHERE cost_usd IS NOT NULL AND ts >= ? AND ts < ? AND job_id = ?
     GROUP BY day ORDER BY day`,
  ).all(options.sinceTs, options.untilTs, options.jobId) as { day: number; usd: number }[];
  return Promise.resolve(rows.map((r) => ({ dayStart: r.day * DAY_MS, usd: r.usd })));
}

function jobStages(db: Db, jobId: string): string[] {
  return (sqlite(db).stmt("SELECT stage FROM job_stages WHERE job_id = ? ORDER BY position")
    .all(jobId) as { stage: string }[]).map((r) => r.stage);
}

/** Nearest-rank percentile of sorted values. */
function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}
