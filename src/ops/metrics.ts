/**
 * Prometheus metrics of every configured job, read from the store: what `GET /metrics` serves
 * and `jobctl metrics` prints or writes for node_exporter's textfile collector.
 */
import type { Store } from "../db/store.ts";
import type { Config, JobConfig } from "../config/types.ts";
import { type Family, renderExposition, type Sample } from "./_exposition.ts";

/** Finished runs per stage the duration quantiles are taken over. */
const TIMING_RUNS = 1000;

const STATUSES = ["pending", "in_progress", "done", "failed", "skipped"] as const;

/** The exposition text of every job in `config`, at `now`. */
export async function renderMetrics(db: Store, config: Config, now = Date.now()): Promise<string> {
  const families = new Map<string, Family>();
  const add = (name: string, meta: Omit<Family, "name" | "samples">, sample: Sample) => {
    let family = families.get(name);
    if (!family) families.set(name, family = { name, ...meta, samples: [] });
    family.samples.push(sample);
  };
  for (const job of config.jobs) await jobSamples(db, job, { add, now });
  return renderExposition([...families.values()]);
}

type Add = (name: string, meta: Omit<Family, "name" | "samples">, sample: Sample) => void;

const gauge = (help: string) => ({ help, type: "gauge" as const });
const counter = (help: string) => ({ help, type: "counter" as const });

async function jobSamples(
  db: Store,
  job: JobConfig,
  out: { add: Add; now: number },
): Promise<void> {
  const { add, now } = out;
  const base = { job: job.id };
  const stats = await db.getJobStats(job.id);
  const items = gauge("Items by derived status");
  for (const status of ["pending", "in_progress", "done", "failed"] as const) {
    add("jobctl_items", items, { labels: { ...base, status }, value: stats.items[status] });
  }
  const rows = gauge("Stage rows by status");
  const field = { in_progress: "inProgress" } as Record<string, string>;
  for (const s of stats.stages) {
    for (const status of STATUSES) {
      const value = s[(field[status] ?? status) as "pending"];
      add("jobctl_stage_rows", rows, { labels: { ...base, stage: s.stage, status }, value });
    }
  }
  await stageRunSamples(db, job, { add, now });
  await stateSamples(db, job, { add, now });
}

async function stageRunSamples(
  db: Store,
  job: JobConfig,
  out: { add: Add; now: number },
): Promise<void> {
  const { add, now } = out;
  const base = { job: job.id };
  const metrics = await db.jobMetrics({ jobId: job.id });
  const runs = counter("Finished stage attempts by outcome (done, skipped, retry, failed)");
  const sums = new Map<string, { runs: number; ms: number }>();
  for (const r of metrics.runs) {
    const labels = { ...base, stage: r.stage, outcome: r.outcome };
    add("jobctl_stage_runs_total", runs, { labels, value: r.runs });
    const sum = sums.get(r.stage) ?? { runs: 0, ms: 0 };
    sums.set(r.stage, { runs: sum.runs + r.runs, ms: sum.ms + r.durationMs });
  }
  const duration = {
    help: `Stage attempt duration: quantiles of the latest ${TIMING_RUNS} finished runs`,
    type: "summary" as const,
  };
  for (const t of await db.recentStageTimings({ jobId: job.id, runs: TIMING_RUNS })) {
    const labels = { ...base, stage: t.stage };
    for (const [quantile, ms] of [["0.5", t.p50Ms], ["0.95", t.p95Ms]] as const) {
      if (ms !== null) {
        add("jobctl_stage_duration_seconds", duration, {
          labels: { ...labels, quantile },
          value: ms / 1000,
        });
      }
    }
    const sum = sums.get(t.stage) ?? { runs: 0, ms: 0 };
    add("jobctl_stage_duration_seconds", duration, {
      labels,
      value: sum.ms / 1000,
      suffix: "_sum",
    });
    add("jobctl_stage_duration_seconds", duration, { labels, value: sum.runs, suffix: "_count" });
  }
  const cost = counter("Cost reported by handlers, in USD");
  for (const c of metrics.costs) {
    add("jobctl_cost_usd_total", cost, { labels: { ...base, stage: c.stage ?? "" }, value: c.usd });
  }
  const waiting = gauge("Age of the oldest item waiting at each stage, from its discovery");
  for (const p of metrics.oldestPending) {
    add("jobctl_oldest_pending_age_seconds", waiting, {
      labels: { ...base, stage: p.stage },
      value: Math.max(0, (now - p.discoveredAt) / 1000),
    });
  }
}

async function stateSamples(
  db: Store,
  job: JobConfig,
  out: { add: Add; now: number },
): Promise<void> {
  const { add, now } = out;
  const labels = { job: job.id };
  const state = await db.getJobState(job.id);
  add("jobctl_paused", gauge("1 when the job is paused"), {
    labels,
    value: state.paused ? 1 : 0,
  });
  if (state.lastDiscoveryAt !== null) {
    add("jobctl_last_discovery_timestamp_seconds", gauge("Last successful discovery, Unix time"), {
      labels,
      value: state.lastDiscoveryAt / 1000,
    });
  }
  add("jobctl_discovery_failures_total", counter("Discoveries that failed"), {
    labels,
    value: state.discoveryFailuresTotal,
  });
  add("jobctl_discovery_consecutive_failures", gauge("Discoveries that failed in a row"), {
    labels,
    value: state.discoveryFailures,
  });
  const budget = job.budget?.dailyUsd;
  if (budget !== undefined) {
    const spent = await db.getDailyCost({ jobId: job.id, day: now });
    add("jobctl_budget_remaining_usd", gauge("Today's (UTC) daily budget left, in USD"), {
      labels,
      value: Math.max(0, budget - spent),
    });
  }
}
