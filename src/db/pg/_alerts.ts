/** Queuing alerts inside the transaction of what caused them; for this engine's areas. */
import type { AlertKind } from "../store.ts";
import type { Sql } from "./connection.ts";

/** Example items an alert of grouped failures carries. */
const ALERT_EXAMPLES = 5;

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

/** Queues `alert` with `sql`, a transaction's query function. */
export async function queueAlert(sql: Sql, alert: NewAlert): Promise<void> {
  const count = alert.count ?? 1;
  if (alert.groupKey !== undefined) {
    const [known] = await sql<{ id: number; data: string }[]>`
      SELECT id, data FROM alert_outbox WHERE group_key = ${alert.groupKey} FOR UPDATE`;
    if (known) {
      const old = JSON.parse(known.data);
      const examples = [...(old.examples ?? []), ...(alert.data.examples as unknown[] ?? [])];
      const data = JSON.stringify({ ...old, examples: examples.slice(0, ALERT_EXAMPLES) });
      await sql`UPDATE alert_outbox SET count = count + ${count}, data = ${data}
        WHERE id = ${known.id}::bigint`;
      return;
    }
  }
  await sql`
    INSERT INTO alert_outbox (created_at, job_id, kind, group_key, message, data, count)
    VALUES (${alert.now}::bigint, ${alert.jobId}, ${alert.kind}, ${alert.groupKey ?? null},
      ${alert.message}, ${JSON.stringify(alert.data)}, ${count})`;
}

/**
 * Queues one "failed" alert per stage for the attempts of `runId` that failed for good, each
 * with a few example items; a later batch of the same run and stage adds to it.
 */
export async function queueFailures(
  sql: Sql,
  options: {
    jobId: string;
    runId: string;
    now: number;
    failed: readonly { itemId: number; stage: string; error: string }[];
  },
): Promise<void> {
  const byStage = Map.groupBy(options.failed, (f) => f.stage);
  for (const [stage, rows] of byStage) {
    const sample = rows.slice(0, ALERT_EXAMPLES);
    const keys = new Map(
      (await sql<{ id: number; key: string }[]>`
        SELECT id, key FROM work_items WHERE id = ANY(${sample.map((r) => r.itemId)}::bigint[])`)
        .map((r) => [r.id, r.key]),
    );
    const examples = sample.map((r) => ({
      key: keys.get(r.itemId) ?? String(r.itemId),
      error: r.error.slice(0, 500),
    }));
    await queueAlert(sql, {
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
