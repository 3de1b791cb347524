/** SQLite: runs and their leases: renewal, release, and recovery after a crash. */
import type {
  HeldClaims,
  Impl,
  LeaseStore,
  ReconcileCounts,
  ReconcileOptions,
  RegisterRunOptions,
} from "../store.ts";
import type { SqliteConn } from "./connection.ts";
import { insertEvent } from "./events.ts";
import { CountMoves } from "./_counts.ts";
import { hostName, isProcessAlive, processStartTime } from "../../util/process.ts";
import { type HeldClaimsDbRow, toHeldClaims } from "../_rows.ts";

/** The lease area of the SQLite store. */
export function sqliteLeases(s: SqliteConn): Impl<LeaseStore> {
  return {
    registerRun: (options) => registerRun(s, options),
    renewLeases: (options) => renewLeases(s, options),
    releaseClaims: (options) => releaseClaims(s, options),
    markStarted: (options) => markStarted(s, options),
    reconcileExpiredLeases: (options) => reconcileExpiredLeases(s, options),
    heldClaims: (options) => heldClaims(s, options),
  };
}

function registerRun(s: SqliteConn, options: RegisterRunOptions): void {
  const pid = options.pid ?? Deno.pid;
  s.stmt(
    `INSERT INTO runs (run_id, host, pid, pid_start, started_at, jobs) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (run_id) DO NOTHING`,
  ).run(
    options.runId,
    options.host ?? hostName(),
    pid,
    processStartTime(pid) ?? null,
    (options.now ?? Date.now)(),
    options.jobs ? JSON.stringify(options.jobs) : null,
  );
}

function renewLeases(
  s: SqliteConn,
  options: { runId: string; leaseMs: number; now?: () => number },
): number {
  const now = (options.now ?? Date.now)();
  return s.tx(() => {
    const info = s.stmt(
      "UPDATE item_stages SET lease_until = ? WHERE claimed_by = ? AND status = 'in_progress'",
    ).run(now + options.leaseMs, options.runId);
    s.stmt("UPDATE job_state SET discovery_lease_until = ? WHERE discovery_owner = ?")
      .run(now + options.leaseMs, options.runId);
    s.stmt("UPDATE runs SET heartbeat_at = ? WHERE run_id = ?").run(now, options.runId);
    return Number(info.changes);
  });
}

function releaseClaims(
  s: SqliteConn,
  options: { runId: string; items?: readonly { itemId: number; stage: string }[] },
): number {
  const moves = new CountMoves();
  const release = (itemId: number | null, stage: string | null) => {
    const rows = s.stmt(
      `UPDATE item_stages SET status = 'pending', attempts = max(attempts - 1, 0),
         claimed_by = NULL, lease_until = NULL, started_at = NULL
       WHERE claimed_by = :run AND status = 'in_progress'
         AND (:item IS NULL OR (item_id = :item AND stage = :stage))
       RETURNING job_id, stage`,
    ).all({ run: options.runId, item: itemId, stage }) as { job_id: string; stage: string }[];
    for (const r of rows) moves.move(r.job_id, r.stage, "in_progress", "pending");
    return rows.length;
  };
  return s.tx(() => {
    const released = options.items
      ? options.items.reduce((n, it) => n + release(it.itemId, it.stage), 0)
      : release(null, null);
    moves.apply(s);
    return released;
  });
}

function markStarted(
  s: SqliteConn,
  options: { runId: string; items: readonly { itemId: number; stage: string }[] },
): void {
  s.stmt(
    `UPDATE item_stages SET started = 1
     WHERE +claimed_by = :run AND status = 'in_progress'
       AND (item_id, stage) IN (SELECT value ->> 0, value ->> 1 FROM json_each(:items))`,
  ).run({
    run: options.runId,
    items: JSON.stringify(options.items.map((i) => [i.itemId, i.stage])),
  });
}

function reconcileExpiredLeases(
  s: SqliteConn,
  options: ReconcileOptions = {},
): ReconcileCounts {
  const now = (options.now ?? Date.now)();
  const host = options.host ?? hostName();
  const isAlive = options.isAlive ?? isProcessAlive;
  return s.tx(() => {
    const expired = releaseWhere(s, now, "lease_until < :now", { now }, "lease expired");
    const claimers = s.stmt(
      `SELECT DISTINCT r.run_id, r.pid, r.pid_start FROM runs r
       JOIN item_stages st ON st.claimed_by = r.run_id AND st.status = 'in_progress'
       WHERE r.host = ?`,
    ).all(host) as { run_id: string; pid: number; pid_start: string | null }[];
    let deadProcess = 0;
    for (const c of claimers) {
      if (c.pid === Deno.pid || isAlive(c.pid, c.pid_start)) continue;
      deadProcess += releaseWhere(
        s,
        now,
        "claimed_by = :run",
        { run: c.run_id },
        `process ${c.pid} on ${host} is gone`,
      );
    }
    return { expired, deadProcess };
  });
}

/**
 * Releases the in_progress rows matching `condition` after a crash, with a "released" event each.
 * A row counts a crash when it never crashed before (it may have been running) or when its
 * handler was noted as started (markStarted); a row that crashed before and was not noted
 * waited in the dead run's queue.
 */
function releaseWhere(
  s: SqliteConn,
  now: number,
  condition: string,
  params: Record<string, string | number>,
  why: string,
): number {
  const rows = s.stmt(
    `UPDATE item_stages SET status = 'pending', claimed_by = NULL, lease_until = NULL,
       attempts = max(attempts - 1, 0),
       crashes = crashes + (CASE WHEN crashes = 0 OR started = 1 THEN 1 ELSE 0 END),
       error = :why || ' (claimed by ' || claimed_by || ')'
     WHERE status = 'in_progress' AND ${condition}
     RETURNING item_id, job_id, stage, attempts, crashes, error`,
  ).all({ ...params, why }) as {
    item_id: number;
    job_id: string;
    stage: string;
    attempts: number;
    crashes: number;
    error: string;
  }[];
  const moves = new CountMoves();
  for (const r of rows) {
    moves.move(r.job_id, r.stage, "in_progress", "pending");
    insertEvent(s, {
      ts: now,
      jobId: r.job_id,
      itemId: r.item_id,
      stage: r.stage,
      kind: "released",
      message: r.error,
      data: { attempts: r.attempts, crashes: r.crashes },
    });
  }
  moves.apply(s);
  return rows.length;
}

function heldClaims(
  s: SqliteConn,
  options: { jobId: string; now?: () => number },
): HeldClaims[] {
  const rows = s.stmt(
    `SELECT st.stage, st.claimed_by AS run_id, r.host, r.pid, count(*) AS claims,
       min(st.started_at) AS oldest
     FROM item_stages st LEFT JOIN runs r ON r.run_id = st.claimed_by
     WHERE st.job_id = ? AND st.status = 'in_progress' AND st.lease_until >= ?
     GROUP BY st.stage, st.claimed_by ORDER BY oldest, st.stage`,
  ).all(options.jobId, (options.now ?? Date.now)()) as unknown as HeldClaimsDbRow[];
  return rows.map(toHeldClaims);
}
