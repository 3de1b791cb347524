/** The item page: its data, every stage with attempts and errors, its results and events. */

import type { ItemDetail, ItemStageDetail, ResultRow } from "../db/store.ts";
import { type Html, html } from "./html.ts";
import { formatMs, formatTime } from "./format.ts";
import { eventsTable } from "./events_table.ts";
import { itemPath, jobPath, type PageContext } from "./context.ts";
import { actionForm } from "./forms.ts";
import { layout } from "./layout.ts";

/** Longest JSON shown for one value; the rest is cut with a note. */
const MAX_JSON_CHARS = 20_000;

/** The page of item `key` of `jobId`, or undefined when the job has no such item. */
export async function renderItemPage(
  ctx: PageContext,
  item: { jobId: string; key: string; notice?: string },
): Promise<Html | undefined> {
  const now = ctx.now();
  const detail = await ctx.db.getItemDetail({ jobId: item.jobId, key: item.key });
  if (!detail) return undefined;
  const body = html`
    <div class="row title"><h1 class="mono">${detail.key}</h1>
      <span class="badge ${detail.status}">${detail.status}</span></div>
    <p class="muted">Item ${detail.id} of job <a href="${jobPath(detail.jobId)}">${detail.jobId}</a>
          · discovered ${formatTime(detail.discoveredAt)} · updated ${formatTime(
            detail.updatedAt,
          )}${detail.parent &&
            html`
              · emitted by <a class="mono" href="${itemPath(
                detail.parent.jobId,
                detail.parent.key,
              )}">${detail.parent.jobId} / ${detail.parent.key}</a>
            `}</p>
    <section class="card"><h2>Stages</h2>${stagesTable(ctx, detail, now)}</section>
    <section class="card"><h2>Data</h2>${jsonBlock(detail.data)}</section>
    <section class="card"><h2>Results</h2>${resultsList(detail.results)}</section>
    <section class="card"><h2>Events</h2>${eventsTable(detail.events)}</section>
  `;
  return layout(body, {
    title: `${detail.jobId} · ${detail.key}`,
    crumbs: [{ label: detail.jobId, href: jobPath(detail.jobId) }, { label: detail.key }],
    notice: item.notice,
    now,
  });
}

function stagesTable(ctx: PageContext, detail: ItemDetail, now: number): Html {
  const rows = detail.stages.map((s) =>
    html`
      <tr>
        <td>${s.stage}</td>
        <td><span class="badge ${s.status}">${s.status}</span></td>
        <td class="num">${s.attempts}</td>
        <td class="num">${s.crashes}</td>
        <td class="time">${formatTime(s.startedAt, "–")}</td>
        <td class="time">${formatTime(s.finishedAt, "–")}</td>
        <td class="num">${duration(s)}</td>
        <td>${waiting(s, now)}</td>
        <td class="error mono">${s.error ?? ""}</td>
        <td>${s.status === "failed" && actionForm(ctx.csrfToken, {
          action: `${jobPath(detail.jobId)}/retry`,
          label: "Retry",
          title: `Retry stage ${s.stage} of this item`,
          fields: { stage: s.stage, item: detail.key },
        })}</td>
      </tr>
    `
  );
  return html`
    <table>
      <thead>
        <tr>
          <th>Stage</th>
          <th>Status</th>
          <th class="num">Attempts</th>
          <th class="num"
            title="Attempts that never finished: the process died or lost its lease">Crashes</th>
          <th>Started</th>
          <th>Finished</th>
          <th class="num">Took</th>
          <th>Waiting</th>
          <th>Error</th>
          <th></th>
        </tr>
      </thead>
      <tbody>${rows}</tbody>
    </table>
  `;
}

function duration(s: ItemStageDetail): string {
  return s.startedAt !== null && s.finishedAt !== null && s.finishedAt >= s.startedAt
    ? formatMs(s.finishedAt - s.startedAt)
    : "";
}

/** Why a stage has not run yet: a retry backoff, or a claim with its lease. */
function waiting(s: ItemStageDetail, now: number): string {
  if (s.status === "pending" && s.runAfter > now) return `retry after ${formatTime(s.runAfter)}`;
  if (s.status === "in_progress") {
    return `claimed by ${s.claimedBy ?? "?"} until ${formatTime(s.leaseUntil, "?")}`;
  }
  return "";
}

function resultsList(results: readonly ResultRow[]): Html {
  if (results.length === 0) return html`<p class="muted">No stored result yet.</p>`;
  return html`${
    results.map((r) =>
      html`<h3>${r.stage} <span class="muted">· version ${r.handlerVersion ?? "none"} · ${
        formatTime(r.createdAt)
      }</span></h3>${jsonBlock(r.result)}`
    )
  }`;
}

function jsonBlock(value: unknown): Html {
  const text = JSON.stringify(value, null, 2) ?? "null";
  const cut = text.length > MAX_JSON_CHARS
    ? `${text.slice(0, MAX_JSON_CHARS)}\n… ${text.length - MAX_JSON_CHARS} more characters`
    : text;
  return html`<pre class="mono">${cut}</pre>`;
}
