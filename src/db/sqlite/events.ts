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
  return insertEvent(s, event);
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
    `SELECT coalesce(sum(cost_usd), 0) AS usd FROM events
     WHERE cost_usd IS NOT NULL AND ts >= ? AND ts < ? AND (? IS NULL OR job_id = ?)`,
  ).get(start, start + DAY_MS, options.jobId ?? null, options.jobId ?? null) as { usd: number };
  return row.usd;
}

function getCostsByDay(
  s: SqliteConn,
  options: { jobId?: string; days: number; now?: number },
): CostRow[] {
  const now = options.now ?? Date.now();
  const since = Math.floor(now / DAY_MS) * DAY_MS - (options.days - 1) * DAY_MS;
  const rows = s.stmt(
    `SELECT date(ts / 1000, 'unixepoch') AS day, job_id, stage, sum(cost_usd) AS usd,
       count(*) AS n
     FROM events WHERE cost_usd IS NOT NULL AND ts >= ? AND (? IS NULL OR job_id = ?)
     GROUP BY day, job_id, stage ORDER BY day DESC, job_id, stage`,
  ).all(since, options.jobId ?? null, options.jobId ?? null) as {
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

function getCostPerItem(
  s: SqliteConn,
  options: { jobId: string },
): StageCostPerItem[] {
  const rows = s.stmt(
    `SELECT stage, count(DISTINCT item_id) AS items, sum(cost_usd) AS usd FROM events
     WHERE job_id = ? AND cost_usd IS NOT NULL AND stage IS NOT NULL AND item_id IS NOT NULL
     GROUP BY stage ORDER BY stage`,
  ).all(options.jobId) as { stage: string; items: number; usd: number }[];
  return rows.map((r) => ({ ...r, usdPerItem: r.usd / r.items }));
}
