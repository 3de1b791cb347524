/** The job page's recent events: failures by default, or every event, or one kind of them. */

import type { EventRow } from "../db/store.ts";
import { jobPath, type PageContext } from "./context.ts";
import { eventsTable } from "./events_table.ts";
import { Html, html } from "./html.ts";
import { count } from "../util/format.ts";

/** Events shown at most. */
const RECENT_EVENTS = 25;

/**
 * Events (of every job) a kind is looked for among, newest first. The store has no index by
 * kind, so a rare kind would be looked for through the whole log (1M cost events: ~100 ms per
 * kind); bounding the ids keeps the page quick.
 */
const KIND_WINDOW = 100_000;

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
  const among = `among the latest ${count(KIND_WINDOW)} events`;
  const empty = job.choice === "failures"
    ? `No failed attempts or discovery errors ${among}.`
    : job.choice === "all"
    ? "No events."
    : `No ${job.choice} events ${among}.`;
  return html`${selector(job.jobId, job.choice)}${eventsTable(events, { itemKeys, empty })}`;
}

/**
 * The newest events of the choice; failures are the newest of each failure kind, merged. Kinds
 * are looked for among the latest KIND_WINDOW events only.
 */
async function latest(ctx: PageContext, jobId: string, choice: string): Promise<EventRow[]> {
  const limit = RECENT_EVENTS;
  if (choice === "all") return await ctx.db.getEvents({ jobId, limit });
  const newest = (await ctx.db.getEvents({ limit: 1 }))[0]?.id ?? 0;
  const afterId = Math.max(0, newest - KIND_WINDOW);
  const kinds = choice === "failures" ? FAILURE_KINDS : [choice];
  const lists = await Promise.all(
    kinds.map((kind) => ctx.db.getEvents({ jobId, kind, afterId, limit })),
  );
  return lists.flat().sort((a, b) => b.id - a.id).slice(0, limit);
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
