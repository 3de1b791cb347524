/** The job page's charts: finished stage runs per hour and cost per day. */

import { type Html, html } from "./html.ts";
import { type Bar, barChart, legend } from "./charts.ts";
import type { PageContext } from "./context.ts";
import { formatCount, formatUsd } from "./format.ts";

const HOUR_MS = 3_600_000;
/** Hours in the throughput chart, the current one last. */
const THROUGHPUT_HOURS = 24;
/** Days in the cost chart, today last. */
const COST_DAYS = 30;

/** Attempts finished per hour over the last 24 hours (UTC), stacked by stage. */
export async function throughputChart(
  ctx: PageContext,
  job: { jobId: string; stages: readonly string[]; now: number },
): Promise<Html> {
  const first = Math.floor(job.now / HOUR_MS) - (THROUGHPUT_HOURS - 1);
  const rows = await ctx.db.hourlyRuns({ jobId: job.jobId, sinceTs: first * HOUR_MS });
  const runs = new Map(rows.map((r) => [`${r.stage}@${r.hourStart}`, r.runs]));
  const bars: Bar[] = Array.from({ length: THROUGHPUT_HOURS }, (_, i) => {
    const start = (first + i) * HOUR_MS;
    return {
      label: new Date(start).toISOString().slice(11, 16),
      values: job.stages.map((stage) => runs.get(`${stage}@${start}`) ?? 0),
    };
  });
  return html`${
    barChart(bars, {
      title: "Stage attempts finished per hour, last 24 hours (UTC)",
      series: job.stages,
      format: (n) => formatCount(Math.round(n)),
    })
  }${legend(job.stages)}`;
}

/** Cost per UTC day over the last 30 days, all stages together. */
export async function costChart(
  ctx: PageContext,
  job: { jobId: string; now: number },
): Promise<Html> {
  const days = await ctx.costHistory.perDay(ctx.db, {
    jobId: job.jobId,
    days: COST_DAYS,
    now: job.now,
  });
  const bars: Bar[] = [...days].map(([dayStart, usd]) => ({
    label: new Date(dayStart).toISOString().slice(5, 10),
    values: [usd],
  }));
  const total = [...days.values()].reduce((a, b) => a + b, 0);
  return html`${
    barChart(bars, {
      title: "Cost per day, last 30 days (UTC)",
      series: ["cost"],
      format: formatUsd,
    })
  }<p class="muted">${formatUsd(total)} over ${COST_DAYS} days</p>`;
}
