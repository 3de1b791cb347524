/** What `jobs doctor` and the dashboard ask of the store: integrity, WAL, leases, failures. */
import { type Db, sqlite } from "./mod.ts";
import { syncStages } from "./items.ts";
import { getItemKeys } from "./item_detail.ts";
import { hostName, isProcessAlive } from "../util/process.ts";
import * as pg from "./pg/health.ts";

/** Failed stages of a job that share one error once its variable parts are normalised. */
export interface FailureCluster {
  stage: string;
  /** The error with numbers, hex ids, URLs and quoted values replaced by placeholders. */
  pattern: string;
  /** The longest literal part of the pattern: every error of the cluster contains it. */
  match: string;
  /** Failed stage rows in the cluster. */
  count: number;
  /** Keys of a few items in the cluster, in discovery order. */
  exampleKeys: string[];
}

/** Options of failureClusters(). */
export interface FailureClusterOptions {
  jobId: string;
  /** Only failures of this stage. Default: every stage. */
  stage?: string;
  /** At most this many clusters, largest first. Default 10. */
  limit?: number;
  /** Example item keys per cluster. Default 3. */
  examples?: number;
}

// Order matters: URLs and quoted values swallow the numbers inside them.
const NORMALISERS: readonly [RegExp, string][] = [
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, "<url>"],
  [/"[^"\n]*"/g, '"<value>"'],
  [/'[^'\n]*'/g, "'<value>'"],
  [/`[^`\n]*`/g, "`<value>`"],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, "<id>"],
  [/\b0x[0-9a-f]+\b/gi, "<id>"],
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,}\b/gi, "<id>"],
  [/(?<![a-z\d.])\d+(?:\.\d+)?/gi, "<n>"],
];

const PLACEHOLDER = /"<value>"|'<value>'|`<value>`|<url>|<id>|<n>/;

/** `error` with numbers, hex ids, URLs and quoted values replaced by placeholders. */
export function normaliseError(error: string): string {
  let text = error.trim().replace(/\s+/g, " ");
  for (const [pattern, placeholder] of NORMALISERS) text = text.replace(pattern, placeholder);
  return text;
}

// Normalising is pure and errors repeat from call to call (a refreshing dashboard), so the
// patterns of recent errors are kept, up to a bound.
const PATTERN_CACHE = new Map<string, string>();
const PATTERN_CACHE_MAX = 200_000;

function patternOf(error: string): string {
  let pattern = PATTERN_CACHE.get(error);
  if (pattern === undefined) {
    if (PATTERN_CACHE.size >= PATTERN_CACHE_MAX) PATTERN_CACHE.clear();
    PATTERN_CACHE.set(error, pattern = normaliseError(error));
  }
  return pattern;
}

/** The longest literal run of a normalised pattern (whitespace trimmed). */
export function literalOf(pattern: string): string {
  const parts = pattern.split(new RegExp(PLACEHOLDER, "g")).map((p) => p.trim());
  return parts.reduce((best, p) => (p.length > best.length ? p : best), "");
}

interface ClusterDraft {
  stage: string;
  position: number;
  pattern: string;
  count: number;
  exampleIds: number[];
}

/**
 * Failed stages of a job grouped by normalised error, largest clusters first (ties by stage
 * position, then pattern), each with a few example item keys.
 */
export async function failureClusters(
  db: Db,
  options: FailureClusterOptions,
): Promise<FailureCluster[]> {
  // One pass over the failed rows in item order; each distinct error is normalised once.
  const rows = db.engine === "postgres"
    ? await pg.failedRows(db, options)
    : failedRowsSqlite(db, options);
  const drafts = clusterRows(rows, options.examples ?? 3);
  const top = drafts
    .sort((a, b) =>
      b.count - a.count || a.position - b.position || a.pattern.localeCompare(b.pattern)
    )
    .slice(0, options.limit ?? 10);
  const keys = await getItemKeys(db, { itemIds: top.flatMap((c) => c.exampleIds) });
  return top.map((c) => ({
    stage: c.stage,
    pattern: c.pattern,
    match: literalOf(c.pattern),
    count: c.count,
    exampleKeys: c.exampleIds.map((id) => keys.get(id)!),
  }));
}

/** Failed stage rows of a job in stage and item order (SQLite). */
function failedRowsSqlite(
  db: Db,
  options: FailureClusterOptions,
): { stage: string; position: number; item_id: number; error: string }[] {
  return sqlite(db).stmt(
    `SELECT stage, position, item_id, coalesce(error, '') AS error
     FROM item_stages INDEXED BY item_stages_failed
     WHERE job_id = :job AND status = 'failed' AND stage IN (
       SELECT stage FROM job_stages WHERE job_id = :job AND (:stage IS NULL OR stage = :stage))
     ORDER BY stage, item_id`,
  ).all({ job: options.jobId, stage: options.stage ?? null }) as {
    stage: string;
    position: number;
    item_id: number;
    error: string;
  }[];
}

/** Groups failed rows (in item order) by stage and pattern, keeping the first example ids. */
function clusterRows(
  rows: { stage: string; position: number; item_id: number; error: string }[],
  examples: number,
): ClusterDraft[] {
  const drafts = new Map<string, ClusterDraft>();
  for (const r of rows) {
    const pattern = patternOf(r.error);
    const id = `${r.stage}\0${pattern}`;
    let draft = drafts.get(id);
    if (!draft) {
      draft = { stage: r.stage, position: r.position, pattern, count: 0, exampleIds: [] };
      drafts.set(id, draft);
    }
    draft.count++;
    if (draft.exampleIds.length < examples) draft.exampleIds.push(r.item_id);
  }
  return [...drafts.values()];
}

/** Problems PRAGMA quick_check reports; empty when the database is sound. */
export function integrityProblems(db: Db, options: { max?: number } = {}): Promise<string[]> {
  if (db.engine === "postgres") return pg.integrityProblems(db, options);
  try {
    const rows = sqlite(db).conn.prepare(`PRAGMA quick_check(${options.max ?? 20})`).all() as {
      quick_check: string;
    }[];
    const problems = rows.map((r) => r.quick_check);
    return Promise.resolve(problems.length === 1 && problems[0] === "ok" ? [] : problems);
  } catch (err) {
    // A badly damaged file fails before quick_check can list anything.
    return Promise.resolve([(err as Error).message]);
  }
}

/** Size in bytes of the database's write-ahead log; 0 when there is none. */
export function walSize(db: Db): Promise<number> {
  if (db.engine === "postgres") return pg.walSize(db);
  try {
    return Promise.resolve(Deno.statSync(`${sqlite(db).location}-wal`).size);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return Promise.resolve(0);
    throw err;
  }
}

/** Copies the write-ahead log into the database and truncates it; `busy` when a reader held it. */
export function checkpointWal(db: Db): Promise<{ busy: boolean; walBytes: number }> {
  if (db.engine === "postgres") return pg.checkpointWal(db);
  const row = sqlite(db).conn.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get() as {
    busy: number;
  };
  return walSize(db).then((walBytes) => ({ busy: row.busy !== 0, walBytes }));
}

/** Options of leaseProblems(). */
export interface LeaseProblemOptions {
  /** Clock; default Date.now. */
  now?: () => number;
}

/** Claims of one job that reconcileExpiredLeases() would release. */
export interface LeaseProblem {
  jobId: string;
  /** Claims whose lease has passed. */
  expired: number;
  /** Unexpired claims of processes on this host that no longer run. */
  deadProcess: number;
}

/**
 * Per job, the claims that reconcileExpiredLeases() would release now, by the same rules (a
 * dead process is recognised on this host only); changes nothing.
 */
export function leaseProblems(db: Db, options: LeaseProblemOptions = {}): Promise<LeaseProblem[]> {
  if (db.engine === "postgres") return pg.leaseProblems(db, options);
  const s = sqlite(db);
  const now = (options.now ?? Date.now)();
  const host = hostName();
  const rows = s.stmt(
    `SELECT st.job_id, st.lease_until < :now AS expired, r.host, r.pid, r.pid_start, count(*) AS n
     FROM item_stages st INDEXED BY item_stages_claimed LEFT JOIN runs r ON r.run_id = st.claimed_by
     WHERE st.status = 'in_progress'
     GROUP BY st.job_id, expired, r.run_id ORDER BY st.job_id`,
  ).all({ now }) as {
    job_id: string;
    expired: number;
    host: string | null;
    pid: number | null;
    pid_start: string | null;
    n: number;
  }[];
  const byJob = new Map<string, LeaseProblem>();
  for (const r of rows) {
    const problem = byJob.get(r.job_id) ?? { jobId: r.job_id, expired: 0, deadProcess: 0 };
    if (r.expired) problem.expired += r.n;
    else if (
      r.host === host && r.pid !== null && r.pid !== Deno.pid && !isProcessAlive(r.pid, r.pid_start)
    ) {
      problem.deadProcess += r.n;
    }
    byJob.set(r.job_id, problem);
  }
  return Promise.resolve([...byJob.values()].filter((p) => p.expired + p.deadProcess > 0));
}

/** Items of a job waiting at later stages behind a failed stage, counted per failed stage. */
export function stuckBehindFailures(
  db: Db,
  options: { jobId: string },
): Promise<{ stage: string; items: number }[]> {
  if (db.engine === "postgres") return pg.stuckBehindFailures(db, options);
  const rows = sqlite(db).stmt(
    `SELECT f.stage, count(*) AS n FROM item_stages f INDEXED BY item_stages_failed
     WHERE f.job_id = ?1 AND f.status = 'failed'
       AND f.stage IN (SELECT stage FROM job_stages WHERE job_id = ?1)
       AND EXISTS (SELECT 1 FROM item_stages p
       WHERE p.item_id = f.item_id AND p.position > f.position AND p.status = 'pending')
     GROUP BY f.stage ORDER BY min(f.position)`,
  ).all(options.jobId) as { stage: string; n: number }[];
  return Promise.resolve(rows.map((r) => ({ stage: r.stage, items: r.n })));
}

/** How a job's stage rows in the store differ from its configured pipeline. */
export interface StageRowGaps {
  /** Configured stages the store does not know yet (a job with no items has none). */
  unknownStages: string[];
  /** Stages the store knows that the config no longer has. */
  removedStages: string[];
  /** Stage rows its items lack, for known and unknown stages. */
  missingRows: number;
}

/** Compares a job's stages in the store with `stages` (the configured pipeline, in order). */
export function stageRowGaps(
  db: Db,
  options: { jobId: string; stages: readonly string[] },
): Promise<StageRowGaps> {
  if (db.engine === "postgres") return pg.stageRowGaps(db, options);
  const s = sqlite(db);
  const known = (s.stmt("SELECT stage FROM job_stages WHERE job_id = ? ORDER BY position")
    .all(options.jobId) as { stage: string }[]).map((r) => r.stage);
  const items = (s.stmt("SELECT count(*) AS n FROM work_items WHERE job_id = ?")
    .get(options.jobId) as { n: number }).n;
  // Rows are unique per (item, stage), so what the known stages lack is a difference of counts.
  const { rows } = s.stmt(
    `SELECT count(*) AS rows FROM item_stages
     WHERE job_id = ?1 AND stage IN (SELECT stage FROM job_stages WHERE job_id = ?1)`,
  ).get(options.jobId) as { rows: number };
  // A job with no items yet gets its stages on its first discovery; nothing is missing.
  const unknownStages = items ? options.stages.filter((name) => !known.includes(name)) : [];
  return Promise.resolve({
    unknownStages,
    removedStages: known.filter((name) => !options.stages.includes(name)),
    missingRows: items * known.length - rows + items * unknownStages.length,
  });
}

/**
 * Adds the stages and rows a job's items lack for its configured `stages` (pending, claimable
 * once the previous stage is done or skipped). Refuses, returning null, when the store has a
 * stage `stages` lacks: dropping its rows is for `jobs run`. Returns how many rows were added.
 */
export async function addMissingStageRows(
  db: Db,
  options: { jobId: string; stages: readonly string[] },
): Promise<number | null> {
  if (db.engine === "postgres") return pg.addMissingStageRows(db, options);
  const gaps = await stageRowGaps(db, options);
  if (gaps.removedStages.length) return null;
  const s = sqlite(db);
  const count = () =>
    (s.stmt("SELECT count(*) AS n FROM item_stages WHERE job_id = ?").get(options.jobId) as {
      n: number;
    }).n;
  const before = count();
  if (gaps.unknownStages.length) await syncStages(db, options);
  s.tx(() => {
    const added = s.stmt(
      `INSERT INTO item_stages (item_id, job_id, stage, position)
       SELECT w.id, w.job_id, js.stage, js.position
       FROM work_items w JOIN job_stages js ON js.job_id = w.job_id
       WHERE w.job_id = ? AND NOT EXISTS (
         SELECT 1 FROM item_stages st WHERE st.item_id = w.id AND st.stage = js.stage)`,
    ).run(options.jobId).changes;
    if (!added) return;
    s.stmt(
      `UPDATE item_stages SET ready = CASE WHEN position = 0 THEN 1 ELSE EXISTS (
         SELECT 1 FROM item_stages p WHERE p.item_id = item_stages.item_id
           AND p.position = item_stages.position - 1 AND p.status IN ('done', 'skipped')) END
       WHERE job_id = ? AND status = 'pending'`,
    ).run(options.jobId);
  });
  return count() - before;
}
