/** The events table, shared by the job and item pages, and links to items. */

import type { EventRow } from "../db/store.ts";
import { type Html, html } from "./html.ts";
import { formatTime, formatUsd } from "./format.ts";
import { itemPath } from "./context.ts";

/** Options of eventsTable(). */
export interface EventsTableOptions {
  /** Keys of the events' items by item id; when given, an Item column links each one. */
  itemKeys?: ReadonlyMap<number, string>;
}

/** Events as a table, in the order given (newest first from getEvents). */
export function eventsTable(events: readonly EventRow[], options: EventsTableOptions = {}): Html {
  if (events.length === 0) return html`<p class="muted">No events.</p>`;
  const keys = options.itemKeys;
  const rows = events.map((e) => {
    const key = e.itemId === null ? undefined : keys?.get(e.itemId);
    return html`<tr><td class="time">${
      formatTime(e.ts)
    }</td><td><span class="badge">${e.kind}</span></td>
      <td>${e.stage ?? ""}</td>${
      keys && html`<td>${key !== undefined && e.jobId !== null && itemLink(e.jobId, key)}</td>`
    }<td class="error">${e.message}</td>
      <td class="num">${e.costUsd === null ? "" : formatUsd(e.costUsd)}</td></tr>`;
  });
  return html`
    <table>
      <thead>
        <tr><th>Time</th><th>Kind</th><th>Stage</th>${keys &&
          html`<th>Item</th>`}<th>Message</th><th class="num">Cost</th></tr>
      </thead>
      <tbody>${rows}</tbody>
    </table>
  `;
}

/** A link to an item's page, showing its key. */
export function itemLink(jobId: string, key: string): Html {
  return html`<a class="mono" href="${itemPath(jobId, key)}">${key}</a>`;
}
