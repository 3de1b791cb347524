/** PostgreSQL: what `doctor` and the dashboard ask of the store. */
import type {
  FailedRow,
  FailureClusterOptions,
  HealthStore,
  Impl,
  LeaseProblem,
  LeaseProblemOptions,
  StageRowGaps,
} from "../store.ts";
import type { PgConn } from "./connection.ts";
import { syncStages } from "./items.ts";
import { hostName, isProcessAlive } from "../../util/process.ts";

/** The Health area of the PostgreSQL store. */
export function pgHealth(db: PgConn): Impl<HealthStore> {
  return {
    failedRows: (options) => failedRows(db, options),
    integrityProblems: (options) => integrityProblems(db, options),
    walSize: () => walSize(db),
    checkpointWal: () => checkpointWal(db),
    leaseProblems: (options) => leaseProblems(db, options),
    stuckBehindFailures: (options) => stuckBehindFailures(db, options),
    stageRowGaps: (options) => stageRowGaps(db, options),
    addMissingStageRows: (options) => addMissingStageRows(db, options),
  };
}

async function failedRows(db: PgConn, options: FailureClusterOptions): Promise<FailedRow[]> {
  return [
    ...await db.sql<FailedRow[]>`
    SELECT st.stage, st.position, st.item_id AS "itemId", coalesce(st.error, '') AS error
    FROM item_stages st JOIN job_stages js ON js.job_id = st.job_id AND js.stage = st.stage
    WHERE st.job_id = ${options.jobId} AND st.status = 'failed'
      ${options.stage === undefined ? db.sql`` : db.sql`AND st.stage = ${options.stage}`}
    ORDER BY st.stage COLLATE "C", st.item_id`,
  ];
}

async function leaseProblems(
  db: PgConn,
  options: LeaseProblemOptions = {},
): Promise<LeaseProblem[]> {
  const now = (options.now ?? Date.now)();
  const host = hostName();
  const rows = await db.sql<{
    job_id: string;
    expired: boolean;
    host: string | null;
    pid: number | null;
    pid_start: string | null;
    n: number;
  }[]>`
    SELECT st.job_id, st.lease_until < ${now}::bigint AS expired, r.host, r.pid, r.pid_start,
      count(*)::int AS n
    FROM item_stages st LEFT JOIN runs r ON r.run_id = st.claimed_by
    WHERE st.lease_until IS NOT NULL AND st.status = 'in_progress'
    GROUP BY st.job_id, expired, r.run_id ORDER BY st.job_id COLLATE "C"`;
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

async function stuckBehindFailures(
  db: PgConn,
  options: { jobId: string },
): Promise<{ stage: string; items: number }[]> {
  const rows = await db.sql<{ stage: string; n: number }[]>`
    SELECT f.stage, count(*)::int AS n FROM item_stages f
    WHERE f.job_id = ${options.jobId} AND f.status = 'failed'
      AND f.stage IN (SELECT stage FROM job_stages WHERE job_id = ${options.jobId})
      AND EXISTS (SELECT 1 FROM item_stages p
        WHERE p.item_id = f.item_id AND p.position > f.position AND p.status = 'pending')
    GROUP BY f.stage ORDER BY min(f.position)`;
  return rows.map((r) => ({ stage: r.stage, items: r.n }));
}

async function stageRowGaps(
  db: PgConn,
  options: { jobId: string; stages: readonly string[] },
): Promise<StageRowGaps> {
  const [known, [{ items, rows }]] = await Promise.all([
    db.sql<{ stage: string }[]>`
      SELECT stage FROM job_stages WHERE job_id = ${options.jobId} ORDER BY position`,
    db.sql<{ items: number; rows: number }[]>`
      SELECT (SELECT count(*)::int FROM work_items WHERE job_id = ${options.jobId}) AS items,
        (SELECT count(*)::int FROM item_stages st JOIN job_stages js
          ON js.job_id = st.job_id AND js.stage = st.stage
          WHERE st.job_id = ${options.jobId}) AS rows`,
  ]);
  const names = known.map((r) => r.stage);
  const unknownStages = items ? options.stages.filter((name) => !names.includes(name)) : [];
  return {
    unknownStages,
    removedStages: names.filter((name) => !options.stages.includes(name)),
    missingRows: items * names.length - rows + items * unknownStages.length,
  };
}

async function addMissingStageRows(
  db: PgConn,
  options: { jobId: string; stages: readonly string[] },
): Promise<number | null> {
  const gaps = await stageRowGaps(db, options);
  if (gaps.removedStages.length) return null;
  const count = async () =>
    (await db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM item_stages WHERE job_id = ${options.jobId}`)[0].n;
  const before = await count();
  if (gaps.unknownStages.length) await syncStages(db, options);
  await db.tx(async (sql) => {
    const added = await sql`
      INSERT INTO item_stages (item_id, job_id, stage, position)
      SELECT w.id, w.job_id, js.stage, js.position
      FROM work_items w JOIN job_stages js ON js.job_id = w.job_id
      WHERE w.job_id = ${options.jobId} AND NOT EXISTS (
        SELECT 1 FROM item_stages st WHERE st.item_id = w.id AND st.stage = js.stage)`;
    if (added.count === 0) return;
    await sql`
      UPDATE item_stages st SET ready = NOT st.ready
      WHERE st.job_id = ${options.jobId} AND st.status = 'pending'
        AND st.ready <> (st.position = 0 OR EXISTS (SELECT 1 FROM item_stages p
          WHERE p.item_id = st.item_id AND p.position = st.position - 1
            AND p.status IN ('done', 'skipped')))`;
  });
  return await count() - before;
}

/**
 * The server checks its own pages (and checksums,
 * when enabled); there is nothing the store can ask it cheaply, so nothing is reported.
 */
function integrityProblems(_db: PgConn, _options: { max?: number } = {}): Promise<string[]> {
  return Promise.resolve([]);
}

/** the server manages its write-ahead log, so 0. */
function walSize(_db: PgConn): Promise<number> {
  return Promise.resolve(0);
}

/** the server checkpoints on its own; nothing to do. */
function checkpointWal(_db: PgConn): Promise<{ busy: boolean; walBytes: number }> {
  return Promise.resolve({ busy: false, walBytes: 0 });
}
