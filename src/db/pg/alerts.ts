/** PostgreSQL: the alert outbox and its cooldowns. */
import type {
  AlertCooldown,
  AlertKind,
  AlertStore,
  Impl,
  PendingAlert,
  SettleAlertsOptions,
} from "../store.ts";
import type { PgConn } from "./connection.ts";

/** The alert area of the PostgreSQL store. */
export function pgAlerts(db: PgConn): Impl<AlertStore> {
  return {
    pendingAlerts: (options) => pendingAlerts(db, options?.limit ?? 500),
    alertCooldowns: () => alertCooldowns(db),
    settleAlerts: (options) => settleAlerts(db, options),
  };
}

async function pendingAlerts(db: PgConn, limit: number): Promise<PendingAlert[]> {
  const rows = await db.sql<{
    id: number;
    created_at: number;
    job_id: string;
    kind: AlertKind;
    message: string;
    data: string;
    count: number;
    delivered: string;
    attempts: number;
    last_error: string | null;
  }[]>`
    SELECT id, created_at, job_id, kind, message, data, count, delivered, attempts, last_error
    FROM alert_outbox ORDER BY id LIMIT ${limit}`;
  return rows.map((r) => ({
    id: r.id,
    createdAt: r.created_at,
    jobId: r.job_id,
    kind: r.kind,
    message: r.message,
    data: JSON.parse(r.data),
    count: r.count,
    delivered: JSON.parse(r.delivered),
    attempts: r.attempts,
    lastError: r.last_error,
  }));
}

async function alertCooldowns(db: PgConn): Promise<AlertCooldown[]> {
  const rows = await db.sql<{ job_id: string; kind: AlertKind; released_at: number }[]>`
    SELECT job_id, kind, released_at FROM alert_cooldowns`;
  return rows.map((r) => ({ jobId: r.job_id, kind: r.kind, releasedAt: r.released_at }));
}

async function settleAlerts(db: PgConn, options: SettleAlertsOptions): Promise<void> {
  const now = (options.now ?? Date.now)();
  await db.tx(async (sql) => {
    for (const r of options.released) {
      await sql`
        INSERT INTO alert_cooldowns (job_id, kind, released_at)
        VALUES (${r.jobId}, ${r.kind}, ${now}::bigint)
        ON CONFLICT (job_id, kind) DO UPDATE SET released_at = excluded.released_at`;
    }
    const done = options.alerts.filter((a) => a.done).map((a) => a.id);
    if (done.length) await sql`DELETE FROM alert_outbox WHERE id = ANY(${done}::bigint[])`;
    for (const a of options.alerts.filter((a) => !a.done)) {
      // The group key goes: later failures of the same run and stage make a new alert.
      await sql`
        UPDATE alert_outbox SET delivered = ${JSON.stringify(a.delivered)},
          attempts = attempts + 1, last_error = ${a.error ?? null}, group_key = NULL
        WHERE id = ${a.id}::bigint`;
    }
  });
}
