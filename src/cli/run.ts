/** `jobs run`: discover and process items; single pass by default, --watch keeps going. */
import type { Store } from "../db/store.ts";
import { Cron } from "croner";
import type { Config, JobConfig } from "../config/types.ts";
import { storeExists } from "../db/location.ts";

import { RunActivity } from "../runner/activity.ts";
import type { RunContext } from "../runner/context.ts";
import { Pacer } from "../runner/pacer.ts";
import { Resources } from "../runner/resources.ts";
import { type JobRunSummary, runJob } from "../runner/run_job.ts";
import { UsageError } from "../util/errors.ts";
import { createLogger, type Logger } from "../util/log.ts";
import { configPath, parseCommandArgs, parsePositiveInt } from "./_args.ts";
import { LiveScreen } from "./_live_screen.ts";
import { parseDurationFlag } from "./_ops.ts";
import { loadRuntime, logFormat, openStore, startRun, trapSignals } from "./_runtime.ts";
import { selectJobs } from "../config/select.ts";
import { startProgress } from "./_progress.ts";
import { EXIT } from "./mod.ts";

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

/** Runs `jobs run`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("run", args, OPTIONS);
  const format = logFormat(values["log-format"]);
  const dryRun = values["dry-run"] ?? false;
  // On a terminal, every log line goes through the live table, which stays below them.
  const screen = format === "text" && !dryRun && Deno.stderr.isTerminal()
    ? new LiveScreen(Deno.stderr)
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
      runId: dryRun ? "dry-run" : await startRun(db),
      log,
      signal: signals.controller.signal,
      limit,
      noReset: false,
      discoverOnly: values["discover-only"] ?? false,
      singlePass: !values.watch,
      activity,
      now: Date.now,
    };
    const progress = dryRun ? undefined : startProgress(db, jobs, {
      activity,
      now: ctx.now,
      screen,
      log,
      everyMs: progressEveryMs,
    });
    try {
      const summaries = await runAll(config, jobs, ctx);
      await progress?.stop();
      report(summaries, ctx, log);
      // Reaching --max-runtime is a normal end; a signal (even with --max-runtime) is not.
      const interrupted = signals.controller.signal.aborted && !outOfTime;
      return exitCode(summaries, interrupted);
    } finally {
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
  const exists = await storeExists(path);
  return exists ? await openStore(path, true) : await openStore(":memory:");
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
  const settings = { ...config.runner, configDir: config.dir };
  return await Promise.all(jobs.map(async (job) => {
    if (ctx.mode === "production") await ctx.db.markJobRun({ jobId: job.id, now: ctx.now() });
    return await runJob(job, settings, pacer, resources, ctx);
  }));
}

function report(summaries: JobRunSummary[], ctx: RunContext, log: Logger): void {
  for (const s of summaries) {
    const d = s.discovery;
    const found = d.error
      ? `discovery failed: ${d.error}`
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
    const prefix = ctx.mode === "dry_run" ? "dry run: " : "";
    log.info(`${prefix}${s.jobId}: ${[found, ...stages].join("; ")}`, { job: s.jobId });
  }
}

function exitCode(summaries: JobRunSummary[], interrupted: boolean): number {
  if (interrupted) return EXIT.interrupted;
  const failed = summaries.some((s) =>
    s.discovery.error !== undefined || Object.values(s.stages).some((t) => t.failed > 0)
  );
  return failed ? EXIT.failed : EXIT.ok;
}
