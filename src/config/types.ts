/** The validated, normalised form of jobs.yaml that the rest of the program reads. */
import type { Rate } from "../util/units.ts";
import type { AlertKind } from "../db/ops_types.ts";

/** How a stage's work is done. */
export type HandlerSpec =
  | { kind: "module"; path: string } // absolute path, resolved against the jobs.yaml folder
  // argv[0] resolved against the jobs.yaml folder when it contains a "/"
  | { kind: "command"; argv: string[]; worker?: WorkerConfig }
  | { kind: "builtin"; name: string; options: Record<string, unknown> };

/** `worker:` of a command stage: long-lived processes spoken to over the worker protocol. */
export interface WorkerConfig {
  /** A process is replaced by a new one after this many items. Default: never. */
  maxItems?: number;
}

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
  /** `batch:`: the handler gets up to `size` items at once. Default: one item per call. */
  batch?: BatchConfig;
}

/** `batch:` of a stage: items handed to one handler call. */
export interface BatchConfig {
  /** Most items in one call. */
  size: number;
  /** Longest a batch waits to fill while more work may still become claimable. */
  waitMs: number;
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
  /** What retention keeps of this job (the top-level `retention:` with the job's own over it). */
  retention: RetentionConfig;
  /** Where this job's alerts go (its own targets replace the top-level list). */
  notify: NotifyConfig;
  /** Requested at the end of each run of this job. */
  ping?: PingConfig;
  /** A "silent" alert when discovery adds no item for this long. */
  expectNewWithinMs?: number;
}

/** How long rows are kept. */
export interface RetentionConfig {
  /** Events older than this are removed (cost events leave daily totals). Default 90 days. */
  eventsMs: number;
  /** Results superseded by a reprocess, older than this, are removed. Default 30 days. */
  resultsMs: number;
  /** HTTP validators not used for this long are removed. Default 90 days. */
  httpCacheMs: number;
}

/** Where alerts go and how often. */
export interface NotifyConfig {
  targets: NotifyTarget[];
  /** Least time between two releases of alerts of one job and kind. Default 1 hour. */
  cooldownMs: number;
  /** Discoveries failing this many times in a row make an alert. Default 3. */
  discoveryFailures: number;
}

/** One place alerts are sent to. */
export type NotifyTarget =
  & {
    /** Stable and free of secrets: recorded with the alerts it has. */
    id: string;
    /** For messages: the webhook's origin or the program's name. */
    label: string;
    /** The alert kinds it receives. Default all. */
    events: AlertKind[];
    /** Longest a delivery may take. Default 5 seconds. */
    timeoutMs: number;
  }
  & (
    | { kind: "webhook"; url: string; headers: Record<string, string> }
    | { kind: "command"; argv: string[]; cwd: string }
  );

/** A dead man's switch: requested after each run. */
export interface PingConfig {
  /** Requested when the run completed without failure. */
  url: string;
  /** Requested when it failed. Default `url` + "/fail". */
  failUrl: string;
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
  /** Requested at the end of every run. */
  ping?: PingConfig;
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
  /** The top-level `retention:`, which also covers events of no job and the HTTP cache. */
  retention: RetentionConfig;
  /** The top-level `notify:`, for alerts of no single job. */
  notify: NotifyConfig;
  jobs: JobConfig[];
}
