/** The audit log: events, and costs as events with cost_usd. */
import { type Db, sqlite, type SqliteDb } from "./mod.ts";
import * as pg from "./pg/events.ts";

/** One event as stored. */
export interface EventRow {
  id: number;
  ts: number;
  jobId: string | null;
  itemId: number | null;
  stage: string | null;
  kind: string;
  message: string;
  data: Record<string, unknown> | null;
  costUsd: number | null;
}

/** An event to record; `ts` defaults to now. */
export interface NewEvent {
  ts?: number;
  jobId?: string | null;
  itemId?: number | null;
  stage?: string | null;
  kind: string;
  message: string;
  data?: Record<string, unknown>;
  costUsd?: number;
}

/** Inserts one event on an open transaction; for src/db/ modules. */
export function insertEvent(s: SqliteDb, event: NewEvent): number {
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

/** Records an event; returns its id. */
export function logEvent(db: Db, event: NewEvent): Promise<number> {
  if (db.engine === "postgres") return pg.logEvent(db, event);
  return Promise.resolve(insertEvent(sqlite(db), event));
}

/** Records a cost in USD as a "cost" event. */
export function logCost(
  db: Db,
  cost: {
    jobId: string;
    itemId?: number;
    stage?: string;
    usd: number;
    meta?: Record<string, unknown>;
    ts?: number;
  },
): Promise<number> {
  return logEvent(db, {
    ts: cost.ts,
    jobId: cost.jobId,
    itemId: cost.itemId,
    stage: cost.stage,
    kind: "cost",
    message: `$${cost.usd}`,
    data: cost.meta,
    costUsd: cost.usd,
  });
}

/** Filters of getEvents(); all optional. */
export interface EventFilter {
  jobId?: string;
  itemId?: number;
  kind?: string;
  /** Only events at or after this time (ms). */
  sinceTs?: number;
  /** Only events with an id above this; for following the log. */
  afterId?: number;
  /** Newest first, at most this many. Default 100. */
  limit?: number;
}

/** Events matching `filter`, newest first. */
export function getEvents(db: Db, filter: EventFilter = {}): Promise<EventRow[]> {
  if (db.engine === "postgres") return pg.getEvents(db, filter);
  const rows = sqlite(db).stmt(
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
  }) as Record<string, unknown>[];
  return Promise.resolve(rows.map(toEvent));
}

/** Events with an id above `afterId`, oldest first: the next page when following the log. */
export function getEventsAfter(
  db: Db,
  filter: Omit<EventFilter, "sinceTs"> & { afterId: number },
): Promise<EventRow[]> {
  if (db.engine === "postgres") return pg.getEventsAfter(db, filter);
  const rows = sqlite(db).stmt(
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
  }) as Record<string, unknown>[];
  return Promise.resolve(rows.map(toEvent));
}

function toEvent(r: Record<string, unknown>): EventRow {
  return {
    id: r.id as number,
    ts: r.ts as number,
    jobId: r.job_id as string | null,
    itemId: r.item_id as number | null,
    stage: r.stage as string | null,
    kind: r.kind as string,
    message: r.message as string,
    data: r.data ? JSON.parse(r.data as string) : null,
    costUsd: r.cost_usd as number | null,
  };
}

const DAY_MS = 86_400_000;

/** Total cost in USD of `jobId` (or all jobs) on the UTC day containing `day` (default now). */
export function getDailyCost(
  db: Db,
  options: { jobId?: string; day?: number } = {},
): Promise<number> {
  if (db.engine === "postgres") return pg.getDailyCost(db, options);
  const start = Math.floor((options.day ?? Date.now()) / DAY_MS) * DAY_MS;
  const row = sqlite(db).stmt(
    `SELECT coalesce(sum(cost_usd), 0) AS usd FROM events
     WHERE cost_usd IS NOT NULL AND ts >= ? AND ts < ? AND (? IS NULL OR job_id = ?)`,
  ).get(start, start + DAY_MS, options.jobId ?? null, options.jobId ?? null) as { usd: number };
  return Promise.resolve(row.usd);
}

/** One row of getCostsByDay(). */
export interface CostRow {
  /** UTC day as YYYY-MM-DD. */
  day: string;
  jobId: string;
  stage: string | null;
  usd: number;
  events: number;
}

/** Costs per UTC day, job and stage over the last `days` days, newest day first. */
export function getCostsByDay(
  db: Db,
  options: { jobId?: string; days: number; now?: number },
): Promise<CostRow[]> {
  if (db.engine === "postgres") return pg.getCostsByDay(db, options);
  const now = options.now ?? Date.now();
  const since = Math.floor(now / DAY_MS) * DAY_MS - (options.days - 1) * DAY_MS;
  const rows = sqlite(db).stmt(
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
  return Promise.resolve(
    rows.map((r) => ({ day: r.day, jobId: r.job_id, stage: r.stage, usd: r.usd, events: r.n })),
  );
}

/** What one stage of a job has cost per item, from its cost events. */
export interface StageCostPerItem {
  stage: string;
  /** Distinct items with a cost event at this stage. */
  items: number;
  usd: number;
  /** usd / items. */
  usdPerItem: number;
}

/** Average cost per item of each stage of `jobId` over all its cost events tied to an item. */
export function getCostPerItem(
  db: Db,
  options: { jobId: string },
): Promise<StageCostPerItem[]> {
  if (db.engine === "postgres") return pg.getCostPerItem(db, options);
  const rows = sqlite(db).stmt(
    `SELECT stage, count(DISTINCT item_id) AS items, sum(cost_usd) AS usd FROM events
     WHERE job_id = ? AND cost_usd IS NOT NULL AND stage IS NOT NULL AND item_id IS NOT NULL
     GROUP BY stage ORDER BY stage`,
  ).all(options.jobId) as { stage: string; items: number; usd: number }[];
  return Promise.resolve(rows.map((r) => ({ ...r, usdPerItem: r.usd / r.items })));
}
