/** RunContext: everything about one run that is not the job's own config. */

import type { Store } from "../db/store.ts";
import type { Logger } from "../util/log.ts";

/** production: the real database; test: a scratch database; dry_run: report only. */
export type RunMode = "production" | "test" | "dry_run";

/** What a run of `runJob` does; the only carrier of test and dry-run choices. */
export interface RunContext {
  mode: RunMode;
  /** The store this run reads and writes (the scratch database in test mode). */
  db: Store;
  /** Identifies this process's claims. */
  runId: string;
  log: Logger;
  /** Aborts when the run must stop (signal, --max-runtime). */
  signal: AbortSignal;
  /** Production: at most this many claims per stage. Test: items to discover (default 3). */
  limit?: number;
  /** Test mode: run only this stage (earlier stages only where not yet done). */
  testStage?: string;
  /** Test mode: the one item to run, by key or URL. */
  testItem?: string;
  /** Test mode: keep the scratch database from the previous test. */
  noReset: boolean;
  /** Discover, record the items, run no handler. */
  discoverOnly: boolean;
  /** Stop when nothing is left to claim (cron); false keeps going (--watch). */
  singlePass: boolean;
  /** Called with each finished stage in test mode, to show its input and output. */
  onStageResult?: (report: StageReport) => void;
  now: () => number;
}

/** What a stage did with one item; test mode prints these. */
export interface StageReport {
  jobId: string;
  stage: string;
  key: string;
  input: unknown;
  outcome: "done" | "skipped" | "retry" | "failed";
  output: unknown;
  durationMs: number;
}
