/** Types of the store's operating areas: retention, alerts and their outbox, runs, metrics. */

/** What an alert is about; a target chooses the kinds it receives. */
export const ALERT_KINDS = [
  "failed",
  "paused",
  "budget",
  "discovery_failing",
  "silent",
  "crashed",
] as const;

/** One of the alert kinds. */
export type AlertKind = typeof ALERT_KINDS[number];

/** An alert waiting in the outbox until every target that wants it has it. */
export interface PendingAlert {
  id: number;
  createdAt: number;
  /** "" for an alert that concerns no single job. */
  jobId: string;
  kind: AlertKind;
  message: string;
  data: Record<string, unknown>;
  /** How many occurrences it stands for (permanent failures of one run and stage). */
  count: number;
  /** Targets that have it already. */
  delivered: string[];
  /** Sending rounds it went through; 0 while a cooldown holds it back. */
  attempts: number;
  lastError: string | null;
}

/** What one sending round did with an alert. */
export interface AlertSettlement {
  id: number;
  /** Every target that has it now. */
  delivered: string[];
  /** Remove it: every target has it, or it is given up. */
  done: boolean;
  /** Why a target did not take it. */
  error?: string;
}

/** Options of settleAlerts(). */
export interface SettleAlertsOptions {
  /** (job, kind) pairs whose held alerts this round released: their cooldown starts now. */
  released: readonly { jobId: string; kind: AlertKind }[];
  alerts: readonly AlertSettlement[];
  now?: () => number;
}

/** When alerts of a job and kind were last released. */
export interface AlertCooldown {
  jobId: string;
  kind: AlertKind;
  releasedAt: number;
}

/** How a run ended. */
export type RunOutcome = "ok" | "failed" | "interrupted" | "crashed";

/** Options of detectCrashedRuns(). */
export interface DetectCrashedRunsOptions {
  /** The run asking; never reported. */
  runId: string;
  /** A run of another host is dead when it showed no sign of life for this long. */
  staleMs: number;
  now?: () => number;
  /** This machine's name; default the host name. */
  host?: string;
  /** Whether a process of this host still runs; default checks /proc. */
  isAlive?: (pid: number, pidStart: string | null) => boolean;
}

/** A run that ended without finishing, found (and marked crashed) by a later run. */
export interface CrashedRun {
  runId: string;
  host: string;
  pid: number;
  startedAt: number;
  /** The jobs it was running; empty when it did not say. */
  jobs: string[];
  /** Why it is taken for dead. */
  reason: string;
}

/** What one prune() call covers. */
export type PruneOptions =
  & { limit: number; dryRun?: boolean }
  & (
    | {
      /** Events older than `before`: of `jobId`, or of every job but `exceptJobs` (and none). */
      target: "events";
      before: number;
      jobId?: string;
      exceptJobs?: readonly string[];
    }
    | {
      /** Results of `jobId`'s items whose stage is no longer done with them, made before `before`. */
      target: "results";
      before: number;
      jobId: string;
      /** Go on after this item id (the `next` of the previous batch). Default 0. */
      afterItemId?: number;
    }
    | { target: "http_cache"; before: number }
    | { target: "runs"; before: number }
  );

/** What one prune() call removed (or, with dryRun, would remove). */
export interface PruneBatch {
  rows: number;
  /** Bytes of the removed rows' values. */
  bytes: number;
  /** Cost events among the events, whose sums went into the daily cost totals. */
  costEvents: number;
  /** Whether nothing is left to do for this target; call again otherwise. */
  done: boolean;
  /** results: the item id to go on after. */
  next?: number;
}

/** Space the store takes, before and after reclaimSpace(). */
export interface SpaceReport {
  bytesBefore: number;
  bytesAfter: number;
  /** SQLite: whether the file frees pages by itself (auto_vacuum incremental). */
  incremental: boolean;
}

/** Counters and ages of one job for Prometheus. */
export interface JobMetrics {
  /** Finished attempts per stage and outcome since the store was made, with their durations. */
  runs: { stage: string; outcome: string; runs: number; durationMs: number }[];
  /** Cost per stage since the store was made (pruned events included). */
  costs: { stage: string | null; usd: number }[];
  /** Per stage, when the oldest item waiting there (pending, ready) was discovered. */
  oldestPending: { stage: string; discoveredAt: number }[];
}
