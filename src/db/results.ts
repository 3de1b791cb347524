/** Stage results, handler versions, staleness and reprocessing. */
import { type Db, sqlite, type SqliteDb } from "./mod.ts";
import { insertEvent } from "./events.ts";
import { CountMoves } from "./_counts.ts";
import * as pg from "./pg/results.ts";

/** A stored result. */
export interface ResultRow {
  itemId: number;
  stage: string;
  handlerVersion: string | null;
  result: unknown;
  createdAt: number;
}

/** Stores (replaces) the result of an item's stage outside a claim, e.g. for imports. */
export function storeResult(
  db: Db,
  row: {
    itemId: number;
    stage: string;
    handlerVersion: string | null;
    result: unknown;
    now?: number;
  },
): Promise<void> {
  if (db.engine === "postgres") return pg.storeResult(db, row);
  sqlite(db).stmt(
    `INSERT INTO results (item_id, stage, handler_version, result, created_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (item_id, stage) DO UPDATE SET handler_version = excluded.handler_version,
       result = excluded.result, created_at = excluded.created_at`,
  ).run(
    row.itemId,
    row.stage,
    row.handlerVersion,
    JSON.stringify(row.result),
    row.now ?? Date.now(),
  );
  return Promise.resolve();
}

/** The result of one item's stage, if any. */
export function getResult(db: Db, itemId: number, stage: string): Promise<ResultRow | undefined> {
  if (db.engine === "postgres") return pg.getResult(db, itemId, stage);
  const row = sqlite(db).stmt(
    "SELECT item_id, stage, handler_version, result, created_at FROM results WHERE item_id = ? AND stage = ?",
  ).get(itemId, stage) as Record<string, unknown> | undefined;
  return Promise.resolve(row ? toResult(row) : undefined);
}

/** Every stored result of an item, in pipeline order. */
export function getResults(db: Db, itemId: number): Promise<ResultRow[]> {
  if (db.engine === "postgres") return pg.getResults(db, itemId);
  const rows = sqlite(db).stmt(
    `SELECT r.item_id, r.stage, r.handler_version, r.result, r.created_at
     FROM results r LEFT JOIN item_stages s ON s.item_id = r.item_id AND s.stage = r.stage
     WHERE r.item_id = ? ORDER BY coalesce(s.position, 1e9), r.stage`,
  ).all(itemId) as Record<string, unknown>[];
  return Promise.resolve(rows.map(toResult));
}

function toResult(r: Record<string, unknown>): ResultRow {
  return {
    itemId: r.item_id as number,
    stage: r.stage as string,
    handlerVersion: r.handler_version as string | null,
    result: JSON.parse(r.result as string),
    createdAt: r.created_at as number,
  };
}

/** Records the current handler version of a stage; results of other versions become stale. */
export function setHandlerVersion(
  db: Db,
  options: { jobId: string; stage: string; version: string | null },
): Promise<void> {
  if (db.engine === "postgres") return pg.setHandlerVersion(db, options);
  sqlite(db).stmt("UPDATE job_stages SET handler_version = ? WHERE job_id = ? AND stage = ?")
    .run(options.version, options.jobId, options.stage);
  return Promise.resolve();
}

/** The current handler version of a stage as last recorded by a run. */
export function getHandlerVersion(
  db: Db,
  options: { jobId: string; stage: string },
): Promise<string | null> {
  if (db.engine === "postgres") return pg.getHandlerVersion(db, options);
  const row = sqlite(db).stmt(
    "SELECT handler_version FROM job_stages WHERE job_id = ? AND stage = ?",
  ).get(options.jobId, options.stage) as { handler_version: string | null } | undefined;
  return Promise.resolve(row?.handler_version ?? null);
}

// Only results of done stages: a stage already reset for reprocessing is not stale again,
// so a second reprocessStale() never takes back a claim that is redoing it.
const STALE_WHERE = `r.item_id IN (SELECT id FROM work_items WHERE job_id = :job)
  AND r.stage = js.stage AND js.job_id = :job AND js.handler_version IS NOT NULL
  AND r.handler_version IS NOT js.handler_version
  AND EXISTS (SELECT 1 FROM item_stages st
    WHERE st.item_id = r.item_id AND st.stage = r.stage AND st.status = 'done')`;

/** Number of stale results of done stages (handler version differs from the current one). */
export function getStaleCount(db: Db, options: { jobId: string }): Promise<Record<string, number>> {
  if (db.engine === "postgres") return pg.getStaleCount(db, options);
  const s = sqlite(db);
  const stages = s.stmt(
    `SELECT stage, handler_version FROM job_stages
     WHERE job_id = ? AND handler_version IS NOT NULL ORDER BY position`,
  ).all(options.jobId) as { stage: string; handler_version: string }[];
  const counts: Record<string, number> = {};
  for (const { stage, handler_version: version } of stages) {
    const n = staleAt(s, { job: options.jobId, stage, version });
    if (n > 0) counts[stage] = n;
  }
  return Promise.resolve(counts);
}

// Index ranges of results_version: a stage's results of the current version, and of any other.
const SAME_VERSION = ["handler_version = :version"];
const OTHER_VERSIONS = [
  "handler_version < :version",
  "handler_version > :version",
  "handler_version IS NULL",
];

/**
 * Stale results of one stage, reading the smaller side of results_version. No entry of another
 * version (the usual case) answers at once. Otherwise either the other versions' entries are
 * matched to done rows, or the current version's are and subtracted from the done rows (a done
 * row always has its result: markDone writes both).
 */
function staleAt(s: SqliteDb, params: { job: string; stage: string; version: string }): number {
  const { job, stage, version } = params;
  const one = (sql: string, values: Record<string, string>) =>
    (s.stmt(sql).get(values) as { n: number }).n;
  const entries = (ranges: string[]) =>
    one(
      "SELECT " + ranges.map((range) =>
        `(SELECT count(*) FROM results INDEXED BY results_version WHERE stage = :stage AND ${range})`
      ).join(" + ") + " AS n",
      { stage, version },
    );
  const doneOf = (ranges: string[]) =>
    one(
      "SELECT count(*) AS n FROM (" + ranges.map((range) =>
        // CROSS JOIN keeps this order: the planner would otherwise start from the done rows.
        `SELECT r.item_id FROM results r INDEXED BY results_version
         CROSS JOIN item_stages st ON st.item_id = r.item_id AND st.stage = r.stage
         WHERE r.stage = :stage AND r.${range} AND st.job_id = :job AND st.status = 'done'`
      ).join(" UNION ALL ") + ")",
      params,
    );
  const other = entries(OTHER_VERSIONS);
  if (other === 0) return 0;
  if (other <= entries(SAME_VERSION)) return doneOf(OTHER_VERSIONS);
  const done = one(
    "SELECT n FROM stage_counts WHERE job_id = :job AND stage = :stage AND status = 'done'",
    { job, stage },
  );
  return done - doneOf(SAME_VERSION);
}

/** Options of reprocessStale() and reprocessStage(). */
export interface ReprocessOptions {
  jobId: string;
  /** The stage; for reprocessStale, omitted means every stage. */
  stage?: string;
  /** Count only; change nothing. Default false. */
  dryRun?: boolean;
  now?: () => number;
}

/**
 * Resets every stage whose result is stale, and every later stage of the same item, to a fresh
 * pending state. Returns how many items were (or, with dryRun, would be) reset.
 */
export function reprocessStale(db: Db, options: ReprocessOptions): Promise<number> {
  if (db.engine === "postgres") return pg.reprocessStale(db, options);
  const s = sqlite(db);
  const targets = s.stmt(
    `SELECT r.item_id, min(js.position) AS position FROM results r, job_stages js
     WHERE ${STALE_WHERE} AND (:stage IS NULL OR js.stage = :stage)
     GROUP BY r.item_id`,
  ).all({ job: options.jobId, stage: options.stage ?? null }) as {
    item_id: number;
    position: number;
  }[];
  return Promise.resolve(resetFrom(s, options, targets, "stale results"));
}

/** Resets one stage and every later stage of every item of the job. */
export function reprocessStage(
  db: Db,
  options: ReprocessOptions & { stage: string },
): Promise<number> {
  if (db.engine === "postgres") return pg.reprocessStage(db, options);
  const s = sqlite(db);
  const targets = s.stmt(
    `SELECT st.item_id, st.position FROM item_stages st
     WHERE st.job_id = ? AND st.stage = ? AND st.status <> 'pending'`,
  ).all(options.jobId, options.stage) as { item_id: number; position: number }[];
  return Promise.resolve(resetFrom(s, options, targets, `stage ${options.stage}`));
}

function resetFrom(
  s: SqliteDb,
  options: ReprocessOptions,
  targets: { item_id: number; position: number }[],
  why: string,
): number {
  if (options.dryRun || targets.length === 0) return targets.length;
  const now = (options.now ?? Date.now)();
  s.tx(() => {
    const reset = s.stmt(
      `UPDATE item_stages SET status = 'pending', attempts = 0, run_after = 0, error = NULL,
         claimed_by = NULL, lease_until = NULL, started_at = NULL, finished_at = NULL,
         ready = (position = :pos AND (:pos = 0 OR EXISTS (SELECT 1 FROM item_stages p
           WHERE p.item_id = :item AND p.position = :pos - 1 AND p.status IN ('done', 'skipped'))))
       WHERE item_id = :item AND position >= :pos`,
    );
    const before = s.stmt(
      "SELECT stage, status FROM item_stages WHERE item_id = ? AND position >= ?",
    );
    const moves = new CountMoves();
    const wasDone = s.stmt(
      `SELECT NOT EXISTS (SELECT 1 FROM item_stages
         WHERE item_id = ? AND status NOT IN ('done', 'skipped')) AS done`,
    );
    for (const t of targets) {
      if ((wasDone.get(t.item_id) as { done: number }).done) moves.itemsDone(options.jobId, -1);
      for (const r of before.all(t.item_id, t.position) as { stage: string; status: string }[]) {
        moves.move(options.jobId, r.stage, r.status, "pending");
      }
      reset.run({ item: t.item_id, pos: t.position });
    }
    moves.apply(s);
    insertEvent(s, {
      ts: now,
      jobId: options.jobId,
      stage: options.stage ?? null,
      kind: "reprocess",
      message: `reset ${targets.length} items for ${why}`,
      data: { items: targets.length },
    });
  });
  return targets.length;
}

/** An item of a job that reached done at a stage, with that stage's result. */
export interface DoneResult {
  key: string;
  data: Record<string, unknown>;
  result: unknown;
  finishedAt: number;
}

/** Items of `jobId` done at `stage`, oldest first, with that stage's result (job chaining). */
export function getDoneResults(
  db: Db,
  options: { jobId: string; stage: string; limit?: number },
): Promise<DoneResult[]> {
  if (db.engine === "postgres") return pg.getDoneResults(db, options);
  const rows = sqlite(db).stmt(
    `SELECT w.key, w.data, r.result, st.finished_at FROM item_stages st
     JOIN work_items w ON w.id = st.item_id
     JOIN results r ON r.item_id = st.item_id AND r.stage = st.stage
     WHERE st.job_id = ? AND st.stage = ? AND st.status = 'done'
     ORDER BY st.finished_at, w.id LIMIT ?`,
  ).all(options.jobId, options.stage, options.limit ?? -1) as {
    key: string;
    data: string;
    result: string;
    finished_at: number;
  }[];
  return Promise.resolve(rows.map((r) => ({
    key: r.key,
    data: JSON.parse(r.data),
    result: JSON.parse(r.result),
    finishedAt: r.finished_at,
  })));
}
