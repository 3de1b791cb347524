/** Types and constants of the store contract: what is written, and the status constants. */
import type { AlertKind } from "./ops_types.ts";

/** Stage statuses; mirrored by the CHECK constraint on item_stages.status. */
export const STAGE_STATUS = {
  pending: "pending",
  inProgress: "in_progress",
  done: "done",
  failed: "failed",
  skipped: "skipped",
} as const;

/** One of the five stage statuses. */
export type StageStatus = typeof STAGE_STATUS[keyof typeof STAGE_STATUS];

/** An item's status, derived from its stages by the item_derived_status view. */
export type DerivedStatus = "pending" | "in_progress" | "done" | "failed";

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
  /**
   * Iterated once, a chunk at a time: an array, or the items of a discovery as they are read.
   * A key given again (as stored: a lone surrogate becomes U+FFFD) keeps its first data and is
   * counted once.
   */
  items: Iterable<NewItem>;
  /**
   * The caller vouches that no key comes twice as stored, as a discovery's do: the store then
   * keeps no set of the keys seen (at 200,000 items, ~5 MB).
   */
  unique?: boolean;
  /** Clock; default Date.now. */
  now?: () => number;
}

/** What an upsert did. */
export interface UpsertCounts {
  inserted: number;
  updated: number;
  unchanged: number;
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

/** A claimed (item, stage), with what its handler needs. */
export interface Claim {
  itemId: number;
  key: string;
  data: Record<string, unknown>;
  stage: string;
  position: number;
  /** Attempts that ended with an outcome, and this one. */
  attempts: number;
  /** Earlier attempts that never finished: their process died or their lease was lost. */
  crashes: number;
  /** Results of the item's earlier stages, by stage name. */
  results: Record<string, unknown>;
}

/** Options of claimBatch(). */
export interface ClaimOptions {
  jobId: string;
  stage: string;
  runId: string;
  limit: number;
  leaseMs: number;
  now?: () => number;
}

/** A finished stage to record as done. */
export interface DoneMark {
  itemId: number;
  stage: string;
  position: number;
  /** Already JSON-serialisable; stored as the stage's result. */
  result: unknown;
  handlerVersion: string | null;
  /** Items the stage added to jobs (its own or others), recorded in the same transaction. */
  emit?: readonly EmittedItems[];
}

/**
 * Items a finished stage adds to a job: upserted like discovered items (an unknown key is
 * inserted with a row per stage and the emitting item as its parent; a known key gets the new
 * data and keeps its parent).
 */
export interface EmittedItems {
  jobId: string;
  /** The job's stage names in order. */
  stages: readonly string[];
  items: readonly NewItem[];
}

/** A stage its handler chose to skip. */
export interface SkipMark {
  itemId: number;
  stage: string;
  position: number;
  reason: string;
}

/** A failed attempt. */
export interface FailMark {
  itemId: number;
  stage: string;
  error: string;
  /** Fail now, whatever retries are left (PermanentError, bad result). */
  permanent: boolean;
  /** Attempts allowed after the first. */
  retries: number;
  /** Base of the exponential backoff. */
  backoffMs: number;
  /** The least delay before the retry (a Retry-After); default none. */
  retryAfterMs?: number;
}

/** What became of a failed attempt. */
export interface FailOutcome {
  itemId: number;
  stage: string;
  status: "pending" | "failed";
  runAfter: number;
}

/** Options of markFailed(). */
export interface MarkFailedOptions {
  jobId: string;
  runId: string;
  items: readonly FailMark[];
  now?: () => number;
  /** Source of jitter in [0, 1); default Math.random. */
  random?: () => number;
}

/** Options of registerRun(). */
export interface RegisterRunOptions {
  runId: string;
  /** The jobs it runs, for the alert when it crashes. Default none. */
  jobs?: readonly string[];
  /** Default: this machine's name. */
  host?: string;
  /** Default: this process. */
  pid?: number;
  now?: () => number;
}

/** Options of reconcileExpiredLeases(). */
export interface ReconcileOptions {
  now?: () => number;
  /** This machine's name; claims of dead processes are recognised only on it. */
  host?: string;
  /** Whether a process of this host still runs; default checks /proc. */
  isAlive?: (pid: number, pidStart: string | null) => boolean;
}

/** Options of acquireDiscoveryLease(). */
export interface DiscoveryLeaseOptions extends ReconcileOptions {
  jobId: string;
  owner: string;
  leaseMs: number;
}

/** Options of deadDiscoveryLeases() and releaseDeadDiscoveryLeases(). */
export interface DeadDiscoveryLeaseOptions extends ReconcileOptions {
  /** Only this job's lease; default every job's. */
  jobId?: string;
}

/** An unexpired discovery lease whose holder is a process on this host that no longer runs. */
export interface DeadDiscoveryLease {
  jobId: string;
  /** The run id that holds it. */
  owner: string;
  host: string;
  pid: number;
  leaseUntil: number;
}

/** What reconcileExpiredLeases() released. */
export interface ReconcileCounts {
  /** Claims whose lease had passed. */
  expired: number;
  /** Claims of processes on this host that no longer run. */
  deadProcess: number;
}

/** A job's row in job_state (defaults when the job has none yet). */
export interface JobState {
  jobId: string;
  paused: boolean;
  pauseReason: string | null;
  pausedAt: number | null;
  wakeRequestedAt: number | null;
  lastDiscoveryAt: number | null;
  lastRunAt: number | null;
  consecutiveFailures: number;
  /** Discoveries that failed since the last one that succeeded. */
  discoveryFailures: number;
  /** Discoveries that failed since the store was made. */
  discoveryFailuresTotal: number;
  /** When a discovery last added an item (or first succeeded, when it never did). */
  lastNewItemAt: number | null;
}

/** One event as stored. */
export interface EventRow {
  id: number;
  ts: number;
  jobId: string | null;
  itemId: number | null;
  stage: string | null;
  kind: string;
  message: string;
  data: Record<string, unknown> | null;
  costUsd: number | null;
}

/** An event to record; `ts` defaults to now. */
export interface NewEvent {
  /** Also queue an alert of this kind with the event's job, message and data. Default none. */
  alert?: AlertKind;
  ts?: number;
  jobId?: string | null;
  itemId?: number | null;
  stage?: string | null;
  kind: string;
  message: string;
  data?: Record<string, unknown>;
  costUsd?: number;
}

/** Filters of getEvents(); all optional. */
export interface EventFilter {
  jobId?: string;
  itemId?: number;
  /** Only events of this kind, or of one of these kinds (an empty list matches none). */
  kind?: string | readonly string[];
  /** Only events at or after this time (ms). */
  sinceTs?: number;
  /** Only events with an id above this; for following the log. */
  afterId?: number;
  /** Newest first, at most this many. Default 100. */
  limit?: number;
}

/** Options of getStaleCount(). */
export interface StaleOptions {
  jobId: string;
  /**
   * The current handler version of these stages, as configured now (null: none); a stage not
   * named keeps the version its last run recorded. Default {}.
   */
  versions?: Record<string, string | null>;
}

/** Options of reprocessStale() and reprocessStage(). */
export interface ReprocessOptions {
  jobId: string;
  /** For reprocessStale: as in getStaleCount(). */
  versions?: Record<string, string | null>;
  /** The stage; for reprocessStale, omitted means every stage. */
  stage?: string;
  /** Count only; change nothing. Default false. */
  dryRun?: boolean;
  now?: () => number;
}

/**
 * What a source said last time a job read it: a server's ETag / Last-Modified, or a digest of a
 * local file's content (as `etag`). Each job keeps its own: two jobs may read one URL.
 */
export interface HttpCacheEntry {
  jobId: string;
  /** The URL, or the absolute path of a local file. */
  url: string;
  /**
   * Digest of the job's discovery (strategy and options) and of jobctl's version when the source
   * was read: once they change, the validators are not used and the items are made again.
   */
  optionsHash: string;
  etag?: string;
  lastModified?: string;
  checkedAt: number;
}

/** Why and until when discovery leaves a source alone (a backoff or a wait the source asked for). */
export interface SourceHold {
  /** "url": one URL discovery reads; "host": every URL of a host (it answered 429). */
  scope: "url" | "host";
  /** The URL, or the host name. */
  target: string;
  /** The host of the URL (the target itself for a host). */
  host: string;
  /** The job whose discovery last read it. */
  jobId: string;
  /** Failures in a row; 0 when the source only asked for a wait. */
  failures: number;
  /** Not read again before this time (ms since epoch). */
  untilAt: number;
  /** What set the wait: "failed 3 times in a row", "Retry-After: 120", "max-age=600" … */
  reason: string;
  /** The last error, when it failed. */
  error: string | null;
  /** RSS skipHours (0–23, UTC), left out whenever they come round; empty when none. */
  skipHours: number[];
  /** RSS skipDays (0 = Sunday … 6, UTC). */
  skipDays: number[];
  updatedAt: number;
}

/** Options of saveSourceHolds(): holds to write (replacing) and to remove, by scope and target. */
export interface SaveSourceHoldsOptions {
  put: readonly SourceHold[];
  clear: readonly Pick<SourceHold, "scope" | "target">[];
}

/** Options of finishDiscovery(). */
export interface FinishDiscoveryOptions {
  jobId: string;
  owner: string;
  succeeded: boolean;
  /** What went wrong when it ran and failed; without it, a discovery that did not succeed did
   * not run (another process had just discovered) and counts as no failure. */
  error?: string;
  /** Items the discovery added; any makes the source not silent. Default 0. */
  newItems?: number;
  /** Queue a "discovery_failing" alert once this many discoveries failed in a row. Default never. */
  alertAfterFailures?: number;
  /** Queue a "silent" alert when no new item came for longer than this. Default never. */
  expectNewWithinMs?: number;
  now?: () => number;
}

/** Options of copyTo(). */
export interface CopyStoreOptions {
  /** Replace whatever the target holds instead of refusing a non-empty one. Default false. */
  replace?: boolean;
  /** Rows read and written at a time. Default 5000. */
  batchSize?: number;
}

/** Options of setJobPaused(). */
export interface SetJobPausedOptions {
  jobId: string;
  paused: boolean;
  reason?: string;
  /** Also queue a "paused" alert (the circuit breaker's pause). Default false. */
  alert?: boolean;
  now?: () => number;
}

/**
 * An engine's implementation of area `T`: a method may answer at once or with a Promise, and may
 * throw; openDb()'s guard makes every answer a Promise and every failure a rejection.
 */
export type Impl<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R>
    ? (...args: A) => R | Promise<R>
    : T[K];
};
