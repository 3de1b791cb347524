/**
 * What `jobctl run` does around its work for someone who runs it from cron and watches nothing:
 * at the start, it reports runs that crashed; at the end, it records how it ended, sends the
 * alert outbox, prunes for a bounded time and pings the dead man's switches.
 */
import type { Store } from "../db/store.ts";
import type { Config, JobConfig, PingConfig } from "../config/types.ts";
import type { JobRunSummary } from "../runner/run_job.ts";
import type { Logger } from "../util/log.ts";
import { EXIT } from "../cli/mod.ts";
import { deliverAlerts } from "./notify.ts";
import { type PruneReport, pruneStore } from "./retention.ts";
import { count } from "../util/format.ts";
import { sendPings } from "./ping.ts";

/** Longest the end of a run spends pruning; the next run goes on where it stopped. */
export const PRUNE_SLICE_MS = 2000;
/** Pages freed per run end, at most (4 KiB each). */
const RECLAIM_PAGES = 4096;

/** Marks runs that ended without finishing as crashed (queuing their alerts) and logs them. */
export async function reportCrashedRuns(
  db: Store,
  config: Config,
  run: { runId: string; log: Logger },
): Promise<void> {
  const staleMs = Math.max(3 * config.runner.leaseMs, 30 * 60_000);
  for (const crashed of await db.detectCrashedRuns({ runId: run.runId, staleMs })) {
    run.log.warn(`An earlier run crashed: ${crashed.reason} (run ${crashed.runId})`);
  }
}

/** How a run ended. */
export interface RunEnd {
  runId: string;
  jobs: JobConfig[];
  summaries: JobRunSummary[];
  /** The exit code the run returns. */
  code: number;
  log: Logger;
}

/** Everything after the work; failures are logged and never change the run's exit code. */
export async function endRun(db: Store, config: Config, end: RunEnd): Promise<void> {
  const outcome = end.code === EXIT.ok
    ? "ok"
    : end.code === EXIT.interrupted
    ? "interrupted"
    : "failed";
  try {
    await db.finishRun({ runId: end.runId, outcome });
  } catch (err) {
    end.log.error(`Cannot record the end of the run: ${(err as Error).message}`);
  }
  await deliverAlerts(db, config, { log: end.log });
  if (outcome !== "interrupted") await pruneSlice(db, config, end.log);
  await sendPings(pingsOf(config, end, outcome), end.log);
}

async function pruneSlice(db: Store, config: Config, log: Logger): Promise<void> {
  try {
    const report = await pruneStore(db, config, { deadline: Date.now() + PRUNE_SLICE_MS });
    const removed = prunedText(report);
    if (removed) log.info(`Pruned ${removed}${report.complete ? "" : "; the next run goes on"}`);
    await db.reclaimSpace({ full: false, maxPages: RECLAIM_PAGES });
  } catch (err) {
    log.warn(`Pruning stopped: ${(err as Error).message}`);
  }
}

/** "12,000 events, 2,000 results" — what a prune removed; "" when nothing. */
function prunedText(report: PruneReport): string {
  const kinds: [string, number][] = [
    ["events", report.events.rows],
    ["results", report.results.rows],
    ["HTTP cache entries", report.httpCache.rows],
    ["runs", report.runs.rows],
  ];
  return kinds.filter(([, rows]) => rows > 0).map(([what, rows]) => `${count(rows)} ${what}`)
    .join(", ");
}

/** The runner's ping and each job's, with their outcome; none after an interruption. */
function pingsOf(
  config: Config,
  end: RunEnd,
  outcome: string,
): { ping: PingConfig; ok: boolean }[] {
  if (outcome === "interrupted") return [];
  const pings: { ping: PingConfig; ok: boolean }[] = [];
  if (config.runner.ping) pings.push({ ping: config.runner.ping, ok: outcome === "ok" });
  for (const summary of end.summaries) {
    const ping = end.jobs.find((j) => j.id === summary.jobId)?.ping;
    const failed = summary.discovery.error !== undefined ||
      Object.values(summary.stages).some((t) => t.failed > 0);
    if (ping) pings.push({ ping, ok: !failed });
  }
  return pings;
}
