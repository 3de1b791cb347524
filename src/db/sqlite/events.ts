/** SQLite: the audit log; costs are events with cost_usd. */
import type {
  CostRow,
  EventFilter,
  EventRow,
  EventStore,
  Impl,
  NewEvent,
  StageCostPerItem,
} from "../store.ts";
import type { SqliteConn } from "./connection.ts";
import { DAY_MS } from "../../util/time.ts";
import { type EventDbRow, toEvent } from "../_rows.ts";
import { queueAlert } from "./_alerts.ts";

/** The event area of the SQLite store. */
export function sqliteEvents(s: SqliteConn): Impl<EventStore> {
  return {
    logEvent: (event) => logEvent(s, event),
    getEvents: (filter) => getEvents(s, filter),
    getEventsAfter: (filter) => getEventsAfter(s, filter),
    getDailyCost: (options) => getDailyCost(s, options),
    getCostsByDay: (options) => getCostsByDay(s, options),
    getCostPerItem: (options) => getCostPerItem(s, options),
  };
}

/** Inserts one event on an open transaction; for src/db/ modules. */
export function insertEvent(s: SqliteConn, event: NewEvent): number {
  const row = s.stmt(
    `INSERT INTO events (ts, job_id, item_id, stage, kind, message, data, cost_usd)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
  ).get(
    event.ts ?? Date.now(),
    event.jobId ?? null,
    event.itemId ?? null,
    event.stage ?? null,
    event.kind,
    event.message,
    event.data ? JSON.stringify(event.data) : null,
    event.costUsd ?? null,
  ) as { id: number };
  return row.id;
}

function logEvent(s: SqliteConn, event: NewEvent): number {
  const alert = event.alert;
  if (alert === undefined) return insertEvent(s, event);
  return s.tx(() => {
    const id = insertEvent(s, event);
    queueAlert(s, {
      jobId: event.jobId ?? "",
      kind: alert,
      message: event.message,
      data: event.data ?? {},
      now: event.ts ?? Date.now(),
    });
    return id;
  });
}

/** See EventStore.getEvents(); also for the item detail. */
export function getEvents(s: SqliteConn, filter: EventFilter = {}): EventRow[] {
  const rows = s.stmt(
    `SELECT id, ts, job_id, item_id, stage, kind, message, data, cost_usd FROM events
     WHERE (:job IS NULL OR job_id = :job) AND (:item IS NULL OR item_id = :item)
       AND (:kind IS NULL OR kind = :kind) AND ts >= :since AND id > :after
     ORDER BY id DESC LIMIT :limit`,
  ).all({
    job: filter.jobId ?? null,
    item: filter.itemId ?? null,
    kind: filter.kind ?? null,
    since: filter.sinceTs ?? 0,
    after: filter.afterId ?? 0,
    limit: filter.limit ?? 100,
  }) as unknown as EventDbRow[];
  return rows.map(toEvent);
}

function getEventsAfter(
  s: SqliteConn,
  filter: Omit<EventFilter, "sinceTs"> & { afterId: number },
): EventRow[] {
  const rows = s.stmt(
    `SELECT id, ts, job_id, item_id, stage, kind, message, data, cost_usd FROM events
     WHERE id > :after AND (:job IS NULL OR job_id = :job) AND (:item IS NULL OR item_id = :item)
       AND (:kind IS NULL OR kind = :kind)
     ORDER BY id LIMIT :limit`,
  ).all({
    after: filter.afterId,
    job: filter.jobId ?? null,
    item: filter.itemId ?? null,
    kind: filter.kind ?? null,
    limit: filter.limit ?? 100,
  }) as unknown as EventDbRow[];
  return rows.map(toEvent);
}

function getDailyCost(
  s: SqliteConn,
  options: { jobId?: string; day?: number } = {},
): number {
  const start = Math.floor((options.day ?? Date.now()) / DAY_MS) * DAY_MS;
  const row = s.stmt(
    `SELECT (SELECT coalesce(sum(cost_usd), 0) FROM events
       WHERE cost_usd IS NOT NULL AND ts >= :start AND ts < :end AND (:job IS NULL OR job_id = :job))
     + (SELECT coalesce(sum(usd), 0) FROM cost_totals
       WHERE day_start = :start AND (:job IS NULL OR job_id = :job)) AS usd`,
  ).get({ start, end: start + DAY_MS, job: options.jobId ?? null }) as { usd: number };
  return row.usd;
}

/** Cost events and the totals pruned ones left, as (day_start, job_id, stage, usd, n). */
const COSTS_SQL = `
  SELECT ts / ${DAY_MS} * ${DAY_MS} AS day_start, job_id, stage, cost_usd AS usd, 1 AS n
  FROM events WHERE cost_usd IS NOT NULL AND ts >= :since AND (:job IS NULL OR job_id = :job)
  UNION ALL
  SELECT day_start, job_id, nullif(stage, ''), usd, events FROM cost_totals
  WHERE day_start >= :since AND (:job IS NULL OR job_id = :job)`;

function getCostsByDay(
  s: SqliteConn,
  options: { jobId?: string; days: number; now?: number },
): CostRow[] {
  const now = options.now ?? Date.now();
  const since = Math.floor(now / DAY_MS) * DAY_MS - (options.days - 1) * DAY_MS;
  const rows = s.stmt(
    `SELECT date(day_start / 1000, 'unixepoch') AS day, job_id, stage, sum(usd) AS usd,
       sum(n) AS n
     FROM (${COSTS_SQL}) GROUP BY day, job_id, stage ORDER BY day DESC, job_id, stage`,
  ).all({ since, job: options.jobId ?? null }) as {
    day: string;
    job_id: string;
    stage: string | null;
    usd: number;
    n: number;
  }[];
  return (
    rows.map((r) => ({ day: r.day, jobId: r.job_id, stage: r.stage, usd: r.usd, events: r.n }))
  );
}

/** Pruned events count each item once per day they cost something on. */
function getCostPerItem(
  s: SqliteConn,
  options: { jobId: string },
): StageCostPerItem[] {
  const rows = s.stmt(
    `SELECT stage, count(DISTINCT item_id) + sum(items) AS items, sum(usd) AS usd FROM (
       SELECT stage, item_id, cost_usd AS usd, 0 AS items FROM events
       WHERE job_id = :job AND cost_usd IS NOT NULL AND stage IS NOT NULL AND item_id IS NOT NULL
       UNION ALL
       SELECT stage, NULL, usd, items FROM cost_totals
       WHERE job_id = :job AND stage <> '' AND items > 0)
     GROUP BY stage ORDER BY stage`,
  ).all({ job: options.jobId }) as { stage: string; items: number; usd: number }[];
  return rows.map((r) => ({ ...r, usdPerItem: r.usd / r.items }));
}
