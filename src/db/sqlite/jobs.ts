/** SQLite: job-level state: pause, wake, discovery lease, last run. */
import type {
  DeadDiscoveryLease,
  DeadDiscoveryLeaseOptions,
  DiscoveryLeaseOptions,
  FinishDiscoveryOptions,
  Impl,
  JobState,
  JobStore,
} from "../store.ts";
import type { SqliteConn } from "./connection.ts";
import { insertEvent } from "./events.ts";
import { queueAlert } from "./_alerts.ts";
import { discoveryAlert } from "../_discovery_alerts.ts";
import {
  deadHolders,
  type DiscoveryHolderRow,
  holderCheck,
  releasedMessage,
} from "../_discovery_lease.ts";

/** The job area of the SQLite store. */
export function sqliteJobs(s: SqliteConn): Impl<JobStore> {
  return {
    getJobState: (jobId) => getJobState(s, jobId),
    setJobPaused: (options) => setJobPaused(s, options),
    wakeJob: (jobId, now) => wakeJob(s, jobId, now),
    acquireDiscoveryLease: (options) => acquireDiscoveryLease(s, options),
    deadDiscoveryLeases: (options) => deadDiscoveryLeases(s, options),
    releaseDeadDiscoveryLeases: (options) => releaseDeadDiscoveryLeases(s, options),
    finishDiscovery: (options) => finishDiscovery(s, options),
    markJobRun: (options) => markJobRun(s, options),
  };
}

function getJobState(s: SqliteConn, jobId: string): JobState {
  const r = s.stmt(
    `SELECT paused, pause_reason, paused_at, wake_requested_at, last_discovery_at, last_run_at,
       consecutive_failures, discovery_failures, discovery_failures_total, last_new_item_at
     FROM job_state WHERE job_id = ?`,
  ).get(jobId) as Record<string, number | string | null> | undefined;
  return {
    jobId,
    paused: r?.paused === 1,
    pauseReason: (r?.pause_reason as string) ?? null,
    pausedAt: (r?.paused_at as number) ?? null,
    wakeRequestedAt: (r?.wake_requested_at as number) ?? null,
    lastDiscoveryAt: (r?.last_discovery_at as number) ?? null,
    lastRunAt: (r?.last_run_at as number) ?? null,
    consecutiveFailures: (r?.consecutive_failures as number) ?? 0,
    discoveryFailures: (r?.discovery_failures as number) ?? 0,
    discoveryFailuresTotal: (r?.discovery_failures_total as number) ?? 0,
    lastNewItemAt: (r?.last_new_item_at as number) ?? null,
  };
}

function setJobPaused(
  s: SqliteConn,
  options: {
    jobId: string;
    paused: boolean;
    reason?: string;
    alert?: boolean;
    now?: () => number;
  },
): void {
  const now = (options.now ?? Date.now)();
  s.tx(() => {
    if (options.alert && options.paused) {
      const message = options.reason ?? "paused";
      queueAlert(s, { jobId: options.jobId, kind: "paused", message, data: {}, now });
    }
    s.stmt(
      `INSERT INTO job_state (job_id, paused, pause_reason, paused_at) VALUES (:job, :p, :reason, :at)
       ON CONFLICT (job_id) DO UPDATE SET paused = :p, pause_reason = :reason, paused_at = :at,
         consecutive_failures = CASE WHEN :p THEN consecutive_failures ELSE 0 END`,
    ).run({
      job: options.jobId,
      p: options.paused ? 1 : 0,
      reason: options.paused ? options.reason ?? null : null,
      at: options.paused ? now : null,
    });
    insertEvent(s, {
      ts: now,
      jobId: options.jobId,
      kind: options.paused ? "pause" : "unpause",
      message: options.reason ?? (options.paused ? "paused" : "unpaused"),
    });
  });
}

function wakeJob(s: SqliteConn, jobId: string, now = Date.now()): void {
  s.tx(() => {
    s.stmt(
      `INSERT INTO job_state (job_id, wake_requested_at) VALUES (?, ?)
       ON CONFLICT (job_id) DO UPDATE SET wake_requested_at = excluded.wake_requested_at`,
    ).run(jobId, now);
    s.stmt(
      `DELETE FROM source_holds WHERE (job_id = :job OR scope = 'host')
         AND host IN (SELECT host FROM source_holds WHERE job_id = :job)`,
    ).run({ job: jobId });
    insertEvent(s, { ts: now, jobId, kind: "wake", message: "discovery requested" });
  });
}

function acquireDiscoveryLease(s: SqliteConn, options: DiscoveryLeaseOptions): boolean {
  const now = (options.now ?? Date.now)();
  return s.tx(() => {
    releaseDead(s, options);
    return takeDiscoveryLease(s, options, now);
  });
}

function takeDiscoveryLease(s: SqliteConn, options: DiscoveryLeaseOptions, now: number): boolean {
  const row = s.stmt(
    `INSERT INTO job_state (job_id, discovery_owner, discovery_lease_until) VALUES (:job, :owner, :until)
     ON CONFLICT (job_id) DO UPDATE SET discovery_owner = :owner, discovery_lease_until = :until
     WHERE job_state.discovery_owner IS NULL OR job_state.discovery_owner = :owner
       OR job_state.discovery_lease_until < :now
     RETURNING job_id`,
  ).get({ job: options.jobId, owner: options.owner, until: now + options.leaseMs, now });
  return row !== undefined;
}

function deadDiscoveryLeases(
  s: SqliteConn,
  options: DeadDiscoveryLeaseOptions = {},
): DeadDiscoveryLease[] {
  const rows = s.stmt(
    `SELECT js.job_id, js.discovery_owner, js.discovery_lease_until, r.host, r.pid, r.pid_start
     FROM job_state js JOIN runs r ON r.run_id = js.discovery_owner
     WHERE js.discovery_lease_until >= :now AND r.host = :host
       AND (:job IS NULL OR js.job_id = :job)
     ORDER BY js.job_id`,
  ).all({
    now: (options.now ?? Date.now)(),
    host: holderCheck(options).host,
    job: options.jobId ?? null,
  }) as unknown as DiscoveryHolderRow[];
  return deadHolders(rows, options);
}

function releaseDeadDiscoveryLeases(
  s: SqliteConn,
  options: DeadDiscoveryLeaseOptions = {},
): DeadDiscoveryLease[] {
  return s.tx(() => releaseDead(s, options));
}

/** releaseDeadDiscoveryLeases() inside a transaction already open. */
function releaseDead(s: SqliteConn, options: DeadDiscoveryLeaseOptions): DeadDiscoveryLease[] {
  const now = (options.now ?? Date.now)();
  return deadDiscoveryLeases(s, options).filter((lease) => {
    const info = s.stmt(
      `UPDATE job_state SET discovery_owner = NULL, discovery_lease_until = NULL
       WHERE job_id = ? AND discovery_owner = ?`,
    ).run(lease.jobId, lease.owner);
    if (info.changes === 0) return false;
    const message = releasedMessage(lease);
    insertEvent(s, { ts: now, jobId: lease.jobId, kind: "released", message });
    return true;
  });
}

function finishDiscovery(s: SqliteConn, options: FinishDiscoveryOptions): void {
  const now = (options.now ?? Date.now)();
  s.tx(() => {
    const row = s.stmt(
      `UPDATE job_state SET discovery_owner = NULL, discovery_lease_until = NULL,
         last_discovery_at = CASE WHEN :ok THEN :now ELSE last_discovery_at END,
         wake_requested_at = CASE WHEN :ok THEN NULL ELSE wake_requested_at END,
         discovery_failures = CASE WHEN :ok THEN 0 ELSE discovery_failures + :failed END,
         discovery_failures_total = discovery_failures_total + :failed,
         last_new_item_at = CASE WHEN :ok AND (:fresh > 0 OR last_new_item_at IS NULL) THEN :now
           ELSE last_new_item_at END
       WHERE job_id = :job AND discovery_owner = :owner
       RETURNING discovery_failures, last_new_item_at`,
    ).get({
      ok: options.succeeded ? 1 : 0,
      failed: !options.succeeded && options.error !== undefined ? 1 : 0,
      now,
      fresh: options.newItems ?? 0,
      job: options.jobId,
      owner: options.owner,
    }) as { discovery_failures: number; last_new_item_at: number | null } | undefined;
    const alert = row && discoveryAlert(options, {
      failures: row.discovery_failures,
      lastNewItemAt: row.last_new_item_at,
      now,
    });
    if (alert) queueAlert(s, { ...alert, jobId: options.jobId, now });
  });
}

/** Per-stage counts by status, in pipeline order. */
function markJobRun(s: SqliteConn, options: { jobId: string; now: number }): void {
  s.stmt(
    `INSERT INTO job_state (job_id, last_run_at) VALUES (?, ?)
     ON CONFLICT (job_id) DO UPDATE SET last_run_at = excluded.last_run_at`,
  ).run(options.jobId, options.now);
}
