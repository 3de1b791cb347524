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
import { type EventDbRow, kindsOf, toEvent } from "../_rows.ts";
import { queueAlert } from "./_alerts.ts";
import { LATEST_COSTS } from "../_rows.ts";

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
  return selectEvents(s, filter, "DESC");
}

function getEventsAfter(
  s: SqliteConn,
  filter: Omit<EventFilter, "sinceTs"> & { afterId: number },
): EventRow[] {
  return selectEvents(s, filter, "ASC");
}

const EVENT_COLUMNS = "id, ts, job_id, item_id, stage, kind, message, data, cost_usd";

/**
 * Events of `filter` in id order. Only the conditions asked for are written, so each variant
 * keeps an index; with kinds, each kind is read from events_kind_job in id order up to the
 * limit and the ranges are merged, never sorting every event of a kind.
 */
function selectEvents(s: SqliteConn, filter: EventFilter, order: "ASC" | "DESC"): EventRow[] {
  const where = ["id > :after"];
  const params: Record<string, string | number> = {
    after: filter.afterId ?? 0,
    limit: filter.limit ?? 100,
  };
  const add = (condition: string, name: string, value: string | number | undefined) => {
    if (value === undefined) return;
    where.push(condition);
    params[name] = value;
  };
  add("ts >= :since", "since", filter.sinceTs);
  add("job_id = :job", "job", filter.jobId);
  add("item_id = :item", "item", filter.itemId);
  const tail = `ORDER BY id ${order} LIMIT :limit`;
  const kinds = kindsOf(filter);
  let sql = `SELECT ${EVENT_COLUMNS} FROM events WHERE ${where.join(" AND ")} ${tail}`;
  if (kinds !== undefined) {
    if (kinds.length === 0) return [];
    kinds.forEach((kind, i) => params[`kind${i}`] = kind);
    sql = `SELECT * FROM (${
      kinds.map((_, i) =>
        `SELECT * FROM (SELECT ${EVENT_COLUMNS} FROM events
           WHERE ${where.join(" AND ")} AND kind = :kind${i} ${tail})`
      ).join(" UNION ALL ")
    }) ${tail}`;
  }
  return (s.stmt(sql).all(params) as unknown as EventDbRow[]).map(toEvent);
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

/** See the contract. Cost events of a stage are read from events_kind_job in id order. */
function getCostPerItem(
  s: SqliteConn,
  options: { jobId: string; stages: readonly string[] },
): StageCostPerItem[] {
  const one = <T>(sql: string, params: Record<string, string | number>) =>
    s.stmt(sql).get(params) as T;
  const costs = `kind = 'cost' AND job_id = :job AND stage = :stage AND item_id IS NOT NULL
    AND cost_usd IS NOT NULL`;
  return options.stages.flatMap((stage) => {
    const params = { job: options.jobId, stage };
    const { latest } = one<{ latest: number | null }>(
      `SELECT max(id) AS latest FROM events WHERE ${costs}`,
      params,
    );
    const { items, usd } = latest === null
      // Pruned events count each item once per day they cost something on.
      ? one<{ items: number; usd: number }>(
        `SELECT coalesce(sum(items), 0) AS items, coalesce(sum(usd), 0) AS usd FROM cost_totals
         WHERE job_id = :job AND stage = :stage AND items > 0`,
        params,
      )
      : one<{ items: number; usd: number }>(
        `SELECT count(DISTINCT item_id) AS items, sum(cost_usd) AS usd FROM (
           SELECT item_id, cost_usd FROM events WHERE ${costs} AND id <= :latest
             AND id > (SELECT coalesce(max(id), 0) FROM events
               WHERE kind = 'reprocess' AND job_id = :job AND id < :latest)
           ORDER BY id DESC LIMIT ${LATEST_COSTS})`,
        { ...params, latest },
      );
    return items > 0 ? [{ stage, items, usd, usdPerItem: usd / items }] : [];
  });
}
