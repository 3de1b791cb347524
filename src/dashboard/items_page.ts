/** A listing of a job's items by status, stage and error, a page at a time: where counts lead. */
import type { DerivedStatus, ItemListing } from "../db/store.ts";
import type { JobConfig } from "../config/types.ts";

import { errorGist, itemError } from "../util/format.ts";
import { itemsPath, type ItemsQuery, jobPath, type PageContext } from "./context.ts";
import { itemLink } from "./events_table.ts";
import { type Html, html } from "./html.ts";
import { layout } from "./layout.ts";

/** Items on one page. */
export const PAGE_SIZE = 50;
/** Longest error shown in the listing; the whole message is its tooltip. */
const ERROR_CHARS = 160;

const STATUS_LABELS: Record<DerivedStatus, string> = {
  pending: "pending",
  in_progress: "in progress",
  done: "done",
  failed: "failed",
};

/** The listing `params` ask for, or a message naming the parameter that is wrong. */
export function parseItemsQuery(job: JobConfig, params: URLSearchParams): ItemsQuery | string {
  const status = params.get("status") ?? undefined;
  if (status !== undefined && !(status in STATUS_LABELS)) {
    return `Unknown status "${status}": expected ${Object.keys(STATUS_LABELS).join(", ")}`;
  }
  const stage = params.get("stage") ?? undefined;
  if (stage !== undefined && !job.stages.some((s) => s.name === stage)) {
    return `Job "${job.id}" has no stage "${stage}"`;
  }
  const page = Number(params.get("page") ?? "1");
  if (!Number.isInteger(page) || page < 1) {
    return `Page "${params.get("page")}" is not a page number (1, 2, …)`;
  }
  const error = params.get("error") || undefined;
  return { status: status as DerivedStatus | undefined, stage, error, page };
}

/** The page of `job`'s items that `query` selects, in discovery order. */
export async function renderItemsPage(
  ctx: PageContext,
  request: { job: JobConfig; query: ItemsQuery },
): Promise<Html> {
  const { job, query } = request;
  const page = query.page ?? 1;
  const end = page * PAGE_SIZE;
  // listItems() has a limit but no offset: read up to the end of this page, and one more item
  // to know whether there is a next page.
  const listed = await ctx.db.listItems({
    jobId: job.id,
    status: query.status,
    stage: query.stage,
    error: query.error,
    limit: end + 1,
  });
  const items = listed.slice(end - PAGE_SIZE, end);
  const title = describe(query);
  const body = html`
    <h1 class="title">${job.id}: ${title}</h1>
    <section class="card">${itemsTable(job, items)}${pager(job.id, query, {
      first: end - PAGE_SIZE + 1,
      shown: items.length,
      more: listed.length > end,
    })}</section>
  `;
  return layout(body, {
    title: `${job.id} · ${title}`,
    crumbs: [{ label: job.id, href: jobPath(job.id) }, { label: title }],
    now: ctx.now(),
  });
}

/** "failed at fetch", "pending", "all items", with the error text asked for. */
function describe(query: ItemsQuery): string {
  const status = query.status && STATUS_LABELS[query.status];
  const base = query.stage
    ? `${status ?? "waiting"} at ${query.stage}`
    : status
    ? `${status} items`
    : "all items";
  return query.error ? `${base}, with an error containing "${query.error}"` : base;
}

function itemsTable(job: JobConfig, items: readonly ItemListing[]): Html {
  if (items.length === 0) return html`<p class="muted">No items here.</p>`;
  const rows = items.map((item) => {
    const stages = new Map(item.stages.map((s) => [s.stage, s]));
    const cells = job.stages.map(({ name }) => {
      const s = stages.get(name);
      return html`<td>${
        s &&
        html`<span class="badge ${s.status}">${s.status}${
          s.attempts > 1 && ` ×${s.attempts}`
        }</span>`
      }</td>`;
    });
    const error = itemError(item.stages) ?? "";
    return html`<tr data-item="${item.key}"><td>${itemLink(job.id, item.key)}</td>
      <td><span class="badge ${item.status}">${item.status}</span></td>${cells}
      <td class="error mono" title="${error}">${errorGist(error, ERROR_CHARS)}</td></tr>`;
  });
  return html`
    <table>
      <thead>
        <tr><th>Item</th><th>Status</th>${job.stages.map((s) =>
          html`<th>${s.name}</th>`
        )}<th>Error</th></tr>
      </thead>
      <tbody>${rows}</tbody>
    </table>
  `;
}

/** "Items 51–100 · ← Previous · Next →". */
function pager(
  jobId: string,
  query: ItemsQuery,
  range: { first: number; shown: number; more: boolean },
): Html {
  const page = query.page ?? 1;
  const shown = range.shown
    ? `Items ${range.first}–${range.first + range.shown - 1}`
    : `No items on page ${page}`;
  const previous = page > 1 &&
    html`
      · <a rel="prev" href="${itemsPath(jobId, { ...query, page: page - 1 })}">← Previous</a>
    `;
  const next = range.more &&
    html`
      · <a rel="next" href="${itemsPath(jobId, { ...query, page: page + 1 })}">Next →</a>
    `;
  return html`<nav class="pager muted">${shown}${previous}${next}</nav>`;
}
