/** The counters of finished attempts (stage_run_totals), moved with each batch of outcomes. */
import type { SqliteConn } from "./connection.ts";

/** One finished attempt: its stage, outcome (done, skipped, retry, failed) and duration. */
export interface FinishedAttempt {
  stage: string;
  outcome: string;
  durationMs: number;
}

/** Adds `attempts` to the job's counters; call inside the transaction that recorded them. */
export function countAttempts(
  s: SqliteConn,
  jobId: string,
  attempts: readonly FinishedAttempt[],
): void {
  const sums = new Map<string, { stage: string; outcome: string; runs: number; ms: number }>();
  for (const a of attempts) {
    const key = `${a.stage}\0${a.outcome}`;
    const sum = sums.get(key) ?? { stage: a.stage, outcome: a.outcome, runs: 0, ms: 0 };
    sum.runs++;
    sum.ms += Math.max(0, a.durationMs);
    sums.set(key, sum);
  }
  const add = s.stmt(
    `INSERT INTO stage_run_totals (job_id, stage, outcome, runs, duration_ms) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (job_id, stage, outcome) DO UPDATE SET runs = runs + excluded.runs,
       duration_ms = duration_ms + excluded.duration_ms`,
  );
  for (const sum of sums.values()) add.run(jobId, sum.stage, sum.outcome, sum.runs, sum.ms);
}
