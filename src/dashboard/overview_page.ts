/** The overview: every configured job with its figures and a bar per stage. */
import { collectStatus, type JobStatus } from "../status/report.ts";
import { type Html, html } from "./html.ts";
import { jobPath, type PageContext } from "./context.ts";
import { layout } from "./layout.ts";
import {
  discoveryLine,
  jobFigures,
  pauseBadge,
  stageBar,
  stageCountCells,
} from "./status_parts.ts";

/** The overview page of every job in jobs.yaml. */
export async function renderOverview(ctx: PageContext): Promise<Html> {
  const report = await collectStatus(ctx.db, ctx.config, { now: ctx.now() });
  const cards = report.jobs.map(jobCard);
  const body = html`<h1 class="title">Jobs</h1>${
    cards.length
      ? html`<div class="cards">${cards}</div>`
      : html`<p class="muted">jobs.yaml declares no job.</p>`
  }`;
  return layout(body, {
    title: "overview",
    crumbs: [{ label: "overview" }],
    now: report.generatedAt,
  });
}

function jobCard(job: JobStatus): Html {
  const rows = job.stages.map((stage) =>
    html`<tr><td>${stage.stage}</td><td>${stageBar(stage)}</td>${stageCountCells(job, stage)}</tr>`
  );
  return html`<article class="card" data-job-card="${job.jobId}">
    <h2 class="row"><a href="${jobPath(job.jobId)}">${job.jobId}</a>${pauseBadge(job)}</h2>
    ${job.description && html`<p class="muted">${job.description}</p>`}
    ${jobFigures(job)}
    <table><thead><tr><th>Stage</th><th></th><th class="num">Pending</th><th class="num">In progress</th>
      <th class="num">Done</th><th class="num">Failed</th><th class="num">Skipped</th></tr></thead>
      <tbody>${rows}</tbody></table>
    ${discoveryLine(job)}
  </article>`;
}
