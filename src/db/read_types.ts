/** Types of what the store contract reads back: listings, details, counts, health, transfer. */
import type { DerivedStatus, EventRow, StageStatus } from "./types.ts";

/** Options of listItems(). */
export interface ListItemsOptions {
  jobId: string;
  /** Only items with this derived status (item_derived_status). Default: any. */
  status?: DerivedStatus;
  /** Only items at this stage: their first stage that is neither done nor skipped. Default: any. */
  stage?: string;
  /** Only items with a stage whose error contains this text. Default: any. */
  error?: string;
  /** Only items with an id above this: the page after an item. Default: from the first. */
  afterId?: number;
  /**
   * Only items with an id below this, and of those the last `limit` (still in discovery
   * order): the page before an item. Default: none.
   */
  beforeId?: number;
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

/** The claims of one run at one stage of a job. */
export interface HeldClaims {
  stage: string;
  runId: string;
  /** Where the run was registered; null for a run that never registered. */
  host: string | null;
  pid: number | null;
  claims: number;
  /** When the longest-held of them was claimed. */
  oldestStartedAt: number | null;
}

/** Counts of one stage by status. */
export interface StageCounts {
  stage: string;
  position: number;
  pending: number;
  inProgress: number;
  done: number;
  failed: number;
  skipped: number;
}

/** Items of a job by derived status, and per-stage counts. */
export interface JobStats {
  items: Record<DerivedStatus, number> & { total: number };
  stages: StageCounts[];
}

/** Duration percentiles of one stage's finished attempts. */
export interface StageTiming {
  stage: string;
  count: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** One row of getCostsByDay(). */
export interface CostRow {
  /** UTC day as YYYY-MM-DD. */
  day: string;
  jobId: string;
  stage: string | null;
  usd: number;
  events: number;
}

/**
 * Options of getCostPerItem(). A stage's latest pass is its cost events tied to an item since
 * the job's last reprocess before the newest of them (the newest LATEST_COSTS at most), over
 * the distinct items they were spent on. A stage whose cost events are all pruned reads the
 * daily totals they left; a stage without costs is left out.
 */
export interface CostPerItemOptions {
  jobId: string;
  /** The stages, in the order of the answer. */
  stages: readonly string[];
}

/** What one stage of a job has cost per item in its latest pass. */
export interface StageCostPerItem {
  stage: string;
  /** Distinct items with a cost event at this stage in its latest pass. */
  items: number;
  usd: number;
  /** usd / items. */
  usdPerItem: number;
}

/** A stored result. */
export interface ResultRow {
  itemId: number;
  stage: string;
  handlerVersion: string | null;
  result: unknown;
  createdAt: number;
}

/** Which done items of a job's stage getDoneResults() lists. */
export interface DoneResultsOptions {
  jobId: string;
  stage: string;
  /** Only those that finished at this time (ms) or later. */
  finishedSince?: number;
  limit?: number;
}

/** An item of a job that reached done at a stage, with that stage's result. */
export interface DoneResult {
  key: string;
  data: Record<string, unknown>;
  result: unknown;
  finishedAt: number;
}

/** Failed stages of a job that share one error once its variable parts are normalised. */
export interface FailureCluster {
  stage: string;
  /** The error with numbers, hex ids, URLs and quoted values replaced by placeholders. */
  pattern: string;
  /**
   * Text, as written, that every error of the cluster contains and no other failure of its
   * stage does (so `retry --error` with it retries exactly this cluster); "" when none does.
   */
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

/** A failed stage row, as failure clusters read it. */
export interface FailedRow {
  stage: string;
  position: number;
  itemId: number;
  error: string;
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

/** How a job's stage rows in the store differ from its configured pipeline. */
export interface StageRowGaps {
  /** Configured stages the store does not know yet (a job with no items has none). */
  unknownStages: string[];
  /** Stages the store knows that the config no longer has. */
  removedStages: string[];
  /** Stage rows its items lack, for known and unknown stages. */
  missingRows: number;
}

/** A found item: its id and key. */
export interface ItemRef {
  id: number;
  key: string;
}

/** One stage row of an item, every field. */
export interface ItemStageDetail {
  stage: string;
  position: number;
  status: StageStatus;
  attempts: number;
  /** Attempts that never finished: their process died or their lease was lost. */
  crashes: number;
  runAfter: number;
  claimedBy: string | null;
  leaseUntil: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
}

/** An item with its stages, stored results and latest events. */
export interface ItemDetail {
  id: number;
  jobId: string;
  key: string;
  data: Record<string, unknown>;
  discoveredAt: number;
  updatedAt: number;
  status: DerivedStatus;
  /** The item whose stage emitted this one (null for discovered items, or once it is pruned). */
  parent: { jobId: string; key: string } | null;
  /** In pipeline order. */
  stages: ItemStageDetail[];
  /** In pipeline order. */
  results: ResultRow[];
  /** The latest 100, newest first. */
  events: EventRow[];
}

/** Attempts of one stage that finished in one hour. */
export interface StageHourRuns {
  stage: string;
  /** Start of the hour, ms since epoch (UTC). */
  hourStart: number;
  /** Attempts that finished in that hour, whatever their outcome (done, skipped, failed, retry). */
  runs: number;
}

/** Cost of one UTC day. */
export interface DayCost {
  /** Start of the day, ms since epoch (UTC). */
  dayStart: number;
  usd: number;
}

/** The columns of every copied table, parents before children. */
export const TRANSFER_COLUMNS = {
  job_stages: ["job_id", "stage", "position", "handler_version"],
  work_items: ["id", "job_id", "key", "data", "discovered_at", "updated_at", "parent_id"],
  item_stages: [
    "item_id",
    "job_id",
    "stage",
    "position",
    "status",
    "ready",
    "attempts",
    "crashes",
    "run_after",
    "claimed_by",
    "lease_until",
    "started_at",
    "finished_at",
    "error",
  ],
  results: ["item_id", "stage", "handler_version", "result", "created_at"],
  events: ["id", "ts", "job_id", "item_id", "stage", "kind", "message", "data", "cost_usd"],
  job_state: [
    "job_id",
    "paused",
    "pause_reason",
    "paused_at",
    "wake_requested_at",
    "last_discovery_at",
    "last_run_at",
    "consecutive_failures",
    "discovery_owner",
    "discovery_lease_until",
    "discovery_failures",
    "discovery_failures_total",
    "last_new_item_at",
  ],
  runs: [
    "run_id",
    "host",
    "pid",
    "pid_start",
    "started_at",
    "jobs",
    "heartbeat_at",
    "ended_at",
    "outcome",
  ],
  http_cache: ["job_id", "url", "options_hash", "etag", "last_modified", "checked_at"],
  cost_totals: ["day_start", "job_id", "stage", "usd", "events", "items"],
  stage_run_totals: ["job_id", "stage", "outcome", "runs", "duration_ms"],
  alert_outbox: [
    "id",
    "created_at",
    "job_id",
    "kind",
    "group_key",
    "message",
    "data",
    "count",
    "delivered",
    "attempts",
    "last_error",
  ],
  alert_cooldowns: ["job_id", "kind", "released_at"],
  source_holds: [
    "scope",
    "target",
    "host",
    "job_id",
    "failures",
    "until_at",
    "reason",
    "error",
    "skip_hours",
    "skip_days",
    "updated_at",
  ],
} as const;

/** A table the copy carries. */
export type TransferTable = keyof typeof TRANSFER_COLUMNS;

/** Columns stored as 0/1 on SQLite and as booleans on PostgreSQL; booleans in a RowBatch. */
export const BOOLEAN_COLUMNS: ReadonlySet<string> = new Set(["ready", "paused"]);

/** Rows of one table, column values by name (times in ms, JSON as its text, booleans). */
export interface RowBatch {
  table: TransferTable;
  rows: Record<string, unknown>[];
}
