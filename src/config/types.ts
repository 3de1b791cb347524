/** The validated, normalised form of jobs.yaml that the rest of the program reads. */
import type { Rate } from "../util/units.ts";

/** How a stage's work is done. */
export type HandlerSpec =
  | { kind: "module"; path: string } // absolute path, resolved against the jobs.yaml folder
  | { kind: "command"; argv: string[] } // argv[0] resolved against the jobs.yaml folder when it contains a "/"
  | { kind: "builtin"; name: string; options: Record<string, unknown> };

/** One stage of a job's pipeline, with every default applied. */
export interface StageConfig {
  name: string;
  handler: HandlerSpec;
  /** Parallel handlers of this stage in one process. Default 4. */
  concurrency: number;
  /** Time a handler may run before it is aborted and retried. Default 5 minutes. */
  timeoutMs: number;
  /** Attempts after the first before the stage fails. Default 3. */
  retries: number;
  /** Base of the exponential backoff between attempts. Default 30 seconds. */
  backoffMs: number;
  /** Named resources this stage holds while a handler runs. Default none. */
  uses: string[];
  /** Explicit handler version; overrides a module's HANDLER_VERSION. */
  version?: string;
  /** Pace of ctx.fetch per domain. Default from `defaults.domain_rate`. */
  domainRate?: Rate;
}

/** Discovery settings: the strategy name plus its own validated options. */
export interface DiscoveryConfig {
  strategy: string;
  /** How often discovery runs in `jobctl run`; undefined means every run. */
  everyMs?: number;
  /** The strategy's options, validated by its own schema (snake_case keys as written). */
  options: Record<string, unknown>;
}

/** One job: what it discovers and the stages every item goes through. */
export interface JobConfig {
  id: string;
  description?: string;
  discovery: DiscoveryConfig;
  stages: StageConfig[];
  /** Cron expression used by `jobctl run --due`. */
  schedule?: string;
  budget?: { dailyUsd: number };
  pauseAfterFailures?: number;
}

/** A named concurrency and rate limit shared by every job in the process. */
export interface ResourceConfig {
  name: string;
  concurrency?: number;
  rate?: Rate;
}

/** Process-wide runner settings. */
export interface RunnerConfig {
  /** Lease of a claim; renewed by heartbeat at a third of it. Default 5 minutes. */
  leaseMs: number;
  /** Time in-flight handlers get to finish after SIGINT/SIGTERM. Default 30 seconds. */
  shutdownGraceMs: number;
}

/** The whole validated jobs.yaml. */
export interface Config {
  /** Absolute path of the jobs.yaml file. */
  file: string;
  /** Folder of the jobs.yaml file; relative paths resolve against it. */
  dir: string;
  /** SQLite path (absolute) or a postgres:// URL. Default "jobs.sqlite" beside jobs.yaml. */
  db: string;
  runner: RunnerConfig;
  resources: Record<string, ResourceConfig>;
  jobs: JobConfig[];
}
