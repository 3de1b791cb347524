/** runJob: one job's run — discovery, then every stage's worker until done or stopped. */
import type { Config, JobConfig, RunnerConfig } from "../config/types.ts";

import type { RunContext } from "./context.ts";
import { formatDuration } from "../util/units.ts";
import { ConfigError, describeThrown, UsageError } from "../util/errors.ts";
import { plural } from "../util/format.ts";
import { discoverStep, discoveryEveryMs, type DiscoveryReport } from "./discover.ts";
import { type Handler, loadHandler } from "./handlers.ts";
import { OutcomeWriter, type StageTally } from "./outcome_writer.ts";
import type { Pacer } from "./pacer.ts";
import { sleep } from "../util/time.ts";
import type { Resources } from "./resources.ts";
import { Budget } from "./budget.ts";
import { stageWorker, type StageWorkerDeps } from "./stage_worker.ts";
import type { StrayClaim } from "./_claim_outcome.ts";
import { startHeartbeat } from "./heartbeat.ts";

/** What a job's run did. */
export interface JobRunSummary {
  jobId: string;
  /** Why the job could not run at all: one of its handlers cannot be loaded. */
  error?: string;
  discovery: DiscoveryReport;
  /** Outcomes recorded by this run, per stage. */
  stages: Record<string, StageTally>;
  /** Errors its handlers let escape after their claims' outcomes were decided. */
  handlerErrors: number;
  /** Dry run: items waiting at each stage (pending), which a real run would work on. */
  wouldRun?: Record<string, number>;
}

/** Settings of the process that runs jobs: from jobs.yaml's `runner:`, its folder and its jobs. */
export interface RunnerSettings extends RunnerConfig {
  /** Folder of jobs.yaml: handler commands run there and relative discovery paths resolve there. */
  configDir: string;
  /** Stage names of every job of jobs.yaml, in order: the jobs handlers may emit items into. */
  jobStages: ReadonlyMap<string, readonly string[]>;
}

/** The RunnerSettings of a jobs.yaml. */
export function runnerSettings(config: Config): RunnerSettings {
  return {
    ...config.runner,
    configDir: config.dir,
    jobStages: new Map(config.jobs.map((j) => [j.id, j.stages.map((s) => s.name)])),
  };
}

/** How often --watch checks whether discovery is due or was requested. */
const WATCH_DISCOVERY_POLL_MS = 5000;

/** Runs one job as `ctx` says; resolves when it is finished or stopped. */
export async function runJob(
  job: JobConfig,
  runnerCfg: RunnerSettings,
  pacer: Pacer,
  resources: Resources,
  ctx: RunContext,
): Promise<JobRunSummary> {
  const summary: JobRunSummary = {
    jobId: job.id,
    discovery: { ran: false, found: 0 },
    stages: {},
    handlerErrors: 0,
  };
  if (ctx.mode === "production") await ctx.db.reconcileExpiredLeases({ now: ctx.now });
  let handlers: Handler[];
  try {
    handlers = ctx.mode === "dry_run" ? [] : await Promise.all(
      job.stages.map((stage) =>
        loadHandler(stage, runnerCfg.configDir, {
          log: ctx.log,
          closeGraceMs: runnerCfg.shutdownGraceMs,
        })
      ),
    );
  } catch (err) {
    // A broken handler is its job's failure: the other jobs of the run go on.
    if (ctx.mode !== "production" || !(err instanceof ConfigError)) throw err;
    return await cannotRun(summary, ctx, err.message);
  }
  try {
    return await runLoaded(job, handlers, { runnerCfg, pacer, resources, ctx }, summary);
  } finally {
    await Promise.all(handlers.map((h) => h.close?.()));
  }
}

/** Discovers, then runs the stages' workers with `handlers` loaded, under the heartbeat. */
async function runLoaded(
  job: JobConfig,
  handlers: Handler[],
  { runnerCfg, pacer, resources, ctx }: Omit<WorkerSetting, "onStray">,
  summary: JobRunSummary,
): Promise<JobRunSummary> {
  if (ctx.mode === "dry_run") {
    summary.discovery = await discoverStep(job, runnerCfg, ctx);
    const counts = await ctx.db.stageStats(job.id);
    summary.wouldRun = Object.fromEntries(counts.map((c) => [c.stage, c.pending]));
    return summary;
  }
  const heartbeat = startHeartbeat(ctx, runnerCfg.leaseMs);
  try {
    await discoverAndWork(job, handlers, summary, { runnerCfg, pacer, resources, ctx });
  } finally {
    heartbeat.stop();
  }
  return summary;
}

/** The heartbeat's part of runJob(): discovery, then the stages' workers. */
async function discoverAndWork(
  job: JobConfig,
  handlers: Handler[],
  summary: JobRunSummary,
  { runnerCfg, pacer, resources, ctx }: Omit<WorkerSetting, "onStray">,
): Promise<void> {
  summary.discovery = await discoverStep(job, runnerCfg, ctx);
  if (ctx.discoverOnly || ctx.signal.aborted) return;
  await ctx.db.syncStages({ jobId: job.id, stages: job.stages.map((s) => s.name) });
  for (const [i, stage] of job.stages.entries()) {
    await ctx.db.setHandlerVersion({
      jobId: job.id,
      stage: stage.name,
      version: handlers[i].version,
    });
  }
  const last = lastStageToRun(job, ctx);
  if (ctx.testStage) {
    await ctx.db.reprocessStage({ jobId: job.id, stage: ctx.testStage, now: ctx.now });
  }
  summary.stages = await runWorkers(job, handlers.slice(0, last + 1), {
    runnerCfg,
    pacer,
    resources,
    ctx,
    onStray: (claim, error) => strayError(summary, ctx, claim, error),
  });
}

/** Records that the job cannot run, and why. */
async function cannotRun(
  summary: JobRunSummary,
  ctx: RunContext,
  message: string,
): Promise<JobRunSummary> {
  ctx.log.error(`Cannot run the job: ${message}`, { job: summary.jobId });
  await ctx.db.logEvent({ jobId: summary.jobId, kind: "handler_error", message, ts: ctx.now() });
  summary.error = message;
  return summary;
}

/**
 * An error a handler let escape after its claim's outcome was decided: it counts against the
 * job (the run exits 1) and is an event of the item, also when it comes after the job's end.
 */
function strayError(
  summary: JobRunSummary,
  ctx: RunContext,
  claim: StrayClaim,
  error: Error,
): void {
  summary.handlerErrors++;
  const message = `${describeThrown(error)} (after the handler had finished)`;
  const where = { job: summary.jobId, stage: claim.stage, item: claim.key };
  ctx.log.error(message, where);
  ctx.db.logEvent({
    jobId: summary.jobId,
    itemId: claim.itemId,
    stage: claim.stage,
    kind: "handler_error",
    message,
    ts: ctx.now(),
  }).catch((err) => ctx.log.error(`Cannot record a handler error: ${describeThrown(err)}`, where));
}

function lastStageToRun(job: JobConfig, ctx: RunContext): number {
  if (!ctx.testStage) return job.stages.length - 1;
  const index = job.stages.findIndex((s) => s.name === ctx.testStage);
  if (index < 0) {
    const names = job.stages.map((s) => s.name).join(", ");
    throw new UsageError(`Job "${job.id}" has no stage "${ctx.testStage}" (stages: ${names})`);
  }
  return index;
}

/** What runWorkers() needs besides the job and its handlers. */
interface WorkerSetting {
  runnerCfg: RunnerSettings;
  pacer: Pacer;
  resources: Resources;
  ctx: RunContext;
  onStray: StageWorkerDeps["onStray"];
}

async function runWorkers(
  job: JobConfig,
  handlers: Handler[],
  { runnerCfg, pacer, resources, ctx, onStray }: WorkerSetting,
): Promise<Record<string, StageTally>> {
  const hard = hardStop(ctx.signal, runnerCfg.shutdownGraceMs);
  let tripped = false;
  const writer = new OutcomeWriter({
    db: ctx.db,
    jobId: job.id,
    runId: ctx.runId,
    now: ctx.now,
    onFailures: async (count, lastError) => {
      if (await circuitBreaker(job, ctx, count, lastError)) tripped = true;
    },
  });
  const budget = new Budget(job, ctx.db, ctx.log, ctx.now);
  const watcher = ctx.singlePass ? Promise.resolve() : watchDiscovery(job, runnerCfg, ctx);
  let upstream: Promise<void> | null = null;
  const workers = handlers.map((handler, i) => {
    const done: Promise<void> = stageWorker({
      job,
      stage: job.stages[i],
      handler,
      ctx,
      writer,
      pacer,
      resources,
      budget,
      leaseMs: runnerCfg.leaseMs,
      jobStages: runnerCfg.jobStages,
      hardSignal: hard.signal,
      upstream,
      halted: () => tripped,
      onStray,
    });
    upstream = done.catch(() => {});
    return done;
  });
  try {
    await Promise.all(workers);
    await watcher;
  } finally {
    hard.dispose();
  }
  return Object.fromEntries(writer.tally);
}

/** An AbortSignal that fires `graceMs` after `soft` does. */
function hardStop(soft: AbortSignal, graceMs: number): { signal: AbortSignal; dispose(): void } {
  const hard = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onSoft = () =>
    timer = setTimeout(() => hard.abort(new Error("Shutdown grace period over")), graceMs);
  if (soft.aborted) onSoft();
  else soft.addEventListener("abort", onSoft, { once: true });
  return {
    signal: hard.signal,
    dispose() {
      soft.removeEventListener("abort", onSoft);
      clearTimeout(timer);
    },
  };
}

/** --watch: re-discovers whenever `every` has passed or the job was woken. */
async function watchDiscovery(
  job: JobConfig,
  runnerCfg: RunnerSettings,
  ctx: RunContext,
): Promise<void> {
  ctx.log.info(`${job.id}: --watch discovers ${watchSchedule(job, ctx)}`, { job: job.id });
  while (!ctx.signal.aborted) {
    await sleep(WATCH_DISCOVERY_POLL_MS, ctx.signal).catch(() => {});
    if (ctx.signal.aborted) return;
    await discoverStep(job, runnerCfg, ctx);
  }
}

/** How often --watch discovers `job`, and why, for the log. */
function watchSchedule(job: JobConfig, ctx: RunContext): string {
  if (job.discovery.everyMs !== undefined) {
    return `every ${formatDuration(job.discovery.everyMs)} (discovery.every) and when woken`;
  }
  const everyMs = discoveryEveryMs(job, ctx);
  if (everyMs !== undefined) {
    return `every ${formatDuration(everyMs)} and when woken (the default for discovery over ` +
      "HTTP; set discovery.every to change it)";
  }
  return `every ${formatDuration(WATCH_DISCOVERY_POLL_MS)} (${job.discovery.strategy} ` +
    "discovery without discovery.every)";
}

/**
 * pause_after_failures: pauses the job after that many consecutive failed attempts. Returns
 * whether the job is paused now.
 */
async function circuitBreaker(
  job: JobConfig,
  ctx: RunContext,
  count: number,
  lastError: string,
): Promise<boolean> {
  const limit = job.pauseAfterFailures;
  if (limit === undefined || count < limit) return false;
  if ((await ctx.db.getJobState(job.id)).paused) return true;
  const reason = `${plural(count, "consecutive failed attempt")} (last: ${
    lastError.slice(0, 200)
  })`;
  ctx.log.error(`Pausing job: ${reason}`, { job: job.id });
  await ctx.db.setJobPaused({ jobId: job.id, paused: true, reason, alert: true, now: ctx.now });
  return true;
}
