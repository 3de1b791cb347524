/** PostgreSQL: job-level state: pause, wake, discovery lease, last run. */
import type {
  DeadDiscoveryLease,
  DeadDiscoveryLeaseOptions,
  DiscoveryLeaseOptions,
  FinishDiscoveryOptions,
  Impl,
  JobState,
  JobStore,
} from "../store.ts";
import type { PgConn } from "./connection.ts";
import {
  deadHolders,
  type DiscoveryHolderRow,
  holderCheck,
  releasedMessage,
} from "../_discovery_lease.ts";
import { queueAlert } from "./_alerts.ts";
import { discoveryAlert } from "../_discovery_alerts.ts";

/** The Job area of the PostgreSQL store. */
export function pgJobs(db: PgConn): Impl<JobStore> {
  return {
    getJobState: (jobId) => getJobState(db, jobId),
    setJobPaused: (options) => setJobPaused(db, options),
    wakeJob: (jobId, now) => wakeJob(db, jobId, now),
    acquireDiscoveryLease: (options) => acquireDiscoveryLease(db, options),
    deadDiscoveryLeases: (options) => deadDiscoveryLeases(db, options),
    releaseDeadDiscoveryLeases: (options) => releaseDeadDiscoveryLeases(db, options),
    finishDiscovery: (options) => finishDiscovery(db, options),
    markJobRun: (options) => markJobRun(db, options),
  };
}

async function getJobState(db: PgConn, jobId: string): Promise<JobState> {
  const [r] = await db.sql<{
    paused: boolean;
    pause_reason: string | null;
    paused_at: number | null;
    wake_requested_at: number | null;
    last_discovery_at: number | null;
    last_run_at: number | null;
    consecutive_failures: number;
    discovery_failures: number;
    discovery_failures_total: number;
    last_new_item_at: number | null;
  }[]>`
    SELECT paused, pause_reason, paused_at, wake_requested_at, last_discovery_at, last_run_at,
      consecutive_failures, discovery_failures, discovery_failures_total, last_new_item_at
    FROM job_state WHERE job_id = ${jobId}`;
  return {
    jobId,
    paused: r?.paused ?? false,
    pauseReason: r?.pause_reason ?? null,
    pausedAt: r?.paused_at ?? null,
    wakeRequestedAt: r?.wake_requested_at ?? null,
    lastDiscoveryAt: r?.last_discovery_at ?? null,
    lastRunAt: r?.last_run_at ?? null,
    consecutiveFailures: r?.consecutive_failures ?? 0,
    discoveryFailures: r?.discovery_failures ?? 0,
    discoveryFailuresTotal: r?.discovery_failures_total ?? 0,
    lastNewItemAt: r?.last_new_item_at ?? null,
  };
}

/** the state and its event in one statement (and its alert in the same transaction). */
function setJobPaused(
  db: PgConn,
  options: {
    jobId: string;
    paused: boolean;
    reason?: string;
    alert?: boolean;
    now?: () => number;
  },
): Promise<void> {
  const now = (options.now ?? Date.now)();
  const paused = options.paused;
  return db.tx(async (sql) => {
    if (options.alert && paused) {
      const message = options.reason ?? "paused";
      await queueAlert(sql, { jobId: options.jobId, kind: "paused", message, data: {}, now });
    }
    await sql`
    WITH state AS (
      INSERT INTO job_state (job_id, paused, pause_reason, paused_at)
      VALUES (${options.jobId}, ${paused}, ${paused ? options.reason ?? null : null},
        ${paused ? now : null}::bigint)
      ON CONFLICT (job_id) DO UPDATE SET paused = excluded.paused,
        pause_reason = excluded.pause_reason, paused_at = excluded.paused_at,
        consecutive_failures = CASE WHEN excluded.paused THEN job_state.consecutive_failures
          ELSE 0 END
    )
    INSERT INTO events (ts, job_id, kind, message)
    VALUES (${now}::bigint, ${options.jobId}, ${paused ? "pause" : "unpause"},
      ${options.reason ?? (paused ? "paused" : "unpaused")})`;
  });
}

async function wakeJob(db: PgConn, jobId: string, now = Date.now()): Promise<void> {
  await db.sql`
    WITH state AS (
      INSERT INTO job_state (job_id, wake_requested_at) VALUES (${jobId}, ${now}::bigint)
      ON CONFLICT (job_id) DO UPDATE SET wake_requested_at = excluded.wake_requested_at
    ), holds AS (
      DELETE FROM source_holds WHERE (job_id = ${jobId} OR scope = 'host')
        AND host IN (SELECT host FROM source_holds WHERE job_id = ${jobId})
    )
    INSERT INTO events (ts, job_id, kind, message)
    VALUES (${now}::bigint, ${jobId}, 'wake', 'discovery requested')`;
}

/**
 * ON CONFLICT … WHERE locks the job's row and
 * re-checks the holder, so of several machines asking at once exactly one gets it.
 */
async function acquireDiscoveryLease(
  db: PgConn,
  options: DiscoveryLeaseOptions,
): Promise<boolean> {
  await releaseDeadDiscoveryLeases(db, options);
  const now = (options.now ?? Date.now)();
  const rows = await db.sql`
    INSERT INTO job_state (job_id, discovery_owner, discovery_lease_until)
    VALUES (${options.jobId}, ${options.owner}, ${now + options.leaseMs}::bigint)
    ON CONFLICT (job_id) DO UPDATE SET discovery_owner = excluded.discovery_owner,
      discovery_lease_until = excluded.discovery_lease_until
    WHERE job_state.discovery_owner IS NULL OR job_state.discovery_owner = excluded.discovery_owner
      OR job_state.discovery_lease_until < ${now}::bigint
    RETURNING job_id`;
  return rows.length === 1;
}

async function deadDiscoveryLeases(
  db: PgConn,
  options: DeadDiscoveryLeaseOptions = {},
): Promise<DeadDiscoveryLease[]> {
  const now = (options.now ?? Date.now)();
  const rows = await db.sql<DiscoveryHolderRow[]>`
    SELECT js.job_id, js.discovery_owner, js.discovery_lease_until, r.host, r.pid, r.pid_start
    FROM job_state js JOIN runs r ON r.run_id = js.discovery_owner
    WHERE js.discovery_lease_until >= ${now}::bigint AND r.host = ${holderCheck(options).host}
      AND (${options.jobId ?? null}::text IS NULL OR js.job_id = ${options.jobId ?? null})
    ORDER BY js.job_id COLLATE "C"`;
  return deadHolders(rows, options);
}

/** Each lease is released (and logged) once: the update re-checks its holder. */
async function releaseDeadDiscoveryLeases(
  db: PgConn,
  options: DeadDiscoveryLeaseOptions = {},
): Promise<DeadDiscoveryLease[]> {
  const now = (options.now ?? Date.now)();
  const released: DeadDiscoveryLease[] = [];
  for (const lease of await deadDiscoveryLeases(db, options)) {
    const rows = await db.write((sql) =>
      sql`
      WITH gone AS (
        UPDATE job_state SET discovery_owner = NULL, discovery_lease_until = NULL
        WHERE job_id = ${lease.jobId} AND discovery_owner = ${lease.owner} RETURNING job_id
      )
      INSERT INTO events (ts, job_id, kind, message)
      SELECT ${now}::bigint, job_id, 'released', ${releasedMessage(lease)} FROM gone
      RETURNING id`
    );
    if (rows.length) released.push(lease);
  }
  return released;
}

function finishDiscovery(db: PgConn, options: FinishDiscoveryOptions): Promise<void> {
  const now = (options.now ?? Date.now)();
  const ok = options.succeeded;
  const failed = !ok && options.error !== undefined ? 1 : 0;
  return db.tx(async (sql) => {
    const [row] = await sql<{ discovery_failures: number; last_new_item_at: number | null }[]>`
      UPDATE job_state SET discovery_owner = NULL, discovery_lease_until = NULL,
        last_discovery_at = CASE WHEN ${ok} THEN ${now}::bigint ELSE last_discovery_at END,
        wake_requested_at = CASE WHEN ${ok} THEN NULL ELSE wake_requested_at END,
        discovery_failures = CASE WHEN ${ok} THEN 0 ELSE discovery_failures + ${failed} END,
        discovery_failures_total = discovery_failures_total + ${failed},
        last_new_item_at = CASE WHEN ${ok} AND (${options.newItems ?? 0} > 0
          OR last_new_item_at IS NULL) THEN ${now}::bigint ELSE last_new_item_at END
      WHERE job_id = ${options.jobId} AND discovery_owner = ${options.owner}
      RETURNING discovery_failures, last_new_item_at`;
    const alert = row && discoveryAlert(options, {
      failures: row.discovery_failures,
      lastNewItemAt: row.last_new_item_at,
      now,
    });
    if (alert) await queueAlert(sql, { ...alert, jobId: options.jobId, now });
  });
}

async function markJobRun(db: PgConn, options: { jobId: string; now: number }): Promise<void> {
  await db.sql`
    INSERT INTO job_state (job_id, last_run_at) VALUES (${options.jobId}, ${options.now}::bigint)
    ON CONFLICT (job_id) DO UPDATE SET last_run_at = excluded.last_run_at`;
}
