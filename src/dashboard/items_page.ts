/** A listing of a job's items by status, stage and error, a page at a time: where counts lead. */
import type { DerivedStatus, ItemListing } from "../db/store.ts";
import type { JobConfig } from "../config/types.ts";

import { errorGist, itemError, plural } from "../util/format.ts";
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
  const after = cursor(params, "after");
  const before = cursor(params, "before");
  if (typeof after === "string") return after;
  if (typeof before === "string") return before;
  if (after !== undefined && before !== undefined) {
    return 'Give "after" or "before", not both';
  }
  const error = params.get("error") || undefined;
  return { status: status as DerivedStatus | undefined, stage, error, after, before };
}

/** The item id of `?after=` or `?before=`, or a message naming the wrong value. */
function cursor(params: URLSearchParams, name: string): number | string | undefined {
  const text = params.get(name);
  if (text === null) return undefined;
  const id = Number(text);
  return Number.isSafeInteger(id) && id >= 0 && text.trim() !== ""
    ? id
    : `"${name}" is "${text}", not an item id (0, 1, 2, …)`;
}

/**
 * A page of `job`'s items that `query` selects, in discovery order: the first page, the one
 * after an item or the one before it. One item more than a page is read, to know whether
 * there is another page in that direction.
 */
export async function renderItemsPage(
  ctx: PageContext,
  request: { job: JobConfig; query: ItemsQuery },
): Promise<Html> {
  const { job, query } = request;
  const listed = await ctx.db.listItems({
    jobId: job.id,
    status: query.status,
    stage: query.stage,
    error: query.error,
    afterId: query.after,
    beforeId: query.before,
    limit: PAGE_SIZE + 1,
  });
  const more = listed.length > PAGE_SIZE;
  // Backwards, the extra item is the first one; forwards, the last one.
  const items = query.before === undefined ? listed.slice(0, PAGE_SIZE) : listed.slice(-PAGE_SIZE);
  const title = describe(query);
  const body = html`
    <h1 class="title">${job.id}: ${title}</h1>
    <section class="card">${itemsTable(job, items)}${pager(job.id, query, {
      items,
      previous: query.before === undefined ? query.after !== undefined : more,
      next: query.before === undefined ? more : true,
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

/** "50 items · ← Previous · Next →": the pages before the first item and after the last. */
function pager(
  jobId: string,
  query: ItemsQuery,
  page: { items: readonly ItemListing[]; previous: boolean; next: boolean },
): Html {
  const { items } = page;
  const base = { ...query, after: undefined, before: undefined };
  const shown = items.length ? plural(items.length, "item") : "No items on this page";
  const previous = page.previous &&
    html`
      · <a rel="prev" href="${itemsPath(
        jobId,
        items.length ? { ...base, before: items[0].id } : base,
      )}">← Previous</a>
    `;
  const next = page.next && items.length > 0 &&
    html`
      · <a rel="next" href="${itemsPath(jobId, { ...base, after: items.at(-1)!.id })}">Next →</a>
    `;
  return html`<nav class="pager muted">${shown}${previous}${next}</nav>`;
}
