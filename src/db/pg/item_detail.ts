/** PostgreSQL: one item in full, and finding items. */
import type {
  DerivedStatus,
  Impl,
  ItemDetail,
  ItemDetailStore,
  ItemRef,
  ItemStageDetail,
} from "../store.ts";
import type { PgConn } from "./connection.ts";
import { getEvents } from "./events.ts";
import { getResults } from "./results.ts";

/** The ItemDetail area of the PostgreSQL store. */
export function pgItemDetail(db: PgConn): Impl<ItemDetailStore> {
  return {
    findItem: (options) => findItem(db, options),
    findItemByUrl: (options) => findItemByUrl(db, options),
    getItemKeys: (options) => getItemKeys(db, options),
    getItemDetail: (options) => getItemDetail(db, options),
  };
}

/** Events shown with an item, newest first. */
const ITEM_EVENTS = 100;

async function findItem(
  db: PgConn,
  options: { jobId: string; key: string },
): Promise<ItemRef | undefined> {
  const [row] = await db.sql<ItemRef[]>`
    SELECT id, key FROM work_items WHERE job_id = ${options.jobId} AND key = ${options.key}`;
  return row ? { id: row.id, key: row.key } : undefined;
}

async function findItemByUrl(
  db: PgConn,
  options: { jobId: string; url: string },
): Promise<ItemRef | undefined> {
  const [row] = await db.sql<ItemRef[]>`
    SELECT id, key FROM work_items
    WHERE job_id = ${options.jobId} AND data::json ->> 'url' = ${options.url}
    ORDER BY id LIMIT 1`;
  return row ? { id: row.id, key: row.key } : undefined;
}

async function getItemKeys(
  db: PgConn,
  options: { itemIds: readonly number[] },
): Promise<Map<number, string>> {
  const rows = await db.sql<ItemRef[]>`
    SELECT id, key FROM work_items WHERE id = ANY(${[...new Set(options.itemIds)]}::bigint[])`;
  return new Map(rows.map((r) => [r.id, r.key]));
}

async function getItemDetail(
  db: PgConn,
  options: { jobId: string; key: string },
): Promise<ItemDetail | undefined> {
  const [item] = await db.sql<{
    id: number;
    data: string;
    discovered_at: number;
    updated_at: number;
    derived_status: DerivedStatus;
    parent_job: string | null;
    parent_key: string | null;
  }[]>`
    SELECT w.id, w.data, w.discovered_at, w.updated_at, v.derived_status,
      p.job_id AS parent_job, p.key AS parent_key
    FROM work_items w JOIN item_derived_status v ON v.item_id = w.id
      LEFT JOIN work_items p ON p.id = w.parent_id
    WHERE w.job_id = ${options.jobId} AND w.key = ${options.key}`;
  if (!item) return undefined;
  const stages = await db.sql<ItemStageDetail[]>`
    SELECT stage, position, status, attempts, crashes, run_after AS "runAfter", claimed_by AS "claimedBy",
      lease_until AS "leaseUntil", started_at AS "startedAt", finished_at AS "finishedAt", error
    FROM item_stages WHERE item_id = ${item.id}::bigint ORDER BY position`;
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
    results: await getResults(db, item.id),
    events: await getEvents(db, { itemId: item.id, limit: ITEM_EVENTS }),
  };
}
