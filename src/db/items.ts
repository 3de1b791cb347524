/** Work items and their stages: discovery upserts, stage lifecycle, item listings. */
import { type Db, sqlite, type SqliteDb } from "./mod.ts";
import { insertEvent } from "./events.ts";
import { CountMoves } from "./_counts.ts";
import { type DerivedStatus, recountSql, type StageStatus } from "./schema.ts";
import * as pg from "./pg/items.ts";

/** An item as discovery hands it over. */
export interface NewItem {
  key: string;
  data: Record<string, unknown>;
}

/** Options of upsertItems(). */
export interface UpsertItemsOptions {
  jobId: string;
  /** The job's stage names in order; rows are created for each. */
  stages: readonly string[];
  items: readonly NewItem[];
  /** Clock; default Date.now. */
  now?: () => number;
}

/** What an upsert did. */
export interface UpsertCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

const UPSERT_CHUNK = 5000;

/**
 * Makes the job's pipeline `stages` (in order): adds rows for new stages to every item, drops
 * rows of removed stages and re-derives which rows are ready to claim.
 */
export function syncStages(
  db: Db,
  options: { jobId: string; stages: readonly string[] },
): Promise<{ added: string[]; removed: string[] }> {
  if (db.engine === "postgres") return pg.syncStages(db, options);
  const s = sqlite(db);
  return Promise.resolve(s.tx(() => syncStagesTx(s, options.jobId, options.stages)));
}

function syncStagesTx(s: SqliteDb, jobId: string, stages: readonly string[]) {
  const current = s.stmt(
    "SELECT stage, position FROM job_stages WHERE job_id = ? ORDER BY position",
  )
    .all(jobId) as { stage: string; position: number }[];
  if (current.map((r) => r.stage).join("\0") === stages.join("\0")) {
    return { added: [], removed: [] };
  }
  const known = new Set(current.map((r) => r.stage));
  const removed = current.map((r) => r.stage).filter((name) => !stages.includes(name));
  const added = stages.filter((name) => !known.has(name));
  for (const stage of removed) {
    s.stmt("DELETE FROM item_stages WHERE job_id = ? AND stage = ?").run(jobId, stage);
    s.stmt("DELETE FROM job_stages WHERE job_id = ? AND stage = ?").run(jobId, stage);
  }
  stages.forEach((stage, position) => {
    s.stmt(
      `INSERT INTO job_stages (job_id, stage, position) VALUES (?, ?, ?)
       ON CONFLICT (job_id, stage) DO UPDATE SET position = excluded.position`,
    ).run(jobId, stage, position);
    s.stmt("UPDATE item_stages SET position = ? WHERE job_id = ? AND stage = ? AND position <> ?")
      .run(position, jobId, stage, position);
  });
  for (const stage of added) {
    s.stmt(
      `INSERT INTO item_stages (item_id, job_id, stage, position)
       SELECT w.id, w.job_id, js.stage, js.position
       FROM work_items w JOIN job_stages js ON js.job_id = w.job_id AND js.stage = ?
       WHERE w.job_id = ?`,
    ).run(stage, jobId);
  }
  s.stmt(
    `UPDATE item_stages SET ready = CASE WHEN position = 0 THEN 1 ELSE EXISTS (
       SELECT 1 FROM item_stages p WHERE p.item_id = item_stages.item_id
         AND p.position = item_stages.position - 1 AND p.status IN ('done', 'skipped')) END
     WHERE job_id = ?`,
  ).run(jobId);
  recountJob(s, jobId);
  return { added, removed };
}

/** Rebuilds a job's status counters from its rows, after its pipeline changed. */
function recountJob(s: SqliteDb, jobId: string): void {
  for (const sql of recountSql("job_id = :job").split(";")) {
    if (sql.trim()) s.stmt(sql).run({ job: jobId });
  }
}

/**
 * Inserts new items with a pending row for every stage, and updates the data of known items
 * without touching their stages. Idempotent: the same items again change nothing.
 */
export function upsertItems(db: Db, options: UpsertItemsOptions): Promise<UpsertCounts> {
  if (db.engine === "postgres") return pg.upsertItems(db, options);
  const s = sqlite(db);
  const now = (options.now ?? Date.now)();
  const counts: UpsertCounts = { inserted: 0, updated: 0, unchanged: 0 };
  const unique = new Map(options.items.map((item) => [item.key, JSON.stringify(item.data)]));
  const entries = [...unique];
  s.tx(() => syncStagesTx(s, options.jobId, options.stages));
  for (let i = 0; i < entries.length; i += UPSERT_CHUNK) {
    const chunk = entries.slice(i, i + UPSERT_CHUNK);
    s.tx(() => upsertChunk(s, options.jobId, chunk, now, counts));
  }
  return Promise.resolve(counts);
}

function upsertChunk(
  s: SqliteDb,
  jobId: string,
  chunk: [string, string][],
  now: number,
  counts: UpsertCounts,
): void {
  // Row ids only grow, so rows above the previous maximum are this chunk's new items.
  const { maxId } = s.stmt("SELECT coalesce(max(id), 0) AS maxId FROM work_items").get() as {
    maxId: number;
  };
  const upsert = s.stmt(
    `INSERT INTO work_items (job_id, key, data, discovered_at, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (job_id, key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at
     WHERE work_items.data IS NOT excluded.data
     RETURNING id`,
  );
  const before = counts.inserted;
  for (const [key, data] of chunk) {
    const row = upsert.get(jobId, key, data, now, now) as { id: number } | undefined;
    if (!row) counts.unchanged++;
    else if (row.id > maxId) counts.inserted++;
    else counts.updated++;
  }
  const fresh = counts.inserted - before;
  if (fresh === 0) return;
  s.stmt(
    `INSERT INTO stage_counts (job_id, stage, status, n)
     SELECT job_id, stage, 'pending', :n FROM job_stages WHERE job_id = :job
     ON CONFLICT (job_id, stage, status) DO UPDATE SET n = n + excluded.n`,
  ).run({ job: jobId, n: fresh });
  s.stmt(
    `INSERT INTO item_stages (item_id, job_id, stage, position, ready)
     SELECT w.id, w.job_id, js.stage, js.position, js.position = 0
     FROM work_items w JOIN job_stages js ON js.job_id = w.job_id
     WHERE w.job_id = ? AND w.id > ?`,
  ).run(jobId, maxId);
}

/** Options of listItems(). */
export interface ListItemsOptions {
  jobId: string;
  /** Only items with this derived status (item_derived_status). Default: any. */
  status?: DerivedStatus;
  /** Only items at this stage: their first stage that is neither done nor skipped. Default: any. */
  stage?: string;
  /** Only items with a stage whose error contains this text. Default: any. */
  error?: string;
  /** At most this many items, in discovery order. Default 100. */
  limit?: number;
}

/** One stage of a listed item. */
export interface ItemStage {
  stage: string;
  status: StageStatus;
  attempts: number;
  error: string | null;
}

/** An item as listed by listItems(). */
export interface ItemListing {
  id: number;
  key: string;
  status: DerivedStatus;
  /** Every stage of the item, in pipeline order. */
  stages: ItemStage[];
}

// Filters of listItems(); each is added only when asked for, so every variant keeps a plan
// that reads items in id order and stops at the limit.
const ITEM_FILTERS = {
  status: "v.derived_status = :status",
  // Failed and in-progress items have a row of that status: start from those rows.
  failedRows: `v.item_id IN (SELECT item_id FROM item_stages INDEXED BY item_stages_failed
    WHERE job_id = :job AND status = 'failed')`,
  inProgressRows: `v.item_id IN (SELECT item_id FROM item_stages INDEXED BY item_stages_claimed
    WHERE job_id = :job AND status = 'in_progress')`,
  // An item waits at a stage whose row is open and whose previous stage is done (ready): the
  // candidates come from the three partial indexes of open rows, then the exact test.
  stage: `v.item_id IN (
      SELECT item_id FROM item_stages INDEXED BY item_stages_claim
        WHERE job_id = :job AND stage = :stage AND status = 'pending' AND ready = 1
      UNION ALL SELECT item_id FROM item_stages INDEXED BY item_stages_claimed
        WHERE job_id = :job AND stage = :stage AND status = 'in_progress'
      UNION ALL SELECT item_id FROM item_stages INDEXED BY item_stages_failed
        WHERE job_id = :job AND stage = :stage AND status = 'failed')
    AND :stage = (SELECT st.stage FROM item_stages st
      WHERE st.item_id = v.item_id AND st.status NOT IN ('done', 'skipped')
      ORDER BY st.position LIMIT 1)`,
  error: `EXISTS (SELECT 1 FROM item_stages st
    WHERE st.item_id = v.item_id AND instr(st.error, :error) > 0)`,
};

/** Items of a job with their derived status and stages, filtered by status, stage and error. */
export function listItems(db: Db, options: ListItemsOptions): Promise<ItemListing[]> {
  if (db.engine === "postgres") return pg.listItems(db, options);
  const s = sqlite(db);
  // "+" keeps the planner off the (job_id, key) index, which would sort every item of the job.
  const where = ["+v.job_id = :job"];
  const params: Record<string, string | number> = {
    job: options.jobId,
    limit: options.limit ?? 100,
  };
  if (options.status) {
    where.push(ITEM_FILTERS.status);
    if (options.status === "failed") where.push(ITEM_FILTERS.failedRows);
    if (options.status === "in_progress") where.push(ITEM_FILTERS.inProgressRows);
    params.status = options.status;
  }
  if (options.stage) {
    where.push(ITEM_FILTERS.stage);
    params.stage = options.stage;
  }
  if (options.error) {
    where.push(ITEM_FILTERS.error);
    params.error = options.error;
  }
  const items = s.stmt(
    `SELECT v.item_id AS id, w.key, v.derived_status AS status
     FROM item_derived_status v JOIN work_items w ON w.id = v.item_id
     WHERE ${where.join(" AND ")} ORDER BY v.item_id LIMIT :limit`,
  ).all(params) as { id: number; key: string; status: DerivedStatus }[];
  const stages = new Map<number, ItemStage[]>(items.map((item) => [item.id, []]));
  const rows = s.stmt(
    `SELECT item_id, stage, status, attempts, error FROM item_stages
     WHERE item_id IN (SELECT value FROM json_each(?)) ORDER BY item_id, position`,
  ).all(JSON.stringify(items.map((item) => item.id))) as {
    item_id: number;
    stage: string;
    status: StageStatus;
    attempts: number;
    error: string | null;
  }[];
  for (const { item_id, ...stage } of rows) stages.get(item_id)!.push(stage);
  return Promise.resolve(items.map((item) => ({ ...item, stages: stages.get(item.id)! })));
}

/** Which of `keys` the job already has (for dry runs: what discovery would add). */
export function findKnownKeys(
  db: Db,
  options: { jobId: string; keys: readonly string[] },
): Promise<Set<string>> {
  if (db.engine === "postgres") return pg.findKnownKeys(db, options);
  const rows = sqlite(db).stmt(
    `SELECT key FROM work_items WHERE job_id = ? AND key IN (SELECT value FROM json_each(?))`,
  ).all(options.jobId, JSON.stringify(options.keys)) as { key: string }[];
  return Promise.resolve(new Set(rows.map((r) => r.key)));
}

/** Options of retryFailed(). */
export interface RetryFailedOptions {
  jobId: string;
  /** Only failed rows of this stage. Default: every stage. */
  stage?: string;
  /** Only failed rows whose error contains this text. Default: any error. */
  errorContains?: string;
  /** Only this item. Default: every item. */
  itemKey?: string;
  /** Clock for the event; default Date.now. */
  now?: () => number;
}

// Filters of retryFailed(), added only when asked for so the counts index serves every variant.
const RETRY_FILTERS = {
  anyStage: "stage IN (SELECT stage FROM job_stages WHERE job_id = :job)",
  stage: "stage = :stage",
  error: "instr(error, :error) > 0",
  item: "item_id = (SELECT id FROM work_items WHERE job_id = :job AND key = :key)",
};

/**
 * Puts failed stages back to pending with attempts reset, ready to claim again once their
 * previous stage is done or skipped. Logs one event for the whole batch; returns how many.
 */
export function retryFailed(db: Db, options: RetryFailedOptions): Promise<number> {
  if (db.engine === "postgres") return pg.retryFailed(db, options);
  const s = sqlite(db);
  const where = ["job_id = :job", "status = 'failed'"];
  const params: Record<string, string> = { job: options.jobId };
  where.push(options.stage === undefined ? RETRY_FILTERS.anyStage : RETRY_FILTERS.stage);
  if (options.stage !== undefined) params.stage = options.stage;
  if (options.errorContains !== undefined) {
    where.push(RETRY_FILTERS.error);
    params.error = options.errorContains;
  }
  if (options.itemKey !== undefined) {
    where.push(RETRY_FILTERS.item);
    params.key = options.itemKey;
  }
  const now = (options.now ?? Date.now)();
  return Promise.resolve(s.tx(() => {
    const rows = s.stmt(
      `UPDATE item_stages SET status = 'pending', attempts = 0, run_after = 0, error = NULL,
         claimed_by = NULL, lease_until = NULL, started_at = NULL, finished_at = NULL,
         ready = (position = 0 OR EXISTS (SELECT 1 FROM item_stages p
           WHERE p.item_id = item_stages.item_id AND p.position = item_stages.position - 1
             AND p.status IN ('done', 'skipped')))
       WHERE ${where.join(" AND ")}
       RETURNING stage`,
    ).all(params) as { stage: string }[];
    const moves = new CountMoves();
    for (const r of rows) moves.move(options.jobId, r.stage, "failed", "pending");
    moves.apply(s);
    const count = rows.length;
    if (count > 0) {
      insertEvent(s, {
        ts: now,
        jobId: options.jobId,
        stage: options.stage ?? null,
        kind: "retry_failed",
        message: `reset ${count} failed stage${count === 1 ? "" : "s"} to pending`,
        data: {
          count,
          stage: options.stage,
          errorContains: options.errorContains,
          itemKey: options.itemKey,
        },
      });
    }
    return count;
  }));
}
