/** Queuing alerts inside the transaction of what caused them; for this engine's areas. */
import type { AlertKind } from "../store.ts";
import type { SqliteConn } from "./connection.ts";

/** Example items an alert of grouped failures carries. */
export const ALERT_EXAMPLES = 5;

/** An alert to queue; alerts with the same groupKey become one, their counts added. */
export interface NewAlert {
  jobId: string;
  kind: AlertKind;
  message: string;
  data: Record<string, unknown>;
  now: number;
  groupKey?: string;
  count?: number;
}

/** Queues `alert` on the open transaction. */
export function queueAlert(s: SqliteConn, alert: NewAlert): void {
  const count = alert.count ?? 1;
  const known = alert.groupKey === undefined ? undefined : s.stmt(
    "SELECT id, data, count FROM alert_outbox WHERE group_key = ?",
  ).get(alert.groupKey) as { id: number; data: string; count: number } | undefined;
  if (known) {
    const data = mergeExamples(JSON.parse(known.data), alert.data);
    s.stmt("UPDATE alert_outbox SET count = count + ?, data = ? WHERE id = ?")
      .run(count, JSON.stringify(data), known.id);
    return;
  }
  s.stmt(
    `INSERT INTO alert_outbox (created_at, job_id, kind, group_key, message, data, count)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    alert.now,
    alert.jobId,
    alert.kind,
    alert.groupKey ?? null,
    alert.message,
    JSON.stringify(alert.data),
    count,
  );
}

/** `old` with the examples of `added` appended, up to ALERT_EXAMPLES. */
export function mergeExamples(
  old: Record<string, unknown>,
  added: Record<string, unknown>,
): Record<string, unknown> {
  const examples = [
    ...(old.examples as unknown[] ?? []),
    ...(added.examples as unknown[] ?? []),
  ];
  return { ...old, examples: examples.slice(0, ALERT_EXAMPLES) };
}

/**
 * Queues one "failed" alert per stage for the attempts of `runId` that failed for good, each
 * with a few example items; a later batch of the same run and stage adds to it.
 */
export function queueFailures(
  s: SqliteConn,
  options: {
    jobId: string;
    runId: string;
    now: number;
    failed: readonly { itemId: number; stage: string; error: string }[];
  },
): void {
  const byStage = Map.groupBy(options.failed, (f) => f.stage);
  const key = s.stmt("SELECT key FROM work_items WHERE id = ?");
  for (const [stage, rows] of byStage) {
    const examples = rows.slice(0, ALERT_EXAMPLES).map((r) => ({
      key: (key.get(r.itemId) as { key: string } | undefined)?.key ?? String(r.itemId),
      error: r.error.slice(0, 500),
    }));
    queueAlert(s, {
      jobId: options.jobId,
      kind: "failed",
      message: rows[0].error.slice(0, 500),
      data: { stage, runId: options.runId, examples },
      now: options.now,
      groupKey: `failed\u0001${options.runId}\u0001${options.jobId}\u0001${stage}`,
      count: rows.length,
    });
  }
}
