/** `jobctl run`: discover and process items; single pass by default, --watch keeps going. */
import type { Store } from "../db/store.ts";
import { Cron } from "croner";
import type { Config, JobConfig } from "../config/types.ts";
import { storeExists } from "../db/location.ts";

import { RunActivity } from "../runner/activity.ts";
import type { RunContext } from "../runner/context.ts";
import { Pacer } from "../runner/pacer.ts";
import { Resources } from "../runner/resources.ts";
import { type JobRunSummary, runJob, runnerSettings } from "../runner/run_job.ts";
import { describeThrown, StoreError, UsageError } from "../util/errors.ts";
import { guardHandlers } from "../runner/handler_guard.ts";
import { createLogger, type Logger } from "../util/log.ts";
import { configPath, parseCommandArgs, parsePositiveInt } from "./_args.ts";
import { parseDurationFlag } from "./_ops.ts";
import { loadRuntime, logFormat, openStore, startRun, trapSignals } from "./_runtime.ts";
import { selectJobs } from "../config/select.ts";
import { startProgress } from "./_progress.ts";
import { time } from "./_table.ts";
import { COMMON_HELP, EXIT } from "./mod.ts";
import { endRun, reportCrashedRuns } from "../ops/run_end.ts";
import { watchAlerts } from "../ops/notify.ts";

const OPTIONS = {
  job: { type: "string", short: "j", multiple: true },
  limit: { type: "string" },
  "discover-only": { type: "boolean" },
  "dry-run": { type: "boolean" },
  watch: { type: "boolean" },
  "max-runtime": { type: "string" },
  due: { type: "boolean" },
  "progress-every": { type: "string" },
} as const;

/** How often progress is logged when stderr is not a terminal, unless --progress-every says. */
const DEFAULT_PROGRESS_EVERY_MS = 30_000;

/** What `jobctl run --help` prints. */
export const HELP =
  `Usage: jobctl run [-j JOB]... [--due] [--limit N] [--discover-only] [--dry-run] [--watch]
                  [--max-runtime DURATION] [--progress-every DURATION]

Releases dead claims, discovers new items of each job whose discovery is due, then runs every
claimable stage until none is left, and exits (a single pass, for cron). Exit code: 0 done,
1 a stage or a discovery failed in this run, 2 bad usage or config, 130 stopped by a signal.
  -j, --job JOB            only this job (repeatable; default every job in jobs.yaml)
  --due                    only jobs whose cron "schedule" fired since their last run (jobs
                           without a schedule are always due)
  --limit N                at most N claims per stage in this run (default no limit)
  --discover-only          discover and record items; run no handler
  --dry-run                discover and report what is new and what would run; call no
                           handler, write nothing
  --watch                  keep going: run new work as it appears and discover again every
                           discovery.every (default 15m for discovery over HTTP, else every 5s)
                           and on \`jobctl wake\`
  --max-runtime DURATION   stop claiming after this long (e.g. 10m), let in-flight work
                           finish, exit 0 (default no limit)
  --progress-every DURATION  how often progress is logged when stderr is not a terminal
                           (default 30s)
  --log-format text|json   log lines as text or JSON lines (default text)

${COMMON_HELP}`;

/** Runs `jobctl run`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("run", args, OPTIONS);
  const format = logFormat(values["log-format"]);
  const dryRun = values["dry-run"] ?? false;
  // On a terminal, every log line goes through the live table, which stays below them. Its
  // module (and the text-width tables it needs) is loaded only then.
  const screen = format === "text" && !dryRun && Deno.stderr.isTerminal()
    ? new (await import("./_live_screen.ts")).LiveScreen(Deno.stderr)
    : undefined;
  const log = createLogger(format, { write: screen?.log });
  const limit = parsePositiveInt("--limit", values.limit);
  const maxRuntime = values["max-runtime"];
  const maxRuntimeMs = maxRuntime === undefined
    ? undefined
    : parseDurationFlag("--max-runtime", maxRuntime);
  const progressEveryMs = progressEvery(values["progress-every"]);
  if (values.watch && dryRun) {
    throw new UsageError("--watch and --dry-run cannot be combined");
  }
  const { config, dbPath } = await loadRuntime(values, configPath);
  let jobs = selectJobs(config, values.job);
  const db = dryRun ? await openForDryRun(dbPath) : await openStore(dbPath);
  try {
    if (values.due) jobs = await dueJobs(db, jobs, Date.now());
    if (jobs.length === 0) {
      log.info("No job is due");
      return EXIT.ok;
    }
    const signals = trapSignals(log, config.runner.shutdownGraceMs);
    let unscoped = 0;
    // Kept until the process exits: what handlers left behind may still fire after the run.
    guardHandlers({
      onUnscoped(error, where) {
        unscoped++;
        log.error(`Uncaught error outside any handler's claim: ${describeThrown(error)}`, {
          where,
        });
      },
    });
    let outOfTime = false;
    const stopTimer = maxRuntimeMs === undefined ? undefined : setTimeout(() => {
      log.info(`--max-runtime of ${values["max-runtime"]} reached: stopping`);
      outOfTime = true;
      signals.controller.abort(new Error("max runtime"));
    }, maxRuntimeMs);
    const activity = new RunActivity();
    const ctx: RunContext = {
      mode: dryRun ? "dry_run" : "production",
      db,
      runId: dryRun ? "dry-run" : await startRun(db, jobs.map((j) => j.id)),
      log,
      signal: signals.controller.signal,
      limit,
      discoverOnly: values["discover-only"] ?? false,
      singlePass: !values.watch,
      activity,
      now: Date.now,
    };
    if (!dryRun) await reportCrashedRuns(db, config, ctx);
    const progress = dryRun ? undefined : startProgress(db, jobs, {
      activity,
      now: ctx.now,
      screen,
      log,
      everyMs: progressEveryMs,
    });
    const alerts = values.watch ? watchAlerts(db, config, { log }) : undefined;
    let ended = dryRun;
    try {
      const summaries = await runAll(config, jobs, ctx);
      await progress?.stop();
      report(summaries, ctx, log);
      await reportPaused(db, jobs, log);
      // Reaching --max-runtime is a normal end; a signal (even with --max-runtime) is not.
      const interrupted = signals.controller.signal.aborted && !outOfTime;
      const code = exitCode(summaries, { interrupted, unscoped });
      alerts?.stop();
      if (!dryRun) await endRun(db, config, { runId: ctx.runId, jobs, summaries, code, log });
      ended = true;
      return code;
    } finally {
      alerts?.stop();
      // A run stopped by an error it reports is no crash.
      if (!ended) await db.finishRun({ runId: ctx.runId, outcome: "failed" }).catch(() => {});
      await progress?.stop();
      clearTimeout(stopTimer);
      signals.dispose();
    }
  } finally {
    await db.close();
  }
}

/** A dry run writes nothing: the store read-only, or an empty one in memory when none exists. */
async function openForDryRun(path: string): Promise<Store> {
  if (!await storeExists(path)) return await openStore(":memory:");
  try {
    return await openStore(path, true);
  } catch (err) {
    if (err instanceof StoreError && err.problem === "missing") return await openStore(":memory:");
    throw err;
  }
}

/** --progress-every as ms: a duration above 0, DEFAULT_PROGRESS_EVERY_MS when not given. */
function progressEvery(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PROGRESS_EVERY_MS;
  const ms = parseDurationFlag("--progress-every", value);
  if (ms <= 0) throw new UsageError(`--progress-every expects a duration above 0, got "${value}"`);
  return ms;
}

/** Jobs whose cron `schedule` has fired since their last run; jobs without one are always due. */
async function dueJobs(db: Store, jobs: JobConfig[], now: number): Promise<JobConfig[]> {
  const due: JobConfig[] = [];
  for (const job of jobs) {
    if (!job.schedule) {
      due.push(job);
      continue;
    }
    const lastRun = (await db.getJobState(job.id)).lastRunAt;
    const next = lastRun === null
      ? null
      : new Cron(job.schedule, { paused: true }).nextRun(new Date(lastRun));
    if (lastRun === null || (next !== null && next.getTime() <= now)) due.push(job);
  }
  return due;
}

async function runAll(
  config: Config,
  jobs: JobConfig[],
  ctx: RunContext,
): Promise<JobRunSummary[]> {
  const pacer = new Pacer();
  const resources = new Resources(config.resources, pacer);
  const settings = runnerSettings(config);
  return await Promise.all(jobs.map(async (job) => {
    if (ctx.mode === "production") await ctx.db.markJobRun({ jobId: job.id, now: ctx.now() });
    return await runJob(job, settings, pacer, resources, ctx);
  }));
}

function report(summaries: JobRunSummary[], ctx: RunContext, log: Logger): void {
  for (const s of summaries) {
    if (s.error) {
      log.info(`${s.jobId}: cannot run: ${s.error}`, { job: s.jobId });
      continue;
    }
    const d = s.discovery;
    const found = d.error
      ? `discovery failed: ${d.error}`
      : d.ran && d.note
      ? `discovered ${d.found} (${d.note})`
      : d.ran
      ? `discovered ${d.found}${
        d.counts ? ` (${d.counts.inserted} new, ${d.counts.updated} updated)` : ""
      }`
      : `discovery skipped (${d.note})`;
    const stages = Object.entries(s.stages).map(([stage, t]) =>
      `${stage}: ${t.done} done, ${t.skipped} skipped, ${t.retried} to retry, ${t.failed} failed`
    );
    const waiting = Object.entries(s.wouldRun ?? {}).map(([stage, n]) =>
      `${stage}: ${n} would run`
    );
    stages.push(...waiting);
    if (s.handlerErrors) {
      const n = s.handlerErrors;
      stages.push(`${n} error${n === 1 ? "" : "s"} escaped its handlers`);
    }
    const prefix = ctx.mode === "dry_run" ? "dry run: " : "";
    log.info(`${prefix}${s.jobId}: ${[found, ...stages].join("; ")}`, { job: s.jobId });
  }
}

/**
 * A warning per paused job, so that a run that did nothing for it does not read as healthy:
 * `feed is paused since 2026-11-28 09:19:20Z: disk full; 67 items waiting`.
 */
async function reportPaused(db: Store, jobs: JobConfig[], log: Logger): Promise<void> {
  for (const job of jobs) {
    const state = await db.getJobState(job.id);
    if (!state.paused) continue;
    const waiting = (await db.getJobStats(job.id)).items.pending;
    log.warn(
      `${job.id} is paused since ${time(state.pausedAt)}: ` +
        `${state.pauseReason ?? "no reason given"}; ${waiting} item${
          waiting === 1 ? "" : "s"
        } waiting; jobctl unpause -j ${job.id} resumes it`,
      { job: job.id },
    );
  }
}

function exitCode(
  summaries: JobRunSummary[],
  run: { interrupted: boolean; unscoped: number },
): number {
  if (run.interrupted) return EXIT.interrupted;
  const failed = run.unscoped > 0 ||
    summaries.some((s) =>
      s.error !== undefined || s.discovery.error !== undefined || s.handlerErrors > 0 ||
      Object.values(s.stages).some((t) => t.failed > 0)
    );
  return failed ? EXIT.failed : EXIT.ok;
}
