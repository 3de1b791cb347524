/** SQLite: claims and their outcomes. */
import type {
  Claim,
  ClaimOptions,
  ClaimStore,
  DoneMark,
  FailOutcome,
  Impl,
  MarkFailedOptions,
  SkipMark,
} from "../store.ts";
import type { SqliteConn } from "./connection.ts";
import { insertEvent } from "./events.ts";
import { CountMoves } from "./_counts.ts";
import { countAttempts } from "./_run_totals.ts";
import { queueFailures } from "./_alerts.ts";
import { upsertEmitted } from "./items.ts";

/** The claim area of the SQLite store. */
export function sqliteClaims(s: SqliteConn): Impl<ClaimStore> {
  return {
    claimBatch: (options) => claimBatch(s, options),
    markDone: (options) => markDone(s, options),
    markSkipped: (options) => markSkipped(s, options),
    markFailed: (options) => markFailed(s, options),
  };
}

/** A row claimBatch() claimed: item id, position, attempts, crashes. */
type ClaimedRow = [number, number, number, number];

function claimBatch(s: SqliteConn, options: ClaimOptions): Claim[] {
  const now = (options.now ?? Date.now)();
  return s.tx(() => {
    const rows = s.tuples(
      `UPDATE item_stages
       SET status = 'in_progress', claimed_by = :run, lease_until = :lease,
           attempts = attempts + 1, started_at = :now, finished_at = NULL, started = 0
       WHERE rowid IN (
         SELECT rowid FROM item_stages INDEXED BY item_stages_claim
         WHERE job_id = :job AND stage = :stage AND status = 'pending' AND ready = 1
           AND run_after <= :now
         ORDER BY run_after
         -- A paused job gets nothing. In the LIMIT the check runs once per statement; as a
         -- condition of the UPDATE it ran once per claimed row.
         LIMIT CASE WHEN EXISTS (SELECT 1 FROM job_state WHERE job_id = :job AND paused = 1)
           THEN 0 ELSE :limit END)
       RETURNING item_id, position, attempts, crashes`,
    ).all({
      run: options.runId,
      lease: now + options.leaseMs,
      now,
      job: options.jobId,
      stage: options.stage,
      limit: options.limit,
    }) as unknown as ClaimedRow[];
    if (rows.length === 0) return [];
    const moves = new CountMoves();
    moves.move(options.jobId, options.stage, "pending", "in_progress", rows.length);
    moves.apply(s);
    return loadClaims(s, options, rows);
  });
}

function loadClaims(
  s: SqliteConn,
  { jobId, stage }: { jobId: string; stage: string },
  rows: ClaimedRow[],
): Claim[] {
  const ids = JSON.stringify(rows.map((r) => r[0]));
  const items = new Map(
    (s.tuples("SELECT id, key, data FROM work_items WHERE id IN (SELECT value FROM json_each(?))")
      .all(ids) as unknown as [number, string, string][]).map((r) => [r[0], r]),
  );
  const results = new Map<number, Record<string, unknown>>();
  const position = rows[0][1];
  if (position > 0) {
    // Results of this and later stages may be left from before a reprocess; they are not inputs.
    // Stage positions come from the job's pipeline, which the item's rows follow.
    const earlier = s.tuples(
      `SELECT r.item_id, r.stage, r.result FROM results r
       JOIN job_stages js ON js.job_id = ? AND js.stage = r.stage
       WHERE r.item_id IN (SELECT value FROM json_each(?)) AND js.position < ?`,
    ).all(jobId, ids, position) as unknown as [number, string, string][];
    for (const [itemId, earlierStage, result] of earlier) {
      const map = results.get(itemId) ?? {};
      map[earlierStage] = JSON.parse(result);
      results.set(itemId, map);
    }
  }
  return rows.map(([itemId, position, attempts, crashes]) => {
    const [, key, data] = items.get(itemId)!;
    return {
      itemId,
      key,
      data: JSON.parse(data),
      stage,
      position,
      attempts,
      crashes,
      results: results.get(itemId) ?? {},
    };
  });
}

function markDone(
  s: SqliteConn,
  options: { jobId: string; runId: string; items: readonly DoneMark[]; now?: () => number },
): number {
  const now = (options.now ?? Date.now)();
  return s.tx(() => {
    const done = finishDone(s, options.runId, options.items, now);
    if (done.length === 0) return 0;
    const held = new Set(done.map(([itemId, stage]) => `${itemId}\0${stage}`));
    const recorded = options.items.filter((m) => held.has(`${m.itemId}\0${m.stage}`));
    s.stmt(
      `INSERT INTO results (item_id, stage, handler_version, result, created_at)
       SELECT value ->> 0, value ->> 1, value ->> 3, value ->> 2, :now FROM json_each(:marks)
       WHERE true
       ON CONFLICT (item_id, stage) DO UPDATE SET handler_version = excluded.handler_version,
         result = excluded.result, created_at = excluded.created_at`,
    ).run({
      now,
      marks: JSON.stringify(
        recorded.map((m) => [m.itemId, m.stage, JSON.stringify(m.result), m.handlerVersion]),
      ),
    });
    // Each next stage is found by its key (item, stage name) rather than among the item's rows.
    const next = s.tuples(
      `UPDATE item_stages SET ready = 1
       WHERE (item_id, stage) IN (SELECT j.value ->> 0, js.stage FROM json_each(:next) j
         JOIN job_stages js ON js.job_id = :job AND js.position = j.value ->> 1)
       RETURNING item_id, status IN ('done', 'skipped') AS over`,
    ).all({
      job: options.jobId,
      next: JSON.stringify(done.map(([itemId, , position]) => [itemId, position + 1])),
    }) as unknown as [number, number][];
    // An item whose next stage is still to do is not finished: only the others are counted.
    const open = new Set(next.filter(([, over]) => !over).map(([itemId]) => itemId));
    const moves = new CountMoves();
    for (const [, stage] of done) moves.move(options.jobId, stage, "in_progress", "done");
    moves.itemsDone(
      options.jobId,
      countFinishedItems(s, recorded.filter((m) => !open.has(m.itemId))),
    );
    moves.apply(s);
    countAttempts(
      s,
      options.jobId,
      done.map(([, stage, , startedAt]) => ({
        stage,
        outcome: "done",
        durationMs: now - startedAt,
      })),
    );
    s.stmt(
      "UPDATE job_state SET consecutive_failures = 0 WHERE job_id = ? AND consecutive_failures > 0",
    ).run(options.jobId);
    const emitted = recorded.filter((m) => m.emit?.length);
    if (emitted.length) {
      upsertEmitted(s, emitted.map((m) => ({ parentId: m.itemId, emit: m.emit! })), now);
    }
    return done.length;
  });
}

/**
 * Marks done, in one statement, the stages of `marks` that `runId` still holds; each as
 * [item id, stage, position, started at].
 */
function finishDone(
  s: SqliteConn,
  runId: string,
  marks: readonly DoneMark[],
  now: number,
): [number, string, number, number][] {
  return s.tuples(
    `UPDATE item_stages SET status = 'done', finished_at = :now, claimed_by = NULL,
       lease_until = NULL, error = NULL
     -- "+": each mark is found by its key; through the claimed index every claim the run
     -- holds was read for each batch of marks.
     WHERE +claimed_by = :run AND status = 'in_progress'
       AND (item_id, stage) IN (SELECT value ->> 0, value ->> 1 FROM json_each(:marks))
     RETURNING item_id, stage, position, started_at`,
  ).all({
    now,
    run: runId,
    marks: JSON.stringify(marks.map((m) => [m.itemId, m.stage])),
  }) as unknown as [number, string, number, number][];
}

function markSkipped(
  s: SqliteConn,
  options: { jobId: string; runId: string; items: readonly SkipMark[]; now?: () => number },
): number {
  const now = (options.now ?? Date.now)();
  return s.tx(() => {
    const recorded: SkipMark[] = [];
    const attempts: { stage: string; outcome: string; durationMs: number }[] = [];
    const moves = new CountMoves();
    for (const mark of options.items) {
      const startedAt = finishSkipped(s, options.runId, mark, now);
      if (startedAt === undefined) continue;
      attempts.push({ stage: mark.stage, outcome: "skipped", durationMs: now - startedAt });
      moves.move(options.jobId, mark.stage, "in_progress", "skipped");
      readyNext(s, mark.itemId, mark.position);
      insertEvent(s, {
        ts: now,
        jobId: options.jobId,
        itemId: mark.itemId,
        stage: mark.stage,
        kind: "skipped",
        message: mark.reason,
      });
      recorded.push(mark);
    }
    moves.itemsDone(options.jobId, countFinishedItems(s, recorded));
    moves.apply(s);
    countAttempts(s, options.jobId, attempts);
    return recorded.length;
  });
}

/** Marks one held stage skipped, keeping the reason in its error column; its start, if held. */
function finishSkipped(
  s: SqliteConn,
  runId: string,
  mark: SkipMark,
  now: number,
): number | undefined {
  const row = s.stmt(
    `UPDATE item_stages SET status = 'skipped', finished_at = ?, claimed_by = NULL,
       lease_until = NULL, error = ?
     WHERE item_id = ? AND stage = ? AND status = 'in_progress' AND claimed_by = ?
     RETURNING started_at`,
  ).get(now, mark.reason, mark.itemId, mark.stage, runId) as { started_at: number } | undefined;
  return row?.started_at;
}

/**
 * How many of the items just marked have no stage left that is not done or skipped: they
 * became done with this batch, since each had a stage in progress until now.
 */
function countFinishedItems(s: SqliteConn, marks: readonly { itemId: number }[]): number {
  if (marks.length === 0) return 0;
  const row = s.stmt(
    `SELECT count(*) AS n FROM (SELECT DISTINCT value AS id FROM json_each(?)) j
     WHERE NOT EXISTS (SELECT 1 FROM item_stages
       WHERE item_id = j.id AND status NOT IN ('done', 'skipped'))`,
  ).get(JSON.stringify(marks.map((m) => m.itemId))) as { n: number };
  return row.n;
}

function readyNext(s: SqliteConn, itemId: number, position: number): void {
  s.stmt("UPDATE item_stages SET ready = 1 WHERE item_id = ? AND position = ?")
    .run(itemId, position + 1);
}

function markFailed(
  s: SqliteConn,
  options: MarkFailedOptions,
): { outcomes: FailOutcome[]; consecutiveFailures: number } {
  const now = (options.now ?? Date.now)();
  const random = options.random ?? Math.random;
  return s.tx(() => {
    const outcomes: FailOutcome[] = [];
    const attempts: { stage: string; outcome: string; durationMs: number }[] = [];
    const failed: { itemId: number; stage: string; error: string }[] = [];
    const moves = new CountMoves();
    for (const mark of options.items) {
      const row = s.stmt(
        `UPDATE item_stages SET
           status = CASE WHEN :permanent OR attempts > :retries THEN 'failed' ELSE 'pending' END,
           run_after = CASE WHEN :permanent OR attempts > :retries THEN run_after
             ELSE :now + max(CAST(:backoff * (1 << min(attempts - 1, 20)) * :jitter AS INTEGER),
               :retryAfter) END,
           finished_at = :now, claimed_by = NULL, lease_until = NULL, error = :error
         WHERE item_id = :item AND stage = :stage AND status = 'in_progress' AND claimed_by = :run
         RETURNING status, run_after, attempts, started_at`,
      ).get({
        permanent: mark.permanent ? 1 : 0,
        retries: mark.retries,
        now,
        backoff: mark.backoffMs,
        jitter: 0.8 + 0.4 * random(),
        retryAfter: mark.retryAfterMs ?? 0,
        error: mark.error,
        item: mark.itemId,
        stage: mark.stage,
        run: options.runId,
      }) as
        | { status: "pending" | "failed"; run_after: number; attempts: number; started_at: number }
        | undefined;
      if (!row) continue;
      const outcome = row.status === "failed" ? "failed" : "retry";
      attempts.push({ stage: mark.stage, outcome, durationMs: now - row.started_at });
      if (row.status === "failed") failed.push(mark);
      moves.move(options.jobId, mark.stage, "in_progress", row.status);
      outcomes.push({
        itemId: mark.itemId,
        stage: mark.stage,
        status: row.status,
        runAfter: row.run_after,
      });
      insertEvent(s, {
        ts: now,
        jobId: options.jobId,
        itemId: mark.itemId,
        stage: mark.stage,
        kind: row.status === "failed" ? "failed" : "retry",
        message: mark.error,
        data: {
          attempts: row.attempts,
          runAfter: row.status === "pending" ? row.run_after : undefined,
        },
      });
    }
    moves.apply(s);
    countAttempts(s, options.jobId, attempts);
    if (failed.length) {
      queueFailures(s, { jobId: options.jobId, runId: options.runId, now, failed });
    }
    return { outcomes, consecutiveFailures: countFailures(s, options.jobId, outcomes.length) };
  });
}

function countFailures(s: SqliteConn, jobId: string, failed: number): number {
  const row = s.stmt(
    `INSERT INTO job_state (job_id, consecutive_failures) VALUES (?, ?)
     ON CONFLICT (job_id) DO UPDATE SET consecutive_failures = consecutive_failures + excluded.consecutive_failures
     RETURNING consecutive_failures`,
  ).get(jobId, failed) as { consecutive_failures: number };
  return row.consecutive_failures;
}
