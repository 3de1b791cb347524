/** SQLite: stage results, handler versions, staleness and reprocessing. */
import type {
  DoneResult,
  DoneResultsOptions,
  Impl,
  ReprocessOptions,
  ResultRow,
  ResultStore,
  StaleOptions,
} from "../store.ts";
import type { SqliteConn } from "./connection.ts";
import { insertEvent } from "./events.ts";
import { CountMoves } from "./_counts.ts";
import { readySql } from "./_ready.ts";
import { type ResultDbRow, toResult } from "../_rows.ts";

/** The result area of the SQLite store. */
export function sqliteResults(s: SqliteConn): Impl<ResultStore> {
  return {
    setHandlerVersion: (options) => setHandlerVersion(s, options),
    getStaleCount: (options) => getStaleCount(s, options),
    reprocessStale: (options) => reprocessStale(s, options),
    reprocessStage: (options) => reprocessStage(s, options),
    getDoneResults: (options) => getDoneResults(s, options),
  };
}

/** The stored results of an item, in pipeline order; for the item detail. */
export function getResults(s: SqliteConn, itemId: number): ResultRow[] {
  const rows = s.stmt(
    `SELECT r.item_id, r.stage, r.handler_version, r.result, r.created_at
     FROM results r LEFT JOIN item_stages s ON s.item_id = r.item_id AND s.stage = r.stage
     WHERE r.item_id = ? ORDER BY coalesce(s.position, 1e9), r.stage`,
  ).all(itemId) as unknown as ResultDbRow[];
  return rows.map(toResult);
}

function setHandlerVersion(
  s: SqliteConn,
  options: { jobId: string; stage: string; version: string | null },
): void {
  s.stmt("UPDATE job_stages SET handler_version = ? WHERE job_id = ? AND stage = ?")
    .run(options.version, options.jobId, options.stage);
}

// The stage's current version: its entry in the :versions object, else the recorded one.
const CURRENT_VERSION = `CASE WHEN EXISTS (SELECT 1 FROM json_each(:versions) WHERE key = js.stage)
  THEN (SELECT value FROM json_each(:versions) WHERE key = js.stage) ELSE js.handler_version END`;

// Only results of done stages: a stage already reset for reprocessing is not stale again,
// so a second reprocessStale() never takes back a claim that is redoing it.
const STALE_WHERE = `r.item_id IN (SELECT id FROM work_items WHERE job_id = :job)
  AND r.stage = js.stage AND js.job_id = :job AND (${CURRENT_VERSION}) IS NOT NULL
  AND r.handler_version IS NOT (${CURRENT_VERSION})
  AND EXISTS (SELECT 1 FROM item_stages st
    WHERE st.item_id = r.item_id AND st.stage = r.stage AND st.status = 'done')`;

function getStaleCount(s: SqliteConn, options: StaleOptions): Record<string, number> {
  const stages = s.stmt(
    "SELECT stage, handler_version FROM job_stages WHERE job_id = ? ORDER BY position",
  ).all(options.jobId) as { stage: string; handler_version: string | null }[];
  const versions = options.versions ?? {};
  const counts: Record<string, number> = {};
  for (const { stage, handler_version: recorded } of stages) {
    const version = Object.hasOwn(versions, stage) ? versions[stage] : recorded;
    if (version === null) continue;
    const n = staleAt(s, { job: options.jobId, stage, version });
    if (n > 0) counts[stage] = n;
  }
  return counts;
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
function staleAt(s: SqliteConn, params: { job: string; stage: string; version: string }): number {
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

function reprocessStale(s: SqliteConn, options: ReprocessOptions): number {
  const targets = s.stmt(
    `SELECT r.item_id, min(js.position) AS position FROM results r, job_stages js
     WHERE ${STALE_WHERE} AND (:stage IS NULL OR js.stage = :stage)
     GROUP BY r.item_id`,
  ).all({
    job: options.jobId,
    stage: options.stage ?? null,
    versions: JSON.stringify(options.versions ?? {}),
  }) as {
    item_id: number;
    position: number;
  }[];
  return resetFrom(s, options, targets, "stale results");
}

function reprocessStage(
  s: SqliteConn,
  options: ReprocessOptions & { stage: string },
): number {
  const targets = s.stmt(
    `SELECT st.item_id, st.position FROM item_stages st
     WHERE st.job_id = ? AND st.stage = ? AND st.status <> 'pending'`,
  ).all(options.jobId, options.stage) as { item_id: number; position: number }[];
  return resetFrom(s, options, targets, `stage ${options.stage}`);
}

function resetFrom(
  s: SqliteConn,
  options: ReprocessOptions,
  targets: { item_id: number; position: number }[],
  why: string,
): number {
  if (options.dryRun || targets.length === 0) return targets.length;
  const now = (options.now ?? Date.now)();
  s.tx(() => {
    const reset = s.stmt(
      `UPDATE item_stages SET status = 'pending', attempts = 0, crashes = 0, run_after = 0, error = NULL,
         claimed_by = NULL, lease_until = NULL, started_at = NULL, finished_at = NULL,
         ready = (position = :pos AND ${readySql("item_stages")})
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

function getDoneResults(
  s: SqliteConn,
  options: DoneResultsOptions,
): DoneResult[] {
  const rows = s.stmt(
    `SELECT w.key, w.data, r.result, st.finished_at FROM item_stages st
     JOIN work_items w ON w.id = st.item_id
     JOIN results r ON r.item_id = st.item_id AND r.stage = st.stage
     WHERE st.job_id = ? AND st.stage = ? AND st.status = 'done' AND st.finished_at >= ?
     ORDER BY st.finished_at, w.id LIMIT ?`,
  ).all(
    options.jobId,
    options.stage,
    options.finishedSince ?? Number.MIN_SAFE_INTEGER,
    options.limit ?? -1,
  ) as {
    key: string;
    data: string;
    result: string;
    finished_at: number;
  }[];
  return rows.map((r) => ({
    key: r.key,
    data: JSON.parse(r.data),
    result: JSON.parse(r.result),
    finishedAt: r.finished_at,
  }));
}
