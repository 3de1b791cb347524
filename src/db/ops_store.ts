/** The store contract's operations areas: retention, the alert outbox, metrics. */
import type {
  AlertCooldown,
  JobMetrics,
  PendingAlert,
  PruneBatch,
  PruneOptions,
  SettleAlertsOptions,
  SpaceReport,
} from "./ops_types.ts";

/** Retention: removing what is no longer needed, and giving the space back. */
export interface RetentionStore {
  /**
   * Removes one batch (≤ `limit` rows, one short transaction) of what `options` covers; cost
   * events leave daily totals. With dryRun counts everything at once and removes nothing.
   */
  prune(options: PruneOptions): Promise<PruneBatch>;
  /**
   * Gives free pages back (up to `maxPages`; all with `full`, which on SQLite also rewrites a
   * file made without incremental freeing, refused while a run uses it; PostgreSQL: VACUUM).
   */
  reclaimSpace(options: { full: boolean; maxPages?: number }): Promise<SpaceReport>;
}

/** The alert outbox and its cooldowns. */
export interface AlertStore {
  /** Alerts in the outbox, oldest first, at most `limit` (default 500). */
  pendingAlerts(options?: { limit?: number }): Promise<PendingAlert[]>;
  /** When each (job, kind) last had alerts released. */
  alertCooldowns(): Promise<AlertCooldown[]>;
  /** Records a sending round in one transaction: deliveries, errors, removals, cooldowns. */
  settleAlerts(options: SettleAlertsOptions): Promise<void>;
}

/** What Prometheus metrics read beyond the status report. */
export interface MetricsStore {
  /** Counters since the store was made and the age of the oldest waiting item, per stage. */
  jobMetrics(options: { jobId: string }): Promise<JobMetrics>;
}
