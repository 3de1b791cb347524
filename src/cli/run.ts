/** `jobs run`: discover and process items; single pass by default, --watch keeps going. */
import type { Store } from "../db/store.ts";
import { Cron } from "croner";
import type { Config, JobConfig } from "../config/types.ts";
import { storeExists } from "../db/location.ts";

import { parseDuration } from "../util/units.ts";
import type { RunContext } from "../runner/context.ts";
import { Pacer } from "../runner/pacer.ts";
import { Resources } from "../runner/resources.ts";
import { type JobRunSummary, runJob } from "../runner/run_job.ts";
import { UsageError } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import { configPath, parseCommandArgs, parsePositiveInt } from "./_args.ts";
import { loadRuntime, loggerFor, openStore, startRun, trapSignals } from "./_runtime.ts";
import { selectJobs } from "../config/select.ts";
import { startProgress } from "./_progress.ts";
import { EXIT } from "./mod.ts";
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
} as const;

/** Runs `jobs run`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("run", args, OPTIONS);
  const log = loggerFor(values["log-format"]);
  const limit = parsePositiveInt("--limit", values.limit);
  const maxRuntimeMs = parseMaxRuntime(values["max-runtime"]);
  if (values.watch && values["dry-run"]) {
    throw new UsageError("--watch and --dry-run cannot be combined");
  }
  const { config, dbPath } = await loadRuntime(values, configPath);
  let jobs = selectJobs(config, values.job);
  const dryRun = values["dry-run"] ?? false;
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
    const ctx: RunContext = {
      mode: dryRun ? "dry_run" : "production",
      db,
      runId: dryRun ? "dry-run" : await startRun(db, jobs.map((j) => j.id)),
      log,
      signal: signals.controller.signal,
      limit,
      discoverOnly: values["discover-only"] ?? false,
      singlePass: !values.watch,
      now: Date.now,
    };
    if (!dryRun) await reportCrashedRuns(db, config, ctx);
    const progress = dryRun
      ? undefined
      : startProgress(db, jobs, { log, json: values["log-format"] === "json" });
    const alerts = values.watch ? watchAlerts(db, config, { log }) : undefined;
    let ended = dryRun;
    try {
      const summaries = await runAll(config, jobs, ctx);
      progress?.stop();
      report(summaries, ctx, log);
      // Reaching --max-runtime is a normal end; a signal (even with --max-runtime) is not.
      const interrupted = signals.controller.signal.aborted && !outOfTime;
      const code = exitCode(summaries, interrupted);
      alerts?.stop();
      if (!dryRun) await endRun(db, config, { runId: ctx.runId, jobs, summaries, code, log });
      ended = true;
      return code;
    } finally {
      alerts?.stop();
      // A run stopped by an error it reports is no crash.
      if (!ended) await db.finishRun({ runId: ctx.runId, outcome: "failed" }).catch(() => {});
      progress?.stop();
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

function parseMaxRuntime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch (err) {
    throw new UsageError(`--max-runtime: ${(err as Error).message}`);
  }
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
