/** PostgreSQL: what Prometheus metrics read beyond the status report. */
import type { Impl, JobMetrics, MetricsStore } from "../store.ts";
import type { PgConn } from "./connection.ts";

/** The metrics area of the PostgreSQL store. */
export function pgMetrics(db: PgConn): Impl<MetricsStore> {
  return { jobMetrics: (options) => jobMetrics(db, options.jobId) };
}

async function jobMetrics(db: PgConn, jobId: string): Promise<JobMetrics> {
  const { sql } = db;
  const runs = await sql<JobMetrics["runs"]>`
    SELECT stage, outcome, runs, duration_ms AS "durationMs" FROM stage_run_totals
    WHERE job_id = ${jobId} ORDER BY stage COLLATE "C", outcome COLLATE "C"`;
  const costs = await sql<JobMetrics["costs"]>`
    SELECT stage, sum(usd)::float8 AS usd FROM (
      SELECT stage, cost_usd AS usd FROM events WHERE job_id = ${jobId} AND cost_usd IS NOT NULL
      UNION ALL
      SELECT nullif(stage, ''), usd FROM cost_totals WHERE job_id = ${jobId}) c
    GROUP BY stage ORDER BY stage COLLATE "C" NULLS FIRST`;
  const oldest = await sql<{ stage: string; discoveredAt: number | null }[]>`
    SELECT js.stage, (SELECT w.discovered_at FROM work_items w WHERE w.id = (
        SELECT min(st.item_id) FROM item_stages st
        WHERE st.job_id = js.job_id AND st.stage = js.stage AND st.status = 'pending'
          AND st.ready)) AS "discoveredAt"
    FROM job_stages js WHERE js.job_id = ${jobId} ORDER BY js.position`;
  return {
    runs: runs.map((r) => ({ ...r })),
    costs: costs.map((r) => ({ ...r })),
    oldestPending: oldest.filter((r) => r.discoveredAt !== null) as {
      stage: string;
      discoveredAt: number;
    }[],
  };
}
