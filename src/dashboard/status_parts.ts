/**
 * Pieces of a job's status as collectStatus() reports it (the same object `jobctl status --json`
 * prints). Each figure carries data-job and data-field naming where it comes from in that report;
 * the counts that a listing of items can show exactly link to it.
 */
import type { DerivedStatus } from "../db/store.ts";
import type { JobStatus, StageStatus } from "../status/report.ts";

import { itemsPath, type ItemsQuery } from "./context.ts";
import { type Html, html } from "./html.ts";
import { shareBar } from "./charts.ts";
import { count, usd } from "../util/format.ts";
import { formatTime } from "./format.ts";

/** A number as shown, tagged with its job and its path in the job's status report. */
export function statusValue(job: JobStatus, field: string, text: string): Html {
  return html`<span data-job="${job.jobId}" data-field="${field}">${text}</span>`;
}

/** `value` as a link to the items `query` lists, when there are any. */
function toItems(job: JobStatus, value: Html, items: { n: number; query: ItemsQuery }): Html {
  return items.n > 0 ? html`<a href="${itemsPath(job.jobId, items.query)}">${value}</a>` : value;
}

/** "paused" or "active", with the pause reason as tooltip. */
export function pauseBadge(job: JobStatus): Html {
  return job.paused
    ? html`<span class="badge paused" title="${job.pauseReason ?? ""}">paused</span>`
    : html`<span class="badge running">active</span>`;
}

/** The headline figures of a job: items by status, throughput, stale results, cost today. */
export function jobFigures(job: JobStatus): Html {
  const item = (field: keyof JobStatus["items"], label: string, status?: DerivedStatus) => {
    const value = statusValue(job, `items.${field}`, count(job.items[field]));
    return figure(toItems(job, value, { n: job.items[field], query: { status } }), label);
  };
  const budget = job.cost.budgetUsd === null ? "" : ` of ${usd(job.cost.budgetUsd)}`;
  return html`<div class="figures">
    ${item("total", "items")}${item("pending", "pending", "pending")}${
    item("inProgress", "in progress", "in_progress")
  }
    ${item("done", "done", "done")}${item("failed", "failed", "failed")}
    ${
    figure(
      statusValue(job, "finishedLastHour", count(job.finishedLastHour)),
      "runs last hour",
    )
  }
    ${figure(statusValue(job, "stale", count(job.stale)), "stale results")}
    ${figure(statusValue(job, "cost.todayUsd", usd(job.cost.todayUsd)), `cost today${budget}`)}
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
  return html`
    <p
      class="muted">${d.strategy} discovery · last ${formatTime(
        d.lastDiscoveryAt,
      )} · ${next}${d.schedule && ` · schedule ${d.schedule}`}${job.paused && html`
        · <strong>paused</strong> since ${formatTime(job.pausedAt)}: ${job.pauseReason ??
          "no reason given"}
      `}</p>${heldList(job)}
  `;
}

/** The job's sources in backoff or waiting as they asked, each with its next try. */
function heldList(job: JobStatus): Html {
  const held = job.discovery.held;
  if (held.length === 0) return html``;
  const items = held.map((h, i) =>
    html`
      <li data-job="${job.jobId}"
        data-field="discovery.held.${i}">${h.scope === "host"
          ? `every URL of ${h.target}`
          : h.target}: ${h.reason}${h.error && `: ${h.error}`} · next try ${formatTime(
            h.nextTryAt,
          )}</li>
    `
  );
  return html`<ul class="muted held">${items}</ul>`;
}

/** A stage's rows as shares of a bar: done, skipped, failed, in progress, blocked, pending. */
export function stageBar(stage: StageStatus): Html {
  return shareBar([
    { className: "done", value: stage.done, label: `${count(stage.done)} done` },
    { className: "skipped", value: stage.skipped, label: `${count(stage.skipped)} skipped` },
    { className: "failed", value: stage.failed, label: `${count(stage.failed)} failed` },
    {
      className: "in_progress",
      value: stage.inProgress,
      label: `${count(stage.inProgress)} in progress`,
    },
    { className: "blocked", value: stage.blocked, label: `${count(stage.blocked)} blocked` },
    { className: "rest", value: stage.pending, label: `${count(stage.pending)} pending` },
  ]);
}

/** Header cells matching stageCountCells(). */
export const STAGE_COUNT_HEADS = html`
  <th class="num">Pending</th>
  <th class="num"
    title="Pending behind a failed earlier stage: they wait until it is retried">Blocked</th>
  <th class="num">In progress</th>
  <th class="num">Done</th>
  <th class="num">Failed</th>
  <th class="num">Skipped</th>
`;

/**
 * The count cells of one stage: pending, blocked, in progress, done, failed, skipped. In progress
 * and failed link to those items (the items waiting at the stage with that status).
 */
export function stageCountCells(job: JobStatus, stage: StageStatus): Html {
  type Field = "pending" | "blocked" | "inProgress" | "done" | "failed" | "skipped";
  const cell = (field: Field, status?: DerivedStatus) => {
    const value = statusValue(job, `stages.${stage.stage}.${field}`, count(stage[field]));
    const query = { status, stage: stage.stage };
    return html`<td class="num">${
      status ? toItems(job, value, { n: stage[field], query }) : value
    }</td>`;
  };
  return html`${cell("pending")}${cell("blocked")}${cell("inProgress", "in_progress")}${
    cell("done")
  }${cell("failed", "failed")}${cell("skipped")}`;
}
