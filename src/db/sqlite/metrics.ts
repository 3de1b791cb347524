/** SQLite: what Prometheus metrics read beyond the status report. */
import type { Impl, JobMetrics, MetricsStore } from "../store.ts";
import type { SqliteConn } from "./connection.ts";

/** The metrics area of the SQLite store. */
export function sqliteMetrics(s: SqliteConn): Impl<MetricsStore> {
  return { jobMetrics: (options) => jobMetrics(s, options.jobId) };
}

function jobMetrics(s: SqliteConn, jobId: string): JobMetrics {
  const runs = s.stmt(
    `SELECT stage, outcome, runs, duration_ms AS durationMs FROM stage_run_totals
     WHERE job_id = ? ORDER BY stage, outcome`,
  ).all(jobId) as unknown as JobMetrics["runs"];
  const costs = s.stmt(
    `SELECT stage, sum(usd) AS usd FROM (
       SELECT stage, cost_usd AS usd FROM events INDEXED BY events_job_cost
       WHERE job_id = :job AND cost_usd IS NOT NULL
       UNION ALL
       SELECT nullif(stage, ''), usd FROM cost_totals WHERE job_id = :job)
     GROUP BY stage ORDER BY stage`,
  ).all({ job: jobId }) as unknown as JobMetrics["costs"];
  const oldestPending = s.stmt(
    `SELECT js.stage, (SELECT w.discovered_at FROM work_items w WHERE w.id = (
         SELECT min(st.item_id) FROM item_stages st INDEXED BY item_stages_claim
         WHERE st.job_id = js.job_id AND st.stage = js.stage AND st.status = 'pending'
           AND st.ready = 1)) AS discoveredAt
     FROM job_stages js WHERE js.job_id = ? ORDER BY js.position`,
  ).all(jobId) as { stage: string; discoveredAt: number | null }[];
  return {
    runs: runs.map((r) => ({ ...r })),
    costs: costs.map((r) => ({ ...r })),
    oldestPending: oldestPending.filter((r) => r.discoveredAt !== null).map((r) => ({ ...r })) as {
      stage: string;
      discoveredAt: number;
    }[],
  };
}
