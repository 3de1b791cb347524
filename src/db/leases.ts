/** Runs and their leases: who holds a claim, renewal, release, and recovery after a crash. */
import { type Db, sqlite, type SqliteDb } from "./mod.ts";
import { insertEvent } from "./events.ts";
import { CountMoves } from "./_counts.ts";
import { hostName, isProcessAlive, processStartTime } from "../util/process.ts";
import * as pg from "./pg/leases.ts";

/** Options of registerRun(). */
export interface RegisterRunOptions {
  runId: string;
  /** Default: this machine's name. */
  host?: string;
  /** Default: this process. */
  pid?: number;
  now?: () => number;
}

/** Records the process behind `runId` so its claims can be traced to a host and pid. */
export function registerRun(db: Db, options: RegisterRunOptions): Promise<void> {
  if (db.engine === "postgres") return pg.registerRun(db, options);
  const pid = options.pid ?? Deno.pid;
  sqlite(db).stmt(
    `INSERT INTO runs (run_id, host, pid, pid_start, started_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (run_id) DO NOTHING`,
  ).run(
    options.runId,
    options.host ?? hostName(),
    pid,
    processStartTime(pid) ?? null,
    (options.now ?? Date.now)(),
  );
  return Promise.resolve();
}

/** Extends the lease of every stage `runId` holds; returns how many. */
export function renewLeases(
  db: Db,
  options: { runId: string; leaseMs: number; now?: () => number },
): Promise<number> {
  if (db.engine === "postgres") return pg.renewLeases(db, options);
  const s = sqlite(db);
  const now = (options.now ?? Date.now)();
  const info = s.stmt(
    "UPDATE item_stages SET lease_until = ? WHERE claimed_by = ? AND status = 'in_progress'",
  ).run(now + options.leaseMs, options.runId);
  return Promise.resolve(Number(info.changes));
}

/**
 * Returns claims of `runId` to pending without counting the attempt (a clean shutdown, not a
 * failure): all of them, or only `items`. Returns how many.
 */
export function releaseClaims(
  db: Db,
  options: { runId: string; items?: readonly { itemId: number; stage: string }[] },
): Promise<number> {
  if (db.engine === "postgres") return pg.releaseClaims(db, options);
  const s = sqlite(db);
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
  return Promise.resolve(s.tx(() => {
    const released = options.items
      ? options.items.reduce((n, it) => n + release(it.itemId, it.stage), 0)
      : release(null, null);
    moves.apply(s);
    return released;
  }));
}

/** Options of reconcileExpiredLeases(). */
export interface ReconcileOptions {
  now?: () => number;
  /** This machine's name; claims of dead processes are recognised only on it. */
  host?: string;
  /** Whether a process of this host still runs; default checks /proc. */
  isAlive?: (pid: number, pidStart: string | null) => boolean;
}

/** What reconcileExpiredLeases() released. */
export interface ReconcileCounts {
  /** Claims whose lease had passed. */
  expired: number;
  /** Claims of processes on this host that no longer run. */
  deadProcess: number;
}

/**
 * Returns to pending every claim whose lease has expired, and at once every claim of a dead
 * process on this host. The attempt counts; each release is an event.
 */
export function reconcileExpiredLeases(
  db: Db,
  options: ReconcileOptions = {},
): Promise<ReconcileCounts> {
  if (db.engine === "postgres") return pg.reconcileExpiredLeases(db, options);
  const s = sqlite(db);
  const now = (options.now ?? Date.now)();
  const host = options.host ?? hostName();
  const isAlive = options.isAlive ?? isProcessAlive;
  return Promise.resolve(s.tx(() => {
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
  }));
}

function releaseWhere(
  s: SqliteDb,
  now: number,
  condition: string,
  params: Record<string, string | number>,
  why: string,
): number {
  const rows = s.stmt(
    `UPDATE item_stages SET status = 'pending', claimed_by = NULL, lease_until = NULL,
       error = :why || ' (claimed by ' || claimed_by || ')'
     WHERE status = 'in_progress' AND ${condition}
     RETURNING item_id, job_id, stage, attempts, error`,
  ).all({ ...params, why }) as {
    item_id: number;
    job_id: string;
    stage: string;
    attempts: number;
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
      data: { attempts: r.attempts },
    });
  }
  moves.apply(s);
  return rows.length;
}

/** The claims of one run at one stage of a job. */
export interface HeldClaims {
  stage: string;
  runId: string;
  /** Where the run was registered; null for a run that never registered. */
  host: string | null;
  pid: number | null;
  claims: number;
  /** When the longest-held of them was claimed. */
  oldestStartedAt: number | null;
}

/**
 * Who holds the job's claims whose lease has not expired at `now` (expired ones are for
 * reconcileExpiredLeases()): per stage and run, longest-held first.
 */
export function heldClaims(
  db: Db,
  options: { jobId: string; now?: () => number },
): Promise<HeldClaims[]> {
  if (db.engine === "postgres") return pg.heldClaims(db, options);
  const rows = sqlite(db).stmt(
    `SELECT st.stage, st.claimed_by AS run_id, r.host, r.pid, count(*) AS claims,
       min(st.started_at) AS oldest
     FROM item_stages st LEFT JOIN runs r ON r.run_id = st.claimed_by
     WHERE st.job_id = ? AND st.status = 'in_progress' AND st.lease_until >= ?
     GROUP BY st.stage, st.claimed_by ORDER BY oldest, st.stage`,
  ).all(options.jobId, (options.now ?? Date.now)()) as {
    stage: string;
    run_id: string;
    host: string | null;
    pid: number | null;
    claims: number;
    oldest: number | null;
  }[];
  return Promise.resolve(rows.map((r) => ({
    stage: r.stage,
    runId: r.run_id,
    host: r.host,
    pid: r.pid,
    claims: r.claims,
    oldestStartedAt: r.oldest,
  })));
}
