/** One item in full (stages, results, events), and finding items by key, URL or id. */
import { type Db, sqlite } from "./mod.ts";
import { type EventRow, getEvents } from "./events.ts";
import { getResults, type ResultRow } from "./results.ts";
import type { DerivedStatus, StageStatus } from "./schema.ts";
import * as pg from "./pg/item_detail.ts";

/** Events shown with an item, newest first. */
const ITEM_EVENTS = 100;

/** A found item: its id and key. */
export interface ItemRef {
  id: number;
  key: string;
}

/** One stage row of an item, every field. */
export interface ItemStageDetail {
  stage: string;
  position: number;
  status: StageStatus;
  attempts: number;
  runAfter: number;
  claimedBy: string | null;
  leaseUntil: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
}

/** An item with its stages, stored results and latest events. */
export interface ItemDetail {
  id: number;
  jobId: string;
  key: string;
  data: Record<string, unknown>;
  discoveredAt: number;
  updatedAt: number;
  status: DerivedStatus;
  /** In pipeline order. */
  stages: ItemStageDetail[];
  /** In pipeline order. */
  results: ResultRow[];
  /** The latest 100, newest first. */
  events: EventRow[];
}

/** The item of `jobId` with this key, if any. */
export function findItem(
  db: Db,
  options: { jobId: string; key: string },
): Promise<ItemRef | undefined> {
  if (db.engine === "postgres") return pg.findItem(db, options);
  const row = sqlite(db).stmt("SELECT id, key FROM work_items WHERE job_id = ? AND key = ?")
    .get(options.jobId, options.key) as ItemRef | undefined;
  return Promise.resolve(row ? { id: row.id, key: row.key } : undefined);
}

/** The first item of `jobId` whose data.url is `url`, if any (reads every item of the job). */
export function findItemByUrl(
  db: Db,
  options: { jobId: string; url: string },
): Promise<ItemRef | undefined> {
  if (db.engine === "postgres") return pg.findItemByUrl(db, options);
  const row = sqlite(db).stmt(
    `SELECT id, key FROM work_items WHERE job_id = ? AND json_extract(data, '$.url') = ?
     ORDER BY id LIMIT 1`,
  ).get(options.jobId, options.url) as ItemRef | undefined;
  return Promise.resolve(row ? { id: row.id, key: row.key } : undefined);
}

/** Keys of the items with these ids (ids that do not exist are left out). */
export function getItemKeys(
  db: Db,
  options: { itemIds: readonly number[] },
): Promise<Map<number, string>> {
  if (db.engine === "postgres") return pg.getItemKeys(db, options);
  const rows = sqlite(db).stmt(
    "SELECT id, key FROM work_items WHERE id IN (SELECT value FROM json_each(?))",
  ).all(JSON.stringify([...new Set(options.itemIds)])) as { id: number; key: string }[];
  return Promise.resolve(new Map(rows.map((r) => [r.id, r.key])));
}

/** The item of `jobId` with this key in full, or undefined when the job has no such item. */
export async function getItemDetail(
  db: Db,
  options: { jobId: string; key: string },
): Promise<ItemDetail | undefined> {
  if (db.engine === "postgres") return pg.getItemDetail(db, options);
  const s = sqlite(db);
  const item = s.stmt(
    `SELECT w.id, w.data, w.discovered_at, w.updated_at, v.derived_status
     FROM work_items w JOIN item_derived_status v ON v.item_id = w.id
     WHERE w.job_id = ? AND w.key = ?`,
  ).get(options.jobId, options.key) as {
    id: number;
    data: string;
    discovered_at: number;
    updated_at: number;
    derived_status: DerivedStatus;
  } | undefined;
  if (!item) return undefined;
  const stages = s.stmt(
    `SELECT stage, position, status, attempts, run_after AS runAfter, claimed_by AS claimedBy,
       lease_until AS leaseUntil, started_at AS startedAt, finished_at AS finishedAt, error
     FROM item_stages WHERE item_id = ? ORDER BY position`,
  ).all(item.id) as unknown as ItemStageDetail[];
  return {
    id: item.id,
    jobId: options.jobId,
    key: options.key,
    data: JSON.parse(item.data),
    discoveredAt: item.discovered_at,
    updatedAt: item.updated_at,
    status: item.derived_status,
    stages: stages.map((stage) => ({ ...stage })),
    results: await getResults(db, item.id),
    events: await getEvents(db, { itemId: item.id, limit: ITEM_EVENTS }),
  };
}
