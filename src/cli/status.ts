/** `jobctl status`: per job, what is paused, counted, due, spent and stale. */
import { formatDuration } from "../util/units.ts";
import { configPath, parseCommandArgs } from "./_args.ts";
import { openForReading, printJson } from "./_ops.ts";
import { loadRuntime } from "./_runtime.ts";
import { collectStatus, type JobStatus } from "../status/report.ts";
import { count, usd } from "../util/format.ts";
import { renderTable, time, timeFrom } from "./_table.ts";
import { COMMON_HELP, EXIT } from "./mod.ts";

const OPTIONS = {
  job: { type: "string", short: "j", multiple: true },
} as const;

/** What `jobctl status --help` prints. */
export const HELP = `Usage: jobctl status [-j JOB]... [--json]

Per job: paused and why, items by status, each stage's pending / blocked (behind a failed
earlier stage) / in progress / done / failed / skipped rows, stale results, stage runs
finished in the last hour, the last discovery and when the next is due, and today's cost
(UTC) against the daily budget.
  -j, --job JOB   only this job (repeatable); default every job in jobs.yaml
  --json          print the same figures as JSON

${COMMON_HELP}`;

/** Runs `jobctl status`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("status", args, OPTIONS);
  const { config, dbPath } = await loadRuntime(values, configPath);
  const db = await openForReading(dbPath);
  try {
    const report = await collectStatus(db, config, { jobIds: values.job });
    if (values.json) printJson(report);
    else console.log(report.jobs.map((job) => describe(job, report.generatedAt)).join("\n\n"));
    return EXIT.ok;
  } finally {
    await db.close();
  }
}

function describe(job: JobStatus, now: number): string {
  const i = job.items;
  const lines = [
    job.jobId + (job.description ? ` — ${job.description}` : "") +
    (job.paused ? `  [PAUSED since ${time(job.pausedAt)}: ${job.pauseReason ?? "no reason"}]` : ""),
    `  items      ${count(i.total)}: ${count(i.done)} done, ${count(i.failed)} failed, ` +
    `${count(i.inProgress)} in progress, ${count(i.pending)} pending`,
    `  discovery  ${discovery(job, now)}`,
    ...job.discovery.held.map((h) => `  held       ${heldLine(h, now)}`),
  ];
  if (job.discovery.schedule) {
    lines.push(
      `  schedule   ${job.discovery.schedule}; last run ${timeFrom(job.lastRunAt, now)}; ` +
        nextRun(job.discovery.nextRunAt, now),
    );
  }
  lines.push(`  cost today ${cost(job)}`);
  lines.push(
    renderTable(
      [
        "stage",
        "pending",
        "blocked",
        "in progress",
        "done",
        "failed",
        "skipped",
        "stale",
        "last hour",
      ],
      job.stages.map((s) => [
        s.stage,
        s.pending,
        s.blocked,
        s.inProgress,
        s.done,
        s.failed,
        s.skipped,
        s.stale,
        s.finishedLastHour,
      ]),
      "  ",
    ),
  );
  return lines.join("\n");
}

function discovery(job: JobStatus, now: number): string {
  const d = job.discovery;
  const every = d.everyMs === null ? "" : ` every ${formatDuration(d.everyMs)}`;
  return `${d.strategy}${every}; last ${timeFrom(d.lastDiscoveryAt, now)}; ${
    nextDiscovery(d, now)
  }`;
}

function nextDiscovery(d: JobStatus["discovery"], now: number): string {
  if (d.wakeRequestedAt !== null) return "woken: discovers at the next run";
  if (d.everyMs === null && d.schedule === null) return "discovers at every run";
  if (d.due) return "due now";
  return d.nextDueAt === null ? "no scheduled run ahead" : `next due ${timeFrom(d.nextDueAt, now)}`;
}

/** "URL: failed 3 times in a row: HTTP 503 …; next try in 4 minutes". */
export function heldLine(h: JobStatus["discovery"]["held"][number], now: number): string {
  const what = h.scope === "host" ? `every URL of ${h.target}` : h.target;
  const next = h.nextTryAt <= now
    ? "tried again at the next run"
    : `next try ${timeFrom(h.nextTryAt, now)}`;
  return `${what}: ${h.reason}${h.error ? `: ${h.error}` : ""}; ${next}`;
}

function nextRun(nextRunAt: number | null, now: number): string {
  if (nextRunAt === null) return "no run ahead";
  return nextRunAt <= now
    ? `run due since ${timeFrom(nextRunAt, now)}`
    : `next run ${timeFrom(nextRunAt, now)}`;
}

function cost(job: JobStatus): string {
  const { todayUsd, budgetUsd, budgetUsed } = job.cost;
  if (budgetUsd === null) return `${usd(todayUsd)} (no daily budget)`;
  const reached = todayUsd >= budgetUsd ? ", budget reached: no new claims until tomorrow" : "";
  return `${usd(todayUsd)} of ${usd(budgetUsd)} daily budget (${
    Math.round((budgetUsed ?? 0) * 100)
  }%${reached})`;
}
