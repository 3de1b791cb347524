/** SQLite: how runs end, and finding the runs that crashed. */
import type { CrashedRun, DetectCrashedRunsOptions, Impl, RunOutcome, RunStore } from "../store.ts";
import type { SqliteConn } from "./connection.ts";
import { queueAlert } from "./_alerts.ts";
import { hostName, isProcessAlive } from "../../util/process.ts";
import { crashAlert, crashReason, type OpenRun } from "../_crash.ts";

/** The run area of the SQLite store. */
export function sqliteRuns(s: SqliteConn): Impl<RunStore> {
  return {
    finishRun: (options) => finishRun(s, options),
    detectCrashedRuns: (options) => detectCrashedRuns(s, options),
  };
}

function finishRun(
  s: SqliteConn,
  options: { runId: string; outcome: RunOutcome; now?: () => number },
): void {
  s.stmt("UPDATE runs SET ended_at = ?, outcome = ? WHERE run_id = ? AND ended_at IS NULL")
    .run((options.now ?? Date.now)(), options.outcome, options.runId);
}

function detectCrashedRuns(s: SqliteConn, options: DetectCrashedRunsOptions): CrashedRun[] {
  const now = (options.now ?? Date.now)();
  const host = options.host ?? hostName();
  const isAlive = options.isAlive ?? isProcessAlive;
  return s.tx(() => {
    const open = s.stmt(
      `SELECT run_id, host, pid, pid_start, started_at, jobs, heartbeat_at FROM runs
       WHERE ended_at IS NULL AND run_id <> ?`,
    ).all(options.runId) as unknown as OpenRun[];
    const crashed: CrashedRun[] = [];
    const mark = s.stmt("UPDATE runs SET ended_at = ?, outcome = 'crashed' WHERE run_id = ?");
    for (const run of open) {
      const reason = crashReason(run, { host, isAlive, now, staleMs: options.staleMs });
      if (reason === undefined) continue;
      const found = crashAlert(run, reason);
      mark.run(now, run.run_id);
      for (const jobId of found.jobs.length ? found.jobs : [""]) {
        queueAlert(s, { jobId, kind: "crashed", message: reason, data: { ...found }, now });
      }
      crashed.push(found);
    }
    return crashed;
  });
}
