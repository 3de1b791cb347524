/**
 * The store contract: what the program asks of its database, area by area. `src/db/sqlite/` and
 * `src/db/pg/` each implement `EngineStore`; `openDb()` adds the engine-neutral methods and
 * turns every driver error into a StoreError. Every method returns a Promise that rejects on
 * failure, never throws.
 */
import type {
  CostPerItemOptions,
  CostRow,
  DayCost,
  DoneResult,
  DoneResultsOptions,
  FailedRow,
  FailureCluster,
  FailureClusterOptions,
  HeldClaims,
  ItemDetail,
  ItemListing,
  ItemRef,
  JobStats,
  LeaseProblem,
  LeaseProblemOptions,
  ListItemsOptions,
  RowBatch,
  StageCostPerItem,
  StageCounts,
  StageHourRuns,
  StageRowGaps,
  StageTiming,
} from "./read_types.ts";
import type {
  Claim,
  ClaimOptions,
  CopyStoreOptions,
  DeadDiscoveryLease,
  DeadDiscoveryLeaseOptions,
  DiscoveryLeaseOptions,
  DoneMark,
  EventFilter,
  EventRow,
  FailOutcome,
  FinishDiscoveryOptions,
  HttpCacheEntry,
  JobState,
  MarkFailedOptions,
  NewEvent,
  ReconcileCounts,
  ReconcileOptions,
  RegisterRunOptions,
  ReprocessOptions,
  RetryFailedOptions,
  SaveSourceHoldsOptions,
  SetJobPausedOptions,
  SkipMark,
  SourceHold,
  StaleOptions,
  UpsertCounts,
  UpsertItemsOptions,
} from "./types.ts";
import type { CrashedRun, DetectCrashedRunsOptions, RunOutcome } from "./ops_types.ts";
import type { AlertStore, MetricsStore, RetentionStore } from "./ops_store.ts";

export * from "./ops_types.ts";
export * from "./read_types.ts";
export * from "./types.ts";
export type { Impl } from "./impl.ts";
export type { AlertStore, MetricsStore, RetentionStore } from "./ops_store.ts";

/** Work items and their stage rows. */
export interface ItemStore {
  /**
   * Makes the job's pipeline `stages` (in order): adds rows for new stages to every item, drops
   * rows of removed stages and re-derives which rows are ready to claim.
   */
  syncStages(
    options: { jobId: string; stages: readonly string[] },
  ): Promise<{ added: string[]; removed: string[] }>;
  /**
   * Inserts new items with a pending row for every stage, and updates the data of known items
   * without touching their stages. Idempotent: the same items again change nothing.
   */
  upsertItems(options: UpsertItemsOptions): Promise<UpsertCounts>;
  /** Items of a job with their derived status and stages, filtered by status, stage and error. */
  listItems(options: ListItemsOptions): Promise<ItemListing[]>;
  /** Which of `keys` the job already has (for dry runs: what discovery would add). */
  findKnownKeys(options: { jobId: string; keys: readonly string[] }): Promise<Set<string>>;
  /**
   * Puts failed stages back to pending with attempts reset, ready to claim again once their
   * previous stage is done or skipped. Logs one event for the whole batch; returns how many.
   */
  retryFailed(options: RetryFailedOptions): Promise<number>;
}

/** Claims and their outcomes. */
export interface ClaimStore {
  /**
   * Claims up to `limit` claimable rows of one stage in one atomic statement: pending, due,
   * previous stage done or skipped, job not paused. Sets in_progress, run id, lease, attempts + 1.
   */
  claimBatch(options: ClaimOptions): Promise<Claim[]>;
  /**
   * Records done stages of one job in one transaction: stores each result, marks the stage done
   * and makes the item's next stage claimable. A row no longer claimed by `runId` (its lease
   * expired and another run took it) is left alone. What a recorded stage emitted is upserted in
   * the same transaction, each new item with the emitting item as its parent. Returns how many
   * were recorded.
   */
  markDone(
    options: { jobId: string; runId: string; items: readonly DoneMark[]; now?: () => number },
  ): Promise<number>;
  /** Records skipped stages (the next stage becomes claimable) with a "skipped" event each. */
  markSkipped(
    options: { jobId: string; runId: string; items: readonly SkipMark[]; now?: () => number },
  ): Promise<number>;
  /**
   * Records failed attempts: back to pending with run_after = now + backoff × 2^(attempts-1)
   * (±20% jitter) while retries remain, else failed. Each gets an event; the job's count of
   * consecutive failures grows. Returns the outcomes and that count.
   */
  markFailed(
    options: MarkFailedOptions,
  ): Promise<{ outcomes: FailOutcome[]; consecutiveFailures: number }>;
}

/** Runs and their leases. */
export interface LeaseStore {
  /** Records the process behind `runId` so its claims can be traced to a host and pid. */
  registerRun(options: RegisterRunOptions): Promise<void>;
  /** Extends every stage and discovery lease `runId` holds, notes it alive; counts the stages. */
  renewLeases(options: { runId: string; leaseMs: number; now?: () => number }): Promise<number>;
  /**
   * Returns claims of `runId` to pending without counting the attempt (a clean shutdown, not a
   * failure): all of them, or only `items`. Returns how many.
   */
  releaseClaims(
    options: { runId: string; items?: readonly { itemId: number; stage: string }[] },
  ): Promise<number>;
  /**
   * Notes that the handlers of these claims of `runId` start, before they run; called only for
   * claims that crashed before. When their run dies, a claim counts a crash only if it never
   * crashed before or was noted so: one that waited in the run's queue did not run.
   */
  markStarted(
    options: { runId: string; items: readonly { itemId: number; stage: string }[] },
  ): Promise<void>;
  /**
   * Returns to pending every claim whose lease has expired, and at once every claim of a dead
   * process on this host. It counts as a crash (after a claim's first, only when markStarted()
   * noted it), not an attempt; each release is an event.
   */
  reconcileExpiredLeases(options?: ReconcileOptions): Promise<ReconcileCounts>;
  /**
   * Who holds the job's claims whose lease has not expired at `now` (expired ones are for
   * reconcileExpiredLeases()): per stage and run, longest-held first.
   */
  heldClaims(options: { jobId: string; now?: () => number }): Promise<HeldClaims[]>;
}

/** How runs end, and finding those that crashed. */
export interface RunStore {
  /** Records how a run ended, so that a later run does not take it for crashed. */
  finishRun(options: { runId: string; outcome: RunOutcome; now?: () => number }): Promise<void>;
  /**
   * Finds runs that ended without finishing (their process on this host is gone, or a run of
   * another host showed no sign of life for `staleMs`), marks them crashed and queues a
   * "crashed" alert per job they ran, in one transaction. Each is reported once.
   */
  detectCrashedRuns(options: DetectCrashedRunsOptions): Promise<CrashedRun[]>;
}

/** Job-level state: pause, wake, discovery lease, last run. */
export interface JobStore {
  /** The state of `jobId` (defaults when the job has none yet). */
  getJobState(jobId: string): Promise<JobState>;
  /**
   * Sets or clears a job's pause with a reason, and logs a pause/unpause event; with `alert`,
   * queues a "paused" alert in the same transaction.
   */
  setJobPaused(options: SetJobPausedOptions): Promise<void>;
  /**
   * Asks the next run (or a running --watch) to discover now, whatever `every` says, and clears
   * the holds of the sources the job read (and of their hosts).
   */
  wakeJob(jobId: string, now?: number): Promise<void>;
  /**
   * Takes the job's discovery lease for `owner` unless another owner holds an unexpired one (a
   * dead process's on this host is released first). Whether it was taken: the holder discovers.
   */
  acquireDiscoveryLease(options: DiscoveryLeaseOptions): Promise<boolean>;
  /** Unexpired discovery leases held by processes on this host that no longer run. */
  deadDiscoveryLeases(options?: DeadDiscoveryLeaseOptions): Promise<DeadDiscoveryLease[]>;
  /** Releases (with a "released" event each) and returns what deadDiscoveryLeases() finds. */
  releaseDeadDiscoveryLeases(options?: DeadDiscoveryLeaseOptions): Promise<DeadDiscoveryLease[]>;
  /**
   * Ends a discovery: releases the lease; on success records when and clears a wake. Counts
   * failures in a row, and queues "discovery_failing" and "silent" alerts in the same transaction.
   */
  finishDiscovery(options: FinishDiscoveryOptions): Promise<void>;
  /** Records that a run of the job started now (for `run --due` and `status`). */
  markJobRun(options: { jobId: string; now: number }): Promise<void>;
}

/** The audit log; costs are events with cost_usd. */
export interface EventStore {
  /** Records an event (and, with `alert`, queues that alert in the same transaction); its id. */
  logEvent(event: NewEvent): Promise<number>;
  /** Events matching `filter`, newest first. */
  getEvents(filter?: EventFilter): Promise<EventRow[]>;
  /** Events with an id above `afterId`, oldest first: the next page when following the log. */
  getEventsAfter(filter: Omit<EventFilter, "sinceTs"> & { afterId: number }): Promise<EventRow[]>;
  /**
   * Total cost in USD of `jobId` (or all jobs) on the UTC day containing `day` (default now).
   * Every cost reader adds the daily totals that pruned cost events left behind.
   */
  getDailyCost(options?: { jobId?: string; day?: number }): Promise<number>;
  /** Costs per UTC day, job and stage over the last `days` days, newest day first. */
  getCostsByDay(options: { jobId?: string; days: number; now?: number }): Promise<CostRow[]>;
  /** Cost per item of each stage asked for, in its latest pass (see CostPerItemOptions). */
  getCostPerItem(options: CostPerItemOptions): Promise<StageCostPerItem[]>;
}

/** Stage results, handler versions, staleness and reprocessing. */
export interface ResultStore {
  /** Records the current handler version of a stage; results of other versions become stale. */
  setHandlerVersion(
    options: { jobId: string; stage: string; version: string | null },
  ): Promise<void>;
  /** Stale results of done stages, by stage: of another version than the current one. */
  getStaleCount(options: StaleOptions): Promise<Record<string, number>>;
  /**
   * Resets every stage whose result is stale, and every later stage of the same item, to a fresh
   * pending state. Returns how many items were (or, with dryRun, would be) reset.
   */
  reprocessStale(options: ReprocessOptions): Promise<number>;
  /** Resets one stage and every later stage of every item of the job. */
  reprocessStage(options: ReprocessOptions & { stage: string }): Promise<number>;
  /**
   * Items of `jobId` done at `stage`, oldest first, with that stage's result (job chaining); with
   * `finishedSince` (ms), only those that finished then or later.
   */
  getDoneResults(options: DoneResultsOptions): Promise<DoneResult[]>;
}

/** What `doctor` and the dashboard ask: integrity, WAL, leases, failures, stage rows. */
export interface HealthStore {
  /** Failed stage rows of a job in stage and item order, for failure clusters. */
  failedRows(options: FailureClusterOptions): Promise<FailedRow[]>;
  /** Problems an integrity check reports; empty when the database is sound. */
  integrityProblems(options?: { max?: number }): Promise<string[]>;
  /** Size in bytes of the database's write-ahead log on this machine; 0 when there is none. */
  walSize(): Promise<number>;
  /** Copies the write-ahead log into the database and truncates it; `busy` when a reader held it. */
  checkpointWal(): Promise<{ busy: boolean; walBytes: number }>;
  /**
   * Per job, the claims that reconcileExpiredLeases() would release now, by the same rules (a
   * dead process is recognised on this host only); changes nothing.
   */
  leaseProblems(options?: LeaseProblemOptions): Promise<LeaseProblem[]>;
  /** Items of a job waiting at later stages behind a failed stage, counted per failed stage. */
  stuckBehindFailures(options: { jobId: string }): Promise<{ stage: string; items: number }[]>;
  /** Compares a job's stages in the store with `stages` (the configured pipeline, in order). */
  stageRowGaps(options: { jobId: string; stages: readonly string[] }): Promise<StageRowGaps>;
  /**
   * Adds the stages and rows a job's items lack for its configured `stages`. Refuses, returning
   * null, when the store has a stage `stages` lacks: dropping its rows is for `run`. Returns how
   * many rows were added.
   */
  addMissingStageRows(
    options: { jobId: string; stages: readonly string[] },
  ): Promise<number | null>;
}

/** Per discovery URL: validators of conditional requests, and when it may be read again. */
export interface HttpCacheStore {
  /** The stored validators of `url`, if any. */
  getHttpCache(options: { jobId: string; url: string }): Promise<HttpCacheEntry | undefined>;
  /** Stores (replaces) the validators of a job's URL. */
  putHttpCache(entry: HttpCacheEntry): Promise<void>;
  /** Every source hold (of one job when given), soonest end first. */
  sourceHolds(options?: { jobId?: string }): Promise<SourceHold[]>;
  /** Writes and removes source holds in one transaction. */
  saveSourceHolds(options: SaveSourceHoldsOptions): Promise<void>;
}

/** One item in full, and finding items. */
export interface ItemDetailStore {
  /** The item of `jobId` with this key, if any. */
  findItem(options: { jobId: string; key: string }): Promise<ItemRef | undefined>;
  /** The first item of `jobId` whose data.url is `url`, if any (reads every item of the job). */
  findItemByUrl(options: { jobId: string; url: string }): Promise<ItemRef | undefined>;
  /** Keys of the items with these ids (ids that do not exist are left out). */
  getItemKeys(options: { itemIds: readonly number[] }): Promise<Map<number, string>>;
  /** The item of `jobId` with this key in full, or undefined when the job has no such item. */
  getItemDetail(options: { jobId: string; key: string }): Promise<ItemDetail | undefined>;
}

/** Counts, rates, timings and costs for `status` and the dashboard. */
export interface ReadModelStore {
  /** Per-stage counts by status, in pipeline order. */
  stageStats(jobId: string): Promise<StageCounts[]>;
  /** Items by derived status and per-stage counts; the cost does not grow with the items. */
  getJobStats(jobId: string): Promise<JobStats>;
  /**
   * Stage rows of a job that finished (done, skipped or failed) since `sinceTs`, by stage name;
   * stages without any are left out.
   */
  throughput(options: { jobId: string; sinceTs: number }): Promise<Record<string, number>>;
  /** Finished attempts of each stage of `jobId` per hour since `sinceTs`; empty hours left out. */
  hourlyRuns(options: { jobId: string; sinceTs: number }): Promise<StageHourRuns[]>;
  /** p50/p95 of each stage's durations over its latest `runs` finished runs. */
  recentStageTimings(options: { jobId: string; runs: number }): Promise<StageTiming[]>;
  /** Cost of `jobId` per UTC day for events in [sinceTs, untilTs); days without cost left out. */
  costPerDay(options: { jobId: string; sinceTs: number; untilTs: number }): Promise<DayCost[]>;
}

/** A whole store's rows out and in, for `migrate`. */
export interface TransferStore {
  /** Whether the store holds nothing at all: no stage, item, event, job state, run or cache. */
  isStoreEmpty(): Promise<boolean>;
  /** Every row of the store, table by table (parents first), in batches of `batchSize`. */
  exportRows(batchSize?: number): AsyncGenerator<RowBatch>;
  /**
   * Replaces everything the store holds with `batches` (on PostgreSQL in one transaction, on
   * SQLite a transaction per batch). Returns the rows written per table.
   */
  importRows(batches: AsyncIterable<RowBatch>): Promise<Record<string, number>>;
}

/** What every engine implements; a missing method is a compile error in the engine. */
export interface EngineStore
  extends
    ItemStore,
    ClaimStore,
    LeaseStore,
    JobStore,
    EventStore,
    ResultStore,
    HealthStore,
    HttpCacheStore,
    ItemDetailStore,
    ReadModelStore,
    RunStore,
    RetentionStore,
    AlertStore,
    MetricsStore,
    TransferStore {
  /** Where the database lives, for messages (a file path, or a URL without its password). */
  readonly location: string;
  /** Closes the connection; the store is unusable afterwards. */
  close(): Promise<void>;
}

/** What `openDb()` adds to an engine, written once for both. */
export interface DerivedStore {
  /** Pauses a job: its stages are no longer claimed. */
  pauseJob(jobId: string, reason?: string): Promise<void>;
  /** Unpauses a job and clears its failure streak. */
  unpauseJob(jobId: string, reason?: string): Promise<void>;
  /** Records a cost in USD as a "cost" event. */
  logCost(cost: {
    jobId: string;
    itemId?: number;
    stage?: string;
    usd: number;
    meta?: Record<string, unknown>;
    ts?: number;
  }): Promise<number>;
  /**
   * Failed stages of a job grouped by normalised error, largest clusters first (ties by stage
   * position, then pattern), each with a few example item keys.
   */
  failureClusters(options: FailureClusterOptions): Promise<FailureCluster[]>;
  /** Copies every row of this store into `target`; returns rows per table. */
  copyTo(target: Store, options?: CopyStoreOptions): Promise<Record<string, number>>;
}

/** An open store: a SQLite file or a PostgreSQL database. */
export interface Store extends EngineStore, DerivedStore {}
