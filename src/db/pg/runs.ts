/** PostgreSQL: how runs end, and finding the runs that crashed. */
import type { CrashedRun, DetectCrashedRunsOptions, Impl, RunOutcome, RunStore } from "../store.ts";
import type { PgConn } from "./connection.ts";
import { queueAlert } from "./_alerts.ts";
import { hostName, isProcessAlive } from "../../util/process.ts";
import { crashAlert, crashReason, type OpenRun } from "../_crash.ts";

/** The run area of the PostgreSQL store. */
export function pgRuns(db: PgConn): Impl<RunStore> {
  return {
    finishRun: (options) => finishRun(db, options),
    detectCrashedRuns: (options) => detectCrashedRuns(db, options),
  };
}

async function finishRun(
  db: PgConn,
  options: { runId: string; outcome: RunOutcome; now?: () => number },
): Promise<void> {
  await db.sql`UPDATE runs SET ended_at = ${(options.now ?? Date.now)()}::bigint,
    outcome = ${options.outcome} WHERE run_id = ${options.runId} AND ended_at IS NULL`;
}

/** Rows are locked (SKIP LOCKED): of two machines looking at once, one reports each run. */
function detectCrashedRuns(db: PgConn, options: DetectCrashedRunsOptions): Promise<CrashedRun[]> {
  const now = (options.now ?? Date.now)();
  const host = options.host ?? hostName();
  const isAlive = options.isAlive ?? isProcessAlive;
  return db.tx(async (sql) => {
    const open = await sql<OpenRun[]>`
      SELECT run_id, host, pid, pid_start, started_at, jobs, heartbeat_at FROM runs
      WHERE ended_at IS NULL AND run_id <> ${options.runId} FOR UPDATE SKIP LOCKED`;
    const crashed: CrashedRun[] = [];
    for (const run of open) {
      const reason = crashReason(run, { host, isAlive, now, staleMs: options.staleMs });
      if (reason === undefined) continue;
      const found = crashAlert(run, reason);
      await sql`UPDATE runs SET ended_at = ${now}::bigint, outcome = 'crashed'
        WHERE run_id = ${run.run_id}`;
      for (const jobId of found.jobs.length ? found.jobs : [""]) {
        await queueAlert(sql, { jobId, kind: "crashed", message: reason, data: { ...found }, now });
      }
      crashed.push(found);
    }
    return crashed;
  });
}
