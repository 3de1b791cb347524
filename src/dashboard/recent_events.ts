/** The job page's recent events: failures by default, or every event, or one kind of them. */

import type { EventRow } from "../db/store.ts";
import { jobPath, type PageContext } from "./context.ts";
import { eventsTable } from "./events_table.ts";
import { Html, html } from "./html.ts";

/** Events shown at most. */
const RECENT_EVENTS = 25;

/** The kinds of events that say something went wrong; the section shows these unless asked. */
const FAILURE_KINDS = ["failed", "retry", "discovery_error"] as const;

/** The kinds the selector offers after "failures" and "all". */
const KINDS = [
  "failed",
  "retry",
  "discovery_error",
  "skipped",
  "released",
  "discovery",
  "cost",
  "budget",
  "pause",
  "unpause",
  "wake",
  "retry_failed",
  "reprocess",
];

/** What the section shows: "failures", "all" or an event kind. */
export type EventsChoice = string;

/** The choice `?events=` makes; "failures" when it makes none. */
export function eventsChoice(params: URLSearchParams): EventsChoice {
  return params.get("events") || "failures";
}

/** The section's selector and the latest events of `jobId` that `choice` selects. */
export async function recentEvents(
  ctx: PageContext,
  job: { jobId: string; choice: EventsChoice },
): Promise<Html> {
  const events = await latest(ctx, job.jobId, job.choice);
  const ids = events.flatMap((e) => (e.itemId === null ? [] : [e.itemId]));
  const itemKeys = await ctx.db.getItemKeys({ itemIds: ids });
  const empty = job.choice === "failures"
    ? "No failed attempts or discovery errors."
    : job.choice === "all"
    ? "No events."
    : `No ${job.choice} events.`;
  return html`${selector(job.jobId, job.choice)}${eventsTable(events, { itemKeys, empty })}`;
}

/** The newest events of the choice; failures are the newest of any failure kind. */
async function latest(ctx: PageContext, jobId: string, choice: string): Promise<EventRow[]> {
  const limit = RECENT_EVENTS;
  if (choice === "all") return await ctx.db.getEvents({ jobId, limit });
  const kind = choice === "failures" ? FAILURE_KINDS : choice;
  return await ctx.db.getEvents({ jobId, kind, limit });
}

/** A GET form choosing the events shown; the script sends it on change, the button without. */
function selector(jobId: string, choice: string): Html {
  const values = ["failures", "all", ...KINDS];
  if (!values.includes(choice)) values.push(choice);
  const label = (value: string) =>
    value === "failures"
      ? `failures (${FAILURE_KINDS.join(", ")})`
      : value === "all"
      ? "all events"
      : value;
  const selected = new Html("selected");
  const options = values.map((value) =>
    html`
      <option value="${value}" ${value === choice && selected}>${label(value)}</option>
    `
  );
  return html`<form class="row events-filter" method="get" action="${jobPath(jobId)}#events">
    <label>Show <select name="events" data-autosubmit>${options}</select></label>
    <button type="submit">Show</button></form>`;
}
