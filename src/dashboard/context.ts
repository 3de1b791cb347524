/** What every page and action of the dashboard works with. */
import type { DerivedStatus, Store } from "../db/store.ts";
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

/** Which items of a job a listing shows: the filters of listItems() and a page number. */
export interface ItemsQuery {
  /** The items' derived status. Default: any. */
  status?: DerivedStatus;
  /** The stage the items wait at (their first stage neither done nor skipped). Default: any. */
  stage?: string;
  /** Text a stage error of the items contains. Default: any. */
  error?: string;
  /** The page after this item id (the next page). Default: the first page. */
  after?: number;
  /** The page before this item id (the previous page). Default: none. */
  before?: number;
}

/** The path of a listing of a job's items. */
export function itemsPath(jobId: string, query: ItemsQuery = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.set(name, String(value));
  }
  const search = params.size ? `?${params}` : "";
  return `${jobPath(jobId)}/items${search}`;
}

/** The path of an item's page. */
export function itemPath(jobId: string, key: string): string {
  return `${jobPath(jobId)}/items/${encodeURIComponent(key)}`;
}
