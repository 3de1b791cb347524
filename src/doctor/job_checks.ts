/** Checks of one configured job against the store: stages, failures, staleness, pause, budget. */
import type { Store } from "../db/store.ts";
import type { JobConfig } from "../config/types.ts";

import { plural, usd } from "../util/format.ts";
import { DOCTOR_FIX, type Finding, formatSpan, isoTime, shellQuote } from "./finding.ts";
import { discoveryFinding, heldSourceFindings } from "./discovery_check.ts";
import { heldClaimFindings } from "./held_claims.ts";
import { configuredVersions } from "../runner/versions.ts";
import { DAY_MS } from "../util/time.ts";

/** Failure clusters reported per job. */
const TOP_CLUSTERS = 5;

/** Every finding about `job` in the store. */
export async function jobFindings(
  db: Store,
  job: JobConfig,
  options: { now: number },
): Promise<Finding[]> {
  const { now } = options;
  const state = await db.getJobState(job.id);
  return [
    ...await stageRowFindings(db, job),
    ...pausedFindings(job, state.paused, state.pauseReason, state.pausedAt),
    ...await clusterFindings(db, job.id),
    ...await stuckFindings(db, job.id),
    ...await heldClaimFindings(db, job, { now }),
    ...await staleFindings(db, job),
    ...await budgetFindings(db, job, now),
    ...discoveryFinding(job, { lastAt: state.lastDiscoveryAt, now }),
    ...await heldSourceFindings(db, job, now),
  ];
}

async function stageRowFindings(db: Store, job: JobConfig): Promise<Finding[]> {
  const stages = job.stages.map((s) => s.name);
  const gaps = await db.stageRowGaps({ jobId: job.id, stages });
  const quoted = (names: string[]) => names.map((n) => `"${n}"`).join(", ");
  if (gaps.removedStages.length) {
    return [{
      id: "stages-removed",
      severity: "info",
      job: job.id,
      title: `Job "${job.id}" has stored stages the config no longer has: ${
        quoted(gaps.removedStages)
      }`,
      explanation: "The next run of the job drops their rows (their results are kept) " +
        "and adds rows for any new stage",
      fix: `jobctl run -j ${shellQuote(job.id)}`,
      safeFix: false,
    }];
  }
  if (!gaps.missingRows) return [];
  const added = gaps.unknownStages.length
    ? ` (new in the config: ${quoted(gaps.unknownStages)})`
    : "";
  return [{
    id: "stage-rows-missing",
    severity: "warning",
    job: job.id,
    title: `Job "${job.id}" lacks ${plural(gaps.missingRows, "stage row")}${added}`,
    explanation: "Every item needs a row for each stage of its job; an item without one is " +
      "never run through that stage",
    fix: DOCTOR_FIX,
    safeFix: true,
  }];
}

function pausedFindings(
  job: JobConfig,
  paused: boolean,
  reason: string | null,
  pausedAt: number | null,
): Finding[] {
  if (!paused) return [];
  const since = pausedAt === null ? "" : ` since ${isoTime(pausedAt)}`;
  return [{
    id: "job-paused",
    severity: "warning",
    job: job.id,
    title: `Job "${job.id}" is paused: ${reason ?? "no reason given"}`,
    explanation: `It has been paused${since}; none of its stages is claimed until it is unpaused`,
    fix: `jobctl unpause -j ${shellQuote(job.id)}`,
    safeFix: false,
  }];
}

async function clusterFindings(db: Store, jobId: string): Promise<Finding[]> {
  const clusters = await db.failureClusters({ jobId, limit: TOP_CLUSTERS });
  return clusters.map((c) => ({
    id: "failure-cluster",
    severity: "warning",
    job: jobId,
    title: `Job "${jobId}", stage "${c.stage}": ${
      plural(c.count, "item")
    } failed with "${c.pattern}"`,
    explanation: `For example ${
      c.exampleKeys.map((k) => `"${k}"`).join(", ")
    }. Retry them once the cause is gone (a server back, a handler fixed)${
      c.match
        ? ""
        : `; no text tells them from the stage's other failures, so this retries all of them`
    }`,
    fix: `jobctl retry -j ${shellQuote(jobId)} --stage ${shellQuote(c.stage)}${
      c.match ? ` --error ${shellQuote(c.match)}` : ""
    }`,
    safeFix: false,
  }));
}

async function stuckFindings(db: Store, jobId: string): Promise<Finding[]> {
  return (await db.stuckBehindFailures({ jobId })).map(({ stage, items }) => ({
    id: "stuck-behind-failure",
    severity: "warning",
    job: jobId,
    title: `Job "${jobId}": ${plural(items, "item")} wait behind failed stage "${stage}"`,
    explanation: `Their later stages stay pending and are never claimed while "${stage}" ` +
      "is failed",
    fix: `jobctl retry -j ${shellQuote(jobId)} --stage ${shellQuote(stage)}`,
    safeFix: false,
  }));
}

async function staleFindings(db: Store, job: JobConfig): Promise<Finding[]> {
  const jobId = job.id;
  const versions = await configuredVersions(job);
  const stale = Object.entries(await db.getStaleCount({ jobId, versions }))
    .filter(([, n]) => n > 0);
  if (!stale.length) return [];
  const total = stale.reduce((sum, [, n]) => sum + n, 0);
  return [{
    id: "stale-results",
    severity: "info",
    job: jobId,
    title: `Job "${jobId}" has ${plural(total, "stale result")}`,
    explanation: `Made by an older handler version: ${
      stale.map(([stage, n]) => `${n} of stage "${stage}"`).join(", ")
    }. Reprocessing runs those stages, and every later one, again`,
    fix: `jobctl reprocess -j ${shellQuote(jobId)} --stale`,
    safeFix: false,
  }];
}

/** Share of the daily budget from which a note is given. */
const BUDGET_NEAR = 0.8;

async function budgetFindings(db: Store, job: JobConfig, now: number): Promise<Finding[]> {
  if (!job.budget) return [];
  const limit = job.budget.dailyUsd;
  const spent = await db.getDailyCost({ jobId: job.id, day: now });
  if (spent < limit * BUDGET_NEAR) return [];
  const reached = spent >= limit;
  const midnight = Math.ceil((now + 1) / DAY_MS) * DAY_MS;
  return [{
    id: reached ? "budget-reached" : "budget-near",
    severity: reached ? "warning" : "info",
    job: job.id,
    title: `Job "${job.id}" spent ${usd(spent)} of its ${usd(limit)} daily budget`,
    explanation: reached
      ? `No stage is claimed until the budget resets at 00:00 UTC (in ${
        formatSpan(midnight - now)
      })`
      : `${Math.floor((spent / limit) * 100)}% is used; claiming stops at 100% until 00:00 UTC`,
    fix: `raise budget.daily_usd of job "${job.id}" in the config, or wait for 00:00 UTC`,
    safeFix: false,
  }];
}
