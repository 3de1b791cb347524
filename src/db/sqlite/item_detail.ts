/** SQLite: one item in full (stages, results, events), and finding items by key, URL or id. */
import type {
  DerivedStatus,
  Impl,
  ItemDetail,
  ItemDetailStore,
  ItemRef,
  ItemStageDetail,
} from "../store.ts";
import type { SqliteConn } from "./connection.ts";
import { getEvents } from "./events.ts";
import { getResults } from "./results.ts";

/** The item detail area of the SQLite store. */
export function sqliteItemDetail(s: SqliteConn): Impl<ItemDetailStore> {
  return {
    findItem: (options) => findItem(s, options),
    findItemByUrl: (options) => findItemByUrl(s, options),
    getItemKeys: (options) => getItemKeys(s, options),
    getItemDetail: (options) => getItemDetail(s, options),
  };
}

/** Events shown with an item, newest first. */
const ITEM_EVENTS = 100;

function findItem(
  s: SqliteConn,
  options: { jobId: string; key: string },
): ItemRef | undefined {
  const row = s.stmt("SELECT id, key FROM work_items WHERE job_id = ? AND key = ?")
    .get(options.jobId, options.key) as ItemRef | undefined;
  return row ? { id: row.id, key: row.key } : undefined;
}

function findItemByUrl(
  s: SqliteConn,
  options: { jobId: string; url: string },
): ItemRef | undefined {
  const row = s.stmt(
    `SELECT id, key FROM work_items WHERE job_id = ? AND json_extract(data, '$.url') = ?
     ORDER BY id LIMIT 1`,
  ).get(options.jobId, options.url) as ItemRef | undefined;
  return row ? { id: row.id, key: row.key } : undefined;
}

function getItemKeys(
  s: SqliteConn,
  options: { itemIds: readonly number[] },
): Map<number, string> {
  const rows = s.stmt(
    "SELECT id, key FROM work_items WHERE id IN (SELECT value FROM json_each(?))",
  ).all(JSON.stringify([...new Set(options.itemIds)])) as { id: number; key: string }[];
  return new Map(rows.map((r) => [r.id, r.key]));
}

function getItemDetail(
  s: SqliteConn,
  options: { jobId: string; key: string },
): ItemDetail | undefined {
  const item = s.stmt(
    `SELECT w.id, w.data, w.discovered_at, w.updated_at, v.derived_status,
       p.job_id AS parent_job, p.key AS parent_key
     FROM work_items w JOIN item_derived_status v ON v.item_id = w.id
       LEFT JOIN work_items p ON p.id = w.parent_id
     WHERE w.job_id = ? AND w.key = ?`,
  ).get(options.jobId, options.key) as {
    id: number;
    data: string;
    discovered_at: number;
    updated_at: number;
    derived_status: DerivedStatus;
    parent_job: string | null;
    parent_key: string | null;
  } | undefined;
  if (!item) return undefined;
  const stages = s.stmt(
    `SELECT stage, position, status, attempts, crashes, run_after AS runAfter, claimed_by AS claimedBy,
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
    parent: item.parent_key === null ? null : { jobId: item.parent_job!, key: item.parent_key },
    stages: stages.map((stage) => ({ ...stage })),
    results: getResults(s, item.id),
    events: getEvents(s, { itemId: item.id, limit: ITEM_EVENTS }),
  };
}
