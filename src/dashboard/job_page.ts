/** A job's page: figures, stages with timings, charts, failures by error, recent events. */
import type { StageTiming } from "../db/store.ts";
import { collectStatus, type JobStatus } from "../status/report.ts";

import { type Html, html } from "./html.ts";
import { formatCount, formatMs } from "./format.ts";
import { jobPath, type PageContext } from "./context.ts";
import { actionForm } from "./forms.ts";
import { costChart, throughputChart } from "./job_charts.ts";
import { eventsTable, itemLink } from "./events_table.ts";
import { layout } from "./layout.ts";
import {
  discoveryLine,
  jobFigures,
  pauseBadge,
  stageBar,
  stageCountCells,
  statusValue,
} from "./status_parts.ts";

/** Stage timings cover this many of each stage's latest finished runs. */
const TIMING_RUNS = 1000;
const RECENT_EVENTS = 25;
const FAILURE_CLUSTERS = 10;

/** The page of `jobId`, or undefined when jobs.yaml has no such job. */
export async function renderJobPage(
  ctx: PageContext,
  job: { jobId: string; notice?: string },
): Promise<Html | undefined> {
  if (!ctx.config.jobs.some((j) => j.id === job.jobId)) return undefined;
  const now = ctx.now();
  const [status] = (await collectStatus(ctx.db, ctx.config, { jobIds: [job.jobId], now })).jobs;
  const timings = await ctx.db.recentStageTimings({ jobId: job.jobId, runs: TIMING_RUNS });
  const stages = status.stages.map((s) => s.stage);
  const charts = {
    throughput: await throughputChart(ctx, { jobId: job.jobId, stages, now }),
    cost: await costChart(ctx, { jobId: job.jobId, now }),
  };
  const failures = await failuresTable(ctx, job.jobId);
  const events = await recentEvents(ctx, job.jobId);
  const body = html`
    <div class="row title"><h1>${status.jobId}</h1>${pauseBadge(
      status,
    )}<span class="spacer"></span>${actions(ctx, status)}</div>
    ${status.description && html`<p class="muted">${status.description}</p>`}
    <section class="card">${jobFigures(status)}${discoveryLine(status)}</section>
    <section class="card"><h2>Stages</h2>${stagesTable(ctx, status, timings)}</section>
    <div class="cards">
      <section class="card"><h2>Throughput</h2>${charts.throughput}</section>
      <section class="card"><h2>Cost</h2>${charts.cost}</section>
    </div>
    <section class="card"><h2>Failures by error</h2>${failures}</section>
    <section class="card"><h2>Recent events</h2>${events}</section>
  `;
  return layout(body, {
    title: job.jobId,
    crumbs: [{ label: job.jobId }],
    notice: job.notice,
    now,
  });
}

function actions(ctx: PageContext, job: JobStatus): Html {
  const base = jobPath(job.jobId);
  const pause = job.paused
    ? actionForm(ctx.csrfToken, { action: `${base}/unpause`, label: "Unpause" })
    : actionForm(ctx.csrfToken, {
      action: `${base}/pause`,
      label: "Pause",
      input: { name: "reason", placeholder: "reason (optional)" },
    });
  const wake = actionForm(ctx.csrfToken, {
    action: `${base}/wake`,
    label: "Discover now",
    title: "Wake: the next run discovers at once",
  });
  return html`<span class="row">${pause}${wake}</span>`;
}

function stagesTable(ctx: PageContext, job: JobStatus, timings: readonly StageTiming[]): Html {
  const timing = new Map(timings.map((t) => [t.stage, t]));
  const rows = job.stages.map((stage) => {
    const t = timing.get(stage.stage);
    const retry = stage.failed > 0 && actionForm(ctx.csrfToken, {
      action: `${jobPath(job.jobId)}/retry`,
      label: `Retry ${formatCount(stage.failed)} failed`,
      fields: { stage: stage.stage },
      confirm: `Put ${stage.failed} failed rows of stage "${stage.stage}" back to pending?`,
    });
    return html`<tr><td>${stage.stage}</td><td>${stageBar(stage)}</td>${stageCountCells(job, stage)}
      <td class="num">${
      statusValue(job, `stages.${stage.stage}.stale`, formatCount(stage.stale))
    }</td>
      <td class="num">${
      statusValue(
        job,
        `stages.${stage.stage}.finishedLastHour`,
        formatCount(stage.finishedLastHour),
      )
    }</td>
      <td class="num">${formatMs(t?.p50Ms ?? null)}</td><td class="num">${
      formatMs(t?.p95Ms ?? null)
    }</td>
      <td>${retry}</td></tr>`;
  });
  return html`
    <table>
      <thead>
        <tr>
          <th>Stage</th>
          <th></th>
          <th class="num">Pending</th>
          <th class="num">In progress</th>
          <th class="num">Done</th>
          <th class="num">Failed</th>
          <th class="num">Skipped</th>
          <th class="num">Stale</th>
          <th class="num">Last hour</th>
          <th class="num" title="Median duration of the latest 1,000 finished runs">p50</th>
          <th class="num" title="95th percentile duration of the latest 1,000 finished runs">p95</th>
          <th></th>
        </tr>
      </thead>
      <tbody>${rows}</tbody>
    </table>
  `;
}

async function failuresTable(ctx: PageContext, jobId: string): Promise<Html> {
  const clusters = await ctx.db.failureClusters({ jobId, limit: FAILURE_CLUSTERS });
  if (clusters.length === 0) return html`<p class="muted">No failed stage.</p>`;
  const rows = clusters.map((c) =>
    html`
      <tr>
        <td>${c.stage}</td>
        <td class="error mono">${c.pattern}</td>
        <td class="num">${formatCount(c.count)}</td>
        <td>${c.exampleKeys.map((key, i) => html`${i > 0 && ", "}${itemLink(jobId, key)}`)}</td>
        <td>${actionForm(ctx.csrfToken, {
          action: `${jobPath(jobId)}/retry`,
          label: "Retry",
          title: `Retry the failed rows of stage ${c.stage} whose error contains "${c.match}"`,
          fields: { stage: c.stage, error: c.match },
          confirm:
            `Put the failed rows of stage "${c.stage}" whose error contains "${c.match}" back to pending?`,
        })}</td>
      </tr>
    `
  );
  return html`
    <table>
      <thead>
        <tr>
          <th>Stage</th>
          <th>Error</th>
          <th class="num">Count</th>
          <th>Examples</th>
          <th></th>
        </tr>
      </thead>
      <tbody>${rows}</tbody>
    </table>
  `;
}

async function recentEvents(ctx: PageContext, jobId: string): Promise<Html> {
  const events = await ctx.db.getEvents({ jobId, limit: RECENT_EVENTS });
  const ids = events.flatMap((e) => (e.itemId === null ? [] : [e.itemId]));
  const itemKeys = await ctx.db.getItemKeys({ itemIds: ids });
  return eventsTable(events, { itemKeys });
}
