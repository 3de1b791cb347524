/** PostgreSQL: the audit log; costs are events with cost_usd. */
import type {
  CostRow,
  EventFilter,
  EventRow,
  EventStore,
  Impl,
  NewEvent,
  StageCostPerItem,
} from "../store.ts";
import type { PgConn, Sql } from "./connection.ts";
import { DAY_MS } from "../../util/time.ts";
import { type EventDbRow, kindsOf, LATEST_COSTS, toEvent } from "../_rows.ts";
import { queueAlert } from "./_alerts.ts";

/** The Event area of the PostgreSQL store. */
export function pgEvents(db: PgConn): Impl<EventStore> {
  return {
    logEvent: (event) => logEvent(db, event),
    getEvents: (filter) => getEvents(db, filter),
    getEventsAfter: (filter) => getEventsAfter(db, filter),
    getDailyCost: (options) => getDailyCost(db, options),
    getCostsByDay: (options) => getCostsByDay(db, options),
    getCostPerItem: (options) => getCostPerItem(db, options),
  };
}

async function logEvent(db: PgConn, event: NewEvent): Promise<number> {
  const alert = event.alert;
  if (alert === undefined) return await insertEvent(db.sql, event);
  return await db.tx(async (sql) => {
    const id = await insertEvent(sql, event);
    await queueAlert(sql, {
      jobId: event.jobId ?? "",
      kind: alert,
      message: event.message,
      data: event.data ?? {},
      now: event.ts ?? Date.now(),
    });
    return id;
  });
}

async function insertEvent(sql: Sql, event: NewEvent): Promise<number> {
  const [row] = await sql<{ id: number }[]>`
    INSERT INTO events (ts, job_id, item_id, stage, kind, message, data, cost_usd)
    VALUES (${event.ts ?? Date.now()}::bigint, ${event.jobId ?? null}, ${event.itemId ?? null},
      ${event.stage ?? null}, ${event.kind}, ${event.message},
      ${event.data ? JSON.stringify(event.data) : null}, ${event.costUsd ?? null})
    RETURNING id`;
  return row.id;
}

/** See the contract; also for other areas of this engine. */
export async function getEvents(db: PgConn, filter: EventFilter = {}): Promise<EventRow[]> {
  return await selectEvents(db, filter, "DESC");
}

async function getEventsAfter(
  db: PgConn,
  filter: Omit<EventFilter, "sinceTs"> & { afterId: number },
): Promise<EventRow[]> {
  return await selectEvents(db, filter, "ASC");
}

/**
 * Events of `filter` in id order. With kinds, each kind is read from events_kind_job in id
 * order up to the limit and the ranges are merged, never sorting every event of a kind.
 */
async function selectEvents(
  db: PgConn,
  filter: EventFilter,
  order: "ASC" | "DESC",
): Promise<EventRow[]> {
  const { sql } = db;
  const where = [sql`id > ${filter.afterId ?? 0}::bigint`];
  if (filter.sinceTs !== undefined) where.push(sql`ts >= ${filter.sinceTs}::bigint`);
  if (filter.jobId !== undefined) where.push(sql`job_id = ${filter.jobId}`);
  if (filter.itemId !== undefined) where.push(sql`item_id = ${filter.itemId}::bigint`);
  const all = where.reduce((a, w) => sql`${a} AND ${w}`);
  const tail = sql`ORDER BY id ${order === "ASC" ? sql`ASC` : sql`DESC`}
    LIMIT ${filter.limit ?? 100}`;
  const columns = sql`id, ts, job_id, item_id, stage, kind, message, data, cost_usd`;
  const kinds = kindsOf(filter);
  if (kinds?.length === 0) return [];
  const rows = kinds === undefined
    ? await sql<EventDbRow[]>`SELECT ${columns} FROM events WHERE ${all} ${tail}`
    : await sql<EventDbRow[]>`SELECT * FROM (${
      kinds.map((kind) =>
        sql`(SELECT ${columns} FROM events WHERE ${all} AND kind = ${kind} ${tail})`
      ).reduce((a, q) => sql`${a} UNION ALL ${q}`)
    }) e ${tail}`;
  return rows.map(toEvent);
}

async function getDailyCost(
  db: PgConn,
  options: { jobId?: string; day?: number } = {},
): Promise<number> {
  const { sql } = db;
  const start = Math.floor((options.day ?? Date.now()) / DAY_MS) * DAY_MS;
  const job = options.jobId === undefined ? sql`` : sql`AND job_id = ${options.jobId}`;
  const [row] = await sql<{ usd: number }[]>`
    SELECT ((SELECT coalesce(sum(cost_usd), 0) FROM events
      WHERE cost_usd IS NOT NULL AND ts >= ${start}::bigint AND ts < ${start + DAY_MS}::bigint
        ${job})
      + (SELECT coalesce(sum(usd), 0) FROM cost_totals WHERE day_start = ${start}::bigint ${job}))
      ::float8 AS usd`;
  return row.usd;
}

/** days are UTC, NULL stages sort first as on SQLite; pruned events count through their totals. */
async function getCostsByDay(
  db: PgConn,
  options: { jobId?: string; days: number; now?: number },
): Promise<CostRow[]> {
  const { sql } = db;
  const now = options.now ?? Date.now();
  const since = Math.floor(now / DAY_MS) * DAY_MS - (options.days - 1) * DAY_MS;
  const job = options.jobId === undefined ? sql`` : sql`AND job_id = ${options.jobId}`;
  const rows = await sql<{
    day: string;
    job_id: string;
    stage: string | null;
    usd: number;
    n: number;
  }[]>`
    SELECT to_char(date '1970-01-01' + (day_start / ${DAY_MS})::int, 'YYYY-MM-DD') AS day, job_id,
      stage, sum(usd)::float8 AS usd, sum(n)::int AS n
    FROM (
      SELECT ts / ${DAY_MS} * ${DAY_MS} AS day_start, job_id, stage, cost_usd AS usd, 1 AS n
      FROM events WHERE cost_usd IS NOT NULL AND ts >= ${since}::bigint ${job}
      UNION ALL
      SELECT day_start, job_id, nullif(stage, ''), usd, events FROM cost_totals
      WHERE day_start >= ${since}::bigint ${job}) c
    GROUP BY day, job_id, stage
    ORDER BY day DESC, job_id COLLATE "C", stage COLLATE "C" NULLS FIRST`;
  return rows.map((r) => ({
    day: r.day,
    jobId: r.job_id,
    stage: r.stage,
    usd: r.usd,
    events: r.n,
  }));
}

/** See the contract. Cost events of a stage are read from events_kind_job in id order. */
async function getCostPerItem(
  db: PgConn,
  options: { jobId: string; stages: readonly string[] },
): Promise<StageCostPerItem[]> {
  const { sql } = db;
  const { jobId } = options;
  const perStage = await Promise.all(options.stages.map(async (stage) => {
    const costs = sql`kind = 'cost' AND job_id = ${jobId} AND stage = ${stage}
      AND item_id IS NOT NULL AND cost_usd IS NOT NULL`;
    const [{ latest }] = await sql<{ latest: number | null }[]>`
      SELECT max(id) AS latest FROM events WHERE ${costs}`;
    const [{ items, usd }] = latest === null
      // Pruned events count each item once per day they cost something on.
      ? await sql<{ items: number; usd: number }[]>`
        SELECT coalesce(sum(items), 0)::int AS items, coalesce(sum(usd), 0)::float8 AS usd
        FROM cost_totals WHERE job_id = ${jobId} AND stage = ${stage} AND items > 0`
      : await sql<{ items: number; usd: number }[]>`
        SELECT count(DISTINCT item_id)::int AS items, sum(cost_usd)::float8 AS usd FROM (
          SELECT item_id, cost_usd FROM events WHERE ${costs} AND id <= ${latest}::bigint
            AND id > (SELECT coalesce(max(id), 0) FROM events
              WHERE kind = 'reprocess' AND job_id = ${jobId} AND id < ${latest}::bigint)
          ORDER BY id DESC LIMIT ${LATEST_COSTS}) c`;
    return items > 0 ? [{ stage, items, usd, usdPerItem: usd / items }] : [];
  }));
  return perStage.flat();
}
