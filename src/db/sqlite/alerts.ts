/** SQLite: the alert outbox and its cooldowns. */
import type {
  AlertCooldown,
  AlertKind,
  AlertStore,
  Impl,
  PendingAlert,
  SettleAlertsOptions,
} from "../store.ts";
import type { SqliteConn } from "./connection.ts";

/** The alert area of the SQLite store. */
export function sqliteAlerts(s: SqliteConn): Impl<AlertStore> {
  return {
    pendingAlerts: (options) => pendingAlerts(s, options?.limit ?? 500),
    alertCooldowns: () => alertCooldowns(s),
    settleAlerts: (options) => settleAlerts(s, options),
  };
}

function pendingAlerts(s: SqliteConn, limit: number): PendingAlert[] {
  const rows = s.stmt(
    `SELECT id, created_at, job_id, kind, message, data, count, delivered, attempts, last_error
     FROM alert_outbox ORDER BY id LIMIT ?`,
  ).all(limit) as Record<string, unknown>[];
  return rows.map((r) => ({
    id: r.id as number,
    createdAt: r.created_at as number,
    jobId: r.job_id as string,
    kind: r.kind as AlertKind,
    message: r.message as string,
    data: JSON.parse(r.data as string),
    count: r.count as number,
    delivered: JSON.parse(r.delivered as string),
    attempts: r.attempts as number,
    lastError: r.last_error as string | null,
  }));
}

function alertCooldowns(s: SqliteConn): AlertCooldown[] {
  const rows = s.stmt("SELECT job_id, kind, released_at FROM alert_cooldowns").all() as {
    job_id: string;
    kind: AlertKind;
    released_at: number;
  }[];
  return rows.map((r) => ({ jobId: r.job_id, kind: r.kind, releasedAt: r.released_at }));
}

function settleAlerts(s: SqliteConn, options: SettleAlertsOptions): void {
  const now = (options.now ?? Date.now)();
  s.tx(() => {
    const cooldown = s.stmt(
      `INSERT INTO alert_cooldowns (job_id, kind, released_at) VALUES (?, ?, ?)
       ON CONFLICT (job_id, kind) DO UPDATE SET released_at = excluded.released_at`,
    );
    for (const r of options.released) cooldown.run(r.jobId, r.kind, now);
    const remove = s.stmt("DELETE FROM alert_outbox WHERE id = ?");
    // The group key goes: later failures of the same run and stage make a new alert.
    const update = s.stmt(
      `UPDATE alert_outbox SET delivered = ?, attempts = attempts + 1, last_error = ?,
         group_key = NULL WHERE id = ?`,
    );
    for (const a of options.alerts) {
      if (a.done) remove.run(a.id);
      else update.run(JSON.stringify(a.delivered), a.error ?? null, a.id);
    }
  });
}
