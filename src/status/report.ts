/** What `jobctl status --json` prints and the dashboard shows: one report, computed in one place. */
import { holdEnd, holds } from "../discovery/_holds.ts";
import type { JobState, Store } from "../db/store.ts";
import { Cron } from "croner";
import type { Config, JobConfig } from "../config/types.ts";

import { selectJobs } from "../config/select.ts";
import { configuredVersions } from "../runner/versions.ts";

/** The window of the throughput figures. */
export const THROUGHPUT_WINDOW_MS = 3_600_000;

/** One stage of a job: rows by status, stale results and recent throughput. */
export interface StageStatus {
  stage: string;
  /** Pending rows that can still run: not blocked. */
  pending: number;
  /** Pending rows of items whose earlier stage failed: they wait until it is retried. */
  blocked: number;
  inProgress: number;
  done: number;
  failed: number;
  skipped: number;
  /** Done rows whose result came from another handler version than the current one. */
  stale: number;
  /** Rows that finished (done, skipped or failed) in the last hour. */
  finishedLastHour: number;
}

/** When the job discovers next. */
export interface DiscoveryStatus {
  strategy: string;
  /** `discovery.every`; null means every run discovers. */
  everyMs: number | null;
  /** The cron `schedule` of `jobctl run --due`, or null. */
  schedule: string | null;
  lastDiscoveryAt: number | null;
  /** Set by `jobctl wake` until the next discovery. */
  wakeRequestedAt: number | null;
  /** Next scheduled run (cron tick after the last run); null without a schedule. */
  nextRunAt: number | null;
  /** Earliest time a run discovers; null when every run does (no `every`, no schedule). */
  nextDueAt: number | null;
  /** Whether a run started now would discover. */
  due: boolean;
  /** Sources of the job discovery leaves alone now, or that failed last time, soonest end first. */
  held: HeldSourceStatus[];
}

/** A source (URL, or a host after a 429) in backoff or waiting as it asked. */
export interface HeldSourceStatus {
  scope: "url" | "host";
  /** The URL, or the host name. */
  target: string;
  /** Failures in a row; 0 when the source only asked for a wait. */
  failures: number;
  /** When discovery reads it again (ms since epoch); at or before now when it may already. */
  nextTryAt: number;
  reason: string;
  error: string | null;
}

/** Today's (UTC) spend against the daily budget. */
export interface CostStatus {
  todayUsd: number;
  /** `budget.daily_usd`, or null without a budget. */
  budgetUsd: number | null;
  /** todayUsd / budgetUsd, or null without a budget. */
  budgetUsed: number | null;
}

/** Everything `jobctl status` says about one job. */
export interface JobStatus {
  jobId: string;
  description: string | null;
  paused: boolean;
  pauseReason: string | null;
  pausedAt: number | null;
  lastRunAt: number | null;
  /** Items by derived status. */
  items: { total: number; pending: number; inProgress: number; done: number; failed: number };
  /** In pipeline order (configured stages, then any the database still has). */
  stages: StageStatus[];
  discovery: DiscoveryStatus;
  cost: CostStatus;
  /** Sum of the stages' stale counts. */
  stale: number;
  /** Sum of the stages' finishedLastHour. */
  finishedLastHour: number;
}

/** The whole report. */
export interface StatusReport {
  /** The time the report describes (ms since epoch). */
  generatedAt: number;
  jobs: JobStatus[];
}

/** Options of collectStatus(). */
export interface CollectStatusOptions {
  /** Only these jobs, in config order; unknown names are a UsageError. Default: every job. */
  jobIds?: string[];
  /** The time to report for. Default Date.now(). */
  now?: number;
}

/** The status of the configured jobs, read from the store with set-based counts only. */
export async function collectStatus(
  db: Store,
  config: Config,
  options: CollectStatusOptions = {},
): Promise<StatusReport> {
  const now = options.now ?? Date.now();
  const jobs: JobStatus[] = [];
  for (const job of selectJobs(config, options.jobIds)) jobs.push(await jobStatus(db, job, now));
  return { generatedAt: now, jobs };
}

async function jobStatus(db: Store, job: JobConfig, now: number): Promise<JobStatus> {
  const state = await db.getJobState(job.id);
  const stats = await db.getJobStats(job.id);
  const versions = await configuredVersions(job);
  const stale = await db.getStaleCount({ jobId: job.id, versions });
  const recent = await db.throughput({ jobId: job.id, sinceTs: now - THROUGHPUT_WINDOW_MS });
  const todayUsd = await db.getDailyCost({ jobId: job.id, day: now });
  const counted = new Map(stats.stages.map((s) => [s.stage, s]));
  const names = [...new Set([...job.stages.map((s) => s.name), ...counted.keys()])];
  // Reading what waits behind failures costs a look at every failed row: only when there are.
  const failed = stats.stages.some((s) => s.failed > 0);
  const stuck = failed ? await db.stuckBehindFailures({ jobId: job.id }) : [];
  const behind = blockedBehind(names, stuck);
  const stages = names.map((name): StageStatus => {
    const c = counted.get(name);
    const blocked = Math.min(behind.get(name) ?? 0, c?.pending ?? 0);
    return {
      stage: name,
      pending: (c?.pending ?? 0) - blocked,
      blocked,
      inProgress: c?.inProgress ?? 0,
      done: c?.done ?? 0,
      failed: c?.failed ?? 0,
      skipped: c?.skipped ?? 0,
      stale: stale[name] ?? 0,
      finishedLastHour: recent[name] ?? 0,
    };
  });
  const budgetUsd = job.budget?.dailyUsd ?? null;
  const { items } = stats;
  return {
    jobId: job.id,
    description: job.description ?? null,
    paused: state.paused,
    pauseReason: state.pauseReason,
    pausedAt: state.pausedAt,
    lastRunAt: state.lastRunAt,
    items: {
      total: items.total,
      pending: items.pending,
      inProgress: items.in_progress,
      done: items.done,
      failed: items.failed,
    },
    stages,
    discovery: { ...discoveryStatus(job, state, now), held: await heldSources(db, job.id, now) },
    cost: { todayUsd, budgetUsd, budgetUsed: budgetUsd ? todayUsd / budgetUsd : null },
    stale: stages.reduce((n, s) => n + s.stale, 0),
    finishedLastHour: stages.reduce((n, s) => n + s.finishedLastHour, 0),
  };
}

/**
 * Blocked rows per stage: an item that failed at a stage waits at every later one, so a stage's
 * blocked rows are the items stuck behind each failed stage before it.
 */
function blockedBehind(
  stages: readonly string[],
  stuck: readonly { stage: string; items: number }[],
): Map<string, number> {
  const failedAt = new Map(stuck.map((s) => [s.stage, s.items]));
  const blocked = new Map<string, number>();
  let behind = 0;
  for (const stage of stages) {
    blocked.set(stage, behind);
    behind += failedAt.get(stage) ?? 0;
  }
  return blocked;
}

/**
 * When the job discovers next. `every` allows a discovery once it has passed since the last one
 * (at once when never discovered or woken); with a schedule, runs happen only at cron ticks
 * after the last run (at once when it never ran, as `jobctl run --due` does).
 */
function discoveryStatus(
  job: JobConfig,
  state: JobState,
  now: number,
): Omit<DiscoveryStatus, "held"> {
  const everyMs = job.discovery.everyMs ?? null;
  const allowedAt = everyMs === null || state.lastDiscoveryAt === null ||
      state.wakeRequestedAt !== null
    ? null
    : state.lastDiscoveryAt + everyMs;
  const base = {
    strategy: job.discovery.strategy,
    everyMs,
    schedule: job.schedule ?? null,
    lastDiscoveryAt: state.lastDiscoveryAt,
    wakeRequestedAt: state.wakeRequestedAt,
  };
  if (!job.schedule) {
    return {
      ...base,
      nextRunAt: null,
      nextDueAt: allowedAt,
      due: allowedAt === null || allowedAt <= now,
    };
  }
  const cron = new Cron(job.schedule, { paused: true });
  const tickFrom = (ts: number) => cron.nextRun(new Date(ts))?.getTime() ?? null;
  const nextRunAt = state.lastRunAt === null ? now : tickFrom(state.lastRunAt);
  // The first tick at or after allowedAt, when that is later than the next run.
  const nextDueAt = nextRunAt === null || allowedAt === null || allowedAt <= nextRunAt
    ? nextRunAt
    : tickFrom(allowedAt - 1);
  return { ...base, nextRunAt, nextDueAt, due: nextDueAt !== null && nextDueAt <= now };
}

/** The job's sources held now, or failing (their next try may be due already). */
export async function heldSources(
  db: Store,
  jobId: string,
  now: number,
): Promise<HeldSourceStatus[]> {
  const held = (await db.sourceHolds({ jobId }))
    .filter((h) => h.failures > 0 || holds(h, now))
    .map((h) => ({
      scope: h.scope,
      target: h.target,
      failures: h.failures,
      nextTryAt: holdEnd(h, now),
      reason: h.reason,
      error: h.error,
    }));
  return held.sort((a, b) => a.nextTryAt - b.nextTryAt);
}
