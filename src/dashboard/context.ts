/** What every page and action of the dashboard works with. */
import type { Store } from "../db/store.ts";
import type { Config } from "../config/types.ts";

import type { CostHistory } from "./cost_history.ts";

/** The store, the config and the per-process CSRF token, shared by every request. */
export interface PageContext {
  db: Store;
  config: Config;
  /** Every form carries it; every POST must send it back. */
  csrfToken: string;
  /** Clock; a page reads it once. */
  now: () => number;
  /** Cost per day of finished days, read once per process. */
  costHistory: CostHistory;
}

/** The path of a job's page. */
export function jobPath(jobId: string): string {
  return `/jobs/${encodeURIComponent(jobId)}`;
}

/** The path of an item's page. */
export function itemPath(jobId: string, key: string): string {
  return `${jobPath(jobId)}/items/${encodeURIComponent(key)}`;
}
