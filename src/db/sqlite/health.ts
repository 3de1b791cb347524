/** SQLite: what `doctor` and the dashboard ask of the store: integrity, WAL, leases, failures. */
import type {
  FailedRow,
  FailureClusterOptions,
  HealthStore,
  Impl,
  LeaseProblem,
  LeaseProblemOptions,
  StageRowGaps,
} from "../store.ts";
import type { SqliteConn } from "./connection.ts";
import { recountJob, syncStages } from "./items.ts";
import { readySql } from "./_ready.ts";
import { hostName, isProcessAlive } from "../../util/process.ts";

/** The health area of the SQLite store. */
export function sqliteHealth(s: SqliteConn): Impl<HealthStore> {
  return {
    failedRows: (options) => failedRows(s, options),
    integrityProblems: (options) => integrityProblems(s, options),
    walSize: () => walSize(s),
    checkpointWal: () => checkpointWal(s),
    leaseProblems: (options) => leaseProblems(s, options),
    stuckBehindFailures: (options) => stuckBehindFailures(s, options),
    stageRowGaps: (options) => stageRowGaps(s, options),
    addMissingStageRows: (options) => addMissingStageRows(s, options),
  };
}

function failedRows(s: SqliteConn, options: FailureClusterOptions): FailedRow[] {
  return s.stmt(
    `SELECT stage, position, item_id AS itemId, coalesce(error, '') AS error
     FROM item_stages INDEXED BY item_stages_failed
     WHERE job_id = :job AND status = 'failed' AND stage IN (
       SELECT stage FROM job_stages WHERE job_id = :job AND (:stage IS NULL OR stage = :stage))
     ORDER BY stage, item_id`,
  ).all({ job: options.jobId, stage: options.stage ?? null }) as unknown as FailedRow[];
}

function integrityProblems(s: SqliteConn, options: { max?: number } = {}): string[] {
  try {
    const rows = s.conn.prepare(`PRAGMA quick_check(${options.max ?? 20})`).all() as {
      quick_check: string;
    }[];
    const problems = rows.map((r) => r.quick_check);
    return problems.length === 1 && problems[0] === "ok" ? [] : problems;
  } catch (err) {
    // A badly damaged file fails before quick_check can list anything.
    return [(err as Error).message];
  }
}

function walSize(s: SqliteConn): number {
  try {
    return Deno.statSync(`${s.location}-wal`).size;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return 0;
    throw err;
  }
}

function checkpointWal(s: SqliteConn): { busy: boolean; walBytes: number } {
  const row = s.conn.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get() as {
    busy: number;
  };
  return { busy: row.busy !== 0, walBytes: walSize(s) };
}

function leaseProblems(s: SqliteConn, options: LeaseProblemOptions = {}): LeaseProblem[] {
  const now = (options.now ?? Date.now)();
  const host = hostName();
  const rows = s.stmt(
    `SELECT st.job_id, st.lease_until < :now AS expired, r.host, r.pid, r.pid_start, count(*) AS n
     FROM item_stages st INDEXED BY item_stages_claimed LEFT JOIN runs r ON r.run_id = st.claimed_by
     WHERE st.status = 'in_progress'
     GROUP BY st.job_id, expired, r.run_id ORDER BY st.job_id`,
  ).all({ now }) as {
    job_id: string;
    expired: number;
    host: string | null;
    pid: number | null;
    pid_start: string | null;
    n: number;
  }[];
  const byJob = new Map<string, LeaseProblem>();
  for (const r of rows) {
    const problem = byJob.get(r.job_id) ?? { jobId: r.job_id, expired: 0, deadProcess: 0 };
    if (r.expired) problem.expired += r.n;
    else if (
      r.host === host && r.pid !== null && r.pid !== Deno.pid && !isProcessAlive(r.pid, r.pid_start)
    ) {
      problem.deadProcess += r.n;
    }
    byJob.set(r.job_id, problem);
  }
  return [...byJob.values()].filter((p) => p.expired + p.deadProcess > 0);
}

function stuckBehindFailures(
  s: SqliteConn,
  options: { jobId: string },
): { stage: string; items: number }[] {
  const rows = s.stmt(
    `SELECT f.stage, count(*) AS n FROM item_stages f INDEXED BY item_stages_failed
     WHERE f.job_id = ?1 AND f.status = 'failed'
       AND f.stage IN (SELECT stage FROM job_stages WHERE job_id = ?1)
       AND EXISTS (SELECT 1 FROM item_stages p
       WHERE p.item_id = f.item_id AND p.position > f.position AND p.status = 'pending')
     GROUP BY f.stage ORDER BY min(f.position)`,
  ).all(options.jobId) as { stage: string; n: number }[];
  return rows.map((r) => ({ stage: r.stage, items: r.n }));
}

function stageRowGaps(
  s: SqliteConn,
  options: { jobId: string; stages: readonly string[] },
): StageRowGaps {
  const known = (s.stmt("SELECT stage FROM job_stages WHERE job_id = ? ORDER BY position")
    .all(options.jobId) as { stage: string }[]).map((r) => r.stage);
  const items = (s.stmt("SELECT count(*) AS n FROM work_items WHERE job_id = ?")
    .get(options.jobId) as { n: number }).n;
  // Rows are unique per (item, stage), so what the known stages lack is a difference of counts.
  const { rows } = s.stmt(
    `SELECT count(*) AS rows FROM item_stages
     WHERE job_id = ?1 AND stage IN (SELECT stage FROM job_stages WHERE job_id = ?1)`,
  ).get(options.jobId) as { rows: number };
  // A job with no items yet gets its stages on its first discovery; nothing is missing.
  const unknownStages = items ? options.stages.filter((name) => !known.includes(name)) : [];
  return {
    unknownStages,
    removedStages: known.filter((name) => !options.stages.includes(name)),
    missingRows: items * known.length - rows + items * unknownStages.length,
  };
}

async function addMissingStageRows(
  s: SqliteConn,
  options: { jobId: string; stages: readonly string[] },
): Promise<number | null> {
  const gaps = await stageRowGaps(s, options);
  if (gaps.removedStages.length) return null;
  const count = () =>
    (s.stmt("SELECT count(*) AS n FROM item_stages WHERE job_id = ?").get(options.jobId) as {
      n: number;
    }).n;
  const before = count();
  if (gaps.unknownStages.length) syncStages(s, options);
  s.tx(() => {
    const added = s.stmt(
      `INSERT INTO item_stages (item_id, job_id, stage, position)
       SELECT w.id, w.job_id, js.stage, js.position
       FROM work_items w JOIN job_stages js ON js.job_id = w.job_id
       WHERE w.job_id = ? AND NOT EXISTS (
         SELECT 1 FROM item_stages st WHERE st.item_id = w.id AND st.stage = js.stage)`,
    ).run(options.jobId).changes;
    if (!added) return;
    s.stmt(
      `UPDATE item_stages SET ready = ${readySql("item_stages")}
       WHERE job_id = ? AND status = 'pending'`,
    ).run(options.jobId);
    // The counters follow statements that move statuses; rows added here need them rebuilt.
    recountJob(s, options.jobId);
  });
  return count() - before;
}
