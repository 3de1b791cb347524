/** SQLite: work items and their stages: discovery upserts, stage lifecycle, item listings. */
import type {
  DerivedStatus,
  EmittedItems,
  Impl,
  ItemListing,
  ItemStage,
  ItemStore,
  ListItemsOptions,
  RetryFailedOptions,
  StageStatus,
  UpsertCounts,
  UpsertItemsOptions,
} from "../store.ts";
import type { SqliteConn } from "./connection.ts";
import { insertEvent } from "./events.ts";
import { CountMoves } from "./_counts.ts";
import { readySql } from "./_ready.ts";
import { recountSql } from "./schema.ts";
import { uniqueChunks } from "../_unique_chunks.ts";

/** The item area of the SQLite store. */
export function sqliteItems(s: SqliteConn): Impl<ItemStore> {
  return {
    syncStages: (options) => syncStages(s, options),
    upsertItems: (options) => upsertItems(s, options),
    listItems: (options) => listItems(s, options),
    findKnownKeys: (options) => findKnownKeys(s, options),
    retryFailed: (options) => retryFailed(s, options),
  };
}

const UPSERT_CHUNK = 5000;

/** See ItemStore.syncStages(); also for the health area. */
export function syncStages(
  s: SqliteConn,
  options: { jobId: string; stages: readonly string[] },
): { added: string[]; removed: string[] } {
  return s.tx(() => syncStagesTx(s, options.jobId, options.stages));
}

function syncStagesTx(s: SqliteConn, jobId: string, stages: readonly string[]) {
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
  s.stmt(`UPDATE item_stages SET ready = ${readySql("item_stages")} WHERE job_id = ?`).run(jobId);
  recountJob(s, jobId);
  return { added, removed };
}

/** Rebuilds a job's status counters from its rows, after its pipeline or its rows changed. */
export function recountJob(s: SqliteConn, jobId: string): void {
  for (const sql of recountSql("job_id = :job").split(";")) {
    if (sql.trim()) s.stmt(sql).run({ job: jobId });
  }
}

function upsertItems(s: SqliteConn, options: UpsertItemsOptions): UpsertCounts {
  const now = (options.now ?? Date.now)();
  const counts: UpsertCounts = { inserted: 0, updated: 0, unchanged: 0 };
  s.tx(() => syncStagesTx(s, options.jobId, options.stages));
  // Each chunk's data is made JSON only for its own statement, as the items are read: at
  // 200,000 items, holding all of them at once raised the peak memory of the whole run.
  for (const chunk of uniqueChunks(options.items, UPSERT_CHUNK, options.unique)) {
    s.tx(() => upsertChunk(s, { jobId: options.jobId, parentId: null, now }, chunk, counts));
  }
  return counts;
}

/**
 * Upserts what finished stages emitted, inside the caller's transaction: each job's stages are
 * synced once, then each parent's items go in with it as their parent.
 */
export function upsertEmitted(
  s: SqliteConn,
  emitted: readonly { parentId: number; emit: readonly EmittedItems[] }[],
  now: number,
): void {
  const synced = new Set<string>();
  for (const { parentId, emit } of emitted) {
    for (const { jobId, stages, items } of emit) {
      if (!synced.has(jobId)) syncStagesTx(s, jobId, stages);
      synced.add(jobId);
      const unique = new Map(
        items.map((item) => [item.key.toWellFormed(), JSON.stringify(item.data)]),
      );
      upsertChunk(s, { jobId, parentId, now }, [...unique], {
        inserted: 0,
        updated: 0,
        unchanged: 0,
      });
    }
  }
}

function upsertChunk(
  s: SqliteConn,
  into: { jobId: string; parentId: number | null; now: number },
  chunk: [string, string][],
  counts: UpsertCounts,
): void {
  const { jobId, parentId, now } = into;
  // Row ids only grow, so rows above the previous maximum are this chunk's new items.
  const { maxId } = s.stmt("SELECT coalesce(max(id), 0) AS maxId FROM work_items").get() as {
    maxId: number;
  };
  const before = counts.inserted;
  // The chunk goes in as one JSON array: one statement, one parameter, read by SQLite's own
  // JSON reader; faster than a statement per item or than many rows of VALUES. Its keys are
  // well-formed (a lone surrogate made U+FFFD, as a bound string is stored): through JSON it
  // would be kept as bytes that no key bound later matches.
  const changed = s.tuples(
    `INSERT INTO work_items (job_id, key, data, discovered_at, updated_at, parent_id)
     SELECT :job, value ->> 0, value ->> 1, :now, :now, :parent FROM json_each(:rows) WHERE true
     ON CONFLICT (job_id, key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at
     WHERE work_items.data IS NOT excluded.data
     RETURNING id`,
  ).all({ job: jobId, now, parent: parentId, rows: JSON.stringify(chunk) }) as unknown as [
    number,
  ][];
  // Changed and new rows came back; those above the previous maximum id are new.
  counts.unchanged += chunk.length - changed.length;
  for (const [id] of changed) {
    if (id > maxId) counts.inserted++;
    else counts.updated++;
  }
  const fresh = counts.inserted - before;
  if (fresh === 0) return;
  s.stmt(
    `INSERT INTO stage_counts (job_id, stage, status, n)
     SELECT job_id, stage, 'pending', :n FROM job_stages WHERE job_id = :job
     ON CONFLICT (job_id, stage, status) DO UPDATE SET n = n + excluded.n`,
  ).run({ job: jobId, n: fresh });
  // "+": the new rows are read by id; through the (job_id, key) index every item of the job
  // was read for each chunk.
  s.stmt(
    `INSERT INTO item_stages (item_id, job_id, stage, position, ready)
     SELECT w.id, w.job_id, js.stage, js.position, js.position = 0
     FROM work_items w JOIN job_stages js ON js.job_id = w.job_id
     WHERE +w.job_id = ? AND w.id > ?`,
  ).run(jobId, maxId);
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

function listItems(s: SqliteConn, options: ListItemsOptions): ItemListing[] {
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
  if (options.afterId !== undefined) {
    where.push("v.item_id > :after");
    params.after = options.afterId;
  }
  if (options.beforeId !== undefined) {
    where.push("v.item_id < :before");
    params.before = options.beforeId;
  }
  // Before an item, the nearest ones are read backwards, then put back in discovery order.
  const backwards = options.beforeId !== undefined;
  const items = s.stmt(
    `SELECT v.item_id AS id, w.key, v.derived_status AS status
     FROM item_derived_status v JOIN work_items w ON w.id = v.item_id
     WHERE ${where.join(" AND ")} ORDER BY v.item_id ${backwards ? "DESC" : ""} LIMIT :limit`,
  ).all(params) as { id: number; key: string; status: DerivedStatus }[];
  if (backwards) items.reverse();
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
  return items.map((item) => ({ ...item, stages: stages.get(item.id)! }));
}

function findKnownKeys(
  s: SqliteConn,
  options: { jobId: string; keys: readonly string[] },
): Set<string> {
  const rows = s.stmt(
    `SELECT key FROM work_items WHERE job_id = ? AND key IN (SELECT value FROM json_each(?))`,
  ).all(options.jobId, JSON.stringify(options.keys)) as { key: string }[];
  return new Set(rows.map((r) => r.key));
}

// Filters of retryFailed(), added only when asked for so the counts index serves every variant.
const RETRY_FILTERS = {
  anyStage: "stage IN (SELECT stage FROM job_stages WHERE job_id = :job)",
  stage: "stage = :stage",
  error: "instr(error, :error) > 0",
  item: "item_id = (SELECT id FROM work_items WHERE job_id = :job AND key = :key)",
};

function retryFailed(s: SqliteConn, options: RetryFailedOptions): number {
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
  return s.tx(() => {
    const rows = s.stmt(
      `UPDATE item_stages SET status = 'pending', attempts = 0, crashes = 0, run_after = 0, error = NULL,
         claimed_by = NULL, lease_until = NULL, started_at = NULL, finished_at = NULL,
         ready = ${readySql("item_stages")}
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
  });
}
