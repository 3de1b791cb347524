/**
 * Retention: what `jobctl prune` and the end of every run remove, by the rules of jobs.yaml,
 * in short batches so that a run working beside it is never held up for long.
 */
import type { PruneBatch, PruneOptions, Store } from "../db/store.ts";
import type { Config, JobConfig } from "../config/types.ts";

/** What was removed (or would be) of one kind of row. */
export interface PruneTally {
  rows: number;
  bytes: number;
}

/** What a prune did. */
export interface PruneReport {
  events: PruneTally & { costEvents: number };
  results: PruneTally;
  httpCache: PruneTally;
  runs: PruneTally;
  /** False when the time slice ran out first: the next prune goes on. */
  complete: boolean;
}

/** Options of pruneStore(). */
export interface PruneStoreOptions {
  /** Only these jobs' events and results; the HTTP cache and runs are left. Default every job. */
  jobs?: JobConfig[];
  /** Count, remove nothing. Default false. */
  dryRun?: boolean;
  /** Stop starting batches after this time (ms since epoch). Default no limit. */
  deadline?: number;
  /** Rows per batch (one short transaction each). Default 2000. */
  batchSize?: number;
  now?: () => number;
}

/** Removes what retention no longer keeps; returns what it removed. */
export async function pruneStore(
  db: Store,
  config: Config,
  options: PruneStoreOptions = {},
): Promise<PruneReport> {
  const now = (options.now ?? Date.now)();
  const limit = options.batchSize ?? 2000;
  const report = emptyReport();
  const steps: [PruneTally & { costEvents?: number }, PruneOptions][] = [];
  for (const job of options.jobs ?? config.jobs) {
    const { eventsMs, resultsMs } = job.retention;
    steps.push([report.events, { target: "events", jobId: job.id, before: now - eventsMs, limit }]);
    steps.push([
      report.results,
      { target: "results", jobId: job.id, before: now - resultsMs, limit },
    ]);
  }
  if (!options.jobs) {
    const { eventsMs, httpCacheMs } = config.retention;
    const exceptJobs = config.jobs.map((j) => j.id);
    steps.push([report.events, { target: "events", exceptJobs, before: now - eventsMs, limit }]);
    steps.push([report.httpCache, { target: "http_cache", before: now - httpCacheMs, limit }]);
    steps.push([report.runs, { target: "runs", before: now - eventsMs, limit }]);
  }
  for (const [tally, step] of steps) {
    if (!await runStep(db, { ...step, dryRun: options.dryRun }, tally, options.deadline)) {
      report.complete = false;
      break;
    }
  }
  return report;
}

/** Batches of one step until it is done; false when the deadline came first. */
async function runStep(
  db: Store,
  step: PruneOptions,
  tally: PruneTally & { costEvents?: number },
  deadline = Infinity,
): Promise<boolean> {
  let next: PruneOptions = step;
  while (true) {
    if (Date.now() > deadline) return false;
    const batch: PruneBatch = await db.prune(next);
    tally.rows += batch.rows;
    tally.bytes += batch.bytes;
    if (tally.costEvents !== undefined) tally.costEvents += batch.costEvents;
    if (batch.done) return true;
    if (next.target === "results") next = { ...next, afterItemId: batch.next };
  }
}

function emptyReport(): PruneReport {
  return {
    events: { rows: 0, bytes: 0, costEvents: 0 },
    results: { rows: 0, bytes: 0 },
    httpCache: { rows: 0, bytes: 0 },
    runs: { rows: 0, bytes: 0 },
    complete: true,
  };
}
