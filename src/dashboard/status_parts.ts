/**
 * Pieces of a job's status as collectStatus() reports it (the same object `jobs status --json`
 * prints). Each figure carries data-job and data-field naming where it comes from in that report.
 */
import type { JobStatus, StageStatus } from "../status/report.ts";
import { type Html, html } from "./html.ts";
import { shareBar } from "./charts.ts";
import { formatCount, formatTime, formatUsd } from "./format.ts";

/** A number as shown, tagged with its job and its path in the job's status report. */
export function statusValue(job: JobStatus, field: string, text: string): Html {
  return html`<span data-job="${job.jobId}" data-field="${field}">${text}</span>`;
}

/** "paused" or "active", with the pause reason as tooltip. */
export function pauseBadge(job: JobStatus): Html {
  return job.paused
    ? html`<span class="badge paused" title="${job.pauseReason ?? ""}">paused</span>`
    : html`<span class="badge running">active</span>`;
}

/** The headline figures of a job: items by status, throughput, stale results, cost today. */
export function jobFigures(job: JobStatus): Html {
  const item = (field: keyof JobStatus["items"], label: string) =>
    figure(statusValue(job, `items.${field}`, formatCount(job.items[field])), label);
  const budget = job.cost.budgetUsd === null ? "" : ` of ${formatUsd(job.cost.budgetUsd)}`;
  return html`<div class="figures">
    ${item("total", "items")}${item("pending", "pending")}${item("inProgress", "in progress")}
    ${item("done", "done")}${item("failed", "failed")}
    ${
    figure(
      statusValue(job, "finishedLastHour", formatCount(job.finishedLastHour)),
      "runs last hour",
    )
  }
    ${figure(statusValue(job, "stale", formatCount(job.stale)), "stale results")}
    ${
    figure(statusValue(job, "cost.todayUsd", formatUsd(job.cost.todayUsd)), `cost today${budget}`)
  }
  </div>`;
}

function figure(value: Html, label: string): Html {
  return html`
    <div
      class="figure"><span class="value">${value}</span><span class="label">${label}</span></div>
  `;
}

/** Last discovery and when the next is due. */
export function discoveryLine(job: JobStatus): Html {
  const d = job.discovery;
  const next = d.wakeRequestedAt !== null
    ? "woken: the next run discovers"
    : d.due
    ? "due now"
    : d.nextDueAt === null
    ? "every run"
    : `next due ${formatTime(d.nextDueAt)}`;
  return html`<p class="muted">${d.strategy} discovery · last ${
    formatTime(d.lastDiscoveryAt)
  } · ${next}${d.schedule && ` · schedule ${d.schedule}`}${
    job.paused && html`
      · <strong>paused</strong> since ${formatTime(job.pausedAt)}: ${job.pauseReason ??
        "no reason given"}
    `
  }</p>`;
}

/** A stage's rows as shares of a bar: done, skipped, failed, in progress, the rest pending. */
export function stageBar(stage: StageStatus): Html {
  return shareBar([
    { className: "done", value: stage.done, label: `${formatCount(stage.done)} done` },
    { className: "skipped", value: stage.skipped, label: `${formatCount(stage.skipped)} skipped` },
    { className: "failed", value: stage.failed, label: `${formatCount(stage.failed)} failed` },
    {
      className: "in_progress",
      value: stage.inProgress,
      label: `${formatCount(stage.inProgress)} in progress`,
    },
    { className: "rest", value: stage.pending, label: `${formatCount(stage.pending)} pending` },
  ]);
}

/** The per-stage count cells of one stage: pending, in progress, done, failed, skipped. */
export function stageCountCells(job: JobStatus, stage: StageStatus): Html {
  const cell = (field: "pending" | "inProgress" | "done" | "failed" | "skipped") =>
    html`<td class="num">${
      statusValue(job, `stages.${stage.stage}.${field}`, formatCount(stage[field]))
    }</td>`;
  return html`${cell("pending")}${cell("inProgress")}${cell("done")}${cell("failed")}${
    cell("skipped")
  }`;
}
