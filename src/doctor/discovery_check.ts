/**
 * Whether a job's discovery is overdue against its `schedule` and `discovery.every`, and which
 * of its sources are in backoff or waiting as they asked.
 */
import { Cron } from "croner";
import type { Store } from "../db/store.ts";
import { heldSources } from "../status/report.ts";
import { formatDuration } from "../util/units.ts";
import type { JobConfig } from "../config/types.ts";
import { type Finding, formatSpan, isoTime, shellQuote } from "./finding.ts";

/**
 * A warning when discovery missed two chances in a row: the job's discovery was due (after
 * `every`, at the next `schedule` time) and the next chance after that has passed too. A job
 * that never discovered gets a note. Jobs with neither setting discover on every run.
 */
export function discoveryFinding(
  job: JobConfig,
  options: { lastAt: number | null; now: number },
): Finding[] {
  const { lastAt, now } = options;
  const { everyMs } = job.discovery;
  if (everyMs === undefined && !job.schedule) return [];
  const run = `jobctl run -j ${shellQuote(job.id)}`;
  const rule = [
    everyMs === undefined ? "" : `every ${formatDuration(everyMs)}`,
    job.schedule ? `schedule "${job.schedule}"` : "",
  ].filter(Boolean).join(" and ");
  if (lastAt === null) {
    return [{
      id: "discovery-never",
      severity: "info",
      job: job.id,
      title: `Job "${job.id}" has never discovered items`,
      explanation: `It should discover by ${rule}; no run of it has finished a discovery yet`,
      fix: run,
      safeFix: false,
    }];
  }
  const dueAt = nextChance(job, lastAt);
  const overdueAt = dueAt === null ? null : nextChance(job, dueAt);
  if (dueAt === null || overdueAt === null || now < overdueAt) return [];
  return [{
    id: "discovery-overdue",
    severity: "warning",
    job: job.id,
    title: `Discovery of job "${job.id}" is overdue by ${formatSpan(now - dueAt)}`,
    explanation: `The last discovery was at ${isoTime(lastAt)}; by ${rule} the next was due ` +
      `at ${isoTime(dueAt)}. Is cron still running "jobctl run"?`,
    fix: run,
    safeFix: false,
  }];
}

/** The first time after `from` the job may discover: `every` later, at a `schedule` time. */
function nextChance(job: JobConfig, from: number): number | null {
  const earliest = from + (job.discovery.everyMs ?? 0);
  if (!job.schedule) return earliest;
  // nextRun() is strictly after its argument; one ms back keeps a run exactly at `earliest`
  // once `every` has passed, while a run exactly at `from` is the one that just happened.
  const after = earliest > from ? earliest - 1 : earliest;
  const next = new Cron(job.schedule, { paused: true }).nextRun(new Date(after));
  return next?.getTime() ?? null;
}

/**
 * A warning per source of the job that failed last time (in backoff, or due for its next try),
 * a note per source that asked to be read later; waking the job reads them at once.
 */
export async function heldSourceFindings(
  db: Store,
  job: JobConfig,
  now: number,
): Promise<Finding[]> {
  return (await heldSources(db, job.id, now)).map((h): Finding => {
    const what = h.scope === "host" ? `every URL of ${h.target}` : h.target;
    const next = h.nextTryAt <= now
      ? "it is tried again at the next run"
      : `it is tried again at ${isoTime(h.nextTryAt)}, in ${formatSpan(h.nextTryAt - now)}`;
    return {
      id: h.failures > 0 ? "source-backoff" : "source-waiting",
      severity: h.failures > 0 ? "warning" : "info",
      job: job.id,
      title: h.failures > 0
        ? `Discovery of job "${job.id}" backs off from ${what}`
        : `Discovery of job "${job.id}" waits for ${what} as it asked`,
      explanation: `${h.reason}${h.error ? `: ${h.error}` : ""}; ${next}`,
      fix: `jobctl wake -j ${shellQuote(job.id)}`,
      safeFix: false,
    };
  });
}
